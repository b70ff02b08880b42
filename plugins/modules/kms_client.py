#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kms_client
short_description: Point Windows KMS clients at a KMS host, or back to DNS auto-discovery
version_added: 0.1.0
description:
  - Manages the KMS client settings that C(slmgr.vbs /skms), C(/ckms), C(/skms-domain), C(/ckms-domain),
    C(/skhc) and C(/ckhc) change, through the same WMI methods of C(SoftwareLicensingService)
    (or C(SoftwareLicensingProduct) with O(activation_id)), over the task's WinRM or PSRP connection.
  - Options left out are not touched; a second run with the same options changes nothing.
  - On a machine that is not a KMS host the activation and renewal intervals are the registry values
    C(VLActivationInterval) and C(VLRenewalInterval) (REG_DWORD) under
    C(HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform), because the WMI methods
    that set them are refused there.
  - Changing the KMS host name, port, lookup domain or host caching takes effect at the next activation
    attempt without a restart. Interval changes need an sppsvc restart, see O(restart_service).
  - Runs as an action plugin on the controller; nothing is copied to the host.
options:
  server:
    description:
      - The KMS host to activate against (C(slmgr /skms)), as a fully qualified domain name, a NetBIOS
        name, an IPv4 address or an IPv6 address.
      - An IPv6 address may be given as V(fd00::1) or V([fd00::1]); it is stored in brackets, as slmgr stores it.
      - Give the port in O(port), not in this value. No scheme, path or zone index.
    type: str
  port:
    description:
      - TCP port of the KMS host, 1-65535.
      - When O(server) is given without O(port), a custom port is cleared so the default 1688 applies,
        as C(slmgr /skms host) does.
    type: int
  state:
    description:
      - V(present) applies the options given.
      - V(absent) clears the KMS host name and port (C(slmgr /ckms)), so the client finds a KMS host through
        DNS auto-discovery again. O(server) and O(port) cannot be combined with it.
      - With V(absent), DNS auto-discovery searches O(lookup_domain) when it is given and not empty; otherwise
        the lookup domain is cleared too (C(slmgr /ckms-domain)) and the client searches its own domain.
    type: str
    choices: [present, absent]
    default: present
  lookup_domain:
    description:
      - DNS domain searched for C(_vlmcs._tcp) SRV records instead of the client's own domain (C(slmgr /skms-domain)).
      - An empty value clears it (C(slmgr /ckms-domain)); O(state=absent) clears it too unless it is given.
      - A KMS host name set with O(server) takes precedence over the lookup domain.
    type: str
  host_caching:
    description:
      - Keep using the KMS host last activated against and query DNS only when it fails (C(slmgr /skhc));
        V(false) disables caching (C(slmgr /ckhc)).
    type: bool
  activation_interval:
    description:
      - Minutes between activation attempts of a client that is not activated yet, 15-43200 (C(slmgr /sai)).
      - A client starts with this value and then uses the interval its KMS host sends.
    type: int
  renewal_interval:
    description:
      - Minutes between renewal attempts of an activated client, 15-43200 (C(slmgr /sri)).
    type: int
  activation_type:
    description:
      - Which volume activation types the client may use (C(slmgr /act-type), Windows 8.1 / Server 2012 R2
        and later). V(all) is the default of Windows (C(/act-type 0)); V(ad) allows Active Directory-based
        activation only (1), V(kms) KMS only (2), V(token) token-based activation only (3).
      - Set through C(SetVLActivationTypeEnabled) and cleared back to V(all) through
        C(ClearVLActivationTypeEnabled); read from the registry value C(VLActivationType) (REG_DWORD), which
        Microsoft documents under C(<Application ID>\<Activation ID>) for a product. The service-wide value
        is read from the same name directly under the C(SoftwareProtectionPlatform) key.
      - With V(ad) or V(token) a client no longer activates against a KMS host.
      - Per product with O(activation_id); C(winact.kms.license_info) reports the result as
        C(activation_type_configured).
      - Windows 7 / Server 2008 R2 have no C(/act-type); there V(token) sets the Token-based Activation Only flag
        (C(slmgr /stao), C(DisableKeyManagementServiceActivation(true))) and V(all) clears it (C(/ctao)), read from
        C(KeyManagementServiceActivationDisabled). V(ad) and V(kms) fail there before anything is written, and so
        does O(activation_id) with O(activation_type) (the flag is machine-wide).
    type: str
    choices: [all, ad, kms, token]
  activation_id:
    description:
      - Scope O(server), O(port), O(lookup_domain) and O(activation_type) to one product (its Activation ID, as in
        C(slmgr /skms host ActID)) instead of the global settings. The other options stay global.
    type: str
  application:
    description:
      - V(office) scopes O(server), O(port), O(lookup_domain) and O(activation_type) to the installed Office,
        Project or Visio volume product (Office 2016 to Office LTSC 2024, Windows 8 / Server 2012 and later), the
        way C(ospp.vbs /sethst), C(/setprt), C(/remhst) and C(/skms-domain) set them on the Office product, so
        Office can use another KMS host than Windows. The other options stay global.
      - With several Office volume products installed (Office and Visio, say) choose one with O(activation_id).
      - V(windows) (the default) leaves the scope to O(activation_id), global without it.
    type: str
    choices: [windows, office]
    default: windows
  restart_service:
    description:
      - When to restart the Software Protection service (sppsvc) after a change.
      - V(auto) restarts only when a changed setting needs it to take effect (the intervals).
      - V(always) restarts after any change. V(never) does not restart; RV(restart_required) tells whether
        one is still needed. Nothing is restarted when nothing changed.
    type: str
    choices: [auto, always, never]
    default: auto
