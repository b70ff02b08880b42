"""The WMI face of the Software Protection Platform: the SoftwareLicensingService and SoftwareLicensingProduct
classes of one machine, their properties and methods mapped onto :class:`spp.Licensing`.

Property and method names follow the SoftwareLicensingService and SoftwareLicensingProduct class
documentation on Microsoft Learn. A failing method raises :class:`cim.ProviderError` with the SPP HRESULT,
which is how slmgr.vbs sees failures too (it never reads ``ReturnValue``).
"""

from __future__ import annotations

import datetime
import typing as t

from . import kms
from .cim import AccessDenied, CallContext, CimValue, InvalidParameter, MethodNotFound, ProviderError
from .kms import DEFAULT_ACTIVATION_INTERVAL, DEFAULT_KMS_PORT, DEFAULT_RENEWAL_INTERVAL, INTERVAL_RANGE, parse_port
from .spp import (
    E_INVALIDARG,
    SL_E_NOT_SUPPORTED,
    SL_E_VALUE_NOT_FOUND,
    SPP_KEY,
    V_ACTIVATION_INTERVAL,
    V_ACTIVATION_TYPE,
    V_DISABLE_DNS,
    V_HOST_CACHING_DISABLED,
    V_KMS_NAME,
    V_KMS_PORT,
    V_LISTENING_PORT,
    V_LOOKUP_DOMAIN,
    V_LOW_PRIORITY,
    V_RENEWAL_INTERVAL,
    Licensing,
)
from .spp_products import CHANNEL_CSVLK, CHANNEL_GVLK, Product, digest, digits

UINT32_MINUS_ONE = 0xFFFFFFFF  # KeyManagementServiceCurrentCount "-1" as the uint32 WMI returns

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

# Methods that only read: allowed to every caller. The rest change state and need an administrator (the
# slmgr.vbs options that call them must run elevated), or, with UserOperations = 1, a standard user for
# the operations "Appendix A: Optional Configurations" (Windows 7 volume activation) lists: install keys
# and licenses, activate, rearm.
_READ_METHODS = frozenset(
    {
        "GetPolicyInformationDWord",
        "GetPolicyInformationString",
        "GetTokenActivationGrants",
        "GenerateActiveDirectoryOfflineActivationId",
        "RefreshLicenseStatus",
    }
)
# "Local administrator access is not required" for AD-based activation, only read/write access to the forest's
# activation objects container (slmgr.vbs options). Assumption: the directory's access control is not modelled, so
# any account that may use WMI may call them.
_AD_METHODS = frozenset({"DoActiveDirectoryOnlineActivation", "DepositActiveDirectoryOfflineActivationConfirmation"})
_USER_OPERATIONS = frozenset(
    {"InstallProductKey", "InstallLicense", "InstallLicensePackage", "ReArmWindows", "Activate"}
)

Params = t.Mapping[str, CimValue]


