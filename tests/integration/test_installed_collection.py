# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as users get it: the tarball built from the checkout, installed with ansible-galaxy.

The tarball holds what users need and none of the checkout's leftovers; ansible-builder finds the execution
environment requirements in the installed copy and makes a build context from a definition naming the
collection; the emulated fleet starts from the installed copy and a user's own playbook runs against it with
nothing from the checkout on the paths. This module needs the checkout (it builds from it) and is not shipped.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tarfile
import typing as t

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
# What a clean clone does not have but a working tree may: build leftovers the tarball must not carry.
LEFTOVERS = (
    "changelogs/.plugin-cache.yaml",
    "plugins/plugin_utils/__pycache__/_wsman.cpython-313.pyc",
    "tests/output/junit/units.xml",
    "tests/integration/inventory.winrm",
    ".venv-py311/pyvenv.cfg",
    "winact-kms-0.0.1.tar.gz",
)
# Shipped: what users run. The checkout-only suites stay out (README "Tests in the tarball").
MUST_SHIP = (
    "README.md",
    "COPYING",
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "requirements.txt",
    "bindep.txt",
    "changelogs/changelog.yaml",
    "tests/emulator/winemu",
    "tests/emulator/winemu_lib/cli.py",
    "tests/emulator/fleets/small.yml",
    "tests/integration/targets/module_kms_client/tasks/main.yml",
    "tests/integration/targets/module_kms_client/aliases",
    "tests/config.yml",
)
NEVER_SHIPPED_PREFIXES = (
    "tests/unit/",
    "tests/benchmarks/",
    "tests/sanity_extra/",
    "tests/emulator/tests/",
    "tests/integration/playbooks/",
    "tests/integration/callback_plugins/",
    "tests/output/",
    "changelogs/fragments/",
    "tools/",
    "scripts/",
    "requirements/",
    ".venv",
    "build/",
    ".ci/",
    ".github/",
)
NEVER_SHIPPED_FILES = ("Makefile", "pyproject.toml", "conftest.py", ".gitignore", ".pre-commit-config.yaml")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: the venv's tools, none of the checkout's paths."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "ANSIBLE_COLLECTIONS_PATH"}}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_NOCOLOR"] = "1"
    env.update(extra)
    return env


