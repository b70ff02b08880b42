# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.product_key against the fake host: the _product_key engine (plan, install, idempotence, KMS host
keys, secrets), then the plugin's run()."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _product_key as pk
from ansible_collections.winact.kms.plugins.plugin_utils._explain import ERROR_KEYS
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._spp import SPP_KEY, SPP_KEY_32
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.tests.unit.plugins.action_harness import build_action, run_action
from ansible_collections.winact.kms.tests.unit.plugins.spp_fake import (
    SERVER_2022_DC_GVLK,
    SERVER_2022_DC_ID,
    FakeHost,
    KeySpec,
)

# Fabricated keys (valid alphabet, never real keys).
MAK = "QGT6C-D2FR3-CYJCD-VVDKD-2VC3F"
CSVLK = "K663C-33TCK-C2GPV-G2F3P-27HF3"
WIN11_PRO_GVLK = "W269N-WFGWX-YVC9B-4J6C9-T83GX"
MAK_ID = "11111111-2222-3333-4444-555555555555"
CSVLK_ID = "66666666-7777-8888-9999-000000000000"
KMS_CLIENT = "Windows(R) Operating System, VOLUME_KMSCLIENT channel"
KMS_HOST = "Windows(R) Operating System, VOLUME_KMS_2022 channel"
DIGITAL_PRODUCT_ID_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"


def server_2022(partial: str | None = None, description: str = KMS_CLIENT) -> FakeHost:
    host = FakeHost()
    host.add_product(SERVER_2022_DC_ID, PartialProductKey=partial, Description=description)
    host.add_product(MAK_ID, Description="Windows(R) Operating System, VOLUME_MAK channel")
    host.add_product(CSVLK_ID, Description=KMS_HOST)
    host.keys[SERVER_2022_DC_GVLK] = KeySpec(SERVER_2022_DC_ID, KMS_CLIENT, "Volume:GVLK")
    host.keys[MAK] = KeySpec(MAK_ID, "Windows(R) Operating System, VOLUME_MAK channel", "Volume:MAK")
    host.keys[CSVLK] = KeySpec(CSVLK_ID, KMS_HOST, "Volume:CSVLK", license_status=1)
    host.install_error[WIN11_PRO_GVLK] = 0xC004F069
    return host  # the fake holds the SPP key (not its 32-bit view) from the start


def run(
    host: FakeHost, check: bool = False, diff: bool = False, **params: t.Any
) -> tuple[dict[str, t.Any], TaskContext]:
    ctx = TaskContext(check_mode=check, diff_mode=diff, task_vars={})
    request = pk.build_request(params)
    return pk.ProductKey(t.cast(t.Any, host), request, ctx).run(), ctx


def installed_keys(host: FakeHost) -> list[str]:
    return [c.params["ProductKey"] for c in host.invoked("InstallProductKey")]


# -- validation ---------------------------------------------------------------------------------


def test_catalog_is_the_default_and_the_word_gvlk() -> None:
    assert pk.build_request({}).key is None
    assert pk.build_request({"key": "GVLK"}).key is None


def test_a_key_with_state_absent_is_refused_without_showing_it() -> None:
    with pytest.raises(ValidationError, match="^key: cannot be used with state=absent") as info:
        pk.build_request({"state": "absent", "key": MAK})
    assert MAK not in str(info.value)


def test_explicit_key_is_normalised() -> None:
    assert pk.build_request({"key": MAK.lower().replace("-", "\u2013")}).key == MAK


