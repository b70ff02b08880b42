"""The emulated network shared by the machines of one fleet: name resolution, DNS SRV, KMS traffic.

Nothing here touches a real network: names resolve among the fleet's machines only.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import typing as t

from . import kms
from .adba import Forests

if t.TYPE_CHECKING:
    from .machine import Machine


@dataclasses.dataclass(frozen=True)
class SrvRecord:
    """One ``_vlmcs._tcp.<domain>`` record ("KMS and DNS troubleshooting")."""

    domain: str
    priority: int
    weight: int
    port: int
    target: str  # the host's FQDN


def _ip_key(text: str) -> str | None:
    candidate = text.strip()
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class Network:
    """Name resolution and KMS request routing among the fleet's machines."""

    def __init__(self) -> None:
        self._by_fqdn: dict[str, Machine] = {}
        self._by_short: dict[str, list[Machine]] = {}
        self._by_ip: dict[str, Machine] = {}
        self._kms_hosts: dict[int, Machine] = {}
        # The activation objects of Active Directory-based activation, per forest root domain.
        self.forests = Forests()

    def add(self, machine: Machine) -> None:
        fqdn = machine.fqdn.lower()
        if fqdn in self._by_fqdn:
            raise ValueError(f"host {machine.name}: FQDN {machine.fqdn} is used twice")
        self._by_fqdn[fqdn] = machine
        self._by_short.setdefault(machine.name.lower(), []).append(machine)
        for address in (machine.ip, machine.ipv6):
            key = _ip_key(address) if address else None
            if key is None:
                continue
            if key in self._by_ip:
                raise ValueError(f"host {machine.name}: address {address} is already used by {self._by_ip[key].name}")
            self._by_ip[key] = machine

    def machines(self) -> list[Machine]:
        return list(self._by_fqdn.values())

    def register_kms_host(self, machine: Machine) -> None:
        """A machine that may publish SRV records / listen as a KMS (CSVLK installed or configured)."""
        self._kms_hosts[id(machine)] = machine

    # --- resolution ---------------------------------------------------------------------------------

    def resolve(self, name: str, requester: Machine | None = None) -> Machine | None:
        """FQDN, short NetBIOS name, IPv4 or IPv6 literal (bracketed or bare) -> machine."""
        text = name.strip().rstrip(".").lower()
        if not text:
            return None
        ip_key = _ip_key(text)
        if ip_key is not None:
            return self._by_ip.get(ip_key)
        if "." in text:
            return self._by_fqdn.get(text)
        if requester is not None:
            # DNS suffix search: the requester's own domain first.
            own = self._by_fqdn.get(f"{text}.{requester.domain.lower()}")
            if own is not None:
                return own
        matches = self._by_short.get(text, [])
        # Assumption: a short name outside the requester's domain resolves only when it is unique
        # in the fleet (NetBIOS broadcast / WINS).
        return matches[0] if len(matches) == 1 else None

    def srv_records(self, domain: str) -> list[SrvRecord]:
        """``_vlmcs._tcp.<domain>``: lowest priority first; then by weight (see below)."""
        wanted = domain.strip().rstrip(".").lower()
        records = [
            SrvRecord(domain=wanted, priority=priority, weight=weight, port=port, target=host.fqdn)
            for host in self._kms_hosts.values()
            for record_domain, priority, weight, port in host.kms_srv_publications()
            if record_domain == wanted
        ]
        # Assumption: clients pick by weight deterministically (highest first) instead of randomly.
        records.sort(key=lambda record: (record.priority, -record.weight, record.target))
        return records

    # --- KMS traffic ----------------------------------------------------------------------------------

    def send_kms_request(
        self, client: Machine, name: str, port: int, request: kms.KmsRequest
    ) -> tuple[Machine | None, kms.KmsResponse | int]:
        """Deliver a KMS request over emulated TCP; (host, response) or (host or None, failure HRESULT)."""
        host = self.resolve(name, client)
        if host is None:
            # Assumption: a name that does not resolve is reported like the DNS failure 0x8007232B.
            return None, kms.DNS_ERROR_RCODE_NAME_ERROR
        if host is client:
            # Assumption: a machine's KMS client does not activate against its own KMS host.
            return host, kms.RPC_S_SERVER_UNAVAILABLE
        if not host.kms_listening(port):
            # 0x800706BA ("Troubleshoot activation error codes"): nothing answers on that port (sppsvc
            # stopped or disabled, firewall, not a KMS host, or another listening port).
            return host, kms.RPC_S_SERVER_UNAVAILABLE
        return host, host.serve_kms_request(request)
