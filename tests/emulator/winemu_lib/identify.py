"""WS-Management Identify (DSP0226 section 11; "Detecting whether a remote computer supports WS-Management").

The request is recognised by its body, ``<wsmid:Identify/>`` in the ``wsmanidentity`` namespace, with no
WS-Addressing headers. Sent with the HTTP header ``WSMANIDENTIFY: unauthenticated`` and no credentials it is
answered without product version information: "If the request is sent with WSManFlagUseNoAuthentication ...
no product version information is returned", which ``Test-WSMan`` shows as ``OS: 0.0.0 SP: 0.0 Stack: 3.0``.
Authenticated, it carries the OS version and the security profiles, shaped as a recorded Windows Server
2012 R2 answer (IBM/IBMDeveloper-recipes, "multiple jumphosts in Ansible Tower, part 5").
"""

from __future__ import annotations

import re

from .winrm_service import WinrmService

NS_WSMID = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"
PROTOCOL_VERSION = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
SECPROFILE = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/"
STACK = "3.0"  # the WinRM stack of Windows Server 2012 and later

_IDENTIFY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Identify[\s/>]")


def is_identify(body: bytes) -> bool:
    """A WS-Management Identify request: the wsmanidentity namespace and an ``Identify`` element."""
    return NS_WSMID.encode() in body[:4096] and _IDENTIFY.search(body[:4096]) is not None


def security_profiles(service: WinrmService, https: bool) -> list[str]:
    """The profile names of the enabled schemes, as the 2012 R2 recording lists them."""
    scheme = "https" if https else "http"
    profiles = []
    if service.basic:
        profiles.append(f"{SECPROFILE}{scheme}/basic")
    if service.negotiate or service.kerberos:
        # Assumption: Negotiate and Kerberos are both advertised as spnego-kerberos (the recording's only
        # SPNEGO profile name).
        profiles.append(f"{SECPROFILE}{scheme}/spnego-kerberos")
    return profiles


def response(*, os_version: str | None, profiles: list[str]) -> bytes:
    """The IdentifyResponse; ``os_version`` None for the unauthenticated answer (``OS: 0.0.0 SP: 0.0``)."""
    version = f"OS: {os_version} SP: 0.0 Stack: {STACK}" if os_version else f"OS: 0.0.0 SP: 0.0 Stack: {STACK}"
    # Assumption: the unauthenticated answer carries no SecurityProfiles (Microsoft's examples have none).
    names = "".join(f"<wsmid:SecurityProfileName>{name}</wsmid:SecurityProfileName>" for name in profiles)
    secure = f"<wsmid:SecurityProfiles>{names}</wsmid:SecurityProfiles>" if os_version and profiles else ""
    return (
        '<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header></s:Header>'
        f'<s:Body><wsmid:IdentifyResponse xmlns:wsmid="{NS_WSMID}">'
        f"<wsmid:ProtocolVersion>{PROTOCOL_VERSION}</wsmid:ProtocolVersion>"
        "<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>"
        f"<wsmid:ProductVersion>{version}</wsmid:ProductVersion>{secure}"
        "</wsmid:IdentifyResponse></s:Body></s:Envelope>"
    ).encode()
