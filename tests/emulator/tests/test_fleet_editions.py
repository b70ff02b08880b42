"""Edition + build -> product family, SKU numbers, GVLK, CSVLK coverage (gvlk.yaml, release information,
"KMS activation planning")."""

from __future__ import annotations

from pathlib import Path

import pytest
from winemu_lib import editions as ed

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "gvlk.yaml"
DATA = Path(ed.__file__).parent / "data" / "gvlk.yaml"


def test_data_file_is_the_reference_copy() -> None:
    if not REFERENCE.exists():
        pytest.skip("shared reference not present")
    assert DATA.read_bytes() == REFERENCE.read_bytes()


def test_rows_cover_the_microsoft_table() -> None:
    rows = ed.gvlk_rows()
    listed = [row for row in rows if row.listed_by_microsoft]
    assert len(listed) == 99
    assert len({row.gvlk for row in listed}) == 82  # the header's count of distinct keys


@pytest.mark.parametrize(
    ("edition_id", "build", "family", "sku", "product_type", "gvlk", "caption"),
    [
        (
            "ServerDatacenter",
            20348,
            "Windows Server 2022",
            8,
            3,
            "WX4NM-KYWYW-QJJR4-XV3QB-6VM33",
            "Microsoft Windows Server 2022 Datacenter",
        ),
        ("ServerStandard", 17763, "Windows Server 2019", 7, 3, "N69G4-B89J2-4G8F4-WWYCC-J464C", None),
        ("ServerStandard", 26100, "Windows Server 2025", 7, 3, "TVRH6-WHNXV-R9WG3-9XRFY-MY832", None),
        ("Professional", 22631, "Windows 11", 48, 1, "W269N-WFGWX-YVC9B-4J6C9-T83GX", "Microsoft Windows 11 Pro"),
        ("Professional", 19045, "Windows 10", 48, 1, "W269N-WFGWX-YVC9B-4J6C9-T83GX", "Microsoft Windows 10 Pro"),
        ("Professional", 9600, "Windows 8.1", 48, 1, "GCRJD-8NW9H-F2CDX-CCM8D-9D6T9", None),
        ("Enterprise", 7601, "Windows 7", 4, 1, "33PXH-7Y6KF-2VJC9-XBBR8-HVTHH", None),
        ("EnterpriseS", 19044, "Windows 10", 125, 1, "M7XTQ-FN8P6-TTKYV-9D4CC-J462D", None),
        ("EnterpriseS", 14393, "Windows 10", 125, 1, "DCPHK-NFMTC-H88MJ-PFHPY-QJ4BJ", None),
        ("EnterpriseS", 10240, "Windows 10", 125, 1, "WNMTR-4C88C-JK8YV-HQ7T2-76DF9", None),
        ("ServerDatacenterACor", 17763, ed.SAC_FAMILY, 145, 3, "6NMRW-2C8FM-D24W7-TQWMY-CWH2D", None),
        ("ServerStandardACor", 17134, "Windows Server, version 1803", 146, 3, "PTXN8-JFHJM-4WC78-MPCBR-9W4KR", None),
        ("ServerRdsh", 19045, "Windows 10", 175, 1, "CPWHC-NT2C7-VYW78-DHDB2-PG3GK", None),
    ],
)
def test_resolve_edition(
    edition_id: str, build: int, family: str, sku: int, product_type: int, gvlk: str, caption: str | None
) -> None:
    edition = ed.resolve_edition(edition_id, build)
    assert edition.product_family == family
    assert edition.operating_system_sku == sku
    assert edition.product_type == product_type
    assert edition.gvlk == gvlk
    row = ed.find_gvlk(gvlk)
    assert row is not None and row.edition_id == edition_id
    if caption is not None:
        assert edition.caption == caption


def test_kms_client_activation_ids_come_from_the_table() -> None:
    assert (
        ed.resolve_edition("ServerDatacenter", 20348).kms_client_activation_id == "ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03"
    )
    assert ed.resolve_edition("Professional", 22631).kms_client_activation_id == "2de67392-b7a7-462a-b1ca-108dd189f588"
    # No activation ID in gvlk.yaml for 1709: a stable generated one.
    first = ed.resolve_edition("ServerStandardACor", 16299).kms_client_activation_id
    assert first is not None and first == ed.resolve_edition("ServerStandardACor", 16299).kms_client_activation_id


