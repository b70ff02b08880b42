"""The WMI plugin: method invocation (custom actions), WS-Transfer Get, and their faults."""

from __future__ import annotations

import typing as t

import pytest
from winemu_lib import soap

if t.TYPE_CHECKING:
    from .conftest import RunningFleet

SPP_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"


def out(fleet: RunningFleet, reply_body: t.Any, uri: str, method: str) -> dict[str, list[str | None]]:
    """The children of <p:Method_OUTPUT> as {name: [texts]} (repeated elements kept)."""
    element = reply_body.find(f"s:Body/{{{uri}}}{method}_OUTPUT", fleet.NAMESPACES)
    assert element is not None
    result: dict[str, list[str | None]] = {}
    for child in element:
        result.setdefault(child.tag.rpartition("}")[2], []).append(child.text)
    return result


def test_static_method_invoke(fleet: RunningFleet) -> None:
    reply = fleet.invoke(
        fleet.REG_URI,
        "GetStringValue",
        {"hDefKey": fleet.HKLM, "sSubKeyName": SPP_KEY, "sValueName": "KeyManagementServiceName"},
    )
    assert reply.status == 200
    assert reply.action == f"{fleet.REG_URI}/GetStringValueResponse"
    assert out(fleet, reply.xml(), fleet.REG_URI, "GetStringValue") == {
        "sValue": ["kms01.corp.example.com"],
        "ReturnValue": ["0"],
    }
    assert fleet.endpoint().stats_dict()["requests"]["by_method"] == {"StdRegProv.GetStringValue": 1}


def test_static_method_in_root_cimv2_and_case_insensitive_names(fleet: RunningFleet) -> None:
    uri = soap.WMI_URI_PREFIX + "root/cimv2/stdregprov"
    reply = fleet.wsman(
        f"{uri}/getstringvalue",
        uri,
        f'<p:GetStringValue_INPUT xmlns:p="{uri}"><p:hdefkey>{fleet.HKLM}</p:hdefkey>'
        f"<p:SSUBKEYNAME>{SPP_KEY.lower()}</p:SSUBKEYNAME><p:sValueName>keymanagementservicename</p:sValueName>"
        "</p:GetStringValue_INPUT>",
    )
    assert reply.status == 200
    canonical = soap.WMI_URI_PREFIX + "root/cimv2/StdRegProv"
    assert out(fleet, reply.xml(), canonical, "GetStringValue")["sValue"] == ["kms01.corp.example.com"]


def test_array_output_and_input(fleet: RunningFleet) -> None:
    set_reply = fleet.invoke(
        fleet.REG_URI,
        "SetMultiStringValue",
        {"hDefKey": fleet.HKLM, "sSubKeyName": SPP_KEY, "sValueName": "Multi", "sValue": ["one", "two & three"]},
    )
    assert out(fleet, set_reply.xml(), fleet.REG_URI, "SetMultiStringValue") == {"ReturnValue": ["0"]}
    get_reply = fleet.invoke(
        fleet.REG_URI, "GetMultiStringValue", {"hDefKey": fleet.HKLM, "sSubKeyName": SPP_KEY, "sValueName": "multi"}
    )
    assert out(fleet, get_reply.xml(), fleet.REG_URI, "GetMultiStringValue")["sValue"] == ["one", "two & three"]
    assert fleet.machine().writes == 1


def test_instance_method_with_selectors_and_writes(fleet: RunningFleet) -> None:
    reply = fleet.invoke(fleet.SERVICE_URI, "StartService", selectors={"name": "SPPSVC"})
    assert reply.status == 200
    assert out(fleet, reply.xml(), fleet.SERVICE_URI, "StartService") == {"ReturnValue": ["0"]}
    assert fleet.machine().services[0]["State"] == "Running"
    stats = fleet.endpoint().stats_dict()
    assert stats["writes"] == 1
    assert stats["requests"]["by_method"] == {"Win32_Service.StartService": 1}
    assert stats["requests"]["by_action"] == {"Invoke": 1}


def test_output_typing_nil_datetime_and_arrays(fleet: RunningFleet) -> None:
    reply = fleet.invoke(
        fleet.SERVICE_URI,
        "Describe",
        {"Verbose": True, "Since": fleet.INSTALL_DATE, "Tags": ["a"]},
        selectors={"Name": "sppsvc"},
    )
    assert reply.status == 200, reply.body
    element = reply.find(f"s:Body/{{{fleet.SERVICE_URI}}}Describe_OUTPUT")
    assert element is not None
    p = "{" + fleet.SERVICE_URI + "}"
    assert [child.tag[len(p) :] for child in element] == ["Text", "Tags", "Tags", "Seen", "Missing", "ReturnValue"]
    text = element.findtext(p + "Text") or ""
    assert "verbose=True" in text and "2024, 5, 1, 8, 30, 15" in text  # inputs arrived typed
    assert [tag.text for tag in element.findall(p + "Tags")] == ["a", "seen"]
    assert element.findtext(f"{p}Seen/{{{soap.NS_CIM}}}Datetime") == "2024-05-01T08:30:15Z"
    missing = element.find(p + "Missing")
    assert missing is not None and missing.get(f"{{{soap.NS_XSI}}}nil") == "true"


