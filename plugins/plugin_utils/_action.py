# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base class that turns each winact.kms action plugin into a few lines.

The life of a task: validate the arguments against the spec derived from the
module's DOCUMENTATION and build the module's request from them (before any I/O),
open a WMI client on the task's own WinRM/PSRP connection, hand the request to the
module's engine in plugin_utils, and shape the result. Failures become ``failed``
(with ``error`` in the one shape ``_explain`` defines, and what was already applied)
or ``unreachable``; secrets never leave in clear text.

Only action plugins import this module: it loads ansible-core's ActionBase.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import importlib
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.yaml import yaml_load
from ansible.plugins.action import ActionBase

from ansible_collections.winact.kms.plugins.plugin_utils import _settings as settings
from ansible_collections.winact.kms.plugins.plugin_utils._errors import explain
from ansible_collections.winact.kms.plugins.plugin_utils._explain import error_detail, error_for_wsman
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext, hresult_hex, scrub
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError, wire_safe
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient, is_read_method
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

RequestT = t.TypeVar("RequestT")


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
    # ansible-core's safe loader is libyaml's when present: about 25 times faster than the pure-Python one.
    documentation = yaml_load(stub.DOCUMENTATION)
    return options_to_spec(documentation.get("options"))


# Imported by every forked worker that runs a winact.kms task over winrm or psrp.
_WORKER_IMPORTS = ("requests", "winrm", "winrm.protocol", "spnego", "pypsrp.wsman")


@functools.cache
def warm_worker_caches() -> None:
    """Load once, in Ansible's main process, what each forked worker would otherwise load for itself.

    Ansible forks a worker per task and host. A worker whose templates use any Jinja test or filter (``is none``
    in a role's arguments is enough) loads every builtin test and filter plugin, and the connection imports the
    WinRM client libraries; loaded here, before the workers fork, they are inherited instead.
    """
    try:
        from ansible.plugins.loader import filter_loader, test_loader

        for loader in (filter_loader, test_loader):
            for _plugin in loader.all():  # type: ignore[no-untyped-call]
                pass
    except Exception:  # noqa: BLE001 - only a cache: a worker loads what it needs as it always did
        pass
    for name in _WORKER_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


class WinactAction(ActionBase, t.Generic[RequestT], metaclass=abc.ABCMeta):
    """Base class of every winact.kms action plugin.

    Subclasses name their doc stub and implement :meth:`winact_request` (validated options -> the
    engine's request, raising :class:`ValidationError` before any I/O) and :meth:`winact_execute`.
    Every hook and attribute of ours starts with ``winact_`` so none can shadow an ActionBase name.
    """

    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False

    #: name of the doc-only stub in plugins/modules that defines the options
    winact_module: t.ClassVar[str]
    #: options whose values are secrets (ansible-test refuses no_log inside DOCUMENTATION, so it is set here)
    winact_no_log: t.ClassVar[tuple[str, ...]] = ()
    winact_mutually_exclusive: t.ClassVar[list[list[str]] | None] = None
    winact_required_if: t.ClassVar[list[t.Any] | None] = None
    winact_required_by: t.ClassVar[dict[str, t.Any] | None] = None

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        # Parsed when the class is loaded (in Ansible's main process), so forked workers inherit the spec.
        module = getattr(cls, "winact_module", None)
        if isinstance(module, str):
            argument_spec_for(module)
            warm_worker_caches()

    @abc.abstractmethod
    def winact_request(self, params: dict[str, t.Any]) -> RequestT:
        """Checks beyond the argument spec and the engine's request, built before any connection is opened.

        Raise :class:`ValidationError` (or :class:`ModuleFailure`) naming the option and what is allowed.
        """

    @abc.abstractmethod
    def winact_execute(self, wmi: WmiClient, request: RequestT, ctx: TaskContext) -> dict[str, t.Any]:
        """Read, plan and (unless in check mode) apply; return the module result."""

    def winact_secrets(self, params: dict[str, t.Any]) -> list[str]:
        """Values that must never appear in clear text in the result, beyond the no_log options."""
        return []

    def winact_argument_spec(self) -> dict[str, dict[str, t.Any]]:
        """The spec derived from DOCUMENTATION, with :attr:`winact_no_log` marked ``no_log``."""
        spec = argument_spec_for(self.winact_module)
        if not self.winact_no_log:
            return spec
        spec = {name: dict(option) for name, option in spec.items()}
        for name in self.winact_no_log:
            spec[name]["no_log"] = True
        return spec

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        super().run(tmp, task_vars)
        del tmp
        spec = self.winact_argument_spec()
        shape = _list_of_dicts_problem(spec, self._task.args)
        if shape:
            return {"failed": True, "changed": False, "msg": shape, "error": error_detail(shape)}
        try:
            validation, params = self.validate_argument_spec(  # type: ignore[no-untyped-call]
                argument_spec=spec,
                mutually_exclusive=self.winact_mutually_exclusive,
                required_if=self.winact_required_if,
                required_by=self.winact_required_by,
            )
        except AnsibleActionFail as exc:
            # Re-raised as a plain result: the exception would carry the raw task args.
            raw = [str(v) for k, v in self._task.args.items() if spec.get(k, {}).get("no_log") and v]
            failed = {"failed": True, "changed": False, "msg": exc.message, "error": error_detail(exc.message)}
            return t.cast(dict[str, t.Any], scrub(failed, raw))
        secrets = [*validation._no_log_values, *self.winact_secrets(params)]
        ctx = TaskContext(
            check_mode=bool(self._task.check_mode),
            diff_mode=bool(self._task.diff),
            task_vars=task_vars or {},
        )
        result = self._winact_run(params, ctx)
        if ctx.warnings:
            result.setdefault("warnings", []).extend(ctx.warnings)
        return t.cast(dict[str, t.Any], scrub(result, secrets))

    def _winact_run(self, params: dict[str, t.Any], ctx: TaskContext) -> dict[str, t.Any]:
        try:
            wire_safe(params)
            request = self.winact_request(params)
        except ValidationError as exc:
            return failure_result(str(exc), ctx, option=exc.option)
        except ModuleFailure as exc:
            return failure_result(exc.msg, ctx, **exc.detail)
        try:
            wmi = WmiClient(connection_transport(self._connection))
            result = self.winact_execute(wmi, request, ctx)
        except WSManUnreachable as exc:
            _note_in_flight(exc, ctx)
            if ctx.applied or ctx.may_have_applied:
                # The host changed (or may have) before the connection went: a failure that says so, so
                # the rerun that converges is not mistaken for a no-op.
                return failure_result(exc.message, ctx, error=error_for_wsman(exc))
            return {"unreachable": True, "changed": False, "msg": exc.message, "error": error_for_wsman(exc)}
        except WSManAccessDenied as exc:
            return failure_result(self._winact_denied_message(), ctx, error=error_for_wsman(exc))
        except ModuleFailure as exc:
            error = exc.detail.get("error")
            if not ctx.applied and isinstance(error, dict) and error.get("hresult") == hresult_hex(E_ACCESSDENIED):
                # No shell is opened to be refused first: the account's missing rights show on a WMI call.
                return failure_result(f"{exc.msg} {self._winact_denied_message()}", ctx, **exc.detail)
            return failure_result(exc.msg, ctx, **exc.detail)
        except WSManError as exc:
            _note_in_flight(exc, ctx)
            return failure_result(exc.message, ctx, error=error_for_wsman(exc))
        result.setdefault("changed", False)
        return result

    def _winact_denied_message(self) -> str:
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


