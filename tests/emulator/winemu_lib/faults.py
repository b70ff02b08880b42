"""Fault injection settings of one emulated host, and the checks of their values.

The WinRM endpoint applies them to its requests; the control API and the fleet file set them.
"""

from __future__ import annotations

import dataclasses
import functools
import struct
import typing as t
import zlib

# What each "<kind>_at_request" injection does to request N of a host.
AT_REQUEST_KINDS = (
    "drop",  # close the connection without an answer
    "fault",  # answer with a w:InternalError fault
    "malformed",  # answer 200 with a truncated envelope
    "hostile",  # answer 200 with an entity-expansion ("billion laughs") document
    # --- a change cut short (the request runs on the host; its answer goes missing) ---
    "lost",  # run the request, then close the connection: the answer is lost after execution
    "stall",  # the request outlasts its OperationTimeout: w:TimedOut, and it completes later anyway
    "hang",  # run the request, then hold the connection unanswered for hang_ms (past the client's read timeout)
    # --- hostile or broken hosts ---
    "trickle",  # the real answer, one byte every trickle_ms
    "gzip_bomb",  # 200, Content-Encoding gzip: about 1 MB that inflates to 1 GiB
    "huge",  # 200 with a 50 MB body
    "external_entity",  # a DOCTYPE with an external entity (XXE)
    "wrong_relates_to",  # a well-formed answer to another request
    "html",  # 503 with an HTML error page, as a proxy in the way sends
    "empty",  # 200 with an empty body
    "wrong_root",  # 200 with XML that is not a SOAP envelope
    "deep",  # 200 with 100000 nested elements
    "truncated_enumeration",  # an EnumerateResponse with neither items, context nor EndOfSequence
    "endless_paging",  # an enumeration whose Pulls never reach EndOfSequence
)
# The kinds answered with a fixed document: HTTP status, body, extra headers.
DOCUMENT_KINDS = frozenset(
    {"malformed", "hostile", "gzip_bomb", "huge", "external_entity", "html", "empty", "wrong_root", "deep"}
)

# Answers of a broken or hostile host, for clients' robustness tests.
MALFORMED_RESPONSE = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><a:Action'
HOSTILE_RESPONSE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (level, (b"&lol%d;" % (level - 1) if level > 1 else b"&lol;") * 10)
        for level in range(1, 10)
    )
    + b']>\n<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol9;</s:Body></s:Envelope>'
)


EXTERNAL_ENTITY_RESPONSE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&xxe;</s:Body></s:Envelope>'
)
HTML_RESPONSE = (
    b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>"
    b"<body><h1>Service Unavailable</h1><p>The proxy could not reach the server.</p></body></html>"
)
WRONG_ROOT_RESPONSE = b'<?xml version="1.0"?><Status xmlns="urn:example:status"><Ok/></Status>'
DEEP_NESTING = 100000
HUGE_BYTES = 50 * 1024 * 1024
GZIP_BOMB_INFLATED = 1024 * 1024 * 1024


@functools.cache
def gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GiB of zeros (built once, in about a second).

    After a full flush deflate starts afresh, so the compressed form of each 1 MiB of zeros is the same bytes:
    they are repeated instead of compressing 1 GiB.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1024 * 1024)
    chunk = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    count = GZIP_BOMB_INFLATED // len(block)
    crc = 0
    for _block in range(count):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # gzip, deflate, no name, no mtime
    trailer = struct.pack("<II", crc, GZIP_BOMB_INFLATED & 0xFFFFFFFF)
    return header + chunk * count + packer.flush() + trailer


def fixed_document(kind: str) -> tuple[int, bytes, list[tuple[str, str]]]:
    """HTTP status, body and extra headers of a fixed-document fault kind."""
    if kind == "malformed":
        return 200, MALFORMED_RESPONSE, []
    if kind == "hostile":
        return 200, HOSTILE_RESPONSE, []
    if kind == "gzip_bomb":
        return 200, gzip_bomb(), [("Content-Encoding", "gzip")]
    if kind == "huge":
        return 200, b"<" * HUGE_BYTES, []
    if kind == "external_entity":
        return 200, EXTERNAL_ENTITY_RESPONSE, []
    if kind == "html":
        return 503, HTML_RESPONSE, []
    if kind == "empty":
        return 200, b"", []
    if kind == "wrong_root":
        return 200, WRONG_ROOT_RESPONSE, []
    if kind == "deep":
        return 200, b"<a>" * DEEP_NESTING + b"</a>" * DEEP_NESTING, []
    raise ValueError(f"{kind} is not a fixed-document fault")


