# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WmiClient.query: Enumerate + Pull paging, both item shapes, Release when a loop is abandoned."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _wmi
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WMI_URI, WQL_DIALECT, WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wmi_schema import PROPERTY_TYPES
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    ACTION_ENUMERATE,
    ACTION_PULL,
    ACTION_RELEASE,
    NS_ENUMERATION,
    NS_WSMAN,
    WSManClassNotFound,
    WSManFault,
    WSManProtocolError,
    WSManTimeout,
    WSManUnreachable,
    qname,
)
from ansible_collections.winact.kms.tests.unit.plugins.plugin_utils.wsman_fakes import (
    FakeTransport,
    Reply,
    action_of,
    body_of,
    fixture,
    resource_uri_of,
)

PAGE1 = fixture("enumerate-response_SoftwareLicensingProduct_page1-1-item.xml")
PAGE2 = fixture("pull-response_SoftwareLicensingProduct_page2-2-items.xml")
PAGE3 = fixture("pull-response_SoftwareLicensingProduct_page3-end-of-sequence.xml")
CONTEXT1 = "uuid:A0E2B6C4-0001-4000-8000-00000000C001"
CONTEXT2 = "uuid:A0E2B6C4-0002-4000-8000-00000000C002"
WQL = "SELECT * FROM SoftwareLicensingProduct WHERE ApplicationID = '55c92734-d682-4d71-983e-d6ec3f16059f'"
UTC = datetime.UTC
RELEASED = (
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    b'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header>'
    b"<a:Action>http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse</a:Action>"
    b"<a:RelatesTo>uuid:X</a:RelatesTo></s:Header><s:Body/></s:Envelope>"
)


def _context_sent(transport: FakeTransport, index: int) -> str | None:
    element = body_of(transport.requests[index]).find(f".//{qname(NS_ENUMERATION, 'EnumerationContext')}")
    return None if element is None else element.text


def test_paged_enumeration_pulls_with_each_new_context_until_end_of_sequence() -> None:
    transport = FakeTransport(PAGE1, PAGE2, PAGE3)
    client = WmiClient(transport)
    rows = client.query(WQL)

    assert client.requests == 3
    assert [action_of(request) for request in transport.requests] == [ACTION_ENUMERATE, ACTION_PULL, ACTION_PULL]
    assert {resource_uri_of(request) for request in transport.requests} == {f"{WMI_URI}/root/cimv2/*"}
    assert [_context_sent(transport, 1), _context_sent(transport, 2)] == [CONTEXT1, CONTEXT2]
    assert [row["ID"] for row in rows] == [
        "ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03",
        "b3ca044e-a358-4d68-9883-aaa2941aca99",
        "4f2c1cf4-0000-4000-8000-000000000001",
        "9d3b8a1c-0000-4000-8000-000000000002",
    ]
    first, second, addon = rows[:3]
    assert first["LicenseStatus"] == 1 and first["GracePeriodRemaining"] == 259200
    assert first["LicenseIsAddon"] is False and addon["LicenseIsAddon"] is True
    assert first["PartialProductKey"] == "WX4NM" and second["PartialProductKey"] is None
    assert second["LicenseStatusReason"] == 0xC004F009
    assert second["ProductKeyChannel"] == ""
    assert first["TrustedTime"] == datetime.datetime(2026, 3, 1, 8, 30, 15, 488171, tzinfo=UTC)
    assert second["TrustedTime"] == datetime.datetime(2026, 3, 1, 8, 30, 15, tzinfo=UTC)
    assert second["TrustedTime"].utcoffset() == datetime.timedelta(hours=8)
    assert addon["EvaluationEndDate"] == datetime.datetime(2026, 7, 1, 4, 59, 59, 500000, tzinfo=UTC)
    # SELECT *: every declared property is present; what the host left out is None (or [] for arrays).
    assert set(first) == set(PROPERTY_TYPES["SoftwareLicensingProduct"])
    assert first["ADActivationObjectName"] is None


