"""The Software Protection Platform of one emulated machine: products, keys, KMS client and host.

The registry is the source of truth for every SPP setting that has a registry value (spp-facts §3.7);
the WMI properties are read back from it, so StdRegProv writes show up in WMI too. Licensing state
that Windows keeps in its token store (installed keys, activation, KMS host counts) lives here.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import typing as t
import uuid

from . import editions as ed
from . import kms
from .cim import AccessDenied, CallContext, CimValue, InstanceNotFound, InvalidParameter, ProviderError
from .events import hresult_hex
from .kms import (
    DEFAULT_ACTIVATION_INTERVAL,
    DEFAULT_KMS_PORT,
    DEFAULT_RENEWAL_INTERVAL,
    INTERVAL_RANGE,
    KmsEffective,
    KmsHostState,
    KmsRequest,
    KmsResponse,
    parse_port,
    parse_publish_list,
)
from .registry import HKLM, Registry, RegType

if t.TYPE_CHECKING:
    from .machine import Machine

# --- registry locations (§3.7) ------------------------------------------------------------------------

SPP_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
CURRENT_VERSION_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"

V_KMS_NAME = "KeyManagementServiceName"  # REG_SZ, global or per-SKU (§3.7 /skms)
V_KMS_PORT = "KeyManagementServicePort"  # REG_SZ (§3.7 /skms)
V_LOOKUP_DOMAIN = "KeyManagementServiceLookupDomain"  # REG_SZ (§3.7 /skms-domain, name inferred there)
V_LISTENING_PORT = "KeyManagementServiceListeningPort"  # REG_SZ (§3.7 /sprt)
V_DISABLE_DNS = "DisableDnsPublishing"  # REG_DWORD, non-zero blocks publishing (§3.7 /sdns)
V_LOW_PRIORITY = "EnableKmsLowPriority"  # REG_DWORD (§3.7 /spri)
V_ACTIVATION_INTERVAL = "VLActivationInterval"  # REG_DWORD minutes (§3.7 /sai)
V_RENEWAL_INTERVAL = "VLRenewalInterval"  # REG_DWORD minutes (§3.7 /sri)
V_PUBLISH_LIST = "DnsDomainPublishList"  # REG_MULTI_SZ "domain, priority, weight" (§3.7)
V_SKIP_REARM = "SkipRearm"  # §3.7 /rearm
V_USER_OPERATIONS = "UserOperations"  # REG_DWORD 1 = standard users may /ipk, /ilc, /rearm (§3.7)
# Assumption: the facts name no registry value for /skhc and /ckhc (§3.7 "Not documented"); this
# emulator keeps host caching in a REG_DWORD named after the WMI method (non-zero = caching disabled).
V_HOST_CACHING_DISABLED = "DisableKeyManagementServiceHostCaching"
# Assumption: /act-type has no documented registry value either; a REG_DWORD with the WMI name.
V_ACTIVATION_TYPE = "VLActivationTypeEnabled"

# --- HRESULTs (§4 unless marked) ------------------------------------------------------------------------

SL_E_INVALID_PRODUCT_KEY = 0xC004F050
SL_E_MISMATCHED_PRODUCT_SKU = 0xC004F069
SL_E_PKEY_NOT_INSTALLED = 0xC004F014
SL_E_GRACE_TIME_EXPIRED = 0xC004F009
SL_E_CHPA_PRODUCT_KEY_BLOCKED = 0xC004C003
SL_E_CIDIID_INVALID_DATA = 0xC004F02C
SL_E_REARM_EXCEEDED = 0xC004D307
# Assumption: SL_E_NOT_SUPPORTED (slerror.h) for host-only methods on a non-host and for features the
# emulator does not model; the facts only say "an error is returned" (§3.4).
SL_E_NOT_SUPPORTED = 0xC004F016
# Assumption: SL_E_VALUE_NOT_FOUND (slerror.h) for an unknown policy name.
SL_E_VALUE_NOT_FOUND = 0xC004F012
# Assumption: E_INVALIDARG for out-of-range arguments (intervals outside 15..43200, port 0, ...).
E_INVALIDARG = 0x80070057
# Assumption: ERROR_SERVICE_DISABLED as an HRESULT when sppsvc is disabled and not running.
ERROR_SERVICE_DISABLED = 0x80070422
# Assumption: SL_I_OOB_GRACE_PERIOD / SL_I_OOT_GRACE_PERIOD (slerror.h) as LicenseStatusReason in grace.
SL_I_OOB_GRACE_PERIOD = 0x4004F00C
SL_I_OOT_GRACE_PERIOD = 0x4004F00D

# --- policy values (§5) ---------------------------------------------------------------------------------

UNLICENSED, LICENSED, OOB_GRACE, OOT_GRACE, NON_GENUINE_GRACE, NOTIFICATION = 0, 1, 2, 3, 4, 5
STATUS_NAMES = {
    "unlicensed": UNLICENSED,
    "licensed": LICENSED,
    "oob_grace": OOB_GRACE,
    "oot_grace": OOT_GRACE,
    "notification": NOTIFICATION,
}
KMS_VALIDITY = datetime.timedelta(days=180)  # §5 activation validity interval
OOB_GRACE_PERIOD = datetime.timedelta(days=30)  # §5 "30-day out-of-box grace period"
# Windows 7 VA technical reference (seeds/004, "KMS activation timing"): 30 days of OOT grace, then
# notification.
OOT_GRACE_PERIOD = datetime.timedelta(days=30)
UINT32_MINUS_ONE = 0xFFFFFFFF  # §3.3 KeyManagementServiceCurrentCount -1

CHANNEL_GVLK = "Volume:GVLK"
CHANNEL_MAK = "Volume:MAK"
CHANNEL_CSVLK = "Volume:CSVLK"
CHANNEL_RETAIL = "Retail"

# Assumption: the fwlink URLs Windows reports for its licensing servers (never contacted).
_URLS = {
    "ProcessorURL": "http://go.microsoft.com/fwlink/?LinkID=88338",
    "MachineURL": "http://go.microsoft.com/fwlink/?LinkID=88339",
    "ProductKeyURL": "http://go.microsoft.com/fwlink/?LinkID=88340",
    "UseLicenseURL": "http://go.microsoft.com/fwlink/?LinkID=88341",
    "ValidationURL": "http://go.microsoft.com/fwlink/?LinkID=187557",
}
# Assumption: editions that are not evaluations report EvaluationEndDate as the FILETIME epoch.
_EPOCH_1601 = datetime.datetime(1601, 1, 1, tzinfo=datetime.UTC)

_CMID_NAMESPACE = uuid.UUID("3b8f4d52-5e55-5c1e-8a3d-636d69647773")


def default_cmid(fqdn: str) -> str:
    return str(uuid.uuid5(_CMID_NAMESPACE, fqdn.lower()))


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("|".join(parts).encode()).digest()


def _digits(seed: bytes, count: int) -> str:
    number = int.from_bytes(seed, "big")
    return "".join(str((number >> (4 * i)) % 10) for i in range(count))


def synthesize_key(*parts: str) -> str:
    """A fabricated, well-formed 5x5 key (for KMS hosts whose fleet lists no CSVLK)."""
    alphabet = "BCDFGHJKMPQRTVWXY2346789"
    number = int.from_bytes(_digest("key", *parts), "big")
    chars = []
    for _position in range(25):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "-".join("".join(chars[i : i + 5]) for i in range(0, 25, 5))


@dataclasses.dataclass(frozen=True)
class KeyEntry:
    """A key from the fleet's ``keys`` list (fabricated keys the emulated licensing knows)."""

    key: str
    channel: str
    editions: frozenset[str] = frozenset()
    csvlk_group: str | None = None
    blocked: bool = False


