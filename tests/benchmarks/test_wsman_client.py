# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WS-Man client on its own (no network): parsing a large paged enumeration, building request
envelopes and decoding recorded SOAP faults.

The enumeration is 500 ``SoftwareLicensingProduct`` instances with every property (``SELECT *``), rendered
by the emulator from its emulated Windows products and paged like Windows pages them: one item in the
optimized ``EnumerateResponse``, then ``PullResponse`` pages filled up to the client's MaxEnvelopeSize.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from winemu_lib import cim, soap
from winemu_lib.fleet import Fleet

from ansible_collections.winact.kms.plugins.plugin_utils._wmi import (
    WQL_DIALECT,
    WmiClient,
    class_uri,
    namespace_uri,
)
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    ACTION_ENUMERATE,
    ACTION_GET,
    ACTION_PULL,
    MAX_ENVELOPE_SIZE,
    NS_ADDRESSING,
    NS_ENUMERATION,
    NS_SOAP,
    NS_WSMAN,
    WSManAccessDenied,
    WSManClassNotFound,
    WSManFault,
    WSManInvalidSelectors,
    WSManNotFound,
    WSManQuotaExceeded,
    WSManTimeout,
    build_envelope,
    decode_fault,
    parse_xml,
    qname,
)
from ansible_collections.winact.kms.tests.benchmarks.harness import REPO, Benchmark, report, timing

ENDPOINT = "http://127.0.0.1:5985/wsman"
PRODUCTS = 500
QUERY = "SELECT * FROM SoftwareLicensingProduct"
FAULT_FIXTURES = REPO / "tests" / "unit" / "plugins" / "plugin_utils" / "fixtures" / "wsman"

# Targets (see README.md); generous, since these run on shared machines.
TARGET_MS_PER_PAGE = 50.0
TARGET_MS_PER_ENVELOPE = 1.0
TARGET_MS_PER_FAULT = 1.0

_ACTION = re.compile(rb"<a:Action[^>]*>([^<]+)</a:Action>")
_MESSAGE_ID = re.compile(rb"<a:MessageID>([^<]+)</a:MessageID>")
_CONTEXT = re.compile(rb"<n:EnumerationContext>([^<]*)</n:EnumerationContext>")
_RELATES_TO_SLOT = "uuid:00000000-0000-0000-0000-000000000000"


# --------------------------------------------------------------------------------------------------
# A paged enumeration served from memory


@dataclasses.dataclass(frozen=True)
class Page:
    head: bytes  # the response up to the RelatesTo value, which echoes each request's MessageID
    tail: bytes
    context: str  # the context the client must send to pull the next page; "" on the last page
    items: int


def product_items(count: int) -> list[bytes]:
    """``count`` rendered SoftwareLicensingProduct instances, cycled from an emulated host's products."""
    fleet = Fleet.from_dict(
        {
            "defaults": {"domain": "corp.example.com", "accounts": [{"username": "a", "password": "b"}]},
            "hosts": [{"name": "srv01", "edition": "ServerDatacenter", "build": 20348}],
        }
    )
    machine = fleet.hosts["srv01"].machine
    context = cim.CallContext(user="Administrator", is_admin=True)
    class_def = machine.class_def("root/cimv2", "SoftwareLicensingProduct")
    products = machine.instances("root/cimv2", "SoftwareLicensingProduct", context)
    uri = f"{soap.WMI_URI_PREFIX}root/cimv2/{class_def.name}"
    items = []
    for index in range(count):
        instance = {**products[index % len(products)], "ID": product_id(index)}
        items.append(soap.render_instance(uri, class_def, instance).encode("utf-8"))
    return items


