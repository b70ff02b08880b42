"""The emulated WinRM service: one asyncio process serving every host of a fleet.

Each host gets its own HTTP/1.1 listener on 127.0.0.1 (optionally HTTPS), with Basic
authentication, the ``/wsman`` endpoint, WinRS shell create/delete (what Ansible's winrm
connection does around every task) and the WMI plugin: custom-action method invocation,
WS-Transfer Get and WS-Enumeration with WQL. Counters and fault injection make it a test fixture.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import dataclasses
import logging
import resource
import ssl
import time
import typing as t
import xml.etree.ElementTree as ET

from . import cim, soap, tls, wql

log = logging.getLogger(__name__)

BIND_ADDRESS = "127.0.0.1"
SERVER_HEADER = "Microsoft-HTTPAPI/2.0"
SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
MAX_HEADER_BYTES = 64 * 1024
MAX_REQUEST_BYTES = soap.DEFAULT_MAX_ENVELOPE_SIZE  # larger requests get HTTP 413 (MS-WSMV 3.1.4.1.20)
IDLE_TIMEOUT = 300.0  # seconds a keep-alive connection may sit idle
ENUMERATION_TIMEOUT = 240.0  # EnumerationTimeoutms of the recorded config
SHELL_IDLE_SECONDS = 7200.0  # Winrs IdleTimeout of the recorded config: unclosed shells go away after it
SHELL_IDLE_TIMEOUT = "PT7200.000S"
POWERSHELL_URI_PREFIX = "http://schemas.microsoft.com/powershell/"


# --------------------------------------------------------------------------- the fleet shapes used here


class AccountLike(t.Protocol):
    @property
    def username(self) -> str: ...

    @property
    def password(self) -> str: ...

    @property
    def admin(self) -> bool: ...


class FaultSpecLike(t.Protocol):
    @property
    def latency_ms(self) -> int: ...

    @property
    def drop_at_request(self) -> int | None: ...

    @property
    def fault_at_request(self) -> int | None: ...


class MachineLike(cim.Provider, t.Protocol):
    def state(self) -> dict[str, t.Any]: ...

    def configure(self, changes: t.Mapping[str, t.Any]) -> None: ...


class HostSpecLike(t.Protocol):
    """The parts of fleet.HostSpec the server uses (read-only, so subtypes fit)."""

    @property
    def name(self) -> str: ...

    @property
    def fqdn(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def https(self) -> bool: ...

    @property
    def accounts(self) -> t.Sequence[AccountLike]: ...

    @property
    def faults(self) -> FaultSpecLike: ...

    @property
    def machine(self) -> MachineLike: ...


class FleetLike(t.Protocol):
    @property
    def hosts(self) -> t.Mapping[str, HostSpecLike]: ...


class UnknownHost(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown host {self.name!r}"


def raise_open_file_limit() -> tuple[int, int]:
    """Raise RLIMIT_NOFILE's soft limit to the hard limit: a large fleet holds one socket per host."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1048576)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft, hard
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# --------------------------------------------------------------------------- minimal HTTP/1.1


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


DROP = object()  # a handler result: close the connection without answering

# Answers of a broken or hostile host, for clients' robustness tests.
MALFORMED_RESPONSE = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><a:Action'
HOSTILE_RESPONSE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (level, (b"&lol%d;" % (level - 1) if level > 1 else b"&lol;") * 10)
        for level in range(1, 10)
    )
    + b']>\n<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol9;</s:Body></s:Envelope>'
)

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
    """Keep-alive request loop shared by the WinRM listeners and the control API."""
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
            writer.write(render_http_response(result))
            await writer.drain()
            if result.close:
                return
    except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.CancelledError):
        return
    finally:
        with contextlib.suppress(Exception):
            writer.close()


# --------------------------------------------------------------------------- per-host state


# What each "<kind>_at_request" injection does to request N of a host.
AT_REQUEST_KINDS = (
    "drop",  # close the connection without an answer
    "fault",  # answer with a w:InternalError fault
    "malformed",  # answer 200 with a truncated envelope
    "hostile",  # answer 200 with an entity-expansion ("billion laughs") document
)


@dataclasses.dataclass
class FaultSettings:
    """Fault injection of one host. Request numbers count from when the fault was set or stats were reset."""

    latency_ms: int = 0
    # "Class.Method": drop the connection at the first request after that method ran (once).
    drop_after_method: str | None = None
    # "Class.Method" that takes slow_method_ms longer than every other request (e.g. an Activate that
    # outlasts OperationTimeout while the rest answers at once).
    slow_method: str | None = None
    slow_method_ms: int = 0
    drop_next: bool = False
    at_request: dict[str, int | None] = dataclasses.field(default_factory=lambda: dict.fromkeys(AT_REQUEST_KINDS))
    base: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(AT_REQUEST_KINDS, 0))

    def due(self, kind: str, number: int) -> bool:
        wanted = self.at_request[kind]
        return wanted is not None and number - self.base[kind] == wanted

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "latency_ms": self.latency_ms,
            **{f"{k}_at_request": v for k, v in self.at_request.items()},
            "drop_after_method": self.drop_after_method,
            "slow_method": self.slow_method,
            "slow_method_ms": self.slow_method_ms,
        }


