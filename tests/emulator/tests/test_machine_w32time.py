"""W32Time: a restart with NTP peers configured resyncs the emulated clock; NT5DS does not."""

from __future__ import annotations

import pytest
from winemu_lib import cim
from winemu_lib.fleet import Fleet

ADMIN = cim.CallContext("Administrator", True)
PARAMETERS = r"SYSTEM\CurrentControlSet\Services\W32Time\Parameters"
HKLM = 2147483650


def skewed_machine() -> Fleet:
    return Fleet.from_dict(
        {
            "defaults": {"domain": "corp.example.com", "accounts": [{"username": "a", "password": "b", "admin": True}]},
            "hosts": [{"name": "ws01", "edition": "Enterprise", "build": 22631, "clock_skew_minutes": 300}],
        }
    )


def restart_w32time(fleet: Fleet) -> None:
    machine = fleet.hosts["ws01"].machine
    for method in ("StopService", "StartService"):
        out = machine.invoke("root/cimv2", "Win32_Service", method, {"Name": "W32Time"}, {}, ADMIN)
        assert out["ReturnValue"] == 0


def set_parameter(fleet: Fleet, name: str, value: str) -> None:
    machine = fleet.hosts["ws01"].machine
    params: dict[str, str | int] = {"hDefKey": HKLM, "sSubKeyName": PARAMETERS, "sValueName": name, "sValue": value}
    assert machine.invoke("root/default", "StdRegProv", "SetStringValue", {}, params, ADMIN)["ReturnValue"] == 0


@pytest.mark.parametrize("kind", ["NTP", "AllSync"])
def test_restart_with_ntp_peers_resyncs(kind: str) -> None:
    fleet = skewed_machine()
    set_parameter(fleet, "Type", kind)
    set_parameter(fleet, "NtpServer", "time.example.com,0x8")
    restart_w32time(fleet)
    assert fleet.hosts["ws01"].machine.state()["identity"]["clock_skew_minutes"] == 0


def test_restart_on_the_domain_hierarchy_keeps_the_skew() -> None:
    fleet = skewed_machine()  # domain member: Type NT5DS by default
    restart_w32time(fleet)
    assert fleet.hosts["ws01"].machine.state()["identity"]["clock_skew_minutes"] == 300


def test_ntp_without_peers_keeps_the_skew() -> None:
    fleet = skewed_machine()
    set_parameter(fleet, "Type", "NTP")
    set_parameter(fleet, "NtpServer", "")
    restart_w32time(fleet)
    assert fleet.hosts["ws01"].machine.state()["identity"]["clock_skew_minutes"] == 300
