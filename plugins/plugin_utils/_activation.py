# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The activate engine: preflight, Activate (slmgr /ato), wait until Licensed, explain what failed.

Read the product (and sppsvc first, since a disabled sppsvc fails every licensing read) -> plan (nothing
to do when Licensed, unless forced; the preflight findings) -> apply: Activate, retried after ``delay``
only for the HRESULTs the error table marks transient, then RefreshLicenseStatus and polling of
LicenseStatus. An Activate that outlasts the WS-Man OperationTimeout may still be running on the host,
so it is never called again blindly: the status is read instead.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _events as events
from ansible_collections.winact.kms.plugins.plugin_utils import _kms_count as kms_count
from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils import _office as office
from ansible_collections.winact.kms.plugins.plugin_utils._errors import explain
from ansible_collections.winact.kms.plugins.plugin_utils._explain import (
    error_for_code,
    explain_text,
    explained_failure,
    fault_hresult,
)
from ansible_collections.winact.kms.plugins.plugin_utils._preflight import CHECKS, SL_E_VL_INVALID_TIMESTAMP, Preflight
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._service import read_win32_service
from ansible_collections.winact.kms.plugins.plugin_utils._spp import PRODUCT_CLASS, SPP_SERVICE
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._validate import activation_id as valid_activation_id
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    WSManError,
    WSManFault,
    WSManTimeout,
    WSManUnreachable,
)

SL_E_PKEY_NOT_INSTALLED = 0xC004F014
POLL_INTERVAL = 2.0
# Inner codes (event 12288) that waiting does not fix, even when Activate's own code is transient.
NOT_TRANSIENT_INNER = frozenset({SL_E_VL_INVALID_TIMESTAMP})

SERVICE_PROPERTIES = (
    "Version",
    "KeyManagementServiceMachine",
    "KeyManagementServicePort",
    "KeyManagementServiceLookupDomain",
    "DiscoveredKeyManagementServiceMachineName",
    "DiscoveredKeyManagementServiceMachinePort",
)


@dataclasses.dataclass(frozen=True)
class Request:
    activation_id: str | None
    force: bool
    timeout: int
    retries: int
    delay: int
    checks: tuple[str, ...]
    below_threshold: str = "fail"  # fail | warn | continue: what a final 0xC004F038 makes of the task
    application: str = "windows"  # "office": the installed Office volume SKU (see _office)


BELOW_THRESHOLD_CHOICES = ("fail", "warn", "continue")


class BelowThreshold(Exception):
    """Activate was refused with 0xC004F038 after every attempt, and the task does not fail for it."""

    def __init__(self, detail: dict[str, t.Any]) -> None:
        super().__init__(detail)
        self.detail = detail


def _count(params: t.Mapping[str, t.Any], option: str, default: int) -> int:
    value = params.get(option)
    if value is None:
        return default
    if int(value) < 0:
        raise ValidationError(option, f"{value} is negative; expected 0 or more")
    return int(value)


def build_request(params: t.Mapping[str, t.Any]) -> Request:
    activation_id = params.get("activation_id")
    if activation_id is not None:
        activation_id = valid_activation_id("activation_id", activation_id)
    skipped = set(params.get("skip_preflight") or ())
    checks = tuple(c for c in CHECKS if c not in skipped) if params.get("preflight", True) else ()
    below = params.get("below_threshold") or "fail"
    if below not in BELOW_THRESHOLD_CHOICES:
        raise ValidationError("below_threshold", f"{below!r} is not one of {', '.join(BELOW_THRESHOLD_CHOICES)}")
    application = params.get("application") or "windows"
    if application not in office.APPLICATIONS:
        raise ValidationError("application", f"{application!r} is not one of {', '.join(office.APPLICATIONS)}")
    return Request(
        application=application,
        activation_id=activation_id,
        force=bool(params.get("force")),
        timeout=_count(params, "timeout", 120),
        retries=_count(params, "retries", 2),
        delay=_count(params, "delay", 10),
        checks=checks,
        below_threshold=str(below),
    )


def status_fields(product: t.Mapping[str, t.Any], prefix: str = "") -> dict[str, t.Any]:
    name = lic.license_status_name(product.get("LicenseStatus"))
    if prefix:
        return {f"{prefix}license_status_name": name}
    return {"license_status": product.get("LicenseStatus"), "license_status_name": name}


