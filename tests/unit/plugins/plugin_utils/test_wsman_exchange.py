# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One request/response round trip: RelatesTo matching, response checks and HTTP error mapping."""

from __future__ import annotations

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    ACTION_GET,
    NS_SOAP,
    WSManFault,
    WSManInvalidSelectors,
    WSManProtocolError,
    WSManTimeout,
    WSManUnreachable,
    fault_from_http,
    qname,
    response_body,
)
from ansible_collections.winact.kms.tests.unit.plugins.plugin_utils.wsman_fakes import (
    ENDPOINT,
    FakeTransport,
    Reply,
    action_of,
    fixture,
    resource_uri_of,
    selectors_of,
)

URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service"
GET_RESPONSE = fixture("get-instance_Win32_Service_sppsvc.xml")


def _get(transport: FakeTransport, timeout: float = 20) -> object:
    # The one real round trip: WmiClient._send builds the envelope and checks the answer.
    return WmiClient(transport, operation_timeout=timeout)._send(URI, ACTION_GET, None, {"Name": "sppsvc"})


def test_round_trip_sends_one_envelope_and_returns_the_body() -> None:
    transport = FakeTransport(GET_RESPONSE)
    body = _get(transport)
    assert getattr(body, "tag", None) == qname(NS_SOAP, "Body")
    (request,) = transport.requests
    assert action_of(request) == ACTION_GET
    assert resource_uri_of(request) == URI
    assert selectors_of(request) == {"Name": "sppsvc"}
    assert f"<a:To>{ENDPOINT}</a:To>".encode() in transport.sent[0]


def test_relates_to_mismatch_is_refused() -> None:
    transport = FakeTransport(Reply(fixture("response-relatesto-mismatch_GetResponse.xml"), echo_relates_to=False))
    with pytest.raises(WSManProtocolError, match="relates to uuid:00000000-0000-4000-8000-000000000000, not to"):
        _get(transport)


def test_relates_to_is_compared_case_insensitively() -> None:
    body = response_body(
        GET_RESPONSE.replace(
            b"uuid:26382830-D514-484B-873E-F95A0516273E", b"uuid:abcdef00-0000-4000-8000-0000000000aa"
        ),
        "uuid:ABCDEF00-0000-4000-8000-0000000000AA",
    )
    assert len(body) == 1


def test_missing_relates_to_is_refused() -> None:
    data = fixture("fault-msft-wmierror-quota_shells.xml")  # recorded without a RelatesTo header
    with pytest.raises(WSManProtocolError, match="no a:RelatesTo"):
        response_body(data, "uuid:X")


def test_a_fault_in_a_200_answer_is_still_raised() -> None:
    transport = FakeTransport(fixture("fault-invalid-selectors_wsmanfault.xml"))
    with pytest.raises(WSManInvalidSelectors):
        _get(transport)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><body>500</body></html>", "not a SOAP 1.2 envelope but <html>"),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>',
            "not a SOAP 1.2 envelope",
        ),
        (
            b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            b'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">'
            b"<s:Header><a:RelatesTo>uuid:X</a:RelatesTo></s:Header></s:Envelope>",
            "no s:Body",
        ),
    ],
)
def test_unexpected_response_shapes(data: bytes, message: str) -> None:
    with pytest.raises(WSManProtocolError, match=message):
        response_body(data, "uuid:X")


def test_hostile_response_is_refused_by_the_round_trip() -> None:
    transport = FakeTransport(Reply(fixture("hostile-billion-laughs.xml"), echo_relates_to=False))
    with pytest.raises(WSManProtocolError, match="DOCTYPE"):
        _get(transport)


def test_operation_timeout_must_stay_below_the_read_timeout() -> None:
    transport = FakeTransport(GET_RESPONSE, read_timeout=30)
    with pytest.raises(ValueError, match="below the transport read timeout"):
        _get(transport, timeout=30)
    assert transport.sent == []
    _get(transport, timeout=29.5)


# -- HTTP errors -------------------------------------------------------------------------------------


def test_http_401_is_unreachable_with_the_endpoint() -> None:
    error = fault_from_http("http://ws01:5985/wsman", 401, b"")
    assert error.__class__ is WSManUnreachable
    assert error.message == "wrong user name or password (HTTP 401) for http://ws01:5985/wsman"


def test_http_500_with_a_fault_body_is_the_decoded_fault() -> None:
    error = fault_from_http(ENDPOINT, 500, fixture("fault-operation-timeout_2150858793.xml"))
    assert error.__class__ is WSManTimeout


def test_http_500_fault_as_decoded_text() -> None:
    text = fixture("fault-wql-class-not-found_wmi-provider_ws2008r2.xml").decode()
    error = fault_from_http(ENDPOINT, 500, text)
    assert isinstance(error, WSManFault) and error.subcode == "n:CannotProcessFilter"


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (503, b"", f"HTTP 503 from {ENDPOINT} with an empty body"),
        (500, b"  \r\n", f"HTTP 500 from {ENDPOINT} with an empty body"),
        (404, b"Not Found", f"HTTP 404 from {ENDPOINT}, not a WS-Management answer: Not Found"),
        (502, b"<!DOCTYPE html><html><p>Bad gateway</p></html>", "HTTP 502 from"),
        (500, b"<HTML><BODY>oops</BODY></HTML>", "not a WS-Management answer"),
    ],
)
def test_http_errors_without_a_soap_body_are_unreachable(status: int, body: bytes, message: str) -> None:
    error = fault_from_http(ENDPOINT, status, body)
    assert error.__class__ is WSManUnreachable
    assert message in error.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (fixture("hostile-external-entity.xml"), "HTTP 500 from .*DOCTYPE"),
        (fixture("malformed-truncated.xml"), "HTTP 500 from .*malformed XML"),
        (fixture("get-instance_Win32_LogicalDisk_selector-DeviceId.xml"), "HTTP 500 from .*not a SOAP fault"),
    ],
)
def test_http_500_with_bad_xml_is_a_protocol_error(body: bytes, message: str) -> None:
    error = fault_from_http(ENDPOINT, 500, body)
    assert error.__class__ is WSManProtocolError
    with pytest.raises(WSManProtocolError, match=message):
        raise error
