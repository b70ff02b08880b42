# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dependencies point down only: the layers of plugins/ as docs/architecture.md draws them.

A module may import modules of its own layer or of lower ones, never of a higher one. Every module of
plugins/plugin_utils must have a layer here, so a new module is placed on purpose, and the layers below
the action base must not load ansible-core's action machinery.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
PLUGIN_UTILS = REPO / "plugins" / "plugin_utils"
PACKAGE = "ansible_collections.winact.kms.plugins"

# Lowest first. The same table is drawn in docs/architecture.md ("Layers").
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "foundation",
        frozenset(
            {
                "_results",
                "_errors",
                "_spp",
                "_validate",
                "_gvlk_data",
                "_avma_data",
                "_office_gvlk_data",
                "_wmi_schema",
                "_connect_errors",
            }
        ),
    ),
    ("ws-management", frozenset({"_wsman", "_connect_failure", "_deadline"})),
    ("wmi", frozenset({"_wmi"})),
    ("explained failures", frozenset({"_explain"})),
    (
        "interfaces",
        frozenset(
            {"_registry", "_service", "_licensing", "_events", "_catalog", "_kms_count", "_token_only", "_office"}
        ),
    ),
    (
        "engines",
        frozenset(
            {
                "_settings",
                "_preflight",
                "_activation",
                "_product_key",
                "_time_source",
                "_license_report",
                "_firewall",
                "_spp_service",
                "_drift",
                "_fleet_report",
                "_rearm",
                "_phone_activation",
                "_license_file",
                "_token_license",
                "_ad_activation",
            }
        ),
    ),
    ("action base", frozenset({"_action", "_option_check"})),
    ("plugins", frozenset({"action", "filter", "modules", "doc_fragments"})),
)
RANK = {name: rank for rank, (_layer, names) in enumerate(LAYERS) for name in names}
TOP = len(LAYERS) - 1


def imported_modules(path: Path) -> set[str]:
    """The plugin_utils modules a file imports (``from ...plugin_utils import _x`` and ``..._x import y``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == f"{PACKAGE}.plugin_utils":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith(f"{PACKAGE}.plugin_utils."):
                found.add(node.module.rsplit(".", 1)[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.rsplit(".", 1)[1] for a in node.names if a.name.startswith(f"{PACKAGE}.plugin_utils."))
    return found


def rank_of(path: Path) -> int:
    if path.parent == PLUGIN_UTILS:
        return RANK[path.stem]
    return TOP


def plugin_files() -> list[Path]:
    return sorted(p for p in (REPO / "plugins").rglob("*.py") if p.name != "__init__.py")


def test_every_plugin_utils_module_has_a_layer() -> None:
    modules = {p.stem for p in PLUGIN_UTILS.glob("_*.py") if p.name != "__init__.py"}
    assert modules - set(RANK) == set(), "place the new module in LAYERS (and in docs/architecture.md)"
    assert {name for name in RANK if name.startswith("_")} - modules == set(), "LAYERS names a module that is gone"


@pytest.mark.parametrize("path", plugin_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_imports_point_down(path: Path) -> None:
    own = rank_of(path)
    upward = {name: LAYERS[RANK[name]][0] for name in imported_modules(path) if RANK[name] > own}
    assert upward == {}, f"{path.name} ({LAYERS[own][0]}) imports higher layers: {upward}"


def test_only_action_plugins_import_the_action_base() -> None:
    importers = {
        str(path.relative_to(REPO))
        for path in plugin_files()
        if "_action" in imported_modules(path) and path.parent.name != "action" and rank_of(path) != RANK["_action"]
    }
    assert importers == set()


def test_imports_are_detected(tmp_path: Path) -> None:
    # The checks above are only as good as this parser: it must see both import forms.
    sample = tmp_path / "_sample.py"
    sample.write_text(
        f"from {PACKAGE}.plugin_utils import _licensing as lic\n"
        f"from {PACKAGE}.plugin_utils._action import WinactAction\n"
        f"import {PACKAGE}.plugin_utils._wmi\n",
        encoding="utf-8",
    )
    assert imported_modules(sample) == {"_licensing", "_action", "_wmi"}


def test_the_layers_below_the_action_base_do_not_load_ansible_action_plugins() -> None:
    below = sorted(name for name, rank in RANK.items() if name.startswith("_") and rank < RANK["_action"])
    code = (
        "import importlib, sys\n"
        f"for name in {below!r}:\n"
        f"    importlib.import_module('{PACKAGE}.plugin_utils.' + name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('ansible.plugins')))\n"
    )
    # The collections root this tree is imported from: the tree itself under ansible-test (or when installed),
    # else the link the Makefile and conftest.py create.
    in_tree = REPO.parts[-3:] == ("ansible_collections", "winact", "kms")
    root = REPO.parents[2] if in_tree else REPO / "build" / "collections"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    assert out.strip() == "[]"


def test_architecture_doc_names_every_module_in_its_layer() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    for layer, names in LAYERS[:-1]:
        for name in names:
            assert re.search(rf"`?{re.escape(name)}\.py`?", doc), f"docs/architecture.md does not name {name}.py"
        assert layer in doc, f"docs/architecture.md does not show the layer {layer!r}"
