"""Authentication, message encryption, authorisation and Identify of a host with WinRM's Windows defaults."""

from __future__ import annotations

import base64
import http.client
import os
import struct
import typing as t
import urllib.parse

import pytest
import spnego
from pypsrp.shell import WinRS
from pypsrp.wsman import WSMan
from winemu_lib import soap
from winemu_lib.authorization import REMOTE_MANAGEMENT_USERS
from winemu_lib.fleet import Fleet
from winemu_lib.http_auth import ntlm_user_lines
from winemu_lib.winrm_service import WINDOWS_DEFAULTS
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError
from winrm.protocol import Protocol

if t.TYPE_CHECKING:
    from .conftest import RunningFleet

SPNEGO_ENCRYPTED = "application/HTTP-SPNEGO-session-encrypted"
POWERSHELL_URI = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"


@pytest.fixture
def windows(start_fleet: t.Callable[..., RunningFleet]) -> RunningFleet:
    """Two fake hosts with Windows' WinRM defaults (Basic off, AllowUnencrypted false)."""
    from .conftest import Account

    accounts = [
        Account("Administrator", "Winact-2026!", admin=True),
        Account("operator", "Operator-2026!", admin=False),
        Account("remote", "Remote-2026!", admin=False, groups=(REMOTE_MANAGEMENT_USERS,)),
    ]
    return start_fleet(winrm=WINDOWS_DEFAULTS, accounts=accounts)


def ntlm_protocol(
    url: str, credentials: tuple[str, str], encryption: t.Literal["auto", "always", "never"] = "auto"
) -> Protocol:
    return Protocol(
        endpoint=url,
        transport="ntlm",
        username=credentials[0],
        password=credentials[1],
        message_encryption=encryption,
        server_cert_validation="ignore",
    )


# ----------------------------------------------------------------------------- the 401 challenge and Basic


def test_challenge_offers_exactly_the_enabled_schemes(windows: RunningFleet) -> None:
    for credentials in (None, windows.ADMIN):  # Basic credentials get the same answer: Basic is off
        reply = windows.post(windows.url(), b"<x/>", credentials=credentials)
        assert reply.status == 401
        assert reply.headers.get_all("WWW-Authenticate") == ["Negotiate", "Kerberos"]
    assert windows.endpoint().stats.total == 0


def test_winrm_config_reports_the_service_settings(windows: RunningFleet) -> None:
    reply = windows.get(soap.CONFIG_URI, {})
    assert reply.status == 200
    config = {
        name: reply.text(f"s:Body/{{{soap.NS_CFG}}}Config/{{{soap.NS_CFG}}}Service/{path}")
        for name, path in {
            "AllowUnencrypted": f"{{{soap.NS_CFG}}}AllowUnencrypted",
            "Basic": f"{{{soap.NS_CFG}}}Auth/{{{soap.NS_CFG}}}Basic",
            "Negotiate": f"{{{soap.NS_CFG}}}Auth/{{{soap.NS_CFG}}}Negotiate",
            "Kerberos": f"{{{soap.NS_CFG}}}Auth/{{{soap.NS_CFG}}}Kerberos",
            "Certificate": f"{{{soap.NS_CFG}}}Auth/{{{soap.NS_CFG}}}Certificate",
            "CredSSP": f"{{{soap.NS_CFG}}}Auth/{{{soap.NS_CFG}}}CredSSP",
            "CbtHardeningLevel": f"{{{soap.NS_CFG}}}Auth/{{{soap.NS_CFG}}}CbtHardeningLevel",
        }.items()
    }
    assert config == {
        "AllowUnencrypted": "false",
        "Basic": "false",
        "Negotiate": "true",
        "Kerberos": "true",
        "Certificate": "false",
        "CredSSP": "false",
        "CbtHardeningLevel": "Relaxed",
    }


# ----------------------------------------------------------------------------- NTLM and message encryption


def test_pywinrm_ntlm_with_message_encryption(windows: RunningFleet) -> None:
    client = ntlm_protocol(windows.url(), windows.ADMIN)
    client.close_shell(client.open_shell(codepage=65001))
    stats = windows.endpoint().stats_dict()
    assert stats["requests"]["by_action"] == {"Create": 1, "Delete": 1}
    assert stats["authentications"] == {"ntlm": 1}  # one handshake for the connection
    assert os.environ.get("NTLM_USER_FILE") is None  # set only while the acceptor steps


