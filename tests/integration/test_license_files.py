# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.license_file and winact.kms.token_license end to end over WinRM: check, apply, idempotent, refused."""

from __future__ import annotations

import codecs
import pathlib
import typing as t

import pytest
import yaml

from .conftest import FleetRun

LICENSE_TASK = "License file"
TOKEN_TASK = "Token licenses"
CORP_ILID = "8c1a0c4f-3a6b-4f5e-9d2a-6b7c1e0f2a3b"
LAB_ILID = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
# A made-up XrML license document (a real one carries Microsoft's signature).
LICENSE = (
    '<?xml version="1.0" encoding="utf-8"?><rg:licenseGroup xmlns:rg="urn:mpeg:mpeg21:2003:01-REL-R-NS">'
    '<r:license xmlns:r="urn:mpeg:mpeg21:2003:01-REL-R-NS" licenseId="{5a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d}">'
    "<r:title>Corp token issuance license &amp; test</r:title></r:license></rg:licenseGroup>"
)


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("licensing")


def install(fleet: FleetRun, host: str, *, check: bool = False, **options: t.Any) -> t.Any:
    return fleet.playbook(
        "license_file.yml",
        limit=host,
        check=check,
        diff=True,
        extra_vars={f"license_{k}": v for k, v in options.items()},
    )


def tokens(fleet: FleetRun, host: str, *, check: bool = False, **options: t.Any) -> t.Any:
    return fleet.playbook(
        "token_license.yml",
        limit=host,
        check=check,
        diff=True,
        extra_vars={f"token_{k}": v for k, v in options.items()},
    )


def installed(fleet: FleetRun, host: str) -> list[str]:
    return list(fleet.state(host)["licensing"]["installed_licenses"])


def test_license_file_check_install_idempotent_force(fleet: FleetRun, tmp_path: pathlib.Path) -> None:
    host = "member01"
    writes = fleet.writes(host)
    checked = install(fleet, host, check=True, content=LICENSE).task(LICENSE_TASK, host).result
    assert checked["changed"] is True and checked["recorded"] is False
    assert checked["diff"]["before"] == {"license_sha256": None}
    assert fleet.writes(host) == writes, "check mode must not write"
    assert installed(fleet, host) == []

    applied = install(fleet, host, content=LICENSE).task(LICENSE_TASK, host).result
    assert applied["changed"] is True and applied["recorded"] is True
    assert installed(fleet, host) == [applied["sha256"]]

    # The same license from a UTF-16 file on the controller (as slmgr /ilc reads it) is the same license.
    path = tmp_path / "corp.xrm-ms"
    path.write_bytes(codecs.BOM_UTF16_LE + LICENSE.encode("utf-16-le"))
    writes = fleet.writes(host)
    again = install(fleet, host, src=str(path)).task(LICENSE_TASK, host).result
    assert again["changed"] is False and again["sha256"] == applied["sha256"] and again["source"] == str(path)
    assert fleet.writes(host) == writes

    forced = install(fleet, host, content=LICENSE, force=True).task(LICENSE_TASK, host).result
    assert forced["changed"] is True
    assert fleet.writes(host) == writes + 1, "a forced reinstall calls InstallLicense once and records nothing new"


