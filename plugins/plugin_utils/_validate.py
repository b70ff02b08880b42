# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation and normalisation of KMS setting values, done before any I/O.

Every error names the option and says what is allowed, so a playbook author can
fix the task from the message alone. Normalised values are what the settings
table compares and writes (e.g. an IPv6 KMS host is stored bracketed, as
``slmgr.vbs /skms`` stores it).
"""

from __future__ import annotations

import ipaddress
import re
import typing as t
import urllib.parse

PORT_RANGE = (1, 65535)
# SetVLActivationInterval / SetVLRenewalInterval accept 15..43200 minutes (docs/reference/spp-wmi.md#methods,
# docs/reference/kms.md#intervals-validity-and-grace).
INTERVAL_RANGE = (15, 43200)
SRV_FIELD_RANGE = (0, 65535)  # DNS SRV priority and weight are 16-bit (RFC 2782)

# A request must fit in the host's MaxEnvelopeSize: 500 KB on Windows Server 2012 and later (the recorded
# `winrm get winrm/config` of a Server 2016 host in the pypsrp project's test data; "Installation and
# configuration for Windows Remote Management" still lists WinRM 2.0's 150). A larger request is refused
# with HTTP 413, so a value that cannot fit is refused here, before any I/O.
MAX_ENVELOPE_BYTES = 500 * 1024
# What one value may take, leaving room for the envelope's headers and the call's other parameters.
MAX_VALUE_BYTES = MAX_ENVELOPE_BYTES - 16 * 1024
# Characters XML 1.0 cannot carry at all, escaped or not (XML 1.0, section 2.2 "Characters").
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})

SERVER_ALLOWED = (
    "a fully qualified domain name, a NetBIOS name, an IPv4 address or an IPv6 address "
    "(fd00::1 or [fd00::1]), without scheme, path or port"
)
DOMAIN_ALLOWED = "a DNS domain name such as corp.example.com (letters, digits and hyphens; labels of 1-63 characters)"

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# NetBIOS computer names are at most 15 characters; only DNS-compatible characters are
# accepted because the KMS client resolves the name through DNS/WINS before RPC.
_NETBIOS = re.compile(r"^(?!-)[A-Za-z0-9-]{1,15}(?<!-)$")
_GUID = re.compile(r"^\{?([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\}?$")
_PORT_SUFFIX = re.compile(r"^(?P<host>.+):(?P<port>\d+)$")


class ValidationError(ValueError):
    """A bad option value: ``option`` names it, the message says what is allowed."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


def wire_safe(params: t.Mapping[str, t.Any]) -> None:
    """Every string the options carry can travel in one WS-Management request: XML 1.0 characters only, and
    small enough for Windows' MaxEnvelopeSize. Checked before any other validation, so that no message
    quotes a huge value.
    """
    total = 0
    largest = ("", 0)
    for path, text in _strings(params):
        bad = _NOT_XML.search(text)
        if bad:
            raise ValidationError(
                path,
                f"contains U+{ord(bad.group()):04X} at position {bad.start()}, a character XML 1.0 cannot carry, "
                "so no WS-Management request can send it",
            )
        size = len(text.translate(_XML_ESCAPES).encode("utf-8"))
        total += size
        largest = max(largest, (path, size), key=lambda item: item[1])
        if size > MAX_VALUE_BYTES:
            raise ValidationError(path, _too_big(size))
    if total > MAX_VALUE_BYTES:
        raise ValidationError(largest[0], _too_big(total, together=True))


def _too_big(size: int, *, together: bool = False) -> str:
    what = "the options' strings together are" if together else "is"
    return (
        f"{what} {size} bytes once encoded as XML; a request must fit in Windows' default MaxEnvelopeSize of "
        f"500 KB ({MAX_ENVELOPE_BYTES} bytes), which leaves at most {MAX_VALUE_BYTES} bytes for values"
    )


