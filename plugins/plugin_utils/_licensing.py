# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a Windows host's licensing state and describe it: OS identity, products, KMS client and host.

Three WQL queries (and a Get of sppsvc) cover everything ``license_info`` reports; each reads only the
properties it needs. Products are filtered to Windows by ApplicationID so Office
(or any other application SPP licenses) never turns a value into a list. The KMS
events live in ``_events``; failures are explained by ``_explain``.
"""

from __future__ import annotations

import datetime
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._errors import LICENSE_STATUS_NAMES
from ansible_collections.winact.kms.plugins.plugin_utils._explain import invoke_explained
from ansible_collections.winact.kms.plugins.plugin_utils._results import hresult_hex
from ansible_collections.winact.kms.plugins.plugin_utils._spp import (
    DEFAULT_KMS_PORT,
    OFFICE_APP_ID,
    PRODUCT_CLASS,
    SERVICE_CLASS,
    WINDOWS_APP_ID,
)
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient, wql_select, wql_string

# KeyManagementServiceCurrentCount is -1 on a machine that is not a KMS host; WMI types it uint32.
NOT_COUNTING = 0xFFFFFFFF

LICENSED = 1

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
    # What `slmgr /dlv` prints that an image pipeline decides on ("Slmgr.vbs options", /dlv).
    "RemainingAppReArmCount",
    "RemainingSkuReArmCount",
    "TrustedTime",
    "EvaluationEndDate",
    "VLActivationTypeEnabled",
    "VLActivationType",
    # AVMA guest ("Automatic virtual machine activation in Windows Server"; slmgr /dlv prints them).
    "IAID",
    "AutomaticVMActivationHostMachineName",
    "AutomaticVMActivationLastActivationTime",
    "AutomaticVMActivationHostDigitalPid2",
    # The activation object of Active Directory-based activation (slmgr /dli "AD Activation client information").
    "ADActivationObjectName",
    "ADActivationObjectDN",
    "ADActivationCsvlkPid",
    "ADActivationCsvlkSkuId",
)

# VLActivationTypeEnabled: "1=Active Directory, 2=KMS, 3=Token. If blank or 0, all activation types are
# configured" ("WMI Properties and Methods for Volume Activation"); names as `slmgr /dlv` prints them.
ACTIVATION_TYPES = {0: "All", 1: "AD", 2: "KMS", 3: "Token"}
# A FILETIME of 0 (1601-01-01) means "not set": slmgr /dlv prints Trusted time and Evaluation End Date only
# when the value is not 0.
FILETIME_EPOCH_YEAR = 1601


def read_os(wmi: WmiClient) -> dict[str, t.Any]:
    rows = wmi.query(wql_select(OS_PROPERTIES, "Win32_OperatingSystem"))
    if not rows:
        return {}
    return rows[0]


def read_licensing_service(wmi: WmiClient, properties: t.Iterable[str] = SERVICE_PROPERTIES) -> dict[str, t.Any]:
    rows = wmi.query(wql_select(properties, SERVICE_CLASS))
    return rows[0] if rows else {}


def read_products(wmi: WmiClient) -> list[dict[str, t.Any]]:
    """Windows products that have a key installed."""
    where = f"ApplicationID = {wql_string(WINDOWS_APP_ID)} AND PartialProductKey IS NOT NULL"
    return wmi.query(wql_select(PRODUCT_PROPERTIES, PRODUCT_CLASS, where))


def read_office_products(wmi: WmiClient) -> list[dict[str, t.Any]]:
    """Office products with a key installed: on Windows 8 and later Office 2013+ licenses through SPP under the
    Office ApplicationID, as ospp.vbs filters them ("Tools to manage volume activation of Office")."""
    where = f"ApplicationID = {wql_string(OFFICE_APP_ID)} AND PartialProductKey IS NOT NULL"
    return wmi.query(wql_select(PRODUCT_PROPERTIES, PRODUCT_CLASS, where))


def read_license_family(wmi: WmiClient) -> str | None:
    """The edition's LicenseFamily from any Windows product, for a machine with no key installed.

    Every Windows product SPP lists belongs to the installed edition, keyed or not.
    """
    where = f"ApplicationID = {wql_string(WINDOWS_APP_ID)} AND LicenseFamily IS NOT NULL"
    for row in wmi.query(wql_select(("LicenseFamily",), PRODUCT_CLASS, where)):
        if row.get("LicenseFamily"):
            return str(row["LicenseFamily"])
    return None


def read_product(wmi: WmiClient, activation_id: str) -> dict[str, t.Any] | None:
    """The product with this Activation ID, of any application (Windows, Office, ...); None when absent."""
    rows = wmi.query(wql_select(PRODUCT_PROPERTIES, PRODUCT_CLASS, f"ID = {wql_string(activation_id)}"))
    return rows[0] if rows else None


def read_keyed_products(wmi: WmiClient) -> list[dict[str, t.Any]]:
    """Every product with a key installed, of any application (what slmgr.vbs scans after /ipk and /upk)."""
    where = "PartialProductKey IS NOT NULL"
    return wmi.query(wql_select(("ID", "Description", "PartialProductKey"), PRODUCT_CLASS, where))


def is_kms_host_product(product: t.Mapping[str, t.Any]) -> bool:
    """A KMS host key (CSVLK) is installed: slmgr.vbs tests the Description markers (VOLUME_KMS, not KMSCLIENT)."""
    description = str(product.get("Description") or "")
    return "VOLUME_KMS" in description and "VOLUME_KMSCLIENT" not in description


def is_kms_client_product(product: t.Mapping[str, t.Any]) -> bool:
    """A GVLK is installed: the product activates against a KMS host."""
    return "VOLUME_KMSCLIENT" in str(product.get("Description") or "")


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
    return (now + datetime.timedelta(minutes=minutes)).astimezone(datetime.UTC).isoformat()


def license_status_name(status: t.Any) -> str | None:
    """LicenseStatus as a name (Licensed, OOBGrace, ...); None when the host reported none."""
    if not isinstance(status, int) or isinstance(status, bool):
        return None
    return LICENSE_STATUS_NAMES.get(status, "Unknown")


def describe_product(product: t.Mapping[str, t.Any], now: datetime.datetime | None = None) -> dict[str, t.Any]:
    """One product as every module reports it; ``now`` (the host's clock) dates the grace period's end."""
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
        "license_status_name": license_status_name(status),
        "license_status_reason": hresult_hex(reason) if isinstance(reason, int) else None,
        "product_key_channel": product.get("ProductKeyChannel"),
        "partial_product_key": product.get("PartialProductKey"),
        "is_kms_host_key": is_kms_host_product(product),
        "grace_period_remaining_minutes": grace,
        "grace_period_expires": _expiry(now, grace),
        "kms_machine": product.get("KeyManagementServiceMachine") or None,
        "kms_port": product.get("KeyManagementServicePort") or None,
        "kms_lookup_domain": product.get("KeyManagementServiceLookupDomain") or None,
        "remaining_sku_rearm_count": product.get("RemainingSkuReArmCount"),
        "remaining_app_rearm_count": product.get("RemainingAppReArmCount"),
        "trusted_time": _filetime(product.get("TrustedTime")),
        "evaluation_end_date": _filetime(product.get("EvaluationEndDate")),
        "activation_type_configured": activation_type_name(product.get("VLActivationTypeEnabled")),
        # VLActivationType: "the activation type used for the last successful client activation ... If blank,
        # the client was never activated" ("WMI Properties and Methods for Volume Activation").
        "activation_type_used": _activation_type_used(product.get("VLActivationType")),
        "avma": describe_avma(product),
        "ad_activation": describe_ad_activation(product),
    }


def describe_ad_activation(product: t.Mapping[str, t.Any]) -> dict[str, t.Any] | None:
    """The activation object slmgr /dli prints when the last activation was AD-based (VLActivationType 1)."""
    if product.get("VLActivationType") != 1:
        return None
    return {
        "object_name": product.get("ADActivationObjectName") or None,
        "object_dn": product.get("ADActivationObjectDN") or None,
        "extended_pid": product.get("ADActivationCsvlkPid") or None,
        "activation_id": product.get("ADActivationCsvlkSkuId") or None,
    }


def describe_avma(product: t.Mapping[str, t.Any]) -> dict[str, t.Any] | None:
    """The AVMA host fields slmgr /dlv prints for an AVMA product (Description VIRTUAL_MACHINE_ACTIVATION)."""
    if "VIRTUAL_MACHINE_ACTIVATION" not in str(product.get("Description") or ""):
        return None
    when = product.get("AutomaticVMActivationLastActivationTime")
    # A time starting with 1601 (FILETIME 0) means "not set", as activation-status tools read it.
    when_text = str(when) if when and not str(when).startswith(str(FILETIME_EPOCH_YEAR)) else None
    return {
        "guest_iaid": product.get("IAID") or None,
        "host_machine_name": product.get("AutomaticVMActivationHostMachineName") or None,
        "last_activation_time": when_text,
        "host_digital_pid2": product.get("AutomaticVMActivationHostDigitalPid2") or None,
    }


def _activation_type_used(value: t.Any) -> str | None:
    return ACTIVATION_TYPES[value] if value in (1, 2, 3) else None


def activation_type_name(value: t.Any) -> str:
    """VLActivationTypeEnabled as `slmgr /dlv` names it: blank, 0 or an unknown value means All."""
    return ACTIVATION_TYPES.get(value, "All") if isinstance(value, int) else "All"


def _filetime(value: t.Any) -> str | None:
    if not isinstance(value, datetime.datetime) or value.year <= FILETIME_EPOCH_YEAR:
        return None
    return value.astimezone(datetime.UTC).isoformat() if value.tzinfo else value.isoformat()


def _registered_port(service: dict[str, t.Any], product: dict[str, t.Any]) -> t.Any:
    """Windows 7's service has no KeyManagementServicePort (None here); its slmgr /dli reads the product's."""
    port = service.get("KeyManagementServicePort")
    return product.get("KeyManagementServicePort") if port is None else port


def describe_kms_client(service: dict[str, t.Any], product: dict[str, t.Any] | None) -> dict[str, t.Any]:
    source = product or {}

    def pick(name: str) -> t.Any:
        # Per-product values override the global ones; the product reports what it will use.
        value = source.get(name)
        return value if value not in (None, "", 0) else service.get(name)

    return {
        "client_machine_id": service.get("ClientMachineID"),
        "registered_name": service.get("KeyManagementServiceMachine") or None,
        "registered_port": _port(_registered_port(service, source)),
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
    raw = service.get("KeyManagementServiceCurrentCount")
    count = raw if isinstance(raw, int) and raw != NOT_COUNTING else None
    return {
        "enabled": True,
        "current_count": count,
        "required_count": service.get("RequiredClientCount"),
        "thresholds": {"client_os": CLIENT_OS_THRESHOLD, "server_os": SERVER_OS_THRESHOLD},
        "activates_server_os": count is not None and count >= SERVER_OS_THRESHOLD,
        "activates_client_os": count is not None and count >= CLIENT_OS_THRESHOLD,
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


def describe_os(
    os_info: t.Mapping[str, t.Any], product: t.Mapping[str, t.Any] | None, license_family: str | None = None
) -> dict[str, t.Any]:
    return {
        "caption": os_info.get("Caption"),
        "version": os_info.get("Version"),
        "build_number": _int_or_none(os_info.get("BuildNumber")),
        "operating_system_sku": os_info.get("OperatingSystemSKU"),
        "product_type": os_info.get("ProductType"),
        "architecture": os_info.get("OSArchitecture"),
        "computer_name": os_info.get("CSName"),
        # EditionID equals the Windows product's LicenseFamily; neither is localized.
        "edition_id": (product or {}).get("LicenseFamily") or license_family,
    }


def _int_or_none(value: t.Any) -> int | None:
    # BuildNumber is a CIM string ("20348").
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# KMS threshold


def kms_count_warning(host: t.Mapping[str, t.Any] | None) -> str | None:
    """What a KMS host's current count means when it is below a threshold; None when it is not.

    A KMS host activates Windows Server (and volume Office) from a count of 5 and Windows
    client editions from 25; the count is the distinct machines (CMIDs) that asked in the
    last 30 days ("Key Management Services (KMS) activation planning",
    https://learn.microsoft.com/windows-server/get-started/kms-activation-planning).
    """
    if not host:
        return None
    count = host.get("current_count")
    if isinstance(count, int) and count >= CLIENT_OS_THRESHOLD:
        return None
    shown = "not counting yet (no client requests received)" if count is None else f"{count}"
    waiting = (
        "Clients that ask now get 0xC004F038 (SL_E_VL_NOT_ENOUGH_COUNT) but are still counted; the count grows "
        "as distinct machines (CMIDs) request activation and covers the last 30 days."
    )
    if not isinstance(count, int) or count < SERVER_OS_THRESHOLD:
        return (
            f"KMS current count is {shown}: below {SERVER_OS_THRESHOLD}, this KMS host activates no clients yet; "
            f"Windows Server needs a count of {SERVER_OS_THRESHOLD} and Windows client editions {CLIENT_OS_THRESHOLD}. "
            + waiting
        )
    return (
        f"KMS current count is {shown}: at least {SERVER_OS_THRESHOLD}, so this KMS host activates Windows Server, "
        f"but Windows client editions need {CLIENT_OS_THRESHOLD}. " + waiting
    )


def refresh_license_status(wmi: WmiClient, version: str) -> None:
    """SoftwareLicensingService.RefreshLicenseStatus, as slmgr calls after /ipk, /upk and /ato."""
    invoke_explained(
        wmi,
        SERVICE_CLASS,
        "RefreshLicenseStatus",
        selectors={"Version": version},
        doing="Refreshing the license status (RefreshLicenseStatus)",
    )
