"""The licensing state machine of one emulated machine: installed keys, activation, rearm, KMS client and
KMS host state, and the registry-backed SPP settings.

The registry is the source of truth for every SPP setting that has a registry value (as listed in
"Registry Settings for Volume Activation"), so StdRegProv writes and WMI methods see the same settings.
State that Windows keeps in its token store (installed keys, activation, KMS host counts) lives here.
The WMI classes over this state are in :mod:`spp_provider`; the SKUs and keys in :mod:`spp_products`.
"""

from __future__ import annotations

import hashlib
import typing as t
import uuid

from . import editions as ed
from . import kms, office
from .adba import AO_NAME_MAX, ActivationObject, TokenLicense
from .cim import InstanceNotFound, MethodNotFound, ProviderError
from .events import hresult_hex
from .kms import (
    DEFAULT_ACTIVATION_INTERVAL,
    DEFAULT_KMS_PORT,
    DEFAULT_RENEWAL_INTERVAL,
    KmsEffective,
    KmsHostState,
    KmsRequest,
    KmsResponse,
    parse_port,
    parse_publish_list,
)
from .registry import HKLM, Registry, RegType
from .spp_products import (
    CHANNEL_AVMA,
    CHANNEL_CSVLK,
    CHANNEL_GVLK,
    KMS_VALIDITY,
    LICENSED,
    NOTIFICATION,
    OFFICE,
    OOB_GRACE,
    OOB_GRACE_PERIOD,
    OOT_GRACE,
    OOT_GRACE_PERIOD,
    SL_E_INVALID_PRODUCT_KEY,
    SL_E_MISMATCHED_PRODUCT_SKU,
    SL_E_PKEY_NOT_INSTALLED,
    UNLICENSED,
    KeyRing,
    Product,
    build_products,
    classify_key,
    digest,
    digits,
    synthesize_key,
)

if t.TYPE_CHECKING:
    from .machine import Machine

# --- registry locations ("Registry settings for volume activation"; slmgr.vbs) ------------------------

SPP_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
CURRENT_VERSION_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"

V_KMS_NAME = "KeyManagementServiceName"  # REG_SZ, global or per-SKU (slmgr /skms)
V_KMS_PORT = "KeyManagementServicePort"  # REG_SZ (slmgr /skms)
V_LOOKUP_DOMAIN = "KeyManagementServiceLookupDomain"  # REG_SZ (slmgr /skms-domain; the name is inferred)
V_LISTENING_PORT = "KeyManagementServiceListeningPort"  # REG_SZ (slmgr /sprt)
V_DISABLE_DNS = "DisableDnsPublishing"  # REG_DWORD, non-zero blocks publishing (slmgr /sdns)
V_LOW_PRIORITY = "EnableKmsLowPriority"  # REG_DWORD (slmgr /spri)
V_ACTIVATION_INTERVAL = "VLActivationInterval"  # REG_DWORD minutes (slmgr /sai)
V_RENEWAL_INTERVAL = "VLRenewalInterval"  # REG_DWORD minutes (slmgr /sri)
V_PUBLISH_LIST = "DnsDomainPublishList"  # REG_MULTI_SZ "domain, priority, weight"
V_SKIP_REARM = "SkipRearm"  # 1: slmgr /rearm does nothing (slmgr.vbs options)
V_USER_OPERATIONS = "UserOperations"  # 1: standard users may /ipk, /ilc, /rearm ("Optional configurations")
# Assumption: Microsoft documents no registry value for /skhc and /ckhc; this emulator keeps host
# caching in a REG_DWORD named after the WMI method (non-zero = caching disabled).
V_HOST_CACHING_DISABLED = "DisableKeyManagementServiceHostCaching"
# slmgr /act-type with an Activation ID: REG_DWORD VLActivationType under <AppID>\<SKU-ID>; "0, blank, or values
# other than 1-3 = all activation types allowed" (Registry Settings for Volume Activation).
# Assumption: the service-wide /act-type (no Activation ID) is the same value name directly under the SPP key;
# Microsoft does not document where it lives.
V_ACTIVATION_TYPE = "VLActivationType"

# --- HRESULTs ("Troubleshoot activation error codes" and slerror.h unless marked) ---------------------

