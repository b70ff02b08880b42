# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.time_source end to end: check, apply (registry + W32Time restart), idempotence, drift, failures."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winact.kms.tests.integration.conftest import FleetRun

TASK = "Time source"
PARAMETERS = r"SYSTEM\CurrentControlSet\Services\W32Time\Parameters"
HKLM = 2147483650
PEERS = {"ts_servers": ["ntp1.corp.example.com", "ntp2.corp.example.com,0x9"]}
EXPECTED = "ntp1.corp.example.com,0x8 ntp2.corp.example.com,0x9"


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("time")


def parameters(fleet: FleetRun, host: str) -> dict[str, t.Any]:
    tree = fleet.state(host)["registry"]["W32Time"] or {}
    node = {k.lower(): v for k, v in tree.get("subkeys", {}).items()}.get("parameters") or {}
    return {name: value["data"] for name, value in node.get("values", {}).items()}


def w32time(fleet: FleetRun, host: str) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], fleet.state(host)["services"]["W32Time"])


def test_check_mode_plans_without_writing(fleet: FleetRun) -> None:
    before = fleet.all_writes()
    original = parameters(fleet, "member")
    run = fleet.playbook("time_source.yml", limit="member,standalone", check=True, diff=True, extra_vars=PEERS)
    assert run.rc == 0, run.output
    member = run.task(TASK, "member").result
    assert member["changed"] is True
    assert member["changes"] == ["NtpServer", "Type"]
    assert member["diff"]["before"] == {"NtpServer": original["NtpServer"], "Type": "NT5DS"}
    assert member["diff"]["after"] == {"NtpServer": EXPECTED, "Type": "NTP"}
    standalone = run.task(TASK, "standalone").result
    assert standalone["changes"] == ["NtpServer"], "a workgroup machine already syncs with Type NTP"
    assert fleet.all_writes() == before
    assert parameters(fleet, "member") == original


def test_apply_restarts_w32time_then_is_idempotent(fleet: FleetRun) -> None:
    pid_before = fleet.state("member")["services"]["W32Time"]["process_id"]
    run = fleet.playbook("time_source.yml", limit="member,standalone", extra_vars=PEERS)
    assert run.rc == 0, run.output
    for host in ("member", "standalone"):
        result = run.task(TASK, host).result
        assert result["changed"] is True and result["restarted"] is True, host
        assert result["ntp_server"] == EXPECTED and result["type"] == "NTP"
        values = parameters(fleet, host)
        assert (values["NtpServer"], values["Type"]) == (EXPECTED, "NTP")
        assert w32time(fleet, host)["state"] == "Running"
    assert fleet.state("member")["services"]["W32Time"]["process_id"] != pid_before, "W32Time was restarted"

    before = fleet.all_writes()
    again = fleet.playbook(
        "time_source.yml",
        limit="member,standalone",
        extra_vars={"ts_servers": ["NTP1.corp.example.com,0x08", "ntp2.corp.example.com.,0x9"]},
    )
    assert all(again.task(TASK, host).changed is False for host in ("member", "standalone"))
    assert all(again.task(TASK, host).result["restarted"] is False for host in ("member", "standalone"))
    assert fleet.all_writes() == before


def test_drift_is_detected_in_check_mode(fleet: FleetRun) -> None:
    # Converged first, so the test holds whichever tests ran before it on this fleet.
    fleet.playbook("time_source.yml", limit="member", extra_vars=PEERS)
    fleet.invoke(
        "member",
        "StdRegProv",
        "SetStringValue",
        namespace="root/default",
        params={"hDefKey": HKLM, "sSubKeyName": PARAMETERS, "sValueName": "NtpServer", "sValue": "time.windows.com"},
    )
    before = fleet.writes("member")
    run = fleet.playbook("time_source.yml", limit="member", check=True, diff=True, extra_vars=PEERS)
    result = run.task(TASK, "member").result
    assert result["changes"] == ["NtpServer"]
    assert result["diff"] == {"before": {"NtpServer": "time.windows.com"}, "after": {"NtpServer": EXPECTED}}
    assert fleet.writes("member") == before


def test_restart_never_and_always(fleet: FleetRun) -> None:
    run = fleet.playbook("time_source.yml", limit="member", extra_vars={**PEERS, "ts_restart_service": "never"})
    result = run.task(TASK, "member").result
    assert result["changed"] is True and result["restarted"] is False
    assert parameters(fleet, "member")["NtpServer"] == EXPECTED
    forced = fleet.playbook("time_source.yml", limit="member", extra_vars={**PEERS, "ts_restart_service": "always"})
    result = forced.task(TASK, "member").result
    assert result["changed"] is True and result["changes"] == [] and result["restarted"] is True


def test_disabled_w32time_fails_before_writing(fleet: FleetRun) -> None:
    fleet.configure("timeoff", w32time_start_mode="Disabled")
    before = fleet.writes("timeoff")
    run = fleet.playbook("time_source.yml", limit="timeoff", extra_vars=PEERS)
    result = run.task(TASK, "timeoff")
    assert result.failed
    assert "W32Time is disabled" in result.result["msg"]
    assert fleet.writes("timeoff") == before
    assert parameters(fleet, "timeoff")["NtpServer"] != EXPECTED


def test_bad_peers_fail_before_any_request(fleet: FleetRun) -> None:
    fleet.winemu("reset-stats", "timeoff")
    for servers in (["ntp1 ntp2"], ["ntp1:123"], ["ntp1,0x20"], []):
        run = fleet.playbook("time_source.yml", limit="timeoff", extra_vars={"ts_servers": servers})
        result = run.task(TASK, "timeoff")
        assert result.failed and result.result["option"] == "servers", result
    assert fleet.stats("timeoff")["requests"]["total"] == 0
