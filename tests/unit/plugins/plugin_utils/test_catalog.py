# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the GVLK catalog (_catalog) and its generated data (_gvlk_data)."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from ansible_collections.winact.kms.plugins.plugin_utils import _catalog as catalog
from ansible_collections.winact.kms.plugins.plugin_utils import _gvlk_data
from ansible_collections.winact.kms.plugins.plugin_utils._catalog import (
    CatalogError,
    detect_edition,
    find_by_key,
    is_gvlk,
    lookup,
    validate_key_format,
)
from ansible_collections.winact.kms.plugins.plugin_utils._results import mask_secret as mask_key

REPO_ROOT = Path(__file__).resolve().parents[4]
GVLK_YAML = REPO_ROOT / "tools" / "data" / "gvlk.yaml"
DATA_MODULE = REPO_ROOT / "plugins" / "plugin_utils" / "_gvlk_data.py"
EXPLICIT = "`key: <your key>` on winact.kms.product_key"


def _load_tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_test_tool_{name}", REPO_ROOT / "tools" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _os(sku: int, build: int | str, product_type: int) -> dict[str, Any]:
    return {"OperatingSystemSKU": sku, "BuildNumber": str(build), "ProductType": product_type}


def _yaml() -> dict[str, Any]:
    document = yaml.safe_load(GVLK_YAML.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


# --- generated data -------------------------------------------------------------------------------


def test_generated_data_module_is_up_to_date() -> None:
    generator = _load_tool("gen_gvlk_data")
    expected = generator.render(GVLK_YAML.read_text(encoding="utf-8"))
    assert DATA_MODULE.read_text(encoding="utf-8") == expected, "run: python tools/gen_gvlk_data.py"


def test_generated_data_says_it_is_generated_and_from_what() -> None:
    head = DATA_MODULE.read_text(encoding="utf-8")[:1000]
    assert "GENERATED FILE - DO NOT EDIT" in head
    assert "tools/data/gvlk.yaml" in head
    assert "https://learn.microsoft.com/windows-server/get-started/kms-client-activation-keys" in head


def test_generator_check_mode_detects_drift(tmp_path: Path) -> None:
    generator = _load_tool("gen_gvlk_data")
    stale = tmp_path / "_gvlk_data.py"
    stale.write_text(DATA_MODULE.read_text(encoding="utf-8").replace("T83GX", "T83GY", 1), encoding="utf-8")
    assert generator.main(["--source", str(GVLK_YAML), "--output", str(stale), "--check"]) == 1
    assert generator.main(["--source", str(GVLK_YAML), "--output", str(DATA_MODULE), "--check"]) == 0


def test_generator_rejects_a_malformed_key() -> None:
    generator = _load_tool("gen_gvlk_data")
    broken = GVLK_YAML.read_text(encoding="utf-8").replace("W269N-WFGWX-YVC9B-4J6C9-T83GX", "W269N-WFGWX", 1)
    with pytest.raises(generator.SourceError, match="gvlk"):
        generator.render(broken)


def test_microsoft_table_counts() -> None:
    listed = catalog.entries(include_unlisted=False)
    assert len(listed) == 99
    assert len({e.gvlk for e in listed}) == 82
    assert all(e.listed_by_microsoft for e in listed)
    unlisted = [e for e in catalog.CATALOG if not e.listed_by_microsoft]
    assert len(unlisted) == 8
    assert catalog.CATALOG[: len(listed)] == listed  # Microsoft's rows come first


def test_catalog_rows_equal_the_yaml_source() -> None:
    document = _yaml()
    rows = document["gvlks"] + document["supplementary_not_listed_by_microsoft"]
    assert len(rows) == len(catalog.CATALOG)
    for row, entry in zip(rows, catalog.CATALOG, strict=True):
        assert entry.product_family == row["product_family"]
        assert entry.edition == row["edition"]
        assert entry.gvlk == row["gvlk"]
        assert entry.edition_id == row["edition_id"]
        assert entry.operating_system_sku == row["operating_system_sku"]
        assert entry.activation_id == row["activation_id"]
        assert entry.listed_by_microsoft is row["listed_by_microsoft"]
        assert entry.servicing == row.get("servicing", "not stated")


def test_entry_fields_and_to_dict() -> None:
    entry = lookup("ServerDatacenter", 20348, 3)
    assert entry.to_dict() == {
        "product_family": "Windows Server 2022",
        "edition": "Windows Server 2022 Datacenter",
        "gvlk": "WX4NM-KYWYW-QJJR4-XV3QB-6VM33",
        "edition_id": "ServerDatacenter",
        "operating_system_sku": 8,
        "activation_id": "ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03",
        "servicing": "LTSC",
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Windows Server LTSC / Windows Server 2022",
        "notes": "",
    }
    reason = catalog.selectable_reason(catalog.CATALOG[-1])  # a community row
    assert reason is not None
    assert _gvlk_data.MICROSOFT_URL in reason


def test_every_key_has_the_product_key_format() -> None:
    for entry in catalog.CATALOG:
        assert validate_key_format(entry.gvlk) == entry.gvlk


# --- every row resolvable -------------------------------------------------------------------------


def _selectable(entry: catalog.CatalogEntry) -> bool:
    return catalog.selectable_reason(entry, include_unlisted=True) is None


@pytest.mark.parametrize("entry", catalog.CATALOG, ids=lambda e: f"{e.edition}-{e.gvlk[-5:]}")
def test_every_row_resolves_from_its_own_edition_build_and_product_type(entry: catalog.CatalogEntry) -> None:
    span = catalog.span_of(entry)
    assert span.sample_builds()
    for build, product_type in itertools.product(span.sample_builds(), sorted(span.product_types)):
        if _selectable(entry):
            assert lookup(entry.edition_id, build, product_type, include_unlisted=True) is entry
            found = detect_edition(
                _os(entry.operating_system_sku, build, product_type), entry.edition_id, include_unlisted=True
            )
            assert found is entry
        else:
            with pytest.raises(CatalogError, match="key: <your key>"):
                lookup(entry.edition_id, build, product_type, include_unlisted=True)
        if not entry.listed_by_microsoft:
            with pytest.raises(CatalogError, match=r"not listed by Microsoft|not volume-licensed|disagree"):
                lookup(entry.edition_id, build, product_type)


def test_no_two_selectable_rows_claim_the_same_host() -> None:
    builds = {b for r in catalog.RELEASES for b in r.builds} | {
        b for e in catalog.CATALOG for b in catalog.span_of(e).sample_builds()
    }
    for edition_id in catalog.edition_ids():
        rows = [e for e in catalog.CATALOG if e.edition_id == edition_id and _selectable(e)]
        for build, product_type in itertools.product(sorted(builds), (1, 2, 3)):
            claims = [e for e in rows if catalog.span_of(e).matches(build, product_type)]
            assert len(claims) <= 1, (edition_id, build, product_type, claims)


def test_family_builds_are_known_releases() -> None:
    for family, span in catalog.FAMILY_SPANS.items():
        for build in span.builds:
            assert any(
                build in release.builds and span.product_types == release.product_types for release in catalog.RELEASES
            ), (family, build)
    families = {e.product_family for e in catalog.CATALOG}
    assert families <= set(catalog.FAMILY_SPANS)


# --- family and release selection ----------------------------------------------------------------


def test_windows_11_and_10_share_a_key_but_not_a_family() -> None:
    win11 = lookup("Professional", 22631, 1)
    win10 = lookup("Professional", 19045, 1)
    assert win11.gvlk == win10.gvlk == "W269N-WFGWX-YVC9B-4J6C9-T83GX"
    assert (win11.product_family, win11.edition) == ("Windows 11", "Windows 11 Pro")
    assert (win10.product_family, win10.edition) == ("Windows 10", "Windows 10 Pro")
    assert lookup("Professional", 22000, 1).product_family == "Windows 11"  # first Windows 11 build
    assert lookup("Professional", 26200, 1).product_family == "Windows 11"
    assert detect_edition(_os(48, 22631, 1), "Professional") is win11


def test_older_client_families_have_their_own_keys() -> None:
    assert lookup("Professional", 9600, 1).gvlk == "GCRJD-8NW9H-F2CDX-CCM8D-9D6T9"  # Windows 8.1
    assert lookup("Professional", 9200, 1).gvlk == "NG4HW-VH26C-733KW-K6F98-J8CK4"  # Windows 8
    assert lookup("Professional", 7601, 1).gvlk == "FJ82H-XT6CR-J8D7P-XQJJ2-GPDD4"  # Windows 7
    assert lookup("Business", 6002, 1).gvlk == "YFKBB-PQJJV-G996G-VWGXY-2V3X8"  # Windows Vista


def test_server_2019_and_windows_10_1809_share_build_17763() -> None:
    client = detect_edition(_os(4, 17763, 1), "Enterprise")
    server = detect_edition(_os(7, 17763, 3), "ServerStandard")
    assert (client.product_family, client.gvlk) == ("Windows 10", "NPPR9-FWDCX-D2C8J-H872K-2YT43")
    assert (server.product_family, server.gvlk) == ("Windows Server 2019", "N69G4-B89J2-4G8F4-WWYCC-J464C")
    # A domain controller is a server too.
    assert detect_edition(_os(8, 17763, 2)).gvlk == "WMDGN-G9PQG-XVVXX-R3X43-63DFG"
    # The Semi-Annual Channel release at the same build is a different EditionID.
    assert lookup("ServerStandardACor", 17763, 3).gvlk == "N2KJX-J94YW-TQVFB-DG9YT-724CC"
    with pytest.raises(CatalogError, match="17763"):
        detect_edition(_os(4, 17763, 3))  # Enterprise (client SKU) reported as a server


def test_standard_and_datacenter() -> None:
    assert detect_edition(_os(7, 20348, 3)).gvlk == "VDYBN-27WPP-V4HQT-9VMD4-VMK7H"
    assert detect_edition(_os(8, 20348, 3)).gvlk == "WX4NM-KYWYW-QJJR4-XV3QB-6VM33"
    assert detect_edition(_os(7, 26100, 3)).gvlk == "TVRH6-WHNXV-R9WG3-9XRFY-MY832"
    assert detect_edition(_os(8, 26100, 3)).gvlk == "D764K-2NDRG-47T6Q-P8T8W-YP6DF"
    assert lookup("ServerDatacenter", 14393, 3).gvlk == "CB7KF-BWN84-R7R2Y-793K2-8XDDG"


@pytest.mark.parametrize(
    ("build", "edition", "key"),
    [
        (10240, "Windows 10 Enterprise LTSB 2015", "WNMTR-4C88C-JK8YV-HQ7T2-76DF9"),
        (14393, "Windows 10 Enterprise LTSB 2016", "DCPHK-NFMTC-H88MJ-PFHPY-QJ4BJ"),
        (17763, "Windows 10 Enterprise LTSC 2019", "M7XTQ-FN8P6-TTKYV-9D4CC-J462D"),
        (19044, "Windows 10 Enterprise LTSC 2021", "M7XTQ-FN8P6-TTKYV-9D4CC-J462D"),
        (26100, "Windows 11 Enterprise LTSC 2024", "M7XTQ-FN8P6-TTKYV-9D4CC-J462D"),
    ],
)
def test_ltsc_release_is_picked_by_build(build: int, edition: str, key: str) -> None:
    entry = detect_edition(_os(125, build, 1), "EnterpriseS")
    assert (entry.edition, entry.gvlk) == (edition, key)
    assert lookup("EnterpriseS", build, 1) is entry


def test_ltsc_n_and_iot() -> None:
    assert lookup("EnterpriseSN", 14393, 1).gvlk == "QFFDN-GRT3P-VKWWX-X7T3R-8B639"
    assert lookup("EnterpriseSN", 19044, 1).edition == "Windows 10 Enterprise N LTSC 2021"
    assert detect_edition(_os(191, 26100, 1)).edition == "Windows IoT Enterprise LTSC 2024"
    with pytest.raises(CatalogError, match="Windows 10 Enterprise LTSC 2021 on build 19044"):
        lookup("EnterpriseS", 19045, 1)  # 22H2 has no LTSC release


def test_server_2025_and_2022_azure_edition() -> None:
    entry = detect_edition(_os(407, 26100, 3), "ServerTurbine")
    assert (entry.edition, entry.gvlk) == (
        "Windows Server 2025 Datacenter: Azure Edition",
        "XGN3F-F394H-FD2MY-PP6FD-8MCRC",
    )
    assert detect_edition(_os(408, 26100, 3)) is entry  # Server Core install of Azure Edition
    assert lookup("ServerTurbine", 20348, 3).gvlk == "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV"


def test_windows_8_core_rows_listed_under_server_2012_are_client_keys() -> None:
    entry = detect_edition(_os(101, 9200, 1), "Core")
    assert (entry.product_family, entry.edition, entry.gvlk) == (
        "Windows 8",
        "Windows Server 2012",
        "BN3D2-R7TKB-3YPBD-8DRP2-27GG4",
    )
    assert entry.listed_by_microsoft
    with pytest.raises(CatalogError):
        lookup("Core", 9200, 3)  # not a server edition


def test_legacy_server_core_installs_take_the_full_edition_key() -> None:
    entry = detect_edition(_os(12, 7601, 3), "ServerDatacenterCore")
    assert entry.gvlk == "74YFP-3QFB3-KQT8W-PMXWJ-7M648"
    assert lookup("ServerDatacenterCore", 7601, 3) is entry
    assert detect_edition(_os(13, 6002, 3)).gvlk == "TM24T-X9RMF-VWXK6-X8JC9-BFGM2"
    with pytest.raises(CatalogError):
        detect_edition(_os(12, 9600, 3))  # Server 2012 and later never report *_SERVER_CORE


def test_windows_7_license_family_business_is_professional() -> None:
    assert detect_edition(_os(48, 7601, 1), "Business").edition == "Windows 7 Professional"
    with pytest.raises(CatalogError, match="mismatch"):
        detect_edition(_os(48, 22631, 1), "Business")


def test_unlisted_rows_only_on_request() -> None:
    with pytest.raises(CatalogError, match="not listed by Microsoft"):
        lookup("ServerRdsh", 19044, 1)
    entry = lookup("ServerRdsh", 19044, 1, include_unlisted=True)
    assert (entry.gvlk, entry.listed_by_microsoft) == ("CPWHC-NT2C7-VYW78-DHDB2-PG3GK", False)
    assert lookup("ServerRdsh", 17134, 1, include_unlisted=True).gvlk == "7NBT4-WGBQX-MP4H7-QXFF8-YP3KX"
    with pytest.raises(CatalogError, match="disagree"):
        lookup("ServerAzureCor", 26100, 3, include_unlisted=True)
    assert lookup("ServerAzureCor", 20348, 3, include_unlisted=True).gvlk == "6N379-GGTMK-23C6M-XVVTC-CKFRQ"


# --- failures that explain themselves ----------------------------------------------------------


def test_home_edition_is_a_clear_error() -> None:
    with pytest.raises(CatalogError) as info:
        detect_edition(_os(101, 22631, 1), "Core")
    message = str(info.value)
    for expected in ("101", "PRODUCT_CORE", "22631", "Windows 11", "'Core'", "not volume-licensed", EXPLICIT):
        assert expected in message
    with pytest.raises(CatalogError, match="not volume-licensed"):
        detect_edition(_os(101, 22631, 1), "Core", include_unlisted=True)  # never, even when asked
    with pytest.raises(CatalogError, match="not volume-licensed"):
        lookup("Core", 19045, 1, include_unlisted=True)


def test_license_family_mismatch_is_an_error() -> None:
    with pytest.raises(CatalogError) as info:
        detect_edition(_os(8, 20348, 3), "ServerStandard")
    message = str(info.value)
    for expected in ("8", "20348", "Windows Server 2022", "ServerDatacenter", "'ServerStandard'", EXPLICIT):
        assert expected in message
    assert detect_edition(_os(8, 20348, 3), "serverdatacenter").gvlk == "WX4NM-KYWYW-QJJR4-XV3QB-6VM33"
    assert detect_edition(_os(8, 20348, 3), None).gvlk == "WX4NM-KYWYW-QJJR4-XV3QB-6VM33"


def test_evaluation_edition_is_a_clear_error() -> None:
    with pytest.raises(CatalogError, match=r"PRODUCT_DATACENTER_EVALUATION_SERVER.*evaluation edition"):
        detect_edition(_os(80, 20348, 3), "ServerDatacenterEval")


def test_release_without_gvlk_is_a_clear_error() -> None:
    with pytest.raises(CatalogError) as info:
        detect_edition(_os(8, 25398, 3))
    message = str(info.value)
    assert "Windows Server, version 23H2" in message
    assert "25398" in message
    assert EXPLICIT in message
    with pytest.raises(CatalogError, match="unrecognised Windows client release"):
        detect_edition(_os(48, 12345, 1))


def test_unknown_edition_id_suggests_close_names() -> None:
    with pytest.raises(CatalogError, match="Did you mean 'ServerDatacenter'"):
        lookup("Datacenter", 20348, 3)
    assert lookup("serverdatacenter", 20348, 3).edition_id == "ServerDatacenter"


@pytest.mark.parametrize(
    ("os_info", "match"),
    [
        ({"BuildNumber": "20348", "ProductType": 3}, "OperatingSystemSKU"),
        ({"OperatingSystemSKU": 8, "BuildNumber": "20348"}, "ProductType"),
        ({"OperatingSystemSKU": 8, "ProductType": 3}, "BuildNumber"),
        ({"OperatingSystemSKU": 8, "BuildNumber": "20348", "ProductType": 4}, "ProductType must be"),
        ({"OperatingSystemSKU": "eight", "BuildNumber": "20348", "ProductType": 3}, "integer"),
    ],
)
def test_incomplete_os_info(os_info: dict[str, Any], match: str) -> None:
    with pytest.raises(CatalogError, match=match):
        detect_edition(os_info)


def test_os_info_accepts_version_and_result_names() -> None:
    by_version = {"OperatingSystemSKU": 8, "Version": "10.0.20348", "ProductType": 3}
    assert detect_edition(by_version).gvlk == "WX4NM-KYWYW-QJJR4-XV3QB-6VM33"
    by_result = {"operating_system_sku": 48, "build_number": 22631, "product_type": 1}
    assert detect_edition(by_result).edition == "Windows 11 Pro"


# --- keys ------------------------------------------------------------------------------------------


def test_find_by_key_and_is_gvlk() -> None:
    entry = find_by_key("  w269n-wfgwx-yvc9b-4j6c9-t83gx ")
    assert entry is not None
    assert entry.edition == "Windows 11 Pro"
    assert [e.product_family for e in catalog.entries_for_key("W269N-WFGWX-YVC9B-4J6C9-T83GX")] == [
        "Windows 11",
        "Windows 10",
    ]
    assert is_gvlk("WX4NM-KYWYW-QJJR4-XV3QB-6VM33")
    assert not is_gvlk("BBBBB-CCCCC-DDDDD-FFFFF-GGGGG")  # well-formed, not published
    assert not is_gvlk("not a key")
    community = find_by_key("CPWHC-NT2C7-VYW78-DHDB2-PG3GK")
    assert community is not None
    assert not community.listed_by_microsoft


def test_mask_key_shows_only_the_last_five() -> None:
    key = "W269N-WFGWX-YVC9B-4J6C9-T83GX"
    masked = mask_key(key)
    assert masked == "XXXXX-XXXXX-XXXXX-XXXXX-T83GX"
    for group in key.split("-")[:4]:
        assert group not in masked
    assert mask_key("bcdfg-hjkmp-qrtvw-xy234-6789b") == "XXXXX-XXXXX-XXXXX-XXXXX-6789B"
    assert mask_key("T83GX") == "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"  # never the whole value
    assert mask_key("") == mask_key(None) == "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"


def test_validate_key_format_normalizes() -> None:
    assert validate_key_format(" w269n-wfgwx-yvc9b-4j6c9-t83gx\n") == "W269N-WFGWX-YVC9B-4J6C9-T83GX"
    assert validate_key_format("W269N\u2014WFGWX\u2013YVC9B-4J6C9-T83GX") == "W269N-WFGWX-YVC9B-4J6C9-T83GX"


SECRET = "HRC7T-9MW4K-GBD2X-PQY6F-VJ83N"


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("HRC7T-9MW4K-GBD2X-PQY6F", "group"),
        ("HRC7T9MW4KGBD2XPQY6FVJ83N", "group"),
        ("HRC7T-9MW4K-GBD2X-PQY6F-VJ83NN", "length 5, 5, 5, 5, 6"),
        ("HRC7A-9MW4K-GBD2X-PQY6F-VJ83N", "character 5 of group 1"),
        ("HRC7T-9MW4K-GBD2X-PQY6F-VJ830", "character 5 of group 5"),
        ("", "empty"),
    ],
)
def test_validate_key_format_errors_never_echo_the_key(value: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        validate_key_format(value)
    message = str(info.value)
    hidden = value.upper()[:-5]  # everything but the last five characters
    for start in range(max(len(hidden) - 4, 0)):
        assert hidden[start : start + 5] not in message
    if len(value) > 5:
        assert f"'{value.upper()[-5:]}'" in message


def test_validate_key_format_short_values_are_not_echoed() -> None:
    with pytest.raises(ValueError, match="not 5 groups of 5") as info:
        validate_key_format("VJ83N")
    assert "VJ83N" not in str(info.value)
    with pytest.raises(ValueError, match="string"):
        validate_key_format(12345)
    assert validate_key_format(SECRET) == SECRET
