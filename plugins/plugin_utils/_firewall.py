# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kms_firewall engine: the built-in "Key Management Service" inbound rule, through WMI.

Read the rules of the group (``root/StandardCimv2`` ``MSFT_NetFirewallRule``, WQL on ``DisplayGroup``) ->
plan (the rules whose ``Enabled`` differs) -> apply: the rule's ``Enable`` or ``Disable`` method, the calls
``Enable-NetFirewallRule`` makes ("MSFT_NetFirewallRule class",
https://learn.microsoft.com/previous-versions/windows/desktop/wfascimprov/msft-netfirewallrule).
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._explain import error_detail, explained_failure
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient, wql_select, wql_string
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManFault, WSManUnreachable

NAMESPACE = "root/StandardCimv2"
RULE_CLASS = "MSFT_NetFirewallRule"
KMS_GROUP = "Key Management Service"
# CIM_PolicyRule.Enabled: 1 enabled, 2 disabled.
CIM_ENABLED = 1


@dataclasses.dataclass(frozen=True)
class Request:
    enabled: bool


def build_request(params: t.Mapping[str, t.Any]) -> Request:
    value = params.get("enabled")
    return Request(enabled=True if value is None else bool(value))


def _rule(row: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    return {
        "instance_id": row.get("InstanceID"),
        "display_name": row.get("DisplayName"),
        "enabled": row.get("Enabled") == CIM_ENABLED,
    }


def read_rules(wmi: WmiClient) -> list[dict[str, t.Any]]:
    wql = wql_select(
        ("InstanceID", "DisplayName", "DisplayGroup", "Enabled"), RULE_CLASS, f"DisplayGroup = {wql_string(KMS_GROUP)}"
    )
    return [_rule(row) for row in wmi.query(wql, namespace=NAMESPACE)]


def execute(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    try:
        rules = read_rules(wmi)
    except WSManUnreachable:
        raise
    except WSManFault as exc:
        raise explained_failure(exc, f"Reading the {KMS_GROUP!r} firewall rules ({RULE_CLASS})") from exc
    if not rules:
        raise ModuleFailure(
            f"No firewall rule of the group {KMS_GROUP!r} on this host ({NAMESPACE} {RULE_CLASS}); "
            "the rule comes with Windows Server and the Windows client editions that can be KMS hosts"
        )
    changes = [rule for rule in rules if rule["enabled"] != request.enabled]
    result: dict[str, t.Any] = {"changed": bool(changes), "changes": [rule["display_name"] for rule in changes]}
    if ctx.diff_mode:
        result["diff"] = {
            "before": {rule["display_name"]: rule["enabled"] for rule in changes},
            "after": {rule["display_name"]: request.enabled for rule in changes},
        }
    if changes and not ctx.check_mode:
        method = "Enable" if request.enabled else "Disable"
        for rule in changes:
            try:
                out = wmi.invoke(
                    RULE_CLASS, method, selectors={"InstanceID": str(rule["instance_id"])}, namespace=NAMESPACE
                )
            except WSManUnreachable:
                raise
            except WSManFault as exc:
                raise explained_failure(exc, f"{method} of the firewall rule {rule['display_name']!r}") from exc
            if out.get("ReturnValue") != 0:
                msg = f"{method} of the firewall rule {rule['display_name']!r} returned {out.get('ReturnValue')}"
                raise ModuleFailure(
                    msg,
                    error=error_detail(msg, method=f"{RULE_CLASS}.{method}", return_value=out.get("ReturnValue")),
                )
            ctx.applied.append(f"{method.lower()} {rule['display_name']}")
            rule["enabled"] = request.enabled
    result["rules"] = rules
    return result
