# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows 7's SoftwareLicensingService/Product lack the properties later builds added, and WMI refuses a select
naming one: every module works end to end on a Windows 7 host and reports those fields as null."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winact.kms.tests.integration.conftest import FleetRun

HOST = "w7"
KMS = "kms01.corp.example.com"  # a KMS host whose count is above the client threshold


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("office")


def test_windows7_key_kms_client_activation_and_report(fleet: FleetRun) -> None:
    key = fleet.playbook("product_key.yml", limit=HOST)
    assert key.rc == 0, key.output
    assert key.task("Product key", HOST).result["changed"] is False  # the edition's GVLK is installed

    client = fleet.playbook("kms_client.yml", limit=HOST, extra_vars={"kms_server": KMS})
    assert client.rc == 0, client.output
    again = fleet.playbook("kms_client.yml", limit=HOST, extra_vars={"kms_server": KMS})
    assert again.task("Configure KMS client", HOST).result["changed"] is False

    activated = fleet.playbook("activate.yml", limit=HOST)
    assert activated.rc == 0, activated.output

    info = fleet.playbook("license_info.yml", limit=HOST)
    assert info.rc == 0, info.output
    result = info.task("Read license info", HOST).result
    product = result["windows_product"]
    assert product["license_status_name"] == "Licensed"
    # Properties Windows 7 does not have are reported as null, not guessed.
    assert product["ad_activation"] is None
    assert result["kms_client"]["token_activation_only"] is False
    assert result["kms_client"]["lookup_domain"] is None and result["kms_client"]["discovered_ip"] is None
    assert result["kms_client"]["registered_name"] == KMS and result["kms_client"]["registered_port"] == 1688


def test_windows7_activation_type_token_then_all(fleet: FleetRun) -> None:
    task = "Configure KMS client"
    token = fleet.playbook("kms_client.yml", limit=HOST, extra_vars={"kms_activation_type": "token"})
    assert token.rc == 0, token.output
    assert token.task(task, HOST).result["settings"]["activation_type"] == "token"
    again = fleet.playbook("kms_client.yml", limit=HOST, extra_vars={"kms_activation_type": "token"})
    assert again.task(task, HOST).result["changed"] is False
    cleared = fleet.playbook("kms_client.yml", limit=HOST, extra_vars={"kms_activation_type": "all"})
    assert cleared.rc == 0, cleared.output
    assert cleared.task(task, HOST).result["settings"]["activation_type"] == "all"


def test_windows7_port_is_read_from_the_product(fleet: FleetRun) -> None:
    """Windows 7's SoftwareLicensingService has no KeyManagementServicePort; the product reports it."""
    task = "Configure KMS client"
    port = fleet.playbook("kms_client.yml", limit=HOST, diff=True, extra_vars={"kms_port": 1689})
    assert port.rc == 0, port.output
    assert port.task(task, HOST).result["changed"] is True
    again = fleet.playbook("kms_client.yml", limit=HOST, extra_vars={"kms_port": 1689})
    assert again.task(task, HOST).result["changed"] is False
    info = fleet.playbook("license_info.yml", limit=HOST).task("Read license info", HOST).result
    assert info["kms_client"]["registered_port"] == 1689
    reset = fleet.playbook("kms_client.yml", limit=HOST, extra_vars={"kms_port": 1688})
    assert reset.rc == 0, reset.output
