# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rewrite the YAML inventory ``winemu serve`` writes as the INI inventory ``ansible-test windows-integration`` reads.

ansible-test copies the inventory as ``inventory.winrm`` (no extension) and ansible-core 2.19 then parses it with
the INI plugin only, so the emulator's YAML inventory is converted: every host with its variables, the ``all``
variables under ``[windows:vars]`` and the ``windows`` group.

    python tools/winemu_ini_inventory.py WINEMU_INVENTORY.yml OUT
"""

from __future__ import annotations

import json
import sys
import typing as t

import yaml


def ini_value(value: t.Any) -> str:
    """A value the INI inventory reads back as the same string, number or boolean."""
    return json.dumps(value) if isinstance(value, str) else str(value)


def convert(inventory: dict[str, t.Any]) -> str:
    top = inventory["all"]
    hosts: dict[str, dict[str, t.Any]] = top.get("hosts") or {}
    windows = sorted((top.get("children") or {}).get("windows", {}).get("hosts") or hosts)
    lines = ["[windows]"]
    for name in windows:
        host_vars = " ".join(f"{key}={ini_value(value)}" for key, value in sorted((hosts[name] or {}).items()))
        lines.append(f"{name} {host_vars}".rstrip())
    lines += ["", "[windows:vars]"]
    lines += [f"{key}={ini_value(value)}" for key, value in sorted((top.get("vars") or {}).items())]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as source:
        text = convert(yaml.safe_load(source))
    with open(argv[2], "w", encoding="utf-8") as target:
        target.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
