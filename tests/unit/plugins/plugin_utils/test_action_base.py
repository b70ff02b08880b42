# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action-plugin base class (_action): argument specs, validation before I/O, result mapping, scrubbing.

This layer decides what leaves the controller, so it is tested on its own: a probe plugin over the
product_key options runs the real ``WinactAction.run()`` with an engine each test writes, and the fake
host sits at the transport seam (tests/unit/plugins/action_harness.py).
"""

from __future__ import annotations

import importlib
import typing as t

import pytest
import yaml

from ansible_collections.winact.kms.plugins.plugin_utils import _action
from ansible_collections.winact.kms.plugins.plugin_utils import _product_key as product_key
from ansible_collections.winact.kms.plugins.plugin_utils._explain import ERROR_KEYS, error_detail
from ansible_collections.winact.kms.plugins.plugin_utils._results import FULL_MASK, ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    WSManAccessDenied,
    WSManError,
    WSManFault,
    WSManProtocolError,
    WSManUnreachable,
)
from ansible_collections.winact.kms.tests.unit.plugins.action_harness import (
    MODULES,
    FakeConnection,
    Seam,
    UntouchedConnection,
    build_action,
    build_plugin,
    run_action,
)
from ansible_collections.winact.kms.tests.unit.plugins.spp_fake import FakeHost

MAK = "QGT6C-D2FR3-CYJCD-VVDKD-2VC3F"  # fabricated (valid alphabet, never a real key)
MASKED_MAK = "XXXXX-XXXXX-XXXXX-XXXXX-2VC3F"
Engine = t.Callable[[WmiClient, dict[str, t.Any], TaskContext], dict[str, t.Any]]


class Probe(_action.WinactAction[dict[str, t.Any]]):
    """A plugin over the product_key options (``key`` is no_log) whose request and engine the test supplies."""

    winact_module = "product_key"
    winact_no_log = ("key",)

    engine: Engine | None = None
    request_error: Exception | None = None  # raised by winact_request instead of building the request
    extra_secrets: tuple[str, ...] = ()
    spec: dict[str, dict[str, t.Any]] | None = None  # replaces the DOCUMENTATION spec when set
    built: list[dict[str, t.Any]]
    seen: list[tuple[WmiClient, dict[str, t.Any], TaskContext]]

    def winact_argument_spec(self) -> dict[str, dict[str, t.Any]]:
        return self.spec if self.spec is not None else super().winact_argument_spec()

    def winact_request(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        if self.request_error is not None:
            raise self.request_error
        request = {"params": params}
        self.built.append(request)
        return request

    def winact_secrets(self, params: dict[str, t.Any]) -> list[str]:
        return [*product_key.secrets(params.get("key")), *self.extra_secrets]

    def winact_execute(self, wmi: WmiClient, request: dict[str, t.Any], ctx: TaskContext) -> dict[str, t.Any]:
        self.seen.append((wmi, request, ctx))
        assert self.engine is not None, "the test gave the probe no engine"
        return self.engine(wmi, request, ctx)


def probe(
    monkeypatch: pytest.MonkeyPatch,
    engine: Engine | None = None,
    args: t.Mapping[str, t.Any] | None = None,
    *,
    host: FakeHost | None = None,
    check: bool = False,
    diff: bool = False,
    connection: FakeConnection | UntouchedConnection | None = None,
    **attributes: t.Any,
) -> tuple[Probe, Seam]:
    seam = Seam(monkeypatch, host if host is not None else (FakeHost() if engine else None))
    plugin = build_plugin(Probe, args or {}, check=check, diff=diff, connection=connection)
    plugin.engine = engine
    plugin.built, plugin.seen = [], []
    for name, value in attributes.items():
        setattr(plugin, name, value)
    return plugin, seam


def raises(exc: Exception, applied: t.Sequence[str] = ()) -> Engine:
    """An engine that records ``applied`` as done, then fails with ``exc``."""

    def engine(wmi: WmiClient, request: dict[str, t.Any], ctx: TaskContext) -> dict[str, t.Any]:
        ctx.applied.extend(applied)
        raise exc

    return engine


def returns(result: dict[str, t.Any], warnings: t.Sequence[str] = ()) -> Engine:
    def engine(wmi: WmiClient, request: dict[str, t.Any], ctx: TaskContext) -> dict[str, t.Any]:
        ctx.warnings.extend(warnings)
        return result

    return engine


def assert_error_shape(result: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    error = result["error"]
    assert set(ERROR_KEYS) <= set(error), error
    return t.cast(dict[str, t.Any], error)


# ------------------------------------------------------------------------------------------------
# The argument spec, from DOCUMENTATION
# ------------------------------------------------------------------------------------------------
def test_options_to_spec_keeps_what_the_validator_needs_and_defaults_the_type() -> None:
    options = yaml.safe_load(
        """
        name:
          description: no type given
        mode:
          description: [text]
          type: str
          choices: [a, b]
          default: a
          aliases: [style]
        count:
          type: int
          required: true
          version_added: 0.1.0
        entries:
          type: list
          elements: dict
          suboptions:
            domain: {type: str, required: true, description: d}
            weight: {type: int, default: 0}
            inner:
              type: dict
              suboptions:
                flag: {description: f}
        secret:
          type: str
          no_log: true
        """
    )
    assert _action.options_to_spec(options) == {
        "name": {"type": "str"},
        "mode": {"type": "str", "choices": ["a", "b"], "default": "a", "aliases": ["style"]},
        "count": {"type": "int", "required": True},
        "entries": {
            "type": "list",
            "elements": "dict",
            "options": {
                "domain": {"type": "str", "required": True},
                "weight": {"type": "int", "default": 0},
                "inner": {"type": "dict", "options": {"flag": {"type": "str"}}},
            },
        },
        "secret": {"type": "str", "no_log": True},
    }
    assert _action.options_to_spec(None) == {}


@pytest.mark.parametrize("module", MODULES)
def test_each_spec_has_exactly_the_documented_options(module: str) -> None:
    stub = importlib.import_module(f"ansible_collections.winact.kms.plugins.modules.{module}")
    options = yaml.safe_load(stub.DOCUMENTATION)["options"]
    spec = _action.argument_spec_for(module)
    assert set(spec) == set(options)
    for name, option in options.items():
        assert spec[name]["type"] == option.get("type", "str"), (module, name)
        assert spec[name].get("choices") == option.get("choices"), (module, name)
        assert spec[name].get("default") == option.get("default"), (module, name)
        assert "no_log" not in option, "ansible-test refuses no_log in DOCUMENTATION; winact_no_log sets it"
    assert _action.argument_spec_for(module) is spec  # read once per module


def test_real_specs_carry_types_choices_and_suboptions() -> None:
    host = _action.argument_spec_for("kms_host")
    assert host["dns_publish_domains"] == {
        "type": "list",
        "elements": "dict",
        "options": {
            "domain": {"type": "str", "required": True},
            "priority": {"type": "int", "default": 0},
            "weight": {"type": "int", "default": 0},
        },
    }
    time_source = _action.argument_spec_for("time_source")
    assert time_source["servers"] == {"type": "list", "elements": "str", "required": True}
    assert time_source["type"]["choices"] == ["NTP", "AllSync"]
    activate = _action.argument_spec_for("activate")
    assert activate["skip_preflight"]["choices"] == ["service", "clock", "kms_discovery", "self_target"]


@pytest.mark.parametrize("module", MODULES)
def test_only_the_product_key_is_marked_no_log(module: str) -> None:
    spec = build_action(module, {}).winact_argument_spec()
    assert {name for name, option in spec.items() if option.get("no_log")} == (
        {"key"} if module == "product_key" else set()
    )
    # Marking copies the options it changes: the cached spec other tasks share stays untouched.
    assert not any(option.get("no_log") for option in _action.argument_spec_for(module).values())


# ------------------------------------------------------------------------------------------------
# Validation before any I/O
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"kee": MAK}, "Unsupported parameters for (Probe) module: kee"),
        ({"state": "gone"}, "value of state must be one of: present, absent, got: gone"),
        ({"clear_registry": "perhaps"}, "clear_registry"),
    ],
)
def test_argument_spec_failures_touch_no_connection(
    monkeypatch: pytest.MonkeyPatch, args: dict[str, t.Any], message: str
) -> None:
    plugin, seam = probe(monkeypatch, args=args, connection=UntouchedConnection())
    result = plugin.run(task_vars={})
    assert result["failed"] is True and result["changed"] is False
    assert message in result["msg"]
    assert seam.opened == [] and plugin.built == [] and plugin.seen == []


def test_argument_spec_failures_have_the_error_shape_too(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin, _seam = probe(monkeypatch, args={"kee": MAK}, connection=UntouchedConnection())
    result = plugin.run(task_vars={})
    assert assert_error_shape(result)["message"] == result["msg"]


def test_argument_spec_failure_masks_no_log_values_in_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    # ansible-core quotes the value it could not convert; for a no_log option that value is a secret.
    spec = {"pin": {"type": "int", "no_log": True}}
    plugin, _seam = probe(monkeypatch, args={"pin": "hunter2-secret"}, spec=spec, connection=UntouchedConnection())
    result = plugin.run(task_vars={})
    assert result["failed"] is True and "unable to convert to int" in result["msg"]
    assert "hunter2" not in repr(result) and "XXXXX-XXXXX-XXXXX-XXXXX-ECRET" in result["msg"]


def test_a_validation_error_names_the_option_before_any_io(monkeypatch: pytest.MonkeyPatch) -> None:
    failure = ValidationError("activation_id", "'abc' is not a GUID")
    plugin, seam = probe(monkeypatch, request_error=failure, connection=UntouchedConnection())
    result = plugin.run(task_vars={})
    assert result == {
        "failed": True,
        "changed": False,
        "msg": "activation_id: 'abc' is not a GUID",
        "option": "activation_id",
        "error": error_detail("activation_id: 'abc' is not a GUID"),
    }
    assert seam.opened == [] and plugin.seen == []


def test_a_module_failure_while_building_the_request_keeps_its_detail(monkeypatch: pytest.MonkeyPatch) -> None:
    failure = ModuleFailure("no such edition", os={"sku": 101})
    plugin, seam = probe(monkeypatch, request_error=failure, connection=UntouchedConnection())
    result = plugin.run(task_vars={})
    assert result["failed"] is True and result["os"] == {"sku": 101}
    assert assert_error_shape(result)["message"] == "no such edition"
    assert seam.opened == []


# ------------------------------------------------------------------------------------------------
# The run: task context in, result out
# ------------------------------------------------------------------------------------------------
def test_the_engine_gets_the_request_the_base_built_and_the_task_context(monkeypatch: pytest.MonkeyPatch) -> None:
    host = FakeHost()
    plugin, seam = probe(monkeypatch, returns({"changed": True}), {"state": "absent"}, host=host, check=True, diff=True)
    result = plugin.run(task_vars={"inventory_hostname": "srv01"})
    assert result == {"changed": True}
    ((wmi, request, ctx),) = plugin.seen
    assert wmi is host.wmi and len(seam.opened) == 1 and seam.opened[0] is plugin._connection
    assert request is plugin.built[0] and not hasattr(plugin, "_request")
    # Validated parameters: the spec's defaults filled in.
    assert request["params"] == {
        "key": None,
        "state": "absent",
        "clear_registry": False,
        "activation_id": None,
        "restart_service": "auto",
        "protected_key": "fail",
        "application": "windows",
    }
    assert (ctx.check_mode, ctx.diff_mode, ctx.task_vars) == (True, True, {"inventory_hostname": "srv01"})


def test_changed_defaults_to_false(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin, _seam = probe(monkeypatch, returns({"report": 1}))
    assert plugin.run(task_vars={}) == {"report": 1, "changed": False}


def test_warnings_of_the_context_are_appended(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin, _seam = probe(monkeypatch, returns({"warnings": ["from the engine"]}, ["from the context"]))
    assert plugin.run(task_vars={})["warnings"] == ["from the engine", "from the context"]
    plugin, _seam = probe(monkeypatch, returns({}))
    assert "warnings" not in plugin.run(task_vars={})


def test_warnings_of_a_failure_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    def engine(wmi: WmiClient, request: dict[str, t.Any], ctx: TaskContext) -> dict[str, t.Any]:
        ctx.warnings.append("read a value of the wrong type")
        raise ModuleFailure("later it failed")

    plugin, _seam = probe(monkeypatch, engine)
    result = plugin.run(task_vars={})
    assert result["failed"] is True and result["warnings"] == ["read a value of the wrong type"]


# ------------------------------------------------------------------------------------------------
# failure_result and the mapping of exceptions
# ------------------------------------------------------------------------------------------------
def test_failure_result_before_anything_was_applied() -> None:
    ctx = TaskContext(check_mode=False, diff_mode=False)
    assert _action.failure_result("boom", ctx, setting="port") == {
        "failed": True,
        "msg": "boom",
        "changed": False,
        "setting": "port",
        "error": {"hresult": None, "symbol": None, "message": "boom", "cause": None, "fix": None},
    }


def test_failure_result_after_changes_says_what_was_applied() -> None:
    ctx = TaskContext(check_mode=False, diff_mode=False, applied=["server", "restart sppsvc"])
    error = {"hresult": "0xC004F074", "symbol": "S", "message": "m", "cause": "c", "fix": "f", "method": "M"}
    result = _action.failure_result("Setting port failed", ctx, error=error)
    assert result["changed"] is True
    assert result["applied"] == ["server", "restart sppsvc"] and result["applied"] is not ctx.applied
    assert result["msg"] == "Setting port failed (already applied before the failure: server, restart sppsvc)"
    assert result["error"] is error  # an error of its own is kept as it is


def test_unreachable_before_any_change_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin, _seam = probe(monkeypatch, raises(WSManUnreachable("connection refused")))
    result = plugin.run(task_vars={})
    assert result["unreachable"] is True and result["changed"] is False and "failed" not in result
    assert result["msg"] == "connection refused"
    error = assert_error_shape(result)
    assert error["hresult"] is None and error["wsman"] == {
        "type": "WSManUnreachable",
        "message": "connection refused",
        "hresult": None,
    }


def test_unreachable_after_a_change_is_a_failure_with_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin, _seam = probe(monkeypatch, raises(WSManUnreachable("connection reset by peer"), ["server"]))
    result = plugin.run(task_vars={})
    assert result["failed"] is True and "unreachable" not in result
    assert result["changed"] is True and result["applied"] == ["server"]
    assert result["msg"] == "connection reset by peer (already applied before the failure: server)"
    assert assert_error_shape(result)["wsman"]["type"] == "WSManUnreachable"


@pytest.mark.parametrize(
    ("remote_user", "who"), [("ansible", "the account 'ansible'"), (None, "the connection account")]
)
def test_access_denied_names_the_account(monkeypatch: pytest.MonkeyPatch, remote_user: str | None, who: str) -> None:
    denied = WSManAccessDenied("Access is denied.")
    plugin, _seam = probe(monkeypatch, raises(denied), connection=FakeConnection(remote_user))
    result = plugin.run(task_vars={})
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith(f"The host refused {who}: 0x80070005 E_ACCESSDENIED.")
    assert "local Administrators group" in result["msg"]
    error = assert_error_shape(result)
    assert (error["hresult"], error["symbol"]) == ("0x80070005", "E_ACCESSDENIED")
    assert error["wsman"]["type"] == "WSManAccessDenied"


def test_access_denied_without_a_remote_user_option(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoOptions(FakeConnection):
        def get_option(self, name: str) -> t.Any:
            raise KeyError(name)  # connection plugins raise KeyError for options they do not define

    plugin, _seam = probe(monkeypatch, raises(WSManAccessDenied("Access is denied.")), connection=NoOptions())
    assert plugin.run(task_vars={})["msg"].startswith("The host refused the connection account:")


@pytest.mark.parametrize(
    ("exc", "hresult", "symbol"),
    [
        (WSManProtocolError("the response is not XML"), None, None),
        (WSManError("the 'ssh' connection cannot carry WS-Management requests"), None, None),
        (WSManFault("Generic failure", hresult=0xC004F074), "0xC004F074", "SL_E_VL_BINDING_SERVICE_UNAVAILABLE"),
    ],
)
def test_other_wsman_errors_fail_with_their_detail(
    monkeypatch: pytest.MonkeyPatch, exc: WSManError, hresult: str | None, symbol: str | None
) -> None:
    plugin, _seam = probe(monkeypatch, raises(exc, ["low_priority"]))
    result = plugin.run(task_vars={})
    assert result["failed"] is True and result["changed"] is True and result["applied"] == ["low_priority"]
    assert result["msg"] == f"{exc.message} (already applied before the failure: low_priority)"
    error = assert_error_shape(result)
    assert (error["hresult"], error["symbol"]) == (hresult, symbol)
    assert error["wsman"] == exc.to_dict()
    if hresult is None:
        assert error["message"] == exc.message  # nothing to explain: the WS-Man text itself


def test_a_connection_that_cannot_carry_wsman_fails_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real transport seam this time: an ssh connection has no WS-Management to reuse.
    class Ssh(FakeConnection):
        transport = "ssh"

    plugin = build_plugin(Probe, {}, connection=Ssh())
    plugin.engine, plugin.built, plugin.seen = returns({}), [], []
    result = plugin.run(task_vars={})
    assert result["failed"] is True and result["changed"] is False and plugin.seen == []
    assert result["msg"].startswith("the 'ssh' connection cannot carry WS-Management requests")
    assert assert_error_shape(result)["wsman"]["type"] == "WSManError"


def test_a_module_failure_keeps_its_detail(monkeypatch: pytest.MonkeyPatch) -> None:
    failure = ModuleFailure("Setting port failed", setting="port", error={"hresult": None, "message": "x"})
    plugin, _seam = probe(monkeypatch, raises(failure))
    result = plugin.run(task_vars={})
    assert result == {
        "failed": True,
        "changed": False,
        "msg": "Setting port failed",
        "setting": "port",
        "error": {"hresult": None, "message": "x"},
    }


def test_unexpected_exceptions_are_not_turned_into_results(monkeypatch: pytest.MonkeyPatch) -> None:
    # A bug must surface with its traceback (ansible-core reports it), not as a tidy failure.
    plugin, _seam = probe(monkeypatch, raises(KeyError("LicenseStatus")))
    with pytest.raises(KeyError):
        plugin.run(task_vars={})


# ------------------------------------------------------------------------------------------------
# Scrubbing: no secret leaves in clear text
# ------------------------------------------------------------------------------------------------
def test_the_key_is_masked_everywhere_in_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    typed = " " + MAK.lower().replace("-", "\u2013") + " "  # the task's spelling; the engine sees the normalised key

    def engine(wmi: WmiClient, request: dict[str, t.Any], ctx: TaskContext) -> dict[str, t.Any]:
        ctx.warnings.append(f"installed {MAK}")
        return {
            "changed": True,
            MAK: "as a key",
            "nested": {"list": [f"prefix {MAK} suffix", (typed.strip(), 7)], "deeper": [{"value": typed}]},
            "count": 3,
            "none": None,
        }

    plugin, _seam = probe(monkeypatch, engine, {"key": typed})
    result = plugin.run(task_vars={})
    assert result == {
        "changed": True,
        MASKED_MAK: "as a key",
        "nested": {"list": [f"prefix {MASKED_MAK} suffix", [MASKED_MAK, 7]], "deeper": [{"value": MASKED_MAK}]},
        "count": 3,
        "none": None,
        "warnings": [f"installed {MASKED_MAK}"],
    }


def test_failures_are_masked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    failure = ModuleFailure(f"InstallProductKey {MAK} failed", error={"message": MAK, "inner": [MAK]})
    plugin, _seam = probe(monkeypatch, raises(failure, [f"step with {MAK}"]), {"key": MAK})
    result = plugin.run(task_vars={})
    assert MAK not in repr(result)
    assert result["applied"] == [f"step with {MASKED_MAK}"]
    assert result["error"] == {"message": MASKED_MAK, "inner": [MASKED_MAK]}
    plugin, _seam = probe(monkeypatch, raises(WSManUnreachable(f"lost while sending {MAK}")), {"key": MAK})
    assert plugin.run(task_vars={})["msg"] == f"lost while sending {MASKED_MAK}"


def test_secrets_of_the_hook_are_masked_as_well(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin, _seam = probe(monkeypatch, returns({"token": "s3cr3t-token"}), extra_secrets=("s3cr3t-token",))
    assert plugin.run(task_vars={})["token"] == "XXXXX-XXXXX-XXXXX-XXXXX-TOKEN"


def test_the_word_gvlk_is_not_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    # product_key drops `key: gvlk` before validation, so the word never becomes a no_log value.
    seen: list[product_key.Request] = []

    def engine(wmi: WmiClient, request: product_key.Request, ctx: TaskContext) -> dict[str, t.Any]:
        seen.append(request)
        return {"key_source": "catalog", "channel": "Volume:GVLK", "note": "key: gvlk installs the GVLK"}

    monkeypatch.setattr(product_key, "execute", engine)
    for word in ("gvlk", "GVLK", " Gvlk "):
        result, _seam = run_action(monkeypatch, "product_key", {"key": word}, FakeHost())
        assert result == {
            "key_source": "catalog",
            "channel": "Volume:GVLK",
            "note": "key: gvlk installs the GVLK",
            "changed": False,
        }
    assert [request.key for request in seen] == [None, None, None]
    assert FULL_MASK not in repr(seen)
