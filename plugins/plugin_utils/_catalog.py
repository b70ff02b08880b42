# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GVLK catalog: the right KMS client setup key for an installed Windows edition.

The rows are Microsoft's published table (``_gvlk_data``, generated from
``tools/data/gvlk.yaml``). Selecting a row needs three facts about the host, because
several families share an OperatingSystemSKU (every Datacenter is SKU 8) and some
share a build (Server 2019 and Windows 10 1809 are both 17763):
``Win32_OperatingSystem.OperatingSystemSKU``, ``BuildNumber`` and ``ProductType``
(1 workstation, 2 domain controller, 3 server). ``SoftwareLicensingProduct.LicenseFamily``
is the cross-check. Caption / ProductName are never used: they are localized, and on
Windows 11 the registry ProductName still says "Windows 10".

Lookups are exact: a build that is not a known release of the edition's family, or an
edition that Microsoft publishes no GVLK for, raises ``CatalogError`` naming what was
detected and how to pass a key explicitly.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from ansible_collections.winact.kms.plugins.plugin_utils._avma_data import MICROSOFT_TITLE as AVMA_TITLE
from ansible_collections.winact.kms.plugins.plugin_utils._avma_data import MICROSOFT_URL as AVMA_URL
from ansible_collections.winact.kms.plugins.plugin_utils._avma_data import ROWS as AVMA_ROWS
from ansible_collections.winact.kms.plugins.plugin_utils._gvlk_data import (
    MICROSOFT_ROWS,
    MICROSOFT_URL,
    SUPPLEMENTARY_ROWS,
    GvlkRow,
)

PRODUCT_TYPE_WORKSTATION: Final = 1
PRODUCT_TYPE_DOMAIN_CONTROLLER: Final = 2
PRODUCT_TYPE_SERVER: Final = 3
PRODUCT_TYPES: Final = frozenset({1, 2, 3})
CLIENT: Final = frozenset({PRODUCT_TYPE_WORKSTATION})
SERVER: Final = frozenset({PRODUCT_TYPE_DOMAIN_CONTROLLER, PRODUCT_TYPE_SERVER})

EXPLICIT_KEY_HINT: Final = "To install a key anyway, pass it explicitly: `key: <your key>` on winact.kms.product_key."

# Characters a Windows product key can contain (no vowels except in 'N' position markers, no 0/1/5).
KEY_ALPHABET: Final = "BCDFGHJKMNPQRTVWXY2346789"
# Copy/paste often turns '-' into a typographic dash (Microsoft's cause of 0xC004F050, docs/error-codes.md).
_DASHES: Final = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")


class CatalogError(Exception):
    """No GVLK can be chosen for the detected or requested edition."""


@dataclasses.dataclass(frozen=True)
class CatalogEntry:
    """One row of the GVLK table."""

    product_family: str
    edition: str  # Microsoft's label, verbatim
    gvlk: str
    edition_id: str  # EditionID registry value / SoftwareLicensingProduct.LicenseFamily
    operating_system_sku: int  # Win32_OperatingSystem.OperatingSystemSKU (PRODUCT_* value)
    activation_id: str | None  # SoftwareLicensingProduct.ID of the KMS client SKU, when known
    servicing: str
    listed_by_microsoft: bool
    source: str
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class BuildSpan:
    """The builds and product types a catalog row applies to."""

    product_types: frozenset[int]
    builds: frozenset[int] = frozenset()  # exact builds; when empty, the first..last range applies
    first: int | None = None
    last: int | None = None

    def matches(self, build: int, product_type: int) -> bool:
        if product_type not in self.product_types:
            return False
        if self.builds:
            return build in self.builds
        return (self.first is None or build >= self.first) and (self.last is None or build <= self.last)

    def sample_builds(self) -> tuple[int, ...]:
        """Builds that fall inside the span (every exact build, or the range's ends)."""
        if self.builds:
            return tuple(sorted(self.builds))
        return tuple(b for b in (self.first, self.last) if b is not None)

    def describe(self) -> str:
        kind = "client" if self.product_types <= CLIENT else "server" if self.product_types <= SERVER else "any"
        types = ", ".join(str(p) for p in sorted(self.product_types))
        if self.builds:
            builds = ", ".join(str(b) for b in sorted(self.builds))
            where = f"build {builds}" if len(self.builds) == 1 else f"builds {builds}"
        elif self.last is None:
            where = f"builds {self.first} and later"
        else:
            where = f"builds {self.first} to {self.last}"
        return f"{where} ({kind}, ProductType {types})"


