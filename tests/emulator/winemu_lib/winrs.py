"""WinRS shells of one host: Create and Delete, what Ansible's winrm connection does around every task.

No command ever runs: Command, Send, Receive and Signal are refused, except in the fleet benchmark's
bench-only mode (:attr:`WinrsShells.canned_stdout`), where every command "runs" at once and prints one canned
text, so that the ``ansible.windows`` baseline's wire and controller cost can be measured. That mode is not
Windows behaviour: nothing is executed and the host's state does not change.
"""

from __future__ import annotations

import base64
import dataclasses
import time

from . import cim, soap, wsman_faults

SHELL_IDLE_SECONDS = 7200.0  # Winrs IdleTimeout of the default winrm/config: unclosed shells go away
SHELL_IDLE_TIMEOUT = "PT7200.000S"


@dataclasses.dataclass
class Shell:
    shell_id: str
    owner: str
    resource_uri: str
    created: float


class WinrsShells:
    """The open shells of one host, by ShellId."""

    def __init__(self, fqdn: str, *, client_ip: str) -> None:
        self.fqdn = fqdn
        self.client_ip = client_ip  # every client of the emulator is on the loopback interface
        self.shells: dict[str, Shell] = {}
        # Bench-only (tests/benchmarks/fleet_cost.py): when set, every command prints this on stdout and exits 0.
        self.canned_stdout: bytes | None = None

    def handle(self, request: soap.WsmanRequest, ctx: cim.CallContext, *, address: str) -> bytes:
        """A request to the cmd shell resource URI; ``address`` is the endpoint URL a created shell reports."""
        if request.action == soap.ACTION_CREATE:
            return self._create(request, ctx, address)
        if request.action == soap.ACTION_DELETE:
            return self._delete(request)
        if request.action in soap.SHELL_ACTIONS and self.canned_stdout is not None:
            return self._canned(request, soap.SHELL_ACTIONS[request.action], self.canned_stdout)
        if request.action in soap.SHELL_ACTIONS:
            label = soap.SHELL_ACTIONS[request.action]
            raise wsman_faults.action_not_supported(
                self.fqdn, request.action, why=f"not supported by the emulator (WinRS {label} runs no commands)"
            )
        raise wsman_faults.action_not_supported(self.fqdn, request.action, why="not supported by the emulator")

    def _canned(self, request: soap.WsmanRequest, label: str, stdout: bytes) -> bytes:
        """Bench-only: Command starts nothing, Send takes the input, Receive returns ``stdout`` with exit code 0.

        The envelopes have the shapes [MS-WSMV] 3.1.4.11-3.1.4.14 give for CommandResponse, SendResponse,
        ReceiveResponse and SignalResponse; what the command prints is canned, not what Windows would print.
        """
        shell_id = (request.selector("ShellId") or "").upper()
        if shell_id not in self.shells:
            message = f"No shell with ShellId {shell_id!r}."
            raise wsman_faults.invalid_selectors(self.fqdn, message, provider=soap.SHELL_PROVIDER)
        rsp = f'xmlns:rsp="{soap.NS_RSP}"'
        if label == "Command":
            command_id = soap.new_uuid()[5:]
            body = f"<rsp:CommandResponse {rsp}><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
        elif label == "Receive":
            found = request.body.find(f".//{{{soap.NS_RSP}}}DesiredStream")
            command_id = soap.xml_text((found.get("CommandId") if found is not None else None) or "")
            out = base64.b64encode(stdout).decode("ascii")
            done = soap.SHELL + "CommandState/Done"
            body = (
                f'<rsp:ReceiveResponse {rsp}><rsp:Stream Name="stdout" CommandId="{command_id}">{out}</rsp:Stream>'
                f'<rsp:Stream Name="stdout" CommandId="{command_id}" End="true"></rsp:Stream>'
                f'<rsp:Stream Name="stderr" CommandId="{command_id}" End="true"></rsp:Stream>'
                f'<rsp:CommandState CommandId="{command_id}" State="{done}"><rsp:ExitCode>0</rsp:ExitCode>'
                "</rsp:CommandState></rsp:ReceiveResponse>"
            )
        else:  # Send, Signal
            body = f"<rsp:{label}Response {rsp}/>"
        return soap.render_envelope(soap.SHELL + f"{label}Response", body, relates_to=request.message_id)

    def _create(self, request: soap.WsmanRequest, ctx: cim.CallContext, address: str) -> bytes:
        if not ctx.is_admin:
            # Assumption: WinRS uses RootSDDL, which grants only BUILTIN\Administrators over the network
            # (a recorded winrm/config has (A;;GA;;;BA)(A;;GR;;;IU)), so a non-admin account cannot open a shell.
            raise wsman_faults.access_denied(self.fqdn)
        now = time.monotonic()
        for stale in [key for key, shell in self.shells.items() if now - shell.created > SHELL_IDLE_SECONDS]:
            del self.shells[stale]
        shell_id = soap.new_uuid()[5:]
        self.shells[shell_id] = Shell(shell_id, ctx.user, request.resource_uri, now)
        return soap.render_envelope(
            soap.TRANSFER + "CreateResponse",
            self._created_body(request, shell_id, ctx.user, address),
            relates_to=request.message_id,
        )

    def _delete(self, request: soap.WsmanRequest) -> bytes:
        selected = (request.selector("ShellId") or "").upper()
        if selected not in self.shells:
            message = f"No shell with ShellId {selected!r}."
            raise wsman_faults.invalid_selectors(self.fqdn, message, provider=soap.SHELL_PROVIDER)
        del self.shells[selected]
        return soap.render_envelope(soap.TRANSFER + "DeleteResponse", "", relates_to=request.message_id)

    def _created_body(self, request: soap.WsmanRequest, shell_id: str, owner: str, address: str) -> str:
        shell = request.body.find(f"{{{soap.NS_RSP}}}Shell")
        streams_in = (shell.findtext(f"{{{soap.NS_RSP}}}InputStreams") if shell is not None else None) or "stdin"
        streams_out = (
            shell.findtext(f"{{{soap.NS_RSP}}}OutputStreams") if shell is not None else None
        ) or "stdout stderr"
        x = soap.xml_text
        return (
            f"<x:ResourceCreated><a:Address>{x(address)}</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{soap.SHELL_CMD_URI}</w:ResourceURI><w:SelectorSet>"
            f'<w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet></a:ReferenceParameters>'
            f'</x:ResourceCreated><rsp:Shell xmlns:rsp="{soap.NS_RSP}"><rsp:ShellId>{shell_id}</rsp:ShellId>'
            f"<rsp:ResourceUri>{soap.SHELL_CMD_URI}</rsp:ResourceUri><rsp:Owner>{x(owner)}</rsp:Owner>"
            f"<rsp:ClientIP>{x(self.client_ip)}</rsp:ClientIP><rsp:IdleTimeOut>{SHELL_IDLE_TIMEOUT}</rsp:IdleTimeOut>"
            f"<rsp:InputStreams>{x(streams_in)}</rsp:InputStreams>"
            f"<rsp:OutputStreams>{x(streams_out)}</rsp:OutputStreams>"
            f"<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity>"
            f"</rsp:Shell>"
        )
