"""Envelope parsing, CIM value rendering and the fault shapes of recorded Windows responses."""

from __future__ import annotations

import datetime
import typing as t
import xml.etree.ElementTree as ET

import pytest
from winemu_lib import cim, soap, wsman_faults

if t.TYPE_CHECKING:
    from .conftest import RunningFleet

NS = {
    "s": soap.NS_S,
    "a": soap.NS_A,
    "w": soap.NS_W,
    "f": soap.NS_F,
    "xsi": soap.NS_XSI,
    "cim": soap.NS_CIM,
}
URI = soap.WMI_URI_PREFIX + "root/cimv2/Thing"


def request(header: str, body: str = "") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{soap.NS_S}" xmlns:a="{soap.NS_A}" xmlns:w="{soap.NS_W}"><s:Header>{header}'
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


FULL_HEADER = (
    "<a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action>"
    f"<w:ResourceURI>{URI}</w:ResourceURI><a:MessageID>uuid:1234</a:MessageID>"
    "<a:To>http://127.0.0.1:1/wsman</a:To><w:OperationTimeout>PT20.500S</w:OperationTimeout>"
    "<w:MaxEnvelopeSize>153600</w:MaxEnvelopeSize>"
    '<w:SelectorSet><w:Selector Name="Name">sppsvc</w:Selector><w:Selector Name="Other"> x </w:Selector>'
    '</w:SelectorSet><w:OptionSet><w:Option Name="WINRS_CODEPAGE">65001</w:Option></w:OptionSet>'
)


def test_parse_request_reads_the_header_fields() -> None:
    parsed = soap.parse_request(request(FULL_HEADER), machine="m")
    assert parsed.action == soap.ACTION_GET
    assert parsed.resource_uri == URI
    assert parsed.message_id == "uuid:1234"
    assert parsed.to == "http://127.0.0.1:1/wsman"
    assert parsed.operation_timeout == pytest.approx(20.5)
    assert parsed.max_envelope_size == 153600
    assert parsed.selectors == {"Name": "sppsvc", "Other": "x"}
    assert parsed.selector("name") == "sppsvc"
    assert parsed.options == {"WINRS_CODEPAGE": "65001"}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT60S", 60), ("PT60.000S", 60), ("PT0.5S", 0.5), ("P0DT0H1M0S", 60), ("PT1H", 3600), ("P1D", 86400)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert soap.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["60", "PT", "P", "PTS", "PT-1S", "1 minute"])
def test_parse_duration_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        soap.parse_duration(text)


@pytest.mark.parametrize(
    ("data", "subcode"),
    [
        (b"this is not xml", "w:SchemaValidationError"),
        (b"", "w:SchemaValidationError"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "w:SchemaValidationError"),
        (b"<Envelope/>", "w:SchemaValidationError"),
        (
            request(FULL_HEADER.replace("<a:MessageID>uuid:1234</a:MessageID>", "")),
            "a:MessageInformationHeaderRequired",
        ),
        (request(FULL_HEADER.replace("PT20.500S", "soon")), "a:InvalidMessageInformationHeader"),
        (request(FULL_HEADER.replace(">153600<", ">lots<")), "a:InvalidMessageInformationHeader"),
        (request(FULL_HEADER.replace(">153600<", ">1024<")), "w:EncodingLimit"),
    ],
)
def test_parse_request_faults(data: bytes, subcode: str) -> None:
    with pytest.raises(soap.SoapFault) as caught:
        soap.parse_request(data, machine="m")
    assert caught.value.subcode == subcode
    root = ET.fromstring(caught.value.render("uuid:1"))  # every fault renders as well-formed XML
    assert root.findtext("s:Body/s:Fault/s:Code/s:Subcode/s:Value", namespaces=NS) == subcode


def test_missing_resource_uri_keeps_relates_to() -> None:
    data = request(FULL_HEADER.replace(f"<w:ResourceURI>{URI}</w:ResourceURI>", ""))
    with pytest.raises(soap.SoapFault) as caught:
        soap.parse_request(data, machine="m")
    root = ET.fromstring(caught.value.render())
    assert root.findtext("s:Header/a:RelatesTo", namespaces=NS) == "uuid:1234"


# --------------------------------------------------------------------------- values


