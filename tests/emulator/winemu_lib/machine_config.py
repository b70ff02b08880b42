"""What the fleet file says about one machine, and the registry of a fresh installation with those settings."""

from __future__ import annotations

import dataclasses
import typing as t

from . import editions as ed
from .adba import TokenLicense
from .office import OfficeInstall
from .registry import HKLM, Registry, RegType
from .services import SERVICES, SERVICES_KEY, W32TIME_KEY, start_value
from .spp import (
    CURRENT_VERSION_KEY,
    SPP_KEY,
    V_DISABLE_DNS,
    V_HOST_CACHING_DISABLED,
    V_KMS_NAME,
    V_KMS_PORT,
    V_LISTENING_PORT,
    V_LOOKUP_DOMAIN,
    V_LOW_PRIORITY,
    V_PUBLISH_LIST,
)


@dataclasses.dataclass(frozen=True)
class KmsHostConfig:
    csvlk_key: str
    csvlk_group: str
    extra_count: int = 0
    listening_port: int | None = None
    dns_publishing: bool = True
    publish_domains: tuple[tuple[str, int, int], ...] = ()
    low_priority: bool = False
    reachable: bool = True
    # Office KMS host keys installed and activated (Office Volume License Pack), by version; their own count.
    office_versions: tuple[str, ...] = ()
    office_extra_count: int = 0


@dataclasses.dataclass(frozen=True)
class KmsClientConfig:
    server: str | None = None
    port: int | None = None
    lookup_domain: str | None = None
    host_caching: bool = True


@dataclasses.dataclass(frozen=True)
class MachineConfig:
    name: str
    domain: str
    edition_id: str
    build: int
    ip: str
    ipv6: str | None = None
    domain_joined: bool = True
    cmid: str | None = None
    clock_skew_minutes: int = 0
    license_key: str | None = None  # normalized key, or None for no key
    license_status: int = 2
    kms_host: KmsHostConfig | None = None
    kms_client: KmsClientConfig | None = None
    sppsvc_start_mode: str = "Automatic"
    # AVMA: the Hyper-V host a guest runs on, (name, EditionID, build); None when not a Hyper-V guest.
    hyperv_host: tuple[str, str, int] | None = None
    sppsvc_state: str = "Stopped"
    token_licenses: tuple[TokenLicense, ...] = ()
    # Office volume products installed (Windows 8 and later); None: the default (see fleet.py).
    office: tuple[OfficeInstall, ...] = ()


def populate_registry(reg: Registry, edition: ed.Edition, config: MachineConfig) -> None:
    """The registry of a fresh installation plus the fleet file's settings (none of it counts)."""

    def key(path: str) -> None:
        reg.create_key(HKLM, path, count=False)

    def value(path: str, name: str, kind: RegType, data: t.Any) -> None:
        reg.set_value(HKLM, path, name, kind, data, count=False)

    key(CURRENT_VERSION_KEY)
    value(CURRENT_VERSION_KEY, "ProductName", RegType.SZ, edition.caption.removeprefix("Microsoft "))
    value(CURRENT_VERSION_KEY, "EditionID", RegType.SZ, edition.edition_id)
    value(CURRENT_VERSION_KEY, "CurrentBuild", RegType.SZ, str(edition.build))
    value(CURRENT_VERSION_KEY, "CurrentBuildNumber", RegType.SZ, str(edition.build))
    # CurrentVersion stays "6.3" on Windows 10 and later; the major/minor DWORDs carry 10.0.
    value(CURRENT_VERSION_KEY, "CurrentVersion", RegType.SZ, "6.3" if edition.version == "10.0" else edition.version)
    if edition.version == "10.0":
        value(CURRENT_VERSION_KEY, "CurrentMajorVersionNumber", RegType.DWORD, 10)
        value(CURRENT_VERSION_KEY, "CurrentMinorVersionNumber", RegType.DWORD, 0)
    value(CURRENT_VERSION_KEY, "InstallationType", RegType.SZ, "Server" if edition.is_server else "Client")
    key(SPP_KEY)
    key(rf"{SPP_KEY}\Activation")
    # Assumption: a default installation has this SPP value (idle shutdown of the demand-started sppsvc).
    value(SPP_KEY, "InactivityShutdownDelay", RegType.DWORD, 30)
    for name, info in SERVICES.items():
        path = rf"{SERVICES_KEY}\{name}"
        key(path)
        value(path, "DisplayName", RegType.SZ, info.display_name)
        value(path, "ImagePath", RegType.EXPAND_SZ, info.path.replace(r"C:\Windows", "%SystemRoot%"))
        value(path, "ObjectName", RegType.SZ, info.start_name)
        if info.delayed:
            value(path, "DelayedAutostart", RegType.DWORD, 1)
    value(rf"{SERVICES_KEY}\sppsvc", "Start", RegType.DWORD, start_value(config.sppsvc_start_mode))
    # Assumption: W32Time defaults — automatic; NT5DS on domain members, NTP in a workgroup.
    value(W32TIME_KEY, "Start", RegType.DWORD, 2)
    key(rf"{W32TIME_KEY}\Parameters")
    value(rf"{W32TIME_KEY}\Parameters", "Type", RegType.SZ, "NT5DS" if config.domain_joined else "NTP")
    value(rf"{W32TIME_KEY}\Parameters", "NtpServer", RegType.SZ, "time.windows.com,0x9")
    key(rf"{W32TIME_KEY}\Config")
    value(rf"{W32TIME_KEY}\Config", "AnnounceFlags", RegType.DWORD, 10)
    key(rf"{W32TIME_KEY}\TimeProviders\NtpClient")
    value(rf"{W32TIME_KEY}\TimeProviders\NtpClient", "Enabled", RegType.DWORD, 1)
    value(rf"{W32TIME_KEY}\TimeProviders\NtpClient", "SpecialPollInterval", RegType.DWORD, 3600)
    if config.kms_client is not None:
        client = config.kms_client
        if client.server:
            value(SPP_KEY, V_KMS_NAME, RegType.SZ, client.server)
        if client.port:
            value(SPP_KEY, V_KMS_PORT, RegType.SZ, str(client.port))
        if client.lookup_domain:
            value(SPP_KEY, V_LOOKUP_DOMAIN, RegType.SZ, client.lookup_domain)
        if not client.host_caching:
            value(SPP_KEY, V_HOST_CACHING_DISABLED, RegType.DWORD, 1)
    if config.kms_host is not None:
        host = config.kms_host
        if host.listening_port is not None and host.listening_port != 1688:
            value(SPP_KEY, V_LISTENING_PORT, RegType.SZ, str(host.listening_port))
        if not host.dns_publishing:
            value(SPP_KEY, V_DISABLE_DNS, RegType.DWORD, 1)
        if host.low_priority:
            value(SPP_KEY, V_LOW_PRIORITY, RegType.DWORD, 1)
        if host.publish_domains:
            entries = [f"{domain}, {priority}, {weight}" for domain, priority, weight in host.publish_domains]
            value(SPP_KEY, V_PUBLISH_LIST, RegType.MULTI_SZ, entries)
