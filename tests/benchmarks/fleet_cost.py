# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host cost of the kms_client role on an emulated fleet: WS-Man requests and bytes, controller CPU.

Runs real ``ansible-playbook`` over WinRM (NTLM with message encryption) against a fleet served from this
process, so the emulator's own CPU is not counted as the controller's. Scenarios, in order on one fleet:
(a) the full kms_client configuration from a fresh state (keyless clients), (b) the same again with nothing
to change, (c) the drift playbook (check mode). Per scenario: requests and bytes per client host (as the
emulator counted them on the wire, WinRS shells included), CPU (user+sys) of the ansible-playbook process tree,
wall time and the largest peak RSS of a process in that tree.

With ``--baseline-bin`` (the bin directory of a venv holding the PyPI ``ansible`` package, as ``make bench``
builds it) the same settings are also applied the ``ansible.windows`` way on a second, fresh fleet: a
``win_regedit`` task per registry value and ``win_command`` running ``cscript slmgr.vbs /ipk`` and ``/ato``.
The emulator answers their WinRS commands (Create, Command, Send, Receive, Signal, Delete) with a canned
successful module result, a bench-only mode that is not Windows behaviour: the wire cost and the controller's
CPU are real, but the PowerShell process Windows would start for every task is not counted (nor is any change
made on the host, so the baseline's "no change" run costs what its full run does).

    PYTHONPATH=build/collections .venv/bin/python tests/benchmarks/fleet_cost.py --hosts 10 --out bench/results.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

import yaml

from ansible_collections.winact.kms.tests.benchmarks.harness import ADMIN_PASSWORD, ADMIN_USER, REPO, ThreadedFleet

BIN = Path(sys.executable).parent
CSVLK = "K663C-33TCK-C2GPV-G2F3P-27HF3"
KMS_HOST = "kms01"
# The full client configuration of scenario (a): KMS host and port, intervals, AlternateURL, UserOperations.
ROLE_VARS: dict[str, t.Any] = {
    "kms_client_server": f"{KMS_HOST}.corp.example.com",
    "kms_client_port": 1688,
    "kms_client_activation_interval": 120,
    "kms_client_renewal_interval": 10080,
    "kms_client_alternate_url": "https://activation.corp.example.com/",
    "kms_client_user_operations": True,
    "kms_client_below_threshold": "fail",
}
CLIENT_PLAY = [
    {"name": "KMS clients", "hosts": "kms_clients", "gather_facts": False, "roles": ["winact.kms.kms_client"]}
]
SCENARIOS = (
    ("a_full_configuration", "client.yml"),
    ("b_no_change", "client.yml"),
    ("c_drift", "winact.kms.drift"),
)
GVLK_ENTERPRISE = "NPPR9-FWDCX-D2C8J-H872K-2YT43"  # Microsoft's published GVLK for Windows Enterprise
SPP_PATH = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
SLMGR = r"cscript.exe //NoLogo C:\Windows\System32\slmgr.vbs"
# The same settings as ROLE_VARS, the ansible.windows way: a module call per registry value, slmgr for the rest.
BASELINE_VALUES = (
    (SPP_PATH, "KeyManagementServiceName", ROLE_VARS["kms_client_server"], "string"),
    (SPP_PATH, "KeyManagementServicePort", str(ROLE_VARS["kms_client_port"]), "string"),
    (SPP_PATH, "VLActivationInterval", ROLE_VARS["kms_client_activation_interval"], "dword"),
    (SPP_PATH, "VLRenewalInterval", ROLE_VARS["kms_client_renewal_interval"], "dword"),
    (SPP_PATH + r"\Activation", "AlternateURL", ROLE_VARS["kms_client_alternate_url"], "string"),
    (SPP_PATH, "UserOperations", 1, "dword"),
)
BASELINE_PLAY = [
    {
        "name": "KMS clients, the ansible.windows way",
        "hosts": "kms_clients",
        "gather_facts": False,
        "tasks": [
            {"name": "Install the GVLK", "ansible.windows.win_command": f"{SLMGR} /ipk {GVLK_ENTERPRISE}"},
            *(
                {
                    "name": f"Set {name}",
                    "ansible.windows.win_regedit": {"path": path, "name": name, "data": data, "type": kind},
                }
                for path, name, data, kind in BASELINE_VALUES
            ),
            {"name": "Activate", "ansible.windows.win_command": f"{SLMGR} /ato"},
        ],
    }
]
# The drift check the ansible.windows way: the same play in check mode, with diffs.
BASELINE_SCENARIOS = (
    ("a_full_configuration", ["baseline.yml"]),
    ("b_no_change", ["baseline.yml"]),
    ("c_drift", ["baseline.yml", "--check", "--diff"]),
)
# Bench-only: what every WinRS command of the baseline "prints" (a module result, as the exec wrapper would).
CANNED_STDOUT = b'{"changed": false, "rc": 0, "stdout": "", "stderr": "", "winact_bench_canned": true}\r\n'


def fleet_spec(hosts: int, latency_ms: int) -> dict[str, t.Any]:
    return {
        "defaults": {
            "domain": "corp.example.com",
            "accounts": [{"username": ADMIN_USER, "password": ADMIN_PASSWORD, "admin": True}],
            "faults": {"latency_ms": latency_ms},
        },
        "keys": [{"key": CSVLK, "channel": "Volume:CSVLK", "csvlk_group": "Windows Server 2022"}],
        "hosts": [
            {
                "name": KMS_HOST,
                "edition": "ServerDatacenter",
                "build": 20348,
                "license": {"key": CSVLK, "status": "licensed"},
                "kms_host": {"csvlk_group": "Windows Server 2022", "extra_count": 30},
                "groups": ["kms_hosts"],
            },
            {
                "name": "pc{index:04d}",
                "count": hosts,
                "edition": "Enterprise",
                "build": 22631,
                "license": {"key": "none", "status": "unlicensed"},
                "groups": ["kms_clients"],
            },
        ],
    }


def ansible_env(workdir: Path, collections: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(collections),
            "ANSIBLE_HOME": str(workdir / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-tmp"),
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env


def run_scenario(
    fleet: ThreadedFleet, command: list[str], env: dict[str, str], workdir: Path, clients: list[str]
) -> dict[str, t.Any]:
    assert fleet.server is not None
    for endpoint in fleet.server.hosts.values():
        endpoint.reset_stats()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=1800, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    endpoints = [fleet.endpoint(name) for name in clients]
    by_action: dict[str, int] = {}
    by_method: dict[str, int] = {}
    for endpoint in endpoints:
        for action, count in endpoint.stats.by_action.items():
            by_action[action] = by_action.get(action, 0) + count
        for method, count in endpoint.stats.by_method.items():
            by_method[method] = by_method.get(method, 0) + count
    count = len(endpoints)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "rc": run.returncode,
        "output_tail": run.stdout[-1500:] if run.returncode != 0 else "",
        "hosts": count,
        "requests_per_host": sum(e.stats.total for e in endpoints) / count,
        "requests_by_action_per_host": {k: v / count for k, v in sorted(by_action.items())},
        "requests_by_method_per_host": {k: v / count for k, v in sorted(by_method.items())},
        "bytes_sent_per_host": sum(e.stats.bytes_received for e in endpoints) / count,
        "bytes_received_per_host": sum(e.stats.bytes_sent for e in endpoints) / count,
        "writes_per_host": sum(e.stats_dict()["writes"] for e in endpoints) / count,
        "controller_cpu_s": cpu,
        "controller_cpu_per_host_s": cpu / count,
        "wall_s": wall,
        "peak_rss_mib": after.ru_maxrss / 1024,  # the largest process of the tree (Linux reports KiB)
    }


def measure(
    hosts: int,
    latency_ms: int,
    forks: int,
    collections: Path,
    *,
    baseline_bin: Path | None = None,
    scenarios: int = len(SCENARIOS),
) -> dict[str, t.Any]:
    """One fresh fleet per way: this collection's scenarios, or (``baseline_bin``) the ansible.windows ones."""
    from winemu_lib.fleet import Fleet  # on sys.path once the harness is imported

    with tempfile.TemporaryDirectory(prefix="winact-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "fleet.yml").write_text(yaml.safe_dump(fleet_spec(hosts, latency_ms)), encoding="utf-8")
        (workdir / "client.yml").write_text(yaml.safe_dump(CLIENT_PLAY), encoding="utf-8")
        (workdir / "vars.yml").write_text(yaml.safe_dump(ROLE_VARS), encoding="utf-8")
        (workdir / "baseline.yml").write_text(yaml.safe_dump(BASELINE_PLAY, sort_keys=False), encoding="utf-8")
        fleet = ThreadedFleet()
        try:
            fleet.serve(Fleet.load(workdir / "fleet.yml"), with_control=True)
            inventory = fleet.write_inventory(workdir / "inventory.yml")
            assert fleet.server is not None
            clients = sorted(name for name in fleet.server.hosts if name != KMS_HOST)
            env = ansible_env(workdir, collections)
            results: dict[str, t.Any] = {}
            if baseline_bin is not None:
                for endpoint in fleet.server.hosts.values():
                    endpoint.winrs.canned_stdout = CANNED_STDOUT  # bench-only, see the module docstring
                env["PATH"] = f"{baseline_bin}{os.pathsep}{env['PATH']}"
                for name, args in BASELINE_SCENARIOS[:scenarios]:
                    command = [str(baseline_bin / "ansible-playbook"), "-i", str(inventory), *args]
                    results[name] = run_scenario(fleet, [*command, "--forks", str(forks)], env, workdir, clients)
                return results
            for name, playbook in SCENARIOS[:scenarios]:
                command = [str(BIN / "ansible-playbook"), "-i", str(inventory), playbook, "--forks", str(forks)]
                results[name] = run_scenario(fleet, [*command, "-e", "@vars.yml"], env, workdir, clients)
            return results
        finally:
            fleet.close()


# Where controller CPU goes, by the file the time was spent in (tottime, so nothing is counted twice).
PROFILE_CATEGORIES = (
    ("Python imports (per worker and main)", ("<frozen importlib", "importlib/")),
    ("YAML parsing", ("yaml/", "_yaml")),
    ("XML parsing and building", ("xml/etree", "ElementTree", "pyexpat")),
    ("NTLM, message encryption, crypto", ("spnego", "cryptography", "ntlm", "hashlib", "hmac", "encryption.py")),
    ("HTTP (requests, urllib3, sockets)", ("requests/", "urllib3/", "http/client", "socket", "ssl")),
    ("this collection (action plugins, plugin_utils)", ("winact/kms/",)),
    ("Ansible: templating (Jinja2)", ("jinja2/", "template/", "_templating")),
    ("Ansible: forks, queues, pickling", ("multiprocessing/", "pickle", "queue", "_fork", "selectors")),
    ("Ansible: other", ("ansible/",)),
)


# Entry points whose cumulative CPU (over every process) says where a task's cost goes.
PROFILE_HOTSPOTS = {
    "worker process, whole (per task and host)": ("executor/process/worker.py", "run"),
    "task post-validation (templating task arguments)": ("playbook/task.py", "post_validate"),
    "conditionals (when:)": ("_templating/_engine.py", "evaluate_conditional"),
    "Jinja2 template compilation": ("jinja2/environment.py", "compile"),
    "loading Jinja filter and test plugins": ("plugins/loader.py", "_ensure_non_collection_wrappers"),
    "plugin loading (action, connection, ...)": ("plugins/loader.py", "get_with_context"),
    "connection setup (winrm plugin _connect)": ("connection/winrm.py", "_connect"),
    "winact.kms action plugins (run)": ("plugin_utils/_action.py", "run"),
    "WS-Man requests (send, NTLM sealing, HTTP)": ("plugin_utils/_wsman.py", "send"),
    "XML parsing of responses": ("xml/etree/ElementTree.py", "XML"),
    "module argument spec validation": ("plugins/action/__init__.py", "validate_argument_spec"),
}


def profile_no_change(hosts: int, latency_ms: int, forks: int, collections: Path, out: Path) -> dict[str, t.Any]:
    """Scenario (b) under cProfile (every process): CPU seconds by category and the top functions."""
    import pstats
    import shutil

    from winemu_lib.fleet import Fleet

    with tempfile.TemporaryDirectory(prefix="winact-profile-") as tmp:
        workdir = Path(tmp)
        (workdir / "fleet.yml").write_text(yaml.safe_dump(fleet_spec(hosts, latency_ms)), encoding="utf-8")
        (workdir / "client.yml").write_text(yaml.safe_dump(CLIENT_PLAY), encoding="utf-8")
        (workdir / "vars.yml").write_text(yaml.safe_dump(ROLE_VARS), encoding="utf-8")
        stats_dir = workdir / "prof"
        stats_dir.mkdir()
        fleet = ThreadedFleet()
        try:
            fleet.serve(Fleet.load(workdir / "fleet.yml"), with_control=True)
            inventory = fleet.write_inventory(workdir / "inventory.yml")
            env = ansible_env(workdir, collections)
            base = ["-i", str(inventory), "client.yml", "--forks", str(forks), "-e", "@vars.yml"]
            first = subprocess.run(
                [str(BIN / "ansible-playbook"), *base], cwd=workdir, env=env, check=False, capture_output=True
            )
            runner = Path(__file__).with_name("profiled_playbook.py")
            command = [sys.executable, str(runner), str(stats_dir), *base]
            second = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, check=False)
        finally:
            fleet.close()
        files = sorted(str(p) for p in stats_dir.glob("*.prof"))
        stats = pstats.Stats(*files)
        by_category: dict[str, float] = {name: 0.0 for name, _needles in PROFILE_CATEGORIES}
        by_category["other (stdlib, builtins)"] = 0.0
        total = 0.0
        raw = t.cast(dict[t.Any, t.Any], stats.stats)  # type: ignore[attr-defined]
        for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in raw.items():
            total += tottime
            for name, needles in PROFILE_CATEGORIES:
                if any(n in filename for n in needles):
                    by_category[name] += tottime
                    break
            else:
                by_category["other (stdlib, builtins)"] += tottime
        hotspots: dict[str, float] = {}
        for label, (path, function) in PROFILE_HOTSPOTS.items():
            # The outermost of same-named methods in one file (one send wraps another).
            found = [
                cumtime
                for (filename, _line, name), (_cc, _nc, _tt, cumtime, _callers) in raw.items()
                if name == function and filename.endswith(path)
            ]
            hotspots[label] = round(max(found, default=0.0), 3)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as handle:
            handle.write(f"cProfile of scenario (b), {hosts} hosts, {len(files)} processes; by tottime\n")
            pstats.Stats(*files, stream=handle).sort_stats("tottime").print_stats(40)
            pstats.Stats(*files, stream=handle).sort_stats("cumulative").print_stats(40)
        shutil.rmtree(stats_dir, ignore_errors=True)
        return {
            "scenario": "b_no_change",
            "hosts": hosts,
            "rc": (first.returncode, second.returncode),
            "output_tail": second.stdout[-1500:] + second.stderr[-1500:] if second.returncode not in (0, 2) else "",
            "processes_profiled": len(files),
            "profiled_cpu_s": round(total, 3),
            "note": "cProfile with a CPU clock inflates every figure (roughly 2-3x); compare them with each other.",
            "cpu_s_by_category": {k: round(v, 3) for k, v in sorted(by_category.items(), key=lambda kv: -kv[1])},
            "cumulative_cpu_s_at": hotspots,
            "details": str(out),
        }


def svg_chart(report: dict[str, t.Any]) -> str:
    """Bars of WS-Man requests and controller CPU per host, per scenario and fleet size."""
    baseline = report.get("baseline", {}).get("sizes", {})
    rows = []
    for size, scenarios in report["sizes"].items():
        for name, data in scenarios.items():
            rows.append((size, name, data))
            if name in baseline.get(size, {}):
                rows.append((size, f"{name}, ansible.windows", baseline[size][name]))
    width, bar_px, gap = 820, 14, 6
    height = 60 + len(rows) * (2 * bar_px + gap)
    max_req = max((d["requests_per_host"] for _size, _name, d in rows), default=1) or 1
    max_cpu = max((d["controller_cpu_per_host_s"] for _size, _name, d in rows), default=1) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="11">',
        f'<text x="10" y="20" font-size="13">{report["label"]}: per client host, latency {report["latency_ms"]} ms, '
        f"forks {report['forks']}</text>",
        '<rect x="10" y="30" width="10" height="10" fill="#4878a8"/><text x="24" y="39">WS-Man requests</text>',
        '<rect x="140" y="30" width="10" height="10" fill="#d08040"/><text x="154" y="39">controller CPU (s)</text>',
    ]
    y = 55
    for size, name, data in rows:
        req, cpu = data["requests_per_host"], data["controller_cpu_per_host_s"]
        parts.append(f'<text x="10" y="{y + bar_px + 4}" font-size="9">{size} hosts, {name}</text>')
        parts.append(f'<rect x="300" y="{y}" width="{400 * req / max_req:.1f}" height="{bar_px}" fill="#4878a8"/>')
        parts.append(f'<text x="{305 + 400 * req / max_req:.1f}" y="{y + 11}">{req:g}</text>')
        y += bar_px
        parts.append(f'<rect x="300" y="{y}" width="{400 * cpu / max_cpu:.1f}" height="{bar_px}" fill="#d08040"/>')
        parts.append(f'<text x="{305 + 400 * cpu / max_cpu:.1f}" y="{y + 11}">{cpu:.2f} s</text>')
        y += bar_px + gap
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def table(report: dict[str, t.Any]) -> str:
    lines = [
        "| hosts | scenario | requests/host | kB sent/host | kB received/host | CPU/host (s) | wall (s) "
        "| peak RSS (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, scenarios in report["sizes"].items():
        for name, d in scenarios.items():
            lines.append(
                f"| {size} | {name} | {d['requests_per_host']:g} | {d['bytes_sent_per_host'] / 1000:.1f} | "
                f"{d['bytes_received_per_host'] / 1000:.1f} | {d['controller_cpu_per_host_s']:.3f} | "
                f"{d['wall_s']:.1f} | {d['peak_rss_mib']:.0f} |"
            )
    return "\n".join(lines)


def side_by_side(report: dict[str, t.Any]) -> str:
    """Per host: this collection | the ansible.windows baseline, per fleet size and scenario."""
    baseline = report.get("baseline", {}).get("sizes", {})
    lines = [
        "| hosts | scenario | requests/host | kB sent/host | kB received/host | controller CPU/host (s) | wall (s) "
        "| peak RSS (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, scenarios in report["sizes"].items():
        for name, d in scenarios.items():
            b = baseline.get(size, {}).get(name)

            def pair(key: str, fmt: str, scale: float = 1.0, d: dict[str, t.Any] = d, b: t.Any = b) -> str:
                ours = format(d[key] / scale, fmt)
                return f"{ours} \\| {format(b[key] / scale, fmt)}" if b else ours

            lines.append(
                f"| {size} | {name} | {pair('requests_per_host', 'g')} | {pair('bytes_sent_per_host', '.1f', 1000)} | "
                f"{pair('bytes_received_per_host', '.1f', 1000)} | {pair('controller_cpu_per_host_s', '.3f')} | "
                f"{pair('wall_s', '.1f')} | {pair('peak_rss_mib', '.0f')} |"
            )
    return "\n".join(lines)


FLATNESS = 0.20  # per-host cost may grow by at most this much from the smallest to the largest fleet


def flatness(sizes: dict[str, dict[str, t.Any]]) -> dict[str, t.Any]:
    """Per scenario: the per-host requests, bytes and CPU of the largest fleet against the smallest."""
    if len(sizes) < 2:
        return {}
    small, large = sizes[min(sizes, key=int)], sizes[max(sizes, key=int)]
    checks: dict[str, t.Any] = {}
    for name in small:
        if name not in large:
            continue
        for key in ("requests_per_host", "bytes_sent_per_host", "controller_cpu_per_host_s"):
            before, after = small[name][key], large[name][key]
            growth = (after - before) / before if before else 0.0
            checks[f"{name}.{key}"] = {"growth": round(growth, 3), "flat": growth <= FLATNESS}
    return checks


def targets(report: dict[str, t.Any]) -> dict[str, t.Any]:
    """The issue's targets, per fleet size, against this run's numbers."""
    out: dict[str, t.Any] = {}
    for size, ours in report["sizes"].items():
        base = report.get("baseline", {}).get("sizes", {}).get(size, {})
        row: dict[str, t.Any] = {}
        if "b_no_change" in ours:
            row["no_change_requests_le_8"] = ours["b_no_change"]["requests_per_host"] <= 8
        if "a_full_configuration" in ours:
            row["full_configuration_requests_le_25"] = ours["a_full_configuration"]["requests_per_host"] <= 25
        for name in ("a_full_configuration", "b_no_change"):
            if name in ours and name in base:
                mine, theirs = ours[name], base[name]
                row[f"{name}.cpu_ratio"] = round(
                    mine["controller_cpu_per_host_s"] / theirs["controller_cpu_per_host_s"], 3
                )
                row[f"{name}.cpu_at_most_half"] = row[f"{name}.cpu_ratio"] <= 0.5
                row[f"{name}.bytes_sent_ratio"] = round(theirs["bytes_sent_per_host"] / mine["bytes_sent_per_host"], 1)
                row[f"{name}.bytes_20x_fewer"] = row[f"{name}.bytes_sent_ratio"] >= 20
        out[size] = row
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, nargs="+", default=[10])
    parser.add_argument("--latency-ms", type=int, default=5)
    parser.add_argument("--forks", type=int, default=20)
    parser.add_argument("--collections", type=Path, default=REPO / "build" / "collections")
    parser.add_argument("--label", default="winact.kms")
    parser.add_argument("--baseline-bin", type=Path, help="bin/ of a venv with the PyPI ansible package")
    parser.add_argument("--baseline-max-hosts", type=int, default=100, help="larger fleets run without the baseline")
    parser.add_argument(
        "--all-scenarios-max-hosts", type=int, default=100, help="larger fleets run scenario (a) only (time)"
    )
    parser.add_argument("--profile", type=Path, help="where scenario (b) on the smallest fleet is profiled")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--svg", type=Path)
    args = parser.parse_args(argv)
    collections = args.collections.resolve()

    def scenarios(hosts: int) -> int:
        return len(SCENARIOS) if hosts <= args.all_scenarios_max_hosts else 1

    report: dict[str, t.Any] = {
        "label": args.label,
        "command": "make bench",
        "latency_ms": args.latency_ms,
        "forks": args.forks,
        "note": "Client hosts only (the KMS host is not counted). Bytes are HTTP bodies on the wire. Controller "
        "CPU is user+sys of the whole ansible-playbook process tree.",
        "sizes": {
            str(n): measure(n, args.latency_ms, args.forks, collections, scenarios=scenarios(n)) for n in args.hosts
        },
    }
    if args.baseline_bin:
        baseline_bin = args.baseline_bin.absolute()
        version = subprocess.run(
            [str(baseline_bin / "python"), "-c", "import importlib.metadata as m; print(m.version('ansible'))"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        report["baseline"] = {
            "label": f"ansible.windows (PyPI ansible {version}): win_regedit per value, win_command slmgr.vbs",
            "note": "The emulator answers the baseline's WinRS commands with a canned successful module result "
            "(bench-only, not Windows behaviour): its wire cost and controller CPU are real, the PowerShell process "
            "Windows starts for every task is NOT counted, and no state changes, so (a) and (b) cost the same.",
            "sizes": {
                str(n): measure(
                    n, args.latency_ms, args.forks, collections, baseline_bin=baseline_bin, scenarios=scenarios(n)
                )
                for n in args.hosts
                if n <= args.baseline_max_hosts
            },
        }
    report["flatness"] = flatness(report["sizes"])
    report["targets"] = targets(report)
    if args.profile:
        report["profile"] = profile_no_change(min(args.hosts), args.latency_ms, args.forks, collections, args.profile)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.svg:
        args.svg.parent.mkdir(parents=True, exist_ok=True)
        args.svg.write_text(svg_chart(report), encoding="utf-8")
    print(f"Per client host: {report['label']} \\| {report.get('baseline', {}).get('label', '(no baseline)')}")
    print(side_by_side(report))
    if "baseline" in report:
        print(report["baseline"]["note"])
    print("Flat from the smallest to the largest fleet (within 20 %):")
    for key, check in report["flatness"].items():
        print(f"  {key}: {check['growth']:+.1%} {'ok' if check['flat'] else 'NOT FLAT'}")
    print("Targets:", json.dumps(report["targets"], indent=1))
    failed = [
        f"{size}/{name}" for size, sc in report["sizes"].items() for name, d in sc.items() if d["rc"] not in (0, 2)
    ]
    failed += [
        f"baseline {size}/{name}"
        for size, sc in report.get("baseline", {}).get("sizes", {}).items()
        for name, d in sc.items()
        if d["rc"] != 0
    ]
    if failed:
        print(f"playbook failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
