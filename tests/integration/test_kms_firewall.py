# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.kms_firewall and winact.kms.spp_service: check (zero writes), apply, idempotent, diff."""

from __future__ import annotations

import typing as t

import pytest

from .conftest import FleetRun

RULE = "SPPSVC-In-TCP"


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("rollout_small")


def rule_enabled(fleet: FleetRun) -> bool:
    return bool(fleet.state("kms01")["firewall"][RULE]["enabled"])


def test_firewall_rule_check_apply_idempotent(fleet: FleetRun) -> None:
    assert rule_enabled(fleet) is False
    before = fleet.writes("kms01")
    check = fleet.playbook("kms_firewall.yml", limit="kms01", check=True, diff=True, extra_vars={"fw_enabled": True})
    result = check.task("Firewall rule", "kms01")
    assert check.rc == 0 and result.changed, check.output
    assert result.result["diff"] == {
        "before": {"Key Management Service (TCP-In)": False},
        "after": {"Key Management Service (TCP-In)": True},
    }
    assert fleet.writes("kms01") == before and rule_enabled(fleet) is False
    applied = fleet.playbook("kms_firewall.yml", limit="kms01", extra_vars={"fw_enabled": True})
    assert applied.task("Firewall rule", "kms01").changed and rule_enabled(fleet) is True
    assert fleet.writes("kms01") == before + 1
    again = fleet.playbook("kms_firewall.yml", limit="kms01", extra_vars={"fw_enabled": True})
    assert not again.task("Firewall rule", "kms01").changed
    assert fleet.writes("kms01") == before + 1


def test_bad_enabled_value_fails_naming_the_option(fleet: FleetRun) -> None:
    run = fleet.playbook("kms_firewall.yml", limit="pc1", extra_vars={"fw_enabled": "maybe"})
    result = run.task("Firewall rule", "pc1")
    assert result.failed and "enabled" in result.result["msg"]


def test_spp_service_restart_check_mode_writes_nothing_then_restarts(fleet: FleetRun) -> None:
    before = fleet.writes("kms01")
    pid = fleet.state("kms01")["services"]["sppsvc"]["process_id"]
    check = fleet.playbook("kms_firewall.yml", limit="kms01", check=True, extra_vars={"spp_state": "restarted"})
    assert check.task("Software Protection service", "kms01").changed
    assert fleet.writes("kms01") == before
    run = fleet.playbook("kms_firewall.yml", limit="kms01", extra_vars={"spp_state": "restarted"})
    result = run.task("Software Protection service", "kms01").result
    assert result["restarted"] and result["service"]["state"] == "Running"
    assert fleet.state("kms01")["services"]["sppsvc"]["process_id"] != pid
    started = fleet.playbook("kms_firewall.yml", limit="kms01", extra_vars={"spp_state": "started"})
    assert not started.task("Software Protection service", "kms01").changed
