"""An emulated Windows registry with the semantics of the StdRegProv WMI class, and its methods.

Constants follow the StdRegProv documentation; the ReturnValue codes it leaves open follow community
observations (the error map of SAGSA/SystemInfo ``Function/Registry.ps1``) and what slmgr.vbs tolerates.

Key and value names are case-insensitive and case-preserving, as on Windows. Every change goes
through :meth:`Registry.set_value` / :meth:`delete_value` / :meth:`create_key` / :meth:`delete_key`,
which report it to an ``on_change`` callback (the machine's ``writes`` counter).
"""

from __future__ import annotations

import dataclasses
import enum
import typing as t

from .cim import CallContext, CimValue, InvalidParameter


class RegType(enum.IntEnum):
    """EnumValues ``Types`` codes (StdRegProv documentation)."""

    SZ = 1
    EXPAND_SZ = 2
    BINARY = 3
    DWORD = 4
    MULTI_SZ = 7
    QWORD = 11


class Hive(enum.IntEnum):
    """hDefKey constants (StdRegProv documentation)."""

    HKEY_CLASSES_ROOT = 0x80000000
    HKEY_CURRENT_USER = 0x80000001
    HKEY_LOCAL_MACHINE = 0x80000002
    HKEY_USERS = 0x80000003
    HKEY_CURRENT_CONFIG = 0x80000005
    HKEY_DYN_DATA = 0x80000006


HKLM = Hive.HKEY_LOCAL_MACHINE

# StdRegProv ReturnValue codes (community observations, see the module docstring, and inferred rules).
RC_OK = 0
RC_VALUE_NOT_FOUND = 1
RC_KEY_NOT_FOUND = 2
RC_ACCESS_DENIED = 5
RC_BAD_KEY = 6
RC_TYPE_MISMATCH = 0x80041005  # 2147749893 WBEM_E_TYPE_MISMATCH

# CheckAccess uRequired flags that need write access (documented: 1 query, 2 set, 4 create, 8 enumerate).
KEY_SET_VALUE = 2
KEY_CREATE_SUB_KEY = 4

RegData = str | int | bytes | list[str]


@dataclasses.dataclass
class RegValue:
    name: str
    type: RegType
    data: RegData


class RegKey:
    __slots__ = ("name", "subkeys", "values")

    def __init__(self, name: str) -> None:
        self.name = name
        self.subkeys: dict[str, RegKey] = {}
        self.values: dict[str, RegValue] = {}


def _python_type_ok(reg_type: RegType, data: object) -> bool:
    if reg_type in (RegType.SZ, RegType.EXPAND_SZ):
        return isinstance(data, str)
    if reg_type == RegType.DWORD:
        return isinstance(data, int) and not isinstance(data, bool) and 0 <= data <= 0xFFFFFFFF
    if reg_type == RegType.QWORD:
        return isinstance(data, int) and not isinstance(data, bool) and 0 <= data <= 0xFFFFFFFFFFFFFFFF
    if reg_type == RegType.BINARY:
        return isinstance(data, bytes)
    return isinstance(data, list) and all(isinstance(item, str) for item in data)


def split_path(path: str) -> list[str] | None:
    """``a\\b\\c`` -> parts; None for a malformed path (an empty component in the middle)."""
    # Assumption: leading/trailing backslashes are tolerated and a doubled backslash is malformed
    # (ReturnValue 6, "malformed key string" in the community error map).
    stripped = path.strip("\\")
    if not stripped:
        return []
    parts = stripped.split("\\")
    return None if any(not part for part in parts) else parts


