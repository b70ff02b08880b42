# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.product_key end to end: the right GVLK for every edition of the fleet, secrets, KMS host keys."""

from __future__ import annotations

import json
import pathlib
import sys
import typing as t

import pytest
import yaml

from ansible_collections.winact.kms.tests.integration.conftest import FleetRun

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "emulator"))
from winemu_lib import editions  # noqa: E402  (the emulator's own edition data, independent of the catalog)

FLEET = "product_keys"
MAK = "QGT6C-D2FR3-CYJCD-VVDKD-2VC3F"
CSVLK = "K663C-33TCK-C2GPV-G2F3P-27HF3"
SPECIAL = {"makhost", "wrongkey", "newkms", "home", "kmsactive", "makactive"}
SPP_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
TASK = "Product key"


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory(FLEET)


@pytest.fixture(scope="module")
def hosts() -> dict[str, dict[str, t.Any]]:
    data = yaml.safe_load((HERE / "fleets" / f"{FLEET}.yml").read_text())
    return {host["name"]: host for host in data["hosts"]}


def edition_hosts(hosts: dict[str, dict[str, t.Any]]) -> list[str]:
    return [name for name in hosts if name not in SPECIAL]


def windows_keyed(fleet: FleetRun, host: str) -> list[dict[str, t.Any]]:
    products = fleet.state(host)["licensing"]["products"]
    return [p for p in products if p["application_id"] == editions.WINDOWS_APP_ID and p["partial_product_key"]]


def spp_value(fleet: FleetRun, host: str, name: str) -> t.Any:
    values = (fleet.state(host)["registry"]["SoftwareProtectionPlatform"] or {}).get("values", {})
    found = {k.lower(): v for k, v in values.items()}.get(name.lower())
    return found["data"] if found else None


def test_check_mode_plans_every_edition_without_writing(fleet: FleetRun, hosts: dict[str, dict[str, t.Any]]) -> None:
    names = edition_hosts(hosts)
    before = fleet.all_writes()
    run = fleet.playbook("product_key.yml", check=True, diff=True, limit=",".join(names))
    assert run.rc == 0, run.output
    assert fleet.all_writes() == before, "check mode must not write"
    for name in names:
        result = run.task(TASK, name).result
        assert result["changed"] is True, name
        assert result["diff"]["before"] == {"product_key": None}, name
        assert result["diff"]["after"]["product_key"].startswith("XXXXX-XXXXX-XXXXX-XXXXX-"), name
        assert windows_keyed(fleet, name) == [], name


def test_installs_the_right_gvlk_for_every_edition(fleet: FleetRun, hosts: dict[str, dict[str, t.Any]]) -> None:
    names = edition_hosts(hosts)
    run = fleet.playbook("product_key.yml", limit=",".join(names))
    assert run.rc == 0, run.output
    for name in names:
        spec = hosts[name]
        expected = editions.resolve_edition(spec["edition"], spec["build"])
        result = run.task(TASK, name).result
        assert result["changed"] is True, name
        assert result["key_source"] == "catalog", name
        assert result["edition"]["edition_id"].lower() == spec["edition"].lower(), name
        assert expected.gvlk is not None
        assert result["partial_product_key"] == expected.gvlk[-5:], (name, result["edition"])
        keyed = windows_keyed(fleet, name)
        assert len(keyed) == 1, name
        assert keyed[0]["gvlk"] == expected.gvlk, name
        assert keyed[0]["channel"] == "Volume:GVLK", name
        assert keyed[0]["id"] == expected.kms_client_activation_id, name
        assert result["product"]["id"] == expected.kms_client_activation_id, name
        assert result["kms_host_key"] is False and result["restarted"] is False, name


def test_second_run_is_unchanged_with_zero_writes(fleet: FleetRun, hosts: dict[str, dict[str, t.Any]]) -> None:
    names = edition_hosts(hosts)
    before = fleet.all_writes()
    run = fleet.playbook("product_key.yml", limit=",".join(names))
    assert run.rc == 0, run.output
    assert all(run.task(TASK, name).changed is False for name in names)
    # `key: gvlk` is the same as leaving the key out (and the word is not treated as a secret).
    named = fleet.playbook("product_key.yml", limit=",".join(names), extra_vars={"pk_key": "gvlk"})
    assert named.rc == 0, named.output
    for name in names:
        result = named.task(TASK, name).result
        assert result["changed"] is False and result["key_source"] == "catalog", name
        assert "********" not in json.dumps(result), name
    assert fleet.all_writes() == before


