# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep the ``kms`` action group in meta/runtime.yml equal to the modules in plugins/modules.

``module_defaults: {group/winact.kms.kms: {...}}`` only reaches the modules listed in the group, so a module
missing from the list silently ignores the defaults users set once for the whole collection. Every module is a
doc-only stub run by the action plugin of the same name, so a stub without that plugin cannot run at all.

Usage: ``python tests/sanity_extra/action_groups.py [--write] [COLLECTION_ROOT]``.
Without ``--write`` it reports every difference and exits 1; with it, the group list is rewritten in place.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

GROUP_NAME = "kms"
GROUP_HEADER = re.compile(rf"^(?P<indent>[ ]+){GROUP_NAME}:[ ]*(?P<rest>.*)$")
LIST_ITEM = re.compile(r"^(?P<indent>[ ]+)- ")


@dataclass(frozen=True)
class Findings:
    """Differences between the collection's modules and its runtime metadata."""

    missing_from_group: list[str]
    not_a_module: list[str]
    duplicates: list[str]
    unsorted: bool
    without_action_plugin: list[str]

    @property
    def group_problems(self) -> list[str]:
        """One line per difference between the group and the modules (all fixed by ``--write``)."""
        where = f"meta/runtime.yml: action_groups.{GROUP_NAME}"
        lines = [f"{where} lacks module '{m}'" for m in self.missing_from_group]
        lines += [f"{where} lists '{m}', which has no module" for m in self.not_a_module]
        lines += [f"{where} lists '{m}' more than once" for m in self.duplicates]
        if self.unsorted:
            lines.append(f"{where} is not sorted")
        return lines

    @property
    def problems(self) -> list[str]:
        """Every problem, one human-readable line each."""
        missing_plugins = [
            f"plugins/modules/{m}.py: no action plugin plugins/action/{m}.py" for m in self.without_action_plugin
        ]
        return self.group_problems + missing_plugins


def module_names(root: Path) -> list[str]:
    """Module names, one per plugins/modules/*.py file (package markers excluded)."""
    modules_dir = root / "plugins" / "modules"
    if not modules_dir.is_dir():
        return []
    return sorted(p.stem for p in modules_dir.glob("*.py") if p.stem != "__init__")


def group_members(runtime: object) -> list[str]:
    """The list under action_groups.kms; an absent file, mapping or group reads as empty."""
    if not isinstance(runtime, dict):
        return []
    groups = runtime.get("action_groups") or {}
    if not isinstance(groups, dict):
        raise ValueError("meta/runtime.yml: action_groups must be a mapping")
    members = groups.get(GROUP_NAME) or []
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise ValueError(f"meta/runtime.yml: action_groups.{GROUP_NAME} must be a list of module names")
    return members


def check(root: Path) -> Findings:
    """Compare plugins/modules, plugins/action and meta/runtime.yml under ``root``."""
    modules = module_names(root)
    runtime_path = root / "meta" / "runtime.yml"
    runtime = yaml.safe_load(runtime_path.read_text(encoding="utf-8")) if runtime_path.exists() else None
    members = group_members(runtime)
    return Findings(
        missing_from_group=[m for m in modules if m not in members],
        not_a_module=sorted({m for m in members if m not in modules}),
        duplicates=sorted({m for m in members if members.count(m) > 1}),
        unsorted=members != sorted(members),
        without_action_plugin=[m for m in modules if not (root / "plugins" / "action" / f"{m}.py").is_file()],
    )


def rewrite_group(text: str, modules: Sequence[str]) -> str:
    """Return runtime.yml ``text`` with the ``kms`` group listing exactly ``modules``; the rest is kept verbatim."""
    lines = text.splitlines()
    in_groups = False
    for index, line in enumerate(lines):
        if re.match(r"^action_groups:\s*(#.*)?$", line):
            in_groups = True
            continue
        if in_groups and line and not line.startswith((" ", "#")):
            break  # left the action_groups mapping without finding the group
        header = GROUP_HEADER.match(line) if in_groups else None
        if header is None:
            continue
        if header.group("rest") not in ("", "[]"):
            raise ValueError(f"meta/runtime.yml line {index + 1}: write the {GROUP_NAME} group as a block list")
        end = index + 1
        while end < len(lines) and (LIST_ITEM.match(lines[end]) or not lines[end].strip()):
            end += 1
        while end > index + 1 and not lines[end - 1].strip():
            end -= 1  # keep blank lines that follow the list
        item_indent = header.group("indent") + "  "
        body = [f"{item_indent}- {m}" for m in modules]
        head = f"{header.group('indent')}{GROUP_NAME}:" + ("" if body else " []")
        return "\n".join([*lines[:index], head, *body, *lines[end:]]) + "\n"
    raise ValueError(f"meta/runtime.yml: no action_groups.{GROUP_NAME} block to rewrite")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="rewrite the group in meta/runtime.yml")
    parser.add_argument("root", nargs="?", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args(argv)
    root: Path = args.root

    if args.write:
        runtime_path = root / "meta" / "runtime.yml"
        old = runtime_path.read_text(encoding="utf-8")
        new = rewrite_group(old, module_names(root))
        if new != old:
            runtime_path.write_text(new, encoding="utf-8")
            print(f"{runtime_path}: action_groups.{GROUP_NAME} rewritten")

    findings = check(root)
    for problem in findings.problems:
        print(problem, file=sys.stderr)
    if findings.group_problems:
        print("rewrite the group with: make runtime-meta", file=sys.stderr)
    if findings.problems:
        return 1
    print(f"action_groups.{GROUP_NAME}: {len(module_names(root))} module(s), in step with plugins/modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
