#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rearm
short_description: Rearm Windows, one application or one SKU (reset the licensing state and the CMID)
version_added: 0.1.0
description:
  - Resets the licensing state to the out-of-box grace period with C(SoftwareLicensingService.ReArmWindows)
    (C(slmgr.vbs /rearm)), C(ReArmApp) for one application (C(slmgr.vbs /rearm-app)) or
    C(SoftwareLicensingProduct.ReArmSku) for one SKU (C(slmgr.vbs /rearm-sku)), through WMI over the task's
    WinRM or PSRP connection.
  - A Windows rearm also clears the client machine ID (CMID), which is how Microsoft fixes clones that share
    one CMID and that a KMS host therefore counts as one client (C(0xC004F038)); run it, restart, then activate.
  - A rearm takes effect after a restart; the module reports RV(restart_required) and does not restart the
    machine itself.
  - With the registry value C(SkipRearm) set to 1, Windows ignores a Windows rearm; the module then runs
    nothing, reports RV(rearmed=false) with the RV(reason), and warns.
  - A rearm is an action, not a state. Every run that rearms reports C(changed), and each one spends one of
    the remaining rearms (RV(remaining_rearm_count)); with none left the task fails before calling anything.
options:
  application_id:
    description:
      - Rearm this application (its C(ApplicationID), e.g. an Office application) with C(ReArmApp) instead of
        Windows.
    type: str
  activation_id:
    description:
      - Rearm this SKU (its C(SoftwareLicensingProduct.ID), the Activation ID) with C(ReArmSku) instead of
        Windows.
    type: str
attributes:
  check_mode:
    support: full
    description: Reads the host and reports whether a rearm would run; nothing is called.
  diff_mode:
    support: full
    description: Shows the remaining rearm count before and after.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Needs an account in the target's local Administrators group (unfiltered token), or C(UserOperations)
    (winact.kms.activation_policy) for a Windows rearm.
  - Windows 7 and Windows Server 2008 R2 allow 3 rearms per installation; later versions 1001
    (sysprep C(/generalize) runs one).
seealso:
  - module: winact.kms.license_info
  - module: winact.kms.activation_policy
  - name: Slmgr.vbs options for obtaining volume activation information
    description: Microsoft's reference of C(/rearm), C(/rearm-app) and C(/rearm-sku).
    link: https://learn.microsoft.com/windows-server/get-started/activation-slmgr-vbs-options
  - name: Resolve Windows activation error 0xC004F038 caused by a duplicate CMID
    description: Why clones share a CMID, and the rearm that fixes it.
    link: https://github.com/MicrosoftDocs/SupportArticles-docs/blob/main/support/azure/virtual-machines/windows-activation-duplicate-client-machine-id.md
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Give a clone its own CMID (it shared the image's), then restart and activate
  winact.kms.rearm:
  register: rearmed

- name: Restart for the rearm to take effect (needs ansible.windows)
  ansible.windows.win_reboot:
  when: rearmed.restart_required

- name: Rearm one SKU
  winact.kms.rearm:
    activation_id: 73111121-5638-40f6-bc11-f1d7b0d64300
"""

RETURN = r"""
scope:
  description: What was (or would be) rearmed, V(windows), V(application) or V(sku).
  returned: always
  type: str
  sample: windows
rearmed:
  description: Whether the rearm ran (would run, in check mode).
  returned: always
  type: bool
  sample: true
reason:
  description: Why nothing was rearmed (C(SkipRearm) is 1); null when the rearm ran.
  returned: always
  type: str
  sample: null
skip_rearm:
  description: Whether the registry value C(SkipRearm) is 1.
  returned: always
  type: bool
  sample: false
remaining_rearm_count_before:
  description: >-
    The remaining rearm count before the task (C(RemainingWindowsReArmCount), C(RemainingAppReArmCount) or
    C(RemainingSkuReArmCount)).
  returned: always
  type: int
  sample: 1001
remaining_rearm_count:
  description: The remaining rearm count after the rearm (planned, in check mode).
  returned: when a rearm ran or would run
  type: int
  sample: 1000
client_machine_id_before:
  description: The client machine ID (CMID) before the rearm; a Windows rearm clears it.
  returned: always
  type: str
  sample: "6a3c1d2e-5b4f-4e8a-9c7d-0f1e2d3c4b5a"
restart_required:
  description: Whether the machine must restart for the rearm to take effect (true whenever a rearm ran).
  returned: always
  type: bool
  sample: true
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
    method: SoftwareLicensingService.ReArmWindows
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
  description: The rearm, when the failure came after it.
  returned: on failure, when something was already applied
  type: list
  elements: str
  sample: ["ReArmWindows"]
"""