class Registry:
    """The hives of one machine."""

    def __init__(self, on_change: t.Callable[[], None] | None = None) -> None:
        self._hives: dict[int, RegKey] = {int(hive): RegKey(hive.name) for hive in Hive}
        self._on_change = on_change

    # --- internal helpers -----------------------------------------------------------------------

    def _changed(self, count: bool) -> None:
        if count and self._on_change is not None:
            self._on_change()

    def _find(self, hive: int, path: str) -> tuple[int, RegKey | None]:
        root = self._hives.get(hive)
        parts = split_path(path)
        if root is None or parts is None:
            return RC_BAD_KEY, None
        node = root
        for part in parts:
            child = node.subkeys.get(part.lower())
            if child is None:
                return RC_KEY_NOT_FOUND, None
            node = child
        return RC_OK, node

    def key(self, hive: int, path: str) -> RegKey | None:
        return self._find(hive, path)[1]

    # --- reads ----------------------------------------------------------------------------------

    def get_value(self, hive: int, path: str, name: str, reg_type: RegType) -> tuple[int, RegData | None]:
        """Get*Value: missing key 2, missing value 1, other type 0x80041005 (community error map)."""
        rc, node = self._find(hive, path)
        if node is None:
            return rc, None
        value = node.values.get(name.lower())
        if value is None:
            return RC_VALUE_NOT_FOUND, None
        if value.type != reg_type:
            # Assumption: GetStringValue does not read REG_EXPAND_SZ (and vice versa); only an exact
            # type match succeeds.
            return RC_TYPE_MISMATCH, None
        data = value.data
        return RC_OK, list(data) if isinstance(data, list) else data

    def read(self, hive: int, path: str, name: str) -> RegValue | None:
        """Typed read for the emulator's own use (no return codes)."""
        node = self.key(hive, path)
        return None if node is None else node.values.get(name.lower())

    def read_str(self, path: str, name: str) -> str | None:
        value = self.read(HKLM, path, name)
        return value.data if value is not None and isinstance(value.data, str) else None

    def read_dword(self, path: str, name: str) -> int | None:
        value = self.read(HKLM, path, name)
        if value is None or value.type not in (RegType.DWORD, RegType.QWORD) or not isinstance(value.data, int):
            return None
        return value.data

    def read_multi(self, path: str, name: str) -> list[str] | None:
        value = self.read(HKLM, path, name)
        return list(value.data) if value is not None and isinstance(value.data, list) else None

    def enum_key(self, hive: int, path: str) -> tuple[int, list[str] | None]:
        rc, node = self._find(hive, path)
        if node is None:
            return rc, None
        # Assumption: like EnumValues, an empty result is null rather than an empty array.
        names = [child.name for child in node.subkeys.values()]
        return RC_OK, names or None

    def enum_values(self, hive: int, path: str) -> tuple[int, list[str] | None, list[int] | None]:
        rc, node = self._find(hive, path)
        if node is None:
            return rc, None, None
        named = [value for value in node.values.values() if value.name]
        # Documented: null arrays (not empty ones) when the key holds only the default value.
        if not named:
            return RC_OK, None, None
        return RC_OK, [value.name for value in named], [int(value.type) for value in named]

    def check_access(self, hive: int, path: str, required: int, is_admin: bool) -> tuple[int, bool]:
        rc, node = self._find(hive, path)
        if node is None:
            # Documented: bGranted false when the key does not exist; slmgr.vbs reads ReturnValue 2 as "absent".
            return rc, False
        writes = KEY_SET_VALUE | KEY_CREATE_SUB_KEY
        # Assumption: HKLM grants read to every user and write only to administrators.
        return RC_OK, bool(is_admin or not (required & writes))

    # --- writes ---------------------------------------------------------------------------------

    def set_value(
        self, hive: int, path: str, name: str, reg_type: RegType, data: RegData, *, count: bool = True
    ) -> int:
        """Set*Value: missing key 2 (Set does not create keys; inferred)."""
        if not _python_type_ok(reg_type, data):
            raise TypeError(f"{reg_type.name} cannot hold {type(data).__name__}")
        rc, node = self._find(hive, path)
        if node is None:
            return rc
        stored: RegData = list(data) if isinstance(data, list) else data
        existing = node.values.get(name.lower())
        display_name = existing.name if existing is not None else name
        node.values[name.lower()] = RegValue(display_name, reg_type, stored)
        # Windows writes even when the data is unchanged, so every Set counts.
        self._changed(count)
        return RC_OK

    def delete_value(self, hive: int, path: str, name: str, *, count: bool = True) -> int:
        """DeleteValue: missing key 2, missing value 2 (inferred from the codes slmgr.vbs tolerates)."""
        rc, node = self._find(hive, path)
        if node is None:
            return rc
        if node.values.pop(name.lower(), None) is None:
            return RC_KEY_NOT_FOUND
        self._changed(count)
        return RC_OK

    def create_key(self, hive: int, path: str, *, count: bool = True) -> int:
        """CreateKey: creates every missing component, like RegCreateKeyEx; an existing key is no change."""
        root = self._hives.get(hive)
        parts = split_path(path)
        if root is None or parts is None:
            return RC_BAD_KEY
        node = root
        for part in parts:
            child = node.subkeys.get(part.lower())
            if child is None:
                child = RegKey(part)
                node.subkeys[part.lower()] = child
                self._changed(count)
            node = child
        return RC_OK

    def delete_key(self, hive: int, path: str, *, count: bool = True) -> int:
        parts = split_path(path)
        if not parts:
            # Assumption: deleting a hive root (or a malformed path) is refused as a malformed key.
            return RC_BAD_KEY
        rc, parent = self._find(hive, "\\".join(parts[:-1]))
        if parent is None:
            return rc
        child = parent.subkeys.get(parts[-1].lower())
        if child is None:
            return RC_KEY_NOT_FOUND
        if child.subkeys:
            # Assumption: like RegDeleteKey, a key that still has subkeys cannot be deleted
            # (ERROR_ACCESS_DENIED).
            return RC_ACCESS_DENIED
        del parent.subkeys[parts[-1].lower()]
        self._changed(count)
        return RC_OK

    # --- dumps ----------------------------------------------------------------------------------

    def dump(self, hive: int, path: str) -> dict[str, t.Any] | None:
        """JSON-able tree: {"values": {name: {"type": "REG_SZ", "data": ...}}, "subkeys": {...}}."""
        node = self.key(hive, path)
        return None if node is None else _dump_key(node)


