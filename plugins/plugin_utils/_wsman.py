# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""WS-Management plumbing: envelopes, safe XML parsing, fault decoding and the connection adapter.

This module knows SOAP and WS-Man, not WMI. It reuses the task's ``winrm`` (pywinrm) or ``psrp``
(pypsrp) connection, so requests get the same authentication and message encryption as Ansible's own
traffic. Everything a host sends back is untrusted: malformed or unexpected XML becomes
:class:`WSManProtocolError`, never a bare parser or lookup error.
"""

from __future__ import annotations

import math
import re
import time
import uuid
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol
from xml.parsers import expat

from ansible_collections.winact.kms.plugins.plugin_utils._connect_errors import (
    ConnectFailure,
    explain_winrm_failure,
    probe_offered_schemes,
)
from ansible_collections.winact.kms.plugins.plugin_utils._connect_failure import explain as explain_connect_failure
from ansible_collections.winact.kms.plugins.plugin_utils._deadline import (
    ConnectionRegistry,
    Watchdog,
    track_connections,
)
from ansible_collections.winact.kms.plugins.plugin_utils._results import hresult_hex

Element = ET.Element

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
NS_ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
NS_MS_WSMAN = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
NS_FAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_XML = "http://www.w3.org/XML/1998/namespace"

ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
ACTION_GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
ACTION_ENUMERATE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
ACTION_PULL = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"
ACTION_RELEASE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release"

MAX_ENVELOPE_SIZE = 153600
LOCALE = "en-US"
# Responses are paged to MaxEnvelopeSize; anything far larger is hostile, so refuse it while reading.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
# WS-Management answers nest a dozen levels (envelope, body, items, instance, property, fault detail); far
# deeper is hostile and would cost memory per level.
MAX_XML_DEPTH = 128
# A whole request (sending, waiting, reading the body) ends this long after the transport's read timeout,
# however slowly the host trickles its answer.
DEADLINE_GRACE = 5.0
_READ_CHUNK = 64 * 1024

SUPPORTED_VERSIONS = "ansible-core 2.19-2.21 with pywinrm 0.4.3-0.5.x (winrm) or pypsrp 0.8.1-0.9.x (psrp)"

# Prefixes for the envelope; any other namespace (a WMI resource URI) is declared where it is used.
_PREFIXES = {NS_SOAP: "s", NS_ADDRESSING: "a", NS_WSMAN: "w", NS_ENUMERATION: "n", NS_MS_WSMAN: "p", NS_XSI: "xsi"}
_INVALID_XML_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}
)


# --------------------------------------------------------------------------------------------------
# Errors


class WSManError(Exception):
    """Base class of every error this layer raises."""

    def __init__(self, message: str, *, hresult: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hresult = None if hresult is None else hresult & 0xFFFFFFFF
        # "Class.Method" of a method call that reached the host without a usable answer: it may have run.
        self.in_flight: str | None = None

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """JSON-able detail for an Ansible result."""
        return {
            "type": type(self).__name__,
            "message": self.message,
            "hresult": None if self.hresult is None else hresult_hex(self.hresult),
        }


class WSManUnreachable(WSManError):
    """The host could not be talked to: refused/reset/dropped connection, HTTP 401, TLS failure.

    ``sent`` is False only when the request certainly never reached the host (no connection was made);
    otherwise the host may have executed it before the answer was lost.
    """

    def __init__(self, message: str, *, hresult: int | None = None, sent: bool = True) -> None:
        super().__init__(message, hresult=hresult)
        self.sent = sent


class WSManProtocolError(WSManError):
    """The host answered with malformed, hostile or unexpected XML."""


class WSManFault(WSManError):
    """A SOAP fault sent by the host."""

    def __init__(
        self,
        message: str,
        *,
        hresult: int | None = None,
        code: str | None = None,
        subcode: str | None = None,
        wsman_code: int | None = None,
        provider_message: str | None = None,
        reason: str | None = None,
        extended_status: Mapping[str, str | None] | None = None,
    ) -> None:
        super().__init__(message, hresult=hresult)
        self.code = code
        self.subcode = subcode
        self.wsman_code = wsman_code
        self.provider_message = provider_message
        self.reason = reason
        self.extended_status = dict(extended_status) if extended_status else None

    def to_dict(self) -> dict[str, Any]:
        detail = super().to_dict()
        optional = {
            "code": self.code,
            "subcode": self.subcode,
            "wsman_code": self.wsman_code,
            "reason": self.reason,
            "provider_message": self.provider_message,
            "extended_status": self.extended_status,
        }
        detail.update({key: value for key, value in optional.items() if value is not None})
        return detail


class WSManTimeout(WSManFault):
    """OperationTimeout expired; the operation may still be running on the host."""


class WSManAccessDenied(WSManFault):
    """The account lacks the rights (admin, unfiltered token) the operation needs."""


class WSManInvalidSelectors(WSManFault):
    """The SelectorSet did not name exactly the key properties of an instance."""


class WSManQuotaExceeded(WSManFault):
    """A WinRM per-user quota (operations, shells) was exceeded."""


class WSManClassNotFound(WSManFault):
    """The WMI class or namespace does not exist on the host."""


class WSManNotFound(WSManFault):
    """The WMI instance does not exist."""


# --------------------------------------------------------------------------------------------------
# Transport


class Transport(Protocol):
    """One authenticated HTTP channel to a WinRM endpoint."""

    endpoint: str
    read_timeout: float

    def send(self, message: bytes) -> bytes:
        """Send one envelope and return the response body.

        HTTP errors raise: a SOAP fault body as the decoded :class:`WSManFault`, 401 and socket or TLS
        failures as :class:`WSManUnreachable`.
        """


# --------------------------------------------------------------------------------------------------
# Envelopes


def qname(namespace: str, local: str) -> str:
    """ElementTree's ``{namespace}local`` form."""
    return f"{{{namespace}}}{local}"


