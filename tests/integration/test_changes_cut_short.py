# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Representative changes cut short, through real ansible-playbook (tests/reliability sweeps every request):
a restart owed by an earlier run is made by the next one, and an answer lost after the host carried a write
out is reported as a change, never as an unreachable host that did nothing.
"""

from __future__ import annotations

import typing as t

import pytest

from .conftest import FleetRun

HOST_TASK = "Configure KMS host"
CLIENT_TASK = "Configure KMS client"


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("mixed")


def running_matches_configured(fleet: FleetRun, host: str) -> bool:
    kms = fleet.state(host)["kms_host"]
    running = dict(kms["effective"] or {})
    running.pop("started_at", None)
    return bool(running == kms["configured"])


def test_a_restart_owed_by_an_earlier_run_is_made_by_the_next(fleet: FleetRun) -> None:
    options = {"kms_listening_port": 1750, "kms_low_priority": True}
    first = fleet.playbook("kms_host.yml", limit="kms01", extra_vars={**options, "kms_restart_service": "never"})
    assert first.rc == 0, first.output
    assert first.task(HOST_TASK, "kms01").result["restart_required"] is True
    assert not running_matches_configured(fleet, "kms01")  # sppsvc still runs with 1688

    again = fleet.playbook("kms_host.yml", limit="kms01", extra_vars=options)
    result = again.task(HOST_TASK, "kms01").result
    assert again.rc == 0, again.output
    assert result["changes"] == [] and sorted(result["restart_owed"]) == ["listening_port", "low_priority"]
    assert result["changed"] is True and result["restarted"] is True
    assert running_matches_configured(fleet, "kms01")

    third = fleet.playbook("kms_host.yml", limit="kms01", extra_vars=options).task(HOST_TASK, "kms01")
    assert third.changed is False and third.result["restart_required"] is False


def test_a_first_write_whose_answer_is_lost_is_a_change(fleet: FleetRun) -> None:
    options = {"kms_server": "kms01.corp.example.com"}
    fleet.configure("w11pro", lose_method="SoftwareLicensingService.SetKeyManagementServiceMachine")
    try:
        run = fleet.playbook("kms_client.yml", limit="w11pro", extra_vars=options)
    finally:
        fleet.configure("w11pro", lose_method="null")
    result = run.task(CLIENT_TASK, "w11pro")
    assert result.status == "failed", result.result  # not unreachable: the host changed
    assert result.result["changed"] is True
    # The dropped TCP connection took its NTLM security context with it, so the task cannot re-read the host:
    # it says the write may have been carried out, and changed.
    assert result.result.get("may_have_applied") == ["server"], result.result
    assert "may have carried out the request" in result.result["msg"]
    assert fleet.state("w11pro")["licensing"]["service"]["KeyManagementServiceMachine"] == "kms01.corp.example.com"

    rerun = fleet.playbook("kms_client.yml", limit="w11pro", extra_vars=options)
    assert rerun.rc == 0, rerun.output
    final = fleet.playbook("kms_client.yml", limit="w11pro", extra_vars=options).task(CLIENT_TASK, "w11pro")
    assert final.changed is False
