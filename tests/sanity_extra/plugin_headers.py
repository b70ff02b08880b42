# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check that every Python file under plugins/ opens with the collection's license header.

The header is the two comment lines below, optionally after a ``#!`` line (module stubs keep
``#!/usr/bin/python`` for ansible-test). Each file must also import ``annotations`` from ``__future__``
(ruff's I002 enforces the same; this keeps the check with the license header when ruff is not run).
Empty ``__init__.py`` files are exempt.

Usage: ``python tests/sanity_extra/plugin_headers.py [COLLECTION_ROOT]``; exits 1 listing each offender.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Sequence
from pathlib import Path

HEADER = (
    "# Copyright (c) 2026 winact.kms contributors",
    "# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)",
)


def header_problems(path: Path, text: str) -> list[str]:
    """Problems with the license header and future import of one file's ``text``."""
    lines = text.splitlines()
    if lines and lines[0].startswith("#!"):
        lines = lines[1:]
    problems = []
    if tuple(lines[: len(HEADER)]) != HEADER:
        problems.append(f"{path}: does not start with the license header ({HEADER[0]!r} + GPLv3 line)")
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        return [*problems, f"{path}:{exc.lineno}: syntax error: {exc.msg}"]
    has_future = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )
    if not has_future:
        problems.append(f"{path}: lacks 'from __future__ import annotations'")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    root = Path(args[0]) if args else Path(__file__).resolve().parents[2]
    # Empty package markers stay empty (ansible-test's empty-init test wants them so).
    files = sorted(
        f for f in (root / "plugins").rglob("*.py") if not (f.name == "__init__.py" and not f.stat().st_size)
    )
    problems = [p for f in files for p in header_problems(f.relative_to(root), f.read_text(encoding="utf-8"))]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"plugins/: {len(files)} Python file(s) with license header and future import")
    return 0


if __name__ == "__main__":
    sys.exit(main())
