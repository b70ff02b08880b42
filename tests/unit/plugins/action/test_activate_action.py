# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.activate against the fake host: the _activation engine and _preflight checks, then the plugin's run()."""

from __future__ import annotations

import datetime
import typing as t

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _activation as act
from ansible_collections.winact.kms.plugins.plugin_utils import _preflight as pre
from ansible_collections.winact.kms.plugins.plugin_utils._explain import ERROR_KEYS
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._service import ServiceState
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.tests.unit.plugins.action_harness import run_action
from ansible_collections.winact.kms.tests.unit.plugins.spp_fake import SERVER_2022_DC_ID, FakeHost

NOW = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=datetime.UTC)


def client(status: int = 2, **service: t.Any) -> FakeHost:
    host = FakeHost()
    host.os["LocalDateTime"] = NOW
    host.add_product(SERVER_2022_DC_ID, PartialProductKey="6VM33", LicenseStatus=status)
    host.service.update({"KeyManagementServiceMachine": "kms01.corp.example.com", **service})
    return host


def run(host: FakeHost, check: bool = False, **params: t.Any) -> tuple[dict[str, t.Any], list[float]]:
    sleeps: list[float] = []
    ticks = iter(range(100000))
    activation = act.Activation(
        t.cast(t.Any, host),
        act.build_request({"delay": 5, **params}),
        TaskContext(check_mode=check, diff_mode=False, task_vars={}),
        sleep=sleeps.append,
        clock=lambda: float(next(ticks)),
        now=lambda: NOW,
    )
    return activation.run(), sleeps


def statuses(result: dict[str, t.Any]) -> dict[str, str]:
    return {f["check"]: f["status"] for f in result["preflight"]}


# -- request ------------------------------------------------------------------------------------


def test_build_request_defaults_and_skips() -> None:
    request = act.build_request({"skip_preflight": ["clock", "self_target"]})
    assert request.checks == ("service", "kms_discovery")
    assert (request.timeout, request.retries, request.delay) == (120, 2, 10)
    assert act.build_request({"preflight": False}).checks == ()
    with pytest.raises(ValidationError, match="retries"):
        act.build_request({"retries": -1})


# -- preflight findings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("skew", "status"),
    [
        (datetime.timedelta(0), "passed"),
        (datetime.timedelta(hours=3, minutes=59), "passed"),
        (datetime.timedelta(hours=-4), "passed"),
        (datetime.timedelta(hours=4, seconds=1), "failed"),
        (datetime.timedelta(hours=-30), "failed"),
    ],
)
def test_clock_check(skew: datetime.timedelta, status: str) -> None:
    found = pre.check_clock(NOW + skew, NOW)
    assert found["status"] == status
    assert found["details"]["skew_seconds"] == round(skew.total_seconds())
    if status == "failed":
        assert "0xC004F06C SL_E_VL_INVALID_TIMESTAMP" in found["message"]


def test_clock_check_compares_in_utc() -> None:
    host_time = (NOW + datetime.timedelta(minutes=5)).astimezone(datetime.timezone(datetime.timedelta(hours=-7)))
    assert pre.check_clock(host_time, NOW)["details"]["skew_seconds"] == 300
    assert pre.check_clock(None, NOW)["status"] == "unknown"


def test_discovery_check() -> None:
    member = {"Domain": "corp.example.com", "PartOfDomain": True}
    workgroup = {"Domain": "WORKGROUP", "PartOfDomain": False}
    registered = pre.check_discovery({"KeyManagementServiceMachine": "kms01"}, {}, workgroup)
    assert registered["status"] == "passed" and "kms01:1688" in registered["message"]
    per_product = pre.check_discovery(
        {}, {"KeyManagementServiceMachine": "kms02", "KeyManagementServicePort": 1700}, {}
    )
    assert "kms02:1700" in per_product["message"]
    lookup = pre.check_discovery({"KeyManagementServiceLookupDomain": "east.example.com"}, {}, workgroup)
    assert lookup["status"] == "passed" and "_vlmcs._tcp.east.example.com" in lookup["message"]
    domain = pre.check_discovery({}, {}, member)
    assert domain["status"] == "passed" and "_vlmcs._tcp.corp.example.com" in domain["message"]
    cached = pre.check_discovery({"DiscoveredKeyManagementServiceMachineName": "kms03"}, {}, workgroup)
    assert cached["status"] == "passed"
    nothing = pre.check_discovery({}, {}, workgroup)
    assert nothing["status"] == "failed" and "skip_preflight" in nothing["message"]


