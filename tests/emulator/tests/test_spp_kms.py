"""KMS activation between emulated machines: discovery, failures, counts, events."""

from __future__ import annotations

import typing as t

import pytest
from winemu_lib import cim
from winemu_lib.fleet import Fleet
from winemu_lib.machine import Machine

ADMIN = cim.CallContext("Administrator", True)
CIMV2 = "root/cimv2"
WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"
SPP = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"

UNAVAILABLE = 0xC004F074
NOT_ENOUGH_COUNT = 0xC004F038
NOT_ACTIVATED = 0xC004F041
ID_MISMATCH = 0xC004F042
BAD_TIMESTAMP = 0xC004F06C
NO_DNS_NAME = 0x8007232B
RPC_UNAVAILABLE = 0x800706BA


def load(*hosts: dict[str, t.Any]) -> Fleet:
    return Fleet.from_dict(
        {
            "defaults": {"domain": "corp.example.com", "accounts": [{"username": "a", "password": "b", "admin": True}]},
            "hosts": list(hosts),
        }
    )


def kms_host(name: str, group: str = "Windows Server 2022", build: int = 20348, **extra: t.Any) -> dict[str, t.Any]:
    host = {"csvlk_group": group, "extra_count": 30, **extra.pop("kms_host", {})}
    return {"name": name, "edition": "ServerDatacenter", "build": build, "kms_host": host, **extra}


def client(name: str, edition: str = "Enterprise", build: int = 22631, **extra: t.Any) -> dict[str, t.Any]:
    return {"name": name, "edition": edition, "build": build, **extra}


def product(machine: Machine, marker: str = "VOLUME_KMSCLIENT", app: str = WINDOWS_APP) -> dict[str, t.Any]:
    return next(
        p
        for p in t.cast(list[dict[str, t.Any]], machine.instances(CIMV2, "SoftwareLicensingProduct", ADMIN))
        if p["ApplicationID"] == app and p["Description"].endswith(f"{marker} channel")
    )


def activate(machine: Machine, product_id: str | None = None) -> None:
    target = product_id or product(machine)["ID"]
    assert machine.invoke(CIMV2, "SoftwareLicensingProduct", "Activate", {"ID": target}, {}, ADMIN) == {
        "ReturnValue": 0
    }


def activation_error(machine: Machine, product_id: str | None = None) -> int:
    with pytest.raises(cim.ProviderError) as info:
        activate(machine, product_id)
    return info.value.hresult


def call(machine: Machine, method: str, **params: t.Any) -> None:
    selectors = {"Version": machine.licensing.version}
    machine.invoke(CIMV2, "SoftwareLicensingService", method, selectors, params, ADMIN)


def call_product(machine: Machine, product_id: str, method: str, **params: t.Any) -> None:
    machine.invoke(CIMV2, "SoftwareLicensingProduct", method, {"ID": product_id}, params, ADMIN)


def restart_sppsvc(machine: Machine) -> None:
    for method in ("StopService", "StartService"):
        machine.invoke(CIMV2, "Win32_Service", method, {"Name": "sppsvc"}, {}, ADMIN)


def events(machine: Machine, code: int) -> list[list[str]]:
    """Info fields of each event with that code, oldest first (comma-joined in InsertionStrings[0])."""
    found = []
    for event in t.cast(list[dict[str, t.Any]], machine.instances(CIMV2, "Win32_NTLogEvent", ADMIN)):
        if event["EventCode"] == code:
            found.append([field.strip() for field in event["InsertionStrings"][0].split(",")])
    return found


