# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module documentation as users read it: every returned value has a sample, paths render with single backslashes."""

from __future__ import annotations

import ast
import typing as t
from pathlib import Path

import pytest
import yaml

MODULES = Path(__file__).resolve().parents[4] / "plugins" / "modules"
MODULE_FILES = sorted(path for path in MODULES.glob("*.py") if path.name != "__init__.py")


def doc_block(path: Path, name: str) -> t.Any:
    """The YAML of the module's DOCUMENTATION or RETURN string, parsed the way ansible-doc parses it."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(x, ast.Name) and x.id == name for x in node.targets):
            assert isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{path.name} has no {name}")


def values_without_sample(fields: dict[str, t.Any], prefix: str = "") -> list[str]:
    """Returned values that neither carry a sample nor sit inside a structure that has one."""
    missing = []
    for name, field in fields.items():
        if "sample" in field:
            continue
        if "contains" in field:
            missing += values_without_sample(field["contains"], f"{prefix}{name}.")
        else:
            missing.append(prefix + name)
    return missing


def strings(value: t.Any) -> t.Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def test_there_are_modules() -> None:
    assert len(MODULE_FILES) >= 7


@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda p: p.stem)
def test_every_returned_value_has_a_sample(path: Path) -> None:
    assert values_without_sample(doc_block(path, "RETURN")) == []


@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda p: p.stem)
def test_rendered_docs_have_no_doubled_backslashes(path: Path) -> None:
    for block in ("DOCUMENTATION", "RETURN", "EXAMPLES"):
        doubled = [text for text in strings(doc_block(path, block)) if "\\\\" in text]
        assert doubled == [], f"{block} renders a doubled backslash (registry paths take one): {doubled}"


def test_the_sample_check_catches_a_missing_sample() -> None:
    fields = {
        "a": {"type": "dict", "sample": {"x": 1}, "contains": {"x": {"type": "int"}}},
        "b": {"type": "dict", "contains": {"y": {"type": "str", "sample": "y"}, "z": {"type": "bool"}}},
    }
    assert values_without_sample(fields) == ["b.z"]