def test_enumerate_request_body() -> None:
    transport = FakeTransport(fixture("enumerate-response_optimized-end_xmlfragment_SoftwareLicensingService.xml"))
    WmiClient(transport).query("SELECT Version FROM SoftwareLicensingService", namespace="root\\cimv2")
    (enumerate_,) = list(body_of(transport.requests[0]))
    assert enumerate_.tag == qname(NS_ENUMERATION, "Enumerate")
    assert [child.tag for child in enumerate_] == [
        qname(NS_WSMAN, "OptimizeEnumeration"),
        qname(NS_WSMAN, "MaxElements"),
        qname(NS_WSMAN, "Filter"),
    ]
    assert enumerate_[1].text == "32000"
    assert enumerate_[2].get("Dialect") == WQL_DIALECT == "http://schemas.microsoft.com/wbem/wsman/1/WQL"
    assert enumerate_[2].text == "SELECT Version FROM SoftwareLicensingService"


def test_pull_request_body() -> None:
    transport = FakeTransport(PAGE1, PAGE2, PAGE3)
    WmiClient(transport).query(WQL)
    (pull,) = list(body_of(transport.requests[1]))
    assert pull.tag == qname(NS_ENUMERATION, "Pull")
    assert [(child.tag, child.text) for child in pull] == [
        (qname(NS_ENUMERATION, "EnumerationContext"), CONTEXT1),
        (qname(NS_ENUMERATION, "MaxElements"), "32000"),
    ]


def test_optimized_enumeration_ends_in_one_round_trip_with_xml_fragments() -> None:
    transport = FakeTransport(fixture("enumerate-response_optimized-end_xmlfragment_SoftwareLicensingService.xml"))
    client = WmiClient(transport)
    rows = client.query(
        "select version, KeyManagementServicePort, KeyManagementServiceHostCaching, KeyManagementServiceMachine, "
        "KeyManagementServiceLookupDomain from SoftwareLicensingService"
    )
    assert client.requests == 1
    # Keys use the schema's spelling whatever the query's case; a selected property left out comes back as None.
    assert rows == [
        {
            "Version": "10.0.20348.1",
            "KeyManagementServicePort": 1688,
            "KeyManagementServiceHostCaching": True,
            "KeyManagementServiceMachine": "",
            "KeyManagementServiceLookupDomain": None,
        }
    ]


def test_xml_fragment_with_unqualified_datetime_and_single_element_array() -> None:
    transport = FakeTransport(fixture("enumerate-response_optimized-end_xmlfragment_Win32_OperatingSystem.xml"))
    (row,) = WmiClient(transport).query(
        "SELECT BuildNumber, Caption, LocalDateTime, MUILanguages, OperatingSystemSKU, ProductType "
        "FROM Win32_OperatingSystem"
    )
    assert row["BuildNumber"] == "20348"
    assert row["OperatingSystemSKU"] == 8 and row["ProductType"] == 3
    assert row["MUILanguages"] == ["en-US"]
    local = row["LocalDateTime"]
    assert local == datetime.datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    assert local.utcoffset() == datetime.timedelta(hours=1)


def test_projection_of_an_absent_array_is_an_empty_list() -> None:
    body = fixture("enumerate-response_optimized-end_xmlfragment_Win32_OperatingSystem.xml").replace(
        b"      <MUILanguages>en-US</MUILanguages>\n", b""
    )
    (row,) = WmiClient(FakeTransport(body)).query("SELECT Caption, MUILanguages FROM Win32_OperatingSystem")
    assert row["MUILanguages"] == []


def test_unknown_class_items_are_text() -> None:
    body = fixture("enumerate-response_optimized-end_xmlfragment_SoftwareLicensingService.xml")
    (row,) = WmiClient(FakeTransport(body)).query("SELECT * FROM Some_UnknownClass")
    assert row == {
        "KeyManagementServiceHostCaching": "true",
        "KeyManagementServiceMachine": "",
        "KeyManagementServicePort": "1688",
        "Version": "10.0.20348.1",
    }


def test_wql_fault_from_enumerate() -> None:
    client = WmiClient(FakeTransport(Reply(fixture("fault-wql-invalid-query_wmi-provider.xml"), status=500)))
    with pytest.raises(WSManFault, match="The query is not valid") as caught:
        client.query("SELECT Version FROM SoftwareLicensingService WHERE")
    assert caught.value.hresult == 0x80041017
    assert client.requests == 1  # nothing to release: the enumeration never started


def test_class_not_found_from_enumerate() -> None:
    client = WmiClient(FakeTransport(Reply(fixture("fault-wql-class-not-found_wmi-provider_ws2008r2.xml"), status=500)))
    with pytest.raises(WSManClassNotFound):
        client.query("SELECT * FROM Win32_Processa")