METHOD_KEYS = ("drop_after_method", "slow_method")
FAULT_KEYS = (
    "latency_ms",
    *(f"{kind}_at_request" for kind in AT_REQUEST_KINDS),
    *METHOD_KEYS,
    "slow_method_ms",
)


def parse_method_name(key: str, value: t.Any) -> str | None:
    """``Class.Method`` for a method fault, or None (null) to switch it off; ValueError if bad."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("null", "none", "")):
        return None
    if not isinstance(value, str) or value.count(".") != 1 or not all(value.split(".")):
        raise ValueError(f"{key} must look like Class.Method, got {value!r}")
    return value.strip()


def parse_fault_setting(key: str, value: t.Any) -> int | str | None:
    """Check any fault setting; ValueError if the key or the value is bad."""
    return parse_method_name(key, value) if key in METHOD_KEYS else parse_fault_value(key, value)


def parse_fault_value(key: str, value: t.Any) -> int | None:
    """Check one fault setting (an int, a numeric string, or null for the request numbers); ValueError if bad."""
    if key not in FAULT_KEYS or key in METHOD_KEYS:
        raise ValueError(f"unknown fault setting {key!r} (known: {', '.join(FAULT_KEYS)})")
    durations = ("latency_ms", "slow_method_ms")
    if value is None and key not in durations:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        elif isinstance(value, str) and value.strip().lower() in ("null", "none", "") and key not in durations:
            return None
        else:
            raise ValueError(f"{key} must be an integer, got {value!r}")
    minimum = 0 if key in durations else 1
    if value < minimum:
        raise ValueError(f"{key} must be >= {minimum}, got {value}")
    return int(value)


@dataclasses.dataclass
class HostStats:
    total: int = 0
    by_action: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    by_method: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    writes_base: int = 0


@dataclasses.dataclass
class Enumeration:
    items: list[bytes]  # rendered items, UTF-8
    position: int
    expires: float


@dataclasses.dataclass
class Shell:
    shell_id: str
    owner: str
    resource_uri: str
    created: float


@dataclasses.dataclass(frozen=True)
class WmiTarget:
    namespace: str  # lower-case, forward slashes
    class_name: str  # as requested; "*" for the wildcard URI


def parse_wmi_uri(resource_uri: str) -> WmiTarget | None:
    if not resource_uri.lower().startswith(soap.WMI_URI_PREFIX):
        return None
    rest = resource_uri[len(soap.WMI_URI_PREFIX) :]
    namespace, _slash, class_name = rest.rpartition("/")
    if not namespace or not class_name:
        return None
    return WmiTarget(namespace.lower().replace("\\", "/"), class_name)


class HostEndpoint:
    """One emulated host: its listener, counters, fault injection, shells and enumerations."""

    def __init__(self, spec: HostSpecLike, ssl_context: ssl.SSLContext | None) -> None:
        self.spec = spec
        self.name = spec.name
        self.fqdn = spec.fqdn
        self.machine = spec.machine
        self.https = spec.https
        self._ssl_context = ssl_context
        self.port = spec.port
        self.stats = HostStats(writes_base=self._machine_writes())
        self.faults = FaultSettings(latency_ms=parse_fault_value("latency_ms", spec.faults.latency_ms) or 0)
        for kind in ("drop", "fault"):
            key = f"{kind}_at_request"
            self.faults.at_request[kind] = parse_fault_value(key, getattr(spec.faults, key))
        self.shells: dict[str, Shell] = {}
        self.enumerations: dict[str, Enumeration] = {}
        self._server: asyncio.Server | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._connections = ConnectionTracker()

    # ----------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        return f"{'https' if self.https else 'http'}://{BIND_ADDRESS}:{self.port}/wsman"

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(
                self._on_connection,
                BIND_ADDRESS,
                self.spec.port or 0,
                ssl=self._ssl_context if self.https else None,
                limit=MAX_HEADER_BYTES,
                reuse_address=True,
            )
        except OSError as exc:
            message = f"host {self.name}: cannot listen on {BIND_ADDRESS}:{self.spec.port}: {exc.strerror}"
            raise OSError(exc.errno, message) from exc
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._connections.close_all()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await serve_http_connection(
            reader, writer, self._on_request, max_body=MAX_REQUEST_BYTES, tracker=self._connections
        )

    # ----------------------------------------------------------------- control surface

    def _machine_writes(self) -> int:
        return int(getattr(self.machine, "writes", 0))

    def stats_dict(self) -> dict[str, t.Any]:
        return {
            "requests": {
                "total": self.stats.total,
                "by_action": dict(sorted(self.stats.by_action.items())),
                "by_method": dict(sorted(self.stats.by_method.items())),
            },
            "writes": self._machine_writes() - self.stats.writes_base,
            "shells_open": len(self.shells),
        }

    def reset_stats(self) -> None:
        self.stats = HostStats(writes_base=self._machine_writes())
        self.faults.base = dict.fromkeys(AT_REQUEST_KINDS, 0)

    def configure_faults(self, changes: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        """Validate all changes first, then apply them (nothing changes on a bad value)."""
        parsed = {key: parse_fault_setting(key, value) for key, value in changes.items()}
        for key, value in parsed.items():
            if key == "drop_after_method":
                self.faults.drop_after_method = t.cast(str | None, value)
                self.faults.drop_next = False
            elif key == "slow_method":
                self.faults.slow_method = t.cast(str | None, value)
            elif key == "slow_method_ms":
                self.faults.slow_method_ms = int(value or 0)
            elif key == "latency_ms":
                self.faults.latency_ms = int(value or 0)
            else:
                kind = key.removesuffix("_at_request")
                self.faults.at_request[kind] = t.cast(int | None, value)
                self.faults.base[kind] = self.stats.total
        return self.faults.to_dict()

    def account(self, username: str, password: str) -> AccountLike | None:
        """Match like Windows: user names case-insensitively, with or without a domain part."""
        # Assumption: DOMAIN\user and user@domain name the same local account; the emulator has no domains
        # of accounts, only one account list per host.
        short = username.rpartition("\\")[2].partition("@")[0].lower()
        for account in self.spec.accounts:
            if account.username.lower() == short and account.password == password:
                return account
        return None

    # ----------------------------------------------------------------- HTTP layer

    def _unauthorized(self) -> HttpResponse:
        # Windows offers Negotiate first, then Basic when it is enabled.
        return HttpResponse(
            401, headers=[("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", 'Basic realm="WSMAN"')]
        )

    async def _on_request(self, request: HttpRequest, writer: asyncio.StreamWriter) -> HttpResponse | object:
        if request.path.rstrip("/").lower() != "/wsman":
            return HttpResponse(404)
        if request.method != "POST":
            return HttpResponse(405, headers=[("Allow", "POST")])
        account = self._authenticate(request.headers.get("authorization", ""))
        if account is None:
            return self._unauthorized()
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/soap+xml":
            return HttpResponse(415)

        self.stats.total += 1
        number = self.stats.total
        faults = self.faults
        if faults.drop_next:
            faults.drop_next, faults.drop_after_method = False, None
            log.info("%s: dropping the connection at request %d (after the method asked for)", self.name, number)
            self.stats.by_action["Dropped"] += 1
            return DROP
        if faults.due("drop", number):
            log.info("%s: dropping the connection at request %d", self.name, number)
            self.stats.by_action["Dropped"] += 1
            return DROP
        try:
            request_xml = soap.parse_request(request.body, machine=self.fqdn)
        except soap.SoapFault as fault:
            self.stats.by_action["Invalid"] += 1
            return self._soap_response(500, fault.render())
        for kind, document in (("malformed", MALFORMED_RESPONSE), ("hostile", HOSTILE_RESPONSE)):
            if faults.due(kind, number):
                self.stats.by_action[_action_label(request_xml)] += 1
                log.info("%s: answering request %d with a %s document", self.name, number, kind)
                return self._soap_response(200, document)
        if faults.due("fault", number):
            self.stats.by_action[_action_label(request_xml)] += 1
            log.info("%s: injecting a fault at request %d", self.name, number)
            injected = soap.internal_error(self.fqdn, f"Fault injected by the emulator at request {number}.")
            return self._soap_response(500, injected.render(request_xml.message_id))
        ctx = cim.CallContext(user=account.username, is_admin=bool(account.admin))
        status, body = await self._dispatch_with_latency(request_xml, ctx)
        log.debug("%s: #%d %s %s -> %d", self.name, number, request_xml.action, request_xml.resource_uri, status)
        return self._soap_response(status, body)

    def _authenticate(self, header: str) -> AccountLike | None:
        scheme, _space, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, sep, password = decoded.partition(":")
        return self.account(username, password) if sep else None

    def _soap_response(self, status: int, body: bytes) -> HttpResponse:
        return HttpResponse(status, body=body, content_type=SOAP_CONTENT_TYPE)

    # ----------------------------------------------------------------- SOAP layer

    async def _dispatch_with_latency(self, request: soap.WsmanRequest, ctx: cim.CallContext) -> tuple[int, bytes]:
        """Apply the injected latency; an operation outlasting OperationTimeout gets the w:TimedOut fault."""
        latency = (self.faults.latency_ms + self._method_delay_ms(request)) / 1000.0
        timeout = min(request.operation_timeout or soap.MAX_TIMEOUT_SECONDS, soap.MAX_TIMEOUT_SECONDS)
        if latency > timeout:
            label = _action_label(request)
            self.stats.by_action[label] += 1
            if label == "Invoke":
                self._count_method(request)
            log.info("%s: %s outlasts OperationTimeout %.1fs (latency %.1fs)", self.name, label, timeout, latency)
            self.stats.by_action["TimedOut"] += 1
            await asyncio.sleep(timeout)
            if label == "Invoke":
                # Windows keeps running the method after WinRM gave up waiting (wsman.md C): finish it later.
                self._finish_later(request, ctx, latency - timeout)
            return 500, soap.timed_out(self.fqdn).render(request.message_id)
        if latency:
            await asyncio.sleep(latency)
        try:
            return 200, self.dispatch(request, ctx)
        except soap.SoapFault as fault:
            return 500, fault.render(request.message_id)
        except cim.CimError as exc:
            log.warning("%s: unmapped CIM error %r", self.name, exc)
            return 500, soap.internal_error(self.fqdn, exc.message).render(request.message_id)
        except Exception as exc:  # a bug in an emulated class must not look like a dropped connection
            log.exception("%s: %s failed inside the emulator", self.name, request.action)
            message = f"The emulator failed: {type(exc).__name__}: {exc}"
            return 500, soap.internal_error(self.fqdn, message).render(request.message_id)

    def _method_delay_ms(self, request: soap.WsmanRequest) -> int:
        slow = self.faults.slow_method
        if not slow or not self.faults.slow_method_ms or _action_label(request) != "Invoke":
            return 0
        with contextlib.suppress(soap.SoapFault):
            _target, class_def, method, method_name = self._resolve_method(request)
            if f"{class_def.name}.{method.name if method else method_name}".lower() == slow.lower():
                return self.faults.slow_method_ms
        return 0

    def _count_method(self, request: soap.WsmanRequest) -> None:
        with contextlib.suppress(soap.SoapFault):
            _target, class_def, method, method_name = self._resolve_method(request)
            self.stats.by_method[f"{class_def.name}.{method.name if method else method_name}"] += 1

    def _finish_later(self, request: soap.WsmanRequest, ctx: cim.CallContext, delay: float) -> None:
        # Assumption: the method takes effect when the injected latency has elapsed, so a client that polls
        # right after the w:TimedOut fault may still see the old state for a moment.
        async def finish() -> None:
            await asyncio.sleep(delay)
            with contextlib.suppress(soap.SoapFault, cim.CimError):
                self._invoke(request, ctx, count=False)

        task = asyncio.get_running_loop().create_task(finish())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def dispatch(self, request: soap.WsmanRequest, ctx: cim.CallContext) -> bytes:
        """Run one WS-Management request; raise :class:`soap.SoapFault` for faults."""
        label = _action_label(request)
        self.stats.by_action[label] += 1
        uri = request.resource_uri
        if uri.lower() == soap.SHELL_CMD_URI:
            return self._shell(request, ctx, label)
        if uri.lower().startswith(POWERSHELL_URI_PREFIX):
            raise soap.action_not_supported(
                self.fqdn,
                request.action,
                why="not supported by the emulator: PowerShell remoting (a psrp runspace) is not emulated; "
                "use the winrm connection or a plain WS-Man client",
            )
        if uri.lower().rstrip("/") == soap.CONFIG_URI:
            if request.action != soap.ACTION_GET:
                raise soap.action_not_supported(self.fqdn, request.action, why="not supported by the emulator")
            return soap.render_envelope(soap.TRANSFER + "GetResponse", _config_body(), relates_to=request.message_id)
        target = parse_wmi_uri(uri)
        if target is None:
            raise soap.resource_not_found(self.fqdn, uri)
        if request.action == soap.ACTION_GET:
            return self._get(request, target, ctx)
        if request.action == soap.ACTION_ENUMERATE:
            return self._enumerate(request, target, ctx)
        if request.action == soap.ACTION_PULL:
            return self._pull(request)
        if request.action == soap.ACTION_RELEASE:
            return self._release(request)
        if request.action in (soap.ACTION_PUT, soap.ACTION_CREATE, soap.ACTION_DELETE):
            raise soap.action_not_supported(
                self.fqdn, request.action, why="not supported by the emulator for WMI resources"
            )
        return self._invoke(request, ctx)

    # ----------------------------------------------------------------- WinRS shells

    def _shell(self, request: soap.WsmanRequest, ctx: cim.CallContext, label: str) -> bytes:
        if request.action == soap.ACTION_CREATE:
            if not ctx.is_admin:
                # Assumption: WinRS uses RootSDDL, which grants only BUILTIN\Administrators over the network
                # (recorded config: (A;;GA;;;BA)(A;;GR;;;IU)), so a non-admin account cannot open a shell.
                raise soap.access_denied(self.fqdn)
            now = time.monotonic()
            for stale in [key for key, shell in self.shells.items() if now - shell.created > SHELL_IDLE_SECONDS]:
                del self.shells[stale]
            shell_id = soap.new_uuid()[5:]
            self.shells[shell_id] = Shell(shell_id, ctx.user, request.resource_uri, now)
            return soap.render_envelope(
                soap.TRANSFER + "CreateResponse",
                self._shell_created(request, shell_id, ctx.user),
                relates_to=request.message_id,
            )
        if request.action == soap.ACTION_DELETE:
            selected = (request.selector("ShellId") or "").upper()
            if selected not in self.shells:
                raise soap.invalid_selectors(
                    self.fqdn, f"No shell with ShellId {selected!r}.", provider=soap.SHELL_PROVIDER
                )
            del self.shells[selected]
            return soap.render_envelope(soap.TRANSFER + "DeleteResponse", "", relates_to=request.message_id)
        if request.action in soap.SHELL_ACTIONS:
            raise soap.action_not_supported(
                self.fqdn, request.action, why=f"not supported by the emulator (WinRS {label} runs no commands)"
            )
        raise soap.action_not_supported(self.fqdn, request.action, why="not supported by the emulator")

    def _shell_created(self, request: soap.WsmanRequest, shell_id: str, owner: str) -> str:
        shell = request.body.find(f"{{{soap.NS_RSP}}}Shell")
        streams_in = (shell.findtext(f"{{{soap.NS_RSP}}}InputStreams") if shell is not None else None) or "stdin"
        streams_out = (
            shell.findtext(f"{{{soap.NS_RSP}}}OutputStreams") if shell is not None else None
        ) or "stdout stderr"
        x = soap.xml_text
        return (
            f"<x:ResourceCreated><a:Address>{x(self.url)}</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{soap.SHELL_CMD_URI}</w:ResourceURI><w:SelectorSet>"
            f'<w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet></a:ReferenceParameters>'
            f'</x:ResourceCreated><rsp:Shell xmlns:rsp="{soap.NS_RSP}"><rsp:ShellId>{shell_id}</rsp:ShellId>'
            f"<rsp:ResourceUri>{soap.SHELL_CMD_URI}</rsp:ResourceUri><rsp:Owner>{x(owner)}</rsp:Owner>"
            f"<rsp:ClientIP>{BIND_ADDRESS}</rsp:ClientIP><rsp:IdleTimeOut>{SHELL_IDLE_TIMEOUT}</rsp:IdleTimeOut>"
            f"<rsp:InputStreams>{x(streams_in)}</rsp:InputStreams>"
            f"<rsp:OutputStreams>{x(streams_out)}</rsp:OutputStreams>"
            f"<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity>"
            f"</rsp:Shell>"
        )

    # ----------------------------------------------------------------- WMI helpers

    def _class_def(self, target: WmiTarget, class_name: str, operation: str) -> cim.ClassDef:
        try:
            return self.machine.class_def(target.namespace, class_name)
        except cim.CimError as exc:
            raise self._cim_fault(exc, target.namespace, operation, class_name) from None

    def _cim_fault(self, exc: cim.CimError, namespace: str, operation: str, object_path: str) -> soap.SoapFault:
        return soap.cim_fault(exc, machine=self.fqdn, namespace=namespace, operation=operation, object_path=object_path)

    def _key_selectors(self, request: soap.WsmanRequest, class_def: cim.ClassDef) -> dict[str, str]:
        """Exactly the class keys (names case-insensitive) or w:InvalidSelectors."""
        given = {name.lower(): (name, value) for name, value in request.selectors.items()}
        keys = {key.lower(): key for key in class_def.keys}
        unexpected = sorted(name for lower, (name, _value) in given.items() if lower not in keys)
        if unexpected:
            raise soap.invalid_selectors(
                self.fqdn, f"Unexpected selectors for {class_def.name}: {', '.join(unexpected)}."
            )
        missing = sorted(key for lower, key in keys.items() if lower not in given)
        if missing or not keys:
            what = ", ".join(missing) if missing else "none (the class has no key)"
            raise soap.invalid_selectors(
                self.fqdn,
                f"Missing key selectors for {class_def.name}: {what}.",
                detail_kind="InsufficientSelectors",
            )
        return {keys[lower]: value for lower, (_name, value) in given.items()}

    @staticmethod
    def _object_path(class_def: cim.ClassDef, selectors: t.Mapping[str, str]) -> str:
        if not selectors:
            return class_def.name
        keys = ",".join(f'{name}="{value}"' for name, value in selectors.items())
        return f"{class_def.name}.{keys}"

    def _class_uri(self, target: WmiTarget, class_def: cim.ClassDef) -> str:
        return f"{soap.WMI_URI_PREFIX}{target.namespace}/{class_def.name}"

    def _fit(self, request: soap.WsmanRequest, envelope: bytes) -> bytes:
        limit = request.max_envelope_size or soap.DEFAULT_MAX_ENVELOPE_SIZE
        if len(envelope) > limit:
            raise soap.envelope_too_large(self.fqdn, limit)
        return envelope

    # ----------------------------------------------------------------- Invoke

    def _resolve_method(self, request: soap.WsmanRequest) -> tuple[WmiTarget, cim.ClassDef, cim.MethodDef | None, str]:
        target = parse_wmi_uri(request.resource_uri)
        assert target is not None
        if target.class_name == "*":
            raise soap.action_not_supported(self.fqdn, request.action, why="not valid for the wildcard resource URI")
        prefix = request.resource_uri + "/"
        if not request.action.lower().startswith(prefix.lower()) or "/" in request.action[len(prefix) :]:
            raise soap.action_not_supported(self.fqdn, request.action, why="not a method of the resource URI")
        method_name = request.action[len(prefix) :]
        class_def = self._class_def(target, target.class_name, "ExecMethod")
        methods = {name.lower(): method for name, method in class_def.methods.items()}
        return target, class_def, methods.get(method_name.lower()), method_name

    def _invoke(self, request: soap.WsmanRequest, ctx: cim.CallContext, *, count: bool = True) -> bytes:
        target, class_def, method, method_name = self._resolve_method(request)
        label = f"{class_def.name}.{method.name if method else method_name}"
        if count:
            self.stats.by_method[label] += 1
        if self.faults.drop_after_method and self.faults.drop_after_method.lower() == label.lower():
            self.faults.drop_next = True
        if method is None:
            exc = cim.MethodNotFound(f"{class_def.name} has no method {method_name}")
            raise self._cim_fault(exc, target.namespace, "ExecMethod", class_def.name)
        if method.static:
            if request.selectors:
                raise soap.invalid_selectors(
                    self.fqdn, f"{class_def.name}.{method.name} is a static method and takes no selectors."
                )
            selectors: dict[str, str] = {}
        else:
            selectors = self._key_selectors(request, class_def)
        object_path = self._object_path(class_def, selectors)
        try:
            params = soap.parse_method_input(request.body, method)
            outputs = self.machine.invoke(target.namespace, class_def.name, method.name, selectors, params, ctx)
        except cim.CimError as exc:
            raise self._cim_fault(exc, target.namespace, "ExecMethod", object_path) from None
        body = soap.render_method_output(self._class_uri(target, class_def), method, outputs)
        response_action = f"{request.resource_uri}/{method.name}Response"
        return self._fit(request, soap.render_envelope(response_action, body, relates_to=request.message_id))

    # ----------------------------------------------------------------- Get

    def _get(self, request: soap.WsmanRequest, target: WmiTarget, ctx: cim.CallContext) -> bytes:
        if target.class_name == "*":
            raise soap.action_not_supported(self.fqdn, request.action, why="not valid for the wildcard resource URI")
        class_def = self._class_def(target, target.class_name, "GetObject")
        self.stats.by_method[f"get:{class_def.name}"] += 1
        selectors = self._key_selectors(request, class_def)
        object_path = self._object_path(class_def, selectors)
        try:
            instances = self.machine.instances(target.namespace, class_def.name, ctx)
        except cim.CimError as exc:
            raise self._cim_fault(exc, target.namespace, "GetObject", object_path) from None
        for instance in instances:
            if all(_key_equal(class_def.properties[key], instance.get(key), value) for key, value in selectors.items()):
                body = soap.render_instance(self._class_uri(target, class_def), class_def, instance)
                envelope = soap.render_envelope(soap.TRANSFER + "GetResponse", body, relates_to=request.message_id)
                return self._fit(request, envelope)
        missing = cim.InstanceNotFound(f"no instance {object_path}")
        raise self._cim_fault(missing, target.namespace, "GetObject", object_path)

    # ----------------------------------------------------------------- Enumerate / Pull / Release

    def _enumerate(self, request: soap.WsmanRequest, target: WmiTarget, ctx: cim.CallContext) -> bytes:
        enum = request.body.find(f"{{{soap.NS_N}}}Enumerate")
        if enum is None:
            raise soap.invalid_xml(self.fqdn, "The Enumerate request has no n:Enumerate body.")
        mode = (enum.findtext(f"{{{soap.NS_W}}}EnumerationMode") or "").strip()
        if mode:
            raise soap.unsupported_feature(
                self.fqdn, f"EnumerationMode {mode} is not supported by the emulator.", fault_detail="EnumerationMode"
            )
        optimize = enum.find(f"{{{soap.NS_W}}}OptimizeEnumeration") is not None
        # DSP0226: without MaxElements an optimized enumeration returns at most one item.
        max_elements = _positive_int(enum.findtext(f"{{{soap.NS_W}}}MaxElements"), default=1)
        filter_element = enum.find(f"{{{soap.NS_W}}}Filter")
        if filter_element is None:
            filter_element = enum.find(f"{{{soap.NS_N}}}Filter")
        items, _class_def = self._select(request, target, filter_element, ctx)
        limit = request.max_envelope_size or soap.DEFAULT_MAX_ENVELOPE_SIZE
        action = soap.ENUMERATION + "EnumerateResponse"
        context = soap.new_uuid()
        if not optimize:
            self._store(context, items, 0)
            body = f"<n:EnumerateResponse><n:EnumerationContext>{context}</n:EnumerationContext></n:EnumerateResponse>"
            return soap.render_envelope(action, body, relates_to=request.message_id)
        # Windows may answer an optimized enumeration with a single item even when MaxElements allows
        # more (wsman.md B4); do that whenever more than one item matched so clients must Pull.
        first_page = min(max_elements, 1 if len(items) > 1 else len(items))
        overhead = (
            soap.envelope_overhead(action, request.message_id)
            + len(
                "<n:EnumerateResponse><n:EnumerationContext></n:EnumerationContext><w:Items></w:Items>"
                "<w:EndOfSequence/></n:EnumerateResponse>"
            )
            + len(context)
        )
        count = self._page_size(items, 0, first_page, limit - overhead, must_fit_one=False)
        page = b"".join(items[:count]).decode("utf-8")
        if count == len(items):
            body = (
                f"<n:EnumerateResponse><n:EnumerationContext></n:EnumerationContext><w:Items>{page}</w:Items>"
                f"<w:EndOfSequence/></n:EnumerateResponse>"
            )
        else:
            self._store(context, items, count)
            body = (
                f"<n:EnumerateResponse><n:EnumerationContext>{context}</n:EnumerationContext>"
                f"<w:Items>{page}</w:Items></n:EnumerateResponse>"
            )
        return soap.render_envelope(action, body, relates_to=request.message_id)

    def _select(
        self,
        request: soap.WsmanRequest,
        target: WmiTarget,
        filter_element: ET.Element | None,
        ctx: cim.CallContext,
    ) -> tuple[list[bytes], cim.ClassDef]:
        """Run the enumeration's query and render every matching item."""
        dialect = (filter_element.get("Dialect") if filter_element is not None else None) or ""
        if filter_element is not None and dialect in ("", soap.WQL_DIALECT):
            query_text = (filter_element.text or "").strip()
            try:
                query = wql.parse(query_text)
            except wql.WqlError as exc:
                raise soap.cannot_process_filter(
                    self.fqdn, target.namespace, query_text, f"Invalid query: {exc}. "
                ) from None
            try:
                class_def = self.machine.class_def(target.namespace, query.class_name)
            except cim.ClassNotFound:
                raise soap.cannot_process_filter(
                    self.fqdn, target.namespace, query_text, soap.CLASS_NOT_FOUND_MESSAGE
                ) from None
            except cim.CimError as exc:
                raise self._cim_fault(exc, target.namespace, "ExecQuery", query_text) from None
            try:
                bound = wql.bind(query, class_def)
            except wql.WqlError as exc:
                raise soap.cannot_process_filter(
                    self.fqdn, target.namespace, query_text, f"Invalid query: {exc}. "
                ) from None
            selectors: dict[str, str] = {}
        elif filter_element is not None and dialect == soap.SELECTOR_DIALECT:
            if target.class_name == "*":
                raise soap.dialect_unavailable(self.fqdn, dialect)
            class_def = self._class_def(target, target.class_name, "ExecQuery")
            query_text = f"SELECT * FROM {class_def.name}"
            bound = wql.bind(wql.parse(query_text), class_def)
            keys = {name.lower(): name for name in class_def.properties}
            selectors = {}
            for selector in filter_element.findall(f"{{{soap.NS_W}}}SelectorSet/{{{soap.NS_W}}}Selector"):
                name = keys.get(selector.get("Name", "").lower())
                if name is None:
                    message = f"{class_def.name} has no property {selector.get('Name')!r}."
                    raise soap.invalid_selectors(self.fqdn, message)
                selectors[name] = (selector.text or "").strip()
        elif filter_element is not None:
            raise soap.dialect_unavailable(self.fqdn, dialect)
        else:
            if target.class_name == "*":
                raise soap.unsupported_feature(
                    self.fqdn,
                    "Enumerating the wildcard resource URI needs a WQL filter.",
                    fault_detail="FilteringRequired",
                    code=soap.CODE_FILTERING_REQUIRED,
                )
            class_def = self._class_def(target, target.class_name, "ExecQuery")
            query_text = f"SELECT * FROM {class_def.name}"
            bound = wql.bind(wql.parse(query_text), class_def)
            selectors = {}
        self.stats.by_method[f"enumerate:{class_def.name}"] += 1
        try:
            instances = self.machine.instances(target.namespace, class_def.name, ctx)
        except cim.CimError as exc:
            raise self._cim_fault(exc, target.namespace, "ExecQuery", query_text) from None
        class_uri = self._class_uri(target, class_def)
        items = []
        for instance in instances:
            if not bound.matches(instance):
                continue
            if not all(_key_equal(class_def.properties[k], instance.get(k), v) for k, v in selectors.items()):
                continue
            if bound.selected is None:
                rendered = soap.render_instance(class_uri, class_def, instance)
            else:
                rendered = soap.render_fragment(bound.selected, instance)
            items.append(rendered.encode("utf-8"))
        return items, class_def

    def _store(self, context: str, items: list[bytes], position: int) -> None:
        now = time.monotonic()
        for key in [key for key, value in self.enumerations.items() if value.expires < now]:
            del self.enumerations[key]
        self.enumerations[context] = Enumeration(items, position, now + ENUMERATION_TIMEOUT)

    def _take(self, request: soap.WsmanRequest, element: str) -> tuple[str, Enumeration]:
        node = request.body.find(f"{{{soap.NS_N}}}{element}")
        if node is None:
            raise soap.invalid_xml(self.fqdn, f"The request has no n:{element} body.")
        context = (node.findtext(f"{{{soap.NS_N}}}EnumerationContext") or "").strip()
        enumeration = self.enumerations.pop(context, None)
        if enumeration is None or enumeration.expires < time.monotonic():
            raise soap.invalid_enumeration_context(self.fqdn, context)
        return context, enumeration

    def _pull(self, request: soap.WsmanRequest) -> bytes:
        pull = request.body.find(f"{{{soap.NS_N}}}Pull")
        # WS-Enumeration: MaxElements defaults to 1.
        max_elements = _positive_int(pull.findtext(f"{{{soap.NS_N}}}MaxElements") if pull is not None else None, 1)
        max_characters = _positive_int(pull.findtext(f"{{{soap.NS_N}}}MaxCharacters") if pull is not None else None, 0)
        old_context, enumeration = self._take(request, "Pull")
        action = soap.ENUMERATION + "PullResponse"
        context = soap.new_uuid()
        limit = request.max_envelope_size or soap.DEFAULT_MAX_ENVELOPE_SIZE
        overhead = (
            soap.envelope_overhead(action, request.message_id)
            + len(
                "<n:PullResponse><n:EnumerationContext></n:EnumerationContext><n:Items></n:Items>"
                "<n:EndOfSequence/></n:PullResponse>"
            )
            + len(context)
        )
        budget = limit - overhead
        if max_characters:
            budget = min(budget, max_characters)
        try:
            count = self._page_size(enumeration.items, enumeration.position, max_elements, budget, must_fit_one=True)
        except soap.SoapFault:
            # The context stays usable, as when Windows reports a page that does not fit.
            self.enumerations[old_context] = enumeration
            raise
        start = enumeration.position
        page = b"".join(enumeration.items[start : start + count]).decode("utf-8")
        enumeration.position += count
        if enumeration.position >= len(enumeration.items):
            body = f"<n:PullResponse><n:Items>{page}</n:Items><n:EndOfSequence/></n:PullResponse>"
        else:
            self._store(context, enumeration.items, enumeration.position)
            body = (
                f"<n:PullResponse><n:EnumerationContext>{context}</n:EnumerationContext>"
                f"<n:Items>{page}</n:Items></n:PullResponse>"
            )
        return soap.render_envelope(action, body, relates_to=request.message_id)

    def _release(self, request: soap.WsmanRequest) -> bytes:
        self._take(request, "Release")
        return soap.render_envelope(soap.ENUMERATION + "ReleaseResponse", "", relates_to=request.message_id)

    def _page_size(self, items: list[bytes], start: int, max_count: int, budget: int, *, must_fit_one: bool) -> int:
        """How many items from ``start`` fit in ``max_count`` and ``budget`` bytes."""
        count = 0
        size = 0
        while start + count < len(items) and count < min(max_count, soap.MAX_BATCH_ITEMS):
            item_size = len(items[start + count])
            if size + item_size > budget:
                if count == 0 and must_fit_one:
                    raise soap.envelope_too_large(self.fqdn, budget)
                break
            size += item_size
            count += 1
        return count


