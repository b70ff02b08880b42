# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WmiClient.invoke: the request Windows expects and typed out-parameters from real and inferred _OUTPUTs."""

from __future__ import annotations

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WMI_URI, WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wmi_schema import METHOD_TYPES
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    WSManFault,
    WSManInvalidSelectors,
    WSManProtocolError,
    WSManTimeout,
    qname,
)
from ansible_collections.winact.kms.tests.unit.plugins.plugin_utils.wsman_fakes import (
    FakeTransport,
    Reply,
    action_of,
    body_of,
    fixture,
    resource_uri_of,
    selectors_of,
)

REGPROV = f"{WMI_URI}/root/default/StdRegProv"
SLS = f"{WMI_URI}/root/cimv2/SoftwareLicensingService"
SPP_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
HKLM = 2147483650


def _client(*replies: Reply | bytes | BaseException) -> tuple[WmiClient, FakeTransport]:
    transport = FakeTransport(*replies)
    return WmiClient(transport), transport


def test_static_method_request_shape() -> None:
    client, transport = _client(fixture("invoke-StdRegProv-GetMultiStringValue_OUTPUT_1-element.xml"))
    client.invoke(
        "StdRegProv",
        "GetMultiStringValue",
        {"hDefKey": HKLM, "sSubKeyName": SPP_KEY, "sValueName": "DnsDomainPublishList"},
        namespace="root\\default",
    )
    (request,) = transport.requests
    assert resource_uri_of(request) == REGPROV
    assert action_of(request) == f"{REGPROV}/GetMultiStringValue"
    assert selectors_of(request) == {}
    (method_input,) = list(body_of(request))
    assert method_input.tag == qname(REGPROV, "GetMultiStringValue_INPUT")
    assert [(child.tag, child.text) for child in method_input] == [
        (qname(REGPROV, "hDefKey"), "2147483650"),
        (qname(REGPROV, "sSubKeyName"), SPP_KEY),
        (qname(REGPROV, "sValueName"), "DnsDomainPublishList"),
    ]
    assert client.requests == 1


def test_instance_method_with_selectors_and_typed_inputs() -> None:
    client, transport = _client(fixture("invoke-SoftwareLicensingService-InstallProductKey_OUTPUT.xml"))
    out = client.invoke(
        "SoftwareLicensingService",
        "InstallProductKey",
        {"ProductKey": "WX4NM-KYWYW-QJJR4-XV3QB-6VM33", "Flag": True, "Off": False, "Port": 1688, "Skipped": None},
        selectors={"Version": "10.0.20348.1"},
    )
    assert out == {"ReturnValue": 0}
    (request,) = transport.requests
    assert resource_uri_of(request) == SLS
    assert action_of(request) == f"{SLS}/InstallProductKey"
    assert selectors_of(request) == {"Version": "10.0.20348.1"}
    (method_input,) = list(body_of(request))
    assert method_input.tag == qname(SLS, "InstallProductKey_INPUT")
    assert [(child.tag.split("}")[1], child.text) for child in method_input] == [
        ("ProductKey", "WX4NM-KYWYW-QJJR4-XV3QB-6VM33"),
        ("Flag", "true"),
        ("Off", "false"),
        ("Port", "1688"),
    ]
    assert all(child.tag.startswith(f"{{{SLS}}}") for child in method_input)


def test_method_without_parameters_sends_an_empty_input_element() -> None:
    client, transport = _client(fixture("invoke-SoftwareLicensingService-InstallProductKey_OUTPUT.xml"))
    with pytest.raises(WSManProtocolError, match="expected <RefreshLicenseStatus_OUTPUT>"):
        client.invoke("SoftwareLicensingService", "RefreshLicenseStatus", selectors={"Version": "1"})
    assert b'<p:RefreshLicenseStatus_INPUT xmlns:p="' + SLS.encode() + b'"/>' in transport.sent[0]


def test_list_inputs_become_repeated_elements() -> None:
    output = fixture("invoke-StdRegProv-GetMultiStringValue_OUTPUT_0-elements.xml").replace(
        b"GetMultiStringValue_OUTPUT", b"SetMultiStringValue_OUTPUT"
    )
    client, transport = _client(output)
    values = ["east.example.com", "0", "west.example.com"]
    client.invoke("StdRegProv", "SetMultiStringValue", {"sSubKeyName": "K", "sValue": values}, namespace="root/default")
    method_input = list(body_of(transport.requests[0]))[0]
    assert [child.text for child in method_input if child.tag == qname(REGPROV, "sValue")] == values


