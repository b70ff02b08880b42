# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.rearm: ReArmWindows, ReArmApp or ReArmSku (engine: _rearm)."""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _rearm as rearm
from ansible_collections.winact.kms.plugins.plugin_utils._action import WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient


class ActionModule(WinactAction[rearm.Request]):
    winact_module = "rearm"
    winact_mutually_exclusive = [["application_id", "activation_id"]]

    def winact_request(self, params: dict[str, t.Any]) -> rearm.Request:
        return rearm.build_request(params)

    def winact_execute(self, wmi: WmiClient, request: rearm.Request, ctx: TaskContext) -> dict[str, t.Any]:
        return rearm.execute(wmi, request, ctx)
