# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import typing as t
from collections.abc import Callable

from ansible_collections.winact.kms.plugins.plugin_utils._option_check import option_errors as check

DOCUMENTATION = r"""
name: option_errors
author: winact.kms contributors
version_added: "0.1.0"
short_description: What a winact.kms module would refuse in a set of options, checked on the controller
description:
  - Runs the option checks of a winact.kms module on the controller, with no task and no host. The checks are the
    module's own, in its order; the argument spec from its documentation (types, choices, option rules), the
    characters and sizes one WS-Management request can carry (XML 1.0 characters; Windows' MaxEnvelopeSize of
    500 KB), then the module's checks of formats and ranges (host names, IPv6 addresses, ports, intervals,
    URLs, product keys).
  - The collection's roles call it in their validate step, so a value a module would refuse fails the play
    before the first task that talks to a host.
  - Options whose value is null are left out, as a role leaves them out with C(omit).
  - A product key in a message appears masked, as in the module's own results.
positional: _input, module
options:
  _input:
    description: The module options, as a task would give them.
    type: dict
    required: true
  module:
    description: The module's short name, for example V(kms_client).
    type: str
    required: true
  names:
    description:
      - Names to use for options in the messages, for example the role variables they come from.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Stop before any host task when the KMS host name is not one kms_client accepts
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: >-
      {{ {'server': my_kms_server, 'port': my_kms_port}
         | winact.kms.option_errors('kms_client', names={'server': 'my_kms_server', 'port': 'my_kms_port'}) }}
"""

RETURN = r"""
_value:
  description: One message per problem, naming the option (or the name given for it) and what is allowed; empty
    when the module would accept the options.
  type: list
  elements: str
"""


def option_errors(options: t.Mapping[str, t.Any], module: str, names: t.Mapping[str, str] | None = None) -> list[str]:
    return check(module, options, names)


class FilterModule:
    """winact.kms option checks on the controller."""

    def filters(self) -> dict[str, Callable[..., t.Any]]:
        return {"option_errors": option_errors}
