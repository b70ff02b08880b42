"""A host's WinRM service settings (``winrm get winrm/config/service``) and how they show on the wire.

Defaults are Windows' own, from "WinRM service default configuration settings"
(https://learn.microsoft.com/windows/win32/winrm/installation-and-configuration-for-windows-remote-management):
Basic, Certificate and CredSSP off, Negotiate and Kerberos on, ``AllowUnencrypted`` false,
``CbtHardeningLevel`` Relaxed. The 401 challenge offers exactly the enabled schemes and ``winrm/config``
reports the same values.
"""

from __future__ import annotations

import dataclasses
import typing as t

AUTH_SCHEMES = ("basic", "negotiate", "kerberos", "certificate", "credssp")
# Certificate and CredSSP authentication are not emulated: a fleet may only leave them off.
EMULATED_SCHEMES = frozenset({"basic", "negotiate", "kerberos"})
CBT_LEVELS = ("none", "relaxed", "strict")
FIELDS = frozenset({"auth", "allow_unencrypted", "cbt_hardening_level"})

# RootSDDL of Windows Server 2012 R2 and later ("Update RootSDDL default configuration for WinRM",
# MicrosoftDocs/win32 pull request #2194; the same value is in recorded 2012 R2 and 2016 configurations).
ROOT_SDDL = "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)S:P(AU;FA;GA;;;WD)(AU;SA;GXGW;;;WD)"


@dataclasses.dataclass(frozen=True)
class WinrmService:
    basic: bool = False
    negotiate: bool = True
    kerberos: bool = True
    certificate: bool = False
    credssp: bool = False
    allow_unencrypted: bool = False
    cbt_hardening_level: str = "relaxed"

    def challenge(self) -> list[tuple[str, str]]:
        """The ``WWW-Authenticate`` headers of a 401: the enabled schemes, Negotiate first as Windows orders them."""
        headers = []
        if self.negotiate:
            headers.append(("WWW-Authenticate", "Negotiate"))
        if self.kerberos:
            headers.append(("WWW-Authenticate", "Kerberos"))
        if self.basic:
            headers.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
        return headers

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "auth": {name: getattr(self, name) for name in AUTH_SCHEMES},
            "allow_unencrypted": self.allow_unencrypted,
            "cbt_hardening_level": self.cbt_hardening_level,
        }


WINDOWS_DEFAULTS = WinrmService()
# What a lab host configured with `winrm set winrm/config/service/auth @{Basic="true"}` and AllowUnencrypted
# looks like: the only setting under which Basic over plain HTTP works.
LAB_BASIC = WinrmService(basic=True, allow_unencrypted=True)


def parse(raw: object, error: t.Callable[[str, str], Exception]) -> WinrmService:
    """The fleet file's ``winrm`` mapping; ``error(key, message)`` builds the exception naming the host."""
    if raw is None:
        return WINDOWS_DEFAULTS
    if not isinstance(raw, dict):
        raise error("winrm", "must be a mapping with auth, allow_unencrypted, cbt_hardening_level")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise error("winrm", f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(FIELDS))}")
    auth = raw.get("auth") or {}
    if not isinstance(auth, dict):
        raise error("winrm.auth", f"must be a mapping of {', '.join(AUTH_SCHEMES)} to true/false")
    values: dict[str, t.Any] = {}
    for name, value in auth.items():
        if name not in AUTH_SCHEMES:
            raise error("winrm.auth", f"unknown scheme {name!r}; allowed: {', '.join(AUTH_SCHEMES)}")
        if not isinstance(value, bool):
            raise error(f"winrm.auth.{name}", f"must be true or false, not {value!r}")
        if value and name not in EMULATED_SCHEMES:
            raise error(f"winrm.auth.{name}", "is not emulated; only basic, negotiate and kerberos can be enabled")
        values[name] = value
    allow = raw.get("allow_unencrypted", False)
    if not isinstance(allow, bool):
        raise error("winrm.allow_unencrypted", f"must be true or false, not {allow!r}")
    level = str(raw.get("cbt_hardening_level", "relaxed")).lower()
    if level not in CBT_LEVELS:
        raise error("winrm.cbt_hardening_level", f"must be one of {', '.join(CBT_LEVELS)}, not {level!r}")
    return WinrmService(**values, allow_unencrypted=allow, cbt_hardening_level=level)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def config_body(namespace: str, service: WinrmService) -> str:
    """``winrm get winrm/config``: the recorded defaults (pypsrp test data) with this host's service settings."""
    c = "cfg"
    auth = "".join(f"<{c}:{tag}>{_flag(getattr(service, name))}</{c}:{tag}>" for name, tag in _AUTH_TAGS)
    return (
        f'<{c}:Config xmlns:{c}="{namespace}"><{c}:MaxEnvelopeSizekb>500</{c}:MaxEnvelopeSizekb>'
        f"<{c}:MaxTimeoutms>60000</{c}:MaxTimeoutms><{c}:MaxBatchItems>32000</{c}:MaxBatchItems>"
        f"<{c}:MaxProviderRequests>4294967295</{c}:MaxProviderRequests><{c}:Service>"
        f"<{c}:RootSDDL>{ROOT_SDDL}</{c}:RootSDDL>"
        f"<{c}:MaxConcurrentOperationsPerUser>1500</{c}:MaxConcurrentOperationsPerUser>"
        f"<{c}:EnumerationTimeoutms>240000</{c}:EnumerationTimeoutms>"
        f"<{c}:AllowUnencrypted>{_flag(service.allow_unencrypted)}</{c}:AllowUnencrypted>"
        f"<{c}:Auth>{auth}<{c}:CbtHardeningLevel>{service.cbt_hardening_level.capitalize()}</{c}:CbtHardeningLevel>"
        f"</{c}:Auth></{c}:Service><{c}:Winrs><{c}:AllowRemoteShellAccess>true</{c}:AllowRemoteShellAccess>"
        f"<{c}:IdleTimeout>7200000</{c}:IdleTimeout><{c}:MaxShellsPerUser>2147483647</{c}:MaxShellsPerUser>"
        f"</{c}:Winrs></{c}:Config>"
    )


_AUTH_TAGS = (
    ("basic", "Basic"),
    ("kerberos", "Kerberos"),
    ("negotiate", "Negotiate"),
    ("certificate", "Certificate"),
    ("credssp", "CredSSP"),
)
