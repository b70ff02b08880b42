# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of winact.kms.activate: preflight, Activate (slmgr /ato), wait for Licensed, explain failures."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import time
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils._action import ModuleFailure, TaskContext, WinactAction
from ansible_collections.winact.kms.plugins.plugin_utils._errors import explain
from ansible_collections.winact.kms.plugins.plugin_utils._service import ServiceState, read_service
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError, server_key
from ansible_collections.winact.kms.plugins.plugin_utils._validate import activation_id as valid_activation_id
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    WSManClassNotFound,
    WSManError,
    WSManFault,
    WSManTimeout,
    WSManUnreachable,
)

PRODUCT_CLASS = "SoftwareLicensingProduct"
SERVICE_CLASS = "SoftwareLicensingService"
SPP_SERVICE = "sppsvc"
CHECKS = ("service", "clock", "kms_discovery", "self_target")
KMS_CLIENT_CHECKS = frozenset({"clock", "kms_discovery", "self_target"})

# Client and KMS host clocks may differ by up to 4 hours (compared in UTC); beyond that the host answers
# 0xC004F06C (spp-facts §4).
KMS_CLOCK_TOLERANCE = datetime.timedelta(hours=4)
SL_E_VL_INVALID_TIMESTAMP = 0xC004F06C
SL_E_PKEY_NOT_INSTALLED = 0xC004F014
POLL_INTERVAL = 2.0

# Errors worth another Activate after `delay`: the KMS host or the path to it may come back, and the count
# rises while other machines of the same run ask. Everything else (bad key, DNS records missing, wrong host
# group, access denied, ...) needs a change first.
TRANSIENT_ERRORS: dict[int, str] = {
    0xC004F074: "no KMS host could be contacted",
    0xC004F039: "the KMS host did not respond",
    0xC004F038: "the KMS count is below the threshold; it grows as other machines request activation",
    0xC004F075: "the Software Protection service is stopping",
    0x800706BA: "the RPC server (KMS host) is unavailable",
    0x800705B4: "the operation timed out",
}
# Inner codes (event 12288) that waiting does not fix.
NOT_TRANSIENT_INNER = frozenset({SL_E_VL_INVALID_TIMESTAMP})

OS_PROPERTIES = ("CSName", "LocalDateTime")
COMPUTER_PROPERTIES = ("Name", "DNSHostName", "Domain", "PartOfDomain")
SERVICE_PROPERTIES = (
    "Version",
    "KeyManagementServiceMachine",
    "KeyManagementServicePort",
    "KeyManagementServiceLookupDomain",
    "DiscoveredKeyManagementServiceMachineName",
    "DiscoveredKeyManagementServiceMachinePort",
)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


@dataclasses.dataclass(frozen=True)
class Request:
    activation_id: str | None
    force: bool
    timeout: int
    retries: int
    delay: int
    checks: tuple[str, ...]


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
    return Request(
        activation_id=activation_id,
        force=bool(params.get("force")),
        timeout=_count(params, "timeout", 120),
        retries=_count(params, "retries", 2),
        delay=_count(params, "delay", 10),
        checks=checks,
    )


# --------------------------------------------------------------------------------------------------
# Preflight findings


def finding(check: str, status: str, message: str, **details: t.Any) -> dict[str, t.Any]:
    return {"check": check, "status": status, "message": message, "details": details}


def check_service(state: ServiceState) -> dict[str, t.Any]:
    details = state.to_dict()
    if state.disabled:
        return finding(
            "service",
            "failed",
            "The Software Protection service (sppsvc) is disabled (StartMode Disabled): Windows can neither "
            "activate nor report its license state. Fix: set its start type back to Manual or Automatic "
            "(e.g. ansible.windows.win_service name=sppsvc start_mode=delayed), then activate again.",
            **details,
        )
    return finding("service", "passed", f"sppsvc start mode {state.start_mode}, state {state.state}", **details)


