# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pieces of the benchmarks: timing statistics, an emulated fleet on a background event loop, the
collection's action plugins run in-process over a real pywinrm transport, and process memory.

Benchmarks import this as ``ansible_collections.winact.kms.tests.benchmarks.harness`` (the checkout is the
collection, see the top-level conftest.py), so the plugins and this module share one import root.
"""

from __future__ import annotations

import asyncio
import collections.abc
import dataclasses
import importlib
import sys
import threading
import types
import typing as t
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EMULATOR_DIR = REPO / "tests" / "emulator"
if str(EMULATOR_DIR) not in sys.path:
    sys.path.insert(0, str(EMULATOR_DIR))

from winemu_lib import control, inventory, server, winrm_endpoint  # noqa: E402

ADMIN_USER = "Administrator"
ADMIN_PASSWORD = "Winact-2026!"
# WinRS shell actions of Ansible's winrm connection; every other counted request is a WMI operation.
SHELL_ACTIONS = frozenset({"Create", "Delete", "Command", "Send", "Receive", "Signal"})

R = t.TypeVar("R")


class Benchmark(t.Protocol):
    """The part of pytest-benchmark's ``benchmark`` fixture these benchmarks use (it ships no annotations)."""

    extra_info: dict[str, t.Any]
    stats: t.Any  # pytest_benchmark.stats.Metadata once measured; None when benchmarks are disabled

    def __call__(self, function: t.Callable[..., R], *args: t.Any, **kwargs: t.Any) -> R: ...

    def pedantic(
        self,
        target: t.Callable[..., R],
        args: tuple[t.Any, ...] = (),
        kwargs: dict[str, t.Any] | None = None,
        setup: t.Callable[[], t.Any] | None = None,
        teardown: t.Callable[..., t.Any] | None = None,
        rounds: int = 1,
        warmup_rounds: int = 0,
        iterations: int = 1,
    ) -> R: ...


@dataclasses.dataclass(frozen=True)
class Timing:
    """Seconds per benchmarked call."""

    median: float
    mean: float
    slowest: float
    rounds: int


def timing(benchmark: Benchmark) -> Timing | None:
    """The measured statistics, or None when pytest-benchmark ran the function without timing it."""
    metadata = benchmark.stats
    if metadata is None:
        return None
    stats = metadata.stats
    return Timing(
        median=float(stats.median), mean=float(stats.mean), slowest=float(stats.max), rounds=int(stats.rounds)
    )


# Derived numbers (ms per page, hosts/s, ...) of this session, printed after pytest-benchmark's table.
REPORT: list[tuple[str, dict[str, str]]] = []


def report(benchmark: Benchmark, title: str, **metrics: str) -> None:
    """Keep the derived numbers in the benchmark's JSON (extra_info) and in the terminal summary."""
    benchmark.extra_info.update(metrics)
    REPORT.append((title, dict(metrics)))


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def mib(size: float) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


# --------------------------------------------------------------------------------------------------
# An emulated fleet served from a background thread


class ThreadedFleet:
    """A FleetServer (and optionally its control API) on an event loop in a daemon thread.

    The benchmarks block in HTTP clients or subprocesses, so the emulator needs its own loop; one process
    still serves every host, as ``winemu serve`` does.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="winemu-bench-loop", daemon=True)
        self._thread.start()
        self.server: server.FleetServer | None = None
        self.control: control.ControlServer | None = None

    def run(self, awaitable: collections.abc.Coroutine[t.Any, t.Any, R], timeout: float = 120) -> R:
        return asyncio.run_coroutine_threadsafe(awaitable, self.loop).result(timeout)

    def serve(self, fleet: server.FleetLike, *, with_control: bool = False) -> server.FleetServer:
        """Start listening for every host of ``fleet`` (replacing a fleet served before)."""
        self.stop_serving()
        fleet_server = server.FleetServer(fleet)
        self.run(fleet_server.start())
        self.server = fleet_server
        if with_control:
            self.control = control.ControlServer(fleet_server)
            self.run(self.control.start())
        return fleet_server

    def stop_serving(self) -> None:
        if self.control is not None:
            self.run(self.control.stop())
            self.control = None
        if self.server is not None:
            self.run(self.server.stop())
            self.server = None

    def close(self) -> None:
        self.stop_serving()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def endpoint(self, name: str) -> winrm_endpoint.HostEndpoint:
        assert self.server is not None, "no fleet is being served"
        return self.server.host(name)

    def write_inventory(self, path: Path) -> Path:
        assert self.server is not None and self.control is not None, "the inventory needs the control API"
        inventory.write(path, inventory.build(self.server, self.control.url))
        return path


def wmi_requests(endpoint: winrm_endpoint.HostEndpoint) -> int:
    """WS-Man requests a host counted, leaving out the WinRS shell Ansible's winrm connection opens."""
    by_action = endpoint.stats.by_action
    return sum(count for action, count in by_action.items() if action not in SHELL_ACTIONS)


# --------------------------------------------------------------------------------------------------
# Action plugins in-process, over the task connection a winrm task would have


class _Shell:
    tmpdir = "unused"  # ActionBase.run only asks whether a remote tmp dir exists; these plugins need none


class WinrmConnection:
    """The parts of Ansible's winrm connection plugin that the collection's transport adapter reads.

    ``protocol`` is a real pywinrm Protocol (NTLM with message encryption over HTTP, what a host with
    WinRM's Windows defaults accepts), so every request
    goes through pywinrm's HTTP transport and the collection's own adapter, as in a playbook run; only
    the WinRS shell that the real plugin opens around each task is left out.
    """

    transport = "winrm"
    _shell = _Shell()

    def __init__(self, endpoint: winrm_endpoint.HostEndpoint) -> None:
        from winrm.protocol import Protocol

        self.protocol = Protocol(
            endpoint.url,
            transport="ntlm",
            username=ADMIN_USER,
            password=ADMIN_PASSWORD,
            server_cert_validation="ignore",
            message_encryption="auto",
        )

    def _connect(self) -> WinrmConnection:
        return self


def run_action(
    module: str, endpoint: winrm_endpoint.HostEndpoint, args: t.Mapping[str, t.Any], *, check: bool = False
) -> dict[str, t.Any]:
    """Run ``winact.kms.<module>`` as one task on one emulated host; return its result."""
    plugin = importlib.import_module(f"ansible_collections.winact.kms.plugins.action.{module}").ActionModule
    # The plugins read only the task's args and modes and the connection: skip ActionBase's loader wiring.
    action = object.__new__(plugin)
    action._task = types.SimpleNamespace(
        args=dict(args), async_val=0, check_mode=check, diff=False, action=f"winact.kms.{module}"
    )
    action._connection = WinrmConnection(endpoint)
    return t.cast(dict[str, t.Any], action.run(task_vars={}))