def local_name(tag: str) -> str:
    """The local part of an ElementTree tag, with or without a namespace."""
    return tag.rsplit("}", 1)[-1]


def build_envelope(
    *,
    endpoint: str,
    resource_uri: str,
    action: str,
    body: Element | None,
    selectors: Mapping[str, str] | None = None,
    options: Mapping[str, str] | None = None,
    operation_timeout: float,
    message_id: str | None = None,
) -> tuple[bytes, str]:
    """Build one WS-Man request; return the UTF-8 XML and its MessageID."""
    if not endpoint:
        raise ValueError("the WS-Management endpoint URL is empty")
    message_id = message_id or f"uuid:{str(uuid.uuid4()).upper()}"
    envelope = ET.Element(qname(NS_SOAP, "Envelope"))
    header = ET.SubElement(envelope, qname(NS_SOAP, "Header"))
    _add_addressing(header, endpoint, resource_uri, action, message_id)
    _add_text(header, NS_WSMAN, "OperationTimeout", format_duration(operation_timeout))
    if selectors:
        _add_set(header, "SelectorSet", "Selector", selectors, must_understand=False)
    if options:
        _add_set(header, "OptionSet", "Option", options, must_understand=True)
    body_element = ET.SubElement(envelope, qname(NS_SOAP, "Body"))
    if body is not None:
        body_element.append(body)
    return serialize(envelope), message_id


def format_duration(seconds: float) -> str:
    """An xs:duration in seconds, e.g. ``PT20S`` or ``PT2.5S``."""
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"operation timeout must be a positive number of seconds, not {seconds!r}")
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"PT{text}S"


def _add_addressing(header: Element, endpoint: str, resource_uri: str, action: str, message_id: str) -> None:
    must = {qname(NS_SOAP, "mustUnderstand"): "true"}
    optional = {qname(NS_XML, "lang"): LOCALE, qname(NS_SOAP, "mustUnderstand"): "false"}
    _add_text(header, NS_ADDRESSING, "To", endpoint)
    _add_text(header, NS_WSMAN, "ResourceURI", resource_uri, must)
    reply_to = ET.SubElement(header, qname(NS_ADDRESSING, "ReplyTo"))
    _add_text(reply_to, NS_ADDRESSING, "Address", ANONYMOUS, must)
    _add_text(header, NS_ADDRESSING, "Action", action, must)
    _add_text(header, NS_WSMAN, "MaxEnvelopeSize", str(MAX_ENVELOPE_SIZE), must)
    _add_text(header, NS_ADDRESSING, "MessageID", message_id)
    ET.SubElement(header, qname(NS_WSMAN, "Locale"), optional)
    ET.SubElement(header, qname(NS_MS_WSMAN, "DataLocale"), optional)


def _add_text(parent: Element, namespace: str, local: str, text: str, attrib: dict[str, str] | None = None) -> Element:
    child = ET.SubElement(parent, qname(namespace, local), attrib or {})
    child.text = text
    return child


def _add_set(header: Element, name: str, item: str, values: Mapping[str, str], *, must_understand: bool) -> None:
    attrib = {qname(NS_SOAP, "mustUnderstand"): "true"} if must_understand else {}
    container = ET.SubElement(header, qname(NS_WSMAN, name), attrib)
    for key, value in values.items():
        if not isinstance(value, str):
            raise TypeError(f"{item} {key!r} must be a string, not {type(value).__name__}")
        _add_text(container, NS_WSMAN, item, value, {"Name": key})


def serialize(root: Element) -> bytes:
    """Serialize an element tree with stable prefixes and without touching ElementTree's global prefix map."""
    used = {tag.split("}", 1)[0][1:] for node in root.iter() for tag in (node.tag, *node.attrib) if tag[:1] == "{"}
    scope = {"xml": NS_XML}
    declared = {uri: prefix for uri, prefix in _PREFIXES.items() if uri in used}
    parts = ['<?xml version="1.0" encoding="utf-8"?>']
    _write(root, parts, scope, {prefix: uri for uri, prefix in declared.items()})
    return "".join(parts).encode("utf-8")


def _write(element: Element, out: list[str], scope: dict[str, str], declare: dict[str, str]) -> None:
    scope = {**scope, **declare}
    declare = dict(declare)
    tag = _prefixed(element.tag, scope, declare)
    attrs = [(_prefixed(name, scope, declare), value) for name, value in element.attrib.items()]
    decls = "".join(f' xmlns:{prefix}="{_escape(uri, _ATTR_ESCAPES)}"' for prefix, uri in declare.items())
    attr_text = "".join(f' {name}="{_escape(value, _ATTR_ESCAPES)}"' for name, value in attrs)
    children = list(element)
    if element.text is None and not children:
        out.append(f"<{tag}{decls}{attr_text}/>")
        return
    out.append(f"<{tag}{decls}{attr_text}>{_escape(element.text or '', _TEXT_ESCAPES)}")
    for child in children:
        _write(child, out, scope, {})
        out.append(_escape(child.tail or "", _TEXT_ESCAPES))
    out.append(f"</{tag}>")