def execute(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    run = Activation(wmi, request, ctx)
    try:
        return run.run()
    except WSManUnreachable:
        raise
    except WSManFault as exc:
        raise explained_failure(exc, "Reading the licensing state", preflight=run.preflight.findings()) from exc


class Activation:
    def __init__(
        self,
        wmi: WmiClient,
        request: Request,
        ctx: TaskContext,
        *,
        sleep: t.Callable[[float], None] = time.sleep,
        clock: t.Callable[[], float] = time.monotonic,
        now: t.Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self.wmi = wmi
        self.request = request
        self.ctx = ctx
        self.sleep = sleep
        self.clock = clock
        self.preflight = Preflight(wmi, request.checks, now)
        self.attempts = 0

    # -- read -------------------------------------------------------------------------------------
    def read_product(self) -> dict[str, t.Any] | None:
        if self.request.application == "office":
            return office.select_product(self.wmi, self.request.activation_id)
        if self.request.activation_id:
            return lic.read_product(self.wmi, self.request.activation_id)
        return lic.primary_product(lic.read_products(self.wmi))

    def read_events(self) -> list[dict[str, t.Any]] | None:
        try:
            return events.read_events(self.wmi, events.APPLICATION_LOG, events.CLIENT_EVENTS, 4)
        except WSManUnreachable:
            raise
        except WSManError:
            return None

    # -- plan -------------------------------------------------------------------------------------
    def run(self) -> dict[str, t.Any]:
        if "service" in self.request.checks:
            # First, before any SPP class: with sppsvc disabled even reading the license state fails.
            self.preflight.run_service(read_win32_service(self.wmi, SPP_SERVICE))
            if self.preflight.failed():
                self.fail_preflight()
        product = self.read_product()
        if product is None:
            self.no_product()
        previous = status_fields(product, prefix="previous_")
        if product.get("LicenseStatus") == lic.LICENSED and not self.request.force:
            return self.outcome(product, previous, changed=False)
        # Only an activation needs the service's properties (the preflight's and the Version of its calls).
        service = lic.read_licensing_service(self.wmi, SERVICE_PROPERTIES)
        self.preflight.run_product(product, service)
        if self.preflight.failed():
            self.fail_preflight(product)
        if self.ctx.check_mode:
            return self.outcome(product, previous, changed=True)
        try:
            product = self.activate(product, str(service.get("Version") or ""))
        except BelowThreshold as waiting:
            # Nothing changed on this host; the KMS host counted the request. The role's next pass (or
            # Windows' own retry) activates it once the count is reached.
            result = self.outcome(product, previous, changed=False)
            result["below_threshold"] = waiting.detail
            result["msg"] = f"Not activated yet: {kms_count.shortfall_text(waiting.detail)}"
            if self.request.below_threshold == "warn":
                self.ctx.warnings.append(result["msg"])
            return result
        return self.outcome(product, previous, changed=True, activated=True)

    def outcome(
        self, product: t.Mapping[str, t.Any], previous: dict[str, t.Any], *, changed: bool, activated: bool = False
    ) -> dict[str, t.Any]:
        result: dict[str, t.Any] = {
            "changed": changed,
            "activated": activated,
            "attempts": self.attempts,
            "preflight": self.preflight.findings(),
            **previous,
            **status_fields(product),
            "product": lic.describe_product(product),
        }
        if self.ctx.check_mode:
            result["would_activate"] = changed
        return result

    def failure_detail(self, product: t.Mapping[str, t.Any] | None = None, **extra: t.Any) -> dict[str, t.Any]:
        detail: dict[str, t.Any] = {"preflight": self.preflight.findings(), "attempts": self.attempts}
        detail["activated"] = False
        if product is not None:
            detail.update(status_fields(product))
        return {**detail, **extra}

    def fail_preflight(self, product: t.Mapping[str, t.Any] | None = None) -> t.NoReturn:
        raise ModuleFailure(
            f"Preflight check failed, Activate was not called: {self.preflight.message()}",
            **self.failure_detail(product),
        )

    def no_product(self) -> t.NoReturn:
        if self.request.activation_id:
            raise ModuleFailure(
                f"No product with Activation ID {self.request.activation_id} on this host "
                "(SoftwareLicensingProduct.ID); winact.kms.license_info lists the installed products",
                preflight=self.preflight.findings(),
            )
        raise ModuleFailure(
            f"No Windows product key is installed, so there is nothing to activate: "
            f"{explain_text(SL_E_PKEY_NOT_INSTALLED)} (winact.kms.product_key installs the GVLK of the edition)",
            error=error_for_code(SL_E_PKEY_NOT_INSTALLED),
            preflight=self.preflight.findings(),
        )

    # -- apply ------------------------------------------------------------------------------------
    def activate(self, product: dict[str, t.Any], version: str) -> dict[str, t.Any]:
        product_id = str(product.get("ID"))
        while True:
            self.attempts += 1
            try:
                self.wmi.invoke(PRODUCT_CLASS, "Activate", selectors={"ID": product_id})
            except WSManTimeout:
                # Windows may still be activating: never call Activate again blindly, read the status instead.
                return self.wait_licensed(product_id, version, timed_out=True)
            except WSManUnreachable:
                raise
            except WSManError as exc:
                code = fault_hresult(exc)
                found = self.read_events()
                inner = events.last_request_error(found or [])
                if self.retry(code, events.event_hresult(inner)):
                    self.sleep(self.request.delay)
                    continue
                if code == kms_count.SL_E_VL_NOT_ENOUGH_COUNT:
                    waiting = kms_count.shortfall(found)
                    if self.request.below_threshold != "fail":
                        raise BelowThreshold(waiting) from exc
                    self.fail_activation(exc, code, found, inner, product_id, below_threshold=waiting)
                self.fail_activation(exc, code, found, inner, product_id)
            return self.wait_licensed(product_id, version, timed_out=False)

    def retry(self, code: int | None, inner_code: int | None) -> bool:
        """Only what waiting can fix (the error table's transient codes), and only ``retries`` times."""
        if code is None or not explain(code).transient or inner_code in NOT_TRANSIENT_INNER:
            return False
        if code == kms_count.SL_E_VL_NOT_ENOUGH_COUNT and self.request.below_threshold == "continue":
            # A pass that only grows the count: the other clients ask after this one, not while it waits.
            return False
        return self.attempts <= self.request.retries

    def refresh(self, version: str) -> None:
        if version:
            lic.refresh_license_status(self.wmi, version)

    def wait_licensed(self, product_id: str, version: str, *, timed_out: bool) -> dict[str, t.Any]:
        if not timed_out:
            self.refresh(version)
        deadline = self.clock() + self.request.timeout
        while True:
            product = lic.read_product(self.wmi, product_id)
            if product and product.get("LicenseStatus") == lic.LICENSED:
                if timed_out:
                    self.refresh(version)
                return product
            if self.clock() >= deadline:
                break
            self.sleep(POLL_INTERVAL)
        status = status_fields(product or {})
        if timed_out:
            how = (
                "Activate did not answer within the WS-Management operation timeout (it may still be running on the "
                f"host) and the product is still {status['license_status_name']} after {self.request.timeout} s"
            )
        else:
            how = (
                f"Activate returned, but the product is still {status['license_status_name']} after "
                f"{self.request.timeout} s"
            )
        found = self.read_events()
        detail = self.failure_detail(product or {})
        if found is not None:
            detail["events"] = found
        inner = events.last_request_error(found or [])
        inner_code = events.event_hresult(inner)
        if inner is not None:
            how += f". {self.inner_text(inner)}"
            # The product's own status is the failure; the KMS request's error explains it.
            detail["error"] = {
                **(error_for_code(inner_code) if inner_code is not None else {}),
                "inner": inner.get("error"),
            }
        raise ModuleFailure(how, **detail)

    @staticmethod
    def inner_text(inner: t.Mapping[str, t.Any]) -> str:
        where = f" to {inner['kms_server']}" if inner.get("kms_server") else ""
        when = f" at {inner['client_time']}" if inner.get("client_time") else ""
        code = events.event_hresult(inner)
        text = explain_text(code) if code is not None else str(inner.get("hresult"))
        return f"The client's latest KMS request (event 12288{when}{where}) failed with {text}"

    def fail_activation(
        self,
        exc: WSManError,
        code: int | None,
        found: list[dict[str, t.Any]] | None,
        inner: dict[str, t.Any] | None,
        product_id: str,
        below_threshold: dict[str, t.Any] | None = None,
    ) -> t.NoReturn:
        failure = explained_failure(exc, f"Activating {product_id} (Activate)")
        error = dict(failure.detail.get("error") or {})
        msg = failure.msg
        inner_code = events.event_hresult(inner)
        if inner is not None and inner_code is not None and inner_code != code:
            error["inner"] = explain(inner_code).to_dict()
            msg += f" {self.inner_text(inner)}"
        elif found and found[0].get("event_id") == events.EVENT_REQUEST_SENT:
            # 12288 without a 12289 after it: the request got no answer ("KMS activation troubleshooting").
            msg += " The client's latest KMS request (event 12288) got no response (no event 12289 after it)."
        if self.attempts > 1:
            msg += f" ({self.attempts} attempts)"
        detail = self.failure_detail(error=error)
        if below_threshold is not None:
            msg += f" KMS {kms_count.shortfall_text(below_threshold)}."
            detail["below_threshold"] = below_threshold
        if found is not None:
            detail["events"] = found
        raise ModuleFailure(msg, **detail)
