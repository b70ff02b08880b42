# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base class that turns each winact.kms action plugin into a few lines.

The life of a task: validate the arguments against the spec derived from the
module's DOCUMENTATION (before any I/O), open a WMI client on the task's own
WinRM/PSRP connection, let the subclass read -> plan -> apply, and shape the
result. Failures become ``failed`` (with structured ``error`` detail and what
was already applied) or ``unreachable``; secrets never leave in clear text.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import importlib
import typing as t

import yaml
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.winact.kms.plugins.plugin_utils._errors import explain
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    E_ACCESSDENIED,
    WSManAccessDenied,
    WSManError,
    WSManUnreachable,
    connection_transport,
)

COLLECTION_MODULES = "ansible_collections.winact.kms.plugins.modules"

# Keys a DOCUMENTATION option may carry that mean something to the argument validator.
_SPEC_KEYS = ("type", "required", "default", "choices", "elements", "aliases", "no_log")


def _option_to_spec(option: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    spec = {key: option[key] for key in _SPEC_KEYS if key in option}
    spec.setdefault("type", "str")
    if "suboptions" in option:
        spec["options"] = options_to_spec(option["suboptions"])
    return spec


def options_to_spec(options: t.Mapping[str, t.Mapping[str, t.Any]] | None) -> dict[str, dict[str, t.Any]]:
    """Convert a DOCUMENTATION ``options`` mapping into an argument spec."""
    return {name: _option_to_spec(option) for name, option in (options or {}).items()}


@functools.cache
def argument_spec_for(module_name: str) -> dict[str, dict[str, t.Any]]:
    """The argument spec of ``winact.kms.<module_name>``, read from its doc stub."""
    stub = importlib.import_module(f"{COLLECTION_MODULES}.{module_name}")
    documentation = yaml.safe_load(stub.DOCUMENTATION)
    return options_to_spec(documentation.get("options"))


def mask_secret(secret: str) -> str:
    """Show only the last five characters of a secret such as a product key."""
    tail = secret[-5:] if len(secret) > 5 else ""
    return f"XXXXX-XXXXX-XXXXX-XXXXX-{tail}" if tail else "********"


def scrub(value: t.Any, secrets: t.Iterable[str]) -> t.Any:
    """Replace every occurrence of a secret inside a result structure by its masked form."""
    secrets = [s for s in secrets if s]
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, mask_secret(secret))
        return value
    if isinstance(value, t.Mapping):
        return {scrub(k, secrets): scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item, secrets) for item in value]
    return value