@dataclasses.dataclass(frozen=True)
class Release:
    """A Windows release as docs/reference/windows-builds.md lists it (for naming builds in messages)."""

    name: str
    product_types: frozenset[int]
    builds: tuple[int, ...]


# RTM build of each release; cumulative updates change only the UBR (docs/reference/windows-builds.md#build-numbers).
RELEASES: Final[tuple[Release, ...]] = (
    Release("Windows Vista", CLIENT, (6000, 6001, 6002)),
    Release("Windows 7", CLIENT, (7600, 7601)),
    Release("Windows 8", CLIENT, (9200,)),
    Release("Windows 8.1", CLIENT, (9600,)),
    Release("Windows 10 1507 (LTSB 2015)", CLIENT, (10240,)),
    Release("Windows 10 1511", CLIENT, (10586,)),
    Release("Windows 10 1607 (LTSB 2016)", CLIENT, (14393,)),
    Release("Windows 10 1703", CLIENT, (15063,)),
    Release("Windows 10 1709", CLIENT, (16299,)),
    Release("Windows 10 1803", CLIENT, (17134,)),
    Release("Windows 10 1809 (LTSC 2019)", CLIENT, (17763,)),
    Release("Windows 10 1903", CLIENT, (18362,)),
    Release("Windows 10 1909", CLIENT, (18363,)),
    Release("Windows 10 2004", CLIENT, (19041,)),
    Release("Windows 10 20H2", CLIENT, (19042,)),
    Release("Windows 10 21H1", CLIENT, (19043,)),
    Release("Windows 10 21H2 (LTSC 2021)", CLIENT, (19044,)),
    Release("Windows 10 22H2", CLIENT, (19045,)),
    Release("Windows 11 21H2", CLIENT, (22000,)),
    Release("Windows 11 22H2", CLIENT, (22621,)),
    Release("Windows 11 23H2", CLIENT, (22631,)),
    Release("Windows 11 24H2 (LTSC 2024)", CLIENT, (26100,)),
    Release("Windows 11 25H2", CLIENT, (26200,)),
    Release("Windows Server 2008", SERVER, (6001, 6002, 6003)),
    Release("Windows Server 2008 R2", SERVER, (7600, 7601)),
    Release("Windows Server 2012", SERVER, (9200,)),
    Release("Windows Server 2012 R2", SERVER, (9600,)),
    Release("Windows Server 2016", SERVER, (14393,)),
    Release("Windows Server, version 1709", SERVER, (16299,)),
    Release("Windows Server, version 1803", SERVER, (17134,)),
    Release("Windows Server 2019 / Windows Server, version 1809", SERVER, (17763,)),
    Release("Windows Server, version 1903", SERVER, (18362,)),
    Release("Windows Server, version 1909", SERVER, (18363,)),
    Release("Windows Server, version 2004", SERVER, (19041,)),
    Release("Windows Server, version 20H2", SERVER, (19042,)),
    Release("Windows Server 2022", SERVER, (20348,)),
    Release("Windows Server, version 23H2", SERVER, (25398,)),
    Release("Windows Server 2025", SERVER, (26100,)),
)

# Windows 11 = BuildNumber >= 22000 with ProductType 1 (docs/reference/windows-builds.md#how-a-row-is-chosen).
_WINDOWS_11_FIRST_BUILD: Final = 22000
_WINDOWS_10_BUILDS: Final = frozenset(
    {10240, 10586, 14393, 15063, 16299, 17134, 17763, 18362, 18363, 19041, 19042, 19043, 19044, 19045}
)

