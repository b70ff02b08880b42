#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: time_source
short_description: Point the Windows Time service at NTP peers and resync
version_added: 0.1.0
description:
  - Sets the NTP peers of the Windows Time service (W32Time) in
    C(HKLM\SYSTEM\CurrentControlSet\Services\W32Time\Parameters) (C(NtpServer), REG_SZ, space-separated
    peers with optional C(,0x..) flags) and C(Type=NTP), then restarts W32Time, which resynchronises the clock.
  - This is the automated form of C(w32tm /config /manualpeerlist:"..." /syncfromflags:manual /update) followed by
    C(w32tm /resync), the step Microsoft's and the cloud vendors' activation guides prescribe when the clock is
    off. A KMS host refuses clients whose clock differs from its own by more than 4 hours (C(0xC004F06C)).
  - Idempotent; peers are compared case-insensitively (host names) and by flag value, in order.
  - Works through WMI (C(StdRegProv), C(Win32_Service)) over the task's WinRM or PSRP connection.
options:
  servers:
    description:
      - The NTP peers, in order of preference. Each is a host name or IP address, optionally with its own flags
        (C(time.example.com,0x9)).
      - The list must not be empty; a peer must not contain spaces (the peers are stored space-separated).
    type: list
    elements: str
    required: true
  flags:
    description:
      - Flags appended to each peer given without its own, as C(,0x<flags>). V(0) appends none.
      - Bits C(0x1) SpecialInterval (poll at the SpecialPollInterval), C(0x2) UseAsFallbackOnly, C(0x4)
        SymmetricActive mode, C(0x8) Client mode. The default C(0x8) is the mode Windows itself uses for
        C(time.windows.com,0x8).
    type: int
    default: 8
  type:
    description:
      - The synchronisation type. V(NTP) uses only the peers; V(AllSync) uses the peers and the domain hierarchy.
    type: str
    choices: [NTP, AllSync]
    default: NTP
  restart_service:
    description:
      - V(auto) restarts W32Time (which resyncs) when a value changed; V(always) restarts it on every run, to
        force a resync (the task then reports a change every time); V(never) leaves the service alone (the new
        peers are used from its next start).
    type: str
    choices: [auto, always, never]
    default: auto
attributes:
  check_mode:
    support: full
    description: Reads the current values and reports the planned change; nothing is written or restarted.
  diff_mode:
    support: full
    description: Shows C(NtpServer) and C(Type) before and after, only those that change.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Needs an account in the target's local Administrators group.
  - Domain members normally take their time from the domain hierarchy (C(Type=NT5DS)); set peers only where
    that is not the case (workgroup machines, cloud VMs, the forest root PDC emulator).
  - Fails before writing anything when W32Time is disabled and a restart is wanted, because the peers would
    never be used; enable the service first or pass O(restart_service=never).
seealso:
  - module: winact.kms.activate
  - name: Windows Time service tools and settings
    description: The W32Time registry values and w32tm options.
    link: https://learn.microsoft.com/windows-server/networking/windows-time-service/windows-time-service-tools-and-settings
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Sync from the corporate NTP servers
  winact.kms.time_source:
    servers:
      - ntp1.corp.example.com
      - ntp2.corp.example.com

- name: Sync from a public pool with SpecialInterval + Client flags for one peer
  winact.kms.time_source:
    servers:
      - time.windows.com,0x9
      - 0.pool.ntp.org
    flags: 0x8

- name: Resync now (e.g. after the clock drifted and activation failed with 0xC004F06C)
  winact.kms.time_source:
    servers: [time.windows.com]
    restart_service: always
"""

RETURN = r"""
ntp_server:
  description: The C(NtpServer) value in force after the task (planned, in check mode).
  returned: always
  type: str
  sample: ntp1.corp.example.com,0x8 ntp2.corp.example.com,0x8
previous_ntp_server:
  description: The C(NtpServer) value before the task; null when it was not set.
  returned: always
  type: str
  sample: time.windows.com,0x8
type:
  description: The C(Type) value in force after the task.
  returned: always
  type: str
  sample: NTP
previous_type:
  description: The C(Type) value before the task.
  returned: always
  type: str
  sample: NT5DS
changes:
  description: Names of the values that changed (C(NtpServer), C(Type)).
  returned: always
  type: list
  elements: str
  sample: ["NtpServer", "Type"]
restarted:
  description: Whether W32Time was restarted (or started, when it was stopped).
  returned: always
  type: bool
  sample: true
service:
  description: The W32Time service as C(Win32_Service) reports it after the task.
  returned: always
  type: dict
  sample: {"name": "W32Time", "state": "Running", "start_mode": "Auto"}
  contains:
    name:
      description: Service name.
      type: str
      sample: W32Time
    state:
      description: Running, Stopped, ...
      type: str
    start_mode:
      description: Auto, Manual or Disabled.
      type: str
may_have_applied:
  description: >-
    Changes whose request reached the host without a usable answer (the connection dropped, the read or the
    WS-Management operation timed out, the answer was corrupt): the host may have carried them out. They
    set C(changed) as well; a rerun reads the host and converges.
  returned: on failure, when a request may have been carried out
  type: list
  sample: ["StdRegProv.SetStringValue"]
  elements: str
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
    method: StdRegProv.SetStringValue
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
applied:
  description: >-
    The changes made before the failure (the failure also sets C(changed)); a rerun converges to the
    settings asked for.
  returned: on failure, when something was already applied
  type: list
  elements: str
  sample: ["NtpServer"]
"""
