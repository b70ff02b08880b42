# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request envelopes: the header fields Windows needs, selector/option sets, body namespaces, escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    ANONYMOUS,
    NS_ADDRESSING,
    NS_ENUMERATION,
    NS_MS_WSMAN,
    NS_SOAP,
    NS_WSMAN,
    NS_XML,
    build_envelope,
    format_duration,
    parse_xml,
    qname,
)

URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/SoftwareLicensingService"
ENDPOINT = "https://ws2022-01.corp.example.com:5986/wsman"
MUST = qname(NS_SOAP, "mustUnderstand")


def _header(envelope: ET.Element, namespace: str, local: str) -> ET.Element:
    element = envelope.find(f"{qname(NS_SOAP, 'Header')}/{qname(namespace, local)}")
    assert element is not None, local
    return element


def _build(**kwargs: object) -> tuple[bytes, str]:
    args: dict[str, object] = {
        "endpoint": ENDPOINT,
        "resource_uri": URI,
        "action": f"{URI}/InstallProductKey",
        "body": None,
        "operation_timeout": 20,
    }
    args.update(kwargs)
    return build_envelope(**args)  # type: ignore[arg-type]


def test_header_carries_every_field_windows_expects() -> None:
    xml, message_id = _build()
    envelope = parse_xml(xml)

    assert envelope.tag == qname(NS_SOAP, "Envelope")
    assert _header(envelope, NS_ADDRESSING, "To").text == ENDPOINT
    resource = _header(envelope, NS_WSMAN, "ResourceURI")
    assert (resource.text, resource.get(MUST)) == (URI, "true")
    address = envelope.find(
        f"{qname(NS_SOAP, 'Header')}/{qname(NS_ADDRESSING, 'ReplyTo')}/{qname(NS_ADDRESSING, 'Address')}"
    )
    assert address is not None and (address.text, address.get(MUST)) == (ANONYMOUS, "true")
    action = _header(envelope, NS_ADDRESSING, "Action")
    assert (action.text, action.get(MUST)) == (f"{URI}/InstallProductKey", "true")
    size = _header(envelope, NS_WSMAN, "MaxEnvelopeSize")
    assert (size.text, size.get(MUST)) == ("153600", "true")
    assert _header(envelope, NS_ADDRESSING, "MessageID").text == message_id
    for namespace, local in ((NS_WSMAN, "Locale"), (NS_MS_WSMAN, "DataLocale")):
        locale = _header(envelope, namespace, local)
        assert (locale.get(qname(NS_XML, "lang")), locale.get(MUST)) == ("en-US", "false")
    assert _header(envelope, NS_WSMAN, "OperationTimeout").text == "PT20S"
    assert envelope.find(f"{qname(NS_SOAP, 'Header')}/{qname(NS_WSMAN, 'SelectorSet')}") is None
    assert envelope.find(f"{qname(NS_SOAP, 'Header')}/{qname(NS_WSMAN, 'OptionSet')}") is None
    body = envelope.find(qname(NS_SOAP, "Body"))
    assert body is not None and len(body) == 0


def test_message_ids_are_fresh_uuid_urns_unless_given() -> None:
    first = _build()[1]
    second = _build()[1]
    assert re.fullmatch(r"uuid:[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}", first)
    assert first != second
    xml, given = _build(message_id="uuid:11111111-2222-3333-4444-555555555555")
    assert given == "uuid:11111111-2222-3333-4444-555555555555"
    assert _header(parse_xml(xml), NS_ADDRESSING, "MessageID").text == given


def test_selector_and_option_sets() -> None:
    xml = _build(selectors={"Version": "10.0.20348.1"}, options={"WMI_Option": "1"})[0]
    envelope = parse_xml(xml)
    selector_set = _header(envelope, NS_WSMAN, "SelectorSet")
    assert selector_set.get(MUST) is None
    assert [(s.get("Name"), s.text) for s in selector_set] == [("Version", "10.0.20348.1")]
    assert all(s.tag == qname(NS_WSMAN, "Selector") for s in selector_set)
    option_set = _header(envelope, NS_WSMAN, "OptionSet")
    assert option_set.get(MUST) == "true"
    assert [(o.tag, o.get("Name"), o.text) for o in option_set] == [(qname(NS_WSMAN, "Option"), "WMI_Option", "1")]


