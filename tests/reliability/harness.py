# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pieces of the reliability tests: an emulated fleet served in-process, the settings configurations the
fault sweep cuts short, and the one check-mode helper that asserts zero writes.

The action plugins run in the test process over a real pywinrm HTTP transport with a short read timeout,
against an emulated fleet served by its own ``winemu serve`` process, so hundreds of cut-short runs fit in CI;
representative cases also run through real ``ansible-playbook`` (tests/integration/test_reliability_playbooks.py).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import signal
import subprocess
import sys
import types
import typing as t
import urllib.request
from pathlib import Path

import yaml

WINEMU = Path(__file__).resolve().parents[1] / "emulator" / "winemu"
ADMIN_USER = "Administrator"
ADMIN_PASSWORD = "Winact-2026!"

READ_TIMEOUT = 3  # s; the collection's OperationTimeout then is 1 s
CSVLK = "K663C-33TCK-C2GPV-G2F3P-27HF3"  # a public sample KMS host key of the emulated key ring


def fleet_spec(clients: int, kms_hosts: int) -> dict[str, t.Any]:
    """Fresh workstations (KMS clients) and activated KMS hosts, one per sweep case."""
    hosts: list[dict[str, t.Any]] = []
    if clients:
        hosts.append({"name": "c{index:03d}", "count": clients, "edition": "Enterprise", "build": 22631})
    if kms_hosts:
        hosts.append(
            {
                "name": "k{index:03d}",
                "count": kms_hosts,
                "edition": "ServerDatacenter",
                "build": 20348,
                "license": {"key": CSVLK, "status": "licensed"},
                "kms_host": {"csvlk_group": "Windows Server 2022", "extra_count": 30},
            }
        )
    return {
        "defaults": {
            "domain": "corp.example.com",
            "accounts": [{"username": ADMIN_USER, "password": ADMIN_PASSWORD, "admin": True}],
        },
        "keys": [{"key": CSVLK, "channel": "Volume:CSVLK", "csvlk_group": "Windows Server 2022"}],
        "hosts": hosts,
    }


# A full client configuration (every kms_client and activation_policy setting changes from a fresh host's) and
# a full KMS host configuration.
CLIENT_CONFIG: tuple[tuple[str, dict[str, t.Any]], ...] = (
    (
        "kms_client",
        {
            "server": "kms01.corp.example.com",
            "port": 1700,
            "lookup_domain": "corp.example.com",
            "host_caching": False,
            "activation_interval": 60,
            "renewal_interval": 4320,
        },
    ),
    (
        "activation_policy",
        {
            "alternate_url": "https://help.example.com/activation?a=1&b=<2>",
            "notifications_disabled": True,
            "manual_activation": True,
            "user_operations": True,
            "skip_rearm": True,
        },
    ),
)
HOST_CONFIG: tuple[tuple[str, dict[str, t.Any]], ...] = (
    (
        "kms_host",
        {
            "listening_port": 1700,
            "dns_publishing": False,
            "dns_publish_domains": [{"domain": "east.example.com", "priority": 10, "weight": 50}],
            "low_priority": True,
            "activation_interval": 60,
            "renewal_interval": 4320,
        },
    ),
)


class RemoteHost:
    """One emulated host of a fleet served by a ``winemu serve`` process: its WinRM URL and control API."""

    def __init__(self, name: str, url: str, control: str) -> None:
        self.name = name
        self.url = url
        self._control = control.rstrip("/")

    def _api(self, method: str, route: str, body: t.Any = None) -> t.Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self._control}/{route}/{self.name}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the loopback control API
            return json.loads(answer.read())

    def configure_faults(self, changes: t.Mapping[str, t.Any]) -> None:
        self._api("POST", "configure", dict(changes))

    def stats(self) -> dict[str, t.Any]:
        return t.cast(dict[str, t.Any], self._api("GET", "stats"))

    def state(self) -> dict[str, t.Any]:
        return t.cast(dict[str, t.Any], self._api("GET", "state"))