KeyRing = t.Mapping[str, KeyEntry]


@dataclasses.dataclass(eq=False)
class Product:
    id: str
    app_id: str
    name: str
    description: str
    channel: str
    license_family: str
    edition: ed.Edition | None
    csvlk_group: str | None = None
    key: str | None = None
    status: int = UNLICENSED
    until: datetime.datetime | None = None  # end of the current validity / grace period (machine clock)
    kms_epid: str = ""
    discovered_name: str = ""
    discovered_port: int = 0
    discovered_ip: str = ""
    cached_host: tuple[str, int] | None = None
    host_activation_interval: int | None = None
    host_renewal_interval: int | None = None
    activation_type_used: int = 0
    remaining_sku_rearm: int = 1001
    remaining_app_rearm: int = 1001

    @property
    def is_windows(self) -> bool:
        return self.app_id == ed.WINDOWS_APP_ID

    @property
    def partial_key(self) -> str | None:
        return self.key[-5:] if self.key else None

    @property
    def n_policy(self) -> int:
        # §5: clients need 25, servers and volume editions of Office need 5.
        return self.edition.n_policy if self.edition is not None else 5

    def effective(self, now: datetime.datetime) -> tuple[int, int, int]:
        """(LicenseStatus, LicenseStatusReason, GracePeriodRemaining minutes) at ``now``."""
        if self.key is None:
            return UNLICENSED, SL_E_PKEY_NOT_INSTALLED, 0
        status, until = self.status, self.until
        if status == LICENSED and until is not None and now >= until:
            # §5 / seeds/004: a KMS activation not renewed within 180 days falls into OOT grace.
            status, until = OOT_GRACE, until + OOT_GRACE_PERIOD
        if status in (OOB_GRACE, OOT_GRACE) and until is not None and now >= until:
            return NOTIFICATION, SL_E_GRACE_TIME_EXPIRED, 0
        minutes = max(0, int((until - now).total_seconds() // 60)) if until is not None else 0
        reason = {
            LICENSED: 0,
            OOB_GRACE: SL_I_OOB_GRACE_PERIOD,
            OOT_GRACE: SL_I_OOT_GRACE_PERIOD,
            NOTIFICATION: SL_E_GRACE_TIME_EXPIRED,
        }.get(status, 0)
        return status, reason, minutes


OFFICE = "Office"


def classify_key(edition: ed.Edition, keyring: KeyRing, key: str) -> tuple[str, str | None]:
    """(channel, CSVLK group) of the SKU a normalized key installs on; ProviderError when none (§4)."""
    if key == ed.OFFICE_GVLK:
        return OFFICE, None
    row = ed.find_gvlk(key)
    if row is not None:
        if key != edition.gvlk:
            # §4 0xC004F069 [inferred]: a GVLK for another edition has no SKU on this installation.
            raise ProviderError(SL_E_MISMATCHED_PRODUCT_SKU, f"GVLK of {row.edition} does not fit {edition.caption}")
        return CHANNEL_GVLK, None
    entry = keyring.get(key)
    if entry is None:
        raise ProviderError(SL_E_INVALID_PRODUCT_KEY, "The product key is invalid")
    if entry.channel == CHANNEL_CSVLK:
        # Assumption: a CSVLK group that cannot be hosted on this OS (§5 table) has no SKU here.
        if entry.csvlk_group not in {group.name for group in edition.hostable_groups()}:
            raise ProviderError(
                SL_E_MISMATCHED_PRODUCT_SKU, f"CSVLK group {entry.csvlk_group!r} cannot be hosted on {edition.caption}"
            )
        return CHANNEL_CSVLK, entry.csvlk_group
    # MAK SKUs exist only for volume-licensed editions (those with a GVLK); Retail ones always.
    if edition.edition_id not in entry.editions or (entry.channel == CHANNEL_MAK and edition.gvlk is None):
        raise ProviderError(SL_E_MISMATCHED_PRODUCT_SKU, f"{entry.channel} key does not fit {edition.edition_id}")
    return entry.channel, None


# Methods that only read: allowed to every caller. The rest change state and need an administrator
# (wsman.md "WMI and provider rights"), or, with UserOperations = 1, a standard user for the
# operations §3.7 / seeds/004 list (install keys and licenses, activate, rearm).
_READ_METHODS = frozenset(
    {
        "GetPolicyInformationDWord",
        "GetPolicyInformationString",
        "GetTokenActivationGrants",
        "GenerateActiveDirectoryOfflineActivationId",
        "RefreshLicenseStatus",
    }
)
_USER_OPERATIONS = frozenset(
    {"InstallProductKey", "InstallLicense", "InstallLicensePackage", "ReArmWindows", "Activate"}
)


class Licensing:
    """SoftwareLicensingService + SoftwareLicensingProduct state of one machine."""

    def __init__(
        self,
        machine: Machine,
        *,
        cmid: str,
        keyring: KeyRing,
        kms_extra_count: int = 0,
        kms_reachable: bool = True,
    ) -> None:
        self.machine = machine
        self.keyring = keyring
        self.cmid = cmid
        self.edition = machine.edition
        self.host = KmsHostState(extra_count=kms_extra_count, reachable=kms_reachable)
        self.effective: KmsEffective | None = None
        self.rearm_count = 1001 if self.edition.build >= 9200 else 3  # Assumption: Windows 8+ 1001, older 3.
        self.installed_licenses: set[str] = set()
        self.discovered = ("", 0, "")
        self.oob_until = machine.now() + OOB_GRACE_PERIOD
        self.products: list[Product] = self._build_products()
        self._by_id = {product.id.lower(): product for product in self.products}

    # --- product catalogue --------------------------------------------------------------------------

    def _build_products(self) -> list[Product]:
        edition = self.edition
        family, eid = edition.product_family, edition.edition_id
        name = f"Windows(R), {eid} edition"

        def windows(sku_id: str, marker: str, channel: str, group: str | None = None) -> Product:
            return Product(
                id=sku_id,
                app_id=ed.WINDOWS_APP_ID,
                name=name,
                description=f"Windows(R) Operating System, {marker} channel",  # §3.6 markers
                channel=channel,
                license_family=eid,
                edition=edition,
                csvlk_group=group,
            )

        products: list[Product] = []
        if edition.kms_client_activation_id is not None:
            products.append(windows(edition.kms_client_activation_id, "VOLUME_KMSCLIENT", CHANNEL_GVLK))
            products.append(windows(ed.sku_uuid(family, eid, "VOLUME_MAK"), "VOLUME_MAK", CHANNEL_MAK))
        products.append(windows(ed.sku_uuid(family, eid, "RETAIL"), "RETAIL", CHANNEL_RETAIL))
        for group in edition.hostable_groups():
            sku_id = ed.sku_uuid(family, eid, "VOLUME_KMS", group.name)
            products.append(windows(sku_id, f"VOLUME_KMS_{group.tag}", CHANNEL_CSVLK, group.name))
        # Assumption: every machine also carries an Office product with a partial key (another
        # ApplicationID), so clients must filter SoftwareLicensingProduct by ApplicationID (§3.1).
        office = Product(
            id=ed.OFFICE_KMS_CLIENT_ID,
            app_id=ed.OFFICE_APP_ID,
            name="Office 16, Office16ProPlusVL_KMS_Client edition",
            description="Office 16, VOLUME_KMSCLIENT channel",
            channel=CHANNEL_GVLK,
            license_family="Office16ProPlusVL_KMS_Client",
            edition=None,
            key=ed.OFFICE_GVLK,
            status=OOB_GRACE,
            until=self.oob_until,
        )
        products.append(office)
        return products

    def product(self, product_id: str) -> Product:
        found = self._by_id.get(product_id.strip("{}").lower())
        if found is None:
            raise InstanceNotFound(f"No SoftwareLicensingProduct with ID {product_id!r}")
        return found

    def windows_products(self) -> list[Product]:
        return [product for product in self.products if product.is_windows]

    def windows_product(self) -> Product | None:
        """The Windows product with a key (§3.1: at most one at a time here)."""
        return next((p for p in self.windows_products() if p.key is not None), None)

    def _target_for_key(self, key: str) -> Product:
        """Which SKU a key installs on, or the SPP error (§4)."""
        channel, group = classify_key(self.edition, self.keyring, key)
        if channel == OFFICE:
            return self.product(ed.OFFICE_KMS_CLIENT_ID)
        return next(p for p in self.windows_products() if p.channel == channel and p.csvlk_group == group)

    # --- initial state from the fleet file ---------------------------------------------------------------

    def load_license(self, key: str | None, status: int) -> None:
        """Install the fleet file's key with its status, without counting writes."""
        if key is None:
            return
        product = self._target_for_key(key)
        now = self.machine.now()
        product.key = key
        product.status = status
        if status == LICENSED:
            product.until = now + KMS_VALIDITY if product.channel == CHANNEL_GVLK else None
        elif status == OOB_GRACE:
            product.until = self.oob_until
        elif status == OOT_GRACE:
            product.until = now + OOT_GRACE_PERIOD
        else:
            product.until = None
        self._write_digital_product_id(product)

    # --- helpers ---------------------------------------------------------------------------------------------

    @property
    def registry(self) -> Registry:
        return self.machine.registry

    def _sku_key(self, product: Product) -> str:
        return f"{SPP_KEY}\\{product.app_id}\\{product.id}"

    def _app_key(self, product: Product) -> str:
        return f"{SPP_KEY}\\{product.app_id}"

    def is_kms_host(self) -> bool:
        """IsKeyManagementServiceMachine: a CSVLK is installed (§3.6 VOLUME_KMS marker)."""
        return any(p.channel == CHANNEL_CSVLK and p.key is not None for p in self.windows_products())

    def host_product(self) -> Product | None:
        return next((p for p in self.windows_products() if p.channel == CHANNEL_CSVLK and p.key), None)

    def host_activated(self) -> bool:
        product = self.host_product()
        return product is not None and product.effective(self.machine.now())[0] == LICENSED

    def host_caching(self) -> bool:
        return not self.registry.read_dword(SPP_KEY, V_HOST_CACHING_DISABLED)

    def configured_host_settings(self) -> KmsEffective:
        reg = self.registry
        listening = parse_port(reg.read_str(SPP_KEY, V_LISTENING_PORT)) or DEFAULT_KMS_PORT
        return KmsEffective(
            kms_enabled=self.is_kms_host(),
            listening_port=listening,
            dns_publishing=not reg.read_dword(SPP_KEY, V_DISABLE_DNS),
            low_priority=bool(reg.read_dword(SPP_KEY, V_LOW_PRIORITY)),
            activation_interval=reg.read_dword(SPP_KEY, V_ACTIVATION_INTERVAL) or DEFAULT_ACTIVATION_INTERVAL,
            renewal_interval=reg.read_dword(SPP_KEY, V_RENEWAL_INTERVAL) or DEFAULT_RENEWAL_INTERVAL,
            publish_list=parse_publish_list(reg.read_multi(SPP_KEY, V_PUBLISH_LIST) or []),
            user_operations=bool(reg.read_dword(SPP_KEY, V_USER_OPERATIONS)),
            started_at=self.machine.now(),
        )

    def on_sppsvc_start(self) -> None:
        """§3.9: host settings take effect when sppsvc (re)starts."""
        self.effective = self.configured_host_settings()
        if self.effective.kms_enabled:
            self.machine.network.register_kms_host(self.machine)

    def kms_listening(self, port: int) -> bool:
        eff = self.effective
        return bool(
            self.machine.sppsvc_running()
            and eff is not None
            and eff.kms_enabled
            and self.is_kms_host()
            and self.host.reachable
            and port == eff.listening_port
        )

    def srv_publications(self) -> list[tuple[str, int, int, int]]:
        return kms.publications(self)

    def serve_kms_request(self, request: KmsRequest) -> KmsResponse:
        return kms.serve(self, request)

    def epid(self) -> str:
        seed = _digest("epid", self.machine.fqdn)
        return f"06401-00206-{_digits(seed, 3)}-{_digits(seed[8:], 6)}-03-1033-{self.edition.build}.0000-0012025"

    def _write_digital_product_id(self, product: Product) -> None:
        if not product.is_windows or product.key is None:
            return
        # The binary deliberately does not encode the key: state dumps must never show a full key.
        blob = _digest("dpid", self.machine.fqdn, product.id)
        self.registry.set_value(HKLM, CURRENT_VERSION_KEY, "DigitalProductId", RegType.BINARY, blob * 5, count=False)
        self.registry.set_value(
            HKLM, CURRENT_VERSION_KEY, "ProductId", RegType.SZ, self._product_key_id(product), count=False
        )

    def _product_key_id(self, product: Product) -> str:
        seed = _digest("pid", product.key or "", product.id)
        return f"{_digits(seed, 5)}-{_digits(seed[4:], 5)}-{_digits(seed[8:], 5)}-AA{_digits(seed[12:], 3)}"

    def _installation_id(self, product: Product) -> str:
        return _digits(_digest("iid", product.key or "", self.cmid) * 2, 63)

    # --- registry-backed settings ---------------------------------------------------------------------

    def registered_kms(self, product: Product) -> tuple[str, int]:
        """KMS name/port in the discovery order of seeds/004: SKU, AppID, then global value."""
        reg = self.registry
        levels = (self._sku_key(product), self._app_key(product), SPP_KEY)
        name = next((n for n in (reg.read_str(level, V_KMS_NAME) for level in levels) if n), "")
        port = next((p for p in (parse_port(reg.read_str(level, V_KMS_PORT)) for level in levels) if p), 0)
        return name, port

    def lookup_domain(self, product: Product) -> str:
        reg = self.registry
        return reg.read_str(self._sku_key(product), V_LOOKUP_DOMAIN) or reg.read_str(SPP_KEY, V_LOOKUP_DOMAIN) or ""

    def activation_type(self, product: Product) -> int:
        reg = self.registry
        value = reg.read_dword(self._sku_key(product), V_ACTIVATION_TYPE)
        return value if value is not None else reg.read_dword(SPP_KEY, V_ACTIVATION_TYPE) or 0

    def _set_sz(self, path: str, name: str, value: str) -> None:
        self.registry.create_key(HKLM, path)
        self.registry.set_value(HKLM, path, name, RegType.SZ, value)

    def _set_dword(self, path: str, name: str, value: int) -> None:
        self.registry.create_key(HKLM, path)
        self.registry.set_value(HKLM, path, name, RegType.DWORD, value)

    def _clear(self, path: str, name: str) -> None:
        self.registry.delete_value(HKLM, path, name)

    # --- WMI instances ----------------------------------------------------------------------------------

    def service_instance(self) -> dict[str, CimValue]:
        reg = self.registry
        now = self.machine.now()
        host = self.is_kms_host()
        count = self.host.current_count(now) if host else 0
        props: dict[str, CimValue] = {
            "Version": self.version,
            "ClientMachineID": self.cmid,
            # Assumption: unset string settings read as "" (the facts only say "returns null/empty").
            "KeyManagementServiceMachine": reg.read_str(SPP_KEY, V_KMS_NAME) or "",
            "KeyManagementServicePort": parse_port(reg.read_str(SPP_KEY, V_KMS_PORT)),  # 0 when unset (§3.3)
            "KeyManagementServiceLookupDomain": reg.read_str(SPP_KEY, V_LOOKUP_DOMAIN) or "",
            "KeyManagementServiceListeningPort": parse_port(reg.read_str(SPP_KEY, V_LISTENING_PORT)),
            "KeyManagementServiceDnsPublishing": not reg.read_dword(SPP_KEY, V_DISABLE_DNS),
            "KeyManagementServiceLowPriority": bool(reg.read_dword(SPP_KEY, V_LOW_PRIORITY)),
            "KeyManagementServiceHostCaching": self.host_caching(),
            "KeyManagementServiceProductKeyID": self.epid() if host else "",
            # §3.3: -1 when not a KMS host or no request received yet.
            "KeyManagementServiceCurrentCount": count if host and count else UINT32_MINUS_ONE,
            "IsKeyManagementServiceMachine": 1 if host else 0,
            # Assumption: a host reports the client threshold (25), other machines 0.
            "RequiredClientCount": 25 if host else 0,
            **self._counter_props(host),
            "DiscoveredKeyManagementServiceMachineName": self.discovered[0],
            "DiscoveredKeyManagementServiceMachinePort": self.discovered[1],
            "DiscoveredKeyManagementServiceMachineIpAddress": self.discovered[2],
            "VLActivationInterval": reg.read_dword(SPP_KEY, V_ACTIVATION_INTERVAL) or DEFAULT_ACTIVATION_INTERVAL,
            "VLRenewalInterval": reg.read_dword(SPP_KEY, V_RENEWAL_INTERVAL) or DEFAULT_RENEWAL_INTERVAL,
            "PolicyCacheRefreshRequired": 0,
            "RemainingWindowsReArmCount": self.rearm_count,
            "TokenActivationILID": None,
            "TokenActivationILVID": 0,
            "TokenActivationGrantNumber": 0,
            "TokenActivationCertificateThumbprint": None,
            "TokenActivationAdditionalInfo": None,
            "OA2xBiosMarkerMinorVersion": 0,
            "OA2xBiosMarkerStatus": 0,
            "OA3xOriginalProductKey": "",
            "OA3xOriginalProductKeyDescription": "",
            "OA3xOriginalProductKeyPkPn": "",
            "SubscriptionEdition": "",
            "SubscriptionExpiry": "",
            "SubscriptionStatus": 0,
            "SubscriptionType": 0,
            "AzureMetadataResponse": 0,
            "EmitWindowsMeter": 0,
        }
        return props

    @property
    def version(self) -> str:
        # Assumption: sppsvc file version = OS version.build plus revision 1 (wsman.md shows 10.0.20348.1).
        return f"{self.edition.full_version}.1"

    def _counter_props(self, host: bool) -> dict[str, CimValue]:
        return {
            f"KeyManagementService{name}Requests": (self.host.counters[name] if host else 0)
            for name in kms.COUNTER_NAMES
        }

    def product_instance(self, product: Product) -> dict[str, CimValue]:
        now = self.machine.now()
        status, reason, minutes = product.effective(now)
        name, port = self.registered_kms(product)
        host = product.channel == CHANNEL_CSVLK and product.key is not None
        count = self.host.current_count(now) if host else 0
        kms_client = product.channel == CHANNEL_GVLK
        reg = self.registry
        return {
            "ID": product.id,
            "Name": product.name,
            "Description": product.description,
            "ApplicationID": product.app_id,
            **_URLS,
            "LicenseStatus": status,
            "LicenseStatusReason": reason,
            "GracePeriodRemaining": minutes,
            "EvaluationEndDate": _EPOCH_1601,
            "TrustedTime": now if product.key else None,
            "OfflineInstallationId": self._installation_id(product) if product.key else None,
            "PartialProductKey": product.partial_key,
            "ProductKeyID": self._product_key_id(product) if product.key else None,
            "ProductKeyID2": self._product_key_id(product) if product.key else None,
            "ProductKeyChannel": product.channel if product.key else None,
            "LicenseFamily": product.license_family,
            "LicenseDependsOn": None,
            "LicenseIsAddon": False,
            "VLActivationInterval": product.host_activation_interval
            or reg.read_dword(SPP_KEY, V_ACTIVATION_INTERVAL)
            or DEFAULT_ACTIVATION_INTERVAL,
            "VLRenewalInterval": product.host_renewal_interval
            or reg.read_dword(SPP_KEY, V_RENEWAL_INTERVAL)
            or DEFAULT_RENEWAL_INTERVAL,
            "VLActivationType": product.activation_type_used,
            "VLActivationTypeEnabled": self.activation_type(product),
            "KeyManagementServiceProductKeyID": product.kms_epid if kms_client else (self.epid() if host else ""),
            # Assumption: the product reports its effective registration (per-SKU, else AppID/global),
            # which is what slmgr /dlv prints as "Registered KMS machine name".
            "KeyManagementServiceMachine": name,
            "KeyManagementServiceLookupDomain": self.lookup_domain(product),
            "KeyManagementServicePort": port,
            "DiscoveredKeyManagementServiceMachineName": product.discovered_name,
            "DiscoveredKeyManagementServiceMachineIpAddress": product.discovered_ip,
            "DiscoveredKeyManagementServiceMachinePort": product.discovered_port,
            "IsKeyManagementServiceMachine": 1 if host else 0,
            "KeyManagementServiceCurrentCount": count if host and count else UINT32_MINUS_ONE,
            "RequiredClientCount": product.n_policy if kms_client else (25 if host else 0),
            **self._counter_props(host),
            # Assumption: GenuineStatus 0 (genuine) with a key, 1 without.
            "GenuineStatus": 0 if product.key else 1,
            "ExtendedGrace": 0,
            "RemainingAppReArmCount": product.remaining_app_rearm,
            "RemainingSkuReArmCount": product.remaining_sku_rearm,
            "TokenActivationILID": None,
            "TokenActivationILVID": 0,
            "TokenActivationGrantNumber": 0,
            "TokenActivationCertificateThumbprint": None,
            "TokenActivationAdditionalInfo": None,
            "ADActivationObjectName": None,
            "ADActivationObjectDN": None,
            "ADActivationCsvlkPid": None,
            "ADActivationCsvlkSkuId": None,
            "IAID": None,
            "AutomaticVMActivationHostMachineName": None,
            "AutomaticVMActivationLastActivationTime": None,
            "AutomaticVMActivationHostDigitalPid2": None,
        }

    # --- method dispatch --------------------------------------------------------------------------------

    def _authorize(self, method: str, ctx: CallContext) -> None:
        if ctx.is_admin or method in _READ_METHODS:
            return
        eff = self.effective
        if method in _USER_OPERATIONS and eff is not None and eff.user_operations:
            return
        # Assumption: SPP state changes need an unfiltered administrator token (wsman.md); a standard
        # user gets E_ACCESSDENIED as a WMI error.
        raise AccessDenied(f"{method} requires administrator rights")

    def invoke_service(self, method: str, params: t.Mapping[str, CimValue], ctx: CallContext) -> dict[str, CimValue]:
        self._authorize(method, ctx)
        handler = getattr(self, f"_svc_{method}", None)
        if handler is None:
            raise ProviderError(SL_E_NOT_SUPPORTED, f"SoftwareLicensingService.{method} is not supported")
        result = handler(params)
        return {"ReturnValue": 0, **(result or {})}

    def invoke_product(
        self, product: Product, method: str, params: t.Mapping[str, CimValue], ctx: CallContext
    ) -> dict[str, CimValue]:
        self._authorize(method, ctx)
        handler = getattr(self, f"_prod_{method}", None)
        if handler is None:
            raise ProviderError(SL_E_NOT_SUPPORTED, f"SoftwareLicensingProduct.{method} is not supported")
        result = handler(product, params)
        return {"ReturnValue": 0, **(result or {})}

    # --- parameter helpers ------------------------------------------------------------------------------

    @staticmethod
    def _str(params: t.Mapping[str, CimValue], name: str, *, required: bool = True) -> str:
        value = params.get(name)
        if value is None:
            if required:
                raise InvalidParameter(f"Missing parameter {name}")
            return ""
        if not isinstance(value, str):
            raise InvalidParameter(f"{name} must be a string")
        return value

    @staticmethod
    def _uint(params: t.Mapping[str, CimValue], name: str) -> int:
        value = params.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidParameter(f"Missing or non-integer parameter {name}")
        return value

    @staticmethod
    def _bool(params: t.Mapping[str, CimValue], name: str) -> bool:
        value = params.get(name)
        if not isinstance(value, bool):
            raise InvalidParameter(f"Missing or non-boolean parameter {name}")
        return value

    def _require_host(self, method: str) -> None:
        if not self.is_kms_host():
            raise ProviderError(SL_E_NOT_SUPPORTED, f"{method} applies to KMS hosts only")

    @staticmethod
    def _checkparse_port(port: int) -> None:
        if not 0 < port <= 0xFFFF:
            raise ProviderError(E_INVALIDARG, f"Port {port} is out of range")

    @staticmethod
    def _check_interval(minutes: int) -> None:
        if minutes not in INTERVAL_RANGE:
            raise ProviderError(E_INVALIDARG, f"Interval {minutes} is outside 15..43200 minutes")

    # --- SoftwareLicensingService methods (§3.4) -----------------------------------------------------------

    def _svc_InstallProductKey(self, params: t.Mapping[str, CimValue]) -> None:
        self.install_product_key(self._str(params, "ProductKey"))

    def install_product_key(self, raw_key: str) -> Product:
        key = ed.normalize_key(raw_key)
        if key is None:
            raise ProviderError(SL_E_INVALID_PRODUCT_KEY, "The product key is invalid")
        target = self._target_for_key(key)
        if target.key == key:
            # Assumption: reinstalling the installed key keeps the SKU's activation (the store still
            # holds its license); Windows still rewrites it, so it counts as a write.
            self.machine.count_write()
            return target
        now = self.machine.now()
        if target.is_windows:
            for product in self.windows_products():
                if product is not target and product.key is not None:
                    product.key = None
                    product.status = UNLICENSED
                    product.until = None
        target.key = key
        target.kms_epid = ""
        if now < self.oob_until:
            target.status, target.until = OOB_GRACE, self.oob_until
        else:
            target.status, target.until = NOTIFICATION, None
        self._write_digital_product_id(target)
        if target.channel == CHANNEL_CSVLK:
            # The host only listens after the next sppsvc start (§3.9); the network must know it may.
            self.machine.network.register_kms_host(self.machine)
        self.machine.count_write()
        return target

    def _svc_InstallLicense(self, params: t.Mapping[str, CimValue]) -> None:
        self._install_license(self._str(params, "License"))

    def _svc_InstallLicensePackage(self, params: t.Mapping[str, CimValue]) -> None:
        self._install_license(self._str(params, "LicensePackage"))

    def _install_license(self, text: str) -> None:
        # Assumption: a license is XrML text; anything that is not markup is rejected as E_INVALIDARG.
        if not text.lstrip().startswith("<"):
            raise ProviderError(E_INVALIDARG, "The license is not a license document")
        self.installed_licenses.add(hashlib.sha256(text.encode()).hexdigest())
        self.machine.count_write()

    def _svc_SetKeyManagementServiceMachine(self, params: t.Mapping[str, CimValue]) -> None:
        name = self._str(params, "MachineName").strip()
        if not name:
            raise ProviderError(E_INVALIDARG, "MachineName is empty")
        self._set_sz(SPP_KEY, V_KMS_NAME, name)

    def _svc_ClearKeyManagementServiceMachine(self, params: t.Mapping[str, CimValue]) -> None:
        self._clear(SPP_KEY, V_KMS_NAME)

    def _svc_SetKeyManagementServicePort(self, params: t.Mapping[str, CimValue]) -> None:
        port = self._uint(params, "PortNumber")
        self._checkparse_port(port)
        self._set_sz(SPP_KEY, V_KMS_PORT, str(port))

    def _svc_ClearKeyManagementServicePort(self, params: t.Mapping[str, CimValue]) -> None:
        self._clear(SPP_KEY, V_KMS_PORT)

    def _svc_SetKeyManagementServiceLookupDomain(self, params: t.Mapping[str, CimValue]) -> None:
        domain = self._str(params, "LookupDomain").strip()
        if not domain:
            raise ProviderError(E_INVALIDARG, "LookupDomain is empty")
        self._set_sz(SPP_KEY, V_LOOKUP_DOMAIN, domain)

    def _svc_ClearKeyManagementServiceLookupDomain(self, params: t.Mapping[str, CimValue]) -> None:
        self._clear(SPP_KEY, V_LOOKUP_DOMAIN)

    def _svc_SetKeyManagementServiceListeningPort(self, params: t.Mapping[str, CimValue]) -> None:
        self._require_host("SetKeyManagementServiceListeningPort")
        port = self._uint(params, "PortNumber")
        self._checkparse_port(port)
        self._set_sz(SPP_KEY, V_LISTENING_PORT, str(port))  # REG_SZ (§3.7)

    def _svc_ClearKeyManagementServiceListeningPort(self, params: t.Mapping[str, CimValue]) -> None:
        self._require_host("ClearKeyManagementServiceListeningPort")
        self._clear(SPP_KEY, V_LISTENING_PORT)

    def _svc_DisableKeyManagementServiceDnsPublishing(self, params: t.Mapping[str, CimValue]) -> None:
        self._require_host("DisableKeyManagementServiceDnsPublishing")
        self._set_dword(SPP_KEY, V_DISABLE_DNS, 1 if self._bool(params, "DisablePublishing") else 0)

    def _svc_EnableKeyManagementServiceLowPriority(self, params: t.Mapping[str, CimValue]) -> None:
        self._require_host("EnableKeyManagementServiceLowPriority")
        self._set_dword(SPP_KEY, V_LOW_PRIORITY, 1 if self._bool(params, "EnableLowPriority") else 0)

    def _svc_DisableKeyManagementServiceHostCaching(self, params: t.Mapping[str, CimValue]) -> None:
        # §3.4: 1 disables caching, 0 enables it.
        self._set_dword(SPP_KEY, V_HOST_CACHING_DISABLED, 1 if self._bool(params, "DisableCaching") else 0)

    def _svc_SetVLActivationInterval(self, params: t.Mapping[str, CimValue]) -> None:
        self._require_host("SetVLActivationInterval")
        minutes = self._uint(params, "ActivationInterval")
        self._check_interval(minutes)
        self._set_dword(SPP_KEY, V_ACTIVATION_INTERVAL, minutes)

    def _svc_SetVLRenewalInterval(self, params: t.Mapping[str, CimValue]) -> None:
        self._require_host("SetVLRenewalInterval")
        minutes = self._uint(params, "RenewalInterval")
        self._check_interval(minutes)
        self._set_dword(SPP_KEY, V_RENEWAL_INTERVAL, minutes)

    def _svc_ClearProductKeyFromRegistry(self, params: t.Mapping[str, CimValue]) -> None:
        # §3.7 /cpky: removes the key material from the registry [inferred: DigitalProductId].
        for name in ("DigitalProductId", "DigitalProductId4"):
            self.registry.delete_value(HKLM, CURRENT_VERSION_KEY, name)

    def _svc_AcquireGenuineTicket(self, params: t.Mapping[str, CimValue]) -> None:
        raise ProviderError(SL_E_NOT_SUPPORTED, "Genuine tickets are not emulated")

    def _svc_ReArmWindows(self, params: t.Mapping[str, CimValue]) -> None:
        if self.registry.read_dword(SPP_KEY, V_SKIP_REARM) == 1:
            return  # §3.7 /rearm: does nothing with SkipRearm = 1
        if self.rearm_count == 0:
            raise ProviderError(SL_E_REARM_EXCEEDED, "The maximum allowed number of re-arms has been exceeded")
        self.rearm_count -= 1
        self._rearm(self.windows_products())
        # Assumption: a rearm (sysprep /generalize) gives the machine a new CMID, which is why images
        # are rearmed before cloning.
        self.cmid = str(uuid.uuid5(_CMID_NAMESPACE, f"{self.cmid}|rearm|{self.rearm_count}"))
        self.machine.count_write()

    def _rearm(self, products: list[Product]) -> None:
        # seeds/004: ReArmWindows resets the licensing status to OOB grace.
        now = self.machine.now()
        self.oob_until = now + OOB_GRACE_PERIOD
        for product in products:
            if product.key is not None:
                product.status, product.until = OOB_GRACE, self.oob_until

    def _svc_ReArmApp(self, params: t.Mapping[str, CimValue]) -> None:
        app_id = self._str(params, "ApplicationId").strip("{}").lower()
        products = [p for p in self.products if p.app_id == app_id]
        if not products:
            raise ProviderError(E_INVALIDARG, f"Unknown application {app_id}")
        if any(p.remaining_app_rearm == 0 for p in products):
            raise ProviderError(SL_E_REARM_EXCEEDED, "The maximum allowed number of re-arms has been exceeded")
        for product in products:
            product.remaining_app_rearm -= 1
        self._rearm(products)
        self.machine.count_write()

    def _svc_RefreshLicenseStatus(self, params: t.Mapping[str, CimValue]) -> None:
        # Status is evaluated against the clock on every read; nothing is cached to refresh.
        return None

    def _svc_GenerateActiveDirectoryOfflineActivationId(self, params: t.Mapping[str, CimValue]) -> dict[str, CimValue]:
        key = ed.normalize_key(self._str(params, "ProductKey"))
        entry = self.keyring.get(key or "")
        if entry is None or entry.channel != CHANNEL_CSVLK:
            raise ProviderError(SL_E_INVALID_PRODUCT_KEY, "Active Directory activation needs a CSVLK")
        return {"InstallationID": _digits(_digest("adiid", entry.key, self.cmid) * 2, 63)}

    def _svc_DepositActiveDirectoryOfflineActivationConfirmation(self, params: t.Mapping[str, CimValue]) -> None:
        raise ProviderError(SL_E_NOT_SUPPORTED, "Active Directory-based activation is not emulated")

    def _svc_DoActiveDirectoryOnlineActivation(self, params: t.Mapping[str, CimValue]) -> None:
        raise ProviderError(SL_E_NOT_SUPPORTED, "Active Directory-based activation is not emulated")

    def _svc_SetVLActivationTypeEnabled(self, params: t.Mapping[str, CimValue]) -> None:
        self._set_activation_type(SPP_KEY, params)

    def _svc_ClearVLActivationTypeEnabled(self, params: t.Mapping[str, CimValue]) -> None:
        self._clear(SPP_KEY, V_ACTIVATION_TYPE)

    def _set_activation_type(self, path: str, params: t.Mapping[str, CimValue]) -> None:
        kind = self._uint(params, "ActivationType")
        if kind not in (0, 1, 2, 3):  # §3.3: 0 all, 1 AD, 2 KMS, 3 Token
            raise ProviderError(E_INVALIDARG, f"ActivationType {kind} is not 0..3")
        self._set_dword(path, V_ACTIVATION_TYPE, kind)

    # --- SoftwareLicensingProduct methods (§3.4) ------------------------------------------------------------

    def _prod_Activate(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        self.activate(product)

    def _prod_UninstallProductKey(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        if product.key is None:
            raise ProviderError(SL_E_PKEY_NOT_INSTALLED, "The product key is not available")
        product.key = None
        product.status, product.until = UNLICENSED, None
        product.kms_epid = ""
        self.machine.count_write()

    def _prod_DepositOfflineConfirmationId(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        iid = self._str(params, "InstallationId").replace("-", "").replace(" ", "")
        cid = self._str(params, "ConfirmationId").replace("-", "").replace(" ", "")
        if product.key is None:
            raise ProviderError(SL_E_PKEY_NOT_INSTALLED, "The product key is not available")
        if product.channel == CHANNEL_GVLK:
            raise ProviderError(SL_E_NOT_SUPPORTED, "KMS clients activate against a KMS host")
        # Assumption: the emulated activation center confirms any 48-digit CID for the right IID.
        if iid != self._installation_id(product) or len(cid) != 48 or not cid.isdigit():
            raise ProviderError(SL_E_CIDIID_INVALID_DATA, "The offline activation data is incorrect")
        self._online_activate(product)

    def _policy(self, product: Product, name: str) -> CimValue:
        edition = product.edition
        # Assumption: a few policy names answered from the edition data; others are not found.
        policies: dict[str, CimValue] = {
            "Kernel-EditionName": product.license_family,
            "Kernel-ProductInfo": edition.operating_system_sku if edition else None,
            "Security-SPP-KmsRequiredClientCount": product.n_policy,
        }
        value = policies.get(name)
        if value is None:
            raise ProviderError(SL_E_VALUE_NOT_FOUND, f"Policy {name!r} not found")
        return value

    def _prod_GetPolicyInformationDWord(
        self, product: Product, params: t.Mapping[str, CimValue]
    ) -> dict[str, CimValue]:
        value = self._policy(product, self._str(params, "PolicyName"))
        if not isinstance(value, int):
            raise ProviderError(SL_E_VALUE_NOT_FOUND, "Policy is not a DWORD")
        return {"PolicyValue": value}

    def _prod_GetPolicyInformationString(
        self, product: Product, params: t.Mapping[str, CimValue]
    ) -> dict[str, CimValue]:
        value = self._policy(product, self._str(params, "PolicyName"))
        if not isinstance(value, str):
            raise ProviderError(SL_E_VALUE_NOT_FOUND, "Policy is not a string")
        return {"PolicyValue": value}

    def _prod_SetKeyManagementServiceMachine(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        name = self._str(params, "MachineName").strip()
        if not name:
            raise ProviderError(E_INVALIDARG, "MachineName is empty")
        self._set_sz(self._sku_key(product), V_KMS_NAME, name)  # per-SKU subkey (§3.7 /skms ActID)

    def _prod_ClearKeyManagementServiceMachine(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        self._clear(self._sku_key(product), V_KMS_NAME)

    def _prod_SetKeyManagementServicePort(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        port = self._uint(params, "PortNumber")
        self._checkparse_port(port)
        self._set_sz(self._sku_key(product), V_KMS_PORT, str(port))

    def _prod_ClearKeyManagementServicePort(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        self._clear(self._sku_key(product), V_KMS_PORT)

    def _prod_SetKeyManagementServiceLookupDomain(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        domain = self._str(params, "LookupDomain").strip()
        if not domain:
            raise ProviderError(E_INVALIDARG, "LookupDomain is empty")
        self._set_sz(self._sku_key(product), V_LOOKUP_DOMAIN, domain)

    def _prod_ClearKeyManagementServiceLookupDomain(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        self._clear(self._sku_key(product), V_LOOKUP_DOMAIN)

    def _prod_GetTokenActivationGrants(self, product: Product, params: t.Mapping[str, CimValue]) -> dict[str, CimValue]:
        return {"Grants": None}  # no token-activation certificates are installed

    def _prod_GenerateTokenActivationChallenge(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        raise ProviderError(SL_E_NOT_SUPPORTED, "Token-based activation is not emulated")

    def _prod_DepositTokenActivationResponse(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        raise ProviderError(SL_E_NOT_SUPPORTED, "Token-based activation is not emulated")

    def _prod_SetVLActivationTypeEnabled(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        self._set_activation_type(self._sku_key(product), params)

    def _prod_ClearVLActivationTypeEnabled(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        self._clear(self._sku_key(product), V_ACTIVATION_TYPE)

    def _prod_ReArmSku(self, product: Product, params: t.Mapping[str, CimValue]) -> None:
        if product.remaining_sku_rearm == 0:
            raise ProviderError(SL_E_REARM_EXCEEDED, "The maximum allowed number of re-arms has been exceeded")
        product.remaining_sku_rearm -= 1
        self._rearm([product])
        self.machine.count_write()

    # --- activation ------------------------------------------------------------------------------------

    def activate(self, product: Product) -> None:
        if product.key is None:
            raise ProviderError(SL_E_PKEY_NOT_INSTALLED, "The product key is not available")
        if product.channel == CHANNEL_GVLK:
            kms.activate(self, product)
        else:
            self._online_activate(product)

    def _online_activate(self, product: Product) -> None:
        """MAK, Retail and CSVLK activate against Microsoft's servers."""
        entry = self.keyring.get(product.key or "")
        # Assumption: the emulated Microsoft activation servers accept every fleet key unless the key
        # entry says blocked (then 0xC004C003, §4).
        if entry is not None and entry.blocked:
            raise ProviderError(SL_E_CHPA_PRODUCT_KEY_BLOCKED, "The product key is blocked")
        product.status, product.until = LICENSED, None
        product.activation_type_used = 0
        self.machine.count_write()

    def kms_activated(self, product: Product, candidate: kms.Candidate, host: Machine, result: KmsResponse) -> None:
        now = self.machine.now()
        product.status, product.until = LICENSED, now + KMS_VALIDITY  # §5: 180 days
        product.kms_epid = result.epid
        product.discovered_name = host.fqdn if candidate.source == "dns" else candidate.name
        product.discovered_port = candidate.port
        product.discovered_ip = host.ip
        product.cached_host = (candidate.name, candidate.port)
        # §5: the client switches to the host's intervals after the first response.
        product.host_activation_interval = result.activation_interval
        product.host_renewal_interval = result.renewal_interval
        product.activation_type_used = 2
        self.discovered = (product.discovered_name, product.discovered_port, product.discovered_ip)
        self.machine.count_write()

    # --- state dump ---------------------------------------------------------------------------------------

    def state(self) -> dict[str, t.Any]:
        now = self.machine.now()
        service = self.service_instance()
        products = []
        for product in self.products:
            status, reason, minutes = product.effective(now)
            products.append(
                {
                    "id": product.id,
                    "application_id": product.app_id,
                    "name": product.name,
                    "description": product.description,
                    "channel": product.channel,
                    "partial_product_key": product.partial_key,
                    # Public GVLKs may be shown in full; no other key ever is.
                    "gvlk": product.key if product.key and ed.find_gvlk(product.key) else None,
                    "license_status": status,
                    "license_status_reason": hresult_hex(reason),
                    "grace_period_remaining": minutes,
                    "discovered_kms": product.discovered_name or None,
                    "discovered_port": product.discovered_port or None,
                    "cached_host": list(product.cached_host) if product.cached_host else None,
                }
            )
        host = self.is_kms_host()
        host_product = self.host_product()
        return {
            "service": {
                key: (value.isoformat() if isinstance(value, datetime.datetime) else value)
                for key, value in service.items()
            },
            "products": products,
            "kms_host": {
                "enabled": host,
                "activated": self.host_activated(),
                "csvlk_group": host_product.csvlk_group if host_product is not None else None,
                "current_count": self.host.current_count(now) if host else None,
                "extra_count": self.host.extra_count,
                "cmids": list(self.host.clients),
                "reachable": self.host.reachable,
                "requests": dict(self.host.counters),
                "configured": {
                    key: value
                    for key, value in self.configured_host_settings().as_json().items()
                    if key != "started_at"
                },
                "effective": self.effective.as_json() if self.effective is not None else None,
                "listening": self.kms_listening(self.effective.listening_port) if self.effective else False,
                "srv_records": [
                    {"domain": d, "priority": p, "weight": w, "port": port} for d, p, w, port in self.srv_publications()
                ],
            },
            "rearm_count": self.rearm_count,
            "oob_grace_until": self.oob_until.isoformat(),
        }
