# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Office volume activation end to end over WinRM: product_key, kms_client and activate with application: office
(check -> apply -> idempotent -> explained failure), and license_info's Office products."""

from __future__ import annotations

import typing as t

import pytest

from .conftest import FleetRun, PlaybookRun

OFFICE_APP = "0ff1ce15-a989-479d-af46-f275c6370663"
SPP = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("office")


def office(fleet: FleetRun, host: str, step: str, *, check: bool = False, **extra: t.Any) -> PlaybookRun:
    return fleet.playbook("office.yml", limit=host, check=check, diff=True, extra_vars={"office_step": step, **extra})


def office_state(fleet: FleetRun, host: str) -> list[dict[str, t.Any]]:
    return [p for p in fleet.state(host)["licensing"]["products"] if p["application_id"] == OFFICE_APP]


def test_gvlk_of_the_installed_office_sku_check_apply_idempotent(fleet: FleetRun) -> None:
    host = "ws01"
    keys_before = [
        p["partial_product_key"] for p in fleet.state(host)["licensing"]["products"] if p["partial_product_key"]
    ]
    writes = fleet.writes(host)
    checked = office(fleet, host, "key", check=True).task("Office product key", host).result
    assert checked["changed"] is True and checked["key_source"] == "catalog"
    assert checked["office"] == {"version": "Office LTSC 2021", "product": "Office Professional Plus"}
    assert checked["partial_product_key"] == "6F7TH"  # Microsoft's Office LTSC 2021 ProPlus GVLK
    assert checked["diff"]["after"]["product_key"].endswith("6F7TH")
    assert fleet.writes(host) == writes, "check mode must not write"

    applied = office(fleet, host, "key").task("Office product key", host).result
    assert applied["changed"] is True and applied["product"]["partial_product_key"] == "6F7TH"
    assert "Office21ProPlus2021VL_KMS_Client_AE" in applied["product"]["license_family"]
    assert [p["partial_product_key"] for p in office_state(fleet, host)] == ["6F7TH"]
    keyed = [p["partial_product_key"] for p in fleet.state(host)["licensing"]["products"] if p["partial_product_key"]]
    assert sorted(keyed) == sorted([*keys_before, "6F7TH"])  # the Windows key is untouched

    writes = fleet.writes(host)
    again = office(fleet, host, "key").task("Office product key", host).result
    assert again["changed"] is False and fleet.writes(host) == writes


def test_per_sku_kms_host_check_apply_idempotent_and_windows_untouched(fleet: FleetRun) -> None:
    host = "ws01"
    writes = fleet.writes(host)
    checked = office(fleet, host, "kms", check=True, office_server="kms01.corp.example.com", office_port=1688)
    result = checked.task("Office KMS host", host).result
    assert result["changed"] is True and result["diff"]["after"]["server"] == "kms01.corp.example.com"
    assert fleet.writes(host) == writes, "check mode must not write"

    applied = office(fleet, host, "kms", office_server="kms01.corp.example.com").task("Office KMS host", host).result
    assert applied["changed"] is True and applied["settings"]["server"] == "kms01.corp.example.com"
    [product] = office_state(fleet, host)
    assert applied["activation_id"] == product["id"]
    values = fleet.state(host)["registry"]["SoftwareProtectionPlatform"]
    assert "KeyManagementServiceName" not in values["values"]  # Windows' global KMS host is not set
    sku_values = values["subkeys"][OFFICE_APP]["subkeys"][product["id"]]["values"]
    assert sku_values["KeyManagementServiceName"]["data"] == "kms01.corp.example.com"

    writes = fleet.writes(host)
    again = office(fleet, host, "kms", office_server="kms01.corp.example.com").task("Office KMS host", host).result
    assert again["changed"] is False and fleet.writes(host) == writes


