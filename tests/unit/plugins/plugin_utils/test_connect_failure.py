# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opening a winrm or psrp connection: every exception is an unreachable host with its cause and fix."""

from __future__ import annotations

import ssl
import xml.etree.ElementTree as ET

import pytest
import requests
from ansible.errors import AnsibleConnectionFailure

from ansible_collections.winact.kms.plugins.plugin_utils._connect_failure import explain
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManUnreachable, connection_transport
from ansible_collections.winact.kms.tests.unit.plugins.plugin_utils.test_wsman_transport import (
    FakePsrpConnection,
    FakeWinrmConnection,
    raising,
)

UNTRUSTED = (
    "HTTPSConnectionPool(host='127.0.0.1', port=5986): Max retries exceeded with url: /wsman (Caused by "
    "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
    "unable to get local issuer certificate (_ssl.c:1020)')))"
)
BASIC_ENCRYPTION = (
    "Cannot use message encryption with auth 'basic', either set encryption='never', use ssl=True or use one "
    "of the following auth providers: credssp, kerberos, negotiate, ntlm"
)


@pytest.mark.parametrize(
    ("kind", "variable", "validation"),
    [
        ("winrm", "ansible_winrm_ca_trust_path", "ansible_winrm_server_cert_validation: ignore"),
        ("psrp", "ansible_psrp_ca_cert", "ansible_psrp_cert_validation: ignore"),
    ],
)
def test_untrusted_certificate_names_the_trust_variable(kind: str, variable: str, validation: str) -> None:
    failure = explain(kind, AnsibleConnectionFailure(f"ssl: {UNTRUSTED}"))
    assert failure.cause is not None and "not trusted" in failure.cause
    assert failure.fix is not None and variable in failure.fix and validation in failure.fix
    assert failure.message.startswith(f"cannot open the {kind} connection: the host's TLS certificate is not trusted")
    assert "CERTIFICATE_VERIFY_FAILED" in failure.message  # the library's own words stay


def test_certificate_for_another_name() -> None:
    exc = ssl.SSLCertVerificationError("certificate verify failed: Hostname mismatch, certificate is not valid for 'x'")
    failure = explain("winrm", requests.exceptions.SSLError(exc))
    assert failure.cause == "the host's TLS certificate does not name the address Ansible connects to"


def test_basic_asked_to_encrypt_over_http() -> None:
    failure = explain("psrp", ValueError(BASIC_ENCRYPTION))
    assert failure.fix is not None
    assert "ansible_psrp_protocol: https" in failure.fix and "ansible_psrp_auth: negotiate" in failure.fix
    assert "ansible_psrp_message_encryption: never" in failure.fix and "AllowUnencrypted" in failure.fix


def test_anything_else_keeps_its_text() -> None:
    failure = explain("winrm", RuntimeError("boom"))
    assert (failure.message, failure.cause, failure.fix) == ("cannot open the winrm connection: boom", None, None)
    assert explain("psrp", KeyError()).message == "cannot open the psrp connection: KeyError"


@pytest.mark.parametrize(
    "exc",
    [
        ValueError(BASIC_ENCRYPTION),  # pypsrp's WSMan(), which Ansible's psrp plugin does not wrap
        ET.ParseError("not well-formed (invalid token): line 1, column 0"),
        requests.exceptions.ReadTimeout("read timed out"),
        OSError("network is unreachable"),
        KeyError("ShellId"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_every_exception_while_connecting_is_unreachable(exc: BaseException) -> None:
    for connection in (FakePsrpConnection(lambda: None), FakeWinrmConnection(lambda: None)):
        connection._connect = raising(exc)  # type: ignore[method-assign]
        with pytest.raises(WSManUnreachable, match=f"cannot open the {connection.transport} connection"):
            connection_transport(connection)
