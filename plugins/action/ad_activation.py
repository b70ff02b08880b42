# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.ad_activation: AD-based activation of a forest (engine: _ad_activation)."""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _ad_activation as adba
from ansible_collections.winact.kms.plugins.plugin_utils._action import WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient


class ActionModule(WinactAction[adba.Request]):
    winact_module = "ad_activation"
    winact_no_log = ("csvlk",)

    def winact_secrets(self, params: dict[str, t.Any]) -> list[str]:
        return adba.secrets(params.get("csvlk"))

    def winact_request(self, params: dict[str, t.Any]) -> adba.Request:
        return adba.build_request(params)

    def winact_execute(self, wmi: WmiClient, request: adba.Request, ctx: TaskContext) -> dict[str, t.Any]:
        return adba.execute(wmi, request, ctx)
