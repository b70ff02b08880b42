# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.time_source: peer validation, comparison, the _time_source plan/apply/restart flow on the fake host,
then the plugin's run()."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _time_source as ts
from ansible_collections.winact.kms.plugins.plugin_utils._explain import ERROR_KEYS
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.tests.unit.plugins.action_harness import run_action
from ansible_collections.winact.kms.tests.unit.plugins.spp_fake import FakeHost


def host_with(ntp_server: str | None = "time.windows.com,0x8", type_: str | None = "NT5DS") -> FakeHost:
    host = FakeHost()
    host.registry[ts.PARAMETERS_KEY.lower()] = {}
    if ntp_server is not None:
        host.reg_set(ts.PARAMETERS_KEY, ts.NTP_SERVER, "REG_SZ", ntp_server)
    if type_ is not None:
        host.reg_set(ts.PARAMETERS_KEY, ts.TYPE, "REG_SZ", type_)
    return host


def run(
    host: FakeHost, check: bool = False, diff: bool = False, **params: t.Any
) -> tuple[dict[str, t.Any], TaskContext]:
    ctx = TaskContext(check_mode=check, diff_mode=diff, task_vars={})
    return ts.execute(t.cast(t.Any, host), ts.build_request(params), ctx), ctx


@pytest.mark.parametrize(
    ("entry", "flags", "text"),
    [
        ("ntp1.example.com", 8, "ntp1.example.com,0x8"),
        ("ntp1.example.com,0x9", 8, "ntp1.example.com,0x9"),
        ("ntp1.example.com,0X1", 8, "ntp1.example.com,0x1"),
        ("192.0.2.1", 0, "192.0.2.1"),
        ("fd00::123", 8, "fd00::123,0x8"),
    ],
)
def test_peer_parsing(entry: str, flags: int, text: str) -> None:
    assert ts.parse_peer("servers", entry, flags).text == text


