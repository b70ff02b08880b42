#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: license_file
short_description: Install a license file (XrML) from the controller, as slmgr /ilc does
version_added: 0.1.0
description:
  - Installs a license file's XML on a Windows host, as C(slmgr.vbs /ilc) does, by calling
    C(SoftwareLicensingService.InstallLicense) with the file's text through WMI over the task's WinRM or PSRP
    connection. Nothing is copied to the host.
  - Windows does not validate the license when it is installed; the Software Protection service validates it when
    it uses it. A license that is not well-formed can therefore install and still be of no use.
  - Windows has no WMI query that tells whether a license file is installed. The module records the SHA-256 of each
    license it installs under C(HKLM\SOFTWARE\winact.kms) (value C(InstalledLicenses)) and installs a license only
    when its digest is not recorded there, so a second run changes nothing. A license installed by other means is
    installed once more, which does no harm (InstallLicense replaces a matching license). O(force=true) always installs.
  - C(slmgr /rilc) (reinstall the licenses of C(%SystemRoot%\system32\oem) and C(%SystemRoot%\system32\spp\tokens))
    is not offered. slmgr reads those files with a script running on the machine, then passes their text to
    InstallLicense; WMI over WS-Management cannot read the files of a remote host, so a module on the controller
    cannot do it. Run C(cscript.exe %SystemRoot%\system32\slmgr.vbs /rilc) on the host (for example with
    C(ansible.windows.win_command)), or install the files you need with this module.
options:
  content:
    description:
      - The license's XML text. Give exactly one of O(content) and O(src).
    type: str
  src:
    description:
      - A license file (C(.xrm-ms)) on the controller, found like other modules' C(src) (the role's or play's
        C(files/) folder first). UTF-8 and UTF-16 LE (with a byte order mark) are read, as slmgr reads them.
    type: path
  force:
    description:
      - Install the license even when the record says it is installed.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: >-
      Reads the record of installed licenses and reports whether the license would be installed; nothing is
      written.
  diff_mode:
    support: full
    description: Shows the license's SHA-256 as recorded before and after.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Needs an account in the target's local Administrators group, or a standard account where the
    C(UserOperations) policy allows license installation
    (M(winact.kms.activation_policy) O(winact.kms.activation_policy#module:user_operations)).
  - Token-based activation issuance licenses are installed with this module and listed or removed with
    M(winact.kms.token_license).
seealso:
  - module: winact.kms.token_license
  - name: Slmgr.vbs options for obtaining volume activation information
    description: Microsoft's reference of C(/ilc) and C(/rilc).
    link: https://learn.microsoft.com/windows-server/get-started/activation-slmgr-vbs-options
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Install a license file kept next to the playbook (slmgr /ilc)
  winact.kms.license_file:
    src: files/corp-token-issuance.xrm-ms

- name: Install a license held in a variable
  winact.kms.license_file:
    content: "{{ corp_license_xml }}"
"""

RETURN = r"""
sha256:
  description: The SHA-256 of the license text (UTF-8), as recorded on the host.
  returned: always
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
source:
  description: V(content), or the controller path the license was read from.
  returned: always
  type: str
  sample: files/corp-token-issuance.xrm-ms
recorded:
  description: Whether the host's record lists the license after the task (before it, in check mode).
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
    hresult: '0xC004F025'
    symbol: SL_E_LUA_ACCESSDENIED
    message: The Software Licensing Service reported that the action requires administrator privilege.
    cause: null
    fix: Run elevated.
    method: SoftwareLicensingService.InstallLicense
applied:
  description: V(license) when the license was installed before the failure.
  returned: on failure, when something was already applied
  type: list
  elements: str
  sample: [license]
"""
