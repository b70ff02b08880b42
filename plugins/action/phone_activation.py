# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.phone_activation: installation ID and confirmation ID (engine: _phone_activation)."""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _phone_activation as phone
from ansible_collections.winact.kms.plugins.plugin_utils._action import WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient


class ActionModule(WinactAction[phone.Request]):
    winact_module = "phone_activation"

    def winact_request(self, params: dict[str, t.Any]) -> phone.Request:
        return phone.build_request(params)

    def winact_execute(self, wmi: WmiClient, request: phone.Request, ctx: TaskContext) -> dict[str, t.Any]:
        return phone.execute(wmi, request, ctx)
