"""WinRS shells of one host: Create and Delete, what Ansible's winrm connection does around every task.

No command ever runs: Command, Send, Receive and Signal are refused.
"""

from __future__ import annotations

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

    def handle(self, request: soap.WsmanRequest, ctx: cim.CallContext, *, address: str) -> bytes:
        """A request to the cmd shell resource URI; ``address`` is the endpoint URL a created shell reports."""
        if request.action == soap.ACTION_CREATE:
            return self._create(request, ctx, address)
        if request.action == soap.ACTION_DELETE:
            return self._delete(request)
        if request.action in soap.SHELL_ACTIONS:
            label = soap.SHELL_ACTIONS[request.action]
            raise wsman_faults.action_not_supported(
                self.fqdn, request.action, why=f"not supported by the emulator (WinRS {label} runs no commands)"
            )
        raise wsman_faults.action_not_supported(self.fqdn, request.action, why="not supported by the emulator")

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
