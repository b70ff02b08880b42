# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.kms_client: the client scope of the settings table."""

from __future__ import annotations

from ansible_collections.winact.kms.plugins.plugin_utils._action import SettingsAction
from ansible_collections.winact.kms.plugins.plugin_utils._settings import Scope


class ActionModule(SettingsAction):
    winact_module = "kms_client"
    winact_scope = Scope.CLIENT
