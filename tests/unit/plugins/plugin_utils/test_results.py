# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_results: the one secret masker, scrubbing of result structures, HRESULTs in hex, failures and task context."""

from __future__ import annotations

import collections
import types
import typing as t

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._results import (
    FULL_MASK,
    MASK_PREFIX,
    ModuleFailure,
    TaskContext,
    hresult_hex,
    mask_secret,
    scrub,
)

MAK = "QGT6C-D2FR3-CYJCD-VVDKD-2VC3F"  # fabricated
MASKED = "XXXXX-XXXXX-XXXXX-XXXXX-2VC3F"


@pytest.mark.parametrize(
    ("secret", "masked"),
    [
        (MAK, MASKED),
        (MAK.lower(), MASKED),  # the visible part is shown as SPP shows partial keys: upper case
        (f"  {MAK}\n", MASKED),  # surrounding whitespace is not part of the secret's tail
        (MAK.replace("-", ""), MASKED),  # a key typed without dashes
        ("abcde", FULL_MASK),  # five characters or fewer: showing the tail would show it all
        ("a", FULL_MASK),
        ("   ", FULL_MASK),
        ("", FULL_MASK),
        (None, FULL_MASK),
    ],
)
def test_mask_secret_shows_at_most_the_last_five_characters(secret: str | None, masked: str) -> None:
    assert mask_secret(secret) == masked


def test_mask_secret_of_something_that_is_not_text_shows_nothing() -> None:
    assert mask_secret(t.cast(t.Any, 12345678)) == FULL_MASK


def test_scrub_masks_keys_values_and_every_container() -> None:
    value = {
        MAK: [MAK, (f"key {MAK}!", 1), {"deep": {f"{MAK}-suffix": MAK}}],
        "n": 5,
        "flag": True,
        "none": None,
        "ratio": 0.5,
    }
    assert scrub(value, [MAK]) == {
        MASKED: [MASKED, [f"key {MASKED}!", 1], {"deep": {f"{MASKED}-suffix": MASKED}}],
        "n": 5,
        "flag": True,
        "none": None,
        "ratio": 0.5,
    }


def test_scrub_replaces_every_occurrence_of_every_secret() -> None:
    other = "BCDFG-HJKMN-PQRTV-WXY23-46789"
    assert scrub(f"{MAK} and {MAK} and {other}", [MAK, other]) == (f"{MASKED} and {MASKED} and {MASK_PREFIX}46789")


def test_scrub_masks_the_longest_secret_first() -> None:
    # A shorter secret inside a longer one (the key's first groups) must not leave the rest of the key.
    head = MAK[:11]
    assert scrub(f"key {MAK}", [head, MAK]) == f"key {MASKED}"
    assert "CYJCD" not in scrub([MAK], [head, MAK])[0]


def test_scrub_ignores_empty_secrets_and_returns_the_value_itself_without_secrets() -> None:
    value = {"a": ["b"]}
    assert scrub(value, []) is value
    assert scrub(value, ["", ""]) is value  # an empty secret would otherwise match between every character
    assert scrub("text", [""]) == "text"


def test_scrub_turns_other_mappings_and_tuples_into_plain_containers() -> None:
    ordered = collections.OrderedDict([("k", MAK)])
    proxy = types.MappingProxyType({"k": (MAK,)})
    scrubbed = scrub(ordered, [MAK])
    assert scrubbed == {"k": MASKED}
    assert isinstance(scrubbed, dict) and not isinstance(scrubbed, collections.OrderedDict)
    assert scrub(proxy, [MAK]) == {"k": [MASKED]}


def test_scrub_accepts_any_iterable_of_secrets() -> None:
    assert scrub(MAK, iter([MAK])) == MASKED
    assert scrub(MAK, {MAK, MAK.lower()}) == MASKED


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (0xC004F050, "0xC004F050"),
        (-2147024891, "0x80070005"),  # signed, as COM and .NET report it
        (5, "0x00000005"),
        (0, "0x00000000"),
        (0x1C004F074, "0xC004F074"),  # only 32 bits
    ],
)
def test_hresult_hex(code: int, text: str) -> None:
    assert hresult_hex(code) == text


def test_module_failure_carries_message_and_detail() -> None:
    failure = ModuleFailure("Setting port failed", setting="port", error={"hresult": None})
    assert str(failure) == failure.msg == "Setting port failed"
    assert failure.detail == {"setting": "port", "error": {"hresult": None}}
    assert ModuleFailure("plain").detail == {}


def test_task_contexts_share_nothing() -> None:
    first, second = TaskContext(check_mode=False, diff_mode=False), TaskContext(check_mode=True, diff_mode=True)
    first.applied.append("server")
    first.warnings.append("w")
    first.task_vars["x"] = 1
    assert (second.applied, second.warnings, second.task_vars) == ([], [], {})
