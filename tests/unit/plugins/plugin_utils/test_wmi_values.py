# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIM typing of property values: integers, booleans, datetimes, nil, arrays, and what is refused."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._wmi import complete, parse_datetime, parse_properties
from ansible_collections.winact.kms.plugins.plugin_utils._wmi_schema import METHOD_TYPES, PROPERTY_TYPES
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManProtocolError, parse_xml

UTC = datetime.UTC
CIM_TYPES = {"string", "boolean", "uint8", "uint16", "uint32", "uint64", "sint16", "sint32", "sint64", "datetime"}


def _parse(children: str, types: dict[str, str]) -> dict[str, Any]:
    element = parse_xml(
        (
            '<p:C xmlns:p="urn:c" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{children}</p:C>'
        ).encode()
    )
    return parse_properties(element, types)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2013-03-09T02:57:32Z", datetime.datetime(2013, 3, 9, 2, 57, 32, tzinfo=UTC)),
        ("2013-03-09T02:57:43.488171Z", datetime.datetime(2013, 3, 9, 2, 57, 43, 488171, tzinfo=UTC)),
        ("2013-03-09T02:57:43.4881719Z", datetime.datetime(2013, 3, 9, 2, 57, 43, 488171, tzinfo=UTC)),
        ("2013-03-09T02:57:43.5Z", datetime.datetime(2013, 3, 9, 2, 57, 43, 500000, tzinfo=UTC)),
        ("2013-03-09T10:57:32+08:00", datetime.datetime(2013, 3, 9, 2, 57, 32, tzinfo=UTC)),
        ("2013-03-08T21:27:32-05:30", datetime.datetime(2013, 3, 9, 2, 57, 32, tzinfo=UTC)),
        ("  2013-03-09T02:57:32Z\n", datetime.datetime(2013, 3, 9, 2, 57, 32, tzinfo=UTC)),
        ("2013-03-09T02:57:32", datetime.datetime(2013, 3, 9, 2, 57, 32, tzinfo=UTC)),
    ],
)
def test_datetimes(text: str, expected: datetime.datetime) -> None:
    value = parse_datetime("When", text)
    assert value == expected
    assert value.tzinfo is not None


def test_offsets_are_kept() -> None:
    assert parse_datetime("When", "2013-03-08T21:27:32-05:30").utcoffset() == -datetime.timedelta(hours=5, minutes=30)


@pytest.mark.parametrize(
    "text",
    ["", "20130309025732.000000+000", "2013-03-09 02:57:32Z", "2013-13-09T02:57:32Z", "2013-02-30T00:00:00Z", "P1D"],
)
def test_bad_datetimes(text: str) -> None:
    with pytest.raises(WSManProtocolError, match="property When"):
        parse_datetime("When", text)


def test_datetime_element_shapes() -> None:
    values = _parse(
        "<p:A><cim:Datetime>2026-01-01T00:00:00Z</cim:Datetime></p:A>"
        "<p:B><Datetime>2026-01-02T00:00:00Z</Datetime></p:B>"
        "<p:C>2026-01-03T00:00:00Z</p:C>"
        '<p:D xsi:nil="true"/>'
        "<p:U><cim:Datetime>2026-01-04T00:00:00Z</cim:Datetime></p:U>",
        {"A": "datetime", "B": "datetime", "C": "datetime", "D": "datetime"},
    )
    assert [values[name].day if values[name] else None for name in "ABCDU"] == [1, 2, 3, None, 4]


def test_interval_where_a_datetime_was_expected_is_refused() -> None:
    with pytest.raises(WSManProtocolError, match="nested elements"):
        _parse("<p:A><cim:Interval>P1D</cim:Interval></p:A>", {"A": "datetime"})


