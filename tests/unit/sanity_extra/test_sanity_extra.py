# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection checks in tests/sanity_extra: they must catch drift, not just pass."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

SANITY_EXTRA = Path(__file__).resolve().parents[2] / "sanity_extra"
HEADER = (
    "# Copyright (c) 2026 winact.kms contributors\n"
    "# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)\n"
)


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"sanity_extra_{name}", SANITY_EXTRA / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


action_groups = load("action_groups")
plugin_headers = load("plugin_headers")

RUNTIME = """\
---
requires_ansible: ">=2.19.0"
action_groups:
  # kept
  kms:
    - zeta
    - alpha

plugin_routing: {}
"""


def make_collection(root: Path, modules: list[str], actions: list[str], runtime: str = RUNTIME) -> Path:
    for directory, names in (("modules", modules), ("action", actions)):
        (root / "plugins" / directory).mkdir(parents=True, exist_ok=True)
        for name in names:
            (root / "plugins" / directory / f"{name}.py").write_text(HEADER, encoding="utf-8")
    (root / "plugins" / "modules" / "__init__.py").write_text("", encoding="utf-8")
    (root / "meta").mkdir(exist_ok=True)
    (root / "meta" / "runtime.yml").write_text(runtime, encoding="utf-8")
    return root


def test_group_drift_is_reported(tmp_path: Path) -> None:
    root = make_collection(tmp_path, modules=["alpha", "beta"], actions=["alpha", "beta"])
    findings = action_groups.check(root)
    assert findings.missing_from_group == ["beta"]
    assert findings.not_a_module == ["zeta"]
    assert findings.unsorted
    assert findings.without_action_plugin == []
    assert action_groups.main([str(root)]) == 1


def test_write_fixes_the_group_and_keeps_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_collection(tmp_path, modules=["beta", "alpha"], actions=["alpha", "beta"])
    assert action_groups.main(["--write", str(root)]) == 0
    text = (root / "meta" / "runtime.yml").read_text(encoding="utf-8")
    assert yaml.safe_load(text)["action_groups"]["kms"] == ["alpha", "beta"]
    assert "  # kept\n" in text
    assert text.endswith("\n\nplugin_routing: {}\n")
    assert "2 module(s)" in capsys.readouterr().out
    assert action_groups.main(["--write", str(root)]) == 0  # a second write changes nothing
    assert (root / "meta" / "runtime.yml").read_text(encoding="utf-8") == text


def test_write_empties_the_group_when_no_module_is_left(tmp_path: Path) -> None:
    root = make_collection(tmp_path, modules=[], actions=[])
    assert action_groups.main(["--write", str(root)]) == 0
    assert yaml.safe_load((root / "meta" / "runtime.yml").read_text(encoding="utf-8"))["action_groups"]["kms"] == []


def test_duplicates_and_missing_action_plugins_are_reported(tmp_path: Path) -> None:
    runtime = RUNTIME.replace("    - zeta\n", "    - alpha\n")
    root = make_collection(tmp_path, modules=["alpha"], actions=[], runtime=runtime)
    findings = action_groups.check(root)
    assert findings.duplicates == ["alpha"]
    assert findings.without_action_plugin == ["alpha"]
    assert any("no action plugin" in line for line in findings.problems)


def test_rewrite_refuses_a_flow_list() -> None:
    with pytest.raises(ValueError, match="block list"):
        action_groups.rewrite_group("action_groups:\n  kms: [a, b]\n", ["a"])


def test_rewrite_needs_the_group() -> None:
    with pytest.raises(ValueError, match="no action_groups.kms"):
        action_groups.rewrite_group("requires_ansible: '>=2.19.0'\n", ["a"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER + "from __future__ import annotations\n", []),
        ("#!/usr/bin/python\n" + HEADER + "from __future__ import annotations\n", []),
        ("from __future__ import annotations\n", ["license header"]),
        (HEADER + "import os\n", ["lacks 'from __future__ import annotations'"]),
        (HEADER + "def broken(:\n", ["syntax error"]),
    ],
)
def test_plugin_headers(text: str, expected: list[str]) -> None:
    problems = plugin_headers.header_problems(Path("plugins/x.py"), text)
    assert len(problems) == len(expected)
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem
