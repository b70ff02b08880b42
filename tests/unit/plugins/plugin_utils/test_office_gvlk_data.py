# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Office GVLK table: generated data in step with its sourced YAML."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from ansible_collections.winact.kms.plugins.plugin_utils import _office_gvlk_data
from ansible_collections.winact.kms.plugins.plugin_utils._catalog import is_gvlk

REPO_ROOT = Path(__file__).resolve().parents[4]
SOURCE = REPO_ROOT / "tools" / "data" / "office_gvlk.yaml"
DATA_MODULE = REPO_ROOT / "plugins" / "plugin_utils" / "_office_gvlk_data.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_test_gen_office", REPO_ROOT / "tools" / "gen_office_gvlk_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_data_module_is_up_to_date() -> None:
    expected = _generator().render(SOURCE.read_text(encoding="utf-8"))
    assert DATA_MODULE.read_text(encoding="utf-8") == expected, "run: python tools/gen_office_gvlk_data.py"


def test_every_source_row_is_in_the_data() -> None:
    rows = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))["office_gvlks"]
    assert [dict(r) for r in _office_gvlk_data.ROWS] == rows
    # Microsoft's table: 13 products x 4 versions, less Publisher LTSC 2024, plus OneNote 2016 only.
    assert len(rows) == 13 * 4 - 1 + 1
    assert {r["version"] for r in rows} == {"Office LTSC 2024", "Office LTSC 2021", "Office 2019", "Office 2016"}


def test_a_key_listed_twice_is_refused() -> None:
    generator = _generator()
    text = SOURCE.read_text(encoding="utf-8").replace("V28N4-JG22K-W66P8-VTMGK-H6HGR", "XJ2XN-FW8RK-P4HMP-DKDBV-GCVGB")
    with pytest.raises(generator.SourceError, match="listed twice"):
        generator.render(text)


def test_office_keys_are_not_windows_keys() -> None:
    assert [r["key"] for r in _office_gvlk_data.ROWS if is_gvlk(r["key"])] == []
