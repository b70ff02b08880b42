"""Active Directory-based activation, token-based activation licenses and the Windows 7 token-only flag."""

from __future__ import annotations

import typing as t

import pytest
from winemu_lib import cim
from winemu_lib.fleet import Fleet
from winemu_lib.machine import Machine

ADMIN = cim.CallContext("Administrator", True)
CIMV2 = "root/cimv2"
WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"
ILID = "8c1a0c4f-3a6b-4f5e-9d2a-6b7c1e0f2a3b"
MAK = "MMMMM-AAAAA-KKKKK-22222-33333"
CSVLK_2022 = "CCCCC-SSSSS-VVVVV-22222-55555"
KEYS = [
    {"key": MAK, "channel": "Volume:MAK", "editions": ["Enterprise", "ServerStandard"]},
    {"key": CSVLK_2022, "channel": "Volume:CSVLK", "csvlk_group": "Windows Server 2022"},
]


def by_marker(machine: Machine, marker: str) -> dict[str, t.Any]:
    rows = t.cast(list[dict[str, t.Any]], machine.instances(CIMV2, "SoftwareLicensingProduct", ADMIN))
    return next(p for p in rows if p["ApplicationID"] == WINDOWS_APP and p["Description"].endswith(f"{marker} channel"))


def call_product(machine: Machine, product_id: str, method: str, **params: t.Any) -> dict[str, t.Any]:
    return machine.invoke(CIMV2, "SoftwareLicensingProduct", method, {"ID": product_id}, params, ADMIN)


def call(machine: Machine, method: str, **params: t.Any) -> dict[str, t.Any]:
    selectors = {"Version": machine.licensing.version}
    return machine.invoke(CIMV2, "SoftwareLicensingService", method, selectors, params, ADMIN)


def hresult_of(action: t.Callable[[], object]) -> int:
    with pytest.raises(cim.ProviderError) as info:
        action()
    return info.value.hresult


def load(*hosts: dict[str, t.Any], activation_objects: list[dict[str, t.Any]] | None = None) -> Fleet:
    data: dict[str, t.Any] = {
        "defaults": {"domain": "corp.example.com", "accounts": [{"username": "a", "password": "b", "admin": True}]},
        "keys": KEYS,
        "hosts": list(hosts),
    }
    if activation_objects is not None:
        data["activation_objects"] = activation_objects
    return Fleet.from_dict(data)


def activate_windows(machine: Machine) -> dict[str, t.Any]:
    product = by_marker(machine, "VOLUME_KMSCLIENT")
    call_product(machine, product["ID"], "Activate")
    return by_marker(machine, "VOLUME_KMSCLIENT")


def test_a_forest_activation_object_activates_its_windows_8_and_later_members() -> None:
    fleet = load(
        {"name": "ws01", "edition": "Enterprise", "build": 22631},
        {"name": "srv01", "edition": "ServerStandard", "build": 20348},
        activation_objects=[{"name": "Corp WS2022", "csvlk": CSVLK_2022}],
    )
    for name in ("ws01", "srv01"):
        product = activate_windows(fleet.hosts[name].machine)
        assert product["LicenseStatus"] == 1 and product["VLActivationType"] == 1
        assert product["ADActivationObjectName"] == "Corp WS2022"
        assert product["ADActivationObjectDN"].endswith(
            ",CN=Activation Objects,CN=Microsoft SPP,CN=Services,CN=Configuration,DC=corp,DC=example,DC=com"
        )
        assert product["ADActivationCsvlkPid"] and product["ADActivationCsvlkSkuId"]


def test_kms_only_clients_and_other_forests_fall_back_to_kms() -> None:
    fleet = load(
        {"name": "ws01", "edition": "Enterprise", "build": 22631},
        {"name": "other01", "edition": "Enterprise", "build": 22631, "domain": "other.example.com"},
        activation_objects=[{"name": "Corp", "csvlk": CSVLK_2022}],
    )
    ws = fleet.hosts["ws01"].machine
    product = by_marker(ws, "VOLUME_KMSCLIENT")
    call_product(ws, product["ID"], "SetVLActivationTypeEnabled", ActivationType=2)
    assert hresult_of(lambda: activate_windows(ws)) != 0  # no KMS host in this fleet
    assert by_marker(ws, "VOLUME_KMSCLIENT")["ADActivationObjectName"] is None
    assert hresult_of(lambda: activate_windows(fleet.hosts["other01"].machine)) != 0