class ModuleFailure(Exception):
    """A failure the module explains itself: a message plus structured detail."""

    def __init__(self, msg: str, **detail: t.Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.detail = detail


@dataclasses.dataclass
class TaskContext:
    """What a module needs to know about the task it runs in."""

    check_mode: bool
    diff_mode: bool
    task_vars: dict[str, t.Any]
    applied: list[str] = dataclasses.field(default_factory=list)  # changes already made, for failure reports
    warnings: list[str] = dataclasses.field(default_factory=list)


class WinactAction(ActionBase, metaclass=abc.ABCMeta):
    """Base class of every winact.kms action plugin."""

    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False

    #: name of the doc-only stub in plugins/modules that defines the options
    module_name: t.ClassVar[str]
    #: options whose values are secrets (ansible-test refuses no_log inside DOCUMENTATION, so it is set here)
    no_log_options: t.ClassVar[tuple[str, ...]] = ()
    mutually_exclusive: t.ClassVar[list[list[str]] | None] = None
    required_if: t.ClassVar[list[t.Any] | None] = None
    required_by: t.ClassVar[dict[str, t.Any] | None] = None

    @abc.abstractmethod
    def execute(self, wmi: WmiClient, params: dict[str, t.Any], ctx: TaskContext) -> dict[str, t.Any]:
        """Read, plan and (unless in check mode) apply; return the module result."""

    def argument_spec(self) -> dict[str, dict[str, t.Any]]:
        """The spec derived from DOCUMENTATION, with :attr:`no_log_options` marked ``no_log``."""
        spec = argument_spec_for(self.module_name)
        if not self.no_log_options:
            return spec
        spec = {name: dict(option) for name, option in spec.items()}
        for name in self.no_log_options:
            spec[name]["no_log"] = True
        return spec

    def validate(self, params: dict[str, t.Any]) -> None:
        """Checks beyond the argument spec, run before any connection is opened.

        Raise :class:`ValidationError` (or :class:`ModuleFailure`) naming the option and what is allowed.
        """

    def secrets(self, params: dict[str, t.Any]) -> list[str]:
        """Values that must never appear in clear text in the result (e.g. a MAK)."""
        return []

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        super().run(tmp, task_vars)
        del tmp
        spec = self.argument_spec()
        try:
            validation, params = self.validate_argument_spec(  # type: ignore[no-untyped-call]
                argument_spec=spec,
                mutually_exclusive=self.mutually_exclusive,
                required_if=self.required_if,
                required_by=self.required_by,
            )
        except AnsibleActionFail as exc:
            # Re-raised as a plain result: the exception would carry the raw task args.
            raw = [str(v) for k, v in self._task.args.items() if spec.get(k, {}).get("no_log") and v]
            return t.cast(dict[str, t.Any], scrub({"failed": True, "changed": False, "msg": exc.message}, raw))
        secrets = [*validation._no_log_values, *self.secrets(params)]
        ctx = TaskContext(
            check_mode=bool(self._task.check_mode),
            diff_mode=bool(self._task.diff),
            task_vars=task_vars or {},
        )
        result = self._run_module(params, ctx)
        if ctx.warnings:
            result.setdefault("warnings", []).extend(ctx.warnings)
        return t.cast(dict[str, t.Any], scrub(result, secrets))

    def _run_module(self, params: dict[str, t.Any], ctx: TaskContext) -> dict[str, t.Any]:
        try:
            self.validate(params)
        except ValidationError as exc:
            return {"failed": True, "changed": False, "msg": str(exc), "option": exc.option}
        except ModuleFailure as exc:
            return {"failed": True, "changed": False, "msg": exc.msg, **exc.detail}
        try:
            wmi = WmiClient(connection_transport(self._connection))
            result = self.execute(wmi, params, ctx)
        except WSManUnreachable as exc:
            if ctx.applied:
                # The host changed before the connection went: a failure that says what was applied, so
                # the rerun that converges is not mistaken for a no-op.
                return self._failure(exc.message, ctx, error=exc.to_dict())
            return {"unreachable": True, "changed": False, "msg": exc.message, "error": exc.to_dict()}
        except WSManAccessDenied as exc:
            return self._failure(
                self._denied_message(), ctx, error={**explain(E_ACCESSDENIED).to_dict(), "wsman": exc.to_dict()}
            )
        except ModuleFailure as exc:
            return self._failure(exc.msg, ctx, **exc.detail)
        except WSManError as exc:
            return self._failure(exc.message, ctx, error=exc.to_dict())
        except AnsibleActionFail:
            raise
        result.setdefault("changed", False)
        return result

    def _denied_message(self) -> str:
        try:
            user = self._connection.get_option("remote_user")  # type: ignore[no-untyped-call]
        except (AttributeError, KeyError, ValueError):
            user = None
        who = f"the account {user!r}" if user else "the connection account"
        info = explain(E_ACCESSDENIED)
        return (
            f"The host refused {who}: {info.hresult_hex} {info.symbol}. Remote licensing needs an account in the "
            "target's local Administrators group (with an unfiltered token for local accounts)."
        )

    @staticmethod
    def _failure(msg: str, ctx: TaskContext, **detail: t.Any) -> dict[str, t.Any]:
        result: dict[str, t.Any] = {"failed": True, "msg": msg, "changed": bool(ctx.applied), **detail}
        if ctx.applied:
            result["applied"] = list(ctx.applied)
            result["msg"] = f"{msg} (already applied before the failure: {', '.join(ctx.applied)})"
        return result
