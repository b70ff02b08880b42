# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.activate: preflight, Activate (slmgr /ato), explained failures (engine: _activation)."""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _activation as activation
from ansible_collections.winact.kms.plugins.plugin_utils._action import WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient


class ActionModule(WinactAction[activation.Request]):
    winact_module = "activate"

    def winact_request(self, params: dict[str, t.Any]) -> activation.Request:
        return activation.build_request(params)

    def winact_execute(self, wmi: WmiClient, request: activation.Request, ctx: TaskContext) -> dict[str, t.Any]:
        return activation.execute(wmi, request, ctx)