attributes:
  check_mode:
    support: full
    description: Reads the current settings only and reports what would change; nothing is written.
  diff_mode:
    support: full
    description: Shows the value before and after of exactly the settings that change.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Needs an account in the target's local Administrators group, like C(slmgr.vbs) remotely.
  - The name and the port are two WMI calls. When setting the port fails right after the name was set, the
    previous name is put back, as C(slmgr /skms) does, and the task fails saying so.
  - "Settings read and written: C(SoftwareLicensingService) properties C(KeyManagementServiceMachine),
    C(KeyManagementServicePort), C(KeyManagementServiceLookupDomain), C(KeyManagementServiceHostCaching);
    registry C(KeyManagementServiceName) and C(KeyManagementServicePort) (REG_SZ) hold the first two."
seealso:
  - module: winact.kms.kms_host
  - module: winact.kms.license_info
  - name: slmgr.vbs options for volume activation
    description: The command-line options whose effect this module declares.
    link: https://learn.microsoft.com/windows-server/get-started/activation-slmgr-vbs-options
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Point clients at the KMS host
  winact.kms.kms_client:
    server: kms01.corp.example.com

- name: Use a KMS host on a custom port
  winact.kms.kms_client:
    server: kms01.corp.example.com
    port: 1700

- name: Use an IPv6 KMS host (stored as [fd00:ec2::250], as slmgr does)
  winact.kms.kms_client:
    server: fd00:ec2::250
    port: 1688

- name: Go back to DNS auto-discovery (slmgr /ckms and /ckms-domain)
  winact.kms.kms_client:
    state: absent

- name: Use DNS auto-discovery and query DNS at every activation (no host caching)
  winact.kms.kms_client:
    state: absent
    host_caching: false

- name: Look up KMS hosts in another DNS domain
  winact.kms.kms_client:
    lookup_domain: east.contoso.com

- name: Let the clients activate only against a KMS host (slmgr /act-type 2)
  winact.kms.kms_client:
    activation_type: kms

