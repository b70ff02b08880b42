"""The HTTP layer of a host listener: path, method, Basic auth, content type, keep-alive, limits."""

from __future__ import annotations

import http.client
import socket
import ssl
import typing as t
import urllib.parse
from pathlib import Path

import pytest
from winemu_lib import soap

if t.TYPE_CHECKING:
    from .conftest import RunningFleet


def shell_create(fleet: RunningFleet) -> bytes:
    body = (
        "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams>"
        "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>"
    )
    return fleet.envelope(soap.ACTION_CREATE, soap.SHELL_CMD_URI, body)[0]


def port(fleet: RunningFleet, host: str = "ws001") -> int:
    return fleet.endpoint(host).port


def test_each_host_listens_on_its_own_loopback_port(fleet: RunningFleet) -> None:
    urls = [fleet.url("ws001"), fleet.url("ws002")]
    assert len({urllib.parse.urlsplit(url).port for url in urls}) == 2
    assert all(url.startswith("http://127.0.0.1:") and url.endswith("/wsman") for url in urls)
    for host in ("ws001", "ws002"):
        assert fleet.post(fleet.url(host), shell_create(fleet)).status == 200


def test_wrong_password_and_missing_auth_get_401_with_windows_challenges(fleet: RunningFleet) -> None:
    for credentials in (None, ("Administrator", "wrong"), ("nobody", "Winact-2026!")):
        reply = fleet.post(fleet.url(), shell_create(fleet), credentials=credentials)
        assert reply.status == 401
        # A lab host with Basic turned on: Windows offers Negotiate, Kerberos, then Basic.
        assert reply.headers.get_all("WWW-Authenticate") == ["Negotiate", "Kerberos", 'Basic realm="WSMAN"']
        assert reply.body == b""
    assert fleet.endpoint().stats.total == 0  # rejected requests reach no counter


def test_user_names_match_like_windows(fleet: RunningFleet) -> None:
    password = fleet.ADMIN[1]
    for user in ("administrator", "WS001\\Administrator", "Administrator@corp.example.com"):
        assert fleet.post(fleet.url(), shell_create(fleet), credentials=(user, password)).status == 200
    assert fleet.post(fleet.url(), shell_create(fleet), credentials=("Administrator", password.upper())).status == 401


def test_a_malformed_negotiate_token_gets_401(fleet: RunningFleet) -> None:
    reply = fleet.post(
        fleet.url(), shell_create(fleet), credentials=None, headers={"Authorization": "Negotiate TlRMTVNTUAAB"}
    )
    assert reply.status == 401


@pytest.mark.parametrize("path", ["/", "/wsmanx", "/other/wsman", "/WSMAN/extra"])
def test_only_wsman_path_is_served(fleet: RunningFleet, path: str) -> None:
    assert fleet.post(fleet.url(), shell_create(fleet), path=path).status == 404


def test_wsman_path_wants_post(fleet: RunningFleet) -> None:
    reply = fleet.post(fleet.url(), b"", method="GET")
    assert reply.status == 405


def test_content_type_must_be_soap(fleet: RunningFleet) -> None:
    reply = fleet.post(fleet.url(), shell_create(fleet), headers={"Content-Type": "text/xml"})
    assert reply.status == 415
    plain = fleet.post(fleet.url(), shell_create(fleet), headers={"Content-Type": "application/soap+xml"})
    assert plain.status == 200


def test_non_xml_body_is_a_soap_fault(fleet: RunningFleet) -> None:
    reply = fleet.post(fleet.url(), b"hello")
    assert reply.status == 500
    assert reply.headers["Content-Type"] == "application/soap+xml;charset=UTF-8"
    assert reply.subcode == "w:SchemaValidationError"


def test_keep_alive_serves_many_requests_on_one_connection(fleet: RunningFleet) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port(fleet), timeout=30)
    try:
        for _request in range(5):
            reply = fleet.post(fleet.url(), shell_create(fleet), connection=connection)
            assert reply.status == 200
            assert reply.headers.get("Connection") is None
        # an error response keeps the connection usable too
        assert fleet.post(fleet.url(), b"junk", connection=connection).status == 500
        assert fleet.post(fleet.url(), shell_create(fleet), connection=connection).status == 200
    finally:
        connection.close()
    assert fleet.endpoint().stats.total == 7


def test_connection_close_is_honoured(fleet: RunningFleet) -> None:
    reply = fleet.post(fleet.url(), shell_create(fleet), headers={"Connection": "close"})
    assert reply.status == 200 and reply.headers["Connection"] == "close"


def test_oversized_request_gets_413(fleet: RunningFleet) -> None:
    body = b"x" * (soap.DEFAULT_MAX_ENVELOPE_SIZE + 1)
    assert fleet.post(fleet.url(), body).status == 413


def test_server_header_and_content_length(fleet: RunningFleet) -> None:
    reply = fleet.post(fleet.url(), shell_create(fleet))
    assert reply.headers["Server"] == "Microsoft-HTTPAPI/2.0"
    assert int(reply.headers["Content-Length"]) == len(reply.body)


def test_garbage_request_line_gets_400(fleet: RunningFleet) -> None:
    with socket.create_connection(("127.0.0.1", port(fleet)), timeout=10) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        data = sock.recv(4096)
    assert data.startswith(b"HTTP/1.1 400 ")


def test_https_certificate_chains_to_the_fleet_ca(start_fleet: t.Callable[..., RunningFleet], tmp_path: Path) -> None:
    running = start_fleet(1, https=True)
    url = running.url()
    assert url.startswith("https://127.0.0.1:")
    assert running.post(url, shell_create(running)).status == 200
    assert running.server.ca is not None
    from cryptography import x509

    certificate = x509.load_pem_x509_certificate(running.server.certificates["ws001"].cert_pem)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "ws001.corp.example.com" in names.get_values_for_type(x509.DNSName)
    assert certificate.issuer == running.server.ca.certificate.subject
    # Validation on, hostname checked against the address clients connect to: the CA is all it takes.
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(running.server.ca.cert_pem)
    trusted = ssl.create_default_context(cafile=str(ca_file))
    with (
        socket.create_connection(("127.0.0.1", port(running)), timeout=10) as sock,
        trusted.wrap_socket(sock, server_hostname="127.0.0.1") as tls_sock,
    ):
        assert tls_sock.version() in ("TLSv1.2", "TLSv1.3")
    untrusted = ssl.create_default_context()
    with (
        socket.create_connection(("127.0.0.1", port(running)), timeout=10) as sock,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        untrusted.wrap_socket(sock, server_hostname="127.0.0.1")
