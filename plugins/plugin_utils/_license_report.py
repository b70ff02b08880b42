# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The license_info report: OS identity, products, KMS client and host, optionally the KMS events."""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _events as events
from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils import _office as office
from ansible_collections.winact.kms.plugins.plugin_utils import _token_only as token_only
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._service import read_win32_service
from ansible_collections.winact.kms.plugins.plugin_utils._spp import SPP_SERVICE
from ansible_collections.winact.kms.plugins.plugin_utils._validate import activation_id as valid_activation_id
from ansible_collections.winact.kms.plugins.plugin_utils._validate import check_int_range
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient

DEFAULT_EVENT_COUNT = 10
EVENT_COUNT_RANGE = (0, 1000)


@dataclasses.dataclass(frozen=True)
class Request:
    activation_id: str | None = None  # report this product (of any application) instead of the Windows ones
    events: bool = False
    event_count: int = DEFAULT_EVENT_COUNT


def build_request(params: t.Mapping[str, t.Any]) -> Request:
    activation_id = params.get("activation_id")
    count = params.get("event_count")
    return Request(
        activation_id=valid_activation_id("activation_id", activation_id) if activation_id is not None else None,
        events=bool(params.get("events")),
        event_count=DEFAULT_EVENT_COUNT if count is None else check_int_range("event_count", count, EVENT_COUNT_RANGE),
    )


def execute(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    os_info = lic.read_os(wmi)
    service = lic.read_licensing_service(wmi)
    keyed = lic.read_products(wmi)
    primary = lic.primary_product(keyed)
    products = keyed
    if request.activation_id:
        # Any application's product (Windows, Office, ...); windows_product stays the Windows one.
        asked = lic.read_product(wmi, request.activation_id)
        if asked is None:
            raise ModuleFailure(
                f"activation_id: no SoftwareLicensingProduct has the ID {request.activation_id} on this host",
                option="activation_id",
            )
        products = [asked]
    now = os_info.get("LocalDateTime")
    kms_host = lic.describe_kms_host(service)
    report: dict[str, t.Any] = {
        # Without an installed key, the edition still shows in the unkeyed products (one more query).
        "os": lic.describe_os(os_info, primary, None if primary else lic.read_license_family(wmi)),
        "products": [lic.describe_product(p, now) for p in products],
        "windows_product": lic.describe_product(primary, now) if primary else None,
        "office_products": [office.describe(p, now) for p in lic.read_office_products(wmi)],
        "kms_client": lic.describe_kms_client(service, primary),
        "kms_host": kms_host,
        # What an image pipeline decides on (slmgr /dlv): the CMID clones must not share, the rearms left.
        "client_machine_id": service.get("ClientMachineID"),
        "is_kms_host": kms_host is not None,
        # Licensing needs sppsvc; a disabled one fails every SPP call (and every clone made from the image).
        "sppsvc": read_win32_service(wmi, SPP_SERVICE).to_dict(),
        "rearm": {
            "remaining_windows_rearm_count": service.get("RemainingWindowsReArmCount"),
            "remaining_sku_rearm_count": (primary or {}).get("RemainingSkuReArmCount"),
        },
    }
    # Windows 7 / 2008 R2 only (slmgr /stao, /ctao); the property does not exist on later Windows.
    windows7 = token_only.is_windows7(service.get("Version"))
    report["kms_client"]["token_activation_only"] = token_only.read(wmi) == token_only.TOKEN if windows7 else None
    warning = lic.kms_count_warning(kms_host)
    if warning:
        ctx.warnings.append(warning)
    if request.events:
        report["events"] = events.read_kms_events(wmi, kms_host=kms_host is not None, limit=request.event_count)
    return {"changed": False, **report, "ansible_facts": {"winact_kms": report}}
