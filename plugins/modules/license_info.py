#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: license_info
short_description: Report a Windows host's licensing and KMS state
version_added: 0.1.0
description:
  - Reads the operating system identity, the Windows product(s) with an installed key, the KMS client
    settings and, on a KMS host, the host's state, through WMI over the task's WinRM or PSRP connection.
  - Nothing is uploaded to the host and no localized text is parsed; this is the WMI API that
    C(slmgr.vbs /dli) and VAMT use remotely.
  - Only products of the Windows application (ApplicationID C(55c92734-d682-4d71-983e-d6ec3f16059f)) are
    reported, so Office or other SPP-licensed products never mix in.
  - Product keys are never returned in full; only the last five characters SPP itself keeps
    (C(PartialProductKey)).
  - Also returns the same data as the C(winact_kms) fact, for roles and reports.
  - Runs as an action plugin on the controller; C(gather_facts) is not needed and can be disabled.
  - On a KMS host whose current count is below the activation thresholds (5 for Windows Server, 25 for Windows
    client editions) it warns and says what that means for the clients.
  - With O(events=true) it also returns the latest KMS events, decoded.
options:
  activation_id:
    description:
      - Report this product (its SoftwareLicensingProduct C(ID), the Activation ID) in RV(products) instead of
        the Windows products that have a key installed. It may belong to any application (Windows, Office, ...);
        RV(windows_product) stays the Windows product.
      - The task fails when no product has this ID.
    type: str
  events:
    description:
      - Also read the latest KMS events through C(Win32_NTLogEvent) and return them decoded (HRESULT explained,
        status flags named, every field of the event's Info block by name) as RV(events).
      - Client events come from the Application log (12288 request sent, 12289 response processed); on a KMS
        host, 12290 (request processed) from the Key Management Service log as well.
      - Reading an event log over WMI scans it on the host; on hosts with very large Application logs this
        takes a few seconds.
    type: bool
    default: false
  event_count:
    description:
      - How many events of each log to return, newest first, with O(events=true); 0-1000.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Reports state and never changes it, so there is nothing to diff.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Needs an account in the target's local Administrators group (unfiltered token), like any WMI
    licensing query over WinRM.
seealso:
  - name: slmgr.vbs options for obtaining volume activation information
    description: The command-line tool whose C(/dli) and C(/dlv) output this module returns as data.
    link: https://learn.microsoft.com/windows-server/get-started/activation-slmgr-vbs-options
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Read licensing state
  winact.kms.license_info:
  register: lic

- name: Show the activation status
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }}: {{ lic.windows_product.license_status_name }}"

- name: Fail when Windows is not activated
  ansible.builtin.assert:
    that: ansible_facts.winact_kms.windows_product.license_status == 1
    fail_msg: "Windows is not activated on {{ inventory_hostname }}"

- name: Show why the last activation attempts failed
  winact.kms.license_info:
    events: true
    event_count: 3
  register: lic_events

- name: Print the latest KMS request results
  ansible.builtin.debug:
    msg: "{{ lic_events.events.client | map(attribute='error') | select | map(attribute='symbol') | list }}"

- name: Report one product by Activation ID
  winact.kms.license_info:
    activation_id: ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03
"""

RETURN = r"""
os:
  description: Operating system identity, from C(Win32_OperatingSystem) and the Windows product.
  returned: always
  type: dict
  sample:
    caption: Microsoft Windows Server 2019 Standard
    version: 10.0.17763
    build_number: 17763
    operating_system_sku: 7
    product_type: 3
    edition_id: ServerStandard
    architecture: 64-bit
    computer_name: SRV01
  contains:
    caption:
      description: Localized OS name; for display only, never used to pick keys.
      type: str
      sample: Microsoft Windows Server 2022 Datacenter
    version:
      description: OS version.
      type: str
      sample: 10.0.20348
    build_number:
      description: OS build number.
      type: int
      sample: 20348
    operating_system_sku:
      description: The C(PRODUCT_*) value of the installed edition.
      type: int
      sample: 8
    product_type:
      description: 1 workstation, 2 domain controller, 3 server.
      type: int
      sample: 3
    edition_id:
      description: The edition (EditionID), read from the Windows product's C(LicenseFamily).
      type: str
      sample: ServerDatacenter
    architecture:
      description: OS architecture.
      type: str
      sample: 64-bit
    computer_name:
      description: The host's computer name.
      type: str
      sample: KMS01