def _prefixed(name: str, scope: dict[str, str], declare: dict[str, str]) -> str:
    """``prefix:local`` for a ``{uri}local`` name, declaring the prefix on this element when needed."""
    if name[:1] != "{":
        return name
    uri, local = name[1:].split("}", 1)
    for prefix, bound in scope.items():
        if bound == uri:
            return f"{prefix}:{local}"
    prefix = _PREFIXES.get(uri, "p")
    if prefix in declare:  # taken on this very element: fall back to a generated one
        prefix = next(f"ns{index}" for index in range(len(scope) + 2) if f"ns{index}" not in scope)
    scope[prefix] = declare[prefix] = uri
    return f"{prefix}:{local}"


def _escape(text: str, table: dict[int, str]) -> str:
    if _INVALID_XML_CHARS.search(text):
        raise ValueError(f"{text[:40]!r}... contains characters that XML 1.0 cannot carry")
    return text.translate(table)


# --------------------------------------------------------------------------------------------------
# Safe parsing


def parse_xml(data: bytes | str) -> Element:
    """Parse a response with expat, refusing DTDs and entities (billion laughs, XXE) and oversized input."""
    if len(data) > MAX_RESPONSE_BYTES:
        raise WSManProtocolError(f"response of {len(data)} bytes exceeds the {MAX_RESPONSE_BYTES} byte limit")
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    depth = [0]

    def start(name: str, attrs: dict[str, str]) -> None:
        depth[0] += 1
        if depth[0] > MAX_XML_DEPTH:
            raise WSManProtocolError(f"refusing the response: elements nest deeper than {MAX_XML_DEPTH} levels")
        builder.start(_expat_name(name), {_expat_name(key): value for key, value in attrs.items()})

    def end(name: str) -> None:
        depth[0] -= 1
        builder.end(_expat_name(name))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = _refuse("a DOCTYPE declaration")
    parser.EntityDeclHandler = _refuse("an entity declaration")
    parser.UnparsedEntityDeclHandler = _refuse("an unparsed entity declaration")
    parser.ExternalEntityRefHandler = _refuse("an external entity reference")
    try:
        parser.Parse(data, True)
        root = builder.close()
    except expat.ExpatError as exc:
        raise WSManProtocolError(f"malformed XML in the response: {exc}") from None
    return root


def _expat_name(name: str) -> str:
    # expat reports "uri}local" with our separator; ElementTree wants "{uri}local".
    return "{" + name if "}" in name else name


def _refuse(what: str) -> Callable[..., NoReturn]:
    def handler(*_args: Any) -> NoReturn:
        raise WSManProtocolError(f"refusing the response: it contains {what}, which WS-Management never sends")

    return handler


def element_text(element: Element | None) -> str | None:
    """Whitespace-normalized direct text of an element, or None when empty."""
    if element is None or not element.text:
        return None
    return " ".join(element.text.split()) or None


def is_nil(element: Element) -> bool:
    return element.get(qname(NS_XSI, "nil"), "").strip().lower() in ("true", "1")


# --------------------------------------------------------------------------------------------------
# Faults


@dataclass
class _FaultInfo:
    code: str | None = None
    subcode: str | None = None
    reason: str | None = None
    wsman_codes: list[int] = field(default_factory=list)  # document order: outer first
    wsman_message: str | None = None
    provider_message: str | None = None
    wmi_error_code: int | None = None
    wmi_message: str | None = None
    extended_status: dict[str, str | None] = field(default_factory=dict)

    @property
    def extended_code(self) -> int | None:
        return _parse_code(self.extended_status.get("StatusCode"))

    @property
    def hresult(self) -> int | None:
        for candidate in (self.wmi_error_code, self.extended_code, *reversed(self.wsman_codes)):
            if candidate is not None:
                return candidate
        return None

    @property
    def all_codes(self) -> set[int]:
        codes = {*self.wsman_codes, self.wmi_error_code, self.extended_code}
        return {code for code in codes if code is not None}

    @property
    def host_message(self) -> str | None:
        return self.provider_message or self.wmi_message or self.wsman_message or self.reason


@dataclass(frozen=True)
class _KnownFault:
    cls: type[WSManFault]
    subcodes: frozenset[str]  # local names of s:Subcode/s:Value
    codes: frozenset[int]  # WSManFault@Code, MSFT_WmiError error_Code or __ExtendedStatus StatusCode
    summary: str


# WinRM 3.0+ reports these through the SOAP subcode, WinRM 2.0 only through the numeric code: match either.
_KNOWN_FAULTS = (
    _KnownFault(
        WSManTimeout,
        frozenset({"TimedOut"}),
        frozenset({0x80338029}),
        "the operation did not finish within the WS-Management OperationTimeout; it may still be running "
        "on the host, so read its state again before retrying",
    ),
    _KnownFault(
        WSManQuotaExceeded,
        frozenset({"QuotaLimit"}),
        frozenset({0x803381A5, 0x803381A6}),
        "a WinRM quota for this user was exceeded (concurrent operations or shells); wait for other "
        "operations to finish or raise the quota",
    ),
    _KnownFault(
        WSManAccessDenied,
        frozenset({"AccessDenied"}),
        frozenset({5, 0x80070005, 0x80041003}),
        "access denied: the account must be a member of the host's Administrators group with an unfiltered "
        "token (a domain account, the built-in Administrator, or LocalAccountTokenFilterPolicy=1)",
    ),
    _KnownFault(
        WSManInvalidSelectors,
        frozenset({"InvalidSelectors"}),
        frozenset({0x8033805B}),
        "invalid selectors: the request must name exactly the key properties of the WMI instance",
    ),
    _KnownFault(
        WSManClassNotFound,
        frozenset(),
        frozenset({0x80041010, 0x8004100E}),  # WBEM_E_INVALID_CLASS, WBEM_E_INVALID_NAMESPACE
        "the WMI class or namespace does not exist on the host",
    ),
    _KnownFault(
        WSManNotFound,
        frozenset(),
        frozenset({0x80041002}),  # WBEM_E_NOT_FOUND
        "the WMI instance was not found",
    ),
)


