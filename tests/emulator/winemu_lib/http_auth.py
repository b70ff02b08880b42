"""WinRM HTTP authentication of one emulated host: Basic, Negotiate (NTLM or Kerberos) and Kerberos.

Negotiate and Kerberos are connection-based, as with Windows' HTTP.sys: the handshake runs over one TCP
connection and the context it establishes authenticates (and, over HTTP, seals) every later request on that
connection. NTLM, raw or inside SPNEGO, is accepted by pyspnego (``spnego.server``), whose NTLM acceptor reads
the accounts from the file named by the ``NTLM_USER_FILE`` environment variable; one emulator process serves
many hosts with different accounts, so each host has its own file and the variable points at it only while
that host's context is created or stepped (under a lock: the variable is process-wide). Kerberos is accepted
by python-gssapi with the keytab of ``KRB5_KTNAME`` (one for the fleet, holding every host's ``HTTP/`` and
``WSMAN/`` service principals); a ticket for another host's principal is refused, as that host's key could
not decrypt it on Windows.
"""

from __future__ import annotations

import base64
import binascii
import collections.abc
import contextlib
import dataclasses
import os
import threading
import typing as t

import spnego
from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1  # the NT hash pyspnego itself compares with

from .winrm_service import WinrmService


class AccountLike(t.Protocol):
    @property
    def username(self) -> str: ...

    @property
    def password(self) -> str: ...

    @property
    def admin(self) -> bool: ...

    @property
    def groups(self) -> t.Sequence[str]: ...


@dataclasses.dataclass
class ConnectionAuth:
    """The authentication state of one TCP connection."""

    scheme: str = ""  # "Negotiate" or "Kerberos" while or after a handshake
    context: t.Any = None  # the pyspnego acceptor context
    account: AccountLike | None = None
    mechanism: str = ""  # "ntlm", "kerberos" once complete

    @property
    def sealer(self) -> ContextSealer | None:
        if self.account is None or self.context is None:
            return None
        return ContextSealer(self.context)


class ContextSealer:
    """pyspnego's WinRM wrapping as :class:`message_encryption.Sealer`."""

    def __init__(self, context: t.Any) -> None:
        self._context = context

    def seal(self, data: bytes) -> tuple[bytes, bytes]:
        result = self._context.wrap_winrm(data)
        return bytes(result.header), bytes(result.data)

    def unseal(self, header: bytes, data: bytes) -> bytes:
        return bytes(self._context.unwrap_winrm(header, data))


@dataclasses.dataclass
class AuthStep:
    """The outcome of one Authorization header: authenticated, or a 401 carrying ``challenge``."""

    account: AccountLike | None
    challenge: list[tuple[str, str]]
    reason: str = ""


_USER_FILE_LOCK = threading.Lock()


@contextlib.contextmanager
def _ntlm_user_file(path: str) -> collections.abc.Iterator[None]:
    with _USER_FILE_LOCK:
        previous = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = path
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("NTLM_USER_FILE", None)
            else:
                os.environ["NTLM_USER_FILE"] = previous


def short_name(principal: str) -> str:
    """``DOMAIN\\user``, ``user@domain`` and ``user@REALM`` all name the account ``user``."""
    return principal.rpartition("\\")[2].partition("@")[0].lower()


def ntlm_user_lines(accounts: t.Iterable[AccountLike], fqdn: str) -> list[str]:
    """The host's accounts in smbpasswd form (hashes, so any password character is allowed)."""
    # Assumption: the emulated accounts answer to every domain form a client may send: none, the NetBIOS
    # domain, the DNS domain, the computer name, ".", and user@domain (the emulator has one account list per
    # host, no domain controller).
    host, _dot, domain = fqdn.partition(".")
    prefixes = {"", domain.split(".")[0].upper(), domain.upper(), host.upper(), "."}
    lines: list[str] = []
    for account in accounts:
        lm = lmowfv1(account.password).hex().upper()
        nt = ntowfv1(account.password).hex().upper()
        names = [f"{p}\\{account.username}" if p else account.username for p in sorted(prefixes)]
        names.append(f"{account.username}@{domain}")
        lines.extend(f"{name}:0:{lm}:{nt}:[U]:LCT-00000000" for name in names)
    return lines


# DER of the GSS-API mechanism OIDs a Negotiate token may start with (RFC 2743 InitialContextToken framing).
_KRB5_OIDS = (bytes.fromhex("06092a864886f712010202"), bytes.fromhex("06092a864882f712010202"))  # krb5, MS krb5
_NTLM_SIGNATURE = b"NTLMSSP\x00"


def is_kerberos_token(token: bytes) -> bool:
    """A raw Kerberos token, or a SPNEGO token that carries no NTLM message (MIT's acceptor handles SPNEGO).

    pywinrm sends raw Kerberos tokens under ``Negotiate``; NTLM, raw or inside SPNEGO, goes to pyspnego.
    """
    if token.startswith(_NTLM_SIGNATURE) or _NTLM_SIGNATURE in token:
        return False
    return token[:1] == b"\x60" and any(oid in token[:32] for oid in _KRB5_OIDS + (bytes.fromhex("06062b0601050502"),))


