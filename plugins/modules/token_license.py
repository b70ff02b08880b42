#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: token_license
short_description: List or remove token-based activation issuance licenses (slmgr /lil, /ril)
version_added: 0.1.0
description:
  - Lists the token-based activation issuance licenses installed on a Windows host, as C(slmgr.vbs /lil) does,
    and removes one by its license ID and version, as C(slmgr.vbs /ril) does, through WMI
    (C(SoftwareLicensingTokenActivationLicense) and its C(Uninstall) method) over the task's WinRM or PSRP connection.
  - With the default O(state=query) nothing is changed; the licenses are returned in RV(licenses).
  - With O(state=absent) every license with that O(ilid) (and O(ilvid), when given) is removed; when none is
    installed, nothing changes, so a second run reports no change.
  - Issuance licenses are installed like any license file, with M(winact.kms.license_file) (C(slmgr /ilc)).
  - Forced token-based activation (C(slmgr /fta)) is not offered. slmgr signs the activation challenge with a
    certificate (and its private key, perhaps on a smart card) through a COM object on the machine that runs
    slmgr; WMI only carries the challenge and the signed response, so a remote module would need the
    certificate's private key on the controller.
options:
  state:
    description:
      - V(query) lists the licenses; V(absent) removes the licenses with O(ilid) (and O(ilvid)).
    type: str
    choices: [query, absent]
    default: query
  ilid:
    description:
      - The issuance license ID (ILID, a GUID), as C(slmgr /lil) shows it. Required with O(state=absent).
      - GUIDs are compared without regard to case or braces.
    type: str
  ilvid:
    description:
      - The license version (ILvID). Omit it to remove every version of O(ilid); C(slmgr /ril) always takes one.
    type: int
attributes:
  check_mode:
    support: full
    description: Lists what would be removed; nothing is written.
  diff_mode:
    support: full
    description: Shows the installed licenses (ILID and version) before and after.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Removing needs an account in the target's local Administrators group (C(slmgr /ril) must run elevated).
  - Windows 7 / Windows Server 2008 R2 and later have the class.
seealso:
  - module: winact.kms.license_file
  - name: SoftwareLicensingTokenActivationLicense class
    description: The WMI class listed and its Uninstall method.
    link: https://learn.microsoft.com/previous-versions/windows/desktop/sppwmi/softwarelicensingtokenactivationlicense
  - name: Slmgr.vbs options for obtaining volume activation information
    description: Microsoft's reference of C(/lil), C(/ril) and C(/fta).
    link: https://learn.microsoft.com/windows-server/get-started/activation-slmgr-vbs-options
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: List the token-based activation licenses (slmgr /lil)
  winact.kms.token_license:
  register: tokens

- name: Remove version 1 of an issuance license (slmgr /ril)
  winact.kms.token_license:
    state: absent
    ilid: 8c1a0c4f-3a6b-4f5e-9d2a-6b7c1e0f2a3b
    ilvid: 1
"""

RETURN = r"""
licenses:
  description: >-
    The licenses installed after the task (in check mode, those that would remain), as C(slmgr /lil) shows them.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 2f8a4d3e-5b1c-5e6f-8a7b-9c0d1e2f3a4b
      ilid: 8c1a0c4f-3a6b-4f5e-9d2a-6b7c1e0f2a3b
      ilvid: 1
      expiration_date: "2027-06-30T00:00:00+00:00"
      description: Corp token-based activation
      additional_info: null
      authorization_status: null
  contains:
    id:
      description: The license's own ID (the key of the WMI instance).
      type: str
    ilid:
      description: The issuance license ID.
      type: str
    ilvid:
      description: The license version.
      type: int
    expiration_date:
      description: When the license stops being usable (UTC, ISO 8601); null when it does not expire.
      type: str
    description:
      description: The text the license's issuer put in it.
      type: str
    additional_info:
      description: Additional information; null when there is none.
      type: str
    authorization_status:
      description: >-
        The HRESULT of the license's authorization in hex, when it is not 0 (C(slmgr /lil) prints it as an error).
      type: str
removed:
  description: The licenses removed (in check mode, that would be removed), in the shape of RV(licenses).
  returned: always
  type: list
  elements: dict
  sample:
    - id: 2f8a4d3e-5b1c-5e6f-8a7b-9c0d1e2f3a4b
      ilid: 8c1a0c4f-3a6b-4f5e-9d2a-6b7c1e0f2a3b
      ilvid: 1
      expiration_date: null
      description: Corp token-based activation
      additional_info: null
      authorization_status: null
error:
  description: >-
    Why the task failed, in the shape every winact.kms module uses; C(docs/error-codes.md) explains every
    code the collection knows.
  returned: on failure
  type: dict
  sample:
    hresult: '0x80070005'
    symbol: E_ACCESSDENIED
    message: Access is denied.
    cause: null
    fix: null
applied:
  description: The IDs of the licenses removed before the failure.
  returned: on failure, when something was already applied
  type: list
  elements: str
  sample: [2f8a4d3e-5b1c-5e6f-8a7b-9c0d1e2f3a4b]
"""
