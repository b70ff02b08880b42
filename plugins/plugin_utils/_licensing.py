# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a Windows host's licensing state: OS identity, Windows products, KMS client and host, events.

Three WQL queries cover everything ``license_info`` reports; each reads only the
properties it needs. Products are filtered to Windows by ApplicationID so Office
(or any other application SPP licenses) never turns a value into a list. The KMS
events (12288/12289 on a client, 12290 on a host) come from ``Win32_NTLogEvent``
and are decoded into named fields with their HRESULTs explained.
"""

from __future__ import annotations

import datetime
import re
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._action import ModuleFailure
from ansible_collections.winact.kms.plugins.plugin_utils._errors import (
    LICENSE_STATUS_NAMES,
    decode_status_flags,
    explain,
    hresult_hex,
)
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    E_ACCESSDENIED,
    WSManAccessDenied,
    WSManError,
    WSManUnreachable,
)

WINDOWS_APP_ID = "55c92734-d682-4d71-983e-d6ec3f16059f"
DEFAULT_KMS_PORT = 1688
# KeyManagementServiceCurrentCount is -1 on a machine that is not a KMS host; WMI types it uint32.
NOT_COUNTING = 0xFFFFFFFF

LICENSE_STATUS = LICENSE_STATUS_NAMES
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


def read_products(wmi: WmiClient) -> list[dict[str, t.Any]]:
    """Windows products that have a key installed."""
    where = f"ApplicationID = {_quote(WINDOWS_APP_ID)} AND PartialProductKey IS NOT NULL"
    return wmi.query(_select(PRODUCT_PROPERTIES, "SoftwareLicensingProduct", where))


def read_license_family(wmi: WmiClient) -> str | None:
    """The edition's LicenseFamily from any Windows product, for a machine with no key installed.

    Every Windows product SPP lists belongs to the installed edition, keyed or not.
    """
    where = f"ApplicationID = {_quote(WINDOWS_APP_ID)} AND LicenseFamily IS NOT NULL"
    for row in wmi.query(_select(("LicenseFamily",), "SoftwareLicensingProduct", where)):
        if row.get("LicenseFamily"):
            return str(row["LicenseFamily"])
    return None


def read_product(wmi: WmiClient, activation_id: str) -> dict[str, t.Any] | None:
    """The product with this Activation ID, of any application (Windows, Office, ...); None when absent."""
    rows = wmi.query(_select(PRODUCT_PROPERTIES, "SoftwareLicensingProduct", f"ID = {_quote(activation_id)}"))
    return rows[0] if rows else None


def read_keyed_products(wmi: WmiClient) -> list[dict[str, t.Any]]:
    """Every product with a key installed, of any application (what slmgr.vbs scans after /ipk and /upk)."""
    where = "PartialProductKey IS NOT NULL"
    return wmi.query(_select(("ID", "Description", "PartialProductKey"), "SoftwareLicensingProduct", where))


def is_kms_host_product(product: t.Mapping[str, t.Any]) -> bool:
    """A KMS host key (CSVLK) is installed: slmgr.vbs tests the Description markers (spp-facts §3.6)."""
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
        "is_kms_host_key": is_kms_host_product(product),
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
    last 30 days (spp-facts §5).
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


# ---------------------------------------------------------------------------------------------
# KMS events (spp-facts §7)

APPLICATION_LOG = "Application"
KMS_LOG = "Key Management Service"
EVENT_REQUEST_SENT = 12288  # client: request sent to a KMS host
EVENT_RESPONSE_PROCESSED = 12289  # client: response processed
EVENT_REQUEST_PROCESSED = 12290  # KMS host: request processed
CLIENT_EVENTS = (EVENT_REQUEST_SENT, EVENT_RESPONSE_PROCESSED)
HOST_EVENTS = (EVENT_REQUEST_PROCESSED,)

# Sources that write KMS events: Security-SPP (Windows 7 / 2008 R2 and later) and Security-Licensing-SLC
# (Vista / 2008), by classic source name or provider name (spp-facts §7.1, §7.4). Another application that
# happens to log an event 12288 is not a KMS event.
KMS_EVENT_SOURCES = frozenset(
    name.lower()
    for name in (
        "Software Protection Platform Service",
        "Software Protection Service",
        "Software Licensing Service",
        "KmsRequests",
        "Microsoft-Windows-Security-SPP",
        "Security-SPP",
        "Microsoft-Windows-Security-Licensing-SLC",
    )
)

# Field order of each event's comma-joined Info block (spp-facts §7.2).
EVENT_FIELDS: dict[int, tuple[str, ...]] = {
    EVENT_REQUEST_SENT: (
        "hresult",
        "status_flags",
        "kms_server",
        "client_machine_id",
        "client_time",
        "vm_info",
        "license_status",
        "time_to_expiration_minutes",
        "activation_id",
        "n_policy",
    ),
    EVENT_RESPONSE_PROCESSED: (
        "hresult",
        "status_flags",
        "activated",
        "unused",
        "kms_current_count",
        "activation_interval",
        "renewal_interval",
        "client_time",
    ),
    EVENT_REQUEST_PROCESSED: (
        "hresult",
        "minimum_count",
        "client_name",
        "client_machine_id",
        "client_time",
        "vm_info",
        "license_status",
        "time_to_expiration_minutes",
        "activation_id",
    ),
}
_INT_FIELDS = frozenset(
    {
        "vm_info",
        "license_status",
        "time_to_expiration_minutes",
        "n_policy",
        "kms_current_count",
        "activation_interval",
        "renewal_interval",
        "minimum_count",
    }
)
EVENT_SUMMARY = {
    EVENT_REQUEST_SENT: "activation request sent to a KMS host",
    EVENT_RESPONSE_PROCESSED: "activation response from a KMS host processed",
    EVENT_REQUEST_PROCESSED: "activation request from a client processed",
}
EVENT_PROPERTIES = ("Logfile", "RecordNumber", "EventCode", "SourceName", "InsertionStrings", "TimeGenerated")
_HRESULT = re.compile(r"^0[xX][0-9A-Fa-f]{1,8}$")


def events_wql(logfile: str, codes: t.Iterable[int]) -> str:
    """WQL for the KMS events of one log (spp-facts §7.4)."""
    codes_clause = " OR ".join(f"EventCode = {int(code)}" for code in codes)
    return _select(EVENT_PROPERTIES, "Win32_NTLogEvent", f"Logfile = {_quote(logfile)} AND ({codes_clause})")


def split_info(strings: t.Any) -> list[str]:
    """The Info fields of an event, from one comma-joined insertion string or several strings.

    The 12288/12289 templates have a single %1, so the Info block is expected in one string;
    classic 12290 records may split it over several with a leading offset (spp-facts §7.2, §7.4).
    Several strings are aligned on the first one that looks like an HRESULT.
    """
    if strings is None:
        return []
    items = [strings] if isinstance(strings, str) else [str(s) if s is not None else "" for s in strings]
    if len(items) == 1:
        return [part.strip() for part in items[0].split(",")]
    fields = [item.strip() for item in items]
    start = next((i for i, item in enumerate(fields) if _HRESULT.match(item)), 0)
    return fields[start:]


def _parse_hresult(text: str | None) -> int | None:
    if not text or not _HRESULT.match(text):
        return None
    return int(text, 16)


def _parse_int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if _HRESULT.match(text):
        return int(text, 16)
    try:
        return int(text)
    except ValueError:
        return None


def _iso(value: t.Any) -> str | None:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value) if value is not None else None


def decode_event(row: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A KMS event as named, typed fields with its HRESULT and status flags explained."""
    code = row.get("EventCode")
    fields = split_info(row.get("InsertionStrings"))
    names = EVENT_FIELDS.get(code, ()) if isinstance(code, int) else ()
    named: dict[str, str | None] = {
        name: (fields[i] or None) if i < len(fields) else None for i, name in enumerate(names)
    }
    event: dict[str, t.Any] = {
        "event_id": code,
        "summary": EVENT_SUMMARY.get(code, "KMS event") if isinstance(code, int) else "KMS event",
        "logfile": row.get("Logfile"),
        "record_number": row.get("RecordNumber"),
        "source": row.get("SourceName"),
        "time_generated": _iso(row.get("TimeGenerated")),
        "info": fields,
    }
    hresult = _parse_hresult(named.get("hresult"))
    event["hresult"] = hresult_hex(hresult) if hresult is not None else named.get("hresult")
    event["success"] = hresult == 0 if hresult is not None else None
    event["error"] = explain(hresult).to_dict() if hresult else None
    for name in names[1:]:
        raw = named.get(name)
        if name == "unused":
            continue
        if name == "status_flags":
            flags = _parse_int(raw)
            event["status_flags"] = hresult_hex(flags) if flags is not None else raw
            event["status_flag_names"] = decode_status_flags(flags) if flags is not None else []
        elif name == "activated":
            bound = _parse_int(raw)
            event["activated"] = bool(bound) if bound is not None else None
        elif name in _INT_FIELDS:
            event[name] = _parse_int(raw)
        else:
            event[name] = raw
    if "license_status" in event:
        status = event["license_status"]
        event["license_status_name"] = LICENSE_STATUS.get(status, "Unknown") if isinstance(status, int) else None
    return event


