# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Office volume products in SPP: which Office SKU is installed, and its GVLK from Microsoft's table.

On Windows 8 and later, Office 2013 and later licenses through the Software Protection service: its SKUs are
``SoftwareLicensingProduct`` instances under the Office ApplicationID, and ospp.vbs manages them with the same
classes and methods slmgr.vbs uses ("Tools to manage volume activation of Office"). A volume Office product's
KMS client SKU carries ``VOLUME_KMSCLIENT`` in its Description, as a Windows one does.

The SKU is told by its ``LicenseFamily``, which names the version and the product: ``Office16ProPlusVL_KMS_Client``
(Office 2016), ``Office19ProPlus2019VL_KMS_Client_AE``, ``Office21ProPlus2021VL_KMS_Client_AE``,
``Office24ProPlus2024VL_KMS_Client_AE``. Microsoft publishes no table of these names; they are the names Office's
volume licenses carry, and a name this module does not know fails with the name shown (pass the key explicitly).
The GVLKs are Microsoft's table "Generic Volume License Keys (GVLK) for Office" (``_office_gvlk_data``).
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils._office_gvlk_data import MICROSOFT_URL, ROWS
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure
from ansible_collections.winact.kms.plugins.plugin_utils._spp import OFFICE_APP_ID, PRODUCT_CLASS
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient, wql_select, wql_string

APPLICATIONS: t.Final = ("windows", "office")

# The year in the license family names the version; Office 2016's names carry none.
_VERSION_BY_YEAR: t.Final = {
    "": "Office 2016",
    "2019": "Office 2019",
    "2021": "Office LTSC 2021",
    "2024": "Office LTSC 2024",
}
# The product part of the license family -> Microsoft's row label in the GVLK table.
_PRODUCT_BY_CODE: t.Final = {
    "ProPlus": "Office Professional Plus",
    "Standard": "Office Standard",
    "ProjectPro": "Project Professional",
    "ProjectStd": "Project Standard",
    "VisioPro": "Visio Professional",
    "VisioStd": "Visio Standard",
    "Access": "Access",
    "Excel": "Excel",
    "Outlook": "Outlook",
    "PowerPoint": "PowerPoint",
    "Publisher": "Publisher",
    "SkypeForBusiness": "Skype for Business",
    "Word": "Word",
    "OneNote": "OneNote",
}
_FAMILY_RE: t.Final = re.compile(r"^Office(?P<major>\d\d)(?P<code>[A-Za-z]+?)(?P<year>20\d\d)?VL_KMS_Client(?:_AE)?$")
_MAJOR_BY_YEAR: t.Final = {"": "16", "2019": "19", "2021": "21", "2024": "24"}
_GVLK_BY_ROW: t.Final = {(row["version"], row["product"]): row["key"] for row in ROWS}
_GVLKS: t.Final = frozenset(row["key"] for row in ROWS)


@dataclasses.dataclass(frozen=True)
class OfficeSku:
    """An installed Office volume SKU, named as Microsoft's GVLK table names it."""

    version: str
    product: str
    gvlk: str | None  # None: Microsoft lists no GVLK for it (e.g. Publisher LTSC 2024)

    def as_result(self) -> dict[str, t.Any]:
        return {"version": self.version, "product": self.product}


def identify(license_family: str | None) -> OfficeSku | None:
    """The Office volume product a KMS client SKU's LicenseFamily names; None when it names none we know."""
    match = _FAMILY_RE.match(license_family or "")
    if match is None:
        return None
    year = match.group("year") or ""
    product = _PRODUCT_BY_CODE.get(match.group("code"))
    if product is None or year not in _VERSION_BY_YEAR or _MAJOR_BY_YEAR[year] != match.group("major"):
        return None
    version = _VERSION_BY_YEAR[year]
    return OfficeSku(version=version, product=product, gvlk=_GVLK_BY_ROW.get((version, product)))


def is_office_gvlk(key: str) -> bool:
    return key.strip().upper() in _GVLKS


def gvlk_installed(product: t.Mapping[str, t.Any]) -> bool:
    """The installed key is the published GVLK of this SKU (its last five characters match)."""
    sku = identify(product.get("LicenseFamily"))
    partial = str(product.get("PartialProductKey") or "").upper()
    return bool(sku and sku.gvlk and partial and sku.gvlk.endswith(partial))


def read_volume_products(wmi: WmiClient) -> list[dict[str, t.Any]]:
    """The Office KMS client (volume) SKUs SPP lists, with or without a key: one per installed volume product."""
    where = f"ApplicationID = {wql_string(OFFICE_APP_ID)}"
    rows = wmi.query(wql_select(lic.PRODUCT_PROPERTIES, PRODUCT_CLASS, where))
    return [row for row in rows if lic.is_kms_client_product(row)]


def select_product(wmi: WmiClient, activation_id: str | None = None) -> dict[str, t.Any]:
    """The installed Office volume SKU a task works on; with ``activation_id`` that one, which must be Office.

    Several installed volume products (Office and Visio, say) need ``activation_id`` to choose one.
    """
    products = read_volume_products(wmi)
    if activation_id is not None:
        chosen = [p for p in products if str(p.get("ID") or "").lower() == activation_id.lower()]
        if not chosen:
            raise ModuleFailure(
                f"activation_id: {activation_id} is not an Office volume (KMS client) product on this host; "
                f"installed: {_listing(products)}",
                option="activation_id",
            )
        return chosen[0]
    if not products:
        raise ModuleFailure(
            "application: office: no Office volume (KMS client) product on this host. Office 2013 and later "
            "license through the Software Protection service on Windows 8 / Server 2012 and later only; a retail "
            "or Microsoft 365 Apps installation has no volume SKU",
            option="application",
        )
    if len(products) > 1:
        raise ModuleFailure(
            f"application: office: {len(products)} Office volume products are installed ({_listing(products)}); "
            "choose one with activation_id",
            option="activation_id",
        )
    return products[0]


def sku_of(product: t.Mapping[str, t.Any]) -> OfficeSku:
    """The GVLK table's row of an installed Office SKU, or a failure naming what was found."""
    family = product.get("LicenseFamily")
    sku = identify(family)
    if sku is None:
        raise ModuleFailure(
            f"The Office product {product.get('ID')} (license family {family!r}) is not an Office 2016 to LTSC 2024 "
            f"volume product of Microsoft's GVLK table ({MICROSOFT_URL}); pass its key explicitly",
            option="key",
        )
    if sku.gvlk is None:
        raise ModuleFailure(
            f"Microsoft publishes no GVLK for {sku.product} ({sku.version}) ({MICROSOFT_URL}); pass its key explicitly",
            option="key",
        )
    return sku


def _listing(products: t.Iterable[t.Mapping[str, t.Any]]) -> str:
    return "; ".join(f"{p.get('LicenseFamily')} ({p.get('ID')})" for p in products) or "none"


def describe(product: t.Mapping[str, t.Any], now: t.Any = None) -> dict[str, t.Any]:
    """An Office product as license_info reports it: the common fields, plus its row of the GVLK table and
    whether that GVLK is the installed key."""
    sku = identify(product.get("LicenseFamily"))
    return {
        **lic.describe_product(product, now),
        "office": sku.as_result() if sku else None,
        "gvlk_installed": gvlk_installed(product),
    }
