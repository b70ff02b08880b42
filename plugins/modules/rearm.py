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
reason:
  description: Why nothing was rearmed (C(SkipRearm) is 1); null when the rearm ran.
  returned: always
  type: str
skip_rearm:
  description: Whether the registry value C(SkipRearm) is 1.
  returned: always
  type: bool
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
restart_required:
  description: Whether the machine must restart for the rearm to take effect (true whenever a rearm ran).
  returned: always
  type: bool
error:
  description: >-
    Why the task failed, in the shape every winact.kms module uses; C(docs/error-codes.md) explains every
    code the collection knows.
  returned: on failure
  type: dict
  contains:
    hresult:
      description: The HRESULT in hex, e.g. C(0xC004D307) when no rearm is left; null when there is none.
      type: str
    symbol:
      description: Symbolic name from slerror.h / winerror.h; null when there is none.
      type: str
    message:
      description: Microsoft's message for the code, or the failure's own text.
      type: str
    cause:
      description: The likely cause; null when nothing is known.
      type: str
    fix:
      description: What to do; null when nothing is known.
      type: str
applied:
  description: The rearm, when the failure came after it.
  returned: on failure, when something was already applied
  type: list
  elements: str
"""
