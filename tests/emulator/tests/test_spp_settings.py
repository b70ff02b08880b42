"""SoftwareLicensingService / Product settings: registry-backed, host-only rules, rights, restarts."""

from __future__ import annotations

import typing as t

import pytest
from winemu_lib import cim
from winemu_lib.fleet import Fleet
from winemu_lib.machine import Machine

ADMIN = cim.CallContext("Administrator", True)
USER = cim.CallContext("operator", False)
CIMV2 = "root/cimv2"
SPP = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"
NOT_SUPPORTED = 0xC004F016
INVALID_ARG = 0x80070057


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
        {"name": "ws01", "edition": "Enterprise", "build": 22631},
    )


def service(machine: Machine, ctx: cim.CallContext = ADMIN) -> dict[str, t.Any]:
    return machine.instances(CIMV2, "SoftwareLicensingService", ctx)[0]


def call(machine: Machine, method: str, ctx: cim.CallContext = ADMIN, **params: t.Any) -> dict[str, t.Any]:
    selectors = {"Version": machine.licensing.version}
    return machine.invoke(CIMV2, "SoftwareLicensingService", method, selectors, params, ctx)


def call_product(
    machine: Machine, product_id: str, method: str, ctx: cim.CallContext = ADMIN, **params: t.Any
) -> dict[str, t.Any]:
    return machine.invoke(CIMV2, "SoftwareLicensingProduct", method, {"ID": product_id}, params, ctx)


def reg_get(machine: Machine, path: str, name: str, kind: str = "String") -> t.Any:
    out = machine.invoke(
        "root/default", "StdRegProv", f"Get{kind}Value", {}, {"sSubKeyName": path, "sValueName": name}, ADMIN
    )
    return out["sValue" if kind in ("String", "MultiString") else "uValue"] if out["ReturnValue"] == 0 else None


def reg_set(machine: Machine, path: str, name: str, kind: str, value: t.Any) -> None:
    param = "sValue" if kind in ("String", "MultiString") else "uValue"
    out = machine.invoke(
        "root/default",
        "StdRegProv",
        f"Set{kind}Value",
        {},
        {"sSubKeyName": path, "sValueName": name, param: value},
        ADMIN,
    )
    assert out["ReturnValue"] == 0


def kms_client_product(machine: Machine) -> dict[str, t.Any]:
    return next(
        p
        for p in t.cast(list[dict[str, t.Any]], machine.instances(CIMV2, "SoftwareLicensingProduct", ADMIN))
        if p["ApplicationID"] == WINDOWS_APP and "VOLUME_KMSCLIENT" in p["Description"]
    )


def provider_error(exc: pytest.ExceptionInfo[cim.ProviderError]) -> int:
    return exc.value.hresult


def test_defaults_read_from_an_empty_registry(fleet: Fleet) -> None:
    svc = service(fleet.hosts["ws01"].machine)
    assert svc["KeyManagementServiceMachine"] == "" and svc["KeyManagementServicePort"] == 0  # documented
    assert svc["KeyManagementServiceListeningPort"] == 0 and svc["KeyManagementServiceLookupDomain"] == ""
    assert svc["KeyManagementServiceDnsPublishing"] is True and svc["KeyManagementServiceLowPriority"] is False
    assert svc["KeyManagementServiceHostCaching"] is True
    assert (svc["VLActivationInterval"], svc["VLRenewalInterval"]) == (120, 10080)  # the documented defaults
    assert svc["IsKeyManagementServiceMachine"] == 0
    assert svc["KeyManagementServiceCurrentCount"] == 4294967295  # -1 as uint32 (SoftwareLicensingService docs)
    assert svc["Version"] == "10.0.22631.1"
    assert len(svc["ClientMachineID"]) == 36


