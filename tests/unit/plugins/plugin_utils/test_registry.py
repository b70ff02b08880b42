# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""StdRegProv access: typed calls, return codes (docs/reference/registry.md#return-values), key creation, errors."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._explain import ERROR_KEYS
from ansible_collections.winact.kms.plugins.plugin_utils._registry import (
    HKEY_LOCAL_MACHINE,
    Registry,
    RegistryError,
    RegistryTypeMismatch,
    RegType,
    meaning,
)
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure
from ansible_collections.winact.kms.tests.unit.plugins.spp_fake import SPP, FakeHost

ACTIVATION = SPP + r"\Activation"


def registry(fake: FakeHost) -> Registry:
    return Registry(t.cast(t.Any, fake))


@pytest.mark.parametrize(
    ("reg_type", "value", "get_method", "param"),
    [
        (RegType.SZ, "1700", "GetStringValue", "sValue"),
        (RegType.EXPAND_SZ, "%SystemRoot%\\x", "GetExpandedStringValue", "sValue"),
        (RegType.DWORD, 60, "GetDWORDValue", "uValue"),
        (RegType.QWORD, 2**40, "GetQWORDValue", "uValue"),
        (RegType.MULTI_SZ, ["east.contoso.com, 10, 75", "west.contoso.com, 90, 75"], "GetMultiStringValue", "sValue"),
    ],
)
def test_round_trip_each_type(reg_type: RegType, value: t.Any, get_method: str, param: str) -> None:
    fake = FakeHost()
    reg = registry(fake)
    reg.set(SPP, "Value", reg_type, value)
    assert fake.reg_value(SPP, "Value") == (reg_type.value, value)
    assert reg.get(SPP, "Value", reg_type) == value
    call = fake.calls[-1]
    assert (call.cls, call.method, call.namespace) == ("StdRegProv", get_method, "root/default")
    assert call.params == {"sSubKeyName": SPP, "sValueName": "Value"}
    set_call = fake.calls[0]
    assert set_call.method == get_method.replace("Get", "Set", 1)
    assert set_call.params[param] == value


def test_hive_is_hklm() -> None:
    fake = FakeHost()
    registry(fake).get(SPP, "Missing", RegType.DWORD)
    assert HKEY_LOCAL_MACHINE == 0x80000002  # the fake asserts hDefKey == 2147483650 on every call
    assert fake.requests == 1


def test_missing_value_and_missing_key_read_as_none() -> None:
    fake = FakeHost()
    reg = registry(fake)
    assert reg.get(SPP, "VLActivationInterval", RegType.DWORD) is None  # ReturnValue 1
    assert reg.get(ACTIVATION, "AlternateURL", RegType.SZ) is None  # ReturnValue 2


def test_type_mismatch_names_value_and_expected_type() -> None:
    fake = FakeHost()
    fake.reg_set(SPP, "VLActivationInterval", "REG_SZ", "60")
    with pytest.raises(RegistryTypeMismatch) as info:
        registry(fake).get(SPP, "VLActivationInterval", RegType.DWORD)
    assert isinstance(info.value, ModuleFailure)
    assert "VLActivationInterval" in info.value.msg
    assert "REG_DWORD" in info.value.msg
    assert "0x80041005" in info.value.msg
    assert info.value.detail["error"]["return_value"] == 0x80041005


def test_set_creates_a_missing_subkey_then_writes() -> None:
    fake = FakeHost()
    registry(fake).set(ACTIVATION, "AlternateURL", RegType.SZ, "https://help.contoso.com")
    assert [c.method for c in fake.calls] == ["SetStringValue", "CreateKey", "SetStringValue"]
    assert fake.reg_value(ACTIVATION, "AlternateURL") == ("REG_SZ", "https://help.contoso.com")


def test_set_in_an_existing_key_is_one_round_trip() -> None:
    fake = FakeHost()
    registry(fake).set(SPP, "SkipRearm", RegType.DWORD, 1)
    assert fake.requests == 1


