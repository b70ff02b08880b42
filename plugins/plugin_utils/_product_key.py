# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The product_key engine: install (slmgr /ipk) or uninstall (/upk) a product key, read -> plan -> apply.

What is activated is protected: with ``key`` omitted, a KMS host key (CSVLK) and a MAK, Retail or OEM key that
has activated the machine stay installed, and a CSVLK is only ever replaced with ``protected_key: replace``
(``protection`` below decides, the same in check mode and for real).

Idempotence compares SPP's PartialProductKey with the key's last five characters. After a change the
KeyManagementServiceVersion registry value is kept the way slmgr.vbs keeps it (docs/reference/spp-wmi.md,
"KeyManagementServiceVersion"). The key is a secret: it is validated before any I/O, sent only inside
InstallProductKey, and only its last five characters appear anywhere else.
"""

from __future__ import annotations

import contextlib
import dataclasses
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _catalog as catalog
from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils import _office as office
from ansible_collections.winact.kms.plugins.plugin_utils._explain import explained_failure, invoke_explained
from ansible_collections.winact.kms.plugins.plugin_utils._registry import (
    ACCESS_DENIED,
    Registry,
    RegistryError,
    RegType,
)
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext, mask_secret
from ansible_collections.winact.kms.plugins.plugin_utils._service import restart_explained
from ansible_collections.winact.kms.plugins.plugin_utils._spp import (
    PRODUCT_CLASS,
    SERVICE_CLASS,
    SPP_KEY,
    SPP_KEY_32,
    SPP_SERVICE,
)
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._validate import activation_id as valid_activation_id
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManFault, WSManUnreachable

CATALOG_KEY = "gvlk"
AVMA_KEY = "avma"  # `key: avma`: Microsoft's AVMA key for the detected edition and build
PROTECTED_CHOICES = ("fail", "keep", "replace")
# Channels whose activation is the customer's own (ProductKeyChannel); OEM:* keys are retail keys preinstalled.
ACTIVATED_CHANNELS = ("Volume:MAK", "Retail")
KMS_VERSION_VALUE = "KeyManagementServiceVersion"

# Assumption: ClearProductKeyFromRegistry (/cpky) clears the key encoded in DigitalProductId: tools that decode
# it afterwards show an all-zero key (BBBBB-BBBBB-BBBBB-BBBBB-BBBBB). The encoded key is the 15 bytes at offset
# 52 of the value (community knowledge, no Microsoft source); an absent value counts as cleared as well.
CURRENT_VERSION_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"
DIGITAL_PRODUCT_ID = "DigitalProductId"
ENCODED_KEY = slice(52, 67)


@dataclasses.dataclass(frozen=True)
class Request:
    state: str
    key: str | None  # normalised explicit key; None means the catalog's GVLK (or state absent)
    activation_id: str | None
    clear_registry: bool
    restart: str
    explicit_catalog: bool = False  # `key: gvlk` given: an explicit request for the GVLK (MAK -> KMS conversion)
    protected_key: str = "fail"
    avma: bool = False
    application: str = "windows"  # "office": the installed Office volume SKU and its GVLK (Windows 8 and later)

    @property
    def office(self) -> bool:
        return self.application == "office"


def build_request(params: t.Mapping[str, t.Any], *, explicit_catalog: bool = False, avma: bool = False) -> Request:
    """Validate the options before any I/O; errors never contain the key (at most its last five characters)."""
    state = params.get("state") or "present"
    raw_key = params.get("key")
    key: str | None = None
    if state == "absent" and raw_key is not None:
        raise ValidationError("key", "cannot be used with state=absent, which uninstalls the installed key")
    avma = state == "present" and (avma or is_avma_word(raw_key))
    if state == "present" and raw_key is not None and not is_catalog_word(raw_key) and not avma:
        try:
            key = catalog.validate_key_format(raw_key)
        except ValueError as exc:
            raise ValidationError("key", str(exc)) from None
    activation_id = params.get("activation_id")
    if activation_id is not None:
        activation_id = valid_activation_id("activation_id", activation_id)
    application = params.get("application") or "windows"
    if application not in office.APPLICATIONS:
        raise ValidationError("application", f"{application!r} is not one of {', '.join(office.APPLICATIONS)}")
    if application == "office" and params.get("clear_registry"):
        raise ValidationError(
            "clear_registry",
            "removes the Windows key from the registry (slmgr /cpky); it cannot be used with application=office",
        )
    if application == "office" and avma:
        raise ValidationError("key", "avma is a Windows Server key; it cannot be used with application=office")
    return Request(
        state=state,
        key=key,
        activation_id=activation_id,
        clear_registry=bool(params.get("clear_registry")),
        restart=params.get("restart_service") or "auto",
        explicit_catalog=state == "present" and (explicit_catalog or is_catalog_word(raw_key) or avma),
        protected_key=params.get("protected_key") or "fail",
        avma=avma,
        application=application,
    )


def is_avma_word(value: t.Any) -> bool:
    """``key: avma`` asks for Microsoft's AVMA key of the detected edition."""
    return isinstance(value, str) and value.strip().lower() == AVMA_KEY


