# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: append every task result as one JSON line to $WINACT_RECORD_FILE."""

from __future__ import annotations

import json
import os
import typing as t

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: winact_record
type: aggregate
short_description: Record task results as JSON lines (winact.kms integration tests)
description:
  - Writes one JSON object per task result to the file named by E(WINACT_RECORD_FILE).
requirements:
  - enable in configuration
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "winact_record"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result: t.Any, status: str) -> None:
        path = os.environ.get("WINACT_RECORD_FILE")
        if not path:
            return
        entry = {
            "host": result._host.get_name(),
            "task": result._task.get_name(),
            "action": result._task.action,
            "status": status,
            "result": self._clean(result._result),
        }
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, default=str) + "\n")

    @staticmethod
    def _clean(value: t.Any) -> t.Any:
        return json.loads(json.dumps(value, default=str))

    def v2_runner_on_ok(self, result: t.Any) -> None:
        self._record(result, "ok")

    def v2_runner_on_failed(self, result: t.Any, ignore_errors: bool = False) -> None:
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_unreachable(self, result: t.Any) -> None:
        self._record(result, "unreachable")

    def v2_runner_on_skipped(self, result: t.Any) -> None:
        self._record(result, "skipped")
