# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load: the site playbook against a generated fleet with forks 50, three times: no failure, every host
converged on the first run, nothing changed after.

``WINACT_LOAD_HOSTS`` sets the fleet size: ``make test`` uses the default, 30 hosts (about a minute on two
cores); ``make load`` runs the full 200 (several minutes, too long for the ``make test`` budget).
"""

from __future__ import annotations

import os
import pathlib
import typing as t

import pytest
import yaml

from .conftest import FleetRun

PLAYBOOKS = pathlib.Path(__file__).resolve().parents[2] / "playbooks"
HOSTS = int(os.environ.get("WINACT_LOAD_HOSTS", "30"))
CSVLK = "K663C-33TCK-C2GPV-G2F3P-27HF3"
SITE_VARS = {"kms_host_dns_publishing": False, "kms_client_server": "kms01.corp.example.com"}


def fleet_spec(hosts: int) -> dict[str, t.Any]:
    clients = hosts - 1
    servers = clients // 2
    return {
        "defaults": {
            "domain": "corp.example.com",
            "accounts": [{"username": "Administrator", "password": "Winact-2026!", "admin": True}],
        },
        "keys": [{"key": CSVLK, "channel": "Volume:CSVLK", "csvlk_group": "Windows Server 2025"}],
        "hosts": [
            {
                "name": "kms01",
                "edition": "ServerDatacenter",
                "build": 26100,
                "license": {"key": CSVLK, "status": "licensed"},
                "kms_host": {"csvlk_group": "Windows Server 2025", "extra_count": 30, "dns_publishing": False},
            },
            {"name": "srv{index:03d}", "count": servers, "edition": "ServerStandard", "build": 20348},
            {"name": "pc{index:03d}", "count": clients - servers, "edition": "Enterprise", "build": 22631},
        ],
    }


class Forks50(FleetRun):
    def _ansible_env(self, record: pathlib.Path) -> dict[str, str]:
        return {**super()._ansible_env(record), "ANSIBLE_FORKS": "50"}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[FleetRun]:
    workdir = tmp_path_factory.mktemp("load")
    fleet_file = workdir / "fleet.yml"
    fleet_file.write_text(yaml.safe_dump(fleet_spec(HOSTS)))
    running = Forks50(fleet_file, workdir)
    running.start()
    yield running
    running.stop()


def test_the_site_playbook_converges_a_fleet_with_forks_50(fleet: FleetRun) -> None:
    runs = []
    for attempt in range(3):
        run = fleet.playbook(PLAYBOOKS / "site.yml", extra_vars={**SITE_VARS, "kms_client_activate_delay": 1})
        runs.append(run)
        failed = [(r.host, r.task, r.result.get("msg")) for r in run.results if r.failed or r.status == "unreachable"]
        assert run.rc == 0 and not failed, (attempt, failed[:5], run.output[-2000:])
        if attempt:
            changed = [(r.host, r.task) for r in run.results if r.changed]
            assert changed == [], (attempt, changed[:10])
    # Above its threshold (extra_count), the KMS host activates every client on the first pass.
    first_pass = "winact.kms.kms_client : Activate (first pass; a KMS host below its threshold counts the request)"
    activated = {r.host: r for r in runs[0].results if r.task == first_pass}
    assert len(activated) == HOSTS - 1, sorted({r.task for r in runs[0].results})
    assert all(r.changed and r.result["license_status_name"] == "Licensed" for r in activated.values())
