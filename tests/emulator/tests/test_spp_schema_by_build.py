"""Each build serves its own SoftwareLicensingService/Product schema, and WMI refuses a select naming a
property the build's class lacks (WBEM_E_INVALID_QUERY) over WS-Management."""

from __future__ import annotations

import typing as t

import pytest
from winemu_lib import soap
from winemu_lib.fleet import Fleet

if t.TYPE_CHECKING:
    from .conftest import RunningFleet

INVALID_QUERY = str(soap.WBEM_E_INVALID_QUERY)


@pytest.fixture
def mixed(start_real_fleet: t.Callable[[Fleet], RunningFleet]) -> RunningFleet:
    return start_real_fleet(
        Fleet.from_dict(
            {
                "defaults": {
                    "domain": "corp.example.com",
                    "accounts": [{"username": "Administrator", "password": "Winact-2026!", "admin": True}],
                },
                "hosts": [
                    {"name": "win7", "edition": "Enterprise", "build": 7601},
                    {"name": "win11", "edition": "Enterprise", "build": 22631},
                ],
            }
        )
    )


def refused(running: RunningFleet, host: str, query: str) -> None:
    reply = running.enumerate(query, host=host)
    assert reply.status == 500, reply.body
    assert reply.subcode == "n:CannotProcessFilter"
    assert INVALID_QUERY.encode() in reply.body


def names(running: RunningFleet, host: str, query: str) -> set[str]:
    items, _trips = running.query(query, host=host)
    assert items
    return {child.tag.rpartition("}")[2] for child in items[0]}


@pytest.mark.parametrize(
    ("cls", "prop"),
    [
        ("SoftwareLicensingProduct", "VLActivationTypeEnabled"),
        ("SoftwareLicensingProduct", "ADActivationObjectName"),
        ("SoftwareLicensingProduct", "IAID"),
        ("SoftwareLicensingProduct", "RemainingSkuReArmCount"),
        ("SoftwareLicensingProduct", "ProductKeyChannel"),
        ("SoftwareLicensingService", "KeyManagementServiceLookupDomain"),
        ("SoftwareLicensingService", "KeyManagementServicePort"),
        ("SoftwareLicensingService", "OA3xOriginalProductKey"),
    ],
)
def test_windows7_refuses_properties_added_later(mixed: RunningFleet, cls: str, prop: str) -> None:
    key = "ID" if cls == "SoftwareLicensingProduct" else "Version"
    refused(mixed, "win7", f"SELECT {key}, {prop} FROM {cls}")
    assert names(mixed, "win11", f"SELECT {prop} FROM {cls}") == {prop}


def test_windows8_and_later_refuse_the_token_activation_only_flag(mixed: RunningFleet) -> None:
    query = "SELECT Version, KeyManagementServiceActivationDisabled FROM SoftwareLicensingService"
    refused(mixed, "win11", query)
    assert names(mixed, "win7", query) == {"Version", "KeyManagementServiceActivationDisabled"}


def test_a_where_clause_on_an_absent_property_is_refused(mixed: RunningFleet) -> None:
    refused(mixed, "win7", "SELECT ID FROM SoftwareLicensingProduct WHERE VLActivationType = 2")


def test_select_star_returns_only_the_builds_properties(mixed: RunningFleet) -> None:
    win7_service = names(mixed, "win7", "SELECT * FROM SoftwareLicensingService")
    win11_service = names(mixed, "win11", "SELECT * FROM SoftwareLicensingService")
    assert "KeyManagementServiceActivationDisabled" in win7_service - win11_service
    assert {"KeyManagementServiceLookupDomain", "DiscoveredKeyManagementServiceMachineIpAddress"} <= (
        win11_service - win7_service
    )
    win7_product = names(mixed, "win7", "SELECT * FROM SoftwareLicensingProduct WHERE PartialProductKey IS NOT NULL")
    assert len(win7_product) == 44  # the Windows 7-era MOF's property count
    assert "VLActivationTypeEnabled" not in win7_product
    assert "TrustedTime" in win7_product
