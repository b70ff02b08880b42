# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.activation_policy end to end: check -> apply -> verify -> idempotent -> drift -> check."""

from __future__ import annotations

import typing as t

import pytest

from .conftest import FleetRun
from .settings_state import HKLM, SPP, set_dword, spp_values

TASK = "Set activation policy"
POLICY: dict[str, t.Any] = {
    "alternate_url": "https://help.contoso.com/activation",
    "notifications_disabled": True,
    "manual_activation": True,
    "user_operations": True,
    "skip_rearm": True,
}


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("mixed")


def policy(fleet: FleetRun, limit: str, *, check: bool = False, **options: t.Any) -> t.Any:
    return fleet.playbook(
        "activation_policy.yml",
        limit=limit,
        check=check,
        diff=True,
        extra_vars={f"policy_{k}": v for k, v in options.items()},
    )


def test_policy_values(fleet: FleetRun) -> None:
    hosts = ["w11pro", "srv2022"]
    limit = ",".join(hosts)
    writes = fleet.all_writes()
    checked = policy(fleet, limit, check=True, **POLICY)
    assert checked.rc == 0, checked.output
    for host in hosts:
        result = checked.task(TASK, host).result
        assert result["changes"] == list(POLICY)
        assert result["diff"] == {
            "before": {
                "alternate_url": None,
                "notifications_disabled": False,
                "manual_activation": False,
                "user_operations": False,
                "skip_rearm": False,
            },
            "after": POLICY,
        }
        assert result["restart_required"] is True and result["restarted"] is False
    assert fleet.all_writes() == writes

    applied = policy(fleet, limit, **POLICY)
    assert applied.rc == 0, applied.output
    for host in hosts:
        result = applied.task(TASK, host).result
        assert result["changed"] is True and result["restarted"] is True
        assert result["settings"] == POLICY
        values = spp_values(fleet, host)
        assert values["UserOperations"] == 1 and values["SkipRearm"] == 1
        assert spp_values(fleet, host, "Activation") == {
            "AlternateURL": "https://help.contoso.com/activation",
            "NotificationDisabled": 1,
            "Manual": 1,
        }

    writes = fleet.all_writes()
    again = policy(fleet, limit, **POLICY)
    for host in hosts:
        assert again.task(TASK, host).result["changed"] is False
    assert fleet.all_writes() == writes

    set_dword(fleet, "srv2022", "SkipRearm", 0)
    fleet.invoke(
        "srv2022",
        "StdRegProv",
        "SetStringValue",
        namespace="root/default",
        params={
            "hDefKey": HKLM,
            "sSubKeyName": SPP + r"\Activation",
            "sValueName": "AlternateURL",
            "sValue": "http://old.contoso.com",
        },
    )
    writes = fleet.all_writes()
    drift = policy(fleet, limit, check=True, **POLICY)
    result = drift.task(TASK, "srv2022").result
    assert result["changes"] == ["alternate_url", "skip_rearm"]
    assert result["diff"] == {
        "before": {"alternate_url": "http://old.contoso.com", "skip_rearm": False},
        "after": {"alternate_url": "https://help.contoso.com/activation", "skip_rearm": True},
    }
    assert drift.task(TASK, "w11pro").result["changed"] is False
    assert fleet.all_writes() == writes


def test_switching_off_removes_the_values(fleet: FleetRun) -> None:
    host = "w10edu"
    assert policy(fleet, host, alternate_url="http://contoso.com/help", skip_rearm=True).rc == 0
    run = policy(fleet, host, alternate_url="", skip_rearm=False, restart_service="never")
    result = run.task(TASK, host).result
    assert result["changes"] == ["alternate_url", "skip_rearm"]
    assert result["restart_required"] is False and result["restarted"] is False
    assert "SkipRearm" not in spp_values(fleet, host)
    assert "AlternateURL" not in spp_values(fleet, host, "Activation")
    assert result["settings"]["alternate_url"] is None and result["settings"]["skip_rearm"] is False


def test_restart_always_restarts_for_a_change_that_does_not_need_it(fleet: FleetRun) -> None:
    host = "w81ent"
    run = policy(fleet, host, alternate_url="https://help.contoso.com", restart_service="always")
    result = run.task(TASK, host).result
    assert result["changed"] is True
    assert result["restart_required"] is False and result["restarted"] is True
    assert fleet.state(host)["sppsvc"]["state"] == "Running"
