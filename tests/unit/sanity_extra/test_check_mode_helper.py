# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every check-mode run of the integration and reliability tests goes through one helper that asserts zero
emulator writes: ``FleetRun.check_mode_run`` (tests/integration/conftest.py, which ``FleetRun.playbook`` routes
every ``check=True`` run and every check-only playbook through) and ``check_mode_play``
(tests/reliability/harness.py). This scan fails when a test builds its own ``--check`` command line or runs
the action plugins in check mode some other way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[2]
SCANNED = (TESTS / "integration", TESTS / "reliability")
# The only functions allowed to put ansible into check mode; each is, or is only called by, an asserting helper.
HELPERS = {
    "integration/conftest.py": {"playbook", "check_mode_run", "_run_playbook"},
    "reliability/harness.py": {"check_mode_play", "run_task", "play"},
}
CHECK_FLAGS = {"--check", "-C"}


def _enclosing_functions(tree: ast.AST) -> dict[ast.AST, str]:
    owner: dict[ast.AST, str] = {}
    # ast.walk is breadth-first, so inner functions come after outer ones and overwrite them: the innermost wins.
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for child in ast.walk(node):
                if child is not node:
                    owner[child] = node.name
    return owner


def check_mode_bypasses(source: str, relative: str) -> list[str]:
    """Places in ``source`` that enter check mode outside the helpers."""
    tree = ast.parse(source)
    owner = _enclosing_functions(tree)
    allowed = HELPERS.get(relative, set())
    found: list[str] = []
    for node in ast.walk(tree):
        where = f"{relative}:{getattr(node, 'lineno', '?')}"
        if owner.get(node) in allowed:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in CHECK_FLAGS or node.value.startswith("--check="):
                found.append(f"{where}: a {node.value!r} command line outside the check-mode helper")
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "_run_playbook":
                found.append(f"{where}: _run_playbook bypasses FleetRun.playbook's check-mode helper")
            for keyword in node.keywords:
                # The action plugins in-process: check mode only through check_mode_play.
                if keyword.arg == "check_mode":
                    found.append(f"{where}: check_mode= set outside the check-mode helper")
                if (
                    relative.startswith("reliability/")
                    and keyword.arg == "check"
                    and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False)
                ):
                    found.append(f"{where}: {name}(check=...) outside check_mode_play")
    return found


def _sources() -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(TESTS)), path.read_text())
        for directory in SCANNED
        for path in sorted(directory.rglob("*.py"))
    ]


def test_every_check_mode_run_goes_through_the_helper() -> None:
    found = [place for relative, source in _sources() for place in check_mode_bypasses(source, relative)]
    assert found == []


def test_the_helpers_assert_zero_writes() -> None:
    conftest = (TESTS / "integration" / "conftest.py").read_text()
    harness = (TESTS / "reliability" / "harness.py").read_text()
    playbook = ast.get_source_segment(conftest, _function(conftest, "playbook")) or ""
    helper = ast.get_source_segment(conftest, _function(conftest, "check_mode_run")) or ""
    assert "check_mode_run(" in playbook and "check_only_playbook(path)" in playbook
    assert "all_writes()" in helper and "assert not moved" in helper
    assert "assert writes(host) == before" in (
        ast.get_source_segment(harness, _function(harness, "check_mode_play")) or ""
    )


def _function(source: str, name: str) -> ast.FunctionDef:
    matches = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == name]
    assert len(matches) == 1, name
    return matches[0]


@pytest.mark.parametrize(
    "source",
    [
        'subprocess.run(["ansible-playbook", "-i", inv, "site.yml", "--check"])',
        'cmd = ["ansible-playbook", "-C", "site.yml"]',
        "fleet._run_playbook(path, check=True, diff=False)",
        "run_task('kms_client', host, {}, check=True)",
        "action._task = types.SimpleNamespace(check_mode=True)",
    ],
)
def test_the_scan_catches_a_bypass(source: str) -> None:
    assert check_mode_bypasses(source, "reliability/test_x.py")


def test_the_scan_leaves_ordinary_runs_alone() -> None:
    assert check_mode_bypasses('fleet.playbook("kms_client.yml", check=True, diff=True)', "integration/test_x.py") == []
