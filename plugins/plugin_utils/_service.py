# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows services through ``Win32_Service``: read the state, restart (sppsvc, W32Time).

A restart is ``StopService``, a wait until the service reports ``Stopped``, then
``StartService``: both methods only send the control request and return, so
starting right after stopping could hit a service that is still stopping.
"""

from __future__ import annotations

import dataclasses
import time
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._explain import error_detail
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient

SERVICE_CLASS = "Win32_Service"

# Win32_Service StartService / StopService return values (Microsoft's Win32_Service method reference).
RETURN_VALUES: dict[int, str] = {
    0: "Success",
    1: "Not Supported",
    2: "Access Denied",
    3: "Dependent Services Running",
    4: "Invalid Service Control",
    5: "Service Cannot Accept Control",
    6: "Service Not Active",
    7: "Service Request Timeout",
    8: "Unknown Failure",
    9: "Path Not Found",
    10: "Service Already Running",
    11: "Service Database Locked",
    12: "Service Dependency Deleted",
    13: "Service Dependency Failure",
    14: "Service Disabled",
    15: "Service Logon Failed",
    16: "Service Marked For Deletion",
    17: "Service No Thread",
    18: "Status Circular Dependency",
    19: "Status Duplicate Name",
    20: "Status Invalid Name",
    21: "Status Invalid Parameter",
    22: "Status Invalid Service Account",
    23: "Status Service Exists",
    24: "Service Already Paused",
}
_CAUSES: dict[int, str] = {
    2: "The connection account may not control services on the host (not a local administrator).",
    7: "The service did not answer the control request in time; it may be hung or still starting.",
    14: "The service's start type is Disabled.",
    15: "The service's logon account failed to log on.",
}
# StopService on a service that is already stopped (or stopping) answers 5 or 6: nothing left to do.
STOP_OK = frozenset({0, 5, 6})
# StartService on a service that is already running answers 10.
START_OK = frozenset({0, 10})


class ServiceError(Exception):
    """A service control method failed (its ReturnValue is not a success code)."""

    def __init__(self, name: str, method: str, return_value: int | None, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.method = method
        self.return_value = return_value
        self.message = message

    def to_dict(self) -> dict[str, t.Any]:
        """The module result's ``error``: a service control code is not an HRESULT, so ``hresult`` is null."""
        return error_detail(
            self.message,
            cause=_CAUSES.get(self.return_value) if self.return_value is not None else None,
            fix=f"Check the {self.name} service on the host (Get-Service {self.name}; its start type and the "
            "System event log), then run the task again: it restarts what is still owed.",
            service=self.name,
            method=f"{SERVICE_CLASS}.{self.method}",
            return_value=self.return_value,
            return_value_name=RETURN_VALUES.get(self.return_value, "Unknown")
            if self.return_value is not None
            else None,
        )


@dataclasses.dataclass(frozen=True)
class ServiceState:
    name: str
    state: str | None  # Running, Stopped, Start Pending, Stop Pending, ...
    start_mode: str | None  # Auto, Manual, Disabled, Boot, System

    @property
    def disabled(self) -> bool:
        return (self.start_mode or "").lower() == "disabled"

    @property
    def running(self) -> bool:
        return (self.state or "").lower() == "running"

    @property
    def stopped(self) -> bool:
        return (self.state or "").lower() == "stopped"

    def to_dict(self) -> dict[str, t.Any]:
        return {"name": self.name, "state": self.state, "start_mode": self.start_mode}


def read_win32_service(wmi: WmiClient, name: str) -> ServiceState:
    """One WS-Transfer Get of ``Win32_Service`` by its key ``Name``."""
    data = wmi.get(SERVICE_CLASS, {"Name": name})
    return ServiceState(name=str(data.get("Name") or name), state=data.get("State"), start_mode=data.get("StartMode"))


def _control(wmi: WmiClient, name: str, method: str, accepted: frozenset[int]) -> int:
    out = wmi.invoke(SERVICE_CLASS, method, selectors={"Name": name})
    code = out.get("ReturnValue")
    if not isinstance(code, int) or code not in accepted:
        label = RETURN_VALUES.get(code, "Unknown") if isinstance(code, int) else "no ReturnValue"
        raise ServiceError(
            name, method, code if isinstance(code, int) else None, f"{method} of {name} failed: {code} ({label})"
        )
    return code


def restart_service(
    wmi: WmiClient,
    name: str,
    *,
    stop_timeout: float = 60.0,
    poll_interval: float = 1.0,
    sleep: t.Callable[[float], None] = time.sleep,
    clock: t.Callable[[], float] = time.monotonic,
) -> str:
    """Restart ``name`` (or start it when it is stopped); return ``"restarted"`` or ``"started"``.

    A disabled service cannot start: that is a :class:`ServiceError` raised before
    anything is stopped, so a failed restart never leaves a running service stopped.
    """
    current = read_win32_service(wmi, name)
    if current.disabled:
        raise ServiceError(name, "StartService", 14, f"{name} is disabled (StartMode Disabled); it cannot be restarted")
    action = "started"
    if not current.stopped:
        _control(wmi, name, "StopService", STOP_OK)
        action = "restarted"
        deadline = clock() + stop_timeout
        while not current.stopped:
            current = read_win32_service(wmi, name)
            if current.stopped:
                break
            if clock() >= deadline:
                raise ServiceError(
                    name, "StopService", 7, f"{name} did not stop within {stop_timeout:g} s (state {current.state})"
                )
            sleep(poll_interval)
    _control(wmi, name, "StartService", START_OK)
    return action


def restart_explained(wmi: WmiClient, name: str, ctx: TaskContext) -> None:
    """Restart a service and record it in ``ctx.applied``; a failure says what failed and why."""
    try:
        restart_service(wmi, name)
    except ServiceError as exc:
        raise ModuleFailure(f"Restarting {name} failed: {exc.message}", error=exc.to_dict()) from exc
    ctx.applied.append(f"restart {name}")
