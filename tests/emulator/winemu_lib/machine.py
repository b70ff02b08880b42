"""One emulated Windows machine: a :class:`cim.Provider` over its registry, services, SPP and event logs.

Machines are built lazily: the registry, services and licensing state come into being on first use,
so a large fleet loads quickly and machines nobody talks to stay small.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import typing as t

from . import classes
from . import editions as ed
from .cim import (
    CallContext,
    CimValue,
    ClassDef,
    InstanceNotFound,
    MethodNotFound,
    ProviderError,
    check_params,
    check_selectors,
)
from .events import EventLogs
from .firewall import MSFT_NET_FIREWALL_RULE, FirewallRules
from .kms import KmsRequest, KmsResponse
from .machine_config import MachineConfig, populate_registry
from .registry import HKLM, Registry, RegType, invoke_std_reg_prov
from .services import (
    SERVICES,
    SERVICES_KEY,
    START_MODES,
    START_VALUES,
    SVC_ACCESS_DENIED,
    SVC_ALREADY_RUNNING,
    SVC_CANNOT_ACCEPT_CONTROL,
    SVC_DISABLED,
    SVC_INVALID_PARAMETER,
    SVC_OK,
    W32TIME_KEY,
    ServiceInfo,
    ServiceRuntime,
    service_instance,
    start_value,
)
from .spp import (
    CURRENT_VERSION_KEY,
    ERROR_SERVICE_DISABLED,
    SPP_KEY,
    Licensing,
    default_cmid,
)
from .spp_products import STATUS_NAMES, KeyRing
from .spp_provider import SppProvider

if t.TYPE_CHECKING:
    from .network import Network


class _State:
    """Everything built on first use."""

    def __init__(self, registry: Registry, licensing: Licensing, services: dict[str, ServiceRuntime]) -> None:
        self.registry = registry
        self.licensing = licensing
        self.spp_wmi = SppProvider(licensing)
        self.services = services


def _coerce_bool(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on", "false", "no", "0", "off"):
        return value.strip().lower() in ("true", "yes", "1", "on")
    raise ValueError(f"configure: {key} must be a boolean, not {value!r}")


def _coerce_int(key: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(f"configure: {key} must be an integer, not {value!r}")


class Machine:
    """An emulated Windows host implementing :class:`cim.Provider`."""

    def __init__(self, config: MachineConfig, network: Network, keyring: KeyRing) -> None:
        self.config = config
        self.name = config.name
        self.domain = config.domain
        self.fqdn = f"{config.name}.{config.domain}"
        self.ip = config.ip
        self.ipv6 = config.ipv6
        self.edition = ed.resolve_edition(config.edition_id, config.build)
        self.network = network
        self.keyring = keyring
        self.clock_skew_minutes = config.clock_skew_minutes
        self.writes = 0
        self.firewall = FirewallRules(on_change=self.count_write)
        self.events = EventLogs(self.name.upper())
        created = datetime.datetime.now(datetime.UTC)
        self._boot_real = created - datetime.timedelta(hours=1)
        seed = sum(self.fqdn.encode())
        self._install_date = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
            days=seed % 300, minutes=seed % 1440
        )
        self._pid_base = 1000 + (seed % 5000) * 4
        self._starts = 0
        self._state: _State | None = None

    # --- lazy state ----------------------------------------------------------------------------------

    def _ensure(self) -> _State:
        if self._state is None:
            self._state = self._build()
        return self._state

    @property
    def registry(self) -> Registry:
        return self._ensure().registry

    @property
    def licensing(self) -> Licensing:
        return self._ensure().licensing

    @property
    def spp_wmi(self) -> SppProvider:
        return self._ensure().spp_wmi

    def _build(self) -> _State:
        config = self.config
        registry = Registry(on_change=self.count_write)
        populate_registry(registry, self.edition, config)
        host = config.kms_host
        licensing = Licensing(
            self,
            cmid=config.cmid or default_cmid(self.fqdn),
            keyring=self.keyring,
            kms_extra_count=host.extra_count if host else 0,
            kms_reachable=host.reachable if host else True,
        )
        # Published before the rest: loading the license and starting sppsvc read the registry.
        state = self._state = _State(registry, licensing, {name: ServiceRuntime(running=False) for name in SERVICES})
        licensing.load_license(config.license_key, config.license_status)
        licensing.token_licenses = [dataclasses.replace(tl) for tl in config.token_licenses]
        self._start(state.services["W32Time"])
        if config.sppsvc_state == "Running":
            self._start_sppsvc()
        return state

    # --- clock, counters -------------------------------------------------------------------------------

    def now(self) -> datetime.datetime:
        """The machine's clock: real UTC plus its skew (emulated machines run in UTC)."""
        return datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=self.clock_skew_minutes)

    def count_write(self) -> None:
        self.writes += 1

    # --- services -----------------------------------------------------------------------------------------

    def _start_value(self, name: str) -> int:
        value = self.registry.read_dword(rf"{SERVICES_KEY}\{name}", "Start")
        return 3 if value is None else value

    def sppsvc_running(self) -> bool:
        return self._ensure().services["sppsvc"].running

    def _start(self, runtime: ServiceRuntime) -> None:
        self._starts += 1
        runtime.running = True
        runtime.pid = self._pid_base + self._starts * 4

    def _resync_clock(self) -> None:
        """W32Time starting with NTP peers configured syncs the clock (the cloud guides' w32tm /resync step).

        Assumption: the emulated network always reaches the configured NTP peers and one sync corrects
        any offset. NT5DS (domain hierarchy) does not resync here: a skewed domain member models a broken
        hierarchy, the case the activation troubleshooting guides describe.
        """
        params = rf"{W32TIME_KEY}\Parameters"
        kind = self.registry.read_str(params, "Type")
        peers = self.registry.read_str(params, "NtpServer")
        if (kind or "").upper() in ("NTP", "ALLSYNC") and (peers or "").strip():
            self.clock_skew_minutes = 0

    def _start_sppsvc(self) -> None:
        self._start(self._ensure().services["sppsvc"])
        self.licensing.on_sppsvc_start()

    def require_sppsvc(self) -> None:
        """Every SPP call goes through sppsvc; it is demand-started unless disabled."""
        state = self._ensure()
        if state.services["sppsvc"].running:
            return
        if self._start_value("sppsvc") == 4:
            raise ProviderError(ERROR_SERVICE_DISABLED, "The Software Protection service (sppsvc) is disabled")
        self._start_sppsvc()

    def _service_instance(self, info: ServiceInfo) -> dict[str, CimValue]:
        delayed = bool(self.registry.read_dword(rf"{SERVICES_KEY}\{info.name}", "DelayedAutostart"))
        runtime = self._ensure().services[info.name]
        return service_instance(
            info, runtime, self._start_value(info.name), delayed=delayed, system_name=self.name.upper()
        )

    def _service_method(
        self, info: ServiceInfo, method: str, params: t.Mapping[str, CimValue], ctx: CallContext
    ) -> int:
        if not ctx.is_admin:
            return SVC_ACCESS_DENIED
        runtime = self._ensure().services[info.name]
        if method == "StartService":
            if runtime.running:
                return SVC_ALREADY_RUNNING
            if self._start_value(info.name) == 4:
                return SVC_DISABLED
            if info.name == "sppsvc":
                self._start_sppsvc()
            else:
                self._start(runtime)
                self._resync_clock()
            # Assumption: an explicit start/stop is a change made to the machine, so it counts.
            self.count_write()
            return SVC_OK
        if method == "StopService":
            if not runtime.running:
                return SVC_CANNOT_ACCEPT_CONTROL
            runtime.running = False
            runtime.pid = 0
            self.count_write()
            return SVC_OK
        mode = params.get("StartMode")
        if not isinstance(mode, str) or mode not in ("Automatic", "Manual", "Disabled"):
            # Boot/System apply to drivers only.
            return SVC_INVALID_PARAMETER
        self.registry.set_value(HKLM, rf"{SERVICES_KEY}\{info.name}", "Start", RegType.DWORD, START_VALUES[mode])
        return SVC_OK

    # --- KMS hooks used by the network ------------------------------------------------------------------

    def kms_listening(self, port: int) -> bool:
        return self.licensing.kms_listening(port)

    def kms_srv_publications(self) -> list[tuple[str, int, int, int]]:
        return self.licensing.srv_publications()

    def serve_kms_request(self, request: KmsRequest) -> KmsResponse:
        return self.licensing.serve_kms_request(request)

    # --- cim.Provider ----------------------------------------------------------------------------------------

    def class_def(self, namespace: str, class_name: str) -> ClassDef:
        """The class as this build serves it: queries and Gets see only the build's own properties."""
        return classes.for_build(classes.lookup(namespace, class_name), self.edition.build)

    def instances(self, namespace: str, class_name: str, ctx: CallContext) -> list[dict[str, CimValue]]:
        cls = classes.lookup(namespace, class_name)
        if cls is classes.SOFTWARE_LICENSING_SERVICE:
            self.require_sppsvc()
            return [self.spp_wmi.service_instance()]
        if cls is classes.SOFTWARE_LICENSING_PRODUCT:
            self.require_sppsvc()
            return self.spp_wmi.product_instances()
        if cls is classes.SOFTWARE_LICENSING_TOKEN_ACTIVATION_LICENSE:
            self.require_sppsvc()
            return self.spp_wmi.token_license_instances()
        if cls is classes.WIN32_OPERATING_SYSTEM:
            return [self._os_instance()]
        if cls is classes.WIN32_COMPUTER_SYSTEM:
            return [self._computer_system_instance()]
        if cls is classes.WIN32_SERVICE:
            return [self._service_instance(info) for info in SERVICES.values()]
        if cls is classes.WIN32_NT_LOG_EVENT:
            return [record.as_cim() for record in self.events.records()]
        if cls is MSFT_NET_FIREWALL_RULE:
            return self.firewall.instances()
        return []  # StdRegProv: static methods only

    def invoke(
        self,
        namespace: str,
        class_name: str,
        method: str,
        selectors: t.Mapping[str, str],
        params: t.Mapping[str, CimValue],
        ctx: CallContext,
    ) -> dict[str, CimValue]:
        cls = classes.lookup(namespace, class_name)
        method_def = classes.find_method(cls, method)
        if method_def is None:
            raise MethodNotFound(f"Method {method!r} is not defined on {cls.name}")
        typed = check_params(method_def, params)
        if method_def.static:
            return invoke_std_reg_prov(self.registry, method_def.name, typed, ctx)
        keys = check_selectors(cls, selectors)
        if cls is classes.WIN32_SERVICE:
            info = next((i for i in SERVICES.values() if i.name.lower() == keys["Name"].lower()), None)
            if info is None:
                raise InstanceNotFound(f"No Win32_Service named {keys['Name']!r}")
            return {"ReturnValue": self._service_method(info, method_def.name, typed, ctx)}
        if cls is MSFT_NET_FIREWALL_RULE:
            return self.firewall.invoke(method_def.name, keys, ctx)
        self.require_sppsvc()
        licensing = self.licensing
        if cls is classes.SOFTWARE_LICENSING_SERVICE:
            if keys["Version"] != licensing.version:
                raise InstanceNotFound(f"No SoftwareLicensingService with Version {keys['Version']!r}")
            return self.spp_wmi.invoke_service(method_def.name, typed, ctx)
        if cls is classes.SOFTWARE_LICENSING_TOKEN_ACTIVATION_LICENSE:
            return self.spp_wmi.invoke_token_license(keys["ID"], method_def.name, ctx)
        product = licensing.product(keys["ID"])
        return self.spp_wmi.invoke_product(product, method_def.name, typed, ctx)

    # --- Win32 instances --------------------------------------------------------------------------------------

    def _os_instance(self) -> dict[str, CimValue]:
        edition = self.edition
        serial = self.registry.read_str(CURRENT_VERSION_KEY, "ProductId") or "00000-00000-00000-AA000"
        return {
            "Name": f"{edition.caption}|C:\\Windows|\\Device\\Harddisk0\\Partition2",
            "Caption": edition.caption,
            "Version": edition.full_version,
            "BuildNumber": str(edition.build),
            "BuildType": "Multiprocessor Free",
            "OperatingSystemSKU": edition.operating_system_sku,
            "ProductType": edition.product_type,
            "CSName": self.name.upper(),
            "OSLanguage": 1033,
            "Locale": "0409",
            "CountryCode": "1",
            "CodeSet": "1252",
            "LocalDateTime": self.now(),
            "LastBootUpTime": self._boot_real + datetime.timedelta(minutes=self.clock_skew_minutes),
            "InstallDate": self._install_date,
            "OSArchitecture": "64-bit",
            "OSType": 18,  # WINNT
            "Manufacturer": "Microsoft Corporation",
            "Organization": "",
            "RegisteredUser": "Windows User",
            "SerialNumber": serial,
            "ServicePackMajorVersion": 0,
            "ServicePackMinorVersion": 0,
            "SystemDirectory": r"C:\Windows\system32",
            "WindowsDirectory": r"C:\Windows",
            "SystemDrive": "C:",
            "BootDevice": r"\Device\HarddiskVolume1",
            "SystemDevice": r"\Device\HarddiskVolume2",
            "Primary": True,
            "Status": "OK",
            "TotalVisibleMemorySize": 8388148,
            "FreePhysicalMemory": 4194304,
            "NumberOfUsers": 1,
        }

    def _computer_system_instance(self) -> dict[str, CimValue]:
        joined = self.config.domain_joined
        server = self.edition.is_server
        return {
            "Name": self.name.upper(),
            "Caption": self.name.upper(),
            "Domain": self.domain if joined else "WORKGROUP",
            "DNSHostName": self.name,
            "PartOfDomain": joined,
            "Workgroup": None if joined else "WORKGROUP",
            "DomainRole": (3 if server else 1) if joined else (2 if server else 0),
            "Manufacturer": "Microsoft Corporation",
            "Model": "Virtual Machine",
            "SystemType": "x64-based PC",
            "NumberOfProcessors": 1,
            "NumberOfLogicalProcessors": 2,
            "TotalPhysicalMemory": 8589467648,
            "PrimaryOwnerName": "Windows User",
            "UserName": None,
            "Status": "OK",
        }

    # --- control surface ----------------------------------------------------------------------------------------

    # --- image pipeline: sysprep /generalize and clones ----------------------------------------------------

    def generalize(self) -> dict[str, t.Any]:
        """The licensing part of ``sysprep /generalize`` on this running machine (see ``Licensing.generalize``)."""
        self.require_sppsvc()
        licensing = self.licensing
        rearmed = licensing.generalize()
        return {
            "host": self.name,
            "rearmed": rearmed,
            "skip_rearm": not rearmed,
            "rearm_count": licensing.rearm_count,
            "cmid": None if licensing.cmid_cleared else licensing.cmid,
        }

    def clone(self, name: str, ip: str) -> Machine:
        """A new machine made from this one's current state: edition, keys, registry, licensing, CMID as it stands.

        Everything is copied generically (a deep copy sharing only the fleet's network and keyring), so state
        added to machines later is cloned too; only the identity (name, address) and the event logs are new.
        A CMID cleared by generalize stays cleared, so the clone makes its own on first use.
        """
        self._ensure()  # the CMID as it stands, even on a machine nobody has talked to yet
        memo: dict[int, t.Any] = {id(self.network): self.network, id(self.keyring): self.keyring}
        twin = copy.deepcopy(self, memo)
        twin.config = dataclasses.replace(self.config, name=name, ip=ip, ipv6=None, cmid=None)
        twin.name = name
        twin.fqdn = f"{name}.{self.domain}"
        twin.ip, twin.ipv6 = ip, None
        twin.writes = 0
        twin.events = EventLogs(name.upper())
        assert twin._state is not None
        # A clone boots: its services start from their configured start modes, not from the source's runtime.
        for runtime in twin._state.services.values():
            runtime.running = False
        twin._start(twin._state.services["W32Time"])
        return twin

    def configure(self, changes: t.Mapping[str, t.Any]) -> None:
        """Test control. Changes are not writes: they emulate the world, not a management action."""
        unknown = sorted(set(changes) - _CONFIGURE_KEYS)
        if unknown:
            raise ValueError(
                f"configure: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_CONFIGURE_KEYS))}"
            )
        state = self._ensure()
        licensing = state.licensing
        if "clock_skew_minutes" in changes:
            self.clock_skew_minutes = _coerce_int("clock_skew_minutes", changes["clock_skew_minutes"])
        if "kms_reachable" in changes:
            licensing.host.reachable = _coerce_bool("kms_reachable", changes["kms_reachable"])
        if "kms_extra_count" in changes:
            extra = _coerce_int("kms_extra_count", changes["kms_extra_count"])
            if extra < 0:
                raise ValueError("configure: kms_extra_count must be >= 0")
            licensing.host.extra_count = extra
        if _coerce_bool("kms_reset_count", changes.get("kms_reset_count", False)):
            licensing.host.clients.clear()
        for service in ("sppsvc", "w32time"):
            self._configure_service(service, changes)
        if "rearm_count" in changes:
            remaining = _coerce_int("rearm_count", changes["rearm_count"])
            if remaining < 0:
                raise ValueError("configure: rearm_count must be >= 0")
            licensing.rearm_count = remaining
        if "cmid" in changes:
            cmid = str(changes["cmid"]).strip().lower()
            if len(cmid) != 36 or cmid.count("-") != 4:
                raise ValueError("configure: cmid must be a GUID")
            licensing.cmid = cmid
        if "license_status" in changes:
            status_name = str(changes["license_status"]).lower()
            if status_name not in STATUS_NAMES:
                raise ValueError(f"configure: license_status must be one of {', '.join(STATUS_NAMES)}")
            product = licensing.windows_product()
            if product is None:
                raise ValueError("configure: license_status needs an installed Windows key")
            licensing.load_license(product.key, STATUS_NAMES[status_name])
        if _coerce_bool("clear_events", changes.get("clear_events", False)):
            self.events.clear()

    def _configure_service(self, service: str, changes: t.Mapping[str, t.Any]) -> None:
        name = "sppsvc" if service == "sppsvc" else "W32Time"
        runtime = self._ensure().services[name]
        mode_key, state_key = f"{service}_start_mode", f"{service}_state"
        if mode_key in changes:
            try:
                start = start_value(str(changes[mode_key]))
            except ValueError as exc:
                raise ValueError(f"configure: {mode_key}: {exc}") from None
            self.registry.set_value(HKLM, rf"{SERVICES_KEY}\{name}", "Start", RegType.DWORD, start, count=False)
            if start == 4 and state_key not in changes:
                runtime.running = False  # a disabled service is a stopped one unless told otherwise
        if state_key in changes:
            wanted = str(changes[state_key]).strip().capitalize()
            if wanted not in ("Running", "Stopped"):
                raise ValueError(f"configure: {state_key} must be Running or Stopped")
            if wanted == "Running":
                runtime.running = False
                if name == "sppsvc":
                    self._start_sppsvc()
                else:
                    self._start(runtime)
            else:
                runtime.running = False
                runtime.pid = 0

    # --- state dump ------------------------------------------------------------------------------------

    def state(self) -> dict[str, t.Any]:
        state = self._ensure()
        licensing = state.spp_wmi.state()
        edition = self.edition
        services = {
            name: {
                "start_mode": START_MODES.get(self._start_value(name), "Unknown"),
                "state": "Running" if runtime.running else "Stopped",
                "process_id": runtime.pid if runtime.running else 0,
            }
            for name, runtime in state.services.items()
        }
        return {
            "identity": {
                "name": self.name,
                "fqdn": self.fqdn,
                "domain": self.domain,
                "domain_joined": self.config.domain_joined,
                "ip": self.ip,
                "ipv6": self.ipv6,
                "edition": edition.edition_id,
                "build": edition.build,
                "product_family": edition.product_family,
                "caption": edition.caption,
                "operating_system_sku": edition.operating_system_sku,
                "product_type": edition.product_type,
                "version": edition.full_version,
                "clock": self.now().isoformat(),
                "clock_skew_minutes": self.clock_skew_minutes,
                # null while cleared (after a rearm or generalize): the next boot (first use) makes a new one.
                "cmid": None if state.licensing.cmid_cleared else state.licensing.cmid,
            },
            "registry": {
                "SoftwareProtectionPlatform": self.registry.dump(HKLM, SPP_KEY),
                "W32Time": self.registry.dump(HKLM, W32TIME_KEY),
                "sppsvc": self.registry.dump(HKLM, rf"{SERVICES_KEY}\sppsvc"),
            },
            "licensing": {
                "service": licensing["service"],
                "products": licensing["products"],
                "token_licenses": licensing["token_licenses"],
                "installed_licenses": licensing["installed_licenses"],
                "ad_confirmation_ids": licensing["ad_confirmation_ids"],
                "activation_objects": [ao.as_json() for ao in self.network.forests.objects(self.domain)],
            },
            "sppsvc": {**services["sppsvc"], "effective": licensing["kms_host"]["effective"]},
            "services": services,
            "firewall": self.firewall.state(),
            "kms_host": licensing["kms_host"],
            "rearm_count": licensing["rearm_count"],
            "events": [record.as_json() for record in self.events.records()][-100:],
            "writes": self.writes,
        }


_CONFIGURE_KEYS = frozenset(
    {
        "clock_skew_minutes",
        "kms_reachable",
        "kms_extra_count",
        "kms_reset_count",
        "sppsvc_start_mode",
        "sppsvc_state",
        "w32time_start_mode",
        "w32time_state",
        "cmid",
        "rearm_count",
        "license_status",
        "clear_events",
    }
)
