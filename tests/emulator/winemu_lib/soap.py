"""SOAP / WS-Management wire format of the emulated WinRM service.

Requests are parsed with ``xml.etree``; responses are rendered as text so the
prefixes, element order and namespace declarations match recorded Windows
responses exactly (the test data of pypsrp, WinRb/WinRM, openwsman and txwinrm;
docs/emulator.md lists them). The fault catalogue is :mod:`wsman_faults`.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import typing as t
import uuid
import xml.etree.ElementTree as ET

from . import cim

# Namespaces, with the prefixes Windows uses on the wire.
NS_S = "http://www.w3.org/2003/05/soap-envelope"
NS_A = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_X = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
NS_E = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
NS_N = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
NS_W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
NS_P = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
NS_F = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
NS_CIM = "http://schemas.dmtf.org/wbem/wscim/1/common"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_RSP = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
NS_CFG = "http://schemas.microsoft.com/wbem/wsman/1/config"

ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

WMI_URI_PREFIX = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
SHELL_CMD_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
CONFIG_URI = "http://schemas.microsoft.com/wbem/wsman/1/config"
WQL_DIALECT = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
SELECTOR_DIALECT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"

TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"
ACTION_GET = TRANSFER + "Get"
ACTION_PUT = TRANSFER + "Put"
ACTION_CREATE = TRANSFER + "Create"
ACTION_DELETE = TRANSFER + "Delete"
ACTION_ENUMERATE = ENUMERATION + "Enumerate"
ACTION_PULL = ENUMERATION + "Pull"
ACTION_RELEASE = ENUMERATION + "Release"
SHELL_ACTIONS = {SHELL + name: name for name in ("Command", "Send", "Receive", "Signal")}

FAULT_WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
FAULT_ENUMERATION = ENUMERATION + "fault"
FAULT_ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"

WMI_PROVIDER = ("WMI Provider", r"%systemroot%\system32\WsmWmiPl.dll")
SHELL_PROVIDER = ("Shell provider", r"%systemroot%\system32\WsmSvc.dll")

# Windows defaults (a recorded ``winrm/config`` GetResponse in pypsrp's test data).
DEFAULT_MAX_ENVELOPE_SIZE = 500 * 1024
# Assumption: the smallest MaxEnvelopeSize accepted; Windows has ERROR_WSMAN_MIN_ENVELOPE_SIZE but its value is
# not in the references.
MIN_MAX_ENVELOPE_SIZE = 8192
MAX_TIMEOUT_SECONDS = 60.0  # MaxTimeoutms
MAX_BATCH_ITEMS = 32000  # MaxBatchItems

# WS-Management error codes (winerror.h ERROR_WSMAN_*), as Windows writes them: unsigned decimal.
CODE_RESOURCE_NOT_FOUND = 0x80338000
CODE_PROVIDER_FAILURE = 0x80338003
CODE_INVALID_HEADER = 0x8033800F
CODE_HEADER_REQUIRED = 0x80338011
CODE_ACTION_NOT_SUPPORTED = 0x80338013
CODE_DIALECT_UNAVAILABLE = 0x80338019
CODE_CANNOT_PROCESS_FILTER = 0x8033801A  # 2150858778, recorded
CODE_INVALID_ENUMERATION_CONTEXT = 0x8033801B
CODE_TIMED_OUT = 0x80338029  # 2150858793, recorded
WBEM_E_INVALID_QUERY = 0x80041017  # "WMI Error Constants"
CODE_INVALID_PARAMETER = 0x8033803A
CODE_UNSUPPORTED_FEATURE = 0x80338042
CODE_INVALID_XML = 0x80338043
CODE_ENVELOPE_TOO_LARGE = 0x80338048
CODE_FILTERING_REQUIRED = 0x8033804F
CODE_INVALID_SELECTORS = 0x8033805B  # 2150858843, recorded
CODE_MIN_ENVELOPE_SIZE = 0x8033807E
CODE_ACCESS_DENIED = 5

# WMI HRESULTs (WbemErrorEnum).
WBEM_E_FAILED = 0x80041001
WBEM_E_NOT_FOUND = 0x80041002
WBEM_E_INVALID_PARAMETER = 0x80041008
WBEM_E_INVALID_CLASS = 0x80041010
WBEM_E_INVALID_METHOD = 0x8004102E
CLASS_NOT_FOUND_MESSAGE = "The specified class does not exist in the given namespace. "  # recorded wording

_ENVELOPE_OPEN = (
    f'<s:Envelope xml:lang="en-US" xmlns:s="{NS_S}" xmlns:a="{NS_A}" xmlns:x="{NS_X}" xmlns:e="{NS_E}" '
    f'xmlns:n="{NS_N}" xmlns:w="{NS_W}" xmlns:p="{NS_P}">'
)


# --------------------------------------------------------------------------- text helpers

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: str) -> str:
    """Escape character data; characters XML 1.0 cannot carry are dropped."""
    value = _XML_INVALID.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def xml_attr(value: str) -> str:
    return xml_text(value).replace('"', "&quot;")


def new_uuid() -> str:
    """A message or context id the way Windows writes it."""
    return "uuid:" + str(uuid.uuid4()).upper()


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


# --------------------------------------------------------------------------- CIM values on the wire


def render_property(name: str, cim_type: str, value: cim.CimValue, *, qualified: bool = True) -> str:
    """One property or parameter: repeated elements for arrays, ``xsi:nil`` for NULL.

    A NULL array is written once with ``xsi:nil`` ([MS-WSMV] §3.1.4.1.26), an empty array
    not at all (as NetExec PR #1392 observed of Windows). ``qualified`` selects ``p:`` elements and
    ``cim:Datetime`` (class elements) or the unqualified form of ``w:XmlFragment``.
    """
    tag = f"p:{name}" if qualified else name
    if value is None:
        return f'<{tag} xsi:nil="true"/>'
    values = value if isinstance(value, list) else [value]
    dt_tag = "cim:Datetime" if qualified else "Datetime"
    parts = []
    for item in values:
        if item is None:
            continue  # null array elements are never sent
        if isinstance(item, datetime.datetime) or cim.base_type(cim_type) == "datetime":
            text = xml_text(cim.cim_to_text(item))
            parts.append(f"<{tag}><{dt_tag}>{text}</{dt_tag}></{tag}>")
        else:
            parts.append(f"<{tag}>{xml_text(cim.cim_to_text(item))}</{tag}>")
    return "".join(parts)


def render_instance(class_uri: str, class_def: cim.ClassDef, instance: t.Mapping[str, cim.CimValue]) -> str:
    """The instance element of a Get response or a ``SELECT *`` item, properties in schema order."""
    name = class_def.name
    body = "".join(
        render_property(prop, cim_type, instance.get(prop)) for prop, cim_type in class_def.properties.items()
    )
    return (
        f'<p:{name} xmlns:xsi="{NS_XSI}" xmlns:p="{xml_attr(class_uri)}" xmlns:cim="{NS_CIM}" '
        f'xsi:type="p:{name}_Type">{body}</p:{name}>'
    )


def render_fragment(properties: t.Sequence[tuple[str, str]], instance: t.Mapping[str, cim.CimValue]) -> str:
    """A ``SELECT a, b`` item: unqualified children in alphabetical order (MS-WSMV product notes <58>/<59>)."""
    ordered = sorted(properties, key=lambda item: item[0].casefold())
    body = "".join(render_property(prop, cim_type, instance.get(prop), qualified=False) for prop, cim_type in ordered)
    return f'<w:XmlFragment xmlns:xsi="{NS_XSI}">{body}</w:XmlFragment>'


def render_method_output(class_uri: str, method: cim.MethodDef, outputs: t.Mapping[str, cim.CimValue]) -> str:
    """``<p:Method_OUTPUT>`` with the out-parameters in MethodDef order; parameters not returned are left out."""
    body = "".join(
        render_property(name, cim_type, outputs[name]) for name, cim_type in method.outputs.items() if name in outputs
    )
    tag = f"p:{method.name}_OUTPUT"
    return f'<{tag} xmlns:xsi="{NS_XSI}" xmlns:p="{xml_attr(class_uri)}" xmlns:cim="{NS_CIM}">{body}</{tag}>'


def _is_nil(element: ET.Element) -> bool:
    return element.get(f"{{{NS_XSI}}}nil", "").strip().lower() in ("true", "1")


def _element_value(cim_type: str, element: ET.Element) -> cim.CimValue:
    if cim.base_type(cim_type) == "datetime":
        nested = [child for child in element if local_name(child.tag) == "Datetime"]
        return cim.text_to_cim(cim_type, (nested[0].text if nested else element.text) or "")
    return cim.text_to_cim(cim_type, element.text or "")


def parse_method_input(body: ET.Element, method: cim.MethodDef) -> dict[str, cim.CimValue]:
    """Read ``<p:Method_INPUT>`` into typed ``[in]`` parameters (names matched case-insensitively like WMI).

    Raises :class:`cim.InvalidParameter` for unknown, repeated scalar or badly typed parameters.
    """
    payload = list(body)
    if not payload:
        return {}
    if len(payload) > 1 or local_name(payload[0].tag).lower() != f"{method.name}_input".lower():
        raise cim.InvalidParameter(f"the body must hold one {method.name}_INPUT element")
    names = {name.lower(): name for name in method.inputs}
    params: dict[str, cim.CimValue] = {}
    for child in payload[0]:
        name = names.get(local_name(child.tag).lower())
        if name is None:
            raise cim.InvalidParameter(f"{method.name} has no [in] parameter {local_name(child.tag)!r}")
        cim_type = method.inputs[name]
        try:
            value = None if _is_nil(child) else _element_value(cim_type, child)
        except ValueError as exc:
            raise cim.InvalidParameter(f"parameter {name}: {exc}") from None
        if cim.is_array(cim_type):
            current = params.setdefault(name, [])
            if value is not None and isinstance(current, list):
                current.append(value)
        elif name in params:
            raise cim.InvalidParameter(f"parameter {name} is not an array but was given more than once")
        else:
            params[name] = value
    return params


# --------------------------------------------------------------------------- requests


@dataclasses.dataclass
class WsmanRequest:
    action: str
    resource_uri: str
    message_id: str
    to: str | None
    selectors: dict[str, str]
    options: dict[str, str]
    operation_timeout: float | None  # seconds
    max_envelope_size: int | None
    body: ET.Element

    def selector(self, name: str) -> str | None:
        for key, value in self.selectors.items():
            if key.lower() == name.lower():
                return value
        return None


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?$")


def parse_duration(text: str) -> float:
    """xs:duration in seconds (``PT60S``, ``PT60.000S``, ``P0DT0H1M0S``)."""
    match = _DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT"):
        raise ValueError(f"not an xs:duration: {text!r}")
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def parse_request(data: bytes, *, machine: str) -> WsmanRequest:
    """Parse a request envelope; raise :class:`SoapFault` for anything a WinRM service would refuse."""
    head = data[:1024].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        # Windows refuses DTDs; refusing them also keeps entity expansion out.
        raise invalid_xml(machine, "The request contains a document type declaration.")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise invalid_xml(machine, f"The request is not well-formed XML ({exc}).") from None
    if root.tag != f"{{{NS_S}}}Envelope":
        raise invalid_xml(machine, "The request is not a SOAP 1.2 envelope.")
    header = root.find(f"{{{NS_S}}}Header")
    body = root.find(f"{{{NS_S}}}Body")
    if header is None or body is None:
        raise invalid_xml(machine, "The request has no SOAP header or body.")

    def text(path: str) -> str | None:
        element = header.find(path)
        return None if element is None else (element.text or "").strip()

    message_id = text(f"{{{NS_A}}}MessageID")
    action = text(f"{{{NS_A}}}Action")
    resource_uri = text(f"{{{NS_W}}}ResourceURI")
    missing = [name for name, value in (("MessageID", message_id), ("Action", action)) if not value]
    if missing:
        raise header_required(machine, ", ".join(missing), relates_to=message_id or None)
    assert message_id is not None and action is not None
    if not resource_uri:
        raise header_required(machine, "ResourceURI", relates_to=message_id)

    selectors: dict[str, str] = {}
    for selector in header.findall(f"{{{NS_W}}}SelectorSet/{{{NS_W}}}Selector"):
        selectors[selector.get("Name", "")] = (selector.text or "").strip()
    options: dict[str, str] = {}
    for option in header.findall(f"{{{NS_W}}}OptionSet/{{{NS_W}}}Option"):
        options[option.get("Name", "")] = (option.text or "").strip()

    timeout_text = text(f"{{{NS_W}}}OperationTimeout")
    operation_timeout: float | None = None
    if timeout_text:
        try:
            operation_timeout = parse_duration(timeout_text)
        except ValueError:
            message = f"OperationTimeout {timeout_text!r} is not an xs:duration."
            raise invalid_header(machine, message, message_id) from None
    size_text = text(f"{{{NS_W}}}MaxEnvelopeSize")
    max_envelope_size: int | None = None
    if size_text:
        try:
            max_envelope_size = int(size_text)
        except ValueError:
            raise invalid_header(machine, f"MaxEnvelopeSize {size_text!r} is not a number.", message_id) from None
        if max_envelope_size < MIN_MAX_ENVELOPE_SIZE:
            raise SoapFault(
                action=FAULT_WSMAN,
                code="s:Sender",
                subcode="w:EncodingLimit",
                reason="The WS-Management service cannot process the request because the envelope size in the "
                "request is too small. ",
                detail=wsman_fault_detail(CODE_MIN_ENVELOPE_SIZE, machine, "The envelope size is too small. "),
                relates_to=message_id,
            )
    return WsmanRequest(
        action=action,
        resource_uri=resource_uri,
        message_id=message_id,
        to=text(f"{{{NS_A}}}To"),
        selectors=selectors,
        options=options,
        operation_timeout=operation_timeout,
        max_envelope_size=max_envelope_size,
        body=body,
    )


# --------------------------------------------------------------------------- responses


def render_envelope(action: str, body: str, *, relates_to: str | None, message_id: str | None = None) -> bytes:
    relates = f"<a:RelatesTo>{xml_text(relates_to)}</a:RelatesTo>" if relates_to else ""
    envelope = (
        f"{_ENVELOPE_OPEN}<s:Header><a:Action>{xml_text(action)}</a:Action>"
        f"<a:MessageID>{message_id or new_uuid()}</a:MessageID><a:To>{ANONYMOUS}</a:To>{relates}</s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )
    return envelope.encode("utf-8")


def envelope_overhead(action: str, relates_to: str | None) -> int:
    """Bytes an envelope takes around its body (MessageIDs have a fixed length)."""
    return len(render_envelope(action, "", relates_to=relates_to, message_id=new_uuid()))


class SoapFault(Exception):
    """A SOAP fault response (HTTP 500)."""

    def __init__(
        self,
        *,
        action: str,
        code: str,
        subcode: str,
        reason: str,
        detail: str,
        relates_to: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.action = action
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.detail = detail
        self.relates_to = relates_to

    def render(self, relates_to: str | None = None) -> bytes:
        body = (
            f"<s:Fault><s:Code><s:Value>{self.code}</s:Value><s:Subcode><s:Value>{self.subcode}</s:Value>"
            f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{xml_text(self.reason)}</s:Text></s:Reason>'
            f"<s:Detail>{self.detail}</s:Detail></s:Fault>"
        )
        return render_envelope(self.action, body, relates_to=relates_to or self.relates_to)


def wsman_fault_detail(code: int, machine: str, message_xml: str) -> str:
    """``<f:WSManFault Code=.. Machine=..><f:Message>..</f:Message></f:WSManFault>`` (message already XML)."""
    return (
        f'<f:WSManFault xmlns:f="{NS_F}" Code="{code}" Machine="{xml_attr(machine)}">'
        f"<f:Message>{message_xml}</f:Message></f:WSManFault>"
    )


def provider_fault(
    code: int,
    machine: str,
    message: str,
    *,
    provider: tuple[str, str] = WMI_PROVIDER,
    extended_status: str = "",
) -> str:
    """A nested ``f:ProviderFault`` as in the WQL fault recorded from Windows Server 2008 R2 (WinRb/WinRM test data)."""
    inner = wsman_fault_detail(code, machine, xml_text(message))
    extended = f"<f:ExtendedError>{extended_status}</f:ExtendedError>" if extended_status else ""
    return f'<f:ProviderFault provider="{provider[0]}" path="{provider[1]}">{inner}{extended}</f:ProviderFault>'


def extended_status(
    namespace: str,
    *,
    operation: str,
    parameter_info: str,
    status_code: int | None = None,
    description: str | None = None,
    provider_name: str = "WinMgmt",
) -> str:
    """``p:__ExtendedStatus`` of the WMI plugin (Operation, ParameterInfo, ProviderName, StatusCode)."""
    uri = f"{WMI_URI_PREFIX}{namespace}/__ExtendedStatus"
    status = '<p:StatusCode xsi:nil="true"/>'
    if status_code is not None:
        status = f"<p:StatusCode>{status_code}</p:StatusCode>"
    desc = '<p:Description xsi:nil="true"/>'
    if description:
        desc = f"<p:Description>{xml_text(description)}</p:Description>"
    return (
        f'<p:__ExtendedStatus xmlns:cim="{NS_CIM}" xmlns:p="{xml_attr(uri)}" xmlns:xsi="{NS_XSI}" '
        f'xsi:type="p:__ExtendedStatus_Type">{desc}<p:Operation>{xml_text(operation)}</p:Operation>'
        f"<p:ParameterInfo>{xml_text(parameter_info)}</p:ParameterInfo>"
        f"<p:ProviderName>{xml_text(provider_name)}</p:ProviderName>{status}</p:__ExtendedStatus>"
    )


# --------------------------------------------------------------------------- fault catalogue


def invalid_xml(machine: str, message: str) -> SoapFault:
    # Assumption: Windows' exact subcode for a body that is not XML is not recorded; this uses
    # SchemaValidationError (a subcode Windows uses for schema errors) with ERROR_WSMAN_INVALID_XML.
    return SoapFault(
        action=FAULT_WSMAN,
        code="s:Sender",
        subcode="w:SchemaValidationError",
        reason="The WS-Management service cannot process the request because the XML is invalid. ",
        detail=wsman_fault_detail(CODE_INVALID_XML, machine, xml_text(message + " ")),
    )


def header_required(machine: str, names: str, *, relates_to: str | None) -> SoapFault:
    return SoapFault(
        action=FAULT_ADDRESSING,
        code="s:Sender",
        subcode="a:MessageInformationHeaderRequired",
        reason="The WS-Management service cannot process the request. The request does not have all the "
        "expected SOAP headers. ",
        detail=wsman_fault_detail(CODE_HEADER_REQUIRED, machine, xml_text(f"Missing header: {names}. ")),
        relates_to=relates_to,
    )


def invalid_header(machine: str, message: str, relates_to: str) -> SoapFault:
    return SoapFault(
        action=FAULT_ADDRESSING,
        code="s:Sender",
        subcode="a:InvalidMessageInformationHeader",
        reason="The WS-Management service cannot process the request. The request contains one or more invalid "
        "SOAP headers. ",
        detail=wsman_fault_detail(CODE_INVALID_HEADER, machine, xml_text(message + " ")),
        relates_to=relates_to,
    )