def test_delete_reports_whether_the_value_existed() -> None:
    fake = FakeHost()
    fake.reg_set(SPP, "SkipRearm", "REG_DWORD", 1)
    reg = registry(fake)
    assert reg.delete(SPP, "SkipRearm") is True
    assert reg.delete(SPP, "SkipRearm") is False  # value missing: 2
    assert reg.delete(ACTIVATION, "Manual") is False  # key missing: 2


@pytest.mark.parametrize(("code", "meaning"), [(5, "access denied"), (6, "bad key"), (1722, "WinError.h")])
def test_unexpected_return_values_carry_code_and_meaning(code: int, meaning: str) -> None:
    fake = FakeHost()
    fake.return_values["SetDWORDValue"] = code
    with pytest.raises(RegistryError) as info:
        registry(fake).set(SPP, "UserOperations", RegType.DWORD, 1)
    assert f"ReturnValue {code}" in info.value.msg
    assert meaning in info.value.msg
    assert "UserOperations" in info.value.msg
    assert info.value.detail["error"]["method"] == "StdRegProv.SetDWORDValue"


def test_registry_errors_have_the_one_error_shape() -> None:
    fake = FakeHost()
    fake.return_values["SetDWORDValue"] = 5
    with pytest.raises(RegistryError) as info:
        registry(fake).set(SPP, "UserOperations", RegType.DWORD, 1)
    error = info.value.detail["error"]
    assert set(ERROR_KEYS) <= set(error)
    # ReturnValue 5 is the Win32 code ERROR_ACCESS_DENIED: shown in hex and explained by the error table.
    assert (error["hresult"], error["symbol"]) == ("0x00000005", "ERROR_ACCESS_DENIED")
    assert error["message"] == meaning(5) and error["fix"]
    assert (error["return_value"], error["key"], error["value_name"]) == (5, f"HKLM\\{SPP}", "UserOperations")
    fake.return_values["SetDWORDValue"] = 9999  # not in the table: no symbol, cause or fix of its own
    with pytest.raises(RegistryError) as info:
        registry(fake).set(SPP, "UserOperations", RegType.DWORD, 1)
    unknown = info.value.detail["error"]
    assert (unknown["hresult"], unknown["symbol"], unknown["cause"]) == ("0x0000270F", None, None)


def test_access_denied_on_read_is_an_error_not_none() -> None:
    fake = FakeHost()
    fake.return_values["GetDWORDValue"] = 5
    with pytest.raises(RegistryError, match="access denied"):
        registry(fake).get(SPP, "UserOperations", RegType.DWORD)


def test_delete_access_denied_is_an_error() -> None:
    fake = FakeHost()
    fake.return_values["DeleteValue"] = 5
    with pytest.raises(RegistryError, match="DeleteValue"):
        registry(fake).delete(SPP, "UserOperations")


def test_enum_values() -> None:
    fake = FakeHost()
    reg = registry(fake)
    assert reg.enum_values(ACTIVATION) is None
    fake.reg_set(ACTIVATION, "Manual", "REG_DWORD", 1)
    fake.reg_set(ACTIVATION, "AlternateURL", "REG_SZ", "http://x")
    assert reg.enum_values(ACTIVATION) == {"Manual": "REG_DWORD", "AlternateURL": "REG_SZ"}
    fake.registry[SPP.lower()] = {}
    assert reg.enum_values(SPP) == {}  # only the default value: null arrays


@pytest.mark.parametrize(
    ("reg_type", "value"),
    [
        (RegType.DWORD, -1),
        (RegType.DWORD, 2**32),
        (RegType.DWORD, True),
        (RegType.SZ, 5),
        (RegType.MULTI_SZ, []),
        (RegType.MULTI_SZ, ["a", ""]),
    ],
)
def test_values_a_type_cannot_hold_are_refused_before_any_call(reg_type: RegType, value: t.Any) -> None:
    fake = FakeHost()
    with pytest.raises(TypeError):
        registry(fake).set(SPP, "X", reg_type, value)
    assert fake.requests == 0
