"""PowerShell remoting (PSRP) on the ``Microsoft.PowerShell`` session configuration of one host.

What Ansible's ``psrp`` connection (pypsrp) does with a Windows host, served over WinRS: ``Create`` a shell
whose ``creationXml`` carries the opening PSRP messages, ``Receive`` the server's answers, ``Command`` and
``Send`` for pipelines, ``Signal`` to stop or close them and ``Delete`` to close the pool (the WinRS
transport of [MS-PSRP], over [MS-WSMV]'s shell operations). The PSRP messages themselves (fragments,
CLIXML, the runspace-pool state machine) are psrpcore's ``ServerRunspacePool``; this module is the
WS-Management transport around it, shaped like the responses a Windows Server 2016 host recorded in
pypsrp's test data (``test_psrp_open_runspace.yml``, ``test_psrp_run_protocol_version_2.3.yml``).

The pool opens like a real one: SESSION_CAPABILITY (with an all-zero runspace pool id), then
APPLICATION_PRIVATE_DATA with the host's ``PSVersionTable``, then RUNSPACEPOOL_STATE Opened. No PowerShell
runs here: a pipeline is accepted and answered with an error record saying so, then completes, which is
enough for clients that only open the pool (winact.kms sends WMI requests beside it).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import struct
import time
import typing as t
import uuid

import psrpcore
from psrpcore import types as pstypes

from . import cim, soap, wsman_faults

POWERSHELL_URI_PREFIX = "http://schemas.microsoft.com/powershell/"
CONFIGURATION = "Microsoft.PowerShell"
POWERSHELL_URI = POWERSHELL_URI_PREFIX + CONFIGURATION
NS_POWERSHELL = "http://schemas.microsoft.com/powershell"

SIGNAL_TERMINATE = soap.SHELL + "signal/Terminate"
SIGNAL_CTRL_C = "http://schemas.microsoft.com/powershell/signal/crtl_c"  # PowerShell's own spelling
COMMAND_DONE = soap.SHELL + "CommandState/Done"
XMLNS_RSP = f'xmlns:rsp="{soap.NS_RSP}"'  # the envelope does not declare the shell namespace

POOL_IDLE_SECONDS = 7200.0  # Winrs IdleTimeout of the recorded winrm/config
IDLE_TIMEOUT = "PT7200.000S"
MAX_IDLE_TIMEOUT = "PT2147483.647S"  # as recorded
FRAGMENT_HEADER = struct.Struct(">QQBI")  # ObjectId, FragmentId, flags (start/end), blob length ([MS-PSRP] 2.2.4)
# Room left in a ReceiveResponse for the envelope around the base64 streams.
RECEIVE_OVERHEAD = 2048
REFUSED_PIPELINE = (
    "The emulated host runs no PowerShell: its runspace pool only opens and closes "
    "(winact.kms sends WMI requests over WS-Management beside it)."
)


def serves(resource_uri: str) -> bool:
    return resource_uri.lower().startswith(POWERSHELL_URI_PREFIX)


def version_table(build: int) -> dict[str, t.Any]:
    """The ``PSVersionTable`` Windows PowerShell of this build sends in APPLICATION_PRIVATE_DATA.

    The keys and the 5.1 values follow the recorded Server 2016 answer (PSVersion 5.1.14393.x, CLR
    4.0.30319.42000, WSMan stack 3.0, protocol 2.3, serialization 1.1.0.1).
    """
    # Assumption: builds from 14393 carry Windows PowerShell 5.1.<build>.1 (the revision is the update
    # level, unknown here); 10240-10586 carried 5.0, 2012 R2 (9600) 4.0, 2012 (9200) 3.0, older 2.0.
    if build >= 14393:
        ps_version = f"5.1.{build}.1"
    elif build >= 10240:
        ps_version = f"5.0.{build}.0"
    elif build >= 9600:
        ps_version = "4.0"
    elif build >= 9200:
        ps_version = "3.0"
    else:
        ps_version = "2.0"
    major = int(ps_version.partition(".")[0])
    compatible = [f"{n}.0" for n in range(1, major + 1)] + ([ps_version] if ps_version.count(".") > 1 else [])
    build_version = f"10.0.{build}.1" if build >= 10240 else f"6.{_nt_minor(build)}.{build}.0"
    table = pstypes.PSPrimitiveDictionary(
        {
            "PSVersion": pstypes.PSVersion(ps_version),
            "PSEdition": "Desktop",
            "PSCompatibleVersions": [pstypes.PSVersion(v) for v in compatible],
            "CLRVersion": pstypes.PSVersion("4.0.30319.42000"),
            "BuildVersion": pstypes.PSVersion(build_version),
            "WSManStackVersion": pstypes.PSVersion("3.0"),
            "PSRemotingProtocolVersion": pstypes.PSVersion("2.3"),
            "SerializationVersion": pstypes.PSVersion("1.1.0.1"),
        }
    )
    return {"PSVersionTable": table}


def _nt_minor(build: int) -> int:
    return 3 if build >= 9600 else 2 if build >= 9200 else 1


def split_fragments(data: bytes) -> list[bytes]:
    """Cut a psrpcore payload into its PSRP fragments: Windows sends each in its own ``rsp:Stream``."""
    fragments = []
    offset = 0
    while offset < len(data):
        length = FRAGMENT_HEADER.unpack_from(data, offset)[3]
        end = offset + FRAGMENT_HEADER.size + length
        fragments.append(data[offset:end])
        offset = end
    return fragments


@dataclasses.dataclass
class Pipeline:
    command_id: str
    pipeline: psrpcore.ServerPipeline
    done: bool = False


@dataclasses.dataclass
class Pool:
    """One runspace pool: psrpcore's state machine plus the fragments waiting for a Receive, per target."""

    shell_id: str
    owner: str
    runspace: psrpcore.ServerRunspacePool
    created: float
    input_streams: str
    output_streams: str
    pipelines: dict[str, Pipeline] = dataclasses.field(default_factory=dict)
    outbox: dict[str | None, list[bytes]] = dataclasses.field(default_factory=dict)
    ready: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    closed: bool = False