def read_events(wmi: WmiClient, logfile: str, codes: t.Iterable[int], limit: int) -> list[dict[str, t.Any]]:
    """The newest ``limit`` KMS events of one log, newest first, decoded."""
    rows = wmi.query(events_wql(logfile, codes))
    rows = [r for r in rows if str(r.get("SourceName") or "").lower() in KMS_EVENT_SOURCES]
    rows.sort(key=lambda r: r.get("RecordNumber") or 0, reverse=True)
    return [decode_event(r) for r in rows[: max(limit, 0)]]


def read_kms_events(wmi: WmiClient, *, kms_host: bool, limit: int) -> dict[str, list[dict[str, t.Any]]]:
    """Client events (12288, 12289) from the Application log and, on a KMS host, 12290 events."""
    result = {"client": read_events(wmi, APPLICATION_LOG, CLIENT_EVENTS, limit)}
    result["host"] = read_events(wmi, KMS_LOG, HOST_EVENTS, limit) if kms_host else []
    return result


def last_request_error(events: t.Sequence[t.Mapping[str, t.Any]]) -> dict[str, t.Any] | None:
    """The newest client request event (12288) that carries an error, as decoded; None when none does."""
    for event in events:
        if event.get("event_id") == EVENT_REQUEST_SENT:
            return dict(event) if event.get("success") is False else None
    return None


