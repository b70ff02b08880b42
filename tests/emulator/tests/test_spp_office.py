"""Office volume products in SPP (Windows 8+): the fleet's `office` option, GVLK install, per-SKU KMS settings,
activation against an Office KMS host key."""

from __future__ import annotations

import pathlib
import typing as t

import pytest
from winemu_lib import cim
from winemu_lib.fleet import Fleet
from winemu_lib.machine import Machine

ADMIN = cim.CallContext("Administrator", True)
CIMV2 = "root/cimv2"
NOT_ENOUGH_COUNT = 0xC004F038
ID_MISMATCH = 0xC004F042

OFFICE_APP = "0ff1ce15-a989-479d-af46-f275c6370663"
PROPLUS_2021 = {"version": "Office LTSC 2021", "product": "Office Professional Plus"}
GVLK_2021 = "FXYTK-NJJ8C-GB6DW-3DYQT-6F7TH"  # Microsoft's GVLK table
VISIO_2021_GVLK = "KNH8D-FGHT4-T8RK3-CTDYJ-K2HT4"
MISMATCHED_SKU = 0xC004F069
SPP = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"


def load(*hosts: dict[str, t.Any]) -> Fleet:
    accounts = [{"username": "a", "password": "b", "admin": True}]
    return Fleet.from_dict({"defaults": {"domain": "corp.example.com", "accounts": accounts}, "hosts": list(hosts)})


def kms_host(name: str, **extra: t.Any) -> dict[str, t.Any]:
    host = {"csvlk_group": "Windows Server 2022", "extra_count": 30, **extra.pop("kms_host", {})}
    return {"name": name, "edition": "ServerDatacenter", "build": 20348, "kms_host": host, **extra}


def client(name: str, edition: str = "Enterprise", build: int = 22631, **extra: t.Any) -> dict[str, t.Any]:
    return {"name": name, "edition": edition, "build": build, **extra}


def call(machine: Machine, method: str, **params: t.Any) -> None:
    machine.invoke(CIMV2, "SoftwareLicensingService", method, {"Version": machine.licensing.version}, params, ADMIN)


def call_product(machine: Machine, product_id: str, method: str, **params: t.Any) -> None:
    machine.invoke(CIMV2, "SoftwareLicensingProduct", method, {"ID": product_id}, params, ADMIN)


def office_products(machine: Machine) -> list[dict[str, t.Any]]:
    rows = t.cast(list[dict[str, t.Any]], machine.instances(CIMV2, "SoftwareLicensingProduct", ADMIN))
    return [p for p in rows if p["ApplicationID"] == OFFICE_APP]


def test_default_is_office_2016_proplus_with_its_gvlk_on_windows_8_and_later_only() -> None:
    fleet = load(client("ws01"), client("w7", "Professional", 7601))
    [office] = office_products(fleet.hosts["ws01"].machine)
    assert office["LicenseFamily"] == "Office16ProPlusVL_KMS_Client"
    assert office["PartialProductKey"] == "WFG99" and office["LicenseStatus"] == 2
    assert office_products(fleet.hosts["w7"].machine) == []  # Office on Windows 7 uses osppsvc


def test_office_option_installs_the_chosen_sku_without_a_key() -> None:
    fleet = load(client("ws01", office={**PROPLUS_2021, "key": "none"}), client("ws02", office="none"))
    [office] = office_products(fleet.hosts["ws01"].machine)
    assert office["Name"] == "Office 21, Office21ProPlus2021VL_KMS_Client_AE edition"
    assert office["Description"] == "Office 21, VOLUME_KMSCLIENT channel"
    assert office["PartialProductKey"] is None and office["LicenseStatus"] == 0
    assert office_products(fleet.hosts["ws02"].machine) == []


