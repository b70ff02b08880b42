# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed registry access through WMI's StdRegProv, the way slmgr.vbs reaches the registry remotely.

StdRegProv lives in ``root/default`` (and ``root/cimv2``); every method returns a
``ReturnValue`` ("StdRegProv class",
https://learn.microsoft.com/previous-versions/windows/desktop/regprov/stdregprov).
Missing keys and values are normal answers here (None / False), a value of the wrong
type is a clear error naming the value and the type expected, and anything else is a
:class:`RegistryError` carrying the code and its meaning, ready to become a module failure.
"""

from __future__ import annotations

import dataclasses
import enum
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._errors import explain
from ansible_collections.winact.kms.plugins.plugin_utils._explain import error_detail
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, hresult_hex
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient

NAMESPACE = "root/default"
HKEY_LOCAL_MACHINE = 2147483650  # 0x80000002, as the StdRegProv method pages define hDefKey
HIVE_NAMES = {HKEY_LOCAL_MACHINE: "HKLM"}

# StdRegProv ReturnValue codes. Only 0 is documented by Microsoft; the
# others are WinError.h / WBEM codes as observed on real hosts.
SUCCESS = 0
VALUE_MISSING = 1
NOT_FOUND = 2  # ERROR_FILE_NOT_FOUND: key missing (any method) or value missing (DeleteValue)
ACCESS_DENIED = 5
BAD_KEY = 6
TYPE_MISMATCH = 0x80041005  # WBEM_E_TYPE_MISMATCH
INVALID_PARAMETER = 0x80041008  # WBEM_E_INVALID_PARAMETER

RETURN_MEANINGS = {
    SUCCESS: "success",
    VALUE_MISSING: "the value does not exist",
    NOT_FOUND: "the key or value does not exist (ERROR_FILE_NOT_FOUND)",
    ACCESS_DENIED: "access denied (ERROR_ACCESS_DENIED); the account needs administrator rights on the key",
    BAD_KEY: "bad key (ERROR_INVALID_HANDLE); the key path is malformed",
    TYPE_MISMATCH: "the value exists with another type (WBEM_E_TYPE_MISMATCH)",
    INVALID_PARAMETER: "invalid parameter (WBEM_E_INVALID_PARAMETER)",
}


_FIXES = {
    TYPE_MISMATCH: "Delete the value, or rewrite it with the type the setting documents; the task then converges.",
    BAD_KEY: "The key path is malformed; report it as a bug of winact.kms with the task that failed.",
}


@dataclasses.dataclass(frozen=True)
class _TypeInfo:
    code: int  # EnumValues Types code ("EnumValues method of the StdRegProv class")
    suffix: str  # Get<suffix>Value / Set<suffix>Value
    param: str  # the value's parameter name in both methods


class RegType(enum.StrEnum):
    """Registry value types StdRegProv reads and writes for the settings."""

    SZ = "REG_SZ"
    EXPAND_SZ = "REG_EXPAND_SZ"
    DWORD = "REG_DWORD"
    QWORD = "REG_QWORD"
    MULTI_SZ = "REG_MULTI_SZ"

    @property
    def info(self) -> _TypeInfo:
        return _TYPE_INFO[self]

    @property
    def get_method(self) -> str:
        return f"Get{self.info.suffix}Value"

    @property
    def set_method(self) -> str:
        return f"Set{self.info.suffix}Value"


_TYPE_INFO = {
    RegType.SZ: _TypeInfo(1, "String", "sValue"),
    RegType.EXPAND_SZ: _TypeInfo(2, "ExpandedString", "sValue"),
    RegType.DWORD: _TypeInfo(4, "DWORD", "uValue"),
    RegType.QWORD: _TypeInfo(11, "QWORD", "uValue"),
    RegType.MULTI_SZ: _TypeInfo(7, "MultiString", "sValue"),
}
REG_BINARY_CODE = 3
_BY_CODE = {info.code: reg_type for reg_type, info in _TYPE_INFO.items()}


def type_name(code: int) -> str:
    """The REG_* name of an EnumValues ``Types`` code."""
    if code in _BY_CODE:
        return _BY_CODE[code].value
    return "REG_BINARY" if code == REG_BINARY_CODE else f"type {code}"


def meaning(code: int) -> str:
    return RETURN_MEANINGS.get(code, "error code defined in WinError.h / WbemErrorEnum")


def key_path(key: str, hive: int = HKEY_LOCAL_MACHINE) -> str:
    return f"{HIVE_NAMES.get(hive, hex(hive))}\\{key}"


class RegistryError(ModuleFailure):
    """A StdRegProv call returned an unexpected ReturnValue."""

    def __init__(self, method: str, code: int, key: str, name: str | None = None, message: str | None = None) -> None:
        where = key_path(key) + (f" value {name!r}" if name is not None else "")
        text = message or f"Registry {method} on {where} failed with ReturnValue {code} ({meaning(code)})"
        # ReturnValue is a Win32 or WBEM code; the error table explains the ones it knows (e.g. access denied).
        info = explain(code)
        super().__init__(
            text,
            error=error_detail(
                meaning(code),
                hresult=hresult_hex(code),
                symbol=info.symbol if info.known else None,
                cause=info.cause if info.known else None,
                fix=info.fix if info.known else _FIXES.get(code),
                method=f"StdRegProv.{method}",
                return_value=code,
                key=key_path(key),
                value_name=name,
            ),
        )
        self.method = method
        self.code = code
        self.key = key
        self.name = name


class RegistryTypeMismatch(RegistryError):
    """The value exists, but with another type than the one asked for."""

    def __init__(self, method: str, key: str, name: str, expected: RegType) -> None:
        super().__init__(
            method,
            TYPE_MISMATCH,
            key,
            name,
            message=(
                f"Registry value {key_path(key)}\\{name} is not of type {expected.value} "
                f"({method} returned {TYPE_MISMATCH:#x}, WBEM_E_TYPE_MISMATCH); "
                f"delete it or rewrite it as {expected.value}"
            ),
        )
        self.expected = expected


def _check_value(reg_type: RegType, value: t.Any) -> t.Any:
    """Refuse a value the type cannot hold; these are programming errors, not user input."""
    if reg_type in (RegType.SZ, RegType.EXPAND_SZ):
        if not isinstance(value, str):
            raise TypeError(f"{reg_type.value} needs a str, got {type(value).__name__}")
    elif reg_type in (RegType.DWORD, RegType.QWORD):
        limit = 0xFFFFFFFF if reg_type is RegType.DWORD else 0xFFFFFFFFFFFFFFFF
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
            raise TypeError(f"{reg_type.value} needs an int in 0..{limit}, got {value!r}")
    else:
        # REG_MULTI_SZ cannot hold an empty string (it ends the list), nor be empty through StdRegProv.
        if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) and v for v in value):
            raise TypeError(f"{reg_type.value} needs a non-empty list of non-empty str, got {value!r}")
        value = list(value)
    return value


class Registry:
    """HKLM access over one WMI client; each call is one WS-Man round trip (CreateKey adds one)."""

    def __init__(self, wmi: WmiClient, hive: int = HKEY_LOCAL_MACHINE) -> None:
        self.wmi = wmi
        self.hive = hive

    def _call(self, method: str, params: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        return self.wmi.invoke("StdRegProv", method, {"hDefKey": self.hive, **params}, namespace=NAMESPACE)

    @staticmethod
    def _code(out: t.Mapping[str, t.Any]) -> int:
        code = out.get("ReturnValue")
        return int(code) if code is not None else SUCCESS

    def get(self, key: str, name: str, reg_type: RegType) -> t.Any:
        """The value, or None when the key or value does not exist."""
        method = reg_type.get_method
        out = self._call(method, {"sSubKeyName": key, "sValueName": name})
        code = self._code(out)
        if code == SUCCESS:
            value = out.get(reg_type.info.param)
            if reg_type is RegType.MULTI_SZ:
                return list(value or [])
            return value
        if code in (VALUE_MISSING, NOT_FOUND):
            return None
        if code == TYPE_MISMATCH:
            raise RegistryTypeMismatch(method, key, name, reg_type)
        raise RegistryError(method, code, key, name)

    def set(self, key: str, name: str, reg_type: RegType, value: t.Any) -> None:
        """Write a value; the key is created when missing (Set*Value does not create keys)."""
        value = _check_value(reg_type, value)
        method = reg_type.set_method
        params = {"sSubKeyName": key, "sValueName": name, reg_type.info.param: value}
        code = self._code(self._call(method, params))
        if code == NOT_FOUND:
            self.create_key(key)
            code = self._code(self._call(method, params))
        if code != SUCCESS:
            raise RegistryError(method, code, key, name)

    def delete(self, key: str, name: str) -> bool:
        """Delete a value; True when it existed, False when the key or value was already absent."""
        code = self._code(self._call("DeleteValue", {"sSubKeyName": key, "sValueName": name}))
        if code == SUCCESS:
            return True
        if code in (NOT_FOUND, VALUE_MISSING):
            return False
        raise RegistryError("DeleteValue", code, key, name)

    def create_key(self, key: str) -> None:
        """Create a key and any missing parents (opening an existing key is not an error)."""
        code = self._code(self._call("CreateKey", {"sSubKeyName": key}))
        if code != SUCCESS:
            raise RegistryError("CreateKey", code, key)

    def enum_values(self, key: str) -> dict[str, str] | None:
        """Value names and their REG_* type names; None when the key does not exist.

        StdRegProv returns null arrays when the key holds only its default value (EnumValues method page).
        """
        out = self._call("EnumValues", {"sSubKeyName": key})
        code = self._code(out)
        if code == NOT_FOUND:
            return None
        if code != SUCCESS:
            raise RegistryError("EnumValues", code, key)
        names = out.get("sNames") or []
        types = out.get("Types") or []
        return {name: type_name(int(code)) for name, code in zip(names, types, strict=False)}
