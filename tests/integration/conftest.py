# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration harness: an emulated fleet per test module, real ansible-playbook runs against it.

``fleet_factory(name)`` starts ``tests/emulator/winemu serve`` with
``tests/integration/fleets/<name>.yml`` and returns a :class:`FleetRun` that runs
playbooks (with a recording callback so tests read every task result as data),
reads emulated host state and counters, and injects drift.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import signal
import subprocess
import sys
import typing as t

import pytest
import yaml

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
WINEMU = REPO / "tests" / "emulator" / "winemu"
FLEETS = HERE / "fleets"
PLAYBOOKS = HERE / "playbooks"
BIN = pathlib.Path(sys.executable).parent
READY_TIMEOUT = 60


def collections_root() -> pathlib.Path:
    """A collections path holding this checkout as ansible_collections/winact/kms."""
    root = REPO / "build" / "collections"
    link = root / "ansible_collections" / "winact" / "kms"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO, target_is_directory=True)
    return root


@dataclasses.dataclass
class TaskResult:
    host: str
    task: str
    action: str
    status: str
    result: dict[str, t.Any]

    @property
    def changed(self) -> bool:
        return bool(self.result.get("changed"))

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclasses.dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    results: list[TaskResult]

    def task(self, name: str, host: str | None = None) -> TaskResult:
        """The result of the named task (on ``host`` when given); fails the test if absent."""
        matches = [r for r in self.results if r.task == name and (host is None or r.host == host)]
        assert matches, f"no result for task {name!r} host {host!r}; tasks: {sorted({r.task for r in self.results})}"
        assert len(matches) == 1 or host is None, f"several results for {name!r} on {host!r}"
        return matches[0]

    def tasks(self, name: str) -> dict[str, TaskResult]:
        return {r.host: r for r in self.results if r.task == name}

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class FleetRun:
    def __init__(self, fleet_file: pathlib.Path, workdir: pathlib.Path, env: t.Mapping[str, str] | None = None) -> None:
        self.fleet_file = fleet_file
        self.workdir = workdir
        self.inventory = workdir / "inventory.yml"
        self.process: subprocess.Popen[str] | None = None
        # Extra environment of the emulator and of ansible-playbook (a test KDC's KRB5_CONFIG and keytab).
        self.env = dict(env or {})

    # -- lifecycle -------------------------------------------------------
    def start(self) -> None:
        log = (self.workdir / "winemu.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, str(WINEMU), "serve", "--fleet", str(self.fleet_file), "--inventory", str(self.inventory)],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, **self.env},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # blocks until 'ready' or the process ends
        if line.strip() != "ready":
            self.stop()
            log_text = (self.workdir / "winemu.log").read_text()
            raise RuntimeError(f"emulator did not start: {line!r}\n{log_text}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    # -- emulator control ------------------------------------------------
    def winemu(self, *args: str, check: bool = True) -> t.Any:
        proc = subprocess.run(
            [sys.executable, str(WINEMU), args[0], "--inventory", str(self.inventory), *args[1:]],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"winemu {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def state(self, host: str) -> dict[str, t.Any]:
        return t.cast(dict[str, t.Any], self.winemu("state", host))

    def stats(self, host: str) -> dict[str, t.Any]:
        data = self.winemu("stats", host)
        return t.cast(dict[str, t.Any], data.get(host, data))

    def writes(self, host: str) -> int:
        return int(self.stats(host)["writes"])

    def all_writes(self) -> dict[str, int]:
        return {host: int(data["writes"]) for host, data in self.winemu("stats").items()}

    def invoke(
        self,
        host: str,
        cls: str,
        method: str,
        *,
        selectors: t.Mapping[str, str] | None = None,
        params: t.Mapping[str, t.Any] | None = None,
        namespace: str = "root/cimv2",
    ) -> t.Any:
        args = ["invoke", host, cls, method, "--namespace", namespace]
        for key, value in (selectors or {}).items():
            args += ["--selector", f"{key}={value}"]
        for key, value in (params or {}).items():
            args += ["--param", f"{key}={value}"]
        return self.winemu(*args)

    def configure(self, host: str, **changes: t.Any) -> None:
        self.winemu("configure", host, *(f"{k}={v}" for k, v in changes.items()))

    def hosts(self) -> list[str]:
        data = yaml.safe_load(self.inventory.read_text())
        return list(data["all"]["hosts"])

    # -- ansible ---------------------------------------------------------
    def playbook(
        self,
        playbook: str | pathlib.Path,
        *,
        check: bool = False,
        diff: bool = False,
        limit: str | None = None,
        extra_vars: t.Mapping[str, t.Any] | None = None,
        verbosity: int = 0,
        inventory: pathlib.Path | None = None,
        forks: int | None = None,
    ) -> PlaybookRun:
        """Run a playbook. A check-mode run (``--check``, or a playbook whose every host play sets ``check_mode:
        true``) goes through :meth:`check_mode_run`, which asserts that no emulated host was written."""
        path = pathlib.Path(playbook)
        if not path.is_absolute():
            path = PLAYBOOKS / path
        options: dict[str, t.Any] = {
            "limit": limit,
            "extra_vars": extra_vars,
            "verbosity": verbosity,
            "inventory": inventory,
            "forks": forks,
        }
        if check or check_only_playbook(path):
            return self.check_mode_run(path, check=check, diff=diff, **options)
        return self._run_playbook(path, check=False, diff=diff, **options)

    def check_mode_run(self, path: pathlib.Path, *, check: bool, diff: bool, **options: t.Any) -> PlaybookRun:
        """The one check-mode helper: the run must leave every emulated host's write counter where it was."""
        before = self.all_writes()
        run = self._run_playbook(path, check=check, diff=diff, **options)
        after = self.all_writes()
        moved = {host: after[host] - count for host, count in before.items() if after.get(host) != count}
        assert not moved, f"check-mode run of {path.name} wrote to emulated hosts: {moved}\n{run.output[-2000:]}"
        return run

    def _run_playbook(
        self,
        path: pathlib.Path,
        *,
        check: bool,
        diff: bool,
        limit: str | None,
        extra_vars: t.Mapping[str, t.Any] | None,
        verbosity: int,
        inventory: pathlib.Path | None,
        forks: int | None,
    ) -> PlaybookRun:
        record = self.workdir / "record.jsonl"
        record.write_text("")
        cmd = [str(BIN / "ansible-playbook"), "-i", str(inventory or self.inventory), str(path)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if limit:
            cmd += ["--limit", limit]
        if extra_vars:
            cmd += ["--extra-vars", json.dumps(dict(extra_vars))]
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        env = self._ansible_env(record)
        if forks is not None:
            env["ANSIBLE_FORKS"] = str(forks)  # forks=5 is ansible-core's default
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
        results = [TaskResult(**json.loads(line)) for line in record.read_text().splitlines() if line.strip()]
        return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results)

    def _ansible_env(self, record: pathlib.Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "ANSIBLE_COLLECTIONS_PATH": str(collections_root()),
                "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
                "ANSIBLE_CALLBACKS_ENABLED": "winact_record",
                "WINACT_RECORD_FILE": str(record),
                "ANSIBLE_HOME": str(self.workdir / "ansible-home"),
                "ANSIBLE_LOCAL_TEMP": str(self.workdir / "ansible-tmp"),
                "ANSIBLE_RETRY_FILES_ENABLED": "false",
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_FORCE_COLOR": "0",
                "ANSIBLE_DEPRECATION_WARNINGS": "false",
                "ANSIBLE_FORKS": "10",
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
                **self.env,
            }
        )
        return env


# The longest test files start first, so that under ``--dist loadfile`` they overlap the others instead of
# running alone at the end; the rest follow by number of tests, as pytest-xdist's own reordering would put them
# (the Makefile turns that off with --no-loadscope-reorder: it would put the one-test load file last).
LONGEST_FIRST = ("test_load.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    per_file: dict[pathlib.Path, int] = {}
    for item in items:
        per_file[item.path] = per_file.get(item.path, 0) + 1
    items.sort(key=lambda item: (item.path.name not in LONGEST_FIRST, -per_file[item.path]))  # stable


def check_only_playbook(path: pathlib.Path) -> bool:
    """Whether every play of ``path`` that targets hosts (not the controller) sets ``check_mode: true``."""
    plays = yaml.safe_load(path.read_text()) or []
    host_plays = [p for p in plays if p.get("hosts") not in ("localhost", "127.0.0.1")]
    if not host_plays or any("import_playbook" in p for p in plays):
        return False
    return all(p.get("check_mode") is True for p in host_plays)


@pytest.fixture(scope="module")
def fleet_factory(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[t.Callable[[str], FleetRun]]:
    """Start emulated fleets by name; all of them stop when the test module ends."""
    started: list[FleetRun] = []

    def start(name: str) -> FleetRun:
        run = FleetRun(FLEETS / f"{name}.yml", tmp_path_factory.mktemp(name))
        run.start()
        started.append(run)
        return run

    yield start
    for run in started:
        run.stop()
