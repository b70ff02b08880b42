# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image pipeline end to end: build VM -> image_prep -> sysprep /generalize -> clones -> the site playbook.

With SkipRearm 0 at the final generalize every clone has its own CMID and the KMS host counts each one; with
SkipRearm 1 kept, the clones share the image's CMID, the host counts them once and they fail with 0xC004F038
("Resolve Windows activation error 0xC004F038 caused by a duplicate CMID").
"""

from __future__ import annotations

import json
import pathlib
import typing as t
import urllib.request

import pytest
import yaml

from ansible_collections.winact.kms.tests.integration.conftest import FleetRun

PLAYBOOKS = pathlib.Path(__file__).resolve().parents[2] / "playbooks"
CLONES = 30
SHARED_CLONES = 5
SITE_VARS = {"kms_client_activate_delay": 1, "kms_client_activate_retries": 1}
WINDOWS_APP_ID = "55c92734-d682-4d71-983e-d6ec3f16059f"
VERDICT = "winact.kms.image_prep : Report the readiness verdict"
ACTIVATE = "winact.kms.kms_client : Activate (second pass, once the KMS count has grown)"


@pytest.fixture(scope="module")
def pipeline(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("image_pipeline")


def states(fleet: FleetRun, hosts: t.Iterable[str]) -> dict[str, dict[str, t.Any]]:
    """Many hosts' state from the control API in-process (a ``winemu state`` subprocess per clone is slow)."""
    control = yaml.safe_load(fleet.inventory.read_text())["all"]["vars"]["winemu_control"]
    found = {}
    for host in hosts:
        with urllib.request.urlopen(f"{control}/state/{host}", timeout=30) as response:  # noqa: S310 - loopback
            found[host] = json.loads(response.read())
    return found


def count(fleet: FleetRun, host: str) -> int:
    return int(fleet.state(host)["kms_host"]["current_count"])


def image_prep(fleet: FleetRun, host: str, **extra: t.Any) -> t.Any:
    return fleet.playbook(PLAYBOOKS / "image_prep.yml", extra_vars={"winact_image_hosts": host, **extra})


def test_a_bad_kms_server_fails_before_anything_touches_the_host(pipeline: FleetRun) -> None:
    before = pipeline.writes("build01")
    run = image_prep(pipeline, "build01", image_prep_kms_server="kms 01;rm")
    assert run.rc != 0
    failed = run.task("winact.kms.image_prep : Validate the role variables", "build01")
    assert failed.failed and "image_prep_kms_server: 'kms 01;rm' contains whitespace" in failed.result["msg"]
    assert [r.action for r in run.results] == ["ansible.builtin.validate_argument_spec", "ansible.builtin.assert"]
    assert pipeline.writes("build01") == before


def test_final_generalize_gives_every_clone_its_own_cmid(pipeline: FleetRun) -> None:
    prepared = image_prep(pipeline, "build01")
    assert prepared.rc == 0, prepared.output
    assert prepared.task(VERDICT, "build01").result["msg"] == "Image ready for the final sysprep /generalize"
    image_cmid = pipeline.state("build01")["identity"]["cmid"]

    generalized = pipeline.winemu("generalize", "build01")
    assert generalized["rearmed"] is True and generalized["rearm_count"] == 1000
    added = pipeline.winemu("clone", "build01", "--count", str(CLONES))["added"]
    assert len(added) == CLONES and all("kms_clients" in host["groups"] for host in added)
    assert count(pipeline, "kms01") == 3

    site = pipeline.playbook(PLAYBOOKS / "site.yml", limit="build01_clones", extra_vars=SITE_VARS)
    assert site.rc == 0, site.output
    assert count(pipeline, "kms01") == 3 + CLONES
    cmids = set()
    for host, state in states(pipeline, (entry["name"] for entry in added)).items():
        products = state["licensing"]["products"]
        windows = [p for p in products if p["partial_product_key"] and p["application_id"] == WINDOWS_APP_ID]
        assert [p["license_status"] for p in windows] == [1], (host, windows)
        cmids.add(state["identity"]["cmid"])
    assert len(cmids) == CLONES and image_cmid not in cmids


