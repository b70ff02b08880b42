"""StdRegProv through the Provider API: ReturnValue codes and rules (StdRegProv docs, community error map)."""

from __future__ import annotations

import typing as t

import pytest
from winemu_lib import cim
from winemu_lib.fleet import Fleet
from winemu_lib.machine import Machine

ADMIN = cim.CallContext("Administrator", True)
USER = cim.CallContext("operator", False)
HKLM = 2147483650
HKCU = 2147483649
SPP = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
TYPE_MISMATCH = 2147749893


@pytest.fixture
def machine() -> Machine:
    fleet = Fleet.from_dict(
        {
            "defaults": {"domain": "corp.example.com", "accounts": [{"username": "a", "password": "b", "admin": True}]},
            "hosts": [{"name": "ws01", "edition": "Enterprise", "build": 22631}],
        }
    )
    return fleet.hosts["ws01"].machine


def reg(
    machine: Machine, method: str, ctx: cim.CallContext = ADMIN, namespace: str = "root/default", **params: t.Any
) -> dict[str, t.Any]:
    return machine.invoke(namespace, "StdRegProv", method, {}, params, ctx)


def test_string_round_trip_in_both_namespaces(machine: Machine) -> None:
    assert (
        reg(machine, "SetStringValue", hDefKey=HKLM, sSubKeyName=SPP, sValueName="Probe", sValue="x")["ReturnValue"]
        == 0
    )
    for namespace in ("root/default", "root/cimv2"):
        out = reg(machine, "GetStringValue", namespace=namespace, sSubKeyName=SPP, sValueName="probe")
        assert out == {"sValue": "x", "ReturnValue": 0}  # hDefKey defaults to HKLM (documented), names ignore case


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        ("GetStringValue", {"sSubKeyName": r"SOFTWARE\Nowhere", "sValueName": "x"}, 2),
        ("GetStringValue", {"sSubKeyName": SPP, "sValueName": "Missing"}, 1),
        ("GetDWORDValue", {"sSubKeyName": SPP, "sValueName": "Missing"}, 1),
        ("GetStringValue", {"sSubKeyName": SPP, "sValueName": "InactivityShutdownDelay"}, TYPE_MISMATCH),
        ("SetStringValue", {"sSubKeyName": r"SOFTWARE\Nowhere", "sValueName": "x", "sValue": "y"}, 2),
        ("DeleteValue", {"sSubKeyName": r"SOFTWARE\Nowhere", "sValueName": "x"}, 2),
        ("DeleteValue", {"sSubKeyName": SPP, "sValueName": "Missing"}, 2),
        ("EnumKey", {"sSubKeyName": r"SOFTWARE\Nowhere"}, 2),
        ("GetStringValue", {"hDefKey": 12345, "sSubKeyName": SPP, "sValueName": "x"}, 6),
        ("GetStringValue", {"sSubKeyName": "SOFTWARE\\\\Microsoft", "sValueName": "x"}, 6),
    ],
)
def test_inferred_return_codes(machine: Machine, method: str, params: dict[str, t.Any], expected: int) -> None:
    assert reg(machine, method, **params)["ReturnValue"] == expected


def test_failed_get_returns_null(machine: Machine) -> None:
    assert reg(machine, "GetDWORDValue", sSubKeyName=SPP, sValueName="Missing") == {"uValue": None, "ReturnValue": 1}


def test_typed_values(machine: Machine) -> None:
    key = r"SOFTWARE\Winact\Probe"
    assert reg(machine, "CreateKey", sSubKeyName=key)["ReturnValue"] == 0
    cases: list[tuple[str, str, t.Any]] = [
        ("DWORD", "uValue", 4294967295),
        ("QWORD", "uValue", 2**64 - 1),
        ("ExpandedString", "sValue", r"%SystemRoot%\x"),
        ("MultiString", "sValue", ["a, 0, 0", "b"]),
        ("Binary", "uValue", [0, 1, 255]),
    ]
    for kind, param, value in cases:
        data: dict[str, t.Any] = {param: value}
        assert reg(machine, f"Set{kind}Value", sSubKeyName=key, sValueName=kind, **data)["ReturnValue"] == 0
        assert reg(machine, f"Get{kind}Value", sSubKeyName=key, sValueName=kind) == {param: value, "ReturnValue": 0}
    out = reg(machine, "EnumValues", sSubKeyName=key)
    assert out["ReturnValue"] == 0
    assert dict(zip(out["sNames"], out["Types"], strict=True)) == {  # documented type codes
        "DWORD": 4,
        "QWORD": 11,
        "ExpandedString": 2,
        "MultiString": 7,
        "Binary": 3,
    }
    # A Set replaces the type too.
    reg(machine, "SetStringValue", sSubKeyName=key, sValueName="DWORD", sValue="now a string")
    assert reg(machine, "GetDWORDValue", sSubKeyName=key, sValueName="DWORD")["ReturnValue"] == TYPE_MISMATCH


