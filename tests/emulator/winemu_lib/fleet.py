"""Fleet YAML -> :class:`Fleet` of emulated hosts (the format is in docs/emulator.md, "Fleet file").

Every validation error is a ``ValueError`` that names the host and the key at fault.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import ipaddress
import itertools
import os
import re
import typing as t
import uuid

import yaml

from . import editions as ed
from . import kms, office, winrm_service
from .adba import ActivationObject, TokenLicense
from .authorization import REMOTE_MANAGEMENT_USERS
from .cim import ProviderError
from .machine import Machine
from .machine_config import KmsClientConfig, KmsHostConfig, MachineConfig
from .network import Network
from .services import start_value
from .spp_products import (
    CHANNEL_CSVLK,
    CHANNEL_MAK,
    CHANNEL_RETAIL,
    OFFICE,
    STATUS_NAMES,
    KeyEntry,
    classify_key,
    synthesize_key,
)
from .winrm_service import WINDOWS_DEFAULTS, WinrmService


@dataclasses.dataclass
class Account:
    username: str
    password: str
    admin: bool
    # Local groups besides Administrators (which `admin` stands for): "Remote Management Users".
    groups: tuple[str, ...] = ()


@dataclasses.dataclass
class FaultSpec:
    latency_ms: int = 0
    drop_at_request: int | None = None
    fault_at_request: int | None = None


@dataclasses.dataclass
class HostSpec:
    name: str
    fqdn: str
    port: int
    https: bool
    accounts: list[Account]
    faults: FaultSpec
    machine: Machine
    # The WinRM service settings (`winrm get winrm/config/service`); Windows' defaults unless the fleet says.
    winrm: WinrmService = WINDOWS_DEFAULTS
    # Inventory groups: the fleet file's `groups`, else kms_hosts or kms_clients by role.
    groups: tuple[str, ...] = ()


_GROUP_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOP_KEYS = frozenset({"defaults", "keys", "hosts", "activation_objects"})
_HOST_KEYS = frozenset(
    {
        "name",
        "count",
        "edition",
        "build",
        "domain",
        "domain_joined",
        "ip",
        "ipv6",
        "cmid",
        "clock_skew_minutes",
        "license",
        "kms_host",
        "kms_client",
        "groups",
        "sppsvc",
        "accounts",
        "hyperv_host",
        "token_licenses",
        "https",
        "port",
        "faults",
        "winrm",
        "office",
    }
)
_DEFAULTABLE = _HOST_KEYS - {"name", "count"}
_KEY_FIELDS = frozenset({"key", "channel", "editions", "csvlk_group", "blocked"})
_LICENSE_FIELDS = frozenset({"key", "status"})
_KMS_HOST_FIELDS = frozenset(
    {
        "csvlk_group",
        "extra_count",
        "listening_port",
        "dns_publishing",
        "publish_domains",
        "low_priority",
        "reachable",
        "office_versions",
        "office_extra_count",
    }
)
_OFFICE_FIELDS = frozenset({"version", "product", "key", "status"})
_KMS_CLIENT_FIELDS = frozenset({"server", "port", "lookup_domain", "host_caching"})
_SPPSVC_FIELDS = frozenset({"start_mode", "state"})
_AO_FIELDS = frozenset({"name", "csvlk", "domain"})
_TOKEN_LICENSE_FIELDS = frozenset(
    {"ilid", "ilvid", "description", "additional_info", "expires", "authorization_status"}
)
_FAULT_FIELDS = frozenset({"latency_ms", "drop_at_request", "fault_at_request"})
_ACCOUNT_FIELDS = frozenset({"username", "password", "admin", "groups"})
_ACCOUNT_GROUPS = (REMOTE_MANAGEMENT_USERS,)

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NAME_RE = re.compile(rf"^{_LABEL}$")
_DOMAIN_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")

MAX_CLONES = 1000

# Documentation address blocks (RFC 5737): labels only, never contacted.
_IP_POOLS = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")


class _Where:
    """Builds error messages that name the host and the key."""

    def __init__(self, where: str) -> None:
        self.where = where

    def error(self, key: str, message: str) -> ValueError:
        return ValueError(f"{self.where}: {key}: {message}")

    def mapping(self, key: str, value: object, allowed: t.AbstractSet[str]) -> dict[str, t.Any]:
        if not isinstance(value, dict):
            raise self.error(key, f"must be a mapping, not {type(value).__name__}")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise self.error(key, f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
        return value

    def string(self, key: str, value: object, *, empty: bool = False) -> str:
        if not isinstance(value, str) or (not empty and not value.strip()):
            raise self.error(key, f"must be a non-empty string, not {value!r}")
        return value.strip()

    def integer(self, key: str, value: object, low: int | None = None, high: int | None = None) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, f"must be an integer, not {value!r}")
        if low is not None and value < low:
            raise self.error(key, f"must be at least {low}, not {value}")
        if high is not None and value > high:
            raise self.error(key, f"must be at most {high}, not {value}")
        return value

    def optional_int(self, key: str, value: object, low: int) -> int | None:
        return None if value is None else self.integer(key, value, low)

    def boolean(self, key: str, value: object) -> bool:
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {value!r}")
        return value

    def domain(self, key: str, value: object) -> str:
        text = self.string(key, value).rstrip(".").lower()
        if not _DOMAIN_RE.match(text):
            raise self.error(key, f"{value!r} is not a DNS domain name")
        return text


def _parse_keys(raw: object) -> dict[str, KeyEntry]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise ValueError("keys: must be a list")
    keyring: dict[str, KeyEntry] = {}
    for index, item in enumerate(raw):
        entry_where = _Where(f"keys[{index}]")
        data = entry_where.mapping("entry", item, _KEY_FIELDS)
        key = ed.normalize_key(entry_where.string("key", data.get("key")))
        if key is None:
            raise entry_where.error("key", f"{data.get('key')!r} is not a 5x5 product key")
        if ed.find_gvlk(key) is not None or office.sku_for_gvlk(key) is not None:
            raise entry_where.error("key", "is a public GVLK; list only fabricated MAK, Retail or CSVLK keys")
        if key in keyring:
            raise entry_where.error("key", "is listed twice")
        channel = data.get("channel")
        if channel not in (CHANNEL_MAK, CHANNEL_CSVLK, CHANNEL_RETAIL):
            raise entry_where.error("channel", f"must be Volume:MAK, Volume:CSVLK or Retail, not {channel!r}")
        editions: frozenset[str] = frozenset()
        group = None
        if channel == CHANNEL_CSVLK:
            group_name = entry_where.string("csvlk_group", data.get("csvlk_group"))
            try:
                group = ed.csvlk_group(group_name).name
            except ValueError as exc:
                raise entry_where.error("csvlk_group", str(exc)) from None
            if "editions" in data:
                raise entry_where.error("editions", "a CSVLK is chosen by csvlk_group, not by editions")
        else:
            names = data.get("editions")
            if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
                raise entry_where.error("editions", "must be a non-empty list of EditionIDs")
            unknown = sorted(set(names) - set(ed.known_edition_ids()))
            if unknown:
                raise entry_where.error("editions", f"unknown EditionID(s) {', '.join(unknown)}")
            if "csvlk_group" in data:
                raise entry_where.error("csvlk_group", f"only a Volume:CSVLK key has a csvlk_group, not {channel}")
            editions = frozenset(names)
        blocked = entry_where.boolean("blocked", data.get("blocked", False))
        keyring[key] = KeyEntry(key=key, channel=channel, editions=editions, csvlk_group=group, blocked=blocked)
    return keyring


def _format(where: _Where, key: str, template: str, index: int) -> str:
    try:
        return template.format(index=index)
    except (KeyError, IndexError, ValueError) as exc:
        raise where.error(key, f"bad format string {template!r} ({exc})") from None


@dataclasses.dataclass
class _PendingHost:
    where: _Where
    data: dict[str, t.Any]
    name: str
    index: int


class Fleet:
    """The hosts of one fleet file, sharing one emulated network."""

    def __init__(self, hosts: dict[str, HostSpec], network: Network, keys: dict[str, KeyEntry]) -> None:
        self.hosts = hosts
        self.network = network
        self.keys = keys
        self._clones_made: dict[str, int] = {}

    def find(self, name: str) -> HostSpec:
        lowered = name.lower()
        for spec in self.hosts.values():
            if lowered in (spec.name.lower(), spec.fqdn.lower()):
                return spec
        raise KeyError(name)

    def clone(self, source: str, count: int, name_format: str | None = None) -> list[HostSpec]:
        """Add ``count`` hosts made from ``source``'s current state (what deploying its image N times gives).

        The host spec is copied generically, so every setting of the source (accounts, faults, listener
        settings) carries over; each clone gets its own name, address and port. Clones join the inventory
        group their licensing role gives them (kms_hosts when the image holds a KMS host key, else
        kms_clients) and ``<source>_clones``. Raises ``ValueError`` naming what is wrong; nothing is added then.
        """
        try:
            spec = self.find(source)
        except KeyError:
            raise ValueError(f"unknown host {source!r}") from None
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_CLONES:
            raise ValueError(f"count must be an integer from 1 to {MAX_CLONES}, not {count!r}")
        template = name_format or f"{spec.name}-clone{{index:03d}}"
        if "{index" not in template:
            raise ValueError(f"name format {template!r} must contain {{index}}, e.g. 'ws{{index:03d}}'")
        first = self._clones_made.get(spec.name, 0) + 1
        where = _Where("clone")
        names = [_format(where, "name", template, index) for index in range(first, first + count)]
        taken = {name.lower() for name in self.hosts}
        for name in names:
            if not _NAME_RE.match(name):
                raise ValueError(f"{name!r} is not a valid host name")
            if name.lower() in taken:
                raise ValueError(f"a host named {name!r} already exists")
            taken.add(name.lower())
        addresses = self._free_addresses(count)
        group = re.sub(r"[^A-Za-z0-9_]", "_", spec.name) + "_clones"
        added = []
        for name, ip in zip(names, addresses, strict=True):
            machine = spec.machine.clone(name, ip)
            role = "kms_hosts" if machine.licensing.is_kms_host() else "kms_clients"
            twin = copy.deepcopy(spec, {id(spec.machine): machine})
            twin = dataclasses.replace(twin, name=name, fqdn=machine.fqdn, port=0, groups=(role, group))
            self.network.add(machine)
            if role == "kms_hosts":
                self.network.register_kms_host(machine)
            self.hosts[name] = twin
            added.append(twin)
        self._clones_made[spec.name] = first + count - 1
        return added

    def _free_addresses(self, count: int) -> list[str]:
        used = {machine.ip for machine in self.network.machines()}
        free = (
            str(address)
            for pool in _IP_POOLS
            for address in ipaddress.ip_network(pool).hosts()
            if str(address) not in used
        )
        found = list(itertools.islice(free, count))
        if len(found) < count:
            raise ValueError("the generated address pools are exhausted")
        return found

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Fleet:
        with open(path, encoding="utf-8") as handle:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            try:
                data = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
            except yaml.YAMLError as exc:
                raise ValueError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a fleet file is a mapping with defaults, keys and hosts")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: t.Mapping[str, t.Any]) -> Fleet:
        unknown = sorted(str(k) for k in data if k not in _TOP_KEYS)
        if unknown:
            raise ValueError(
                f"fleet: unknown top-level key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_TOP_KEYS))})"
            )
        defaults = data.get("defaults") or {}
        if not isinstance(defaults, dict):
            raise ValueError("defaults: must be a mapping")
        bad_defaults = sorted(str(k) for k in defaults if k not in _DEFAULTABLE)
        if bad_defaults:
            raise ValueError(f"defaults: unknown or per-host key(s) {', '.join(bad_defaults)}")
        keyring = _parse_keys(data.get("keys"))
        raw_hosts = data.get("hosts")
        if not isinstance(raw_hosts, list) or not raw_hosts:
            raise ValueError("hosts: must be a non-empty list")

        pending = _expand(raw_hosts, defaults)
        explicit_ips = _explicit_ips(pending)
        ip_pool = (
            str(address)
            for pool in _IP_POOLS
            for address in ipaddress.ip_network(pool).hosts()
            if str(address) not in explicit_ips
        )
        network = Network()
        hosts: dict[str, HostSpec] = {}
        names: set[str] = set()
        ports: dict[int, str] = {}
        for item in pending:
            spec = _build_host(item, keyring, network, ip_pool)
            if spec.name.lower() in names:
                raise item.where.error("name", f"{spec.name!r} is used by more than one host")
            names.add(spec.name.lower())
            if spec.port:
                if spec.port in ports:
                    raise item.where.error("port", f"{spec.port} is also used by {ports[spec.port]}")
                ports[spec.port] = spec.name
            network.add(spec.machine)
            license_key = spec.machine.config.license_key
            csvlk = license_key is not None and license_key in keyring and keyring[license_key].channel == CHANNEL_CSVLK
            if spec.machine.config.kms_host is not None or csvlk:
                network.register_kms_host(spec.machine)
            hosts[spec.name] = spec
        default_domain = defaults.get("domain", "corp.example.com")
        for ao in _activation_objects(data.get("activation_objects"), keyring, str(default_domain)):
            network.forests.publish(ao)
        return cls(hosts, network, keyring)


def _expand(raw_hosts: list[t.Any], defaults: dict[str, t.Any]) -> list[_PendingHost]:
    pending: list[_PendingHost] = []
    for position, raw in enumerate(raw_hosts):
        label = raw.get("name") if isinstance(raw, dict) else None
        where = _Where(f"host {label!r}" if isinstance(label, str) else f"hosts[{position}]")
        host = where.mapping("host", raw, _HOST_KEYS)
        template = where.string("name", host.get("name"))
        count = where.integer("count", host.get("count", 1), 1, 100000)
        if count > 1 and "{index" not in template:
            raise where.error("name", "with count > 1 the name must contain {index}, e.g. 'ws{index:03d}'")
        merged = {**defaults, **{k: v for k, v in host.items() if k not in ("name", "count")}}
        for index in range(1, count + 1):
            name = _format(where, "name", template, index)
            if not _NAME_RE.match(name):
                raise where.error("name", f"{name!r} is not a valid host name")
            pending.append(_PendingHost(_Where(f"host {name!r}"), merged, name, index))
    return pending


def _explicit_ips(pending: list[_PendingHost]) -> set[str]:
    found = set()
    for item in pending:
        raw = item.data.get("ip")
        if isinstance(raw, str):
            text = _format(item.where, "ip", raw, item.index)
            try:
                found.add(str(ipaddress.IPv4Address(text)))
            except ValueError:
                raise item.where.error("ip", f"{text!r} is not an IPv4 address") from None
    return found


def _build_host(
    item: _PendingHost, keyring: dict[str, KeyEntry], network: Network, ip_pool: t.Iterator[str]
) -> HostSpec:
    where, data, name = item.where, item.data, item.name
    edition_id = where.string("edition", data.get("edition"))
    build = where.integer("build", data.get("build"), 1)
    try:
        edition = ed.resolve_edition(edition_id, build)
    except ValueError as exc:
        raise where.error("edition/build", str(exc)) from None
    domain = where.domain("domain", data.get("domain"))
    if "ip" in data and data["ip"] is not None:
        ip = str(ipaddress.IPv4Address(_format(where, "ip", where.string("ip", data["ip"]), item.index)))
    else:
        generated = next(ip_pool, None)
        if generated is None:
            raise where.error("ip", "the generated address pools are exhausted; give ip explicitly")
        ip = generated
    ipv6 = None
    if data.get("ipv6") is not None:
        text = _format(where, "ipv6", where.string("ipv6", data["ipv6"]), item.index)
        try:
            ipv6 = str(ipaddress.IPv6Address(text.strip("[]")))
        except ValueError:
            raise where.error("ipv6", f"{text!r} is not an IPv6 address") from None
    cmid = None
    if data.get("cmid") is not None:
        text = _format(where, "cmid", where.string("cmid", data["cmid"]), item.index)
        try:
            cmid = str(uuid.UUID(text))
        except ValueError:
            raise where.error("cmid", f"{text!r} is not a GUID") from None

    kms_host = _kms_host(where, data.get("kms_host"), edition, keyring)
    license_key, status = _license(where, data.get("license"), edition, keyring, kms_host)
    kms_client = _kms_client(where, data.get("kms_client"))
    sppsvc = where.mapping("sppsvc", data.get("sppsvc") or {}, _SPPSVC_FIELDS)
    start_mode = str(sppsvc.get("start_mode", "Automatic"))
    try:
        start_value(start_mode)
    except ValueError as exc:
        raise where.error("sppsvc.start_mode", str(exc)) from None
    # Assumption: sppsvc stops itself when idle (it is demand-started), except on a KMS host, which keeps it running.
    state = sppsvc.get("state", "Running" if kms_host is not None else "Stopped")
    if state not in ("Running", "Stopped"):
        raise where.error("sppsvc.state", f"must be Running or Stopped, not {state!r}")

    hyperv = data.get("hyperv_host")
    hyperv_host = None
    if hyperv is not None:
        if not isinstance(hyperv, dict) or not isinstance(hyperv.get("name"), str):
            raise where.error("hyperv_host", "must be a mapping {name, edition, build}")
        hyperv_host = (
            hyperv["name"],
            str(hyperv.get("edition", "ServerDatacenter")),
            where.integer("hyperv_host.build", hyperv.get("build", 20348)),
        )

    token_licenses = _token_licenses(where, data.get("token_licenses"))
    config = MachineConfig(
        name=name,
        domain=domain,
        edition_id=edition_id,
        build=build,
        ip=ip,
        ipv6=ipv6,
        domain_joined=where.boolean("domain_joined", data.get("domain_joined", True)),
        cmid=cmid,
        clock_skew_minutes=where.integer("clock_skew_minutes", data.get("clock_skew_minutes", 0)),
        license_key=license_key,
        license_status=status,
        kms_host=kms_host,
        kms_client=kms_client,
        sppsvc_start_mode=start_mode,
        sppsvc_state=state,
        hyperv_host=hyperv_host,
        token_licenses=token_licenses,
        office=_office(where, data.get("office", "default"), edition),
    )
    return HostSpec(
        name=name,
        fqdn=f"{name}.{domain}",
        port=where.integer("port", data.get("port", 0), 0, 65535),
        https=where.boolean("https", data.get("https", False)),
        accounts=_accounts(where, data.get("accounts")),
        faults=_faults(where, data.get("faults")),
        machine=Machine(config, network, keyring),
        winrm=winrm_service.parse(data.get("winrm"), where.error),
        groups=_groups(where, data.get("groups"), "kms_hosts" if kms_host is not None else "kms_clients"),
    )


def _groups(where: _Where, raw: object, role_group: str) -> tuple[str, ...]:
    if raw is None:
        raw = []
    if not isinstance(raw, list) or not all(isinstance(g, str) and _GROUP_RE.match(g) for g in raw):
        raise where.error("groups", "must be a list of inventory group names (letters, digits, underscores)")
    # Groups given explicitly replace the automatic one (a client can stay out of kms_clients).
    return tuple(dict.fromkeys(raw or [role_group]))


def _kms_host(where: _Where, raw: object, edition: ed.Edition, keyring: dict[str, KeyEntry]) -> KmsHostConfig | None:
    if raw is None:
        return None
    data = where.mapping("kms_host", raw, _KMS_HOST_FIELDS)
    group_name = where.string("kms_host.csvlk_group", data.get("csvlk_group"))
    try:
        group = ed.csvlk_group(group_name)
    except ValueError as exc:
        raise where.error("kms_host.csvlk_group", str(exc)) from None
    if not group.hostable_on(edition):
        raise where.error(
            "kms_host.csvlk_group", f"{group.name!r} cannot be hosted on {edition.caption} (KMS activation planning)"
        )
    key = next((e.key for e in keyring.values() if e.channel == CHANNEL_CSVLK and e.csvlk_group == group.name), None)
    if key is None:
        # Assumption: a KMS host whose fleet lists no CSVLK for its group gets a fabricated one.
        key = synthesize_key("csvlk", group.name)
        keyring[key] = KeyEntry(key=key, channel=CHANNEL_CSVLK, csvlk_group=group.name)
    domains = []
    raw_domains = data.get("publish_domains") or []
    if not isinstance(raw_domains, list):
        raise where.error("kms_host.publish_domains", "must be a list")
    for entry in raw_domains:
        item = where.mapping("kms_host.publish_domains", entry, {"domain", "priority", "weight"})
        domains.append(
            (
                where.domain("kms_host.publish_domains.domain", item.get("domain")),
                where.integer("kms_host.publish_domains.priority", item.get("priority", 0), 0, 65535),
                where.integer("kms_host.publish_domains.weight", item.get("weight", 0), 0, 65535),
            )
        )
    port = data.get("listening_port")
    return KmsHostConfig(
        csvlk_key=key,
        csvlk_group=group.name,
        extra_count=where.integer("kms_host.extra_count", data.get("extra_count", 0), 0, kms.COUNT_CEILING),
        listening_port=None if port is None else where.integer("kms_host.listening_port", port, 1, 65535),
        dns_publishing=where.boolean("kms_host.dns_publishing", data.get("dns_publishing", True)),
        publish_domains=tuple(domains),
        low_priority=where.boolean("kms_host.low_priority", data.get("low_priority", False)),
        reachable=where.boolean("kms_host.reachable", data.get("reachable", True)),
        office_versions=_office_versions(where, data.get("office_versions"), edition),
        office_extra_count=where.integer(
            "kms_host.office_extra_count", data.get("office_extra_count", 0), 0, kms.COUNT_CEILING
        ),
    )


def _license(
    where: _Where,
    raw: object,
    edition: ed.Edition,
    keyring: dict[str, KeyEntry],
    kms_host: KmsHostConfig | None,
) -> tuple[str | None, int]:
    data = where.mapping("license", raw if raw is not None else {}, _LICENSE_FIELDS)
    raw_key = data.get("key")
    if kms_host is not None:
        if raw_key is not None and ed.normalize_key(str(raw_key)) != kms_host.csvlk_key:
            raise where.error("license.key", "a kms_host has its CSVLK installed; leave license.key out")
        key: str | None = kms_host.csvlk_key
        default_status = "licensed"
    elif raw_key is None or raw_key == "gvlk":
        if edition.gvlk is None:
            raise where.error(
                "license.key", f"{edition.caption} (build {edition.build}) has no GVLK; use none or a key"
            )
        key, default_status = edition.gvlk, "oob_grace"
    elif raw_key == "none":
        key, default_status = None, "unlicensed"
    else:
        key = ed.normalize_key(where.string("license.key", raw_key))
        if key is None:
            raise where.error("license.key", f"{raw_key!r} is not gvlk, none or a 5x5 product key")
        default_status = "oob_grace"
    status_name = data.get("status", default_status)
    if status_name not in STATUS_NAMES:
        raise where.error("license.status", f"must be one of {', '.join(STATUS_NAMES)}, not {status_name!r}")
    if key is None and status_name != "unlicensed":
        raise where.error("license.status", "a machine without a key is unlicensed")
    if key is not None:
        try:
            channel, _csvlk_group = classify_key(edition, keyring, key)
        except ProviderError as exc:
            raise where.error("license.key", f"cannot be installed on {edition.caption}: {exc.message}") from None
        if channel == OFFICE:
            raise where.error("license.key", "the Office GVLK is not a Windows key")
    return key, STATUS_NAMES[status_name]


def _office_versions(where: _Where, raw: object, edition: ed.Edition) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise where.error("kms_host.office_versions", f"must be a list of {', '.join(office.versions())}")
    unknown = [item for item in raw if item not in office.versions()]
    if unknown:
        raise where.error("kms_host.office_versions", f"{unknown[0]!r} is not one of {', '.join(office.versions())}")
    if raw and edition.build < office.MIN_BUILD:
        raise where.error("kms_host.office_versions", "Office KMS host keys are modelled on Windows 8 and later only")
    return tuple(dict.fromkeys(raw))


def _office(where: _Where, raw: object, edition: ed.Edition) -> tuple[office.OfficeInstall, ...]:
    """The Office volume products installed: a mapping or a list of them, ``none``, or the default."""
    if raw == "default":
        if edition.build < office.MIN_BUILD:
            return ()  # Office on Windows 7 licenses through osppsvc, which is not modelled
        # Assumption: a machine carries Office 2016 Professional Plus with its GVLK unless the fleet says otherwise,
        # so clients must filter SoftwareLicensingProduct by ApplicationID as slmgr.vbs does.
        raw = {"version": office.DEFAULT_PRODUCT[0], "product": office.DEFAULT_PRODUCT[1]}
    if raw in ("none", None):
        return ()
    if edition.build < office.MIN_BUILD:
        raise where.error("office", "Office volume products are modelled on Windows 8 and later only (sppsvc)")
    items = raw if isinstance(raw, list) else [raw]
    installs: list[office.OfficeInstall] = []
    for index, item in enumerate(items):
        name = f"office[{index}]" if isinstance(raw, list) else "office"
        data = where.mapping(name, item, _OFFICE_FIELDS)
        version = data.get("version")
        product = data.get("product")
        sku = office.find_sku(str(version), str(product))
        if sku is None:
            raise where.error(
                name,
                f"no Office volume product {product!r} in version {version!r} (Microsoft's GVLK table); versions: "
                f"{', '.join(office.versions())}; products: {', '.join(office.products())}",
            )
        if any(existing.sku is sku for existing in installs):
            raise where.error(name, f"{version} {product} is listed twice")
        key_word = data.get("key", "gvlk")
        if key_word not in ("gvlk", "none"):
            raise where.error(f"{name}.key", f"must be gvlk or none, not {key_word!r}")
        key = sku.gvlk if key_word == "gvlk" else None
        status_name = data.get("status", "oob_grace" if key else "unlicensed")
        if status_name not in STATUS_NAMES:
            raise where.error(f"{name}.status", f"must be one of {', '.join(STATUS_NAMES)}, not {status_name!r}")
        if key is None and status_name != "unlicensed":
            raise where.error(f"{name}.status", "an Office product without a key is unlicensed")
        installs.append(office.OfficeInstall(sku=sku, key=key, status=STATUS_NAMES[status_name]))
    return tuple(installs)


def _kms_client(where: _Where, raw: object) -> KmsClientConfig | None:
    if raw is None:
        return None
    data = where.mapping("kms_client", raw, _KMS_CLIENT_FIELDS)
    server = data.get("server")
    port = data.get("port")
    domain = data.get("lookup_domain")
    return KmsClientConfig(
        server=None if server is None else where.string("kms_client.server", server),
        port=None if port is None else where.integer("kms_client.port", port, 1, 65535),
        lookup_domain=None if domain is None else where.domain("kms_client.lookup_domain", domain),
        host_caching=where.boolean("kms_client.host_caching", data.get("host_caching", True)),
    )


def _accounts(where: _Where, raw: object) -> list[Account]:
    if not isinstance(raw, list) or not raw:
        raise where.error("accounts", "must be a non-empty list of {username, password, admin}")
    accounts = []
    for entry in raw:
        data = where.mapping("accounts", entry, _ACCOUNT_FIELDS)
        accounts.append(
            Account(
                username=where.string("accounts.username", data.get("username")),
                password=where.string("accounts.password", data.get("password"), empty=True),
                admin=where.boolean("accounts.admin", data.get("admin", False)),
                groups=_account_groups(where, data.get("groups")),
            )
        )
    return accounts


def _account_groups(where: _Where, raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or any(group not in _ACCOUNT_GROUPS for group in raw):
        allowed = ", ".join(repr(group) for group in _ACCOUNT_GROUPS)
        raise where.error("accounts.groups", f"must be a list of {allowed} (admin: true stands for Administrators)")
    return tuple(raw)


def _faults(where: _Where, raw: object) -> FaultSpec:
    data = where.mapping("faults", raw if raw is not None else {}, _FAULT_FIELDS)
    return FaultSpec(
        latency_ms=where.integer("faults.latency_ms", data.get("latency_ms", 0), 0, 600000),
        drop_at_request=where.optional_int("faults.drop_at_request", data.get("drop_at_request"), 1),
        fault_at_request=where.optional_int("faults.fault_at_request", data.get("fault_at_request"), 1),
    )


def _activation_objects(raw: object, keyring: dict[str, KeyEntry], default_domain: str) -> list[ActivationObject]:
    """The forest's activation objects at start (as if a CSVLK had been activated there before)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("activation_objects: must be a list of {name, csvlk, domain}")
    found = []
    for index, item in enumerate(raw):
        where = _Where(f"activation_objects[{index}]")
        data = where.mapping("entry", item, _AO_FIELDS)
        key = ed.normalize_key(where.string("csvlk", data.get("csvlk")))
        entry = keyring.get(key or "")
        if key is None or entry is None or entry.channel != CHANNEL_CSVLK or entry.csvlk_group is None:
            raise where.error("csvlk", "must be a CSVLK listed under keys (with its csvlk_group)")
        domain = where.domain("domain", data.get("domain", default_domain))
        found.append(ActivationObject(where.string("name", data.get("name")), key, entry.csvlk_group, domain))
    return found


def _token_licenses(where: _Where, raw: object) -> tuple[TokenLicense, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise where.error("token_licenses", "must be a list of {ilid, ilvid, description, ...}")
    found = []
    for item in raw:
        data = where.mapping("token_licenses", item, _TOKEN_LICENSE_FIELDS)
        ilid = where.string("token_licenses.ilid", data.get("ilid"))
        try:
            uuid.UUID(ilid)
        except ValueError:
            raise where.error("token_licenses.ilid", f"{ilid!r} is not a GUID") from None
        expires = data.get("expires")
        if expires is not None and not isinstance(expires, datetime.datetime):
            expires = datetime.datetime.fromisoformat(str(expires))
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=datetime.UTC)
        found.append(
            TokenLicense(
                ilid=ilid,
                ilvid=where.integer("token_licenses.ilvid", data.get("ilvid", 0), 0),
                description=str(data.get("description", "")),
                additional_info=data.get("additional_info"),
                expiration=expires,
                authorization_status=where.integer(
                    "token_licenses.authorization_status", data.get("authorization_status", 0), 0
                ),
            )
        )
    return tuple(found)
