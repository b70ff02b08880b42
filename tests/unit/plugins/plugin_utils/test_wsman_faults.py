# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault decoding: recorded Windows faults and the inferred SPP shapes map to typed, explained errors."""

from __future__ import annotations

import json

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._results import hresult_hex
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    WSManAccessDenied,
    WSManClassNotFound,
    WSManError,
    WSManFault,
    WSManInvalidSelectors,
    WSManNotFound,
    WSManProtocolError,
    WSManQuotaExceeded,
    WSManTimeout,
    WSManUnreachable,
    decode_fault,
)
from ansible_collections.winact.kms.tests.unit.plugins.plugin_utils.wsman_fakes import fixture

SL_E_INVALID_PRODUCT_KEY = 0xC004F050
SL_MESSAGE = "The Software Licensing Service reported that the product key is invalid."


@pytest.mark.parametrize(
    ("code", "text"),
    [(0xC004F050, "0xC004F050"), (5, "0x00000005"), (2150858793, "0x80338029"), (-1073418160, "0xC004F050")],
)
def test_hresult_hex(code: int, text: str) -> None:
    assert hresult_hex(code) == text


def test_invalid_selectors_recording() -> None:
    fault = decode_fault(fixture("fault-invalid-selectors_wsmanfault.xml"))
    assert fault.__class__ is WSManInvalidSelectors
    assert (fault.code, fault.subcode) == ("Sender", "w:InvalidSelectors")
    assert fault.wsman_code == 2150858843
    assert fault.hresult == 0x8033805B
    assert fault.provider_message == (
        "The WS-Management service cannot process the request because the request contained invalid "
        "selectors for the resource."
    )
    assert fault.message.startswith("invalid selectors: the request must name exactly the key properties")
    assert fault.message.endswith("(HRESULT 0x8033805B)")


def test_operation_timeout_recording_says_it_may_still_be_running() -> None:
    fault = decode_fault(fixture("fault-operation-timeout_2150858793.xml"))
    assert fault.__class__ is WSManTimeout
    assert (fault.code, fault.subcode, fault.wsman_code) == ("Receiver", "w:TimedOut", 2150858793)
    assert "may still be running" in fault.message
    assert "within the time specified in OperationTimeout." in fault.message
    assert fault.provider_message is None
    assert fault.reason == (
        "The WS-Management service cannot complete the operation within the time specified in OperationTimeout."
    )


def test_class_not_found_recording_with_pretty_printed_codes() -> None:
    fault = decode_fault(fixture("fault-wql-class-not-found_wmi-provider_ws2008r2.xml"))
    assert fault.__class__ is WSManClassNotFound
    # The recording is indented: code and subcode must come out stripped.
    assert (fault.code, fault.subcode) == ("Sender", "n:CannotProcessFilter")
    assert fault.wsman_code == 2150858778
    assert fault.provider_message == "The specified class does not exist in the given namespace."
    assert fault.extended_status == {
        "Description": None,
        "Operation": "ExecQuery",
        "ParameterInfo": 'Select * from Win32_Processa where name="sshd.exe"',
        "ProviderName": "WinMgmt",
        "StatusCode": None,
    }
    assert fault.message == (
        "the WMI class or namespace does not exist on the host: "
        "The specified class does not exist in the given namespace. (HRESULT 0x8033801A)"
    )


def test_quota_recording_with_msft_wmierror() -> None:
    fault = decode_fault(fixture("fault-msft-wmierror-quota_shells.xml"))
    assert fault.__class__ is WSManQuotaExceeded
    assert (fault.subcode, fault.hresult, fault.wsman_code) == ("w:QuotaLimit", 2150859173, None)
    assert fault.provider_message is not None and "maximum number of 30 concurrent shells" in fault.provider_message
    assert "WinRM quota" in fault.message and "(HRESULT 0x803381A5)" in fault.message


def test_sl_hresult_in_msft_wmierror_shape() -> None:
    fault = decode_fault(fixture("fault-method-sl-hresult_msft-wmierror.xml"))
    assert fault.__class__ is WSManFault
    assert fault.hresult == SL_E_INVALID_PRODUCT_KEY
    assert (fault.code, fault.subcode) == ("Receiver", "w:InternalError")
    assert fault.provider_message == SL_MESSAGE
    assert fault.message == f"WS-Management fault w:InternalError: {SL_MESSAGE} (HRESULT 0xC004F050)"


def test_sl_hresult_in_provider_fault_shape() -> None:
    fault = decode_fault(fixture("fault-method-sl-hresult_providerfault.xml"))
    assert fault.__class__ is WSManFault
    assert fault.hresult == SL_E_INVALID_PRODUCT_KEY
    assert fault.wsman_code == SL_E_INVALID_PRODUCT_KEY
    assert fault.provider_message == SL_MESSAGE
    assert fault.extended_status is not None and fault.extended_status["Operation"] == "ExecMethod"
    assert "(HRESULT 0xC004F050)" in fault.message


def test_wql_fault_prefers_the_wmi_status_code() -> None:
    fault = decode_fault(fixture("fault-wql-invalid-query_wmi-provider.xml"))
    assert fault.__class__ is WSManFault
    assert fault.subcode == "n:CannotProcessFilter"
    assert fault.wsman_code == 2150858778
    assert fault.hresult == 0x80041017  # __ExtendedStatus StatusCode beats the generic WinRM code
    assert fault.provider_message == "The query is not valid."


