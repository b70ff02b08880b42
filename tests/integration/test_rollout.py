# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollout to a fresh KMS host: one site run activates every client it can serve, in two passes.

A KMS host counts every client that asks, including those it refuses with 0xC004F038, and activates client
editions from a count of 25. The first pass of requests from every client grows the count; the second pass
activates the clients refused before. Clients of a host that stays below the threshold get a clear result.
"""

from __future__ import annotations

import pathlib
import typing as t

import pytest

from .conftest import FleetRun

PLAYBOOKS = pathlib.Path(__file__).resolve().parents[2] / "playbooks"
FIRST = "winact.kms.kms_client : Activate (first pass; a KMS host below its threshold counts the request)"
SECOND = "winact.kms.kms_client : Activate (second pass, once the KMS count has grown)"
HOST_COUNT = "winact.kms.kms_host : Read the KMS host's count"
SITE_VARS = {"kms_client_dns_discovery": True, "kms_client_activate_delay": 1}


def licensed(fleet: FleetRun, hosts: t.Sequence[str]) -> dict[str, str]:
    report = fleet.playbook("license_info.yml", limit=",".join(hosts))
    return {
        host: result.result["windows_product"]["license_status_name"]
        for host, result in report.tasks("Read license info").items()
    }


def test_fresh_kms_host_activates_all_30_clients_in_one_site_run_with_default_forks(
    fleet_factory: t.Callable[[str], FleetRun],
) -> None:
    fleet = fleet_factory("rollout")
    clients = [f"pc{index:02d}" for index in range(1, 31)]
    host_state = fleet.state("kms01")["kms_host"]
    assert host_state["current_count"] in (0, None), host_state
    run = fleet.playbook(PLAYBOOKS / "site.yml", extra_vars=SITE_VARS, forks=5)
    assert run.rc == 0, run.output
    # The fresh host warned that it activates nobody yet.
    assert any("below" in w for w in run.task(HOST_COUNT, "kms01").result.get("warnings", [])), run.output
    first = run.tasks(FIRST)
    refused = [host for host, result in first.items() if "below_threshold" in result.result]
    assert len(refused) == 24, sorted(refused)  # the 25th request reaches the threshold
    assert all(r.result["below_threshold"]["threshold"] == 25 for host, r in first.items() if host in refused)
    second = run.tasks(SECOND)
    assert sorted(h for h, r in second.items() if r.status != "skipped") == sorted(refused)
    assert all(second[host].result["activated"] for host in refused)
    assert set(licensed(fleet, clients).values()) == {"Licensed"}


@pytest.fixture(scope="module")
def small(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("rollout_small")


def test_clients_below_the_threshold_report_their_count_and_warn_by_default(small: FleetRun) -> None:
    fleet = small
    clients = ["pc1", "pc2", "pc3"]
    run = fleet.playbook(PLAYBOOKS / "site.yml", extra_vars=SITE_VARS)
    assert run.rc == 0, run.output
    for host in clients:
        result = run.task(SECOND, host)
        assert result.status == "ok", result.result
        assert result.result["below_threshold"]["count"] == 3
        assert "count 3 of 25" in result.result["msg"]
        assert any("count 3 of 25" in warning for warning in result.result.get("warnings", []))
        assert "VLActivationInterval" in result.result["msg"]
    assert "count 3 of 25" in run.output  # the warning is shown, not only recorded
    assert set(licensed(fleet, clients).values()) == {"OOBGrace"}

    failing = fleet.playbook(PLAYBOOKS / "site.yml", extra_vars={**SITE_VARS, "kms_client_below_threshold": "fail"})
    assert failing.rc != 0
    for host in clients:
        result = failing.task(SECOND, host)
        assert result.failed
        assert "count 3 of 25" in result.result["msg"]
        assert result.result["error"]["hresult"] == "0xC004F038"
