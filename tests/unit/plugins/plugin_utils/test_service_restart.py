# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Win32_Service restart: stop, wait for Stopped, start; disabled services are refused before stopping."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._explain import ERROR_KEYS
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._service import (
    ServiceError,
    read_win32_service,
    restart_explained,
    restart_service,
)
from ansible_collections.winact.kms.tests.unit.plugins.spp_fake import FakeHost


class SlowStop(FakeHost):
    """A service that reports 'Stop Pending' for a few reads after StopService."""

    def __init__(self, pending_reads: int) -> None:
        super().__init__()
        self.pending_reads = pending_reads

    def get(
        self, class_name: str, selectors: t.Mapping[str, str], *, namespace: str = "root/cimv2"
    ) -> dict[str, t.Any]:
        row = super().get(class_name, selectors, namespace=namespace)
        if row["State"] == "Stopped" and self.pending_reads > 0:
            self.pending_reads -= 1
            row["State"] = "Stop Pending"
        return row


def test_restart_running_service() -> None:
    host = FakeHost()
    assert restart_service(t.cast(t.Any, host), "sppsvc", sleep=lambda _s: None) == "restarted"
    assert host.writes() == ["Win32_Service.StopService", "Win32_Service.StartService"]
    assert host.services["sppsvc"]["State"] == "Running"


def test_stopped_service_is_started() -> None:
    host = FakeHost()
    host.services["W32Time"]["State"] = "Stopped"
    assert restart_service(t.cast(t.Any, host), "W32Time") == "started"
    assert host.writes() == ["Win32_Service.StartService"]


def test_waits_for_stop_pending() -> None:
    host = SlowStop(pending_reads=2)
    sleeps: list[float] = []
    assert restart_service(t.cast(t.Any, host), "sppsvc", sleep=sleeps.append) == "restarted"
    assert len(sleeps) == 2
    assert host.services["sppsvc"]["State"] == "Running"


def test_stop_timeout_is_an_error_and_the_service_is_not_started() -> None:
    host = SlowStop(pending_reads=100)
    ticks = iter(range(1000))
    with pytest.raises(ServiceError, match="did not stop within 3 s"):
        restart_service(
            t.cast(t.Any, host), "sppsvc", stop_timeout=3, sleep=lambda _s: None, clock=lambda: float(next(ticks))
        )
    assert "Win32_Service.StartService" not in host.writes()


def test_disabled_service_is_refused_before_stopping() -> None:
    host = FakeHost()
    host.services["sppsvc"]["StartMode"] = "Disabled"
    with pytest.raises(ServiceError) as info:
        restart_service(t.cast(t.Any, host), "sppsvc")
    assert info.value.return_value == 14
    assert info.value.to_dict()["return_value_name"] == "Service Disabled"
    assert host.writes() == []


def test_failed_start_reports_the_return_value() -> None:
    host = FakeHost()

    def invoke(*args: t.Any, **kwargs: t.Any) -> dict[str, t.Any]:
        FakeHost.invoke(host, *args, **kwargs)
        return {"ReturnValue": 15 if args[1] == "StartService" else 0}

    host.invoke = invoke  # type: ignore[method-assign]
    with pytest.raises(ServiceError, match=r"StartService of sppsvc failed: 15 \(Service Logon Failed\)"):
        restart_service(t.cast(t.Any, host), "sppsvc")


def test_read_service_state() -> None:
    state = read_win32_service(t.cast(t.Any, FakeHost()), "sppsvc")
    assert (state.running, state.stopped, state.disabled) == (True, False, False)


def test_service_error_has_the_one_error_shape() -> None:
    message = "StartService of sppsvc failed: 15 (Service Logon Failed)"
    error = ServiceError("sppsvc", "StartService", 15, message).to_dict()
    assert set(ERROR_KEYS) <= set(error)
    assert error["hresult"] is None  # a service control code is not an HRESULT
    assert error["message"] == message
    assert error["cause"] and "Get-Service sppsvc" in error["fix"]
    assert (error["service"], error["method"], error["return_value"]) == ("sppsvc", "Win32_Service.StartService", 15)
    assert error["return_value_name"] == "Service Logon Failed"


def test_restart_explained_records_the_restart() -> None:
    host = FakeHost()
    ctx = TaskContext(check_mode=False, diff_mode=False, applied=["NtpServer"])
    restart_explained(t.cast(t.Any, host), "W32Time", ctx)
    assert ctx.applied == ["NtpServer", "restart W32Time"]
    assert host.writes() == ["Win32_Service.StopService", "Win32_Service.StartService"]


def test_restart_explained_failure_says_what_failed_and_records_nothing() -> None:
    host = FakeHost()
    host.services["sppsvc"]["StartMode"] = "Disabled"
    ctx = TaskContext(check_mode=False, diff_mode=False)
    with pytest.raises(ModuleFailure) as info:
        restart_explained(t.cast(t.Any, host), "sppsvc", ctx)
    assert info.value.msg == "Restarting sppsvc failed: sppsvc is disabled (StartMode Disabled); it cannot be restarted"
    assert info.value.detail["error"]["return_value_name"] == "Service Disabled"
    assert ctx.applied == [] and host.writes() == []