# Product family (as tools/data/gvlk.yaml names it) -> builds (docs/reference/windows-builds.md). GA client
# editions keep one key across builds, so Windows 11 is open-ended; every other family is a closed list of releases.
FAMILY_SPANS: Final[Mapping[str, BuildSpan]] = {
    "Windows Vista": BuildSpan(CLIENT, frozenset({6000, 6001, 6002})),
    "Windows 7": BuildSpan(CLIENT, frozenset({7600, 7601})),
    "Windows 8": BuildSpan(CLIENT, frozenset({9200})),
    "Windows 8.1": BuildSpan(CLIENT, frozenset({9600})),
    "Windows 10": BuildSpan(CLIENT, _WINDOWS_10_BUILDS),
    "Windows 11": BuildSpan(CLIENT, first=_WINDOWS_11_FIRST_BUILD),
    "Windows 10 / Windows 11": BuildSpan(CLIENT, first=min(_WINDOWS_10_BUILDS)),
    "Windows Server 2008": BuildSpan(SERVER, frozenset({6001, 6002, 6003})),
    "Windows Server 2008 R2": BuildSpan(SERVER, frozenset({7600, 7601})),
    "Windows Server 2012": BuildSpan(SERVER, frozenset({9200})),
    "Windows Server 2012 R2": BuildSpan(SERVER, frozenset({9600})),
    "Windows Server 2016": BuildSpan(SERVER, frozenset({14393})),
    "Windows Server, version 1709": BuildSpan(SERVER, frozenset({16299})),
    "Windows Server, version 1803": BuildSpan(SERVER, frozenset({17134})),
    "Windows Server 2019": BuildSpan(SERVER, frozenset({17763})),
    "Windows Server, versions 20H2, 2004, 1909, 1903, 1809": BuildSpan(
        SERVER, frozenset({17763, 18362, 18363, 19041, 19042})
    ),
    "Windows Server 2022": BuildSpan(SERVER, frozenset({20348})),
    "Windows Server 2025": BuildSpan(SERVER, frozenset({26100})),
}

# LTSB/LTSC editions have one GVLK per release; the build picks the release (docs/reference/windows-builds.md).
LTSC_RELEASE_BUILDS: Final[Mapping[int, int]] = {2015: 10240, 2016: 14393, 2019: 17763, 2021: 19044, 2024: 26100}
_LTSC_LABEL: Final = re.compile(r"\bLTS[BC] (\d{4})\b")

# Community rows whose label carries its own build limits ("build 17763+", "builds up to 17134").
# Assumption: Enterprise multi-session (EditionID ServerRdsh) is a client release that may report
# ProductType 3; no source says which, so both are accepted. Only its own EditionID matches it.
_ROW_SPANS: Final[Mapping[str, BuildSpan]] = {
    "CPWHC-NT2C7-VYW78-DHDB2-PG3GK": BuildSpan(frozenset({1, 3}), first=17763),
    "7NBT4-WGBQX-MP4H7-QXFF8-YP3KX": BuildSpan(frozenset({1, 3}), first=min(_WINDOWS_10_BUILDS), last=17134),
}

# Community rows never chosen automatically, even when unlisted rows are allowed.
NOT_SELECTABLE: Final[Mapping[str, str]] = {
    "TX9XD-98N7V-6WMQ6-BX7FG-H8Q99": (
        "Home editions are not volume-licensed: Microsoft publishes no GVLK for them; "
        "upgrade to Pro, Enterprise or Education to use KMS"
    ),
    "FCNV3-279Q9-BQB46-FTKXX-9HPRH": (
        "the community sources disagree on this key (py-kms gives another key for the same activation ID)"
    ),
}

# Server Core installs of Windows Server 2008 / 2008 R2 report *_SERVER_CORE SKUs (tools/data/gvlk.yaml notes,
# from winnt.h); GetProductInfo stops returning them from Server 2012 on. Core installs take the full
# edition's GVLK (Microsoft lists one key per edition).
_LEGACY_SERVER_CORE_BUILDS: Final = frozenset({6001, 6002, 6003, 7600, 7601})
_LEGACY_SERVER_CORE_SKUS: Final[Mapping[int, int]] = {12: 8, 13: 7, 14: 10, 29: 17, 39: 37, 40: 36, 41: 38}
# Assumption: Datacenter: Azure Edition Server Core reports 408 (tools/data/gvlk.yaml marks it [inferred]).
_AZURE_EDITION_CORE_SKUS: Final[Mapping[int, int]] = {408: 407}

# cloudbase-init keys the Windows 7 Professional GVLKs by LicenseFamily Business* (tools/data/gvlk.yaml notes):
# there LicenseFamily and EditionID are allowed to differ this way.
_LICENSE_FAMILY_ALIASES: Final[Mapping[tuple[str, str], frozenset[str]]] = {
    ("Windows 7", "Professional"): frozenset({"business"}),
    ("Windows 7", "ProfessionalN"): frozenset({"businessn"}),
    ("Windows 7", "ProfessionalE"): frozenset({"businesse"}),
}

