"""WS-Enumeration with WQL: optimized first page, Pull paging, new contexts, Release, faults."""

from __future__ import annotations

import typing as t

import pytest
from winemu_lib import soap, wsman_operations

if t.TYPE_CHECKING:
    from .conftest import RunningFleet

ALL_SERVICES = "SELECT * FROM Win32_Service"


def names(fleet: RunningFleet, items: list[t.Any]) -> list[str]:
    p = "{" + fleet.SERVICE_URI + "}"
    return [item.findtext(p + "Name") or item.findtext("Name") for item in items]


def test_optimized_enumeration_returns_one_item_then_pulls(fleet: RunningFleet) -> None:
    reply = fleet.enumerate(ALL_SERVICES)
    assert reply.status == 200
    assert reply.action == "http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse"
    items = reply.findall("s:Body/n:EnumerateResponse/w:Items/*")
    assert len(items) == 1  # even with MaxElements 32000, like the recordings
    assert reply.find("s:Body/n:EnumerateResponse/w:EndOfSequence") is None
    context = reply.text("s:Body/n:EnumerateResponse/n:EnumerationContext")
    assert context and context.startswith("uuid:")

    pulled = fleet.pull(context)
    assert pulled.action == "http://schemas.xmlsoap.org/ws/2004/09/enumeration/PullResponse"
    rest = pulled.findall("s:Body/n:PullResponse/n:Items/*")
    assert len(rest) == 29
    assert pulled.find("s:Body/n:PullResponse/n:EndOfSequence") is not None
    assert pulled.find("s:Body/n:PullResponse/n:EnumerationContext") is None
    assert names(fleet, items + rest) == ["sppsvc"] + [f"svc{i:03d}" for i in range(1, 30)]
    stats = fleet.endpoint().stats_dict()["requests"]
    assert stats["by_action"] == {"Enumerate": 1, "Pull": 1}
    assert stats["by_method"] == {"enumerate:Win32_Service": 1}
    assert fleet.endpoint().enumerations == {}  # finished enumerations hold nothing


def test_pull_pages_are_bounded_by_max_elements_with_a_new_context_each(fleet: RunningFleet) -> None:
    items, trips = fleet.query(ALL_SERVICES, max_elements=7)
    assert len(items) == 30
    assert trips == 1 + 5  # 1 + 7 + 7 + 7 + 7 + 1
    assert len(set(names(fleet, items))) == 30


def test_pull_pages_are_bounded_by_max_envelope_size(fleet: RunningFleet) -> None:
    items, trips = fleet.query(ALL_SERVICES, max_envelope_size=8192)
    assert len(items) == 30
    assert trips > 2
    reply = fleet.enumerate(ALL_SERVICES, max_envelope_size=8192)
    context = reply.text("s:Body/n:EnumerateResponse/n:EnumerationContext")
    assert context
    page = fleet.pull(context, max_envelope_size=8192)
    assert 1 < len(page.findall("s:Body/n:PullResponse/n:Items/*")) < 29
    assert len(page.body) <= 8192


def test_a_single_match_fits_the_optimized_response(fleet: RunningFleet) -> None:
    reply = fleet.enumerate("SELECT * FROM Win32_Service WHERE Name = 'sppsvc'")
    response = "s:Body/n:EnumerateResponse"
    assert len(reply.findall(f"{response}/w:Items/*")) == 1
    assert reply.find(f"{response}/w:EndOfSequence") is not None
    assert reply.text(f"{response}/n:EnumerationContext") in (None, "")
    empty = fleet.enumerate("SELECT * FROM Win32_Service WHERE Name = 'none'")
    assert empty.findall(f"{response}/w:Items/*") == []
    assert empty.find(f"{response}/w:EndOfSequence") is not None


def test_selected_properties_come_as_xml_fragments(fleet: RunningFleet) -> None:
    items, _trips = fleet.query(
        "SELECT State, Name, InstallDate, Description FROM Win32_Service WHERE ProcessId > 1027"
    )
    assert [item.tag for item in items] == [f"{{{soap.NS_W}}}XmlFragment"] * 2
    first = items[0]
    assert [child.tag for child in first] == ["Description", "InstallDate", "Name", "State"]
    assert first.findtext("Name") == "svc028"
    assert first.findtext("InstallDate/Datetime") == "2024-05-29T08:30:15Z"


