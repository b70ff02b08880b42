#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kms_firewall
short_description: Open (or close) the built-in Key Management Service firewall rule of a KMS host
version_added: 0.1.0
description:
  - Enables or disables the inbound rules of the built-in Windows Firewall group C(Key Management Service)
    (TCP 1688 for the Software Protection service), which a KMS host needs open so clients can reach it.
  - Works through the C(MSFT_NetFirewallRule) class of the C(root/StandardCimv2) WMI namespace (its C(Enable)
    and C(Disable) methods, the calls C(Enable-NetFirewallRule) makes), over the task's WinRM or PSRP connection.
  - Only the rules of that group are touched; a second run changes nothing.
  - A KMS host on a custom port (winact.kms.kms_host O(winact.kms.kms_host#module:listening_port)) needs its own
    rule for that port; the built-in rule covers TCP 1688.
options:
  enabled:
    description:
      - V(true) enables the rules of the group, V(false) disables them.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Reads the rules only and reports what would change; nothing is written.
  diff_mode:
    support: full
    description: Shows each rule that changes, enabled before and after.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Needs an account in the target's local Administrators group.
  - C(root/StandardCimv2) exists on Windows 8 / Windows Server 2012 and later.
seealso:
  - module: winact.kms.kms_host
  - name: MSFT_NetFirewallRule class
    description: The WMI class and its Enable and Disable methods.
    link: https://learn.microsoft.com/previous-versions/windows/desktop/wfascimprov/msft-netfirewallrule
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Let KMS clients reach the KMS host (TCP 1688)
  winact.kms.kms_firewall:

- name: Close the KMS port again
  winact.kms.kms_firewall:
    enabled: false
"""

RETURN = r"""
changes:
  description: Display names of the rules that changed (in check mode, that would change).
  returned: always
  type: list
  elements: str
  sample: ["Key Management Service (TCP-In)"]
rules:
  description: The rules of the group after the task (in check mode, as they are).
  returned: on success
  type: list
  elements: dict
  contains:
    instance_id:
      description: The rule's C(InstanceID) (the C(-Name) of C(Get-NetFirewallRule)).
      type: str
      sample: "SPPSVC-In-TCP"
    display_name:
      description: The rule's display name.
      type: str
      sample: "Key Management Service (TCP-In)"
    enabled:
      description: Whether the rule is enabled.
      type: bool
      sample: true
diff:
  description: Each rule that differs, enabled before and after.
  returned: when diff mode is on
  type: dict
  sample: {"before": {"Key Management Service (TCP-In)": false}, "after": {"Key Management Service (TCP-In)": true}}
error:
  description: >-
    Why the task failed, in the shape every winact.kms module uses; C(docs/error-codes.md) explains every
    code the collection knows.
  returned: on failure
  type: dict
  sample:
    hresult: '0x80070005'
    symbol: E_ACCESSDENIED
    message: 'Access denied: the requested action requires elevated privileges'
    cause: 'UAC: the command ran without elevation.'
    fix: Run slmgr.vbs from an elevated prompt; remotely, connect with an account that is a local administrator
      of the host (inferred).
    method: MSFT_NetFirewallRule.Enable
    return_value: null
  contains:
    hresult:
      description: >-
        The HRESULT in hex; null when the failure carries none (bad input, a service control code, a lost
        connection).
      type: str
      sample: "0xC004F074"
    symbol:
      description: Symbolic name from slerror.h / winerror.h; null when there is none.
      type: str
      sample: SL_E_VL_BINDING_SERVICE_UNAVAILABLE
    message:
      description: Microsoft's message for the code, or the failure's own text.
      type: str
    cause:
      description: The likely cause; null when nothing is known.
      type: str
    fix:
      description: What to do; null when nothing is known.
      type: str
    wsman:
      description: >-
        The WS-Management fault or transport failure behind it (C(type), C(message), C(hresult), and where
        the host sent them C(code), C(subcode), C(wsman_code), C(provider_message)).
      returned: when the failure came over WS-Management
      type: dict
    method:
      description: The method that failed, e.g. C(SoftwareLicensingService.InstallProductKey).
      returned: when a method call failed
      type: str
    return_value:
      description: The method's ReturnValue.
      returned: when a method returned a failure code
      type: int
applied:
  description: >-
    The changes made before the failure (the failure also sets C(changed)); a rerun converges to the
    settings asked for.
  returned: on failure, when something was already applied
  type: list
  elements: str
  sample: ["Key Management Service (TCP-In)"]
"""
