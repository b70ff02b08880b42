# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base class of the settings modules (kms_client, kms_host, activation_policy).

Each module is a scope of the settings table; this class validates the options
before the connection is opened (so bad input never costs I/O) and hands the
normalised request to ``_settings.execute``.
"""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _settings as settings
from ansible_collections.winact.kms.plugins.plugin_utils._action import TaskContext, WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient


class SettingsAction(WinactAction):
    scope: t.ClassVar[settings.Scope]
    _request: settings.Request | None = None

    def validate(self, params: dict[str, t.Any]) -> None:
        self._request = settings.build_request(self.scope, params)

    def execute(self, wmi: WmiClient, params: dict[str, t.Any], ctx: TaskContext) -> dict[str, t.Any]:
        request = self._request or settings.build_request(self.scope, params)
        return settings.execute(wmi, request, ctx)
