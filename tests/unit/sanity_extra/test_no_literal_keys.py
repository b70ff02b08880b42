# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's docs, READMEs, examples, roles and playbooks never show a product key other than a published
GVLK or AVMA key (public, from Microsoft's tables): a MAK, Retail key or CSVLK, even a fabricated one, appears
only masked (``XXXXX-XXXXX-XXXXX-XXXXX-2VC3F``) or as a reference to a variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
KEY = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z0-9]{5}(?:-[A-Za-z0-9]{5}){4}(?![A-Za-z0-9-])")
MASKED = re.compile(r"^XXXXX-XXXXX-XXXXX-XXXXX-[A-Za-z0-9]{5}$")
# Generated from Microsoft's published tables (tools/data/*.yaml): every key in them is public.
PUBLIC_SOURCES = ("_gvlk_data.py", "_office_gvlk_data.py", "_avma_data.py")
SHOWN = (
    "README.md",
    "CONTRIBUTING.md",
    "docs/**/*.md",
    "docs/docsite/**/*.rst",
    "docs/docsite/**/*.yml",
    "roles/**/*.md",
    "roles/**/*.yml",
    "playbooks/**/*.yml",
    "plugins/modules/*.py",
    "plugins/filter/*.py",
    "plugins/filter/*.yml",
    "changelogs/**/*.yml",
    "meta/*.yml",
    "galaxy.yml",
)


def public_keys() -> set[str]:
    utils = ROOT / "plugins" / "plugin_utils"
    return {key.upper() for name in PUBLIC_SOURCES for key in KEY.findall((utils / name).read_text())}


def literal_keys(text: str, public: set[str]) -> list[str]:
    """Keys in ``text`` that are neither public nor masked."""
    return [key for key in KEY.findall(text) if key.upper() not in public and not MASKED.match(key)]


def _shown_files() -> list[Path]:
    return sorted({path for pattern in SHOWN for path in ROOT.glob(pattern) if path.is_file()})


def test_the_public_tables_are_found() -> None:
    public = public_keys()
    assert "NPPR9-FWDCX-D2C8J-H872K-2YT43" in public  # Windows 10/11 Enterprise
    assert len(public) > 100


def test_no_doc_or_example_shows_a_literal_non_gvlk_key() -> None:
    public = public_keys()
    found = {
        str(path.relative_to(ROOT)): keys
        for path in _shown_files()
        if (keys := literal_keys(path.read_text(errors="replace"), public))
    }
    assert found == {}, "keys other than published GVLKs belong in vault-encrypted vars files, never inline"


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ('license: {key: "QGT6C-D2FR3-CYJCD-VVDKD-2VC3F"}', True),  # the emulator's fabricated MAK
        ("key: k663c-33tck-c2gpv-g2f3p-27hf3", True),
        ("key: NPPR9-FWDCX-D2C8J-H872K-2YT43", False),  # a published GVLK
        ("shows XXXXX-XXXXX-XXXXX-XXXXX-2VC3F", False),
        ('key: "{{ vault_kms_host_key }}"', False),
        ("a UUID 6f1c2a3b-5d4e-4f60-8a7b-9c0d1e2f3a4b", False),
    ],
)
def test_the_check_tells_a_literal_key(text: str, flagged: bool) -> None:
    assert bool(literal_keys(text, public_keys())) is flagged
