#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: phone_activation
short_description: Offline (phone) activation of a MAK or retail product with an installation ID and a confirmation ID
version_added: 0.1.0
description:
  - Activates a machine that cannot reach Microsoft's activation servers (air-gapped, MAK), the way
    C(slmgr.vbs /dti) and C(slmgr.vbs /atp) do, through WMI over the task's WinRM or PSRP connection.
  - Without O(confirmation_id) the module only reads the product's installation ID
    (C(SoftwareLicensingProduct.OfflineInstallationId), C(slmgr /dti)) and returns it in
    RV(installation_id), to give to the Microsoft activation center (by phone, or C(slui 4) on another machine).
    Its length differs between Windows versions, so it is returned exactly as Windows reports it.
  - With O(confirmation_id) it deposits the confirmation ID the activation center gave for that installation
    ID (C(DepositOfflineConfirmationId), C(slmgr /atp)), refreshes the license status and reports it. A product
    that is already activated is left alone, so a second run changes nothing.
  - A wrong confirmation ID fails with C(0xC004F02C) explained; the result still carries RV(installation_id).
  - A KMS client (GVLK) product is refused, because it activates against a KMS host (M(winact.kms.activate)).
options:
  confirmation_id:
    description:
      - The confirmation ID (digits; the groups may be separated by spaces or dashes).
      - Omit it to only read the installation ID.
    type: str
  activation_id:
    description:
      - The product to activate (its Activation ID, as in C(slmgr /dti ActID) and C(slmgr /atp CID ActID)).
      - By default the Windows product that has a key installed.
    type: str
attributes:
  check_mode:
    support: full
    description: Reads the installation ID and reports whether a confirmation ID would be deposited; nothing is written.
  diff_mode:
    support: full
    description: Shows the license status before and after.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Needs an account in the target's local Administrators group.
  - The installation ID changes when the product key, or the hardware, changes; ask the activation center again then.
seealso:
  - module: winact.kms.product_key
  - module: winact.kms.license_info
  - name: Slmgr.vbs options for obtaining volume activation information
    description: Microsoft's reference of C(/dti) and C(/atp).
    link: https://learn.microsoft.com/windows-server/get-started/activation-slmgr-vbs-options
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Read the installation ID of the air-gapped machine (slmgr /dti)
  winact.kms.phone_activation:
  register: offline

- name: Show the installation ID to give to the activation center
  ansible.builtin.debug:
    msg: "Installation ID of {{ inventory_hostname }}: {{ offline.installation_id }}"

- name: Deposit the confirmation ID the activation center gave (slmgr /atp)
  winact.kms.phone_activation:
    confirmation_id: "{{ confirmation_ids[inventory_hostname] }}"
"""

RETURN = r"""
activation_id:
  description: The Activation ID of the product.
  returned: always
  type: str
  sample: 2de67392-b7a7-462a-b1ca-108dd189f588
product_name:
  description: The product's C(Name).
  returned: always
  type: str
  sample: Windows(R), Professional edition
installation_id:
  description: >-
    The installation ID (C(OfflineInstallationId)), digits exactly as Windows reports them; their number differs
    between Windows versions.
  returned: always
  type: str
  sample: "123456123456123456123456123456123456123456123456123456123456123"
license_status:
  description: The license status after the task (before, in check mode), e.g. V(Licensed) or V(OOBGrace).
  returned: always
  type: str
  sample: Licensed
activated:
  description: Whether the product is activated (license status Licensed) after the task.
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
    hresult: '0xC004F02C'
    symbol: SL_E_CIDIID_INVALID_DATA
    message: The software Licensing Service reported that the format for the offline activation data is incorrect
    cause: A wrong confirmation ID (CID) was entered for offline (phone) activation.
    fix: Re-enter the confirmation ID.
    method: SoftwareLicensingProduct.DepositOfflineConfirmationId
  contains:
    hresult:
      description: The HRESULT in hex, e.g. C(0xC004F02C) for a wrong confirmation ID; null when there is none.
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
  description: V(confirmation_id) when the confirmation ID was deposited before the failure.
  returned: on failure, when something was already applied
  type: list
  elements: str
  sample: [confirmation_id]
"""