def test_pypsrp_wsman_ntlm_with_message_encryption(windows: RunningFleet) -> None:
    port = urllib.parse.urlsplit(windows.url()).port
    wsman = WSMan(
        "127.0.0.1",
        port=port,
        username="Administrator",
        password="Winact-2026!",
        auth="ntlm",
        ssl=False,
        encryption="always",
        cert_validation=False,
    )
    with wsman, WinRS(wsman) as shell:
        assert shell.id
    assert windows.endpoint().stats_dict()["requests"]["by_action"] == {"Create": 1, "Delete": 1}


def test_unencrypted_body_after_ntlm_is_refused(windows: RunningFleet) -> None:
    client = ntlm_protocol(windows.url(), windows.ADMIN, encryption="never")
    with pytest.raises(WinRMTransportError) as raised:
        client.open_shell()
    assert raised.value.code == 500
    assert windows.endpoint().stats.total == 0 and not windows.endpoint().shells


@pytest.mark.parametrize(
    ("user", "password"), [("Administrator", "wrong"), ("nobody", "Winact-2026!")], ids=["password", "user"]
)
def test_wrong_ntlm_credentials_get_401(windows: RunningFleet, user: str, password: str) -> None:
    with pytest.raises(InvalidCredentialsError):
        ntlm_protocol(windows.url(), (user, password)).open_shell()
    assert windows.endpoint().stats.total == 0


class NtlmConnection:
    """A hand-driven client: NTLM handshake on one keep-alive connection, then framed bodies as given."""

    def __init__(self, url: str, credentials: tuple[str, str]) -> None:
        parts = urllib.parse.urlsplit(url)
        self.path = parts.path
        self.http = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        self.context = spnego.client(credentials[0], credentials[1], protocol="ntlm")
        token = self.context.step()
        status, headers, _body = self.send(
            b"", {"Authorization": f"Negotiate {base64.b64encode(token or b'').decode()}"}
        )
        assert status == 401
        challenge = headers["WWW-Authenticate"].split(" ", 1)[1]
        token = self.context.step(base64.b64decode(challenge))
        status, _headers, _body = self.send(
            b"", {"Authorization": f"Negotiate {base64.b64encode(token or b'').decode()}"}
        )
        assert status == 200 and self.context.complete

    def send(self, body: bytes, headers: t.Mapping[str, str]) -> tuple[int, http.client.HTTPMessage, bytes]:
        self.http.request("POST", self.path, body=body, headers=dict(headers))
        response = self.http.getresponse()
        return response.status, response.headers, response.read()

    def encrypted(self, plaintext: bytes, *, tab: str = "\t", dashes: str = "--") -> tuple[int, bytes]:
        wrapped = self.context.wrap_winrm(plaintext)
        boundary = "Encrypted Boundary"
        body = (
            f"{dashes}{boundary}\r\n{tab}Content-Type: {SPNEGO_ENCRYPTED}\r\n"
            f"{tab}OriginalContent: type=application/soap+xml;charset=UTF-8;Length={len(plaintext)}\r\n"
            f"{dashes}{boundary}\r\n{tab}Content-Type: application/octet-stream\r\n"
        ).encode()
        body += (
            struct.pack("<I", len(wrapped.header))
            + wrapped.header
            + wrapped.data
            + f"{dashes}{boundary}--\r\n".encode()
        )
        content_type = f'multipart/encrypted;protocol="{SPNEGO_ENCRYPTED}";boundary="{boundary}"'
        status, headers, answer = self.send(body, {"Content-Type": content_type})
        if status != 200:
            return status, answer
        assert headers["Content-Type"].startswith("multipart/encrypted;")
        assert f'protocol="{SPNEGO_ENCRYPTED}"' in headers["Content-Type"]
        return status, self.decrypt(answer)

    def decrypt(self, body: bytes) -> bytes:
        head, _sep, rest = body.partition(b"\tContent-Type: application/octet-stream\r\n")
        length = int(head.split(b"Length=")[1].split(b"\r\n")[0])
        payload = rest[: rest.rindex(b"--Encrypted Boundary--\r\n")]
        (size,) = struct.unpack("<I", payload[:4])
        plaintext = self.context.unwrap_winrm(payload[4 : 4 + size], payload[4 + size :])
        assert len(plaintext) == length
        return plaintext


