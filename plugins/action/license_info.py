# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.license_info: read-only licensing report (engine: _license_report)."""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _license_report as report
from ansible_collections.winact.kms.plugins.plugin_utils._action import WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient


class ActionModule(WinactAction[report.Request]):
    winact_module = "license_info"

    def winact_request(self, params: dict[str, t.Any]) -> report.Request:
        return report.build_request(params)

    def winact_execute(self, wmi: WmiClient, request: report.Request, ctx: TaskContext) -> dict[str, t.Any]:
        return report.execute(wmi, request, ctx)
