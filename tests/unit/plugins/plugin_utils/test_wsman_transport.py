# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection adapter: Ansible's winrm and psrp connection objects, their guards and error mapping.

Fake connections are shaped like ``ansible.plugins.connection.winrm`` / ``psrp`` (``transport``,
``_connect()``, ``protocol.transport`` / ``runspace.connection.transport``); a real pywinrm ``Protocol``
and a real pypsrp ``WSMan`` talk to a loopback HTTP server to prove the mapping of their exceptions.
"""

from __future__ import annotations

import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from ansible.errors import AnsibleConnectionFailure, AnsibleError
from pypsrp import exceptions as psrp_exceptions
from pypsrp.wsman import WSMan
from winrm import exceptions as winrm_exceptions
from winrm.protocol import Protocol

from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    WSManError,
    WSManFault,
    WSManInvalidSelectors,
    WSManProtocolError,
    WSManTimeout,
    WSManUnreachable,
    connection_transport,
)
from ansible_collections.winact.kms.tests.unit.plugins.plugin_utils.wsman_fakes import fixture

ENDPOINT = "http://127.0.0.1:5985/wsman"
FAULT_TEXT = fixture("fault-invalid-selectors_wsmanfault.xml").decode()
OUTPUT = fixture("invoke-SoftwareLicensingService-InstallProductKey_OUTPUT.xml")
_MESSAGE_ID = re.compile(rb"<a:MessageID>([^<]+)</a:MessageID>")
_RELATES_TO = re.compile(rb"(<a:RelatesTo>)[^<]*(</a:RelatesTo>)")


def _echo(request: bytes, response: bytes) -> bytes:
    """The response with RelatesTo set to the request's MessageID, as Windows answers."""
    match = _MESSAGE_ID.search(request)
    assert match is not None
    return _RELATES_TO.sub(lambda m: m.group(1) + match.group(1) + m.group(2), response)


# -- fake connection objects --------------------------------------------------------------------------


class FakeWinrmHttp:
    """Shaped like ``winrm.transport.Transport``."""

    def __init__(self, behave: Callable[[bytes], bytes], endpoint: Any = ENDPOINT, read_timeout_sec: Any = 30) -> None:
        self.endpoint = endpoint
        self.read_timeout_sec = read_timeout_sec
        self.behave = behave
        self.sent: list[bytes] = []
        self.session = requests.Session()  # the adapter installs its bounded reader here

    def send_message(self, message: bytes) -> bytes:
        self.sent.append(message)
        return self.behave(message)


class FakeWinrmConnection:
    """Shaped like ``ansible.plugins.connection.winrm.Connection``: connects lazily in ``_connect()``."""

    transport = "winrm"

    def __init__(self, make_protocol: Callable[[], Any]) -> None:
        self.protocol: Any = None
        self.connects = 0
        self._make_protocol = make_protocol

    def _connect(self) -> FakeWinrmConnection:
        self.connects += 1
        if self.protocol is None:
            self.protocol = self._make_protocol()
        return self


class FakePsrpHttp:
    """Shaped like ``pypsrp.wsman._TransportHTTP``."""

    def __init__(self, behave: Callable[[bytes], bytes], endpoint: Any = ENDPOINT, read_timeout: Any = 30) -> None:
        self.endpoint = endpoint
        self.read_timeout = read_timeout
        self.behave = behave
        self.session = requests.Session()

    def send(self, message: bytes) -> bytes:
        return self.behave(message)


class FakePsrpConnection:
    """Shaped like ``ansible.plugins.connection.psrp.Connection`` (``runspace.connection`` is the WSMan)."""

    transport = "psrp"

    def __init__(self, make_wsman: Callable[[], Any]) -> None:
        self.runspace: Any = None
        self._make_wsman = make_wsman

    def _connect(self) -> FakePsrpConnection:
        if self.runspace is None:
            self.runspace = types.SimpleNamespace(connection=self._make_wsman())
        return self


def winrm_connection(http: Any) -> FakeWinrmConnection:
    return FakeWinrmConnection(lambda: types.SimpleNamespace(transport=http))


def psrp_connection(http: Any) -> FakePsrpConnection:
    return FakePsrpConnection(lambda: types.SimpleNamespace(transport=http))


def raising(exc: BaseException) -> Callable[..., Any]:
    def behave(*_args: Any) -> Any:
        raise exc

    return behave


# -- happy paths ---------------------------------------------------------------------------------------


