# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import typing as t
from collections.abc import Callable

from ansible_collections.winact.kms.plugins.plugin_utils import _drift as drift

DOCUMENTATION = r"""
name: drift_summary
author: winact.kms contributors
version_added: "0.1.0"
short_description: Per host and per setting drift of the site roles, from a check-mode run
description:
  - Builds the summary that C(winact.kms.drift) prints and writes. It reads, for each host, the results the
    C(kms_host) and C(kms_client) roles registered in check mode with a diff, and the role variables that
    declare which settings are managed.
  - One check per host and setting (KMS host settings, firewall rule, KMS host key, GVLK, time source, KMS
    client settings, activation policy values, activation). A check has drifted when the task would change
    the setting; C(declared) and C(actual) come from the task's diff.
  - Hosts without any role result are left out.
  - Returns C(drifted), C(totals) (C(hosts), C(checks), C(drifted), C(hosts_drifted)), C(drift) (the drifted
    checks) and C(checks) (every check), each check with C(host), C(area), C(setting), C(drifted),
    C(declared), C(actual), C(error).
  - The same file holds C(drift_junit) (the summary as JUnit XML, one test case per host and setting) and
    C(drift_lines) (one line per drifted setting, then the totals).
positional: _input, hosts
options:
  _input:
    description: The C(hostvars) magic variable.
    type: raw
    required: true
  hosts:
    description: The hosts to look at, for example C(groups['all']).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Summarise the drift of the check-mode plays before
  ansible.builtin.set_fact:
    drift: "{{ hostvars | winact.kms.drift_summary(groups['all']) }}"

- name: Write JUnit XML for CI
  ansible.builtin.copy:
    content: "{{ drift | winact.kms.drift_junit }}"
    dest: reports/drift.xml
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The drift summary.
  type: dict
"""


def drift_summary(hostvars: t.Any, hosts: t.Sequence[str]) -> dict[str, t.Any]:
    return drift.summary({host: hostvars[host] for host in hosts if host in hostvars})


def drift_junit(report: t.Mapping[str, t.Any]) -> str:
    return drift.junit(report)


def drift_lines(report: t.Mapping[str, t.Any]) -> list[str]:
    return drift.lines(report)


class FilterModule:
    """winact.kms drift gate filters."""

    def filters(self) -> dict[str, Callable[..., t.Any]]:
        return {"drift_summary": drift_summary, "drift_junit": drift_junit, "drift_lines": drift_lines}
