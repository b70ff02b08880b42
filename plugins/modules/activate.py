#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: activate
short_description: Activate Windows (or another product) and explain why activation fails
version_added: 0.1.0
description:
  - Activates the Windows product (or the product named by O(activation_id)) with
    C(SoftwareLicensingProduct.Activate), then C(SoftwareLicensingService.RefreshLicenseStatus), as
    C(slmgr.vbs /ato) does, and waits until C(LicenseStatus) says Licensed, through WMI over the task's WinRM
    or PSRP connection.
  - A product that is already licensed is left alone (C(changed=false)) unless O(force=true), which renews a
    KMS activation.
  - Before activating, preflight checks catch the usual causes of a bare C(0xC004F074) while they can still be
    explained; see O(preflight) and O(skip_preflight). Their findings are returned as RV(preflight).
  - On failure the result carries the HRESULT in hex, its symbol, Microsoft's message, the likely cause and the
    fix, plus the client's latest KMS events (12288, 12289) decoded. When the KMS request inside event 12288
    failed with another code than C(Activate) returned (C(0xC004F06C), clock skew, behind C(0xC004F074)), that
    inner code is explained too.
  - Transient KMS errors are retried (O(retries), O(delay)), namely C(0xC004F074) (no KMS host could be contacted),
    C(0xC004F039) (the KMS host did not respond), C(0x800706BA) (RPC server unavailable), C(0x800705B4)
    (timeout), C(0xC004F075) (the service is stopping) and C(0xC004F038) (the KMS count is too low; a count
    grows while other machines of the same run ask, so a later try may pass). A C(0xC004F074) whose event 12288
    shows C(0xC004F06C) (clock skew) is not retried, because waiting does not fix a clock.
  - When C(Activate) does not answer within the WS-Management operation timeout, Windows may still be
    activating; the module then reads C(LicenseStatus) again until O(timeout) instead of calling C(Activate)
    once more.
options:
  activation_id:
    description:
      - Activate this product (its C(SoftwareLicensingProduct.ID), the Activation ID) instead of the Windows
        product C(slmgr.vbs) picks (a key installed, not an add-on).
    type: str
  application:
    description:
      - V(windows) activates the Windows product (or the one O(activation_id) names).
      - V(office) activates the installed Office, Project or Visio volume product (Office 2016 to Office LTSC
        2024, on Windows 8 / Server 2012 and later), as C(ospp.vbs /act) does through the same Software
        Protection service. It activates against a KMS host that has the Office KMS host key of its version,
        found through its own KMS host setting (C(winact.kms.kms_client) with O(application=office)), else the
        machine's. With several volume products installed choose one with O(activation_id).
    type: str
    choices: [windows, office]
    default: windows
  force:
    description:
      - Call C(Activate) even when the product is already licensed (renews a KMS activation).
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for C(LicenseStatus) to become Licensed once C(Activate) has returned or timed out.
    type: int
    default: 120
  retries:
    description:
      - How many more times to call C(Activate) after a transient KMS error (see the description).
    type: int
    default: 2
  delay:
    description:
      - Seconds to wait between two attempts.
    type: int
    default: 10
  preflight:
    description:
      - Run the preflight checks before activating. A failed check fails the task before C(Activate) is called.
      - V(service) - the Software Protection service (sppsvc) is not disabled.
      - V(clock) - the host's clock (C(Win32_OperatingSystem.LocalDateTime)) is within the KMS tolerance of
        4 hours of the B(controller's) clock. The controller is the reference because it is the one clock the
        module can compare with; keep it synchronised with the KMS host's time source (e.g. the domain
        hierarchy). Beyond 4 hours the KMS host refuses the request with C(0xC004F06C), which C(Activate)
        reports as C(0xC004F074).
      - V(kms_discovery) - a KMS host is registered (C(slmgr /skms), winact.kms.kms_client) or can be discovered
        through DNS. The controller cannot query the DNS the client uses, so this check only verifies that a
        name is registered, a lookup domain is set, a KMS host was discovered before, or the client is a domain
        member; whether the C(_vlmcs._tcp) record exists shows when C(Activate) fails with C(0x8007232B).
      - V(self_target) - the registered KMS host is not this machine itself (its computer name, DNS name, FQDN,
        C(localhost) or a loopback or own IP address).
      - The V(clock), V(kms_discovery) and V(self_target) checks apply to KMS clients (a GVLK installed) only,
        and only when the task is going to call C(Activate) (not for a product that is already licensed).
    type: bool
    default: true
  skip_preflight:
    description:
      - Preflight checks to leave out.
    type: list
    elements: str
    choices: [service, clock, kms_discovery, self_target]
    default: []
  below_threshold:
    description:
      - What the task makes of a KMS host that still refuses with C(0xC004F038) (its count of distinct machines
        is below the threshold, 25 for client editions, 5 for servers) once O(retries) are used up.
      - V(fail) fails the task; the message and RV(below_threshold) give the count, the threshold and what
        happens next.
      - V(warn) returns without failing (C(changed=false), RV(activated=false)) with the same text as a warning.
      - V(continue) returns like V(warn) without the warning and does not retry C(0xC004F038), for a first pass of
        requests that only grows the count (the kms_client role activates in two passes this way).
      - The KMS host counts every such request, so clients that ask later, or again, activate once the count
        is reached; Windows itself retries every C(VLActivationInterval) (120 minutes by default).
    type: str
    choices: [fail, warn, continue]
    default: fail
