# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a Windows host's licensing state: OS identity, Windows products, KMS client and host.

Three WQL queries cover everything ``license_info`` reports; each reads only the
properties it needs. Products are filtered to Windows by ApplicationID so Office
(or any other application SPP licenses) never turns a value into a list.
"""

from __future__ import annotations

import datetime
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient

WINDOWS_APP_ID = "55c92734-d682-4d71-983e-d6ec3f16059f"
DEFAULT_KMS_PORT = 1688
# KeyManagementServiceCurrentCount is -1 on a machine that is not a KMS host; WMI types it uint32.
NOT_COUNTING = 0xFFFFFFFF

LICENSE_STATUS = {
    0: "Unlicensed",
    1: "Licensed",
    2: "OOBGrace",
    3: "OOTGrace",
    4: "NonGenuineGrace",
    5: "Notification",
    6: "ExtendedGrace",
}

# Thresholds a KMS host needs before it activates clients (KMS activation planning).
CLIENT_OS_THRESHOLD = 25
SERVER_OS_THRESHOLD = 5

OS_PROPERTIES = (
    "Caption",
    "Version",
    "BuildNumber",
    "OperatingSystemSKU",
    "ProductType",
    "OSArchitecture",
    "CSName",
    "LocalDateTime",
)

SERVICE_PROPERTIES = (
    "Version",
    "ClientMachineID",
    "KeyManagementServiceMachine",
    "KeyManagementServicePort",
    "KeyManagementServiceLookupDomain",
    "KeyManagementServiceHostCaching",
    "DiscoveredKeyManagementServiceMachineName",
    "DiscoveredKeyManagementServiceMachinePort",
    "DiscoveredKeyManagementServiceMachineIpAddress",
    "VLActivationInterval",
    "VLRenewalInterval",
    "RemainingWindowsReArmCount",
    "IsKeyManagementServiceMachine",
    "KeyManagementServiceCurrentCount",
    "RequiredClientCount",
    "KeyManagementServiceListeningPort",
    "KeyManagementServiceDnsPublishing",
    "KeyManagementServiceLowPriority",
    "KeyManagementServiceTotalRequests",
    "KeyManagementServiceFailedRequests",
    "KeyManagementServiceUnlicensedRequests",
    "KeyManagementServiceLicensedRequests",
    "KeyManagementServiceOOBGraceRequests",
    "KeyManagementServiceOOTGraceRequests",
    "KeyManagementServiceNonGenuineGraceRequests",
    "KeyManagementServiceNotificationRequests",
)

PRODUCT_PROPERTIES = (
    "ID",
    "Name",
    "Description",
    "LicenseFamily",
    "LicenseIsAddon",
    "LicenseStatus",
    "LicenseStatusReason",
    "GracePeriodRemaining",
    "PartialProductKey",
    "ProductKeyChannel",
    "KeyManagementServiceMachine",
    "KeyManagementServicePort",
    "KeyManagementServiceLookupDomain",
    "DiscoveredKeyManagementServiceMachineName",
    "DiscoveredKeyManagementServiceMachinePort",
    "DiscoveredKeyManagementServiceMachineIpAddress",
    "VLActivationInterval",
    "VLRenewalInterval",
    "IsKeyManagementServiceMachine",
    "RequiredClientCount",
)


def _select(properties: t.Iterable[str], cls: str, where: str = "") -> str:
    wql = f"SELECT {', '.join(properties)} FROM {cls}"
    return f"{wql} WHERE {where}" if where else wql


def _quote(value: str) -> str:
    """Quote a WQL string literal (IDs come from users: never let them end the literal)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def read_os(wmi: WmiClient) -> dict[str, t.Any]:
    rows = wmi.query(_select(OS_PROPERTIES, "Win32_OperatingSystem"))
    if not rows:
        return {}
    return rows[0]


def read_service(wmi: WmiClient, properties: t.Iterable[str] = SERVICE_PROPERTIES) -> dict[str, t.Any]:
    rows = wmi.query(_select(properties, "SoftwareLicensingService"))
    return rows[0] if rows else {}


def read_products(wmi: WmiClient, activation_id: str | None = None) -> list[dict[str, t.Any]]:
    """Windows products that have a key installed (or the one product asked for by ID)."""
    where = f"ApplicationID = {_quote(WINDOWS_APP_ID)}"
    if activation_id:
        where += f" AND ID = {_quote(activation_id)}"
    else:
        where += " AND PartialProductKey IS NOT NULL"
    return wmi.query(_select(PRODUCT_PROPERTIES, "SoftwareLicensingProduct", where))


def primary_product(products: list[dict[str, t.Any]]) -> dict[str, t.Any] | None:
    """The Windows product slmgr.vbs reports: a key installed and not an add-on."""
    for product in products:
        if product.get("PartialProductKey") and not product.get("LicenseIsAddon"):
            return product
    return products[0] if products else None


