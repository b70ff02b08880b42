#!/usr/bin/python
# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the module; the code is the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: activation_policy
short_description: Set Windows activation policy registry values (help URL, notifications, rearm, user rights)
version_added: 0.1.0
description:
  - Manages the volume activation policy values under
    C(HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform) that have no WMI method,
    through WMI's registry provider (C(StdRegProv)) over the task's WinRM or PSRP connection.
  - Options left out are not touched; a second run with the same options changes nothing.
  - A switch turned off removes its registry value, which is what Windows does by default.
  - O(user_operations), O(notifications_disabled) and O(manual_activation) take effect after the Software
    Protection service (sppsvc) restarts; O(restart_service) decides whether the task restarts it.
  - Runs as an action plugin on the controller; nothing is copied to the host.
options:
  alternate_url:
    description:
      - URL of the organisation's own activation help, shown as a link in activation dialogs
        (C(Activation\AlternateURL), REG_SZ). Only C(http://) and C(https://) URLs.
      - An empty value removes it.
    type: str
  user_operations:
    description:
      - Let standard users install product keys, activate and rearm without elevation (C(UserOperations), REG_DWORD 1).
    type: bool
  notifications_disabled:
    description:
      - Hide activation notifications and balloons (C(Activation\NotificationDisabled), REG_DWORD 1).
        Microsoft does not recommend it.
    type: bool
  manual_activation:
    description:
      - Turn off automatic online activation (C(Activation\Manual), REG_DWORD 1). Applies to MAK activation and
        KMS hosts, not to KMS clients.
    type: bool
  skip_rearm:
    description:
      - Make a rearm (C(sysprep /generalize), C(slmgr /rearm)) leave the licensing state and the rearm count alone
        (C(SkipRearm), REG_DWORD 1). Useful on reference images that are generalized several times.
    type: bool
  restart_service:
    description:
      - When to restart the Software Protection service (sppsvc) after a change.
      - V(auto) restarts only when a changed setting needs it (O(user_operations), O(notifications_disabled),
        O(manual_activation)).
      - V(always) restarts after any change. V(never) does not restart; RV(restart_required) tells whether
        one is still needed. Nothing is restarted when nothing changed.
    type: str
    choices: [auto, always, never]
    default: auto
attributes:
  check_mode:
    support: full
    description: Reads the current values only and reports what would change; nothing is written.
  diff_mode:
    support: full
    description: Shows the value before and after of exactly the settings that change.
extends_documentation_fragment:
  - winact.kms.attributes.platform
notes:
  - Needs an account in the target's local Administrators group.
seealso:
  - module: winact.kms.kms_client
  - module: winact.kms.kms_host
  - name: Registry settings for volume activation
    description: The registry values this module manages.
    link: https://learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2012-r2-and-2012/dn502532(v=ws.11)
author:
  - winact.kms contributors (@winact)
"""

EXAMPLES = r"""
- name: Send users with activation problems to the help desk page
  winact.kms.activation_policy:
    alternate_url: https://help.contoso.com/activation

- name: Prepare a reference image that is generalized more than once
  winact.kms.activation_policy:
    skip_rearm: true

- name: Let standard users activate, and restart sppsvc so it takes effect
  winact.kms.activation_policy:
    user_operations: true
    restart_service: auto

- name: Remove the help URL and restore notifications
  winact.kms.activation_policy:
    alternate_url: ""
    notifications_disabled: false
"""

RETURN = r"""
changes:
  description: Names of the settings that changed (in check mode, that would change).
  returned: always
  type: list
  elements: str
  sample: [alternate_url]
settings:
  description:
    - The policy values in force after the task (in check mode, the current ones).
    - A task without options reports them all. A task with options reports those it manages and those
      SoftwareLicensingService reports in the same query; other registry values are not read.
  returned: always
  type: dict
  sample:
    alternate_url: https://help.contoso.com/activation
    notifications_disabled: false
    manual_activation: false
    user_operations: false
    skip_rearm: true
  contains:
    alternate_url:
      description: The help URL; null when not set.
      type: str
      sample: https://help.contoso.com/activation
    notifications_disabled:
      description: Whether activation notifications are hidden.
      type: bool
    manual_activation:
      description: Whether automatic online activation is off.
      type: bool
    user_operations:
      description: Whether standard users may install keys, activate and rearm.
      type: bool
    skip_rearm:
      description: Whether a rearm leaves the licensing state alone.
      type: bool
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
  sample: {"before": {"skip_rearm": false}, "after": {"skip_rearm": true}}
applied:
  description: Settings already applied when the task failed part-way; a rerun converges.
  returned: on failure after a change
  type: list
  elements: str
  sample: ["alternate_url"]
may_have_applied:
  description: >-
    Changes whose request reached the host without a usable answer (the connection dropped, the read or the
    WS-Management operation timed out, the answer was corrupt): the host may have carried them out. They
    set C(changed) as well; a rerun reads the host and converges.
  returned: on failure, when a request may have been carried out
  type: list
  elements: str
  sample: ["alternate_url"]
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
"""
