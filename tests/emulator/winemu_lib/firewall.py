"""Windows Firewall rules as ``root/StandardCimv2`` ``MSFT_NetFirewallRule`` shows them (the KMS rule only).

The class, its properties and its ``Enable`` / ``Disable`` methods (no parameters, ``uint32`` return,
Windows 8 / Server 2012 and later, namespace ``Root\\StandardCimv2``) follow the "MSFT_NetFirewallRule class"
page of the Windows Firewall with Advanced Security CIM provider documentation
(https://learn.microsoft.com/previous-versions/windows/desktop/wfascimprov/msft-netfirewallrule).
``Enabled`` is the CIM_PolicyRule enumeration: 1 enabled, 2 disabled.
"""

from __future__ import annotations

import dataclasses
import typing as t

from .cim import AccessDenied, CallContext, CimValue, ClassDef, InstanceNotFound, MethodDef

STANDARD_CIMV2 = "root/standardcimv2"
ENABLED = 1
DISABLED = 2

# Assumption: the rule's InstanceID, display name, group and port as on Windows Server 2012 and later
# ("Key Management Service (TCP-In)" in the "Key Management Service" group, inbound TCP 1688 for sppsvc).
KMS_RULE_ID = "SPPSVC-In-TCP"
KMS_RULE_NAME = "Key Management Service (TCP-In)"
KMS_RULE_GROUP = "Key Management Service"
# Assumption: the built-in rule is disabled on a fresh installation; enabling it is a KMS host set-up step.
KMS_RULE_ENABLED_BY_DEFAULT = False


def _method(name: str) -> MethodDef:
    return MethodDef(name=name, inputs={}, outputs={"ReturnValue": "uint32"}, static=False)


MSFT_NET_FIREWALL_RULE = ClassDef(
    name="MSFT_NetFirewallRule",
    namespaces=(STANDARD_CIMV2,),
    properties={
        "InstanceID": "string",
        "ElementName": "string",
        "DisplayName": "string",
        "Description": "string",
        "DisplayGroup": "string",
        "RuleGroup": "string",
        "Enabled": "uint16",
        "Direction": "uint16",
        "Action": "uint16",
        "Profiles": "uint16",
        "EdgeTraversalPolicy": "uint16",
        "PrimaryStatus": "uint16",
        "Status": "string",
        "PolicyStoreSourceType": "uint16",
        "PolicyStoreSource": "string",
    },
    keys=("InstanceID",),
    methods={"Enable": _method("Enable"), "Disable": _method("Disable")},
)


@dataclasses.dataclass
class FirewallRules:
    """The machine's firewall rules that the emulator knows (the KMS host rule)."""

    on_change: t.Callable[[], None]
    kms_rule_enabled: bool = KMS_RULE_ENABLED_BY_DEFAULT

    def instances(self) -> list[dict[str, CimValue]]:
        return [
            {
                "InstanceID": KMS_RULE_ID,
                "ElementName": KMS_RULE_NAME,
                "DisplayName": KMS_RULE_NAME,
                "Description": "Inbound rule for the Key Management Service to allow for machine counting and "
                "license compliance. [TCP 1688]",
                "DisplayGroup": KMS_RULE_GROUP,
                "RuleGroup": KMS_RULE_GROUP,
                "Enabled": ENABLED if self.kms_rule_enabled else DISABLED,
                "Direction": 1,  # inbound
                "Action": 2,  # allow
                "Profiles": 0,  # any
                "EdgeTraversalPolicy": 0,
                "PrimaryStatus": 1,
                "Status": "The rule was parsed successfully from the store. (65536)",
                "PolicyStoreSourceType": 1,  # local
                "PolicyStoreSource": "PersistentStore",
            }
        ]

    def invoke(self, method: str, keys: t.Mapping[str, str], ctx: CallContext) -> dict[str, CimValue]:
        if keys["InstanceID"].lower() != KMS_RULE_ID.lower():
            raise InstanceNotFound(f"No MSFT_NetFirewallRule with InstanceID {keys['InstanceID']!r}")
        if not ctx.is_admin:
            # Assumption: like the other writes, changing a firewall rule needs an administrator.
            raise AccessDenied("Access is denied.")
        wanted = method == "Enable"
        if wanted != self.kms_rule_enabled:
            self.kms_rule_enabled = wanted
            self.on_change()
        return {"ReturnValue": 0}

    def state(self) -> dict[str, t.Any]:
        return {KMS_RULE_ID: {"display_name": KMS_RULE_NAME, "enabled": self.kms_rule_enabled}}
