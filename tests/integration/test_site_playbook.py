# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own playbooks and roles end to end: site, its idempotent rerun, drift and image_prep."""

from __future__ import annotations

import pathlib
import typing as t

import pytest

from .conftest import FleetRun

PLAYBOOKS = pathlib.Path(__file__).resolve().parents[2] / "playbooks"
CLIENTS = ("srv2022", "srv2019", "w11pro", "w10ent", "w81ent")
# The host has DNS publishing off: clients are pointed at it by name through the role.
SITE_VARS = {"kms_host_dns_publishing": False, "kms_client_server": "kms01.corp.example.com"}


@pytest.fixture(scope="module")
def site(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("site")


@pytest.fixture(scope="module")
def first_run(site: FleetRun) -> t.Any:
    return site.playbook(PLAYBOOKS / "site.yml", extra_vars=SITE_VARS)


def test_site_activates_every_client(site: FleetRun, first_run: t.Any) -> None:
    assert first_run.rc == 0, first_run.output
    report = site.playbook("license_info.yml", limit=",".join(CLIENTS))
    for host, result in report.tasks("Read license info").items():
        product = result.result["windows_product"]
        assert product["license_status_name"] == "Licensed", (host, product)
        assert product["product_key_channel"] == "Volume:GVLK", host
        assert result.result["kms_client"]["registered_name"] == "kms01.corp.example.com", host
    assert site.state("kms01")["kms_host"]["effective"]["dns_publishing"] is False


def test_second_run_changes_nothing_and_writes_nothing(site: FleetRun, first_run: t.Any) -> None:
    assert first_run.rc == 0, first_run.output
    before = site.all_writes()
    again = site.playbook(PLAYBOOKS / "site.yml", extra_vars=SITE_VARS)
    assert again.rc == 0, again.output
    changed = [(r.host, r.task) for r in again.results if r.changed]
    assert changed == []
    assert site.all_writes() == before


def test_drift_playbook_reports_only_the_drift_and_writes_nothing(site: FleetRun, first_run: t.Any) -> None:
    assert first_run.rc == 0, first_run.output
    site.invoke(
        "w11pro",
        "SoftwareLicensingService",
        "SetKeyManagementServiceMachine",
        params={"MachineName": "rogue.example.net"},
    )
    before = site.all_writes()
    drift = site.playbook(PLAYBOOKS / "drift.yml", extra_vars=SITE_VARS)
    assert drift.rc != 0, drift.output  # the drift gate fails on drift
    assert site.all_writes() == before
    changed = [(r.host, r.task) for r in drift.results if r.changed]
    assert changed == [("w11pro", "winact.kms.kms_client : Point the client at its KMS host")]
    diff = next(r for r in drift.results if r.changed).result["diff"]
    assert "rogue.example.net" in str(diff) and "kms01.corp.example.com" in str(diff)
    # The gate fails on the summary, on the controller; the drifted host's own check ran to its end.
    assert [(r.host, r.task) for r in drift.results if r.failed] == [("localhost", "Fail on drift")]
    # The site playbook puts it right again, and the drift check is then clean.
    fixed = site.playbook(PLAYBOOKS / "site.yml", extra_vars=SITE_VARS, limit="w11pro")
    assert [(r.host, r.task) for r in fixed.results if r.changed] == [
        ("w11pro", "winact.kms.kms_client : Point the client at its KMS host")
    ]
    clean = site.playbook(PLAYBOOKS / "drift.yml", extra_vars=SITE_VARS)
    assert clean.rc == 0 and not any(r.changed for r in clean.results)


def test_image_prep_installs_the_gvlk_leaves_skip_rearm_at_0_and_says_ready(site: FleetRun) -> None:
    run = site.playbook(PLAYBOOKS / "image_prep.yml", extra_vars={"winact_image_hosts": "images"})
    assert run.rc == 0, run.output
    state = site.state("image01")
    report = site.playbook("license_info.yml", limit="image01").task("Read license info", "image01").result
    assert report["windows_product"]["product_key_channel"] == "Volume:GVLK"
    assert report["windows_product"]["license_status_name"] != "Licensed"
    spp = state["registry"]["SoftwareProtectionPlatform"]
    assert "SkipRearm" not in spp["values"], spp  # the final generalize resets the licensing state
    verdict = run.task("winact.kms.image_prep : Report the readiness verdict", "image01").result
    assert verdict["msg"] == "Image ready for the final sysprep /generalize", verdict
    before = site.writes("image01")
    again = site.playbook(PLAYBOOKS / "image_prep.yml", extra_vars={"winact_image_hosts": "images"})
    assert again.rc == 0 and not any(r.changed for r in again.results)
    assert site.writes("image01") == before


def test_kms_client_role_keeps_an_activated_mak(site: FleetRun, first_run: t.Any) -> None:
    assert first_run.rc == 0, first_run.output
    kept = first_run.task("winact.kms.kms_client : Install the GVLK of the detected edition", "w10mak")
    assert kept.changed is False and "Volume:MAK key ending in 2VC3F" in kept.result["kept"]
    product = site.playbook("license_info.yml", limit="w10mak").task("Read license info", "w10mak").result
    assert product["windows_product"]["product_key_channel"] == "Volume:MAK"
    assert product["windows_product"]["license_status_name"] == "Licensed"
    assert "QGT6C-D2FR3-CYJCD-VVDKD-2VC3F" not in first_run.output


def test_kms_host_role_check_mode_on_a_future_host(site: FleetRun) -> None:
    before = site.writes("kms02")
    run = site.playbook(
        PLAYBOOKS / "site.yml",
        check=True,
        diff=True,
        limit="kms02",
        extra_vars={"winact_site_kms_hosts": "new_kms_hosts", "kms_host_key": "36JRF-28D3C-4JX72-VQW3W-RPKH8"},
    )
    assert run.rc == 0, run.output
    assert run.task("winact.kms.kms_host : Install the KMS host key", "kms02").changed
    assert run.task("winact.kms.kms_host : Configure the KMS host", "kms02").status == "skipped"
    assert site.writes("kms02") == before
    assert "36JRF-28D3C-4JX72-VQW3W-RPKH8" not in run.output


def test_kms_host_role_renews_a_csvlk_only_on_request(site: FleetRun, first_run: t.Any) -> None:
    assert first_run.rc == 0, first_run.output
    before = site.writes("kms01")
    other = {"kms_host_key": "36JRF-28D3C-4JX72-VQW3W-RPKH8", "kms_host_dns_publishing": False}
    run = site.playbook(PLAYBOOKS / "site.yml", limit="kms01", extra_vars=other)
    failed = run.task("winact.kms.kms_host : Install the KMS host key", "kms01")
    assert failed.failed and "KMS host key (CSVLK) ending in 27HF3" in failed.result["msg"]
    assert "36JRF-28D3C-4JX72-VQW3W-RPKH8" not in run.output
    assert site.writes("kms01") == before and site.state("kms01")["kms_host"]["enabled"] is True
