# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scripted fake WS-Man transport and fixture helpers for the _wsman / _wmi tests.

The fake behaves like the real adapter seen from above: it answers each request with the next scripted
reply, echoes the request's MessageID into ``a:RelatesTo`` (as Windows does) unless told not to, and turns
a non-200 reply into the error the adapter would raise for that HTTP status and body.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    NS_ADDRESSING,
    NS_SOAP,
    NS_WSMAN,
    Element,
    fault_from_http,
    parse_xml,
    qname,
)

FIXTURES = Path(__file__).parent / "fixtures" / "wsman"
ENDPOINT = "http://127.0.0.1:5985/wsman"
_RELATES_TO = re.compile(rb"(<a:RelatesTo>)[^<]*(</a:RelatesTo>)")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclasses.dataclass(frozen=True)
class Reply:
    body: bytes
    status: int = 200
    echo_relates_to: bool = True


class FakeTransport:
    """Answers requests from a script of replies (bytes, :class:`Reply` or an exception to raise)."""

    def __init__(
        self, *replies: Reply | bytes | BaseException, endpoint: str = ENDPOINT, read_timeout: float = 30.0
    ) -> None:
        self.endpoint = endpoint
        self.read_timeout = read_timeout
        self.sent: list[bytes] = []
        self._replies = list(replies)

    def send(self, message: bytes) -> bytes:
        self.sent.append(message)
        if not self._replies:
            raise AssertionError(f"unexpected request #{len(self.sent)}: {message[:300]!r}")
        reply = self._replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, bytes):
            reply = Reply(reply)
        body = reply.body
        if reply.echo_relates_to:
            message_id = header_text(parse_xml(message), NS_ADDRESSING, "MessageID")
            body = _RELATES_TO.sub(lambda m: m.group(1) + message_id.encode() + m.group(2), body)
        if reply.status != 200:
            raise fault_from_http(self.endpoint, reply.status, body)
        return body

    @property
    def requests(self) -> list[Element]:
        return [parse_xml(message) for message in self.sent]

    @property
    def pending(self) -> int:
        return len(self._replies)


def header_text(envelope: Element, namespace: str, local: str) -> str:
    element = envelope.find(f"{qname(NS_SOAP, 'Header')}/{qname(namespace, local)}")
    assert element is not None, f"request has no {local} header"
    return element.text or ""


def action_of(envelope: Element) -> str:
    return header_text(envelope, NS_ADDRESSING, "Action")


def resource_uri_of(envelope: Element) -> str:
    return header_text(envelope, NS_WSMAN, "ResourceURI")


def selectors_of(envelope: Element) -> dict[str, str]:
    path = f"{qname(NS_SOAP, 'Header')}/{qname(NS_WSMAN, 'SelectorSet')}/{qname(NS_WSMAN, 'Selector')}"
    return {item.get("Name", ""): item.text or "" for item in envelope.findall(path)}


def body_of(envelope: Element) -> Element:
    body = envelope.find(qname(NS_SOAP, "Body"))
    assert body is not None
    return body
