# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report of winact.kms.report: every host's license_info result as one data set.

The HTML page (``playbooks/templates/report.html.j2``) and the JSON file are both rendered from what
``build`` returns, so the page shows exactly the data the JSON holds: totals by license status, days until
expiry in buckets, each KMS host's count against the thresholds, and one row per host.
"""

from __future__ import annotations

import datetime
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._licensing import CLIENT_OS_THRESHOLD, SERVER_OS_THRESHOLD

# Days-until-expiry buckets: (label, upper bound in days, exclusive). A KMS activation is valid 180 days.
EXPIRY_BUCKETS: tuple[tuple[str, float], ...] = (
    ("expired", 0),
    ("< 7 days", 7),
    ("7-30 days", 30),
    ("30-90 days", 90),
    ("90-180 days", 181),
    ("> 180 days", float("inf")),
)
NO_EXPIRY = "no expiry"
UNREACHABLE = "Unreachable"


def _last_error(result: t.Mapping[str, t.Any]) -> dict[str, t.Any] | None:
    """The client's newest KMS request (event 12288) that failed, explained; None when the newest succeeded."""
    client_events = ((result.get("events") or {}).get("client")) or []
    for event in client_events:
        if event.get("event_id") == 12288:
            error = event.get("error")
            if event.get("success") is False and isinstance(error, t.Mapping):
                return {**error, "when": event.get("client_time"), "kms_host": event.get("kms_server")}
            return None
    return None


def host_row(host: str, result: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """One table row; a host whose license_info failed is a row with its error."""
    if result.get("failed") or result.get("unreachable") or "os" not in result:
        return {
            "host": host,
            "status": UNREACHABLE if result.get("unreachable") else "Failed",
            "error": {"message": str(result.get("msg") or "no result")},
        }
    os_info = result.get("os") or {}
    product = result.get("windows_product") or {}
    client = result.get("kms_client") or {}
    kms_host = result.get("kms_host")
    minutes = product.get("grace_period_remaining_minutes")
    days = round(minutes / 1440, 1) if isinstance(minutes, int) and minutes > 0 else None
    if kms_host:
        kms = "KMS host"
    elif client.get("registered_name"):
        port = client.get("registered_port")
        kms = f"{client['registered_name']}:{port}" if port else str(client["registered_name"])
    else:
        kms = "DNS auto-discovery"
    return {
        "host": host,
        "edition": os_info.get("edition_id"),
        "caption": os_info.get("caption"),
        "build": os_info.get("build_number"),
        "status": product.get("license_status_name") or "No key",
        "channel": product.get("product_key_channel"),
        "key_tail": product.get("partial_product_key"),
        "expires": product.get("grace_period_expires"),
        "days_left": days,
        "kms": kms,
        "error": _last_error(result),
    }


def _bucket(row: t.Mapping[str, t.Any]) -> str | None:
    if row.get("status") in (UNREACHABLE, "Failed"):
        return None
    days = row.get("days_left")
    if days is None:
        # Licensed for good (MAK, retail) or nothing counting down.
        return NO_EXPIRY if row.get("status") == "Licensed" else "expired" if row.get("status") != "No key" else None
    return next(label for label, bound in EXPIRY_BUCKETS if days < bound)


def build(results: t.Mapping[str, t.Mapping[str, t.Any]], now: datetime.datetime | None = None) -> dict[str, t.Any]:
    """The report: ``generated``, ``totals``, ``expiry``, ``kms_hosts`` and ``hosts`` (sorted by name)."""
    rows = [host_row(host, results[host]) for host in sorted(results)]
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    labels = [label for label, _bound in EXPIRY_BUCKETS] + [NO_EXPIRY]
    buckets = [_bucket(row) for row in rows]
    kms_hosts = []
    for host in sorted(results):
        info = results[host].get("kms_host")
        if isinstance(info, t.Mapping):
            kms_hosts.append(
                {
                    "host": host,
                    "count": info.get("current_count") or 0,
                    "client_threshold": CLIENT_OS_THRESHOLD,
                    "server_threshold": SERVER_OS_THRESHOLD,
                    "activates_clients": bool(info.get("activates_client_os")),
                    "activates_servers": bool(info.get("activates_server_os")),
                }
            )
    return {
        "generated": (now or datetime.datetime.now(datetime.UTC)).isoformat(timespec="seconds"),
        "totals": {
            "hosts": len(rows),
            "by_status": dict(sorted(by_status.items(), key=lambda item: (-item[1], item[0]))),
            "with_error": sum(1 for row in rows if row.get("error")),
        },
        "expiry": [{"label": label, "hosts": buckets.count(label)} for label in labels],
        "kms_hosts": kms_hosts,
        "hosts": rows,
    }