@pytest.mark.parametrize("bad", [MAK[:-1], MAK.replace("Q", "A"), MAK + "-XXXXX"])
def test_bad_key_is_refused_without_showing_it(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        pk.build_request({"key": bad})
    assert info.value.option == "key"
    assert bad not in str(info.value)
    assert bad[:10] not in str(info.value)


def test_bad_activation_id() -> None:
    with pytest.raises(ValidationError, match="activation_id"):
        pk.build_request({"activation_id": "not-a-guid"})


# -- install ------------------------------------------------------------------------------------


def test_installs_the_catalog_gvlk_of_the_detected_edition() -> None:
    host = server_2022()
    result, ctx = run(host)
    assert installed_keys(host) == [SERVER_2022_DC_GVLK]
    assert [c.method for c in host.calls if c.kind == "invoke" and c.cls == "SoftwareLicensingService"] == [
        "InstallProductKey",
        "RefreshLicenseStatus",
    ]
    assert result["changed"] is True
    assert result["key_source"] == "catalog"
    assert result["edition"]["edition"] == "Windows Server 2022 Datacenter"
    assert result["previous_partial_product_key"] is None
    assert result["partial_product_key"] == "6VM33"
    assert result["product"]["product_key_channel"] == "Volume:GVLK"
    assert result["kms_host_key"] is False
    assert (result["restart_required"], result["restarted"]) == (False, False)
    # No KMS host key: KeyManagementServiceVersion deleted at both paths (absent here: nothing to do).
    assert [c.params["sSubKeyName"] for c in host.invoked("DeleteValue")] == [SPP_KEY, SPP_KEY_32]
    assert ctx.applied and "6VM33" in ctx.applied[0] and SERVER_2022_DC_GVLK not in " ".join(ctx.applied)


def test_second_run_changes_nothing() -> None:
    host = server_2022(partial="6VM33")
    result, _ctx = run(host)
    assert result["changed"] is False
    assert host.writes() == []
    assert result["previous_partial_product_key"] == result["partial_product_key"] == "6VM33"


def test_check_mode_plans_without_writing() -> None:
    host = server_2022(partial="2VC3F", description="Windows(R) Operating System, VOLUME_MAK channel")
    result, _ctx = run(host, check=True, diff=True)
    assert result["changed"] is True
    assert host.writes() == []
    assert result["diff"] == {
        "before": {"product_key": "XXXXX-XXXXX-XXXXX-XXXXX-2VC3F"},
        "after": {"product_key": "XXXXX-XXXXX-XXXXX-XXXXX-6VM33"},
    }


def test_check_mode_cannot_tell_whether_an_explicit_key_needs_a_restart() -> None:
    host = server_2022(partial="6VM33")
    result, ctx = run(host, key=CSVLK, check=True)
    assert result["changed"] is True and host.writes() == []
    assert result["restart_required"] is None
    assert any("cannot tell whether this key is a KMS host key" in w for w in ctx.warnings)


def test_check_mode_knows_a_gvlk_needs_no_restart() -> None:
    host = server_2022(partial="2VC3F", description="Windows(R) Operating System, VOLUME_MAK channel")
    result, ctx = run(host, check=True)
    assert result["restart_required"] is False and not ctx.warnings


def test_explicit_mak_replaces_the_gvlk() -> None:
    host = server_2022(partial="6VM33")
    result, _ctx = run(host, key=MAK)
    assert installed_keys(host) == [MAK]
    assert result["previous_partial_product_key"] == "6VM33"
    assert result["partial_product_key"] == "2VC3F"
    assert result["key_source"] == "explicit"
    assert "edition" not in result
    assert MAK not in repr(result)


def test_kms_host_key_sets_the_version_value_and_restarts_sppsvc() -> None:
    host = server_2022(partial="6VM33")
    host.registry[SPP_KEY_32.lower()] = {}
    result, ctx = run(host, key=CSVLK)
    assert result["kms_host_key"] is True
    assert result["restart_required"] is True and result["restarted"] is True
    version = host.service["Version"]
    assert host.reg_value(SPP_KEY, pk.KMS_VERSION_VALUE) == ("REG_SZ", version)
    assert host.reg_value(SPP_KEY_32, pk.KMS_VERSION_VALUE) == ("REG_SZ", version)
    assert host.writes()[-2:] == ["Win32_Service.StopService", "Win32_Service.StartService"]
    assert ctx.applied[-1] == "restart sppsvc"


def test_kms_host_key_skips_the_32_bit_path_when_it_does_not_exist() -> None:
    host = server_2022()
    run(host, key=CSVLK, restart_service="never")
    assert host.reg_value(SPP_KEY, pk.KMS_VERSION_VALUE) is not None
    assert SPP_KEY_32.lower() not in host.registry


def test_restart_never_warns() -> None:
    host = server_2022()
    result, ctx = run(host, key=CSVLK, restart_service="never")
    assert result["restart_required"] is True and result["restarted"] is False
    assert any("restart sppsvc" in w for w in ctx.warnings)
    assert "Win32_Service.StopService" not in host.writes()


def test_replacing_a_kms_host_key_by_the_gvlk_deletes_the_version_value() -> None:
    host = server_2022(partial="27HF3", description=KMS_HOST)
    host.reg_set(SPP_KEY, pk.KMS_VERSION_VALUE, "REG_SZ", "10.0.20348.1")
    host.products[CSVLK_ID]["PartialProductKey"] = "27HF3"
    host.products[SERVER_2022_DC_ID]["PartialProductKey"] = None
    result, _ctx = run(host, protected_key="replace")
    assert host.reg_value(SPP_KEY, pk.KMS_VERSION_VALUE) is None
    assert result["kms_host_key"] is False
    assert result["restart_required"] is True  # the KMS host went away


def test_restart_always_after_any_change_and_never_without_one() -> None:
    host = server_2022()
    result, _ctx = run(host, restart_service="always")
    assert result["restarted"] is True
    result, _ctx = run(host, restart_service="always")
    assert result["changed"] is False and result["restarted"] is False


def test_wrong_edition_key_fails_with_the_sl_error_explained() -> None:
    host = server_2022(partial="6VM33")
    with pytest.raises(ModuleFailure) as info:
        run(host, key=WIN11_PRO_GVLK)
    failure = info.value
    assert "0xC004F069 SL_E_MISMATCHED_PRODUCT_SKU" in failure.msg
    assert "XXXXX-XXXXX-XXXXX-XXXXX-T83GX" in failure.msg
    assert WIN11_PRO_GVLK not in failure.msg + repr(failure.detail)
    assert failure.detail["error"]["symbol"] == "SL_E_MISMATCHED_PRODUCT_SKU"
    assert failure.detail["error"]["fix"]
    assert host.writes() == ["SoftwareLicensingService.InstallProductKey"]


def test_unknown_key_is_invalid() -> None:
    host = server_2022()
    with pytest.raises(ModuleFailure, match="0xC004F050 SL_E_INVALID_PRODUCT_KEY"):
        run(host, key="BCDFG-HJKMN-PQRTV-WXY23-46789")


def test_edition_without_gvlk_names_what_was_detected() -> None:
    host = server_2022()
    host.os.update(OperatingSystemSKU=101, ProductType=1, BuildNumber="22631")  # Windows 11 Home
    with pytest.raises(ModuleFailure) as info:
        run(host)
    assert "101" in info.value.msg and "22631" in info.value.msg
    assert "key:" in info.value.msg
    assert host.writes() == []


def test_key_landing_on_another_product_is_reported() -> None:
    host = server_2022()
    with pytest.raises(ModuleFailure, match="belongs to another product"):
        run(host, key=MAK, activation_id=SERVER_2022_DC_ID)


def test_unknown_activation_id() -> None:
    with pytest.raises(ModuleFailure, match="No product with Activation ID"):
        run(server_2022(), activation_id="00000000-0000-0000-0000-000000000001")


def test_access_denied_is_explained() -> None:
    host = server_2022()
    host.access_denied = True
    ctx = TaskContext(check_mode=False, diff_mode=False, task_vars={})
    with pytest.raises(ModuleFailure) as info:
        pk.execute(t.cast(t.Any, host), pk.build_request({}), ctx)
    assert info.value.msg.startswith("Reading the licensing state failed with 0x80070005")
    assert info.value.detail["error"]["hresult"] == "0x80070005"


# -- absent and registry ------------------------------------------------------------------------


def test_absent_uninstalls_then_is_idempotent() -> None:
    host = server_2022(partial="6VM33")
    result, _ctx = run(host, state="absent")
    assert result["changed"] is True
    assert [c.selectors for c in host.invoked("UninstallProductKey")] == [{"ID": SERVER_2022_DC_ID}]
    assert result["partial_product_key"] is None and result["previous_partial_product_key"] == "6VM33"
    again, _ctx = run(host, state="absent")
    assert again["changed"] is False


def test_clear_registry_only_while_the_key_is_there() -> None:
    host = server_2022(partial="6VM33")
    data = [0] * 52 + list(range(1, 16)) + [0] * 97
    host.reg_set(DIGITAL_PRODUCT_ID_KEY, "DigitalProductId", "REG_BINARY", data)
    result, _ctx = run(host, diff=True, clear_registry=True)
    assert result["changed"] is True and result["registry_cleared"] is True
    assert result["diff"]["before"] == {"product_key": "XXXXX-XXXXX-XXXXX-XXXXX-6VM33", "key_in_registry": True}
    assert result["diff"]["after"] == {"product_key": "XXXXX-XXXXX-XXXXX-XXXXX-6VM33", "key_in_registry": False}
    assert len(host.invoked("ClearProductKeyFromRegistry")) == 1
    again, _ctx = run(host, clear_registry=True)
    assert again["changed"] is False and again["registry_cleared"] is False
    assert len(host.invoked("ClearProductKeyFromRegistry")) == 1


@pytest.mark.parametrize(
    ("data", "cleared"),
    [(None, True), ([1] * 20, True), ([0] * 164, True), ([0] * 52 + [7] + [0] * 111, False)],
)
def test_key_bytes_cleared(data: t.Any, cleared: bool) -> None:
    assert pk.key_bytes_cleared(data) is cleared


def test_partial_keys_are_shown_the_way_people_recognise_them() -> None:
    assert pk.is_catalog_word(" GVLK ") and not pk.is_catalog_word(MAK) and not pk.is_catalog_word(None)
    assert pk.partial(MAK.lower()) == "2VC3F" and pk.partial(None) is None
    assert pk.shown("2VC3F") == "XXXXX-XXXXX-XXXXX-XXXXX-2VC3F" and pk.shown(None) is None
    assert pk.diff(None, "2VC3F", clear=False) == {
        "before": {"product_key": None},
        "after": {"product_key": "XXXXX-XXXXX-XXXXX-XXXXX-2VC3F"},
    }


def test_wants_restart() -> None:
    assert pk.wants_restart("auto", True, True) is True
    assert pk.wants_restart("auto", True, False) is False
    assert pk.wants_restart("always", True, False) is True
    assert pk.wants_restart("always", False, False) is False
    assert pk.wants_restart("never", True, True) is False


def test_clear_registry_after_an_install() -> None:
    host = server_2022()
    host.key_bytes_on_install = [0] * 52 + list(range(1, 16)) + [0] * 97  # SPP writes the key to DigitalProductId
    result, _ctx = run(host, key=MAK, clear_registry=True)
    assert result["registry_cleared"] is True
    assert [c.method for c in host.calls if c.cls == "SoftwareLicensingService" and c.kind == "invoke"] == [
        "InstallProductKey",
        "RefreshLicenseStatus",
        "ClearProductKeyFromRegistry",
    ]
    checked, _ctx = run(server_2022(), check=True, key=MAK, clear_registry=True)
    assert checked["registry_cleared"] is True


def test_secrets_cover_every_form_of_the_key() -> None:
    action = build_action("product_key", {})
    typed = " " + MAK.lower().replace("-", "\u2013") + " "
    assert set(action.winact_secrets({"key": typed})) >= {typed, typed.strip(), MAK}
    assert action.winact_secrets({}) == []
    assert set(pk.secrets(typed)) >= {typed, typed.strip(), MAK} and pk.secrets(None) == []


def test_the_key_option_is_no_log() -> None:
    from ansible_collections.winact.kms.plugins.plugin_utils._action import argument_spec_for

    action = build_action("product_key", {})
    assert action.winact_argument_spec()["key"]["no_log"] is True
    assert "no_log" not in argument_spec_for("product_key")["key"], "the shared cached spec stays untouched"


# -- the action plugin: ActionModule.run() through the base class ---------------------------------


def test_run_in_check_mode_plans_and_diffs_masked_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    host = server_2022(partial="2VC3F", description="Windows(R) Operating System, VOLUME_MAK channel")
    result, seam = run_action(monkeypatch, "product_key", {}, host, check=True, diff=True)
    assert len(seam.opened) == 1
    assert result["changed"] is True and host.writes() == []
    assert result["diff"]["after"] == {"product_key": "XXXXX-XXXXX-XXXXX-XXXXX-6VM33"}
    assert SERVER_2022_DC_GVLK not in repr(result)


def test_run_failure_never_shows_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    host = server_2022(partial="6VM33")
    typed = WIN11_PRO_GVLK.lower()  # the base masks the task's own spelling and the normalised key
    result, _seam = run_action(monkeypatch, "product_key", {"key": typed}, host)
    assert result["failed"] is True and result["changed"] is False
    assert "0xC004F069 SL_E_MISMATCHED_PRODUCT_SKU" in result["msg"]
    assert "XXXXX-XXXXX-XXXXX-XXXXX-T83GX" in result["msg"]
    assert set(ERROR_KEYS) <= set(result["error"]) and result["error"]["hresult"] == "0xC004F069"
    assert result["error"]["method"] == "SoftwareLicensingService.InstallProductKey"
    assert WIN11_PRO_GVLK not in repr(result) and typed not in repr(result)
    assert host.invoked("InstallProductKey")[0].params == {"ProductKey": WIN11_PRO_GVLK}


def test_run_key_gvlk_is_the_catalog_and_the_word_is_not_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    host = server_2022()
    result, _seam = run_action(monkeypatch, "product_key", {"key": "GVLK"}, host)
    assert result["changed"] is True and result["key_source"] == "catalog"
    assert [c.params["ProductKey"] for c in host.invoked("InstallProductKey")] == [SERVER_2022_DC_GVLK]
    # Were 'GVLK' a no_log value, every 'GVLK' of the result would read XXXXX-XXXXX-XXXXX-XXXXX-XXXXX.
    assert result["product"]["product_key_channel"] == "Volume:GVLK"


def test_run_access_denied_is_a_failure_with_the_hresult(monkeypatch: pytest.MonkeyPatch) -> None:
    host = server_2022()
    host.access_denied = True
    result, _seam = run_action(monkeypatch, "product_key", {}, host)
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("Reading the licensing state failed with 0x80070005")
    assert result["error"]["hresult"] == "0x80070005" and result["error"]["wsman"]["hresult"] == "0x80070005"


def test_run_refuses_a_bad_key_before_any_io(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = MAK.replace("Q", "A")
    result, _seam = run_action(monkeypatch, "product_key", {"key": bad}, None)
    assert result["failed"] is True and result["changed"] is False and result["option"] == "key"
    assert set(ERROR_KEYS) <= set(result["error"])
    assert bad not in repr(result) and bad[:10] not in repr(result)


# -- what is activated is protected ---------------------------------------------------------------


def kms_host_2022() -> FakeHost:
    host = server_2022(description=KMS_HOST)
    host.products[CSVLK_ID].update(PartialProductKey="27HF3", ProductKeyChannel="Volume:CSVLK", LicenseStatus=1)
    return host


def mak_activated() -> FakeHost:
    host = server_2022()
    host.products[MAK_ID].update(PartialProductKey="2VC3F", ProductKeyChannel="Volume:MAK", LicenseStatus=1)
    return host


@pytest.mark.parametrize("check", [False, True])
@pytest.mark.parametrize("params", [{}, {"key": "gvlk"}, {"key": MAK}])
def test_a_kms_host_key_is_never_replaced_without_protected_key_replace(check: bool, params: dict[str, t.Any]) -> None:
    host = kms_host_2022()
    with pytest.raises(ModuleFailure) as info:
        run(host, check=check, **params)
    message = info.value.msg
    assert "KMS host key (CSVLK) ending in 27HF3" in message and "protected_key: replace" in message
    assert info.value.detail["option"] == "protected_key"
    assert MAK not in message and CSVLK not in message
    assert host.invoked("InstallProductKey") == [] and host.writes() == []


@pytest.mark.parametrize("check", [False, True])
def test_an_activated_mak_is_kept_by_the_default_and_the_failure_says_how_to_convert(check: bool) -> None:
    host = mak_activated()
    with pytest.raises(ModuleFailure) as info:
        run(host, check=check)
    assert "activated with a Volume:MAK key ending in 2VC3F" in info.value.msg
    assert "protected_key" in info.value.msg and "key: gvlk" in info.value.msg
    assert host.writes() == []


def test_explicit_gvlk_converts_an_activated_mak_and_check_mode_says_the_same() -> None:
    host = mak_activated()
    planned, _ctx = run(host, check=True, diff=True, key="gvlk")
    assert planned["changed"] is True and planned["kept"] is None
    assert planned["diff"]["after"] == {"product_key": "XXXXX-XXXXX-XXXXX-XXXXX-" + SERVER_2022_DC_GVLK[-5:]}
    assert host.writes() == []
    done, _ctx = run(host, key="gvlk")
    assert done["changed"] is True and installed_keys(host) == [SERVER_2022_DC_GVLK]


def test_protected_key_keep_reports_why_and_changes_nothing() -> None:
    host = kms_host_2022()
    result, ctx = run(host, protected_key="keep")
    assert result["changed"] is False and "CSVLK" in result["kept"] and "27HF3" in result["kept"]
    assert result["partial_product_key"] == "27HF3"
    assert any("kept" in warning for warning in ctx.warnings)
    assert host.writes() == []


def test_an_install_whose_answer_is_lost_is_reported_as_maybe_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    # The host ran InstallProductKey; the answer never came: a change that may have happened, not unreachable.
    from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManUnreachable

    host = server_2022()
    original = host.invoke

    def invoke(cls: str, method: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        out = original(cls, method, *args, **kwargs)
        if method == "InstallProductKey":
            lost = WSManUnreachable("the connection was reset or dropped before the answer arrived")
            lost.in_flight = f"{cls}.{method}"  # what WmiClient.invoke records for a call that reached the host
            raise lost
        return out

    host.invoke = invoke  # type: ignore[method-assign,assignment]
    result, _seam = run_action(monkeypatch, "product_key", {"key": MAK}, host)
    assert result["failed"] is True and "unreachable" not in result
    assert result["changed"] is True
    assert result["may_have_applied"] == ["SoftwareLicensingService.InstallProductKey"]
    assert MAK not in str(result)
