# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values no WS-Management request can carry fail before any I/O, naming the option and the limit."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._validate import MAX_VALUE_BYTES, wire_safe
from ansible_collections.winact.kms.tests.unit.plugins.action_harness import run_action

CASES: list[tuple[str, dict[str, t.Any], str, str]] = [
    (
        "activation_policy",
        {"alternate_url": "https://help.example.com/\ufffe"},
        "alternate_url",
        "U+FFFE at position 25, a character XML 1.0 cannot carry",
    ),
    ("kms_client", {"server": "kms\x00host"}, "server", "U+0000"),
    ("kms_client", {"lookup_domain": "corp\ud800.example.com"}, "lookup_domain", "U+D800"),
    (
        "kms_host",
        {"dns_publish_domains": [{"domain": "a.example.com"}, {"domain": "b\uffff.example.com"}]},
        "dns_publish_domains[1].domain",
        "U+FFFF",
    ),
    (
        "activation_policy",
        {"alternate_url": "https://help.example.com/" + "a" * 600_000},
        "alternate_url",
        "MaxEnvelopeSize of 500 KB (512000 bytes)",
    ),
    (
        "activation_policy",
        {"alternate_url": "https://help.example.com/?" + "&" * 120_000},  # 600 kB once escaped as &amp;
        "alternate_url",
        "bytes once encoded as XML",
    ),
    ("license_info", {"event_count": -1}, "event_count", "-1 is out of range; expected 0-1000"),
    ("license_info", {"event_count": 1_000_000}, "event_count", "out of range; expected 0-1000"),
]


@pytest.mark.parametrize(("module", "args", "option", "message"), CASES)
def test_refused_before_any_io(
    monkeypatch: pytest.MonkeyPatch, module: str, args: dict[str, t.Any], option: str, message: str
) -> None:
    result, _seam = run_action(monkeypatch, module, args, None)  # the connection fails the test if used
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith(f"{option}: "), result["msg"]
    assert message in result["msg"]
    assert len(result["msg"]) < 400  # the message names the problem, it does not quote the value


def test_legal_special_characters_pass() -> None:
    wire_safe({"alternate_url": "https://help.example.com/?a=1&b=<2>&c=]]>", "tab": "a\tb\r\nc"})


def test_the_strings_of_one_task_must_fit_together() -> None:
    half = "a" * (MAX_VALUE_BYTES // 2 + 10)
    with pytest.raises(ValueError, match="the options' strings together are"):
        wire_safe({"one": half, "two": half})
