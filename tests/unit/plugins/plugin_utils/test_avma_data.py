# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AVMA key table: generated data in step with its sourced YAML, and community rows never picked."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from ansible_collections.winact.kms.plugins.plugin_utils import _avma_data
from ansible_collections.winact.kms.plugins.plugin_utils._catalog import CatalogError, avma_key, is_avma_key, is_gvlk

REPO_ROOT = Path(__file__).resolve().parents[4]
SOURCE = REPO_ROOT / "tools" / "data" / "avma.yaml"
DATA_MODULE = REPO_ROOT / "plugins" / "plugin_utils" / "_avma_data.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_test_gen_avma_data", REPO_ROOT / "tools" / "gen_avma_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_data_module_is_up_to_date() -> None:
    expected = _generator().render(SOURCE.read_text(encoding="utf-8"))
    assert DATA_MODULE.read_text(encoding="utf-8") == expected, "run: python tools/gen_avma_data.py"


def test_every_source_row_is_in_the_data_with_its_provenance() -> None:
    document = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    listed = {(r["edition_id"], r["build"], r["key"]) for r in document["avma"]}
    community = {(r["edition_id"], r["build"], r["key"]) for r in document["supplementary_not_listed_by_microsoft"]}
    data = {(r["edition_id"], r["build"], r["key"]): r["listed_by_microsoft"] for r in _avma_data.ROWS}
    assert data == {**dict.fromkeys(listed, True), **dict.fromkeys(community, False)}


def test_a_source_row_with_a_malformed_key_is_refused() -> None:
    generator = _generator()
    broken = SOURCE.read_text(encoding="utf-8").replace("W3GNR-8DDXR-2TFRP-H8P33-DV9BG", "W3GNR-8DDXR")
    with pytest.raises(generator.SourceError, match="is not a 5x5 product key"):
        generator.render(broken)


def test_microsoft_keys_are_picked_per_edition_and_build() -> None:
    assert avma_key("ServerDatacenter", 20348) == "W3GNR-8DDXR-2TFRP-H8P33-DV9BG"
    assert avma_key("ServerStandard", 9600) == "DBGBW-NPF86-BJVTX-K3WKJ-MTB6V"
    assert avma_key("serverturbine", 20348) == "F7TB6-YKN8Y-FCC6R-KQ484-VMK3J"


def test_community_rows_are_never_picked() -> None:
    with pytest.raises(CatalogError, match="only a community source lists one"):
        avma_key("ServerDatacenter", 26100)
    with pytest.raises(CatalogError, match="Microsoft publishes AVMA keys only for Windows Server 2012 R2"):
        avma_key("Enterprise", 19045)


def test_no_avma_key_is_a_kms_client_key() -> None:
    # Community scripts mixed GVLKs into their "AVMA" lists; this table must not.
    assert [r["key"] for r in _avma_data.ROWS if is_gvlk(r["key"])] == []
    assert all(is_avma_key(r["key"]) for r in _avma_data.ROWS)