def test_datetimes_use_xs_datetime() -> None:
    utc = datetime.datetime(2013, 3, 9, 2, 57, 32, tzinfo=datetime.UTC)
    assert cim.format_datetime(utc) == "2013-03-09T02:57:32Z"
    fraction = datetime.datetime(2013, 3, 9, 2, 57, 43, 488171, tzinfo=datetime.UTC)
    assert cim.format_datetime(fraction) == "2013-03-09T02:57:43.488171Z"
    offset = datetime.datetime(2013, 3, 9, 10, 57, 32, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    assert cim.format_datetime(offset) == "2013-03-09T10:57:32+08:00"
    assert cim.parse_datetime("2013-03-09T10:57:32+08:00") == utc
    assert cim.parse_datetime("20130309025732.000000+000") == utc
    assert cim.parse_datetime("20130309105732.000000+480") == utc


@pytest.mark.parametrize(
    ("cim_type", "text", "value"),
    [
        ("uint32", "2147483650", 2147483650),
        ("sint32", "-5", -5),
        ("uint8", " 255 ", 255),
        ("boolean", "true", True),
        ("boolean", "FALSE", False),
        ("boolean", "1", True),
        ("string", "", ""),
        ("string[]", "a", "a"),
    ],
)
def test_text_to_cim(cim_type: str, text: str, value: cim.CimValue) -> None:
    assert cim.text_to_cim(cim_type, text) == value


@pytest.mark.parametrize(
    ("cim_type", "text"),
    [("uint32", "-1"), ("uint32", "4294967296"), ("uint8", "256"), ("sint32", "x"), ("boolean", "yes")],
)
def test_text_to_cim_rejects(cim_type: str, text: str) -> None:
    with pytest.raises(ValueError):
        cim.text_to_cim(cim_type, text)


THING = cim.ClassDef(
    name="Thing",
    namespaces=("root/cimv2",),
    properties={
        "Name": "string",
        "Count": "uint32",
        "Flag": "boolean",
        "When": "datetime",
        "Tags": "string[]",
        "Empty": "string[]",
        "Nothing": "string",
        "NoList": "string[]",
    },
    keys=("Name",),
    methods={},
)
INSTANCE: dict[str, cim.CimValue] = {
    "Name": "a<b>&c",
    "Count": 7,
    "Flag": False,
    "When": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    "Tags": ["x", "y"],
    "Empty": [],
    "Nothing": None,
    "NoList": None,
}


def test_render_instance_like_the_get_recording() -> None:
    element = ET.fromstring(soap.render_instance(URI, THING, INSTANCE))
    p = "{" + URI + "}"
    assert element.tag == p + "Thing"
    assert element.get(f"{{{soap.NS_XSI}}}type") == "p:Thing_Type"
    names = [child.tag[len(p) :] for child in element]
    # schema order; arrays repeat; the empty array is left out; NULLs are written once with xsi:nil
    assert names == ["Name", "Count", "Flag", "When", "Tags", "Tags", "Nothing", "NoList"]
    assert element.findtext(p + "Name") == "a<b>&c"
    assert element.findtext(p + "Flag") == "false"
    assert element.findtext(f"{p}When/{{{soap.NS_CIM}}}Datetime") == "2024-01-02T03:04:05Z"
    nil = element.find(p + "Nothing")
    assert nil is not None and nil.get(f"{{{soap.NS_XSI}}}nil") == "true" and not nil.text


def test_render_fragment_sorts_unqualified_children() -> None:
    selected = [("When", "datetime"), ("name", "string"), ("Count", "uint32")]
    instance = {"When": INSTANCE["When"], "name": "n", "Count": None}
    wrapped = ET.fromstring(f'<items xmlns:w="{soap.NS_W}">{soap.render_fragment(selected, instance)}</items>')
    element = wrapped[0]
    assert element.tag == f"{{{soap.NS_W}}}XmlFragment"
    assert [child.tag for child in element] == ["Count", "name", "When"]
    assert element.findtext("When/Datetime") == "2024-01-02T03:04:05Z"
    count = element.find("Count")
    assert count is not None and count.get(f"{{{soap.NS_XSI}}}nil") == "true"


def test_render_method_output_keeps_methoddef_order() -> None:
    method = cim.MethodDef("M", {}, {"A": "string[]", "B": "datetime", "C": "string", "ReturnValue": "uint32"})
    outputs: dict[str, cim.CimValue] = {"ReturnValue": 0, "C": None, "A": ["1", "2"], "B": INSTANCE["When"]}
    element = ET.fromstring(soap.render_method_output(URI, method, outputs))
    p = "{" + URI + "}"
    assert element.tag == p + "M_OUTPUT"
    assert [child.tag[len(p) :] for child in element] == ["A", "A", "B", "C", "ReturnValue"]


def test_control_characters_are_dropped_and_cr_survives() -> None:
    text = soap.xml_text("a\x01b\r\nc")
    element = ET.fromstring(f"<x>{text}</x>")
    assert element.text == "ab\r\nc"


# --------------------------------------------------------------------------- method input

METHOD = cim.MethodDef(
    "Set",
    {"hDefKey": "uint32", "sValue": "string", "Names": "string[]", "On": "boolean", "At": "datetime"},
    {"ReturnValue": "uint32"},
)


def method_body(inner: str, method: str = "Set") -> ET.Element:
    return ET.fromstring(
        f'<s:Body xmlns:s="{soap.NS_S}"><p:{method}_INPUT xmlns:p="{URI}">{inner}</p:{method}_INPUT></s:Body>'
    )


def test_parse_method_input_types_parameters() -> None:
    body = method_body(
        "<p:HDEFKEY>2147483650</p:HDEFKEY><p:sValue></p:sValue><p:Names>a</p:Names><p:Names>b</p:Names>"
        f'<p:On>true</p:On><p:At><cim:Datetime xmlns:cim="{soap.NS_CIM}">2024-01-02T03:04:05Z</cim:Datetime></p:At>'
    )
    assert soap.parse_method_input(body, METHOD) == {
        "hDefKey": 2147483650,
        "sValue": "",
        "Names": ["a", "b"],
        "On": True,
        "At": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    }


def test_parse_method_input_single_array_element_is_a_list_and_nil_is_none() -> None:
    body = method_body(f'<p:Names>only</p:Names><p:sValue xmlns:xsi="{soap.NS_XSI}" xsi:nil="true"/>')
    assert soap.parse_method_input(body, METHOD) == {"Names": ["only"], "sValue": None}


def test_parse_method_input_empty_body_means_no_parameters() -> None:
    assert soap.parse_method_input(ET.fromstring(f'<s:Body xmlns:s="{soap.NS_S}"/>'), METHOD) == {}
    assert soap.parse_method_input(method_body(""), METHOD) == {}


@pytest.mark.parametrize(
    "inner",
    [
        "<p:Unknown>1</p:Unknown>",
        "<p:hDefKey>HKLM</p:hDefKey>",
        "<p:hDefKey>1</p:hDefKey><p:hDefKey>2</p:hDefKey>",
        "<p:On>perhaps</p:On>",
    ],
)
def test_parse_method_input_rejects_bad_parameters(inner: str) -> None:
    with pytest.raises(cim.InvalidParameter):
        soap.parse_method_input(method_body(inner), METHOD)


def test_parse_method_input_rejects_the_wrong_input_element() -> None:
    with pytest.raises(cim.InvalidParameter):
        soap.parse_method_input(method_body("", method="Other"), METHOD)


# --------------------------------------------------------------------------- fault shapes


def fault_root(fault: soap.SoapFault) -> ET.Element:
    return ET.fromstring(fault.render("uuid:REQ"))


def test_timed_out_matches_the_recording() -> None:
    root = fault_root(wsman_faults.timed_out("host"))
    assert root.findtext("s:Header/a:Action", namespaces=NS) == "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
    assert root.findtext("s:Header/a:RelatesTo", namespaces=NS) == "uuid:REQ"
    assert root.findtext("s:Body/s:Fault/s:Code/s:Value", namespaces=NS) == "s:Receiver"
    assert root.findtext("s:Body/s:Fault/s:Code/s:Subcode/s:Value", namespaces=NS) == "w:TimedOut"
    fault = root.find("s:Body/s:Fault/s:Detail/f:WSManFault", NS)
    assert fault is not None and fault.get("Code") == "2150858793" and fault.get("Machine") == "host"
    assert "OperationTimeout" in (fault.findtext("f:Message", namespaces=NS) or "")


def test_invalid_selectors_matches_the_recording() -> None:
    root = fault_root(wsman_faults.invalid_selectors("host", "bad"))
    assert root.findtext("s:Body/s:Fault/s:Code/s:Value", namespaces=NS) == "s:Sender"
    assert root.findtext("s:Body/s:Fault/s:Code/s:Subcode/s:Value", namespaces=NS) == "w:InvalidSelectors"
    assert root.findtext("s:Body/s:Fault/s:Detail/w:FaultDetail", namespaces=NS) == (
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors"
    )
    outer = root.find("s:Body/s:Fault/s:Detail/f:WSManFault", NS)
    assert outer is not None and outer.get("Code") == "2150858843"
    provider = outer.find("f:Message/f:ProviderFault", NS)
    assert provider is not None and provider.get("provider") == "WMI Provider"
    assert provider.get("path") == r"%systemroot%\system32\WsmWmiPl.dll"
    inner = provider.find("f:WSManFault", NS)
    assert inner is not None and inner.get("Code") == "2150858843"


def test_provider_error_shape() -> None:
    error = cim.ProviderError(0xC004F050, "The Software Licensing Service reported that the product key is invalid.")
    fault = wsman_faults.cim_fault(
        error, machine="host", namespace="root/cimv2", operation="ExecMethod", object_path='S.Version="1"'
    )
    root = fault_root(fault)
    assert root.findtext("s:Body/s:Fault/s:Code/s:Value", namespaces=NS) == "s:Receiver"
    assert root.findtext("s:Body/s:Fault/s:Code/s:Subcode/s:Value", namespaces=NS) == "w:InternalError"
    assert "0xc004f050" in (root.findtext("s:Body/s:Fault/s:Reason/s:Text", namespaces=NS) or "")
    outer = root.find("s:Body/s:Fault/s:Detail/f:WSManFault", NS)
    assert outer is not None and outer.get("Code") == str(0xC004F050)
    provider = outer.find("f:Message/f:ProviderFault", NS)
    assert provider is not None and provider.get("provider") == "WMI Provider"
    inner = provider.find("f:WSManFault", NS)
    assert inner is not None and inner.get("Code") == "3221549136"
    assert "product key is invalid" in (inner.findtext("f:Message", namespaces=NS) or "")
    status_ns = soap.WMI_URI_PREFIX + "root/cimv2/__ExtendedStatus"
    status = provider.find(f"f:ExtendedError/{{{status_ns}}}__ExtendedStatus", NS)
    assert status is not None
    assert status.findtext(f"{{{status_ns}}}Operation") == "ExecMethod"
    assert status.findtext(f"{{{status_ns}}}ParameterInfo") == 'S.Version="1"'
    assert status.findtext(f"{{{status_ns}}}StatusCode") == "3221549136"


@pytest.mark.parametrize(
    ("error", "subcode", "outer", "inner"),
    [
        (cim.AccessDenied("no"), "w:AccessDenied", 5, None),
        (cim.InvalidSelectors("no"), "w:InvalidSelectors", 2150858843, 2150858843),
        (cim.InstanceNotFound("no"), "a:DestinationUnreachable", 2150858752, 0x80041002),
        (cim.ClassNotFound("no"), "a:DestinationUnreachable", 2150858752, 0x80041010),
        (cim.MethodNotFound("no"), "a:ActionNotSupported", 2150858771, 0x8004102E),
        (cim.InvalidParameter("no"), "w:InvalidParameter", 2150858810, 0x80041008),
        (cim.CimError("no"), "w:InternalError", 0x80041001, 0x80041001),
    ],
)
def test_every_cim_error_has_a_fault(error: cim.CimError, subcode: str, outer: int, inner: int | None) -> None:
    fault = wsman_faults.cim_fault(error, machine="h", namespace="root/cimv2", operation="X", object_path="C")
    root = fault_root(fault)
    assert root.findtext("s:Body/s:Fault/s:Code/s:Subcode/s:Value", namespaces=NS) == subcode
    detail = root.find("s:Body/s:Fault/s:Detail/f:WSManFault", NS)
    assert detail is not None and detail.get("Code") == str(outer)
    nested = detail.find("f:Message/f:ProviderFault/f:WSManFault", NS)
    assert (None if nested is None else int(nested.get("Code", "0"))) == inner


def test_pywinrm_decodes_the_provider_fault(fleet: RunningFleet) -> None:
    """pywinrm's WSManFaultError reads Detail/WSManFault@Code: the HRESULT a client needs."""
    from winrm.exceptions import WSManFaultError
    from winrm.protocol import Protocol

    protocol = Protocol(
        endpoint=fleet.url(),
        transport="basic",
        username=fleet.ADMIN[0],
        password=fleet.ADMIN[1],
        message_encryption="never",
        server_cert_validation="ignore",
    )
    data, _message_id = fleet.envelope(
        f"{fleet.SERVICE_URI}/Break",
        fleet.SERVICE_URI,
        fleet.method_input(fleet.SERVICE_URI, "Break"),
        selectors={"Name": "sppsvc"},
    )
    with pytest.raises(WSManFaultError) as caught:
        protocol.send_message(data.decode())
    assert caught.value.code == 500
    assert caught.value.wsman_fault_code == fleet.SPP_ERROR
    assert caught.value.fault_subcode == "w:InternalError"
    assert caught.value.fault_code == "s:Receiver"
