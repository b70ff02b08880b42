"""The HTTP layer: a minimal HTTP/1.1 keep-alive listener on the loopback interface.

It knows requests and responses, nothing of SOAP or WinRM. The WinRM endpoints and the control API each
run one :class:`HttpListener` with their own request handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ssl
import typing as t

BIND_ADDRESS = "127.0.0.1"
SERVER_HEADER = "Microsoft-HTTPAPI/2.0"
MAX_HEADER_BYTES = 64 * 1024
IDLE_TIMEOUT = 300.0  # seconds a keep-alive connection may sit idle


@dataclasses.dataclass
class HttpRequest:
    method: str
    path: str
    version: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


@dataclasses.dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    close: bool = False
    trickle_s: float = 0.0  # > 0: send the body one byte at a time, this long apart (a trickling host)


DROP = object()  # a handler result: close the connection without answering

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
}


class HttpError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def read_http_request(reader: asyncio.StreamReader, *, max_body: int) -> HttpRequest | None:
    """One request from a keep-alive connection; None when the peer closed or went idle."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
        return None
    except asyncio.LimitOverrunError:
        raise HttpError(400) from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400)
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise HttpError(400)
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise HttpError(411)
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise HttpError(400) from None
    if length < 0:
        raise HttpError(400)
    if length > max_body:
        raise HttpError(413)
    body = await reader.readexactly(length) if length else b""
    return HttpRequest(method=method, path=target.split("?", 1)[0], version=version, headers=headers, body=body)


def render_http_response(response: HttpResponse) -> bytes:
    lines = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Error')}", f"Server: {SERVER_HEADER}"]
    if response.content_type:
        lines.append(f"Content-Type: {response.content_type}")
    lines.extend(f"{name}: {value}" for name, value in response.headers)
    lines.append(f"Content-Length: {len(response.body)}")
    if response.close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


# A request handler answers with an HttpResponse, or DROP to close the connection unanswered.
Handler = t.Callable[[HttpRequest, asyncio.StreamWriter], t.Awaitable[HttpResponse | object]]


class ConnectionTracker:
    """The open connections of a listener, so stopping it also ends idle keep-alive connections."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[t.Any]] = set()

    def add_current(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def close_all(self) -> None:
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)


async def serve_http_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: Handler,
    *,
    max_body: int,
    tracker: ConnectionTracker | None = None,
) -> None:
    """The keep-alive request loop of one connection."""
    if tracker is not None:
        tracker.add_current()
    try:
        while True:
            try:
                request = await read_http_request(reader, max_body=max_body)
            except HttpError as exc:
                writer.write(render_http_response(HttpResponse(exc.status, close=True)))
                await writer.drain()
                return
            except asyncio.IncompleteReadError:
                return
            if request is None:
                return
            result = await handler(request, writer)
            if result is DROP:
                writer.transport.abort()
                return
            assert isinstance(result, HttpResponse)
            result.close = result.close or not request.keep_alive
            if result.trickle_s:
                await _trickle(writer, result)
            else:
                writer.write(render_http_response(result))
                await writer.drain()
            if result.close:
                return
    except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.CancelledError):
        return
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _trickle(writer: asyncio.StreamWriter, response: HttpResponse) -> None:
    """Headers at once, then the body a byte at a time: every read the client makes gets something."""
    whole = render_http_response(response)
    head_length = len(whole) - len(response.body)
    writer.write(whole[:head_length])
    await writer.drain()
    for index in range(head_length, len(whole)):
        await asyncio.sleep(response.trickle_s)
        writer.write(whole[index : index + 1])
        await writer.drain()


class HttpListener:
    """One listening socket on :data:`BIND_ADDRESS` serving a handler, optionally over TLS."""

    def __init__(
        self, handler: Handler, *, port: int = 0, max_body: int, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.handler = handler
        self.port = port  # 0 until started: then the port actually bound
        self.max_body = max_body
        self.ssl_context = ssl_context
        self._server: asyncio.Server | None = None
        self._connections = ConnectionTracker()

    async def start(self) -> None:
        """Bind and listen; OSError (e.g. the port is taken) propagates unchanged."""
        self._server = await asyncio.start_server(
            self._on_connection,
            BIND_ADDRESS,
            self.port,
            ssl=self.ssl_context,
            limit=MAX_HEADER_BYTES,
            reuse_address=True,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._connections.close_all()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await serve_http_connection(reader, writer, self.handler, max_body=self.max_body, tracker=self._connections)