def decode_fault(data: bytes | str) -> WSManFault:
    """Decode a SOAP fault envelope into the matching :class:`WSManFault` subclass."""
    return fault_from_envelope(parse_xml(data))


def fault_from_envelope(envelope: Element) -> WSManFault:
    fault = envelope.find(f"{qname(NS_SOAP, 'Body')}/{qname(NS_SOAP, 'Fault')}")
    if envelope.tag != qname(NS_SOAP, "Envelope") or fault is None:
        raise WSManProtocolError("the response is not a SOAP fault envelope")
    info = _read_fault(fault)
    cls, summary = _classify(info)
    return cls(
        _fault_message(info, summary),
        hresult=info.hresult,
        code=info.code,
        subcode=info.subcode,
        wsman_code=info.wsman_codes[-1] if info.wsman_codes else None,
        provider_message=info.provider_message or info.wmi_message,
        reason=info.reason,
        extended_status=info.extended_status,
    )


def _read_fault(fault: Element) -> _FaultInfo:
    code = element_text(fault.find(f"{qname(NS_SOAP, 'Code')}/{qname(NS_SOAP, 'Value')}"))
    subcode_path = f"{qname(NS_SOAP, 'Code')}/{qname(NS_SOAP, 'Subcode')}/{qname(NS_SOAP, 'Value')}"
    info = _FaultInfo(
        code=code.rsplit(":", 1)[-1] if code else None,
        subcode=element_text(fault.find(subcode_path)),
        reason=element_text(fault.find(f"{qname(NS_SOAP, 'Reason')}/{qname(NS_SOAP, 'Text')}")),
    )
    detail = fault.find(qname(NS_SOAP, "Detail"))
    if detail is not None:
        _read_wsman_faults(detail, info)
        _read_wmi_error(detail, info)
        status = _first_local(detail, "__ExtendedStatus")
        if status is not None:
            info.extended_status = {local_name(child.tag): element_text(child) for child in status}
    return info


def _read_wsman_faults(detail: Element, info: _FaultInfo) -> None:
    wsman_faults = list(detail.iter(qname(NS_FAULT, "WSManFault")))
    info.wsman_codes = [code for code in (_parse_code(item.get("Code")) for item in wsman_faults) if code is not None]
    if wsman_faults:
        info.wsman_message = element_text(wsman_faults[0].find(qname(NS_FAULT, "Message")))
    for provider in detail.iter(qname(NS_FAULT, "ProviderFault")):
        inner = provider.find(f"{qname(NS_FAULT, 'WSManFault')}/{qname(NS_FAULT, 'Message')}")
        text = " ".join("".join(inner.itertext()).split()) if inner is not None else element_text(provider)
        if text:
            info.provider_message = text


def _read_wmi_error(detail: Element, info: _FaultInfo) -> None:
    wmi_error = _first_local(detail, "MSFT_WmiError")
    if wmi_error is None:
        return
    fields = {local_name(child.tag): child for child in wmi_error if not is_nil(child)}
    info.wmi_error_code = _parse_code(element_text(fields.get("error_Code")))
    if info.wmi_error_code is None:  # MessageID reads "HRESULT 0x803381a5"
        match = re.search(r"0x[0-9a-fA-F]{1,8}", element_text(fields.get("MessageID")) or "")
        info.wmi_error_code = _parse_code(match.group(0)) if match else None
    info.wmi_message = element_text(fields.get("Message")) or element_text(fields.get("error_WindowsErrorMessage"))


def _first_local(root: Element, local: str) -> Element | None:
    return next((node for node in root.iter() if local_name(node.tag) == local), None)


def _parse_code(text: str | None) -> int | None:
    """A fault code as unsigned 32 bits; Windows writes decimal, sometimes hex or signed."""
    text = (text or "").strip()
    try:
        value = int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return None
    return value & 0xFFFFFFFF


def _classify(info: _FaultInfo) -> tuple[type[WSManFault], str | None]:
    subcode = (info.subcode or "").rsplit(":", 1)[-1]
    codes = info.all_codes
    for known in _KNOWN_FAULTS:
        if subcode in known.subcodes or codes & known.codes:
            return known.cls, known.summary
    # Assumption: WinRM reports a WQL query on an unknown class as CannotProcessFilter with no WMI status code
    # (recorded Server 2008 R2 fault); only the provider text tells, and we request en-US messages.
    if subcode == "CannotProcessFilter" and "class does not exist" in (info.provider_message or "").lower():
        return WSManClassNotFound, "the WMI class or namespace does not exist on the host"
    return WSManFault, None


def _fault_message(info: _FaultInfo, summary: str | None) -> str:
    host_text = info.host_message or "no message from the host"
    if summary is None:
        summary = f"WS-Management fault {info.subcode or info.code or 'without a code'}"
    suffix = f" (HRESULT {hresult_hex(info.hresult)})" if info.hresult is not None else ""
    return f"{summary}: {host_text}{suffix}"


# --------------------------------------------------------------------------------------------------
# Request / response


