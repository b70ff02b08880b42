"""Kerberos against the emulator: a throw-away MIT KDC, pywinrm with pykerberos, message encryption."""

from __future__ import annotations

import collections.abc
import typing as t
from pathlib import Path

import pytest
from winemu_lib import kdc as test_kdc
from winemu_lib.fleet import Fleet
from winrm.exceptions import InvalidCredentialsError
from winrm.protocol import Protocol

if t.TYPE_CHECKING:
    from .conftest import RunningFleet

PASSWORD = "Winact-2026!"
FLEET = {
    "defaults": {
        "domain": "corp.example.com",
        "edition": "ServerStandard",
        "build": 20348,
        "accounts": [
            {"username": "Administrator", "password": PASSWORD, "admin": True},
            {"username": "operator", "password": "Operator-2026!", "admin": False},
        ],
    },
    "hosts": [
        {"name": "srv01"},
        {"name": "srv02"},
        {"name": "lab01", "winrm": {"auth": {"negotiate": False, "kerberos": False, "basic": True}}},
    ],
}


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> collections.abc.Iterator[test_kdc.LocalKdc]:
    if not test_kdc.available():
        pytest.fail("MIT Kerberos is missing: `make krb5-deps` installs krb5-kdc, krb5-admin-server, krb5-user")
    server = test_kdc.LocalKdc(tmp_path_factory.mktemp("kdc"), domains=["corp.example.com"])
    hosts = [f"{host['name']}.corp.example.com" for host in FLEET["hosts"]]  # type: ignore[index]
    server.start({"Administrator": PASSWORD, "operator": "Operator-2026!"}, hosts)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in server.server_env().items():  # the emulator runs in this process
            patch.setenv(name, value)
        yield server
    server.stop()


@pytest.fixture
def fleet(
    realm: test_kdc.LocalKdc, start_real_fleet: t.Callable[[Fleet], RunningFleet]
) -> collections.abc.Iterator[RunningFleet]:
    yield start_real_fleet(Fleet.from_dict(FLEET))


def ticket(realm: test_kdc.LocalKdc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: str, password: str) -> None:
    cache = tmp_path / f"ccache-{user}"
    result = realm.kinit(f"{user}@{realm.realm}", password, cache)
    assert result.returncode == 0, result.stderr
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{cache}")


def kerberos(url: str, user: str, host: str) -> Protocol:
    return Protocol(
        endpoint=url,
        transport="kerberos",
        username=f"{user}@CORP.EXAMPLE.COM",
        message_encryption="auto",
        server_cert_validation="ignore",
        kerberos_hostname_override=host,
    )


def test_pywinrm_kerberos_with_message_encryption(
    fleet: RunningFleet, realm: test_kdc.LocalKdc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket(realm, tmp_path, monkeypatch, "Administrator", PASSWORD)
    client = kerberos(fleet.url("srv01"), "Administrator", "srv01.corp.example.com")
    client.close_shell(client.open_shell())
    stats = fleet.endpoint("srv01").stats_dict()
    assert stats["requests"]["by_action"] == {"Create": 1, "Delete": 1}
    assert stats["authentications"] == {"kerberos": 1}


def test_a_ticket_for_another_host_is_refused(
    fleet: RunningFleet, realm: test_kdc.LocalKdc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket(realm, tmp_path, monkeypatch, "Administrator", PASSWORD)
    with pytest.raises(InvalidCredentialsError):
        kerberos(fleet.url("srv01"), "Administrator", "srv02.corp.example.com").open_shell()
    assert fleet.endpoint("srv01").stats.total == 0


def test_kerberos_non_admin_is_refused_after_authenticating(
    fleet: RunningFleet, realm: test_kdc.LocalKdc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket(realm, tmp_path, monkeypatch, "operator", "Operator-2026!")
    with pytest.raises(Exception, match="Access is denied"):
        kerberos(fleet.url("srv01"), "operator", "srv01.corp.example.com").open_shell()
    assert fleet.endpoint("srv01").stats_dict()["authentications"] == {"kerberos": 1}


def test_a_host_with_kerberos_and_negotiate_off_refuses_kerberos(
    fleet: RunningFleet, realm: test_kdc.LocalKdc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket(realm, tmp_path, monkeypatch, "Administrator", PASSWORD)
    reply = fleet.post(fleet.url("lab01"), b"<x/>", credentials=None)
    assert reply.headers.get_all("WWW-Authenticate") == ['Basic realm="WSMAN"']
    with pytest.raises(InvalidCredentialsError):
        kerberos(fleet.url("lab01"), "Administrator", "lab01.corp.example.com").open_shell()