def run(args: list[str], cwd: pathlib.Path, **extra: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        args, cwd=cwd, env=clean_env(**extra), capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, f"{args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


class Installed(t.NamedTuple):
    tarball: pathlib.Path
    members: frozenset[str]
    collections: pathlib.Path  # the collections path the tarball was installed into

    @property
    def root(self) -> pathlib.Path:
        return self.collections / "ansible_collections" / "winact" / "kms"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build from a copy of the working tree with build leftovers added, then install the tarball."""
    work = tmp_path_factory.mktemp("installed")
    source = work / "source"
    ignore = shutil.ignore_patterns(".git", ".venv*", "build", "tests/output", "*_cache", "__pycache__", "*.tar.gz")
    shutil.copytree(REPO, source, ignore=ignore, symlinks=True)
    for leftover in LEFTOVERS:
        path = source / leftover
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("leftover\n", encoding="utf-8")
    out = work / "dist"
    run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(source)], work)
    (tarball,) = out.glob("winact-kms-*.tar.gz")
    with tarfile.open(tarball) as archive:
        members = frozenset(member.name for member in archive.getmembers())
    collections = work / "collections"
    run([str(BIN / "ansible-galaxy"), "collection", "install", "-p", str(collections), str(tarball)], work)
    return Installed(tarball, members, collections)


def test_the_tarball_ships_what_users_run(installed: Installed) -> None:
    missing = [name for name in MUST_SHIP if name not in installed.members]
    assert not missing, f"not in {installed.tarball.name}: {missing}"
    for module in (REPO / "plugins" / "modules").glob("*.py"):
        assert f"plugins/modules/{module.name}" in installed.members
        assert f"plugins/action/{module.name}" in installed.members


def test_the_tarball_holds_no_leftovers_or_checkout_only_tests(installed: Installed) -> None:
    leftovers = sorted(set(LEFTOVERS) & installed.members)
    assert not leftovers, f"build leftovers shipped: {leftovers}"
    unwanted = sorted(
        name
        for name in installed.members
        if name.startswith(NEVER_SHIPPED_PREFIXES)
        or name in NEVER_SHIPPED_FILES
        or "__pycache__" in name
        or name.endswith((".pyc", ".tar.gz"))
        # The pytest integration suite needs the checkout; only its fleets and the ansible-test targets ship.
        or (name.startswith("tests/integration/") and name.endswith(".py"))
    )
    assert not unwanted, f"checkout-only files shipped: {unwanted}"


def test_the_installed_copy_documents_its_modules(installed: Installed) -> None:
    proc = run(
        [str(BIN / "ansible-doc"), "--json", "-t", "module", "winact.kms.license_info"],
        installed.collections,
        ANSIBLE_COLLECTIONS_PATH=str(installed.collections),
    )
    assert '"winact.kms.license_info"' in proc.stdout
    assert str(installed.root) in proc.stdout  # read from the installed copy, not the checkout


def test_ansible_builder_introspect_lists_the_requirements(installed: Installed) -> None:
    proc = run([str(BIN / "ansible-builder"), "introspect", str(installed.collections)], installed.collections)
    data = yaml.safe_load(proc.stdout)
    python = [line.split("#")[0].strip() for line in data["python"]]
    system = [line.split("#")[0].strip() for line in data["system"]]
    assert all("# from collection winact.kms" in line for line in data["python"] + data["system"])
    assert "pywinrm>=0.4.3,<0.6" in python
    assert "pypsrp>=0.8.1,<1.0" in python
    assert "pywinrm[kerberos]>=0.4.3,<0.6" in python
    assert "krb5-workstation [platform:rpm]" in system
    assert "krb5-devel [platform:rpm compile]" in system
    assert "libkrb5-dev [platform:dpkg compile]" in system


def test_ansible_builder_create_makes_a_build_context(installed: Installed, tmp_path: pathlib.Path) -> None:
    definition = tmp_path / "execution-environment.yml"
    definition.write_text(
        yaml.safe_dump(
            {
                "version": 3,
                "images": {"base_image": {"name": "quay.io/ansible/awx-ee:latest"}},
                "dependencies": {"galaxy": {"collections": [{"name": "winact.kms", "version": ">=0.1.0"}]}},
            }
        ),
        encoding="utf-8",
    )
    context = tmp_path / "context"
    run(
        [str(BIN / "ansible-builder"), "create", "-f", str(definition), "-c", str(context)]
        + ["--output-filename", "Containerfile"],
        tmp_path,
    )
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect" in containerfile  # the image build collects meta/execution-environment.yml's files
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    assert galaxy["collections"] == [{"name": "winact.kms", "version": ">=0.1.0"}]


def test_a_users_playbook_runs_against_the_fleet_started_from_the_installed_copy(
    installed: Installed, tmp_path: pathlib.Path
) -> None:
    """What docs/emulator.md's "In your own CI" section tells users to do, from the installed copy only."""
    inventory = tmp_path / "inventory.yml"
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(
        """\
- name: A user's playbook
  hosts: kms_clients
  gather_facts: false
  tasks:
    - name: Point the clients at the KMS host
      winact.kms.kms_client:
        server: kms01.corp.example.com
    - name: Activate
      winact.kms.activate:
""",
        encoding="utf-8",
    )
    # docs/emulator-ci.md finds the installed copy with ansible-galaxy: that must be the installed root.
    listing = run(
        [str(BIN / "ansible-galaxy"), "collection", "list", "winact.kms", "--format", "json"],
        tmp_path,
        ANSIBLE_COLLECTIONS_PATH=str(installed.collections),
    )
    assert pathlib.Path(next(iter(json.loads(listing.stdout)))) / "winact" / "kms" == installed.root
    emulator = installed.root / "tests" / "emulator"
    serve = subprocess.Popen(
        [sys.executable, str(emulator / "winemu"), "serve", "--fleet", str(emulator / "fleets" / "small.yml")]
        + ["--inventory", str(inventory)],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stdout is not None
        line = serve.stdout.readline()
        assert line.strip() == "ready", serve.stderr.read() if serve.stderr else line
        env = {"ANSIBLE_COLLECTIONS_PATH": str(installed.collections)}
        first = run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)], tmp_path, **env)
        assert "failed=0" in first.stdout and "changed=" in first.stdout
        second = run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)], tmp_path, **env)
        recap = [line for line in second.stdout.splitlines() if " ok=" in line]
        assert len(recap) == 2 and all("changed=0" in line and "failed=0" in line for line in recap), second.stdout
        stats = run(
            [sys.executable, str(emulator / "winemu"), "stats", "--inventory", str(inventory), "pc01"], tmp_path
        )
        assert '"Invoke"' in stats.stdout  # the playbook's WMI calls reached the emulated host
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=15)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
