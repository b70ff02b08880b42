# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a winrm connect failed: the texts Ansible's winrm connection builds, and the cause each one names."""

from __future__ import annotations

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._connect_errors import (
    explain_winrm_failure,
    split_transport_errors,
)

ENDPOINT = "http://win01.corp.example.com:5985/wsman"
REJECTED = "the specified credentials were rejected by the server"


def explain(text: str, transport: str, *, encryption: str = "auto", offered: list[str] | None = None) -> str:
    asked: list[bool] = []

    def offered_schemes() -> list[str] | None:
        asked.append(True)
        return offered

    failure = explain_winrm_failure(
        text, transports=[transport], endpoint=ENDPOINT, message_encryption=encryption, offered_schemes=offered_schemes
    )
    assert not failure.access_denied
    assert failure.message.startswith("cannot open the winrm connection: ")
    assert text.split(": ", 1)[1] in failure.message  # the library's own words stay
    if "401" not in failure.message:
        assert not asked, "the host is asked for its schemes only after an HTTP 401"
    return failure.message


def test_wrong_credentials() -> None:
    msg = explain(f"ntlm: {REJECTED}", "ntlm", offered=["Negotiate", "Kerberos"])
    assert "winrm (ntlm)" in msg and "rejected the credentials (HTTP 401): wrong user name or password" in msg
    assert "not accept" not in msg


def test_a_scheme_the_host_does_not_offer() -> None:
    msg = explain(f"basic: {REJECTED}", "basic", encryption="never", offered=["Negotiate", "Kerberos"])
    assert "does not accept Basic authentication: its WinRM service has Auth/Basic disabled" in msg
    assert "Windows turns Basic off by default" in msg and "offers Negotiate, Kerberos" in msg
    assert "wrong user name" not in msg


def test_basic_offered_but_refused_over_http_names_both_causes() -> None:
    msg = explain(f"basic: {REJECTED}", "basic", encryption="never", offered=["Negotiate", "Basic"])
    assert "wrong user name or password" in msg and "AllowUnencrypted is false" in msg


def test_schemes_unknown_falls_back_to_the_credentials_message() -> None:
    msg = explain(f"ntlm: {REJECTED}", "ntlm", offered=None)
    assert "rejected the credentials" in msg


def test_unencrypted_message_refused() -> None:
    msg = explain("ntlm: Bad HTTP response returned from server. Code 500", "ntlm", encryption="never")
    assert "refused an unencrypted message (HTTP 500)" in msg and "AllowUnencrypted is false" in msg


def test_http_500_with_encryption_on_is_not_blamed_on_encryption() -> None:
    msg = explain("ntlm: Bad HTTP response returned from server. Code 500", "ntlm", encryption="auto")
    assert "unencrypted" not in msg and "HTTP 500 with no WS-Management fault" in msg


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (
            "Kerberos auth failure for principal a@CORP.EXAMPLE.COM: kinit: Password incorrect while getting initial "
            "credentials",
            "kinit was refused: wrong password",
        ),
        (
            "Kerberos auth failure for principal x@CORP.EXAMPLE.COM: kinit: Client 'x@CORP.EXAMPLE.COM' not found in "
            "Kerberos database while getting initial credentials",
            "unknown Kerberos principal",
        ),
        (
            "authGSSClientStep() failed: (('Unspecified GSS failure.', 851968), ('Server not found in Kerberos "
            "database', -1765328377))",
            "no service principal",
        ),
        ('kinit: Cannot find KDC for realm "CORP.EXAMPLE.COM"', "no KDC reachable"),
    ],
)
def test_kerberos_causes(error: str, cause: str) -> None:
    msg = explain(f"kerberos: {error}", "kerberos")
    assert "winrm (kerberos): Kerberos authentication to" in msg and cause in msg


def test_access_denied_is_the_only_rights_failure() -> None:
    text = (
        "ntlm: Access is denied.  (extended fault data: {'transport_message': 'Bad HTTP response returned from "
        "server. Code 500', 'http_status_code': 500, 'wsmanfault_code': 2147942405})"
    )
    failure = explain_winrm_failure(
        text, transports=["ntlm"], endpoint=ENDPOINT, message_encryption="auto", offered_schemes=lambda: None
    )
    assert failure.access_denied


def test_several_transports_each_get_a_cause() -> None:
    text = f"ntlm: {REJECTED}, basic: {REJECTED}"
    assert split_transport_errors(text, ["ntlm", "basic"]) == [("ntlm", REJECTED), ("basic", REJECTED)]
    failure = explain_winrm_failure(
        text,
        transports=["ntlm", "basic"],
        endpoint=ENDPOINT,
        message_encryption="auto",
        offered_schemes=lambda: ["Negotiate"],
    )
    assert "winrm (ntlm)" in failure.message and "winrm (basic): " in failure.message
    assert "does not accept Basic" in failure.message


def test_unprefixed_text() -> None:
    assert split_transport_errors("the connection attempt timed out", ["ntlm"]) == [
        ("ntlm", "the connection attempt timed out")
    ]


def test_a_401_is_never_read_as_access_denied() -> None:
    failure = explain_winrm_failure(
        "ntlm: the specified credentials were rejected by the server (Access is denied)",
        transports=["ntlm"],
        endpoint=ENDPOINT,
        message_encryption="auto",
        offered_schemes=lambda: None,
    )
    assert not failure.access_denied and "rejected the credentials" in failure.message
