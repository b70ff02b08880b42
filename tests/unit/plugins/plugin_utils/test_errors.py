# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the activation error table (_errors) and its generated reference page."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _errors as errors
from ansible_collections.winact.kms.plugins.plugin_utils._errors import (
    ERRORS,
    LICENSE_STATUS_NAMES,
    SOURCES,
    decode_status_flags,
    explain,
)
from ansible_collections.winact.kms.plugins.plugin_utils._results import hresult_hex

REPO_ROOT = Path(__file__).resolve().parents[4]
ERROR_DOCS = REPO_ROOT / "docs" / "error-codes.md"

# The codes Microsoft's activation troubleshooting articles and slerror.h explain (docs/reference/kms.md and
# docs/error-codes.md), then the keys of slmgr.vbs's built-in message table.
FACTS_TABLE_CODES = (
    0xC004F074, 0xC004F038, 0xC004F039, 0xC004F041, 0xC004F042, 0xC004F050, 0xC004F06C, 0xC004C003,
    0xC004C008, 0xC004C001, 0xC004C020, 0xC004C021, 0xC004B100, 0xC004F035, 0xC004F069, 0xC004F015,
    0xC004E015, 0xC004E002, 0x8004E108, 0xC004D302, 0xC004D307, 0xC004F014, 0xC004F009, 0xC004F00F,
    0xC004F02C, 0xC004F051, 0xC004F064, 0xC004F065, 0xC004F06B, 0xC004F075, 0xC004F025, 0xC004F200,
    0xC004FD01, 0x80070005, 0x8007007B, 0x8007232B, 0x8007232A, 0x8007251D, 0x80092328, 0x8007267C,
    0x800706BA, 0x80070490, 0x8007000D, 0x8004FE21, 0x80072338, 0x800705B4, 0xC0020017, 0x8007139F,
)  # fmt: skip
SLMGR_MESSAGE_TABLE_KEYS = (
    0xC004C001, 0xC004C003, 0xC004C017, 0xC004B100, 0xC004C008, 0xC004C020, 0xC004C021, 0xC004D307,
    0xC004F009, 0xC004F00F, 0xC004F014, 0xC004F025, 0xC004F02C, 0xC004F035, 0xC004F038, 0xC004F039,
    0xC004F041, 0xC004F042, 0xC004F050, 0xC004F051, 0xC004F064, 0xC004F065, 0xC004F066, 0xC004F06B,
    0xC004F074, 0xC004F075, 0xC004F304, 0xC004F305, 0xC004F30A, 0xC004F30D, 0xC004F30E, 0xC004F30F,
    0xC004F310, 0xC004F311, 0xC004F312, 0x5, 0x80070005, 0x80070057, 0x8007232A, 0x8007232B, 0x800706BA,
    0x8007251D,
)  # fmt: skip


def _table() -> dict[int, errors.ErrorInfo]:
    return {entry.hresult: entry for entry in ERRORS}


@pytest.mark.parametrize("code", sorted(set(FACTS_TABLE_CODES + SLMGR_MESSAGE_TABLE_KEYS)), ids=hresult_hex)
def test_every_code_of_the_facts_is_in_the_table(code: int) -> None:
    entry = _table().get(code)
    assert entry is not None, f"{hresult_hex(code)} missing"
    assert explain(code) is entry
    assert entry.known


def test_table_has_one_entry_per_code_and_complete_fields() -> None:
    codes = [entry.hresult for entry in ERRORS]
    assert len(codes) == len(set(codes))
    assert len(codes) >= 60
    for entry in ERRORS:
        assert 0 <= entry.hresult <= 0xFFFFFFFF
        assert entry.message.strip(), entry
        assert entry.cause.strip(), entry
        assert entry.fix.strip(), entry
        assert entry.symbol is None or entry.symbol.isidentifier()
        tags = [tag.strip() for tag in entry.source.split(";")]
        unknown = [tag for tag in tags if tag not in SOURCES and tag != "symbol inferred"]
        assert not unknown, (entry.hresult_hex, unknown)
    # Only the two codes the facts give no symbol for lack one.
    assert {entry.hresult for entry in ERRORS if entry.symbol is None} == {0x8004FE21, 0x80092328}