def check_clock(host_time: t.Any, controller_time: datetime.datetime) -> dict[str, t.Any]:
    if not isinstance(host_time, datetime.datetime) or host_time.tzinfo is None:
        return finding("clock", "unknown", "The host did not report its time (Win32_OperatingSystem.LocalDateTime)")
    skew = host_time - controller_time
    seconds = round(skew.total_seconds())
    details = {
        "host_time": host_time.isoformat(),
        "controller_time": controller_time.isoformat(),
        "skew_seconds": seconds,
        "tolerance_seconds": int(KMS_CLOCK_TOLERANCE.total_seconds()),
    }
    direction = "ahead of" if seconds > 0 else "behind"
    hours = abs(seconds) / 3600
    if abs(skew) > KMS_CLOCK_TOLERANCE:
        info = explain(SL_E_VL_INVALID_TIMESTAMP)
        return finding(
            "clock",
            "failed",
            f"The host's clock is {hours:.1f} h {direction} the controller's, beyond the 4 h KMS tolerance: the KMS "
            f"host would refuse the request with {info.hresult_hex} {info.symbol} (shown by Activate as 0xC004F074). "
            f"Fix: {info.fix} (winact.kms.time_source configures NTP peers and resyncs).",
            **details,
        )
    return finding("clock", "passed", f"The host's clock is {abs(seconds)} s {direction} the controller's", **details)


def _first(*values: t.Any) -> t.Any:
    return next((v for v in values if v not in (None, "", 0)), None)


def check_discovery(
    service: t.Mapping[str, t.Any], product: t.Mapping[str, t.Any], computer: t.Mapping[str, t.Any]
) -> dict[str, t.Any]:
    registered = _first(product.get("KeyManagementServiceMachine"), service.get("KeyManagementServiceMachine"))
    port = _first(product.get("KeyManagementServicePort"), service.get("KeyManagementServicePort")) or 1688
    if registered:
        return finding(
            "kms_discovery",
            "passed",
            f"KMS host registered: {registered}:{port}",
            registered_name=registered,
            port=port,
        )
    lookup = _first(product.get("KeyManagementServiceLookupDomain"), service.get("KeyManagementServiceLookupDomain"))
    if lookup:
        return finding(
            "kms_discovery",
            "passed",
            f"DNS auto-discovery in the lookup domain {lookup} (_vlmcs._tcp.{lookup}; the record itself is not "
            "checked from the controller)",
            lookup_domain=lookup,
        )
    discovered = _first(
        product.get("DiscoveredKeyManagementServiceMachineName"),
        service.get("DiscoveredKeyManagementServiceMachineName"),
    )
    domain = computer.get("Domain") if computer.get("PartOfDomain") else None
    if domain:
        return finding(
            "kms_discovery",
            "passed",
            f"DNS auto-discovery in the domain {domain} (_vlmcs._tcp.{domain}; the record itself is not checked "
            "from the controller)",
            domain=domain,
            discovered_name=discovered,
        )
    if discovered:
        return finding(
            "kms_discovery",
            "passed",
            f"No KMS host registered and not a domain member, but the client found {discovered} before (host caching)",
            discovered_name=discovered,
        )
    return finding(
        "kms_discovery",
        "failed",
        "No KMS host is registered, no lookup domain is set and the machine is not a domain member, so the client "
        "has no _vlmcs._tcp domain to search. Fix: register the KMS host (winact.kms.kms_client server=...) or a "
        "lookup domain; if the client gets a DNS suffix from DHCP, pass skip_preflight: [kms_discovery].",
        workgroup=computer.get("Domain"),
    )


