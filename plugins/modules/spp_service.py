#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: spp_service
short_description: Start or restart the Windows Software Protection service (sppsvc)
version_added: 0.1.0
description:
  - Restarts the Software Protection service (sppsvc), or starts it when it is stopped, through the
    C(Win32_Service) WMI class over the task's WinRM or PSRP connection.
  - KMS host settings take effect when sppsvc restarts. Roles pass C(restart_service=never) to the tasks that
    change them and restart once, from a handler, with this module.
  - A disabled sppsvc is not started; the task fails saying so and nothing is stopped.
options:
  state:
    description:
      - V(restarted) stops and starts the service (starts it when stopped); it always reports a change.
      - V(started) starts it only when it is not running.
    type: str
    choices: [started, restarted]
    default: restarted
attributes:
  check_mode:
    support: full
    description: Reports whether the service would be (re)started; nothing is stopped or started.
  diff_mode:
    support: full
    description: Shows the service state before and after.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Needs an account in the target's local Administrators group.
seealso:
  - module: winact.kms.kms_host
  - module: winact.kms.product_key
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Restart sppsvc once after all KMS host changes
  winact.kms.spp_service:
    state: restarted
"""

RETURN = r"""
restarted:
  description: Whether sppsvc was restarted (or started) by this task.
  returned: always
  type: bool
  sample: true
service:
  description: The service as C(Win32_Service) reports it after the task.
  returned: always
  type: dict
  contains:
    name:
      description: Service name.
      type: str
      sample: sppsvc
    state:
      description: C(Running) or C(Stopped).
      type: str
      sample: Running
    start_mode:
      description: C(Auto), C(Manual) or C(Disabled).
      type: str
      sample: Manual
diff:
  description: The service state before and after.
  returned: when diff mode is on and the service is (re)started
  type: dict
  sample: {"before": {"state": "Stopped"}, "after": {"state": "Running"}}
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
    method: Win32_Service.StartService
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
applied:
  description: >-
    The changes made before the failure (the failure also sets C(changed)); a rerun converges to the
    settings asked for.
  returned: on failure, when something was already applied
  type: list
  elements: str
  sample: ["sppsvc"]
"""