@pytest.mark.parametrize(
    ("registered", "status"),
    [
        ("SRV01", "failed"),
        ("srv01.corp.example.com", "failed"),
        ("SRV01.CORP.EXAMPLE.COM.", "failed"),
        ("localhost", "failed"),
        ("127.0.0.1", "failed"),
        ("[::1]", "failed"),
        ("192.0.2.15", "failed"),
        ("kms01.corp.example.com", "passed"),
        (None, "passed"),
    ],
)
def test_self_target_check(registered: str | None, status: str) -> None:
    os_info = {"CSName": "SRV01"}
    computer = {"Name": "SRV01", "DNSHostName": "srv01", "Domain": "corp.example.com", "PartOfDomain": True}
    names = pre.own_names(os_info, computer, ["192.0.2.15", "fe80::1"])
    found = pre.check_self_target({"KeyManagementServiceMachine": registered}, {}, names, True)
    assert found["status"] == status


def test_service_check() -> None:
    assert pre.check_service(ServiceState("sppsvc", "Stopped", "Manual"))["status"] == "passed"
    assert pre.check_service(ServiceState("sppsvc", "Stopped", "Disabled"))["status"] == "failed"


# -- the Preflight runner -----------------------------------------------------------------------


def test_preflight_reads_only_what_its_checks_need() -> None:
    host = client()
    preflight = pre.Preflight(host.wmi, ("clock",), lambda: NOW)
    product = host.products[SERVER_2022_DC_ID]
    preflight.run_product(product, host.service)
    assert [c.cls for c in host.calls] == ["Win32_OperatingSystem"]  # no computer system, no adapters
    assert [(f["check"], f["status"]) for f in preflight.findings()] == [
        ("service", "skipped"),
        ("clock", "passed"),
        ("kms_discovery", "skipped"),
        ("self_target", "skipped"),
    ]
    assert preflight.failed() == [] and preflight.message() == ""


def test_preflight_findings_come_out_in_the_documented_order_and_failures_are_named() -> None:
    host = client(KeyManagementServiceMachine="localhost")
    host.os["LocalDateTime"] = NOW + datetime.timedelta(hours=5)
    preflight = pre.Preflight(host.wmi, pre.CHECKS, lambda: NOW)
    preflight.run_product(host.products[SERVER_2022_DC_ID], host.service)  # before the service check, on purpose
    preflight.run_service(ServiceState("sppsvc", "Running", "Manual"))
    assert [f["check"] for f in preflight.findings()] == list(pre.CHECKS)
    assert [f["check"] for f in preflight.failed()] == ["clock", "self_target"]
    assert preflight.message().startswith("[clock] ") and " [self_target] " in preflight.message()


def test_preflight_without_checks_reads_nothing() -> None:
    host = client()
    preflight = pre.Preflight(host.wmi, (), lambda: NOW)
    preflight.run_product(host.products[SERVER_2022_DC_ID], host.service)
    assert preflight.findings() == [] and host.calls == []


def test_preflight_addresses() -> None:
    host = client()
    assert pre.Preflight(host.wmi, pre.CHECKS, lambda: NOW).read_addresses() is None  # class missing (Nano, WinPE)
    host.has_adapter_class = True
    host.addresses = ["192.0.2.15", "fe80::1"]
    assert pre.Preflight(host.wmi, pre.CHECKS, lambda: NOW).read_addresses() == ["192.0.2.15", "fe80::1"]


def test_activation_runs_its_preflight() -> None:
    activation = act.Activation(
        t.cast(t.Any, client()), act.build_request({"skip_preflight": ["clock"]}), TaskContext(False, False)
    )
    assert isinstance(activation.preflight, pre.Preflight)
    assert activation.preflight.checks == ("service", "kms_discovery", "self_target")


# -- runs ---------------------------------------------------------------------------------------


def test_activates_and_waits_for_licensed() -> None:
    host = client()
    result, _sleeps = run(host)
    assert result["changed"] is True and result["activated"] is True
    assert result["attempts"] == 1
    assert (result["previous_license_status_name"], result["license_status_name"]) == ("OOBGrace", "Licensed")
    assert [c.method for c in host.calls if c.kind == "invoke"] == ["Activate", "RefreshLicenseStatus"]
    assert statuses(result) == dict.fromkeys(pre.CHECKS, "passed")