def test_license_file_refusals(fleet: FleetRun, tmp_path: pathlib.Path) -> None:
    host = "member01"
    fleet.winemu("reset-stats", host)
    missing = install(fleet, host, src=str(tmp_path / "absent.xrm-ms")).task(LICENSE_TASK, host)
    assert missing.failed and missing.result["msg"].startswith("src:") and "not found" in missing.result["msg"]
    binary = tmp_path / "binary.xrm-ms"
    binary.write_bytes(b"\xff\xfe\xff\x00\xd8")
    wrong = install(fleet, host, src=str(binary)).task(LICENSE_TASK, host)
    assert wrong.failed and wrong.result["msg"].startswith("src:")
    assert fleet.stats(host)["requests"]["total"] == 0

    # A standard user without UserOperations: Windows refuses InstallLicense, explained.
    inventory = yaml.safe_load(fleet.inventory.read_text())
    inventory["all"]["hosts"][host].update(ansible_user="operator", ansible_password="Operator-2026!")
    as_user = tmp_path / "inventory.yml"
    as_user.write_text(yaml.safe_dump(inventory))
    run = fleet.playbook(
        "license_file.yml", limit=host, inventory=as_user, extra_vars={"license_content": LICENSE.replace("test", "x")}
    )
    denied = run.task(LICENSE_TASK, host)
    assert denied.failed and denied.result["error"]["hresult"] == "0x80070005", denied.result
    assert "Administrators" in denied.result["msg"]


def test_token_licenses_listed_then_removed(fleet: FleetRun) -> None:
    host = "tokens01"
    writes = fleet.writes(host)
    listed = tokens(fleet, host).task(TOKEN_TASK, host).result
    assert listed["changed"] is False and listed["removed"] == []
    rows = {(lic["ilid"], lic["ilvid"]): lic for lic in listed["licenses"]}
    assert set(rows) == {(CORP_ILID, 1), (CORP_ILID, 2), (LAB_ILID, 1)}
    assert rows[(CORP_ILID, 1)]["description"] == "Corp token IL"
    assert rows[(CORP_ILID, 1)]["expiration_date"].startswith("2030-06-30")
    assert rows[(CORP_ILID, 2)]["expiration_date"] is None

    checked = tokens(fleet, host, check=True, state="absent", ilid=CORP_ILID.upper(), ilvid=1).task(TOKEN_TASK, host)
    assert checked.changed and [(r["ilid"], r["ilvid"]) for r in checked.result["removed"]] == [(CORP_ILID, 1)]
    assert checked.result["diff"]["after"]["token_licenses"] == [f"{CORP_ILID} version 2", f"{LAB_ILID} version 1"]
    assert fleet.writes(host) == writes, "check mode must not write"

    removed = tokens(fleet, host, state="absent", ilid="{" + CORP_ILID + "}", ilvid=1).task(TOKEN_TASK, host)
    assert removed.changed
    left = [(t["ilid"], t["ilvid"]) for t in fleet.state(host)["licensing"]["token_licenses"]]
    assert left == [(CORP_ILID, 2), (LAB_ILID, 1)]

    writes = fleet.writes(host)
    again = tokens(fleet, host, state="absent", ilid=CORP_ILID, ilvid=1).task(TOKEN_TASK, host)
    assert again.changed is False and fleet.writes(host) == writes

    # Without a version, every version of the ILID goes.
    every = tokens(fleet, host, state="absent", ilid=CORP_ILID).task(TOKEN_TASK, host).result
    assert [r["ilvid"] for r in every["removed"]] == [2]
    assert [(lic["ilid"], lic["ilvid"]) for lic in every["licenses"]] == [(LAB_ILID, 1)]


def test_token_license_needs_an_administrator(fleet: FleetRun, tmp_path: pathlib.Path) -> None:
    host = "tokens01"
    inventory = yaml.safe_load(fleet.inventory.read_text())
    inventory["all"]["hosts"][host].update(ansible_user="operator", ansible_password="Operator-2026!")
    as_user = tmp_path / "inventory.yml"
    as_user.write_text(yaml.safe_dump(inventory))
    writes = fleet.writes(host)
    run = fleet.playbook(
        "token_license.yml",
        limit=host,
        inventory=as_user,
        extra_vars={"token_state": "absent", "token_ilid": LAB_ILID},
    )
    denied = run.task(TOKEN_TASK, host)
    assert denied.failed and denied.result["error"]["hresult"] == "0x80070005", denied.result
    assert fleet.writes(host) == writes
    assert [t["ilid"] for t in fleet.state(host)["licensing"]["token_licenses"]] == [LAB_ILID]