# SKUs whose editions have no GVLK (apart from Windows 8's Core rows, matched first), named so a failure
# says why (PRODUCT_* values from winnt.h).
# Assumption: evaluation editions cannot take a GVLK until converted to a full edition (Windows
# reports 0xC004F069 otherwise; inferred, see 0xC004F069 in docs/error-codes.md).
_EVALUATION = "an evaluation edition, which cannot be KMS-activated until it is converted to a full edition"
_HOME = "a Home edition, which is not volume-licensed (Microsoft publishes no GVLK for it)"
NON_VOLUME_SKUS: Final[Mapping[int, tuple[str, str]]] = {
    72: ("PRODUCT_ENTERPRISE_EVALUATION", _EVALUATION),
    79: ("PRODUCT_STANDARD_EVALUATION_SERVER", _EVALUATION),
    80: ("PRODUCT_DATACENTER_EVALUATION_SERVER", _EVALUATION),
    84: ("PRODUCT_ENTERPRISE_N_EVALUATION", _EVALUATION),
    159: ("PRODUCT_DATACENTER_EVALUATION_SERVER_CORE", _EVALUATION),
    160: ("PRODUCT_STANDARD_EVALUATION_SERVER_CORE", _EVALUATION),
    98: ("PRODUCT_CORE_N", _HOME),
    99: ("PRODUCT_CORE_COUNTRYSPECIFIC", _HOME),
    100: ("PRODUCT_CORE_SINGLELANGUAGE", _HOME),
    101: ("PRODUCT_CORE", _HOME),
}


def _entry(row: GvlkRow) -> CatalogEntry:
    return CatalogEntry(
        product_family=row["product_family"],
        edition=row["edition"],
        gvlk=row["gvlk"],
        edition_id=row["edition_id"],
        operating_system_sku=row["operating_system_sku"],
        activation_id=row["activation_id"],
        servicing=row["servicing"],
        listed_by_microsoft=row["listed_by_microsoft"],
        source=row["source"],
        notes=row["notes"],
    )


def _span_for(entry: CatalogEntry) -> BuildSpan:
    if entry.gvlk in _ROW_SPANS:
        return _ROW_SPANS[entry.gvlk]
    family = FAMILY_SPANS.get(entry.product_family)
    if family is None:
        raise RuntimeError(f"no build span for product family {entry.product_family!r}; update FAMILY_SPANS")
    ltsc = _LTSC_LABEL.search(entry.edition)
    if ltsc:
        build = LTSC_RELEASE_BUILDS[int(ltsc.group(1))]
        if not family.matches(build, PRODUCT_TYPE_WORKSTATION):
            raise RuntimeError(f"{entry.edition!r}: LTSC build {build} is outside {entry.product_family}")
        return BuildSpan(family.product_types, frozenset({build}))
    return family


CATALOG: Final[tuple[CatalogEntry, ...]] = tuple(_entry(row) for row in MICROSOFT_ROWS + SUPPLEMENTARY_ROWS)
_SPANS: Final[dict[CatalogEntry, BuildSpan]] = {entry: _span_for(entry) for entry in CATALOG}
_BY_EDITION_ID: Final[dict[str, list[CatalogEntry]]] = {}
_BY_KEY: Final[dict[str, list[CatalogEntry]]] = {}
for _e in CATALOG:
    _BY_EDITION_ID.setdefault(_e.edition_id.lower(), []).append(_e)
    _BY_KEY.setdefault(_e.gvlk, []).append(_e)
del _e


# ---------------------------------------------------------------------------------------------
# Queries


def entries(*, include_unlisted: bool = True) -> tuple[CatalogEntry, ...]:
    """Every catalog row (Microsoft's first), optionally without the community rows."""
    return CATALOG if include_unlisted else tuple(e for e in CATALOG if e.listed_by_microsoft)


def span_of(entry: CatalogEntry) -> BuildSpan:
    """The builds and product types a catalog row applies to."""
    return _SPANS[entry]


def edition_ids() -> tuple[str, ...]:
    """Every EditionID the catalog knows, sorted."""
    return tuple(sorted({e.edition_id for e in CATALOG}))


