# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""WMI over WS-Management: method invocation, instance Get and WQL queries, with CIM typing.

WinRM serves WMI under ``http://schemas.microsoft.com/wbem/wsman/1/wmi/<namespace>/<Class>``. A method is
the custom action ``<resourceURI>/<Method>`` with a ``<Method>_INPUT`` body; a query is WS-Enumeration with
the WQL dialect on ``<namespace>/*``. Values come back as text; the schemas below say which CIM type each
property or out-parameter has, which is also the only way to tell a one-element array from a scalar.
"""

from __future__ import annotations

import contextlib
import datetime
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.winact.kms.plugins.plugin_utils._wmi_schema import (
    INVALID_QUERY,
    METHOD_TYPES,
    PROPERTY_TYPES,
    WINDOWS8_BUILD,
    properties_for_build,
)
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    ACTION_ENUMERATE,
    ACTION_GET,
    ACTION_PULL,
    ACTION_RELEASE,
    NS_ENUMERATION,
    NS_WSMAN,
    Element,
    Transport,
    WSManClassNotFound,
    WSManError,
    WSManFault,
    WSManProtocolError,
    WSManTimeout,
    WSManUnreachable,
    build_envelope,
    check_operation_timeout,
    is_nil,
    local_name,
    qname,
    response_body,
)

WMI_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi"
WQL_DIALECT = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
# Windows caps MaxElements at MaxBatchItems (32000 by default) and pages to MaxEnvelopeSize anyway.
MAX_ELEMENTS = 32000
# A host that never sends EndOfSequence must not keep us pulling forever.
MAX_PAGES = 1000
MAX_OPERATION_TIMEOUT = 60.0  # WinRM's default MaxTimeoutms
OPERATION_TIMEOUT_MARGIN = 5.0

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# [0-9], not \d: only ASCII digits are valid, and no CIM integer has more than 20 (uint64).
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}\Z")
_DATETIME = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})T(?P<h>[0-9]{2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2})"
    r"(?:\.(?P<frac>[0-9]+))?(?P<tz>Z|[+-][0-9]{2}:[0-9]{2})?\Z"
)
_WQL_SELECT = re.compile(r"\s*SELECT\s+(?P<props>.+?)\s+FROM\s+(?P<cls>[A-Za-z_][A-Za-z0-9_]*)", re.I | re.S)


class WmiClient:
    """WMI operations over one WS-Man transport. Counts round trips in :attr:`requests`."""

    def __init__(self, transport: Transport, *, operation_timeout: float | None = None) -> None:
        self._transport = transport
        self.requests = 0
        if operation_timeout is None:
            margin = transport.read_timeout - OPERATION_TIMEOUT_MARGIN
            operation_timeout = max(1.0, min(MAX_OPERATION_TIMEOUT, margin))
        check_operation_timeout(operation_timeout, transport.read_timeout)
        self.operation_timeout = operation_timeout
        # Whether the host is Windows 7 / Server 2008 R2, whose SPP classes lack later properties (and have one
        # later builds lack). Learned for free from the build a query returns, else from one refused select.
        self.windows7: bool | None = None

    # -- public operations -------------------------------------------------------------------------

    def invoke(
        self,
        class_name: str,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        selectors: Mapping[str, str] | None = None,
        namespace: str = "root/cimv2",
    ) -> dict[str, Any]:
        """Call a static (no selectors) or instance method; return its typed out-parameters."""
        uri = class_uri(namespace, class_name)
        _require_identifier(method, "method name")
        body = ET.Element(qname(uri, f"{method}_INPUT"))
        for name, value in (params or {}).items():
            _append_param(body, uri, name, value)
        try:
            response = self._send(uri, f"{uri}/{method}", body, selectors)
            output = _only_child(response, f"{method}_OUTPUT", f"{class_name}.{method}")
            types = method_types(class_name, method)
            values = complete(parse_properties(output, types), types, types)
            if "ReturnValue" in types and not isinstance(values.get("ReturnValue"), int):
                raise WSManProtocolError(f"the response to {class_name}.{method} has no ReturnValue")
        except (WSManUnreachable, WSManTimeout, WSManProtocolError) as exc:
            # Sent without a usable answer (lost, timed out, corrupt): the host may have run the method.
            if not isinstance(exc, WSManUnreachable) or exc.sent:
                exc.in_flight = f"{class_name}.{method}"
            raise
        return values

    def get(self, class_name: str, selectors: Mapping[str, str], *, namespace: str = "root/cimv2") -> dict[str, Any]:
        """WS-Transfer Get of one instance, addressed by its key properties."""
        uri = class_uri(namespace, class_name)
        response = self._send(uri, ACTION_GET, None, selectors)
        instance = _only_child(response, class_name, f"Get {class_name}")
        types = property_types(class_name)
        return complete(parse_properties(instance, types), types, types)

    def query(self, wql: str, *, namespace: str = "root/cimv2") -> list[dict[str, Any]]:
        """Run a WQL query: Enumerate, then Pull until EndOfSequence; Release the context if we give up.

        A select names only the properties the host's build has; the others come back as None.
        """
        shape = _QueryShape.of(wql)
        try:
            try:
                rows = self._query(shape.fitted(wql, self.windows7), shape, namespace)
            except WSManFault as exc:
                retry = self._refitted(shape, wql, exc)
                if retry is None:
                    raise
                rows = self._query(retry[0], shape, namespace)
                self.windows7 = retry[1]
        except WSManProtocolError as exc:
            raise self._named(exc) from None
        self._learn_build(shape, rows)
        return rows

    def _refitted(self, shape: _QueryShape, wql: str, exc: WSManFault) -> tuple[str, bool] | None:
        """The query fitted to the other SPP schema, when the host refused it as invalid and its build is unknown.

        Windows 7 lacks the later properties, later builds lack Windows 7's token-only flag: a select that names
        a later property is retried as Windows 7, one naming only the flag as a later build.
        """
        if self.windows7 is not None or not _is_invalid_query(exc):
            return None
        for windows7 in (True, False):
            fitted = shape.fitted(wql, windows7)
            if fitted != wql:
                return fitted, windows7
        return None

    def _learn_build(self, shape: _QueryShape, rows: list[dict[str, Any]]) -> None:
        """Note the host's build from Win32_OperatingSystem.BuildNumber or SoftwareLicensingService.Version."""
        if self.windows7 is not None or not rows or not shape.class_name:
            return
        cls = shape.class_name.lower()
        if cls == "win32_operatingsystem":
            build = str(rows[0].get("BuildNumber") or "")
        elif cls == "softwarelicensingservice":  # the sppsvc file version, 6.1.7601.17514 on Windows 7 SP1
            parts = str(rows[0].get("Version") or "").split(".")
            build = parts[2] if len(parts) > 2 else ""
        else:
            return
        if build.isdigit():
            self.windows7 = int(build) < WINDOWS8_BUILD

    def _query(self, wql: str, shape: _QueryShape, namespace: str) -> list[dict[str, Any]]:
        uri = f"{namespace_uri(namespace)}/*"
        page = self._read_page(self._send(uri, ACTION_ENUMERATE, _enumerate_body(wql)), "EnumerateResponse")
        rows: list[dict[str, Any]] = []
        pages = 1
        while True:
            try:
                rows.extend(shape.row(item) for item in page.items)
                if page.end:
                    return rows
                if pages >= MAX_PAGES:
                    raise WSManProtocolError(f"the enumeration did not end after {MAX_PAGES} pages")
                page = self._read_page(self._send(uri, ACTION_PULL, _pull_body(page.context)), "PullResponse")
                pages += 1
            except BaseException:
                if not page.end:  # still open on the host: give it back instead of letting it time out
                    self._release(uri, page.context)
                raise

    # -- plumbing ----------------------------------------------------------------------------------

    def _send(self, uri: str, action: str, body: Element | None, selectors: Mapping[str, str] | None = None) -> Element:
        message, message_id = build_envelope(
            endpoint=self._transport.endpoint,
            resource_uri=uri,
            action=action,
            body=body,
            selectors=selectors,
            operation_timeout=self.operation_timeout,
        )
        self.requests += 1
        answer = self._transport.send(message)
        try:
            return response_body(answer, message_id)
        except WSManProtocolError as exc:
            raise self._named(exc) from None

    def _named(self, exc: WSManProtocolError) -> WSManProtocolError:
        """Name the host in a bad-answer error: a fleet run shows many hosts' failures side by side."""
        if self._transport.endpoint not in exc.message:
            exc.message = f"bad answer from {self._transport.endpoint}: {exc.message}"
        return exc

    def _release(self, uri: str, context: str) -> None:
        """Best effort: the original error matters more than a failed Release."""
        release = ET.Element(qname(NS_ENUMERATION, "Release"))
        ET.SubElement(release, qname(NS_ENUMERATION, "EnumerationContext")).text = context
        with contextlib.suppress(WSManError):
            self._send(uri, ACTION_RELEASE, release)

    @staticmethod
    def _read_page(body: Element, expected: str) -> _Page:
        response = _only_child(body, expected, "the WQL query")
        items: list[Element] = []
        for container in _children_named(response, "Items", NS_WSMAN, NS_ENUMERATION):
            items.extend(container)
        end = bool(_children_named(response, "EndOfSequence", NS_WSMAN, NS_ENUMERATION))
        contexts = _children_named(response, "EnumerationContext", NS_ENUMERATION)
        context = (contexts[0].text or "").strip() if contexts else ""
        if not end and not context:
            raise WSManProtocolError(f"{expected} has neither EndOfSequence nor an EnumerationContext")
        return _Page(items, context, end)


@dataclass(frozen=True)
class _Page:
    items: list[Element]
    context: str
    end: bool


@dataclass(frozen=True)
class _QueryShape:
    """What a WQL query asks for, so rows get typed and keyed consistently in both item shapes."""

    class_name: str | None
    properties: tuple[str, ...] | None  # None: SELECT * (or a query we do not parse)

    @classmethod
    def of(cls, wql: str) -> _QueryShape:
        match = _WQL_SELECT.match(wql)
        if match is None:
            return cls(None, None)
        props = tuple(name.strip() for name in match.group("props").split(","))
        if props == ("*",) or not all(_IDENTIFIER.match(name) for name in props):
            return cls(match.group("cls"), None)
        return cls(match.group("cls"), props)

    def fitted(self, wql: str, windows7: bool | None) -> str:
        """``wql`` selecting only the properties its class has on that build (unchanged when unknown)."""
        match = _WQL_SELECT.match(wql)
        if windows7 is None or self.properties is None or not self.class_name or match is None:
            return wql
        fitted = properties_for_build(self.class_name, self.properties, windows7)
        if fitted == self.properties:
            return wql
        return f"{wql[: match.start('props')]}{', '.join(fitted)}{wql[match.end('props') :]}"

    def row(self, item: Element) -> dict[str, Any]:
        """Type one item: a class element (``SELECT *``) or a ``w:XmlFragment`` (``SELECT a, b``)."""
        types = property_types(local_name(item.tag))
        if not types and self.class_name:  # XmlFragment items carry no class name
            types = property_types(self.class_name)
        return complete(parse_properties(item, types), types, self.properties or types)


# --------------------------------------------------------------------------------------------------
# WQL


READ_METHOD_PREFIXES = ("Get", "Enum", "CheckAccess")


def _is_invalid_query(exc: WSManFault) -> bool:
    """WMI refused the WQL (WBEM_E_INVALID_QUERY); WinRM reports it as the CannotProcessFilter fault."""
    if isinstance(exc, WSManClassNotFound):
        return False
    subcode = (exc.subcode or "").rsplit(":", 1)[-1]
    status = (exc.extended_status or {}).get("StatusCode") or ""
    return subcode == "CannotProcessFilter" or exc.hresult == INVALID_QUERY or status.strip() == str(INVALID_QUERY)


def is_read_method(method: str) -> bool:
    """StdRegProv's Get*/Enum*/CheckAccess only read; every other method we call may change the host."""
    return method.startswith(READ_METHOD_PREFIXES)


def wql_string(value: str) -> str:
    """A WQL string literal. Values may come from users (an Activation ID): they can never end the literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def wql_select(properties: Iterable[str], class_name: str, where: str = "") -> str:
    """``SELECT a, b FROM Class [WHERE ...]``; select only what is needed, so answers stay small."""
    _require_identifier(class_name, "WMI class name")
    wql = f"SELECT {', '.join(properties)} FROM {class_name}"
    return f"{wql} WHERE {where}" if where else wql