def test_dns_discovery_success() -> None:
    fleet = load(kms_host("kms01", ip="192.0.2.10"), client("ws01"))
    host, ws = fleet.hosts["kms01"].machine, fleet.hosts["ws01"].machine
    cmid = ws.licensing.cmid
    activate(ws)
    done = product(ws)
    assert (done["LicenseStatus"], done["LicenseStatusReason"]) == (1, 0)
    assert 259190 <= done["GracePeriodRemaining"] <= 259200  # 180 days ("KMS activation planning")
    assert done["DiscoveredKeyManagementServiceMachineName"] == "kms01.corp.example.com"
    assert (
        done["DiscoveredKeyManagementServiceMachinePort"],
        done["DiscoveredKeyManagementServiceMachineIpAddress"],
    ) == (
        1688,
        "192.0.2.10",
    )
    assert done["KeyManagementServiceProductKeyID"].startswith("06401-")
    assert done["VLActivationType"] == 2
    service = ws.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0]
    assert service["DiscoveredKeyManagementServiceMachineName"] == "kms01.corp.example.com"
    host_service = host.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0]
    assert host_service["KeyManagementServiceCurrentCount"] == 31
    assert (
        host_service["KeyManagementServiceTotalRequests"],
        host_service["KeyManagementServiceOOBGraceRequests"],
    ) == (1, 1)
    (sent,) = events(ws, 12288)
    assert sent[0] == "0x00000000" and sent[2] == "kms01.corp.example.com:1688" and sent[3] == cmid
    assert sent[6] == "2" and sent[8] == done["ID"] and sent[9] == "25"
    (answered,) = events(ws, 12289)
    assert answered[:7] == ["0x00000000", "0x00000000", "1", "0", "31", "120", "10080"]
    (processed,) = events(host, 12290)
    assert processed[:4] == ["0x00000000", "25", "ws01.corp.example.com", cmid]
    assert processed[8] == done["ID"]
    assert (ws.writes, host.writes) == (1, 0)
    # Renewal: still licensed, counted as a licensed request; the CMID is counted once.
    activate(ws)
    host_service = host.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0]
    assert host_service["KeyManagementServiceLicensedRequests"] == 1
    assert host_service["KeyManagementServiceCurrentCount"] == 31


@pytest.mark.parametrize("name", ["kms01.corp.example.com", "KMS01", "192.0.2.10", "[2001:db8::10]"])
def test_registered_name_forms(name: str) -> None:
    fleet = load(kms_host("kms01", ip="192.0.2.10", ipv6="2001:db8::10"), client("ws01"))
    ws = fleet.hosts["ws01"].machine
    call(ws, "SetKeyManagementServiceMachine", MachineName=name)
    activate(ws)
    done = product(ws)
    assert done["LicenseStatus"] == 1
    assert done["DiscoveredKeyManagementServiceMachineName"] == name
    assert events(ws, 12288)[0][2] == f"{name}:1688"


def test_per_sku_registration_wins_over_the_global_one() -> None:
    fleet = load(kms_host("kms01"), client("ws01"))
    ws = fleet.hosts["ws01"].machine
    kms_client = product(ws)["ID"]
    call(ws, "SetKeyManagementServiceMachine", MachineName="nowhere.corp.example.com")
    call_product(ws, kms_client, "SetKeyManagementServiceMachine", MachineName="kms01")
    activate(ws)
    assert product(ws)["DiscoveredKeyManagementServiceMachineName"] == "kms01"
    call_product(ws, kms_client, "SetKeyManagementServicePort", PortNumber=1700)
    assert activation_error(ws) == UNAVAILABLE
    assert events(ws, 12288)[-1][:3] == ["0x800706BA", "0x00000000", "kms01:1700"]


def test_registered_port_from_the_global_value() -> None:
    fleet = load(kms_host("kms01", kms_host={"listening_port": 1700}), client("ws01", kms_client={"server": "kms01"}))
    ws = fleet.hosts["ws01"].machine
    assert activation_error(ws) == UNAVAILABLE  # 1688 by default, the host listens on 1700
    call(ws, "SetKeyManagementServicePort", PortNumber=1700)
    activate(ws)


def test_no_srv_record() -> None:
    fleet = load(kms_host("kms01", domain="east.example.com"), client("ws01"))
    ws = fleet.hosts["ws01"].machine
    assert activation_error(ws) == NO_DNS_NAME  # 0x8007232B
    assert events(ws, 12288) == []
    assert product(ws)["LicenseStatus"] == 2
    call(ws, "SetKeyManagementServiceLookupDomain", LookupDomain="east.example.com")
    activate(ws)


