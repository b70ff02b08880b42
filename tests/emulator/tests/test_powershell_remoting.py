"""The emulated PowerShell runspace pool, driven by pypsrp (what Ansible's psrp connection uses) and by
psrpcore's client side (to read the raw PSRP messages the host sends)."""

from __future__ import annotations

import base64
import struct
import threading
import time
import typing as t
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import psrpcore
import pytest
from pypsrp.complex_objects import PSInvocationState, RunspacePoolState
from pypsrp.exceptions import WinRMTransportError, WSManFaultError
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.shell import WinRS
from pypsrp.wsman import OptionSet, SelectorSet, WSMan
from winemu_lib import powershell_remoting, soap

if t.TYPE_CHECKING:
    from .conftest import RunningFleet

TIMED_OUT = 2150858793
SESSION_CAPABILITY = 0x00010002
APPLICATION_PRIVATE_DATA = 0x00021009
RUNSPACEPOOL_STATE = 0x00021005


def client(url: str, credentials: tuple[str, str], *, operation_timeout: int = 20) -> WSMan:
    parts = urllib.parse.urlsplit(url)
    return WSMan(
        "127.0.0.1",
        port=parts.port,
        username=credentials[0],
        password=credentials[1],
        auth="basic",
        ssl=False,
        encryption="never",
        operation_timeout=operation_timeout,
        read_timeout=operation_timeout + 10,
    )


def message_header(fragment: bytes) -> tuple[int, uuid.UUID]:
    """Message type and runspace pool id of a one-fragment PSRP message ([MS-PSRP] 2.2.1, 2.2.4)."""
    blob = fragment[21:]
    message_type = struct.unpack("<I", blob[4:8])[0]
    return message_type, uuid.UUID(bytes_le=blob[8:24])


def test_opening_sequence_is_the_one_windows_sends(fleet: RunningFleet) -> None:
    pool = psrpcore.ClientRunspacePool()
    pool.open()
    payload = pool.data_to_send()
    assert payload is not None
    creation = ET.Element("creationXml", xmlns=powershell_remoting.NS_POWERSHELL)
    creation.text = base64.b64encode(payload.data).decode()
    with client(fleet.url(), fleet.ADMIN) as wsman:
        shell = WinRS(
            wsman,
            powershell_remoting.POWERSHELL_URI,
            id=str(pool.runspace_pool_id).upper(),
            input_streams="stdin pr",
            output_streams="stdout",
        )
        options = OptionSet()
        options.add_option("protocolversion", "2.3", {"MustComply": "true"})
        response = shell.open(options, creation)
        assert response is not None
        # The host keeps the client's ShellId (it is the RunspacePoolId) and reports the recorded fields.
        assert shell.id == str(pool.runspace_pool_id).upper()
        rsp = "{http://schemas.microsoft.com/wbem/wsman/1/windows/shell}"
        created = response.find(f".//{rsp}Shell")
        assert created is not None
        fields = [child.tag.replace(rsp, "") for child in created]
        for name in ("ProcessId", "MaxIdleTimeOut", "Locale", "CompressionMode", "ProfileLoaded", "State"):
            assert name in fields, name
        assert created.findtext(f"{rsp}State") == "Connected"
        _state, _rc, buffers = shell.receive("stdout")
        fragments = powershell_remoting.split_fragments(buffers["stdout"])
        headers = [message_header(fragment) for fragment in fragments]
        assert [kind for kind, _rpid in headers] == [SESSION_CAPABILITY, APPLICATION_PRIVATE_DATA, RUNSPACEPOOL_STATE]
        # SESSION_CAPABILITY carries an all-zero RPID, the others the pool's id (as recorded).
        assert headers[0][1] == uuid.UUID(int=0)
        assert headers[1][1] == headers[2][1] == pool.runspace_pool_id
        pool.receive_data(psrpcore.PSRPPayload(buffers["stdout"], psrpcore.StreamType.default, None))
        while pool.next_event() is not None:
            pass
        assert pool.state == psrpcore.types.RunspacePoolState.Opened
        version_table = pool.application_private_data["PSVersionTable"]
        assert version_table["PSEdition"] == "Desktop"
        assert str(version_table["PSRemotingProtocolVersion"]) == "2.3"
        assert fleet.endpoint().powershell.pools
        shell.close()
    assert not fleet.endpoint().powershell.pools


def test_pypsrp_opens_and_closes_a_pool(fleet: RunningFleet) -> None:
    with client(fleet.url(), fleet.ADMIN) as wsman:
        pool = RunspacePool(wsman)
        pool.open()
        assert pool.state == RunspacePoolState.OPENED
        assert pool.application_private_data is not None
        assert "PSVersionTable" in pool.application_private_data.data
        assert fleet.endpoint().stats_dict()["shells_open"] == 1
        pool.close()
    assert fleet.endpoint().stats_dict()["shells_open"] == 0


def test_a_pipeline_is_refused_with_a_clear_error(fleet: RunningFleet) -> None:
    with client(fleet.url(), fleet.ADMIN) as wsman, RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_script("Get-Date")
        ps.invoke()
        assert ps.state == PSInvocationState.COMPLETED
        assert len(ps.streams.error) == 1
        assert "runs no PowerShell" in str(ps.streams.error[0])
        assert ps.output == []
        ps.close()  # Signal terminate
        assert not fleet.endpoint().powershell.pools[pool.id.upper()].pipelines


