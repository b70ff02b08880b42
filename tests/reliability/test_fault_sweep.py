# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A change cut short at every request index always converges.

For a full kms_client + activation_policy configuration and a full kms_host configuration, each request of the
first run on a fresh host is in turn dropped, answered with a SOAP fault, stalled past OperationTimeout, carried
out with its answer lost, or carried out with no answer past the read timeout. Every case must end in a clean
failed or unreachable result whose ``applied`` / ``may_have_applied`` tell the truth (checked against the host
with a check-mode run, zero writes); a rerun without the fault converges with sppsvc running the configured
settings (the emulator's record of sppsvc's last start, not only the registry) and ``changed`` telling the
truth; a third run changes nothing.

Cases run in threads, each on its own fresh emulated host; the full matrix runs by default (``make test``,
``make sweep``). ``WINACT_SWEEP=ci`` runs every index with three of the five kinds (rotating with the index:
each kind covers three indices in five) for a slower machine.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
import typing as t

import pytest

from ansible_collections.winact.kms.tests.reliability import harness as h

KINDS = ("drop", "fault", "stall", "lost", "hang")
CONFIGS = {"client": h.CLIENT_CONFIG, "kms_host": h.HOST_CONFIG}
# Requests of the first run on a fresh host (measured by test_the_sweep_covers_every_request); a settings
# module reads only the registry values its task gives (kms_client here leaves out the activation type).
FIRST_RUN_REQUESTS = {"client": 45, "kms_host": 30}
THREADS = 12
NOT_SETTINGS = ("restart ", "Win32_Service.")


def selected(config: str, kind: str) -> list[int]:
    count = FIRST_RUN_REQUESTS[config]
    if os.environ.get("WINACT_SWEEP", "full") != "ci":
        return list(range(1, count + 1))
    offset = KINDS.index(kind)
    return [index for index in range(1, count + 1) if (index + offset) % 5 < 3]


@pytest.fixture(scope="module")
def fleets(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[dict[str, h.RemoteFleet]]:
    """One emulator process per configuration, so both keep a core busy."""
    started: dict[str, h.RemoteFleet] = {}
    try:
        for name in CONFIGS:
            cases = sum(len(selected(name, kind)) for kind in KINDS) + 1
            spec = h.fleet_spec(cases, 0) if name == "client" else h.fleet_spec(0, cases)
            started[name] = h.RemoteFleet(spec, tmp_path_factory.mktemp(f"sweep-{name}"))
        yield started
    finally:
        for running in started.values():
            running.close()


class Hosts:
    """Hands out each fresh host once."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.next = 1

    def take(self) -> str:
        name = f"{self.prefix}{self.next:03d}"
        self.next += 1
        return name


HOSTS = {"client": Hosts("c"), "kms_host": Hosts("k")}


def test_the_sweep_covers_every_request(fleets: dict[str, h.RemoteFleet]) -> None:
    for name, config in CONFIGS.items():
        host = fleets[name].host(HOSTS[name].take())
        result = h.play(host, config)
        assert result.ok, result.results
        assert host.stats()["requests"]["total"] == FIRST_RUN_REQUESTS[name], (
            "update FIRST_RUN_REQUESTS to sweep every request"
        )


def _settings(item: str) -> bool:
    return not item.startswith(NOT_SETTINGS)


def check_case(fleet: h.RemoteFleet, host: str, config_name: str, kind: str, index: int) -> list[str]:
    """Run one cut-short case; return what went wrong (empty: all promises held)."""
    config = CONFIGS[config_name]
    endpoint = fleet.host(host)
    where = f"{config_name} {kind}@{index} on {host}"
    endpoint.configure_faults({f"{kind}_at_request": index, "hang_ms": (h.READ_TIMEOUT + 1) * 1000})
    faulted = h.play(endpoint, config)
    endpoint.configure_faults({f"{kind}_at_request": None})
    if kind in ("stall", "hang"):
        time.sleep(1.0)  # the host finishes what it was still running
    problems: list[str] = []
    for module, result in faulted.results:
        if not (result.get("failed") or result.get("unreachable")):
            continue
        msg = str(result.get("msg", ""))
        if "Traceback" in msg or not msg or "error" not in result:
            problems.append(f"{where}: {module} failed without a clean message: {result}")
        claimed = bool(result.get("applied") or result.get("may_have_applied"))
        if result.get("unreachable") and (result.get("changed") or claimed):
            problems.append(f"{where}: {module} unreachable but claims changes: {result}")
        if result.get("failed") and bool(result.get("changed")) != claimed:
            problems.append(f"{where}: {module} changed={result.get('changed')} disagrees with applied: {result}")

    differs = h.still_differs(endpoint, config)
    reached = dict(faulted.results)
    for module, args in config:
        wanted = set(args)
        if module not in reached:
            if differs[module] != wanted:
                problems.append(f"{where}: {module} never ran, yet {wanted - differs[module]} changed")
            continue
        result = reached[module]
        if not (result.get("failed") or result.get("unreachable")):
            if differs[module]:
                problems.append(f"{where}: {module} succeeded but {differs[module]} still differ")
            continue
        applied = {a for a in result.get("applied", []) if _settings(a)}
        maybe = {a for a in result.get("may_have_applied", []) if _settings(a)}
        if applied & differs[module]:
            problems.append(f"{where}: {module} says {applied & differs[module]} applied; the host disagrees")
        untouched = wanted - applied - maybe
        if not untouched <= differs[module]:
            problems.append(f"{where}: {module} left out {untouched - differs[module]} it did change: {result}")

    rerun = h.play(endpoint, config)
    if not rerun.ok:
        problems.append(f"{where}: the rerun failed: {rerun.results}")
    for module, result in rerun.results:
        truthful = bool(result.get("changes")) or bool(result.get("restarted"))
        if bool(result.get("changed")) != truthful:
            problems.append(f"{where}: rerun {module} changed={result.get('changed')} but did {result}")
    same, configured, running = h.effective_matches_configured(endpoint)
    if not same:
        problems.append(f"{where}: sppsvc runs with {running}, the registry holds {configured}")
    third = h.play(endpoint, config)
    if not third.ok or third.changed:
        problems.append(f"{where}: the third run changed something: {third.results}")
    return problems


@pytest.mark.parametrize("kind", KINDS)
def test_a_change_cut_short_converges(fleets: dict[str, h.RemoteFleet], kind: str) -> None:
    cases = [(name, index, HOSTS[name].take()) for name in CONFIGS for index in selected(name, kind)]
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(check_case, fleets[name], host, name, kind, index) for name, index, host in cases]
        problems = [problem for future in futures for problem in future.result()]
    assert not problems, "\n".join(problems)
