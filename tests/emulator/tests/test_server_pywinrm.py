"""pywinrm against the emulator: what Ansible's winrm connection and the collection's transport do."""

from __future__ import annotations

import typing as t
import xml.etree.ElementTree as ET

import pytest
from winemu_lib import soap
from winrm.exceptions import InvalidCredentialsError, WinRMOperationTimeoutError, WinRMTransportError, WSManFaultError
from winrm.protocol import Protocol

if t.TYPE_CHECKING:
    from .conftest import RunningFleet


def protocol(url: str, credentials: tuple[str, str], **kwargs: t.Any) -> Protocol:
    return Protocol(
        endpoint=url,
        transport="basic",
        username=credentials[0],
        password=credentials[1],
        message_encryption="never",
        server_cert_validation="ignore",
        **kwargs,
    )


def test_open_and_close_shell_like_ansible(fleet: RunningFleet) -> None:
    for _task in range(3):  # Ansible opens and closes one shell per task
        client = protocol(fleet.url(), fleet.ADMIN)
        shell_id = client.open_shell(codepage=65001)
        assert len(shell_id) == 36 and shell_id.upper() in fleet.endpoint().shells
        client.close_shell(shell_id)  # asserts RelatesTo == its MessageID
    stats = fleet.endpoint().stats_dict()
    assert stats["requests"]["by_action"] == {"Create": 3, "Delete": 3}
    assert stats["shells_open"] == 0


def test_wmi_invoke_through_transport_send_message(fleet: RunningFleet) -> None:
    client = protocol(fleet.url(), fleet.ADMIN)
    shell_id = client.open_shell()
    data, message_id = fleet.envelope(
        f"{fleet.REG_URI}/GetStringValue",
        fleet.REG_URI,
        fleet.method_input(
            fleet.REG_URI,
            "GetStringValue",
            {
                "hDefKey": fleet.HKLM,
                "sSubKeyName": r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform",
                "sValueName": "KeyManagementServiceName",
            },
        ),
    )
    response = client.transport.send_message(data.decode())
    root = ET.fromstring(response)
    ns = {"s": soap.NS_S, "a": soap.NS_A, "p": fleet.REG_URI}
    assert root.findtext("s:Header/a:RelatesTo", namespaces=ns) == message_id
    assert root.findtext("s:Body/p:GetStringValue_OUTPUT/p:sValue", namespaces=ns) == "kms01.corp.example.com"
    assert root.findtext("s:Body/p:GetStringValue_OUTPUT/p:ReturnValue", namespaces=ns) == "0"
    client.close_shell(shell_id)


def test_fault_reaches_transport_callers_as_response_text(fleet: RunningFleet) -> None:
    client = protocol(fleet.url(), fleet.ADMIN)
    data, _message_id = fleet.envelope(
        f"{fleet.SERVICE_URI}/StartService", fleet.SERVICE_URI, fleet.method_input(fleet.SERVICE_URI, "StartService")
    )
    with pytest.raises(WinRMTransportError) as caught:
        client.transport.send_message(data)
    assert caught.value.code == 500
    assert "w:InvalidSelectors" in caught.value.response_text
    with pytest.raises(WSManFaultError) as decoded:
        client.send_message(data.decode())
    assert decoded.value.wsman_fault_code == 2150858843
    assert decoded.value.fault_subcode == "w:InvalidSelectors"


def test_wrong_password_is_invalid_credentials(fleet: RunningFleet) -> None:
    client = protocol(fleet.url(), (fleet.ADMIN[0], "nope"))
    with pytest.raises(InvalidCredentialsError):
        client.open_shell()


def test_operation_timeout_maps_to_pywinrm_timeout(fleet: RunningFleet) -> None:
    fleet.endpoint().configure_faults({"latency_ms": 1500})
    client = protocol(fleet.url(), fleet.ADMIN, operation_timeout_sec=1, read_timeout_sec=10)
    with pytest.raises(WinRMOperationTimeoutError):
        client.open_shell()


def test_https_with_certificate_validation_off(start_fleet: t.Callable[..., RunningFleet]) -> None:
    running = start_fleet(1, https=True)
    client = protocol(running.url(), running.ADMIN)
    shell_id = client.open_shell()
    client.close_shell(shell_id)
    assert running.endpoint().stats_dict()["requests"]["by_action"] == {"Create": 1, "Delete": 1}


def test_commands_are_refused_unless_the_fleet_benchmark_cans_them(fleet: RunningFleet) -> None:
    client = protocol(fleet.url(), fleet.ADMIN)
    shell_id = client.open_shell()
    with pytest.raises(WSManFaultError):
        client.run_command(shell_id, "cscript.exe", ["//NoLogo", "slmgr.vbs", "/dlv"])
    # Bench-only (tests/benchmarks/fleet_cost.py): every command prints the canned text and exits 0.
    fleet.endpoint().winrs.canned_stdout = b'{"changed": false}'
    try:
        command_id = client.run_command(shell_id, "powershell.exe", ["-NoProfile"], console_mode_stdin=False)
        client.send_command_input(shell_id, command_id, b"module payload", end=True)
        stdout, stderr, code = client.get_command_output(shell_id, command_id)
        client.cleanup_command(shell_id, command_id)
    finally:
        fleet.endpoint().winrs.canned_stdout = None
    client.close_shell(shell_id)
    assert (stdout, stderr, code) == (b'{"changed": false}', b"", 0)
    by_action = fleet.endpoint().stats_dict()["requests"]["by_action"]
    assert {action: by_action.get(action) for action in ("Command", "Send", "Receive", "Signal")} == dict.fromkeys(
        ("Command", "Send", "Receive", "Signal"), 1
    ) | {"Command": 2}
