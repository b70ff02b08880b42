"""Windows editions: EditionID + BuildNumber -> product family, SKU numbers, GVLK and CSVLK coverage.

Data: ``data/gvlk.yaml`` (its header names its sources; the keys are those of "KMS client activation
keys"), parsed once per process. Build numbers: Microsoft's Windows and Windows Server release
information pages (RTM build of each release). CSVLK coverage: "KMS activation planning".
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
import re
import typing as t
import uuid

import yaml

WINDOWS_APP_ID = "55c92734-d682-4d71-983e-d6ec3f16059f"  # slmgr.vbs WindowsAppId

# Deterministic IDs for the SKUs gvlk.yaml does not name (Retail, MAK, CSVLK).
_SKU_NAMESPACE = uuid.UUID("6f1d9f0e-3c1b-5b5e-9a55-77696e656d75")

_DATA_FILE = pathlib.Path(__file__).parent / "data" / "gvlk.yaml"

_KEY_RE = re.compile(r"^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$")


def normalize_key(key: str) -> str | None:
    """Upper-case a 5x5 product key; None when it is not of that shape (-> 0xC004F050)."""
    candidate = key.strip().upper()
    return candidate if _KEY_RE.match(candidate) else None


def sku_uuid(*parts: str) -> str:
    return str(uuid.uuid5(_SKU_NAMESPACE, "|".join(parts)))


@dataclasses.dataclass(frozen=True)
class GvlkRow:
    product_family: str
    edition: str
    gvlk: str
    edition_id: str
    operating_system_sku: int
    activation_id: str | None
    listed_by_microsoft: bool


@functools.cache
def gvlk_rows() -> tuple[GvlkRow, ...]:
    """Every gvlk.yaml row; Microsoft-listed rows first, then the community supplement."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with _DATA_FILE.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
    rows: list[GvlkRow] = []
    for section in ("gvlks", "supplementary_not_listed_by_microsoft"):
        for raw in data[section]:
            rows.append(
                GvlkRow(
                    product_family=str(raw["product_family"]),
                    edition=str(raw["edition"]),
                    gvlk=str(raw["gvlk"]).upper(),
                    edition_id=str(raw["edition_id"]),
                    operating_system_sku=int(raw["operating_system_sku"]),
                    activation_id=str(raw["activation_id"]).lower() if raw.get("activation_id") else None,
                    listed_by_microsoft=bool(raw["listed_by_microsoft"]),
                )
            )
    return tuple(rows)


@functools.cache
def _gvlk_by_key() -> dict[str, GvlkRow]:
    index: dict[str, GvlkRow] = {}
    for row in gvlk_rows():
        index.setdefault(row.gvlk, row)
    return index


def find_gvlk(key: str) -> GvlkRow | None:
    """The gvlk.yaml row of a public GVLK (normalized key), or None."""
    return _gvlk_by_key().get(key)


_AVMA_FILE = pathlib.Path(__file__).parent / "data" / "avma.yaml"


@functools.cache
def avma_keys() -> dict[str, tuple[str, int]]:
    """AVMA key -> (EditionID, build) for the guests of "Automatic virtual machine activation in Windows Server".

    Assumption: only the rows Microsoft lists are emulated; the community-sourced Windows Server 2025 keys are
    unknown keys here (0xC004F050).
    """
    with _AVMA_FILE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    found: dict[str, tuple[str, int]] = {}
    for raw in data["avma"]:
        found.setdefault(
            f"{raw['key']}|{raw['edition_id']}|{raw['build']}", (str(raw["edition_id"]), int(raw["build"]))
        )
    return found


def avma_fits(key: str, edition_id: str, build: int) -> bool | None:
    """None when the key is no AVMA key; else whether Microsoft lists it for this guest edition and build."""
    rows = [value for name, value in avma_keys().items() if name.split("|", 1)[0] == key]
    if not rows:
        return None
    return (edition_id, build) in rows


@functools.cache
def _sku_by_edition_id() -> dict[str, int]:
    return {row.edition_id: row.operating_system_sku for row in reversed(gvlk_rows())}


# --- build numbers (Windows / Windows Server release information) -------------------------------------