def test_activate_office_check_apply_idempotent_and_license_info(fleet: FleetRun) -> None:
    host = "ws01"
    # What the tests above did (idempotent), so this test also runs alone.
    assert office(fleet, host, "key").rc == 0
    assert office(fleet, host, "kms", office_server="kms01.corp.example.com").rc == 0
    writes = fleet.writes(host)
    checked = office(fleet, host, "activate", check=True).task("Activate Office", host).result
    assert checked["changed"] is True and checked["would_activate"] is True
    assert fleet.writes(host) == writes, "check mode must not write"

    applied = office(fleet, host, "activate").task("Activate Office", host).result
    assert applied["changed"] is True and applied["license_status_name"] == "Licensed"
    assert office(fleet, host, "activate").task("Activate Office", host).result["changed"] is False

    info = office(fleet, host, "info").task("Read license info", host).result
    [product] = info["office_products"]
    assert product["license_status_name"] == "Licensed" and product["partial_product_key"] == "6F7TH"
    assert product["office"] == {"version": "Office LTSC 2021", "product": "Office Professional Plus"}
    assert product["gvlk_installed"] is True and product["kms_machine"] == "kms01.corp.example.com"
    assert info["windows_product"]["license_status_name"] != "Licensed"  # Windows was not activated by this


def test_office_of_a_version_the_kms_host_does_not_serve_is_explained(fleet: FleetRun) -> None:
    host = "ws02"
    assert office(fleet, host, "key").task("Office product key", host).result["partial_product_key"] == "9D9HK"
    office(fleet, host, "kms", office_server="kms01.corp.example.com")
    failed = office(fleet, host, "activate").task("Activate Office", host)
    assert failed.failed and "0xC004F042" in failed.result["msg"], failed.result


def test_two_office_products_need_an_activation_id(fleet: FleetRun) -> None:
    host = "ws03"
    writes = fleet.writes(host)
    failed = office(fleet, host, "key").task("Office product key", host)
    assert failed.failed and "choose one with activation_id" in failed.result["msg"]
    assert "Office21VisioPro2021VL_KMS_Client_AE" in failed.result["msg"]
    visio = next(p for p in office_state(fleet, host) if "Visio" in p["name"])
    applied = office(fleet, host, "key", office_activation_id=visio["id"]).task("Office product key", host).result
    assert applied["changed"] is True and applied["partial_product_key"] == "K2HT4"
    assert applied["office"]["product"] == "Visio Professional"
    assert fleet.writes(host) > writes


def test_windows_7_has_no_office_in_spp_and_says_so(fleet: FleetRun) -> None:
    host = "w7"
    writes = fleet.writes(host)
    failed = office(fleet, host, "key").task("Office product key", host)
    assert failed.failed and "Windows 8 / Server 2012 and later" in failed.result["msg"]
    kms = office(fleet, host, "kms", office_server="kms01.corp.example.com").task("Office KMS host", host)
    assert kms.failed and "no Office volume (KMS client) product" in kms.result["msg"]
    assert fleet.writes(host) == writes


def test_the_kms_client_role_manages_office_check_apply_idempotent(fleet: FleetRun) -> None:
    host = "ws04"
    office_vars = {"office_role_office": {"server": "kms01.corp.example.com", "port": 1688}}
    writes = fleet.writes(host)
    checked = fleet.playbook("office_role.yml", limit=host, check=True, diff=True, extra_vars=office_vars)
    assert checked.rc == 0, checked.output[-3000:]
    assert checked.task("winact.kms.kms_client : Install the GVLK of the installed Office product", host).changed
    assert fleet.writes(host) == writes, "check mode must not write"

    applied = fleet.playbook("office_role.yml", limit=host, extra_vars=office_vars)
    assert applied.rc == 0, applied.output[-3000:]
    [product] = office_state(fleet, host)
    assert product["partial_product_key"] == "6F7TH" and product["license_status"] == 1

    again = fleet.playbook("office_role.yml", limit=host, extra_vars=office_vars)
    assert again.rc == 0 and not [r.task for r in again.results if r.changed], again.output[-3000:]
