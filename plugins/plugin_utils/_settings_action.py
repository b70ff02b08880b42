# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base class of the settings modules (kms_client, kms_host, activation_policy).

Each module is a scope of the settings table: its request is validated before the
connection is opened (so bad input never costs I/O) and ``_settings.execute`` does
read -> plan -> apply.
"""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _settings as settings
from ansible_collections.winact.kms.plugins.plugin_utils._action import WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient


class SettingsAction(WinactAction[settings.Request]):
    winact_scope: t.ClassVar[settings.Scope]

    def winact_request(self, params: dict[str, t.Any]) -> settings.Request:
        return settings.build_request(self.winact_scope, params)

    def winact_execute(self, wmi: WmiClient, request: settings.Request, ctx: TaskContext) -> dict[str, t.Any]:
        return settings.execute(wmi, request, ctx)
