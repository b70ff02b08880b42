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
