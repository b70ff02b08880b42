"""The contract between the emulator's WinRM/WS-Man layer and its WMI classes.

The protocol layers (``http_listener.py`` up to ``wsman_operations.py`` and ``soap.py``) know HTTP
and XML; the classes (``machine.py`` and friends) know Windows. They meet here:

* a :class:`Provider` answers for one emulated machine: class definitions,
  instances, method invocations;
* Python values cross the boundary typed as the CIM type in the class or method
  definition says: ``str``, ``int``, ``bool``, ``datetime`` (timezone-aware),
  ``list`` of those for ``<type>[]``, and ``None`` for NULL (``xsi:nil``);
* failures cross it as :class:`CimError` subclasses, which the protocol layer
  renders with the fault shapes of recorded Windows responses (:mod:`wsman_faults`).

It also holds what both sides need of CIM values: their codecs to and from text (used by the wire
format, WQL literals and the command line) and the checks of typed method parameters.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import typing as t

CimValue = str | int | bool | datetime.datetime | None | list[t.Any]

# CIM types used by the emulated classes. A trailing "[]" marks an array.
CIM_TYPES = frozenset(
    {
        "string",
        "boolean",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "sint32",
        "sint64",
        "datetime",
    }
)


def is_array(cim_type: str) -> bool:
    return cim_type.endswith("[]")


def base_type(cim_type: str) -> str:
    return cim_type[:-2] if is_array(cim_type) else cim_type


# --------------------------------------------------------------------------- value codecs
# Text <-> typed CIM values, shared by the WS-Man wire format (soap.py), WQL literals (wql.py) and
# the command line: xs:dateTime and DMTF datetimes, decimal integers in their type's range, booleans.

INT_RANGES = {
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "sint8": (-(2**7), 2**7 - 1),
    "sint16": (-(2**15), 2**15 - 1),
    "sint32": (-(2**31), 2**31 - 1),
    "sint64": (-(2**63), 2**63 - 1),
}


def format_datetime(value: datetime.datetime) -> str:
    """xs:dateTime as Windows writes it: ``2013-03-09T02:57:32Z`` or ``...32.488171+08:00``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    text = value.isoformat()
    if value.utcoffset() == datetime.timedelta(0):
        text = text[:-6] + "Z"
    return text


_DMTF = re.compile(r"^(\d{14})\.(\d{6})([+-])(\d{3})$")


def parse_datetime(text: str) -> datetime.datetime:
    """Parse xs:dateTime (wire format) or a DMTF datetime (``yyyymmddHHMMSS.mmmmmmsUUU``, WQL literals)."""
    text = text.strip()
    match = _DMTF.match(text)
    if match:
        stamp, micro, sign, minutes = match.groups()
        offset = datetime.timedelta(minutes=int(minutes)) * (1 if sign == "+" else -1)
        base = datetime.datetime.strptime(stamp, "%Y%m%d%H%M%S")
        return base.replace(microsecond=int(micro), tzinfo=datetime.timezone(offset))
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a datetime: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value


def text_to_cim(cim_type: str, text: str) -> CimValue:
    """Convert the text of one scalar (a wire element, a CLI argument) to the Python value of ``cim_type``."""
    base = base_type(cim_type)
    if base == "string":
        return text
    if base in INT_RANGES:
        try:
            number = int(text.strip(), 10)
        except ValueError:
            raise ValueError(f"{text!r} is not an integer") from None
        low, high = INT_RANGES[base]
        if not low <= number <= high:
            raise ValueError(f"{number} is out of range for {base}")
        return number
    if base == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ValueError(f"{text!r} is not a boolean")
    if base == "datetime":
        return parse_datetime(text)
    raise ValueError(f"unsupported CIM type {cim_type!r}")


def cim_to_text(value: t.Any) -> str:
    """The text of one scalar CIM value: ``true``/``false``, xs:dateTime, decimal integers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    return str(value)


@dataclasses.dataclass(frozen=True)
class MethodDef:
    """A WMI method: typed ``[in]`` and ``[out]`` parameters, in MOF order.

    ``outputs`` always ends with ``ReturnValue`` (``uint32``), as every method of
    StdRegProv, SoftwareLicensingService/Product and Win32_Service returns one.
    ``static`` methods (StdRegProv) take no selectors; instance methods need the
    full key ``SelectorSet``.
    """

    name: str
    inputs: t.Mapping[str, str]
    outputs: t.Mapping[str, str]
    static: bool = False


@dataclasses.dataclass(frozen=True)
class ClassDef:
    """A WMI class as the emulator serves it."""

    name: str
    namespaces: tuple[str, ...]  # e.g. ("root/cimv2",) or ("root/default", "root/cimv2")
    properties: t.Mapping[str, str]  # name -> CIM type, in schema order
    keys: tuple[str, ...]  # key property names; empty for a class with only static methods
    methods: t.Mapping[str, MethodDef]


@dataclasses.dataclass(frozen=True)
class CallContext:
    """Who is calling: the authenticated account of the WinRM request."""

    user: str
    is_admin: bool
    # Local groups ("Administrators", "Remote Management Users"): what the WinRM security descriptors check.
    groups: frozenset[str] = frozenset()


class CimError(Exception):
    """Base class: the protocol layer turns each subclass into a SOAP fault."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ClassNotFound(CimError):
    """Unknown class or namespace (WBEM_E_INVALID_CLASS 0x80041010 / invalid namespace)."""