def _port(value: t.Any) -> int:
    # slmgr prints 1688 when the port property is 0 (never set).
    return int(value) if value else DEFAULT_KMS_PORT


def _expiry(now: datetime.datetime | None, minutes: int | None) -> str | None:
    if not now or not minutes:
        return None
    return (now + datetime.timedelta(minutes=minutes)).astimezone(datetime.timezone.utc).isoformat()


def describe_product(product: dict[str, t.Any], now: datetime.datetime | None) -> dict[str, t.Any]:
    status = product.get("LicenseStatus")
    reason = product.get("LicenseStatusReason")
    grace = product.get("GracePeriodRemaining")
    description = product.get("Description") or ""
    return {
        "id": product.get("ID"),
        "name": product.get("Name"),
        "description": description,
        "license_family": product.get("LicenseFamily"),
        "license_status": status,
        "license_status_name": LICENSE_STATUS.get(status, "Unknown") if status is not None else None,
        "license_status_reason": f"0x{reason:08X}" if isinstance(reason, int) else None,
        "product_key_channel": product.get("ProductKeyChannel"),
        "partial_product_key": product.get("PartialProductKey"),
        "is_kms_host_key": "VOLUME_KMS" in description and "VOLUME_KMSCLIENT" not in description,
        "grace_period_remaining_minutes": grace,
        "grace_period_expires": _expiry(now, grace),
        "kms_machine": product.get("KeyManagementServiceMachine") or None,
        "kms_port": product.get("KeyManagementServicePort") or None,
        "kms_lookup_domain": product.get("KeyManagementServiceLookupDomain") or None,
    }


def describe_kms_client(service: dict[str, t.Any], product: dict[str, t.Any] | None) -> dict[str, t.Any]:
    source = product or {}

    def pick(name: str) -> t.Any:
        # Per-product values override the global ones; the product reports what it will use.
        value = source.get(name)
        return value if value not in (None, "", 0) else service.get(name)

    return {
        "client_machine_id": service.get("ClientMachineID"),
        "registered_name": service.get("KeyManagementServiceMachine") or None,
        "registered_port": _port(service.get("KeyManagementServicePort")),
        "lookup_domain": service.get("KeyManagementServiceLookupDomain") or None,
        "host_caching": service.get("KeyManagementServiceHostCaching"),
        "discovered_name": pick("DiscoveredKeyManagementServiceMachineName") or None,
        "discovered_port": pick("DiscoveredKeyManagementServiceMachinePort") or None,
        "discovered_ip": pick("DiscoveredKeyManagementServiceMachineIpAddress") or None,
        "activation_interval": pick("VLActivationInterval"),
        "renewal_interval": pick("VLRenewalInterval"),
    }


def describe_kms_host(service: dict[str, t.Any], is_server_pool: bool | None = None) -> dict[str, t.Any] | None:
    if not service.get("IsKeyManagementServiceMachine"):
        return None
    count = service.get("KeyManagementServiceCurrentCount")
    counting = isinstance(count, int) and count != NOT_COUNTING
    return {
        "enabled": True,
        "current_count": count if counting else None,
        "required_count": service.get("RequiredClientCount"),
        "thresholds": {"client_os": CLIENT_OS_THRESHOLD, "server_os": SERVER_OS_THRESHOLD},
        "listening_port": _port(service.get("KeyManagementServiceListeningPort")),
        "dns_publishing": service.get("KeyManagementServiceDnsPublishing"),
        "low_priority": service.get("KeyManagementServiceLowPriority"),
        "requests": {
            key: service.get(f"KeyManagementService{prop}Requests")
            for key, prop in (
                ("total", "Total"),
                ("failed", "Failed"),
                ("unlicensed", "Unlicensed"),
                ("licensed", "Licensed"),
                ("oob_grace", "OOBGrace"),
                ("oot_grace", "OOTGrace"),
                ("non_genuine_grace", "NonGenuineGrace"),
                ("notification", "Notification"),
            )
        },
    }


def describe_os(os_info: dict[str, t.Any], product: dict[str, t.Any] | None) -> dict[str, t.Any]:
    return {
        "caption": os_info.get("Caption"),
        "version": os_info.get("Version"),
        "build_number": _int_or_none(os_info.get("BuildNumber")),
        "operating_system_sku": os_info.get("OperatingSystemSKU"),
        "product_type": os_info.get("ProductType"),
        "architecture": os_info.get("OSArchitecture"),
        "computer_name": os_info.get("CSName"),
        # EditionID equals the Windows product's LicenseFamily; neither is localized.
        "edition_id": (product or {}).get("LicenseFamily"),
    }


def _int_or_none(value: t.Any) -> int | None:
    # BuildNumber is a CIM string ("20348").
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