@pytest.mark.parametrize(
    ("cim_type", "text", "expected"),
    [
        ("uint32", "0", 0),
        ("uint32", "4294967295", 4294967295),
        ("uint64", "18446744073709551615", 18446744073709551615),
        ("sint32", "-1", -1),
        ("sint16", " +7 ", 7),
        ("uint8", "255", 255),
        ("boolean", "true", True),
        ("boolean", "FALSE", False),
        ("boolean", "1", True),
        ("boolean", " 0 ", False),
        ("real64", "1.5", 1.5),
        ("string", "  keep  spaces ", "  keep  spaces "),
        ("string", "", ""),
    ],
)
def test_scalars(cim_type: str, text: str, expected: Any) -> None:
    value = _parse(f"<p:V>{text}</p:V>", {"V": cim_type})["V"]
    assert value == expected and value.__class__ is expected.__class__


@pytest.mark.parametrize(
    ("cim_type", "text", "message"),
    [
        ("uint32", "", "should be an integer, got ''"),
        ("uint32", "0x10", "should be an integer"),
        ("uint32", "1.0", "should be an integer"),
        ("uint32", "١٢", "should be an integer"),  # non-ASCII digits int() would accept
        ("boolean", "yes", "should be true or false"),
        ("real32", "lots", "should be a number"),
        ("uint32", "9" * 60, "should be an integer, got '" + "9" * 40 + "...'"),
    ],
)
def test_bad_scalars(cim_type: str, text: str, message: str) -> None:
    with pytest.raises(WSManProtocolError, match=f"property V {message}"):
        _parse(f"<p:V>{text}</p:V>", {"V": cim_type})


def test_arrays_nil_and_repeats() -> None:
    values = _parse(
        "<p:One>a</p:One>"
        '<p:Null xsi:nil="true"/>'
        "<p:Ints>1</p:Ints><p:Ints>2</p:Ints>"
        "<p:Rep>x</p:Rep><p:Rep>y</p:Rep>"
        "<p:Solo>z</p:Solo>"
        '<p:Nil xsi:nil="1"/>',
        {"One": "string[]", "Null": "string[]", "Ints": "uint16[]", "Nil": "uint32"},
    )
    assert values == {"One": ["a"], "Null": None, "Ints": [1, 2], "Rep": ["x", "y"], "Solo": "z", "Nil": None}


def test_nil_mixed_into_an_array_is_refused() -> None:
    with pytest.raises(WSManProtocolError, match="mixes xsi:nil"):
        _parse('<p:A>a</p:A><p:A xsi:nil="true"/>', {"A": "string[]"})


def test_nested_elements_in_a_scalar_are_refused() -> None:
    with pytest.raises(WSManProtocolError, match="property A holds nested elements where a string"):
        _parse("<p:A><p:Inner>x</p:Inner></p:A>", {})


def test_property_names_follow_the_schema_spelling() -> None:
    assert _parse("<p:version>1</p:version>", {"Version": "uint32"}) == {"Version": 1}


def test_complete_fills_declared_properties() -> None:
    types = {"A": "string", "B": "string[]", "C": "uint32"}
    assert complete({"A": "x"}, types, types) == {"A": "x", "B": [], "C": None}
    assert complete({}, types, ["b", "Extra"]) == {"B": [], "Extra": None}


def test_schemas_use_known_cim_types_and_cover_the_contract() -> None:
    for class_name in (
        "SoftwareLicensingService",
        "SoftwareLicensingProduct",
        "Win32_OperatingSystem",
        "Win32_Service",
        "Win32_NTLogEvent",
        "Win32_ComputerSystem",
    ):
        assert PROPERTY_TYPES[class_name], class_name
    declared = [t for props in PROPERTY_TYPES.values() for t in props.values()]
    declared += [t for outs in METHOD_TYPES.values() for t in outs.values()]
    assert {t.removesuffix("[]") for t in declared} <= CIM_TYPES
    assert PROPERTY_TYPES["Win32_NTLogEvent"]["InsertionStrings"] == "string[]"
    assert PROPERTY_TYPES["SoftwareLicensingProduct"]["EvaluationEndDate"] == "datetime"
    assert METHOD_TYPES[("StdRegProv", "GetMultiStringValue")]["sValue"] == "string[]"
    assert METHOD_TYPES[("StdRegProv", "EnumValues")] == {
        "sNames": "string[]",
        "Types": "sint32[]",
        "ReturnValue": "uint32",
    }
    assert METHOD_TYPES[("StdRegProv", "CheckAccess")]["bGranted"] == "boolean"