def test_receive_with_nothing_to_send_times_out(fleet: RunningFleet) -> None:
    with client(fleet.url(), fleet.ADMIN) as wsman, RunspacePool(wsman) as pool:
        started = time.monotonic()
        with pytest.raises(WSManFaultError) as caught:
            pool.shell.receive("stdout", timeout=1)
        assert caught.value.code == TIMED_OUT
        assert 0.9 <= time.monotonic() - started < 5


def test_a_standard_user_cannot_open_a_pool(fleet: RunningFleet) -> None:
    with client(fleet.url(), fleet.OPERATOR) as wsman, pytest.raises((WSManFaultError, WinRMTransportError)) as caught:
        RunspacePool(wsman).open()
    assert "Access is denied" in str(caught.value)
    assert fleet.endpoint().stats_dict()["shells_open"] == 0


def test_an_unknown_configuration_is_not_found(fleet: RunningFleet) -> None:
    with client(fleet.url(), fleet.ADMIN) as wsman, pytest.raises(WSManFaultError) as caught:
        RunspacePool(wsman, configuration_name="Contoso.JEA").open()
    assert "cannot find the resource" in str(caught.value).lower()


def test_requests_for_an_unknown_shell_are_refused(fleet: RunningFleet) -> None:
    with client(fleet.url(), fleet.ADMIN) as wsman:
        shell = WinRS(wsman, powershell_remoting.POWERSHELL_URI)
        selectors = SelectorSet()
        selectors.add_option("ShellId", str(uuid.uuid4()).upper())
        shell._selector_set = selectors
        with pytest.raises(WSManFaultError) as caught:
            shell.receive("stdout", timeout=1)
    assert caught.value.code == 2150858843  # w:InvalidSelectors


def test_version_table_follows_the_build() -> None:
    table = powershell_remoting.version_table(20348)["PSVersionTable"]
    assert str(table["PSVersion"]) == "5.1.20348.1"
    assert str(table["BuildVersion"]) == "10.0.20348.1"
    assert str(powershell_remoting.version_table(9600)["PSVersionTable"]["PSVersion"]) == "4.0"


def open_raw_pool(wsman: WSMan) -> tuple[psrpcore.ClientRunspacePool, WinRS]:
    """A pool opened with psrpcore's client over a pypsrp WinRS shell (so the test sees every PSRP message)."""
    pool = psrpcore.ClientRunspacePool()
    pool.open()
    payload = pool.data_to_send()
    assert payload is not None
    creation = ET.Element("creationXml", xmlns=powershell_remoting.NS_POWERSHELL)
    creation.text = base64.b64encode(payload.data).decode()
    shell = WinRS(
        wsman,
        powershell_remoting.POWERSHELL_URI,
        id=str(pool.runspace_pool_id).upper(),
        input_streams="stdin pr",
        output_streams="stdout",
    )
    options = OptionSet()
    options.add_option("protocolversion", "2.3", {"MustComply": "true"})
    shell.open(options, creation)
    _state, _rc, buffers = shell.receive("stdout")
    pool.receive_data(psrpcore.PSRPPayload(buffers["stdout"], psrpcore.StreamType.default, None))
    while pool.next_event() is not None:
        pass
    assert pool.state == psrpcore.types.RunspacePoolState.Opened
    return pool, shell


def test_a_waiting_receive_answers_as_soon_as_there_is_data(fleet: RunningFleet) -> None:
    """Long poll: a Receive with nothing to send waits, and returns once another request produced output."""
    with client(fleet.url(), fleet.ADMIN) as first, client(fleet.url(), fleet.ADMIN) as second:
        pool, shell = open_raw_pool(first)
        received: list[bytes] = []

        def receive() -> None:
            received.append(shell.receive("stdout", timeout=20)[2]["stdout"])

        waiter = threading.Thread(target=receive)
        started = time.monotonic()
        waiter.start()
        time.sleep(0.5)
        assert not received, "the Receive answered before there was anything to send"
        call_id = pool.get_available_runspaces()
        payload = pool.data_to_send()
        assert payload is not None
        sender = WinRS(second, powershell_remoting.POWERSHELL_URI)
        sender._selector_set = shell._selector_set
        sender.send("stdin", payload.data)
        waiter.join(timeout=15)
        assert received and time.monotonic() - started < 10
        pool.receive_data(psrpcore.PSRPPayload(received[0], psrpcore.StreamType.default, None))
        event = pool.next_event()
        assert isinstance(event, psrpcore.GetRunspaceAvailabilityEvent)
        assert event.ci == call_id and event.count == 1
        shell.close()


def test_malformed_psrp_data_is_a_fault_not_an_emulator_failure(fleet: RunningFleet) -> None:
    uri = powershell_remoting.POWERSHELL_URI
    body = (
        f'<rsp:Shell><creationXml xmlns="{powershell_remoting.NS_POWERSHELL}">'
        f"{base64.b64encode(b'not a PSRP fragment at all').decode()}</creationXml></rsp:Shell>"
    )
    reply = fleet.wsman(soap.ACTION_CREATE, uri, body)
    assert reply.status == 500 and reply.subcode == "w:InternalError"
    reason = reply.text("s:Body/s:Fault/s:Reason/s:Text") or ""
    assert "PSRP data cannot be processed" in reason and "emulator failed" not in reason
    assert not fleet.endpoint().powershell.pools