def test_skip_rearm_kept_at_the_final_generalize_gives_clones_one_cmid(pipeline: FleetRun) -> None:
    prepared = image_prep(pipeline, "build02", image_prep_intermediate_capture=True)
    assert prepared.rc == 0, prepared.output  # an intermediate capture reports, it does not fail
    verdict = prepared.task(VERDICT, "build02").result["msg"]
    assert verdict.startswith("Image NOT ready for the final sysprep /generalize: SkipRearm is 1"), verdict
    assert "0xC004F038" in verdict

    generalized = pipeline.winemu("generalize", "build02")
    assert generalized["rearmed"] is False and generalized["cmid"]
    added = [h["name"] for h in pipeline.winemu("clone", "build02", "--count", str(SHARED_CLONES))["added"]]
    site = pipeline.playbook(
        PLAYBOOKS / "site.yml",
        limit="build02_clones",
        extra_vars={**SITE_VARS, "kms_client_activate_retries": 0, "kms_client_below_threshold": "fail"},
    )
    assert site.rc != 0
    assert count(pipeline, "kms02") == 3 + 1  # five clones, one CMID
    for host in added:
        error = site.task(ACTIVATE, host).result["error"]
        assert error["hresult"] == "0xC004F038", (host, error)
        assert "SkipRearm=1 share one CMID" in error["cause"]
        assert "SkipRearm=0" in error["fix"] and "winact.kms.rearm" in error["fix"]
    assert {state["identity"]["cmid"] for state in states(pipeline, added).values()} == {generalized["cmid"]}

    # The clone carries the image's SkipRearm=1: a rearm does nothing, and says why.
    clone = added[0]
    before = pipeline.writes(clone)
    ignored = pipeline.playbook("rearm.yml", limit=clone).task("Rearm", clone).result
    assert ignored["changed"] is False and ignored["rearmed"] is False and "SkipRearm is 1" in ignored["reason"]
    assert pipeline.writes(clone) == before

    # Microsoft's fix on a deployed clone: SkipRearm 0, rearm (a new CMID), restart, activate.
    fixed = pipeline.playbook("fix_duplicate_cmid.yml", limit=clone)
    assert fixed.rc == 0, fixed.output
    rearmed = fixed.task("Rearm", clone).result
    assert rearmed["rearmed"] is True and rearmed["restart_required"] is True
    assert rearmed["remaining_rearm_count"] == rearmed["remaining_rearm_count_before"] - 1
    assert pipeline.state(clone)["identity"]["cmid"] != generalized["cmid"]
    assert count(pipeline, "kms02") == 3 + 2


def test_rearm_check_mode_diff_and_no_rearm_left(pipeline: FleetRun) -> None:
    host = "build01"  # generalized above; SkipRearm 0
    before = pipeline.writes(host)
    planned = pipeline.playbook("rearm.yml", limit=host, check=True, diff=True).task("Rearm", host).result
    left = planned["remaining_rearm_count_before"]
    assert planned["changed"] is True and planned["remaining_rearm_count"] == left - 1
    assert planned["diff"]["after"]["RemainingWindowsReArmCount"] == left - 1
    assert pipeline.writes(host) == before
    pipeline.configure(host, rearm_count=0)
    refused = pipeline.playbook("rearm.yml", limit=host).task("Rearm", host)
    assert refused.failed and refused.result["error"]["hresult"] == "0xC004D307"
    assert "RemainingWindowsReArmCount is 0" in refused.result["msg"]
    assert pipeline.writes(host) == before


def test_rearm_of_one_sku(pipeline: FleetRun) -> None:
    host = "build01-clone002"
    products = pipeline.state(host)["licensing"]["products"]
    sku = next(p["id"] for p in products if p["partial_product_key"] and p["application_id"] == WINDOWS_APP_ID)
    run = pipeline.playbook("rearm.yml", limit=host, extra_vars={"rearm_activation_id": sku})
    result = run.task("Rearm", host).result
    assert run.rc == 0 and result["scope"] == "sku" and result["rearmed"] is True
    assert result["remaining_rearm_count"] == result["remaining_rearm_count_before"] - 1
    missing = pipeline.playbook("rearm.yml", limit=host, extra_vars={"rearm_activation_id": WINDOWS_APP_ID})
    assert "activation_id: no SoftwareLicensingProduct" in missing.task("Rearm", host).result["msg"]


def test_an_image_holding_a_kms_host_key_is_not_ready_and_keeps_it(pipeline: FleetRun) -> None:
    before = pipeline.writes("kms02")
    checked = pipeline.playbook(
        PLAYBOOKS / "image_prep.yml", check=True, diff=True, extra_vars={"winact_image_hosts": "kms02"}
    )
    assert checked.rc == 0, checked.output  # check mode reports the verdict, it never fails the play
    verdict = checked.task(VERDICT, "kms02").result["msg"]
    assert "NOT ready" in verdict and "(check mode: the host as it is" in verdict
    assert pipeline.writes("kms02") == before
    run = image_prep(pipeline, "kms02")
    assert run.rc != 0
    kept = run.task("winact.kms.image_prep : Install the GVLK of the detected edition", "kms02").result
    assert kept["changed"] is False and "KMS host key (CSVLK)" in kept["kept"]
    failed = run.task("winact.kms.image_prep : Fail when the image is not ready", "kms02")
    assert failed.failed and "every clone would become a KMS host" in failed.result["msg"]
    assert pipeline.state("kms02")["kms_host"]["enabled"] is True