@pytest.mark.parametrize(
    ("setup", "server", "reason"),
    [
        ("unknown", "nowhere.corp.example.com", NO_DNS_NAME),
        ("port", "kms01:1700", RPC_UNAVAILABLE),
        ("blocked", "kms01:1688", RPC_UNAVAILABLE),
        ("disabled", "kms01:1688", RPC_UNAVAILABLE),
        ("stopped", "kms01:1688", RPC_UNAVAILABLE),
        ("not-a-host", "ws02:1688", RPC_UNAVAILABLE),
    ],
)
def test_unreachable_kms(setup: str, server: str, reason: int) -> None:
    fleet = load(kms_host("kms01"), client("ws01"), client("ws02"))
    host, ws = fleet.hosts["kms01"].machine, fleet.hosts["ws01"].machine
    name, _colon, port = server.partition(":")
    call(ws, "SetKeyManagementServiceMachine", MachineName=name)
    if port:
        call(ws, "SetKeyManagementServicePort", PortNumber=int(port))
    if setup == "blocked":
        host.configure({"kms_reachable": False})
    elif setup == "disabled":
        host.configure({"sppsvc_start_mode": "Disabled"})
    elif setup == "stopped":
        host.configure({"sppsvc_state": "Stopped"})
    assert activation_error(ws) == UNAVAILABLE
    (sent,) = events(ws, 12288)
    assert sent[0] == f"0x{reason:08X}" and sent[2] == (server if port else f"{server}:1688")
    assert events(ws, 12289) == []  # 12288 without 12289: no response ("KMS troubleshooting")
    assert events(host, 12290) == []  # the host never saw it
    assert product(ws)["LicenseStatus"] == 2
    assert ws.writes == 2 if port else 1  # only the registry settings of this test


def test_a_machine_does_not_activate_against_itself() -> None:
    fleet = load(kms_host("kms01"))
    host = fleet.hosts["kms01"].machine
    call(host, "SetKeyManagementServiceMachine", MachineName="kms01")
    office = product(host, app="0ff1ce15-a989-479d-af46-f275c6370663")
    assert activation_error(host, office["ID"]) == UNAVAILABLE
    assert events(host, 12288)[0][0] == "0x800706BA"
    assert events(host, 12290) == []


def test_clock_skew() -> None:
    fleet = load(kms_host("kms01"), client("ws01", clock_skew_minutes=241), client("ws02", clock_skew_minutes=-239))
    host, ws = fleet.hosts["kms01"].machine, fleet.hosts["ws01"].machine
    assert activation_error(ws) == UNAVAILABLE  # slmgr shows 0xC004F074 ...
    assert events(ws, 12288)[0][0] == "0xC004F06C"  # ... and 12288 carries 0xC004F06C
    assert events(ws, 12289) == []
    (processed,) = events(host, 12290)
    assert processed[0] == "0xC004F06C"
    service = host.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0]
    assert (service["KeyManagementServiceFailedRequests"], service["KeyManagementServiceCurrentCount"]) == (1, 30)
    activate(fleet.hosts["ws02"].machine)  # under 4 hours
    ws.configure({"clock_skew_minutes": 0})
    activate(ws)


def test_host_not_activated() -> None:
    fleet = load(kms_host("kms01", license={"status": "oob_grace"}), client("ws01", kms_client={"server": "kms01"}))
    host, ws = fleet.hosts["kms01"].machine, fleet.hosts["ws01"].machine
    assert activation_error(ws) == NOT_ACTIVATED
    assert events(host, 12290)[0][0] == "0xC004F041"
    assert events(ws, 12289)[0][:3] == ["0xC004F041", "0x00000000", "0"]
    call_product(host, product(host, "VOLUME_KMS_WS22")["ID"], "Activate")  # online activation of the CSVLK
    activate(ws)