def _release_contexts(transport: FakeTransport) -> list[str | None]:
    return [
        _context_sent(transport, index)
        for index, request in enumerate(transport.requests)
        if action_of(request) == ACTION_RELEASE
    ]


def test_failed_pull_releases_the_last_context() -> None:
    transport = FakeTransport(
        PAGE1, PAGE2, Reply(fixture("fault-operation-timeout_2150858793.xml"), status=500), RELEASED
    )
    client = WmiClient(transport)
    with pytest.raises(WSManTimeout):
        client.query(WQL)
    assert [action_of(request) for request in transport.requests] == [
        ACTION_ENUMERATE,
        ACTION_PULL,
        ACTION_PULL,
        ACTION_RELEASE,
    ]
    assert _release_contexts(transport) == [CONTEXT2]
    assert client.requests == 4


def test_release_failure_does_not_hide_the_original_error() -> None:
    transport = FakeTransport(PAGE1, WSManUnreachable("connection reset"), WSManUnreachable("still down"))
    with pytest.raises(WSManUnreachable, match="connection reset"):
        WmiClient(transport).query(WQL)
    assert _release_contexts(transport) == [CONTEXT1]
    assert transport.pending == 0


def test_bad_item_mid_loop_releases_the_context() -> None:
    broken = PAGE2.replace(b"<p:LicenseStatus>0</p:LicenseStatus>", b"<p:LicenseStatus>zero</p:LicenseStatus>", 1)
    transport = FakeTransport(PAGE1, broken, RELEASED)
    with pytest.raises(WSManProtocolError, match="LicenseStatus should be an integer"):
        WmiClient(transport).query(WQL)
    assert _release_contexts(transport) == [CONTEXT2]


def test_interrupt_mid_loop_releases_the_context() -> None:
    transport = FakeTransport(PAGE1, KeyboardInterrupt(), RELEASED)
    with pytest.raises(KeyboardInterrupt):
        WmiClient(transport).query(WQL)
    assert _release_contexts(transport) == [CONTEXT1]


def test_an_enumeration_that_never_ends_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_wmi, "MAX_PAGES", 3)
    endless = PAGE2.replace(CONTEXT2.encode(), b"uuid:endless")
    transport = FakeTransport(PAGE1, endless, endless, RELEASED)
    with pytest.raises(WSManProtocolError, match="did not end after 3 pages"):
        WmiClient(transport).query(WQL)
    assert _release_contexts(transport) == ["uuid:endless"]


@pytest.mark.parametrize(
    ("page1", "message"),
    [
        (PAGE1.replace(CONTEXT1.encode(), b""), "neither EndOfSequence nor an EnumerationContext"),
        (PAGE1.replace(b"n:EnumerateResponse", b"n:PullResponse"), "expected <EnumerateResponse>"),
    ],
)
def test_malformed_enumeration_responses(page1: bytes, message: str) -> None:
    transport = FakeTransport(page1)
    with pytest.raises(WSManProtocolError, match=message):
        WmiClient(transport).query(WQL)
    assert len(transport.sent) == 1


def test_end_of_sequence_in_the_wsman_namespace_on_a_pull() -> None:
    last = PAGE3.replace(b"<n:EndOfSequence/>", b"<w:EndOfSequence/>")
    rows = WmiClient(FakeTransport(PAGE1, PAGE2, last)).query(WQL)
    assert len(rows) == 4


def test_empty_pages_are_fine() -> None:
    empty = PAGE2.replace(PAGE2[PAGE2.index(b"<n:Items>") : PAGE2.index(b"</n:Items>") + 10], b"")
    rows = WmiClient(FakeTransport(PAGE1, empty, PAGE3)).query(WQL)
    assert len(rows) == 2


def test_class_names_in_wql_are_case_insensitive() -> None:
    rows = WmiClient(FakeTransport(PAGE1, PAGE2, PAGE3)).query("select * from softwarelicensingproduct")
    assert rows[0]["LicenseStatus"] == 1 and rows[0]["LicenseIsAddon"] is False
    body = fixture("enumerate-response_optimized-end_xmlfragment_SoftwareLicensingService.xml")
    (row,) = WmiClient(FakeTransport(body)).query("SELECT KeyManagementServicePort FROM softwarelicensingservice")
    assert row["KeyManagementServicePort"] == 1688
