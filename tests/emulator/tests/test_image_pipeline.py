"""sysprep /generalize and clones: SkipRearm, the CMID, the rearm count, and what a KMS host counts."""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

import pytest
import yaml
from winemu_lib import cim
from winemu_lib.fleet import Fleet
from winemu_lib.machine import Machine

if t.TYPE_CHECKING:
    from .conftest import WinemuRunner

ADMIN = cim.CallContext("Administrator", True)
CIMV2 = "root/cimv2"
SPP = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
NOT_ENOUGH_COUNT = 0xC004F038
REARM_EXCEEDED = 0xC004D307

FLEET: dict[str, t.Any] = {
    "defaults": {"domain": "corp.example.com", "accounts": [{"username": "a", "password": "b", "admin": True}]},
    "hosts": [
        {
            "name": "kms01",
            "edition": "ServerDatacenter",
            "build": 20348,
            "kms_host": {"csvlk_group": "Windows Server 2022", "extra_count": 3},
        },
        {"name": "build01", "edition": "ServerDatacenter", "build": 20348, "groups": ["image_builders"]},
    ],
}


def service(machine: Machine) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], machine.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0])


def windows_product(machine: Machine) -> dict[str, t.Any]:
    return next(
        p
        for p in t.cast(list[dict[str, t.Any]], machine.instances(CIMV2, "SoftwareLicensingProduct", ADMIN))
        if p["PartialProductKey"]
    )


def activate(machine: Machine) -> int:
    """0 or the activation's HRESULT."""
    try:
        machine.invoke(CIMV2, "SoftwareLicensingProduct", "Activate", {"ID": windows_product(machine)["ID"]}, {}, ADMIN)
    except cim.ProviderError as exc:
        return exc.hresult
    return 0


@pytest.fixture
def fleet() -> Fleet:
    return Fleet.from_dict(FLEET)


def skip_rearm(machine: Machine, value: int) -> None:
    machine.invoke(
        "root/default",
        "StdRegProv",
        "SetDWORDValue",
        {},
        {"hDefKey": 2147483650, "sSubKeyName": SPP, "sValueName": "SkipRearm", "uValue": value},
        ADMIN,
    )


def test_generalize_with_skip_rearm_0_rearms_and_clears_the_cmid(fleet: Fleet) -> None:
    build = fleet.hosts["build01"].machine
    before = service(build)
    result = build.generalize()
    assert result["rearmed"] is True and result["cmid"] is None
    assert result["rearm_count"] == before["RemainingWindowsReArmCount"] - 1 == 1000
    assert build.state()["identity"]["cmid"] is None  # cleared until the next boot
    assert service(build)["ClientMachineID"] != before["ClientMachineID"]  # the next boot makes a new one
    assert windows_product(build)["LicenseStatus"] == 2  # out-of-box grace again


def test_generalize_with_skip_rearm_1_changes_nothing(fleet: Fleet) -> None:
    build = fleet.hosts["build01"].machine
    skip_rearm(build, 1)
    before = service(build)
    result = build.generalize()
    assert result == {
        "host": "build01",
        "rearmed": False,
        "skip_rearm": True,
        "rearm_count": 1001,
        "cmid": before["ClientMachineID"],
    }
    assert service(build)["RemainingWindowsReArmCount"] == 1001


def test_generalize_fails_when_no_rearm_is_left(fleet: Fleet) -> None:
    build = fleet.hosts["build01"].machine
    build.licensing.rearm_count = 0
    with pytest.raises(cim.ProviderError) as info:
        build.generalize()
    assert info.value.hresult == REARM_EXCEEDED


def test_clones_of_a_generalized_image_are_counted_one_by_one(fleet: Fleet) -> None:
    build = fleet.hosts["build01"].machine
    build.generalize()
    clones = fleet.clone("build01", 5)
    assert [spec.name for spec in clones] == [f"build01-clone{i:03d}" for i in range(1, 6)]
    assert all(spec.groups == ("kms_clients", "build01_clones") for spec in clones)
    assert len({spec.machine.ip for spec in clones}) == 5 and all(spec.port == 0 for spec in clones)
    cmids = {service(spec.machine)["ClientMachineID"] for spec in clones}
    assert len(cmids) == 5
    results = [activate(spec.machine) for spec in clones]
    # 3 + the first clone = 4 < 5: refused but counted; the rest activate (server threshold 5).
    assert results == [NOT_ENOUGH_COUNT, 0, 0, 0, 0]
    assert service(fleet.hosts["kms01"].machine)["KeyManagementServiceCurrentCount"] == 3 + 5
    # Nothing of a clone's use reaches the image: writes and state are its own.
    assert build.state()["identity"]["cmid"] is None


