# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rearm engine: ReArmWindows (slmgr /rearm), ReArmApp (/rearm-app) or ReArmSku (/rearm-sku), read -> plan -> apply.

A rearm resets the licensing state to out-of-box grace and clears the client machine ID (CMID); it takes effect
after a restart ("WMI Properties and Methods for Volume Activation"; "Resolve Windows activation error
0xC004F038 caused by a duplicate CMID",
https://github.com/MicrosoftDocs/SupportArticles-docs/blob/main/support/azure/virtual-machines/windows-activation-duplicate-client-machine-id.md).
With SkipRearm = 1, ``slmgr /rearm`` does nothing ("Slmgr.vbs options for obtaining volume activation
information", https://learn.microsoft.com/windows-server/get-started/activation-slmgr-vbs-options), so the
module does not call it and says why.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils._explain import (
    error_for_code,
    explain_text,
    explained_failure,
    invoke_explained,
)
from ansible_collections.winact.kms.plugins.plugin_utils._registry import Registry, RegType
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._spp import PRODUCT_CLASS, SERVICE_CLASS, SPP_KEY
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._validate import activation_id as valid_guid
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient, wql_select, wql_string
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManFault, WSManUnreachable

SKIP_REARM = "SkipRearm"
SL_E_MAX_REARM_REACHED = 0xC004D307


@dataclasses.dataclass(frozen=True)
class Request:
    scope: str  # windows, application or sku
    target: str | None  # the ApplicationID or Activation ID


def build_request(params: t.Mapping[str, t.Any]) -> Request:
    application_id, activation_id = params.get("application_id"), params.get("activation_id")
    if application_id is not None and activation_id is not None:
        raise ValidationError("application_id", "cannot be used with activation_id: rearm one application or one SKU")
    if application_id is not None:
        return Request("application", valid_guid("application_id", application_id))
    if activation_id is not None:
        return Request("sku", valid_guid("activation_id", activation_id))
    return Request("windows", None)


@dataclasses.dataclass(frozen=True)
class Current:
    remaining: int | None  # the rearm count that the rearm spends
    skip_rearm: bool
    client_machine_id: str | None
    version: str


def execute(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    try:
        return Rearm(wmi, request, ctx).run()
    except WSManUnreachable:
        raise
    except WSManFault as exc:
        raise explained_failure(exc, "Reading the licensing state") from exc


class Rearm:
    def __init__(self, wmi: WmiClient, request: Request, ctx: TaskContext) -> None:
        self.wmi = wmi
        self.request = request
        self.ctx = ctx

    @property
    def what(self) -> str:
        if self.request.scope == "application":
            return f"application {self.request.target} (ReArmApp)"
        if self.request.scope == "sku":
            return f"product {self.request.target} (ReArmSku)"
        return "Windows (ReArmWindows)"

    @property
    def count_name(self) -> str:
        return {"windows": "RemainingWindowsReArmCount", "application": "RemainingAppReArmCount"}.get(
            self.request.scope, "RemainingSkuReArmCount"
        )

    def run(self) -> dict[str, t.Any]:
        current = self.read()
        result: dict[str, t.Any] = {
            "scope": self.request.scope,
            "skip_rearm": current.skip_rearm,
            "remaining_rearm_count_before": current.remaining,
            "client_machine_id_before": current.client_machine_id,
        }
        if current.skip_rearm and self.request.scope == "windows":
            reason = (
                "SkipRearm is 1 (SoftwareProtectionPlatform registry key): Windows ignores a rearm, so none was "
                "run; set it to 0 (winact.kms.activation_policy skip_rearm: false) to rearm"
            )
            self.ctx.warnings.append(f"Nothing was rearmed: {reason}")
            return {**result, "changed": False, "rearmed": False, "reason": reason, "restart_required": False}
        if current.remaining is not None and current.remaining <= 0:
            raise ModuleFailure(
                f"Cannot rearm {self.what}: {self.count_name} is 0. {explain_text(SL_E_MAX_REARM_REACHED)}",
                error=error_for_code(SL_E_MAX_REARM_REACHED, property=self.count_name),
                **result,
            )
        after = current.remaining - 1 if current.remaining is not None else None
        if self.ctx.diff_mode:
            result["diff"] = {
                "before": {"rearmed": False, self.count_name: current.remaining},
                "after": {"rearmed": True, self.count_name: after},
            }
        if not self.ctx.check_mode:
            self.apply(current)
            after = self.read().remaining
        return {
            **result,
            "changed": True,
            "rearmed": True,
            "reason": None,
            "remaining_rearm_count": after,
            "restart_required": True,
        }

    # -- read ----------------------------------------------------------------------------------------
    def read(self) -> Current:
        service = lic.read_licensing_service(self.wmi, ("Version", "ClientMachineID", "RemainingWindowsReArmCount"))
        version = service.get("Version")
        if not version:
            raise ModuleFailure("SoftwareLicensingService reported no Version; cannot address it")
        skip = Registry(self.wmi).get(SPP_KEY, SKIP_REARM, RegType.DWORD) == 1
        remaining: int | None
        if self.request.scope == "windows":
            remaining = service.get("RemainingWindowsReArmCount")
        else:
            remaining = self.product_count()
        return Current(
            remaining=remaining if isinstance(remaining, int) else None,
            skip_rearm=skip,
            client_machine_id=service.get("ClientMachineID"),
            version=str(version),
        )

    def product_count(self) -> int | None:
        column = "ApplicationID" if self.request.scope == "application" else "ID"
        where = f"{column} = {wql_string(self.request.target or '')}"
        rows = self.wmi.query(
            wql_select(("ID", "RemainingAppReArmCount", "RemainingSkuReArmCount"), PRODUCT_CLASS, where)
        )
        if not rows:
            option = "application_id" if self.request.scope == "application" else "activation_id"
            raise ModuleFailure(
                f"{option}: no SoftwareLicensingProduct has the {column} {self.request.target} on this host; "
                "winact.kms.license_info lists the installed products",
                option=option,
            )
        counts = [count for row in rows if isinstance(count := row.get(self.count_name), int)]
        return min(counts) if counts else None

    # -- apply ---------------------------------------------------------------------------------------
    def apply(self, current: Current) -> None:
        doing = f"Rearming {self.what}"
        if self.request.scope == "windows":
            invoke_explained(
                self.wmi, SERVICE_CLASS, "ReArmWindows", selectors={"Version": current.version}, doing=doing
            )
        elif self.request.scope == "application":
            invoke_explained(
                self.wmi,
                SERVICE_CLASS,
                "ReArmApp",
                {"ApplicationId": self.request.target},
                selectors={"Version": current.version},
                doing=doing,
            )
        else:
            invoke_explained(
                self.wmi, PRODUCT_CLASS, "ReArmSku", selectors={"ID": self.request.target or ""}, doing=doing
            )
        self.ctx.applied.append(doing.replace("Rearming", "rearm", 1))