def test_access_denied() -> None:
    fault = decode_fault(fixture("fault-access-denied_wsmanfault.xml"))
    assert fault.__class__ is WSManAccessDenied
    assert fault.hresult == 5
    assert "Administrators group" in fault.message and "LocalAccountTokenFilterPolicy" in fault.message


def test_winrm2_numeric_code_without_subcode() -> None:
    fault = decode_fault(fixture("fault-winrm2-numeric-only_invalid-selectors.xml"))
    assert fault.__class__ is WSManInvalidSelectors
    assert (fault.code, fault.subcode, fault.wsman_code) == ("Sender", None, 2150858843)


def test_instance_not_found() -> None:
    fault = decode_fault(fixture("fault-instance-not-found_msft-wmierror.xml"))
    assert fault.__class__ is WSManNotFound
    assert fault.hresult == 0x80041002


@pytest.mark.parametrize(
    ("subcode", "code", "expected"),
    [
        ("w:TimedOut", None, WSManTimeout),
        (None, "2150858793", WSManTimeout),
        ("w:QuotaLimit", None, WSManQuotaExceeded),
        (None, "2150859174", WSManQuotaExceeded),
        ("w:AccessDenied", None, WSManAccessDenied),
        (None, "2147942405", WSManAccessDenied),
        (None, "0x80041003", WSManAccessDenied),
        ("w:InvalidSelectors", None, WSManInvalidSelectors),
        (None, "2147749904", WSManClassNotFound),
        (None, "2147749902", WSManClassNotFound),
        (None, "2147749890", WSManNotFound),
        ("w:SchemaValidationError", "2150858817", WSManFault),
        (None, "-2147024891", WSManAccessDenied),  # signed rendering of 0x80070005
    ],
)
def test_mapping_by_subcode_or_numeric_code(subcode: str | None, code: str | None, expected: type) -> None:
    sub = f"<s:Subcode><s:Value>{subcode}</s:Value></s:Subcode>" if subcode else ""
    detail = (
        f'<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="{code}">'
        "<f:Message>detail text</f:Message></f:WSManFault>"
        if code
        else ""
    )
    xml = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault>'
        f"<s:Code><s:Value>s:Sender</s:Value>{sub}</s:Code>"
        '<s:Reason><s:Text xml:lang="en-US">reason text</s:Text></s:Reason>'
        f"<s:Detail>{detail}</s:Detail></s:Fault></s:Body></s:Envelope>"
    )
    fault = decode_fault(xml.encode())
    assert fault.__class__ is expected
    assert ("detail text" if code else "reason text") in fault.message


def test_minimal_fault_without_detail_or_reason() -> None:
    xml = (
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault>'
        b"<s:Code><s:Value>s:Receiver</s:Value></s:Code></s:Fault></s:Body></s:Envelope>"
    )
    fault = decode_fault(xml)
    assert fault.__class__ is WSManFault
    assert (fault.code, fault.subcode, fault.hresult, fault.reason) == ("Receiver", None, None, None)
    assert fault.message == "WS-Management fault Receiver: no message from the host"


def test_unparseable_codes_are_ignored_not_fatal() -> None:
    xml = (
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault>'
        b"<s:Code><s:Value>s:Sender</s:Value></s:Code><s:Detail>"
        b'<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="bogus"/>'
        b"</s:Detail></s:Fault></s:Body></s:Envelope>"
    )
    fault = decode_fault(xml)
    assert (fault.wsman_code, fault.hresult) == (None, None)


@pytest.mark.parametrize(
    "name",
    [
        "get-instance_Win32_LogicalDisk_selector-DeviceId.xml",
        "invoke-static-method-response_StdRegProv-EnumKey_OUTPUT_array_ws2003.xml",
    ],
)
def test_a_response_that_is_not_a_fault_is_a_protocol_error(name: str) -> None:
    with pytest.raises(WSManProtocolError, match="not a SOAP fault"):
        decode_fault(fixture(name))


def test_hostile_fault_is_refused() -> None:
    with pytest.raises(WSManProtocolError, match="DOCTYPE"):
        decode_fault(fixture("hostile-external-entity.xml"))


def test_to_dict_is_json_able_and_complete() -> None:
    fault = decode_fault(fixture("fault-wql-class-not-found_wmi-provider_ws2008r2.xml"))
    detail = json.loads(json.dumps(fault.to_dict()))
    assert detail["type"] == "WSManClassNotFound"
    assert detail["message"] == fault.message
    assert detail["hresult"] == "0x8033801A"
    assert detail["code"] == "Sender"
    assert detail["subcode"] == "n:CannotProcessFilter"
    assert detail["wsman_code"] == 2150858778
    assert detail["provider_message"] == "The specified class does not exist in the given namespace."
    assert detail["extended_status"]["Operation"] == "ExecQuery"


def test_to_dict_of_plain_errors() -> None:
    assert WSManUnreachable("gone").to_dict() == {"type": "WSManUnreachable", "message": "gone", "hresult": None}
    error = WSManError("x", hresult=-1)
    assert (str(error), error.hresult, error.to_dict()["hresult"]) == ("x", 0xFFFFFFFF, "0xFFFFFFFF")
    assert isinstance(WSManTimeout("t"), WSManFault)