@dataclasses.dataclass
class FaultSettings:
    """Fault injection of one host. Request numbers count from when the fault was set or stats were reset."""

    latency_ms: int = 0
    # "Class.Method": drop the connection at the first request after that method ran (once).
    drop_after_method: str | None = None
    # "Class.Method" that takes slow_method_ms longer than every other request (e.g. an Activate that
    # outlasts OperationTimeout while the rest answers at once).
    slow_method: str | None = None
    slow_method_ms: int = 0
    # "Class.Method" carried out once with its answer lost (the connection closes instead).
    lose_method: str | None = None
    trickle_ms: int = 500  # the delay between two bytes of a trickled answer
    hang_ms: int = 60000  # how long a hung request holds its connection before closing it
    drop_next: bool = False
    at_request: dict[str, int | None] = dataclasses.field(default_factory=lambda: dict.fromkeys(AT_REQUEST_KINDS))
    base: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(AT_REQUEST_KINDS, 0))

    def due(self, kind: str, number: int) -> bool:
        wanted = self.at_request[kind]
        return wanted is not None and number - self.base[kind] == wanted

    def apply(self, changes: t.Mapping[str, t.Any], *, request_count: int) -> None:
        """Validate all changes first, then apply them (nothing changes on a bad value).

        ``request_count`` is the host's request total now: a new ``*_at_request`` counts from there.
        """
        parsed = {key: parse_fault_setting(key, value) for key, value in changes.items()}
        for key, value in parsed.items():
            if key == "drop_after_method":
                self.drop_after_method = t.cast(str | None, value)
                self.drop_next = False
            elif key == "slow_method":
                self.slow_method = t.cast(str | None, value)
            elif key == "lose_method":
                self.lose_method = t.cast(str | None, value)
            elif key == "slow_method_ms":
                self.slow_method_ms = int(value or 0)
            elif key == "latency_ms":
                self.latency_ms = int(value or 0)
            elif key in ("trickle_ms", "hang_ms"):
                setattr(self, key, int(value or 0))
            else:
                kind = key.removesuffix("_at_request")
                if kind == "gzip_bomb" and value is not None:
                    gzip_bomb()  # built now, not while a client waits for its answer
                self.at_request[kind] = t.cast(int | None, value)
                self.base[kind] = request_count

    def restart_counts(self) -> None:
        """Request numbers count again from 0 (after the host's counters were reset)."""
        self.base = dict.fromkeys(AT_REQUEST_KINDS, 0)

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "latency_ms": self.latency_ms,
            **{f"{k}_at_request": v for k, v in self.at_request.items()},
            "drop_after_method": self.drop_after_method,
            "slow_method": self.slow_method,
            "slow_method_ms": self.slow_method_ms,
            "lose_method": self.lose_method,
            "trickle_ms": self.trickle_ms,
            "hang_ms": self.hang_ms,
        }


METHOD_KEYS = ("drop_after_method", "slow_method", "lose_method")
FAULT_KEYS = (
    "latency_ms",
    *(f"{kind}_at_request" for kind in AT_REQUEST_KINDS),
    *METHOD_KEYS,
    "slow_method_ms",
    "trickle_ms",
    "hang_ms",
)


def parse_method_name(key: str, value: t.Any) -> str | None:
    """``Class.Method`` for a method fault, or None (null) to switch it off; ValueError if bad."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("null", "none", "")):
        return None
    if not isinstance(value, str) or value.count(".") != 1 or not all(value.split(".")):
        raise ValueError(f"{key} must look like Class.Method, got {value!r}")
    return value.strip()


def parse_fault_setting(key: str, value: t.Any) -> int | str | None:
    """Check any fault setting; ValueError if the key or the value is bad."""
    return parse_method_name(key, value) if key in METHOD_KEYS else parse_fault_value(key, value)


def parse_fault_value(key: str, value: t.Any) -> int | None:
    """Check one fault setting (an int, a numeric string, or null for the request numbers); ValueError if bad."""
    if key not in FAULT_KEYS or key in METHOD_KEYS:
        raise ValueError(f"unknown fault setting {key!r} (known: {', '.join(FAULT_KEYS)})")
    durations = ("latency_ms", "slow_method_ms", "trickle_ms", "hang_ms")
    if value is None and key not in durations:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        elif isinstance(value, str) and value.strip().lower() in ("null", "none", "") and key not in durations:
            return None
        else:
            raise ValueError(f"{key} must be an integer, got {value!r}")
    minimum = 0 if key in durations else 1
    if value < minimum:
        raise ValueError(f"{key} must be >= {minimum}, got {value}")
    return int(value)
