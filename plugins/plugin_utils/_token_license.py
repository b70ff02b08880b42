# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Token-based activation issuance licenses, as ``slmgr /lil`` lists and ``slmgr /ril`` removes them.

``/lil`` enumerates ``SoftwareLicensingTokenActivationLicense``; ``/ril <ILID> <ILvID>`` calls ``Uninstall`` on each
instance with that ILID and version ("SoftwareLicensingTokenActivationLicense class",
https://learn.microsoft.com/previous-versions/windows/desktop/sppwmi/softwarelicensingtokenactivationlicense;
"Slmgr.vbs options for obtaining volume activation information",
https://learn.microsoft.com/windows-server/get-started/activation-slmgr-vbs-options).
"""

from __future__ import annotations

import dataclasses
import datetime
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._explain import explained_failure, invoke_explained
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext, hresult_hex
from ansible_collections.winact.kms.plugins.plugin_utils._spp import TOKEN_LICENSE_CLASS
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._validate import activation_id as valid_guid
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient, wql_select
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManFault, WSManUnreachable

PROPERTIES = ("ID", "ILID", "ILVID", "AuthorizationStatus", "ExpirationDate", "Description", "AdditionalInfo")
STATES = ("query", "absent")
ILVID_RANGE = (0, 0xFFFFFFFF)  # uint32


@dataclasses.dataclass(frozen=True)
class Request:
    state: str
    ilid: str | None  # lower-case GUID
    ilvid: int | None  # None: every version of the ILID


def build_request(params: t.Mapping[str, t.Any]) -> Request:
    state = params.get("state") or "query"
    if state not in STATES:
        raise ValidationError("state", f"{state!r} is not one of {', '.join(STATES)}")
    raw_ilid, ilvid = params.get("ilid"), params.get("ilvid")
    ilid = _guid("ilid", raw_ilid) if raw_ilid is not None else None
    if ilvid is not None and (isinstance(ilvid, bool) or not ILVID_RANGE[0] <= int(ilvid) <= ILVID_RANGE[1]):
        raise ValidationError("ilvid", f"must be a license version from 0 to {ILVID_RANGE[1]}, not {ilvid!r}")
    if state == "absent" and ilid is None:
        raise ValidationError("ilid", "is required with state=absent: the issuance license ID (ILID) to remove")
    if ilvid is not None and ilid is None:
        raise ValidationError("ilvid", "needs ilid: a version is only meaningful for one issuance license")
    return Request(state, ilid, int(ilvid) if ilvid is not None else None)


def _guid(option: str, value: t.Any) -> str:
    try:
        return valid_guid(option, value)
    except ValidationError:
        raise ValidationError(
            option, f"{str(value)[:80]!r} is not a GUID; expected the issuance license ID (ILID) slmgr /lil shows"
        ) from None


def describe(row: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """One license as slmgr /lil shows it."""
    expires = row.get("ExpirationDate")
    status = row.get("AuthorizationStatus")
    return {
        "id": row.get("ID"),
        "ilid": row.get("ILID"),
        "ilvid": row.get("ILVID"),
        # slmgr /lil prints "Valid to" only for a non-zero date.
        "expiration_date": expires.isoformat()
        if isinstance(expires, datetime.datetime) and expires.year > 1601
        else None,
        "description": row.get("Description") or None,
        "additional_info": row.get("AdditionalInfo") or None,
        # The HRESULT of the license's authorization; slmgr /lil prints "Error: 0x..." when it is not 0.
        "authorization_status": hresult_hex(status) if isinstance(status, int) and status else None,
    }


def _matches(row: t.Mapping[str, t.Any], request: Request) -> bool:
    # GUIDs compare case-insensitively here (slmgr /ril compares the text as typed).
    same_ilid = str(row.get("ILID") or "").strip("{}").lower() == request.ilid
    return same_ilid and (request.ilvid is None or row.get("ILVID") == request.ilvid)


def _label(row: t.Mapping[str, t.Any]) -> str:
    return f"{row.get('ILID')} version {row.get('ILVID')}"


def read(wmi: WmiClient) -> list[dict[str, t.Any]]:
    return wmi.query(wql_select(PROPERTIES, TOKEN_LICENSE_CLASS))


def execute(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    try:
        rows = read(wmi)
    except WSManUnreachable:
        raise
    except WSManFault as exc:
        raise explained_failure(exc, "Listing the token-based activation licenses") from exc
    doomed = [r for r in rows if request.state == "absent" and _matches(r, request)]
    result: dict[str, t.Any] = {
        "changed": bool(doomed),
        "removed": [describe(r) for r in doomed],
        "licenses": [describe(r) for r in rows if r not in doomed],
    }
    if ctx.diff_mode:
        result["diff"] = {
            "before": {"token_licenses": [_label(r) for r in rows]},
            "after": {"token_licenses": [_label(r) for r in rows if r not in doomed]},
        }
    if ctx.check_mode or not doomed:
        return result
    for row in doomed:
        doing = f"Removing the token-based activation license {_label(row)} (Uninstall)"
        try:
            invoke_explained(wmi, TOKEN_LICENSE_CLASS, "Uninstall", selectors={"ID": str(row["ID"])}, doing=doing)
        except ModuleFailure as exc:
            exc.detail.setdefault("removed", [describe(r) for r in doomed if str(r["ID"]) in ctx.applied])
            raise
        ctx.applied.append(str(row["ID"]))
    return result
