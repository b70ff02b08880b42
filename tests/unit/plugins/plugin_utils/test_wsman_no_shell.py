# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WMI-only tasks open no WinRS shell (winrm) and no runspace pool (psrp), and still explain a refused connect.

The fakes follow the plugins' own logic (ansible-core 2.19-2.21): the winrm plugin opens its shell in
``_winrm_connect`` only while ``shell_id`` is unset and deletes it in ``close()``; the psrp plugin builds
``_psrp_conn_kwargs`` in ``_build_kwargs`` and opens a runspace pool in ``_connect``.
"""

from __future__ import annotations

import types
import typing as t

import pytest
import requests
from ansible.errors import AnsibleConnectionFailure
from winrm import exceptions as winrm_exceptions

from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManUnreachable, connection_transport

ENDPOINT = "http://127.0.0.1:5985/wsman"


class ShellHttp:
    """pywinrm's Transport: the session is built on the first send, setting up encryption there (NTLM)."""

    def __init__(self, answer: t.Callable[[bytes], bytes], *, encrypt: bool = False) -> None:
        self.endpoint = ENDPOINT
        self.read_timeout_sec = 30
        self.answer = answer
        self.encrypt = encrypt
        self.session: requests.Session | None = None
        self.hooks_at_setup: list[t.Any] = []
        self.sent: list[bytes] = []

    def build_session(self) -> requests.Session:
        if self.session is None:
            self.session = requests.Session()
            if self.encrypt:
                self.setup_encryption(self.session)
        return self.session

    def setup_encryption(self, session: requests.Session) -> None:
        self.hooks_at_setup = list(session.hooks["response"])

    def send_message(self, message: bytes) -> bytes:
        self.build_session()
        self.sent.append(message)
        return self.answer(message)


class ShellHttp04(ShellHttp):
    """pywinrm 0.4: ``setup_encryption()`` takes no session; it uses ``self.session``, set just before."""

    def build_session(self) -> requests.Session:
        if self.session is None:
            self.session = requests.Session()
            if self.encrypt:
                self.setup_encryption()
        return self.session

    def setup_encryption(self) -> None:  # type: ignore[override]
        assert self.session is not None
        self.hooks_at_setup = list(self.session.hooks["response"])


class ShellWinrmConnection:
    """Ansible's winrm plugin as far as shells go: ``_connect`` opens one unless ``shell_id`` is set."""

    transport = "winrm"

    def __init__(self, http: ShellHttp, *, refuse_shell: BaseException | None = None) -> None:
        self.protocol: t.Any = None
        self.shell_id: str | None = None
        self._connected = False
        self.http = http
        self.refuse_shell = refuse_shell
        self.shells_opened = 0
        self.shells_closed = 0

    def _connect(self) -> ShellWinrmConnection:
        if not self.protocol:
            protocol = types.SimpleNamespace(transport=self.http)
            if not self.shell_id:
                if self.refuse_shell is not None:
                    raise self.refuse_shell
                self.shell_id = "SHELL-1"
                self.shells_opened += 1
            self.protocol = protocol
            self._connected = True
        return self

    def close(self) -> None:
        if self.protocol and self.shell_id:
            self.shells_closed += 1
        self.shell_id = None
        self.protocol = None
        self._connected = False


def test_winrm_opens_no_shell_and_leaves_the_connection_unconnected() -> None:
    http = ShellHttp(lambda message: b"<answer/>")
    connection = ShellWinrmConnection(http)
    transport = connection_transport(connection)
    assert transport.send(b"<request/>") == b"<answer/>"
    assert http.sent == [b"<request/>"]
    assert connection.shells_opened == 0
    # close() has no shell to delete; a later exec_command would connect afresh, with its shell.
    assert (connection.protocol, connection.shell_id, connection._connected) == (None, None, False)
    connection.close()
    assert connection.shells_closed == 0


@pytest.mark.parametrize("http_class", [ShellHttp, ShellHttp04], ids=["pywinrm-0.5", "pywinrm-0.4"])
def test_the_bounded_reader_is_on_the_session_before_the_encryption_handshake(http_class: type[ShellHttp]) -> None:
    http = http_class(lambda message: b"<answer/>", encrypt=True)
    transport = connection_transport(ShellWinrmConnection(http))
    assert http.session is None  # nothing talks to the host before the first request
    transport.send(b"<request/>")
    assert len(http.hooks_at_setup) == 1
    session: requests.Session | None = getattr(http, "session")  # noqa: B009 - mypy narrowed it to None above
    assert session is not None and len(session.hooks["response"]) == 1


def test_a_connection_already_holding_a_shell_is_used_as_it_is() -> None:
    http = ShellHttp(lambda message: b"<answer/>")
    connection = ShellWinrmConnection(http)
    connection._connect()
    transport = connection_transport(connection)
    assert transport.send(b"<request/>") == b"<answer/>"
    assert connection.shell_id == "SHELL-1" and connection.protocol is not None


def test_first_request_refused_is_explained_as_a_failed_connect() -> None:
    """Without the shell the wrong password shows on the first request; connecting the usual way names it."""

    def refuse(message: bytes) -> bytes:
        raise winrm_exceptions.InvalidCredentialsError("the specified credentials were rejected by the server")

    connection = ShellWinrmConnection(
        ShellHttp(refuse),
        refuse_shell=AnsibleConnectionFailure("ntlm: the specified credentials were rejected by the server"),
    )
    transport = connection_transport(connection)
    with pytest.raises(WSManUnreachable, match="cannot open the winrm connection") as caught:
        transport.send(b"<request/>")
    assert "credentials were rejected" in caught.value.message


def test_a_failure_after_an_answer_is_the_request_own() -> None:
    answers = iter([b"<first/>"])

    def answer(message: bytes) -> bytes:
        try:
            return next(answers)
        except StopIteration:
            raise winrm_exceptions.WinRMTransportError("http", 503, "") from None

    connection = ShellWinrmConnection(ShellHttp(answer), refuse_shell=AssertionError("no second connect"))
    transport = connection_transport(connection)
    assert transport.send(b"<one/>") == b"<first/>"
    with pytest.raises(WSManUnreachable, match="HTTP 503"):
        transport.send(b"<two/>")


class PoolPsrpConnection:
    """Ansible's psrp plugin: ``_build_kwargs`` then ``_connect`` opening a runspace pool."""

    transport = "psrp"

    def __init__(self) -> None:
        self.runspace: t.Any = None
        self.pools_opened = 0
        self._psrp_conn_kwargs: dict[str, t.Any] = {}

    def _build_kwargs(self) -> None:
        self._psrp_conn_kwargs = {
            "server": "127.0.0.1",
            "port": 5985,
            "ssl": False,
            "path": "wsman",
            "username": "Administrator",
            "password": "secret",
            "auth": "ntlm",
            "encryption": "auto",
            "read_timeout": 45,
        }

    def _connect(self) -> PoolPsrpConnection:
        self.pools_opened += 1
        raise AssertionError("the runspace pool must not be opened")


def test_psrp_builds_its_wsman_from_the_plugin_options_without_a_pool() -> None:
    connection = PoolPsrpConnection()
    transport = connection_transport(connection)
    assert (transport.endpoint, transport.read_timeout) == (ENDPOINT, 45.0)
    assert connection.pools_opened == 0 and connection.runspace is None
