# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The time_source engine: W32Time NTP peers (NtpServer, Type) read -> plan -> apply, and a resyncing restart."""

from __future__ import annotations

import dataclasses
import re
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._explain import error_for_wsman
from ansible_collections.winact.kms.plugins.plugin_utils._registry import Registry, RegType
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._service import (
    ServiceState,
    read_win32_service,
    restart_explained,
)
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError, kms_server, server_key
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManNotFound

# The W32Time values, flags and service name below come from Microsoft's "Windows Time service tools and settings"
# (https://learn.microsoft.com/windows-server/networking/windows-time-service/windows-time-service-tools-and-settings):
# NtpServer is a REG_SZ of space-separated
# peers, each optionally followed by ",0x<flags>" (0x1 SpecialInterval, 0x2 UseAsFallbackOnly, 0x4 SymmetricActive,
# 0x8 Client); Type is a REG_SZ (NTP, NT5DS, AllSync, NoSync); restarting W32Time makes it resynchronise.
PARAMETERS_KEY = r"SYSTEM\CurrentControlSet\Services\W32Time\Parameters"
NTP_SERVER = "NtpServer"
TYPE = "Type"
SERVICE_NAME = "W32Time"
FLAGS_RANGE = (0, 0xF)
_FLAGS = re.compile(r"^0[xX]([0-9a-fA-F]{1,8})$")
SERVER_HELP = "a host name or IP address, optionally followed by ',0x<flags>' (e.g. time.example.com,0x9)"


@dataclasses.dataclass(frozen=True)
class Peer:
    host: str
    flags: int | None  # None: no ",0x.." suffix

    @property
    def text(self) -> str:
        return self.host if self.flags is None else f"{self.host},0x{self.flags:x}"

    @property
    def key(self) -> tuple[str, int | None]:
        return server_key(self.host), self.flags


def _flags_value(option: str, text: str) -> int:
    match = _FLAGS.match(text.strip())
    if not match:
        raise ValidationError(option, f"flags {text!r} are not a hex number like 0x8; expected {SERVER_HELP}")
    value = int(match.group(1), 16)
    if not FLAGS_RANGE[0] <= value <= FLAGS_RANGE[1]:
        raise ValidationError(option, f"flags {text!r} are out of range; expected 0x0-0xf (bits 0x1, 0x2, 0x4, 0x8)")
    return value


def parse_peer(option: str, entry: t.Any, default_flags: int) -> Peer:
    """One peer of the ``servers`` option, validated (host as for a KMS host name, flags 0x0-0xf)."""
    if not isinstance(entry, str) or not entry.strip():
        raise ValidationError(option, f"{entry!r} is not a peer; expected {SERVER_HELP}")
    text = entry.strip()
    if any(ch.isspace() for ch in text):
        raise ValidationError(
            option, f"{text!r} contains whitespace (peers are stored space-separated); expected {SERVER_HELP}"
        )
    host, sep, flags_text = text.partition(",")
    try:
        kms_server(option, host)
    except ValidationError as exc:
        raise ValidationError(option, f"peer {text!r}: {exc.message}") from None
    if sep:
        return Peer(host, _flags_value(option, flags_text))
    return Peer(host, default_flags or None)


def parse_ntp_server(value: str | None) -> list[Peer]:
    """The peers of an NtpServer value as Windows stores it; lenient, since any text may be there."""
    peers = []
    for entry in (value or "").split():
        host, sep, flags_text = entry.partition(",")
        match = _FLAGS.match(flags_text) if sep else None
        if match:
            peers.append(Peer(host, int(match.group(1), 16)))
        else:
            # No flags, or flags that are not hex: keep the entry whole so it never equals a valid peer.
            peers.append(Peer(entry if sep else host, None))
    return peers


def same_peers(left: t.Sequence[Peer], right: t.Sequence[Peer]) -> bool:
    return [p.key for p in left] == [p.key for p in right]


@dataclasses.dataclass(frozen=True)
class Request:
    peers: tuple[Peer, ...]
    type: str
    restart: str

    @property
    def ntp_server(self) -> str:
        return " ".join(p.text for p in self.peers)


def build_request(params: t.Mapping[str, t.Any]) -> Request:
    flags = params.get("flags")
    flags = 8 if flags is None else flags
    if isinstance(flags, bool) or not isinstance(flags, int) or not FLAGS_RANGE[0] <= flags <= FLAGS_RANGE[1]:
        raise ValidationError("flags", f"{flags!r} is out of range; expected 0-15 (0x0-0xf: bits 0x1, 0x2, 0x4, 0x8)")
    servers = params.get("servers") or []
    if not servers:
        raise ValidationError("servers", f"must list at least one NTP peer; each is {SERVER_HELP}")
    peers = tuple(parse_peer("servers", entry, flags) for entry in servers)
    hosts: set[str] = set()
    for peer in peers:
        if server_key(peer.host) in hosts:
            raise ValidationError("servers", f"{peer.host!r} is listed twice")
        hosts.add(server_key(peer.host))
    return Request(peers=peers, type=params.get("type") or "NTP", restart=params.get("restart_service") or "auto")


def _service(wmi: WmiClient) -> ServiceState:
    try:
        return read_win32_service(wmi, SERVICE_NAME)
    except WSManNotFound as exc:
        raise ModuleFailure(
            f"The Windows Time service ({SERVICE_NAME}) is not installed on this host (w32tm /register installs it)",
            error=error_for_wsman(exc),
        ) from exc


def execute(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    registry = Registry(wmi)
    current_server = registry.get(PARAMETERS_KEY, NTP_SERVER, RegType.SZ)
    current_type = registry.get(PARAMETERS_KEY, TYPE, RegType.SZ)
    service = _service(wmi)

    changes: list[tuple[str, str]] = []
    if current_server is None or not same_peers(parse_ntp_server(current_server), request.peers):
        changes.append((NTP_SERVER, request.ntp_server))
    if (current_type or "").lower() != request.type.lower():
        changes.append((TYPE, request.type))
    restart = request.restart == "always" or (request.restart == "auto" and bool(changes))
    if restart and service.disabled:
        raise ModuleFailure(
            f"{SERVICE_NAME} is disabled (StartMode Disabled), so the NTP peers would never be used and the clock "
            "would not resync; nothing was changed. Enable the service first (e.g. ansible.windows.win_service "
            f"name={SERVICE_NAME} start_mode=auto) or pass restart_service: never",
            service=service.to_dict(),
        )

    restarted = False
    if not ctx.check_mode:
        for name, value in changes:
            registry.set(PARAMETERS_KEY, name, RegType.SZ, value)
            ctx.applied.append(name)
        if restart:
            restart_explained(wmi, SERVICE_NAME, ctx)
            restarted = True
            service = _service(wmi)

    changed_values = dict(changes)
    result: dict[str, t.Any] = {
        "changed": bool(changes) or restart,
        "changes": [name for name, _value in changes],
        "ntp_server": changed_values.get(NTP_SERVER, current_server),
        "previous_ntp_server": current_server,
        "type": changed_values.get(TYPE, current_type),
        "previous_type": current_type,
        "restarted": restarted,
        "service": service.to_dict(),
    }
    if ctx.diff_mode and changes:
        # Exactly the values that change, like the other modules' diffs.
        before = {NTP_SERVER: current_server, TYPE: current_type}
        result["diff"] = {
            "before": {name: before[name] for name, _value in changes},
            "after": dict(changes),
        }
    return result