def test_client_settings_write_the_registry_values(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    call(ws, "SetKeyManagementServiceMachine", MachineName="kms01.corp.example.com")
    call(ws, "SetKeyManagementServicePort", PortNumber=1700)
    call(ws, "SetKeyManagementServiceLookupDomain", LookupDomain="east.example.com")
    call(ws, "DisableKeyManagementServiceHostCaching", DisableCaching=True)
    assert reg_get(ws, SPP, "KeyManagementServiceName") == "kms01.corp.example.com"
    assert reg_get(ws, SPP, "KeyManagementServicePort") == "1700"  # REG_SZ, as slmgr /skms stores it
    assert reg_get(ws, SPP, "KeyManagementServiceLookupDomain") == "east.example.com"
    svc = service(ws)
    assert (svc["KeyManagementServiceMachine"], svc["KeyManagementServicePort"]) == ("kms01.corp.example.com", 1700)
    assert svc["KeyManagementServiceLookupDomain"] == "east.example.com"
    assert svc["KeyManagementServiceHostCaching"] is False
    call(ws, "ClearKeyManagementServiceMachine")
    call(ws, "ClearKeyManagementServicePort")
    call(ws, "ClearKeyManagementServiceLookupDomain")
    call(ws, "DisableKeyManagementServiceHostCaching", DisableCaching=False)
    assert reg_get(ws, SPP, "KeyManagementServiceName") is None
    svc = service(ws)
    assert (svc["KeyManagementServiceMachine"], svc["KeyManagementServicePort"]) == ("", 0)
    assert svc["KeyManagementServiceHostCaching"] is True


def restart_sppsvc(machine: Machine) -> None:
    for method in ("StopService", "StartService"):
        machine.invoke(CIMV2, "Win32_Service", method, {"Name": "sppsvc"}, {}, ADMIN)


def test_registry_writes_show_up_in_wmi(fleet: Fleet) -> None:
    host = fleet.hosts["kms01"].machine
    reg_set(host, SPP, "KeyManagementServiceName", "String", "other.corp.example.com")
    reg_set(host, SPP, "KeyManagementServiceListeningPort", "String", "1999")
    reg_set(host, SPP, "DisableDnsPublishing", "DWORD", 1)
    reg_set(host, SPP, "EnableKmsLowPriority", "DWORD", 1)
    reg_set(host, SPP, "VLRenewalInterval", "DWORD", 600)
    restart_sppsvc(host)  # the KMS host settings show once sppsvc restarted; the client name at once
    svc = service(host)
    assert svc["KeyManagementServiceMachine"] == "other.corp.example.com"
    assert svc["KeyManagementServiceListeningPort"] == 1999
    assert svc["KeyManagementServiceDnsPublishing"] is False
    assert svc["KeyManagementServiceLowPriority"] is True
    assert svc["VLRenewalInterval"] == 600


def test_host_settings_and_their_registry_types(fleet: Fleet) -> None:
    host = fleet.hosts["kms01"].machine
    call(host, "SetKeyManagementServiceListeningPort", PortNumber=1700)
    call(host, "DisableKeyManagementServiceDnsPublishing", DisablePublishing=True)
    call(host, "EnableKeyManagementServiceLowPriority", EnableLowPriority=True)
    call(host, "SetVLActivationInterval", ActivationInterval=60)
    call(host, "SetVLRenewalInterval", RenewalInterval=43200)
    assert reg_get(host, SPP, "KeyManagementServiceListeningPort") == "1700"
    assert reg_get(host, SPP, "DisableDnsPublishing", "DWORD") == 1
    assert reg_get(host, SPP, "EnableKmsLowPriority", "DWORD") == 1
    assert reg_get(host, SPP, "VLActivationInterval", "DWORD") == 60
    assert reg_get(host, SPP, "VLRenewalInterval", "DWORD") == 43200
    svc = service(host)  # sppsvc still runs with what it read at its start
    assert svc["KeyManagementServiceListeningPort"] == 0
    assert (svc["KeyManagementServiceDnsPublishing"], svc["KeyManagementServiceLowPriority"]) == (True, False)
    restart_sppsvc(host)
    svc = service(host)
    assert svc["KeyManagementServiceListeningPort"] == 1700
    assert (svc["KeyManagementServiceDnsPublishing"], svc["KeyManagementServiceLowPriority"]) == (False, True)
    assert (svc["VLActivationInterval"], svc["VLRenewalInterval"]) == (60, 43200)
    call(host, "ClearKeyManagementServiceListeningPort")
    call(host, "DisableKeyManagementServiceDnsPublishing", DisablePublishing=False)
    restart_sppsvc(host)
    assert service(host)["KeyManagementServiceListeningPort"] == 0
    assert reg_get(host, SPP, "DisableDnsPublishing", "DWORD") == 0


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("SetKeyManagementServiceListeningPort", {"PortNumber": 1700}),
        ("ClearKeyManagementServiceListeningPort", {}),
        ("DisableKeyManagementServiceDnsPublishing", {"DisablePublishing": True}),
        ("EnableKeyManagementServiceLowPriority", {"EnableLowPriority": True}),
        ("SetVLActivationInterval", {"ActivationInterval": 60}),
        ("SetVLRenewalInterval", {"RenewalInterval": 60}),
    ],
)
def test_host_only_methods_fail_on_a_client(fleet: Fleet, method: str, params: dict[str, t.Any]) -> None:
    ws = fleet.hosts["ws01"].machine
    with pytest.raises(cim.ProviderError) as info:
        call(ws, method, **params)
    assert provider_error(info) == NOT_SUPPORTED
    assert ws.writes == 0


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("SetVLActivationInterval", {"ActivationInterval": 14}),
        ("SetVLActivationInterval", {"ActivationInterval": 43201}),
        ("SetVLRenewalInterval", {"RenewalInterval": 0}),
        ("SetKeyManagementServiceListeningPort", {"PortNumber": 0}),
        ("SetKeyManagementServiceListeningPort", {"PortNumber": 65536}),
        ("SetKeyManagementServicePort", {"PortNumber": 0}),
        ("SetKeyManagementServiceMachine", {"MachineName": " "}),
        ("SetVLActivationTypeEnabled", {"ActivationType": 4}),
    ],
)
def test_out_of_range_arguments(fleet: Fleet, method: str, params: dict[str, t.Any]) -> None:
    host = fleet.hosts["kms01"].machine
    with pytest.raises(cim.ProviderError) as info:
        call(host, method, **params)
    assert provider_error(info) == INVALID_ARG
    assert host.writes == 0