# ---------------------------------------------------------------------------------------------
# Failures explained


def fault_hresult(exc: WSManError) -> int | None:
    """The HRESULT a WMI failure carries (an SPP method fails with its SL code, spp-facts §3.4)."""
    if exc.hresult is not None:
        return exc.hresult
    return E_ACCESSDENIED if isinstance(exc, WSManAccessDenied) else None


def explain_text(code: int) -> str:
    """'0xC004F050 SL_E_INVALID_PRODUCT_KEY: <message>. Likely cause: ... Fix: ...'."""
    info = explain(code)
    symbol = f" {info.symbol}" if info.symbol else ""
    message, cause = _sentence(info.message), _sentence(info.cause)
    return f"{info.hresult_hex}{symbol}: {message} Likely cause: {cause} Fix: {info.fix}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def explained_failure(exc: WSManError, doing: str, **detail: t.Any) -> ModuleFailure:
    """A module failure for a WMI error: the HRESULT explained when there is one, else the WS-Man detail."""
    code = fault_hresult(exc)
    if code is None:
        return ModuleFailure(f"{doing} failed: {exc.message}", error=exc.to_dict(), **detail)
    error = {**explain(code).to_dict(), "wsman": exc.to_dict()}
    return ModuleFailure(f"{doing} failed with {explain_text(code)}", error=error, **detail)


def invoke_explained(
    wmi: WmiClient,
    cls: str,
    method: str,
    params: t.Mapping[str, t.Any] | None = None,
    *,
    selectors: t.Mapping[str, str],
    doing: str,
) -> dict[str, t.Any]:
    """Call a licensing method; a WMI error becomes an explained failure, a lost connection stays as it is."""
    try:
        return wmi.invoke(cls, method, params, selectors=selectors)
    except WSManUnreachable:
        raise
    except WSManError as exc:
        raise explained_failure(exc, doing) from exc


def refresh_license_status(wmi: WmiClient, version: str) -> None:
    """SoftwareLicensingService.RefreshLicenseStatus, as slmgr calls after /ipk, /upk and /ato."""
    invoke_explained(
        wmi,
        "SoftwareLicensingService",
        "RefreshLicenseStatus",
        selectors={"Version": version},
        doing="Refreshing the license status (RefreshLicenseStatus)",
    )
