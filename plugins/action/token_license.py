# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.token_license: list and remove token activation licenses (engine: _token_license)."""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _token_license as token
from ansible_collections.winact.kms.plugins.plugin_utils._action import WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient


class ActionModule(WinactAction[token.Request]):
    winact_module = "token_license"

    def winact_request(self, params: dict[str, t.Any]) -> token.Request:
        return token.build_request(params)

    def winact_execute(self, wmi: WmiClient, request: token.Request, ctx: TaskContext) -> dict[str, t.Any]:
        return token.execute(wmi, request, ctx)