def own_names(os_info: t.Mapping[str, t.Any], computer: t.Mapping[str, t.Any], addresses: t.Iterable[str]) -> set[str]:
    """Every way this machine can be named: computer name, DNS name, FQDN, localhost, loopback and own IPs."""
    names: set[str] = set(LOOPBACK_NAMES)
    host = computer.get("DNSHostName") or computer.get("Name") or os_info.get("CSName")
    for value in (os_info.get("CSName"), computer.get("Name"), computer.get("DNSHostName")):
        if value:
            names.add(str(value))
    domain = computer.get("Domain")
    if host and domain and computer.get("PartOfDomain"):
        names.add(f"{host}.{domain}")
    names.update(str(a) for a in addresses if a)
    keys = {server_key(n) for n in names}
    keys.update({"127.0.0.1", "[::1]"})
    return keys


def is_loopback(name: str) -> bool:
    text = name.strip("[]")
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def check_self_target(
    service: t.Mapping[str, t.Any],
    product: t.Mapping[str, t.Any],
    names: set[str],
    addresses_known: bool,
) -> dict[str, t.Any]:
    registered = _first(product.get("KeyManagementServiceMachine"), service.get("KeyManagementServiceMachine"))
    if not registered:
        return finding("self_target", "passed", "No KMS host registered; nothing points at this machine")
    if server_key(str(registered)) in names or is_loopback(str(registered)):
        return finding(
            "self_target",
            "failed",
            f"The KMS client is pointed at itself ({registered}): a machine cannot activate against itself as a KMS "
            "host (a KMS host's own key is activated by Microsoft, not through KMS). Fix: register another KMS host "
            "(winact.kms.kms_client server=...) or clear the name to use DNS auto-discovery.",
            registered_name=registered,
        )
    note = "" if addresses_known else " (the host's IP addresses could not be read, so only names were compared)"
    return finding(
        "self_target",
        "passed",
        f"The registered KMS host {registered} is another machine{note}",
        registered_name=registered,
    )


def skipped(check: str, why: str) -> dict[str, t.Any]:
    return finding(check, "skipped", why)


# --------------------------------------------------------------------------------------------------