def test_wrong_edition_key_fails_with_the_sl_error_explained(fleet: FleetRun) -> None:
    enterprise = editions.resolve_edition("Enterprise", 22631).gvlk
    assert enterprise is not None
    before = windows_keyed(fleet, "wrongkey")
    run = fleet.playbook("product_key.yml", limit="wrongkey", extra_vars={"pk_key": enterprise})
    assert run.rc != 0
    result = run.task(TASK, "wrongkey")
    assert result.failed
    error = result.result["error"]
    assert error["hresult"] == "0xC004F069"
    assert error["symbol"] == "SL_E_MISMATCHED_PRODUCT_SKU"
    assert error["cause"] and error["fix"]
    assert "0xC004F069 SL_E_MISMATCHED_PRODUCT_SKU" in result.result["msg"]
    assert f"XXXXX-XXXXX-XXXXX-XXXXX-{enterprise[-5:]}" in result.result["msg"]
    assert windows_keyed(fleet, "wrongkey") == before, "a refused key changes nothing"


def test_edition_without_gvlk_names_sku_build_and_how_to_pass_a_key(fleet: FleetRun) -> None:
    run = fleet.playbook("product_key.yml", limit="home")
    assert run.rc != 0
    msg = run.task(TASK, "home").result["msg"]
    assert "101" in msg and "22631" in msg, msg
    assert "key:" in msg, msg
    assert fleet.writes("home") == 0


def test_bad_key_format_fails_before_any_request(fleet: FleetRun) -> None:
    fleet.winemu("reset-stats", "makhost")
    run = fleet.playbook("product_key.yml", limit="makhost", extra_vars={"pk_key": MAK[:-5] + "AAAAA"})
    assert run.rc != 0
    result = run.task(TASK, "makhost").result
    assert result["option"] == "key"
    assert MAK[:-5] not in run.output
    assert fleet.stats("makhost")["requests"]["total"] == 0


def test_mak_never_appears_in_any_output_at_vvvv(fleet: FleetRun, tmp_path: pathlib.Path) -> None:
    state = fleet.state("makhost")
    other = next(p["id"] for p in state["licensing"]["products"] if "VOLUME_KMSCLIENT" in (p["description"] or ""))
    # The key comes from inventory variables, as it would from a vault: ansible-playbook -vvvv itself echoes
    # its command line, extra vars included.
    inventory = yaml.safe_load(fleet.inventory.read_text())
    inventory["all"]["hosts"]["makhost"].update(mak=MAK, other_product=other)
    with_mak = tmp_path / "inventory.yml"
    with_mak.write_text(yaml.safe_dump(inventory))
    run = fleet.playbook("mak_install.yml", limit="makhost", verbosity=4, inventory=with_mak)
    assert run.rc == 0, run.output
    assert "ESTABLISH WINRM CONNECTION" in run.output, "the run was not verbose"
    for form in (MAK, MAK.lower(), MAK.replace("-", "")):
        assert form not in run.output, f"the MAK leaked as {form!r}"
    first = run.task("Install the MAK", "makhost").result
    assert first["changed"] is True and first["partial_product_key"] == MAK[-5:]
    assert first["registry_cleared"] is True
    assert run.task("Install the MAK again, typed in lower case", "makhost").changed is False
    assert run.task("Activate the MAK", "makhost").result["license_status_name"] == "Licensed"
    report = run.task("Report", "makhost").result
    assert report["windows_product"]["product_key_channel"] == "Volume:MAK"
    assert run.task("Install the MAK with a bad group of characters", "makhost").status == "ignored"
    landed = run.task("Install the MAK on a product it does not belong to", "makhost")
    assert landed.status == "ignored"
    assert "XXXXX-XXXXX-XXXXX-XXXXX-2VC3F" in run.output
    assert MAK not in str(fleet.state("makhost"))  # nor does the emulator's own state dump