attributes:
  check_mode:
    support: full
    description: Runs the preflight checks and reports whether it would activate; C(Activate) is not called.
  diff_mode:
    support: none
    description: Activation has no before/after configuration to show; RV(license_status_name) tells the outcome.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Needs an account in the target's local Administrators group (unfiltered token); a standard user gets
    C(0x80070005) (access denied).
  - Activation of a KMS client contacts the KMS host from the Windows host, not from the controller.
  - Install the right key first (winact.kms.product_key); point clients at a KMS host with winact.kms.kms_client
    or rely on DNS auto-discovery; fix the time source with winact.kms.time_source.
seealso:
  - module: winact.kms.product_key
  - module: winact.kms.kms_client
  - module: winact.kms.time_source
  - module: winact.kms.license_info
  - name: Troubleshoot activation error codes
    description: Microsoft's list of activation errors the error table is built from.
    link: https://learn.microsoft.com/troubleshoot/windows-server/licensing-and-activation/troubleshoot-activation-error-codes
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Activate Windows against the KMS host
  winact.kms.activate:

- name: Renew the KMS activation even if Windows is licensed, with more patience for a busy KMS host
  winact.kms.activate:
    force: true
    retries: 5
    delay: 30

- name: Activate without the DNS check (the client finds its KMS host through a DHCP-provided DNS suffix)
  winact.kms.activate:
    skip_preflight: [kms_discovery]

- name: Activate the installed Office volume product against its KMS host
  winact.kms.activate:
    application: office

- name: Report what is wrong without failing the play
  winact.kms.activate:
  register: activation
  ignore_errors: true

- name: Show the explained error
  ansible.builtin.debug:
    msg: "{{ activation.error.symbol }}: {{ activation.error.cause }} -> {{ activation.error.fix }}"
  when: activation is failed and activation.error is defined
"""

RETURN = r"""
below_threshold:
  description: The KMS host's count against this client's threshold, when the KMS host refused with C(0xC004F038).
  returned: when the last request was refused for the count (also on failure)
  type: dict
  contains:
    kms_host:
      description: The KMS host the client asked (C(name:port), from event 12288).
      type: str
      sample: kms01.corp.example.com:1688
    count:
      description: The count the KMS host returned (event 12289); null when no response was logged.
      type: int
      sample: 3
    threshold:
      description: The count this client needs (N-Policy of event 12288), 25 for client editions, 5 for servers.
      type: int
      sample: 25
    retry_minutes:
      description: Minutes until Windows asks again by itself (the activation interval the KMS host sent).
      type: int
      sample: 120
activated:
  description: Whether this task activated the product (C(Activate) succeeded and the product is licensed).
  returned: always
  type: bool
  sample: true
would_activate:
  description: Whether the task would call C(Activate) (check mode).
  returned: in check mode
  type: bool
  sample: true
attempts:
  description: How many times C(Activate) was called.
  returned: always
  type: int
  sample: 1
previous_license_status_name:
  description: License status before the task.
  returned: when a product is found
  type: str
  sample: OOBGrace
license_status:
  description: C(LicenseStatus) after the task.
  returned: when a product is found
  type: int
  sample: 1
license_status_name:
  description: Name of the license status after the task.
  returned: when a product is found
  type: str
  sample: Licensed
product:
  description: The product as SPP reports it after the task (see winact.kms.license_info C(products)).
  returned: when a product is found
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
preflight:
  description: The preflight findings, one per check.
  returned: always
  type: list
  elements: dict
  sample:
    - check: service
      status: passed
      message: sppsvc start mode Auto, state Running
      details:
        name: sppsvc
        start_mode: Auto
        state: Running
    - check: clock
      status: passed
      message: The host's clock is 0 s behind the controller's
      details:
        skew_seconds: 0
        tolerance_seconds: 14400
  contains:
    check:
      description: V(service), V(clock), V(kms_discovery) or V(self_target).
      type: str
    status:
      description: V(passed), V(failed) (fatal), V(skipped) or V(unknown) (could not be determined; not fatal).
      type: str
    message:
      description: What was found, and for a failure what to do.
      type: str
    details:
      description: The values the check looked at (e.g. C(skew_seconds), C(registered_name)).
      type: dict
may_have_applied:
  description: >-
    Changes whose request reached the host without a usable answer (the connection dropped, the read or the
    WS-Management operation timed out, the answer was corrupt): the host may have carried them out. They
    set C(changed) as well; a rerun reads the host and converges.
  returned: on failure, when a request may have been carried out
  type: list
  sample: ["SoftwareLicensingProduct.Activate"]
  elements: str
error:
  description: >-
    Why the task failed, in the shape every winact.kms module uses; C(docs/error-codes.md) explains every
    code the collection knows.
  returned: on failure
  type: dict
  sample:
    hresult: '0xC004F074'
    symbol: SL_E_VL_BINDING_SERVICE_UNAVAILABLE
    message: The Software Licensing Service reported that the computer could not be activated. No Key Management
      Service (KMS) could be contacted. Please see the Application Event Log for additional information.
    cause: Every KMS host the client tried returned an error or could not be reached.
    fix: Check sppsvc and TCP 1688 on the KMS host, its SRV record, and the clocks.
    method: SoftwareLicensingProduct.Activate
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
    inner:
      description: >-
        The code inside the client's latest KMS request event (12288) when it differs from the one C(Activate)
        returned, explained the same way.
      type: dict
      returned: when such an event exists
applied:
  description: >-
    The changes made before the failure (the failure also sets C(changed)); a rerun converges to the
    settings asked for.
  returned: on failure, when something was already applied
  type: list
  elements: str
  sample: ["restart sppsvc"]
events:
  description: >-
    The client's latest KMS events (12288 request sent, 12289 response processed), newest first, decoded as in
    winact.kms.license_info.
  returned: on an activation failure, when the events can be read
  type: list
  elements: dict
  sample:
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
"""
