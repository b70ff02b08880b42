"""The WinRM endpoint of one emulated host: ``/wsman`` over its HTTP listener.

Per request, in this order: the HTTP checks (path, method), authentication as the host's WinRM service
settings allow (:mod:`http_auth`, :mod:`winrm_service`), the message encryption layer over plain HTTP
(:mod:`message_encryption`), Identify (:mod:`identify`), the request counters and the injected faults
(:mod:`faults`), the SOAP envelope, the security descriptors (:mod:`authorization`), the injected latency
against ``OperationTimeout``, then dispatch by resource URI to the WinRS shells (:mod:`winrs`), the
PowerShell runspace pools (:mod:`powershell_remoting`), the service configuration, or the WMI
operations (:mod:`wsman_operations`), which ask the machine.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import ssl
import typing as t
import weakref

from . import authorization, cim, identify, message_encryption, powershell_remoting, soap, wsman_faults
from .faults import DOCUMENT_KINDS, FaultSettings, fixed_document, parse_fault_value
from .http_auth import AccountLike, ConnectionAuth, HostAuthenticator
from .http_listener import BIND_ADDRESS, DROP, HttpListener, HttpRequest, HttpResponse
from .winrm_service import WinrmService, config_body
from .winrs import Shell, WinrsShells
from .wsman_operations import RESOURCE_ACTIONS, Enumeration, WsmanOperations, parse_wmi_uri

_SpecialHandler = t.Callable[[soap.WsmanRequest, "AccountLike"], t.Awaitable["HttpResponse | object"]]
# The enumeration context of the endless_paging fault: every Pull of it answers "more to come".
ENDLESS_CONTEXT = "uuid:E4D1E55E-0000-4000-8000-000000000000"

log = logging.getLogger(__name__)

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
MAX_REQUEST_BYTES = soap.DEFAULT_MAX_ENVELOPE_SIZE  # larger requests get HTTP 413 ([MS-WSMV] 3.1.4.1.20)


# --------------------------------------------------------------------------- the fleet shapes used here


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
    """The parts of fleet.HostSpec the endpoint uses (read-only, so subtypes fit)."""

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

    @property
    def winrm(self) -> WinrmService: ...


# --------------------------------------------------------------------------- the endpoint


@dataclasses.dataclass
class HostStats:
    total: int = 0
    by_action: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    by_method: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    # Successful authentications by mechanism: ntlm, kerberos (one per handshake), basic (one per request).
    authentications: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    writes_base: int = 0
    # HTTP bodies as they went over the wire (encrypted where they were), for the benchmarks' cost per host.
    bytes_received: int = 0
    bytes_sent: int = 0

    def reset(self, writes_base: int) -> None:
        # In place: the WMI operations hold on to by_method.
        self.total = 0
        self.bytes_received = self.bytes_sent = 0
        self.by_action.clear()
        self.by_method.clear()
        self.authentications.clear()
        self.writes_base = writes_base


class HostEndpoint:
    """One emulated host: its listener, counters and fault injection in front of its shells and WMI."""

    def __init__(self, spec: HostSpecLike, ssl_context: ssl.SSLContext | None, ntlm_user_file: str = "") -> None:
        self.spec = spec
        self.name = spec.name
        self.fqdn = spec.fqdn
        self.machine = spec.machine
        self.https = spec.https
        self.stats = HostStats(writes_base=self._machine_writes())
        self.faults = FaultSettings(latency_ms=parse_fault_value("latency_ms", spec.faults.latency_ms) or 0)
        for kind in ("drop", "fault"):
            key = f"{kind}_at_request"
            self.faults.at_request[kind] = parse_fault_value(key, getattr(spec.faults, key))
        self.winrs = WinrsShells(self.fqdn, client_ip=BIND_ADDRESS)
        build = int(getattr(getattr(self.machine, "edition", None), "build", 0) or 0)
        self.powershell = powershell_remoting.RunspacePools(self.fqdn, client_ip=BIND_ADDRESS, build=build)
        self.operations = WsmanOperations(self.machine, self.fqdn, self.stats.by_method)
        self._listener = HttpListener(
            self._on_request,
            port=spec.port,
            max_body=MAX_REQUEST_BYTES,
            ssl_context=ssl_context if self.https else None,
        )
        self._background: set[asyncio.Task[None]] = set()
        self.auth = HostAuthenticator(spec.fqdn, spec.accounts, spec.winrm, ntlm_user_file, spec.https)
        # Negotiate/Kerberos contexts live as long as their TCP connection (keyed by its stream writer).
        self._connections: weakref.WeakKeyDictionary[asyncio.StreamWriter, ConnectionAuth] = weakref.WeakKeyDictionary()

    @property
    def shells(self) -> dict[str, Shell]:
        return self.winrs.shells

    @property
    def enumerations(self) -> dict[str, Enumeration]:
        return self.operations.enumerations.open

    # ----------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        return self._listener.port

    @property
    def url(self) -> str:
        return f"{'https' if self.https else 'http'}://{BIND_ADDRESS}:{self.port}/wsman"

    async def start(self) -> None:
        self._listener.port = self.spec.port or 0  # a restarted host asks for its fleet-file port again
        try:
            await self._listener.start()
        except OSError as exc:
            message = f"host {self.name}: cannot listen on {BIND_ADDRESS}:{self.spec.port}: {exc.strerror}"
            raise OSError(exc.errno, message) from exc

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self._listener.stop()

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
            "shells_open": len(self.shells) + len(self.powershell.pools),
            "authentications": dict(sorted(self.stats.authentications.items())),
        }

    def reset_stats(self) -> None:
        self.stats.reset(writes_base=self._machine_writes())
        self.faults.restart_counts()

    def configure_faults(self, changes: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        """Validate all changes first, then apply them (nothing changes on a bad value)."""
        self.faults.apply(changes, request_count=self.stats.total)
        return self.faults.to_dict()

    def account(self, username: str, password: str) -> AccountLike | None:
        """The account these credentials name, matched like Windows (see :class:`HostAuthenticator`)."""
        return self.auth.account(username, password)

    # ----------------------------------------------------------------- HTTP: authentication, encryption

    def _unauthorized(self, challenge: list[tuple[str, str]] | None = None) -> HttpResponse:
        return HttpResponse(401, headers=challenge if challenge is not None else self.spec.winrm.challenge())

    async def _on_request(self, request: HttpRequest, writer: asyncio.StreamWriter) -> HttpResponse | object:
        self.stats.bytes_received += len(request.body)
        response = await self._answer(request, writer)
        if isinstance(response, HttpResponse):
            self.stats.bytes_sent += len(response.body)
        return response

    async def _answer(self, request: HttpRequest, writer: asyncio.StreamWriter) -> HttpResponse | object:
        if request.path.rstrip("/").lower() != "/wsman":
            return HttpResponse(404)
        if request.method != "POST":
            return HttpResponse(405, headers=[("Allow", "POST")])
        state = self._connections.setdefault(writer, ConnectionAuth())
        reply_headers: list[tuple[str, str]] = []
        header = request.headers.get("authorization", "")
        account: AccountLike | None
        if header:
            step = self.auth.step(header, state)
            if step.account is None:
                log.debug("%s: 401 (%s)", self.name, step.reason)
                return self._unauthorized(step.challenge)
            account, reply_headers = step.account, step.challenge
            self.stats.authentications[state.mechanism if state.account is account else "basic"] += 1
        else:
            account = state.account
        if account is None:
            unauthenticated = request.headers.get("wsmanidentify", "").lower() == "unauthenticated"
            if unauthenticated and identify.is_identify(request.body):
                return self._soap_response(200, identify.response(os_version=None, profiles=[]))
            return self._unauthorized()
        sealer = state.sealer if state.account is account and not header.lower().startswith("basic") else None
        # Assumption: an encrypted body that does not parse or verify gets HTTP 400 with no body (no recording of
        # what Windows answers).
        try:
            kind = message_encryption.encrypted_type(request.headers.get("content-type", ""))
        except message_encryption.EncryptionError as exc:
            log.info("%s: refused an encrypted body: %s", self.name, exc)
            return HttpResponse(400)
        if kind is not None:
            if sealer is None:
                return HttpResponse(400)
            try:
                body = message_encryption.decrypt(request.body, kind, sealer)
            except message_encryption.EncryptionError as exc:
                log.info("%s: refused an encrypted body: %s", self.name, exc)
                return HttpResponse(400)
        else:
            body = request.body
            if not body and state.account is account:
                # The clients' empty POST that only carries the handshake, before they encrypt anything.
                return HttpResponse(200, headers=reply_headers)
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/soap+xml":
                return HttpResponse(415)
            if not self.https and not self.spec.winrm.allow_unencrypted:
                # As Windows does with AllowUnencrypted false: HTTP 500 for a plaintext body over HTTP (pywinrm
                # issue #129, winrm4j issue #151), whatever the authentication.
                log.info("%s: refused an unencrypted request over HTTP (AllowUnencrypted is false)", self.name)
                return HttpResponse(500, headers=reply_headers)
        response = await self._serve(body, account)
        if isinstance(response, HttpResponse):
            response.headers = reply_headers + response.headers
            # A hostile answer that sets its own Content-Encoding (the gzip bomb) goes out as injected.
            raw = any(name.lower() == "content-encoding" for name, _value in response.headers)
            if kind is not None and sealer is not None and response.body and not raw:
                response.body, response.content_type = message_encryption.encrypt(response.body, kind.protocol, sealer)
        return response

    def _identify(self, account: AccountLike) -> bytes:
        edition = getattr(self.machine, "edition", None)
        # Assumption: a machine without an edition (the protocol tests' fake) reports Windows Server 2019.
        os_version = str(getattr(edition, "full_version", "10.0.17763"))
        profiles = identify.security_profiles(self.spec.winrm, self.https)
        return identify.response(os_version=os_version, profiles=profiles)

    async def _serve(self, body: bytes, account: AccountLike) -> HttpResponse | object:
        """One authenticated (and, over HTTP, decrypted) envelope: counters, faults, authorisation, dispatch."""
        if identify.is_identify(body):
            # Assumption: any authenticated account may Identify (it reveals no more than the version).
            return self._soap_response(200, self._identify(account))
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
            request_xml = soap.parse_request(body, machine=self.fqdn)
        except soap.SoapFault as fault:
            self.stats.by_action["Invalid"] += 1
            return self._soap_response(500, fault.render())
        for kind in DOCUMENT_KINDS:
            if faults.due(kind, number):
                self.stats.by_action[action_label(request_xml)] += 1
                log.info("%s: answering request %d with a %s document", self.name, number, kind)
                status, document, headers = fixed_document(kind)
                response = self._soap_response(status, document)
                if kind == "html":
                    response.content_type = "text/html"
                response.headers.extend(headers)
                return response
        special = self._cut_short(request_xml, number)
        if special is not None:
            return await special(request_xml, account)
        if faults.due("fault", number):
            self.stats.by_action[action_label(request_xml)] += 1
            log.info("%s: injecting a fault at request %d", self.name, number)
            injected = wsman_faults.internal_error(self.fqdn, f"Fault injected by the emulator at request {number}.")
            return self._soap_response(500, injected.render(request_xml.message_id))
        groups = authorization.groups_of(account.admin, account.groups)
        if not authorization.may_access(request_xml.resource_uri, groups):
            self.stats.by_action["AccessDenied"] += 1
            denied = wsman_faults.winrm_access_denied(self.fqdn)
            return self._soap_response(500, denied.render(request_xml.message_id))
        status, body = await self._dispatch_with_latency(request_xml, self._context(account))
        log.debug("%s: #%d %s %s -> %d", self.name, number, request_xml.action, request_xml.resource_uri, status)
        return self._soap_response(status, body)

    # ----------------------------------------------------------------- changes cut short, hostile answers

    def _cut_short(self, request: soap.WsmanRequest, number: int) -> _SpecialHandler | None:
        """The handler of a fault that runs (or answers) request ``number`` in its own way, if one is due."""
        faults = self.faults
        handlers: tuple[tuple[str, _SpecialHandler], ...] = (
            ("lost", self._lost),
            ("stall", self._stall),
            ("hang", self._hang),
            ("trickle", self._trickled),
            ("trickle_head", self._trickled_head),
            ("wrong_relates_to", self._wrong_relates_to),
            ("truncated_enumeration", self._truncated_enumeration),
            ("endless_paging", self._endless_enumeration),
        )
        for kind, handler in handlers:
            if faults.due(kind, number):
                log.info("%s: request %d gets the %s fault", self.name, number, kind)
                return handler
        if action_label(request) == "Pull" and ENDLESS_CONTEXT in "".join(request.body.itertext()):
            return self._endless_pull
        lose = faults.lose_method
        if lose and action_label(request) == "Invoke":
            with contextlib.suppress(soap.SoapFault):
                if self.operations.method_label(request).lower() == lose.lower():
                    faults.lose_method = None
                    log.info("%s: %s runs, its answer is lost", self.name, lose)
                    return self._lost
        return None

    def _context(self, account: AccountLike) -> cim.CallContext:
        groups = authorization.groups_of(account.admin, account.groups)
        return cim.CallContext(user=account.username, is_admin=bool(account.admin), groups=groups)

    async def _lost(self, request: soap.WsmanRequest, account: AccountLike) -> object:
        """The host carries the request out; the answer never reaches the client."""
        await self._dispatch_with_latency(request, self._context(account))
        self.stats.by_action["Lost"] += 1
        return DROP

    async def _stall(self, request: soap.WsmanRequest, account: AccountLike) -> HttpResponse:
        """Longer than OperationTimeout: w:TimedOut, and (a method) completes afterwards, as on Windows."""
        timeout = min(request.operation_timeout or soap.MAX_TIMEOUT_SECONDS, soap.MAX_TIMEOUT_SECONDS)
        extra = int((timeout + 0.5) * 1000)
        self.faults.latency_ms += extra
        try:
            status, body = await self._dispatch_with_latency(request, self._context(account))
        finally:
            self.faults.latency_ms -= extra
        return self._soap_response(status, body)

    async def _hang(self, request: soap.WsmanRequest, account: AccountLike) -> object:
        """The host carries the request out and never answers; the connection closes after hang_ms."""
        await self._dispatch_with_latency(request, self._context(account))
        self.stats.by_action["Hung"] += 1
        await asyncio.sleep(self.faults.hang_ms / 1000.0)
        return DROP

    async def _trickled(self, request: soap.WsmanRequest, account: AccountLike) -> HttpResponse:
        status, body = await self._dispatch_with_latency(request, self._context(account))
        response = self._soap_response(status, body)
        response.trickle_s = max(self.faults.trickle_ms, 1) / 1000.0
        return response

    async def _trickled_head(self, request: soap.WsmanRequest, account: AccountLike) -> HttpResponse:
        response = await self._trickled(request, account)
        response.trickle_head = True
        return response

    async def _wrong_relates_to(self, request: soap.WsmanRequest, account: AccountLike) -> HttpResponse:
        """A well-formed answer, but to another request (not executed)."""
        self.stats.by_action[action_label(request)] += 1
        body = soap.render_envelope(soap.TRANSFER + "GetResponse", "", relates_to=soap.new_uuid())
        return self._soap_response(200, body)

    async def _truncated_enumeration(self, request: soap.WsmanRequest, account: AccountLike) -> HttpResponse:
        self.stats.by_action[action_label(request)] += 1
        body = soap.render_envelope(
            soap.ENUMERATION + "EnumerateResponse", "<n:EnumerateResponse/>", relates_to=request.message_id
        )
        return self._soap_response(200, body)

    async def _endless_enumeration(self, request: soap.WsmanRequest, account: AccountLike) -> HttpResponse:
        """An enumeration whose every Pull answers with more to come (and nothing in it)."""
        self.stats.by_action[action_label(request)] += 1
        return self._endless_page(request, "EnumerateResponse", "w:Items")

    async def _endless_pull(self, request: soap.WsmanRequest, account: AccountLike) -> HttpResponse:
        self.stats.by_action[action_label(request)] += 1
        return self._endless_page(request, "PullResponse", "n:Items")

    def _endless_page(self, request: soap.WsmanRequest, element: str, items: str) -> HttpResponse:
        body = (
            f"<n:{element}><n:EnumerationContext>{ENDLESS_CONTEXT}</n:EnumerationContext>"
            f"<{items}></{items}></n:{element}>"
        )
        return self._soap_response(
            200, soap.render_envelope(soap.ENUMERATION + element, body, relates_to=request.message_id)
        )

    def _soap_response(self, status: int, body: bytes) -> HttpResponse:
        return HttpResponse(status, body=body, content_type=SOAP_CONTENT_TYPE)

    # ----------------------------------------------------------------- SOAP: latency and dispatch

    async def _dispatch_with_latency(self, request: soap.WsmanRequest, ctx: cim.CallContext) -> tuple[int, bytes]:
        """Apply the injected latency; an operation outlasting OperationTimeout gets the w:TimedOut fault."""
        latency = (self.faults.latency_ms + self._method_delay_ms(request)) / 1000.0
        timeout = min(request.operation_timeout or soap.MAX_TIMEOUT_SECONDS, soap.MAX_TIMEOUT_SECONDS)
        if latency > timeout:
            label = action_label(request)
            self.stats.by_action[label] += 1
            if label == "Invoke":
                with contextlib.suppress(soap.SoapFault):
                    self.stats.by_method[self.operations.method_label(request)] += 1
            log.info("%s: %s outlasts OperationTimeout %.1fs (latency %.1fs)", self.name, label, timeout, latency)
            self.stats.by_action["TimedOut"] += 1
            await asyncio.sleep(timeout)
            if label == "Invoke":
                # WinRM gives up waiting after OperationTimeout but Windows keeps running the method: finish it.
                self._finish_later(request, ctx, latency - timeout)
            return 500, wsman_faults.timed_out(self.fqdn).render(request.message_id)
        if latency:
            await asyncio.sleep(latency)
        try:
            if powershell_remoting.serves(request.resource_uri):
                self.stats.by_action[action_label(request)] += 1
                return 200, await self.powershell.handle(request, ctx, address=self.url)
            return 200, self.dispatch(request, ctx)
        except soap.SoapFault as fault:
            return 500, fault.render(request.message_id)
        except cim.CimError as exc:
            log.warning("%s: unmapped CIM error %r", self.name, exc)
            return 500, wsman_faults.internal_error(self.fqdn, exc.message).render(request.message_id)
        except Exception as exc:  # a bug in an emulated class must not look like a dropped connection
            log.exception("%s: %s failed inside the emulator", self.name, request.action)
            message = f"The emulator failed: {type(exc).__name__}: {exc}"
            return 500, wsman_faults.internal_error(self.fqdn, message).render(request.message_id)

    def _method_delay_ms(self, request: soap.WsmanRequest) -> int:
        slow = self.faults.slow_method
        if not slow or not self.faults.slow_method_ms or action_label(request) != "Invoke":
            return 0
        with contextlib.suppress(soap.SoapFault):
            if self.operations.method_label(request).lower() == slow.lower():
                return self.faults.slow_method_ms
        return 0

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
        self.stats.by_action[action_label(request)] += 1
        uri = request.resource_uri
        if uri.lower() == soap.SHELL_CMD_URI:
            return self.winrs.handle(request, ctx, address=self.url)
        if uri.lower().rstrip("/") == soap.CONFIG_URI:
            if request.action != soap.ACTION_GET:
                raise wsman_faults.action_not_supported(self.fqdn, request.action, why="not supported by the emulator")
            body = config_body(soap.NS_CFG, self.spec.winrm)
            return soap.render_envelope(soap.TRANSFER + "GetResponse", body, relates_to=request.message_id)
        target = parse_wmi_uri(uri)
        if target is None:
            raise wsman_faults.resource_not_found(self.fqdn, uri)
        if request.action in RESOURCE_ACTIONS:
            return self.operations.handle(request, target, ctx)
        return self._invoke(request, ctx)

    def _invoke(self, request: soap.WsmanRequest, ctx: cim.CallContext, *, count: bool = True) -> bytes:
        """A WMI method call, watched by the drop_after_method fault."""
        drop_after = self.faults.drop_after_method
        if drop_after:
            with contextlib.suppress(soap.SoapFault):  # invoke raises the same fault below
                if self.operations.method_label(request).lower() == drop_after.lower():
                    self.faults.drop_next = True
        return self.operations.invoke(request, ctx, count=count)


def action_label(request: soap.WsmanRequest) -> str:
    """The counter name of a request's action: Create, Delete, Get, Enumerate, Pull, Release, Command, Invoke..."""
    action = request.action
    if action.startswith((soap.TRANSFER, soap.ENUMERATION)):
        return action.rpartition("/")[2]
    if action in soap.SHELL_ACTIONS:
        return soap.SHELL_ACTIONS[action]
    if parse_wmi_uri(request.resource_uri) is not None:
        return "Invoke"
    return action.rpartition("/")[2] or "Unknown"
