"""Office volume products licensed through the Windows Software Protection Platform (Windows 8 and later).

On Windows 8 and later Office 2013 and later licenses through sppsvc: its SKUs are SoftwareLicensingProduct
instances under the Office ApplicationID, and ospp.vbs works on them with the same WMI classes slmgr.vbs uses
("Tools to manage volume activation of Office"; ospp.vbs ``setWmiClasses``). Windows 7 keeps Office in its own
service (osppsvc, ``OfficeSoftwareProtectionProduct``), which this emulator does not model.

GVLKs: ``data/office_gvlk.yaml``, a copy of Microsoft's table "Generic Volume License Keys (GVLK) for Office".
KMS host SKU Activation IDs: "Configure a KMS host computer for Office".
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
import uuid

import yaml

OFFICE_APP_ID = "0ff1ce15-a989-479d-af46-f275c6370663"  # ospp.vbs filters SoftwareLicensingProduct by it
MIN_BUILD = 9200  # Windows 8 / Server 2012: Office licenses through sppsvc from here on

_DATA_FILE = pathlib.Path(__file__).parent / "data" / "office_gvlk.yaml"
_SKU_NAMESPACE = uuid.UUID("0ff1ce15-5b1e-5c4e-9a55-6f6666696365")

# Office KMS host SKUs ("Configure a KMS host computer for Office": Activation IDs for slmgr /dlv /dti /atp).
HOST_ACTIVATION_IDS = {
    "Office LTSC 2024": "8d368fc1-9470-4be2-8d66-90e836cbb051",
    "Office LTSC 2021": "47f3b983-7c53-4d45-abc6-bcd91e2dd90a",
    "Office 2019": "70512334-47b4-44db-a233-be5ea33b914c",
    "Office 2016": "98ebfe73-2084-4c97-932c-c0cd1643bea7",
}

# Assumption: the license family names Office's volume licenses carry (Office16ProPlusVL_KMS_Client,
# Office21ProPlus2021VL_KMS_Client_AE, ...) are not in a Microsoft table; these follow the names Office
# installations show. (major version, year in the name, suffix) per version:
_VERSIONS = {
    "Office 2016": ("16", "", ""),
    "Office 2019": ("19", "2019", "_AE"),
    "Office LTSC 2021": ("21", "2021", "_AE"),
    "Office LTSC 2024": ("24", "2024", "_AE"),
}
_PRODUCT_CODES = {
    "Office Professional Plus": "ProPlus",
    "Office Standard": "Standard",
    "Project Professional": "ProjectPro",
    "Project Standard": "ProjectStd",
    "Visio Professional": "VisioPro",
    "Visio Standard": "VisioStd",
    "Access": "Access",
    "Excel": "Excel",
    "Outlook": "Outlook",
    "PowerPoint": "PowerPoint",
    "Publisher": "Publisher",
    "Skype for Business": "SkypeForBusiness",
    "Word": "Word",
    "OneNote": "OneNote",
}
# Assumption: only the Office 2016 Professional Plus KMS client SKU keeps the ID this emulator always used; the
# other SKU IDs are stable synthetic GUIDs (clients must detect SKUs by name, never by a hard-coded ID list).
_KNOWN_SKU_IDS = {("Office 2016", "Office Professional Plus"): "d450596f-894d-49e0-966a-fd39ed4c4c64"}


@dataclasses.dataclass(frozen=True)
class OfficeSku:
    """The KMS client SKU of one Office volume product (a row of Microsoft's GVLK table)."""

    version: str
    product: str
    gvlk: str
    sku_id: str
    license_family: str
    name: str
    description: str


@functools.cache
def office_skus() -> tuple[OfficeSku, ...]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with _DATA_FILE.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
    skus = []
    for raw in data["office_gvlks"]:
        version, product = str(raw["version"]), str(raw["product"])
        major, year, suffix = _VERSIONS[version]
        family = f"Office{major}{_PRODUCT_CODES[product]}{year}VL_KMS_Client{suffix}"
        sku_id = _KNOWN_SKU_IDS.get((version, product)) or str(uuid.uuid5(_SKU_NAMESPACE, family))
        skus.append(
            OfficeSku(
                version=version,
                product=product,
                gvlk=str(raw["key"]).upper(),
                sku_id=sku_id,
                license_family=family,
                # The shapes of Microsoft's /dlv example ("Office 16, ... edition", "Office 16, ... channel").
                name=f"Office {major}, {family} edition",
                description=f"Office {major}, VOLUME_KMSCLIENT channel",
            )
        )
    return tuple(skus)


def find_sku(version: str, product: str) -> OfficeSku | None:
    return next((s for s in office_skus() if (s.version, s.product) == (version, product)), None)


def sku_for_gvlk(key: str) -> OfficeSku | None:
    return next((s for s in office_skus() if s.gvlk == key), None)


def versions() -> tuple[str, ...]:
    return tuple(_VERSIONS)


def products() -> tuple[str, ...]:
    return tuple(_PRODUCT_CODES)


def host_name(version: str) -> tuple[str, str]:
    """(Name, Description) of an Office KMS host SKU; Microsoft's /dlv example shows the 2016 one."""
    major = _VERSIONS[version][0]
    # Assumption: later versions name their host SKU like the 2016 one, with their own major version.
    family = "OfficeKMSHostVL_KMS_Host" if major == "16" else f"Office{major}KMSHostVL_KMS_Host"
    return f"Office {major}, {family} edition", f"Office {major}, VOLUME_KMS channel"


@dataclasses.dataclass(frozen=True)
class OfficeInstall:
    """An Office volume product the fleet file installs: its SKU, the key (GVLK or none) and status."""

    sku: OfficeSku
    key: str | None
    status: int


DEFAULT_PRODUCT = ("Office 2016", "Office Professional Plus")
