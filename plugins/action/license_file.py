# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.license_file: install a license file's XML (engine: _license_file)."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleError

from ansible_collections.winact.kms.plugins.plugin_utils import _license_file as license_file
from ansible_collections.winact.kms.plugins.plugin_utils._action import WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._results import TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient

# A license file is a few kilobytes; anything far larger than one request can carry is refused unread.
MAX_FILE_BYTES = 1024 * 1024


class ActionModule(WinactAction[license_file.Request]):
    winact_module = "license_file"

    def winact_request(self, params: dict[str, t.Any]) -> license_file.Request:
        return license_file.build_request(params, self._winact_read_src)

    def _winact_read_src(self, src: str) -> bytes:
        """The file from the controller, searched like other modules' ``src`` (the play's files/ folders)."""
        try:
            path = self._find_needle("files", src)  # type: ignore[no-untyped-call]
        except AnsibleError as exc:
            raise ValidationError("src", f"{src} was not found on the controller ({exc.message})") from None
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ValidationError(
                "src", f"{src} is larger than {MAX_FILE_BYTES} bytes; a license file is a few kilobytes"
            )
        return data

    def winact_execute(self, wmi: WmiClient, request: license_file.Request, ctx: TaskContext) -> dict[str, t.Any]:
        return license_file.execute(wmi, request, ctx)
