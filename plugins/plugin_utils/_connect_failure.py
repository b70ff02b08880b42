# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Why a winrm or psrp connection could not be opened, said so a user knows what to change.

The connection plugins and their libraries (pywinrm, pypsrp, requests, pyspnego) report a failed connect
with many exception types and texts; Ansible's psrp plugin passes some of them on unwrapped. This module
turns any of them into one message naming the connection, the likely cause and the inventory variable
that fixes it. It reads the exception's type name and text only, so it imports none of those libraries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The inventory variables of each connection plugin that a fix names.
_VARIABLES = {
    "winrm": {
        "ca": "ansible_winrm_ca_trust_path",
        "validation": "ansible_winrm_server_cert_validation",
        "scheme": "ansible_winrm_scheme: https",
        "auth": "ansible_winrm_transport: ntlm (or kerberos)",
        "encryption": "ansible_winrm_message_encryption: never",
    },
    "psrp": {
        "ca": "ansible_psrp_ca_cert",
        "validation": "ansible_psrp_cert_validation",
        "scheme": "ansible_psrp_protocol: https",
        "auth": "ansible_psrp_auth: negotiate (or kerberos)",
        "encryption": "ansible_psrp_message_encryption: never",
    },
}

_UNTRUSTED = re.compile(
    r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|self[- ]signed certificate|unable to get local issuer",
    re.IGNORECASE,
)
_WRONG_NAME = re.compile(r"hostname mismatch|doesn't match|does not match|IP address mismatch", re.IGNORECASE)
_BASIC_CANNOT_ENCRYPT = re.compile(r"message encryption with auth '?basic", re.IGNORECASE)


@dataclass(frozen=True)
class ConnectFailure:
    message: str
    cause: str | None
    fix: str | None


def explain(kind: str, exc: BaseException) -> ConnectFailure:
    """The failure of opening the ``kind`` (winrm or psrp) connection, from the exception it raised."""
    names = _VARIABLES.get(kind, _VARIABLES["winrm"])
    text = " ".join(str(exc).split()) or type(exc).__name__
    if _WRONG_NAME.search(text):
        cause = "the host's TLS certificate does not name the address Ansible connects to"
        fix = (
            "connect with a name listed in the certificate's subject alternative names (ansible_host), "
            "or issue the listener a certificate for that name"
        )
    elif _UNTRUSTED.search(text):
        cause = "the host's TLS certificate is not trusted: no certificate authority the controller trusts issued it"
        fix = (
            f"give the certificate of the CA that issued the host's HTTPS certificate with {names['ca']} "
            "(a PEM file), or add it to the controller's trust store; only on a test host, turn validation "
            f"off with {names['validation']}: ignore"
        )
    elif _BASIC_CANNOT_ENCRYPT.search(text):
        cause = "Basic authentication cannot encrypt messages over HTTP, and encryption was asked for"
        fix = (
            f"use HTTPS ({names['scheme']}), or NTLM/Kerberos ({names['auth']}), which encrypt over HTTP; "
            f"{names['encryption']} works only where the host allows unencrypted traffic (AllowUnencrypted, "
            "false by default)"
        )
    else:
        return ConnectFailure(f"cannot open the {kind} connection: {text}", None, None)
    return ConnectFailure(f"cannot open the {kind} connection: {cause}; {fix}. ({text})", cause, fix)