def check_operation_timeout(operation_timeout: float, read_timeout: float) -> None:
    """The host must answer (even with a TimedOut fault) before the HTTP client stops waiting."""
    if not 0 < operation_timeout < read_timeout:
        raise ValueError(
            f"operation timeout {operation_timeout:g} s must be positive and below the transport read timeout "
            f"{read_timeout:g} s, or the host's answer would arrive after the client gave up"
        )


def response_body(data: bytes | str, message_id: str) -> Element:
    """Parse a response, check it answers ``message_id``, raise its fault if it is one; return ``s:Body``."""
    envelope = parse_xml(data)
    if envelope.tag != qname(NS_SOAP, "Envelope"):
        raise WSManProtocolError(f"the response is not a SOAP 1.2 envelope but <{local_name(envelope.tag)}>")
    check_relates_to(envelope, message_id)
    body = envelope.find(qname(NS_SOAP, "Body"))
    if body is None:
        raise WSManProtocolError("the response envelope has no s:Body")
    if body.find(qname(NS_SOAP, "Fault")) is not None:
        raise fault_from_envelope(envelope)
    return body


def check_relates_to(envelope: Element, message_id: str) -> None:
    relates_to = element_text(envelope.find(f"{qname(NS_SOAP, 'Header')}/{qname(NS_ADDRESSING, 'RelatesTo')}"))
    if relates_to is None:
        raise WSManProtocolError("the response has no a:RelatesTo header, so it cannot be matched to the request")
    # uuid URIs compare case-insensitively; hosts differ in the case they echo.
    if relates_to.lower() != message_id.lower():
        raise WSManProtocolError(f"the response relates to {relates_to}, not to the request {message_id}")


# --------------------------------------------------------------------------------------------------
# HTTP failures


def fault_from_http(endpoint: str, status: int, body: bytes | str) -> WSManError:
    """The error for a non-2xx HTTP answer: the decoded SOAP fault when the body is one."""
    if status == 401:
        return WSManUnreachable(f"wrong user name or password (HTTP 401) for {endpoint}")
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    head = text.lstrip("\ufeff \t\r\n")[:200]
    if not head:
        return WSManUnreachable(f"HTTP {status} from {endpoint} with an empty body")
    if not head.startswith("<") or re.match(r"<(!doctype\s+html|html)\b", head, re.IGNORECASE):
        return WSManUnreachable(f"HTTP {status} from {endpoint}, not a WS-Management answer: {' '.join(head.split())}")
    try:
        return decode_fault(body)
    except WSManProtocolError as exc:
        return WSManProtocolError(f"HTTP {status} from {endpoint}: {exc.message}")


def _request_failure(endpoint: str, read_timeout: float, exc: BaseException) -> WSManUnreachable:
    """Map a requests exception (imported lazily: pywinrm and pypsrp both depend on requests)."""
    from requests import exceptions as rex

    if isinstance(exc, rex.SSLError):
        return WSManUnreachable(f"TLS error talking to {endpoint}: {exc}")
    if isinstance(exc, rex.ConnectTimeout):
        return WSManUnreachable(f"timed out connecting to {endpoint}", sent=False)
    if isinstance(exc, rex.ReadTimeout):
        return WSManUnreachable(
            f"no answer from {endpoint} within the read timeout of {read_timeout:g} s; "
            "the operation may still be running on the host"
        )
    if isinstance(exc, rex.ConnectionError):
        if _never_connected(exc):
            return WSManUnreachable(f"cannot connect to {endpoint}: {exc}", sent=False)
        return WSManUnreachable(
            f"the connection to {endpoint} was reset or dropped before the answer arrived: {exc}; "
            "the host may have carried out the request"
        )
    return WSManUnreachable(f"HTTP request to {endpoint} failed: {exc}")


def _never_connected(exc: BaseException) -> bool:
    """True when the TCP connection was never made (refused, name not resolved), so nothing was sent."""
    from urllib3 import exceptions as u3

    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (u3.NewConnectionError, u3.NameResolutionError, ConnectionRefusedError)):
            return True
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return False


# --------------------------------------------------------------------------------------------------
# Bounded reading: every response body is read by us, with a size cap and an overall deadline


class ResponseTooLarge(WSManProtocolError):
    """The host sent (or its compressed body would inflate to) more than the response cap."""