products:
  description: Windows products with an installed key, or the one product asked for with O(activation_id).
  returned: always
  type: list
  elements: dict
  sample:
    - id: de32eafd-aaee-4662-9444-c1befb41bde2
      name: Windows(R), ServerStandard edition
      description: Windows(R) Operating System, VOLUME_KMSCLIENT channel
      license_family: ServerStandard
      license_status: 1
      license_status_name: Licensed
      license_status_reason: '0x00000000'
      product_key_channel: Volume:GVLK
      partial_product_key: J464C
      is_kms_host_key: false
      grace_period_remaining_minutes: 259199
      grace_period_expires: '2027-06-04T21:46:50+00:00'
      kms_machine: kms01.corp.example.com
      kms_port: 1688
      kms_lookup_domain: null
      activation_type_configured: All
      activation_type_used: KMS
      avma: null
      ad_activation: null
  contains:
    id:
      description: Activation ID (C(SoftwareLicensingProduct.ID)).
      type: str
    name:
      description: Product name.
      type: str
      sample: Windows(R), ServerDatacenter edition
    description:
      description: Product description; its channel marker tells GVLK, MAK and KMS host keys apart.
      type: str
      sample: Windows(R) Operating System, VOLUME_KMSCLIENT channel
    license_family:
      description: License family (equals the EditionID).
      type: str
    license_status:
      description: C(LicenseStatus) code.
      type: int
      sample: 1
    license_status_name:
      description: >-
        Name of the status: Unlicensed, Licensed, OOBGrace, OOTGrace, NonGenuineGrace, Notification,
        ExtendedGrace.
      type: str
      sample: Licensed
    license_status_reason:
      description: C(LicenseStatusReason) HRESULT in hex.
      type: str
      sample: "0x00000000"
    product_key_channel:
      description: Channel of the installed key.
      type: str
      sample: Volume:GVLK
    partial_product_key:
      description: Last five characters of the installed key.
      type: str
      sample: 4DJ9M
    is_kms_host_key:
      description: Whether the installed key is a KMS host key (CSVLK).
      type: bool
    grace_period_remaining_minutes:
      description: Minutes until the activation (or grace period) expires; 0 when permanent.
      type: int
      sample: 259200
    grace_period_expires:
      description: When the activation or grace period expires (UTC, ISO 8601), computed from the host's clock.
      type: str
      sample: "2027-05-21T06:00:00+00:00"
    kms_machine:
      description: KMS host name registered for this product only (per-product setting).
      type: str
    kms_port:
      description: KMS port registered for this product only.
      type: int
    kms_lookup_domain:
      description: DNS lookup domain registered for this product only.
      type: str
    remaining_sku_rearm_count:
      description: C(RemainingSkuReArmCount), the rearms left for this SKU (C(slmgr /dlv) "Remaining SKU rearm count").
      type: int
      sample: 1001
    remaining_app_rearm_count:
      description: C(RemainingAppReArmCount), the rearms left for the product's application.
      type: int
    trusted_time:
      description: C(TrustedTime), the licensing service's trusted time (UTC, ISO 8601); null when not set.
      type: str
    evaluation_end_date:
      description: >-
        C(EvaluationEndDate) of an evaluation edition (UTC, ISO 8601); null when the product has none (the
        property is 0).
      type: str
    activation_type_configured:
      description: >-
        The volume activation types allowed (C(VLActivationTypeEnabled), C(slmgr /act-type)): V(All), V(AD),
        V(KMS) or V(Token), as C(slmgr /dlv) prints "Configured Activation Type".
      type: str
      sample: All
    activation_type_used:
      description: >-
        The activation type of the last successful volume activation (C(VLActivationType)): V(AD), V(KMS) or
        V(Token); null when the product was never volume-activated.
      type: str
      sample: KMS
    avma:
      description: >-
        For an Automatic Virtual Machine Activation (AVMA) guest product (C(VIRTUAL_MACHINE_ACTIVATION)), what
        C(slmgr /dlv) prints about its Hyper-V host; null for other products. Each value is null when not set.
      type: dict
      contains:
        guest_iaid:
          description: The guest's C(IAID).
          type: str
        host_machine_name:
          description: The Hyper-V host that activated the guest (C(AutomaticVMActivationHostMachineName)).
          type: str
        last_activation_time:
          description: The last AVMA activation, a CIM datetime (C(AutomaticVMActivationLastActivationTime)).
          type: str
        host_digital_pid2:
          description: The host's Digital PID2 (C(AutomaticVMActivationHostDigitalPid2)).
          type: str
    ad_activation:
      description: >-
        When the product's last activation was Active Directory-based (C(VLActivationType) 1), the activation object
        that activated it, as C(slmgr /dli) prints "AD Activation client information"; null otherwise. Each value is
        null when not set.
      type: dict
      sample:
        object_name: Corp Windows Server 2022
        object_dn: "CN=2F1D0A4E-3C2B-5D7E-9A8B-61637469766F,CN=Activation Objects,CN=Microsoft SPP,CN=Services,\
          CN=Configuration,DC=corp,DC=example,DC=com"
        extended_pid: 06401-00206-123-456789-03-1033-9200.0000-0012025
        activation_id: 5d7c3a2b-9e8f-4a1b-8c6d-2e3f4a5b6c7d
      contains:
        object_name:
          description: The activation object's name (C(ADActivationObjectName)).
          type: str
        object_dn:
          description: The activation object's distinguished name (C(ADActivationObjectDN)).
          type: str
        extended_pid:
          description: The extended product ID of the CSVLK behind the object (C(ADActivationCsvlkPid)).
          type: str
        activation_id:
          description: The activation ID of the CSVLK behind the object (C(ADActivationCsvlkSkuId)).
          type: str
