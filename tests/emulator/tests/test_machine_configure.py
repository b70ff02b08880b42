"""Machine.configure (test control) and Machine.state (the JSON dump)."""

from __future__ import annotations

import json
import typing as t

import pytest
from winemu_lib import cim
from winemu_lib.fleet import Fleet

ADMIN = cim.CallContext("Administrator", True)


def load(*hosts: dict[str, t.Any]) -> Fleet:
    return Fleet.from_dict(
        {
            "defaults": {"domain": "corp.example.com", "accounts": [{"username": "a", "password": "b", "admin": True}]},
            "hosts": list(hosts),
        }
    )


@pytest.fixture
def fleet() -> Fleet:
    return load(
        {
            "name": "kms01",
            "edition": "ServerStandard",
            "build": 20348,
            "kms_host": {"csvlk_group": "Windows Server 2022"},
        },
        {"name": "ws01", "edition": "Enterprise", "build": 22631, "kms_client": {"server": "kms01", "port": 1688}},
    )


def test_unknown_keys_and_bad_values_are_value_errors(fleet: Fleet) -> None:
    machine = fleet.hosts["ws01"].machine
    with pytest.raises(ValueError, match="unknown key"):
        machine.configure({"colour": "blue"})
    for changes in (
        {"clock_skew_minutes": "soon"},
        {"kms_reachable": "maybe"},
        {"sppsvc_start_mode": "Sometimes"},
        {"sppsvc_state": "Paused"},
        {"cmid": "not-a-guid"},
        {"license_status": "great"},
        {"kms_extra_count": -1},
    ):
        with pytest.raises(ValueError):
            machine.configure(changes)


def test_configure_accepts_strings_from_the_command_line(fleet: Fleet) -> None:
    machine = fleet.hosts["kms01"].machine
    machine.configure({"clock_skew_minutes": "-30", "kms_reachable": "false", "kms_extra_count": "7"})
    state = machine.state()
    assert state["identity"]["clock_skew_minutes"] == -30
    assert state["kms_host"]["reachable"] is False
    assert state["kms_host"]["extra_count"] == 7


def test_configure_does_not_count_as_writes(fleet: Fleet) -> None:
    machine = fleet.hosts["ws01"].machine
    machine.configure({"sppsvc_start_mode": "Disabled", "clock_skew_minutes": 10, "license_status": "licensed"})
    assert machine.writes == 0


def test_disabled_sppsvc(fleet: Fleet) -> None:
    machine = fleet.hosts["ws01"].machine
    machine.configure({"sppsvc_start_mode": "Disabled"})
    assert machine.state()["sppsvc"]["state"] == "Stopped"
    with pytest.raises(cim.ProviderError) as info:
        machine.instances("root/cimv2", "SoftwareLicensingService", ADMIN)
    assert info.value.hresult == 0x80070422
    machine.configure({"sppsvc_start_mode": "Manual"})
    assert machine.instances("root/cimv2", "SoftwareLicensingService", ADMIN)  # demand-started
    assert machine.state()["sppsvc"]["state"] == "Running"
    # Disabled while running keeps serving, as a running service does.
    machine.configure({"sppsvc_start_mode": "Disabled", "sppsvc_state": "Running"})
    assert machine.instances("root/cimv2", "SoftwareLicensingService", ADMIN)


def test_license_status_and_cmid(fleet: Fleet) -> None:
    machine = fleet.hosts["ws01"].machine
    machine.configure({"license_status": "notification", "cmid": "11111111-2222-3333-4444-555555555555"})
    service = machine.instances("root/cimv2", "SoftwareLicensingService", ADMIN)[0]
    assert service["ClientMachineID"] == "11111111-2222-3333-4444-555555555555"
    product = next(
        p
        for p in machine.instances("root/cimv2", "SoftwareLicensingProduct", ADMIN)
        if p["ProductKeyChannel"] == "Volume:GVLK" and p["LicenseFamily"] == "Enterprise"
    )
    assert (product["LicenseStatus"], product["LicenseStatusReason"]) == (5, 0xC004F009)
    no_key = load({"name": "ws02", "edition": "Enterprise", "build": 22631, "license": {"key": "none"}})
    with pytest.raises(ValueError, match="needs an installed Windows key"):
        no_key.hosts["ws02"].machine.configure({"license_status": "licensed"})


def test_state_dump(fleet: Fleet) -> None:
    state = fleet.hosts["ws01"].machine.state()
    json.dumps(state)
    assert state["identity"]["fqdn"] == "ws01.corp.example.com"
    assert state["identity"]["edition"] == "Enterprise" and state["identity"]["build"] == 22631
    spp_values = state["registry"]["SoftwareProtectionPlatform"]["values"]
    assert spp_values["KeyManagementServiceName"] == {"type": "REG_SZ", "data": "kms01"}
    assert spp_values["KeyManagementServicePort"] == {"type": "REG_SZ", "data": "1688"}
    assert state["registry"]["W32Time"]["subkeys"]["Parameters"]["values"]["Type"]["data"] == "NT5DS"
    assert state["licensing"]["service"]["KeyManagementServiceMachine"] == "kms01"
    windows = [p for p in state["licensing"]["products"] if p["partial_product_key"]]
    assert {p["partial_product_key"] for p in windows} == {"2YT43", "WFG99"}  # Windows GVLK + Office
    assert state["sppsvc"]["state"] == "Stopped"
    assert state["kms_host"]["enabled"] is False
    assert state["writes"] == 0
    host = fleet.hosts["kms01"].machine.state()
    assert host["kms_host"]["enabled"] and host["kms_host"]["listening"]
    assert host["sppsvc"]["effective"]["listening_port"] == 1688
    assert host["services"]["sppsvc"]["state"] == "Running"


def test_state_has_no_side_effects(fleet: Fleet) -> None:
    machine = fleet.hosts["ws01"].machine
    machine.state()
    assert machine.state()["sppsvc"]["state"] == "Stopped"  # not demand-started by a dump
    assert machine.writes == 0
