#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ad_activation
short_description: Active Directory-based activation of a forest with a KMS host key (CSVLK), online or by phone
version_added: 0.1.0
description:
  - Activates an Active Directory forest for Active Directory-based activation, as
    C(slmgr.vbs /ad-activation-online) does (C(SoftwareLicensingService.DoActiveDirectoryOnlineActivation)), or by
    phone as C(/ad-activation-get-iid) and C(/ad-activation-apply-cid) do
    (C(GenerateActiveDirectoryOfflineActivationId), C(DepositActiveDirectoryOfflineActivationConfirmation)),
    through WMI over the task's WinRM or PSRP connection. Windows then publishes an activation object in the
    forest, and its Windows 8 / Windows Server 2012 and later members activate against it.
  - slmgr.vbs refuses to run these options against a remote machine ("not supported for remote execution"). The
    module calls the same WMI methods on the target host; run it against a domain controller of the forest (or
    a member whose connection can reach the directory with the task's credentials, such as Kerberos with
    delegation). The account needs read/write access to the activation objects container of the forest root
    domain; local administrator rights are not needed for the activation itself.
  - No WMI class lists a forest's activation objects (C(slmgr /ao-list) and C(/del-ao) use LDAP, which this
    collection does not speak). So the module reads whether the host itself is activated by an activation object of
    O(activation_object_name) (C(ADActivationObjectName)); if it is, nothing changes. After publishing, a host that
    is a KMS client (GVLK) is activated (O(activate_host)), so it uses the new object at once and a second run
    changes nothing. On a host without a GVLK every run publishes again.
  - With O(offline=true) and no O(confirmation_id) the module only returns the installation ID for the activation
    center (RV(installation_id)); run it again with O(confirmation_id) to publish the object.
options:
  csvlk:
    description:
      - Your KMS host key (CSVLK). It is a secret; results show only its last five characters.
    type: str
    required: true
  activation_object_name:
    description:
      - The activation object's display name, at most 40 characters. When omitted Windows names it.
    type: str
  offline:
    description:
      - Activate by phone. Without O(confirmation_id), only the installation ID is returned.
    type: bool
    default: false
  confirmation_id:
    description:
      - The confirmation ID the activation center gave for the installation ID (digits; groups may be separated by
        spaces or dashes). Implies O(offline=true).
    type: str
  activate_host:
    description:
      - After publishing, activate the host's own Windows KMS client product, so it uses the new activation object now
        (clients otherwise try AD-based activation at their next renewal) and reruns can tell the forest is activated.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: >-
      Reads whether the host is already activated by the object and reports what would be done; nothing is written.
  diff_mode:
    support: full
    description: Shows the activation object that activates the host, before and after.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Windows 8 / Windows Server 2012 or later, in a forest whose schema is Windows Server 2012 or later; a Windows 7
    or Server 2008 R2 host is refused before anything is written.
  - Listing and deleting activation objects (C(slmgr /ao-list), C(/del-ao)) are LDAP operations on the domain and are
    not offered; use the Volume Activation Tools or ADSI Edit (C(CN=Activation Objects,CN=Microsoft SPP,CN=Services,
    CN=Configuration,...)).
  - M(winact.kms.license_info) reports the activation object of a client activated this way (name, DN, extended PID,
    activation ID).
seealso:
  - module: winact.kms.license_info
  - module: winact.kms.kms_client
  - name: Slmgr.vbs options for obtaining volume activation information
    description: Microsoft's reference of the C(/ad-activation-*) options.
    link: https://learn.microsoft.com/windows-server/get-started/activation-slmgr-vbs-options
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Activate the forest with the CSVLK (slmgr /ad-activation-online), on a domain controller
  winact.kms.ad_activation:
    csvlk: "{{ vault_csvlk }}"
    activation_object_name: Corp Windows Server 2022

- name: Offline, step 1 - the installation ID for the activation center (slmgr /ad-activation-get-iid)
  winact.kms.ad_activation:
    csvlk: "{{ vault_csvlk }}"
    offline: true
  register: adba_offline

- name: Offline, step 2 - deposit the confirmation ID (slmgr /ad-activation-apply-cid)
  winact.kms.ad_activation:
    csvlk: "{{ vault_csvlk }}"
    activation_object_name: Corp Windows Server 2022
    confirmation_id: "{{ adba_confirmation_id }}"
"""

RETURN = r"""
csvlk:
  description: The CSVLK, masked to its last five characters.
  returned: always
  type: str
  sample: XXXXX-XXXXX-XXXXX-XXXXX-4MT8D
activation_object_name:
  description: The activation object name asked for; null when Windows names it.
  returned: always
  type: str
  sample: Corp Windows Server 2022
installation_id:
  description: The installation ID to give the activation center (offline, without a confirmation ID).
  returned: when O(offline=true) and no O(confirmation_id) is given
  type: str
  sample: "123456123456123456123456123456123456123456123456123456123456123"
ad_activation:
  description: >-
    The activation object that activated this host (after the task), as C(slmgr /dli) shows it; null when the host
    is not activated by AD-based activation.
  returned: always
  type: dict
  sample:
    object_name: Corp Windows Server 2022
    object_dn: "CN=2F1D0A4E-3C2B-5D7E-9A8B-61637469766F,CN=Activation Objects,CN=Microsoft SPP,CN=Services,\
      CN=Configuration,DC=corp,DC=example,DC=com"
    extended_pid: 06401-00206-123-456789-03-1033-9200.0000-0012025
    activation_id: 5d7c3a2b-9e8f-4a1b-8c6d-2e3f4a5b6c7d
  contains:
    object_name:
      description: The activation object's name.
      type: str
    object_dn:
      description: The activation object's distinguished name.
      type: str
    extended_pid:
      description: The extended product ID of the CSVLK behind the object.
      type: str
    activation_id:
      description: The activation ID (SKU) of the CSVLK behind the object.
      type: str
error:
  description: >-
    Why the task failed, in the shape every winact.kms module uses; C(docs/error-codes.md) explains every
    code the collection knows.
  returned: on failure
  type: dict
  sample:
    hresult: '0xC004F050'
    symbol: SL_E_INVALID_PRODUCT_KEY
    message: The Software Licensing Service reported that the product key is invalid.
    cause: null
    fix: null
    method: SoftwareLicensingService.DoActiveDirectoryOnlineActivation
applied:
  description: V(activation_object) when the object was published before the failure.
  returned: on failure, when something was already applied
  type: list
  elements: str
  sample: [activation_object]
"""