office_products:
  description: >-
    The Office, Project and Visio products with a key installed (ApplicationID
    C(0ff1ce15-a989-479d-af46-f275c6370663), licensed through the same Software Protection service on Windows 8
    and later), with the same fields as RV(products), plus C(office) (its version and product as Microsoft's
    Office GVLK table names them; null for a SKU the table does not name) and C(gvlk_installed) (the installed
    key is that table's GVLK); empty when there is none. C(kms_machine) and C(kms_port) show the KMS host the
    product uses (its own, set with C(winact.kms.kms_client) and C(application=office), else the machine's).
  returned: always
  type: list
  elements: dict
  sample:
    - id: d450596f-894d-49e0-966a-fd39ed4c4c64
      name: Office 16, Office16ProPlusVL_KMS_Client edition
      description: Office 16, VOLUME_KMSCLIENT channel
      license_family: Office16ProPlusVL_KMS_Client
      license_status: 1
      license_status_name: Licensed
      license_status_reason: '0x00000000'
      product_key_channel: Volume:GVLK
      partial_product_key: WFG99
      is_kms_host_key: false
      grace_period_remaining_minutes: 259199
      grace_period_expires: '2027-06-04T21:46:50+00:00'
      kms_machine: null
      kms_port: null
      kms_lookup_domain: null
      remaining_sku_rearm_count: 1000
      remaining_app_rearm_count: 1000
      trusted_time: '2026-12-06T21:46:50+00:00'
      evaluation_end_date: null
      activation_type_configured: All
      office:
        version: Office 2016
        product: Office Professional Plus
      gvlk_installed: true
      activation_type_used: KMS
      avma: null
      ad_activation: null
windows_product:
  description: The Windows product C(slmgr.vbs) reports (a key installed, not an add-on); null when none.
  returned: always
  type: dict
  sample:
    id: de32eafd-aaee-4662-9444-c1befb41bde2
    name: Windows(R), ServerStandard edition
    description: Windows(R) Operating System, VOLUME_KMSCLIENT channel
    license_family: ServerStandard
    license_status: 1
    license_status_name: Licensed
    license_status_reason: '0x00000000'
    product_key_channel: Volume:GVLK
    partial_product_key: J464C
    is_kms_host_key: false
    grace_period_remaining_minutes: 259199
    grace_period_expires: '2027-06-04T21:46:50+00:00'
    kms_machine: kms01.corp.example.com
    kms_port: 1688
    kms_lookup_domain: null
    activation_type_configured: All
    activation_type_used: KMS
    avma: null
    ad_activation: null
client_machine_id:
  description: >-
    The client machine ID (CMID) a KMS host counts. Clones that share one are counted once; sysprep
    C(/generalize) with C(SkipRearm) 0 or a rearm (winact.kms.rearm) clears it and the next boot makes a new one.
  returned: always
  type: str
  sample: 6a3c1d2e-5b4f-4e8a-9c7d-0f1e2d3c4b5a
is_kms_host:
  description: Whether the machine is a KMS host (C(IsKeyManagementServiceMachine)).
  returned: always
  type: bool
  sample: false
sppsvc:
  description: The Software Protection service (C(Win32_Service) C(sppsvc)); licensing fails while it is disabled.
  returned: always
  type: dict
  contains:
    name:
      description: Service name.
      type: str
      sample: sppsvc
    state:
      description: C(State), e.g. V(Running) or V(Stopped) (it stops itself when idle).
      type: str
      sample: Running
    start_mode:
      description: C(StartMode), e.g. V(Auto), V(Manual) or V(Disabled).
      type: str
      sample: Auto
rearm:
  description: The rearms left (C(slmgr /dlv) "Remaining Windows rearm count" and "Remaining SKU rearm count").
  returned: always
  type: dict
  contains:
    remaining_windows_rearm_count:
      description: C(RemainingWindowsReArmCount); 3 per installation on Windows 7 / 2008 R2, 1001 later.
      type: int
      sample: 1001
    remaining_sku_rearm_count:
      description: C(RemainingSkuReArmCount) of the Windows product; null without a key.
      type: int
      sample: 1001
kms_client:
  description: KMS client settings and what the client discovered.
  returned: always
  type: dict
  sample:
    client_machine_id: 0d25c18e-9106-5ecf-a547-9e06018688eb
    registered_name: kms01.corp.example.com
    registered_port: 1688
    lookup_domain: null
    host_caching: true
    discovered_name: kms01.corp.example.com
    discovered_port: 1688
    discovered_ip: 192.0.2.10
    activation_interval: 120
    renewal_interval: 10080
    token_activation_only: null
  contains:
    client_machine_id:
      description: Client machine ID (CMID) the KMS host counts.
      type: str
    registered_name:
      description: KMS host set with C(/skms); null when the client uses DNS auto-discovery.
      type: str
    registered_port:
      description: KMS port (1688 when none is set).
      type: int
    lookup_domain:
      description: Domain searched for C(_vlmcs._tcp) records (C(/skms-domain)).
      type: str
    host_caching:
      description: Whether the client keeps using the KMS host it last activated against.
      type: bool
    discovered_name:
      description: KMS host the client last used.
      type: str
    discovered_port:
      description: Port of the KMS host the client last used.
      type: int
    discovered_ip:
      description: IP address of the KMS host the client last used.
      type: str
    activation_interval:
      description: Minutes between activation attempts while unactivated.
      type: int
      sample: 120
    renewal_interval:
      description: Minutes between renewal attempts once activated.
      type: int
      sample: 10080
    token_activation_only:
      description: >-
        Windows 7 / Windows Server 2008 R2 only, where it is the activation type: whether the Token-based Activation
        Only flag is set (C(KeyManagementServiceActivationDisabled), C(slmgr /stao)); null on later Windows, which
        report C(activation_type_configured) per product instead.
      type: bool
      sample: false
kms_host:
  description: KMS host state; null when the host is not a KMS host.
  returned: always
  type: dict
  sample:
    enabled: true
    current_count: 31
    activates_server_os: true
    activates_client_os: true
    required_count: 25
    thresholds:
      client_os: 25
      server_os: 5
    listening_port: 1688
    dns_publishing: true
    low_priority: false
    requests:
      total: 31
      failed: 0
      unlicensed: 0
      licensed: 12
      oob_grace: 19
      oot_grace: 0
      non_genuine_grace: 0
      notification: 0
  contains:
    enabled:
      description: Always true when present.
      type: bool
    current_count:
      description: Clients counted in the last 30 days (null when the host has not counted any).
      type: int
    activates_server_os:
      description: Whether the count reaches the 5 that Windows Server clients need.
      type: bool
    activates_client_os:
      description: Whether the count reaches the 25 that Windows client editions need.
      type: bool
    required_count:
      description: Count this host reports as required to activate.
      type: int
    thresholds:
      description: Counts a KMS host needs before activating client OSes (25) and server OSes (5).
      type: dict
    listening_port:
      description: TCP port the KMS host listens on.
      type: int
      sample: 1688
    dns_publishing:
      description: Whether the host publishes its C(_vlmcs._tcp) SRV record.
      type: bool
    low_priority:
      description: Whether the KMS service runs at low priority.
      type: bool
    requests:
      description: Cumulative request counters (total, failed, unlicensed, licensed, grace states, notification).
      type: dict
events:
  description: The latest KMS events, newest first, decoded.
  returned: when O(events=true)
  type: dict
  sample:
    client:
    - event_id: 12289
      summary: activation response from a KMS host processed
      record_number: 2
      time_generated: '2026-12-06T21:47:42+00:00'
      info:
      - '0x00000000'
      - '0x00000000'
      - '1'
      - '0'
      - '31'
      - '120'
      - '10080'
      - 2026/12/06 21:47
      hresult: '0x00000000'
      success: true
      error: null
      status_flags: '0x00000000'
      status_flag_names: []
      activated: true
      kms_current_count: 31
      activation_interval: 120
      renewal_interval: 10080
    - event_id: 12288
      summary: activation request sent to a KMS host
      record_number: 1
      time_generated: '2026-12-06T21:47:42+00:00'
      info:
      - '0x00000000'
      - '0x00000000'
      - kms01.corp.example.com:1688
      - 0d25c18e-9106-5ecf-a547-9e06018688eb
      - 2026/12/06 21:47
      - '0'
      - '2'
      - '43199'
      - de32eafd-aaee-4662-9444-c1befb41bde2
      - '5'
      hresult: '0x00000000'
      success: true
      error: null
      status_flags: '0x00000000'
      status_flag_names: []
      kms_server: kms01.corp.example.com:1688
      client_machine_id: 0d25c18e-9106-5ecf-a547-9e06018688eb
      client_time: 2026/12/06 21:47
      license_status: 2
      license_status_name: OOBGrace
      time_to_expiration_minutes: 43199
      activation_id: de32eafd-aaee-4662-9444-c1befb41bde2
      n_policy: 5
    host: []
  contains:
    client:
      description: Events 12288 and 12289 from the Application log.
      type: list
      elements: dict
      contains:
        event_id:
          description: 12288 (request sent), 12289 (response processed) or 12290 (request processed, on a host).
          type: int
        summary:
          description: What the event records.
          type: str
        record_number:
          description: The record number in its log.
          type: int
        time_generated:
          description: When the event was logged (ISO 8601, with the host's UTC offset).
          type: str
        info:
          description: The raw fields of the event's Info block.
          type: list
          elements: str
        hresult:
          description: The result of the request, in hex.
          type: str
          sample: "0xC004F06C"
        success:
          description: Whether the HRESULT is 0.
          type: bool
        error:
          description: The HRESULT explained (hresult, symbol, message, cause, fix); null on success.
          type: dict
        status_flags:
          description: Status flags in hex (12288, 12289).
          type: str
        status_flag_names:
          description: Names of the status flags set, e.g. C(SL_VL_BINDING_ERROR_NOT_ENOUGH_COUNT).
          type: list
          elements: str
        kms_server:
          description: KMS host and port the request went to (12288).
          type: str
          sample: kms01.corp.example.com:1688
        client_machine_id:
          description: The client's CMID (12288, 12290).
          type: str
        client_time:
          description: The client's time as the event states it (12288, 12289, 12290).
          type: str
        license_status:
          description: The client's license status code (12288, 12290), and C(license_status_name) its name.
          type: int
        time_to_expiration_minutes:
          description: Minutes until the client's current state expires (12288, 12290).
          type: int
        activation_id:
          description: The product's Activation ID (12288, 12290).
          type: str
        n_policy:
          description: The minimum count the client needs, 25 or 5 (12288).
          type: int
        activated:
          description: Whether the response activated the client (12289).
          type: bool
        kms_current_count:
          description: The KMS host's count reported in the response (12289).
          type: int
        activation_interval:
          description: Activation retry interval from the response, minutes (12289).
          type: int
        renewal_interval:
          description: Renewal interval from the response, minutes (12289).
          type: int
    host:
      description: >-
        Events 12290 from the Key Management Service log on a KMS host (empty elsewhere), with C(minimum_count),
        C(client_name), C(client_machine_id), C(client_time), C(license_status), C(time_to_expiration_minutes) and
        C(activation_id).
      type: list
      elements: dict
      sample:
        - event_id: 12290
          summary: activation request from a KMS client processed
          record_number: 7
          time_generated: '2026-12-06T21:47:42+00:00'
          info:
          - '0x00000000'
          - '0x00000000'
          - srv01.corp.example.com
          - 0d25c18e-9106-5ecf-a547-9e06018688eb
          - 2026/12/06 21:47
          - '0'
          - '2'
          - '43199'
          - de32eafd-aaee-4662-9444-c1befb41bde2
          hresult: '0x00000000'
          success: true
          error: null
          client_machine_id: 0d25c18e-9106-5ecf-a547-9e06018688eb
          client_time: 2026/12/06 21:47
          license_status: 2
          license_status_name: OOBGrace
          time_to_expiration_minutes: 43199
          activation_id: de32eafd-aaee-4662-9444-c1befb41bde2
ansible_facts:
  description: The same data under C(winact_kms), for later tasks and reports.
  returned: always
  type: dict
  sample:
    winact_kms:
      os:
        build_number: 17763
        edition_id: ServerStandard
      windows_product:
        license_status_name: Licensed
        partial_product_key: J464C
      kms_client:
        registered_name: kms01.corp.example.com
      kms_host: null
  contains:
    winact_kms:
      description: The keys C(os), C(products), C(windows_product), C(kms_client), C(kms_host) (and C(events)).
      type: dict
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
    method: SoftwareLicensingService.RefreshLicenseStatus
    return_value: null
  contains:
    hresult:
      description: >-
        The HRESULT in hex; null when the failure carries none (bad input, a service control code, a lost
        connection).
      type: str
      sample: "0x80070005"
    symbol:
      description: Symbolic name from slerror.h / winerror.h; null when there is none.
      type: str
      sample: E_ACCESSDENIED
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
