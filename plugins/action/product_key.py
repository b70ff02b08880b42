# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.product_key: install (slmgr /ipk) or uninstall (/upk) a key (engine: _product_key)."""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _product_key as product_key
from ansible_collections.winact.kms.plugins.plugin_utils._action import WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient


class ActionModule(WinactAction[product_key.Request]):
    winact_module = "product_key"
    winact_no_log = ("key",)

    winact_explicit_catalog = False
    winact_avma = False

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        # `key: gvlk` installs what leaving key out installs, but as an explicit request (it may replace an
        # activated MAK or Retail key). Dropping the word keeps it out of the no_log values, which would
        # otherwise mask every 'gvlk' in the result.
        # `key: avma` likewise asks for a published key: Microsoft's AVMA key for the edition.
        word = self._task.args.get("key")
        if product_key.is_catalog_word(word) or product_key.is_avma_word(word):
            self.winact_explicit_catalog = True
            self.winact_avma = product_key.is_avma_word(word)
            self._task.args = {name: value for name, value in self._task.args.items() if name != "key"}
        return super().run(tmp, task_vars)

    def winact_secrets(self, params: dict[str, t.Any]) -> list[str]:
        return product_key.secrets(params.get("key"))

    def winact_request(self, params: dict[str, t.Any]) -> product_key.Request:
        return product_key.build_request(params, explicit_catalog=self.winact_explicit_catalog, avma=self.winact_avma)

    def winact_execute(self, wmi: WmiClient, request: product_key.Request, ctx: TaskContext) -> dict[str, t.Any]:
        return product_key.execute(wmi, request, ctx)