def test_online_activation_publishes_an_object_and_refuses_what_is_no_csvlk() -> None:
    fleet = load({"name": "dc01", "edition": "ServerDatacenter", "build": 20348})
    dc = fleet.hosts["dc01"].machine
    assert hresult_of(
        lambda: call(dc, "DoActiveDirectoryOnlineActivation", ProductKey=MAK, ActivationObjectName="x")
    ) == (0xC004F050)
    long_name = "n" * 41
    assert (
        hresult_of(
            lambda: call(dc, "DoActiveDirectoryOnlineActivation", ProductKey=CSVLK_2022, ActivationObjectName=long_name)
        )
        == 0x80070057
    )
    assert dc.writes == 0
    call(dc, "DoActiveDirectoryOnlineActivation", ProductKey=CSVLK_2022, ActivationObjectName="Corp")
    assert [ao.name for ao in fleet.network.forests.objects("corp.example.com")] == ["Corp"]
    assert activate_windows(dc)["ADActivationObjectName"] == "Corp"


def test_offline_pair_needs_the_confirmation_for_its_installation_id() -> None:
    fleet = load({"name": "dc01", "edition": "ServerDatacenter", "build": 20348})
    dc = fleet.hosts["dc01"].machine
    iid = call(dc, "GenerateActiveDirectoryOfflineActivationId", ProductKey=CSVLK_2022)["InstallationID"]
    assert iid.isdigit()
    wrong = "1" * 48
    deposit = "DepositActiveDirectoryOfflineActivationConfirmation"
    assert (
        hresult_of(lambda: call(dc, deposit, ProductKey=CSVLK_2022, ConfirmationID=wrong, ActivationObjectName="Corp"))
        == 0xC004F02C
    )
    cid = dc.licensing.ad_offline_confirmation_id(CSVLK_2022)
    call(dc, deposit, ProductKey=CSVLK_2022, ConfirmationID=cid, ActivationObjectName="Corp")
    assert [ao.name for ao in fleet.network.forests.objects("corp.example.com")] == ["Corp"]


def test_token_licenses_are_listed_and_uninstalled() -> None:
    fleet = load(
        {
            "name": "ws01",
            "edition": "Enterprise",
            "build": 22631,
            "token_licenses": [{"ilid": ILID, "ilvid": 1, "description": "Corp token IL"}],
        }
    )
    ws = fleet.hosts["ws01"].machine
    rows = ws.instances(CIMV2, "SoftwareLicensingTokenActivationLicense", ADMIN)
    assert [(r["ILID"], r["ILVID"], r["Description"]) for r in rows] == [(ILID, 1, "Corp token IL")]
    user = cim.CallContext("user", False)
    with pytest.raises(cim.AccessDenied):
        ws.invoke(CIMV2, "SoftwareLicensingTokenActivationLicense", "Uninstall", {"ID": str(rows[0]["ID"])}, {}, user)
    ws.invoke(CIMV2, "SoftwareLicensingTokenActivationLicense", "Uninstall", {"ID": str(rows[0]["ID"])}, {}, ADMIN)
    assert ws.instances(CIMV2, "SoftwareLicensingTokenActivationLicense", ADMIN) == []
    assert ws.writes == 1


def test_windows_7_has_the_token_only_flag_and_no_activation_type() -> None:
    fleet = load(
        {"name": "win7", "edition": "Enterprise", "build": 7601},
        {"name": "ws01", "edition": "Enterprise", "build": 22631},
    )
    win7, ws = fleet.hosts["win7"].machine, fleet.hosts["ws01"].machine

    def flag(machine: Machine) -> t.Any:
        return machine.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0]["KeyManagementServiceActivationDisabled"]

    assert flag(win7) is False and flag(ws) is None
    call(win7, "DisableKeyManagementServiceActivation", DisableActivation=True)
    assert flag(win7) is True
    assert hresult_of(lambda: activate_windows(win7)) == 0xC004F074
    with pytest.raises(cim.MethodNotFound):
        call(win7, "SetVLActivationTypeEnabled", ActivationType=2)
    with pytest.raises(cim.MethodNotFound):
        call(ws, "DisableKeyManagementServiceActivation", DisableActivation=True)
    with pytest.raises(cim.MethodNotFound):
        call(win7, "DoActiveDirectoryOnlineActivation", ProductKey=CSVLK_2022, ActivationObjectName="x")
