"""Fault injection (latency, dropped connection, fault at request N), OperationTimeout, counters, shells."""

from __future__ import annotations

import http.client
import time
import typing as t

import pytest
from winemu_lib import soap, winrs
from winemu_lib.faults import FaultSettings

if t.TYPE_CHECKING:
    from .conftest import RunningFleet


def shell_body() -> str:
    return (
        "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams>"
        "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>"
    )


def open_shell(fleet: RunningFleet, **kwargs: t.Any) -> str:
    reply = fleet.wsman(soap.ACTION_CREATE, soap.SHELL_CMD_URI, shell_body(), **kwargs)
    assert reply.status == 200, reply.body
    selector = reply.find("s:Body/x:ResourceCreated/a:ReferenceParameters/w:SelectorSet/w:Selector")
    assert selector is not None and selector.get("Name") == "ShellId" and selector.text
    return selector.text


def test_shell_create_and_delete(fleet: RunningFleet) -> None:
    shell_id = open_shell(fleet)
    assert fleet.endpoint().stats_dict()["shells_open"] == 1
    reply = fleet.wsman(soap.ACTION_DELETE, soap.SHELL_CMD_URI, selectors={"ShellId": shell_id})
    assert reply.status == 200
    assert reply.action == "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse"
    assert fleet.endpoint().stats_dict()["shells_open"] == 0
    again = fleet.wsman(soap.ACTION_DELETE, soap.SHELL_CMD_URI, selectors={"ShellId": shell_id})
    assert again.status == 500 and again.subcode == "w:InvalidSelectors"
    provider = again.find("s:Body/s:Fault/s:Detail/f:WSManFault/f:Message/f:ProviderFault")
    assert provider is not None and provider.get("provider") == "Shell provider"


def test_shell_create_response_carries_the_shell(fleet: RunningFleet) -> None:
    reply = fleet.wsman(soap.ACTION_CREATE, soap.SHELL_CMD_URI, shell_body())
    assert reply.action == "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse"
    assert reply.text("s:Body/x:ResourceCreated/a:Address") == fleet.url()
    assert reply.text("s:Body/x:ResourceCreated/a:ReferenceParameters/w:ResourceURI") == soap.SHELL_CMD_URI
    shell_id = reply.text("s:Body/rsp:Shell/rsp:ShellId")
    assert shell_id == reply.text("s:Body/x:ResourceCreated/a:ReferenceParameters/w:SelectorSet/w:Selector")
    assert reply.text("s:Body/rsp:Shell/rsp:Owner") == "Administrator"
    assert reply.text("s:Body/rsp:Shell/rsp:OutputStreams") == "stdout stderr"


def test_many_shells_open_and_close(fleet: RunningFleet) -> None:
    shells = [open_shell(fleet) for _shell in range(40)]
    assert len(set(shells)) == 40
    for shell_id in shells:
        reply = fleet.wsman(soap.ACTION_DELETE, soap.SHELL_CMD_URI, selectors={"ShellId": shell_id.lower()})
        assert reply.status == 200
    assert fleet.endpoint().shells == {}


def test_shells_left_open_expire_after_the_idle_timeout(fleet: RunningFleet) -> None:
    stale = open_shell(fleet)
    fleet.endpoint().shells[stale].created -= winrs.SHELL_IDLE_SECONDS + 1
    fresh = open_shell(fleet)
    assert list(fleet.endpoint().shells) == [fresh]


def test_a_powershell_shell_without_creation_xml_is_refused_clearly(fleet: RunningFleet) -> None:
    uri = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
    reply = fleet.wsman(soap.ACTION_CREATE, uri, "<rsp:Shell/>")
    assert reply.status == 500 and reply.subcode == "w:InternalError"
    assert "creationXml" in (reply.text("s:Body/s:Fault/s:Reason/s:Text") or "")


def test_non_admin_cannot_open_a_shell(fleet: RunningFleet) -> None:
    reply = fleet.wsman(soap.ACTION_CREATE, soap.SHELL_CMD_URI, shell_body(), credentials=fleet.OPERATOR)
    assert reply.status == 500 and reply.subcode == "w:InternalError" and reply.wsman_code == 0x80070005


@pytest.mark.parametrize("operation", ["Command", "Send", "Receive", "Signal"])
def test_shell_commands_are_not_supported(fleet: RunningFleet, operation: str) -> None:
    shell_id = open_shell(fleet)
    reply = fleet.wsman(soap.SHELL + operation, soap.SHELL_CMD_URI, selectors={"ShellId": shell_id})
    assert reply.status == 500
    assert reply.subcode == "a:ActionNotSupported"
    assert "not supported by the emulator" in (reply.text("s:Body/s:Fault/s:Reason/s:Text") or "")
    assert fleet.endpoint().stats_dict()["requests"]["by_action"][operation] == 1


