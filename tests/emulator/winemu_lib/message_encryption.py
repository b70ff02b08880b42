"""HTTP message encryption of WS-Management over plain HTTP, [MS-WSMV] 2.2.9.1.

Once a Negotiate (NTLM or Kerberos) or Kerberos context is established, each request body is
``multipart/encrypted`` with two parts: a header part naming the protocol and the plaintext length
(``OriginalContent: type=application/soap+xml;charset=UTF-8;Length=N``), then an
``application/octet-stream`` part holding a 32-bit little-endian length, the signature (the NTLM message
signature, 16 bytes; for Kerberos the RFC 4121 per-message token header) and the sealed envelope
([MS-WSMV] 2.2.9.1.1.2.2). The server answers the same way with the protocol the client used.

This module only frames and unframes; the security context that seals and unseals is given to it, so any
handler behind the endpoint (WMI, WinRS, PowerShell remoting) sees plaintext envelopes.
"""

from __future__ import annotations

import dataclasses
import re
import struct
import typing as t

SPNEGO = "application/HTTP-SPNEGO-session-encrypted"
KERBEROS = "application/HTTP-Kerberos-session-encrypted"
CREDSSP = "application/HTTP-CredSSP-session-encrypted"
PROTOCOLS = {p.lower(): p for p in (SPNEGO, KERBEROS, CREDSSP)}
BOUNDARY = "Encrypted Boundary"
ORIGINAL_TYPE = "application/soap+xml;charset=UTF-8"

_PARAM = re.compile(r'([A-Za-z-]+)\s*=\s*("([^"]*)"|[^;]*)')
_LENGTH = re.compile(rb"Length\s*=\s*(\d+)", re.IGNORECASE)
_OCTET_STREAM = re.compile(rb"[ \t]*Content-Type:\s*application/octet-stream\r\n", re.IGNORECASE)


class Sealer(t.Protocol):
    """The established security context, as pyspnego's ``wrap_winrm``/``unwrap_winrm`` offer it."""

    def seal(self, data: bytes) -> tuple[bytes, bytes]:
        """Return (signature/token header, sealed data)."""

    def unseal(self, header: bytes, data: bytes) -> bytes: ...


class EncryptionError(Exception):
    """The body is not a well-formed encrypted message, or it does not verify."""


@dataclasses.dataclass(frozen=True)
class EncryptedType:
    protocol: str  # one of PROTOCOLS' values
    boundary: str


def encrypted_type(content_type: str) -> EncryptedType | None:
    """The protocol and boundary of a ``multipart/encrypted`` Content-Type; None for any other type."""
    media, _sep, rest = content_type.partition(";")
    if media.strip().lower() != "multipart/encrypted":
        return None
    params = {}
    for name, value, quoted in _PARAM.findall(rest):
        params[name.lower()] = quoted if value.startswith('"') else value.strip()
    protocol = PROTOCOLS.get(params.get("protocol", "").lower())
    if protocol is None:
        raise EncryptionError(f"unsupported encryption protocol {params.get('protocol')!r}")
    return EncryptedType(protocol, params.get("boundary") or BOUNDARY)


def decrypt(body: bytes, kind: EncryptedType, sealer: Sealer) -> bytes:
    """The plaintext envelope of an encrypted request body.

    Part headers are accepted with or without the leading tab [MS-WSMV] prescribes, and with a space between
    ``--`` and the boundary (clients differ).
    """
    boundary = kind.boundary.encode("latin-1")
    marker = re.compile(rb"--[ ]?" + re.escape(boundary))
    first = marker.search(body)
    if first is None:
        raise EncryptionError("no encrypted-message boundary in the body")
    second = marker.search(body, first.end())
    if second is None:
        raise EncryptionError("the encrypted message has only one part")
    header_part = body[first.end() : second.start()]
    if not re.search(rb"Content-Type:\s*" + re.escape(kind.protocol.encode()), header_part, re.IGNORECASE):
        raise EncryptionError(f"the first part does not declare {kind.protocol}")
    length_match = _LENGTH.search(header_part)
    if length_match is None:
        raise EncryptionError("the first part has no OriginalContent Length")
    expected = int(length_match.group(1))
    rest = body[second.end() :]
    octet = _OCTET_STREAM.search(rest)
    if octet is None:
        raise EncryptionError("the second part is not application/octet-stream")
    payload = rest[octet.end() :]
    end = marker.pattern + rb"--"
    closing = list(re.finditer(end, payload))
    if not closing:
        raise EncryptionError("the encrypted message has no closing boundary")
    payload = payload[: closing[-1].start()]
    if len(payload) < 4:
        raise EncryptionError("the encrypted part is too short")
    (header_length,) = struct.unpack("<I", payload[:4])
    if header_length > len(payload) - 4:
        raise EncryptionError("the signature length exceeds the encrypted part")
    header = payload[4 : 4 + header_length]
    sealed = payload[4 + header_length :]
    try:
        plaintext = sealer.unseal(header, sealed)
    except Exception as exc:  # the security library's own errors: a bad signature or sequence number
        raise EncryptionError(f"the message does not verify: {exc}") from exc
    if len(plaintext) != expected:
        raise EncryptionError(f"the plaintext is {len(plaintext)} bytes, the header says {expected}")
    return plaintext


def encrypt(plaintext: bytes, protocol: str, sealer: Sealer) -> tuple[bytes, str]:
    """(body, Content-Type) of an encrypted response, framed as [MS-WSMV] 2.2.9.1.1.2.2 shows."""
    header, sealed = sealer.seal(plaintext)
    body = b"".join(
        (
            f"--{BOUNDARY}\r\n".encode(),
            f"\tContent-Type: {protocol}\r\n".encode(),
            f"\tOriginalContent: type={ORIGINAL_TYPE};Length={len(plaintext)}\r\n".encode(),
            f"--{BOUNDARY}\r\n".encode(),
            b"\tContent-Type: application/octet-stream\r\n",
            struct.pack("<I", len(header)),
            header,
            sealed,
            f"--{BOUNDARY}--\r\n".encode(),
        )
    )
    return body, f'multipart/encrypted;protocol="{protocol}";boundary="{BOUNDARY}"'
