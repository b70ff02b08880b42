# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe XML parsing: hostile documents are refused, malformed ones give a protocol error, real ones parse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _wsman
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    NS_SOAP,
    WSManProtocolError,
    parse_xml,
    qname,
)
from ansible_collections.winact.kms.tests.unit.plugins.plugin_utils.wsman_fakes import FIXTURES, fixture

RECORDED = sorted(path.name for path in FIXTURES.glob("*.xml") if not path.name.startswith(("hostile", "malformed")))


@pytest.mark.parametrize("name", RECORDED)
def test_every_response_fixture_parses_to_an_envelope(name: str) -> None:
    assert parse_xml(fixture(name)).tag == qname(NS_SOAP, "Envelope")


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("hostile-billion-laughs.xml", "DOCTYPE"),
        ("hostile-external-entity.xml", "DOCTYPE"),
        ("hostile-parameter-entity.xml", "DOCTYPE"),
        ("hostile-doctype-only.xml", "DOCTYPE"),
    ],
)
def test_hostile_documents_are_refused(name: str, what: str) -> None:
    with pytest.raises(WSManProtocolError, match=f"refusing the response: it contains a {what}"):
        parse_xml(fixture(name))


def test_entity_handlers_refuse_even_without_the_doctype_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    # Belt and braces: with the DOCTYPE check out of the way, the entity declaration itself is refused.
    original = _wsman._refuse

    def allow_doctype(what: str) -> Callable[..., Any]:
        if what == "a DOCTYPE declaration":
            return lambda *args: None
        return original(what)

    monkeypatch.setattr(_wsman, "_refuse", allow_doctype)
    with pytest.raises(WSManProtocolError, match="an entity declaration"):
        parse_xml(fixture("hostile-billion-laughs.xml"))
    with pytest.raises(WSManProtocolError, match="an entity declaration"):
        parse_xml(fixture("hostile-external-entity.xml"))


def test_undeclared_entity_reference_is_malformed() -> None:
    with pytest.raises(WSManProtocolError, match="malformed XML"):
        parse_xml(b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">&secret;</s:Envelope>')


@pytest.mark.parametrize("name", ["malformed-truncated.xml", "malformed-unbound-prefix.xml"])
def test_malformed_fixtures(name: str) -> None:
    with pytest.raises(WSManProtocolError, match="malformed XML in the response"):
        parse_xml(fixture(name))


@pytest.mark.parametrize("data", [b"", b"   ", b"not xml at all", b"<a><b></a>", b"<a/><b/>", b"\xff\xfe\x00<"])
def test_garbage_is_a_protocol_error(data: bytes) -> None:
    with pytest.raises(WSManProtocolError):
        parse_xml(data)


def test_oversized_responses_are_refused_before_parsing() -> None:
    data = b"<a>" + b"x" * _wsman.MAX_RESPONSE_BYTES + b"</a>"
    with pytest.raises(WSManProtocolError, match="exceeds the"):
        parse_xml(data)


def test_text_input_and_declared_encodings() -> None:
    # Library error paths hand over decoded text: its XML declaration must not confuse the parser.
    text = '<?xml version="1.0" encoding="UTF-16"?><v xmlns="urn:x">é €</v>'
    assert parse_xml(text).text == "é €"
    assert parse_xml(text.encode("utf-16")).text == "é €"
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><v>é</v>'.encode("latin-1")
    assert parse_xml(latin).text == "é"


def test_namespaces_attributes_and_unqualified_children() -> None:
    root = parse_xml(b'<w:XmlFragment xmlns:w="urn:w" xmlns:x="urn:x" x:a="1" b="2"><Name>v</Name></w:XmlFragment>')
    assert root.tag == "{urn:w}XmlFragment"
    assert root.attrib == {"{urn:x}a": "1", "b": "2"}
    assert [child.tag for child in root] == ["Name"]


def test_comments_and_processing_instructions_are_ignored() -> None:
    root = parse_xml(b"<?xml version='1.0'?><?pi data?><a><!-- c --><b>t</b></a>")
    assert [child.tag for child in root] == ["b"]