def test_editions_without_a_gvlk() -> None:
    ltsc_off_release = ed.resolve_edition("EnterpriseS", 19045)  # 22H2 is not an LTSC build
    assert ltsc_off_release.gvlk is None and ltsc_off_release.kms_client_activation_id is None
    annual = ed.resolve_edition("ServerStandard", 25398)
    assert annual.gvlk is None and annual.operating_system_sku == 7 and annual.product_type == 3


def test_n_policy() -> None:
    assert ed.resolve_edition("ServerStandard", 20348).n_policy == 5
    assert ed.resolve_edition("Enterprise", 22631).n_policy == 25


@pytest.mark.parametrize(
    ("edition_id", "build", "error"),
    [("Nonsense", 20348, "unknown edition"), ("Professional", 20348, "not a known Windows client build")],
)
def test_resolve_errors(edition_id: str, build: int, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        ed.resolve_edition(edition_id, build)


def test_normalize_key() -> None:
    assert ed.normalize_key(" w269n-wfgwx-yvc9b-4j6c9-t83gx ") == "W269N-WFGWX-YVC9B-4J6C9-T83GX"
    for bad in ("W269N-WFGWX-YVC9B-4J6C9", "W269N—WFGWX—YVC9B—4J6C9—T83GX", "W269NWFGWXYVC9B4J6C9T83GX", ""):
        assert ed.normalize_key(bad) is None


@pytest.mark.parametrize(
    ("group", "edition_id", "build", "hostable"),
    [
        ("Windows Server 2025", "ServerDatacenter", 26100, True),
        ("Windows Server 2025", "ServerDatacenter", 17763, True),
        ("Windows Server 2025", "ServerDatacenter", 14393, False),
        ("Windows Server 2022", "ServerDatacenter", 14393, True),
        ("Windows Server 2022", "ServerDatacenter", 9600, False),
        ("Windows Server 2022", "ServerTurbine", 20348, False),  # Azure Edition cannot host KMS
        ("Windows Server 2019", "ServerStandard", 20348, False),
        ("Windows Server 2016", "ServerStandard", 9200, True),
        ("Windows 10", "Enterprise", 19045, True),
        ("Windows 10", "Enterprise", 22631, False),
        ("Windows 10", "ServerStandard", 14393, False),
    ],
)
def test_csvlk_hosting(group: str, edition_id: str, build: int, hostable: bool) -> None:
    assert ed.csvlk_group(group).hostable_on(ed.resolve_edition(edition_id, build)) is hostable


@pytest.mark.parametrize(
    ("group", "edition_id", "build", "covered"),
    [
        ("Windows Server 2022", "ServerStandard", 20348, True),
        ("Windows Server 2022", "ServerStandard", 26100, False),
        ("Windows Server 2022", "Professional", 22631, True),
        ("Windows Server 2022", "EnterpriseS", 26100, False),  # Windows 11 LTSC 2024 is not listed
        ("Windows Server 2025", "EnterpriseS", 26100, True),
        ("Windows Server 2019", "Enterprise", 22631, False),  # no Windows 11
        ("Windows Server 2019", "EnterpriseN", 19045, True),
        ("Windows Server 2019", "ServerStandardACor", 19042, True),  # SAC
        ("Windows Server 2016", "ServerStandard", 17763, False),
        ("Windows Server 2016", "EnterpriseS", 17763, False),  # only LTSB 2015/2016
        ("Windows Server 2016", "EnterpriseS", 14393, True),
        ("Windows 10", "ServerStandard", 14393, False),  # a client-OS host activates clients only
        ("Windows 10", "Professional", 19045, True),
        ("Windows 10", "Professional", 7601, True),
        ("Windows Server 2025", "Core", 22631, False),  # Home is not volume licensed
        ("Windows Server 2025", "ProfessionalEducation", 22631, False),  # not in the coverage list
    ],
)
def test_csvlk_coverage(group: str, edition_id: str, build: int, covered: bool) -> None:
    assert ed.csvlk_group(group).covers(ed.resolve_edition(edition_id, build)) is covered


AVMA_SOURCE = Path(__file__).resolve().parents[3] / "tools" / "data" / "avma.yaml"
AVMA_DATA = Path(ed.__file__).parent / "data" / "avma.yaml"


def test_avma_data_is_the_collections_sourced_copy() -> None:
    # The emulated guests accept exactly the AVMA keys the collection's catalog is generated from.
    assert AVMA_DATA.read_bytes() == AVMA_SOURCE.read_bytes(), "copy tools/data/avma.yaml to the emulator's data"
    assert ed.avma_keys(), "the emulator reads the table"
