# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.phone_activation end to end: installation ID, wrong CID, check, deposit, idempotent, over WinRM."""

from __future__ import annotations

import typing as t

import pytest

from .conftest import FleetRun

TASK = "Phone activation"
MAK_TAIL = "2VC3F"


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("offline")


def phone(fleet: FleetRun, host: str, *, check: bool = False, **options: t.Any) -> t.Any:
    return fleet.playbook(
        "phone_activation.yml",
        limit=host,
        check=check,
        diff=True,
        extra_vars={f"phone_{k}": v for k, v in options.items()},
    )


def windows_product(fleet: FleetRun, host: str) -> dict[str, t.Any]:
    return next(p for p in fleet.state(host)["licensing"]["products"] if p["partial_product_key"])


def grouped(digits: str) -> str:
    return "-".join(digits[i : i + 6] for i in range(0, len(digits), 6))


def test_wrong_then_right_confirmation_id(fleet: FleetRun) -> None:
    host = "airgap01"
    writes = fleet.writes(host)
    read = phone(fleet, host)
    result = read.task(TASK, host).result
    assert result["changed"] is False and result["activated"] is False
    iid = result["installation_id"]
    assert iid and iid.isdigit(), result
    assert result["license_status"] == "OOBGrace"
    assert fleet.writes(host) == writes

    wrong = phone(fleet, host, confirmation_id=grouped("1" * 48))
    failure = wrong.task(TASK, host)
    assert failure.failed
    assert "0xC004F02C" in failure.result["msg"] and "confirmation ID" in failure.result["msg"]
    assert failure.result["error"]["hresult"] == "0xC004F02C"
    assert failure.result["installation_id"] == iid, "the IID goes with the failure, to ask again"
    assert MAK_TAIL not in wrong.output.replace("XXXXX-XXXXX-XXXXX-XXXXX-" + MAK_TAIL, "")
    assert windows_product(fleet, host)["license_status"] != 1

    cid = grouped(windows_product(fleet, host)["phone_confirmation_id"])
    writes = fleet.writes(host)
    checked = phone(fleet, host, check=True, confirmation_id=cid)
    result = checked.task(TASK, host).result
    assert result["changed"] is True
    assert result["diff"] == {
        "before": {"license_status": "OOBGrace"},
        "after": {"license_status": "Licensed"},
    }
    assert fleet.writes(host) == writes, "check mode must not write"

    applied = phone(fleet, host, confirmation_id=cid)
    result = applied.task(TASK, host).result
    assert result["changed"] is True and result["activated"] is True and result["license_status"] == "Licensed"
    assert windows_product(fleet, host)["license_status"] == 1

    writes = fleet.writes(host)
    again = phone(fleet, host, confirmation_id=cid)
    assert again.task(TASK, host).result["changed"] is False
    assert fleet.writes(host) == writes


def test_kms_client_and_bad_input_are_refused(fleet: FleetRun) -> None:
    host = "kmsclient01"
    writes = fleet.writes(host)
    refused = phone(fleet, host, confirmation_id="123456")
    result = refused.task(TASK, host)
    assert result.failed and "activates against a KMS host" in result.result["msg"]
    assert fleet.writes(host) == writes

    fleet.winemu("reset-stats", host)
    bad = phone(fleet, host, confirmation_id="12345A-123456")
    result = bad.task(TASK, host)
    assert result.failed and result.result["msg"].startswith("confirmation_id: must be the digits")
    assert fleet.stats(host)["requests"]["total"] == 0