def is_catalog_word(value: t.Any) -> bool:
    """``key: gvlk`` means the same as leaving key out."""
    return isinstance(value, str) and value.strip().lower() == CATALOG_KEY


def secrets(raw: t.Any) -> list[str]:
    """Every form of the task's key that could appear in a result, so the base class can mask it."""
    if not isinstance(raw, str) or not raw.strip() or raw.strip().lower() in (CATALOG_KEY, AVMA_KEY):
        return []  # a word asking for a published key, not a key
    found = [raw, raw.strip()]
    # The normalised form (upper case, plain dashes) may differ from what the task passed.
    with contextlib.suppress(ValueError):
        found.append(catalog.validate_key_format(raw))
    return found


def partial(key: str | None) -> str | None:
    return key[-5:].upper() if key else None


def shown(partial_key: str | None) -> str | None:
    """A partial key as people recognise it: XXXXX-XXXXX-XXXXX-XXXXX-T83GX."""
    return mask_secret("XXXXX-" + partial_key) if partial_key else None


def key_bytes_cleared(data: t.Any) -> bool:
    """Whether a DigitalProductId value no longer holds a key (absent, too short, or zeroed key bytes)."""
    if not isinstance(data, list) or len(data) < ENCODED_KEY.stop:
        return True
    return not any(data[ENCODED_KEY])


def wants_restart(choice: str, changed: bool, kms_host_change: bool) -> bool:
    if choice == "never" or not changed:
        return False
    return choice == "always" or kms_host_change


def activated_channel(product: t.Mapping[str, t.Any]) -> bool:
    """A MAK, Retail or OEM key that has activated the machine (LicenseStatus 1, Licensed)."""
    channel = str(product.get("ProductKeyChannel") or "")
    licensed = product.get("LicenseStatus") == lic.LICENSED
    return licensed and (channel in ACTIVATED_CHANNELS or channel.startswith("OEM"))


def protection(product: t.Mapping[str, t.Any] | None, request: Request) -> str | None:
    """Why the installed key must not be replaced by this request, or None when it may be.

    A CSVLK is replaced only on request (``protected_key: replace``), whatever the new key: whether a key that
    is not a public GVLK is a CSVLK shows only once SPP has taken it, and a KMS host that stops being one
    takes the KMS service away from every client of that host. An activated MAK/Retail/OEM key is replaced by
    an explicit ``key`` (``key: gvlk`` included: the MAK -> KMS conversion), never by the default.
    """
    if product is None or request.protected_key == "replace":
        return None
    channel = product.get("ProductKeyChannel") or "unknown channel"
    ending = partial(product.get("PartialProductKey"))
    what = f"product {request.activation_id}" if request.activation_id else "the Windows product"
    if request.office and not request.activation_id:
        what = f"the Office product {product.get('LicenseFamily')}"
    if lic.is_kms_host_product(product):
        return (
            f"{what} holds a KMS host key (CSVLK) ending in {ending}; replacing it with "
            "another key takes the KMS service away from every client of this host"
        )
    if activated_channel(product) and request.key is None and not request.explicit_catalog:
        return (
            f"{what} is activated with a {channel} key ending in {ending}; the default (key omitted) "
            "never replaces an activated MAK or Retail key (pass key: gvlk to convert it to KMS activation)"
        )
    return None