def test_csvlk_does_not_cover_the_client() -> None:
    fleet = load(
        kms_host("kms19", group="Windows Server 2019", build=17763),
        client("ws11", kms_client={"server": "kms19"}),
        client("ws10", build=19045, kms_client={"server": "kms19"}),
    )
    host = fleet.hosts["kms19"].machine
    assert activation_error(fleet.hosts["ws11"].machine) == ID_MISMATCH  # no Windows 11 in the 2019 group
    assert events(host, 12290)[0][0] == "0xC004F042"
    activate(fleet.hosts["ws10"].machine)
    service = host.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0]
    assert service["KeyManagementServiceCurrentCount"] == 31  # the refused request is not counted
    office = product(fleet.hosts["ws10"].machine, app="0ff1ce15-a989-479d-af46-f275c6370663")
    assert activation_error(fleet.hosts["ws10"].machine, office["ID"]) == ID_MISMATCH


def test_count_threshold_and_ceiling() -> None:
    fleet = load(
        kms_host("kms01", kms_host={"extra_count": 23}),
        client("ws01"),
        client("ws02"),
        client("srv01", edition="ServerStandard", build=20348),
    )
    host = fleet.hosts["kms01"].machine
    ws01, ws02 = fleet.hosts["ws01"].machine, fleet.hosts["ws02"].machine
    assert activation_error(ws01) == NOT_ENOUGH_COUNT  # 24 < 25
    assert events(ws01, 12289)[0][:5] == ["0xC004F038", "0x04000000", "0", "0", "24"]
    assert activation_error(ws01) == NOT_ENOUGH_COUNT  # the same CMID counts once
    activate(ws02)  # 25: enough for a client OS
    activate(ws01)
    assert [row[0] for row in events(host, 12290)] == ["0xC004F038", "0xC004F038", "0x00000000", "0x00000000"]
    host.configure({"kms_extra_count": 0, "kms_reset_count": True})
    assert activation_error(fleet.hosts["srv01"].machine) == NOT_ENOUGH_COUNT  # 1 < 5
    host.configure({"kms_extra_count": 4})
    activate(fleet.hosts["srv01"].machine)  # 5: enough for a server OS
    host.configure({"kms_extra_count": 50})
    activate(ws02)
    assert host.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0]["KeyManagementServiceCurrentCount"] == 50


def test_dns_order_and_failover() -> None:
    fleet = load(
        kms_host("kms01", kms_host={"publish_domains": [{"domain": "east.example.com", "priority": 10, "weight": 50}]}),
        kms_host("kms02", domain="east.example.com", kms_host={"reachable": False}),
        kms_host("kms03", domain="east.example.com", group="Windows Server 2019", build=17763),
        kms_host("kms04", domain="east.example.com", license={"status": "oob_grace"}),  # publishes nothing
        client("ws01", domain="east.example.com"),
    )
    ws = fleet.hosts["ws01"].machine
    activate(ws)
    tried = [row[2] for row in events(ws, 12288)]
    assert tried[-1] == "kms01.corp.example.com:1688"
    assert set(tried[:-1]) == {"kms02.east.example.com:1688", "kms03.east.example.com:1688"}
    assert product(ws)["DiscoveredKeyManagementServiceMachineName"] == "kms01.corp.example.com"


def test_response_error_when_no_host_can_activate() -> None:
    fleet = load(kms_host("kms03", group="Windows Server 2019", build=17763), client("ws01"))
    ws = fleet.hosts["ws01"].machine
    assert activation_error(ws) == ID_MISMATCH  # the host answered; its answer is the error
    assert [row[0] for row in events(ws, 12289)] == ["0xC004F042"]


