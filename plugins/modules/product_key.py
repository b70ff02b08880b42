#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: product_key
short_description: Install the right Windows product key (GVLK, MAK or KMS host key), or remove it
version_added: 0.1.0
description:
  - Installs a product key with C(SoftwareLicensingService.InstallProductKey) followed by
    C(RefreshLicenseStatus), as C(slmgr.vbs /ipk) does, through WMI over the task's WinRM or PSRP connection.
  - By default it installs the KMS client setup key (GVLK) Microsoft publishes for the installed edition.
    The edition is detected from C(Win32_OperatingSystem.OperatingSystemSKU), C(BuildNumber) and
    C(ProductType), cross-checked with the Windows product's C(LicenseFamily); the localized C(Caption) and the
    registry C(ProductName) (which still says "Windows 10" on Windows 11) are never used.
  - Idempotent, the way SPP itself allows it; the installed key's C(PartialProductKey) (its last five
    characters) is compared with the last five characters of the key to install.
  - With O(state=absent) the product key is uninstalled (C(UninstallProductKey), C(slmgr.vbs /upk)).
  - What is activated is protected. With O(key) omitted, a Windows product that holds a KMS host key (CSVLK),
    or that is activated (C(LicenseStatus) Licensed) with a MAK, Retail or OEM key, keeps its key. The task fails
    naming the installed channel and the key's last five characters (see O(protected_key)). An explicit O(key),
    C(key=gvlk) included, replaces an activated MAK or Retail key (the MAK to KMS conversion). A CSVLK is only
    ever replaced with O(protected_key=replace), because a KMS host that stops being one takes the KMS service
    away from every client of that host. Check mode and diff mode report the same decision.
  - After installing or uninstalling, the C(KeyManagementServiceVersion) registry value is set when a KMS
    host key (CSVLK) is installed and deleted otherwise, exactly as C(slmgr.vbs) does.
  - The collection never shows a product key in full. Its results, diffs, errors and verbose output carry only
    the last five characters (C(XXXXX-XXXXX-XXXXX-XXXXX-T83GX)).
  - ansible-core's own failure messages are another matter, and this module cannot change them - when a task
    fails, ansible-core may print the source lines the task came from, C(no_log) or not. Keep MAKs and KMS host
    keys in vault-encrypted vars files and pass them by variable, as the examples do; never write a key in
    the task or in play vars.
options:
  key:
    description:
      - The product key to install, 5 groups of 5 characters (C(XXXXX-XXXXX-XXXXX-XXXXX-XXXXX)), a MAK, a KMS
        host key (CSVLK), a retail key or a GVLK. Its format is checked before anything is sent to the host.
      - C(gvlk) installs the KMS client setup key of Microsoft's table for the detected edition and build.
        This is the default when O(state=present) and O(key) is omitted.
      - An edition without a published GVLK (Home, evaluation editions, an unknown build) fails, naming the
        detected SKU, build and license family; pass the key explicitly in that case.
      - C(avma) installs Microsoft's Automatic Virtual Machine Activation (AVMA) key for the detected Windows Server
        edition and build (Server 2012 R2 and later Datacenter, Standard and Essentials guests on a Datacenter
        Hyper-V host). Keys that only community sources list (Windows Server 2025) are never picked; pass such
        a key explicitly once checked against Microsoft's page.
      - Ignored with O(state=absent).
      - The value is a secret (C(no_log)); the collection's results show only its last five characters. Pass it
        from a vault-encrypted vars file, never written in the task (see the notes on ansible-core's own
        messages above).
    type: str
  state:
    description:
      - V(present) installs the key; V(absent) uninstalls the installed product key.
    type: str
    choices: [present, absent]
    default: present
  clear_registry:
    description:
      - Also remove the product key from the registry with C(ClearProductKeyFromRegistry) (C(slmgr.vbs /cpky)),
        so malicious code cannot read it there. SPP keeps working with the installed key.
      - The key counts as cleared when the key bytes of the C(DigitalProductId) registry value are zero or
        the value is absent.
    type: bool
    default: false
  activation_id:
    description:
      - Target this product (its C(SoftwareLicensingProduct.ID), the Activation ID) instead of the Windows
        product C(slmgr.vbs) picks (a key installed, not an add-on), e.g. an Office product.
      - With O(state=present) the installed key must land on this product; with O(state=absent) this product's
        key is uninstalled.
    type: str
  application:
    description:
      - Which application's product key to manage.
      - V(windows) is the Windows product (or the one O(activation_id) names).
      - V(office) is the installed Office, Project or Visio volume product (Office 2016 to Office LTSC 2024), which
        licenses through the same Software Protection service on Windows 8 / Server 2012 and later under the
        Office ApplicationID C(0ff1ce15-a989-479d-af46-f275c6370663), as C(ospp.vbs /inpkey) and C(/unpkey) manage
        it. With O(key) omitted (or C(gvlk)) the GVLK of Microsoft's Office table for the installed SKU is
        installed; the SKU is told by its C(LicenseFamily) (e.g. C(Office21ProPlus2021VL_KMS_Client_AE) is Office
        LTSC 2021 Professional Plus). With several volume products installed (Office and Visio, say) choose one
        with O(activation_id). The Windows key is never touched.
      - Office on Windows 7 / Server 2008 R2 licenses through its own service (osppsvc) and is not managed.
      - O(clear_registry) and C(key=avma) concern Windows only and cannot be combined with V(office).
    type: str
    choices: [windows, office]
    default: windows
  protected_key:
    description:
      - What to do when the key would replace a protected one (a CSVLK; or, with O(key) omitted, a MAK, Retail or
        OEM key that has activated the machine).
      - V(fail) fails before anything is written, naming the installed channel, the last five characters and
        this option.
      - V(keep) leaves the installed key, reports RV(kept) and a warning, and does not fail (what the
        C(kms_client) and C(image_prep) roles use by default).
      - V(replace) installs the key anyway. Replacing a CSVLK with a key that is not a CSVLK turns the KMS host
        into a client; whether a key that is not a public GVLK is a CSVLK shows only once SPP has taken it, so
        renewing a CSVLK with a new one needs V(replace) as well.
    type: str
    choices: [fail, keep, replace]
    default: fail
  restart_service:
    description:
      - When to restart the Software Protection service (sppsvc) after a change.
      - V(auto) restarts it when a KMS host key (CSVLK) was installed or removed, as Microsoft instructs after
        installing a KMS host key; V(always) after any change; V(never) leaves it to you (see RV(restart_required)).
    type: str
    choices: [auto, always, never]
    default: auto
