# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks before Activate: what would make a KMS request fail, found before sending one.

Each check returns a finding (``check``, ``status`` passed / failed / skipped / unknown, ``message``,
``details``). :class:`Preflight` reads only what the checks it runs need.
"""

from __future__ import annotations

import datetime
import ipaddress
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils._errors import explain
from ansible_collections.winact.kms.plugins.plugin_utils._service import ServiceState
from ansible_collections.winact.kms.plugins.plugin_utils._spp import DEFAULT_KMS_PORT
from ansible_collections.winact.kms.plugins.plugin_utils._validate import server_key
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient, wql_select
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManClassNotFound, WSManFault

CHECKS = ("service", "clock", "kms_discovery", "self_target")
KMS_CLIENT_CHECKS = frozenset({"clock", "kms_discovery", "self_target"})

# Client and KMS host clocks may differ by up to 4 hours (compared in UTC); beyond that the host answers
# 0xC004F06C ("Error 0xC004F06C when activating Windows", docs/error-codes.md).
KMS_CLOCK_TOLERANCE = datetime.timedelta(hours=4)
SL_E_VL_INVALID_TIMESTAMP = 0xC004F06C

OS_PROPERTIES = ("CSName", "LocalDateTime")
COMPUTER_PROPERTIES = ("Name", "DNSHostName", "Domain", "PartOfDomain")
ADDRESS_PROPERTIES = ("IPAddress",)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def finding(check: str, status: str, message: str, **details: t.Any) -> dict[str, t.Any]:
    return {"check": check, "status": status, "message": message, "details": details}


def check_service(state: ServiceState) -> dict[str, t.Any]:
    details = state.to_dict()
    if state.disabled:
        return finding(
            "service",
            "failed",
            "The Software Protection service (sppsvc) is disabled (StartMode Disabled): Windows can neither "
            "activate nor report its license state. Fix: set its start type back to Manual or Automatic "
            "(e.g. ansible.windows.win_service name=sppsvc start_mode=delayed), then activate again.",
            **details,
        )
    return finding("service", "passed", f"sppsvc start mode {state.start_mode}, state {state.state}", **details)


def check_clock(host_time: t.Any, controller_time: datetime.datetime) -> dict[str, t.Any]:
    if not isinstance(host_time, datetime.datetime) or host_time.tzinfo is None:
        return finding("clock", "unknown", "The host did not report its time (Win32_OperatingSystem.LocalDateTime)")
    skew = host_time - controller_time
    seconds = round(skew.total_seconds())
    details = {
        "host_time": host_time.isoformat(),
        "controller_time": controller_time.isoformat(),
        "skew_seconds": seconds,
        "tolerance_seconds": int(KMS_CLOCK_TOLERANCE.total_seconds()),
    }
    direction = "ahead of" if seconds > 0 else "behind"
    hours = abs(seconds) / 3600
    if abs(skew) > KMS_CLOCK_TOLERANCE:
        info = explain(SL_E_VL_INVALID_TIMESTAMP)
        return finding(
            "clock",
            "failed",
            f"The host's clock is {hours:.1f} h {direction} the controller's, beyond the 4 h KMS tolerance: the KMS "
            f"host would refuse the request with {info.hresult_hex} {info.symbol} (shown by Activate as 0xC004F074). "
            f"Fix: {info.fix} (winact.kms.time_source configures NTP peers and resyncs).",
            **details,
        )
    return finding("clock", "passed", f"The host's clock is {abs(seconds)} s {direction} the controller's", **details)


def _first(*values: t.Any) -> t.Any:
    return next((v for v in values if v not in (None, "", 0)), None)


def check_discovery(
    service: t.Mapping[str, t.Any], product: t.Mapping[str, t.Any], computer: t.Mapping[str, t.Any]
) -> dict[str, t.Any]:
    registered = _first(product.get("KeyManagementServiceMachine"), service.get("KeyManagementServiceMachine"))
    port = _first(product.get("KeyManagementServicePort"), service.get("KeyManagementServicePort")) or DEFAULT_KMS_PORT
    if registered:
        return finding(
            "kms_discovery",
            "passed",
            f"KMS host registered: {registered}:{port}",
            registered_name=registered,
            port=port,
        )
    lookup = _first(product.get("KeyManagementServiceLookupDomain"), service.get("KeyManagementServiceLookupDomain"))
    if lookup:
        return finding(
            "kms_discovery",
            "passed",
            f"DNS auto-discovery in the lookup domain {lookup} (_vlmcs._tcp.{lookup}; the record itself is not "
            "checked from the controller)",
            lookup_domain=lookup,
        )
    discovered = _first(
        product.get("DiscoveredKeyManagementServiceMachineName"),
        service.get("DiscoveredKeyManagementServiceMachineName"),
    )
    domain = computer.get("Domain") if computer.get("PartOfDomain") else None
    if domain:
        return finding(
            "kms_discovery",
            "passed",
            f"DNS auto-discovery in the domain {domain} (_vlmcs._tcp.{domain}; the record itself is not checked "
            "from the controller)",
            domain=domain,
            discovered_name=discovered,
        )
    if discovered:
        return finding(
            "kms_discovery",
            "passed",
            f"No KMS host registered and not a domain member, but the client found {discovered} before (host caching)",
            discovered_name=discovered,
        )
    return finding(
        "kms_discovery",
        "failed",
        "No KMS host is registered, no lookup domain is set and the machine is not a domain member, so the client "
        "has no _vlmcs._tcp domain to search. Fix: register the KMS host (winact.kms.kms_client server=...) or a "
        "lookup domain; if the client gets a DNS suffix from DHCP, pass skip_preflight: [kms_discovery].",
        workgroup=computer.get("Domain"),
    )


def own_names(os_info: t.Mapping[str, t.Any], computer: t.Mapping[str, t.Any], addresses: t.Iterable[str]) -> set[str]:
    """Every way this machine can be named: computer name, DNS name, FQDN, localhost, loopback and own IPs."""
    names: set[str] = set(LOOPBACK_NAMES)
    host = computer.get("DNSHostName") or computer.get("Name") or os_info.get("CSName")
    for value in (os_info.get("CSName"), computer.get("Name"), computer.get("DNSHostName")):
        if value:
            names.add(str(value))
    domain = computer.get("Domain")
    if host and domain and computer.get("PartOfDomain"):
        names.add(f"{host}.{domain}")
    names.update(str(a) for a in addresses if a)
    keys = {server_key(n) for n in names}
    keys.update({"127.0.0.1", "[::1]"})
    return keys


def is_loopback(name: str) -> bool:
    text = name.strip("[]")
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def check_self_target(
    service: t.Mapping[str, t.Any],
    product: t.Mapping[str, t.Any],
    names: set[str],
    addresses_known: bool,
) -> dict[str, t.Any]:
    registered = _first(product.get("KeyManagementServiceMachine"), service.get("KeyManagementServiceMachine"))
    if not registered:
        return finding("self_target", "passed", "No KMS host registered; nothing points at this machine")
    if server_key(str(registered)) in names or is_loopback(str(registered)):
        return finding(
            "self_target",
            "failed",
            f"The KMS client is pointed at itself ({registered}): a machine cannot activate against itself as a KMS "
            "host (a KMS host's own key is activated by Microsoft, not through KMS). Fix: register another KMS host "
            "(winact.kms.kms_client server=...) or clear the name to use DNS auto-discovery.",
            registered_name=registered,
        )
    note = "" if addresses_known else " (the host's IP addresses could not be read, so only names were compared)"
    return finding(
        "self_target",
        "passed",
        f"The registered KMS host {registered} is another machine{note}",
        registered_name=registered,
    )


def skipped(check: str, why: str) -> dict[str, t.Any]:
    return finding(check, "skipped", why)


class Preflight:
    """Runs the requested checks for one product; findings come out in the documented order."""

    def __init__(self, wmi: WmiClient, checks: t.Sequence[str], now: t.Callable[[], datetime.datetime]) -> None:
        self.wmi = wmi
        self.checks = tuple(checks)
        self.now = now
        self.found: list[dict[str, t.Any]] = []
        if self.checks:
            self.found.extend(skipped(c, "skipped by skip_preflight") for c in CHECKS if c not in self.checks)

    def findings(self) -> list[dict[str, t.Any]]:
        return sorted(self.found, key=lambda f: CHECKS.index(f["check"]))

    def failed(self) -> list[dict[str, t.Any]]:
        return [f for f in self.found if f["status"] == "failed"]

    def message(self) -> str:
        return " ".join(f"[{f['check']}] {f['message']}" for f in self.failed())

    def run_service(self, state: ServiceState) -> None:
        if "service" in self.checks:
            self.found.append(check_service(state))

    def run_product(self, product: t.Mapping[str, t.Any], service: t.Mapping[str, t.Any]) -> None:
        """The checks about the KMS request itself (not sppsvc); those need a GVLK product."""
        checks = [c for c in self.checks if c != "service"]
        if not checks:
            return
        kms_client = lic.is_kms_client_product(product)
        needed = [c for c in checks if kms_client or c not in KMS_CLIENT_CHECKS]
        for check in checks:
            if check not in needed:
                self.found.append(skipped(check, "The product is not a KMS client (no GVLK installed)"))
        if not needed:
            return
        os_rows = self.wmi.query(wql_select(OS_PROPERTIES, "Win32_OperatingSystem"))
        controller_time = self.now()
        os_info = os_rows[0] if os_rows else {}
        computer: dict[str, t.Any] = {}
        if "kms_discovery" in needed or "self_target" in needed:
            rows = self.wmi.query(wql_select(COMPUTER_PROPERTIES, "Win32_ComputerSystem"))
            computer = rows[0] if rows else {}
        for check in needed:
            if check == "clock":
                self.found.append(check_clock(os_info.get("LocalDateTime"), controller_time))
            elif check == "kms_discovery":
                self.found.append(check_discovery(service, product, computer))
            elif check == "self_target":
                addresses = self.read_addresses()
                names = own_names(os_info, computer, addresses or ())
                self.found.append(check_self_target(service, product, names, addresses is not None))

    def read_addresses(self) -> list[str] | None:
        """The host's IP addresses, or None when Win32_NetworkAdapterConfiguration cannot be read."""
        wql = wql_select(ADDRESS_PROPERTIES, "Win32_NetworkAdapterConfiguration", "IPEnabled = TRUE")
        try:
            rows = self.wmi.query(wql)
        except (WSManClassNotFound, WSManFault):
            return None
        addresses: list[str] = []
        for row in rows:
            value = row.get("IPAddress")
            addresses.extend([value] if isinstance(value, str) else [str(v) for v in value or ()])
        return addresses
