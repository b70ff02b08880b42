# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every WMI property a plugin selects is declared in _wmi_schema, so its value is typed, not guessed.

On the wire a one-element array looks like a scalar and every value is text: a property missing from the
schema would come back as a string, or as a scalar where the code expects a list. The selects are found in
the source (every ``wql_select`` and ``read_licensing_service`` call) and resolved to their values.
"""

from __future__ import annotations

import ast
import importlib
import typing as t
from pathlib import Path

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _settings as settings
from ansible_collections.winact.kms.plugins.plugin_utils._spp import PRODUCT_CLASS, SERVICE_CLASS
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import property_types
from ansible_collections.winact.kms.plugins.plugin_utils._wmi_schema import METHOD_TYPES, PROPERTY_TYPES

REPO = Path(__file__).resolve().parents[4]
PACKAGE = "ansible_collections.winact.kms.plugins"


class Select(t.NamedTuple):
    where: str  # file:line
    class_name: str
    properties: tuple[str, ...]


def _value(node: ast.expr, module: t.Any) -> t.Any:
    """A literal, or a module-level name of the plugin's module; None when it is computed at run time."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(_value(item, module) for item in node.elts)
    if isinstance(node, ast.Name):
        return getattr(module, node.id, None)
    return None


def selects() -> list[Select]:
    found: list[Select] = []
    for path in sorted((REPO / "plugins").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(REPO).with_suffix("")
        module = importlib.import_module(f"ansible_collections.winact.kms.{'.'.join(rel.parts)}")
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            where = f"{rel}.py:{node.lineno}"
            if name == "wql_select" and len(node.args) >= 2:
                props, cls = _value(node.args[0], module), _value(node.args[1], module)
            elif name == "read_licensing_service" and len(node.args) >= 2:
                props, cls = _value(node.args[1], module), SERVICE_CLASS
            else:
                continue
            if isinstance(props, tuple) and isinstance(cls, str):
                found.append(Select(where, cls, props))
    return found


SELECTS = selects()


def test_the_selects_are_found() -> None:
    # The scan must see the queries this test is about; a refactor that hides them fails here.
    classes = {s.class_name for s in SELECTS}
    assert {SERVICE_CLASS, PRODUCT_CLASS, "Win32_OperatingSystem", "Win32_NTLogEvent"} <= classes
    assert "Win32_NetworkAdapterConfiguration" in classes  # activate's self-target check
    assert len(SELECTS) >= 10


@pytest.mark.parametrize("select", SELECTS, ids=lambda s: s.where)
def test_every_selected_property_is_declared(select: Select) -> None:
    declared = property_types(select.class_name)
    assert declared, f"{select.where}: class {select.class_name} has no schema"
    missing = [p for p in select.properties if p not in declared]
    assert missing == [], f"{select.where}: {select.class_name} properties not in _wmi_schema: {missing}"


def test_every_setting_reads_a_declared_property() -> None:
    # The settings views select the properties of their table rows at run time.
    for setting in settings.TABLE:
        if setting.wmi is None or setting.wmi.property is None:  # None: read from the registry
            continue
        assert setting.wmi.property in PROPERTY_TYPES[SERVICE_CLASS], setting.option
        if setting.wmi.per_product:
            assert setting.wmi.property in PROPERTY_TYPES[PRODUCT_CLASS], setting.option
    for name in (*settings.SERVICE_BASE_PROPERTIES,):
        assert name in PROPERTY_TYPES[SERVICE_CLASS]
    for name in settings.PRODUCT_KEY_PROPERTIES:
        assert name in PROPERTY_TYPES[PRODUCT_CLASS]


def test_every_method_a_setting_calls_is_declared() -> None:
    for setting in settings.TABLE:
        if setting.wmi is None:
            continue
        classes = [SERVICE_CLASS] + ([PRODUCT_CLASS] if setting.wmi.per_product else [])
        for cls in classes:
            for method in filter(None, (setting.wmi.set_method, setting.wmi.clear_method)):
                assert (cls, method) in METHOD_TYPES, f"{setting.option}: {cls}.{method}"