def test_already_licensed_is_unchanged_unless_forced() -> None:
    host = client(status=1)
    result, _sleeps = run(host)
    assert result["changed"] is False and result["attempts"] == 0
    assert host.invoked("Activate") == []
    forced, _sleeps = run(host, force=True)
    assert forced["changed"] is True and len(host.invoked("Activate")) == 1


def test_check_mode_reports_without_activating() -> None:
    host = client()
    result, _sleeps = run(host, check=True)
    assert result["changed"] is True and result["would_activate"] is True
    assert host.writes() == []


def test_disabled_sppsvc_fails_before_reading_the_license_state() -> None:
    host = client()
    host.services["sppsvc"]["StartMode"] = "Disabled"
    with pytest.raises(ModuleFailure) as info:
        run(host)
    assert "sppsvc" in info.value.msg and "Activate was not called" in info.value.msg
    assert not [c for c in host.calls if c.cls.startswith("SoftwareLicensing")]
    assert info.value.detail["preflight"][0]["status"] == "failed"


def test_skew_fails_before_activate_and_in_check_mode() -> None:
    host = client()
    host.os["LocalDateTime"] = NOW + datetime.timedelta(hours=6)
    for check in (False, True):
        with pytest.raises(ModuleFailure, match=r"\[clock\].*0xC004F06C"):
            run(host, check=check)
    assert host.invoked("Activate") == []
    result, _sleeps = run(host, skip_preflight=["clock"])
    assert statuses(result)["clock"] == "skipped"


def test_self_target_fails_before_activate() -> None:
    host = client(KeyManagementServiceMachine="srv01.corp.example.com")
    with pytest.raises(ModuleFailure, match=r"\[self_target\]"):
        run(host)
    assert host.invoked("Activate") == []


def test_kms_checks_do_not_apply_to_a_mak() -> None:
    host = client()
    host.products[SERVER_2022_DC_ID]["Description"] = "Windows(R) Operating System, VOLUME_MAK channel"
    host.os["LocalDateTime"] = NOW + datetime.timedelta(hours=6)
    result, _sleeps = run(host)
    assert statuses(result) == {
        "service": "passed",
        "clock": "skipped",
        "kms_discovery": "skipped",
        "self_target": "skipped",
    }


def test_transient_error_is_retried() -> None:
    host = client()
    host.activate_outcomes = [0xC004F074, 0x800706BA, 0]
    result, sleeps = run(host)
    assert result["attempts"] == 3 and result["activated"] is True
    assert sleeps[:2] == [5, 5]


def test_retries_run_out_with_the_error_explained() -> None:
    host = client()
    host.activate_outcomes = [0xC004F038] * 5
    host.add_event("Application", 12288, "0xC004F038, 0x00000000, kms01:1688, c, t, 0, 2, 1, a, 5")
    host.add_event("Application", 12289, "0xC004F038, 0x04000000, 0, 0, 3, 120, 10080, t")
    with pytest.raises(ModuleFailure) as info:
        run(host, retries=1)
    failure = info.value
    assert failure.detail["attempts"] == 2
    assert failure.detail["error"]["symbol"] == "SL_E_VL_NOT_ENOUGH_COUNT"
    assert "inner" not in failure.detail["error"]
    assert failure.detail["events"][0]["status_flag_names"] == ["SL_VL_BINDING_ERROR_NOT_ENOUGH_COUNT"]
    assert "(2 attempts)" in failure.msg


def test_clock_skew_inside_event_12288_is_explained_and_not_retried() -> None:
    host = client()
    host.activate_outcomes = [0xC004F074, 0]
    host.add_event("Application", 12288, "0xC004F06C, 0x00000000, kms01.corp.example.com:1688, c, t, 0, 2, 1, a, 5")
    with pytest.raises(ModuleFailure) as info:
        run(host, skip_preflight=["clock"])
    failure = info.value
    assert failure.detail["attempts"] == 1
    assert failure.detail["error"]["symbol"] == "SL_E_VL_BINDING_SERVICE_UNAVAILABLE"
    assert failure.detail["error"]["inner"]["symbol"] == "SL_E_VL_INVALID_TIMESTAMP"
    assert "event 12288" in failure.msg and "0xC004F06C" in failure.msg and "kms01.corp.example.com:1688" in failure.msg


