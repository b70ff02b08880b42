#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kms_host
short_description: Configure a Windows KMS host (port, DNS publishing, priority, client intervals)
version_added: 0.1.0
description:
  - Manages the KMS host settings that C(slmgr.vbs /sprt), C(/sdns), C(/cdns), C(/spri), C(/cpri), C(/sai) and
    C(/sri) change, through the same C(SoftwareLicensingService) WMI methods, and the C(DnsDomainPublishList)
    registry value, over the task's WinRM or PSRP connection.
  - Options left out are not touched; a second run with the same options changes nothing.
  - The machine must be a KMS host (a KMS host key, CSVLK, installed and activated) for O(listening_port),
    O(dns_publishing), O(low_priority), O(activation_interval) and O(renewal_interval); on another machine the
    task fails before writing anything and names the options that need a KMS host.
  - Every setting here takes effect only after the Software Protection service (sppsvc) restarts;
    O(restart_service) decides whether the task restarts it.
  - Runs as an action plugin on the controller; nothing is copied to the host.
options:
  listening_port:
    description:
      - TCP port the KMS host listens on, 1-65535 (C(slmgr /sprt)). V(1688) clears a custom port.
      - Clients that find the host through DNS learn the port from its SRV record; clients with a fixed
        O(winact.kms.kms_client#module:port) need the same port.
    type: int
  dns_publishing:
    description:
      - Publish the host's C(_vlmcs._tcp) SRV record in DNS (C(slmgr /sdns)); V(false) stops publishing
        (C(slmgr /cdns)).
    type: bool
  dns_publish_domains:
    description:
      - Extra DNS domains the host publishes its SRV record in, written to the C(DnsDomainPublishList)
        registry value (REG_MULTI_SZ, one C(domain, priority, weight) entry per domain). The host's own
        domain is always published and need not be listed.
      - Clients try the record with the lowest priority first and share load by weight within a priority.
      - An empty list removes the value.
    type: list
    elements: dict
    suboptions:
      domain:
        description: DNS domain to publish in.
        type: str
        required: true
      priority:
        description: SRV priority, 0-65535 (lower is tried first).
        type: int
        default: 0
      weight:
        description: SRV weight, 0-65535 (share of the traffic among records of the same priority).
        type: int
        default: 0
  low_priority:
    description:
      - Run the KMS service at low priority to limit contention on a shared server (C(slmgr /cpri));
        V(false) restores normal priority (C(slmgr /spri)).
    type: bool
  activation_interval:
    description:
      - Minutes, 15-43200, that the host tells unactivated clients to wait between attempts (C(slmgr /sai)).
    type: int
  renewal_interval:
    description:
      - Minutes, 15-43200, that the host tells activated clients to wait between renewals (C(slmgr /sri)).
    type: int
  restart_service:
    description:
      - When to restart the Software Protection service (sppsvc) after a change.
      - V(auto) restarts when a changed setting needs it (all of this module's settings do).
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
  - The KMS host must be allowed to update the SRV records of every domain in O(dns_publish_domains).
seealso:
  - module: winact.kms.kms_client
  - module: winact.kms.license_info
  - name: Common troubleshooting procedures for KMS and DNS
    description: How KMS hosts publish SRV records, and C(DnsDomainPublishList).
    link: https://learn.microsoft.com/windows-server/get-started/common-troubleshooting-procedures-kms-dns
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Configure the KMS host with the defaults spelled out
  winact.kms.kms_host:
    listening_port: 1688
    dns_publishing: true
    low_priority: false

- name: Listen on a custom port and restart sppsvc now
  winact.kms.kms_host:
    listening_port: 1700
    restart_service: auto

- name: Stop publishing in DNS (clients are pointed at the host with winact.kms.kms_client)
  winact.kms.kms_host:
    dns_publishing: false

# Two sites, east.contoso.com and west.contoso.com, two KMS hosts each (the multi-site scenario of the
# Windows 7 volume activation technical reference): each site's clients try their own hosts first
# (priority 10) and the other site's only when both fail (priority 90); within a site KMS_*1 takes 75 %
# of the requests and KMS_*2 25 %. Run against each host with its own weight.
- name: Publish east hosts first in east, last in west
  winact.kms.kms_host:
    dns_publishing: true
    dns_publish_domains:
      - {domain: east.contoso.com, priority: 10, weight: "{{ kms_weight }}"}
      - {domain: west.contoso.com, priority: 90, weight: "{{ kms_weight }}"}
  when: inventory_hostname in groups['kms_east']   # kms_weight: 75 on KMS_E1, 25 on KMS_E2

- name: Publish west hosts first in west, last in east
  winact.kms.kms_host:
    dns_publishing: true
    dns_publish_domains:
      - {domain: west.contoso.com, priority: 10, weight: "{{ kms_weight }}"}
      - {domain: east.contoso.com, priority: 90, weight: "{{ kms_weight }}"}
  when: inventory_hostname in groups['kms_west']   # kms_weight: 75 on KMS_W1, 25 on KMS_W2

- name: Stop publishing in extra domains
  winact.kms.kms_host:
    dns_publish_domains: []

- name: Change the client intervals now, restart sppsvc in the next maintenance window
  winact.kms.kms_host:
    activation_interval: 60
    renewal_interval: 10080
    restart_service: never
  register: kms_host_settings   # kms_host_settings.restart_required tells whether a restart is pending
"""

RETURN = r"""
changes:
  description: Names of the settings that changed (in check mode, that would change).
  returned: always
  type: list
  elements: str
  sample: [listening_port, dns_publish_domains]
settings:
  description:
    - The KMS host settings in force after the task (in check mode, the current ones).
    - A task without options reports them all. A task with options reports those it manages and those
      SoftwareLicensingService reports in the same query; other registry values are not read.
  returned: always
  type: dict
  sample:
    listening_port: 1688
    dns_publishing: true
    dns_publish_domains: []
    low_priority: false
    activation_interval: 120
    renewal_interval: 10080
  contains:
    listening_port:
      description: TCP port the host listens on (1688 when no custom port is set).
      type: int
      sample: 1688
    dns_publish_domains:
      description: Extra domains the SRV record is published in; empty when none.
      type: list
      elements: dict
      sample: [{"domain": "east.contoso.com", "priority": 10, "weight": 75}]
    dns_publishing:
      description: Whether the host publishes its SRV record in DNS.
      type: bool
    low_priority:
      description: Whether the KMS service runs at low priority.
      type: bool
    activation_interval:
      description: Activation interval (minutes) the host sends to clients.
      type: int
      sample: 120
    renewal_interval:
      description: Renewal interval (minutes) the host sends to clients.
      type: int
      sample: 10080
restart_required:
  description: >-
    Whether sppsvc must restart for the host's settings to take effect: settings this task changes (or would,
    in check mode) that need a restart, and settings sppsvc still runs with an older value of (see
    RV(restart_owed)). C(restarted) tells whether this task did it.
  returned: always
  type: bool
  sample: true
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
  sample: true
diff:
  description: Before and after values of exactly the settings that differ.
  returned: when diff mode is on
  type: dict
  sample: {"before": {"listening_port": 1688}, "after": {"listening_port": 1700}}
not_kms_host:
  description: The options that need a KMS host, when the task failed because the machine is not one.
  returned: on that failure
  type: list
  elements: str
  sample: ["listening_port", "dns_publishing"]
applied:
  description: Settings already applied when the task failed part-way; a rerun converges.
  returned: on failure after a change
  type: list
  elements: str
  sample: ["listening_port"]
may_have_applied:
  description: >-
    Changes whose request reached the host without a usable answer (the connection dropped, the read or the
    WS-Management operation timed out, the answer was corrupt): the host may have carried them out. They
    set C(changed) as well; a rerun reads the host and converges.
  returned: on failure, when a request may have been carried out
  type: list
  elements: str
  sample: ["listening_port"]
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
    method: SoftwareLicensingService.SetKeyManagementServiceListeningPort
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
