# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline (phone) activation, as ``slmgr /dti`` and ``slmgr /atp`` do it: read -> plan -> apply.

``/dti`` reads ``SoftwareLicensingProduct.OfflineInstallationId`` of the product with a key (the Windows one,
or the one with the given Activation ID). ``/atp`` calls ``DepositOfflineConfirmationId`` with the product's
own installation ID and the confirmation ID, then ``SoftwareLicensingService.RefreshLicenseStatus`` and reads
the new license status ("Slmgr.vbs options for obtaining volume activation information",
https://learn.microsoft.com/windows-server/get-started/activation-slmgr-vbs-options). Microsoft's own pages
disagree on the installation ID's length, so it is returned exactly as Windows reports it.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils._explain import explained_failure, invoke_explained
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._spp import PRODUCT_CLASS, WINDOWS_APP_ID
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._validate import activation_id as valid_guid
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient, wql_select
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManFault, WSManUnreachable

LICENSED = 1
# What slmgr /dti selects, plus the status /atp reports afterwards.
PROPERTIES = (
    "ID",
    "Name",
    "ApplicationID",
    "Description",
    "LicenseIsAddon",
    "PartialProductKey",
    "LicenseStatus",
    "OfflineInstallationId",
)


@dataclasses.dataclass(frozen=True)
class Request:
    confirmation_id: str | None  # digits only
    activation_id: str | None


def build_request(params: t.Mapping[str, t.Any]) -> Request:
    cid = params.get("confirmation_id")
    if cid is not None:
        # Windows shows and takes the CID in groups; spaces and dashes between them are dropped.
        text = str(cid).replace("-", "").replace(" ", "")
        if not text or not text.isdigit():
            raise ValidationError(
                "confirmation_id",
                "must be the digits the activation center gave (groups may be separated by spaces or dashes)",
            )
        cid = text
    activation_id = params.get("activation_id")
    return Request(cid, valid_guid("activation_id", activation_id) if activation_id is not None else None)


def execute(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    try:
        return _run(wmi, request, ctx)
    except WSManUnreachable:
        raise
    except WSManFault as exc:
        raise explained_failure(exc, "Reading the licensing state") from exc


def _pick(wmi: WmiClient, request: Request) -> dict[str, t.Any]:
    rows = wmi.query(wql_select(PROPERTIES, PRODUCT_CLASS, "PartialProductKey IS NOT NULL"))
    if request.activation_id is not None:
        found = [r for r in rows if str(r.get("ID") or "").lower() == request.activation_id]
        where = f"activation_id: no product with Activation ID {request.activation_id} has a product key installed"
    else:
        found = [r for r in rows if r.get("ApplicationID") == WINDOWS_APP_ID and not r.get("LicenseIsAddon")]
        where = "No Windows product has a product key installed; install the MAK first (winact.kms.product_key)"
    if not found:
        raise ModuleFailure(f"{where} (as slmgr /dti says: product not found)", activation_id=request.activation_id)
    return found[0]


def _run(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    product = _pick(wmi, request)
    status = product.get("LicenseStatus")
    result: dict[str, t.Any] = {
        "activation_id": product.get("ID"),
        "product_name": product.get("Name"),
        "installation_id": product.get("OfflineInstallationId"),
        "license_status": lic.license_status_name(status),
        "activated": status == LICENSED,
    }
    if lic.is_kms_client_product(product):
        raise ModuleFailure(
            "This product has a GVLK (KMS client key): it activates against a KMS host, not by phone. Use "
            "winact.kms.activate, or install a MAK first (winact.kms.product_key)",
            **result,
        )
    if request.confirmation_id is None or status == LICENSED:
        return {**result, "changed": False}
    if ctx.diff_mode:
        result["diff"] = {
            "before": {"license_status": result["license_status"]},
            "after": {"license_status": lic.license_status_name(LICENSED)},
        }
    if ctx.check_mode:
        return {**result, "changed": True}
    doing = "Depositing the confirmation ID (DepositOfflineConfirmationId)"
    try:
        invoke_explained(
            wmi,
            PRODUCT_CLASS,
            "DepositOfflineConfirmationId",
            {"InstallationId": result["installation_id"], "ConfirmationId": request.confirmation_id},
            selectors={"ID": str(product["ID"])},
            doing=doing,
        )
    except ModuleFailure as exc:
        # The installation ID goes with the failure: it is what the activation center needs to be asked again.
        exc.detail.update(result)
        raise
    ctx.applied.append("confirmation_id")
    version = lic.read_licensing_service(wmi, ("Version",)).get("Version")
    if version:
        lic.refresh_license_status(wmi, str(version))
    after = _pick(wmi, Request(None, str(product["ID"]).lower()))
    new_status = after.get("LicenseStatus")
    result.update(license_status=lic.license_status_name(new_status), activated=new_status == LICENSED)
    if new_status != LICENSED:
        # slmgr /atp: "Error: Product activation failed." for any status other than licensed.
        raise ModuleFailure(
            f"The confirmation ID was accepted but the product is not activated: its license status is "
            f"{result['license_status']} (slmgr /atp: Product activation failed)",
            changed=True,
            **result,
        )
    return {**result, "changed": True}