@pytest.mark.parametrize(
    ("selectors", "detail"),
    [
        ({}, "InsufficientSelectors"),
        ({"Name": "sppsvc", "Extra": "1"}, "UnexpectedSelectors"),
        ({"DisplayName": "Software Protection"}, "UnexpectedSelectors"),
    ],
)
def test_instance_method_needs_exact_key_selectors(fleet: RunningFleet, selectors: dict[str, str], detail: str) -> None:
    reply = fleet.invoke(fleet.SERVICE_URI, "StartService", selectors=selectors)
    assert reply.status == 500
    assert reply.subcode == "w:InvalidSelectors"
    assert reply.wsman_code == 2150858843
    assert reply.text("s:Body/s:Fault/s:Detail/w:FaultDetail") == (
        f"http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/{detail}"
    )
    assert fleet.machine().services[0]["State"] == "Stopped"


def test_static_method_refuses_selectors(fleet: RunningFleet) -> None:
    reply = fleet.invoke(fleet.REG_URI, "EnumKey", {"sSubKeyName": "SOFTWARE"}, selectors={"Name": "x"})
    assert reply.status == 500 and reply.subcode == "w:InvalidSelectors"


def test_unknown_instance_is_destination_unreachable(fleet: RunningFleet) -> None:
    reply = fleet.invoke(fleet.SERVICE_URI, "StartService", selectors={"Name": "nosuch"})
    assert reply.status == 500
    assert reply.subcode == "a:DestinationUnreachable"
    assert reply.wsman_code == 2150858752
    assert reply.provider_code == 0x80041002


def test_provider_error_fault(fleet: RunningFleet) -> None:
    reply = fleet.invoke(fleet.SERVICE_URI, "Break", selectors={"Name": "sppsvc"})
    assert reply.status == 500
    assert reply.text("s:Body/s:Fault/s:Code/s:Value") == "s:Receiver"
    assert reply.subcode == "w:InternalError"
    assert reply.wsman_code == fleet.SPP_ERROR
    assert reply.provider_code == fleet.SPP_ERROR
    message = reply.text("s:Body/s:Fault/s:Detail/f:WSManFault/f:Message/f:ProviderFault/f:WSManFault/f:Message")
    assert message is not None and "KMS" in message


def test_non_admin_is_refused_on_every_request_with_winrms_access_denied(fleet: RunningFleet) -> None:
    """Windows' RootSDDL and WMI namespace rights admit Administrators only: the fault comes before any WMI."""
    replies = [
        fleet.invoke(fleet.SERVICE_URI, "StartService", selectors={"Name": "sppsvc"}, credentials=fleet.OPERATOR),
        fleet.invoke(
            fleet.REG_URI,
            "SetStringValue",
            {"hDefKey": fleet.HKLM, "sSubKeyName": SPP_KEY, "sValueName": "X", "sValue": "y"},
            credentials=fleet.OPERATOR,
        ),
        fleet.get(fleet.SERVICE_URI, {"Name": "sppsvc"}, credentials=fleet.OPERATOR),
        fleet.enumerate("SELECT * FROM Win32_Service", credentials=fleet.OPERATOR),
        fleet.get(soap.CONFIG_URI, {}, credentials=fleet.OPERATOR),
    ]
    for reply in replies:
        assert reply.status == 500
        assert reply.subcode == "w:InternalError"
        assert reply.wsman_code == 0x80070005
        assert "Access is denied." in (reply.text("s:Body/s:Fault/s:Reason/s:Text") or "")
    assert fleet.machine().writes == 0
    assert fleet.endpoint().stats_dict()["requests"]["by_method"] == {}


def test_invalid_parameter_fault(fleet: RunningFleet) -> None:
    bad_type = fleet.invoke(fleet.REG_URI, "GetStringValue", {"hDefKey": "HKLM"})
    assert bad_type.status == 500 and bad_type.subcode == "w:InvalidParameter"
    assert bad_type.provider_code == 0x80041008
    unknown = fleet.invoke(fleet.REG_URI, "GetStringValue", {"sNope": "1"})
    assert unknown.status == 500 and unknown.subcode == "w:InvalidParameter"
    rejected = fleet.invoke(fleet.SERVICE_URI, "ChangeStartMode", {"StartMode": "Often"}, selectors={"Name": "sppsvc"})
    assert rejected.status == 500 and rejected.subcode == "w:InvalidParameter"


