# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_office: the installed Office volume SKU -> its row and GVLK of Microsoft's Office table, and which SKU a task
works on."""

from __future__ import annotations

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _office as office
from ansible_collections.winact.kms.plugins.plugin_utils._office_gvlk_data import ROWS
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure
from ansible_collections.winact.kms.tests.unit.plugins.spp_fake import FakeHost

OFFICE_APP = "0ff1ce15-a989-479d-af46-f275c6370663"
PROPLUS_2021 = "fbdb3e18-a8ef-4fb3-9183-dffd60bd0984"
VISIO_2021 = "fb61ac9a-1688-45d2-8f6b-0674dbffa33c"

CODES = {
    "Office Professional Plus": "ProPlus",
    "Office Standard": "Standard",
    "Project Professional": "ProjectPro",
    "Project Standard": "ProjectStd",
    "Visio Professional": "VisioPro",
    "Visio Standard": "VisioStd",
    "Skype for Business": "SkypeForBusiness",
}
FAMILY_PARTS = {
    "Office 2016": ("16", "", ""),
    "Office 2019": ("19", "2019", "_AE"),
    "Office LTSC 2021": ("21", "2021", "_AE"),
    "Office LTSC 2024": ("24", "2024", "_AE"),
}


def family(version: str, product: str) -> str:
    major, year, suffix = FAMILY_PARTS[version]
    return f"Office{major}{CODES.get(product, product)}{year}VL_KMS_Client{suffix}"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row['version']}-{row['product']}")
def test_every_row_of_microsofts_table_is_picked_from_its_license_family(row: dict[str, str]) -> None:
    sku = office.identify(family(row["version"], row["product"]))
    assert sku == office.OfficeSku(row["version"], row["product"], row["key"])


@pytest.mark.parametrize(
    ("license_family", "expected"),
    [
        ("Office16ProPlusVL_KMS_Client", ("Office 2016", "Office Professional Plus", "XQNVK-8JYDB-WJ9W3-YJ8YR-WFG99")),
        (
            "Office21VisioPro2021VL_KMS_Client_AE",
            ("Office LTSC 2021", "Visio Professional", "KNH8D-FGHT4-T8RK3-CTDYJ-K2HT4"),
        ),
        ("Office24Publisher2024VL_KMS_Client_AE", ("Office LTSC 2024", "Publisher", None)),  # Microsoft lists none
        ("Office19ProPlus2019VL_MAK_AE", None),  # a MAK SKU has no GVLK
        ("Office21ProPlus2019VL_KMS_Client_AE", None),  # major version and year disagree
        ("Office16Frobnicator2021VL_KMS_Client_AE", None),
        ("ServerDatacenter", None),
        (None, None),
    ],
)
def test_identify(license_family: str | None, expected: tuple[str, str, str | None] | None) -> None:
    sku = office.identify(license_family)
    assert (None if sku is None else (sku.version, sku.product, sku.gvlk)) == expected


def test_sku_of_fails_naming_what_it_found_when_the_table_has_no_gvlk() -> None:
    with pytest.raises(ModuleFailure, match="Office21Frob"):
        office.sku_of({"ID": PROPLUS_2021, "LicenseFamily": "Office21Frob2021VL_KMS_Client_AE"})
    with pytest.raises(ModuleFailure, match="no GVLK for Publisher"):
        office.sku_of({"ID": PROPLUS_2021, "LicenseFamily": "Office24Publisher2024VL_KMS_Client_AE"})


def test_gvlk_installed_compares_the_last_five_characters() -> None:
    product = {"LicenseFamily": "Office21ProPlus2021VL_KMS_Client_AE", "PartialProductKey": "6F7TH"}
    assert office.gvlk_installed(product) is True
    assert office.gvlk_installed({**product, "PartialProductKey": "ABCDE"}) is False
    assert office.gvlk_installed({**product, "PartialProductKey": None}) is False
    assert office.is_office_gvlk("fxytk-njj8c-gb6dw-3dyqt-6f7th") and not office.is_office_gvlk("ABCDE")


def office_host(*products: tuple[str, str]) -> FakeHost:
    host = FakeHost()
    for product_id, license_family in products:
        host.add_product(
            product_id,
            ApplicationID=OFFICE_APP,
            LicenseFamily=license_family,
            Description="Office 21, VOLUME_KMSCLIENT channel",
        )
    return host


def test_select_product_picks_the_only_office_volume_sku_and_never_windows() -> None:
    host = office_host((PROPLUS_2021, "Office21ProPlus2021VL_KMS_Client_AE"))
    host.add_product("de32eafd-aaee-4662-9444-c1befb41bde2")  # a Windows KMS client product
    assert office.select_product(host.wmi)["ID"] == PROPLUS_2021


def test_select_product_needs_an_activation_id_among_several() -> None:
    host = office_host(
        (PROPLUS_2021, "Office21ProPlus2021VL_KMS_Client_AE"), (VISIO_2021, "Office21VisioPro2021VL_KMS_Client_AE")
    )
    with pytest.raises(ModuleFailure, match="choose one with activation_id") as info:
        office.select_product(host.wmi)
    assert info.value.detail.get("option") == "activation_id"
    assert office.select_product(host.wmi, VISIO_2021.upper())["ID"] == VISIO_2021
    with pytest.raises(ModuleFailure, match="is not an Office volume"):
        office.select_product(host.wmi, "de32eafd-aaee-4662-9444-c1befb41bde2")


def test_select_product_without_office_explains_where_office_licenses() -> None:
    with pytest.raises(ModuleFailure, match="Windows 8 / Server 2012 and later"):
        office.select_product(FakeHost().wmi)


def test_kms_client_application_office_scopes_the_settings_to_the_office_product() -> None:
    from ansible_collections.winact.kms.plugins.plugin_utils import _settings as settings
    from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError

    request = settings.build_request(settings.Scope.CLIENT, {"application": "office", "server": "kms01"})
    assert request.office and request.per_product and request.activation_id is None
    assert not settings.build_request(settings.Scope.CLIENT, {"server": "kms01"}).per_product
    with pytest.raises(ValidationError, match="application"):
        settings.build_request(settings.Scope.CLIENT, {"application": "visio"})


def test_product_key_plans_the_office_gvlk_and_keeps_a_mak_activated_office_by_default() -> None:
    from ansible_collections.winact.kms.plugins.plugin_utils import _product_key as pk
    from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext

    host = office_host((PROPLUS_2021, "Office21ProPlus2021VL_KMS_Client_AE"))
    ctx = TaskContext(check_mode=True, diff_mode=True)
    result = pk.execute(host.wmi, pk.build_request({"application": "office"}), ctx)
    assert result["changed"] is True and result["partial_product_key"] == "6F7TH"
    assert result["office"] == {"version": "Office LTSC 2021", "product": "Office Professional Plus"}
    assert host.writes() == []

    host.products[PROPLUS_2021].update(PartialProductKey="Q8R2T", LicenseStatus=1, ProductKeyChannel="Volume:MAK")
    with pytest.raises(ModuleFailure, match="the Office product Office21ProPlus2021VL_KMS_Client_AE is activated"):
        pk.execute(host.wmi, pk.build_request({"application": "office"}), TaskContext(check_mode=True, diff_mode=False))
    converted = pk.execute(
        host.wmi, pk.build_request({"application": "office"}, explicit_catalog=True), TaskContext(True, False)
    )
    assert converted["changed"] is True and converted["previous_partial_product_key"] == "Q8R2T"
    assert host.writes() == []