def _list_of_dicts_problem(spec: t.Mapping[str, t.Mapping[str, t.Any]], args: t.Mapping[str, t.Any]) -> str | None:
    """A list-of-mappings option given a string: ansible-core's own message for it names no option."""
    for name, option in spec.items():
        value = args.get(name)
        if option.get("type") == "list" and option.get("elements") == "dict" and isinstance(value, str):
            return f"{name}: expected a list of mappings, got a string"
    return None


def _note_in_flight(exc: WSManError, ctx: TaskContext) -> None:
    """A method call that reached the host without a usable answer may have changed it: record it."""
    call = exc.in_flight
    if call and not is_read_method(call.rpartition(".")[2]) and call not in ctx.may_have_applied:
        ctx.may_have_applied.append(call)


def failure_result(msg: str, ctx: TaskContext, **detail: t.Any) -> dict[str, t.Any]:
    """A failed result in the one shape: ``msg`` and ``error``; ``changed``, ``applied`` and ``may_have_applied``
    say what was done (or may have been) first.

    A failure that carries no ``error`` of its own (bad input, a preflight finding) gets one with its message.
    """
    detail.setdefault("error", error_detail(msg))
    changed = bool(ctx.applied or ctx.may_have_applied)
    result: dict[str, t.Any] = {**detail, "failed": True, "msg": msg, "changed": changed}
    notes = []
    if ctx.applied:
        result["applied"] = list(ctx.applied)
        notes.append(f"already applied before the failure: {', '.join(ctx.applied)}")
    if ctx.may_have_applied:
        result["may_have_applied"] = list(ctx.may_have_applied)
        notes.append(
            f"may have been applied (the request reached the host but its answer was lost): "
            f"{', '.join(ctx.may_have_applied)}"
        )
    if notes:
        result["msg"] = f"{msg} ({'; '.join(notes)})"
    return result


class SettingsAction(WinactAction[settings.Request]):
    """Base of the settings modules (kms_client, kms_host, activation_policy): one scope of the settings table."""

    winact_scope: t.ClassVar[settings.Scope]

    def winact_request(self, params: dict[str, t.Any]) -> settings.Request:
        return settings.build_request(self.winact_scope, params)

    def winact_execute(self, wmi: WmiClient, request: settings.Request, ctx: TaskContext) -> dict[str, t.Any]:
        return settings.execute(wmi, request, ctx)