class InstanceNotFound(CimError):
    """Well-formed selectors that match no instance (WBEM_E_NOT_FOUND 0x80041002)."""


class InvalidSelectors(CimError):
    """Selectors missing, extra or not the class keys (w:InvalidSelectors, 2150858843)."""


class MethodNotFound(CimError):
    """No such method on the class (WBEM_E_METHOD_NOT_IMPLEMENTED / invalid method)."""


class InvalidParameter(CimError):
    """A missing, unknown or badly typed ``[in]`` parameter (WBEM_E_INVALID_PARAMETER 0x80041008)."""


class AccessDenied(CimError):
    """The caller lacks the right (E_ACCESSDENIED 0x80070005)."""


class ProviderError(CimError):
    """A method failed inside its provider with an HRESULT, e.g. an SPP error 0xC004F050.

    slmgr.vbs sees these as a WMI call error whose number is the HRESULT
    (slmgr.vbs never reads ``ReturnValue``); over WS-Man they arrive as a SOAP fault.
    """

    def __init__(self, hresult: int, message: str) -> None:
        super().__init__(message)
        self.hresult = hresult & 0xFFFFFFFF


class Provider(t.Protocol):
    """What one emulated machine offers to the WS-Man layer."""

    def class_def(self, namespace: str, class_name: str) -> ClassDef:
        """Return the class definition; raise :class:`ClassNotFound`.

        ``namespace`` uses forward slashes and is lower-case (``root/cimv2``);
        ``class_name`` matching is case-insensitive, the returned ``ClassDef.name``
        has the canonical spelling.
        """

    def instances(self, namespace: str, class_name: str, ctx: CallContext) -> list[dict[str, CimValue]]:
        """Every instance of the class, each a full ``{property: value}`` dict."""

    def invoke(
        self,
        namespace: str,
        class_name: str,
        method: str,
        selectors: t.Mapping[str, str],
        params: t.Mapping[str, CimValue],
        ctx: CallContext,
    ) -> dict[str, CimValue]:
        """Run a method and return its ``[out]`` parameters including ``ReturnValue``.

        ``selectors`` is empty for static methods. ``params`` holds the ``[in]``
        parameters present in the request, already converted to their CIM types.
        """


# --------------------------------------------------------------------------- checks a provider makes


def _check_value(name: str, cim_type: str, value: CimValue) -> None:
    if value is None:
        return
    if is_array(cim_type):
        if not isinstance(value, list):
            raise InvalidParameter(f"{name} must be an array")
        for item in value:
            _check_value(name, base_type(cim_type), item)
        return
    kind = base_type(cim_type)
    if kind == "string":
        ok = isinstance(value, str)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "datetime":
        ok = isinstance(value, datetime.datetime)
    else:
        low, high = INT_RANGES[kind]
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if not ok:
        raise InvalidParameter(f"{name} is not a valid {cim_type}")


def check_params(method: MethodDef, params: t.Mapping[str, CimValue]) -> dict[str, CimValue]:
    """The ``[in]`` parameters by canonical name, each checked against its CIM type; InvalidParameter if not."""
    canonical = {name.lower(): name for name in method.inputs}
    typed: dict[str, CimValue] = {}
    for raw_name, value in params.items():
        name = canonical.get(raw_name.lower())
        if name is None:
            raise InvalidParameter(f"{method.name} has no parameter {raw_name!r}")
        _check_value(name, method.inputs[name], value)
        typed[name] = value
    return typed


def check_selectors(cls: ClassDef, selectors: t.Mapping[str, str]) -> dict[str, str]:
    """Exactly the class keys by canonical name; InvalidSelectors if not."""
    by_lower = {name.lower(): value for name, value in selectors.items()}
    if set(by_lower) != {key.lower() for key in cls.keys}:
        raise InvalidSelectors(f"{cls.name} needs the selector(s) {', '.join(cls.keys)}")
    return {key: by_lower[key.lower()] for key in cls.keys}