def test_winrm_connection_is_connected_and_used() -> None:
    http = FakeWinrmHttp(lambda message: _echo(message, OUTPUT), read_timeout_sec=40)
    connection = winrm_connection(http)
    transport = connection_transport(connection)
    assert connection.connects == 1
    assert (transport.endpoint, transport.read_timeout) == (ENDPOINT, 40.0)

    client = WmiClient(transport)
    assert client.invoke(
        "SoftwareLicensingService", "InstallProductKey", {"ProductKey": "K"}, selectors={"Version": "1"}
    ) == {"ReturnValue": 0}
    assert client.operation_timeout == 35
    assert len(http.sent) == 1
    assert f"<a:To>{ENDPOINT}</a:To>".encode() in http.sent[0]
    assert b"<w:OperationTimeout>PT35S</w:OperationTimeout>" in http.sent[0]


def test_psrp_connection_is_connected_and_used() -> None:
    connection = psrp_connection(FakePsrpHttp(lambda message: _echo(message, OUTPUT), read_timeout=90))
    transport = connection_transport(connection)
    assert connection.runspace is not None
    assert (transport.endpoint, transport.read_timeout) == (ENDPOINT, 90.0)
    client = WmiClient(transport)
    assert client.operation_timeout == 60  # WinRM's MaxTimeoutms caps it
    assert client.invoke("SoftwareLicensingService", "InstallProductKey", {"ProductKey": "K"})["ReturnValue"] == 0


def test_text_answers_are_returned_as_bytes() -> None:
    transport = connection_transport(winrm_connection(FakeWinrmHttp(lambda message: "<ok/>")))  # type: ignore[arg-type,return-value]
    assert transport.send(b"<x/>") == b"<ok/>"


def test_non_bytes_answers_are_a_protocol_error() -> None:
    transport = connection_transport(winrm_connection(FakeWinrmHttp(lambda message: 42)))  # type: ignore[arg-type,return-value]
    with pytest.raises(WSManProtocolError, match="returned int"):
        transport.send(b"<x/>")


# -- guards --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ssh", "local", "paramiko_ssh", None])
def test_other_connection_types_are_refused(kind: str | None) -> None:
    connection = types.SimpleNamespace(transport=kind, _connect=lambda: None)
    with pytest.raises(WSManError, match="ansible_connection=winrm .* or ansible_connection=psrp") as caught:
        connection_transport(connection)
    assert f"'{kind}' connection" in caught.value.message


@pytest.mark.parametrize(
    ("connection", "missing"),
    [
        (types.SimpleNamespace(transport="winrm"), "connection._connect"),
        (FakeWinrmConnection(lambda: None), "connection.protocol"),
        (FakeWinrmConnection(types.SimpleNamespace), "connection.protocol.transport"),
        (winrm_connection(types.SimpleNamespace(endpoint=ENDPOINT)), "connection.protocol.transport.send_message"),
        (FakePsrpConnection(lambda: None), "connection.runspace.connection"),
        (psrp_connection(types.SimpleNamespace(send=print, endpoint=ENDPOINT)), "transport.read_timeout"),
    ],
)
def test_missing_private_attributes_are_named(connection: Any, missing: str) -> None:
    with pytest.raises(WSManError, match="supported: ansible-core") as caught:
        connection_transport(connection)
    assert caught.value.__class__ is WSManError
    assert missing in caught.value.message


@pytest.mark.parametrize(
    ("endpoint", "read_timeout", "message"),
    [
        (b"http://x/wsman", 30, "no usable endpoint URL"),
        ("", 30, "no usable endpoint URL"),
        (ENDPOINT, "soon", "no usable read timeout"),
        (ENDPOINT, 0, "no usable read timeout"),
        (ENDPOINT, float("inf"), "no usable read timeout"),
    ],
)
def test_unusable_endpoint_or_timeout(endpoint: Any, read_timeout: Any, message: str) -> None:
    http = FakeWinrmHttp(lambda m: m, endpoint=endpoint, read_timeout_sec=read_timeout)
    with pytest.raises(WSManError, match=message):
        connection_transport(winrm_connection(http))


@pytest.mark.parametrize(
    "exc",
    [
        AnsibleConnectionFailure("basic: the specified credentials were rejected by the server"),
        AnsibleError("the connection attempt timed out"),
        requests.exceptions.ConnectionError("refused"),
        winrm_exceptions.WinRMError("kerberos failure"),
        RuntimeError("an exception the library does not document"),
    ],
)
def test_connect_failures_are_unreachable(exc: BaseException) -> None:
    connection = FakeWinrmConnection(lambda: None)
    connection._connect = raising(exc)  # type: ignore[method-assign]
    with pytest.raises(WSManUnreachable, match="cannot open the winrm connection") as caught:
        connection_transport(connection)
    assert str(exc) in caught.value.message