def _strings(value: t.Any, path: str = "") -> t.Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, t.Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _shown(value: t.Any) -> str:
    return repr(value)


def check_int_range(option: str, value: t.Any, bounds: tuple[int, int], unit: str = "") -> int:
    """An integer within ``bounds`` (inclusive); booleans are not numbers here."""
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(option, f"{_shown(value)} is not an integer; expected {low}-{high}{unit}")
    if not low <= value <= high:
        raise ValidationError(option, f"{value} is out of range; expected {low}-{high}{unit}")
    return value


def port(option: str, value: t.Any) -> int:
    return check_int_range(option, value, PORT_RANGE)


def interval(option: str, value: t.Any) -> int:
    return check_int_range(option, value, INTERVAL_RANGE, " minutes")


def srv_field(option: str, value: t.Any) -> int:
    return check_int_range(option, value, SRV_FIELD_RANGE)


def _text(option: str, value: t.Any, allowed: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(option, f"{_shown(value)} is not a string; expected {allowed}")
    if not value.strip():
        raise ValidationError(option, f"must not be empty; expected {allowed}")
    if any(ch.isspace() for ch in value):
        raise ValidationError(option, f"{_shown(value)} contains whitespace; expected {allowed}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError(option, f"{_shown(value)} contains control characters; expected {allowed}")
    return value


def _dns_name_problem(name: str) -> str | None:
    """Why ``name`` is not a DNS name (RFC 1123 host labels), or None when it is one."""
    if not name.isascii():
        return "has non-ASCII characters (use the IDNA/punycode form, e.g. xn--...)"
    body = name[:-1] if name.endswith(".") else name
    if not body:
        return "is empty"
    if len(body) > 253:
        return "is longer than 253 characters"
    labels = body.split(".")
    for label in labels:
        if not label:
            return "has an empty label (two dots in a row, or a leading dot)"
        if len(label) > 63:
            return f"has a label longer than 63 characters ({label[:20]}...)"
        if not _LABEL.match(label):
            return f"has an invalid label {label!r} (letters, digits and inner hyphens only)"
    if len(labels) > 1 and labels[-1].isdigit():
        return "ends with a numeric label, which is neither a domain name nor an IPv4 address"
    return None


def dns_domain(option: str, value: t.Any) -> str:
    """A DNS domain name (lookup domain, DnsDomainPublishList entry)."""
    name = _text(option, value, DOMAIN_ALLOWED)
    if "://" in name or "/" in name or "\\" in name:
        raise ValidationError(option, f"{name!r} is not a domain name; expected {DOMAIN_ALLOWED}")
    if ":" in name:
        raise ValidationError(option, f"{name!r} contains ':'; expected {DOMAIN_ALLOWED}, without a port")
    problem = _dns_name_problem(name)
    if problem:
        raise ValidationError(option, f"{name!r} {problem}; expected {DOMAIN_ALLOWED}")
    return name


def _ipv6_text(address: ipaddress.IPv6Address) -> str:
    """The compressed form, with an IPv4-mapped address always dotted (``::ffff:192.0.2.1``).

    ``ipaddress`` prints IPv4-mapped addresses dotted only from Python 3.13 (``::ffff:c000:201`` before), so the
    form is spelled out here: a stored or compared value must not depend on the controller's Python version.
    """
    mapped = address.ipv4_mapped
    if mapped is None:
        return address.compressed
    scope = f"%{address.scope_id}" if address.scope_id else ""
    return f"::ffff:{mapped}{scope}"


def _ipv6(option: str, text: str, original: str) -> str:
    if "%" in text:
        raise ValidationError(
            option,
            f"{original!r} has an IPv6 zone index ('%...'), which a KMS client cannot use; expected {SERVER_ALLOWED}",
        )
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError as exc:
        raise ValidationError(
            option, f"{original!r} is not a valid IPv6 address ({exc}); expected {SERVER_ALLOWED}"
        ) from None
    return f"[{_ipv6_text(address)}]"


def kms_server(option: str, value: t.Any) -> str:
    """A KMS host as ``/skms`` takes it, without port; IPv6 literals come back bracketed."""
    text = _text(option, value, SERVER_ALLOWED)
    if "://" in text:
        raise ValidationError(option, f"{text!r} has a URL scheme; expected {SERVER_ALLOWED}")
    if "/" in text or "\\" in text:
        raise ValidationError(option, f"{text!r} contains a path or separator; expected {SERVER_ALLOWED}")
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ValidationError(option, f"{text!r} has '[' without ']'; expected {SERVER_ALLOWED}")
        if close != len(text) - 1:
            rest = text[close + 1 :]
            if re.fullmatch(r":\d*", rest):
                raise ValidationError(
                    option, f"{text!r} includes a port; give the port in the 'port' option; expected {SERVER_ALLOWED}"
                )
            raise ValidationError(option, f"{text!r} has text after ']'; expected {SERVER_ALLOWED}")
        return _ipv6(option, text[1:close], text)
    if "]" in text:
        raise ValidationError(option, f"{text!r} has ']' without '['; expected {SERVER_ALLOWED}")
    if text.count(":") >= 2:
        return _ipv6(option, text, text)
    if ":" in text:
        if _PORT_SUFFIX.match(text):
            raise ValidationError(
                option, f"{text!r} includes a port; give the port in the 'port' option; expected {SERVER_ALLOWED}"
            )
        raise ValidationError(option, f"{text!r} contains ':'; expected {SERVER_ALLOWED}")
    if "%" in text:
        raise ValidationError(option, f"{text!r} contains '%'; expected {SERVER_ALLOWED}")
    if re.fullmatch(r"[0-9.]+", text):
        try:
            return str(ipaddress.IPv4Address(text))
        except ValueError:
            raise ValidationError(option, f"{text!r} is not a valid IPv4 address; expected {SERVER_ALLOWED}") from None
    if "." not in text.rstrip("."):
        if not _NETBIOS.match(text.rstrip(".")):
            raise ValidationError(
                option,
                f"{text!r} is not a valid NetBIOS name (1-15 letters, digits or inner hyphens); "
                f"expected {SERVER_ALLOWED}",
            )
        return text
    problem = _dns_name_problem(text)
    if problem:
        raise ValidationError(option, f"{text!r} {problem}; expected {SERVER_ALLOWED}")
    return text


def same_server(left: str | None, right: str | None) -> bool:
    """Host names compare case-insensitively, IP literals by address (``[FD00:0::1]`` is ``[fd00::1]``)."""
    if left is None or right is None:
        return left is right
    return server_key(left) == server_key(right)


def server_key(name: str) -> str:
    text = name.strip()
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if ":" in inner:
        try:
            return f"[{_ipv6_text(ipaddress.IPv6Address(inner))}]"
        except ValueError:
            return text.lower()
    return text.rstrip(".").lower()


def http_url(option: str, value: t.Any) -> str:
    """An absolute http:// or https:// URL."""
    allowed = "an absolute http:// or https:// URL such as https://help.example.com/activation"
    text = _text(option, value, allowed)
    parts = urllib.parse.urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        raise ValidationError(option, f"{text!r} has {shown}; expected {allowed}")
    if not parts.hostname:
        raise ValidationError(option, f"{text!r} has no host name; expected {allowed}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError:
        raise ValidationError(option, f"{text!r} has an invalid port; expected {allowed}") from None
    return text


def activation_id(option: str, value: t.Any) -> str:
    """A SoftwareLicensingProduct ID (a GUID), lower case without braces."""
    allowed = "an Activation ID GUID such as ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03"
    text = _text(option, value, allowed)
    match = _GUID.match(text)
    if not match:
        raise ValidationError(option, f"{text!r} is not a GUID; expected {allowed}")
    return match.group(1).lower()