def _action_label(request: soap.WsmanRequest) -> str:
    """The counter name of a request's action: Create, Delete, Get, Enumerate, Pull, Release, Command, Invoke..."""
    action = request.action
    if action.startswith((soap.TRANSFER, soap.ENUMERATION)):
        return action.rpartition("/")[2]
    if action in soap.SHELL_ACTIONS:
        return soap.SHELL_ACTIONS[action]
    if parse_wmi_uri(request.resource_uri) is not None:
        return "Invoke"
    return action.rpartition("/")[2] or "Unknown"


def _positive_int(text: str | None, default: int) -> int:
    if text is None or not text.strip():
        return default
    try:
        value = int(text.strip())
    except ValueError:
        return default
    return value if value > 0 else default


def _key_equal(cim_type: str, value: cim.CimValue, selector: str) -> bool:
    """WMI key matching: strings case-insensitively, other types by value."""
    if value is None:
        return False
    if isinstance(value, str):
        return value.casefold() == selector.casefold()
    try:
        return bool(cim.text_to_cim(cim_type, selector) == value)
    except ValueError:
        return False


def _config_body() -> str:
    """The service configuration (``winrm get winrm/config``) with the recorded Windows defaults."""
    c = "cfg"
    return (
        f'<{c}:Config xmlns:{c}="{soap.NS_CFG}"><{c}:MaxEnvelopeSizekb>500</{c}:MaxEnvelopeSizekb>'
        f"<{c}:MaxTimeoutms>60000</{c}:MaxTimeoutms><{c}:MaxBatchItems>32000</{c}:MaxBatchItems>"
        f"<{c}:MaxProviderRequests>4294967295</{c}:MaxProviderRequests><{c}:Service>"
        f"<{c}:RootSDDL>O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)S:P(AU;FA;GA;;;WD)(AU;SA;GXGW;;;WD)</{c}:RootSDDL>"
        f"<{c}:MaxConcurrentOperationsPerUser>1500</{c}:MaxConcurrentOperationsPerUser>"
        f"<{c}:EnumerationTimeoutms>240000</{c}:EnumerationTimeoutms>"
        f"<{c}:AllowUnencrypted>true</{c}:AllowUnencrypted><{c}:Auth><{c}:Basic>true</{c}:Basic>"
        f"<{c}:Kerberos>false</{c}:Kerberos><{c}:Negotiate>false</{c}:Negotiate>"
        f"<{c}:Certificate>false</{c}:Certificate><{c}:CredSSP>false</{c}:CredSSP></{c}:Auth>"
        f"</{c}:Service><{c}:Winrs><{c}:AllowRemoteShellAccess>true</{c}:AllowRemoteShellAccess>"
        f"<{c}:IdleTimeout>7200000</{c}:IdleTimeout><{c}:MaxShellsPerUser>2147483647</{c}:MaxShellsPerUser>"
        f"</{c}:Winrs></{c}:Config>"
    )