def test_psrp_runspace_open_failure_is_unreachable() -> None:
    connection = FakePsrpConnection(lambda: None)
    connection._connect = raising(psrp_exceptions.AuthenticationError("Failed to authenticate the user u with basic"))  # type: ignore[method-assign]
    with pytest.raises(WSManUnreachable, match="cannot open the psrp connection: Failed to authenticate"):
        connection_transport(connection)


# -- exception mapping with the libraries' own exception classes ----------------------------------------


WINRM_CASES = [
    (ValueError("unexpected encrypted payload"), WSManUnreachable, "WinRM transport failure .*ValueError"),
    (winrm_exceptions.WinRMTransportError("http", 500, FAULT_TEXT), WSManInvalidSelectors, "invalid selectors"),
    (winrm_exceptions.WinRMTransportError("http", 503, ""), WSManUnreachable, "HTTP 503 from .* empty body"),
    (
        winrm_exceptions.InvalidCredentialsError("the specified credentials were rejected by the server"),
        WSManUnreachable,
        f"wrong user name or password \\(HTTP 401\\) for {ENDPOINT}",
    ),
    (winrm_exceptions.WinRMError("bad encrypted payload"), WSManUnreachable, "WinRM transport failure .*payload"),
    (requests.exceptions.ConnectionError("reset by peer"), WSManUnreachable, "reset or dropped before the answer"),
    (requests.exceptions.ConnectTimeout("slow"), WSManUnreachable, f"timed out connecting to {ENDPOINT}"),
    (requests.exceptions.ReadTimeout("slow"), WSManUnreachable, "within the read timeout of 30 s; .*may still be"),
    (requests.exceptions.SSLError("certificate verify failed"), WSManUnreachable, "TLS error .*verify failed"),
    (requests.exceptions.ChunkedEncodingError("cut"), WSManUnreachable, "HTTP request to .* failed: cut"),
]


@pytest.mark.parametrize(("exc", "expected", "message"), WINRM_CASES)
def test_winrm_exception_mapping(exc: BaseException, expected: type, message: str) -> None:
    transport = connection_transport(winrm_connection(FakeWinrmHttp(raising(exc))))
    with pytest.raises(expected, match=message) as caught:
        transport.send(b"<x/>")
    assert caught.value.__class__ is expected
    assert caught.value.__cause__ is exc


PSRP_CASES = [
    (psrp_exceptions.WinRMTransportError("http", 500, FAULT_TEXT), WSManInvalidSelectors, "invalid selectors"),
    (psrp_exceptions.WinRMTransportError("http", 413, "<p>too big</p>"), WSManProtocolError, "HTTP 413 from"),
    (psrp_exceptions.AuthenticationError("Failed to authenticate"), WSManUnreachable, "HTTP 401"),
    (psrp_exceptions.WinRMError("unwrap failed"), WSManUnreachable, "WinRM transport failure"),
    (requests.exceptions.ReadTimeout("slow"), WSManUnreachable, "may still be running"),
]


@pytest.mark.parametrize(("exc", "expected", "message"), PSRP_CASES)
def test_psrp_exception_mapping(exc: BaseException, expected: type, message: str) -> None:
    transport = connection_transport(psrp_connection(FakePsrpHttp(raising(exc))))
    with pytest.raises(expected, match=message):
        transport.send(b"<x/>")


def test_adapter_imports_neither_library_until_used() -> None:
    code = (
        "import sys\n"
        "from ansible_collections.winact.kms.plugins.plugin_utils import _wsman, _wmi\n"
        "print(sorted(m for m in ('winrm', 'pypsrp', 'requests', 'ansible') if m in sys.modules))\n"
    )
    collections_root = next(p for p in sys.path if (Path(p) / "ansible_collections" / "winact" / "kms").exists())
    env = {**os.environ, "PYTHONPATH": collections_root}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"


def test_winrm_path_works_without_pypsrp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pypsrp", None)
    monkeypatch.setitem(sys.modules, "pypsrp.exceptions", None)
    transport = connection_transport(winrm_connection(FakeWinrmHttp(lambda m: b"<ok/>")))
    assert transport.send(b"<x/>") == b"<ok/>"


def test_psrp_path_works_without_pywinrm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "winrm", None)
    monkeypatch.setitem(sys.modules, "winrm.exceptions", None)
    transport = connection_transport(psrp_connection(FakePsrpHttp(lambda m: b"<ok/>")))
    assert transport.send(b"<x/>") == b"<ok/>"


def test_missing_library_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "winrm", None)
    monkeypatch.setitem(sys.modules, "winrm.exceptions", None)
    with pytest.raises(WSManError, match="the winrm connection needs pywinrm"):
        connection_transport(winrm_connection(FakeWinrmHttp(lambda m: m)))