class _Budget:
    """The per-request deadline, armed by the adapter before each request: the response hook enforces it on
    the body, a watchdog on everything before (connecting, sending, a host trickling its headers)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = math.inf
        self.connections = ConnectionRegistry()
        self.watchdog = Watchdog(self.connections)

    def arm(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.watchdog.expired or self.left() <= 0

    def exceeded(self, endpoint: str) -> WSManUnreachable:
        return WSManUnreachable(
            f"{endpoint} did not finish its answer within {self.seconds:g} s; gave up waiting for it "
            "(the host may have carried out the request)"
        )


_HOOK_MARK = "_winact_bounded_reader"


def install_bounded_reader(session: Any, endpoint: str, budget: _Budget) -> None:
    """Make ``session`` read every response body through :func:`read_bounded` (replacing an earlier one).

    A requests response hook runs after the headers arrived and before requests reads the body, for every
    authentication scheme and before pywinrm or pypsrp decrypt a message, so the cap and the deadline hold
    whatever the connection's auth and encryption.
    """
    hooks = session.hooks.setdefault("response", [])
    hooks[:] = [hook for hook in hooks if not getattr(hook, _HOOK_MARK, False)]

    def hook(response: Any, **_kwargs: Any) -> Any:
        read_bounded(response, endpoint, budget)
        return response

    setattr(hook, _HOOK_MARK, True)
    hooks.append(hook)
    track_connections(session, budget.connections)


def read_bounded(response: Any, endpoint: str, budget: _Budget, limit: int = MAX_RESPONSE_BYTES) -> None:
    """Read ``response.raw`` into ``response._content``: at most ``limit`` bytes (decoded), before the deadline."""
    if getattr(response, "_content", False) is not False:  # already read (an auth handler did)
        if response._content is not None and len(response._content) > limit:
            raise ResponseTooLarge(f"the response from {endpoint} exceeds the {limit} byte limit")
        return
    try:
        declared = int(response.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        response.close()
        raise ResponseTooLarge(
            f"the response from {endpoint} announces {declared} bytes, over the {limit} byte limit; not read"
        )
    decoder = _decoder(response.headers.get("Content-Encoding", ""), endpoint)
    # read1 returns what has arrived, so a host trickling bytes cannot hold one read past the deadline.
    read1 = getattr(response.raw, "read1", None)
    body = bytearray()
    try:
        while True:
            if budget.expired:
                raise budget.exceeded(endpoint)
            if read1 is not None:
                chunk = read1(_READ_CHUNK, decode_content=False)
            else:  # urllib3 1.x
                chunk = response.raw.read(1024, decode_content=False)
            if not chunk:
                if budget.watchdog.expired:  # the watchdog cut the connection off mid-body
                    raise budget.exceeded(endpoint)
                break
            body += decoder(chunk, limit + 1 - len(body)) if decoder else chunk
            if len(body) > limit:
                raise ResponseTooLarge(f"the response from {endpoint} exceeds the {limit} byte limit; stopped reading")
    except WSManError:
        response.close()
        raise
    response._content = bytes(body)
    response._content_consumed = True


def _decoder(encoding: str, endpoint: str) -> Callable[[bytes, int], bytes] | None:
    """A bounded inflater for a gzip/deflate body: never produces more than asked, whatever the ratio."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise WSManProtocolError(f"the response from {endpoint} uses Content-Encoding {encoding!r}, not supported")
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected

    def decode(chunk: bytes, room: int) -> bytes:
        try:
            out = inflater.decompress(chunk, room)
        except zlib.error as exc:
            raise WSManProtocolError(f"the compressed response from {endpoint} is corrupt: {exc}") from None
        if inflater.unconsumed_tail:  # more output than room: over the limit
            return out + b"\0"
        return out

    return decode


# --------------------------------------------------------------------------------------------------
# Connection adapter


@dataclass(frozen=True)
class _LibraryErrors:
    http: type[BaseException]  # carries .code (HTTP status) and .response_text
    auth: type[BaseException]
    other: type[BaseException]


class _LibraryTransport:
    """Send envelopes through a pywinrm or pypsrp HTTP transport, mapping its exceptions to ours."""

    def __init__(
        self,
        send: Callable[[bytes], Any],
        endpoint: str,
        read_timeout: float,
        errors: _LibraryErrors,
        budget: _Budget | None = None,
    ) -> None:
        self._send = send
        self._errors = errors
        self._budget = budget or _Budget(read_timeout + DEADLINE_GRACE)
        self.endpoint = endpoint
        self.read_timeout = read_timeout

    def send(self, message: bytes) -> bytes:
        self._budget.arm()
        try:
            with self._budget.watchdog.watch(self._budget.seconds):
                response = self._send(message)
        except WSManError:
            raise
        except Exception as exc:
            if self._budget.watchdog.expired:  # cut off by the watchdog, whichever error that surfaced as
                raise self._budget.exceeded(self.endpoint) from exc
            raise self._library_failure(exc) from exc
        if isinstance(response, str):
            return response.encode("utf-8")
        if not isinstance(response, bytes):
            raise WSManProtocolError(f"the transport returned {type(response).__name__}, not bytes")
        return response

    def _library_failure(self, exc: Exception) -> WSManError:
        """Our error for an exception of pywinrm, pypsrp or requests."""
        from requests import exceptions as rex

        if isinstance(exc, self._errors.http):
            return fault_from_http(self.endpoint, int(getattr(exc, "code", 0)), getattr(exc, "response_text", ""))
        if isinstance(exc, self._errors.auth):
            return WSManUnreachable(f"wrong user name or password (HTTP 401) for {self.endpoint}: {exc}")
        if isinstance(exc, self._errors.other):
            return WSManUnreachable(f"WinRM transport failure talking to {self.endpoint}: {exc}")
        if isinstance(exc, rex.RequestException):
            return _request_failure(self.endpoint, self.read_timeout, exc)
        # e.g. a message that does not decrypt: a clean result, not a traceback
        return WSManUnreachable(f"WinRM transport failure talking to {self.endpoint}: {type(exc).__name__}: {exc}")


def connection_transport(connection: Any) -> Transport:
    """A :class:`Transport` over the task's ``winrm`` or ``psrp`` connection (connects it if needed).

    Do not keep the result across tasks: Ansible closes the connection after every task.
    """
    kind = getattr(connection, "transport", None)
    if kind == "winrm":
        return _winrm_transport(connection)
    if kind == "psrp":
        return _psrp_transport(connection)
    raise WSManError(
        f"the '{kind}' connection cannot carry WS-Management requests; winact.kms needs "
        "ansible_connection=winrm (pywinrm) or ansible_connection=psrp (pypsrp)"
    )