def test_host_caching() -> None:
    fleet = load(kms_host("kms01"), client("ws01"))
    host, ws = fleet.hosts["kms01"].machine, fleet.hosts["ws01"].machine
    activate(ws)
    call(host, "DisableKeyManagementServiceDnsPublishing", DisablePublishing=True)
    restart_sppsvc(host)
    assert fleet.network.srv_records("corp.example.com") == []
    activate(ws)  # the cached host is used without DNS (host caching)
    call(ws, "DisableKeyManagementServiceHostCaching", DisableCaching=True)
    assert activation_error(ws) == NO_DNS_NAME


def test_host_settings_take_effect_after_an_sppsvc_restart() -> None:
    fleet = load(kms_host("kms01"), client("ws01"), client("ws02", kms_client={"server": "kms01", "port": 1688}))
    host, ws01, ws02 = (fleet.hosts[name].machine for name in ("kms01", "ws01", "ws02"))
    call(host, "SetKeyManagementServiceListeningPort", PortNumber=1700)
    call(host, "SetVLRenewalInterval", RenewalInterval=600)
    state = host.state()["kms_host"]
    assert state["configured"]["listening_port"] == 1700 and state["effective"]["listening_port"] == 1688
    activate(ws02)  # still listening on 1688
    restart_sppsvc(host)
    assert host.state()["kms_host"]["effective"]["listening_port"] == 1700
    assert activation_error(ws02) == UNAVAILABLE
    activate(ws01)  # DNS now advertises 1700
    assert product(ws01)["DiscoveredKeyManagementServiceMachinePort"] == 1700
    assert product(ws01)["VLRenewalInterval"] == 600  # the host's interval after the first response


def test_activation_type_without_kms() -> None:
    fleet = load(kms_host("kms01"), client("ws01"))
    ws = fleet.hosts["ws01"].machine
    call(ws, "SetVLActivationTypeEnabled", ActivationType=1)
    assert activation_error(ws) == UNAVAILABLE
    assert events(ws, 12288) == []
    call(ws, "SetVLActivationTypeEnabled", ActivationType=2)
    activate(ws)


def test_kms_host_installed_at_runtime() -> None:
    csvlk = "CCCCC-SSSSS-VVVVV-22222-55555"
    fleet = Fleet.from_dict(
        {
            "defaults": {"domain": "corp.example.com", "accounts": [{"username": "a", "password": "b", "admin": True}]},
            "keys": [{"key": csvlk, "channel": "Volume:CSVLK", "csvlk_group": "Windows Server 2022"}],
            "hosts": [
                client("srv01", edition="ServerStandard", build=20348),
                client("srv02", edition="ServerStandard", build=20348),
            ],
        }
    )
    srv01, srv02 = fleet.hosts["srv01"].machine, fleet.hosts["srv02"].machine
    call(srv01, "InstallProductKey", ProductKey=csvlk)
    call_product(srv01, product(srv01, "VOLUME_KMS_WS22")["ID"], "Activate")
    assert activation_error(srv02) == NO_DNS_NAME  # no restart yet: not published, not listening
    restart_sppsvc(srv01)
    srv01.configure({"kms_extra_count": 4})
    activate(srv02)
    assert srv01.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0]["KeyManagementServiceCurrentCount"] == 5


def test_csvlk_as_the_license_key_makes_a_host_without_a_kms_host_block() -> None:
    csvlk = "CCCCC-SSSSS-VVVVV-22222-55555"
    fleet = Fleet.from_dict(
        {
            "defaults": {"domain": "corp.example.com", "accounts": [{"username": "a", "password": "b", "admin": True}]},
            "keys": [{"key": csvlk, "channel": "Volume:CSVLK", "csvlk_group": "Windows Server 2022"}],
            "hosts": [
                client(
                    "srv01",
                    edition="ServerStandard",
                    build=20348,
                    license={"key": csvlk, "status": "licensed"},
                    sppsvc={"state": "Running"},
                ),
                client("srv02", edition="ServerStandard", build=20348),
            ],
        }
    )
    # srv01 was never touched: DNS still finds it, and it counts srv02 (1 < 5).
    assert activation_error(fleet.hosts["srv02"].machine) == NOT_ENOUGH_COUNT
