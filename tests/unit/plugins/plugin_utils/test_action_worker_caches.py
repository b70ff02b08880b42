# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loading an action class fills, in the loading (main) process, the caches forked workers inherit."""

from __future__ import annotations

import sys

from ansible.plugins.loader import filter_loader, test_loader

from ansible_collections.winact.kms.plugins.action.license_info import ActionModule
from ansible_collections.winact.kms.plugins.plugin_utils import _action


def test_loading_an_action_class_loads_the_jinja_plugins_and_the_winrm_client() -> None:
    assert issubclass(ActionModule, _action.WinactAction)  # defining it called warm_worker_caches
    _action.warm_worker_caches()
    for loader in (filter_loader, test_loader):
        assert loader._cached_non_collection_wrappers  # a worker templating `x is none` finds them loaded
    assert {"requests", "winrm", "spnego"} <= set(sys.modules)
