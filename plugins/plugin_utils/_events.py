# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMS events read through ``Win32_NTLogEvent`` and decoded into named fields with their HRESULTs explained.

A KMS client logs 12288 (request sent) and 12289 (response processed) in the Application log; a KMS host
logs 12290 (request processed) in the "Key Management Service" log. Each carries a comma-joined Info block
whose fields are documented in "Windows Event Log", Table 11 of the Windows 7 Volume Activation Technical
Reference (https://learn.microsoft.com/previous-versions//ff793440(v=technet.10)), in the "Volume Activation
2.0 Operations Guide" (http://technet.microsoft.com/library/cc303695.aspx) and, with real examples, in
"Error 0xC004F074 when activating Windows"
(https://learn.microsoft.com/troubleshoot/windows-server/licensing-and-activation/error-0xc004f074-activate-windows).
"""

from __future__ import annotations

import datetime
import re
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._errors import (
    LICENSE_STATUS_NAMES,
    decode_status_flags,
    explain,
)
from ansible_collections.winact.kms.plugins.plugin_utils._results import hresult_hex
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient, wql_select, wql_string

APPLICATION_LOG = "Application"
KMS_LOG = "Key Management Service"
EVENT_REQUEST_SENT = 12288  # client: request sent to a KMS host
EVENT_RESPONSE_PROCESSED = 12289  # client: response processed
EVENT_REQUEST_PROCESSED = 12290  # KMS host: request processed
CLIENT_EVENTS = (EVENT_REQUEST_SENT, EVENT_RESPONSE_PROCESSED)
HOST_EVENTS = (EVENT_REQUEST_PROCESSED,)

# Sources that write KMS events: Security-SPP (Windows 7 / 2008 R2 and later) and Security-Licensing-SLC
# (Vista / 2008), by classic source name or provider name (the Windows Event Log reference above).
# Another application that happens to log an event 12288 is not a KMS event.
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

# Field order of each event's comma-joined Info block (Table 11 of the Windows Event Log reference).
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
    """WQL for the KMS events of one log ("Win32_NTLogEvent class", EventLogProv)."""
    codes_clause = " OR ".join(f"EventCode = {int(code)}" for code in codes)
    return wql_select(EVENT_PROPERTIES, "Win32_NTLogEvent", f"Logfile = {wql_string(logfile)} AND ({codes_clause})")


def split_info(strings: t.Any) -> list[str]:
    """The Info fields of an event, from one comma-joined insertion string or several strings.

    The 12288/12289 templates have a single %1, so the Info block is expected in one string;
    classic 12290 records may split it over several with a leading offset (an assumption: community
    reports of the record layout, not a Microsoft statement).
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
        event["license_status_name"] = LICENSE_STATUS_NAMES.get(status, "Unknown") if isinstance(status, int) else None
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


def event_hresult(event: t.Mapping[str, t.Any] | None) -> int | None:
    """The HRESULT of a decoded event as a number; None when it has none."""
    text = (event or {}).get("hresult")
    if not isinstance(text, str):
        return None
    return _parse_hresult(text)