def test_enum_key_recording_from_windows() -> None:
    client = _client(fixture("invoke-static-method-response_StdRegProv-EnumKey_OUTPUT_array_ws2003.xml"))[0]
    out = client.invoke("StdRegProv", "EnumKey", {"hDefKey": HKLM, "sSubKeyName": "SOFTWARE"}, namespace="root/default")
    assert out["ReturnValue"] == 0
    assert len(out["sNames"]) == 26
    assert out["sNames"][:3] == ["AddressBook", "Branding", "Connection Manager"]
    assert out["sNames"][-1] == "{F8FBDC28-C265-4F0D-8B91-6E92913E19F6}"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("invoke-StdRegProv-GetMultiStringValue_OUTPUT_0-elements.xml", {"sValue": [], "ReturnValue": 0}),
        (
            "invoke-StdRegProv-GetMultiStringValue_OUTPUT_1-element.xml",
            {"sValue": ["kms01.corp.example.com"], "ReturnValue": 0},
        ),
        (
            "invoke-StdRegProv-GetMultiStringValue_OUTPUT_many-elements.xml",
            {"sValue": ["east.example.com", "0", "  spaced value  ", "west & north.example.com"], "ReturnValue": 0},
        ),
        ("invoke-StdRegProv-GetMultiStringValue_OUTPUT_value-missing.xml", {"sValue": None, "ReturnValue": 1}),
    ],
)
def test_get_multi_string_value_arrays_are_driven_by_the_schema(name: str, expected: dict[str, object]) -> None:
    client = _client(fixture(name))[0]
    assert (
        client.invoke("StdRegProv", "GetMultiStringValue", {"sSubKeyName": "K"}, namespace="root/default") == expected
    )


def test_enum_values_null_arrays() -> None:
    client = _client(fixture("invoke-StdRegProv-EnumValues_OUTPUT_null-arrays.xml"))[0]
    out = client.invoke("StdRegProv", "EnumValues", {"sSubKeyName": SPP_KEY}, namespace="root/default")
    assert out == {"sNames": None, "Types": None, "ReturnValue": 0}


def test_enum_values_parallel_arrays_are_typed() -> None:
    client = _client(fixture("invoke-StdRegProv-EnumValues_OUTPUT_arrays.xml"))[0]
    out = client.invoke("StdRegProv", "EnumValues", {"sSubKeyName": SPP_KEY}, namespace="root/default")
    assert out == {"sNames": ["KeyManagementServiceName", "VLActivationInterval"], "Types": [1, 4], "ReturnValue": 0}


def test_return_value_above_two_to_the_31() -> None:
    client = _client(fixture("invoke-StdRegProv-GetDWORDValue_OUTPUT_type-mismatch.xml"))[0]
    out = client.invoke(
        "StdRegProv", "GetDWORDValue", {"sSubKeyName": "K", "sValueName": "V"}, namespace="root/default"
    )
    assert out == {"uValue": None, "ReturnValue": 0x80041005}


def test_method_outside_the_schema_still_types_return_value() -> None:
    assert ("Win32_Process", "Create") not in METHOD_TYPES
    output = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:RelatesTo>x</a:RelatesTo>'
        f'</s:Header><s:Body><p:Create_OUTPUT xmlns:p="{WMI_URI}/root/cimv2/Win32_Process">'
        "<p:ProcessId>4000</p:ProcessId><p:ReturnValue>0</p:ReturnValue></p:Create_OUTPUT></s:Body></s:Envelope>"
    )
    client = _client(output.encode())[0]
    assert client.invoke("Win32_Process", "Create", {"CommandLine": "x"}) == {"ProcessId": "4000", "ReturnValue": 0}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "expected <InstallProductKey_OUTPUT> .* got nothing"),
        ("<p:Other_OUTPUT/>", "got <Other_OUTPUT>"),
        ("<p:InstallProductKey_OUTPUT/><p:InstallProductKey_OUTPUT/>", "got <InstallProductKey_OUTPUT>, <Install"),
        ("<p:InstallProductKey_OUTPUT/>", "has no ReturnValue"),
        ('<p:InstallProductKey_OUTPUT><p:ReturnValue xsi:nil="true"/></p:InstallProductKey_OUTPUT>', "no ReturnValue"),
        ("<p:InstallProductKey_OUTPUT><p:ReturnValue>zero</p:ReturnValue></p:InstallProductKey_OUTPUT>", "integer"),
        (
            "<p:InstallProductKey_OUTPUT><p:ReturnValue>0</p:ReturnValue><p:ReturnValue>1</p:ReturnValue>"
            "</p:InstallProductKey_OUTPUT>",
            "appears 2 times but is not an array",
        ),
    ],
)
def test_unexpected_output_shapes_are_protocol_errors(body: str, message: str) -> None:
    xml = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<s:Header><a:RelatesTo>x</a:RelatesTo></s:Header><s:Body xmlns:p="{SLS}">{body}</s:Body></s:Envelope>'
    )
    client = _client(xml.encode())[0]
    with pytest.raises(WSManProtocolError, match=message):
        client.invoke("SoftwareLicensingService", "InstallProductKey", {"ProductKey": "K"}, selectors={"Version": "1"})


