"""Class definitions, dispatch errors and the Win32 classes of an emulated machine."""

from __future__ import annotations

import datetime
import typing as t

import pytest
from winemu_lib import cim, classes
from winemu_lib.fleet import Fleet
from winemu_lib.machine import Machine

ADMIN = cim.CallContext("Administrator", True)
USER = cim.CallContext("operator", False)
CIMV2 = "root/cimv2"


def load(*hosts: dict[str, t.Any]) -> Fleet:
    return Fleet.from_dict(
        {
            "defaults": {"domain": "corp.example.com", "accounts": [{"username": "a", "password": "b", "admin": True}]},
            "hosts": list(hosts),
        }
    )


@pytest.fixture
def server() -> Machine:
    return (
        load({"name": "srv01", "edition": "ServerDatacenter", "build": 20348, "ip": "192.0.2.5"}).hosts["srv01"].machine
    )


def one(machine: Machine, class_name: str) -> dict[str, t.Any]:
    (instance,) = machine.instances(CIMV2, class_name, ADMIN)
    return instance


def test_class_defs_are_typed_and_complete(server: Machine) -> None:
    for cls in classes.ALL_CLASSES:
        for cim_type in [*cls.properties.values()] + [
            ty for method in cls.methods.values() for ty in [*method.inputs.values(), *method.outputs.values()]
        ]:
            assert cim.base_type(cim_type) in cim.CIM_TYPES
        for key in cls.keys:
            assert key in cls.properties
        for method in cls.methods.values():
            assert list(method.outputs)[-1] == "ReturnValue"
    assert server.class_def("root/default", "stdregprov").name == "StdRegProv"
    assert server.class_def(CIMV2, "StdRegProv").methods["CheckAccess"].static
    spp_service = server.class_def(CIMV2, "softwarelicensingservice")
    assert spp_service.keys == ("Version",)
    # The MOF parameter names of the class documentation.
    assert spp_service.methods["SetVLActivationInterval"].inputs == {"ActivationInterval": "uint32"}
    assert spp_service.methods["DisableKeyManagementServiceDnsPublishing"].inputs == {"DisablePublishing": "boolean"}
    product = server.class_def(CIMV2, "SoftwareLicensingProduct")
    assert product.keys == ("ID",)
    assert product.methods["GetPolicyInformationDWord"].outputs == {"PolicyValue": "uint32", "ReturnValue": "uint32"}
    assert server.class_def(CIMV2, "Win32_NTLogEvent").keys == ("Logfile", "RecordNumber")


def test_lookup_errors(server: Machine) -> None:
    with pytest.raises(cim.ClassNotFound):
        server.class_def("root/default", "SoftwareLicensingService")  # cimv2 only
    with pytest.raises(cim.ClassNotFound):
        server.class_def("root/nowhere", "StdRegProv")
    with pytest.raises(cim.ClassNotFound):
        server.instances(CIMV2, "Win32_Nothing", ADMIN)
    with pytest.raises(cim.MethodNotFound):
        server.invoke(CIMV2, "Win32_Service", "Explode", {"Name": "sppsvc"}, {}, ADMIN)
    with pytest.raises(cim.InvalidSelectors):
        server.invoke(CIMV2, "Win32_Service", "StartService", {}, {}, ADMIN)
    with pytest.raises(cim.InvalidSelectors):
        server.invoke(CIMV2, "Win32_Service", "StartService", {"Name": "sppsvc", "Extra": "1"}, {}, ADMIN)
    with pytest.raises(cim.InstanceNotFound):
        server.invoke(CIMV2, "Win32_Service", "StartService", {"Name": "nope"}, {}, ADMIN)
    with pytest.raises(cim.InstanceNotFound):
        server.invoke(CIMV2, "SoftwareLicensingService", "RefreshLicenseStatus", {"Version": "1.0"}, {}, ADMIN)
    with pytest.raises(cim.InstanceNotFound):
        server.invoke(CIMV2, "SoftwareLicensingProduct", "Activate", {"ID": "nope"}, {}, ADMIN)


def test_instances_carry_every_declared_property(server: Machine) -> None:
    for cls in classes.ALL_CLASSES:
        if not cls.properties:
            continue
        for instance in server.instances(cls.namespaces[-1], cls.name, ADMIN):
            assert set(instance) == set(cls.properties), cls.name


def test_operating_system(server: Machine) -> None:
    os_ = one(server, "Win32_OperatingSystem")
    assert os_["Caption"] == "Microsoft Windows Server 2022 Datacenter"
    assert (os_["Version"], os_["BuildNumber"]) == ("10.0.20348", "20348")
    assert (os_["OperatingSystemSKU"], os_["ProductType"]) == (8, 3)
    assert os_["CSName"] == "SRV01" and os_["OSArchitecture"] == "64-bit"
    assert os_["Name"].startswith("Microsoft Windows Server 2022 Datacenter|")
    now = datetime.datetime.now(datetime.UTC)
    assert abs(os_["LocalDateTime"] - now) < datetime.timedelta(minutes=1)
    assert os_["LastBootUpTime"] < os_["LocalDateTime"] and os_["InstallDate"] < os_["LastBootUpTime"]


def test_clock_skew_moves_the_machine_clock(server: Machine) -> None:
    server.configure({"clock_skew_minutes": 300})
    local = one(server, "Win32_OperatingSystem")["LocalDateTime"]
    assert local - datetime.datetime.now(datetime.UTC) > datetime.timedelta(minutes=299)


