"""The emulated WinRM service: one asyncio process serving every host of a fleet.

Each host is a :class:`winrm_endpoint.HostEndpoint` on its own port of 127.0.0.1, HTTP or HTTPS (a
certificate per HTTPS host, issued by the fleet's own test CA). The layers, each in its own module, call one way:
:mod:`http_listener` -> :mod:`winrm_endpoint` (authentication, fault injection, dispatch) ->
:mod:`winrs` and :mod:`wsman_operations` -> the machine (:class:`cim.Provider`).
"""

from __future__ import annotations

import contextlib
import os
import resource
import tempfile
import typing as t

from . import tls
from .http_auth import ntlm_user_lines
from .winrm_endpoint import HostEndpoint, HostSpecLike


class FleetLike(t.Protocol):
    @property
    def hosts(self) -> t.Mapping[str, HostSpecLike]: ...


class UnknownHost(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown host {self.name!r}"


def raise_open_file_limit() -> tuple[int, int]:
    """Raise RLIMIT_NOFILE's soft limit to the hard limit: a large fleet holds one socket per host."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1048576)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft, hard
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


class FleetServer:
    """Every host of a fleet, served from the running event loop."""

    def __init__(self, fleet: FleetLike) -> None:
        self.fleet = fleet
        specs = list(fleet.hosts.values())
        self.ca: tls.CertificateAuthority | None = tls.new_authority() if any(s.https for s in specs) else None
        self.certificates: dict[str, tls.ServerCertificate] = {}
        # One NTLM_USER_FILE per host (its own accounts), private to this process, removed when it exits.
        self._ntlm_dir = tempfile.TemporaryDirectory(prefix="winemu-ntlm-")
        self.hosts: dict[str, HostEndpoint] = {spec.name: self._endpoint(spec) for spec in specs}
        self._started = False

    def _ntlm_user_file(self, spec: HostSpecLike) -> str:
        path = os.path.join(self._ntlm_dir.name, f"{spec.name}.ntlm")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write("\n".join(ntlm_user_lines(spec.accounts, spec.fqdn)) + "\n")
        return path

    def host(self, name: str) -> HostEndpoint:
        """Look a host up by short name or FQDN, case-insensitively."""
        lowered = name.lower()
        for endpoint in self.hosts.values():
            if lowered in (endpoint.name.lower(), endpoint.fqdn.lower()):
                return endpoint
        raise UnknownHost(name)

    async def start(self) -> None:
        raise_open_file_limit()
        try:
            for endpoint in self.hosts.values():
                await endpoint.start()
        except BaseException:
            await self.stop()
            raise
        self._started = True

    def _endpoint(self, spec: HostSpecLike) -> HostEndpoint:
        """A host's endpoint; an HTTPS host gets a certificate of its own from the fleet's test CA."""
        context = None
        if spec.https:
            if self.ca is None:
                self.ca = tls.new_authority()
            certificate = self.certificates[spec.name] = self.ca.issue([spec.name, spec.fqdn])
            context = certificate.server_context()
        return HostEndpoint(spec, context, self._ntlm_user_file(spec))

    async def add(self, specs: t.Iterable[HostSpecLike]) -> list[HostEndpoint]:
        """Serve hosts added to the fleet while running (clones); an HTTPS clone gets its own certificate."""
        added = []
        for spec in specs:
            endpoint = self._endpoint(spec)
            self.hosts[spec.name] = endpoint
            added.append(endpoint)
            if self._started:
                await endpoint.start()
        return added

    async def stop(self) -> None:
        for endpoint in self.hosts.values():
            await endpoint.stop()
        self._started = False

    def stats(self) -> dict[str, dict[str, t.Any]]:
        return {name: endpoint.stats_dict() for name, endpoint in self.hosts.items()}