class RemoteFleet:
    """``tests/emulator/winemu serve`` in its own process (its own interpreter, so its event loop never waits for
    the test's client threads), with the fleet given as data."""

    def __init__(self, spec: t.Mapping[str, t.Any], workdir: Path) -> None:
        fleet_file = workdir / "fleet.yml"
        fleet_file.write_text(yaml.safe_dump(dict(spec)))
        inventory = workdir / "inventory.yml"
        self._log = (workdir / "winemu.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, str(WINEMU), "serve", "--fleet", str(fleet_file), "--inventory", str(inventory)],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.close()
            raise RuntimeError(f"the emulator did not start: {line!r}; see {workdir / 'winemu.log'}")
        data = yaml.safe_load(inventory.read_text())
        control = data["all"]["vars"]["winemu_control"]
        self.hosts = {
            name: RemoteHost(name, f"http://{v['ansible_host']}:{v['ansible_port']}/wsman", control)
            for name, v in data["all"]["hosts"].items()
        }

    def host(self, name: str) -> RemoteHost:
        return self.hosts[name]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class _Shell:
    tmpdir = "unused"


class ShortTimeoutConnection:
    """The parts of Ansible's winrm connection the adapter reads, with a short read timeout."""

    transport = "winrm"
    _shell = _Shell()

    def __init__(self, url: str, read_timeout: int = READ_TIMEOUT) -> None:
        from winrm.protocol import Protocol

        self.protocol = Protocol(
            url,
            transport="ntlm",  # what a Windows host accepts by default, with message encryption
            username=ADMIN_USER,
            password=ADMIN_PASSWORD,
            message_encryption="auto",
            read_timeout_sec=read_timeout,
            operation_timeout_sec=read_timeout - 1,
        )

    def _connect(self) -> ShortTimeoutConnection:
        return self


def run_task(module: str, host: RemoteHost, args: t.Mapping[str, t.Any], *, check: bool = False) -> dict[str, t.Any]:
    """``winact.kms.<module>`` as one task on one emulated host; a Python exception is a test failure."""
    plugin = importlib.import_module(f"ansible_collections.winact.kms.plugins.action.{module}").ActionModule
    action = object.__new__(plugin)
    action._task = types.SimpleNamespace(
        args=dict(args), async_val=0, check_mode=check, diff=False, action=f"winact.kms.{module}"
    )
    action._connection = ShortTimeoutConnection(host.url)
    return t.cast(dict[str, t.Any], action.run(task_vars={}))


@dataclasses.dataclass
class Play:
    """The tasks of one configuration run on one host in order; a failed or unreachable task ends the play."""

    results: list[tuple[str, dict[str, t.Any]]]

    @property
    def ok(self) -> bool:
        return all(not r.get("failed") and not r.get("unreachable") for _m, r in self.results)

    @property
    def changed(self) -> bool:
        return any(r.get("changed") for _m, r in self.results)


Config = t.Sequence[tuple[str, dict[str, t.Any]]]


def play(host: RemoteHost, config: Config, *, check: bool = False) -> Play:
    results: list[tuple[str, dict[str, t.Any]]] = []
    for module, args in config:
        result = run_task(module, host, args, check=check)
        results.append((module, result))
        if result.get("failed") or result.get("unreachable"):
            break
    return Play(results)


def writes(host: RemoteHost) -> int:
    return int(host.stats()["writes"])


def check_mode_play(host: RemoteHost, config: Config) -> Play:
    """The one check-mode helper of the reliability tests: runs the configuration in check mode and asserts
    the host saw zero writes."""
    before = writes(host)
    result = play(host, config, check=True)
    assert writes(host) == before, f"check mode wrote to {host.name}: {result.results}"
    return result


def still_differs(host: RemoteHost, config: Config) -> dict[str, set[str]]:
    """Per module, the settings that still differ from the configuration (a check-mode run, zero writes)."""
    result = check_mode_play(host, config)
    assert result.ok, result.results
    return {module: set(r["changes"]) for module, r in result.results}


def effective_matches_configured(host: RemoteHost) -> tuple[bool, dict[str, t.Any], dict[str, t.Any]]:
    """Whether sppsvc runs with what the registry holds (the emulator's own record of its last start)."""
    kms = host.state()["kms_host"]
    configured = dict(kms["configured"])
    running = dict(kms["effective"] or {})
    running.pop("started_at", None)
    return configured == running, configured, running