def test_unknown_method_and_class(fleet: RunningFleet) -> None:
    method = fleet.invoke(fleet.REG_URI, "Explode")
    assert method.status == 500 and method.subcode == "a:ActionNotSupported"
    assert method.provider_code == 0x8004102E
    uri = soap.WMI_URI_PREFIX + "root/cimv2/Win32_Nothing"
    cls = fleet.invoke(uri, "Go")
    assert cls.status == 500 and cls.subcode == "a:DestinationUnreachable"
    assert cls.provider_code == 0x80041010
    namespace = fleet.invoke(soap.WMI_URI_PREFIX + "root/nothing/StdRegProv", "EnumKey")
    assert namespace.status == 500 and namespace.provider_code == 0x80041010


def test_action_must_belong_to_the_resource_uri(fleet: RunningFleet) -> None:
    other = soap.WMI_URI_PREFIX + "root/default/Other"
    reply = fleet.wsman(f"{other}/GetStringValue", fleet.REG_URI)
    assert reply.status == 500 and reply.subcode == "a:ActionNotSupported"


def test_unknown_resource_uri(fleet: RunningFleet) -> None:
    reply = fleet.wsman(soap.ACTION_GET, "http://schemas.example.com/nothing")
    assert reply.status == 500 and reply.subcode == "a:DestinationUnreachable"


def test_put_on_wmi_is_not_supported(fleet: RunningFleet) -> None:
    reply = fleet.wsman(soap.ACTION_PUT, fleet.SERVICE_URI, selectors={"Name": "sppsvc"})
    assert reply.status == 500 and reply.subcode == "a:ActionNotSupported"
    assert "emulator" in (reply.text("s:Body/s:Fault/s:Reason/s:Text") or "")


# --------------------------------------------------------------------------- Get


def test_get_returns_the_instance_element(fleet: RunningFleet) -> None:
    reply = fleet.get(fleet.SERVICE_URI, {"Name": "SppSvc"})
    assert reply.status == 200
    assert reply.action == "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"
    body = reply.find("s:Body")
    assert body is not None and len(body) == 1
    element = body[0]
    p = "{" + fleet.SERVICE_URI + "}"
    assert element.tag == p + "Win32_Service"
    assert element.get(f"{{{soap.NS_XSI}}}type") == "p:Win32_Service_Type"
    assert [child.tag[len(p) :] for child in element] == [
        "Name",
        "DisplayName",
        "Description",
        "ProcessId",
        "Started",
        "StartMode",
        "State",
        "InstallDate",
    ]
    assert element.findtext(p + "Started") == "false"
    assert element.findtext(f"{p}InstallDate/{{{soap.NS_CIM}}}Datetime") == "2024-05-01T08:30:15Z"
    description = element.find(p + "Description")
    assert description is not None and description.get(f"{{{soap.NS_XSI}}}nil") == "true"
    assert fleet.endpoint().stats_dict()["requests"]["by_method"] == {"get:Win32_Service": 1}


def test_get_renders_arrays_and_escapes(fleet: RunningFleet) -> None:
    reply = fleet.get(fleet.SERVICE_URI, {"Name": "svc005"})
    p = "{" + fleet.SERVICE_URI + "}"
    element = reply.find(f"s:Body/{p}Win32_Service")
    assert element is not None
    assert element.findtext(p + "DisplayName") == "Service <5> & co"
    assert [e.text for e in element.findall(p + "DependentServices")] == ["dep5a", "dep5b"]


def test_get_faults(fleet: RunningFleet) -> None:
    missing = fleet.get(fleet.SERVICE_URI, {})
    assert missing.status == 500 and missing.subcode == "w:InvalidSelectors"
    unknown = fleet.get(fleet.SERVICE_URI, {"Name": "nosuch"})
    assert unknown.status == 500 and unknown.subcode == "a:DestinationUnreachable"
    assert unknown.provider_code == 0x80041002
    keyless = fleet.get(fleet.REG_URI, {})
    assert keyless.status == 500 and keyless.subcode == "w:InvalidSelectors"


def test_get_of_the_service_configuration(fleet: RunningFleet) -> None:
    reply = fleet.wsman(soap.ACTION_GET, soap.CONFIG_URI)
    assert reply.status == 200
    assert reply.text(f"s:Body/{{{soap.NS_CFG}}}Config/{{{soap.NS_CFG}}}MaxEnvelopeSizekb") == "500"


def test_an_emulator_bug_is_an_internal_error_fault(fleet: RunningFleet, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise KeyError("oops")

    monkeypatch.setattr(fleet.machine(), "instances", broken)
    reply = fleet.get(fleet.SERVICE_URI, {"Name": "sppsvc"})
    assert reply.status == 500 and reply.subcode == "w:InternalError"
    assert "KeyError" in (reply.text("s:Body/s:Fault/s:Reason/s:Text") or "")


def test_response_larger_than_max_envelope_size_is_a_fault(fleet: RunningFleet) -> None:
    big = "x" * 20000
    fleet.machine().services[1]["Description"] = big
    reply = fleet.get(fleet.SERVICE_URI, {"Name": "svc001"}, max_envelope_size=8192)
    assert reply.status == 500 and reply.subcode == "w:EncodingLimit"
    assert fleet.get(fleet.SERVICE_URI, {"Name": "svc001"}, max_envelope_size=153600).status == 200