@pytest.mark.parametrize(
    ("code", "symbol", "message"),
    [
        (
            0xC004F074,
            "SL_E_VL_BINDING_SERVICE_UNAVAILABLE",
            "The Software Licensing Service reported that the computer could not be activated. No Key Management "
            "Service (KMS) could be contacted. Please see the Application Event Log for additional information.",
        ),
        (0xC004F050, "SL_E_INVALID_PRODUCT_KEY", "The Software Licensing Service reported that the product key is "
         "invalid"),
        (0xC004C017, "SL_E_CHPA_PRODUCT_KEY_BLOCKED_IPLOCATION", "The activation server determined the specified "
         "product key has been blocked for this geographic location."),
        (0x8007232B, "DNS_ERROR_RCODE_NAME_ERROR", "DNS name does not exist"),
        (0xC004F069, "SL_E_MISMATCHED_PRODUCT_SKU", "The Software Licensing Service reported that the product SKU is "
         "not found."),
    ],
)  # fmt: skip
def test_microsoft_texts(code: int, symbol: str, message: str) -> None:
    info = explain(code)
    assert (info.symbol, info.message) == (symbol, message)


# A source tag of the project's internal notes (S-PLAN, S-DNSDOC, S-SUP/...): never shown to a user.
_NOTES_TAG = re.compile(r"\bS-[A-Z]{2,}")


def _user_texts(info: errors.ErrorInfo) -> list[str]:
    return [info.message, info.cause, info.fix, *info.to_dict().values()]


@pytest.mark.parametrize("code", [entry.hresult for entry in ERRORS] + [0xC004F999, 0x80071234], ids=hresult_hex)
def test_texts_reaching_users_carry_no_source_tags(code: int) -> None:
    info = explain(code)
    for text in _user_texts(info):
        assert text is None or not _NOTES_TAG.search(text), (info.hresult_hex, text)
    assert not _NOTES_TAG.search(info.source), (info.hresult_hex, info.source)


def test_sources_are_readable_titles_with_urls() -> None:
    for name, (title, url) in SOURCES.items():
        assert not _NOTES_TAG.search(name) and not _NOTES_TAG.search(title), name
        assert title.strip(), name
        assert url == "" or url.startswith(("https://", "http://")), (name, url)
    # Every source an entry names is in SOURCES (no free-form leftovers).
    used = {name.strip() for entry in ERRORS for name in entry.source.split(";")}
    assert used <= set(SOURCES), used - set(SOURCES)
    assert explain(0xC004F999).source in SOURCES


def test_fix_texts_name_documents_by_title_and_url() -> None:
    dns = "https://learn.microsoft.com/windows-server/get-started/common-troubleshooting-procedures-kms-dns"
    for code in (0x8007007B, 0x80092328, 0x8007232A, 0x8007251D):
        assert "Common troubleshooting procedures for KMS and DNS issues" in explain(code).fix
        assert dns in explain(code).fix
    assert "https://learn.microsoft.com/windows-server/get-started/kms-activation-planning" in explain(0xC004F042).fix
    assert "windows-not-genuine-error" in explain(0xC004F200).fix


def test_kms_causes_and_fixes_follow_the_facts() -> None:
    assert "4 hours" in explain(0xC004F06C).cause
    assert "25" in explain(0xC004F038).cause
    assert "5" in explain(0xC004F038).cause
    assert "1688" in explain(0xC004F074).fix
    assert explain(0xC004F066).symbol == "SL_E_DEPENDENT_PROPERTY_NOT_SET"
    assert "0xC004F069" in explain(0xC004F066).cause


def test_to_dict() -> None:
    assert explain(0xC004F06C).to_dict() == {
        "hresult": "0xC004F06C",
        "symbol": "SL_E_VL_INVALID_TIMESTAMP",
        "message": explain(0xC004F06C).message,
        "cause": explain(0xC004F06C).cause,
        "fix": explain(0xC004F06C).fix,
    }
    assert explain(0x5).to_dict()["hresult"] == "0x00000005"


def test_signed_hresults_are_accepted() -> None:
    signed = 0xC004F074 - (1 << 32)
    assert signed < 0
    assert explain(signed) is explain(0xC004F074)


def test_header_value_of_the_non_genuine_grace_code() -> None:
    info = explain(0x4004F065)
    assert info.hresult == 0x4004F065
    assert info.symbol == "SL_I_NONGENUINE_GRACE_PERIOD"
    assert info.to_dict()["hresult"] == "0x4004F065"