SL_E_CHPA_PRODUCT_KEY_BLOCKED = 0xC004C003
SL_E_CIDIID_INVALID_DATA = 0xC004F02C
# AVMA guest not on a supported Hyper-V host ("Troubleshoot activation error codes").
SL_E_IA_INVALID_VIRTUALIZATION_PLATFORM = 0xC004FD01
SL_E_REARM_EXCEEDED = 0xC004D307
# Assumption: SL_E_NOT_SUPPORTED (slerror.h) for host-only methods on a non-host and for features the
# emulator does not model; the class documentation only says "an error is returned".
SL_E_NOT_SUPPORTED = 0xC004F016
# Assumption: SL_E_VALUE_NOT_FOUND (slerror.h) for an unknown policy name.
SL_E_VALUE_NOT_FOUND = 0xC004F012
# Assumption: E_INVALIDARG for out-of-range arguments (intervals outside 15..43200, port 0, ...).
E_INVALIDARG = 0x80070057
# Assumption: ERROR_NO_SUCH_DOMAIN as an HRESULT for AD-based activation outside a domain.
E_NO_SUCH_DOMAIN = 0x8007054B
SL_E_VL_BINDING_SERVICE_UNAVAILABLE = 0xC004F074
# Assumption: ERROR_SERVICE_DISABLED as an HRESULT when sppsvc is disabled and not running.
ERROR_SERVICE_DISABLED = 0x80070422


_CMID_NAMESPACE = uuid.UUID("3b8f4d52-5e55-5c1e-8a3d-636d69647773")


def default_cmid(fqdn: str) -> str:
    return str(uuid.uuid5(_CMID_NAMESPACE, fqdn.lower()))