def product_id(index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:winact-bench:product:{index}"))


def _page(action: str, element: str, prefix: str, items: list[bytes], context: str, end: bool) -> Page:
    """One response. ``prefix`` is where Windows puts Items/EndOfSequence: w: when enumerating, n: when pulling."""
    # The last EnumerateResponse of an optimized enumeration keeps an empty context; the last Pull has none.
    if end:
        context_xml = "<n:EnumerationContext></n:EnumerationContext>" if element == "EnumerateResponse" else ""
    else:
        context_xml = f"<n:EnumerationContext>{context}</n:EnumerationContext>"
    body = (
        f"<n:{element}>{context_xml}<{prefix}:Items>{b''.join(items).decode('utf-8')}</{prefix}:Items>"
        f"{f'<{prefix}:EndOfSequence/>' if end else ''}</n:{element}>"
    )
    envelope = soap.render_envelope(action, body, relates_to=_RELATES_TO_SLOT)
    head, _slot, tail = envelope.partition(_RELATES_TO_SLOT.encode("ascii"))
    return Page(head, tail, "" if end else context, len(items))


def paginate(items: list[bytes], max_envelope: int = MAX_ENVELOPE_SIZE) -> list[Page]:
    """The pages Windows would send: one item first (wsman.md B4), then as many as fit in an envelope."""
    enumerate_action = soap.ENUMERATION + "EnumerateResponse"
    pull_action = soap.ENUMERATION + "PullResponse"
    pages = [_page(enumerate_action, "EnumerateResponse", "w", items[:1], soap.new_uuid(), len(items) <= 1)]
    position = 1
    while position < len(items):
        context = soap.new_uuid()
        empty = _page(pull_action, "PullResponse", "n", [], context, False)
        size, count = len(empty.head) + len(_RELATES_TO_SLOT) + len(empty.tail), 0
        while position + count < len(items) and size + len(items[position + count]) <= max_envelope:
            size += len(items[position + count])
            count += 1
        assert count, "one item does not fit in an envelope"
        end = position + count == len(items)
        pages.append(_page(pull_action, "PullResponse", "n", items[position : position + count], context, end))
        position += count
    return pages


class PagedTransport:
    """Answers Enumerate with the first page and each Pull with the next, checking the context sent."""

    endpoint = ENDPOINT
    read_timeout = 30.0

    def __init__(self, pages: list[Page]) -> None:
        self.pages = pages
        self.sent = 0
        self._next = 0

    def send(self, message: bytes) -> bytes:
        action = _search(_ACTION, message)
        if action == ACTION_ENUMERATE:
            self._next = 0
        else:
            assert action == ACTION_PULL, action
            assert _search(_CONTEXT, message) == self.pages[self._next - 1].context, "pulled with a stale context"
        page = self.pages[self._next]
        self._next += 1
        self.sent += 1
        return page.head + _search(_MESSAGE_ID, message).encode("ascii") + page.tail


def _search(pattern: re.Pattern[bytes], message: bytes) -> str:
    match = pattern.search(message)
    assert match is not None, f"{pattern.pattern!r} not in the request"
    return match.group(1).decode("ascii")


# --------------------------------------------------------------------------------------------------
# Benchmarks


def test_parse_paged_enumeration_of_500_products(benchmark: Benchmark) -> None:
    pages = paginate(product_items(PRODUCTS))
    transport = PagedTransport(pages)

    def query() -> tuple[list[dict[str, object]], int]:
        client = WmiClient(transport)
        return client.query(QUERY), client.requests

    rows, requests = benchmark(query)

    assert requests == len(pages) >= 10, "500 full instances must span many envelopes"
    assert sum(page.items for page in pages) == PRODUCTS
    assert [row["ID"] for row in rows] == [product_id(index) for index in range(PRODUCTS)]
    windows = next(row for row in rows if row["LicenseFamily"] == "ServerDatacenter" and row["PartialProductKey"])
    assert isinstance(windows["LicenseStatus"], int) and isinstance(windows["GracePeriodRemaining"], int)
    assert isinstance(windows["LicenseIsAddon"], bool)
    assert isinstance(windows["EvaluationEndDate"], datetime.datetime)
    assert all(len(row) >= 60 for row in rows), "SELECT * returns every declared property"

    measured = timing(benchmark)
    if measured is None:
        return
    per_page_ms = measured.median * 1000 / len(pages)
    report(
        benchmark,
        f"WmiClient.query of {PRODUCTS} SoftwareLicensingProduct instances",
        pages=f"{len(pages)} ({len(pages[1].head + pages[1].tail) // 1024} KiB each)",
        per_query=f"{measured.median * 1000:.1f} ms (median of {measured.rounds})",
        per_page=f"{per_page_ms:.2f} ms (target < {TARGET_MS_PER_PAGE:g} ms)",
        per_item=f"{measured.median * 1e6 / PRODUCTS:.0f} us",
    )
    assert per_page_ms < TARGET_MS_PER_PAGE


def _requests() -> list[tuple[str, bytes, str]]:
    """The envelopes a settings run sends: a method call, a WQL enumeration, a pull and an instance Get."""
    service_uri = class_uri("root/cimv2", "SoftwareLicensingService")
    invoke_body = ET.Element(qname(service_uri, "SetKeyManagementServiceMachine_INPUT"))
    ET.SubElement(invoke_body, qname(service_uri, "MachineName")).text = "kms01.corp.example.com"
    enumerate_body = ET.Element(qname(NS_ENUMERATION, "Enumerate"))
    ET.SubElement(enumerate_body, qname(NS_WSMAN, "OptimizeEnumeration"))
    ET.SubElement(enumerate_body, qname(NS_WSMAN, "MaxElements")).text = "32000"
    ET.SubElement(enumerate_body, qname(NS_WSMAN, "Filter"), {"Dialect": WQL_DIALECT}).text = WQL
    pull_body = ET.Element(qname(NS_ENUMERATION, "Pull"))
    ET.SubElement(pull_body, qname(NS_ENUMERATION, "EnumerationContext")).text = CONTEXT
    ET.SubElement(pull_body, qname(NS_ENUMERATION, "MaxElements")).text = "32000"
    requests = [
        (service_uri, f"{service_uri}/SetKeyManagementServiceMachine", invoke_body, {"Version": "10.0.20348.1"}),
        (f"{namespace_uri('root/cimv2')}/*", ACTION_ENUMERATE, enumerate_body, None),
        (f"{namespace_uri('root/cimv2')}/*", ACTION_PULL, pull_body, None),
        (class_uri("root/cimv2", "Win32_Service"), ACTION_GET, None, {"Name": "sppsvc"}),
    ]
    built = []
    for uri, action, body, selectors in requests:
        message, message_id = build_envelope(
            endpoint=ENDPOINT,
            resource_uri=uri,
            action=action,
            body=body,
            selectors=selectors,
            operation_timeout=25.0,
        )
        built.append((action, message, message_id))
    return built


WQL = "SELECT * FROM SoftwareLicensingProduct WHERE ApplicationID = '55c92734-d682-4d71-983e-d6ec3f16059f'"
CONTEXT = "uuid:5F3B2C1A-0001-4000-8000-00000000C001"


def test_build_request_envelopes(benchmark: Benchmark) -> None:
    built = benchmark(_requests)

    assert len({message_id for _action, _message, message_id in built}) == len(built), "MessageIDs must be unique"
    header = qname(NS_SOAP, "Header")
    for action, message, message_id in built:
        envelope = parse_xml(message)
        assert envelope.findtext(f"{header}/{qname(NS_ADDRESSING, 'Action')}") == action
        assert envelope.findtext(f"{header}/{qname(NS_ADDRESSING, 'MessageID')}") == message_id
        assert envelope.findtext(f"{header}/{qname(NS_WSMAN, 'OperationTimeout')}") == "PT25S"
    invoke, enumerate_, pull, get = (parse_xml(message) for _action, message, _id in built)
    selector = f"{header}/{qname(NS_WSMAN, 'SelectorSet')}/{qname(NS_WSMAN, 'Selector')}"
    assert [(s.get("Name"), s.text) for s in invoke.findall(selector)] == [("Version", "10.0.20348.1")]
    assert invoke.findtext(".//{*}MachineName") == "kms01.corp.example.com"
    assert enumerate_.findtext(f".//{qname(NS_WSMAN, 'Filter')}") == WQL
    assert pull.findtext(f".//{qname(NS_ENUMERATION, 'EnumerationContext')}") == CONTEXT
    assert [(s.get("Name"), s.text) for s in get.findall(selector)] == [("Name", "sppsvc")]

    measured = timing(benchmark)
    if measured is None:
        return
    per_envelope_ms = measured.median * 1000 / len(built)
    report(
        benchmark,
        "build_envelope (Invoke, Enumerate, Pull, Get)",
        per_envelope=f"{per_envelope_ms * 1000:.0f} us (target < {TARGET_MS_PER_ENVELOPE * 1000:g} us)",
    )
    assert per_envelope_ms < TARGET_MS_PER_ENVELOPE


# fixture -> (error class, HRESULT): recorded Windows faults and the shapes written after them.
FAULTS: dict[str, tuple[type[WSManFault], int]] = {
    "fault-access-denied_wsmanfault.xml": (WSManAccessDenied, 0x00000005),
    "fault-instance-not-found_msft-wmierror.xml": (WSManNotFound, 0x80041002),
    "fault-invalid-selectors_wsmanfault.xml": (WSManInvalidSelectors, 0x8033805B),
    "fault-method-sl-hresult_msft-wmierror.xml": (WSManFault, 0xC004F050),
    "fault-method-sl-hresult_providerfault.xml": (WSManFault, 0xC004F050),
    "fault-msft-wmierror-quota_shells.xml": (WSManQuotaExceeded, 0x803381A5),
    "fault-operation-timeout_2150858793.xml": (WSManTimeout, 0x80338029),
    "fault-winrm2-numeric-only_invalid-selectors.xml": (WSManInvalidSelectors, 0x8033805B),
    "fault-wql-class-not-found_wmi-provider_ws2008r2.xml": (WSManClassNotFound, 0x8033801A),
    "fault-wql-invalid-query_wmi-provider.xml": (WSManFault, 0x80041017),
}


@pytest.fixture(scope="module")
def fault_bodies() -> dict[str, bytes]:
    found = {path.name for path in Path(FAULT_FIXTURES).glob("fault-*.xml")}
    assert found == set(FAULTS), f"fault fixtures changed: {sorted(found ^ set(FAULTS))}"
    return {name: (FAULT_FIXTURES / name).read_bytes() for name in FAULTS}


def test_decode_recorded_faults(benchmark: Benchmark, fault_bodies: dict[str, bytes]) -> None:
    def decode_all() -> dict[str, WSManFault]:
        return {name: decode_fault(body) for name, body in fault_bodies.items()}

    decoded = benchmark(decode_all)

    for name, (cls, hresult) in FAULTS.items():
        fault = decoded[name]
        assert fault.__class__ is cls, (name, fault.__class__.__name__)  # exactly: no more specific subclass
        assert fault.hresult == hresult, (name, fault.hresult)
        assert fault.message, name

    measured = timing(benchmark)
    if measured is None:
        return
    per_fault_ms = measured.median * 1000 / len(FAULTS)
    report(
        benchmark,
        f"decode_fault ({len(FAULTS)} recorded fault shapes)",
        per_fault=f"{per_fault_ms * 1000:.0f} us (target < {TARGET_MS_PER_FAULT * 1000:g} us)",
    )
    assert per_fault_ms < TARGET_MS_PER_FAULT