SAC_FAMILY = "Windows Server, versions 20H2, 2004, 1909, 1903, 1809"
_SERVER_FAMILY_BY_BUILD: dict[int, str] = {
    6001: "Windows Server 2008",
    6002: "Windows Server 2008",
    6003: "Windows Server 2008",
    7600: "Windows Server 2008 R2",
    7601: "Windows Server 2008 R2",
    9200: "Windows Server 2012",
    9600: "Windows Server 2012 R2",
    14393: "Windows Server 2016",
    16299: "Windows Server, version 1709",
    17134: "Windows Server, version 1803",
    17763: "Windows Server 2019",
    18362: SAC_FAMILY,
    18363: SAC_FAMILY,
    19041: SAC_FAMILY,
    19042: SAC_FAMILY,
    20348: "Windows Server 2022",
    25398: "Windows Server, version 23H2",
    26100: "Windows Server 2025",
}
# Windows 10 1809 and Server 2019 share 17763: the Semi-Annual Channel editions (*ACor) at 17763 are
# "version 1809" of the SAC row in gvlk.yaml.
_SAC_EDITION_IDS = frozenset({"ServerStandardACor", "ServerDatacenterACor"})

# LTSB/LTSC releases by build (release information): the build picks the LTSC GVLK row.
_LTSC_RELEASE_BY_BUILD = {10240: "2015", 14393: "2016", 17763: "2019", 19044: "2021", 26100: "2024"}
_LTSC_EDITION_IDS = frozenset({"EnterpriseS", "EnterpriseSN", "IoTEnterpriseS"})


_CLIENT_FAMILY_BY_BUILD: dict[int, str] = {
    **dict.fromkeys((6000, 6001, 6002), "Windows Vista"),
    **dict.fromkeys((7600, 7601), "Windows 7"),
    9200: "Windows 8",
    9600: "Windows 8.1",
    **dict.fromkeys(
        (10240, 10586, 14393, 15063, 16299, 17134, 17763, 18362, 18363, 19041, 19042, 19043, 19044, 19045),
        "Windows 10",
    ),
    **dict.fromkeys((22000, 22621, 22631, 26100, 26200), "Windows 11"),
}


def _client_family(build: int) -> str:
    family = _CLIENT_FAMILY_BY_BUILD.get(build)
    if family is None:
        known = ", ".join(str(b) for b in sorted(_CLIENT_FAMILY_BY_BUILD))
        raise ValueError(f"build {build} is not a known Windows client build ({known})")
    return family


def _nt_version(build: int) -> str:
    if build < 7600:
        return "6.0"
    if build < 9200:
        return "6.1"
    if build < 9600:
        return "6.2"
    if build < 10240:
        return "6.3"
    return "10.0"


def is_server_edition(edition_id: str) -> bool:
    # Assumption: Enterprise multi-session (EditionID ServerRdsh) is a client OS (ProductType 1) even
    # though its EditionID starts with "Server"; gvlk.yaml files it under Windows 10 / Windows 11.
    return edition_id.startswith("Server") and edition_id != "ServerRdsh"


# Display names of editions that have no gvlk.yaml row to borrow a label from.
_EDITION_LABELS = {
    "Core": "Home",
    "CoreN": "Home N",
    "CoreSingleLanguage": "Home Single Language",
    "CoreCountrySpecific": "Home China",
    "Professional": "Pro",
    "ProfessionalN": "Pro N",
    "Enterprise": "Enterprise",
    "EnterpriseN": "Enterprise N",
    "Education": "Education",
    "EducationN": "Education N",
    "EnterpriseS": "Enterprise LTSC",
    "EnterpriseSN": "Enterprise N LTSC",
    "IoTEnterpriseS": "IoT Enterprise LTSC",
    "ServerStandard": "Standard",
    "ServerDatacenter": "Datacenter",
    "ServerStandardACor": "Standard",
    "ServerDatacenterACor": "Datacenter",
    "ServerTurbine": "Datacenter: Azure Edition",
    "ServerSolution": "Essentials",
    "ServerAzureCor": "Azure Core",
    "ServerRdsh": "Enterprise multi-session",
}


def _family_display(family: str) -> str:
    return "Windows Server" if family.startswith("Windows Server, version") else family


def _build_hint_matches(label: str, build: int) -> bool:
    """Supplementary rows carry build ranges in their label: '(build 17763+)', '(builds up to 17134)'."""
    low = re.search(r"build (\d+)\+", label)
    if low and build < int(low.group(1)):
        return False
    high = re.search(r"builds up to (\d+)", label)
    return not (high and build > int(high.group(1)))


# --- CSVLK groups and coverage ("KMS activation planning") --------------------------------------------

SERVER_2008 = "Windows Server 2008"
SERVER_2008R2 = "Windows Server 2008 R2"
SERVER_2012 = "Windows Server 2012"
SERVER_2012R2 = "Windows Server 2012 R2"
SERVER_2016 = "Windows Server 2016"
SERVER_2019 = "Windows Server 2019"
SERVER_2022 = "Windows Server 2022"
SERVER_2025 = "Windows Server 2025"
SAC = "SAC"  # every Semi-Annual / Annual Channel server family


