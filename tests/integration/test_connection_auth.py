# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the collection connects to hosts with WinRM's Windows defaults, and how it says why it cannot.

Every module over NTLM and over Kerberos, both with HTTP message encryption (a test MIT KDC serves the
realm); Basic on a lab host that turned it on; and each way a connection is refused (wrong password,
unknown account, Basic disabled, unencrypted traffic, a non-administrator, Kerberos failures) with its
own message and no write on the host.
"""

from __future__ import annotations

import collections.abc
import pathlib
import sys
import typing as t

import pytest
import yaml

from ansible_collections.winact.kms.tests.integration.conftest import FLEETS, FleetRun, PlaybookRun

EMULATOR = pathlib.Path(__file__).resolve().parents[1] / "emulator"
if str(EMULATOR) not in sys.path:
    sys.path.insert(0, str(EMULATOR))

from winemu_lib import kdc as test_kdc  # noqa: E402

REALM = test_kdc.DEFAULT_REALM
MATRIX_HOSTS = "kms01,srv01"
EVERY_MODULE_TASKS = (
    "Configure KMS host",
    "Time source",
    "Product key",
    "Configure KMS client",
    "Set activation policy",
    "Activate",
    "Read license info",
)


@pytest.fixture(scope="module")
def kdc(tmp_path_factory: pytest.TempPathFactory) -> collections.abc.Iterator[test_kdc.LocalKdc]:
    if not test_kdc.available():
        pytest.fail("MIT Kerberos is missing: `make krb5-deps` installs krb5-kdc, krb5-admin-server, krb5-user")
    fleet_file = yaml.safe_load((FLEETS / "auth.yml").read_text())
    domain = fleet_file["defaults"]["domain"]
    users = {account["username"]: account["password"] for account in fleet_file["defaults"]["accounts"]}
    server = test_kdc.LocalKdc(tmp_path_factory.mktemp("kdc"), domains=[domain])
    server.start(users, [f"{host['name']}.{domain}" for host in fleet_file["hosts"]])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fleet(kdc: test_kdc.LocalKdc, tmp_path_factory: pytest.TempPathFactory) -> collections.abc.Iterator[FleetRun]:
    run = FleetRun(FLEETS / "auth.yml", tmp_path_factory.mktemp("auth"), env=kdc.server_env())
    run.start()
    yield run
    run.stop()


def inventory_with(fleet: FleetRun, path: pathlib.Path, **changes: t.Any) -> pathlib.Path:
    """The fleet's inventory with ``changes`` applied to every host (None removes a variable)."""
    data = yaml.safe_load(fleet.inventory.read_text())
    for host_vars in data["all"]["hosts"].values():
        for key, value in changes.items():
            if value is None:
                host_vars.pop(key, None)
            else:
                host_vars[key] = value
    path.write_text(yaml.safe_dump(data))
    return path


def kerberos_inventory(fleet: FleetRun, kdc: test_kdc.LocalKdc, path: pathlib.Path, **changes: t.Any) -> pathlib.Path:
    """What a user writes for Kerberos: a realm principal, and the host's FQDN for the service principal
    (the emulated hosts all listen on 127.0.0.1). The test realm's kinit wrapper stands in for the
    system's /etc/krb5.conf, which Ansible's managed kinit would read."""
    data = yaml.safe_load(fleet.inventory.read_text())
    data["all"]["vars"]["ansible_winrm_transport"] = "kerberos"
    data["all"]["vars"]["ansible_winrm_kinit_cmd"] = kdc.kinit_command()
    for host_vars in data["all"]["hosts"].values():
        host_vars["ansible_user"] = f"Administrator@{REALM}"
        host_vars["ansible_winrm_kerberos_hostname_override"] = host_vars["winemu_fqdn"]
        host_vars.update(changes)
    path.write_text(yaml.safe_dump(data))
    return path


def assert_every_module_ran(run: PlaybookRun) -> None:
    assert run.rc == 0, run.output
    for task in EVERY_MODULE_TASKS:
        results = run.tasks(task)
        assert results, f"{task} did not run"
        for host, result in results.items():
            assert result.status == "ok", (task, host, result.result.get("msg"))


def kms_client_write(fleet: FleetRun, inventory: pathlib.Path, host: str = "srv01") -> PlaybookRun:
    """A task that would write: every refused connection must leave the host untouched."""
    return fleet.playbook("kms_client.yml", limit=host, inventory=inventory, extra_vars={"kms_server": "x.example"})


# ----------------------------------------------------------------------------- the matrix


def test_every_module_over_ntlm_with_message_encryption(fleet: FleetRun) -> None:
    data = yaml.safe_load(fleet.inventory.read_text())
    assert data["all"]["vars"]["ansible_winrm_transport"] == "ntlm"
    assert data["all"]["vars"]["ansible_winrm_message_encryption"] == "auto"
    fleet.winemu("reset-stats")
    assert_every_module_ran(fleet.playbook("every_module_auth_matrix.yml", limit=MATRIX_HOSTS))
    for host in MATRIX_HOSTS.split(","):
        assert set(fleet.stats(host)["authentications"]) == {"ntlm"}