class Licensing:
    """The Software Protection Platform state of one machine (what sppsvc and its token store hold)."""

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
        self._cmid: str | None = cmid
        self._cmid_generation = 0
        self.edition = machine.edition
        self.host = KmsHostState(extra_count=kms_extra_count, reachable=kms_reachable)
        self.effective: KmsEffective | None = None
        self.rearm_count = 1001 if self.edition.build >= 9200 else 3  # Assumption: Windows 8+ 1001, older 3.
        self.installed_licenses: set[str] = set()
        # Token-based activation issuance licenses (SoftwareLicensingTokenActivationLicense), from the fleet file.
        self.token_licenses: list[TokenLicense] = []
        # Windows 7 / 2008 R2 "Token-based Activation Only" flag (DisableKeyManagementServiceActivation).
        # Assumption: kept in the token store; Microsoft documents no registry value for it.
        self.kms_activation_disabled = False
        self.discovered = ("", 0, "")
        self.oob_until = machine.now() + OOB_GRACE_PERIOD
        config = machine.config
        host_config = config.kms_host
        office_hosts = host_config.office_versions if host_config is not None else ()
        # Office KMS host keys count their own clients: each KMS host key has its own count (Microsoft gives the
        # Office thresholds separately, "Activate Office by using KMS").
        # Assumption: one count for every Office version this host serves.
        self.office_host = KmsHostState(
            extra_count=host_config.office_extra_count if host_config is not None else 0, reachable=kms_reachable
        )
        self.products: list[Product] = build_products(self.edition, config.office, office_hosts)
        self._by_id = {product.id.lower(): product for product in self.products}
        for install in config.office:
            self._load(self.product(install.sku.sku_id), install.key, install.status)
        for version in office_hosts:
            # Assumption: the fleet's Office KMS host key (not a published key) is fabricated and activated.
            self._load(self.product(office.HOST_ACTIVATION_IDS[version]), synthesize_key("office", version), LICENSED)

    # --- client machine ID ------------------------------------------------------------------------------

    @property
    def cmid(self) -> str:
        """The CMID; a cleared one (after a rearm or sysprep /generalize) is made anew on first use ("boot")."""
        if self._cmid is None:
            # Assumption: derived from the FQDN and how many times it was cleared (Windows makes a new one; how
            # is not documented), so every clone of a generalized image gets its own and runs are reproducible.
            self._cmid = str(uuid.uuid5(_CMID_NAMESPACE, f"{self.machine.fqdn.lower()}|{self._cmid_generation}"))
        return self._cmid

    @cmid.setter
    def cmid(self, value: str) -> None:
        self._cmid = value

    @property
    def cmid_cleared(self) -> bool:
        return self._cmid is None

    def clear_cmid(self) -> None:
        # "The Client Machine ID (CMID) is cleared during the Sysprep process" and by slmgr /rearm (Microsoft's
        # Azure article on duplicate client machine IDs; "KMS activation issues").
        self._cmid = None
        self._cmid_generation += 1

    # --- products ------------------------------------------------------------------------------------

    def product(self, product_id: str) -> Product:
        found = self._by_id.get(product_id.strip("{}").lower())
        if found is None:
            raise InstanceNotFound(f"No SoftwareLicensingProduct with ID {product_id!r}")
        return found

    def windows_products(self) -> list[Product]:
        return [product for product in self.products if product.is_windows]

    def windows_product(self) -> Product | None:
        """The Windows product with a key (at most one at a time here), the one slmgr.vbs works on."""
        return next((p for p in self.windows_products() if p.key is not None), None)

    def _target_for_key(self, key: str) -> Product:
        """Which SKU a key installs on, or the SPP error."""
        channel, group = classify_key(self.edition, self.keyring, key)
        if channel == OFFICE:
            sku = office.sku_for_gvlk(key)
            found = self._by_id.get(sku.sku_id) if sku is not None else None
            if found is None:
                # Assumption: the GVLK of an Office product that is not installed has no SKU here (its license is
                # installed with the product), like a GVLK of another Windows edition.
                raise ProviderError(SL_E_MISMATCHED_PRODUCT_SKU, "No installed Office product takes this key")
            return found
        return next(p for p in self.windows_products() if p.channel == channel and p.csvlk_group == group)

    # --- initial state from the fleet file ---------------------------------------------------------------

    def load_license(self, key: str | None, status: int) -> None:
        """Install the fleet file's key with its status, without counting writes."""
        if key is None:
            return
        self._load(self._target_for_key(key), key, status)

    def _load(self, product: Product, key: str | None, status: int) -> None:
        if key is None:
            return
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

    def sku_key(self, product: Product) -> str:
        return f"{SPP_KEY}\\{product.app_id}\\{product.id}"

    def _app_key(self, product: Product) -> str:
        return f"{SPP_KEY}\\{product.app_id}"

    def is_kms_host(self) -> bool:
        """IsKeyManagementServiceMachine: a CSVLK is installed (slmgr.vbs: a VOLUME_KMS Description marker)."""
        return any(p.channel == CHANNEL_CSVLK and p.key is not None for p in self.windows_products())

    def host_product(self) -> Product | None:
        return next((p for p in self.windows_products() if p.channel == CHANNEL_CSVLK and p.key), None)

    def office_host_product(self, version: str) -> Product | None:
        """The activated Office KMS host SKU of this version, when the host serves it."""
        return next(
            (
                p
                for p in self.products
                if p.is_office and p.channel == CHANNEL_CSVLK and p.office_version == version and p.key
            ),
            None,
        )

    def host_state(self, product: Product) -> KmsHostState:
        """The count a KMS host SKU reports: Windows' own, or the Office one."""
        return self.office_host if product.is_office else self.host

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
        """Host settings take effect when sppsvc (re)starts ("Deploying KMS activation"; slmgr's restart warning)."""
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
        seed = digest("epid", self.machine.fqdn)
        return f"06401-00206-{digits(seed, 3)}-{digits(seed[8:], 6)}-03-1033-{self.edition.build}.0000-0012025"

    def _write_digital_product_id(self, product: Product) -> None:
        if not product.is_windows or product.key is None:
            return
        # The binary deliberately does not encode the key: state dumps must never show a full key.
        blob = digest("dpid", self.machine.fqdn, product.id)
        self.registry.set_value(HKLM, CURRENT_VERSION_KEY, "DigitalProductId", RegType.BINARY, blob * 5, count=False)
        self.registry.set_value(
            HKLM, CURRENT_VERSION_KEY, "ProductId", RegType.SZ, self.product_key_id(product), count=False
        )

    def product_key_id(self, product: Product) -> str:
        seed = digest("pid", product.key or "", product.id)
        return f"{digits(seed, 5)}-{digits(seed[4:], 5)}-{digits(seed[8:], 5)}-AA{digits(seed[12:], 3)}"

    def installation_id(self, product: Product) -> str:
        return digits(digest("iid", product.key or "", self.cmid) * 2, 63)

    def confirmation_id(self, product: Product) -> str:
        """The confirmation ID the emulated activation center (phone, or slui 4) gives for the product's IID.

        "the 48-digit confirmation ID" ("Configure a KMS host computer for Office").
        Assumption: the real clearinghouse's derivation is not public; any other CID is wrong (0xC004F02C), as a
        mistyped one is on Windows.
        """
        return digits(digest("cid", self.installation_id(product)), 48)

    # --- registry-backed settings ---------------------------------------------------------------------

    def registered_kms(self, product: Product) -> tuple[str, int]:
        """KMS name/port in the order of "KMS discovery search order": SKU, AppID, then the global value."""
        reg = self.registry
        levels = (self.sku_key(product), self._app_key(product), SPP_KEY)
        name = next((n for n in (reg.read_str(level, V_KMS_NAME) for level in levels) if n), "")
        port = next((p for p in (parse_port(reg.read_str(level, V_KMS_PORT)) for level in levels) if p), 0)
        return name, port

    def lookup_domain(self, product: Product) -> str:
        reg = self.registry
        return reg.read_str(self.sku_key(product), V_LOOKUP_DOMAIN) or reg.read_str(SPP_KEY, V_LOOKUP_DOMAIN) or ""

    def activation_type(self, product: Product) -> int:
        reg = self.registry
        value = reg.read_dword(self.sku_key(product), V_ACTIVATION_TYPE)
        if value is None:
            value = reg.read_dword(SPP_KEY, V_ACTIVATION_TYPE)
        return value if value in (1, 2, 3) else 0  # anything else means all types

    def set_string(self, path: str, name: str, value: str) -> None:
        self.registry.create_key(HKLM, path)
        self.registry.set_value(HKLM, path, name, RegType.SZ, value)

    def set_dword(self, path: str, name: str, value: int) -> None:
        self.registry.create_key(HKLM, path)
        self.registry.set_value(HKLM, path, name, RegType.DWORD, value)

    def clear_value(self, path: str, name: str) -> None:
        self.registry.delete_value(HKLM, path, name)

    @property
    def version(self) -> str:
        # Assumption: Version = OS version.build plus revision 1; real hosts report their sppsvc file version
        # (e.g. 10.0.17134.471), so clients must read it, never build it.
        return f"{self.edition.full_version}.1"

    # --- keys and licenses ----------------------------------------------------------------------------

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
        target.ad_object = None
        if now < self.oob_until:
            target.status, target.until = OOB_GRACE, self.oob_until
        else:
            target.status, target.until = NOTIFICATION, None
        self._write_digital_product_id(target)
        if target.channel == CHANNEL_CSVLK:
            # The host only listens after the next sppsvc start; the network must know it may.
            self.machine.network.register_kms_host(self.machine)
        self.machine.count_write()
        return target

    def uninstall_product_key(self, product: Product) -> None:
        if product.key is None:
            raise ProviderError(SL_E_PKEY_NOT_INSTALLED, "The product key is not available")
        product.key = None
        product.status, product.until = UNLICENSED, None
        product.kms_epid = ""
        product.ad_object = None
        self.machine.count_write()

    def install_license(self, text: str) -> None:
        # Assumption: a license is XrML text; anything that is not markup is rejected as E_INVALIDARG.
        if not text.lstrip().startswith("<"):
            raise ProviderError(E_INVALIDARG, "The license is not a license document")
        self.installed_licenses.add(hashlib.sha256(text.encode()).hexdigest())
        self.machine.count_write()

    def clear_product_key_from_registry(self) -> None:
        # slmgr /cpky removes the key material from the registry [inferred: DigitalProductId].
        for name in ("DigitalProductId", "DigitalProductId4"):
            self.registry.delete_value(HKLM, CURRENT_VERSION_KEY, name)

    def ad_offline_installation_id(self, raw_key: str) -> str:
        """The installation ID of Active Directory-based activation by phone, for a CSVLK."""
        key, _group = self._ad_csvlk(raw_key)
        return digits(digest("adiid", key, self.cmid) * 2, 63)

    # --- rearm ----------------------------------------------------------------------------------------

    def rearm_windows(self) -> None:
        if self.registry.read_dword(SPP_KEY, V_SKIP_REARM) == 1:
            return  # slmgr /rearm does nothing with SkipRearm = 1
        if self.rearm_count == 0:
            raise ProviderError(SL_E_REARM_EXCEEDED, "The maximum allowed number of re-arms has been exceeded")
        self.rearm_count -= 1  # Assumption: each rearm spends one (Microsoft states no decrement in so many words)
        self._rearm(self.windows_products())
        self.clear_cmid()
        self.machine.count_write()

    def skip_rearm(self) -> bool:
        return self.registry.read_dword(SPP_KEY, V_SKIP_REARM) == 1

    def generalize(self) -> bool:
        """sysprep /generalize's licensing part; returns whether it rearmed.

        SkipRearm 0 (or absent) restores the out-of-box licensing state: a rearm, which clears the CMID; with
        SkipRearm 1 "the Windows licensing state will not be changed" and the CMID is kept (the SkipRearm
        unattend reference; Microsoft's Azure article on duplicate client machine IDs).
        """
        # Assumption: the KMS client settings (KeyManagementServiceName, port, lookup domain) survive generalize,
        # as image guides that set them before sysprep rely on; no Microsoft text lists which values are reset.
        if self.skip_rearm():
            return False
        self.rearm_windows()
        return True

    def rearm_app(self, raw_app_id: str) -> None:
        app_id = raw_app_id.strip("{}").lower()
        products = [p for p in self.products if p.app_id == app_id]
        if not products:
            raise ProviderError(E_INVALIDARG, f"Unknown application {app_id}")
        if any(p.remaining_app_rearm == 0 for p in products):
            raise ProviderError(SL_E_REARM_EXCEEDED, "The maximum allowed number of re-arms has been exceeded")
        for product in products:
            product.remaining_app_rearm -= 1
        self._rearm(products)
        self.machine.count_write()

    def rearm_sku(self, product: Product) -> None:
        if product.remaining_sku_rearm == 0:
            raise ProviderError(SL_E_REARM_EXCEEDED, "The maximum allowed number of re-arms has been exceeded")
        product.remaining_sku_rearm -= 1
        self._rearm([product])
        self.machine.count_write()

    def _rearm(self, products: list[Product]) -> None:
        # A rearm resets the licensing status to out-of-box grace ("Volume Activation Technical Reference").
        now = self.machine.now()
        self.oob_until = now + OOB_GRACE_PERIOD
        for product in products:
            if product.key is not None:
                product.status, product.until = OOB_GRACE, self.oob_until

    # --- activation ------------------------------------------------------------------------------------

    def activate(self, product: Product) -> None:
        if product.key is None:
            raise ProviderError(SL_E_PKEY_NOT_INSTALLED, "The product key is not available")
        if product.channel == CHANNEL_GVLK:
            if not self._ad_activate(product):
                if self.kms_activation_disabled:
                    # Assumption: with /stao set a Windows 7 client never contacts a KMS host (token only).
                    raise ProviderError(SL_E_VL_BINDING_SERVICE_UNAVAILABLE, "Token-based activation only (/stao)")
                kms.activate(self, product)
        elif product.channel == CHANNEL_AVMA:
            self._avma_activate(product)
        else:
            self._online_activate(product)

    # --- Active Directory-based activation ----------------------------------------------------------------

    def supports_ad_activation(self) -> bool:
        """Windows 8 / Server 2012 and later ("Deploy Active Directory-based Activation")."""
        return self.edition.build >= 9200

    def _ad_activate(self, product: Product) -> bool:
        """A domain member of Windows 8+ activates against an activation object of its forest that covers it, when
        its activation type allows AD; otherwise it falls back to KMS ("Deploy Active Directory-based Activation")."""
        if not (self.supports_ad_activation() and self.machine.config.domain_joined and product.is_windows):
            return False
        if self.activation_type(product) not in (0, 1) or product.edition is None:
            return False
        for ao in self.machine.network.forests.objects(self.machine.domain):
            group = ed.CSVLK_GROUPS.get(ao.csvlk_group)
            if group is not None and group.covers(product.edition):
                # Assumption: an AD activation lasts as long as a KMS one (180 days), renewed the same way.
                product.status, product.until = LICENSED, self.machine.now() + KMS_VALIDITY
                product.activation_type_used = 1
                product.ad_object = ao
                self.machine.count_write()
                return True
        return False

    def _ad_csvlk(self, raw_key: str) -> tuple[str, str]:
        """(key, CSVLK group) for the ProductKey of the AD activation methods, or the SPP error."""
        if not self.supports_ad_activation():
            # Assumption: Windows 7's class has no AD activation methods (the Windows 7 slmgr.vbs has no options).
            raise MethodNotFound("Active Directory-based activation needs Windows 8 / Server 2012 or later")
        key = ed.normalize_key(raw_key)
        entry = self.keyring.get(key or "")
        if key is None or entry is None or entry.channel != CHANNEL_CSVLK or entry.csvlk_group is None:
            raise ProviderError(SL_E_INVALID_PRODUCT_KEY, "Active Directory activation needs a CSVLK")
        if entry.blocked:
            raise ProviderError(SL_E_CHPA_PRODUCT_KEY_BLOCKED, "The product key is blocked")
        return key, entry.csvlk_group

    def _ad_publish(self, key: str, group: str, name: str) -> ActivationObject:
        if len(name) > AO_NAME_MAX:
            # Assumption: E_INVALIDARG; slmgr.vbs options only say the name "must not exceed 40 Unicode characters".
            raise ProviderError(E_INVALIDARG, f"The activation object name is longer than {AO_NAME_MAX} characters")
        if not self.machine.config.domain_joined:
            # Assumption: ERROR_NO_SUCH_DOMAIN as an HRESULT when the machine is in no domain.
            raise ProviderError(E_NO_SUCH_DOMAIN, "The machine is not joined to a domain")
        # Assumption: an unnamed object is named after its CSVLK group (slmgr passes "" when no name is given).
        ao = ActivationObject(name or f"{group} AO", key, group, self.machine.domain)
        published = self.machine.network.forests.publish(ao)
        self.machine.count_write()
        return published

    def ad_online_activation(self, raw_key: str, name: str) -> None:
        key, group = self._ad_csvlk(raw_key)
        self._ad_publish(key, group, name)

    def ad_offline_confirmation_id(self, raw_key: str) -> str:
        """The activation center's confirmation ID for the AD installation ID (a test aid, as for phone activation).

        Assumption: the clearinghouse's derivation is not public; any other confirmation ID is wrong (0xC004F02C).
        """
        return digits(digest("adcid", self.ad_offline_installation_id(raw_key)), 48)

    def ad_offline_deposit(self, raw_key: str, cid: str, name: str) -> None:
        key, group = self._ad_csvlk(raw_key)
        if cid.replace("-", "").replace(" ", "") != self.ad_offline_confirmation_id(key):
            raise ProviderError(SL_E_CIDIID_INVALID_DATA, "The offline activation data is incorrect")
        self._ad_publish(key, group, name)

    # --- token-based activation ----------------------------------------------------------------------------

    def uninstall_token_license(self, license_id: str) -> None:
        found = next((tl for tl in self.token_licenses if tl.id.lower() == license_id.strip("{}").lower()), None)
        if found is None:
            raise InstanceNotFound(f"No SoftwareLicensingTokenActivationLicense with ID {license_id!r}")
        self.token_licenses.remove(found)
        self.machine.count_write()

    def set_token_activation_only(self, disable_kms: bool) -> None:
        """Windows 7 / 2008 R2 DisableKeyManagementServiceActivation (slmgr /stao, /ctao)."""
        if self.supports_ad_activation():
            # Removed in Windows 8.1 / 2012 R2 ("use /act-type"); absent from the 2019 and 23H2 schemas.
            raise MethodNotFound("DisableKeyManagementServiceActivation is a Windows 7 / Server 2008 R2 method")
        self.kms_activation_disabled = disable_kms
        self.machine.count_write()

    def _avma_activate(self, product: Product) -> None:
        """AVMA: the guest activates against its Hyper-V host ("Automatic virtual machine activation in Windows
        Server"): the host must run Windows Server Datacenter with Hyper-V, and a host activates guests of its
        own release and older ones (the page's host/guest table)."""
        host = self.machine.config.hyperv_host
        guest_build = self.edition.build
        if host is None or host[1] != "ServerDatacenter" or host[2] < guest_build:
            raise ProviderError(SL_E_IA_INVALID_VIRTUALIZATION_PLATFORM, "Not on a supported AVMA host")
        product.status, product.until = LICENSED, None
        product.avma_host_name = host[0]
        product.avma_activation_time = self.machine.now()
        # Assumption: the host's Digital PID2 format is not documented; a stable synthetic value.
        product.avma_host_pid2 = digits(digest("avma-pid2", host[0]), 20)
        self.machine.count_write()

    def _online_activate(self, product: Product) -> None:
        """MAK, Retail and CSVLK activate against Microsoft's servers."""
        entry = self.keyring.get(product.key or "")
        # Assumption: the emulated Microsoft activation servers accept every fleet key unless the key
        # entry says blocked (then 0xC004C003).
        if entry is not None and entry.blocked:
            raise ProviderError(SL_E_CHPA_PRODUCT_KEY_BLOCKED, "The product key is blocked")
        product.status, product.until = LICENSED, None
        product.activation_type_used = 0
        product.ad_object = None
        self.machine.count_write()

    def deposit_offline_confirmation(self, product: Product, iid: str, cid: str) -> None:
        """Phone activation: the confirmation ID for the product's installation ID."""
        if product.key is None:
            raise ProviderError(SL_E_PKEY_NOT_INSTALLED, "The product key is not available")
        if product.channel == CHANNEL_GVLK:
            raise ProviderError(SL_E_NOT_SUPPORTED, "KMS clients activate against a KMS host")
        if iid != self.installation_id(product) or cid != self.confirmation_id(product):
            raise ProviderError(SL_E_CIDIID_INVALID_DATA, "The offline activation data is incorrect")
        self._online_activate(product)

    def kms_activated(self, product: Product, candidate: kms.Candidate, host: Machine, result: KmsResponse) -> None:
        now = self.machine.now()
        product.status, product.until = LICENSED, now + KMS_VALIDITY  # 180 days ("KMS activation planning")
        product.kms_epid = result.epid
        product.discovered_name = host.fqdn if candidate.source == "dns" else candidate.name
        product.discovered_port = candidate.port
        product.discovered_ip = host.ip
        product.cached_host = (candidate.name, candidate.port)
        # The client switches to the host's intervals after the first response ("VA 2.0 operations guide").
        product.host_activation_interval = result.activation_interval
        product.host_renewal_interval = result.renewal_interval
        product.activation_type_used = 2
        product.ad_object = None
        self.discovered = (product.discovered_name, product.discovered_port, product.discovered_ip)
        self.machine.count_write()

    # --- state dump ---------------------------------------------------------------------------------------

    def state(self) -> dict[str, t.Any]:
        """Products, KMS host and rearm state for ``Machine.state`` (the service's WMI view is added there)."""
        now = self.machine.now()
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
                    # The activation center's answer for phone activation (a test aid, not a Windows value).
                    "phone_confirmation_id": (
                        self.confirmation_id(product) if product.key and product.channel != CHANNEL_GVLK else None
                    ),
                    "license_status": status,
                    "license_status_reason": hresult_hex(reason),
                    "grace_period_remaining": minutes,
                    "discovered_kms": product.discovered_name or None,
                    "discovered_port": product.discovered_port or None,
                    "cached_host": list(product.cached_host) if product.cached_host else None,
                    "activation_type_used": product.activation_type_used,
                    "ad_activation_object": product.ad_object.name if product.ad_object else None,
                }
            )
        host = self.is_kms_host()
        host_product = self.host_product()
        return {
            "products": products,
            "kms_host": {
                "enabled": host,
                "activated": self.host_activated(),
                "csvlk_group": host_product.csvlk_group if host_product is not None else None,
                "current_count": self.host.current_count(now) if host else None,
                "extra_count": self.host.extra_count,
                "office_current_count": self.office_host.current_count(now) if host else None,
                "office_versions": sorted(
                    p.office_version or "" for p in self.products if p.is_office and p.channel == CHANNEL_CSVLK
                ),
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
            "token_licenses": [{"id": tl.id, "ilid": tl.ilid, "ilvid": tl.ilvid} for tl in self.token_licenses],
            "installed_licenses": sorted(self.installed_licenses),
            "kms_activation_disabled": self.kms_activation_disabled,
            # The activation center's answer for AD-based activation by phone, per CSVLK (shown by its last five
            # characters only); a test aid, not a Windows value.
            "ad_confirmation_ids": {
                entry.key[-5:]: self.ad_offline_confirmation_id(entry.key)
                for entry in self.keyring.values()
                # A cleared CMID stays cleared: the IID derives from it, and reading it would make a new one.
                if entry.channel == CHANNEL_CSVLK
                and entry.csvlk_group
                and self.supports_ad_activation()
                and not self.cmid_cleared
            },
        }
