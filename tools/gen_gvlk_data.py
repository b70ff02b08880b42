# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generate ``plugins/plugin_utils/_gvlk_data.py`` from ``tools/data/gvlk.yaml``.

The YAML file is the project's sourced copy of Microsoft's GVLK table (plus clearly
flagged community rows). The catalog code reads only the generated module, so the
controller needs no YAML parsing at import time; the unit tests regenerate the module
in memory and compare it with the committed file, so the two cannot drift.

Usage:
    python tools/gen_gvlk_data.py            # rewrite the data module
    python tools/gen_gvlk_data.py --check    # exit 1 when the data module is out of date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT / "tools" / "data" / "gvlk.yaml"
DEFAULT_OUTPUT = REPO_ROOT / "plugins" / "plugin_utils" / "_gvlk_data.py"
SOURCE_LABEL = "tools/data/gvlk.yaml"
MICROSOFT_TITLE = "Key Management Services (KMS) client activation and product keys"
MICROSOFT_URL = "https://learn.microsoft.com/windows-server/get-started/kms-client-activation-keys"

MICROSOFT_SECTION = "gvlks"
SUPPLEMENTARY_SECTION = "supplementary_not_listed_by_microsoft"

# Order of the keys in every generated row (and of the GvlkRow fields).
FIELDS: tuple[str, ...] = (
    "product_family",
    "servicing",
    "edition",
    "gvlk",
    "edition_id",
    "operating_system_sku",
    "activation_id",
    "listed_by_microsoft",
    "source",
    "notes",
)
# Community rows carry no servicing column; say so rather than guess one.
SERVICING_NOT_STATED = "not stated"

_KEY_RE = re.compile(r"^[BCDFGHJKMNPQRTVWXY2346789]{5}(?:-[BCDFGHJKMNPQRTVWXY2346789]{5}){4}$")
_GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_LINE_LIMIT = 120


class SourceError(ValueError):
    """The YAML source does not have the shape the generator expects."""


def _text(row: Mapping[str, Any], field: str, where: str) -> str:
    value = row.get(field)
    if not isinstance(value, str) or not value.strip():
        raise SourceError(f"{where}: '{field}' must be a non-empty string")
    return " ".join(value.split())


def _normalize_row(row: Any, where: str, *, listed: bool) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise SourceError(f"{where}: expected a mapping")
    gvlk = _text(row, "gvlk", where)
    if not _KEY_RE.match(gvlk):
        raise SourceError(f"{where}: gvlk is not 5 groups of 5 product-key characters")
    sku = row.get("operating_system_sku")
    if not isinstance(sku, int) or isinstance(sku, bool) or sku < 0:
        raise SourceError(f"{where}: operating_system_sku must be a non-negative integer")
    activation_id = row.get("activation_id")
    if activation_id is not None:
        if not isinstance(activation_id, str) or not _GUID_RE.match(activation_id.lower()):
            raise SourceError(f"{where}: activation_id must be a GUID or null")
        activation_id = activation_id.lower()
    if row.get("listed_by_microsoft") is not listed:
        raise SourceError(f"{where}: listed_by_microsoft must be {str(listed).lower()} in this section")
    if listed:
        servicing = _text(row, "servicing", where)
        source = f"Microsoft Learn: {_text(row, 'ms_table', where)}"
    else:
        servicing = SERVICING_NOT_STATED
        source = _text(row, "source", where)
    notes = row.get("notes")
    return {
        "product_family": _text(row, "product_family", where),
        "servicing": servicing,
        "edition": _text(row, "edition", where),
        "gvlk": gvlk,
        "edition_id": _text(row, "edition_id", where),
        "operating_system_sku": sku,
        "activation_id": activation_id,
        "listed_by_microsoft": listed,
        "source": source,
        "notes": " ".join(notes.split()) if isinstance(notes, str) else "",
    }