# -- real libraries against a loopback HTTP server -----------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        length = int(self.headers.get("Content-Length") or 0)
        request = self.rfile.read(length)
        server: _WinrmServer = self.server  # type: ignore[assignment]
        server.requests.append(request)
        status, body = server.respond(request)
        self.send_response(status)
        self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


class _WinrmServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[bytes] = []
        self.respond: Callable[[bytes], tuple[int, bytes]] = lambda request: (500, b"")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/wsman"


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or CA settings from the environment: these tests talk to 127.0.0.1 and nothing else."""
    names = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
    for name in (*names, "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def winrm_server(loopback_only: None) -> Iterator[_WinrmServer]:
    server = _WinrmServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _pywinrm_connection(endpoint: str) -> FakeWinrmConnection:
    return FakeWinrmConnection(
        lambda: Protocol(
            endpoint,
            transport="basic",
            username="Administrator",
            password="Winact-2026!",
            message_encryption="never",
            proxy=None,
            read_timeout_sec=30,
            operation_timeout_sec=20,
        )
    )


def _pypsrp_connection(server: _WinrmServer) -> FakePsrpConnection:
    port = server.server_address[1]
    return FakePsrpConnection(
        lambda: WSMan(
            "127.0.0.1",
            port=port,
            username="Administrator",
            password="Winact-2026!",
            ssl=False,
            auth="basic",
            encryption="never",
            no_proxy=True,
            read_timeout=30,
            operation_timeout=20,
        )
    )


REAL_CONNECTIONS: list[Callable[[_WinrmServer], Any]] = [
    lambda server: _pywinrm_connection(server.endpoint),
    _pypsrp_connection,
]


@pytest.mark.parametrize("make_connection", REAL_CONNECTIONS, ids=["pywinrm", "pypsrp"])
def test_real_library_200_answer(winrm_server: _WinrmServer, make_connection: Callable[[_WinrmServer], Any]) -> None:
    winrm_server.respond = lambda request: (200, _echo(request, OUTPUT))
    client = WmiClient(connection_transport(make_connection(winrm_server)))
    out = client.invoke(
        "SoftwareLicensingService", "InstallProductKey", {"ProductKey": "K"}, selectors={"Version": "1"}
    )
    assert out == {"ReturnValue": 0}
    (request,) = winrm_server.requests
    assert f"<a:To>{winrm_server.endpoint}</a:To>".encode() in request


@pytest.mark.parametrize("make_connection", REAL_CONNECTIONS, ids=["pywinrm", "pypsrp"])
def test_real_library_401(winrm_server: _WinrmServer, make_connection: Callable[[_WinrmServer], Any]) -> None:
    winrm_server.respond = lambda request: (401, b"")
    transport = connection_transport(make_connection(winrm_server))
    with pytest.raises(
        WSManUnreachable, match=f"wrong user name or password \\(HTTP 401\\) for {winrm_server.endpoint}"
    ):
        WmiClient(transport).get("Win32_Service", {"Name": "sppsvc"})


@pytest.mark.parametrize("make_connection", REAL_CONNECTIONS, ids=["pywinrm", "pypsrp"])
def test_real_library_500_with_fault(
    winrm_server: _WinrmServer, make_connection: Callable[[_WinrmServer], Any]
) -> None:
    winrm_server.respond = lambda request: (500, fixture("fault-operation-timeout_2150858793.xml"))
    transport = connection_transport(make_connection(winrm_server))
    with pytest.raises(WSManTimeout, match="may still be running") as caught:
        WmiClient(transport).invoke("SoftwareLicensingProduct", "Activate", selectors={"ID": "x"})
    assert caught.value.wsman_code == 2150858793


@pytest.mark.parametrize("make_connection", REAL_CONNECTIONS, ids=["pywinrm", "pypsrp"])
def test_real_library_500_with_sl_hresult(
    winrm_server: _WinrmServer, make_connection: Callable[[_WinrmServer], Any]
) -> None:
    winrm_server.respond = lambda request: (500, fixture("fault-method-sl-hresult_msft-wmierror.xml"))
    transport = connection_transport(make_connection(winrm_server))
    with pytest.raises(WSManFault) as caught:
        WmiClient(transport).invoke("SoftwareLicensingService", "InstallProductKey", {"ProductKey": "K"})
    assert caught.value.hresult == 0xC004F050


@pytest.mark.usefixtures("loopback_only")
def test_real_pywinrm_connection_refused() -> None:
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = connection_transport(_pywinrm_connection(f"http://127.0.0.1:{port}/wsman"))
    refused = f"cannot connect to http://127.0.0.1:{port}/wsman: .*Connection refused"
    with pytest.raises(WSManUnreachable, match=refused):
        transport.send(b"<x/>")