def _coverage_family(family: str) -> str:
    # Assumption: the Annual Channel (23H2) counts with the releases the coverage table lists as "SAC".
    return SAC if family.startswith("Windows Server, version") else family


def _client_class(edition_id: str) -> str | None:
    """Edition class used by the coverage table; None = not activatable by any listed CSVLK."""
    if edition_id in _LTSC_EDITION_IDS:
        # Assumption: IoT Enterprise LTSC is covered like Enterprise LTSC of the same release.
        return "LTSC"
    base = edition_id[:-1] if edition_id.endswith(("N", "E")) else edition_id
    return {
        "Enterprise": "Enterprise",
        "Professional": "Pro",
        "ProfessionalWorkstation": "ProWS",
        "Education": "Education",
    }.get(base)


@dataclasses.dataclass(frozen=True)
class CsvlkGroup:
    name: str
    tag: str  # Description marker suffix: VOLUME_KMS_<tag>
    host_families: frozenset[str]
    client_os: bool  # hosted on a client OS (then it activates client OSes only)
    servers: frozenset[str]
    clients: frozenset[tuple[str, str]]  # (family, class); class "LTSC:<year>" or "LTSC:*"

    def hostable_on(self, edition: Edition) -> bool:
        # Documented: Datacenter: Azure Edition cannot be a KMS host.
        return edition.product_family in self.host_families and edition.edition_id != "ServerTurbine"

    def covers(self, edition: Edition) -> bool:
        if edition.is_server:
            return _coverage_family(edition.product_family) in self.servers
        klass = _client_class(edition.edition_id)
        if klass is None:
            return False
        if klass == "LTSC":
            release = edition.ltsc_release or ""
            return (edition.product_family, f"LTSC:{release}") in self.clients or (
                edition.product_family,
                "LTSC:*",
            ) in self.clients
        return (edition.product_family, klass) in self.clients


def _clients(family: str, *classes: str) -> set[tuple[str, str]]:
    return {(family, klass) for klass in classes}


_GA = ("Enterprise", "Pro", "ProWS", "Education")
_OLD_CLIENTS = _clients("Windows 8.1", "Enterprise", "Pro") | _clients("Windows 7", "Enterprise", "Pro")
_SERVERS_UP_TO_2016 = {SERVER_2008, SERVER_2008R2, SERVER_2012, SERVER_2012R2, SERVER_2016, SAC}

CSVLK_GROUPS: dict[str, CsvlkGroup] = {
    group.name: group
    for group in (
        CsvlkGroup(
            name="Windows Server 2025",
            tag="WS25",
            host_families=frozenset({SERVER_2025, SERVER_2022, SERVER_2019}),
            client_os=False,
            servers=frozenset(_SERVERS_UP_TO_2016 | {SERVER_2019, SERVER_2022, SERVER_2025}),
            clients=frozenset(
                _clients("Windows 11", *_GA, "LTSC:2024") | _clients("Windows 10", *_GA, "LTSC:*") | _OLD_CLIENTS
            ),
        ),
        CsvlkGroup(
            name="Windows Server 2022",
            tag="WS22",
            host_families=frozenset({SERVER_2022, SERVER_2019, SERVER_2016}),
            client_os=False,
            servers=frozenset(_SERVERS_UP_TO_2016 | {SERVER_2019, SERVER_2022}),
            clients=frozenset(_clients("Windows 11", *_GA) | _clients("Windows 10", *_GA, "LTSC:*") | _OLD_CLIENTS),
        ),
        CsvlkGroup(
            name="Windows Server 2019",
            tag="WS19",
            host_families=frozenset({SERVER_2019, SERVER_2016, SERVER_2012R2}),
            client_os=False,
            servers=frozenset(_SERVERS_UP_TO_2016 | {SERVER_2019}),
            clients=frozenset(_clients("Windows 10", *_GA, "LTSC:*") | _OLD_CLIENTS),
        ),
        CsvlkGroup(
            name="Windows Server 2016",
            tag="WS16",
            host_families=frozenset({SERVER_2016, SERVER_2012R2, SERVER_2012}),
            client_os=False,
            servers=frozenset(_SERVERS_UP_TO_2016),
            clients=frozenset(_clients("Windows 10", *_GA, "LTSC:2015", "LTSC:2016") | _OLD_CLIENTS),
        ),
        CsvlkGroup(
            name="Windows 10",
            tag="W10",
            host_families=frozenset({"Windows 10", "Windows 8.1", "Windows 7"}),
            client_os=True,
            servers=frozenset(),
            # The table lists "Pro for Workstations" for this group without an N variant; ProWS covers both.
            clients=frozenset(_clients("Windows 10", "Enterprise", "Pro", "ProWS", "Education", "LTSC:2015"))
            | _OLD_CLIENTS,
        ),
    )
}


