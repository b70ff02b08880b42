# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.activate end to end: success above the threshold, and an explained failure for every listed cause.

Also covers what license_info reads after activation attempts: the decoded KMS events and the KMS count warning.
"""

from __future__ import annotations

import pathlib
import typing as t

import pytest
import yaml

from ansible_collections.winact.kms.tests.integration.conftest import FleetRun, TaskResult

TASK = "Activate"
# Fast failures: one retry without waiting.
QUICK = {"act_retries": 1, "act_delay": 0, "act_timeout": 5}


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("activation")


def activate(fleet: FleetRun, host: str, **extra: t.Any) -> TaskResult:
    run = fleet.playbook("activate.yml", limit=host, extra_vars={**QUICK, **extra})
    return run.task(TASK, host)


def windows_status(fleet: FleetRun, host: str) -> int:
    products = fleet.state(host)["licensing"]["products"]
    keyed = [p for p in products if p["partial_product_key"] and p["application_id"].startswith("55c92734")]
    assert len(keyed) == 1, keyed
    return int(keyed[0]["license_status"])


def activate_calls(fleet: FleetRun, host: str) -> int:
    return int(fleet.stats(host)["requests"]["by_method"].get("SoftwareLicensingProduct.Activate", 0))


def findings(result: TaskResult) -> dict[str, str]:
    return {f["check"]: f["status"] for f in result.result["preflight"]}


def test_check_mode_reports_without_activating(fleet: FleetRun) -> None:
    before = fleet.all_writes()
    run = fleet.playbook("activate.yml", limit="w11ok,srvdns", check=True, extra_vars=QUICK)
    assert run.rc == 0, run.output
    for host in ("w11ok", "srvdns"):
        result = run.task(TASK, host).result
        assert result["changed"] is True and result["would_activate"] is True
        assert result["activated"] is False
        assert activate_calls(fleet, host) == 0
    assert fleet.all_writes() == before, "check mode must not write, on the clients nor on the KMS hosts"


def test_activation_above_threshold_then_unchanged(fleet: FleetRun) -> None:
    count_before = fleet.state("kms01")["kms_host"]["current_count"]
    run = fleet.playbook("activate.yml", limit="w11ok,srvdns", extra_vars=QUICK)
    assert run.rc == 0, run.output
    for host in ("w11ok", "srvdns"):
        result = run.task(TASK, host).result
        assert result["changed"] is True and result["activated"] is True, host
        assert result["previous_license_status_name"] == "OOBGrace"
        assert result["license_status_name"] == "Licensed"
        assert result["attempts"] == 1
        assert set(findings(run.task(TASK, host)).values()) == {"passed"}
        assert windows_status(fleet, host) == 1
    srvdns = run.task(TASK, "srvdns").result
    discovery = next(f for f in srvdns["preflight"] if f["check"] == "kms_discovery")
    assert "_vlmcs._tcp.corp.example.com" in discovery["message"]
    assert fleet.state("kms01")["kms_host"]["current_count"] == min(50, count_before + 2)

    again = fleet.playbook("activate.yml", limit="w11ok,srvdns", extra_vars=QUICK)
    assert all(again.task(TASK, host).changed is False for host in ("w11ok", "srvdns"))
    calls = activate_calls(fleet, "w11ok")
    forced = activate(fleet, "w11ok", act_force=True)
    assert forced.changed is True
    assert activate_calls(fleet, "w11ok") == calls + 1


def test_count_below_threshold(fleet: FleetRun) -> None:
    result = activate(fleet, "w10low")
    assert result.failed
    error = result.result["error"]
    assert (error["hresult"], error["symbol"]) == ("0xC004F038", "SL_E_VL_NOT_ENOUGH_COUNT")
    assert "25" in error["cause"] and error["fix"]
    assert result.result["attempts"] == 2, "0xC004F038 is retried: the count grows while other clients ask"
    response = next(e for e in result.result["events"] if e["event_id"] == 12289)
    assert response["status_flag_names"] == ["SL_VL_BINDING_ERROR_NOT_ENOUGH_COUNT"]
    assert response["activated"] is False
    assert windows_status(fleet, "w10low") == 2


def test_unreachable_kms_host(fleet: FleetRun) -> None:
    result = activate(fleet, "w11down")
    assert result.failed
    error = result.result["error"]
    assert error["hresult"] == "0xC004F074"
    assert error["inner"]["hresult"] == "0x800706BA"
    assert error["inner"]["fix"]
    assert "event 12288" in result.result["msg"] and "kmsdown.down.example.com:1688" in result.result["msg"]
    assert result.result["attempts"] == 2
    assert activate_calls(fleet, "w11down") == 2


def test_no_dns_record(fleet: FleetRun) -> None:
    result = activate(fleet, "w11nodns")
    assert result.failed
    error = result.result["error"]
    assert error["hresult"] == "0x8007232B"
    assert "_vlmcs" in error["cause"] or "SRV" in error["cause"]
    assert result.result["attempts"] == 1, "a missing DNS record is not transient"
    assert findings(result)["kms_discovery"] == "passed"


def test_clock_skew_is_caught_before_activate(fleet: FleetRun) -> None:
    result = activate(fleet, "w11skew")
    assert result.failed
    assert findings(result)["clock"] == "failed"
    clock = next(f for f in result.result["preflight"] if f["check"] == "clock")
    assert clock["details"]["skew_seconds"] > 4 * 3600
    assert "0xC004F06C" in result.result["msg"] and "Activate was not called" in result.result["msg"]
    assert activate_calls(fleet, "w11skew") == 0

    checked = fleet.playbook("activate.yml", limit="w11skew", check=True, extra_vars=QUICK)
    assert checked.task(TASK, "w11skew").failed


def test_clock_skew_inside_event_12288_is_explained(fleet: FleetRun) -> None:
    result = activate(fleet, "w11skew", act_skip_preflight=["clock"])
    assert result.failed
    error = result.result["error"]
    assert error["hresult"] == "0xC004F074"
    assert (error["inner"]["hresult"], error["inner"]["symbol"]) == ("0xC004F06C", "SL_E_VL_INVALID_TIMESTAMP")
    assert "0xC004F06C" in result.result["msg"]
    assert result.result["attempts"] == 1, "a skewed clock is not retried"
    assert findings(result)["clock"] == "skipped"


def test_sppsvc_disabled(fleet: FleetRun) -> None:
    fleet.winemu("reset-stats", "w11sppoff")
    result = activate(fleet, "w11sppoff")
    assert result.failed
    assert findings(result)["service"] == "failed"
    assert "sppsvc" in result.result["msg"] and "disabled" in result.result["msg"]
    by_method = fleet.stats("w11sppoff")["requests"]["by_method"]
    assert not [name for name in by_method if "SoftwareLicensing" in name], by_method


def test_sppsvc_disabled_without_preflight_is_still_explained(fleet: FleetRun) -> None:
    result = activate(fleet, "w11sppoff", act_preflight=False)
    assert result.failed
    assert result.result["preflight"] == []
    assert result.result["error"]["hresult"].startswith("0x")
    assert "Traceback" not in result.result["msg"]


def test_client_pointing_at_itself(fleet: FleetRun) -> None:
    result = activate(fleet, "srvself")
    assert result.failed
    assert findings(result)["self_target"] == "failed"
    assert "srvself.corp.example.com" in result.result["msg"]
    assert activate_calls(fleet, "srvself") == 0


def test_workgroup_client_without_kms_host(fleet: FleetRun) -> None:
    result = activate(fleet, "w11wg")
    assert result.failed
    assert findings(result)["kms_discovery"] == "failed"
    assert activate_calls(fleet, "w11wg") == 0


def test_non_admin_account(fleet: FleetRun, tmp_path: pathlib.Path) -> None:
    inventory = yaml.safe_load(fleet.inventory.read_text())
    inventory["all"]["hosts"]["w11user"].update(ansible_user="operator", ansible_password="Operator-2026!")
    as_user = tmp_path / "inventory.yml"
    as_user.write_text(yaml.safe_dump(inventory))
    run = fleet.playbook("activate.yml", limit="w11user", inventory=as_user, extra_vars=QUICK)
    result = run.task(TASK, "w11user")
    assert result.status == "failed", "an account without the rights is a failure, not an unreachable host"
    error = result.result["error"]
    assert (error["hresult"], error["symbol"]) == ("0x80070005", "E_ACCESSDENIED")
    assert error["fix"]
    assert "'operator'" in result.result["msg"] and "Administrators" in result.result["msg"]
    assert "Operator-2026!" not in run.output
    assert windows_status(fleet, "w11user") == 2


def test_events_of_failed_attempts_are_decoded(fleet: FleetRun) -> None:
    assert activate(fleet, "w11skew", act_skip_preflight=["clock"]).failed  # logs 12288 here, 12290 on kms01
    run = fleet.playbook("license_info_events.yml", limit="w11skew,kms01", extra_vars={"event_count": 3})
    assert run.rc == 0, run.output
    client = run.task("Read license info with events", "w11skew").result["events"]
    request = next(e for e in client["client"] if e["event_id"] == 12288)
    assert request["hresult"] == "0xC004F06C"
    assert request["error"]["symbol"] == "SL_E_VL_INVALID_TIMESTAMP"
    assert request["kms_server"] == "kms01.corp.example.com:1688"
    assert request["n_policy"] == 25
    assert client["host"] == []
    host = run.task("Read license info with events", "kms01").result
    assert 0 < len(host["events"]["host"]) <= 3
    assert all(e["event_id"] == 12290 for e in host["events"]["host"])
    assert {e["hresult"] for e in host["events"]["host"]} >= {"0xC004F06C"}
    assert host["ansible_facts"]["winact_kms"]["events"] == host["events"]
    assert not host.get("warnings"), "kms01 is above both thresholds"


def test_kms_host_below_threshold_warns(fleet: FleetRun) -> None:
    run = fleet.playbook("license_info.yml", limit="kmslow")
    assert run.rc == 0, run.output
    result = run.task("Read license info", "kmslow").result
    assert result["kms_host"]["activates_client_os"] is False
    warnings = " ".join(result.get("warnings", []))
    assert "below" in warnings and "0xC004F038" in warnings


def test_operation_timeout_during_activate_is_not_a_failure(fleet: FleetRun, tmp_path: pathlib.Path) -> None:
    """Activate outlasts OperationTimeout (w:TimedOut) while Windows finishes it: re-read, never call again."""
    inventory = yaml.safe_load(fleet.inventory.read_text())
    # Read timeout 8 s: the modules keep OperationTimeout 5 s below it, at 3 s; Activate takes 5 s here.
    inventory["all"]["hosts"]["w11slow"].update(ansible_winrm_read_timeout_sec=8, ansible_winrm_operation_timeout_sec=6)
    short = tmp_path / "inventory.yml"
    short.write_text(yaml.safe_dump(inventory))
    fleet.configure("w11slow", slow_method="SoftwareLicensingProduct.Activate", slow_method_ms=5000)
    try:
        run = fleet.playbook("activate.yml", limit="w11slow", inventory=short, extra_vars={**QUICK, "act_timeout": 30})
    finally:
        fleet.configure("w11slow", slow_method="null", slow_method_ms=0)
    result = run.task(TASK, "w11slow")
    assert run.rc == 0, run.output
    assert result.changed is True and result.result["activated"] is True
    assert result.result["license_status_name"] == "Licensed"
    assert fleet.stats("w11slow")["requests"]["by_action"].get("TimedOut") == 1, "Activate must have timed out"
    assert activate_calls(fleet, "w11slow") == 1, "Activate must not be called again after a timeout"
    assert windows_status(fleet, "w11slow") == 1