def test_missing_or_mistyped_parameters(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    with pytest.raises(cim.InvalidParameter):
        call(ws, "SetKeyManagementServicePort")
    with pytest.raises(cim.InvalidParameter):
        call(ws, "SetKeyManagementServicePort", PortNumber="1688")
    with pytest.raises(cim.InvalidParameter):
        call(ws, "SetKeyManagementServicePort", Port=1688)


def test_per_product_settings_use_the_sku_subkey(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    product = kms_client_product(ws)
    sku_key = rf"{SPP}\{WINDOWS_APP}\{product['ID']}"
    call_product(ws, product["ID"], "SetKeyManagementServiceMachine", MachineName="kms01")
    call_product(ws, product["ID"].upper(), "SetKeyManagementServicePort", PortNumber=1700)
    call_product(ws, product["ID"], "SetKeyManagementServiceLookupDomain", LookupDomain="east.example.com")
    assert reg_get(ws, sku_key, "KeyManagementServiceName") == "kms01"
    assert reg_get(ws, sku_key, "KeyManagementServicePort") == "1700"
    assert reg_get(ws, sku_key, "KeyManagementServiceLookupDomain") == "east.example.com"
    assert reg_get(ws, SPP, "KeyManagementServiceName") is None  # the global value is untouched
    assert service(ws)["KeyManagementServiceMachine"] == ""
    refreshed = kms_client_product(ws)
    assert (refreshed["KeyManagementServiceMachine"], refreshed["KeyManagementServicePort"]) == ("kms01", 1700)
    assert refreshed["KeyManagementServiceLookupDomain"] == "east.example.com"
    call_product(ws, product["ID"], "ClearKeyManagementServiceMachine")
    call_product(ws, product["ID"], "ClearKeyManagementServicePort")
    assert reg_get(ws, sku_key, "KeyManagementServiceName") is None
    # Without a per-SKU value the product reports the global registration.
    call(ws, "SetKeyManagementServiceMachine", MachineName="global.corp.example.com")
    assert kms_client_product(ws)["KeyManagementServiceMachine"] == "global.corp.example.com"


def test_activation_type(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    product = kms_client_product(ws)
    call(ws, "SetVLActivationTypeEnabled", ActivationType=2)
    assert kms_client_product(ws)["VLActivationTypeEnabled"] == 2
    call_product(ws, product["ID"], "SetVLActivationTypeEnabled", ActivationType=1)
    assert kms_client_product(ws)["VLActivationTypeEnabled"] == 1
    call_product(ws, product["ID"], "ClearVLActivationTypeEnabled")
    call(ws, "ClearVLActivationTypeEnabled")
    assert kms_client_product(ws)["VLActivationTypeEnabled"] == 0


def test_standard_users_read_but_cannot_change(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    assert service(ws, USER)["KeyManagementServiceMachine"] == ""
    product = kms_client_product(ws)
    with pytest.raises(cim.AccessDenied):
        call(ws, "SetKeyManagementServiceMachine", USER, MachineName="kms01")
    with pytest.raises(cim.AccessDenied):
        call(ws, "InstallProductKey", USER, ProductKey="NPPR9-FWDCX-D2C8J-H872K-2YT43")
    with pytest.raises(cim.AccessDenied):
        call_product(ws, product["ID"], "Activate", USER)
    assert call_product(ws, product["ID"], "GetPolicyInformationString", USER, PolicyName="Kernel-EditionName") == {
        "PolicyValue": "Enterprise",
        "ReturnValue": 0,
    }
    call(ws, "RefreshLicenseStatus", USER)
    assert ws.writes == 0


def test_user_operations_lets_standard_users_install_keys_after_a_restart(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    service(ws)  # sppsvc runs with the old settings
    reg_set(ws, SPP, "UserOperations", "DWORD", 1)
    gvlk = "NPPR9-FWDCX-D2C8J-H872K-2YT43"
    with pytest.raises(cim.AccessDenied):  # UserOperations needs an sppsvc restart ("Optional configurations")
        call(ws, "InstallProductKey", USER, ProductKey=gvlk)
    for method in ("StopService", "StartService"):
        ws.invoke(CIMV2, "Win32_Service", method, {"Name": "sppsvc"}, {}, ADMIN)
    call(ws, "InstallProductKey", USER, ProductKey=gvlk)
    with pytest.raises(cim.AccessDenied):
        call(ws, "SetKeyManagementServiceMachine", USER, MachineName="kms01")


def test_sppsvc_is_demand_started_and_reads_do_not_write(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    assert ws.state()["sppsvc"]["state"] == "Stopped"
    service(ws)
    ws.instances(CIMV2, "SoftwareLicensingProduct", ADMIN)
    assert ws.state()["sppsvc"]["state"] == "Running"
    assert ws.writes == 0


def test_disabled_sppsvc_fails_every_spp_call(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    ws.invoke(CIMV2, "Win32_Service", "ChangeStartMode", {"Name": "sppsvc"}, {"StartMode": "Disabled"}, ADMIN)
    product_id = ws.licensing.products[0].id
    calls: list[t.Callable[[], object]] = [
        lambda: service(ws),
        lambda: ws.instances(CIMV2, "SoftwareLicensingProduct", ADMIN),
        lambda: call(ws, "SetKeyManagementServiceMachine", MachineName="kms01"),
        lambda: call_product(ws, product_id, "Activate"),
    ]
    for attempt in calls:
        with pytest.raises(cim.ProviderError) as info:
            attempt()
        assert provider_error(info) == 0x80070422


def test_writes_count_each_change(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    call(ws, "SetKeyManagementServiceMachine", MachineName="kms01")
    assert ws.writes == 1
    call(ws, "SetKeyManagementServiceMachine", MachineName="kms01")  # Windows writes again
    assert ws.writes == 2
    call(ws, "ClearKeyManagementServicePort")  # nothing to clear
    assert ws.writes == 2
    call(ws, "ClearKeyManagementServiceMachine")
    assert ws.writes == 3