attributes:
  check_mode:
    support: full
    description: Reads the host and reports the planned change; nothing is written.
  diff_mode:
    support: full
    description: Shows the installed and the planned key, each as its last five characters only.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Needs an account in the target's local Administrators group (unfiltered token). A standard user gets
    C(0x80070005) (access denied) unless C(UserOperations) allows it (winact.kms.activation_policy).
  - A key that SPP refuses fails with its HRESULT explained, e.g. C(0xC004F050) (invalid key) or C(0xC004F069)
    (the key belongs to another edition).
  - Two keys with the same last five characters cannot be told apart; SPP keeps no more of an installed key.
seealso:
  - module: winact.kms.activate
  - module: winact.kms.license_info
  - plugin: winact.kms.gvlk
    plugin_type: filter
  - name: KMS client activation and product keys
    description: Microsoft's table of GVLKs the catalog is built from.
    link: https://learn.microsoft.com/windows-server/get-started/kms-client-activation-keys
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Install the KMS client setup key (GVLK) of the installed edition
  winact.kms.product_key:

- name: Install a MAK (from a vault-encrypted vars file; results show only its last five characters)
  winact.kms.product_key:
    key: "{{ vault_windows_mak }}"
    clear_registry: true

- name: Give a Hyper-V guest its AVMA key, then activate it against its Datacenter host
  winact.kms.product_key:
    key: avma

- name: Make a server a KMS host (sppsvc restarts so the KMS host key takes effect)
  winact.kms.product_key:
    key: "{{ vault_kms_host_key }}"
    restart_service: auto

- name: Convert a MAK-activated machine to KMS activation (an explicit request for the GVLK)
  winact.kms.product_key:
    key: gvlk

- name: Install the GVLK where the machine is not activated with a MAK, Retail or KMS host key; keep those
  winact.kms.product_key:
    protected_key: keep