# --------------------------------------------------------------------------- the fleet


class FleetServer:
    """Every host of a fleet, served from the running event loop."""

    def __init__(self, fleet: FleetLike) -> None:
        self.fleet = fleet
        specs = list(fleet.hosts.values())
        https_names = [name for spec in specs if spec.https for name in (spec.name, spec.fqdn)]
        self.tls: tls.ServerCertificate | None = tls.self_signed(https_names) if https_names else None
        context = self.tls.server_context() if self.tls else None
        self.hosts: dict[str, HostEndpoint] = {spec.name: HostEndpoint(spec, context) for spec in specs}
        self._started = False

    def host(self, name: str) -> HostEndpoint:
        """Look a host up by short name or FQDN, case-insensitively."""
        lowered = name.lower()
        for endpoint in self.hosts.values():
            if lowered in (endpoint.name.lower(), endpoint.fqdn.lower()):
                return endpoint
        raise UnknownHost(name)

    async def start(self) -> None:
        raise_open_file_limit()
        try:
            for endpoint in self.hosts.values():
                await endpoint.start()
        except BaseException:
            await self.stop()
            raise
        self._started = True

    async def stop(self) -> None:
        for endpoint in self.hosts.values():
            await endpoint.stop()
        self._started = False

    def stats(self) -> dict[str, dict[str, t.Any]]:
        return {name: endpoint.stats_dict() for name, endpoint in self.hosts.items()}
