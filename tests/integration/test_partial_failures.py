# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A connection lost part-way through a change: the task fails saying what was applied; a rerun converges.

The emulator drops the connection at the first request after a given WMI method has run.
"""

from __future__ import annotations

import typing as t

import pytest

from .conftest import FleetRun

OFFICE_ID = "d450596f-894d-49e0-966a-fd39ed4c4c64"  # the emulated Office 16 ProPlus KMS client product


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("mixed")


def drop_after(fleet: FleetRun, host: str, method: str, playbook: str, extra_vars: dict[str, t.Any]) -> t.Any:
    fleet.configure(host, drop_after_method=method)
    try:
        return fleet.playbook(playbook, limit=host, extra_vars=extra_vars)
    finally:
        fleet.configure(host, drop_after_method="null")


def test_kms_client_reports_what_was_applied_and_converges(fleet: FleetRun) -> None:
    options = {"kms_server": "kms01.corp.example.com", "kms_port": 1700}
    method = "SoftwareLicensingService.SetKeyManagementServiceMachine"
    run = drop_after(fleet, "w10edu", method, "kms_client.yml", options)
    result = run.task("Configure KMS client", "w10edu")
    assert result.failed, result.result
    assert result.result["changed"] is True
    assert result.result["applied"] == ["server"]
    assert "already applied" in result.result["msg"]
    assert "Traceback" not in run.output

    rerun = fleet.playbook("kms_client.yml", limit="w10edu", extra_vars=options)
    again = rerun.task("Configure KMS client", "w10edu")
    assert rerun.rc == 0 and again.changed and again.result["changes"] == ["port"]
    final = fleet.playbook("kms_client.yml", limit="w10edu", extra_vars=options).task("Configure KMS client", "w10edu")
    assert final.changed is False


def test_product_key_reports_the_install_when_the_connection_drops_after_it(fleet: FleetRun) -> None:
    mak = "QGT6C-D2FR3-CYJCD-VVDKD-2VC3F"
    method = "SoftwareLicensingService.InstallProductKey"
    run = drop_after(fleet, "w11ent", method, "product_key.yml", {"pk_key": mak})
    result = run.task("Product key", "w11ent")
    assert result.failed, "a change was made: this is a failure to report, not an unreachable host"
    assert result.result["changed"] is True
    assert result.result["applied"] == ["InstallProductKey XXXXX-XXXXX-XXXXX-XXXXX-2VC3F"]
    assert mak not in run.output

    rerun = fleet.playbook("product_key.yml", limit="w11ent", extra_vars={"pk_key": mak})
    assert rerun.rc == 0, rerun.output
    assert rerun.task("Product key", "w11ent").result["partial_product_key"] == "2VC3F"


def test_license_info_reports_any_product_by_id(fleet: FleetRun) -> None:
    run = fleet.playbook("license_info_product.yml", limit="srv2016", extra_vars={"product_id": OFFICE_ID.upper()})
    assert run.rc == 0, run.output
    report = run.task("Read one product", "srv2016").result
    assert [p["id"] for p in report["products"]] == [OFFICE_ID]
    assert "Office" in report["products"][0]["name"]
    assert report["windows_product"]["license_family"] == "ServerStandard"


@pytest.mark.parametrize(
    ("product_id", "message"),
    [("not-a-guid", "activation_id: 'not-a-guid' is not a GUID"), ("00000000-0000-0000-0000-000000000001", "no Soft")],
)
def test_license_info_refuses_an_unknown_or_malformed_id(fleet: FleetRun, product_id: str, message: str) -> None:
    run = fleet.playbook("license_info_product.yml", limit="srv2016", extra_vars={"product_id": product_id})
    result = run.task("Read one product", "srv2016")
    assert result.failed and message in result.result["msg"], result.result