- name: Install the GVLK of the installed Office, Project or Visio volume product (Microsoft's Office table)
  winact.kms.product_key:
    application: office

- name: Remove the installed product key
  winact.kms.product_key:
    state: absent
"""

RETURN = r"""
key_source:
  description: >-
    Where the key came from, V(catalog) (the GVLK for the detected edition), V(avma) (Microsoft's AVMA key for
    it) or V(explicit).
  returned: when O(state=present)
  type: str
  sample: catalog
edition:
  description: The catalog row of the detected edition when the GVLK was chosen from the catalog.
  returned: when the key comes from the catalog
  type: dict
  sample:
    edition: Windows Server 2019 Standard
    edition_id: ServerStandard
    product_family: Windows Server 2019
  contains:
    edition:
      description: Microsoft's label of the edition.
      type: str
      sample: Windows Server 2022 Datacenter
    product_family:
      description: Product family.
      type: str
      sample: Windows Server 2022
    edition_id:
      description: EditionID (equals the product's C(LicenseFamily)).
      type: str
      sample: ServerDatacenter
office:
  description: The installed Office SKU, as Microsoft's Office GVLK table names it, when its GVLK was chosen from it.
  returned: with O(application=office), when the key comes from the table
  type: dict
  sample:
    version: Office LTSC 2021
    product: Office Professional Plus
  contains:
    version:
      description: Office version (the table's column).
      type: str
      sample: Office LTSC 2021
    product:
      description: Office, Project or Visio product (the table's row).
      type: str
      sample: Office Professional Plus
kept:
  description: >-
    Why the installed key was kept (O(protected_key=keep)): its channel and last five characters. Null when
    nothing protected stood in the way.
  returned: when O(state=present)
  type: str
  sample: "the Windows product is activated with a Volume:MAK key ending in 2VC3F; the default (key omitted) ..."
previous_partial_product_key:
  description: Last five characters of the key installed before the task; null when none was.
  returned: always
  type: str
  sample: 4DJ9M
partial_product_key:
  description: Last five characters of the key installed now (planned, in check mode).
  returned: always
  type: str
  sample: 7XXBV
product:
  description: >-
    The targeted product as SPP reports it after the change (before it, in check mode), described as in
    RV(winact.kms.license_info#module:windows_product); the most used values are listed here.
  returned: when a product is found
  type: dict
  sample:
    id: de32eafd-aaee-4662-9444-c1befb41bde2
    name: Windows(R), ServerStandard edition
    description: Windows(R) Operating System, VOLUME_KMSCLIENT channel
    product_key_channel: Volume:GVLK
    license_status: 1
    license_status_name: Licensed
    partial_product_key: J464C
    is_kms_host_key: false
  contains:
    id:
      description: Activation ID.
      type: str
    name:
      description: Product name.
      type: str
    description:
      description: Product description with its channel marker.
      type: str
      sample: Windows(R) Operating System, VOLUME_KMSCLIENT channel
    product_key_channel:
      description: Channel of the installed key.
      type: str
      sample: Volume:GVLK
    license_status:
      description: C(LicenseStatus) code.
      type: int
    license_status_name:
      description: Name of the license status.
      type: str
      sample: OOBGrace
    partial_product_key:
      description: Last five characters of the installed key.
      type: str
    is_kms_host_key:
      description: Whether the installed key is a KMS host key (CSVLK).
      type: bool
kms_host_key:
  description: >-
    Whether a KMS host key (CSVLK) is installed on the host after the change. Null in check mode when a key that
    is not a GVLK would be installed: what kind of key it is shows only once SPP has taken it.
  returned: always
  type: bool
  sample: false
registry_cleared:
  description: Whether C(ClearProductKeyFromRegistry) ran (or would run, in check mode).
  returned: when O(clear_registry=true)
  type: bool
  sample: true
restart_required:
  description:
    - Whether sppsvc should restart for the change to take effect (a KMS host key was installed or removed).
    - Null in check mode when a key that is not a public GVLK would be installed, since only SPP can tell whether
      it is a KMS host key; a warning says so.
  returned: always
  type: bool
  sample: false
restarted:
  description: Whether sppsvc was restarted.
  returned: always
  type: bool
  sample: false
may_have_applied:
  description: >-
    Changes whose request reached the host without a usable answer (the connection dropped, the read or the
    WS-Management operation timed out, the answer was corrupt): the host may have carried them out. They
    set C(changed) as well; a rerun reads the host and converges.
  returned: on failure, when a request may have been carried out
  type: list
  elements: str
  sample: ["SoftwareLicensingService.InstallProductKey"]
error:
  description: >-
    Why the task failed, in the shape every winact.kms module uses; C(docs/error-codes.md) explains every
    code the collection knows.
  returned: on failure
  type: dict
  sample:
    hresult: '0xC004F069'
    symbol: SL_E_MISMATCHED_PRODUCT_SKU
    message: The Software Licensing Service reported that the product SKU is not found.
    cause: 'No license for the key''s SKU exists on this installation: for example a GVLK of another edition.'
    fix: Install the GVLK that matches the installed edition (by EditionID).
    method: SoftwareLicensingService.InstallProductKey
    return_value: null
  contains:
    hresult:
      description: >-
        The HRESULT in hex; null when the failure carries none (bad input, a service control code, a lost
        connection).
      type: str
      sample: "0xC004F069"
    symbol:
      description: Symbolic name from slerror.h / winerror.h; null when there is none.
      type: str
      sample: SL_E_MISMATCHED_PRODUCT_SKU
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
  sample: ["InstallProductKey XXXXX-XXXXX-XXXXX-XXXXX-J464C"]
"""