@pytest.mark.parametrize(("tab", "dashes"), [("\t", "--"), ("", "--"), ("\t", "-- ")], ids=["tab", "no-tab", "spaced"])
def test_part_header_variants_clients_send(windows: RunningFleet, tab: str, dashes: str) -> None:
    client = NtlmConnection(windows.url(), windows.ADMIN)
    data, message_id = windows.envelope(soap.ACTION_GET, soap.CONFIG_URI)
    status, answer = client.encrypted(data, tab=tab, dashes=dashes)
    assert status == 200
    assert b"<cfg:AllowUnencrypted>false</cfg:AllowUnencrypted>" in answer and message_id.encode() in answer


def test_a_tampered_encrypted_body_is_refused(windows: RunningFleet) -> None:
    client = NtlmConnection(windows.url(), windows.ADMIN)
    data, _message_id = windows.envelope(soap.ACTION_GET, soap.CONFIG_URI)
    status, _answer = client.encrypted(data)
    assert status == 200  # the unchanged body passes; now flip a byte of the sealed part
    wrapped = client.context.wrap_winrm(data)
    sealed = bytearray(wrapped.data)
    sealed[10] ^= 0xFF
    body = (
        (
            f"--Encrypted Boundary\r\n\tContent-Type: {SPNEGO_ENCRYPTED}\r\n"
            f"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={len(data)}\r\n"
            "--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n"
        ).encode()
        + struct.pack("<I", len(wrapped.header))
        + wrapped.header
        + bytes(sealed)
        + b"--Encrypted Boundary--\r\n"
    )
    content_type = f'multipart/encrypted;protocol="{SPNEGO_ENCRYPTED}";boundary="Encrypted Boundary"'
    status, _headers, _body = client.send(body, {"Content-Type": content_type})
    assert status == 400
    assert windows.endpoint().stats.total == 1  # only the good request reached the WS-Man layer


def test_authentication_belongs_to_the_tcp_connection(windows: RunningFleet) -> None:
    NtlmConnection(windows.url(), windows.ADMIN)
    data, _message_id = windows.envelope(soap.ACTION_GET, soap.CONFIG_URI)
    fresh = windows.post(windows.url(), data, credentials=None)
    assert fresh.status == 401


# ----------------------------------------------------------------------------- authorisation


def test_non_admin_gets_access_denied_on_every_request(windows: RunningFleet) -> None:
    for reply in (
        windows.get(soap.CONFIG_URI, {}, credentials=windows.OPERATOR),
        windows.enumerate("SELECT * FROM Win32_Service", credentials=windows.OPERATOR),
        windows.invoke(
            windows.REG_URI,
            "EnumKey",
            {"hDefKey": windows.HKLM, "sSubKeyName": "software"},
            credentials=windows.OPERATOR,
        ),
    ):
        assert reply.status == 500 and reply.subcode == "w:InternalError" and reply.wsman_code == 0x80070005
    assert windows.endpoint().stats_dict()["requests"]["by_action"] == {"AccessDenied": 3}


def test_remote_management_users_reach_only_the_powershell_endpoint(windows: RunningFleet) -> None:
    remote = ("remote", "Remote-2026!")
    wmi = windows.invoke(
        windows.REG_URI, "EnumKey", {"hDefKey": windows.HKLM, "sSubKeyName": "software"}, credentials=remote
    )
    assert wmi.status == 500 and wmi.wsman_code == 0x80070005
    powershell = windows.wsman(soap.ACTION_CREATE, POWERSHELL_URI, "<rsp:Shell/>", credentials=remote)
    assert powershell.wsman_code != 0x80070005  # past the security descriptor (the runspace answers next)
    denied = windows.wsman(soap.ACTION_CREATE, POWERSHELL_URI, "<rsp:Shell/>", credentials=windows.OPERATOR)
    assert denied.status == 500 and denied.wsman_code == 0x80070005


# ----------------------------------------------------------------------------- Identify

IDENTIFY = (
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    b'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">'
    b"<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>"
)