class KerberosContext:
    """A Kerberos acceptor with python-gssapi and the host's keytab (``KRB5_KTNAME``), shaped like the pyspnego
    contexts (``step``, ``complete``, ``client_principal``, ``wrap_winrm``/``unwrap_winrm``).

    WinRM seals Kerberos messages with ``gss_wrap_iov`` (header, data, padding): the header is the RFC 4121
    token that [MS-WSMV] 2.2.9.1.1.2.2 puts before the sealed data.
    """

    negotiated_protocol = "kerberos"

    def __init__(self, fqdn: str) -> None:
        import gssapi  # only Kerberos needs it (built against MIT Kerberos)

        self.fqdn = fqdn.lower()
        self._context = gssapi.SecurityContext(creds=gssapi.Credentials(usage="accept"), usage="accept")

    def for_this_host(self) -> bool:
        """Whether the ticket names one of this host's service principals (``HTTP/<fqdn>``, ``WSMAN/<fqdn>``)."""
        service = str(self._context.target_name or "").lower().partition("@")[0]
        return service.partition("/")[2] == self.fqdn

    @property
    def complete(self) -> bool:
        return bool(self._context.complete)

    @property
    def client_principal(self) -> str:
        return str(self._context.initiator_name)

    def step(self, token: bytes) -> bytes | None:
        out = self._context.step(token)
        return bytes(out) if out else None

    def wrap_winrm(self, data: bytes) -> t.Any:
        from gssapi.raw import IOV, IOVBufferType, wrap_iov

        iov = IOV(IOVBufferType.header, data, IOVBufferType.padding, std_layout=False)
        wrap_iov(self._context, iov, confidential=True)
        header, sealed, padding = (buffer.value or b"" for buffer in iov)
        return _Wrapped(bytes(header), bytes(sealed) + bytes(padding))

    def unwrap_winrm(self, header: bytes, data: bytes) -> bytes:
        from gssapi.raw import IOV, IOVBufferType, unwrap_iov

        iov = IOV((IOVBufferType.header, False, header), data, IOVBufferType.data, std_layout=False)
        unwrap_iov(self._context, iov)
        return bytes(iov[1].value or b"")


@dataclasses.dataclass
class _Wrapped:
    header: bytes
    data: bytes


class HostAuthenticator:
    """Authenticates requests to one host according to its WinRM service settings."""

    def __init__(
        self, fqdn: str, accounts: t.Sequence[AccountLike], service: WinrmService, user_file: str, https: bool
    ) -> None:
        self.fqdn = fqdn
        self.accounts = accounts
        self.service = service
        self.user_file = user_file
        self.https = https

    def account(self, username: str, password: str | None = None) -> AccountLike | None:
        """Match like Windows: user names case-insensitively, with or without a domain part."""
        # Assumption: DOMAIN\user and user@domain name the same local account; the emulator has no domains
        # of accounts, only one account list per host.
        short = short_name(username)
        for account in self.accounts:
            if account.username.lower() == short and (password is None or account.password == password):
                return account
        return None

    def refused(self, reason: str) -> AuthStep:
        return AuthStep(None, self.service.challenge(), reason)

    def step(self, header: str, state: ConnectionAuth) -> AuthStep:
        scheme, _space, value = header.strip().partition(" ")
        lowered = scheme.lower()
        if lowered == "basic":
            return self._basic(value)
        if lowered == "negotiate" and self.service.negotiate:
            return self._security_step("Negotiate", "negotiate", value, state)
        if lowered == "kerberos" and self.service.kerberos:
            return self._security_step("Kerberos", "kerberos", value, state)
        return self.refused(f"the {scheme or 'empty'} scheme is not enabled")

    def _basic(self, value: str) -> AuthStep:
        if not self.service.basic:
            return self.refused("Basic authentication is disabled")
        if not self.https and not self.service.allow_unencrypted:
            # Assumption: with AllowUnencrypted false Windows refuses Basic over plain HTTP with 401, as
            # clients report it (the credentials would cross the network in clear text).
            return self.refused("Basic over HTTP needs AllowUnencrypted")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return self.refused("malformed Basic credentials")
        username, sep, password = decoded.partition(":")
        account = self.account(username, password) if sep else None
        return AuthStep(account, [] if account else self.service.challenge(), "" if account else "bad credentials")

    def _security_step(self, scheme: str, protocol: str, value: str, state: ConnectionAuth) -> AuthStep:
        try:
            token = base64.b64decode(value.strip(), validate=True)
        except binascii.Error:
            return self.refused("malformed token")
        with _ntlm_user_file(self.user_file):
            try:
                if state.context is None or state.context.complete or state.scheme != scheme:
                    # A new handshake (also a re-authentication on the same connection) starts a new context.
                    state.scheme, state.account, state.mechanism = scheme, None, ""
                    if protocol == "kerberos" or is_kerberos_token(token):
                        state.context = KerberosContext(self.fqdn)
                    else:
                        state.context = spnego.server(hostname=self.fqdn, service="HTTP", protocol=protocol)
                out = state.context.step(token)
            except Exception as exc:  # pyspnego raises its own errors, struct.error, ValueError on a bad token
                state.context, state.scheme = None, ""
                return self.refused(f"{scheme} handshake failed: {exc}")
        header = [("WWW-Authenticate", f"{scheme} {base64.b64encode(out).decode()}")] if out else []
        if not state.context.complete:
            return AuthStep(None, header, "handshake continues")
        if isinstance(state.context, KerberosContext) and not state.context.for_this_host():
            state.context, state.scheme = None, ""
            return self.refused("the Kerberos ticket is for another host's service principal")
        account = self.account(str(state.context.client_principal or ""))
        if account is None:
            state.context, state.scheme = None, ""
            return self.refused("the authenticated principal has no account on the host")
        state.account = account
        state.mechanism = "ntlm" if str(state.context.negotiated_protocol) == "ntlm" else "kerberos"
        return AuthStep(account, header)