def test_counters_by_action_and_method_and_reset(fleet: RunningFleet) -> None:
    shell_id = open_shell(fleet)
    fleet.invoke(fleet.REG_URI, "EnumKey", {"hDefKey": fleet.HKLM, "sSubKeyName": "software"})
    fleet.invoke(fleet.REG_URI, "EnumKey", {"hDefKey": fleet.HKLM, "sSubKeyName": "software"})
    fleet.invoke(fleet.SERVICE_URI, "StopService", selectors={"Name": "svc002"})
    fleet.query("SELECT Name FROM Win32_Service")
    fleet.get(fleet.SERVICE_URI, {"Name": "sppsvc"})
    fleet.wsman(soap.ACTION_DELETE, soap.SHELL_CMD_URI, selectors={"ShellId": shell_id})
    stats = fleet.endpoint().stats_dict()
    assert stats == {
        "requests": {
            "total": 8,
            "by_action": {"Create": 1, "Delete": 1, "Enumerate": 1, "Get": 1, "Invoke": 3, "Pull": 1},
            "by_method": {
                "StdRegProv.EnumKey": 2,
                "Win32_Service.StopService": 1,
                "enumerate:Win32_Service": 1,
                "get:Win32_Service": 1,
            },
        },
        "writes": 1,
        "shells_open": 0,
        "authentications": {"basic": 8},
    }
    assert fleet.endpoint("ws002").stats_dict()["requests"]["total"] == 0  # hosts count separately
    fleet.endpoint().reset_stats()
    assert fleet.endpoint().stats_dict() == {
        "requests": {"total": 0, "by_action": {}, "by_method": {}},
        "writes": 0,
        "shells_open": 0,
        "authentications": {},
    }
    fleet.invoke(fleet.SERVICE_URI, "StopService", selectors={"Name": "svc004"})
    assert fleet.endpoint().stats_dict()["writes"] == 1


def test_drop_at_request(fleet: RunningFleet) -> None:
    fleet.endpoint().configure_faults({"drop_at_request": 2})
    assert fleet.invoke(fleet.REG_URI, "EnumKey").status == 200
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        fleet.invoke(fleet.REG_URI, "EnumKey")
    assert fleet.invoke(fleet.REG_URI, "EnumKey").status == 200  # only request 2 is dropped
    stats = fleet.endpoint().stats_dict()["requests"]
    assert stats["total"] == 3 and stats["by_action"]["Dropped"] == 1


def test_drop_after_method_drops_the_next_request_once(fleet: RunningFleet) -> None:
    fleet.endpoint().configure_faults({"drop_after_method": "Win32_Service.StopService"})
    assert fleet.invoke(fleet.REG_URI, "EnumKey").status == 200  # another method: no effect
    assert fleet.invoke(fleet.SERVICE_URI, "StopService", selectors={"Name": "svc002"}).status == 200
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        fleet.invoke(fleet.REG_URI, "EnumKey")
    assert fleet.invoke(fleet.SERVICE_URI, "StartService", selectors={"Name": "svc002"}).status == 200
    assert fleet.invoke(fleet.SERVICE_URI, "StopService", selectors={"Name": "svc002"}).status == 200  # one-shot
    assert fleet.invoke(fleet.REG_URI, "EnumKey").status == 200
    assert fleet.endpoint().faults.to_dict()["drop_after_method"] is None


@pytest.mark.parametrize("key", ["drop_after_method", "slow_method"])
@pytest.mark.parametrize("bad", ["EnumKey", "a.b.c", ".EnumKey", 5])
def test_method_faults_need_class_dot_method(fleet: RunningFleet, key: str, bad: object) -> None:
    with pytest.raises(ValueError, match=f"{key} must look like Class.Method"):
        fleet.endpoint().configure_faults({key: bad})


def test_slow_method_outlasts_the_operation_timeout_and_still_takes_effect(fleet: RunningFleet) -> None:
    fleet.endpoint().configure_faults({"slow_method": "Win32_Service.StopService", "slow_method_ms": 1500})
    assert fleet.invoke(fleet.REG_URI, "EnumKey", timeout="PT1S").status == 200  # other methods: fast
    reply = fleet.invoke(fleet.SERVICE_URI, "StopService", selectors={"Name": "svc002"}, timeout="PT1S")
    assert reply.status == 500 and reply.subcode == "w:TimedOut"
    # Windows goes on running the method after WinRM gave up waiting.
    deadline = time.monotonic() + 10
    while fleet.machine().writes == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fleet.machine().services[2]["State"] == "Stopped"