def _winrm_transport(connection: Any) -> Transport:
    try:
        from winrm import exceptions as wexc
    except ImportError as exc:
        raise WSManError(f"the winrm connection needs pywinrm: {exc}") from exc
    errors = _LibraryErrors(http=wexc.WinRMTransportError, auth=wexc.AuthenticationError, other=wexc.WinRMError)
    shell_skipped = _connect_without_shell(connection, errors)
    http = _path(connection, "winrm", "protocol", "transport")
    send = _path(http, "winrm", "send_message", prefix="protocol.transport")
    endpoint = _path(http, "winrm", "endpoint", prefix="protocol.transport")
    read_timeout = _as_seconds(_path(http, "winrm", "read_timeout_sec", prefix="protocol.transport"), "winrm")
    endpoint = _as_endpoint(endpoint, "winrm")
    budget = _Budget(read_timeout + DEADLINE_GRACE)
    if getattr(http, "session", None) is not None:  # the connection opened its WinRS shell
        install_bounded_reader(http.session, endpoint, budget)
    else:
        build = _path(http, "winrm", "build_session", prefix="protocol.transport")
        send = _with_session(http, send, build, endpoint, budget)
    transport = _LibraryTransport(send, endpoint, read_timeout, errors, budget)
    if not shell_skipped:
        return transport
    # The pywinrm Protocol is ours now: the connection goes back to its unconnected state, so close() has no
    # shell to delete and anything that later runs a command connects afresh, with its shell.
    connection.protocol = None
    if hasattr(connection, "_connected"):
        connection._connected = False
    return _FirstSendExplained(transport, lambda: _connect(connection, "winrm", errors))


def _with_session(
    http: Any, send: Callable[[bytes], Any], build: Callable[[], Any], endpoint: str, budget: _Budget
) -> Callable[[bytes], Any]:
    """``send``, building pywinrm's session first, with the bounded reader before its first byte is read.

    Without the WinRS shell nothing has talked to the host yet. pywinrm's build_session may send a message to
    set up encryption (NTLM, Kerberos); the reader is installed before that, and any failure of it comes out
    of the first send, where it is mapped and explained like any other.
    """
    setup = getattr(http, "setup_encryption", None)
    if callable(setup):
        # pywinrm 0.5 passes the session it built; 0.4 passes nothing and has already set http.session.
        def bounded_setup(*session: Any) -> None:
            install_bounded_reader(session[0] if session else http.session, endpoint, budget)
            setup(*session)

        http.setup_encryption = bounded_setup

    def first_send(message: bytes) -> Any:
        if getattr(http, "session", None) is None:
            build()
        install_bounded_reader(http.session, endpoint, budget)
        return send(message)

    return first_send


# Ansible's winrm plugin opens a WinRS shell in _winrm_connect only while ``shell_id`` is unset (ansible-core
# 2.19-2.21); WMI-only actions never use it, so a placeholder id saves its Create and Delete on every task.
_NO_SHELL = "winact.kms: no WinRS shell for WMI-only tasks"


def _connect_without_shell(connection: Any, errors: _LibraryErrors) -> bool:
    """Connect the winrm plugin with all its own options but without a WinRS shell; True if that worked.

    The plugin still builds the pywinrm Protocol itself (transport, credentials, Kerberos ticket, message
    encryption, certificate validation and CA, timeouts), so every security option is honoured. When the
    plugin does not look as expected (no ``shell_id``, already connected), it connects the usual way.
    """
    if getattr(connection, "protocol", False) is not None or getattr(connection, "shell_id", False) is not None:
        _connect(connection, "winrm", errors)
        return False
    connection.shell_id = _NO_SHELL
    try:
        _connect(connection, "winrm", errors)
    finally:
        skipped = bool(connection.shell_id == _NO_SHELL)
        if skipped:
            connection.shell_id = None
    return skipped


class _FirstSendExplained:
    """A transport whose first failure to reach the host is explained as a failed connect would be.

    Without the shell, nothing talks to the host while connecting; a wrong password, an untrusted certificate
    or a refused account shows on the first request instead. Connecting the usual way then (only on that
    failure) gives the same explanation as before; if it works, the request's own error stands.
    """

    def __init__(self, inner: _LibraryTransport, connect: Callable[[], None]) -> None:
        self._inner = inner
        self._connect = connect
        self._answered = False
        self.endpoint = inner.endpoint
        self.read_timeout = inner.read_timeout

    def send(self, message: bytes) -> bytes:
        try:
            response = self._inner.send(message)
        except WSManUnreachable:
            if not self._answered:
                self._answered = True
                self._connect()
            raise
        self._answered = True
        return response


def _psrp_transport(connection: Any) -> Transport:
    try:
        from pypsrp import exceptions as pexc
    except ImportError as exc:
        raise WSManError(f"the psrp connection needs pypsrp: {exc}") from exc
    errors = _LibraryErrors(http=pexc.WinRMTransportError, auth=pexc.AuthenticationError, other=pexc.WinRMError)
    wsman = _wsman_without_pool(connection)
    if wsman is None:
        _connect(connection, "psrp", errors)
        wsman = _path(connection, "psrp", "runspace", "connection")
    http = _path(wsman, "psrp", "transport", prefix="runspace.connection")
    prefix = "runspace.connection.transport"
    send = _path(http, "psrp", "send", prefix=prefix)
    endpoint = _path(http, "psrp", "endpoint", prefix=prefix)
    read_timeout = _as_seconds(_path(http, "psrp", "read_timeout", prefix=prefix), "psrp")
    endpoint = _as_endpoint(endpoint, "psrp")
    budget = _Budget(read_timeout + DEADLINE_GRACE)
    if getattr(http, "session", None) is None:  # built on the first send, as pypsrp's own send does
        http.session = _path(http, "psrp", "_build_session", prefix=prefix)()
    install_bounded_reader(http.session, endpoint, budget)
    transport = _LibraryTransport(send, endpoint, read_timeout, errors, budget)
    if getattr(connection, "runspace", None) is not None:
        return transport
    return _FirstSendExplained(transport, lambda: _connect(connection, "psrp", errors))