@pytest.mark.parametrize(
    ("office", "message"),
    [
        ({"version": "Office 2013", "product": "Office Professional Plus"}, "no Office volume product"),
        ({"version": "Office LTSC 2024", "product": "Publisher"}, "no Office volume product"),
        ({**PROPLUS_2021, "key": "XXXXX"}, "must be gvlk or none"),
        ({**PROPLUS_2021, "key": "none", "status": "licensed"}, "without a key is unlicensed"),
        ([PROPLUS_2021, PROPLUS_2021], "listed twice"),
    ],
)
def test_bad_office_options_are_refused(office: t.Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load(client("ws01", office=office))


def test_office_on_windows_7_is_refused() -> None:
    with pytest.raises(ValueError, match="Windows 8 and later"):
        load(client("w7", "Professional", 7601, office=PROPLUS_2021))


def test_installing_the_gvlk_lands_on_the_installed_office_sku_only() -> None:
    fleet = load(client("ws01", office={**PROPLUS_2021, "key": "none"}))
    ws = fleet.hosts["ws01"].machine
    windows_before = ws.licensing.windows_product()
    call(ws, "InstallProductKey", ProductKey=GVLK_2021)
    [office] = office_products(ws)
    assert office["PartialProductKey"] == "6F7TH" and office["LicenseStatus"] == 2
    assert ws.licensing.windows_product() is windows_before  # the Windows key stays
    with pytest.raises(cim.ProviderError) as info:
        call(ws, "InstallProductKey", ProductKey=VISIO_2021_GVLK)  # Visio is not installed
    assert info.value.hresult == MISMATCHED_SKU


def test_per_sku_kms_settings_are_the_products_own() -> None:
    fleet = load(client("ws01", office=PROPLUS_2021))
    ws = fleet.hosts["ws01"].machine
    [office] = office_products(ws)
    call_product(ws, office["ID"], "SetKeyManagementServiceMachine", MachineName="kms-office.corp.example.com")
    call_product(ws, office["ID"], "SetKeyManagementServicePort", PortNumber=1701)
    [office] = office_products(ws)
    assert (office["KeyManagementServiceMachine"], office["KeyManagementServicePort"]) == (
        "kms-office.corp.example.com",
        1701,
    )
    sku_key = rf"{SPP}\{OFFICE_APP}\{office['ID']}"
    assert ws.registry.read_str(sku_key, "KeyManagementServiceName") == "kms-office.corp.example.com"
    assert ws.licensing.windows_product() is not None
    assert ws.registry.read_str(SPP, "KeyManagementServiceName") is None  # Windows' global setting untouched


def test_office_activates_only_against_a_host_key_of_its_version_with_its_own_count() -> None:
    fleet = load(
        kms_host("kms01", kms_host={"office_versions": ["Office LTSC 2021"], "office_extra_count": 3}),
        client("ws01", office=PROPLUS_2021, kms_client={"server": "kms01"}),
        client("ws02", office=PROPLUS_2021, kms_client={"server": "kms01"}),
        client("ws03", office={"version": "Office 2019", "product": "Office Professional Plus"}),
    )
    host = fleet.hosts["kms01"].machine

    def activate_office(name: str) -> None:
        machine = fleet.hosts[name].machine
        [office] = office_products(machine)
        machine.invoke(CIMV2, "SoftwareLicensingProduct", "Activate", {"ID": office["ID"]}, {}, ADMIN)

    with pytest.raises(cim.ProviderError) as info:
        activate_office("ws01")  # count 4 of the 5 Office needs ("Activate Office by using KMS")
    assert info.value.hresult == NOT_ENOUGH_COUNT
    activate_office("ws02")  # the fifth
    activate_office("ws01")
    assert [p["LicenseStatus"] for p in office_products(fleet.hosts["ws01"].machine)] == [1]
    assert host.licensing.host.current_count(host.now()) == 30  # Windows' count untouched
    host_sku = next(p for p in office_products(host) if p["ID"] == "47f3b983-7c53-4d45-abc6-bcd91e2dd90a")
    assert host_sku["KeyManagementServiceCurrentCount"] == 5 and host_sku["IsKeyManagementServiceMachine"] == 1
    ws03 = fleet.hosts["ws03"].machine
    call(ws03, "SetKeyManagementServiceMachine", MachineName="kms01")
    with pytest.raises(cim.ProviderError) as info:
        activate_office("ws03")  # an Office 2019 client: no Office 2019 host key on kms01
    assert info.value.hresult == ID_MISMATCH


def test_the_emulators_office_gvlk_table_is_the_projects_sourced_copy() -> None:
    root = pathlib.Path(__file__).resolve().parents[3]
    copy = root / "tests" / "emulator" / "winemu_lib" / "data" / "office_gvlk.yaml"
    assert copy.read_text(encoding="utf-8") == (root / "tools" / "data" / "office_gvlk.yaml").read_text(
        encoding="utf-8"
    )