def load_rows(source_text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parse and validate the YAML source; return (Microsoft rows, supplementary rows)."""
    document = yaml.safe_load(source_text)
    if not isinstance(document, Mapping):
        raise SourceError("the GVLK source must be a mapping")
    sections: list[list[dict[str, Any]]] = []
    for section, listed in ((MICROSOFT_SECTION, True), (SUPPLEMENTARY_SECTION, False)):
        rows = document.get(section)
        if not isinstance(rows, list) or not rows:
            raise SourceError(f"'{section}' must be a non-empty list")
        sections.append([_normalize_row(row, f"{section}[{i}]", listed=listed) for i, row in enumerate(rows)])
    return sections[0], sections[1]


def _literal(value: str) -> str:
    """A Python string literal quoted the way ruff format quotes it (double, unless that needs escapes)."""
    text = json.dumps(value, ensure_ascii=False)
    if '"' in value and "'" not in value:
        return "'" + text[1:-1].replace('\\"', '"') + "'"
    return text


def _string_literal(value: str, indent: int, prefix: str) -> list[str]:
    """A string literal, split into implicitly concatenated parts when the line would be too long."""
    single = f"{' ' * indent}{prefix}{_literal(value)},"
    if len(single) <= _LINE_LIMIT:
        return [single]
    inner = indent + 4
    budget = _LINE_LIMIT - inner - 2  # room for the quotes
    parts: list[str] = []
    current = ""
    for word in re.split(r"(?<= )", value):
        if current and len(_literal(current + word)) - 2 > budget:
            parts.append(current)
            current = ""
        current += word
    parts.append(current)
    lines = [f"{' ' * indent}{prefix}("]
    lines += [f"{' ' * inner}{_literal(part)}" for part in parts]
    lines.append(f"{' ' * indent}),")
    return lines


def _render_rows(name: str, rows: Sequence[Mapping[str, Any]], comment: str) -> list[str]:
    lines = [f"# {comment}", f"{name}: Final[tuple[GvlkRow, ...]] = ("]
    for row in rows:
        lines.append("    {")
        for field in FIELDS:
            value = row[field]
            prefix = f"{json.dumps(field)}: "
            if isinstance(value, str):
                lines += _string_literal(value, 8, prefix)
            elif value is None:
                lines.append(f"        {prefix}None,")
            else:
                lines.append(f"        {prefix}{value!r},")
        lines.append("    },")
    lines.append(")")
    return lines


def render(source_text: str) -> str:
    """The complete text of the generated data module for this YAML source."""
    microsoft, supplementary = load_rows(source_text)
    header = [
        "# Copyright (c) 2026 winact.kms contributors",
        "# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)",
        "#",
        "# GENERATED FILE - DO NOT EDIT. Regenerate with: python tools/gen_gvlk_data.py",
        f"# Generated from {SOURCE_LABEL}, the project's sourced copy of Microsoft's table",
        f'# "{MICROSOFT_TITLE}":',
        f"# {MICROSOFT_URL}",
        '"""GVLK rows (KMS client setup keys), generated from Microsoft\'s published table.',
        "",
        "Microsoft publishes these keys; they only activate against a KMS host or Active",
        "Directory-based activation and are not secrets. SUPPLEMENTARY_ROWS are NOT on",
        "Microsoft's page: they come from community tables and are flagged",
        "``listed_by_microsoft: False``.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Final, TypedDict",
        "",
        f"SOURCE: Final = {json.dumps(SOURCE_LABEL)}",
        f"MICROSOFT_TITLE: Final = {json.dumps(MICROSOFT_TITLE)}",
        f"MICROSOFT_URL: Final = {json.dumps(MICROSOFT_URL)}",
        "",
        "",
        "class GvlkRow(TypedDict):",
        "    product_family: str",
        "    servicing: str",
        "    edition: str",
        "    gvlk: str",
        "    edition_id: str",
        "    operating_system_sku: int",
        "    activation_id: str | None",
        "    listed_by_microsoft: bool",
        "    source: str",
        "    notes: str",
        "",
        "",
    ]
    body = _render_rows("MICROSOFT_ROWS", microsoft, f"{len(microsoft)} rows listed by Microsoft ({MICROSOFT_URL}).")
    body += [""]
    body += _render_rows(
        "SUPPLEMENTARY_ROWS", supplementary, f"{len(supplementary)} rows NOT listed by Microsoft (community tables)."
    )
    return "\n".join(header + body) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="GVLK YAML source")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="generated Python module")
    parser.add_argument("--check", action="store_true", help="only report whether the output is up to date")
    args = parser.parse_args(argv)

    expected = render(args.source.read_text(encoding="utf-8"))
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
    if args.check:
        if current != expected:
            print(f"{args.output} is out of date; run: python tools/gen_gvlk_data.py", file=sys.stderr)
            return 1
        return 0
    if current != expected:
        args.output.write_text(expected, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
