# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The spp_service engine: start or restart the Software Protection service (sppsvc) through Win32_Service.

Roles change several settings that each need an sppsvc restart to take effect; they pass
``restart_service: never`` to those tasks and restart once, from a handler, with this engine.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._service import read_win32_service, restart_explained
from ansible_collections.winact.kms.plugins.plugin_utils._spp import SPP_SERVICE
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient

STATES = ("started", "restarted")


@dataclasses.dataclass(frozen=True)
class Request:
    state: str


def build_request(params: t.Mapping[str, t.Any]) -> Request:
    state = params.get("state") or "restarted"
    if state not in STATES:
        raise ValidationError("state", f"{state!r} is not one of {', '.join(STATES)}")
    return Request(state=str(state))


def execute(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    before = read_win32_service(wmi, SPP_SERVICE)
    changed = request.state == "restarted" or not before.running
    result: dict[str, t.Any] = {"changed": changed, "restarted": False}
    if ctx.diff_mode and changed:
        result["diff"] = {"before": {"state": before.state}, "after": {"state": "Running (restarted)"}}
    if changed and not ctx.check_mode:
        restart_explained(wmi, SPP_SERVICE, ctx)
        result["restarted"] = True
        result["service"] = read_win32_service(wmi, SPP_SERVICE).to_dict()
    else:
        result["service"] = before.to_dict()
    return result