@dataclasses.dataclass
class Current:
    """What the host holds before the task."""

    product: dict[str, t.Any] | None
    entry: catalog.CatalogEntry | None  # the edition's catalog row, when the GVLK comes from the catalog
    avma_key: str | None = None  # Microsoft's AVMA key for the edition, for `key: avma`
    office_sku: office.OfficeSku | None = None  # the installed Office SKU's row, when its GVLK comes from the table

    @property
    def partial(self) -> str | None:
        return partial((self.product or {}).get("PartialProductKey"))

    @property
    def kms_host(self) -> bool:
        return bool(self.product) and lic.is_kms_host_product(self.product or {})


@dataclasses.dataclass(frozen=True)
class Plan:
    """The changes, decided before any write."""

    desired: str | None  # the key that should be installed (None with state=absent)
    install: bool
    uninstall: bool
    clear: bool  # ClearProductKeyFromRegistry
    kms_host_after: bool | None  # a KMS host key installed afterwards; None: only SPP can tell (check mode)
    kept: str | None = None  # why the installed key stays (protected_key: keep)

    @property
    def changed(self) -> bool:
        return self.install or self.uninstall or self.clear

    @property
    def key_change(self) -> bool:
        return self.install or self.uninstall


def execute(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    try:
        return ProductKey(wmi, request, ctx).run()
    except WSManUnreachable:
        raise
    except WSManFault as exc:
        raise explained_failure(exc, "Reading the licensing state") from exc


class ProductKey:
    """Read -> plan -> apply for one task."""

    def __init__(self, wmi: WmiClient, request: Request, ctx: TaskContext) -> None:
        self.wmi = wmi
        self.request = request
        self.ctx = ctx
        self.registry = Registry(wmi)
        self.os_build = 0  # BuildNumber, read with the edition

    def run(self) -> dict[str, t.Any]:
        current = self.read()
        plan = self.plan(current)
        result = self.describe(current, plan)
        product, kms_host_after = current.product, plan.kms_host_after
        if plan.changed and not self.ctx.check_mode:
            product, kms_host_after, cleared = self.apply(current, plan)
            if self.request.clear_registry:
                result["registry_cleared"] = cleared
        restart_required: bool | None = plan.key_change and (current.kms_host or bool(kms_host_after))
        if not restart_required and plan.install and kms_host_after is None:
            # Check mode with a key that is not a public GVLK: only SPP can tell whether it is a KMS host key.
            restart_required = None
            self.ctx.warnings.append(
                "Check mode cannot tell whether this key is a KMS host key (CSVLK); if it is, installing it "
                "needs an sppsvc restart (restart_required is null)"
            )
        restarted = False
        if not self.ctx.check_mode and wants_restart(self.request.restart, plan.changed, bool(restart_required)):
            restart_explained(self.wmi, SPP_SERVICE, self.ctx)
            restarted = True
        elif restart_required and plan.changed and not self.ctx.check_mode:
            self.ctx.warnings.append(
                "A KMS host key was installed or removed: restart sppsvc (or the machine) for the change to take "
                "effect (restart_service: never was given)"
            )
        result.update(
            changed=plan.changed,
            product=lic.describe_product(product) if product else None,
            kms_host_key=kms_host_after,
            restart_required=restart_required,
            restarted=restarted,
        )
        return result

    # -- read ----------------------------------------------------------------------------------------
    def read(self) -> Current:
        product = self.target_product()
        entry = None
        avma_key = None
        if self.request.office:
            sku = office.sku_of(product or {}) if self.request.state == "present" and not self.request.key else None
            return Current(product=product, entry=None, office_sku=sku)
        if self.request.state == "present" and self.request.key is None:
            entry = self.catalog_entry(product)
            if self.request.avma:
                try:
                    avma_key = catalog.avma_key(entry.edition_id, self.os_build)
                except catalog.CatalogError as exc:
                    raise ModuleFailure(str(exc), option="key") from exc
        return Current(product=product, entry=entry, avma_key=avma_key)

    def target_product(self) -> dict[str, t.Any] | None:
        if self.request.office:
            return office.select_product(self.wmi, self.request.activation_id)
        if self.request.activation_id:
            product = lic.read_product(self.wmi, self.request.activation_id)
            if product is None:
                raise ModuleFailure(
                    f"No product with Activation ID {self.request.activation_id} on this host "
                    "(SoftwareLicensingProduct.ID); winact.kms.license_info lists the installed products"
                )
            return product
        return lic.primary_product(lic.read_products(self.wmi))

    def catalog_entry(self, product: t.Mapping[str, t.Any] | None) -> catalog.CatalogEntry:
        os_info = lic.read_os(self.wmi)
        self.os_build = int(str(os_info.get("BuildNumber") or 0))
        family = (product or {}).get("LicenseFamily") if not self.request.activation_id else None
        try:
            return catalog.detect_edition(os_info, family or None)
        except catalog.CatalogError as exc:
            raise ModuleFailure(str(exc), os=lic.describe_os(os_info, product)) from exc

    def registry_holds_key(self) -> bool:
        out = self.wmi.invoke(
            "StdRegProv",
            "GetBinaryValue",
            {"hDefKey": self.registry.hive, "sSubKeyName": CURRENT_VERSION_KEY, "sValueName": DIGITAL_PRODUCT_ID},
            namespace="root/default",
        )
        if out.get("ReturnValue") != 0:
            return False
        return not key_bytes_cleared(out.get("uValue"))

    # -- plan ----------------------------------------------------------------------------------------
    def plan(self, current: Current) -> Plan:
        key = None
        if self.request.state == "present":
            key = self.request.key or current.avma_key or (current.entry.gvlk if current.entry else None)
            key = key or (current.office_sku.gvlk if current.office_sku else None)
        install = key is not None and current.partial != partial(key)
        kept = protection(current.product, self.request) if install else None
        if kept is not None:
            if self.request.protected_key == "fail":
                raise ModuleFailure(
                    f"The installed key is kept: {kept}. Set protected_key: replace to replace it "
                    "(or protected_key: keep to leave it without failing)",
                    option="protected_key",
                    product=lic.describe_product(current.product) if current.product else None,
                )
            install = False
            self.ctx.warnings.append(f"The installed key is kept (protected_key: keep): {kept}")
        uninstall = self.request.state == "absent" and current.partial is not None
        # InstallProductKey writes the new key into the registry too, so clearing follows every install.
        clear = self.request.clear_registry and (install or self.registry_holds_key())
        kms_host_after: bool | None = current.kms_host
        if install:
            published = catalog.is_gvlk(key or "") or catalog.is_avma_key(key or "") or office.is_office_gvlk(key or "")
            kms_host_after = False if published else None
        elif uninstall:
            kms_host_after = False
        if kept is not None:
            key = (current.product or {}).get("PartialProductKey")  # reported as it stays: its last five only
        return Plan(
            desired=key, install=install, uninstall=uninstall, clear=clear, kms_host_after=kms_host_after, kept=kept
        )

    def describe(self, current: Current, plan: Plan) -> dict[str, t.Any]:
        """The result's plan part, the same in check mode and for real."""
        result: dict[str, t.Any] = {"previous_partial_product_key": current.partial}
        if current.entry is not None:
            result["edition"] = {
                "edition": current.entry.edition,
                "product_family": current.entry.product_family,
                "edition_id": current.entry.edition_id,
            }
        if current.office_sku is not None:
            result["office"] = current.office_sku.as_result()
        if self.request.state == "present":
            result["key_source"] = "explicit" if self.request.key else ("avma" if self.request.avma else "catalog")
        after = partial(plan.desired)
        result["partial_product_key"] = after
        if self.request.state == "present":
            result["kept"] = plan.kept
        if self.request.clear_registry:
            result["registry_cleared"] = plan.clear
        if self.ctx.diff_mode and plan.changed:
            result["diff"] = diff(current.partial, after, plan.clear)
        return result

    # -- apply ---------------------------------------------------------------------------------------
    def apply(self, current: Current, plan: Plan) -> tuple[dict[str, t.Any] | None, bool | None, bool]:
        """Write the plan; returns the product afterwards, whether a CSVLK is installed, and registry_cleared."""
        kms_host_after = plan.kms_host_after
        cleared = plan.clear
        if plan.install and plan.desired is not None:
            self.install(plan.desired)
        if plan.uninstall and current.product is not None:
            self.uninstall(current.product)
        if plan.key_change:
            kms_host_after = self.sync_kms_version()
        if plan.clear and (not plan.install or self.registry_holds_key()):
            self.clear_registry()
        elif plan.clear:
            cleared = False  # the installed key never reached the registry
        product = current.product
        if plan.install or self.request.activation_id or self.request.office:
            product = self.target_product()
        elif plan.uninstall:
            product = None
        if plan.install:
            self.verify_installed(product, partial(plan.desired))
        return product, kms_host_after, cleared

    def service_version(self) -> str:
        service = lic.read_licensing_service(self.wmi, ("Version",))
        version = service.get("Version")
        if not version:
            raise ModuleFailure("SoftwareLicensingService reported no Version; cannot address it")
        return str(version)

    def install(self, key: str) -> None:
        version = self.service_version()
        doing = f"Installing the product key {mask_secret(key)} (InstallProductKey)"
        invoke_explained(
            self.wmi,
            SERVICE_CLASS,
            "InstallProductKey",
            {"ProductKey": key},
            selectors={"Version": version},
            doing=doing,
        )
        self.ctx.applied.append(f"InstallProductKey {mask_secret(key)}")
        lic.refresh_license_status(self.wmi, version)

    def uninstall(self, product: t.Mapping[str, t.Any]) -> None:
        product_id = str(product.get("ID"))
        doing = f"Uninstalling the product key of {product_id} (UninstallProductKey)"
        invoke_explained(self.wmi, PRODUCT_CLASS, "UninstallProductKey", selectors={"ID": product_id}, doing=doing)
        self.ctx.applied.append(f"UninstallProductKey {product_id}")
        lic.refresh_license_status(self.wmi, self.service_version())

    def clear_registry(self) -> None:
        version = self.service_version()
        doing = "Clearing the product key from the registry"
        selectors = {"Version": version}
        invoke_explained(self.wmi, SERVICE_CLASS, "ClearProductKeyFromRegistry", selectors=selectors, doing=doing)
        self.ctx.applied.append("ClearProductKeyFromRegistry")

    def sync_kms_version(self) -> bool:
        """slmgr's KeyManagementServiceVersion handling after /ipk and /upk; returns whether a CSVLK is installed.

        Set (to SoftwareLicensingService.Version) under the SPP key, and under its 32-bit view only when that
        key exists, if any product with a key is a KMS host; otherwise delete it at both paths, tolerating
        not-found and access denied as slmgr does.
        """
        kms_host = any(lic.is_kms_host_product(p) for p in lic.read_keyed_products(self.wmi))
        if kms_host:
            version = self.service_version()
            self.registry.set(SPP_KEY, KMS_VERSION_VALUE, RegType.SZ, version)
            if self.registry.enum_values(SPP_KEY_32) is not None:
                self.registry.set(SPP_KEY_32, KMS_VERSION_VALUE, RegType.SZ, version)
            self.ctx.applied.append(f"{KMS_VERSION_VALUE}={version}")
            return True
        for path in (SPP_KEY, SPP_KEY_32):
            try:
                if self.registry.delete(path, KMS_VERSION_VALUE):
                    self.ctx.applied.append(f"delete {KMS_VERSION_VALUE}")
            except RegistryError as exc:
                if exc.code != ACCESS_DENIED:
                    raise
        return False

    def verify_installed(self, product: t.Mapping[str, t.Any] | None, expected: str | None) -> None:
        found = partial((product or {}).get("PartialProductKey"))
        if found == expected:
            return
        where = f"product {self.request.activation_id}" if self.request.activation_id else "the Windows product"
        if self.request.office and not self.request.activation_id:
            where = "the Office product"
        raise ModuleFailure(
            f"InstallProductKey succeeded, but {where} reports the key ending in {found or '(none)'}, "
            f"not {expected}: the key belongs to another product",
            product=lic.describe_product(product) if product else None,
        )


def diff(before: str | None, after: str | None, clear: bool) -> dict[str, t.Any]:
    """Partial keys only, shown the way people recognise them; the registry copy when it is cleared."""
    old: dict[str, t.Any] = {"product_key": shown(before)}
    new: dict[str, t.Any] = {"product_key": shown(after)}
    if clear:
        old["key_in_registry"], new["key_in_registry"] = True, False
    return {"before": old, "after": new}