def test_unauthenticated_identify(windows: RunningFleet) -> None:
    reply = windows.post(windows.url(), IDENTIFY, credentials=None, headers={"WSMANIDENTIFY": "unauthenticated"})
    assert reply.status == 200
    ns = "{http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd}"
    assert reply.text(f"s:Body/{ns}IdentifyResponse/{ns}ProductVendor") == "Microsoft Corporation"
    assert reply.text(f"s:Body/{ns}IdentifyResponse/{ns}ProductVersion") == "OS: 0.0.0 SP: 0.0 Stack: 3.0"
    assert reply.find(f"s:Body/{ns}IdentifyResponse/{ns}SecurityProfiles") is None
    without_header = windows.post(windows.url(), IDENTIFY, credentials=None)
    assert without_header.status == 401


def test_authenticated_identify(windows: RunningFleet) -> None:
    reply = windows.ntlm_post(windows.url(), IDENTIFY)
    ns = "{http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd}"
    assert reply.status == 200
    assert (
        reply.text(f"s:Body/{ns}IdentifyResponse/{ns}ProtocolVersion")
        == "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
    )
    assert reply.text(f"s:Body/{ns}IdentifyResponse/{ns}ProductVersion") == "OS: 10.0.17763 SP: 0.0 Stack: 3.0"
    profiles = [
        p.text for p in reply.findall(f"s:Body/{ns}IdentifyResponse/{ns}SecurityProfiles/{ns}SecurityProfileName")
    ]
    assert profiles == ["http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/spnego-kerberos"]


# ----------------------------------------------------------------------------- per-host accounts and the fleet file

FLEET = {
    "defaults": {
        "domain": "corp.example.com",
        "edition": "ServerStandard",
        "build": 20348,
        "accounts": [{"username": "Administrator", "password": "Winact-2026!", "admin": True}],
    },
    "hosts": [
        {"name": "srv01"},
        {"name": "srv02", "accounts": [{"username": "Administrator", "password": "Other-2026!", "admin": True}]},
    ],
}


def test_each_host_accepts_only_its_own_accounts(start_real_fleet: t.Callable[[Fleet], RunningFleet]) -> None:
    running = start_real_fleet(Fleet.from_dict(FLEET))
    for host, good, bad in (("srv01", "Winact-2026!", "Other-2026!"), ("srv02", "Other-2026!", "Winact-2026!")):
        client = ntlm_protocol(running.url(host), ("Administrator", good))
        client.close_shell(client.open_shell())
        with pytest.raises(InvalidCredentialsError):
            ntlm_protocol(running.url(host), ("Administrator", bad)).open_shell()


def test_ntlm_user_file_lines_cover_the_domain_forms() -> None:
    from .conftest import Account

    names = [
        line.split(":")[0]
        for line in ntlm_user_lines([Account("Administrator", "p:w", True)], "srv01.corp.example.com")
    ]
    assert set(names) == {
        "Administrator",
        "CORP\\Administrator",
        "CORP.EXAMPLE.COM\\Administrator",
        "SRV01\\Administrator",
        ".\\Administrator",
        "Administrator@corp.example.com",
    }


@pytest.mark.parametrize(
    ("winrm", "message"),
    [
        ({"auth": {"credssp": True}}, "winrm.auth.credssp: is not emulated"),
        ({"auth": {"digest": True}}, "unknown scheme 'digest'"),
        ({"allow_unencrypted": "yes"}, "winrm.allow_unencrypted: must be true or false"),
        ({"cbt_hardening_level": "loose"}, "winrm.cbt_hardening_level: must be one of none, relaxed, strict"),
        ({"basic": True}, "unknown key(s) basic"),
    ],
)
def test_fleet_file_winrm_settings_are_checked(winrm: dict[str, t.Any], message: str) -> None:
    data = {**FLEET, "hosts": [{"name": "srv01", "winrm": winrm}]}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Fleet.from_dict(data)


def test_fleet_file_winrm_defaults_and_lab_basic() -> None:
    data = {
        **FLEET,
        "hosts": [{"name": "srv01"}, {"name": "lab01", "winrm": {"auth": {"basic": True}, "allow_unencrypted": True}}],
    }
    fleet = Fleet.from_dict(data)
    assert fleet.hosts["srv01"].winrm == WINDOWS_DEFAULTS
    lab = fleet.hosts["lab01"].winrm
    assert lab.basic and lab.negotiate and lab.kerberos and lab.allow_unencrypted
    assert lab.challenge() == [
        ("WWW-Authenticate", "Negotiate"),
        ("WWW-Authenticate", "Kerberos"),
        ("WWW-Authenticate", 'Basic realm="WSMAN"'),
    ]