def test_clones_of_an_image_kept_with_skip_rearm_share_one_cmid(fleet: Fleet) -> None:
    build = fleet.hosts["build01"].machine
    skip_rearm(build, 1)
    build.generalize()
    clones = fleet.clone("build01", 4, "vm{index:02d}")
    assert [spec.name for spec in clones] == ["vm01", "vm02", "vm03", "vm04"]
    assert {service(spec.machine)["ClientMachineID"] for spec in clones} == {service(build)["ClientMachineID"]}
    assert [activate(spec.machine) for spec in clones] == [NOT_ENOUGH_COUNT] * 4
    assert service(fleet.hosts["kms01"].machine)["KeyManagementServiceCurrentCount"] == 3 + 1


def test_clone_copies_the_host_spec_generically(fleet: Fleet) -> None:
    source = fleet.hosts["build01"]
    (twin,) = fleet.clone("build01", 1)
    assert twin.accounts == source.accounts and twin.accounts is not source.accounts
    assert twin.https == source.https and twin.faults == source.faults
    assert twin.machine.edition == source.machine.edition and twin.fqdn == "build01-clone001.corp.example.com"


@pytest.mark.parametrize(
    ("count", "name", "message"),
    [
        (0, None, "count must be an integer from 1"),
        (2, "same", "must contain {index}"),
        (1, "kms{index:02d}", "'kms01' already exists"),
        (1, "bad_{index}", "is not a valid host name"),
        (1, "x{index:z}", "bad format string"),
    ],
)
def test_clone_refuses_bad_requests(fleet: Fleet, count: int, name: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fleet.clone("build01", count, name)
    assert set(fleet.hosts) == {"kms01", "build01"}


def test_cli_generalize_and_clone_rewrite_the_inventory(winemu: WinemuRunner, tmp_path: Path) -> None:
    fleet_file = tmp_path / "fleet.yml"
    fleet_file.write_text(yaml.safe_dump(FLEET))
    inventory = tmp_path / "inventory.yml"
    process = subprocess.Popen(
        winemu.command("serve", "--fleet", str(fleet_file), "--inventory", str(inventory)),
        stdout=subprocess.PIPE,
        text=True,
        env=winemu.env(),
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        done = winemu("generalize", "--inventory", str(inventory), "build01")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["rearmed"] is True
        cloned = winemu("clone", "--inventory", str(inventory), "build01", "--count", "3", "--name", "ws{index:02d}")
        assert cloned.returncode == 0, cloned.stderr
        assert [host["name"] for host in json.loads(cloned.stdout)["added"]] == ["ws01", "ws02", "ws03"]
        data = yaml.safe_load(inventory.read_text())
        assert set(data["all"]["children"]["kms_clients"]["hosts"]) == {"ws01", "ws02", "ws03"}
        assert set(data["all"]["children"]["build01_clones"]["hosts"]) == {"ws01", "ws02", "ws03"}
        assert data["all"]["hosts"]["ws02"]["ansible_port"] > 0
        state = winemu("state", "--inventory", str(inventory), "ws02")
        assert state.returncode == 0 and json.loads(state.stdout)["identity"]["fqdn"] == "ws02.corp.example.com"
        again = winemu("clone", "--inventory", str(inventory), "build01", "--count", "1", "--name", "ws{index:02d}")
        assert [host["name"] for host in json.loads(again.stdout)["added"]] == ["ws04"]  # numbering continues
        unknown = winemu("clone", "--inventory", str(inventory), "nope", "--count", "1")
        assert unknown.returncode == 2 and "unknown host 'nope'" in unknown.stderr
    finally:
        process.terminate()
        process.wait(15)
