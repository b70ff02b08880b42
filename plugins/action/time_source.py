# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.time_source: W32Time NTP peers and a resyncing restart (engine: _time_source)."""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _time_source as time_source
from ansible_collections.winact.kms.plugins.plugin_utils._action import WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient


class ActionModule(WinactAction[time_source.Request]):
    winact_module = "time_source"

    def winact_request(self, params: dict[str, t.Any]) -> time_source.Request:
        return time_source.build_request(params)

    def winact_execute(self, wmi: WmiClient, request: time_source.Request, ctx: TaskContext) -> dict[str, t.Any]:
        return time_source.execute(wmi, request, ctx)