def _dump_key(node: RegKey) -> dict[str, t.Any]:
    values: dict[str, t.Any] = {}
    for value in node.values.values():
        data: t.Any = value.data.hex() if isinstance(value.data, bytes) else value.data
        values[value.name] = {"type": f"REG_{value.type.name}", "data": data}
    return {"values": values, "subkeys": {child.name: _dump_key(child) for child in node.subkeys.values()}}


# --- StdRegProv methods -------------------------------------------------------------------------------

_REG_KINDS: dict[str, tuple[RegType, str]] = {
    "DWORD": (RegType.DWORD, "uValue"),
    "QWORD": (RegType.QWORD, "uValue"),
    "String": (RegType.SZ, "sValue"),
    "MultiString": (RegType.MULTI_SZ, "sValue"),
    "ExpandedString": (RegType.EXPAND_SZ, "sValue"),
    "Binary": (RegType.BINARY, "uValue"),
}


def invoke_std_reg_prov(
    reg: Registry, method: str, params: t.Mapping[str, CimValue], ctx: CallContext
) -> dict[str, CimValue]:
    """A StdRegProv method (static, so no selectors) with already typed parameters."""
    hive = params.get("hDefKey")
    hive = HKLM if hive is None else hive  # documented: hDefKey defaults to HKEY_LOCAL_MACHINE
    assert isinstance(hive, int)
    path = params.get("sSubKeyName")
    if not isinstance(path, str):
        raise InvalidParameter("sSubKeyName is required")
    name = params.get("sValueName")
    value_name = name if isinstance(name, str) else ""  # Assumption: omitted = the default value
    writes = method.startswith(("Set", "Delete", "Create"))
    if writes and not ctx.is_admin:
        # Assumption: HKLM is writable by administrators only; StdRegProv reports 5 (community error map).
        return {"ReturnValue": RC_ACCESS_DENIED}
    if method == "EnumKey":
        rc, names = reg.enum_key(hive, path)
        return {"sNames": names, "ReturnValue": rc}
    if method == "EnumValues":
        rc, names, types = reg.enum_values(hive, path)
        return {"sNames": names, "Types": t.cast(CimValue, types), "ReturnValue": rc}
    if method == "CreateKey":
        return {"ReturnValue": reg.create_key(hive, path)}
    if method == "DeleteKey":
        return {"ReturnValue": reg.delete_key(hive, path)}
    if method == "DeleteValue":
        return {"ReturnValue": reg.delete_value(hive, path, value_name)}
    if method == "CheckAccess":
        required = params.get("uRequired")
        rc, granted = reg.check_access(hive, path, required if isinstance(required, int) else 3, ctx.is_admin)
        return {"bGranted": granted, "ReturnValue": rc}
    kind_name = method[3:-5]  # Get/Set <Kind> Value
    kind, out_name = _REG_KINDS[kind_name]
    if method.startswith("Get"):
        rc, data = reg.get_value(hive, path, value_name, kind)
        result: CimValue = list(data) if isinstance(data, bytes) else t.cast(CimValue, data)
        return {out_name: result, "ReturnValue": rc}
    raw = params.get(out_name)
    if raw is None:
        raise InvalidParameter(f"{out_name} is required")
    stored: t.Any = bytes(t.cast(list[int], raw)) if kind == RegType.BINARY else raw
    return {"ReturnValue": reg.set_value(hive, path, value_name, kind, stored)}