@pytest.mark.parametrize(
    ("servers", "flags", "message"),
    [
        ([], 8, "at least one"),
        (["ntp1 ntp2"], 8, "whitespace"),
        (["ntp1,9"], 8, "hex number"),
        (["ntp1,0x10"], 8, "out of range"),
        (["http://ntp1"], 8, "scheme"),
        (["ntp1:123"], 8, "port"),
        (["ntp1", "NTP1"], 8, "listed twice"),
        (["ntp1"], 16, "out of range"),
    ],
)
def test_bad_input(servers: list[str], flags: int, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        ts.build_request({"servers": servers, "flags": flags})
    assert info.value.option in ("servers", "flags")


def test_stored_value_parsing_is_lenient() -> None:
    peers = ts.parse_ntp_server("  a.example.com,0x9   b.example.com c,zz ")
    assert [(p.host, p.flags) for p in peers] == [("a.example.com", 9), ("b.example.com", None), ("c,zz", None)]
    assert ts.parse_ntp_server(None) == []


def test_comparison_ignores_case_and_flag_spelling_but_not_order() -> None:
    left = ts.parse_ntp_server("NTP1.example.com,0x08 ntp2.example.com.,0x8")
    assert ts.same_peers(left, ts.parse_ntp_server("ntp1.example.com,0x8 ntp2.example.com,0x8"))
    assert not ts.same_peers(left, ts.parse_ntp_server("ntp2.example.com,0x8 ntp1.example.com,0x8"))
    assert not ts.same_peers(left, ts.parse_ntp_server("ntp1.example.com,0x9 ntp2.example.com,0x8"))


def test_apply_restart_then_idempotent() -> None:
    host = host_with()
    result, ctx = run(host, servers=["ntp1.example.com", "ntp2.example.com,0x9"])
    value = "ntp1.example.com,0x8 ntp2.example.com,0x9"
    assert result["changed"] is True
    assert result["changes"] == ["NtpServer", "Type"]
    assert host.reg_value(ts.PARAMETERS_KEY, ts.NTP_SERVER) == ("REG_SZ", value)
    assert host.reg_value(ts.PARAMETERS_KEY, ts.TYPE) == ("REG_SZ", "NTP")
    assert result["restarted"] is True
    assert host.writes()[-2:] == ["Win32_Service.StopService", "Win32_Service.StartService"]
    assert (result["previous_ntp_server"], result["ntp_server"]) == ("time.windows.com,0x8", value)
    assert ctx.applied == ["NtpServer", "Type", "restart W32Time"]
    before = len(host.writes())
    again, _ctx = run(host, servers=["NTP1.example.com,0x8", "ntp2.example.com,0x9"], type="ntp")
    assert again["changed"] is False and again["restarted"] is False
    assert len(host.writes()) == before


def test_check_and_diff_mode_write_nothing() -> None:
    host = host_with(ntp_server=None, type_=None)
    result, _ctx = run(host, check=True, diff=True, servers=["ntp1.example.com"])
    assert result["changed"] is True and result["restarted"] is False
    assert host.writes() == []
    assert result["diff"] == {
        "before": {"NtpServer": None, "Type": None},
        "after": {"NtpServer": "ntp1.example.com,0x8", "Type": "NTP"},
    }


def test_missing_key_is_created() -> None:
    host = FakeHost()
    result, _ctx = run(host, servers=["ntp1.example.com"], restart_service="never")
    assert result["changed"] is True and result["restarted"] is False
    assert host.reg_value(ts.PARAMETERS_KEY, ts.NTP_SERVER) == ("REG_SZ", "ntp1.example.com,0x8")
    assert "Win32_Service.StopService" not in host.writes()


def test_always_restarts_even_without_changes() -> None:
    host = host_with("ntp1.example.com,0x8", "NTP")
    result, _ctx = run(host, servers=["ntp1.example.com"], restart_service="always")
    assert result["changed"] is True and result["changes"] == [] and result["restarted"] is True


def test_disabled_w32time_fails_before_writing() -> None:
    host = host_with()
    host.services["W32Time"]["StartMode"] = "Disabled"
    with pytest.raises(ModuleFailure, match="W32Time is disabled"):
        run(host, servers=["ntp1.example.com"])
    assert host.writes() == []
    result, _ctx = run(host, servers=["ntp1.example.com"], restart_service="never")
    assert result["changed"] is True


def test_stopped_w32time_is_started() -> None:
    host = host_with()
    host.services["W32Time"]["State"] = "Stopped"
    result, _ctx = run(host, servers=["ntp1.example.com"])
    assert result["restarted"] is True
    assert result["service"]["state"] == "Running"


def test_missing_service_is_explained() -> None:
    host = host_with()
    del host.services["W32Time"]
    with pytest.raises(ModuleFailure, match="not installed"):
        run(host, servers=["ntp1.example.com"])


# -- the action plugin: ActionModule.run() through the base class ---------------------------------


def test_run_in_check_and_diff_mode_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    host = host_with()
    args = {"servers": ["ntp1.example.com", "ntp2.example.com,0x9"]}
    result, seam = run_action(monkeypatch, "time_source", args, host, check=True, diff=True)
    assert len(seam.opened) == 1
    assert result["changed"] is True and result["restarted"] is False and "failed" not in result
    assert host.writes() == []
    assert result["diff"]["after"] == {"NtpServer": "ntp1.example.com,0x8 ntp2.example.com,0x9", "Type": "NTP"}


def test_run_restart_failure_reports_what_was_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    host = host_with()
    host.return_values["StartService"] = 15  # Service Logon Failed
    result, _seam = run_action(monkeypatch, "time_source", {"servers": ["ntp1.example.com"]}, host)
    assert result["failed"] is True and result["changed"] is True
    assert result["applied"] == ["NtpServer", "Type"]
    assert result["msg"].startswith("Restarting W32Time failed: StartService of W32Time failed: 15")
    assert result["msg"].endswith("(already applied before the failure: NtpServer, Type)")
    assert set(ERROR_KEYS) <= set(result["error"])
    assert (result["error"]["hresult"], result["error"]["return_value"]) == (None, 15)
    assert result["error"]["method"] == "Win32_Service.StartService" and result["error"]["service"] == "W32Time"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "missing required arguments: servers"),
        ({"servers": ["ntp1"], "type": "NT5DS"}, "type"),
        ({"servers": ["ntp1 ntp2"]}, "whitespace"),
    ],
)
def test_run_refuses_bad_options_before_any_io(
    monkeypatch: pytest.MonkeyPatch, args: dict[str, t.Any], message: str
) -> None:
    result, _seam = run_action(monkeypatch, "time_source", args, None)
    assert result["failed"] is True and result["changed"] is False
    assert message in result["msg"]
