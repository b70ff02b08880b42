"""WQL parsing, binding to a class and evaluation (WMI semantics)."""

from __future__ import annotations

import datetime

import pytest
from winemu_lib import cim, wql

CLASS = cim.ClassDef(
    name="SoftwareLicensingProduct",
    namespaces=("root/cimv2",),
    properties={
        "ID": "string",
        "Name": "string",
        "PartialProductKey": "string",
        "LicenseStatus": "uint32",
        "LicenseIsAddon": "boolean",
        "GracePeriodRemaining": "uint32",
        "EvaluationEndDate": "datetime",
        "Roles": "string[]",
    },
    keys=("ID",),
    methods={},
)

PRODUCTS: list[dict[str, cim.CimValue]] = [
    {
        "ID": "a",
        "Name": "Windows(R), ServerDatacenter edition",
        "PartialProductKey": "6VM33",
        "LicenseStatus": 1,
        "LicenseIsAddon": False,
        "GracePeriodRemaining": 259200,
        "EvaluationEndDate": datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        "Roles": ["x"],
    },
    {
        "ID": "b",
        "Name": "Windows(R), ServerStandard edition",
        "PartialProductKey": None,
        "LicenseStatus": 0,
        "LicenseIsAddon": False,
        "GracePeriodRemaining": 0,
        "EvaluationEndDate": None,
        "Roles": [],
    },
    {
        "ID": "c",
        "Name": "Office 'Add-on' 100% [beta]",
        "PartialProductKey": "ABCDE",
        "LicenseStatus": 5,
        "LicenseIsAddon": True,
        "GracePeriodRemaining": 43200,
        "EvaluationEndDate": datetime.datetime(2020, 6, 1, 12, 0, tzinfo=datetime.UTC),
        "Roles": [],
    },
]


def ids(query: str) -> list[str]:
    bound = wql.bind(wql.parse(query), CLASS)
    return [str(product["ID"]) for product in PRODUCTS if bound.matches(product)]


def test_select_star_and_property_list() -> None:
    star = wql.parse("select * from SoftwareLicensingProduct")
    assert star.properties is None and star.class_name == "SoftwareLicensingProduct" and star.where is None
    listed = wql.parse("SELECT ID, Name ,PartialProductKey FROM SoftwareLicensingProduct")
    assert listed.properties == ("ID", "Name", "PartialProductKey")


def test_binding_canonicalises_property_names_and_removes_duplicates() -> None:
    bound = wql.bind(wql.parse("SELECT name, ID, NAME FROM softwarelicensingproduct"), CLASS)
    assert bound.selected == (("Name", "string"), ("ID", "string"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * FROM SoftwareLicensingProduct", ["a", "b", "c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE PartialProductKey IS NOT NULL", ["a", "c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE PartialProductKey is null", ["b"]),
        # slmgr.vbs writes "<> null"; "= NULL" is IS NULL
        ("SELECT * FROM SoftwareLicensingProduct WHERE PartialProductKey <> null", ["a", "c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE PartialProductKey = NULL", ["b"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus = 1", ["a"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus != 1", ["b", "c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus >= 1 AND LicenseStatus < 5", ["a"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus <= 0 OR LicenseStatus > 4", ["b", "c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE 1 = LicenseStatus", ["a"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE 1 < LicenseStatus", ["c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus = '5'", ["c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE LicenseIsAddon = TRUE", ["c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE LicenseIsAddon = false", ["a", "b"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE NOT LicenseIsAddon = false", ["c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE Name = 'windows(r), serverdatacenter EDITION'", ["a"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE Name = \"Office \\'Add-on\\' 100% [beta]\"", ["c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE Name = 'Office \\'Add-on\\' 100% [beta]'", ["c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE Name > 'Windows(R), ServerD'", ["a", "b"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE Name LIKE 'windows%'", ["a", "b"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE Name LIKE '%Server_tandard%'", ["b"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE Name NOT LIKE 'Windows%'", ["c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE Name LIKE '%[[]beta]'", ["c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE Name LIKE '[^w]%'", ["c"]),
        (
            "SELECT * FROM SoftwareLicensingProduct WHERE (LicenseStatus = 1 OR LicenseStatus = 5) "
            "AND NOT (PartialProductKey = 'ABCDE')",
            ["a"],
        ),
        ("SELECT * FROM SoftwareLicensingProduct WHERE EvaluationEndDate > '20250101000000.000000+000'", ["a"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE EvaluationEndDate < '2025-01-01T00:00:00Z'", ["c"]),
        ("SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus = -1", []),
    ],
)
def test_where_clause(query: str, expected: list[str]) -> None:
    assert ids(query) == expected


def test_null_makes_comparisons_unknown_not_true() -> None:
    # WMI: a NULL property never matches a comparison, negated or not (three-valued logic).
    assert ids("SELECT * FROM SoftwareLicensingProduct WHERE PartialProductKey = '6VM33'") == ["a"]
    assert ids("SELECT * FROM SoftwareLicensingProduct WHERE PartialProductKey <> '6VM33'") == ["c"]
    assert ids("SELECT * FROM SoftwareLicensingProduct WHERE NOT (PartialProductKey = '6VM33')") == ["c"]
    assert ids("SELECT * FROM SoftwareLicensingProduct WHERE PartialProductKey = 'x' OR LicenseStatus = 0") == ["b"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "SELECT FROM SoftwareLicensingProduct",
        "SELECT * SoftwareLicensingProduct",
        "SELECT * FROM",
        "SELECT * FROM SoftwareLicensingProduct WHERE",
        "SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus",
        "SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus = ",
        "SELECT * FROM SoftwareLicensingProduct WHERE (LicenseStatus = 1",
        "SELECT * FROM SoftwareLicensingProduct WHERE Name = 'unterminated",
        "SELECT * FROM SoftwareLicensingProduct WHERE 1 = 1",
        "SELECT * FROM SoftwareLicensingProduct WHERE Name = ID",
        "SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus < NULL",
        "SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus = 1 extra",
        "SELECT * FROM SoftwareLicensingProduct WHERE Name LIKE 5",
        "SELECT * FROM SoftwareLicensingProduct WHERE Name = 'a' ; DROP",
        "DELETE FROM SoftwareLicensingProduct",
        "ASSOCIATORS OF {Win32_Service.Name='sppsvc'}",
    ],
)
def test_invalid_queries_are_rejected(query: str) -> None:
    with pytest.raises(wql.WqlError):
        wql.parse(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT Nope FROM SoftwareLicensingProduct",
        "SELECT * FROM SoftwareLicensingProduct WHERE Nope = 1",
        "SELECT * FROM SoftwareLicensingProduct WHERE Name = 5",
        "SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus = 'five'",
        "SELECT * FROM SoftwareLicensingProduct WHERE LicenseIsAddon = 'maybe'",
        "SELECT * FROM SoftwareLicensingProduct WHERE EvaluationEndDate > 'yesterday'",
        "SELECT * FROM SoftwareLicensingProduct WHERE EvaluationEndDate > 5",
        "SELECT * FROM SoftwareLicensingProduct WHERE LicenseStatus LIKE '1%'",
        "SELECT * FROM SoftwareLicensingProduct WHERE Roles = 'x'",
    ],
)
def test_queries_that_do_not_fit_the_class_are_rejected(query: str) -> None:
    with pytest.raises(wql.WqlError):
        wql.bind(wql.parse(query), CLASS)