def test_every_module_over_kerberos_with_message_encryption(
    fleet: FleetRun, kdc: test_kdc.LocalKdc, tmp_path: pathlib.Path
) -> None:
    inventory = kerberos_inventory(fleet, kdc, tmp_path / "kerberos.yml")
    fleet.winemu("reset-stats")
    run = fleet.playbook("every_module_auth_matrix.yml", limit=MATRIX_HOSTS, inventory=inventory)
    assert_every_module_ran(run)
    for host in MATRIX_HOSTS.split(","):
        assert set(fleet.stats(host)["authentications"]) == {"kerberos"}
    assert "Winact-2026!" not in run.output


def test_basic_on_a_lab_host_that_turned_it_on(fleet: FleetRun, tmp_path: pathlib.Path) -> None:
    inventory = inventory_with(
        fleet, tmp_path / "inv.yml", ansible_winrm_transport="basic", ansible_winrm_message_encryption="never"
    )
    fleet.winemu("reset-stats", "lab01")
    run = fleet.playbook("license_info.yml", limit="lab01", inventory=inventory)
    assert run.rc == 0, run.output
    assert set(fleet.stats("lab01")["authentications"]) == {"basic"}


# ----------------------------------------------------------------------------- refusals


def refused(fleet: FleetRun, run: PlaybookRun, status: str = "unreachable") -> str:
    result = run.task("Configure KMS client", "srv01")
    assert result.status == status, result.result
    assert fleet.writes("srv01") == 0
    return str(result.result["msg"])


@pytest.fixture
def untouched(fleet: FleetRun) -> None:
    fleet.winemu("reset-stats", "srv01")


@pytest.mark.usefixtures("untouched")
@pytest.mark.parametrize(
    ("user", "password"), [("Administrator", "Wrong-2026!"), ("nobody", "Winact-2026!")], ids=["password", "user"]
)
def test_wrong_credentials(fleet: FleetRun, tmp_path: pathlib.Path, user: str, password: str) -> None:
    inventory = inventory_with(fleet, tmp_path / "inv.yml", ansible_user=user, ansible_password=password)
    msg = refused(fleet, kms_client_write(fleet, inventory))
    assert "winrm (ntlm)" in msg and "rejected the credentials (HTTP 401)" in msg
    assert "wrong user name or password" in msg
    assert "Administrators" not in msg and "not accept" not in msg


@pytest.mark.usefixtures("untouched")
def test_basic_is_refused_by_a_windows_default_host(fleet: FleetRun, tmp_path: pathlib.Path) -> None:
    inventory = inventory_with(
        fleet, tmp_path / "inv.yml", ansible_winrm_transport="basic", ansible_winrm_message_encryption="never"
    )
    msg = refused(fleet, kms_client_write(fleet, inventory))
    assert "winrm (basic)" in msg and "does not accept Basic authentication" in msg and "Auth/Basic" in msg
    assert "Negotiate, Kerberos" in msg
    assert "wrong user name" not in msg


@pytest.mark.usefixtures("untouched")
def test_unencrypted_messages_are_refused(fleet: FleetRun, tmp_path: pathlib.Path) -> None:
    inventory = inventory_with(fleet, tmp_path / "inv.yml", ansible_winrm_message_encryption="never")
    msg = refused(fleet, kms_client_write(fleet, inventory))
    assert "winrm (ntlm)" in msg and "refused an unencrypted message (HTTP 500)" in msg
    assert "AllowUnencrypted" in msg


@pytest.mark.usefixtures("untouched")
def test_a_non_administrator_is_refused_by_the_host(fleet: FleetRun, tmp_path: pathlib.Path) -> None:
    inventory = inventory_with(fleet, tmp_path / "inv.yml", ansible_user="operator", ansible_password="Operator-2026!")
    run = kms_client_write(fleet, inventory)
    msg = refused(fleet, run, status="failed")
    assert "'operator'" in msg and "Administrators" in msg
    assert run.task("Configure KMS client", "srv01").result["error"]["hresult"] == "0x80070005"


@pytest.mark.usefixtures("untouched")
def test_kerberos_wrong_password(fleet: FleetRun, kdc: test_kdc.LocalKdc, tmp_path: pathlib.Path) -> None:
    inventory = kerberos_inventory(fleet, kdc, tmp_path / "inv.yml", ansible_password="Wrong-2026!")
    run = kms_client_write(fleet, inventory)
    msg = refused(fleet, run)
    assert "winrm (kerberos)" in msg and "kinit was refused: wrong password" in msg
    assert "Wrong-2026!" not in run.output


@pytest.mark.usefixtures("untouched")
def test_kerberos_without_the_hosts_service_principal(
    fleet: FleetRun, kdc: test_kdc.LocalKdc, tmp_path: pathlib.Path
) -> None:
    # Without the override the client asks for HTTP/127.0.0.1, which no KDC knows.
    inventory = kerberos_inventory(
        fleet, kdc, tmp_path / "inv.yml", ansible_winrm_kerberos_hostname_override="127.0.0.1"
    )
    msg = refused(fleet, kms_client_write(fleet, inventory))
    assert "winrm (kerberos)" in msg and "no service principal" in msg