class ActionModule(WinactAction):
    module_name = "activate"
    _request: Request | None = None

    def validate(self, params: dict[str, t.Any]) -> None:
        self._request = build_request(params)

    def execute(self, wmi: WmiClient, params: dict[str, t.Any], ctx: TaskContext) -> dict[str, t.Any]:
        request = self._request or build_request(params)
        run = Activation(wmi, request, ctx)
        try:
            return run.run()
        except WSManUnreachable:
            raise
        except WSManFault as exc:
            raise lic.explained_failure(exc, "Reading the licensing state", preflight=run.findings()) from exc


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
        self.now = now
        self.preflight: list[dict[str, t.Any]] = []
        self.attempts = 0

    # -- read ----------------------------------------------------------------------------------
    def read_product(self) -> dict[str, t.Any] | None:
        if self.request.activation_id:
            return lic.read_product(self.wmi, self.request.activation_id)
        return lic.primary_product(lic.read_products(self.wmi))

    def read_addresses(self) -> list[str] | None:
        """The host's IP addresses, or None when Win32_NetworkAdapterConfiguration cannot be read."""
        try:
            rows = self.wmi.query("SELECT IPAddress FROM Win32_NetworkAdapterConfiguration WHERE IPEnabled = TRUE")
        except (WSManClassNotFound, WSManFault):
            return None
        addresses: list[str] = []
        for row in rows:
            value = row.get("IPAddress")
            addresses.extend([value] if isinstance(value, str) else [str(v) for v in value or ()])
        return addresses

    # -- preflight -----------------------------------------------------------------------------
    def run_preflight(self, product: t.Mapping[str, t.Any], service: t.Mapping[str, t.Any]) -> None:
        checks = [c for c in self.request.checks if c != "service"]
        if not checks:
            return
        kms_client = lic.is_kms_client_product(product)
        needed = [c for c in checks if kms_client or c not in KMS_CLIENT_CHECKS]
        for check in checks:
            if check not in needed:
                self.preflight.append(skipped(check, "The product is not a KMS client (no GVLK installed)"))
        if not needed:
            return
        os_rows = self.wmi.query(f"SELECT {', '.join(OS_PROPERTIES)} FROM Win32_OperatingSystem")
        controller_time = self.now()
        os_info = os_rows[0] if os_rows else {}
        computer: dict[str, t.Any] = {}
        if "kms_discovery" in needed or "self_target" in needed:
            rows = self.wmi.query(f"SELECT {', '.join(COMPUTER_PROPERTIES)} FROM Win32_ComputerSystem")
            computer = rows[0] if rows else {}
        for check in needed:
            if check == "clock":
                self.preflight.append(check_clock(os_info.get("LocalDateTime"), controller_time))
            elif check == "kms_discovery":
                self.preflight.append(check_discovery(service, product, computer))
            elif check == "self_target":
                addresses = self.read_addresses()
                names = own_names(os_info, computer, addresses or ())
                self.preflight.append(check_self_target(service, product, names, addresses is not None))

    def findings(self) -> list[dict[str, t.Any]]:
        """The preflight findings in the documented order of the checks."""
        return sorted(self.preflight, key=lambda f: CHECKS.index(f["check"]))

    def fatal(self) -> list[dict[str, t.Any]]:
        return [f for f in self.preflight if f["status"] == "failed"]

    def fail_preflight(self, product: t.Mapping[str, t.Any] | None = None) -> t.NoReturn:
        fatal = self.fatal()
        messages = " ".join(f"[{f['check']}] {f['message']}" for f in fatal)
        detail: dict[str, t.Any] = {"preflight": self.findings(), "attempts": 0, "activated": False}
        if product:
            detail.update(self.status_fields(product))
        raise ModuleFailure(f"Preflight check failed, Activate was not called: {messages}", **detail)

    # -- run -------------------------------------------------------------------------------------
    def run(self) -> dict[str, t.Any]:
        if self.request.checks:
            for check in CHECKS:
                if check not in self.request.checks:
                    self.preflight.append(skipped(check, "skipped by skip_preflight"))
        if "service" in self.request.checks:
            # First, before any SPP class: with sppsvc disabled even reading the license state fails.
            self.preflight.append(check_service(read_service(self.wmi, SPP_SERVICE)))
            if self.fatal():
                self.fail_preflight()

        product = self.read_product()
        if product is None:
            self.no_product()
        service = lic.read_service(self.wmi, SERVICE_PROPERTIES)
        previous = self.status_fields(product, prefix="previous_")
        if product.get("LicenseStatus") == lic.LICENSED and not self.request.force:
            return self.outcome(product, previous, changed=False)
        self.run_preflight(product, service)
        if self.fatal():
            self.fail_preflight(product)
        if self.ctx.check_mode:
            return self.outcome(product, previous, changed=True)
        product = self.activate(product, str(service.get("Version") or ""))
        return self.outcome(product, previous, changed=True, activated=True)

    def outcome(
        self, product: t.Mapping[str, t.Any], previous: dict[str, t.Any], *, changed: bool, activated: bool = False
    ) -> dict[str, t.Any]:
        result: dict[str, t.Any] = {
            "changed": changed,
            "activated": activated,
            "attempts": self.attempts,
            "preflight": self.findings(),
            **previous,
            **self.status_fields(product),
            "product": lic.describe_product(dict(product), None),
        }
        if self.ctx.check_mode:
            result["would_activate"] = changed
        return result

    @staticmethod
    def status_fields(product: t.Mapping[str, t.Any], prefix: str = "") -> dict[str, t.Any]:
        status = product.get("LicenseStatus")
        name = lic.LICENSE_STATUS.get(status, "Unknown") if isinstance(status, int) else None
        if prefix:
            return {f"{prefix}license_status_name": name}
        return {"license_status": status, "license_status_name": name}

    def no_product(self) -> t.NoReturn:
        if self.request.activation_id:
            raise ModuleFailure(
                f"No product with Activation ID {self.request.activation_id} on this host "
                "(SoftwareLicensingProduct.ID); winact.kms.license_info lists the installed products",
                preflight=self.findings(),
            )
        info = explain(SL_E_PKEY_NOT_INSTALLED)
        raise ModuleFailure(
            f"No Windows product key is installed, so there is nothing to activate: {lic.explain_text(info.hresult)}"
            " (winact.kms.product_key installs the GVLK of the edition)",
            error=info.to_dict(),
            preflight=self.findings(),
        )

    # -- activate ----------------------------------------------------------------------------------
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
                code = lic.fault_hresult(exc)
                events = self.read_events()
                inner = lic.last_request_error(events or [])
                inner_code = _hresult(inner)
                if self.retry(code, inner_code):
                    self.sleep(self.request.delay)
                    continue
                self.fail_activation(exc, code, events, inner, product_id)
            return self.wait_licensed(product_id, version, timed_out=False)

    def retry(self, code: int | None, inner_code: int | None) -> bool:
        if code not in TRANSIENT_ERRORS or inner_code in NOT_TRANSIENT_INNER:
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
        status = self.status_fields(product or {})
        if timed_out:
            how = (
                "Activate did not answer within the WS-Management operation timeout (it may still be running on the "
                f"host) and the product is still {status['license_status_name']} after {self.request.timeout} s"
            )
        else:
            how = f"Activate returned, but the product is still {status['license_status_name']} after " + (
                f"{self.request.timeout} s"
            )
        events = self.read_events()
        detail: dict[str, t.Any] = {"preflight": self.findings(), "attempts": self.attempts, "activated": False}
        detail.update(status)
        if events is not None:
            detail["events"] = events
        inner = lic.last_request_error(events or [])
        if inner is not None:
            how += f". {self.inner_text(inner)}"
            detail["error"] = {"inner": inner.get("error")}
        raise ModuleFailure(how, **detail)

    def read_events(self) -> list[dict[str, t.Any]] | None:
        try:
            return lic.read_events(self.wmi, lic.APPLICATION_LOG, lic.CLIENT_EVENTS, 4)
        except WSManUnreachable:
            raise
        except WSManError:
            return None

    @staticmethod
    def inner_text(inner: t.Mapping[str, t.Any]) -> str:
        where = f" to {inner['kms_server']}" if inner.get("kms_server") else ""
        when = f" at {inner['client_time']}" if inner.get("client_time") else ""
        code = _hresult(inner)
        text = lic.explain_text(code) if code is not None else str(inner.get("hresult"))
        return f"The client's latest KMS request (event 12288{when}{where}) failed with {text}"

    def fail_activation(
        self,
        exc: WSManError,
        code: int | None,
        events: list[dict[str, t.Any]] | None,
        inner: dict[str, t.Any] | None,
        product_id: str,
    ) -> t.NoReturn:
        failure = lic.explained_failure(exc, f"Activating {product_id} (Activate)")
        error = dict(failure.detail.get("error") or {})
        msg = failure.msg
        inner_code = _hresult(inner)
        if inner is not None and inner_code is not None and inner_code != code:
            error["inner"] = explain(inner_code).to_dict()
            msg += f" {self.inner_text(inner)}"
        elif events is not None and events and events[0].get("event_id") == lic.EVENT_REQUEST_SENT:
            # 12288 without a 12289 after it: the request got no answer (spp-facts §7.2, S-TSKMS).
            msg += " The client's latest KMS request (event 12288) got no response (no event 12289 after it)."
        if self.attempts > 1:
            msg += f" ({self.attempts} attempts)"
        detail: dict[str, t.Any] = {
            "error": error,
            "preflight": self.findings(),
            "attempts": self.attempts,
            "activated": False,
        }
        if events is not None:
            detail["events"] = events
        raise ModuleFailure(msg, **detail)


def _hresult(event: t.Mapping[str, t.Any] | None) -> int | None:
    text = (event or {}).get("hresult")
    if not isinstance(text, str):
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None