class SppProvider:
    """SoftwareLicensingService + SoftwareLicensingProduct of one machine, over its licensing state."""

    def __init__(self, licensing: Licensing) -> None:
        self.spp = licensing

    # --- instances ----------------------------------------------------------------------------------------

    def service_instance(self, *, boot: bool = True) -> dict[str, CimValue]:
        """The service as WMI shows it; ``boot=False`` (state dumps) leaves a cleared CMID cleared."""
        spp = self.spp
        reg = spp.registry
        now = spp.machine.now()
        host = spp.is_kms_host()
        count = spp.host.current_count(now) if host else 0
        props: dict[str, CimValue] = {
            "Version": spp.version,
            "ClientMachineID": spp.cmid if boot or not spp.cmid_cleared else None,
            # Assumption: unset string settings read as "" (the class documentation only says null/empty).
            "KeyManagementServiceMachine": reg.read_str(SPP_KEY, V_KMS_NAME) or "",
            "KeyManagementServicePort": parse_port(reg.read_str(SPP_KEY, V_KMS_PORT)),  # 0 when unset (documented)
            "KeyManagementServiceLookupDomain": reg.read_str(SPP_KEY, V_LOOKUP_DOMAIN) or "",
            **self._running_settings(),
            "KeyManagementServiceHostCaching": spp.host_caching(),
            "KeyManagementServiceProductKeyID": spp.epid() if host else "",
            # Documented: -1 when not a KMS host or no request received yet.
            "KeyManagementServiceCurrentCount": count if host and count else UINT32_MINUS_ONE,
            "IsKeyManagementServiceMachine": 1 if host else 0,
            # Assumption: a host reports the client threshold (25), other machines 0.
            "RequiredClientCount": 25 if host else 0,
            **self._counter_props(host),
            "DiscoveredKeyManagementServiceMachineName": spp.discovered[0],
            "DiscoveredKeyManagementServiceMachinePort": spp.discovered[1],
            "DiscoveredKeyManagementServiceMachineIpAddress": spp.discovered[2],
            "PolicyCacheRefreshRequired": 0,
            "RemainingWindowsReArmCount": spp.rearm_count,
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
            "KeyManagementServiceActivationDisabled": (
                None if spp.supports_ad_activation() else spp.kms_activation_disabled
            ),
        }
        return props

    def _running_settings(self) -> dict[str, CimValue]:
        """The settings sppsvc reads when it starts, as the running service reports them.

        Assumption: SoftwareLicensingService reports the values sppsvc runs with (those of its last start),
        while the registry holds the configured ones until the restart "Deploying KMS activation" and
        slmgr.vbs's "a KMS reboot is needed" warning ask for. Before sppsvc ever started (a state dump only:
        every WMI query starts it first) the configured values are shown.
        """
        spp = self.spp
        running = spp.effective if spp.effective is not None else spp.configured_host_settings()
        return {
            # 0 when it is the default, as for a port never set (the class documentation).
            "KeyManagementServiceListeningPort": 0
            if running.listening_port == DEFAULT_KMS_PORT
            else running.listening_port,
            "KeyManagementServiceDnsPublishing": running.dns_publishing,
            "KeyManagementServiceLowPriority": running.low_priority,
            "VLActivationInterval": running.activation_interval,
            "VLRenewalInterval": running.renewal_interval,
        }

    def _counter_props(self, host: bool, counters: t.Mapping[str, int] | None = None) -> dict[str, CimValue]:
        counters = self.spp.host.counters if counters is None else counters
        return {f"KeyManagementService{name}Requests": (counters[name] if host else 0) for name in kms.COUNTER_NAMES}

    def product_instances(self) -> list[dict[str, CimValue]]:
        return [self.product_instance(product) for product in self.spp.products]

    def product_instance(self, product: Product) -> dict[str, CimValue]:
        spp = self.spp
        now = spp.machine.now()
        status, reason, minutes = product.effective(now)
        name, port = spp.registered_kms(product)
        host = product.channel == CHANNEL_CSVLK and product.key is not None
        host_state = spp.host_state(product)
        count = host_state.current_count(now) if host else 0
        kms_client = product.channel == CHANNEL_GVLK
        reg = spp.registry
        ad = product.ad_object if product.activation_type_used == 1 else None
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
            "OfflineInstallationId": spp.installation_id(product) if product.key else None,
            "PartialProductKey": product.partial_key,
            "ProductKeyID": spp.product_key_id(product) if product.key else None,
            "ProductKeyID2": spp.product_key_id(product) if product.key else None,
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
            "VLActivationTypeEnabled": spp.activation_type(product),
            "KeyManagementServiceProductKeyID": product.kms_epid if kms_client else (spp.epid() if host else ""),
            # Assumption: the product reports its effective registration (per-SKU, else AppID/global),
            # which is what slmgr /dlv prints as "Registered KMS machine name".
            "KeyManagementServiceMachine": name,
            "KeyManagementServiceLookupDomain": spp.lookup_domain(product),
            "KeyManagementServicePort": port,
            "DiscoveredKeyManagementServiceMachineName": product.discovered_name,
            "DiscoveredKeyManagementServiceMachineIpAddress": product.discovered_ip,
            "DiscoveredKeyManagementServiceMachinePort": product.discovered_port,
            "IsKeyManagementServiceMachine": 1 if host else 0,
            "KeyManagementServiceCurrentCount": count if host and count else UINT32_MINUS_ONE,
            "RequiredClientCount": product.n_policy if kms_client else (25 if host else 0),
            **self._counter_props(host, host_state.counters),
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
            # The activation object that activated the product (slmgr /dli "AD Activation client information").
            "ADActivationObjectName": ad.name if ad else None,
            "ADActivationObjectDN": ad.dn if ad else None,
            "ADActivationCsvlkPid": ad.csvlk_pid if ad else None,
            "ADActivationCsvlkSkuId": ad.csvlk_sku_id if ad else None,
            # AVMA (strings in the class schema; the time is a CIM datetime string).
            # Assumption: the guest IAID is not documented beyond its name; a stable synthetic value once activated.
            "IAID": digits(digest("iaid", product.id, spp.cmid), 20) if product.avma_host_name else None,
            "AutomaticVMActivationHostMachineName": product.avma_host_name or None,
            "AutomaticVMActivationLastActivationTime": (
                product.avma_activation_time.strftime("%Y%m%d%H%M%S.000000+000")
                if product.avma_activation_time
                else None
            ),
            "AutomaticVMActivationHostDigitalPid2": product.avma_host_pid2 or None,
        }

    def token_license_instances(self) -> list[dict[str, CimValue]]:
        return [t.cast(dict[str, CimValue], tl.as_cim()) for tl in self.spp.token_licenses]

    def invoke_token_license(self, license_id: str, method: str, ctx: CallContext) -> dict[str, CimValue]:
        # "Uninstall method of the SoftwareLicensingTokenActivationLicense class"; slmgr /ril must run elevated.
        self._authorize(method, ctx)
        self.spp.uninstall_token_license(license_id)
        return {"ReturnValue": 0}

    def state(self) -> dict[str, t.Any]:
        """The licensing part of ``Machine.state``: the service as WMI shows it, then products and KMS host."""
        service = {
            key: (value.isoformat() if isinstance(value, datetime.datetime) else value)
            for key, value in self.service_instance(boot=False).items()
        }
        return {"service": service, **self.spp.state()}

    # --- method dispatch ----------------------------------------------------------------------------------

    def _authorize(self, method: str, ctx: CallContext) -> None:
        if ctx.is_admin or method in _READ_METHODS or method in _AD_METHODS:
            return
        eff = self.spp.effective
        if method in _USER_OPERATIONS and eff is not None and eff.user_operations:
            return
        # Assumption: SPP state changes need an unfiltered administrator token (UAC filters the token of a
        # remote local non-RID-500 administrator); a standard user gets E_ACCESSDENIED as a WMI error.
        raise AccessDenied(f"{method} requires administrator rights")

    def invoke_service(self, method: str, params: Params, ctx: CallContext) -> dict[str, CimValue]:
        self._authorize(method, ctx)
        handler = getattr(self, f"_svc_{method}", None)
        if handler is None:
            raise ProviderError(SL_E_NOT_SUPPORTED, f"SoftwareLicensingService.{method} is not supported")
        result = handler(params)
        return {"ReturnValue": 0, **(result or {})}

    def invoke_product(self, product: Product, method: str, params: Params, ctx: CallContext) -> dict[str, CimValue]:
        self._authorize(method, ctx)
        handler = getattr(self, f"_prod_{method}", None)
        if handler is None:
            raise ProviderError(SL_E_NOT_SUPPORTED, f"SoftwareLicensingProduct.{method} is not supported")
        result = handler(product, params)
        return {"ReturnValue": 0, **(result or {})}

    # --- parameter checks ---------------------------------------------------------------------------------

    @staticmethod
    def _str(params: Params, name: str, *, required: bool = True) -> str:
        value = params.get(name)
        if value is None:
            if required:
                raise InvalidParameter(f"Missing parameter {name}")
            return ""
        if not isinstance(value, str):
            raise InvalidParameter(f"{name} must be a string")
        return value

    @staticmethod
    def _uint(params: Params, name: str) -> int:
        value = params.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidParameter(f"Missing or non-integer parameter {name}")
        return value

    @staticmethod
    def _bool(params: Params, name: str) -> bool:
        value = params.get(name)
        if not isinstance(value, bool):
            raise InvalidParameter(f"Missing or non-boolean parameter {name}")
        return value

    def _require_host(self, method: str) -> None:
        if not self.spp.is_kms_host():
            raise ProviderError(SL_E_NOT_SUPPORTED, f"{method} applies to KMS hosts only")

    @staticmethod
    def _check_port(port: int) -> None:
        if not 0 < port <= 0xFFFF:
            raise ProviderError(E_INVALIDARG, f"Port {port} is out of range")

    @staticmethod
    def _check_interval(minutes: int) -> None:
        if minutes not in INTERVAL_RANGE:
            raise ProviderError(E_INVALIDARG, f"Interval {minutes} is outside 15..43200 minutes")

    def _require_activation_type(self) -> None:
        # Assumption: Windows 7 / 2008 R2 has no VLActivationType methods (its slmgr.vbs has no /act-type, only
        # /stao and /ctao over DisableKeyManagementServiceActivation).
        if not self.spp.supports_ad_activation():
            raise MethodNotFound("SetVLActivationTypeEnabled needs Windows 8 / Server 2012 or later")

    def _set_activation_type(self, path: str, params: Params) -> None:
        kind = self._uint(params, "ActivationType")
        if kind not in (0, 1, 2, 3):  # 0 all, 1 AD, 2 KMS, 3 Token (slmgr.vbs /act-type)
            raise ProviderError(E_INVALIDARG, f"ActivationType {kind} is not 0..3")
        self.spp.set_dword(path, V_ACTIVATION_TYPE, kind)

    def _set_kms_machine(self, path: str, params: Params) -> None:
        name = self._str(params, "MachineName").strip()
        if not name:
            raise ProviderError(E_INVALIDARG, "MachineName is empty")
        self.spp.set_string(path, V_KMS_NAME, name)

    def _set_kms_port(self, path: str, params: Params) -> None:
        port = self._uint(params, "PortNumber")
        self._check_port(port)
        self.spp.set_string(path, V_KMS_PORT, str(port))  # REG_SZ, as slmgr /skms stores it

    def _set_lookup_domain(self, path: str, params: Params) -> None:
        domain = self._str(params, "LookupDomain").strip()
        if not domain:
            raise ProviderError(E_INVALIDARG, "LookupDomain is empty")
        self.spp.set_string(path, V_LOOKUP_DOMAIN, domain)

    # --- SoftwareLicensingService methods ---------------------------------------------------------------

    def _svc_InstallProductKey(self, params: Params) -> None:
        self.spp.install_product_key(self._str(params, "ProductKey"))

    def _svc_InstallLicense(self, params: Params) -> None:
        self.spp.install_license(self._str(params, "License"))

    def _svc_InstallLicensePackage(self, params: Params) -> None:
        self.spp.install_license(self._str(params, "LicensePackage"))

    def _svc_SetKeyManagementServiceMachine(self, params: Params) -> None:
        self._set_kms_machine(SPP_KEY, params)

    def _svc_ClearKeyManagementServiceMachine(self, params: Params) -> None:
        self.spp.clear_value(SPP_KEY, V_KMS_NAME)

    def _svc_SetKeyManagementServicePort(self, params: Params) -> None:
        self._set_kms_port(SPP_KEY, params)

    def _svc_ClearKeyManagementServicePort(self, params: Params) -> None:
        self.spp.clear_value(SPP_KEY, V_KMS_PORT)

    def _svc_SetKeyManagementServiceLookupDomain(self, params: Params) -> None:
        self._set_lookup_domain(SPP_KEY, params)

    def _svc_ClearKeyManagementServiceLookupDomain(self, params: Params) -> None:
        self.spp.clear_value(SPP_KEY, V_LOOKUP_DOMAIN)

    def _svc_SetKeyManagementServiceListeningPort(self, params: Params) -> None:
        self._require_host("SetKeyManagementServiceListeningPort")
        port = self._uint(params, "PortNumber")
        self._check_port(port)
        self.spp.set_string(SPP_KEY, V_LISTENING_PORT, str(port))  # REG_SZ ("Registry settings for volume activation")

    def _svc_ClearKeyManagementServiceListeningPort(self, params: Params) -> None:
        self._require_host("ClearKeyManagementServiceListeningPort")
        self.spp.clear_value(SPP_KEY, V_LISTENING_PORT)

    def _svc_DisableKeyManagementServiceDnsPublishing(self, params: Params) -> None:
        self._require_host("DisableKeyManagementServiceDnsPublishing")
        self.spp.set_dword(SPP_KEY, V_DISABLE_DNS, 1 if self._bool(params, "DisablePublishing") else 0)

    def _svc_EnableKeyManagementServiceLowPriority(self, params: Params) -> None:
        self._require_host("EnableKeyManagementServiceLowPriority")
        self.spp.set_dword(SPP_KEY, V_LOW_PRIORITY, 1 if self._bool(params, "EnableLowPriority") else 0)

    def _svc_DisableKeyManagementServiceHostCaching(self, params: Params) -> None:
        # Documented: 1 disables caching, 0 enables it.
        self.spp.set_dword(SPP_KEY, V_HOST_CACHING_DISABLED, 1 if self._bool(params, "DisableCaching") else 0)

    def _svc_SetVLActivationInterval(self, params: Params) -> None:
        self._require_host("SetVLActivationInterval")
        minutes = self._uint(params, "ActivationInterval")
        self._check_interval(minutes)
        self.spp.set_dword(SPP_KEY, V_ACTIVATION_INTERVAL, minutes)

    def _svc_SetVLRenewalInterval(self, params: Params) -> None:
        self._require_host("SetVLRenewalInterval")
        minutes = self._uint(params, "RenewalInterval")
        self._check_interval(minutes)
        self.spp.set_dword(SPP_KEY, V_RENEWAL_INTERVAL, minutes)

    def _svc_ClearProductKeyFromRegistry(self, params: Params) -> None:
        self.spp.clear_product_key_from_registry()

    def _svc_AcquireGenuineTicket(self, params: Params) -> None:
        raise ProviderError(SL_E_NOT_SUPPORTED, "Genuine tickets are not emulated")

    def _svc_ReArmWindows(self, params: Params) -> None:
        self.spp.rearm_windows()

    def _svc_ReArmApp(self, params: Params) -> None:
        self.spp.rearm_app(self._str(params, "ApplicationId"))

    def _svc_RefreshLicenseStatus(self, params: Params) -> None:
        # Status is evaluated against the clock on every read; nothing is cached to refresh.
        return None

    def _svc_GenerateActiveDirectoryOfflineActivationId(self, params: Params) -> dict[str, CimValue]:
        return {"InstallationID": self.spp.ad_offline_installation_id(self._str(params, "ProductKey"))}

    def _svc_DepositActiveDirectoryOfflineActivationConfirmation(self, params: Params) -> None:
        self.spp.ad_offline_deposit(
            self._str(params, "ProductKey"),
            self._str(params, "ConfirmationID"),
            self._str(params, "ActivationObjectName", required=False),
        )

    def _svc_DoActiveDirectoryOnlineActivation(self, params: Params) -> None:
        self.spp.ad_online_activation(
            self._str(params, "ProductKey"), self._str(params, "ActivationObjectName", required=False)
        )

    def _svc_DisableKeyManagementServiceActivation(self, params: Params) -> None:
        self.spp.set_token_activation_only(self._bool(params, "DisableActivation"))

    def _svc_SetVLActivationTypeEnabled(self, params: Params) -> None:
        self._require_activation_type()
        self._set_activation_type(SPP_KEY, params)

    def _svc_ClearVLActivationTypeEnabled(self, params: Params) -> None:
        self._require_activation_type()
        self.spp.clear_value(SPP_KEY, V_ACTIVATION_TYPE)

    # --- SoftwareLicensingProduct methods ---------------------------------------------------------------

    def _prod_Activate(self, product: Product, params: Params) -> None:
        self.spp.activate(product)

    def _prod_UninstallProductKey(self, product: Product, params: Params) -> None:
        self.spp.uninstall_product_key(product)

    def _prod_DepositOfflineConfirmationId(self, product: Product, params: Params) -> None:
        iid = self._str(params, "InstallationId").replace("-", "").replace(" ", "")
        cid = self._str(params, "ConfirmationId").replace("-", "").replace(" ", "")
        self.spp.deposit_offline_confirmation(product, iid, cid)

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

    def _prod_GetPolicyInformationDWord(self, product: Product, params: Params) -> dict[str, CimValue]:
        value = self._policy(product, self._str(params, "PolicyName"))
        if not isinstance(value, int):
            raise ProviderError(SL_E_VALUE_NOT_FOUND, "Policy is not a DWORD")
        return {"PolicyValue": value}

    def _prod_GetPolicyInformationString(self, product: Product, params: Params) -> dict[str, CimValue]:
        value = self._policy(product, self._str(params, "PolicyName"))
        if not isinstance(value, str):
            raise ProviderError(SL_E_VALUE_NOT_FOUND, "Policy is not a string")
        return {"PolicyValue": value}

    # The per-product KMS settings live in the product's subkey, <AppID>\<SKU ID>, as slmgr /skms with an
    # activation ID writes them (Registry settings for volume activation).

    def _prod_SetKeyManagementServiceMachine(self, product: Product, params: Params) -> None:
        self._set_kms_machine(self.spp.sku_key(product), params)

    def _prod_ClearKeyManagementServiceMachine(self, product: Product, params: Params) -> None:
        self.spp.clear_value(self.spp.sku_key(product), V_KMS_NAME)

    def _prod_SetKeyManagementServicePort(self, product: Product, params: Params) -> None:
        self._set_kms_port(self.spp.sku_key(product), params)

    def _prod_ClearKeyManagementServicePort(self, product: Product, params: Params) -> None:
        self.spp.clear_value(self.spp.sku_key(product), V_KMS_PORT)

    def _prod_SetKeyManagementServiceLookupDomain(self, product: Product, params: Params) -> None:
        self._set_lookup_domain(self.spp.sku_key(product), params)

    def _prod_ClearKeyManagementServiceLookupDomain(self, product: Product, params: Params) -> None:
        self.spp.clear_value(self.spp.sku_key(product), V_LOOKUP_DOMAIN)

    def _prod_GetTokenActivationGrants(self, product: Product, params: Params) -> dict[str, CimValue]:
        return {"Grants": None}  # no token-activation certificates are installed

    def _prod_GenerateTokenActivationChallenge(self, product: Product, params: Params) -> None:
        raise ProviderError(SL_E_NOT_SUPPORTED, "Token-based activation is not emulated")

    def _prod_DepositTokenActivationResponse(self, product: Product, params: Params) -> None:
        raise ProviderError(SL_E_NOT_SUPPORTED, "Token-based activation is not emulated")

    def _prod_SetVLActivationTypeEnabled(self, product: Product, params: Params) -> None:
        self._require_activation_type()
        self._set_activation_type(self.spp.sku_key(product), params)

    def _prod_ClearVLActivationTypeEnabled(self, product: Product, params: Params) -> None:
        self._require_activation_type()
        self.spp.clear_value(self.spp.sku_key(product), V_ACTIVATION_TYPE)

    def _prod_ReArmSku(self, product: Product, params: Params) -> None:
        self.spp.rearm_sku(product)
