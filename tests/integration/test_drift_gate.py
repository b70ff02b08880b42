# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.drift as a CI gate: per host and setting summary, exit status, JSON and JUnit, zero writes."""

from __future__ import annotations

import json
import pathlib
import typing as t
import xml.etree.ElementTree as ET

import pytest

from .conftest import FleetRun

PLAYBOOKS = pathlib.Path(__file__).resolve().parents[2] / "playbooks"
SITE_VARS = {
    "kms_host_dns_publishing": False,
    "kms_host_firewall": True,
    "kms_client_server": "kms01.corp.example.com",
    "kms_client_activation_interval": 120,
}
RULE = "Key Management Service (TCP-In)"


@pytest.fixture(scope="module")
def site(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    fleet = fleet_factory("site")
    run = fleet.playbook(PLAYBOOKS / "site.yml", extra_vars=SITE_VARS)
    assert run.rc == 0, run.output
    return fleet


def test_drift_on_two_hosts_fails_the_gate_and_lists_exactly_those_settings(
    site: FleetRun, tmp_path: pathlib.Path
) -> None:
    rogue = {"MachineName": "rogue.example.net"}
    site.invoke("w11pro", "SoftwareLicensingService", "SetKeyManagementServiceMachine", params=rogue)
    site.invoke(
        "kms01",
        "MSFT_NetFirewallRule",
        "Disable",
        namespace="root/StandardCimv2",
        selectors={"InstanceID": "SPPSVC-In-TCP"},
    )
    before = site.all_writes()
    run = site.playbook(PLAYBOOKS / "drift.yml", extra_vars={**SITE_VARS, "winact_drift_report_dir": str(tmp_path)})
    assert run.rc != 0
    assert site.all_writes() == before
    assert "w11pro: kms_client.server: declared 'kms01.corp.example.com', actual 'rogue.example.net'" in run.output

    report = json.loads((tmp_path / "drift.json").read_text())
    drifted = sorted((c["host"], c["area"], c["setting"]) for c in report["drift"])
    assert drifted == [("kms01", "kms_host_firewall", RULE), ("w11pro", "kms_client", "server")]
    assert report["totals"]["hosts_drifted"] == 2
    # Every setting the site roles were told to manage is checked; only the two drifted ones fail.
    assert {
        ("kms01", "kms_host", "dns_publishing"),
        ("kms01", "kms_host_firewall", RULE),
        ("kms01", "kms_host_activation", "license_status"),
        ("w11pro", "kms_client", "server"),
        ("w11pro", "kms_client", "activation_interval"),
        ("w11pro", "product_key", "product_key"),
        ("w11pro", "activation", "license_status"),
    } <= {(c["host"], c["area"], c["setting"]) for c in report["checks"]}

    suite = ET.parse(tmp_path / "drift.xml").getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(report["checks"]) == int(suite.get("tests", "0"))
    assert len({(c.get("classname"), c.get("name")) for c in cases}) == len(cases)  # one per host and setting
    failed = sorted((c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None)
    assert failed == [("kms01", f"kms_host_firewall.{RULE}"), ("w11pro", "kms_client.server")]

    report_only = site.playbook(PLAYBOOKS / "drift.yml", extra_vars={**SITE_VARS, "winact_drift_report_only": True})
    assert report_only.rc == 0, report_only.output
    assert site.all_writes() == before