- name: Allow every activation type again for one product (slmgr /act-type 0 <ActID>)
  winact.kms.kms_client:
    activation_type: all
    activation_id: "{{ windows_activation_id }}"

- name: Retry activation every hour and renew every 3 days
  winact.kms.kms_client:
    activation_interval: 60
    renewal_interval: 4320
    restart_service: auto

- name: Point one product (by Activation ID) at its own KMS host
  winact.kms.kms_client:
    server: kms-office.corp.example.com
    activation_id: ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03

- name: Point the installed Office volume product at its own KMS host (ospp.vbs /sethst, /setprt)
  winact.kms.kms_client:
    application: office
    server: kms-office.corp.example.com
    port: 1688

- name: Report what would change, with a diff
  winact.kms.kms_client:
    server: kms01.corp.example.com
  check_mode: true
  diff: true
"""

RETURN = r"""
changes:
  description: Names of the settings that changed (in check mode, that would change).
  returned: always
  type: list
  elements: str
  sample: [server, port]
settings:
  description:
    - The client settings in force after the task (in check mode, the current ones).
    - A task without options reports them all. A task with options reports those it manages and those
      SoftwareLicensingService reports in the same query; other registry values are not read.
  returned: always
  type: dict
  sample:
    server: kms01.corp.example.com
    port: 1688
    lookup_domain: null
    host_caching: true
    activation_interval: null
    renewal_interval: null
  contains:
    server:
      description: KMS host name or address; null when none is set (DNS auto-discovery).
      type: str
      sample: kms01.corp.example.com
    port:
      description: KMS host port (1688 when no custom port is set).
      type: int
      sample: 1688
    lookup_domain:
      description: DNS domain searched for KMS SRV records; null when not set.
      type: str
    host_caching:
      description: Whether KMS host caching is enabled.
      type: bool
    activation_type:
      description: >-
        The activation types allowed (V(all), V(ad), V(kms) or V(token)), for the product when O(activation_id)
        is given.
      type: str
      sample: all
    activation_interval:
      description: Activation interval in minutes; null when not configured (Windows uses 120).
      type: int
      sample: 120
    renewal_interval:
      description: Renewal interval in minutes; null when not configured (Windows uses 10080).
      type: int
      sample: 10080
activation_id:
  description: The product the name, port, lookup domain and activation type were scoped to.
  returned: when O(activation_id) is given
  type: str
  sample: "ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03"
restart_required:
  description: >-
    Whether sppsvc must restart for the host's settings to take effect: settings this task changes (or would,
    in check mode) that need a restart, and settings sppsvc still runs with an older value of (see
    RV(restart_owed)). C(restarted) tells whether this task did it.
  returned: always
  type: bool
  sample: false
restart_owed:
  description: >-
    Settings whose restart an earlier change never got (sppsvc reports a value other than the configured one,
    or a restart noted on the host before a change was cut short). With O(restart_service=auto) the task
    restarts sppsvc and reports C(changed).
  returned: when a restart is owed
  type: list
  elements: str
  sample: ["listening_port"]
restarted:
  description: Whether sppsvc was restarted by this task.
  returned: always
  type: bool
  sample: false
diff:
  description: Before and after values of exactly the settings that differ.
  returned: when diff mode is on
  type: dict
  sample: {"before": {"server": null}, "after": {"server": "kms01.corp.example.com"}}
applied:
  description: Settings already applied when the task failed part-way; a rerun converges.
  returned: on failure after a change
  type: list
  elements: str
  sample: ["server"]
may_have_applied:
  description: >-
    Changes whose request reached the host without a usable answer (the connection dropped, the read or the
    WS-Management operation timed out, the answer was corrupt): the host may have carried them out. They
    set C(changed) as well; a rerun reads the host and converges.
  returned: on failure, when a request may have been carried out
  type: list
  elements: str
  sample: ["server"]
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
    method: SoftwareLicensingService.SetKeyManagementServiceMachine
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
"""