def test_dropped_request_is_not_executed(fleet: RunningFleet) -> None:
    fleet.endpoint().configure_faults({"drop_at_request": 1})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        fleet.invoke(fleet.SERVICE_URI, "StopService", selectors={"Name": "svc002"})
    assert fleet.machine().writes == 0


def test_fault_at_request_counts_from_when_it_was_set(fleet: RunningFleet) -> None:
    fleet.invoke(fleet.REG_URI, "EnumKey")
    fleet.endpoint().configure_faults({"fault_at_request": 2})
    assert fleet.invoke(fleet.REG_URI, "EnumKey").status == 200
    reply = fleet.invoke(fleet.SERVICE_URI, "StopService", selectors={"Name": "svc002"})
    assert reply.status == 500
    assert reply.subcode == "w:InternalError"
    assert "injected" in (reply.text("s:Body/s:Fault/s:Reason/s:Text") or "")
    assert fleet.machine().writes == 0
    assert fleet.invoke(fleet.REG_URI, "EnumKey").status == 200


def test_faults_from_the_host_spec_apply_at_start(start_fleet: t.Callable[..., RunningFleet]) -> None:
    running = start_fleet(1, faults={"fault_at_request": 1, "latency_ms": 5})
    assert running.endpoint().faults.to_dict() == {
        **FaultSettings().to_dict(),  # the kinds not named here are off
        "latency_ms": 5,
        "drop_at_request": None,
        "fault_at_request": 1,
        "malformed_at_request": None,
        "hostile_at_request": None,
        "drop_after_method": None,
        "slow_method": None,
        "slow_method_ms": 0,
    }
    first = running.invoke(running.REG_URI, "EnumKey")
    assert first.status == 500 and first.subcode == "w:InternalError"
    assert running.invoke(running.REG_URI, "EnumKey").status == 200


@pytest.mark.parametrize(
    "changes",
    [{"latency_ms": -1}, {"drop_at_request": 0}, {"fault_at_request": "soon"}, {"latency_ms": True}, {"other": 1}],
)
def test_bad_fault_settings_are_refused(fleet: RunningFleet, changes: dict[str, t.Any]) -> None:
    with pytest.raises(ValueError):
        fleet.endpoint().configure_faults(changes)
    assert fleet.endpoint().faults.to_dict() == {
        **FaultSettings().to_dict(),  # the kinds not named here are off
        "latency_ms": 0,
        "drop_at_request": None,
        "fault_at_request": None,
        "malformed_at_request": None,
        "hostile_at_request": None,
        "drop_after_method": None,
        "slow_method": None,
        "slow_method_ms": 0,
    }


def test_latency_below_the_operation_timeout_only_delays(fleet: RunningFleet) -> None:
    fleet.endpoint().configure_faults({"latency_ms": 20})
    reply = fleet.invoke(fleet.SERVICE_URI, "StopService", selectors={"Name": "svc002"}, timeout="PT5S")
    assert reply.status == 200


def test_operation_timeout_fault_and_late_completion(fleet: RunningFleet) -> None:
    """A call outlasting OperationTimeout gets w:TimedOut while the method still completes, as on Windows."""
    fleet.endpoint().configure_faults({"latency_ms": 1300})
    reply = fleet.invoke(fleet.SERVICE_URI, "StopService", selectors={"Name": "svc002"}, timeout="PT1S")
    assert reply.status == 500
    assert reply.text("s:Body/s:Fault/s:Code/s:Value") == "s:Receiver"
    assert reply.subcode == "w:TimedOut"
    assert reply.wsman_code == 2150858793
    stats = fleet.endpoint().stats_dict()["requests"]
    assert stats["by_method"] == {"Win32_Service.StopService": 1}
    deadline = time.monotonic() + 10
    while fleet.machine().writes == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fleet.machine().services[2]["State"] == "Stopped"
    assert fleet.machine().writes == 1


def test_timed_out_reads_change_nothing(fleet: RunningFleet) -> None:
    fleet.endpoint().configure_faults({"latency_ms": 1100})
    reply = fleet.enumerate("SELECT * FROM Win32_Service", timeout="PT1S")
    assert reply.subcode == "w:TimedOut"
    assert fleet.endpoint().enumerations == {}
