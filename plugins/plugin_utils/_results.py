# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every layer may use to report: failures, the task context, HRESULTs in hex, masked secrets.

This module imports nothing from ansible-core or from the rest of the collection, so the WS-Man, WMI,
registry and licensing layers can raise :class:`ModuleFailure` and record what they applied without
loading the action-plugin machinery.
"""

from __future__ import annotations

import dataclasses
import typing as t

MASK_PREFIX: t.Final = "XXXXX-XXXXX-XXXXX-XXXXX-"
FULL_MASK: t.Final = MASK_PREFIX + "XXXXX"


class ModuleFailure(Exception):
    """A failure the module explains itself: a message plus structured detail (``error``, ``applied``, ...)."""

    def __init__(self, msg: str, **detail: t.Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.detail = detail


@dataclasses.dataclass
class TaskContext:
    """What a module needs to know about the task it runs in, and what it did so far."""

    check_mode: bool
    diff_mode: bool
    task_vars: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    applied: list[str] = dataclasses.field(default_factory=list)  # changes already made, for failure reports
    # Changes whose request reached the host without a usable answer (lost, timed out, corrupt): the host
    # may have carried them out.
    may_have_applied: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)


def hresult_hex(code: int) -> str:
    """An HRESULT (or any 32-bit code) the way Windows tools print it: ``0xC004F050``."""
    return f"0x{code & 0xFFFFFFFF:08X}"


def mask_secret(secret: str | None) -> str:
    """'XXXXX-XXXXX-XXXXX-XXXXX-T83GX': only the last five characters of a product key (or other secret).

    Input of five characters or fewer is masked entirely, so the whole value is never shown.
    """
    text = secret.strip() if isinstance(secret, str) else ""
    if len(text) <= 5:
        return FULL_MASK
    return MASK_PREFIX + text[-5:].upper()


def scrub(value: t.Any, secrets: t.Iterable[str]) -> t.Any:
    """Replace every occurrence of a secret inside a result structure (keys included) by its masked form."""
    ordered = sorted({s for s in secrets if s}, key=len, reverse=True)  # longest first: no partial leftovers
    if not ordered:
        return value
    return _scrub(value, [(secret, mask_secret(secret)) for secret in ordered])


def _scrub(value: t.Any, masks: list[tuple[str, str]]) -> t.Any:
    if isinstance(value, str):
        for secret, masked in masks:
            if secret in value:
                value = value.replace(secret, masked)
        return value
    if isinstance(value, t.Mapping):
        return {_scrub(k, masks): _scrub(v, masks) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_scrub(item, masks) for item in value]
    return value
