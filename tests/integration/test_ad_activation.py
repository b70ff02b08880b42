# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AD-based activation (winact.kms.ad_activation, license_info's activation object) and Windows 7's token-only flag
(kms_client activation_type) end to end over WinRM: check, apply, idempotent, explained failure."""

from __future__ import annotations

import typing as t

import pytest

from .conftest import FleetRun

TASK = "AD-based activation"
CSVLK = "HJ3QW-7VRCX-DM2KG-PT8BY-4MT8D"
MAK = "QGT6C-D2FR3-CYJCD-VVDKD-2VC3F"
CONTAINER = "CN=Activation Objects,CN=Microsoft SPP,CN=Services,CN=Configuration"


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("licensing")


def adba(fleet: FleetRun, host: str, *, check: bool = False, **options: t.Any) -> t.Any:
    return fleet.playbook(
        "ad_activation.yml", limit=host, check=check, diff=True, extra_vars={f"adba_{k}": v for k, v in options.items()}
    )


def windows(fleet: FleetRun, host: str) -> dict[str, t.Any]:
    return next(p for p in fleet.state(host)["licensing"]["products"] if p["partial_product_key"])


def no_key_in(output: str) -> None:
    assert CSVLK not in output and CSVLK[:-5] not in output and MAK[:-5] not in output


def test_license_info_reports_the_activation_object_of_an_ad_activated_client(fleet: FleetRun) -> None:
    host = "adclient01"
    run = fleet.playbook("activate.yml", limit=host, extra_vars={"act_skip_preflight": ["kms_discovery"]})
    assert run.rc == 0, run.output
    info = fleet.playbook("license_info.yml", limit=host).task("Read license info", host).result
    product = info["windows_product"]
    assert product["activation_type_used"] == "AD" and product["license_status_name"] == "Licensed"
    ad = product["ad_activation"]
    assert ad["object_name"] == "AD forest WS2022"
    assert ad["object_dn"].endswith(f",{CONTAINER},DC=ad,DC=example,DC=com")
    assert ad["extended_pid"] and ad["activation_id"]
    assert info["kms_client"]["token_activation_only"] is None  # Windows 10: /act-type, not /stao


def test_online_activation_check_apply_idempotent(fleet: FleetRun) -> None:
    host = "dc01"
    writes = fleet.writes(host)
    checked = adba(fleet, host, check=True, csvlk=CSVLK, name="Corp WS2022")
    result = checked.task(TASK, host).result
    assert result["changed"] is True and result["ad_activation"] is None
    assert result["diff"] == {"before": {"activation_object": None}, "after": {"activation_object": "Corp WS2022"}}
    assert result["csvlk"] == "XXXXX-XXXXX-XXXXX-XXXXX-4MT8D"
    assert fleet.writes(host) == writes, "check mode must not write"
    assert fleet.state(host)["licensing"]["activation_objects"] == []
    no_key_in(checked.output)

    applied = adba(fleet, host, csvlk=CSVLK, name="Corp WS2022")
    result = applied.task(TASK, host).result
    assert result["changed"] is True
    assert result["ad_activation"]["object_name"] == "Corp WS2022"
    assert [ao["name"] for ao in fleet.state(host)["licensing"]["activation_objects"]] == ["Corp WS2022"]
    assert windows(fleet, host)["activation_type_used"] == 1
    no_key_in(applied.output)

    writes = fleet.writes(host)
    again = adba(fleet, host, csvlk=CSVLK, name="Corp WS2022").task(TASK, host).result
    assert again["changed"] is False and fleet.writes(host) == writes

    # A member of the forest now activates against the object, without any KMS host.
    member = "member01"
    run = fleet.playbook("activate.yml", limit=member, extra_vars={"act_skip_preflight": ["kms_discovery"]})
    assert run.rc == 0, run.output
    assert windows(fleet, member)["ad_activation_object"] == "Corp WS2022"


def test_offline_pair(fleet: FleetRun) -> None:
    host = "member01"
    read = adba(fleet, host, csvlk=CSVLK, offline=True).task(TASK, host).result
    assert read["changed"] is False and read["installation_id"].isdigit()

    wrong = adba(fleet, host, csvlk=CSVLK, name="Corp offline", confirmation_id="1" * 48)
    failure = wrong.task(TASK, host)
    assert failure.failed and failure.result["error"]["hresult"] == "0xC004F02C", failure.result
    assert "confirmation ID" in failure.result["msg"]
    no_key_in(wrong.output)

    cid = fleet.state(host)["licensing"]["ad_confirmation_ids"][CSVLK[-5:]]
    done = adba(fleet, host, csvlk=CSVLK, name="Corp offline", confirmation_id=cid).task(TASK, host).result
    assert done["changed"] is True and done["ad_activation"]["object_name"] == "Corp offline"
    names = [ao["name"] for ao in fleet.state(host)["licensing"]["activation_objects"]]
    assert names == ["Corp offline"], "one object per CSVLK: the second activation renames it"


def test_refusals_are_explained(fleet: FleetRun) -> None:
    mak = adba(fleet, "dc01", csvlk=MAK, name="Wrong key").task(TASK, "dc01")
    assert mak.failed and mak.result["error"]["hresult"] == "0xC004F050", mak.result
    assert mak.result["csvlk"] == "XXXXX-XXXXX-XXXXX-XXXXX-2VC3F"
    fleet.winemu("reset-stats", "win7")
    win7 = adba(fleet, "win7", csvlk=CSVLK).task(TASK, "win7")
    assert win7.failed and "Windows 8" in win7.result["msg"] and win7.result["build"] == 7601
    assert fleet.writes("win7") == 0


def kms_client(fleet: FleetRun, host: str, *, check: bool = False, **options: t.Any) -> t.Any:
    extra = {f"kms_{k}": v for k, v in options.items()}
    return fleet.playbook("kms_client.yml", limit=host, check=check, diff=True, extra_vars=extra)


def test_windows7_activation_type_is_the_token_only_flag(fleet: FleetRun) -> None:
    host, task = "win7", "Configure KMS client"
    writes = fleet.writes(host)
    checked = kms_client(fleet, host, check=True, activation_type="token").task(task, host).result
    assert checked["changed"] is True
    assert checked["diff"] == {"before": {"activation_type": "all"}, "after": {"activation_type": "token"}}
    assert fleet.writes(host) == writes, "check mode must not write"

    applied = kms_client(fleet, host, activation_type="token").task(task, host).result
    assert applied["changed"] is True and applied["settings"]["activation_type"] == "token"
    assert fleet.state(host)["licensing"]["service"]["KeyManagementServiceActivationDisabled"] is True
    info = fleet.playbook("license_info.yml", limit=host).task("Read license info", host).result
    assert info["kms_client"]["token_activation_only"] is True

    writes = fleet.writes(host)
    again = kms_client(fleet, host, activation_type="token").task(task, host).result
    assert again["changed"] is False and fleet.writes(host) == writes

    refused = kms_client(fleet, host, activation_type="kms").task(task, host)
    assert refused.failed and refused.result["msg"].startswith("activation_type: Windows 7")
    assert fleet.writes(host) == writes

    cleared = kms_client(fleet, host, activation_type="all").task(task, host).result
    assert cleared["changed"] is True and cleared["settings"]["activation_type"] == "all"
    assert fleet.state(host)["licensing"]["service"]["KeyManagementServiceActivationDisabled"] is False