def describe_build(build: int, product_type: int) -> str:
    """Name the Windows release for a build, e.g. 'Windows 11 23H2 (build 22631, ProductType 1)'."""
    names = [r.name for r in RELEASES if product_type in r.product_types and build in r.builds]
    if not names and product_type == PRODUCT_TYPE_WORKSTATION and build >= _WINDOWS_11_FIRST_BUILD:
        names = ["Windows 11"]
    if names:
        return f"{' / '.join(names)} (build {build}, ProductType {product_type})"
    kind = "client" if product_type == PRODUCT_TYPE_WORKSTATION else "server"
    others = [r.name for r in RELEASES if build in r.builds]
    known_as = f", the build number of {' / '.join(others)}" if others else ""
    return f"an unrecognised Windows {kind} release (build {build}{known_as}; ProductType {product_type})"


def selectable_reason(entry: CatalogEntry, *, include_unlisted: bool = False) -> str | None:
    """Why a row is not chosen automatically, or None when it may be."""
    if entry.gvlk in NOT_SELECTABLE:
        return NOT_SELECTABLE[entry.gvlk]
    if not entry.listed_by_microsoft and not include_unlisted:
        return (
            f"its key is not listed by Microsoft ({MICROSOFT_URL}); it comes from community tables "
            f"and is used only when unlisted keys are allowed explicitly"
        )
    return None


def lookup(edition_id: str, build: int, product_type: int, *, include_unlisted: bool = False) -> CatalogEntry:
    """The GVLK row for an EditionID on a build and ProductType.

    ``edition_id`` is matched exactly (ignoring case), e.g. 'ServerDatacenter', 'Professional',
    'EnterpriseS'. Community rows are considered only with ``include_unlisted``.
    """
    if not isinstance(edition_id, str) or not edition_id.strip():
        raise CatalogError(f"edition_id must be a non-empty EditionID string, got {edition_id!r}")
    build = _as_int(build, "build")
    product_type = _product_type(product_type)
    requested = edition_id.strip()
    rows = _BY_EDITION_ID.get(_canonical_edition_id(requested, build, product_type).lower())
    where = describe_build(build, product_type)
    if not rows:
        close = difflib.get_close_matches(requested, edition_ids(), n=3, cutoff=0.6)
        suggestion = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise CatalogError(
            f"Unknown EditionID {requested!r} on {where}: the GVLK catalog has no such edition.{suggestion} "
            f"EditionID is the registry value HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\EditionID. "
            f"{EXPLICIT_KEY_HINT}"
        )
    matching = [e for e in rows if _SPANS[e].matches(build, product_type)]
    if not matching:
        known = "; ".join(f"{e.edition} on {_SPANS[e].describe()}" for e in rows)
        raise CatalogError(
            f"No GVLK for EditionID {requested!r} on {where}. The catalog has this EditionID only for: {known}. "
            f"{EXPLICIT_KEY_HINT}"
        )
    return _choose(matching, f"EditionID {requested!r} on {where}", include_unlisted=include_unlisted)


def detect_edition(
    os_info: Mapping[str, Any], license_family: str | None = None, *, include_unlisted: bool = False
) -> CatalogEntry:
    """The GVLK row for a host, from its Win32_OperatingSystem properties.

    ``os_info`` needs OperatingSystemSKU, BuildNumber and ProductType (WMI names, or the
    snake_case names used in winact.kms results); Version is used only when BuildNumber is absent.
    ``license_family`` is SoftwareLicensingProduct.LicenseFamily of the Windows product; when given
    it must name the same edition as the SKU.
    """
    sku = _as_int(_os_value(os_info, "OperatingSystemSKU", "operating_system_sku"), "OperatingSystemSKU")
    product_type = _product_type(_os_value(os_info, "ProductType", "product_type"))
    build_value = _os_value(os_info, "BuildNumber", "build_number", required=False)
    if build_value is None:
        version = _os_value(os_info, "Version", "version", required=False)
        build_value = str(version).rsplit(".", 1)[-1] if version is not None else None
        if build_value is None:
            raise CatalogError("os_info has neither BuildNumber nor Version: cannot tell which Windows release it is")
    build = _as_int(build_value, "BuildNumber")

    effective_sku = _effective_sku(sku, build, product_type)
    family_text = f", LicenseFamily {license_family!r}" if license_family else ""
    detected = f"OperatingSystemSKU {_sku_label(sku)} on {describe_build(build, product_type)}{family_text}"

    matching = [
        e for e in CATALOG if e.operating_system_sku == effective_sku and _SPANS[e].matches(build, product_type)
    ]
    if not matching:
        raise CatalogError(f"No GVLK for the detected edition: {detected}. {_no_match_reason(sku)} {EXPLICIT_KEY_HINT}")
    entry = _choose(matching, detected, include_unlisted=include_unlisted)
    if license_family and not _same_license_family(entry, license_family, aliased=effective_sku != sku):
        raise CatalogError(
            f"Edition mismatch: {detected}. The SKU is {entry.edition} (EditionID {entry.edition_id!r}), but the "
            f"installed Windows license is LicenseFamily {license_family!r}, so no GVLK is chosen automatically. "
            f"Check which edition is really installed (an edition change may be pending a restart). {EXPLICIT_KEY_HINT}"
        )
    return entry