# --------------------------------------------------------------------------------------------------
# Requests


def namespace_uri(namespace: str) -> str:
    """``root\\cimv2`` or ``root/cimv2`` -> the WMI resource URI prefix for that namespace."""
    segments = [segment for segment in re.split(r"[\\/]", namespace) if segment]
    if not segments:
        raise ValueError("the WMI namespace is empty")
    for segment in segments:
        _require_identifier(segment, "WMI namespace segment")
    return f"{WMI_URI}/{'/'.join(segments)}"


def class_uri(namespace: str, class_name: str) -> str:
    _require_identifier(class_name, "WMI class name")
    return f"{namespace_uri(namespace)}/{class_name}"


def _require_identifier(name: str, what: str) -> None:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"{what} {name!r} is not a WMI identifier")


def _append_param(body: Element, uri: str, name: str, value: Any) -> None:
    """One ``[in]`` parameter: repeated elements for a list, nothing for None (left to its default)."""
    _require_identifier(name, "parameter name")
    if value is None:
        return
    for item in value if isinstance(value, (list, tuple)) else (value,):
        ET.SubElement(body, qname(uri, name)).text = _param_text(name, item)


def _param_text(name: str, value: Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return str(value)
    raise TypeError(f"parameter {name}: cannot send a {type(value).__name__} to WMI")


def _enumerate_body(wql: str) -> Element:
    enumerate_ = ET.Element(qname(NS_ENUMERATION, "Enumerate"))
    ET.SubElement(enumerate_, qname(NS_WSMAN, "OptimizeEnumeration"))
    ET.SubElement(enumerate_, qname(NS_WSMAN, "MaxElements")).text = str(MAX_ELEMENTS)
    ET.SubElement(enumerate_, qname(NS_WSMAN, "Filter"), {"Dialect": WQL_DIALECT}).text = wql
    return enumerate_


def _pull_body(context: str) -> Element:
    pull = ET.Element(qname(NS_ENUMERATION, "Pull"))
    ET.SubElement(pull, qname(NS_ENUMERATION, "EnumerationContext")).text = context
    ET.SubElement(pull, qname(NS_ENUMERATION, "MaxElements")).text = str(MAX_ELEMENTS)
    return pull


# --------------------------------------------------------------------------------------------------
# Responses


def property_types(class_name: str) -> dict[str, str]:
    """The schema of a class (WMI names are case-insensitive); empty for a class we do not know."""
    return next((types for name, types in PROPERTY_TYPES.items() if name.lower() == class_name.lower()), {})


def method_types(class_name: str, method: str) -> dict[str, str]:
    """The out-parameters of a method; every WMI method of ours returns a uint32 ReturnValue."""
    wanted = (class_name.lower(), method.lower())
    found = (types for (cls, name), types in METHOD_TYPES.items() if (cls.lower(), name.lower()) == wanted)
    return next(found, {"ReturnValue": "uint32"})


def _only_child(body: Element, expected: str, what: str) -> Element:
    found = list(body)
    if len(found) != 1 or local_name(found[0].tag).lower() != expected.lower():
        names = ", ".join(f"<{local_name(child.tag)}>" for child in found) or "nothing"
        raise WSManProtocolError(f"expected <{expected}> in the response to {what}, got {names}")
    return found[0]


def _children_named(element: Element, local: str, *namespaces: str) -> list[Element]:
    return [child for child in element if child.tag in {qname(ns, local) for ns in namespaces}]


def parse_properties(element: Element, types: Mapping[str, str]) -> dict[str, Any]:
    """Type the child elements of an instance, an ``_OUTPUT`` or a ``w:XmlFragment`` by local name."""
    canonical = {name.lower(): name for name in types}
    grouped: dict[str, list[Element]] = {}
    for child in element:
        name = local_name(child.tag)
        grouped.setdefault(canonical.get(name.lower(), name), []).append(child)
    return {name: _typed(name, nodes, types.get(name)) for name, nodes in grouped.items()}


def complete(values: dict[str, Any], types: Mapping[str, str], wanted: Iterable[str]) -> dict[str, Any]:
    """Add what the host left out: declared arrays as [] (WinRM omits empty arrays), scalars as None."""
    canonical = {name.lower(): name for name in types}
    for requested in wanted:
        name = canonical.get(requested.lower(), requested)
        if name not in values:
            values[name] = [] if types.get(name, "").endswith("[]") else None
    return values


def _typed(name: str, nodes: list[Element], cim_type: str | None) -> Any:
    if cim_type is None:  # undeclared: text, a list of texts when repeated
        cim_type = "string[]" if len(nodes) > 1 else "string"
    if not cim_type.endswith("[]"):
        if len(nodes) > 1:
            raise WSManProtocolError(f"property {name} appears {len(nodes)} times but is not an array")
        return None if is_nil(nodes[0]) else _scalar(name, nodes[0], cim_type)
    if any(is_nil(node) for node in nodes):
        if len(nodes) > 1:
            raise WSManProtocolError(f"array {name} mixes xsi:nil with values")
        return None
    return [_scalar(name, node, cim_type[:-2]) for node in nodes]


def _scalar(name: str, node: Element, cim_type: str) -> Any:
    nested = list(node)
    if nested:
        if len(nested) == 1 and local_name(nested[0].tag) == "Datetime":
            return parse_datetime(name, nested[0].text or "")
        raise WSManProtocolError(f"property {name} holds nested elements where a {cim_type} value was expected")
    text = node.text or ""
    if cim_type == "datetime":
        return parse_datetime(name, text)
    if cim_type == "boolean":
        return _boolean(name, text)
    if cim_type.startswith(("uint", "sint")):
        if not _INTEGER.match(text.strip()):
            raise WSManProtocolError(f"property {name} should be an integer, got {_excerpt(text)}")
        return int(text.strip())
    if cim_type.startswith("real"):
        try:
            return float(text.strip())
        except ValueError:
            raise WSManProtocolError(f"property {name} should be a number, got {_excerpt(text)}") from None
    return text


def _boolean(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise WSManProtocolError(f"property {name} should be true or false, got {_excerpt(text)}")


def parse_datetime(name: str, text: str) -> datetime.datetime:
    """An xs:dateTime (``cim:Datetime``) as a timezone-aware datetime."""
    match = _DATETIME.match(text.strip())
    if match is None:
        raise WSManProtocolError(f"property {name} should be an xs:dateTime, got {_excerpt(text)}")
    tz = match.group("tz")
    if tz in (None, "Z"):
        # Assumption: a datetime without an offset is UTC; WinRM always sends Z or an offset in the recordings.
        zone = datetime.UTC
    else:
        sign = -1 if tz[0] == "-" else 1
        zone = datetime.timezone(sign * datetime.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
    try:
        return datetime.datetime(
            int(match.group("y")),
            int(match.group("mo")),
            int(match.group("d")),
            int(match.group("h")),
            int(match.group("m")),
            int(match.group("s")),
            int((match.group("frac") or "0")[:6].ljust(6, "0")),
            tzinfo=zone,
        )
    except ValueError as exc:
        raise WSManProtocolError(f"property {name} holds an impossible date {_excerpt(text)}: {exc}") from None


def _excerpt(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