def test_computer_system_domain_and_workgroup() -> None:
    fleet = load(
        {"name": "ws01", "edition": "Enterprise", "build": 22631},
        {"name": "ws02", "edition": "Enterprise", "build": 22631, "domain_joined": False},
    )
    joined = one(fleet.hosts["ws01"].machine, "Win32_ComputerSystem")
    assert (joined["Name"], joined["DNSHostName"], joined["Domain"]) == ("WS01", "ws01", "corp.example.com")
    assert (joined["PartOfDomain"], joined["Workgroup"], joined["DomainRole"]) == (True, None, 1)
    alone = one(fleet.hosts["ws02"].machine, "Win32_ComputerSystem")
    assert (alone["Domain"], alone["PartOfDomain"], alone["Workgroup"], alone["DomainRole"]) == (
        "WORKGROUP",
        False,
        "WORKGROUP",
        0,
    )


def service(machine: Machine, name: str) -> dict[str, t.Any]:
    return next(s for s in machine.instances(CIMV2, "Win32_Service", ADMIN) if s["Name"] == name)


def call_service(machine: Machine, name: str, method: str, ctx: cim.CallContext = ADMIN, **params: t.Any) -> int:
    result: t.Any = machine.invoke(CIMV2, "Win32_Service", method, {"Name": name}, params, ctx)["ReturnValue"]
    return int(result)


def test_services_start_stop_and_start_mode(server: Machine) -> None:
    spp = service(server, "sppsvc")
    assert (spp["State"], spp["StartMode"], spp["ProcessId"], spp["DelayedAutoStart"]) == ("Stopped", "Auto", 0, True)
    assert service(server, "W32Time")["State"] == "Running"
    writes = server.writes
    assert call_service(server, "SPPSVC", "StartService") == 0
    running = service(server, "sppsvc")
    assert running["State"] == "Running" and running["ProcessId"] > 0 and running["Started"] is True
    assert call_service(server, "sppsvc", "StartService") == 10  # already running
    assert call_service(server, "sppsvc", "StopService") == 0
    assert call_service(server, "sppsvc", "StopService") == 5  # not running
    assert call_service(server, "sppsvc", "ChangeStartMode", StartMode="Disabled") == 0
    assert service(server, "sppsvc")["StartMode"] == "Disabled"
    assert call_service(server, "sppsvc", "StartService") == 14  # disabled
    assert call_service(server, "sppsvc", "ChangeStartMode", StartMode="Sometimes") == 21
    assert call_service(server, "sppsvc", "ChangeStartMode", StartMode="Boot") == 21
    assert call_service(server, "sppsvc", "ChangeStartMode", StartMode="Manual") == 0
    assert service(server, "sppsvc")["StartMode"] == "Manual"
    assert server.writes == writes + 4  # start, stop and two start-mode changes


def test_start_mode_lives_in_the_registry(server: Machine) -> None:
    key = r"SYSTEM\CurrentControlSet\Services\sppsvc"
    server.invoke(
        "root/default",
        "StdRegProv",
        "SetDWORDValue",
        {},
        {"sSubKeyName": key, "sValueName": "Start", "uValue": 4},
        ADMIN,
    )
    assert service(server, "sppsvc")["StartMode"] == "Disabled"


def test_standard_user_cannot_control_services(server: Machine) -> None:
    assert call_service(server, "sppsvc", "StartService", USER) == 2
    assert call_service(server, "sppsvc", "ChangeStartMode", USER, StartMode="Disabled") == 2
    assert service(server, "sppsvc")["State"] == "Stopped"


def test_event_log_instances(server: Machine) -> None:
    assert server.instances(CIMV2, "Win32_NTLogEvent", ADMIN) == []
    when = datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC)
    server.events.request_processed(
        hresult=0xC004F038,
        min_count=25,
        client_name="ws01.corp.example.com",
        cmid="c",
        client_when=when,
        license_status=2,
        minutes_left=100,
        activation_id="a",
        when=when,
    )
    (event,) = t.cast(list[dict[str, t.Any]], server.instances(CIMV2, "Win32_NTLogEvent", ADMIN))
    assert (event["Logfile"], event["RecordNumber"], event["EventCode"]) == ("Key Management Service", 1, 12290)
    assert (event["SourceName"], event["EventType"], event["EventIdentifier"]) == ("KmsRequests", 3, 0x40003002)
    assert event["InsertionStrings"] == ["0xC004F038,25,ws01.corp.example.com,c,2026/01/02 03:04,0,2,100,a"]
    assert event["Message"].startswith("An activation request has been processed.")


def test_kms_firewall_rule_is_disabled_until_enabled_and_counts_one_write(server: Machine) -> None:
    namespace = "root/StandardCimv2"
    (rule,) = server.instances(namespace, "MSFT_NetFirewallRule", ADMIN)
    assert (rule["DisplayGroup"], rule["Enabled"]) == ("Key Management Service", 2)
    with pytest.raises(cim.ClassNotFound):
        server.instances(CIMV2, "MSFT_NetFirewallRule", ADMIN)
    before = server.writes
    selectors = {"InstanceID": str(rule["InstanceID"])}
    assert server.invoke(namespace, "MSFT_NetFirewallRule", "Enable", selectors, {}, ADMIN) == {"ReturnValue": 0}
    assert server.invoke(namespace, "MSFT_NetFirewallRule", "Enable", selectors, {}, ADMIN) == {"ReturnValue": 0}
    assert server.writes == before + 1
    assert server.instances(namespace, "MSFT_NetFirewallRule", ADMIN)[0]["Enabled"] == 1
    with pytest.raises(cim.InstanceNotFound):
        server.invoke(namespace, "MSFT_NetFirewallRule", "Enable", {"InstanceID": "nope"}, {}, ADMIN)
    with pytest.raises(cim.AccessDenied):
        server.invoke(namespace, "MSFT_NetFirewallRule", "Disable", selectors, {}, USER)