def test_select_star_items_are_class_elements(fleet: RunningFleet) -> None:
    items, _trips = fleet.query("SELECT * FROM win32_service WHERE State = 'RUNNING' AND StartMode <> 'Disabled'")
    p = "{" + fleet.SERVICE_URI + "}"
    assert {item.tag for item in items} == {p + "Win32_Service"}
    assert names(fleet, items) == [f"svc{i:03d}" for i in range(1, 30) if i % 2 == 0 and i % 3]


def test_non_optimized_enumeration_returns_only_a_context(fleet: RunningFleet) -> None:
    reply = fleet.enumerate(ALL_SERVICES, optimize=False)
    response = reply.find("s:Body/n:EnumerateResponse")
    assert response is not None and [child.tag for child in response] == [f"{{{soap.NS_N}}}EnumerationContext"]
    context = response[0].text
    assert context
    pulled = fleet.pull(context, max_elements=None)  # WS-Enumeration's default MaxElements is 1
    assert len(pulled.findall("s:Body/n:PullResponse/n:Items/*")) == 1


def test_enumerating_a_class_uri_without_filter(fleet: RunningFleet) -> None:
    items, _trips = fleet.query(ALL_SERVICES, uri=fleet.SERVICE_URI)
    assert len(items) == 30
    reply = fleet.enumerate(None, uri=fleet.SERVICE_URI)
    assert reply.status == 200
    unfiltered = fleet.enumerate(None)
    assert unfiltered.status == 500 and unfiltered.subcode == "w:UnsupportedFeature"


def test_selector_filter_on_a_class_uri(fleet: RunningFleet) -> None:
    body = (
        f'<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>10</w:MaxElements><w:Filter Dialect="'
        f'{soap.SELECTOR_DIALECT}"><w:SelectorSet><w:Selector Name="name">SVC010</w:Selector></w:SelectorSet>'
        "</w:Filter></n:Enumerate>"
    )
    reply = fleet.wsman(soap.ACTION_ENUMERATE, fleet.SERVICE_URI, body)
    assert names(fleet, reply.findall("s:Body/n:EnumerateResponse/w:Items/*")) == ["svc010"]


def test_release_ends_an_enumeration(fleet: RunningFleet) -> None:
    reply = fleet.enumerate(ALL_SERVICES)
    context = reply.text("s:Body/n:EnumerateResponse/n:EnumerationContext")
    assert context
    released = fleet.wsman(
        soap.ACTION_RELEASE,
        fleet.CIMV2_ALL,
        f"<n:Release><n:EnumerationContext>{context}</n:EnumerationContext></n:Release>",
    )
    assert released.status == 200
    assert released.action == "http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse"
    again = fleet.pull(context)
    assert again.status == 500
    assert again.subcode == "n:InvalidEnumerationContext"
    assert again.action == "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"
    assert again.wsman_code == 0x8033801B


def test_a_used_context_is_invalid(fleet: RunningFleet) -> None:
    reply = fleet.enumerate(ALL_SERVICES)
    context = reply.text("s:Body/n:EnumerateResponse/n:EnumerationContext")
    assert context
    assert fleet.pull(context, max_elements=2).status == 200
    stale = fleet.pull(context)
    assert stale.status == 500 and stale.subcode == "n:InvalidEnumerationContext"
    unknown = fleet.pull("uuid:00000000-0000-0000-0000-000000000000")
    assert unknown.subcode == "n:InvalidEnumerationContext"


def test_expired_context_is_invalid(fleet: RunningFleet) -> None:
    reply = fleet.enumerate(ALL_SERVICES)
    context = reply.text("s:Body/n:EnumerateResponse/n:EnumerationContext")
    assert context
    fleet.endpoint().enumerations[context].expires = 0.0
    assert fleet.pull(context).subcode == "n:InvalidEnumerationContext"