class RunspacePools:
    """The open runspace pools of one host, by ShellId (which is the pool's RunspacePoolId)."""

    def __init__(self, fqdn: str, *, client_ip: str, build: int) -> None:
        self.fqdn = fqdn
        self.client_ip = client_ip
        self.build = build
        self.pools: dict[str, Pool] = {}

    async def handle(self, request: soap.WsmanRequest, ctx: cim.CallContext, *, address: str) -> bytes:
        """Answer one request on a PowerShell resource URI; ``address`` is the endpoint URL."""
        configuration = request.resource_uri[len(POWERSHELL_URI_PREFIX) :]
        if configuration.lower() != CONFIGURATION.lower():
            # Assumption: an unknown session configuration is a resource the service cannot find (the
            # emulated host has only the default Microsoft.PowerShell configuration).
            raise wsman_faults.resource_not_found(self.fqdn, request.resource_uri)
        if request.action == soap.ACTION_CREATE:
            return self._create(request, ctx, address)
        pool = self._pool(request)
        if request.action == soap.ACTION_DELETE:
            return self._delete(request, pool)
        label = soap.SHELL_ACTIONS.get(request.action)
        if label == "Receive":
            return await self._receive(request, pool)
        if label == "Command":
            return self._command(request, pool)
        if label == "Send":
            return self._send(request, pool)
        if label == "Signal":
            return self._signal(request, pool)
        raise wsman_faults.action_not_supported(self.fqdn, request.action, why="not supported by a PowerShell shell")

    # ----------------------------------------------------------------- Create / Delete

    def _create(self, request: soap.WsmanRequest, ctx: cim.CallContext, address: str) -> bytes:
        if not ctx.is_admin:
            # Assumption: the Microsoft.PowerShell plug-in SDDL of 2012+ admits BUILTIN\Administrators and
            # Remote Management Users; the fleet's accounts know no group but Administrators.
            raise wsman_faults.access_denied(self.fqdn)
        shell = request.body.find(f"{{{soap.NS_RSP}}}Shell")
        creation = None if shell is None else shell.find(f"{{{NS_POWERSHELL}}}creationXml")
        if shell is None or creation is None or not (creation.text or "").strip():
            raise self._bad_request("the Shell element carries no creationXml with the opening PSRP messages")
        now = time.monotonic()
        for stale in [key for key, pool in self.pools.items() if now - pool.created > POOL_IDLE_SECONDS]:
            del self.pools[stale]
        requested = (shell.get("ShellId") or "").strip().upper()
        try:
            shell_id = str(uuid.UUID(requested)).upper() if requested else soap.new_uuid()[5:]
        except ValueError:
            raise self._bad_request(f"ShellId {requested!r} is not a GUID") from None
        if shell_id in self.pools:
            raise self._bad_request(f"a shell with ShellId {shell_id} already exists")
        pool = Pool(
            shell_id=shell_id,
            owner=ctx.user,
            runspace=psrpcore.ServerRunspacePool(application_private_data=version_table(self.build)),
            created=now,
            input_streams=(shell.findtext(f"{{{soap.NS_RSP}}}InputStreams") or "stdin pr").strip(),
            output_streams=(shell.findtext(f"{{{soap.NS_RSP}}}OutputStreams") or "stdout").strip(),
        )
        self._feed(pool, None, _decode(creation.text or "", self.fqdn))
        self.pools[shell_id] = pool
        return soap.render_envelope(
            soap.TRANSFER + "CreateResponse", self._created_body(pool, address), relates_to=request.message_id
        )

    def _created_body(self, pool: Pool, address: str) -> str:
        """The fields a Windows Server 2016 host returned (pypsrp's ``test_psrp_open_runspace.yml``)."""
        x = soap.xml_text
        r = "rsp"
        fields = [
            ("ShellId", pool.shell_id),
            ("ResourceUri", POWERSHELL_URI),
            ("Owner", pool.owner),
            ("ClientIP", self.client_ip),
            # Assumption: a fixed, plausible process id for the wsmprovhost.exe that would host the pool.
            ("ProcessId", "4242"),
            ("IdleTimeOut", IDLE_TIMEOUT),
            ("InputStreams", pool.input_streams),
            ("OutputStreams", pool.output_streams),
            ("MaxIdleTimeOut", MAX_IDLE_TIMEOUT),
            ("Locale", "en-US"),
            ("DataLocale", "en-US"),
            ("CompressionMode", "NoCompression"),
            ("ProfileLoaded", "Yes"),
            ("Encoding", "UTF8"),
            ("BufferMode", "Block"),
            ("State", "Connected"),
            ("ShellRunTime", "P0DT0H0M0S"),
            ("ShellInactivity", "P0DT0H0M0S"),
        ]
        shell = "".join(f"<{r}:{name}>{x(value)}</{r}:{name}>" for name, value in fields)
        return (
            f"<x:ResourceCreated><a:Address>{x(address)}</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{POWERSHELL_URI}</w:ResourceURI><w:SelectorSet>"
            f'<w:Selector Name="ShellId">{pool.shell_id}</w:Selector></w:SelectorSet></a:ReferenceParameters>'
            f'</x:ResourceCreated><{r}:Shell xmlns:{r}="{soap.NS_RSP}">{shell}</{r}:Shell>'
        )

    def _delete(self, request: soap.WsmanRequest, pool: Pool) -> bytes:
        pool.closed = True
        pool.ready.set()  # a Receive waiting on the pool ends
        del self.pools[pool.shell_id]
        return soap.render_envelope(soap.TRANSFER + "DeleteResponse", "", relates_to=request.message_id)

    def _pool(self, request: soap.WsmanRequest) -> Pool:
        selected = (request.selector("ShellId") or "").upper()
        pool = self.pools.get(selected)
        if pool is None:
            message = f"No PowerShell shell with ShellId {selected!r}."
            raise wsman_faults.invalid_selectors(self.fqdn, message, provider=soap.SHELL_PROVIDER)
        return pool

    # ----------------------------------------------------------------- Command / Send / Signal

    def _command(self, request: soap.WsmanRequest, pool: Pool) -> bytes:
        line = request.body.find(f"{{{soap.NS_RSP}}}CommandLine")
        if line is None:
            raise self._bad_request("the Command request has no CommandLine")
        command_id = (line.get("CommandId") or "").strip().upper() or soap.new_uuid()[5:]
        try:
            pipeline_id = uuid.UUID(command_id)
        except ValueError:
            raise self._bad_request(f"CommandId {command_id!r} is not a GUID") from None
        if command_id in pool.pipelines:
            raise self._bad_request(f"a command with CommandId {command_id} already exists")
        pool.pipelines[command_id] = Pipeline(command_id, psrpcore.ServerPipeline(pool.runspace, pipeline_id))
        data = b"".join(_decode(arg.text or "", self.fqdn) for arg in line.findall(f"{{{soap.NS_RSP}}}Arguments"))
        self._feed(pool, command_id, data)
        body = f"<rsp:CommandResponse {XMLNS_RSP}><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
        return soap.render_envelope(soap.SHELL + "CommandResponse", body, relates_to=request.message_id)

    def _send(self, request: soap.WsmanRequest, pool: Pool) -> bytes:
        for stream in request.body.findall(f"{{{soap.NS_RSP}}}Send/{{{soap.NS_RSP}}}Stream"):
            command_id = (stream.get("CommandId") or "").strip().upper() or None
            if command_id is not None and command_id not in pool.pipelines:
                raise self._bad_request(f"no command with CommandId {command_id}")
            self._feed(pool, command_id, _decode(stream.text or "", self.fqdn))
        return soap.render_envelope(
            soap.SHELL + "SendResponse", f"<rsp:SendResponse {XMLNS_RSP}/>", relates_to=request.message_id
        )

    def _signal(self, request: soap.WsmanRequest, pool: Pool) -> bytes:
        signal = request.body.find(f"{{{soap.NS_RSP}}}Signal")
        command_id = ((signal.get("CommandId") if signal is not None else None) or "").strip().upper()
        code = (signal.findtext(f"{{{soap.NS_RSP}}}Code") if signal is not None else None) or ""
        entry = pool.pipelines.get(command_id)
        if entry is None:
            raise self._bad_request(f"no command with CommandId {command_id!r}")
        if code.strip().lower() not in (SIGNAL_TERMINATE.lower(), SIGNAL_CTRL_C.lower()):
            raise self._bad_request(f"signal {code.strip()!r} is not supported by a PowerShell shell")
        # Both end the pipeline: its remaining output is dropped.
        del pool.pipelines[command_id]
        pool.outbox.pop(command_id, None)
        pool.runspace.pipeline_table.pop(entry.pipeline.pipeline_id, None)
        return soap.render_envelope(
            soap.SHELL + "SignalResponse", f"<rsp:SignalResponse {XMLNS_RSP}/>", relates_to=request.message_id
        )

    # ----------------------------------------------------------------- Receive

    async def _receive(self, request: soap.WsmanRequest, pool: Pool) -> bytes:
        desired = request.body.find(f"{{{soap.NS_RSP}}}Receive/{{{soap.NS_RSP}}}DesiredStream")
        command_id = ((desired.get("CommandId") if desired is not None else None) or "").strip().upper() or None
        if command_id is not None and command_id not in pool.pipelines:
            raise self._bad_request(f"no command with CommandId {command_id}")
        timeout = min(request.operation_timeout or soap.MAX_TIMEOUT_SECONDS, soap.MAX_TIMEOUT_SECONDS)
        deadline = asyncio.get_running_loop().time() + timeout
        # Long poll, as WinRS does: answer as soon as there is something to send, else w:TimedOut once
        # OperationTimeout has passed (the fault recorded in pypsrp's test_winrs_operation_timeout.yml).
        while not pool.outbox.get(command_id) and not self._finished(pool, command_id):
            remaining = deadline - asyncio.get_running_loop().time()
            if pool.closed or remaining <= 0:
                raise wsman_faults.timed_out(self.fqdn)
            pool.ready.clear()
            try:
                await asyncio.wait_for(pool.ready.wait(), remaining)
            except TimeoutError:
                raise wsman_faults.timed_out(self.fqdn) from None
        # Assumption: everything waiting goes in one answer (the recorded host sent RUNSPACEPOOL_STATE in a
        # second Receive; pypsrp and psrpcore accept either).
        limit = (request.max_envelope_size or soap.DEFAULT_MAX_ENVELOPE_SIZE) - RECEIVE_OVERHEAD
        streams = self._take(pool, command_id, limit)
        state = ""
        if command_id is not None and self._finished(pool, command_id):
            state = (
                f'<rsp:CommandState CommandId="{command_id}" State="{COMMAND_DONE}">'
                f"<rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState>"
            )
        body = f"<rsp:ReceiveResponse {XMLNS_RSP}>{streams}{state}</rsp:ReceiveResponse>"
        return soap.render_envelope(soap.SHELL + "ReceiveResponse", body, relates_to=request.message_id)

    def _finished(self, pool: Pool, command_id: str | None) -> bool:
        entry = pool.pipelines.get(command_id) if command_id else None
        return entry is not None and entry.done and not pool.outbox.get(command_id)

    def _take(self, pool: Pool, command_id: str | None, limit: int) -> str:
        """Base64 streams of the waiting fragments, as many as fit in ``limit`` bytes (at least one)."""
        queue = pool.outbox.get(command_id, [])
        attribute = f' CommandId="{command_id}"' if command_id else ""
        parts: list[str] = []
        size = 0
        while queue:
            encoded = base64.b64encode(queue[0]).decode("ascii")
            part = f'<rsp:Stream Name="stdout"{attribute}>{encoded}</rsp:Stream>'
            if parts and size + len(part) > limit:
                break
            parts.append(part)
            size += len(part)
            queue.pop(0)
        return "".join(parts)

    # ----------------------------------------------------------------- PSRP messages

    def _feed(self, pool: Pool, command_id: str | None, data: bytes) -> None:
        """Give the client's fragments to psrpcore, react to the complete messages, queue what it answers."""
        runspace = pool.runspace
        pipeline_id = pool.pipelines[command_id].pipeline.pipeline_id if command_id else None
        try:
            runspace.receive_data(psrpcore.PSRPPayload(data, psrpcore.StreamType.default, pipeline_id))
            while (event := runspace.next_event()) is not None:
                self._react(pool, event)
        except Exception as exc:  # noqa: BLE001 - whatever psrpcore cannot parse is the client's malformed data
            raise self._bad_request(f"the PSRP data cannot be processed: {type(exc).__name__}: {exc}") from None
        while (payload := runspace.data_to_send()) is not None:
            target = str(payload.pipeline_id).upper() if payload.pipeline_id else None
            pool.outbox.setdefault(target, []).extend(split_fragments(payload.data))
        pool.ready.set()

    def _react(self, pool: Pool, event: psrpcore.PSRPEvent[t.Any, t.Any]) -> None:
        runspace = pool.runspace
        if isinstance(event, psrpcore.GetAvailableRunspacesEvent):
            runspace.runspace_availability_response(event.ci, runspace.max_runspaces)
        elif isinstance(
            event, psrpcore.SetMaxRunspacesEvent | psrpcore.SetMinRunspacesEvent | psrpcore.ResetRunspaceStateEvent
        ):
            runspace.runspace_availability_response(event.ci, True)
        elif isinstance(event, psrpcore.CreatePipelineEvent | psrpcore.GetCommandMetadataEvent):
            entry = next(p for p in pool.pipelines.values() if p.pipeline.pipeline_id == event.pipeline_id)
            self._refuse(entry)
        # SESSION_CAPABILITY, INIT_RUNSPACEPOOL and the rest are answered by psrpcore itself.

    def _refuse(self, entry: Pipeline) -> None:
        """No PowerShell runs here: the pipeline writes one error record saying so, then completes."""
        # Assumption: a deliberate limit of the emulator, not Windows behaviour; winact.kms runs no pipeline.
        pipeline = entry.pipeline
        pipeline.start()
        pipeline.write_error(
            pstypes.NETException(Message=REFUSED_PIPELINE, HResult=-2146233087),
            pstypes.ErrorCategoryInfo(Category=pstypes.ErrorCategory.NotImplemented, Reason="NotImplementedException"),
            fully_qualified_error_id="WinactEmulatorRunsNoPowerShell",
        )
        pipeline.complete()
        entry.done = True

    def _bad_request(self, why: str) -> soap.SoapFault:
        return bad_request(self.fqdn, why)


def bad_request(fqdn: str, why: str) -> soap.SoapFault:
    # Assumption: a malformed PowerShell shell request gets a w:InternalError fault naming the problem; no
    # recording of Windows' answer is available.
    return wsman_faults.internal_error(fqdn, f"The PowerShell shell request is invalid: {why}.")


def _decode(text: str, fqdn: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(fqdn, "a stream is not valid base64") from None
