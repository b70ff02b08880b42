# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Requests of license_file, token_license and ad_activation, and Windows 7's token-only flag: checked before any
I/O, never showing a key (the modules run against the emulator in tests/integration/test_license_files.py and
test_ad_activation.py)."""

from __future__ import annotations

import codecs

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _ad_activation as adba
from ansible_collections.winact.kms.plugins.plugin_utils import _license_file as license_file
from ansible_collections.winact.kms.plugins.plugin_utils import _token_license as token
from ansible_collections.winact.kms.plugins.plugin_utils import _token_only as token_only
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError

LICENSE = '<?xml version="1.0"?><rg:licenseGroup xmlns:rg="urn:x"/>'
ILID = "8c1a0c4f-3a6b-4f5e-9d2a-6b7c1e0f2a3b"
CSVLK = "HJ3QW-7VRCX-DM2KG-PT8BY-4MT8D"


@pytest.mark.parametrize(
    "data",
    [
        LICENSE.encode("utf-8"),
        codecs.BOM_UTF8 + LICENSE.encode("utf-8"),
        codecs.BOM_UTF16_LE + LICENSE.encode("utf-16-le"),
    ],
    ids=["utf-8", "utf-8 bom", "utf-16 le bom"],
)
def test_license_files_decode_as_slmgr_reads_them(data: bytes) -> None:
    request = license_file.build_request({"src": "corp.xrm-ms"}, lambda _path: data)
    assert request.content == LICENSE and request.source == "corp.xrm-ms"
    assert request.sha256 == license_file.build_request({"content": LICENSE}).sha256


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "^content: give exactly one"),
        ({"content": LICENSE, "src": "x"}, "^content: give exactly one"),
        ({"content": " \n"}, "^content: is empty"),
        ({"content": "license"}, "^content: is not a license document"),
    ],
)
def test_bad_license_requests_name_the_option(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        license_file.build_request(params, lambda _path: b"")


def test_a_file_that_is_not_text_names_src() -> None:
    with pytest.raises(ValidationError, match="^src: bad.xrm-ms is not UTF-8 or UTF-16 LE text"):
        license_file.build_request({"src": "bad.xrm-ms"}, lambda _path: b"\xff\xd8\xff")


def test_token_requests() -> None:
    assert token.build_request({}) == token.Request("query", None, None)
    assert token.build_request({"state": "absent", "ilid": "{" + ILID.upper() + "}", "ilvid": 2}) == token.Request(
        "absent", ILID, 2
    )
    with pytest.raises(ValidationError, match="^ilid: is required with state=absent"):
        token.build_request({"state": "absent"})
    with pytest.raises(ValidationError, match="^ilid: 'corp' is not a GUID; expected the issuance license ID"):
        token.build_request({"state": "absent", "ilid": "corp"})
    with pytest.raises(ValidationError, match="^ilvid: must be a license version"):
        token.build_request({"ilid": ILID, "ilvid": 2**32})
    with pytest.raises(ValidationError, match="^ilvid: needs ilid"):
        token.build_request({"ilvid": 1})


def test_token_license_rows_as_slmgr_lil_shows_them() -> None:
    row = {
        "ID": "x",
        "ILID": ILID,
        "ILVID": 1,
        "AuthorizationStatus": 0xC004F009,
        "Description": "",
        "ExpirationDate": None,
    }
    shown = token.describe(row)
    assert shown["authorization_status"] == "0xC004F009" and shown["description"] is None
    assert shown["expiration_date"] is None
    assert token.describe({**row, "AuthorizationStatus": 0})["authorization_status"] is None


def test_ad_activation_requests_never_show_the_key() -> None:
    request = adba.build_request({"csvlk": CSVLK.lower(), "confirmation_id": "123456-654321 111111"})
    assert request.csvlk == CSVLK and request.offline and request.confirmation_id == "123456654321111111"
    assert request.shown_key == "XXXXX-XXXXX-XXXXX-XXXXX-4MT8D"
    for params in (
        {"csvlk": CSVLK[:-1]},
        {"csvlk": CSVLK, "activation_object_name": "n" * 41},
        {"csvlk": CSVLK, "confirmation_id": "12-ab"},
    ):
        with pytest.raises(ValidationError) as info:
            adba.build_request(params)
        assert CSVLK[:-5] not in str(info.value)
    with pytest.raises(ValidationError, match="^csvlk: is a public KMS client key"):
        adba.build_request({"csvlk": "W269N-WFGWX-YVC9B-4J6C9-T83GX"})
    assert set(adba.secrets(" " + CSVLK.lower())) >= {CSVLK, CSVLK.lower()}


def test_windows7_token_only_flag() -> None:
    assert token_only.is_windows7("6.1.7601.17514") and not token_only.is_windows7("6.2.9200.16384")
    assert not token_only.is_windows7("10.0.19041.1") and not token_only.is_windows7(None)
    assert token_only.refusal(token_only.TOKEN, per_product=False) is None
    assert token_only.refusal(token_only.ALL, per_product=False) is None
    assert "ad and kms need Windows 8" in str(token_only.refusal(2, per_product=False))
    assert "machine-wide" in str(token_only.refusal(token_only.TOKEN, per_product=True))
    assert token_only.call_params(token_only.TOKEN) == {"DisableActivation": True}
    assert token_only.call_params(token_only.ALL) == {"DisableActivation": False}