def test_request_without_response_is_called_out() -> None:
    host = client()
    host.activate_outcomes = [0xC004F074] * 3
    host.add_event("Application", 12288, "0xC004F074, 0x00000000, kms01:1688, c, t, 0, 2, 1, a, 5")
    with pytest.raises(ModuleFailure, match="got no response"):
        run(host, retries=0)


def test_non_transient_error_is_not_retried() -> None:
    host = client()
    host.activate_outcomes = [0x8007232B, 0]
    with pytest.raises(ModuleFailure) as info:
        run(host)
    assert info.value.detail["attempts"] == 1
    assert info.value.detail["error"]["hresult"] == "0x8007232B"
    assert info.value.detail["events"] == []


def test_timeout_rereads_the_status_instead_of_failing() -> None:
    host = client()
    host.activate_outcomes = ["timeout"]
    result, _sleeps = run(host)
    assert result["activated"] is True and result["attempts"] == 1
    assert len(host.invoked("Activate")) == 1


def test_still_unlicensed_after_timeout_fails() -> None:
    host = client()
    host.activate_outcomes = ["unchanged"]  # Activate returns 0 but the product never gets Licensed
    with pytest.raises(ModuleFailure, match="still OOBGrace after 3 s"):
        run(host, timeout=3)


def test_no_key_installed_is_explained() -> None:
    host = client()
    host.products[SERVER_2022_DC_ID]["PartialProductKey"] = None
    with pytest.raises(ModuleFailure) as info:
        run(host)
    assert info.value.detail["error"]["symbol"] == "SL_E_PKEY_NOT_INSTALLED"


def test_only_codes_the_error_table_marks_transient_are_retried() -> None:
    from ansible_collections.winact.kms.plugins.plugin_utils._errors import ERRORS

    activation = act.Activation(
        t.cast(t.Any, client()), act.build_request({}), TaskContext(check_mode=False, diff_mode=False)
    )
    activation.attempts = 1
    for entry in ERRORS:
        assert activation.retry(entry.hresult, None) is entry.transient, entry.symbol
    assert activation.retry(None, None) is False
    assert activation.retry(0xC004F074, pre.SL_E_VL_INVALID_TIMESTAMP) is False  # waiting does not fix skew
    activation.attempts = 3  # retries=2: the third attempt was the last
    assert activation.retry(0xC004F074, None) is False


# -- the action plugin: ActionModule.run() through the base class ---------------------------------


def live_client() -> FakeHost:
    """A KMS client whose clock is the controller's: run() uses the real clock."""
    host = FakeHost()
    host.add_product(SERVER_2022_DC_ID, PartialProductKey="6VM33", LicenseStatus=2)
    host.service["KeyManagementServiceMachine"] = "kms01.corp.example.com"
    return host


def test_run_in_check_mode_reports_without_activating(monkeypatch: pytest.MonkeyPatch) -> None:
    host = live_client()
    result, seam = run_action(monkeypatch, "activate", {}, host, check=True)
    assert len(seam.opened) == 1
    assert result["changed"] is True and result["would_activate"] is True and result["activated"] is False
    assert "failed" not in result
    assert host.writes() == []
    assert statuses(result) == dict.fromkeys(pre.CHECKS, "passed")
    assert result["product"]["id"] == SERVER_2022_DC_ID


def test_run_failure_is_explained_and_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    host = live_client()
    host.activate_outcomes = [0x8007232B]  # DNS name does not exist: not transient, so one attempt
    result, _seam = run_action(monkeypatch, "activate", {"retries": 0}, host)
    assert result["failed"] is True and result["changed"] is False
    assert "applied" not in result
    assert result["msg"].startswith(f"Activating {SERVER_2022_DC_ID} (Activate) failed with 0x8007232B")
    assert set(ERROR_KEYS) <= set(result["error"]) and result["error"]["hresult"] == "0x8007232B"
    assert result["error"]["wsman"]["message"] == "Activation failed"
    assert result["attempts"] == 1 and result["activated"] is False


def test_run_refuses_bad_options_before_any_io(monkeypatch: pytest.MonkeyPatch) -> None:
    result, _seam = run_action(monkeypatch, "activate", {"skip_preflight": ["dns"]}, None)
    assert result["failed"] is True and "skip_preflight" in result["msg"]
    result, _seam = run_action(monkeypatch, "activate", {"activation_id": "not-a-guid"}, None)
    assert result["failed"] is True and result["option"] == "activation_id"
    assert set(ERROR_KEYS) <= set(result["error"])
