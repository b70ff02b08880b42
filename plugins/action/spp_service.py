# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.spp_service: start or restart sppsvc (engine: _spp_service)."""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _spp_service as engine
from ansible_collections.winact.kms.plugins.plugin_utils._action import WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient


class ActionModule(WinactAction[engine.Request]):
    winact_module = "spp_service"

    def winact_request(self, params: dict[str, t.Any]) -> engine.Request:
        return engine.build_request(params)

    def winact_execute(self, wmi: WmiClient, request: engine.Request, ctx: TaskContext) -> dict[str, t.Any]:
        return engine.execute(wmi, request, ctx)