def test_out_of_range_input_is_an_invalid_parameter(machine: Machine) -> None:
    with pytest.raises(cim.InvalidParameter):
        reg(machine, "SetDWORDValue", sSubKeyName=SPP, sValueName="x", uValue=2**32)
    with pytest.raises(cim.InvalidParameter):
        reg(machine, "SetStringValue", sSubKeyName=SPP, sValueName="x", sValue=5)
    with pytest.raises(cim.InvalidParameter):
        reg(machine, "SetStringValue", sSubKeyName=SPP, sValueName="x")  # no data
    with pytest.raises(cim.InvalidParameter):
        reg(machine, "GetStringValue", sSubKeyName=SPP, sValueName="x", sBogus="y")


def test_enum_null_arrays_and_keys(machine: Machine) -> None:
    key = r"SOFTWARE\Winact\Empty"
    reg(machine, "CreateKey", sSubKeyName=key)
    # Documented: null (not empty) arrays for a key with only the default value.
    assert reg(machine, "EnumValues", sSubKeyName=key) == {"sNames": None, "Types": None, "ReturnValue": 0}
    reg(machine, "SetStringValue", sSubKeyName=key, sValueName="", sValue="default")
    assert reg(machine, "EnumValues", sSubKeyName=key)["sNames"] is None
    assert reg(machine, "GetStringValue", sSubKeyName=key)["sValue"] == "default"
    assert reg(machine, "EnumKey", sSubKeyName=key) == {"sNames": None, "ReturnValue": 0}
    reg(machine, "CreateKey", sSubKeyName=key + r"\Child")
    assert reg(machine, "EnumKey", sSubKeyName=key)["sNames"] == ["Child"]
    assert "Activation" in reg(machine, "EnumKey", sSubKeyName=SPP)["sNames"]


def test_delete_key(machine: Machine) -> None:
    key = r"SOFTWARE\Winact\Tree"
    reg(machine, "CreateKey", sSubKeyName=key + r"\Leaf")
    assert reg(machine, "DeleteKey", sSubKeyName=key)["ReturnValue"] == 5  # still has a subkey
    assert reg(machine, "DeleteKey", sSubKeyName=key + r"\Leaf")["ReturnValue"] == 0
    assert reg(machine, "DeleteKey", sSubKeyName=key)["ReturnValue"] == 0
    assert reg(machine, "DeleteKey", sSubKeyName=key)["ReturnValue"] == 2


def test_check_access(machine: Machine) -> None:
    assert reg(machine, "CheckAccess", sSubKeyName=SPP) == {"bGranted": True, "ReturnValue": 0}
    # Documented: bGranted false when the key is missing; slmgr reads 2 as "absent".
    wow = r"SOFTWARE\Wow6432Node\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
    assert reg(machine, "CheckAccess", sSubKeyName=wow) == {"bGranted": False, "ReturnValue": 2}
    assert reg(machine, "CheckAccess", USER, sSubKeyName=SPP, uRequired=1)["bGranted"] is True
    assert reg(machine, "CheckAccess", USER, sSubKeyName=SPP, uRequired=3)["bGranted"] is False


def test_standard_user_reads_but_cannot_write(machine: Machine) -> None:
    before = machine.writes
    assert reg(machine, "GetDWORDValue", USER, sSubKeyName=SPP, sValueName="InactivityShutdownDelay")["uValue"] == 30
    for method, params in [
        ("SetStringValue", {"sValueName": "x", "sValue": "y"}),
        ("DeleteValue", {"sValueName": "InactivityShutdownDelay"}),
        ("CreateKey", {}),
        ("DeleteKey", {}),
    ]:
        assert reg(machine, method, USER, sSubKeyName=SPP + r"\Activation", **params)["ReturnValue"] == 5
    assert machine.writes == before


def test_writes_counter(machine: Machine) -> None:
    base = machine.writes
    reg(machine, "GetStringValue", sSubKeyName=SPP, sValueName="x")
    reg(machine, "EnumValues", sSubKeyName=SPP)
    assert machine.writes == base  # reads never write
    reg(machine, "SetDWORDValue", sSubKeyName=SPP, sValueName="SkipRearm", uValue=1)
    reg(machine, "SetDWORDValue", sSubKeyName=SPP, sValueName="SkipRearm", uValue=1)  # same value still counts
    assert machine.writes == base + 2
    reg(machine, "CreateKey", sSubKeyName=r"SOFTWARE\A\B")  # two new keys
    reg(machine, "CreateKey", sSubKeyName=r"SOFTWARE\A\B")  # exists: no change
    assert machine.writes == base + 4
    reg(machine, "DeleteValue", sSubKeyName=SPP, sValueName="SkipRearm")
    reg(machine, "DeleteValue", sSubKeyName=SPP, sValueName="SkipRearm")  # already gone: 2, no change
    assert machine.writes == base + 5


def test_hkcu_is_a_separate_empty_hive(machine: Machine) -> None:
    assert reg(machine, "EnumKey", hDefKey=HKCU, sSubKeyName="")["sNames"] is None
    assert reg(machine, "GetStringValue", hDefKey=HKCU, sSubKeyName=SPP, sValueName="x")["ReturnValue"] == 2
