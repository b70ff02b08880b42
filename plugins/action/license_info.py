# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.license_info: read-only licensing report."""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils._action import ModuleFailure, TaskContext, WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._validate import activation_id
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient


class ActionModule(WinactAction):
    module_name = "license_info"

    def validate(self, params: dict[str, t.Any]) -> None:
        if params.get("activation_id") is not None:
            params["activation_id"] = activation_id("activation_id", params["activation_id"])

    def execute(self, wmi: WmiClient, params: dict[str, t.Any], ctx: TaskContext) -> dict[str, t.Any]:
        os_info = lic.read_os(wmi)
        service = lic.read_service(wmi)
        keyed = lic.read_products(wmi)
        primary = lic.primary_product(keyed)
        products = keyed
        if params.get("activation_id"):
            # Any application's product (Windows, Office, ...); windows_product stays the Windows one.
            asked = lic.read_product(wmi, params["activation_id"])
            if asked is None:
                raise ModuleFailure(
                    f"activation_id: no SoftwareLicensingProduct has the ID {params['activation_id']} on this host",
                    option="activation_id",
                )
            products = [asked]
        now = os_info.get("LocalDateTime")
        kms_host = lic.describe_kms_host(service)
        report: dict[str, t.Any] = {
            # Without an installed key, the edition still shows in the unkeyed products (one more query).
            "os": lic.describe_os(os_info, primary, None if primary else lic.read_license_family(wmi)),
            "products": [lic.describe_product(p, now) for p in products],
            "windows_product": lic.describe_product(primary, now) if primary else None,
            "kms_client": lic.describe_kms_client(service, primary),
            "kms_host": kms_host,
        }
        warning = lic.kms_count_warning(kms_host)
        if warning:
            ctx.warnings.append(warning)
        if params.get("events"):
            limit = params.get("event_count")
            limit = 10 if limit is None else limit
            report["events"] = lic.read_kms_events(wmi, kms_host=kms_host is not None, limit=limit)
        return {"changed": False, **report, "ansible_facts": {"winact_kms": report}}