@pytest.mark.parametrize(
    "name", ["fault-method-sl-hresult_msft-wmierror.xml", "fault-method-sl-hresult_providerfault.xml"]
)
def test_sl_hresult_faults_reach_the_caller_typed(name: str) -> None:
    client = _client(Reply(fixture(name), status=500))[0]
    with pytest.raises(WSManFault) as caught:
        client.invoke("SoftwareLicensingService", "InstallProductKey", {"ProductKey": "K"}, selectors={"Version": "1"})
    assert caught.value.hresult == 0xC004F050
    assert caught.value.to_dict()["hresult"] == "0xC004F050"
    assert client.requests == 1


def test_invalid_selectors_and_timeouts() -> None:
    client = _client(
        Reply(fixture("fault-invalid-selectors_wsmanfault.xml"), status=500),
        Reply(fixture("fault-operation-timeout_2150858793.xml"), status=500),
    )[0]
    with pytest.raises(WSManInvalidSelectors):
        client.invoke("SoftwareLicensingService", "RefreshLicenseStatus")
    with pytest.raises(WSManTimeout, match="may still be running"):
        client.invoke("SoftwareLicensingProduct", "Activate", selectors={"ID": "x"})
    assert client.requests == 2


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("Bad Class", "M"), ValueError, "WMI class name"),
        (("C", "M/../x"), ValueError, "method name"),
        (("C", "M", {"bad name": 1}), ValueError, "parameter name"),
        (("C", "M", {"When": 1.5}), TypeError, "cannot send a float"),
        (("C", "M", {"Nested": [[1]]}), TypeError, "cannot send a list"),
    ],
)
def test_caller_mistakes_fail_before_any_request(args: tuple[object, ...], error: type, message: str) -> None:
    client, transport = _client()
    with pytest.raises(error, match=message):
        client.invoke(*args)  # type: ignore[arg-type]
    assert transport.sent == []


@pytest.mark.parametrize("namespace", ["root/cimv2", "root\\cimv2", "/root/cimv2/", "root\\\\cimv2"])
def test_namespace_spellings(namespace: str) -> None:
    client, transport = _client(fixture("invoke-SoftwareLicensingService-InstallProductKey_OUTPUT.xml"))
    client.invoke("SoftwareLicensingService", "InstallProductKey", {"ProductKey": "K"}, namespace=namespace)
    assert resource_uri_of(transport.requests[0]) == SLS


@pytest.mark.parametrize("namespace", ["", "root/cim v2", "root/../x"])
def test_bad_namespaces(namespace: str) -> None:
    client = _client()[0]
    with pytest.raises(ValueError, match="namespace"):
        client.invoke("SoftwareLicensingService", "InstallProductKey", namespace=namespace)


def test_every_schema_method_declares_return_value() -> None:
    assert METHOD_TYPES
    for (class_name, method), outputs in METHOD_TYPES.items():
        assert outputs.get("ReturnValue") == "uint32", (class_name, method)


def test_caller_mistakes_are_not_counted_as_requests() -> None:
    client, transport = _client()
    with pytest.raises(TypeError, match="must be a string"):
        client.invoke("SoftwareLicensingService", "InstallProductKey", selectors={"Version": 10})  # type: ignore[dict-item]
    assert (client.requests, transport.sent) == (0, [])


def test_schema_lookup_ignores_case_like_wmi() -> None:
    client = _client(fixture("invoke-StdRegProv-GetMultiStringValue_OUTPUT_1-element.xml"))[0]
    out = client.invoke("stdregprov", "getmultistringvalue", {"sSubKeyName": "K"}, namespace="root/default")
    assert out == {"sValue": ["kms01.corp.example.com"], "ReturnValue": 0}


@pytest.mark.parametrize(("read_timeout", "expected"), [(30, 25), (90, 60), (5.5, 1), (3, 1)])
def test_default_operation_timeout(read_timeout: float, expected: float) -> None:
    assert WmiClient(FakeTransport(read_timeout=read_timeout)).operation_timeout == expected


@pytest.mark.parametrize(("read_timeout", "operation_timeout"), [(30, 30), (30, 45), (30, 0), (30, -1), (1, None)])
def test_operation_timeout_must_stay_below_the_read_timeout(
    read_timeout: float, operation_timeout: float | None
) -> None:
    with pytest.raises(ValueError, match="below the transport read timeout"):
        WmiClient(FakeTransport(read_timeout=read_timeout), operation_timeout=operation_timeout)


def test_explicit_operation_timeout_is_sent() -> None:
    transport = FakeTransport(fixture("invoke-SoftwareLicensingService-InstallProductKey_OUTPUT.xml"))
    WmiClient(transport, operation_timeout=12.5).invoke("SoftwareLicensingService", "InstallProductKey")
    assert b"<w:OperationTimeout>PT12.5S</w:OperationTimeout>" in transport.sent[0]
