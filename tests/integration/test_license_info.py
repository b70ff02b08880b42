# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.license_info end to end: ansible-playbook over WinRM against the emulated fleet."""

from __future__ import annotations

import pathlib
import typing as t

import pytest
import yaml

from .conftest import FleetRun

GVLK_DATA = pathlib.Path(__file__).resolve().parents[1] / "emulator" / "winemu_lib" / "data" / "gvlk.yaml"


@pytest.fixture(scope="module")
def mixed(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("mixed")


@pytest.fixture(scope="module")
def fleet_spec() -> dict[str, dict[str, t.Any]]:
    data = yaml.safe_load((pathlib.Path(__file__).parent / "fleets" / "mixed.yml").read_text())
    return {host["name"]: host for host in data["hosts"]}


def test_reports_every_host(mixed: FleetRun, fleet_spec: dict[str, dict[str, t.Any]]) -> None:
    before = mixed.all_writes()
    run = mixed.playbook("license_info.yml")
    assert run.rc == 0, run.output
    results = run.tasks("Read license info")
    assert set(results) == set(fleet_spec)
    for name, spec in fleet_spec.items():
        report = results[name].result
        assert results[name].changed is False
        assert report["os"]["build_number"] == spec["build"], name
        assert report["os"]["edition_id"] == spec["edition"], name
        state = mixed.state(name)
        assert report["os"]["operating_system_sku"] == state["identity"]["operating_system_sku"], name
    assert mixed.all_writes() == before, "license_info must never write"


def test_gvlk_client_reports_partial_key_and_channel(mixed: FleetRun) -> None:
    gvlks = yaml.safe_load(GVLK_DATA.read_text())["gvlks"]
    srv2022_key = next(r["gvlk"] for r in gvlks if r["edition"] == "Windows Server 2022 Datacenter")
    run = mixed.playbook("license_info.yml", limit="srv2022")
    assert run.rc == 0, run.output
    report = run.task("Read license info", "srv2022").result
    product = report["windows_product"]
    assert product["partial_product_key"] == srv2022_key[-5:]
    assert product["product_key_channel"] == "Volume:GVLK"
    assert "VOLUME_KMSCLIENT" in product["description"]
    assert product["is_kms_host_key"] is False
    assert report["kms_host"] is None
    # Office (another ApplicationID) has a key too on the emulated host: reported next to Windows, not in products.
    assert len(report["products"]) == 1
    office = report["office_products"]
    assert [p["partial_product_key"] for p in office] == ["WFG99"]  # Office 2016 Professional Plus GVLK
    assert "Office" in office[0]["name"] and office[0]["product_key_channel"] == "Volume:GVLK"
    assert srv2022_key not in run.output


def test_kms_host_state(mixed: FleetRun) -> None:
    run = mixed.playbook("license_info.yml", limit="kms01")
    assert run.rc == 0, run.output
    report = run.task("Read license info", "kms01").result
    host = report["kms_host"]
    assert host is not None and host["enabled"] is True
    assert host["listening_port"] == 1688
    assert host["current_count"] >= 25
    assert report["windows_product"]["is_kms_host_key"] is True
    assert report["windows_product"]["license_status_name"] == "Licensed"
    # The CSVLK is a secret: only its last five characters may appear.
    assert "K663C-33TCK-C2GPV-G2F3P-27HF3" not in run.output
    assert report["windows_product"]["partial_product_key"] == "27HF3"


def test_check_mode_reads_the_same(mixed: FleetRun) -> None:
    normal = mixed.playbook("license_info.yml", limit="w11pro")
    checked = mixed.playbook("license_info.yml", limit="w11pro", check=True)
    assert normal.rc == checked.rc == 0, checked.output
    first = normal.task("Read license info", "w11pro").result
    second = checked.task("Read license info", "w11pro").result
    assert first["os"] == second["os"]
    assert first["windows_product"]["partial_product_key"] == second["windows_product"]["partial_product_key"]


def test_wrong_password_is_unreachable_with_clear_message(mixed: FleetRun, tmp_path: pathlib.Path) -> None:
    inventory = yaml.safe_load(mixed.inventory.read_text())
    inventory["all"]["hosts"]["w10edu"]["ansible_password"] = "not-the-password"
    bad = tmp_path / "bad-inventory.yml"
    bad.write_text(yaml.safe_dump(inventory))
    run = mixed.playbook("license_info.yml", limit="w10edu", inventory=bad)
    assert run.rc != 0
    assert "Traceback" not in run.output
    assert "unreachable=1" in run.stdout.replace(" ", "").lower() or "UNREACHABLE" in run.stdout
    assert "not-the-password" not in run.output


@pytest.mark.parametrize(("kind", "words"), [("hostile", "DOCTYPE"), ("malformed", "XML")])
def test_hostile_or_malformed_response_fails_cleanly(mixed: FleetRun, kind: str, words: str) -> None:
    # Request 1 opens the WinRS shell (Ansible's winrm connection); request 2 is the first WMI query.
    mixed.configure("srv2019", **{f"{kind}_at_request": 2})
    run = mixed.playbook("license_info.yml", limit="srv2019")
    mixed.configure("srv2019", **{f"{kind}_at_request": "null"})
    assert run.rc != 0
    result = run.task("Read license info", "srv2019")
    assert result.failed, result.result
    assert words in result.result["msg"], result.result["msg"]
    assert result.result["error"]["wsman"]["type"] == "WSManProtocolError"
    assert "Traceback" not in run.output
