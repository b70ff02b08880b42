# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import typing as t
from collections.abc import Callable

from ansible_collections.winact.kms.plugins.plugin_utils import _fleet_report as fleet_report_data

DOCUMENTATION = r"""
name: fleet_report
author: winact.kms contributors
version_added: "0.1.0"
short_description: The fleet licensing report's data, from every host's license_info result
description:
  - Builds the data C(winact.kms.report) writes as JSON and renders as its HTML page, from the
    M(winact.kms.license_info) results the hosts registered.
  - Returns C(generated), C(totals) (C(hosts), C(by_status), C(with_error)), C(expiry) (hosts per
    days-until-expiry bucket), C(kms_hosts) (each KMS host's count against the thresholds 25 and 5) and
    C(hosts) (one row per host - edition, build, status, channel, last five key characters, expiry, KMS host
    or DNS auto-discovery, the last activation error explained).
positional: _input, hosts, var
options:
  _input:
    description: The C(hostvars) magic variable.
    type: raw
    required: true
  hosts:
    description: The hosts of the report.
    type: list
    elements: str
    required: true
  var:
    description: The name of the variable each host registered its license_info result in.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Build the report's data
  ansible.builtin.set_fact:
    report: "{{ hostvars | winact.kms.fleet_report(groups['windows'], 'license') }}"
"""

RETURN = r"""
_value:
  description: The report data.
  type: dict
"""


def fleet_report(hostvars: t.Any, hosts: t.Sequence[str], var: str) -> dict[str, t.Any]:
    results = {host: hostvars[host].get(var) for host in hosts if host in hostvars}
    return fleet_report_data.build({host: result for host, result in results.items() if isinstance(result, t.Mapping)})


class FilterModule:
    """winact.kms fleet report filter."""

    def filters(self) -> dict[str, Callable[..., t.Any]]:
        return {"fleet_report": fleet_report}
