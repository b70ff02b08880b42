# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's own option checks, run on the controller without a task or a host.

The roles call this (through the ``winact.kms.option_errors`` filter) in their validate step, so a value of the
right type that a module would refuse stops the play before the first task that talks to a host, with the
module's own words, and no rule is written twice.
"""

from __future__ import annotations

import importlib
import typing as t

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.winact.kms.plugins.plugin_utils._action import WinactAction, _list_of_dicts_problem
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, scrub
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError, wire_safe

ACTIONS = "ansible_collections.winact.kms.plugins.action"


def _action_class(module: str) -> type[WinactAction[t.Any]]:
    try:
        plugin = importlib.import_module(f"{ACTIONS}.{module}").ActionModule
    except ImportError as exc:
        raise ValueError(f"winact.kms.{module} is not a module of this collection") from exc
    return t.cast(type[WinactAction[t.Any]], plugin)


def option_errors(module: str, options: t.Mapping[str, t.Any], names: t.Mapping[str, str] | None = None) -> list[str]:
    """What ``winact.kms.<module>`` would refuse in ``options`` before any I/O, one message per problem.

    ``None`` values are left out, as the roles ``omit`` them. ``names`` renames options in the messages (a
    role names its own variables). Checks: the argument spec from the module's DOCUMENTATION and its option
    rules, the values every WS-Management request can carry, then the module's own checks (formats, ranges).
    Secret values (a product key) appear masked, as in the module's own results.
    """
    plugin = _action_class(module)
    action = object.__new__(plugin)
    given = {name: value for name, value in options.items() if value is not None}
    names = dict(names or {})

    def label(option: str) -> str:
        head, dot, rest = option.partition(".")
        head, bracket, index = head.partition("[")
        return f"{names.get(head, head)}{bracket}{index}{dot}{rest}"

    spec = action.winact_argument_spec()
    shape = _list_of_dicts_problem(spec, given)
    if shape:
        return [f"{label(shape.partition(':')[0])}:{shape.partition(':')[2]}"]
    validator = ArgumentSpecValidator(  # type: ignore[no-untyped-call]
        spec,
        mutually_exclusive=plugin.winact_mutually_exclusive,
        required_if=plugin.winact_required_if,
        required_by=plugin.winact_required_by,
    )
    result = validator.validate(given)  # type: ignore[no-untyped-call]
    secrets = [*result._no_log_values, *action.winact_secrets(result.validated_parameters)]
    return t.cast(list[str], scrub(_problems(module, action, result, label, names), secrets))


def _problems(
    module: str,
    action: WinactAction[t.Any],
    result: t.Any,
    label: t.Callable[[str], str],
    names: t.Mapping[str, str],
) -> list[str]:
    if result.errors.messages:  # the error collection is an exception: always truthy
        # ansible-core's messages quote the option; rename it where the caller gave a name.
        messages = []
        for message in result.errors.messages:
            for option, name in names.items():
                message = message.replace(f"'{option}'", f"'{name}'")
            messages.append(f"{module}: {message}")
        return messages
    params = result.validated_parameters
    try:
        wire_safe(params)
        action.winact_request(params)
    except ValidationError as exc:
        return [f"{label(exc.option)}: {exc.message}"]
    except ModuleFailure as exc:
        return [f"{module}: {exc.msg}"]
    return []