def test_unknown_class_is_the_recorded_wmi_provider_fault(fleet: RunningFleet) -> None:
    query = 'Select * from Win32_Processa where name="sshd.exe"'
    reply = fleet.enumerate(query)
    assert reply.status == 500
    assert reply.action == "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"
    assert reply.text("s:Body/s:Fault/s:Code/s:Value") == "s:Sender"
    assert reply.subcode == "n:CannotProcessFilter"
    assert reply.wsman_code == 2150858778
    provider = reply.find("s:Body/s:Fault/s:Detail/f:WSManFault/f:Message/f:ProviderFault")
    assert provider is not None and provider.get("provider") == "WMI Provider"
    inner = provider.find("f:WSManFault/f:Message", fleet.NAMESPACES)
    assert inner is not None and inner.text == "The specified class does not exist in the given namespace. "
    status_ns = soap.WMI_URI_PREFIX + "root/cimv2/__ExtendedStatus"
    status = provider.find(f"f:ExtendedError/{{{status_ns}}}__ExtendedStatus", fleet.NAMESPACES)
    assert status is not None
    assert status.findtext(f"{{{status_ns}}}Operation") == "ExecQuery"
    assert status.findtext(f"{{{status_ns}}}ParameterInfo") == query
    assert status.findtext(f"{{{status_ns}}}ProviderName") == "WinMgmt"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * Win32_Service",
        "SELECT Nope FROM Win32_Service",
        "SELECT * FROM Win32_Service WHERE ProcessId = 'abc'",
        "",
    ],
)
def test_invalid_queries_are_filter_faults(fleet: RunningFleet, query: str) -> None:
    reply = fleet.enumerate(query)
    assert reply.status == 500
    assert reply.subcode == "n:CannotProcessFilter"
    message = reply.text("s:Body/s:Fault/s:Detail/f:WSManFault/f:Message/f:ProviderFault/f:WSManFault/f:Message")
    assert message and message.startswith("Invalid query")


def test_unsupported_dialect_and_mode(fleet: RunningFleet) -> None:
    body = '<n:Enumerate><w:Filter Dialect="http://www.w3.org/TR/1999/REC-xpath-19991116">/x</w:Filter></n:Enumerate>'
    reply = fleet.wsman(soap.ACTION_ENUMERATE, fleet.CIMV2_ALL, body)
    assert reply.subcode == "n:FilterDialectRequestedUnavailable"
    mode = (
        "<n:Enumerate><w:EnumerationMode>EnumerateEPR</w:EnumerationMode>"
        f'<w:Filter Dialect="{soap.WQL_DIALECT}">{ALL_SERVICES}</w:Filter></n:Enumerate>'
    )
    assert fleet.wsman(soap.ACTION_ENUMERATE, fleet.CIMV2_ALL, mode).subcode == "w:UnsupportedFeature"


def test_provider_failure_during_enumeration(fleet: RunningFleet) -> None:
    fleet.machine().fail_enumeration = True
    reply = fleet.enumerate(ALL_SERVICES)
    assert reply.status == 500 and reply.subcode == "w:InternalError"
    assert reply.wsman_code == 0x80041001


def test_page_that_cannot_fit_keeps_the_context(fleet: RunningFleet) -> None:
    fleet.machine().services[1]["Description"] = "y" * 9000
    reply = fleet.enumerate(ALL_SERVICES, max_envelope_size=8192)
    context = reply.text("s:Body/n:EnumerateResponse/n:EnumerationContext")
    assert context
    too_big = fleet.pull(context, max_envelope_size=8192)
    assert too_big.status == 500 and too_big.subcode == "w:EncodingLimit"
    assert fleet.pull(context).status == 200  # a larger envelope gets the page


def test_enumeration_contexts_are_swept_after_expiry(fleet: RunningFleet) -> None:
    endpoint = fleet.endpoint()
    for _attempt in range(3):
        fleet.enumerate(ALL_SERVICES)
    assert len(endpoint.enumerations) == 3
    for enumeration in endpoint.enumerations.values():
        enumeration.expires = 0.0
    fleet.enumerate(ALL_SERVICES)
    assert len(endpoint.enumerations) == 1
    assert wsman_operations.ENUMERATION_TIMEOUT == 240.0
