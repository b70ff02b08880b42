# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generate ``plugins/plugin_utils/_office_gvlk_data.py`` from ``tools/data/office_gvlk.yaml``.

The YAML file is the project's sourced copy of Microsoft's "Generic Volume License Keys (GVLK) for Office"
table (Office 2016 to Office LTSC 2024). The unit tests regenerate the module in memory and compare it with the
committed file, so the two cannot drift.

Usage:
    python tools/gen_office_gvlk_data.py            # rewrite the data module
    python tools/gen_office_gvlk_data.py --check    # exit 1 when the data module is out of date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT / "tools" / "data" / "office_gvlk.yaml"
DEFAULT_OUTPUT = REPO_ROOT / "plugins" / "plugin_utils" / "_office_gvlk_data.py"
MICROSOFT_TITLE = "Generic Volume License Keys (GVLK) for Office"
MICROSOFT_URL = "https://learn.microsoft.com/office/volume-license-activation/gvlks"
OFFICE_APPLICATION_ID = "0ff1ce15-a989-479d-af46-f275c6370663"
KEY = re.compile(r"^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$")
FIELDS = ("version", "product", "key")


class SourceError(ValueError):
    """The YAML source does not have the shape the generator expects."""


def load_rows(source_text: str) -> list[dict[str, str]]:
    document = yaml.safe_load(source_text)
    rows = document.get("office_gvlks") if isinstance(document, Mapping) else None
    if not isinstance(rows, list) or not rows:
        raise SourceError("'office_gvlks' must be a non-empty list")
    result: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, raw in enumerate(rows):
        where = f"office_gvlks[{index}]"
        if not isinstance(raw, Mapping):
            raise SourceError(f"{where}: must be a mapping")
        row: dict[str, str] = {}
        for field in FIELDS:
            value: Any = raw.get(field)
            if not isinstance(value, str) or not value.strip():
                raise SourceError(f"{where}.{field}: must be a non-empty string")
            row[field] = value.strip()
        if not KEY.match(row["key"]):
            raise SourceError(f"{where}.key: {row['key']!r} is not a 5x5 product key")
        if row["key"] in seen:
            raise SourceError(f"{where}.key: listed twice")
        seen.add(row["key"])
        result.append(row)
    return result


def render(source_text: str) -> str:
    lines = [
        "# Copyright (c) 2026 winact.kms contributors",
        "# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)",
        "#",
        "# GENERATED FILE - DO NOT EDIT. Regenerate with: python tools/gen_office_gvlk_data.py",
        "# Generated from tools/data/office_gvlk.yaml, the project's sourced copy of Microsoft's table",
        f'# "{MICROSOFT_TITLE}":',
        f"# {MICROSOFT_URL}",
        '"""Office, Project and Visio GVLKs (Office 2016 to Office LTSC 2024), generated from Microsoft\'s table."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Final, TypedDict",
        "",
        f"MICROSOFT_TITLE: Final = {json.dumps(MICROSOFT_TITLE)}",
        f"MICROSOFT_URL: Final = {json.dumps(MICROSOFT_URL)}",
        f"OFFICE_APPLICATION_ID: Final = {json.dumps(OFFICE_APPLICATION_ID)}",
        "",
        "",
        "class OfficeGvlkRow(TypedDict):",
        "    version: str",
        "    product: str",
        "    key: str",
        "",
        "",
        "ROWS: Final[tuple[OfficeGvlkRow, ...]] = (",
    ]
    for row in load_rows(source_text):
        fields = ", ".join(f"{json.dumps(field)}: {json.dumps(row[field])}" for field in FIELDS)
        lines.append(f"    {{{fields}}},")
    lines.append(")")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the data module is out of date")
    args = parser.parse_args(argv)
    text = render(DEFAULT_SOURCE.read_text(encoding="utf-8"))
    if args.check:
        if DEFAULT_OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{DEFAULT_OUTPUT} is out of date; run: python tools/gen_office_gvlk_data.py", file=sys.stderr)
            return 1
        return 0
    DEFAULT_OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