def test_bare_win32_codes_map_to_their_hresult() -> None:
    info = explain(0x7B)
    assert (info.hresult, info.symbol) == (0x7B, "ERROR_INVALID_NAME")
    assert explain(5).symbol == "ERROR_ACCESS_DENIED"  # slmgr has its own entry for 5


def test_unknown_codes_get_the_slui_advice() -> None:
    info = explain(0xC004F999)
    assert not info.known
    assert info.symbol is None
    assert info.fix == (
        "On a computer running Microsoft Windows non-core edition, run 'slui.exe 0x2a 0xC004F999' to display the "
        "error text."
    )
    assert "client API" in info.cause
    assert info.to_dict()["hresult"] == "0xC004F999"
    assert "Win32 error 4660" in explain(0x80071234).cause
    assert "clearing house" in explain(0xC004C999).cause


@pytest.mark.parametrize("bad", [True, "0xC004F074", 1.5])
def test_explain_rejects_non_integers(bad: object) -> None:
    with pytest.raises(TypeError):
        explain(bad)  # type: ignore[arg-type]


def test_explain_rejects_values_beyond_32_bits() -> None:
    with pytest.raises(ValueError, match="32-bit"):
        explain(1 << 32)


def test_decode_status_flags() -> None:
    assert decode_status_flags(0) == []
    assert decode_status_flags(0x8) == ["SL_VL_BINDING_STATUS_OTHER_PC"]
    # The Microsoft example of event 12289: 0x4000008.
    assert decode_status_flags(0x4000008) == ["SL_VL_BINDING_STATUS_OTHER_PC", "SL_VL_BINDING_ERROR_NOT_ENOUGH_COUNT"]
    assert decode_status_flags(0x0F000000) == [
        "SL_VL_BINDING_ERROR_NO_BINDING_SERVER_REGISTRATION",
        "SL_VL_BINDING_ERROR_INVALID_REGISTRATION_DATA_TYPE",
        "SL_VL_BINDING_ERROR_NOT_ENOUGH_COUNT",
        "SL_VL_BINDING_ERROR_NOT_WINDOWS_SLP",
    ]
    assert decode_status_flags(0x18) == ["SL_VL_BINDING_STATUS_OTHER_PC", "0x00000010"]
    assert len(decode_status_flags(-1)) == 32
    with pytest.raises(TypeError):
        decode_status_flags("0x8")  # type: ignore[arg-type]


def test_license_status_names() -> None:
    assert LICENSE_STATUS_NAMES == {
        0: "Unlicensed",
        1: "Licensed",
        2: "OOBGrace",
        3: "OOTGrace",
        4: "NonGenuineGrace",
        5: "Notification",
        6: "ExtendedGrace",
    }


# --- generated reference page ---------------------------------------------------------------------


def _docs_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_test_tool_gen_error_docs", REPO_ROOT / "tools" / "gen_error_docs.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_error_docs_are_up_to_date() -> None:
    tool = _docs_tool()
    expected = tool.render(tool.load_errors_module())
    assert ERROR_DOCS.read_text(encoding="utf-8") == expected, "run: python tools/gen_error_docs.py"


def test_error_docs_list_every_code_and_flag() -> None:
    page = ERROR_DOCS.read_text(encoding="utf-8")
    for entry in ERRORS:
        assert f"| `{entry.hresult_hex}` |" in page
    for name in errors.STATUS_FLAGS.values():
        assert name in page
    assert "slui.exe 0x2a 0x<code>" in page
    # Sources appear as their titles, linked to the document.
    title, url = SOURCES["Troubleshoot activation error codes"]
    assert f"[Troubleshoot activation error codes]({url})" in page
    assert f"| Troubleshoot activation error codes | [{title}]({url}) |" in page
    assert not _NOTES_TAG.search(page)


def test_error_docs_check_mode_detects_drift(tmp_path: Path) -> None:
    tool = _docs_tool()
    stale = tmp_path / "error-codes.md"
    stale.write_text(ERROR_DOCS.read_text(encoding="utf-8").replace("0xC004F074", "0xC004F07X", 1), encoding="utf-8")
    assert tool.main(["--output", str(stale), "--check"]) == 1
    assert tool.main(["--output", str(ERROR_DOCS), "--check"]) == 0


def test_docs_escape_table_breaking_text() -> None:
    tool = _docs_tool()
    assert tool._cell("a | b <host> \\x") == "a \\| b &lt;host&gt; \\\\x"
