# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generate ``plugins/plugin_utils/_avma_data.py`` from ``tools/data/avma.yaml``.

The YAML file is the project's sourced copy of Microsoft's AVMA key table ("Automatic virtual machine
activation in Windows Server"), plus clearly flagged community rows. The unit tests regenerate the module in
memory and compare it with the committed file, so the two cannot drift.

Usage:
    python tools/gen_avma_data.py            # rewrite the data module
    python tools/gen_avma_data.py --check    # exit 1 when the data module is out of date
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
DEFAULT_SOURCE = REPO_ROOT / "tools" / "data" / "avma.yaml"
DEFAULT_OUTPUT = REPO_ROOT / "plugins" / "plugin_utils" / "_avma_data.py"
MICROSOFT_TITLE = "Automatic virtual machine activation in Windows Server"
MICROSOFT_URL = "https://learn.microsoft.com/windows-server/get-started/automatic-vm-activation"
KEY = re.compile(r"^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$")
TEXT_FIELDS = ("guest", "edition", "edition_id", "key")


class SourceError(ValueError):
    """The YAML source does not have the shape the generator expects."""


def _row(raw: Any, where: str, *, listed: bool) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise SourceError(f"{where}: must be a mapping")
    row: dict[str, Any] = {}
    for field in TEXT_FIELDS:
        value = raw.get(field)
        if not isinstance(value, str) or not value.strip():
            raise SourceError(f"{where}.{field}: must be a non-empty string")
        row[field] = value.strip()
    if not KEY.match(row["key"]):
        raise SourceError(f"{where}.key: {row['key']!r} is not a 5x5 product key")
    build = raw.get("build")
    if not isinstance(build, int) or build <= 0:
        raise SourceError(f"{where}.build: must be a positive integer")
    row["build"] = build
    row["listed_by_microsoft"] = listed
    source = raw.get("source") if not listed else f"Microsoft Learn: {MICROSOFT_TITLE}"
    if not isinstance(source, str) or not source.strip():
        raise SourceError(f"{where}.source: community rows must name their source")
    row["source"] = source
    return row


def load_rows(source_text: str) -> list[dict[str, Any]]:
    document = yaml.safe_load(source_text)
    if not isinstance(document, Mapping):
        raise SourceError("the AVMA source must be a mapping")
    rows: list[dict[str, Any]] = []
    for section, listed in (("avma", True), ("supplementary_not_listed_by_microsoft", False)):
        raw_rows = document.get(section)
        if not isinstance(raw_rows, list) or not raw_rows:
            raise SourceError(f"'{section}' must be a non-empty list")
        rows += [_row(raw, f"{section}[{i}]", listed=listed) for i, raw in enumerate(raw_rows)]
    return rows


def render(source_text: str) -> str:
    lines = [
        "# Copyright (c) 2026 winact.kms contributors",
        "# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)",
        "#",
        "# GENERATED FILE - DO NOT EDIT. Regenerate with: python tools/gen_avma_data.py",
        "# Generated from tools/data/avma.yaml, the project's sourced copy of Microsoft's table",
        f'# "{MICROSOFT_TITLE}":',
        f"# {MICROSOFT_URL}",
        '"""AVMA keys per guest release and edition.',
        "",
        "Rows with listed_by_microsoft False come from community scripts and are never picked by default.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Final, TypedDict",
        "",
        f"MICROSOFT_TITLE: Final = {json.dumps(MICROSOFT_TITLE)}",
        f"MICROSOFT_URL: Final = {json.dumps(MICROSOFT_URL)}",
        "",
        "",
        "class AvmaRow(TypedDict):",
        "    guest: str",
        "    edition: str",
        "    edition_id: str",
        "    key: str",
        "    build: int",
        "    listed_by_microsoft: bool",
        "    source: str",
        "",
        "",
        "ROWS: Final[tuple[AvmaRow, ...]] = (",
    ]
    for row in load_rows(source_text):
        lines.append("    {")
        for field in (*TEXT_FIELDS, "build", "listed_by_microsoft", "source"):
            value = row[field]
            literal = json.dumps(value) if isinstance(value, str) else repr(value)
            lines.append(f"        {json.dumps(field)}: {literal},")
        lines.append("    },")
    lines.append(")")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the data module is out of date")
    args = parser.parse_args(argv)
    text = render(DEFAULT_SOURCE.read_text(encoding="utf-8"))
    if args.check:
        if DEFAULT_OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{DEFAULT_OUTPUT} is out of date; run: python tools/gen_avma_data.py", file=sys.stderr)
            return 1
        return 0
    DEFAULT_OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