def _wsman_without_pool(connection: Any) -> Any:
    """pypsrp's WSMan built from the psrp plugin's own options, without opening a runspace pool; None if unsure.

    Ansible's psrp plugin opens a PowerShell runspace pool (Create, Receive, Delete) that WMI-only actions never
    use. ``_build_kwargs`` and ``_psrp_conn_kwargs`` are what its ``_connect`` passes to ``WSMan`` (ansible-core
    2.19-2.21): authentication, message encryption, certificate validation and CA, proxy and timeouts alike.
    """
    build = getattr(connection, "_build_kwargs", None)
    if getattr(connection, "runspace", False) is not None or not callable(build):
        return None
    try:
        from pypsrp.wsman import WSMan

        build()
        kwargs = getattr(connection, "_psrp_conn_kwargs", None)
        if not isinstance(kwargs, dict):
            return None
        return WSMan(**kwargs)
    except Exception:  # noqa: BLE001 - the usual connect below explains any bad option as it always did
        return None


E_ACCESSDENIED = 0x80070005
_ACCESS_DENIED_MARKERS = ("w:AccessDenied", "Access is denied", "Access denied", "0x80070005")


def _connect(connection: Any, kind: str, errors: _LibraryErrors) -> None:
    """Open the connection: a WMI-only action never calls exec_command, which would connect lazily."""
    from ansible.errors import AnsibleError
    from requests import exceptions as rex

    connect = _path(connection, kind, "_connect")
    try:
        connect()
    except AnsibleError as exc:
        if kind == "winrm":
            failure = _winrm_connect_failure(connection, str(exc))
            if failure.access_denied:
                raise WSManAccessDenied(
                    f"the winrm connection was refused: {exc}",
                    hresult=E_ACCESSDENIED,
                    code="Receiver",
                    subcode="w:InternalError",
                ) from exc
            # A TLS or encryption cause (untrusted certificate, Basic asked to encrypt) says more than the
            # authentication reading of the same text.
            transport_level = explain_connect_failure(kind, exc)
            raise WSManUnreachable(transport_level.message if transport_level.cause else failure.message) from exc
        # A valid account without the rights WinRM needs is refused with a fault (not HTTP 401, which is
        # a wrong password); the connection plugin only passes its text on.
        if any(marker in str(exc) for marker in _ACCESS_DENIED_MARKERS):
            raise WSManAccessDenied(
                f"the {kind} connection was refused: {exc}",
                hresult=E_ACCESSDENIED,
                code="Sender",
                subcode="w:AccessDenied",
            ) from exc
        raise WSManUnreachable(explain_connect_failure(kind, exc).message) from exc
    except (errors.http, errors.auth, errors.other, rex.RequestException) as exc:
        raise WSManUnreachable(explain_connect_failure(kind, exc).message) from exc
    except Exception as exc:  # noqa: BLE001 - Ansible's psrp plugin passes e.g. pypsrp's ValueError on unwrapped
        raise WSManUnreachable(explain_connect_failure(kind, exc).message) from exc


def _winrm_connect_failure(connection: Any, text: str) -> ConnectFailure:
    """Name the cause of a failed winrm connect, asking the host which schemes it offers on a 401."""
    scheme = str(getattr(connection, "_winrm_scheme", "") or "http")
    host = str(getattr(connection, "_winrm_host", "") or "?")
    port = getattr(connection, "_winrm_port", None)
    path = str(getattr(connection, "_winrm_path", "") or "/wsman")
    netloc = f"[{host}]" if ":" in host else host
    endpoint = f"{scheme}://{netloc}:{port}{path}" if port else f"{scheme}://{netloc}{path}"
    kwargs = getattr(connection, "_winrm_kwargs", None) or {}
    transports = [str(name) for name in getattr(connection, "_winrm_transport", None) or []]
    validation = str(kwargs.get("server_cert_validation", "validate"))
    verify: Any = False if validation == "ignore" else kwargs.get("ca_trust_path") or True
    return explain_winrm_failure(
        text,
        transports=transports,
        endpoint=endpoint,
        message_encryption=str(kwargs.get("message_encryption", "auto")),
        offered_schemes=lambda: probe_offered_schemes(endpoint, verify) if host != "?" else None,
    )


def _path(obj: Any, kind: str, *names: str, prefix: str = "") -> Any:
    """Follow private attributes of the connection plugin or library, failing clearly if they moved."""
    where = prefix
    for name in names:
        where = f"{where}.{name}" if where else name
        obj = getattr(obj, name, None)
        if obj is None:
            raise WSManError(
                f"cannot reach WS-Management through the {kind} connection: connection.{where} is not available; "
                f"supported: {SUPPORTED_VERSIONS}"
            )
    return obj


def _as_endpoint(value: Any, kind: str) -> str:
    if not isinstance(value, str) or not value:
        raise WSManError(
            f"the {kind} connection has no usable endpoint URL ({value!r}); supported: {SUPPORTED_VERSIONS}"
        )
    return value


def _as_seconds(value: Any, kind: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise WSManError(
            f"the {kind} connection has no usable read timeout ({value!r}); supported: {SUPPORTED_VERSIONS}"
        )
    return seconds
