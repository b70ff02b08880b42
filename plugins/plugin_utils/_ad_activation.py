# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Active Directory-based activation of a forest, as ``slmgr /ad-activation-online`` and the offline pair
``/ad-activation-get-iid`` / ``/ad-activation-apply-cid`` do it: read -> plan -> apply.

The three options call ``SoftwareLicensingService.DoActiveDirectoryOnlineActivation(ProductKey,
ActivationObjectName)``, ``GenerateActiveDirectoryOfflineActivationId(ProductKey, [out] InstallationID)`` and
``DepositActiveDirectoryOfflineActivationConfirmation(ProductKey, ConfirmationID, ActivationObjectName)`` with a
KMS host key (CSVLK); the activation object is published in the forest ("Deploy Active Directory-based
Activation"; "Slmgr.vbs options for obtaining volume activation information",
https://learn.microsoft.com/windows-server/get-started/activation-slmgr-vbs-options).

No WMI class lists a forest's activation objects (slmgr /ao-list reads them over LDAP), so whether the forest is
already activated is read from the host itself: a Windows 8+ KMS client (GVLK) that an activation object of that
name activated reports it in ``ADActivationObjectName``. After publishing, such a host is activated so it uses
the new object at once (clients otherwise try AD-based activation at their next renewal).
"""

from __future__ import annotations

import contextlib
import dataclasses
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _catalog as catalog
from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils._explain import explained_failure, invoke_explained
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext, mask_secret
from ansible_collections.winact.kms.plugins.plugin_utils._spp import PRODUCT_CLASS, SERVICE_CLASS
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManFault, WSManUnreachable

# "The activation object name must not exceed 40 Unicode characters" (slmgr.vbs options).
NAME_MAX = 40
AD_ACTIVATED = 1  # VLActivationType: 1 = Active Directory
FIRST_AD_BUILD = 9200  # Windows 8 / Windows Server 2012 ("Deploy Active Directory-based Activation")


@dataclasses.dataclass(frozen=True)
class Request:
    csvlk: str  # normalised; never shown beyond its last five characters
    name: str  # "" when not given (slmgr passes "" then)
    confirmation_id: str | None  # digits only: deposit (the offline pair's second step)
    offline: bool  # without a confirmation ID: only return the installation ID
    activate_host: bool

    @property
    def shown_key(self) -> str:
        return mask_secret(self.csvlk)


def build_request(params: t.Mapping[str, t.Any]) -> Request:
    """Validate before any I/O; no message shows more of the key than its last five characters."""
    raw = params.get("csvlk")
    try:
        key = catalog.validate_key_format(raw)
    except ValueError as exc:
        raise ValidationError("csvlk", str(exc)) from None
    if catalog.is_gvlk(key):
        raise ValidationError(
            "csvlk", "is a public KMS client key (GVLK); AD-based activation needs your KMS host key (CSVLK)"
        )
    name = params.get("activation_object_name") or ""
    if len(name) > NAME_MAX:
        raise ValidationError("activation_object_name", f"is {len(name)} characters; Windows allows at most {NAME_MAX}")
    cid = params.get("confirmation_id")
    if cid is not None:
        text = str(cid).replace("-", "").replace(" ", "")
        if not text.isdigit():
            raise ValidationError(
                "confirmation_id",
                "must be the digits the activation center gave (groups may be separated by spaces or dashes)",
            )
        cid = text
    return Request(
        key, name, cid, bool(params.get("offline")) or cid is not None, bool(params.get("activate_host", True))
    )


def secrets(raw: t.Any) -> list[str]:
    if not isinstance(raw, str) or not raw.strip():
        return []
    found = [raw, raw.strip()]
    with contextlib.suppress(ValueError):
        found.append(catalog.validate_key_format(raw))
    return found


def _ad_info(product: t.Mapping[str, t.Any] | None) -> dict[str, t.Any] | None:
    return lic.describe_ad_activation(product) if product else None


def _already(product: t.Mapping[str, t.Any] | None, request: Request) -> bool:
    """This host was activated by an activation object of that name (any one, when no name is given)."""
    info = _ad_info(product)
    return info is not None and (not request.name or info["object_name"] == request.name)


def _build(os_info: t.Mapping[str, t.Any]) -> int:
    try:
        return int(str(os_info.get("BuildNumber") or "0"))
    except ValueError:
        return 0


def execute(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    try:
        os_info = lic.read_os(wmi)
        service = lic.read_licensing_service(wmi, ("Version",))
        product = lic.primary_product(lic.read_products(wmi))
    except WSManUnreachable:
        raise
    except WSManFault as exc:
        raise explained_failure(exc, "Reading the licensing state") from exc
    build = _build(os_info)
    if build and build < FIRST_AD_BUILD:
        raise ModuleFailure(
            f"Active Directory-based activation needs Windows 8 / Windows Server 2012 or later; this host runs build "
            f"{build}. Activate Windows 7 / Server 2008 R2 machines with KMS or a MAK.",
            build=build,
        )
    version = str(service.get("Version") or "")
    result: dict[str, t.Any] = {
        "csvlk": request.shown_key,
        "activation_object_name": request.name or None,
        "ad_activation": _ad_info(product),
    }
    if request.offline and request.confirmation_id is None:
        # The first half of the offline pair only reads: the installation ID to give the activation center.
        out = invoke_explained(
            wmi,
            SERVICE_CLASS,
            "GenerateActiveDirectoryOfflineActivationId",
            {"ProductKey": request.csvlk},
            selectors={"Version": version},
            doing=f"Generating the installation ID of the CSVLK {request.shown_key}",
        )
        return {**result, "changed": False, "installation_id": out.get("InstallationID")}
    if _already(product, request):
        return {**result, "changed": False}
    if ctx.diff_mode:
        result["diff"] = {
            "before": {"activation_object": (result["ad_activation"] or {}).get("object_name")},
            "after": {"activation_object": request.name or f"(named by Windows, CSVLK {request.shown_key})"},
        }
    if ctx.check_mode:
        return {**result, "changed": True}
    if request.confirmation_id is not None:
        method = "DepositActiveDirectoryOfflineActivationConfirmation"
        params = {
            "ProductKey": request.csvlk,
            "ConfirmationID": request.confirmation_id,
            "ActivationObjectName": request.name,
        }
    else:
        method = "DoActiveDirectoryOnlineActivation"
        params = {"ProductKey": request.csvlk, "ActivationObjectName": request.name}
    try:
        invoke_explained(
            wmi,
            SERVICE_CLASS,
            method,
            params,
            selectors={"Version": version},
            doing=f"Activating the forest with the CSVLK {request.shown_key} ({method})",
        )
    except ModuleFailure as exc:
        exc.detail.update(result)
        raise
    ctx.applied.append("activation_object")
    if request.activate_host and product is not None and lic.is_kms_client_product(product):
        _activate_host(wmi, product, result)
    elif request.activate_host:
        ctx.warnings.append(
            "The activation object was published. This host has no KMS client key (GVLK), so it cannot show which "
            "activation object activates it, and a rerun publishes again; run the task against a Windows 8+ KMS "
            "client of the forest (a domain controller with its GVLK, for example) to make reruns change nothing"
        )
    return {**result, "changed": True}


def _activate_host(wmi: WmiClient, product: t.Mapping[str, t.Any], result: dict[str, t.Any]) -> None:
    """Activate the host's own KMS client product, so it uses (and reports) the new activation object now."""
    product_id = str(product["ID"])
    try:
        invoke_explained(
            wmi,
            PRODUCT_CLASS,
            "Activate",
            selectors={"ID": product_id},
            doing="The activation object was published, but activating this host with it (Activate) failed",
        )
    except ModuleFailure as exc:
        exc.detail.update(result)
        raise
    after = lic.read_product(wmi, product_id)
    result["ad_activation"] = _ad_info(after)
    if result["ad_activation"] is None:
        raise ModuleFailure(
            "The activation object was published and this host activated, but not by AD-based activation (it "
            "reports another activation type): its activation type may exclude AD (kms_client activation_type), "
            "or the CSVLK does not cover this host's edition",
            **result,
        )