def csvlk_group(name: str) -> CsvlkGroup:
    try:
        return CSVLK_GROUPS[name]
    except KeyError:
        raise ValueError(f"unknown CSVLK group {name!r}; known: {', '.join(CSVLK_GROUPS)}") from None


# --- editions ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Edition:
    """What an EditionID on a given build looks like to WMI and to SPP."""

    edition_id: str
    build: int
    product_family: str
    is_server: bool
    version: str  # "10.0"
    operating_system_sku: int
    caption: str  # Win32_OperatingSystem.Caption
    gvlk: str | None
    kms_client_activation_id: str | None
    ltsc_release: str | None

    @property
    def product_type(self) -> int:
        # Win32_OperatingSystem.ProductType: 1 workstation, 3 server (Win32_OperatingSystem documentation).
        return 3 if self.is_server else 1

    @property
    def n_policy(self) -> int:
        """Minimum KMS count this OS needs ("KMS activation planning"): 25 for client OSes, 5 for server OSes."""
        return 5 if self.is_server else 25

    @property
    def full_version(self) -> str:
        return f"{self.version}.{self.build}"

    def hostable_groups(self) -> list[CsvlkGroup]:
        return [group for group in CSVLK_GROUPS.values() if group.hostable_on(self)]


def _family_matches(row_family: str, family: str) -> bool:
    return family in (part.strip() for part in row_family.split("/"))


def _match_row(edition_id: str, family: str, build: int, ltsc: str | None) -> GvlkRow | None:
    candidates = [
        row
        for row in gvlk_rows()
        if row.edition_id == edition_id
        and _family_matches(row.product_family, family)
        and _build_hint_matches(row.edition, build)
    ]
    if edition_id in _LTSC_EDITION_IDS:
        candidates = [row for row in candidates if ltsc is not None and re.search(rf"\b{ltsc}\b", row.edition)]
    listed = [row for row in candidates if row.listed_by_microsoft]
    chosen = listed or candidates
    return chosen[0] if chosen else None


def _label(row: GvlkRow | None, edition_id: str, family: str, is_server: bool) -> str:
    display = _family_display(family)
    if row is not None and row.edition.startswith("Windows") and (is_server or "Server" not in row.edition):
        return row.edition
    if row is not None and not row.edition.startswith("Windows"):
        bare = re.sub(r"\s*\(.*?\)", "", row.edition).strip()
        return f"{display} {bare}"
    # Assumption: the Windows 8 "Core" rows Microsoft lists under "Windows Server 2012" are Windows 8
    # Home-class client SKUs (see the gvlk.yaml notes); their caption is built from the edition label.
    return f"{display} {_EDITION_LABELS.get(edition_id, edition_id)}"


@functools.cache
def resolve_edition(edition_id: str, build: int) -> Edition:
    """Edition + BuildNumber -> Edition; ValueError for an unknown EditionID or build."""
    sku = _sku_by_edition_id().get(edition_id)
    if sku is None:
        known = ", ".join(sorted(_sku_by_edition_id()))
        raise ValueError(f"unknown edition {edition_id!r} (an EditionID from gvlk.yaml: {known})")
    server = is_server_edition(edition_id)
    if server:
        family = _SERVER_FAMILY_BY_BUILD.get(build)
        if family is None:
            known_builds = ", ".join(str(b) for b in sorted(_SERVER_FAMILY_BY_BUILD))
            raise ValueError(f"build {build} is not a known Windows Server build ({known_builds})")
        if edition_id in _SAC_EDITION_IDS and build == 17763:
            family = SAC_FAMILY
    else:
        family = _client_family(build)
    ltsc = _LTSC_RELEASE_BY_BUILD.get(build) if edition_id in _LTSC_EDITION_IDS else None
    row = _match_row(edition_id, family, build, ltsc)
    activation_id = None
    if row is not None:
        # gvlk.yaml has no activation ID for Server 1709; give that KMS-client SKU a stable one.
        activation_id = row.activation_id or sku_uuid(family, edition_id, "VOLUME_KMSCLIENT")
    return Edition(
        edition_id=edition_id,
        build=build,
        product_family=family,
        is_server=server,
        version=_nt_version(build),
        operating_system_sku=row.operating_system_sku if row is not None else sku,
        caption=f"Microsoft {_label(row, edition_id, family, server)}",
        gvlk=row.gvlk if row is not None else None,
        kms_client_activation_id=activation_id,
        ltsc_release=ltsc,
    )


def known_edition_ids() -> t.AbstractSet[str]:
    return _sku_by_edition_id().keys()