def avma_key(edition_id: str, build: int) -> str:
    """Microsoft's AVMA key for a guest edition and build ("Automatic virtual machine activation in Windows Server").

    Community-sourced rows (Windows Server 2025) are never picked: the error names them so a user who has
    checked Microsoft's page can pass the key explicitly.
    """
    rows = [r for r in AVMA_ROWS if r["edition_id"].lower() == edition_id.lower() and r["build"] == build]
    listed = [r for r in rows if r["listed_by_microsoft"]]
    if listed:
        return listed[0]["key"]
    where = f"EditionID {edition_id!r}, build {build}"
    if rows:
        raise CatalogError(
            f"No AVMA key from Microsoft's table ({AVMA_TITLE}, {AVMA_URL}) for {where}: only a community source "
            f"lists one ({rows[0]['guest']} {rows[0]['edition']}), so none is picked. Check Microsoft's page and "
            "pass the key explicitly in `key`."
        )
    raise CatalogError(
        f"No AVMA key for {where}: Microsoft publishes AVMA keys only for Windows Server 2012 R2 and later "
        f"Datacenter, Standard and Essentials guests ({AVMA_URL})."
    )


def is_avma_key(key: str) -> bool:
    """True when the key is in the AVMA table (Microsoft's or a community row)."""
    try:
        normalized = validate_key_format(key)
    except ValueError:
        return False
    return any(row["key"] == normalized for row in AVMA_ROWS)


def find_by_key(key: str) -> CatalogEntry | None:
    """The catalog row of a public GVLK (Microsoft's rows first), or None when it is not one."""
    found = entries_for_key(key)
    return found[0] if found else None


def entries_for_key(key: str) -> tuple[CatalogEntry, ...]:
    """Every catalog row that uses this key (e.g. Windows 11 Pro and Windows 10 Pro share one)."""
    try:
        normalized = validate_key_format(key)
    except ValueError:
        return ()
    return tuple(_BY_KEY.get(normalized, ()))


def is_gvlk(key: str) -> bool:
    """True when the key is a published KMS client setup key (Microsoft's or a community row)."""
    return find_by_key(key) is not None


# ---------------------------------------------------------------------------------------------
# Product key handling (keys other than GVLKs are secrets: never echo them)


def validate_key_format(key: object) -> str:
    """Return the key upper-cased with '-' separators, or raise ValueError.

    A product key is 5 groups of 5 characters from KEY_ALPHABET. Typographic dashes are
    accepted as separators. Error messages never contain the key: at most its last five
    characters, and only when it is longer than that.
    """
    if not isinstance(key, str):
        raise ValueError(f"A product key must be a string, not {type(key).__name__}.")
    normalized = key.strip().translate(_DASHES).upper()
    tail = f" (the value ending in '{normalized[-5:]}')" if len(normalized) > 5 else ""
    expected = "5 groups of 5 characters separated by '-' (XXXXX-XXXXX-XXXXX-XXXXX-XXXXX)"
    if not normalized:
        raise ValueError(f"The product key is empty; expected {expected}.")
    groups = normalized.split("-")
    if len(groups) != 5 or any(len(g) != 5 for g in groups):
        shape = ", ".join(str(len(g)) for g in groups)
        raise ValueError(f"The product key{tail} is not {expected}: it has {len(groups)} group(s) of length {shape}.")
    bad = [
        f"character {pos + 1} of group {index + 1}"
        for index, group in enumerate(groups)
        for pos, char in enumerate(group)
        if char not in KEY_ALPHABET
    ]
    if bad:
        raise ValueError(
            f"The product key{tail} has characters that product keys never use ({', '.join(bad)}). "
            f"Product keys use only {KEY_ALPHABET}: no A, E, I, L, O, S, U, Z and no 0, 1, 5."
        )
    return normalized