def test_selector_values_must_be_strings() -> None:
    with pytest.raises(TypeError, match="Selector 'Version' must be a string"):
        _build(selectors={"Version": 10})


def test_body_keeps_its_own_namespace_and_uses_readable_prefixes() -> None:
    body = ET.Element(qname(URI, "InstallProductKey_INPUT"))
    ET.SubElement(body, qname(URI, "ProductKey")).text = "WX4NM-KYWYW-QJJR4-XV3QB-6VM33"
    xml = _build(body=body)[0]

    text = xml.decode()
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?><s:Envelope ')
    assert 'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"' in text
    assert f'<p:InstallProductKey_INPUT xmlns:p="{URI}"><p:ProductKey>' in text
    assert "ns0:" not in text
    parsed = parse_xml(xml).find(f"{qname(NS_SOAP, 'Body')}/{qname(URI, 'InstallProductKey_INPUT')}")
    assert parsed is not None
    assert [(child.tag, child.text) for child in parsed] == [
        (qname(URI, "ProductKey"), "WX4NM-KYWYW-QJJR4-XV3QB-6VM33")
    ]


def test_header_prefix_shadowed_in_the_body_is_declared_again() -> None:
    # The body binds "p" to the resource URI; a DataLocale-namespace element inside it must still resolve.
    body = ET.Element(qname(URI, "M_INPUT"))
    ET.SubElement(ET.SubElement(body, qname(URI, "Outer")), qname(NS_MS_WSMAN, "Inner")).text = "x"
    xml = _build(body=body)[0]
    inner = parse_xml(xml).find(
        f"{qname(NS_SOAP, 'Body')}/{qname(URI, 'M_INPUT')}/{qname(URI, 'Outer')}/{qname(NS_MS_WSMAN, 'Inner')}"
    )
    assert inner is not None and inner.text == "x"


def test_text_and_attributes_are_escaped_and_round_trip() -> None:
    tricky = "a<b & c>\"d\" 'e'\r\nline\ttab ü €"
    filter_ = ET.Element(qname(NS_ENUMERATION, "Enumerate"))
    ET.SubElement(filter_, qname(NS_WSMAN, "Filter"), {"Dialect": tricky}).text = tricky
    xml = _build(body=filter_, selectors={"Name": tricky})[0]
    envelope = parse_xml(xml)
    element = envelope.find(
        f"{qname(NS_SOAP, 'Body')}/{qname(NS_ENUMERATION, 'Enumerate')}/{qname(NS_WSMAN, 'Filter')}"
    )
    assert element is not None
    assert element.text == tricky
    assert element.get("Dialect") == tricky
    assert _header(envelope, NS_WSMAN, "SelectorSet")[0].text == tricky


def test_characters_xml_cannot_carry_are_refused() -> None:
    body = ET.Element(qname(URI, "M_INPUT"))
    ET.SubElement(body, qname(URI, "Value")).text = "nul\x00byte"
    with pytest.raises(ValueError, match="XML 1.0 cannot carry"):
        _build(body=body)


@pytest.mark.parametrize(
    ("seconds", "text"), [(20, "PT20S"), (1, "PT1S"), (2.5, "PT2.5S"), (59.999, "PT59.999S"), (0.25, "PT0.25S")]
)
def test_operation_timeout_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("seconds", [0, -1, float("inf"), float("nan")])
def test_operation_timeout_must_be_positive_and_finite(seconds: float) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        _build(operation_timeout=seconds)


def test_empty_endpoint_is_refused() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        _build(endpoint="")


def test_global_elementtree_prefixes_are_left_alone() -> None:
    before = dict(ET._namespace_map)  # type: ignore[attr-defined]
    _build(body=ET.Element(qname(URI, "M_INPUT")))
    assert dict(ET._namespace_map) == before  # type: ignore[attr-defined]