def test_kms_host_key_then_removal(fleet: FleetRun) -> None:
    run = fleet.playbook("product_key.yml", limit="newkms", extra_vars={"pk_key": CSVLK})
    assert run.rc == 0, run.output
    result = run.task(TASK, "newkms").result
    assert result["changed"] is True
    assert result["kms_host_key"] is True
    assert result["restart_required"] is True and result["restarted"] is True
    state = fleet.state("newkms")
    assert spp_value(fleet, "newkms", "KeyManagementServiceVersion") == state["licensing"]["service"]["Version"]
    assert state["kms_host"]["enabled"] is True
    assert CSVLK not in run.output

    again = fleet.playbook("product_key.yml", limit="newkms", extra_vars={"pk_key": CSVLK})
    assert again.task(TASK, "newkms").changed is False

    removed = fleet.playbook("product_key.yml", limit="newkms", extra_vars={"pk_state": "absent"})
    assert removed.rc == 0, removed.output
    result = removed.task(TASK, "newkms").result
    assert result["changed"] is True and result["previous_partial_product_key"] == CSVLK[-5:]
    assert result["restart_required"] is True and result["restarted"] is True
    assert spp_value(fleet, "newkms", "KeyManagementServiceVersion") is None
    assert windows_keyed(fleet, "newkms") == []

    before = fleet.writes("newkms")
    idle = fleet.playbook("product_key.yml", limit="newkms", extra_vars={"pk_state": "absent"})
    assert idle.task(TASK, "newkms").changed is False
    assert fleet.writes("newkms") == before


def test_drift_is_reported_in_check_mode(fleet: FleetRun) -> None:
    # Someone installed the MAK by hand on a host that should carry its GVLK.
    fleet.invoke(
        "w11pro",
        "SoftwareLicensingService",
        "InstallProductKey",
        selectors={"Version": fleet.state("w11pro")["licensing"]["service"]["Version"]},
        params={"ProductKey": MAK},
    )
    before = fleet.writes("w11pro")
    run = fleet.playbook("product_key.yml", limit="w11pro", check=True, diff=True)
    result = run.task(TASK, "w11pro").result
    assert result["changed"] is True
    assert result["diff"] == {
        "before": {"product_key": "XXXXX-XXXXX-XXXXX-XXXXX-2VC3F"},
        "after": {"product_key": "XXXXX-XXXXX-XXXXX-XXXXX-T83GX"},
    }
    assert fleet.writes("w11pro") == before
    assert MAK not in run.output


def test_no_arguments_on_a_kms_host_fails_and_the_host_keeps_its_csvlk(fleet: FleetRun) -> None:
    before = fleet.writes("kmsactive")
    for check in (True, False):
        run = fleet.playbook("product_key.yml", limit="kmsactive", check=check, diff=True)
        failed = run.task(TASK, "kmsactive")
        assert failed.failed, run.output
        message = failed.result["msg"]
        assert f"KMS host key (CSVLK) ending in {CSVLK[-5:]}" in message and "protected_key: replace" in message
        assert CSVLK not in run.output
    assert fleet.writes("kmsactive") == before
    state = fleet.state("kmsactive")
    assert state["kms_host"]["enabled"] is True
    (keyed,) = windows_keyed(fleet, "kmsactive")
    assert keyed["channel"] == "Volume:CSVLK"
    kept = fleet.playbook("product_key.yml", limit="kmsactive", extra_vars={"pk_protected_key": "keep"})
    result = kept.task(TASK, "kmsactive").result
    assert kept.rc == 0 and result["changed"] is False and "CSVLK" in result["kept"]
    assert fleet.writes("kmsactive") == before


def test_an_activated_mak_needs_an_explicit_gvlk(fleet: FleetRun) -> None:
    refused = fleet.playbook("product_key.yml", limit="makactive")
    message = refused.task(TASK, "makactive").result["msg"]
    assert "Volume:MAK key ending in 2VC3F" in message and "protected_key" in message and "key: gvlk" in message
    assert MAK not in refused.output
    converted = fleet.playbook("product_key.yml", limit="makactive", extra_vars={"pk_key": "gvlk"})
    assert converted.rc == 0, converted.output
    result = converted.task(TASK, "makactive").result
    assert result["changed"] is True and result["previous_partial_product_key"] == "2VC3F"
    assert [p["channel"] for p in windows_keyed(fleet, "makactive")] == ["Volume:GVLK"]
