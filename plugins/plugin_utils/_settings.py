# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every SPP setting the collection manages, described once, and read / plan / diff / apply written once.

``kms_client``, ``kms_host`` and ``activation_policy`` are views of :data:`TABLE`:
a view is the scope (client, host or policy) plus how module options become the
desired values. For each setting the table says where Windows keeps it (registry
key, value and type, as slmgr.vbs writes them and "Registry Settings for Volume
Activation" lists them), which WMI property reports it and which
SoftwareLicensingService/Product method sets and clears it (preferred: sppsvc
validates and applies), which of the two interfaces a scope uses, how values are
validated and normalised, and whether sppsvc must restart for a change (slmgr.vbs
warns after the options that need one). docs/reference/ has the table with its sources.

Reading costs one WQL query of SoftwareLicensingService (only the properties the
view needs) and one StdRegProv call per registry-backed setting; a product-scoped
request adds one SoftwareLicensingProduct query (for the per-SKU registry key).
"""

from __future__ import annotations

import dataclasses
import enum
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _office as office
from ansible_collections.winact.kms.plugins.plugin_utils import _token_only as token_only
from ansible_collections.winact.kms.plugins.plugin_utils import _validate as v
from ansible_collections.winact.kms.plugins.plugin_utils._explain import code_failure, error_for_wsman, explain_text
from ansible_collections.winact.kms.plugins.plugin_utils._registry import Registry, RegistryTypeMismatch, RegType
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._service import restart_explained
from ansible_collections.winact.kms.plugins.plugin_utils._spp import (
    DEFAULT_KMS_PORT,
    OFFICE_APP_ID,
    PRODUCT_CLASS,
    SERVICE_CLASS,
    SPP_KEY,
    SPP_SERVICE,
)
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient, wql_select, wql_string
from ansible_collections.winact.kms.plugins.plugin_utils._wmi_schema import has_property
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    WSManError,
    WSManProtocolError,
    WSManTimeout,
    WSManUnreachable,
)

RESTART_CHOICES = ("auto", "always", "never")
# sppsvc does not report the value it runs with for every setting it reads at start (DnsDomainPublishList, the
# activation policy values). For those, a restart still owed is remembered on the host itself, the only place
# a rerun can learn it from: the setting names are written here before the setting, and removed once sppsvc
# has restarted.
PENDING_KEY = r"SOFTWARE\winact.kms"
PENDING_VALUE = "SppsvcRestartPending"
# Read with every view's own properties: the key of the service's methods, and whether this is a KMS host.
SERVICE_BASE_PROPERTIES = ("Version", "IsKeyManagementServiceMachine")
# Read for a per-product request: where the product's per-SKU registry values live.
PRODUCT_KEY_PROPERTIES = ("ID", "ApplicationID")


class Scope(enum.StrEnum):
    """Which module (and which kind of machine) a setting is managed for."""

    CLIENT = "client"
    HOST = "host"
    POLICY = "policy"


class Via(enum.StrEnum):
    """The interface a scope uses to read and write a setting."""

    WMI = "wmi"
    REGISTRY = "registry"


class _Clear:
    """Marker: the desired value is the one the WMI Clear* method restores."""

    def __repr__(self) -> str:
        return "CLEAR"


CLEAR = _Clear()


# --------------------------------------------------------------------------------------------
# Codecs: validation/normalisation of module values and conversion to and from each interface.
# --------------------------------------------------------------------------------------------
class Codec:
    """Identity conversions; subclasses override what differs."""

    def normalise(self, option: str, value: t.Any) -> t.Any:
        return value

    def from_wmi(self, raw: t.Any) -> t.Any:
        return raw

    def to_wmi(self, value: t.Any) -> t.Any:
        """The method argument, or :data:`CLEAR` to call the Clear* method instead."""
        return value

    def from_registry(self, raw: t.Any) -> t.Any:
        return raw

    def to_registry(self, value: t.Any) -> t.Any:
        """The registry data, or None to delete the value (Windows then uses its default)."""
        return value

    def same(self, left: t.Any, right: t.Any) -> bool:
        return bool(left == right)

    def show(self, value: t.Any) -> t.Any:
        """The value as results and diffs show it."""
        return value


class PortCodec(Codec):
    """A TCP port; 0 / no value means the default 1688, and setting 1688 clears the custom port."""

    def normalise(self, option: str, value: t.Any) -> int:
        return v.port(option, value)

    def from_wmi(self, raw: t.Any) -> int:
        # KeyManagementService(Listening)Port is 0 when never set; slmgr shows 1688 then
        # (SoftwareLicensingService class).
        return int(raw) if raw else DEFAULT_KMS_PORT

    def to_wmi(self, value: t.Any) -> t.Any:
        return CLEAR if value == DEFAULT_KMS_PORT else value

    def from_registry(self, raw: t.Any) -> int:
        text = str(raw).strip() if raw is not None else ""
        return int(text) if text.isdigit() and int(text) else DEFAULT_KMS_PORT

    def to_registry(self, value: t.Any) -> t.Any:
        return None if value == DEFAULT_KMS_PORT else str(value)  # REG_SZ, as slmgr /sprt writes it


class IntervalCodec(Codec):
    """Minutes, 15-43200. A registry value that is absent reads as None (Windows default applies)."""

    def normalise(self, option: str, value: t.Any) -> int:
        return v.interval(option, value)

    def from_wmi(self, raw: t.Any) -> int | None:
        return int(raw) if raw is not None else None

    def from_registry(self, raw: t.Any) -> int | None:
        return int(raw) if raw is not None else None


class BoolCodec(Codec):
    """A switch. ``method_inverted``: the WMI method takes the opposite (``Disable...(True)`` turns it off).

    ``registry_inverted``: the registry value is the opposite (``DisableDnsPublishing``). A registry
    switch that is off is removed rather than written as 0, which is Windows' own default.
    """

    def __init__(self, *, method_inverted: bool = False, registry_inverted: bool = False) -> None:
        self.method_inverted = method_inverted
        self.registry_inverted = registry_inverted

    def normalise(self, option: str, value: t.Any) -> bool:
        if not isinstance(value, bool):
            raise v.ValidationError(option, f"{value!r} is not a boolean; expected true or false")
        return value

    def from_wmi(self, raw: t.Any) -> bool:
        return bool(raw)

    def to_wmi(self, value: t.Any) -> bool:
        return (not value) if self.method_inverted else bool(value)

    def from_registry(self, raw: t.Any) -> bool:
        flag = bool(raw)  # absent (None) or 0 is off
        return (not flag) if self.registry_inverted else flag

    def to_registry(self, value: t.Any) -> int | None:
        flag = (not value) if self.registry_inverted else bool(value)
        return 1 if flag else None


class ServerCodec(Codec):
    """The KMS host a client uses; None means none set (DNS auto-discovery)."""

    def normalise(self, option: str, value: t.Any) -> str:
        return v.kms_server(option, value)

    def from_wmi(self, raw: t.Any) -> str | None:
        return str(raw) if raw else None

    def to_wmi(self, value: t.Any) -> t.Any:
        return CLEAR if value is None else value

    from_registry = from_wmi

    def to_registry(self, value: t.Any) -> t.Any:
        return value

    def same(self, left: t.Any, right: t.Any) -> bool:
        return v.same_server(left, right)


class DomainCodec(Codec):
    """A DNS domain; an empty value asks to clear it (None)."""

    def normalise(self, option: str, value: t.Any) -> str | None:
        if value == "":
            return None
        return v.dns_domain(option, value)

    def from_wmi(self, raw: t.Any) -> str | None:
        return str(raw) if raw else None

    def to_wmi(self, value: t.Any) -> t.Any:
        return CLEAR if value is None else value

    from_registry = from_wmi

    def same(self, left: t.Any, right: t.Any) -> bool:
        if left is None or right is None:
            return left is right
        return bool(str(left).rstrip(".").lower() == str(right).rstrip(".").lower())


class PublishEntry(t.NamedTuple):
    domain: str
    priority: int | str  # str only for an entry read from the registry that does not parse
    weight: int | str


class PublishListCodec(Codec):
    """DnsDomainPublishList: REG_MULTI_SZ entries ``domain, priority, weight``; [] removes it.

    Format from "Common troubleshooting procedures for KMS and DNS issues".
    """

    def normalise(self, option: str, value: t.Any) -> tuple[PublishEntry, ...]:
        if not isinstance(value, (list, tuple)):
            raise v.ValidationError(option, "expected a list of {domain, priority, weight} entries")
        entries: list[PublishEntry] = []
        seen: set[str] = set()
        for index, item in enumerate(value):
            where = f"{option}[{index}]"
            if not isinstance(item, t.Mapping):
                raise v.ValidationError(where, f"{item!r} is not a mapping; expected {{domain, priority, weight}}")
            domain = v.dns_domain(f"{where}.domain", item.get("domain"))
            priority = v.srv_field(f"{where}.priority", item.get("priority") or 0)
            weight = v.srv_field(f"{where}.weight", item.get("weight") or 0)
            key = domain.rstrip(".").lower()
            if key in seen:
                raise v.ValidationError(f"{where}.domain", f"{domain!r} is listed twice; give each domain once")
            seen.add(key)
            entries.append(PublishEntry(domain, priority, weight))
        return tuple(entries)

    @staticmethod
    def _number(text: str) -> int | str:
        return int(text) if text.isdigit() else text

    def from_registry(self, raw: t.Any) -> tuple[PublishEntry, ...]:
        entries = []
        for line in raw or []:
            fields = [field.strip() for field in str(line).split(",")]
            if not fields[0]:
                continue
            priority = self._number(fields[1]) if len(fields) > 1 and fields[1] else 0
            weight = self._number(fields[2]) if len(fields) > 2 and fields[2] else 0
            entries.append(PublishEntry(fields[0], priority, weight))
        return tuple(entries)

    def to_registry(self, value: t.Any) -> list[str] | None:
        if not value:
            return None
        return [f"{entry.domain}, {entry.priority}, {entry.weight}" for entry in value]

    def same(self, left: t.Any, right: t.Any) -> bool:
        def key(entries: t.Any) -> list[tuple[str, t.Any, t.Any]]:
            return [(e.domain.rstrip(".").lower(), e.priority, e.weight) for e in entries or ()]

        return key(left) == key(right)

    def show(self, value: t.Any) -> list[dict[str, t.Any]]:
        return [entry._asdict() for entry in value or ()]


class UrlCodec(Codec):
    """An http(s) URL; an empty value removes it."""

    def normalise(self, option: str, value: t.Any) -> str | None:
        if value == "":
            return None
        return v.http_url(option, value)

    def from_registry(self, raw: t.Any) -> str | None:
        return str(raw) if raw else None


class ActivationTypeCodec(Codec):
    """The volume activation types allowed (slmgr /act-type): all, ad, kms or token.

    VLActivationType (REG_DWORD) 1 = AD only, 2 = KMS only, 3 = Token only; "0, blank, or values other than
    1-3 = all activation types allowed" (Registry Settings for Volume Activation). 0 is set by the Clear method.
    """

    NAMES = ("all", "ad", "kms", "token")

    def normalise(self, option: str, value: t.Any) -> int:
        if value not in self.NAMES:
            raise v.ValidationError(option, f"{value!r} is not one of {', '.join(self.NAMES)}")
        return self.NAMES.index(value)

    def from_registry(self, raw: t.Any) -> int:
        return raw if raw in (1, 2, 3) else 0

    def to_wmi(self, value: t.Any) -> t.Any:
        return CLEAR if value == 0 else value

    def show(self, value: t.Any) -> str:
        return self.NAMES[value] if value in (0, 1, 2, 3) else "all"


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RegistryValue:
    """Where Windows keeps a setting under HKLM\\...\\SoftwareProtectionPlatform."""

    name: str
    reg_type: RegType
    subkey: str = ""  # below the SPP key, e.g. "Activation"
    # Per-product scope keeps the value under <AppID>\<SKU-ID> ("Registry Settings for Volume Activation" for
    # the name; the port and lookup domain by analogy, an assumption). Read there, written through
    # SoftwareLicensingProduct.
    per_product: bool = False

    @property
    def key(self) -> str:
        return f"{SPP_KEY}\\{self.subkey}" if self.subkey else SPP_KEY

    @property
    def path(self) -> str:
        return f"HKLM\\{self.key}\\{self.name}"


@dataclasses.dataclass(frozen=True)
class WmiBinding:
    """The property that reports a setting and the methods that set / clear it."""

    property: str | None  # None: SoftwareLicensingService has no property for it; the registry value is read
    set_method: str
    set_param: str
    clear_method: str | None = None
    per_product: bool = False  # SoftwareLicensingProduct has the same property and methods (per-SKU)
    kms_host_only: bool = False  # the method is refused unless the machine is a KMS host


@dataclasses.dataclass(frozen=True)
class Setting:
    option: str
    summary: str
    codec: Codec
    paths: t.Mapping[Scope, Via]  # which interface each scope uses; absent scope = not managed there
    registry: RegistryValue | None
    wmi: WmiBinding | None
    restart: bool  # sppsvc must restart before a change takes effect
    restart_source: str
    slmgr: str = ""
    # The value Windows uses while the registry value is absent, where it matters for comparing the
    # configured value with the one sppsvc reports running with.
    windows_default: t.Any = None

    def via(self, scope: Scope) -> Via:
        return self.paths[scope]

    @property
    def wmi_binding(self) -> WmiBinding:
        if self.wmi is None:  # a table error; the unit tests check every path has its binding
            raise TypeError(f"setting {self.option} has no WMI binding")
        return self.wmi

    @property
    def registry_value(self) -> RegistryValue:
        if self.registry is None:
            raise TypeError(f"setting {self.option} has no registry value")
        return self.registry

    def needs_kms_host(self, scope: Scope) -> bool:
        return self.paths.get(scope) is Via.WMI and self.wmi is not None and self.wmi.kms_host_only


_CLIENT = {Scope.CLIENT: Via.WMI}
_HOST = {Scope.HOST: Via.WMI}
_POLICY = {Scope.POLICY: Via.REGISTRY}

TABLE: tuple[Setting, ...] = (
    # ---- KMS client (apply order: name before port, as slmgr /skms does) ----
    Setting(
        option="server",
        summary="KMS host the client activates against; unset means DNS auto-discovery",
        codec=ServerCodec(),
        paths=_CLIENT,
        registry=RegistryValue("KeyManagementServiceName", RegType.SZ, per_product=True),
        wmi=WmiBinding(
            "KeyManagementServiceMachine",
            "SetKeyManagementServiceMachine",
            "MachineName",
            "ClearKeyManagementServiceMachine",
            per_product=True,
        ),
        restart=False,
        restart_source="slmgr gives no restart warning after /skms or /ckms",
        slmgr="/skms <name>, /ckms",
    ),
    Setting(
        option="port",
        summary="TCP port of the KMS host; 1688 when not set",
        codec=PortCodec(),
        paths=_CLIENT,
        registry=RegistryValue("KeyManagementServicePort", RegType.SZ, per_product=True),
        wmi=WmiBinding(
            "KeyManagementServicePort",
            "SetKeyManagementServicePort",
            "PortNumber",
            "ClearKeyManagementServicePort",
            per_product=True,
        ),
        restart=False,
        restart_source="slmgr gives no restart warning after /skms",
        slmgr="/skms <name>:<port>",
    ),
    Setting(
        option="lookup_domain",
        summary="DNS domain searched for _vlmcs._tcp SRV records instead of the primary DNS suffix",
        codec=DomainCodec(),
        paths=_CLIENT,
        # Assumption: value name not documented by Microsoft ; only WMI is used.
        registry=RegistryValue("KeyManagementServiceLookupDomain", RegType.SZ, per_product=True),
        wmi=WmiBinding(
            "KeyManagementServiceLookupDomain",
            "SetKeyManagementServiceLookupDomain",
            "LookupDomain",
            "ClearKeyManagementServiceLookupDomain",
            per_product=True,
        ),
        restart=False,
        # Assumption: like /skms, which it complements; slmgr prints no restart warning for it.
        restart_source="no restart warning from slmgr /skms-domain (assumed like /skms)",
        slmgr="/skms-domain, /ckms-domain",
    ),
    Setting(
        option="host_caching",
        summary="Keep using the KMS host last activated against instead of querying DNS each time",
        codec=BoolCodec(method_inverted=True),
        paths=_CLIENT,
        registry=None,  # not documented by Microsoft: WMI only
        wmi=WmiBinding("KeyManagementServiceHostCaching", "DisableKeyManagementServiceHostCaching", "DisableCaching"),
        restart=False,
        restart_source="slmgr gives no restart warning after /skhc or /ckhc",
        slmgr="/skhc, /ckhc",
    ),
    Setting(
        option="activation_type",
        summary="Which volume activation types the client may use: all, AD only, KMS only or token only",
        codec=ActivationTypeCodec(),
        paths=_CLIENT,
        # Per SKU: VLActivationType under <AppID>\<SKU-ID> (Registry Settings for Volume Activation).
        # Assumption: the service-wide value (slmgr /act-type without an Activation ID) has the same name directly
        # under the SPP key; Microsoft does not document where it lives, and SoftwareLicensingService has no
        # property that reports it.
        registry=RegistryValue("VLActivationType", RegType.DWORD, per_product=True),
        wmi=WmiBinding(
            None,
            "SetVLActivationTypeEnabled",
            "ActivationType",
            "ClearVLActivationTypeEnabled",
            per_product=True,
        ),
        restart=False,
        restart_source="slmgr gives no restart warning after /act-type",
        slmgr="/act-type [0-3] [ActID]",
    ),
    # ---- KMS host (publishing list before publishing itself, so enabling publishes the right list) ----
    Setting(
        option="listening_port",
        summary="TCP port the KMS host listens on; 1688 when not set",
        codec=PortCodec(),
        paths=_HOST,
        registry=RegistryValue("KeyManagementServiceListeningPort", RegType.SZ),
        wmi=WmiBinding(
            "KeyManagementServiceListeningPort",
            "SetKeyManagementServiceListeningPort",
            "PortNumber",
            "ClearKeyManagementServiceListeningPort",
            kms_host_only=True,
        ),
        restart=True,
        restart_source="slmgr warns 'a KMS reboot is needed' after /sprt",
        slmgr="/sprt",
    ),
    Setting(
        option="dns_publish_domains",
        summary="Extra DNS domains the KMS host publishes its _vlmcs._tcp SRV record in, with priority and weight",
        codec=PublishListCodec(),
        paths={Scope.HOST: Via.REGISTRY},
        registry=RegistryValue("DnsDomainPublishList", RegType.MULTI_SZ),
        wmi=None,
        restart=True,
        restart_source=(
            "restart the Software Licensing service after editing DnsDomainPublishList "
            "(Common troubleshooting procedures for KMS and DNS issues)"
        ),
    ),
    Setting(
        option="dns_publishing",
        summary="The KMS host publishes its SRV record in DNS",
        codec=BoolCodec(method_inverted=True, registry_inverted=True),
        paths=_HOST,
        registry=RegistryValue("DisableDnsPublishing", RegType.DWORD),
        wmi=WmiBinding(
            "KeyManagementServiceDnsPublishing",
            "DisableKeyManagementServiceDnsPublishing",
            "DisablePublishing",
            kms_host_only=True,
        ),
        restart=True,
        restart_source="slmgr warns 'a KMS reboot is needed' after /sdns and /cdns",
        slmgr="/sdns, /cdns",
    ),
    Setting(
        option="low_priority",
        summary="The KMS host runs at low priority to limit contention on a shared server",
        codec=BoolCodec(),
        paths=_HOST,
        registry=RegistryValue("EnableKmsLowPriority", RegType.DWORD),
        wmi=WmiBinding(
            "KeyManagementServiceLowPriority",
            "EnableKeyManagementServiceLowPriority",
            "EnableLowPriority",
            kms_host_only=True,
        ),
        restart=True,
        restart_source="slmgr warns 'a KMS reboot is needed' after /spri and /cpri",
        slmgr="/spri, /cpri",
    ),
    # ---- both: a KMS host sets them through WMI (and sends them to its clients); on a client
    # SetVL*Interval is refused and the registry values are the interface (slmgr /sai and /sri write them) ----
    Setting(
        option="activation_interval",
        summary="Minutes between activation attempts of an unactivated client",
        codec=IntervalCodec(),
        paths={Scope.CLIENT: Via.REGISTRY, Scope.HOST: Via.WMI},
        registry=RegistryValue("VLActivationInterval", RegType.DWORD),
        wmi=WmiBinding("VLActivationInterval", "SetVLActivationInterval", "ActivationInterval", kms_host_only=True),
        restart=True,
        # Assumption for the client registry path: sppsvc reads the value when it starts, as for /sai.
        restart_source="slmgr warns 'a KMS reboot is needed' after /sai",
        slmgr="/sai",
        windows_default=120,  # "Volume Activation 2.0 Operations Guide": VLActivationInterval defaults to 120
    ),
    Setting(
        option="renewal_interval",
        summary="Minutes between renewal attempts of an activated client",
        codec=IntervalCodec(),
        paths={Scope.CLIENT: Via.REGISTRY, Scope.HOST: Via.WMI},
        registry=RegistryValue("VLRenewalInterval", RegType.DWORD),
        wmi=WmiBinding("VLRenewalInterval", "SetVLRenewalInterval", "RenewalInterval", kms_host_only=True),
        restart=True,
        restart_source="slmgr warns 'a KMS reboot is needed' after /sri",
        slmgr="/sri",
        windows_default=10080,  # slmgr.vbs usage: renewal interval default 7 days
    ),
    # ---- activation policy: registry only ----
    Setting(
        option="alternate_url",
        summary="Link shown in activation dialogs to the organisation's own help page",
        codec=UrlCodec(),
        paths=_POLICY,
        registry=RegistryValue("AlternateURL", RegType.SZ, subkey="Activation"),
        wmi=None,
        restart=False,
        # Assumption: read by the activation UI when it shows a dialog, not by sppsvc at start.
        restart_source="read by the activation dialogs when they open (assumed)",
    ),
    Setting(
        option="notifications_disabled",
        summary="Hide activation notifications and balloons",
        codec=BoolCodec(),
        paths=_POLICY,
        registry=RegistryValue("NotificationDisabled", RegType.DWORD, subkey="Activation"),
        wmi=None,
        restart=True,
        restart_source=(
            "Appendix A registry options need a Software Protection Service restart (Appendix A: Optional "
            "Configurations, Windows 7 Volume Activation Technical Reference)"
        ),
    ),
    Setting(
        option="manual_activation",
        summary="Turn off automatic online activation (MAK and KMS hosts)",
        codec=BoolCodec(),
        paths=_POLICY,
        registry=RegistryValue("Manual", RegType.DWORD, subkey="Activation"),
        wmi=None,
        restart=True,
        # Assumption: sppsvc schedules automatic activation, so it reads this when it starts.
        restart_source="read by sppsvc when it schedules automatic activation (assumed, like the Appendix A options)",
    ),
    Setting(
        option="user_operations",
        summary="Let standard users install keys, activate and rearm without elevation",
        codec=BoolCodec(),
        paths=_POLICY,
        registry=RegistryValue("UserOperations", RegType.DWORD),
        wmi=None,
        restart=True,
        restart_source=(
            "UserOperations needs an SPP service restart (Appendix A: Optional Configurations, Windows 7 Volume "
            "Activation Technical Reference)"
        ),
    ),
    Setting(
        option="skip_rearm",
        summary="Make a rearm (sysprep /generalize, slmgr /rearm) leave the licensing state alone",
        codec=BoolCodec(),
        paths=_POLICY,
        registry=RegistryValue("SkipRearm", RegType.DWORD),
        wmi=None,
        restart=False,
        # Assumption: consulted when a rearm runs (Slmgr.vbs options for obtaining volume activation
        # information), not when sppsvc starts.
        restart_source="read when a rearm runs (assumed from the slmgr.vbs options reference)",
    ),
)

SETTINGS: dict[str, Setting] = {setting.option: setting for setting in TABLE}


def view(scope: Scope) -> tuple[Setting, ...]:
    """The settings one scope manages, in apply order."""
    return tuple(setting for setting in TABLE if scope in setting.paths)


# --------------------------------------------------------------------------------------------
# Requests: module parameters -> desired values (validation, before any I/O)
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Request:
    scope: Scope
    desired: dict[str, t.Any]  # option -> normalised value, only for options given
    activation_id: str | None = None  # per-product scope for the settings whose WMI binding allows it
    restart: str = "auto"
    office: bool = False  # per-product scope on the installed Office volume SKU (ospp.vbs /sethst, /setprt)

    @property
    def per_product(self) -> bool:
        return self.activation_id is not None or self.office


def _given(params: t.Mapping[str, t.Any], option: str) -> bool:
    return params.get(option) is not None


def _restart_choice(params: t.Mapping[str, t.Any]) -> str:
    choice = params.get("restart_service") or "auto"
    if choice not in RESTART_CHOICES:
        raise v.ValidationError("restart_service", f"{choice!r} is not one of {', '.join(RESTART_CHOICES)}")
    return str(choice)


def build_request(scope: Scope, params: t.Mapping[str, t.Any]) -> Request:
    """Validate and normalise the options a task gives; options left out are not in ``desired``."""
    if scope is Scope.CLIENT:
        return _client_request(params)
    desired = {s.option: s.codec.normalise(s.option, params[s.option]) for s in view(scope) if _given(params, s.option)}
    return Request(scope, desired, restart=_restart_choice(params))


def _client_request(params: t.Mapping[str, t.Any]) -> Request:
    state = params.get("state") or "present"
    if state not in ("present", "absent"):
        raise v.ValidationError("state", f"{state!r} is not one of present, absent")
    activation_id = (
        v.activation_id("activation_id", params["activation_id"]) if _given(params, "activation_id") else None
    )
    desired: dict[str, t.Any] = {}
    if state == "absent":
        conflicting = [o for o in ("server", "port") if _given(params, o)]
        if conflicting:
            raise v.ValidationError(
                conflicting[0],
                "cannot be used with state=absent, which clears the KMS host name and port "
                "so the client goes back to DNS auto-discovery",
            )
        # DNS auto-discovery searches the lookup domain when one is given, the client's own domain otherwise.
        lookup = params.get("lookup_domain")
        desired.update(
            server=None,
            port=DEFAULT_KMS_PORT,
            lookup_domain=SETTINGS["lookup_domain"].codec.normalise("lookup_domain", lookup) if lookup else None,
        )
    else:
        if _given(params, "server"):
            desired["server"] = SETTINGS["server"].codec.normalise("server", params["server"])
            # Like `slmgr /skms host`: a port not given is cleared back to the default, as slmgr.vbs does.
            desired["port"] = DEFAULT_KMS_PORT
        if _given(params, "port"):
            desired["port"] = SETTINGS["port"].codec.normalise("port", params["port"])
        if _given(params, "lookup_domain"):
            desired["lookup_domain"] = SETTINGS["lookup_domain"].codec.normalise(
                "lookup_domain", params["lookup_domain"]
            )
    for option in ("host_caching", "activation_interval", "renewal_interval", "activation_type"):
        if _given(params, option):
            desired[option] = SETTINGS[option].codec.normalise(option, params[option])
    application = params.get("application") or "windows"
    if application not in office.APPLICATIONS:
        raise v.ValidationError("application", f"{application!r} is not one of {', '.join(office.APPLICATIONS)}")
    return Request(
        Scope.CLIENT,
        desired,
        activation_id=activation_id,
        restart=_restart_choice(params),
        office=application == "office",
    )


# --------------------------------------------------------------------------------------------
# Read
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Snapshot:
    """Current values of a view, plus what applying needs (service key, product, KMS host role)."""

    values: dict[str, t.Any]  # configured: what the registry holds (where Windows keeps it)
    # What sppsvc reports running with, for the settings that need a restart and that
    # SoftwareLicensingService reports (only those whose configured value is read from the registry).
    effective: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    # Settings written earlier whose restart never happened (see PENDING_KEY); None when not read.
    pending: list[str] | None = None
    service_version: str | None = None
    is_kms_host: bool | None = None
    product_id: str | None = None
    product_key: str | None = None  # the product's per-SKU registry key
    # Windows 7 / 2008 R2: activation_type is the token-only flag (slmgr /stao, /ctao), not VLActivationType.
    windows7: bool = False
    warnings: list[str] = dataclasses.field(default_factory=list)


def _on_product(setting: Setting, request: Request) -> bool:
    return request.per_product and setting.wmi is not None and setting.wmi.per_product


def _remembered(setting: Setting, request: Request) -> bool:
    """A setting that needs a restart but whose running value sppsvc does not report."""
    return setting.restart and not _observed(setting, request)


def _observed(setting: Setting, request: Request) -> bool:
    """sppsvc reads this setting when it starts and reports the value it runs with; the registry holds the
    configured one. Both are read, and a difference means a restart is still owed.

    Assumption: the SoftwareLicensingService KMS properties report what the running sppsvc uses, as slmgr
    /dlv prints them, while the registry values (Registry Settings for Volume Activation) change at once;
    a change needs the restart slmgr.vbs warns about ("a KMS reboot is needed") to show there.
    """
    # Only where the scope manages the setting through WMI (a KMS host's own settings): a client's intervals
    # are registry values, and what SoftwareLicensingService reports there need not be the client's own.
    return (
        setting.restart
        and setting.via(request.scope) is Via.WMI
        and setting.wmi is not None
        and setting.registry is not None
        and not setting.registry.per_product
        and not _on_product(setting, request)
    )


def _read_from_registry(setting: Setting, request: Request) -> bool:
    """A registry value costs a request each: read those the task manages, and those a restart owed is judged
    by; a task that gives no option reads them all (that is how the current values are read)."""
    return not request.desired or setting.option in request.desired or _observed(setting, request)


def read(wmi: WmiClient, request: Request) -> Snapshot:
    """Read every setting of the request's view in as few round trips as the interfaces allow."""
    settings = view(request.scope)
    by_wmi = [s for s in settings if s.via(request.scope) is Via.WMI]
    observed = [s for s in settings if _observed(s, request)]
    service_props = [
        s.wmi_binding.property for s in (*by_wmi, *observed) if s.wmi_binding.property and not _on_product(s, request)
    ]
    product_settings = [s for s in by_wmi if _on_product(s, request)]
    snapshot = Snapshot(values={})

    service_row: dict[str, t.Any] = {}
    if by_wmi or observed:
        select = dict.fromkeys([*SERVICE_BASE_PROPERTIES, *service_props])
        rows = wmi.query(wql_select(select, SERVICE_CLASS))
        if not rows:
            raise ModuleFailure(
                f"WMI returned no {SERVICE_CLASS} instance; is the Software Protection service (sppsvc) installed?"
            )
        service_row = rows[0]
        snapshot.service_version = service_row.get("Version")
        snapshot.is_kms_host = bool(service_row.get("IsKeyManagementServiceMachine"))

    if product_settings and request.office:
        # ospp.vbs sets an Office KMS host per SKU (SetKeyManagementServiceMachine on the Office product).
        product = office.select_product(wmi, request.activation_id)
        snapshot.product_id = str(product.get("ID"))
        snapshot.product_key = f"{SPP_KEY}\\{OFFICE_APP_ID}\\{snapshot.product_id}"
    elif product_settings and request.activation_id:
        # The product's own KeyManagementService* properties report the effective registration (per-SKU,
        # else the global one), so they cannot tell "not set for this product"; the per-SKU registry
        # values that SoftwareLicensingProduct.Set*/Clear* write can (Registry Settings for Volume Activation).
        rows = wmi.query(wql_select(PRODUCT_KEY_PROPERTIES, PRODUCT_CLASS, f"ID = {wql_string(request.activation_id)}"))
        if not rows:
            raise ModuleFailure(
                f"activation_id: no product with Activation ID {request.activation_id} on this machine",
                activation_id=request.activation_id,
            )
        snapshot.product_id = str(rows[0].get("ID") or request.activation_id)
        snapshot.product_key = f"{SPP_KEY}\\{rows[0].get('ApplicationID')}\\{snapshot.product_id}"

    registry = Registry(wmi)
    if any(_remembered(s, request) for s in settings):
        try:
            pending = registry.get(PENDING_KEY, PENDING_VALUE, RegType.MULTI_SZ) or []
        except RegistryTypeMismatch:
            pending = []
        snapshot.pending = [str(name) for name in pending if str(name) in SETTINGS]
    for setting in settings:
        # None where SoftwareLicensingService has no property for the setting: its registry value is read.
        wmi_property = setting.wmi.property if setting.wmi else None
        if wmi_property and _observed(setting, request):
            snapshot.effective[setting.option] = setting.codec.from_wmi(service_row.get(wmi_property))
        elif (
            wmi_property
            and setting.via(request.scope) is Via.WMI
            and not _on_product(setting, request)
            # Windows 7's service lacks some (KeyManagementServicePort): their registry value is read instead.
            and has_property(SERVICE_CLASS, wmi_property, token_only.is_windows7(snapshot.service_version))
        ):
            raw = service_row.get(wmi_property)
            snapshot.values[setting.option] = setting.codec.from_wmi(raw)
            continue
        if not _read_from_registry(setting, request):
            continue
        location = setting.registry_value
        key = (snapshot.product_key or "") if _on_product(setting, request) else location.key
        try:
            raw = registry.get(key, location.name, location.reg_type)
        except RegistryTypeMismatch as exc:
            # Reported as not set; a task that manages it rewrites it with the right type.
            snapshot.warnings.append(f"{setting.option}: {exc.msg}")
            raw = None
        value = setting.codec.from_registry(raw)
        if value is None and setting.via(request.scope) is Via.WMI:
            value = setting.windows_default  # as SoftwareLicensingService reports an absent value
        snapshot.values[setting.option] = value
    if "activation_type" in snapshot.values and token_only.is_windows7(snapshot.service_version):
        snapshot.windows7 = True
        snapshot.values["activation_type"] = token_only.read(wmi)
    return snapshot


# --------------------------------------------------------------------------------------------
# Plan and diff
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Change:
    setting: Setting
    before: t.Any
    after: t.Any

    @property
    def option(self) -> str:
        return self.setting.option


def plan(scope: Scope, current: t.Mapping[str, t.Any], desired: t.Mapping[str, t.Any]) -> list[Change]:
    """Changes for the options given whose value differs, in the table's (apply) order."""
    changes = []
    for setting in view(scope):
        if setting.option not in desired:
            continue
        before, after = current.get(setting.option), desired[setting.option]
        if not setting.codec.same(before, after):
            changes.append(Change(setting, before, after))
    return changes


def restart_owed(snapshot: Snapshot) -> list[str]:
    """Settings whose configured value sppsvc does not run with yet: a restart is owed, whatever this run does.

    This is what makes a change cut short before its restart converge: the rerun finds nothing to write,
    sees the difference, and restarts.
    """
    owed = list(snapshot.pending or ())
    for option, running in snapshot.effective.items():
        setting = SETTINGS[option]
        configured = snapshot.values.get(option)
        if configured is None:
            configured = setting.windows_default
        if configured is not None and not setting.codec.same(configured, running):
            owed.append(option)
    return owed


def diff(changes: t.Sequence[Change]) -> dict[str, dict[str, t.Any]]:
    return {
        "before": {c.option: c.setting.codec.show(c.before) for c in changes},
        "after": {c.option: c.setting.codec.show(c.after) for c in changes},
    }


def shown(scope: Scope, values: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The values read: every one of the scope for a task without options, else those the task manages (and
    those SoftwareLicensingService reports in the same query)."""
    return {s.option: s.codec.show(values.get(s.option)) for s in view(scope) if s.option in values}


def check_windows7(request: Request, snapshot: Snapshot) -> None:
    """Fail before any write when Windows 7 / 2008 R2 cannot take the activation type asked for."""
    wanted = request.desired.get("activation_type")
    if not snapshot.windows7 or wanted is None:
        return
    problem = token_only.refusal(wanted, request.activation_id is not None)
    if problem:
        raise ModuleFailure(f"activation_type: {problem}", service_version=snapshot.service_version)


def check_role(request: Request, snapshot: Snapshot) -> None:
    """Fail before any write when settings only a KMS host accepts are given on another machine."""
    if snapshot.is_kms_host is not False:
        return
    refused = [s.option for s in view(request.scope) if s.option in request.desired and s.needs_kms_host(request.scope)]
    if refused:
        raise ModuleFailure(
            f"This machine is not a KMS host (SoftwareLicensingService.IsKeyManagementServiceMachine is 0); "
            f"only a KMS host accepts {', '.join(refused)}. Install and activate a KMS host key (CSVLK) first, "
            f"or remove these options.",
            not_kms_host=refused,
        )


# --------------------------------------------------------------------------------------------
# Apply
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Call:
    cls: str
    method: str
    params: dict[str, t.Any]
    selectors: dict[str, str]

    @property
    def name(self) -> str:
        return f"{self.cls}.{self.method}"


def _wmi_call(change: Change, request: Request, snapshot: Snapshot) -> _Call:
    """The SoftwareLicensingService/Product method that applies a change (set, or clear back to the default)."""
    binding = change.setting.wmi_binding
    if snapshot.windows7 and change.option == "activation_type":
        params = token_only.call_params(change.after)
        return _Call(SERVICE_CLASS, token_only.METHOD, params, {"Version": snapshot.service_version or ""})
    if _on_product(change.setting, request):
        cls, selectors = PRODUCT_CLASS, {"ID": snapshot.product_id or t.cast(str, request.activation_id)}
    else:
        if snapshot.service_version is None:
            raise ModuleFailure(f"{SERVICE_CLASS} has no Version, so its methods cannot be called")
        cls, selectors = SERVICE_CLASS, {"Version": snapshot.service_version}
    argument = change.setting.codec.to_wmi(change.after)
    if argument is CLEAR:
        if binding.clear_method is None:
            raise TypeError(f"setting {change.option} has no clear method")
        method, params = binding.clear_method, {}
    else:
        method, params = binding.set_method, {binding.set_param: argument}
    return _Call(cls, method, params, selectors)


def _method_of(change: Change, request: Request, snapshot: Snapshot) -> str:
    """The method a change calls, for the failure report."""
    if change.setting.via(request.scope) is Via.WMI:
        return _wmi_call(change, request, snapshot).name
    data = change.setting.codec.to_registry(change.after)
    return "StdRegProv." + ("DeleteValue" if data is None else change.setting.registry_value.reg_type.set_method)


def _apply_wmi(wmi: WmiClient, change: Change, request: Request, snapshot: Snapshot) -> None:
    call = _wmi_call(change, request, snapshot)
    out = wmi.invoke(call.cls, call.method, call.params, selectors=call.selectors)
    code = int(out.get("ReturnValue") or 0)
    if code:
        raise code_failure(code, call.name, error={"method": call.name, "return_value": code})


def _apply_registry(wmi: WmiClient, change: Change) -> None:
    value = change.setting.registry_value
    data = change.setting.codec.to_registry(change.after)
    if data is None:
        Registry(wmi).delete(value.key, value.name)
    else:
        Registry(wmi).set(value.key, value.name, value.reg_type, data)


def _uncertain(exc: WSManError) -> bool:
    """The request reached the host but no usable answer came back: it may have been carried out."""
    if isinstance(exc, WSManUnreachable):
        return exc.sent
    return isinstance(exc, (WSManTimeout, WSManProtocolError))


def apply(wmi: WmiClient, request: Request, snapshot: Snapshot, changes: t.Sequence[Change], ctx: TaskContext) -> None:
    """Write the changes in order, recording each in ``ctx.applied`` as soon as it is done.

    A write whose answer was lost is recorded in ``ctx.may_have_applied``; the host is then re-read and the
    failure reports what it holds.
    """
    _remember_restart(wmi, request, snapshot, changes)
    for change in changes:
        how = change.setting.via(request.scope)
        try:
            if how is Via.WMI:
                _apply_wmi(wmi, change, request, snapshot)
            else:
                _apply_registry(wmi, change)
        except ModuleFailure as exc:
            # The host answered that the call failed (a non-zero return value): definitely not applied.
            restored = _restore_server(wmi, request, snapshot, change, ctx)
            exc.detail.setdefault("setting", change.option)
            exc.msg = f"Setting {change.option} failed: {exc.msg}{restored}"
            raise
        except WSManError as exc:
            if not _uncertain(exc):
                if isinstance(exc, WSManUnreachable) and not ctx.applied:
                    raise  # nothing was sent and nothing changed: the host is unreachable
                restored = _restore_server(wmi, request, snapshot, change, ctx)
                raise _failure(exc, change, request, snapshot, restored) from exc
            ctx.may_have_applied.append(change.option)
            note = _what_host_holds(wmi, request, change, ctx, finished=isinstance(exc, WSManProtocolError))
            raise _failure(exc, change, request, snapshot, note) from exc
        ctx.applied.append(change.option)


def _remember_restart(wmi: WmiClient, request: Request, snapshot: Snapshot, changes: t.Sequence[Change]) -> None:
    """Before writing settings whose running value sppsvc does not report, note on the host that they need a
    restart, so a rerun after a failure part-way (even before this run's restart) still restarts sppsvc."""
    names = [c.option for c in changes if _remembered(c.setting, request)]
    known = snapshot.pending or []
    if not names or set(names) <= set(known):
        return
    pending = [*known, *(name for name in names if name not in known)]
    try:
        Registry(wmi).set(PENDING_KEY, PENDING_VALUE, RegType.MULTI_SZ, pending)
    except (WSManError, ModuleFailure) as exc:
        message = exc.message if isinstance(exc, WSManError) else exc.msg
        raise ModuleFailure(
            f"Recording the pending sppsvc restart (HKLM\\{PENDING_KEY}\\{PENDING_VALUE}) failed before any "
            f"setting was written: {message}",
            error=error_for_wsman(exc) if isinstance(exc, WSManError) else exc.detail.get("error"),
        ) from exc
    snapshot.pending = pending


def _forget_restart(wmi: WmiClient, snapshot: Snapshot, ctx: TaskContext) -> None:
    """sppsvc restarted: nothing remembered is owed any more (a failure here only costs a restart next run)."""
    if not snapshot.pending:
        return
    try:
        Registry(wmi).delete(PENDING_KEY, PENDING_VALUE)
    except (WSManError, ModuleFailure):
        ctx.warnings.append(
            f"sppsvc restarted, but HKLM\\{PENDING_KEY}\\{PENDING_VALUE} could not be removed; "
            "the next run restarts sppsvc once more"
        )


def _failure(exc: WSManError, change: Change, request: Request, snapshot: Snapshot, note: str) -> ModuleFailure:
    how = change.setting.via(request.scope)
    explained = f" {explain_text(exc.hresult)}" if exc.hresult else ""
    return ModuleFailure(
        f"Setting {change.option} failed ({how.value}): {exc.message}.{explained}{note}",
        error=error_for_wsman(exc, method=_method_of(change, request, snapshot)),
        setting=change.option,
    )


def _what_host_holds(wmi: WmiClient, request: Request, change: Change, ctx: TaskContext, *, finished: bool) -> str:
    """After a write whose answer was lost: re-read, and settle whether it was applied (best effort).

    The new value settles it. The old value settles it only when the host ``finished`` the call (it answered,
    if unreadably); after a timeout or a lost connection the call may still be running on the host.
    """
    try:
        now = read(wmi, request)
    except (WSManError, ModuleFailure):
        return "; the host could not be re-read, so the setting may or may not have been applied"
    held = now.values.get(change.option)
    if change.setting.codec.same(held, change.after):
        ctx.may_have_applied.remove(change.option)
        ctx.applied.append(change.option)
        return "; re-read: the host holds the new value, so it was applied"
    shown_value = change.setting.codec.show(held)
    if not finished:
        return f"; re-read: the host still holds {shown_value!r}, but the call may still complete there"
    ctx.may_have_applied.remove(change.option)
    return f"; re-read: the host still holds {shown_value!r}, so it was not applied"


def _restore_server(wmi: WmiClient, request: Request, snapshot: Snapshot, failed: Change, ctx: TaskContext) -> str:
    """Like slmgr /skms: when the port call definitely failed right after the name was set, put the previous
    name back. Only for a definite failure: a port call that may have run is re-read instead.

    Returns a sentence for the failure message ('' when there was nothing to restore or it failed too).
    """
    if failed.option != "port" or not ctx.applied or ctx.applied[-1] != "server":
        return ""
    previous = snapshot.values.get("server")
    undo = Change(SETTINGS["server"], before=None, after=previous)
    try:
        _apply_wmi(wmi, undo, request, snapshot)
    except (WSManError, ModuleFailure):
        return ""
    ctx.applied.pop()
    return f"; the KMS host name was restored to {previous or 'none (DNS auto-discovery)'}, as slmgr does"


def _restart_due(choice: str, changes: t.Sequence[Change], owed: t.Sequence[str]) -> bool:
    if choice == "never":
        return False
    if choice == "always":
        return bool(changes or owed)
    return bool(owed) or any(c.setting.restart for c in changes)


def _pending_restart(owed: t.Sequence[str], ctx: TaskContext) -> bool:
    """Whether sppsvc still has to restart after a failure: owed before, or a restart setting (maybe) written."""
    touched = [*ctx.applied, *ctx.may_have_applied]
    return bool(owed) or any(SETTINGS[o].restart for o in touched if o in SETTINGS)


def execute(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    """Read -> plan -> (unless check mode) apply, restart, re-read -> module result.

    Whether sppsvc must restart comes from the host: settings this run changes that need one, and
    settings sppsvc still runs with a value other than the configured one (an earlier restart that never
    happened).
    """
    snapshot = read(wmi, request)
    ctx.warnings.extend(snapshot.warnings)
    check_role(request, snapshot)
    check_windows7(request, snapshot)
    changes = plan(request.scope, snapshot.values, request.desired)
    owed = restart_owed(snapshot)
    restart_required = bool(owed) or any(c.setting.restart for c in changes)
    will_restart = _restart_due(request.restart, changes, owed)
    ctx.warnings.extend(_advice(request, snapshot))
    if owed and request.restart == "never":
        ctx.warnings.append(
            f"sppsvc runs with other values than the configured {', '.join(owed)}; "
            "it must restart for them to take effect (restart_service: never)"
        )
    restarted = False
    values = snapshot.values
    if (changes or will_restart) and not ctx.check_mode:
        try:
            apply(wmi, request, snapshot, changes, ctx)
        except ModuleFailure as exc:
            # A rerun only sees what is still missing: say now whether a restart is owed.
            exc.detail["restart_required"] = _pending_restart(owed, ctx)
            exc.detail["restarted"] = False
            raise
        if will_restart:
            try:
                restart_explained(wmi, SPP_SERVICE, ctx)
            except ModuleFailure as exc:
                exc.detail.update(restart_required=True, restarted=False)
                raise
            except WSManError as exc:
                if _uncertain(exc):
                    ctx.may_have_applied.append(f"restart {SPP_SERVICE}")
                elif isinstance(exc, WSManUnreachable) and not ctx.applied:
                    raise  # nothing was sent and nothing changed: the host is unreachable
                raise ModuleFailure(
                    f"Restarting {SPP_SERVICE} failed: {exc.message}",
                    error=error_for_wsman(exc),
                    restart_required=True,
                    restarted=False,
                ) from exc
            restarted = True
            _forget_restart(wmi, snapshot, ctx)
        after = read(wmi, request)
        values = after.values
    result: dict[str, t.Any] = {
        "changed": bool(changes) or will_restart,
        "changes": [c.option for c in changes],
        "settings": shown(request.scope, values),
        "restart_required": restart_required,
        "restarted": restarted,
    }
    if owed:
        result["restart_owed"] = owed
    if request.per_product:
        result["activation_id"] = snapshot.product_id or request.activation_id
    if ctx.diff_mode:
        result["diff"] = diff(changes)
    return result


def _advice(request: Request, snapshot: Snapshot) -> list[str]:
    notes = []
    if request.scope is Scope.CLIENT and request.desired.get("lookup_domain"):
        server = request.desired.get("server", snapshot.values.get("server"))
        if server is not None:
            notes.append(
                "lookup_domain is set but a KMS host name is configured too; the name takes precedence "
                "(as slmgr /skms-domain warns), so the lookup domain is used only once the name is cleared"
            )
    if request.scope is Scope.HOST and snapshot.is_kms_host is False and request.desired:
        notes.append(
            "This machine is not a KMS host yet; "
            f"{', '.join(sorted(request.desired))} take effect once a KMS host key (CSVLK) is installed and activated"
        )
    return notes
