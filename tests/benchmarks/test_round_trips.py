# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WS-Man round trips of a no-op run of every module, against the emulator over HTTP.

Each module first brings the host to the wanted state (a run that changes it), then the benchmark times
the run that finds nothing to do. The plugin runs in-process over a real pywinrm Protocol (NTLM with
message encryption, HTTP) wrapped by the collection's own transport adapter; the emulator counts every
request it serves, so the budget is checked on what reached the host. The collection's actions open no WinRS
shell (see ``_wsman.connection_transport``), so these are all the requests a task sends.
"""

from __future__ import annotations

import collections
import collections.abc
import dataclasses
import typing as t

import pytest
from winemu_lib.fleet import Fleet

from ansible_collections.winact.kms.tests.benchmarks.harness import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    Benchmark,
    ThreadedFleet,
    report,
    run_action,
    timing,
    wmi_requests,
)

CSVLK = "K663C-33TCK-C2GPV-G2F3P-27HF3"
FLEET: dict[str, t.Any] = {
    "defaults": {
        "domain": "corp.example.com",
        "accounts": [{"username": ADMIN_USER, "password": ADMIN_PASSWORD, "admin": True}],
    },
    "keys": [{"key": CSVLK, "channel": "Volume:CSVLK", "csvlk_group": "Windows Server 2022"}],
    "hosts": [
        {
            "name": "kms01",
            "edition": "ServerDatacenter",
            "build": 20348,
            "license": {"key": CSVLK, "status": "licensed"},
            "kms_host": {"csvlk_group": "Windows Server 2022", "extra_count": 30},
        },
        {"name": "client01", "edition": "Enterprise", "build": 22631},
    ],
}
# A no-op task must answer well within this on loopback (measured: 5-15 ms); generous for shared machines.
TARGET_MS_PER_NOOP_TASK = 100.0


@dataclasses.dataclass(frozen=True)
class Case:
    module: str
    host: str
    args: dict[str, t.Any]
    budget: int  # WS-Man requests a no-op run may take

    @property
    def id(self) -> str:
        return f"{self.module}-{self.host}"


CASES = [
    Case("license_info", "client01", {}, 5),  # Windows and Office products are two queries
    Case("license_info", "kms01", {"events": True}, 7),
    Case(
        "kms_client",
        "client01",
        {
            "server": "kms01.corp.example.com",
            "port": 1700,
            "lookup_domain": "corp.example.com",
            "host_caching": False,
            "activation_interval": 60,
            "renewal_interval": 4320,
        },
        4,  # the query, the pending-restart note, the two interval values (the activation type is not given)
    ),
    Case(
        "kms_host",
        "kms01",
        {"listening_port": 1700, "dns_publishing": False, "low_priority": True, "renewal_interval": 4320},
        8,  # the query (the values sppsvc runs with), the configured values, the pending-restart note
    ),
    Case(
        "activation_policy",
        "client01",
        {
            "alternate_url": "https://help.contoso.com/activation",
            "notifications_disabled": True,
            "manual_activation": True,
            "user_operations": True,
            "skip_rearm": True,
        },
        6,  # five values and the pending-restart note
    ),
    Case(
        "time_source",
        "client01",
        {"servers": ["ntp1.corp.example.com", "ntp2.corp.example.com,0x9"]},
        3,
    ),
    Case("product_key", "client01", {}, 2),
    Case("activate", "client01", {"retries": 1, "delay": 0, "timeout": 5}, 2),
]


@pytest.fixture(scope="module")
def fleet() -> collections.abc.Iterator[ThreadedFleet]:
    running = ThreadedFleet()
    running.serve(Fleet.from_dict(FLEET))
    try:
        yield running
    finally:
        running.close()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_noop_run_round_trips(benchmark: Benchmark, fleet: ThreadedFleet, case: Case) -> None:
    endpoint = fleet.endpoint(case.host)
    first = run_action(case.module, endpoint, case.args)  # brings the host to the wanted state
    assert not first.get("failed") and not first.get("unreachable"), first
    writes = endpoint.stats_dict()["writes"]
    trips: list[int] = []
    operations: list[collections.Counter[str]] = []

    def noop_run() -> dict[str, t.Any]:
        before, by_method = wmi_requests(endpoint), collections.Counter(endpoint.stats.by_method)
        result = run_action(case.module, endpoint, case.args)
        trips.append(wmi_requests(endpoint) - before)
        operations.append(collections.Counter(endpoint.stats.by_method) - by_method)
        return result

    result = benchmark(noop_run)

    assert result["changed"] is False and not result.get("failed"), result
    assert endpoint.stats_dict()["writes"] == writes, "a no-op run must not write"
    assert len(set(trips)) == 1, f"the request count varies between identical runs: {trips}"
    assert 0 < trips[0] <= case.budget, f"{case.id}: {trips[0]} WS-Man requests, budget {case.budget}: {operations[0]}"

    measured = timing(benchmark)
    if measured is None:
        return
    per_task_ms = measured.median * 1000
    report(
        benchmark,
        f"no-op {case.module} on {case.host}",
        requests=f"{trips[0]} (budget {case.budget})",
        operations=", ".join(f"{name} x{count}" for name, count in sorted(operations[0].items())),
        per_task=f"{per_task_ms:.1f} ms (target < {TARGET_MS_PER_NOOP_TASK:g} ms)",
        per_request=f"{per_task_ms / trips[0]:.1f} ms",
    )
    assert per_task_ms < TARGET_MS_PER_NOOP_TASK
