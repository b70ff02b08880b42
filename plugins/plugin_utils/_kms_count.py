# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a client refused with 0xC004F038 waits for: its KMS host's count against the threshold.

A KMS host adds each requesting machine (CMID) to its count before it answers, and activates client
editions from a count of 25, servers from 5 ("Key Management Services (KMS) activation planning",
https://learn.microsoft.com/windows-server/get-started/kms-activation-planning). The client's event 12288
carries the threshold it needs (N-Policy) and the KMS host it asked, event 12289 the count the host returned
and the retry interval ("Volume Activation Technical Reference, Windows Event Log",
https://learn.microsoft.com/previous-versions//ff793440(v=technet.10)).
"""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _events as events
from ansible_collections.winact.kms.plugins.plugin_utils._licensing import CLIENT_OS_THRESHOLD

SL_E_VL_NOT_ENOUGH_COUNT = 0xC004F038
DEFAULT_ACTIVATION_INTERVAL = 120  # minutes, VLActivationInterval's default


def _newest(found: t.Sequence[t.Mapping[str, t.Any]], event_id: int) -> t.Mapping[str, t.Any]:
    return next((e for e in found if e.get("event_id") == event_id), {})


def shortfall(found: t.Sequence[t.Mapping[str, t.Any]] | None) -> dict[str, t.Any]:
    """``kms_host``, ``count``, ``threshold``, ``retry_minutes`` from the client's newest 12288/12289."""
    request = _newest(found or (), events.EVENT_REQUEST_SENT)
    response = _newest(found or (), events.EVENT_RESPONSE_PROCESSED)
    threshold = request.get("n_policy")
    retry = response.get("activation_interval")
    return {
        "kms_host": request.get("kms_server"),
        "count": response.get("kms_current_count"),
        "threshold": threshold if isinstance(threshold, int) and threshold > 0 else CLIENT_OS_THRESHOLD,
        "retry_minutes": retry if isinstance(retry, int) and retry > 0 else DEFAULT_ACTIVATION_INTERVAL,
    }


def shortfall_text(found: t.Mapping[str, t.Any]) -> str:
    """'count 3 of 25: ...' with what happens next."""
    count = found.get("count")
    shown = "unknown" if count is None else str(count)
    host = f"the KMS host {found['kms_host']}" if found.get("kms_host") else "the KMS host"
    return (
        f"count {shown} of {found['threshold']}: {host} activates this edition once {found['threshold']} distinct "
        f"machines have asked within 30 days (0xC004F038 SL_E_VL_NOT_ENOUGH_COUNT). Every request is counted; "
        f"Windows retries every {found['retry_minutes']} minutes (VLActivationInterval) and activates by itself "
        "once the count is reached, or run the play again after more clients have asked"
    )
