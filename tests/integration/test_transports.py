# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module over each way of connecting: psrp (HTTP), winrm over HTTPS and psrp over HTTPS, both with
the certificate validated against the fleet's CA; and the certificate and psrp failures a user meets.

The transport options (authentication, message encryption, scheme, certificate validation, CA path) all come
from the inventory ``winemu serve`` writes, in both the winrm and the psrp spelling; a test only switches
``ansible_connection`` to ``psrp`` where it runs over psrp.
"""

from __future__ import annotations

import typing as t

import certifi
import pytest

from .conftest import FleetRun, PlaybookRun

PSRP = {"ansible_connection": "psrp"}
# A trust store without the fleet's CA: the public CAs requests ships, what a controller trusts by default.
PUBLIC_CAS = certifi.where()
WRITES = ("KMS host settings", "Product key", "KMS client", "Activation policy", "Time source", "Activate")


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("transports")


def check_every_module(fleet: FleetRun, run: PlaybookRun, kms: str, client: str) -> None:
    assert run.rc == 0, run.output
    assert run.task("KMS host settings", kms).changed
    assert run.task("License info before", client).result["windows_product"] is None  # no key yet
    for name in WRITES[1:]:
        assert run.task(name, client).changed, name
    assert run.task("Activate", client).result["license_status_name"] == "Licensed"
    state = fleet.state(client)
    assert state["licensing"]["service"]["KeyManagementServiceMachine"] == f"{kms}.corp.example.com"
    ntp = state["registry"]["W32Time"]["subkeys"]["Parameters"]["values"]["NtpServer"]["data"]
    assert ntp.startswith("time.corp.example.com")
    assert fleet.state(kms)["kms_host"]["configured"]["low_priority"] is True
    for host in (kms, client):
        assert fleet.stats(host)["shells_open"] == 0, f"{host}: the connection left a shell or runspace pool open"


def test_every_module_over_psrp(fleet: FleetRun) -> None:
    run = fleet.playbook("every_module.yml", extra_vars={"target": "psrp_http", **PSRP})
    check_every_module(fleet, run, "kmspsrp", "pcpsrp")
    by_action = fleet.stats("pcpsrp")["requests"]["by_action"]
    # WMI-only tasks open no runspace pool (Create, its opening Receive, Delete) and no cmd shell.
    assert not {"Create", "Delete", "Receive", "Command"} & set(by_action), by_action


def test_every_module_over_https_with_validation(fleet: FleetRun) -> None:
    run = fleet.playbook("every_module.yml", extra_vars={"target": "winrm_https"})
    check_every_module(fleet, run, "kmshttps", "pchttps")
    by_action = fleet.stats("pchttps")["requests"]["by_action"]
    # WMI-only tasks open no WinRS shell: the connection's own Protocol, without its Create and Delete.
    assert not {"Create", "Delete", "Command", "Receive"} & set(by_action), by_action


def test_every_module_over_psrp_and_https_with_validation(fleet: FleetRun) -> None:
    run = fleet.playbook("every_module.yml", extra_vars={"target": "psrp_https", **PSRP})
    check_every_module(fleet, run, "kmspsrps", "pcpsrps")


@pytest.mark.parametrize(
    ("connection", "trust", "fix"),
    [
        ({}, {"ansible_winrm_ca_trust_path": PUBLIC_CAS}, "ansible_winrm_server_cert_validation: ignore"),
        (PSRP, {"ansible_psrp_ca_cert": PUBLIC_CAS}, "ansible_psrp_cert_validation: ignore"),
    ],
    ids=["winrm", "psrp"],
)
def test_untrusted_certificate_fails_clearly(
    fleet: FleetRun, connection: dict[str, str], trust: dict[str, str], fix: str
) -> None:
    before = fleet.stats("kmshttps")["requests"]["total"]
    run = fleet.playbook("license_info.yml", limit="kmshttps", extra_vars={**connection, **trust})
    assert run.rc != 0
    result = run.task("Read license info", "kmshttps")
    assert result.status == "unreachable", result.result
    message = result.result["msg"]
    assert "TLS certificate is not trusted" in message
    assert next(iter(trust)) in message and fix in message
    assert "Traceback" not in run.output
    assert fleet.stats("kmshttps")["requests"]["total"] == before  # nothing reached WinRM


def test_validation_turned_off_accepts_the_untrusted_certificate(fleet: FleetRun) -> None:
    extra = {
        "ansible_winrm_ca_trust_path": PUBLIC_CAS,
        "ansible_winrm_server_cert_validation": "ignore",
        "ansible_psrp_ca_cert": PUBLIC_CAS,
        "ansible_psrp_cert_validation": "ignore",
    }
    assert fleet.playbook("license_info.yml", limit="kmshttps", extra_vars=extra).rc == 0
    assert fleet.playbook("license_info.yml", limit="kmshttps", extra_vars={**extra, **PSRP}).rc == 0


def test_psrp_basic_asked_to_encrypt_fails_clearly(fleet: FleetRun) -> None:
    extra = {**PSRP, "ansible_psrp_auth": "basic", "ansible_psrp_protocol": "http"}
    run = fleet.playbook(
        "license_info.yml", limit="kmspsrp", extra_vars={**extra, "ansible_psrp_message_encryption": "auto"}
    )
    result = run.task("Read license info", "kmspsrp")
    assert result.status == "unreachable", result.result
    message = result.result["msg"]
    assert message.startswith("cannot open the psrp connection: Basic authentication cannot encrypt messages")
    assert "ansible_psrp_protocol: https" in message and "Traceback" not in run.output
