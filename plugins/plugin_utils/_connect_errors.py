# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Why the ``winrm`` connection could not be opened, in words a user can act on.

Ansible's winrm connection folds every failure into one ``AnsibleConnectionFailure`` text, one
``<transport>: <error>`` per transport tried. This module reads that text (and, for an HTTP 401, the
authentication schemes the host offers) and names the likely cause: wrong credentials, an authentication
scheme the host has turned off (Windows turns Basic off by default), a plaintext message the host refuses
(``AllowUnencrypted`` is false by default), or a Kerberos failure. Only a host that answered an
authenticated request with access denied is reported as refusing the account's rights.
Windows' defaults are those of "Installation and configuration for Windows Remote Management"
(https://learn.microsoft.com/windows/win32/winrm/installation-and-configuration-for-windows-remote-management).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# What pywinrm reports of WinRM's access-denied fault (a SOAP fault, so an authenticated request was answered).
ACCESS_DENIED_MARKERS = ("w:AccessDenied", "Access is denied", "0x80070005", "2147942405")
_AUTHENTICATION_FAILED = re.compile(r"\b401\b|credentials were rejected", re.IGNORECASE)

# The Authorization scheme each pywinrm transport sends, and the WinRM service setting that enables it.
_SCHEMES = {
    "basic": ("Basic", "Auth/Basic"),
    "ntlm": ("Negotiate", "Auth/Negotiate"),
    "kerberos": ("Kerberos", "Auth/Kerberos"),
    "credssp": ("CredSSP", "Auth/CredSSP"),
    "certificate": ("Basic", "Auth/Certificate"),
}


@dataclass(frozen=True)
class ConnectFailure:
    """``access_denied``: the host refused an authenticated account; else the connection is unreachable."""

    message: str
    access_denied: bool = False


def is_access_denied(text: str) -> bool:
    """The host refused an account it had authenticated: never said of a failed authentication (HTTP 401)."""
    return any(marker in text for marker in ACCESS_DENIED_MARKERS) and not _AUTHENTICATION_FAILED.search(text)


def split_transport_errors(text: str, transports: Sequence[str]) -> list[tuple[str, str]]:
    """``"ntlm: x, basic: y"`` -> ``[("ntlm", "x"), ("basic", "y")]``; the whole text when no prefix matches."""
    names = "|".join(re.escape(name) for name in transports if name)
    if not names:
        return [("", text)]
    parts = re.split(rf"(?:^|, )({names}): ", text)
    if len(parts) < 3:
        return [(transports[0] if len(transports) == 1 else "", text)]
    return [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]


def explain_winrm_failure(
    text: str,
    *,
    transports: Sequence[str],
    endpoint: str,
    message_encryption: str,
    offered_schemes: Callable[[], list[str] | None],
) -> ConnectFailure:
    """The cause of a failed winrm connect. ``offered_schemes`` asks the host which schemes its 401 offers
    (None when that cannot be found out); it is called only for an HTTP 401."""
    if is_access_denied(text):
        return ConnectFailure(f"the host refused the account: {text}", access_denied=True)
    causes = [
        f"{_explain_one(name, error, endpoint, message_encryption, offered_schemes)} [{error}]"
        for name, error in split_transport_errors(text, transports)
    ]
    return ConnectFailure("cannot open the winrm connection: " + "; ".join(causes))


def _explain_one(
    transport: str,
    error: str,
    endpoint: str,
    message_encryption: str,
    offered_schemes: Callable[[], list[str] | None],
) -> str:
    label = f"winrm ({transport})" if transport else "winrm"
    scheme, setting = _SCHEMES.get(transport, ("", ""))
    lowered = error.lower()
    if "credentials were rejected" in lowered or re.search(r"\b401\b", error):
        offered = offered_schemes()
        if offered is not None and scheme and scheme.lower() not in {s.lower() for s in offered}:
            hint = (
                " (Windows turns Basic off by default; use ansible_winrm_transport ntlm or kerberos)"
                if transport == "basic"
                else ""
            )
            return (
                f"{label}: {endpoint} does not accept {scheme} authentication: its WinRM service has {setting} "
                f"disabled{hint}; it offers {', '.join(offered) or 'no scheme'} (HTTP 401)"
            )
        plain_basic = transport == "basic" and endpoint.lower().startswith("http:")
        extra = (
            ", or the host refuses Basic over plain HTTP (AllowUnencrypted is false by default; use HTTPS)"
            if plain_basic
            else ""
        )
        return (
            f"{label}: {endpoint} rejected the credentials (HTTP 401): wrong user name or password, or an unknown "
            f"account{extra}"
        )
    if transport == "kerberos" or "kerberos" in lowered or "gss" in lowered:
        return f"{label}: Kerberos authentication to {endpoint} failed: {_kerberos_cause(error)}"
    if re.search(r"\bCode\s+500\b", error) and (
        message_encryption == "never" or (transport == "basic" and endpoint.lower().startswith("http:"))
    ):
        return (
            f"{label}: {endpoint} refused an unencrypted message (HTTP 500): WinRM's AllowUnencrypted is false by "
            "default, so over HTTP use ntlm or kerberos with ansible_winrm_message_encryption auto, or HTTPS"
        )
    if re.search(r"\bCode\s+500\b", error):
        return f"{label}: {endpoint} answered HTTP 500 with no WS-Management fault"
    return f"{label}: cannot connect to {endpoint}"


def _kerberos_cause(error: str) -> str:
    lowered = error.lower()
    if "password incorrect" in lowered or "preauthentication failed" in lowered:
        return "kinit was refused: wrong password"
    if re.search(r"server\b[^,')]* not found in kerberos database", lowered):
        return (
            "no service principal for the host name used is known to the KDC: connect by the host's FQDN or set "
            "ansible_winrm_kerberos_hostname_override"
        )
    if "not found in kerberos database" in lowered:
        return "unknown Kerberos principal"
    if "cannot find kdc" in lowered or "cannot contact any kdc" in lowered:
        return "no KDC reachable for the realm (check krb5.conf)"
    if "credentials cache" in lowered or "no credentials" in lowered:
        return "no Kerberos ticket: run kinit, or set ansible_password for a kinit Ansible manages"
    return "see the error"


def probe_offered_schemes(endpoint: str, verify: Any, timeout: float = 10.0) -> list[str] | None:
    """The schemes of the host's 401 challenge to an unauthenticated empty POST; None if it cannot be asked."""
    try:
        import requests

        response = requests.post(
            endpoint,
            data=b"",
            headers={"Content-Type": "application/soap+xml;charset=UTF-8"},
            verify=verify,
            timeout=timeout,
        )
    except Exception:  # any failure only means the probe cannot tell; the caller words the message without it
        return None
    if response.status_code != 401:
        return None
    # requests joins repeated headers with ", ": "Negotiate, Kerberos, Basic realm="WSMAN"".
    schemes = []
    for item in response.headers.get("WWW-Authenticate", "").split(","):
        name = item.strip().split(" ", 1)[0]
        if name and "=" not in name:
            schemes.append(name)
    return schemes
