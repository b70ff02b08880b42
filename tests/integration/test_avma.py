# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AVMA end to end: product_key key=avma (check, apply, idempotent), activation on the Hyper-V host, the host
fields in license_info, and the explained failures (unsupported host, community-only key), over WinRM."""

from __future__ import annotations

import typing as t

import pytest

from .conftest import FleetRun

PK = "Product key"


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("avma")


def avma(fleet: FleetRun, host: str, *, check: bool = False) -> t.Any:
    return fleet.playbook("product_key.yml", limit=host, check=check, diff=True, extra_vars={"pk_key": "avma"})


def test_avma_key_installs_activates_and_reports_the_host(fleet: FleetRun) -> None:
    host = "guest22"
    writes = fleet.writes(host)
    checked = avma(fleet, host, check=True)
    result = checked.task(PK, host).result
    assert result["changed"] is True and result["key_source"] == "avma"
    assert result["partial_product_key"] == "DV9BG"  # Microsoft's Server 2022 Datacenter AVMA key
    assert fleet.writes(host) == writes, "check mode must not write"

    applied = avma(fleet, host)
    result = applied.task(PK, host).result
    assert result["changed"] is True
    assert "VIRTUAL_MACHINE_ACTIVATION" in result["product"]["description"]
    writes = fleet.writes(host)
    assert avma(fleet, host).task(PK, host).result["changed"] is False
    assert fleet.writes(host) == writes

    activated = fleet.playbook("activate.yml", limit=host)
    assert activated.rc == 0, activated.output
    info = fleet.playbook("license_info.yml", limit=host)
    product = info.task("Read license info", host).result["windows_product"]
    assert product["license_status_name"] == "Licensed"
    assert product["avma"]["host_machine_name"] == "hv01.corp.example.com"
    assert product["avma"]["last_activation_time"] and product["avma"]["host_digital_pid2"]


def test_an_older_host_is_refused_with_the_explained_code(fleet: FleetRun) -> None:
    host = "guest22std"
    assert avma(fleet, host).task(PK, host).result["partial_product_key"] == "78VHK"
    failed = fleet.playbook("activate.yml", limit=host, extra_vars={"act_retries": 0})
    result = failed.task("Activate", host)
    assert result.failed and "0xC004FD01" in result.result["msg"], result.result
    assert "Hyper-V" in result.result["msg"]


def test_community_only_keys_are_never_picked(fleet: FleetRun) -> None:
    host = "guest25"
    writes = fleet.writes(host)
    result = avma(fleet, host).task(PK, host)
    assert result.failed and "only a community source lists one" in result.result["msg"]
    assert fleet.writes(host) == writes
