# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Response bodies are read with a size cap (compressed bodies too) and an overall deadline, through the real
pywinrm and pypsrp HTTP transports, against a raw socket server that misbehaves the way a hostile host would."""

from __future__ import annotations

import contextlib
import gc
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _wsman
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    MAX_RESPONSE_BYTES,
    ResponseTooLarge,
    WSManUnreachable,
    connection_transport,
)
from ansible_collections.winact.kms.tests.unit.plugins.plugin_utils.test_wsman_transport import (
    FakePsrpConnection,
    FakeWinrmConnection,
)

Behaviour = Callable[[socket.socket], None]


class RawServer:
    """Accepts connections, reads one HTTP request each, and lets ``behave`` write whatever it likes."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.behave: Behaviour = lambda conn: None
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._stop = threading.Event()
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _sep, body = data.partition(b"\r\n\r\n")
            lines = head.lower().split(b"\r\n")
            lengths = [line.split(b":", 1)[1] for line in lines if line.startswith(b"content-length")]
            length = int(lengths[0]) if lengths else 0
            while len(body) < length:
                body += conn.recv(65536)
            with contextlib.suppress(OSError):
                self.behave(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[RawServer]:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    running = RawServer()
    yield running
    running.close()


def _winrm(port: int, read_timeout: int) -> Any:
    from winrm.protocol import Protocol

    return FakeWinrmConnection(
        lambda: Protocol(
            f"http://127.0.0.1:{port}/wsman",
            transport="basic",
            username="Administrator",
            password="x",
            message_encryption="never",
            proxy=None,
            read_timeout_sec=read_timeout,
            operation_timeout_sec=read_timeout - 1,
        )
    )


def _psrp(port: int, read_timeout: int) -> Any:
    from pypsrp.wsman import WSMan

    return FakePsrpConnection(
        lambda: WSMan(
            "127.0.0.1",
            port=port,
            username="Administrator",
            password="x",
            ssl=False,
            auth="basic",
            encryption="never",
            no_proxy=True,
            read_timeout=read_timeout,
            operation_timeout=read_timeout - 1,
        )
    )


CONNECTIONS = pytest.mark.parametrize("make", [_winrm, _psrp], ids=["pywinrm", "pypsrp"])


def _head(extra: str = "", length: int | None = None) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/soap+xml;charset=UTF-8", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _rss() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


def _get(make: Callable[[int, int], Any], port: int, read_timeout: int = 30) -> None:
    client = WmiClient(connection_transport(make(port, read_timeout)), operation_timeout=read_timeout - 1)
    client.get("Win32_Service", {"Name": "sppsvc"})


@CONNECTIONS
def test_a_gzip_bomb_is_refused_without_inflating_it(server: RawServer, make: Callable[[int, int], Any]) -> None:
    inflated = 256 * 1024 * 1024
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    bomb = b"".join(packer.compress(zeros) for _block in range(inflated // len(zeros))) + packer.flush()
    assert len(bomb) < 1024 * 1024
    server.behave = lambda conn: conn.sendall(_head("Content-Encoding: gzip", len(bomb)) + bomb)
    gc.collect()
    before = _rss()
    with pytest.raises(ResponseTooLarge, match=f"exceeds the {MAX_RESPONSE_BYTES} byte limit"):
        _get(make, server.port)
    # Inflating it would have taken 256 MiB; the cap keeps it to a few.
    assert _rss() - before < 48 * 1024 * 1024


@CONNECTIONS
def test_a_huge_announced_body_is_not_read(server: RawServer, make: Callable[[int, int], Any]) -> None:
    server.behave = lambda conn: conn.sendall(_head(length=50 * 1024 * 1024) + b"<" * 65536)
    with pytest.raises(ResponseTooLarge, match="announces 52428800 bytes"):
        _get(make, server.port)


@CONNECTIONS
def test_a_huge_body_without_length_is_cut_at_the_cap(server: RawServer, make: Callable[[int, int], Any]) -> None:
    def endless(conn: socket.socket) -> None:
        conn.sendall(_head())
        block = b"<a>" * 20000
        for _block in range(2000):  # 120 MB if nobody stopped reading
            conn.sendall(block)

    server.behave = endless
    gc.collect()
    before = _rss()
    with pytest.raises(ResponseTooLarge, match="stopped reading"):
        _get(make, server.port)
    assert _rss() - before < 48 * 1024 * 1024


@CONNECTIONS
def test_a_trickling_host_is_cut_at_the_deadline(
    server: RawServer, make: Callable[[int, int], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_wsman, "DEADLINE_GRACE", 0.5)

    def trickle(conn: socket.socket) -> None:
        conn.sendall(_head(length=100000))
        for _byte in range(100):  # a byte every 0.3 s: never long enough for the 2 s read timeout to fire
            conn.sendall(b"<")
            time.sleep(0.3)

    server.behave = trickle
    started = time.monotonic()
    with pytest.raises(WSManUnreachable, match="did not finish its answer within 2.5 s") as caught:
        _get(make, server.port, read_timeout=2)
    assert time.monotonic() - started < 6
    assert caught.value.sent is True  # the host may have carried the request out
