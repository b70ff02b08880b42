# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.product_key: install (slmgr /ipk) or uninstall (/upk) a product key.

Idempotence compares SPP's PartialProductKey with the key's last five characters;
after a change the KeyManagementServiceVersion registry value is kept the way
slmgr.vbs keeps it (spp-facts §3.7). The key is a secret: it is validated before
any I/O, sent only inside InstallProductKey, and only its last five characters
appear anywhere else.
"""

from __future__ import annotations

import contextlib
import dataclasses
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _catalog as catalog
from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils._action import (
    ModuleFailure,
    TaskContext,
    WinactAction,
)
from ansible_collections.winact.kms.plugins.plugin_utils._registry import (
    ACCESS_DENIED,
    Registry,
    RegistryError,
    RegType,
)
from ansible_collections.winact.kms.plugins.plugin_utils._service import ServiceError, restart_service
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._validate import activation_id as valid_activation_id
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManFault, WSManUnreachable

SERVICE_CLASS = "SoftwareLicensingService"
PRODUCT_CLASS = "SoftwareLicensingProduct"
SPP_SERVICE = "sppsvc"
CATALOG_KEY = "gvlk"

# slmgr.vbs SLKeyPath / SLKeyPath32 (spp-facts §3.7).
SL_KEY_PATH = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
SL_KEY_PATH_32 = r"SOFTWARE\Wow6432Node\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
KMS_VERSION_VALUE = "KeyManagementServiceVersion"

# Assumption: ClearProductKeyFromRegistry (/cpky) clears the key encoded in DigitalProductId: tools that decode
# it afterwards show an all-zero key (BBBBB-BBBBB-BBBBB-BBBBB-BBBBB). The encoded key is the 15 bytes at offset
# 52 of the value (community knowledge, not in spp-facts); an absent value counts as cleared as well.
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


def build_request(params: t.Mapping[str, t.Any]) -> Request:
    """Validate the options before any I/O; errors never contain the key (at most its last five characters)."""
    state = params.get("state") or "present"
    raw_key = params.get("key")
    key: str | None = None
    if state == "absent" and raw_key is not None:
        raise ValidationError("key", "cannot be used with state=absent, which uninstalls the installed key")
    if state == "present" and raw_key is not None and str(raw_key).strip().lower() != CATALOG_KEY:
        try:
            key = catalog.validate_key_format(raw_key)
        except ValueError as exc:
            raise ValidationError("key", str(exc)) from None
    activation_id = params.get("activation_id")
    if activation_id is not None:
        activation_id = valid_activation_id("activation_id", activation_id)
    return Request(
        state=state,
        key=key,
        activation_id=activation_id,
        clear_registry=bool(params.get("clear_registry")),
        restart=params.get("restart_service") or "auto",
    )


def partial(key: str | None) -> str | None:
    return key[-5:].upper() if key else None


def shown(partial_key: str | None) -> str | None:
    """A partial key as people recognise it: XXXXX-XXXXX-XXXXX-XXXXX-T83GX."""
    return catalog.mask_key("XXXXX-" + partial_key) if partial_key else None


def key_bytes_cleared(data: t.Any) -> bool:
    """Whether a DigitalProductId value no longer holds a key (absent, too short, or zeroed key bytes)."""
    if not isinstance(data, list) or len(data) < ENCODED_KEY.stop:
        return True
    return not any(data[ENCODED_KEY])


def wants_restart(choice: str, changed: bool, kms_host_change: bool) -> bool:
    if choice == "never" or not changed:
        return False
    return choice == "always" or kms_host_change


def product_summary(product: t.Mapping[str, t.Any] | None) -> dict[str, t.Any] | None:
    if not product:
        return None
    status = product.get("LicenseStatus")
    return {
        "id": product.get("ID"),
        "name": product.get("Name"),
        "description": product.get("Description"),
        "product_key_channel": product.get("ProductKeyChannel"),
        "partial_product_key": product.get("PartialProductKey"),
        "license_status": status,
        "license_status_name": lic.LICENSE_STATUS.get(status, "Unknown") if isinstance(status, int) else None,
    }


class ActionModule(WinactAction):
    module_name = "product_key"
    no_log_options = ("key",)
    _request: Request | None = None

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        # `key: gvlk` means the same as leaving key out. Dropping it keeps the word out of the no_log values,
        # which would otherwise mask every 'gvlk' in the result.
        key = self._task.args.get("key")
        if isinstance(key, str) and key.strip().lower() == CATALOG_KEY:
            self._task.args = {name: value for name, value in self._task.args.items() if name != "key"}
        return super().run(tmp, task_vars)

    def secrets(self, params: dict[str, t.Any]) -> list[str]:
        raw = params.get("key")
        if not isinstance(raw, str) or not raw.strip():
            return []
        found = [raw, raw.strip()]
        # The normalised form (upper case, plain dashes) may differ from what the task passed.
        with contextlib.suppress(ValueError):
            found.append(catalog.validate_key_format(raw))
        return found

    def validate(self, params: dict[str, t.Any]) -> None:
        self._request = build_request(params)

    def execute(self, wmi: WmiClient, params: dict[str, t.Any], ctx: TaskContext) -> dict[str, t.Any]:
        request = self._request or build_request(params)
        try:
            return ProductKey(wmi, request, ctx).run()
        except WSManUnreachable:
            raise
        except WSManFault as exc:
            raise lic.explained_failure(exc, "Reading the licensing state") from exc


class ProductKey:
    """Read -> plan -> apply for one task."""

    def __init__(self, wmi: WmiClient, request: Request, ctx: TaskContext) -> None:
        self.wmi = wmi
        self.request = request
        self.ctx = ctx
        self.registry = Registry(wmi)

    # -- read ----------------------------------------------------------------------------------
    def target_product(self) -> dict[str, t.Any] | None:
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

    # -- plan and apply ------------------------------------------------------------------------
    def run(self) -> dict[str, t.Any]:
        request = self.request
        product = self.target_product()
        before = partial((product or {}).get("PartialProductKey"))
        kms_host_before = bool(product) and lic.is_kms_host_product(product or {})
        result: dict[str, t.Any] = {"previous_partial_product_key": before}

        key: str | None = None
        if request.state == "present":
            key = request.key
            if key is None:
                entry = self.catalog_entry(product)
                key = entry.gvlk
                result["edition"] = {
                    "edition": entry.edition,
                    "product_family": entry.product_family,
                    "edition_id": entry.edition_id,
                }
            result["key_source"] = "explicit" if request.key else "catalog"
        after = partial(key)
        install = key is not None and before != after
        uninstall = request.state == "absent" and before is not None
        # InstallProductKey writes the new key into the registry too, so clearing follows every install.
        clear = request.clear_registry and (install or self.registry_holds_key())
        changed = install or uninstall or clear

        result["partial_product_key"] = after
        if request.clear_registry:
            result["registry_cleared"] = clear
        if self.ctx.diff_mode and changed:
            result["diff"] = self.diff(before, after, clear)

        # Whether a KMS host key is installed afterwards. In check mode a key that is not a GVLK is only
        # known once SPP has taken it, so it counts as unknown (None).
        kms_host_after: bool | None = kms_host_before
        if install:
            kms_host_after = False if catalog.is_gvlk(key or "") else None
        elif uninstall:
            kms_host_after = False
        if changed and not self.ctx.check_mode:
            if install and key is not None:
                self.install(key)
            if uninstall and product is not None:
                self.uninstall(product)
            if install or uninstall:
                kms_host_after = self.sync_kms_version()
            if clear and (not install or self.registry_holds_key()):
                self.clear_registry()
            elif clear:
                result["registry_cleared"] = False  # the installed key never reached the registry
            if install or request.activation_id:
                product = self.target_product()
            elif uninstall:
                product = None
            if install:
                self.verify_installed(product, after)

        restart_required: bool | None = (install or uninstall) and (kms_host_before or bool(kms_host_after))
        if not restart_required and install and kms_host_after is None:
            # Check mode with a key that is not a public GVLK: only SPP can tell whether it is a KMS host key.
            restart_required = None
            self.ctx.warnings.append(
                "Check mode cannot tell whether this key is a KMS host key (CSVLK); if it is, installing it "
                "needs an sppsvc restart (restart_required is null)"
            )
        restarted = False
        if wants_restart(request.restart, changed, bool(restart_required)) and not self.ctx.check_mode:
            restarted = self.restart()
        elif restart_required and changed and not self.ctx.check_mode:
            self.ctx.warnings.append(
                "A KMS host key was installed or removed: restart sppsvc (or the machine) for the change to take "
                "effect (restart_service: never was given)"
            )
        result.update(
            changed=changed,
            product=product_summary(product),
            kms_host_key=kms_host_after,
            restart_required=restart_required,
            restarted=restarted,
        )
        return result

    @staticmethod
    def diff(before: str | None, after: str | None, clear: bool) -> dict[str, t.Any]:
        """Partial keys only, shown the way people recognise them; the registry copy when it is cleared."""
        old: dict[str, t.Any] = {"product_key": shown(before)}
        new: dict[str, t.Any] = {"product_key": shown(after)}
        if clear:
            old["key_in_registry"], new["key_in_registry"] = True, False
        return {"before": old, "after": new}

    def service_version(self) -> str:
        service = lic.read_service(self.wmi, ("Version",))
        version = service.get("Version")
        if not version:
            raise ModuleFailure("SoftwareLicensingService reported no Version; cannot address it")
        return str(version)

    def install(self, key: str) -> None:
        version = self.service_version()
        doing = f"Installing the product key {catalog.mask_key(key)} (InstallProductKey)"
        lic.invoke_explained(
            self.wmi,
            SERVICE_CLASS,
            "InstallProductKey",
            {"ProductKey": key},
            selectors={"Version": version},
            doing=doing,
        )
        self.ctx.applied.append(f"InstallProductKey {catalog.mask_key(key)}")
        lic.refresh_license_status(self.wmi, version)

    def uninstall(self, product: t.Mapping[str, t.Any]) -> None:
        product_id = str(product.get("ID"))
        doing = f"Uninstalling the product key of {product_id} (UninstallProductKey)"
        lic.invoke_explained(self.wmi, PRODUCT_CLASS, "UninstallProductKey", selectors={"ID": product_id}, doing=doing)
        self.ctx.applied.append(f"UninstallProductKey {product_id}")
        lic.refresh_license_status(self.wmi, self.service_version())

    def clear_registry(self) -> None:
        version = self.service_version()
        lic.invoke_explained(
            self.wmi,
            SERVICE_CLASS,
            "ClearProductKeyFromRegistry",
            selectors={"Version": version},
            doing="Clearing the product key from the registry",
        )
        self.ctx.applied.append("ClearProductKeyFromRegistry")

    def sync_kms_version(self) -> bool:
        """slmgr's KeyManagementServiceVersion handling after /ipk and /upk; returns whether a CSVLK is installed.

        Set (to SoftwareLicensingService.Version) under SLKeyPath, and under SLKeyPath32 only when that key
        exists, if any product with a key is a KMS host; otherwise delete it at both paths, tolerating
        not-found and access denied as slmgr does (spp-facts §3.7).
        """
        kms_host = any(lic.is_kms_host_product(p) for p in lic.read_keyed_products(self.wmi))
        if kms_host:
            version = self.service_version()
            self.registry.set(SL_KEY_PATH, KMS_VERSION_VALUE, RegType.SZ, version)
            if self.registry.enum_values(SL_KEY_PATH_32) is not None:
                self.registry.set(SL_KEY_PATH_32, KMS_VERSION_VALUE, RegType.SZ, version)
            self.ctx.applied.append(f"{KMS_VERSION_VALUE}={version}")
            return True
        for path in (SL_KEY_PATH, SL_KEY_PATH_32):
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
        raise ModuleFailure(
            f"InstallProductKey succeeded, but {where} reports the key ending in {found or '(none)'}, "
            f"not {expected}: the key belongs to another product",
            product=product_summary(product),
        )

    def restart(self) -> bool:
        try:
            restart_service(self.wmi, SPP_SERVICE)
        except ServiceError as exc:
            raise ModuleFailure(f"Restarting {SPP_SERVICE} failed: {exc.message}", error=exc.to_dict()) from exc
        self.ctx.applied.append(f"restart {SPP_SERVICE}")
        return True