# ---------------------------------------------------------------------------------------------
# Helpers


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise CatalogError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise CatalogError(f"{name} must be an integer, got {value!r}")


def _product_type(value: Any) -> int:
    product_type = _as_int(value, "ProductType")
    if product_type not in PRODUCT_TYPES:
        raise CatalogError(
            f"ProductType must be 1 (workstation), 2 (domain controller) or 3 (server), got {product_type}"
        )
    return product_type


def _os_value(os_info: Mapping[str, Any], wmi_name: str, result_name: str, *, required: bool = True) -> Any:
    if not isinstance(os_info, Mapping):
        raise CatalogError(
            f"os_info must be a mapping of Win32_OperatingSystem properties, got {type(os_info).__name__}"
        )
    for name in (wmi_name, result_name):
        if os_info.get(name) is not None:
            return os_info[name]
    if required:
        raise CatalogError(f"os_info is missing {wmi_name} (Win32_OperatingSystem.{wmi_name})")
    return None


def _canonical_edition_id(edition_id: str, build: int, product_type: int) -> str:
    # Assumption: Server Core of 2008 / 2008 R2 reports EditionID <edition>Core (tools/data/gvlk.yaml notes name
    # ServerWebCore, ServerStandardCore, ServerEnterpriseCore, ServerDatacenterCore); same key as the full edition.
    if product_type in SERVER and build in _LEGACY_SERVER_CORE_BUILDS and edition_id.lower().endswith("core"):
        base = edition_id[: -len("core")]
        if base.lower() in _BY_EDITION_ID:
            return base
    return edition_id


def _effective_sku(sku: int, build: int, product_type: int) -> int:
    if product_type in SERVER and build in _LEGACY_SERVER_CORE_BUILDS and sku in _LEGACY_SERVER_CORE_SKUS:
        return _LEGACY_SERVER_CORE_SKUS[sku]
    if product_type in SERVER and sku in _AZURE_EDITION_CORE_SKUS:
        return _AZURE_EDITION_CORE_SKUS[sku]
    return sku


def _sku_label(sku: int) -> str:
    if sku in NON_VOLUME_SKUS:
        return f"{sku} ({NON_VOLUME_SKUS[sku][0]})"
    names = sorted({e.edition_id for e in CATALOG if e.operating_system_sku == sku})
    return f"{sku} ({'/'.join(names)})" if names else str(sku)


def _no_match_reason(sku: int) -> str:
    if sku in NON_VOLUME_SKUS:
        return f"This is {NON_VOLUME_SKUS[sku][1]}."
    others = sorted({f"{e.product_family}: {e.edition}" for e in CATALOG if e.operating_system_sku == sku})
    if others:
        return f"Microsoft's table has this SKU only for other releases ({'; '.join(others)})."
    return "Microsoft's table has no GVLK for this SKU."


def _choose(matching: Iterable[CatalogEntry], what: str, *, include_unlisted: bool) -> CatalogEntry:
    candidates = list(matching)
    usable = [e for e in candidates if selectable_reason(e, include_unlisted=include_unlisted) is None]
    if not usable:
        reasons = "; ".join(
            f"{e.edition} ({e.product_family}): {selectable_reason(e, include_unlisted=include_unlisted)}"
            for e in candidates
        )
        raise CatalogError(f"No usable GVLK for {what}: {reasons}. {EXPLICIT_KEY_HINT}")
    if len(usable) > 1:
        names = "; ".join(f"{e.edition} ({e.product_family})" for e in usable)
        raise CatalogError(f"Ambiguous GVLK for {what}: {names}. {EXPLICIT_KEY_HINT}")
    return usable[0]


def _same_license_family(entry: CatalogEntry, license_family: str, *, aliased: bool) -> bool:
    family = license_family.strip().lower()
    edition_id = entry.edition_id.lower()
    if family == edition_id or family in _LICENSE_FAMILY_ALIASES.get((entry.product_family, entry.edition_id), ()):
        return True
    # A legacy Server Core SKU was mapped to its full edition: accept the Core EditionID too.
    return aliased and family == edition_id + "core"
