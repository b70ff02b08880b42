"""The winemu client subcommands against a running fleet: state, stats, reset-stats, invoke, configure."""

from __future__ import annotations

import json
import os
import subprocess
import typing as t
from pathlib import Path

import pytest
import yaml
from winemu_lib import cli, inventory
from winemu_lib.faults import FaultSettings

if t.TYPE_CHECKING:
    from .conftest import RunningFleet, WinemuRunner


@pytest.fixture
def inventory_path(fleet: RunningFleet, tmp_path: Path) -> Path:
    return fleet.write_inventory(tmp_path / "inventory.yml")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, t.Any, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


def test_inventory_shape(fleet: RunningFleet, inventory_path: Path) -> None:
    data = yaml.safe_load(inventory_path.read_text())
    assert data["all"]["vars"] == {
        "ansible_connection": "winrm",
        "ansible_winrm_transport": "ntlm",
        "ansible_winrm_message_encryption": "auto",
        "ansible_winrm_scheme": "http",
        "ansible_winrm_server_cert_validation": "ignore",
        # The same settings for ansible_connection: psrp.
        "ansible_psrp_auth": "ntlm",
        "ansible_psrp_message_encryption": "auto",
        "ansible_psrp_protocol": "http",
        "ansible_psrp_cert_validation": "ignore",
        "winemu_control": fleet.control.url,
    }
    assert data["all"]["hosts"]["ws002"] == {
        "ansible_host": "127.0.0.1",
        "ansible_port": fleet.endpoint("ws002").port,
        "ansible_user": "Administrator",
        "ansible_password": "Winact-2026!",
        "winemu_fqdn": "ws002.corp.example.com",
    }
    assert oct(inventory_path.stat().st_mode & 0o777) == oct(0o600)
    assert [p.name for p in inventory_path.parent.iterdir()] == ["inventory.yml"]  # no temporary left over


def test_psrp_spelling_of_every_winrm_setting() -> None:
    variables = {
        "ansible_winrm_transport": "ntlm",
        "ansible_winrm_kerberos_hostname_override": "kms01.corp.example.com",
        "ansible_port": 5986,
    }
    assert inventory.with_psrp_equivalents(variables) == {
        **variables,
        "ansible_psrp_auth": "ntlm",
        "ansible_psrp_negotiate_hostname_override": "kms01.corp.example.com",
    }


def test_inventory_of_https_hosts_validates_against_the_fleet_ca(
    start_fleet: t.Callable[..., RunningFleet], tmp_path: Path
) -> None:
    running = start_fleet(2, https=True)
    path = running.write_inventory(tmp_path / "inventory.yml")
    variables = yaml.safe_load(path.read_text())["all"]["vars"]
    ca_path = tmp_path / "inventory-ca.pem"
    assert running.server.ca is not None
    assert ca_path.read_bytes() == running.server.ca.cert_pem
    assert variables["ansible_winrm_scheme"] == variables["ansible_psrp_protocol"] == "https"
    assert variables["ansible_winrm_server_cert_validation"] == variables["ansible_psrp_cert_validation"] == "validate"
    assert variables["ansible_winrm_ca_trust_path"] == variables["ansible_psrp_ca_cert"] == str(ca_path)


def test_state(capsys: pytest.CaptureFixture[str], inventory_path: Path) -> None:
    code, state, _stderr = run(capsys, "state", "--inventory", str(inventory_path), "ws001")
    assert code == 0
    assert state["name"] == "ws001"
    assert state["installed"] == "2024-05-01T08:30:15Z"  # datetimes come out as ISO 8601
    code, by_fqdn, _stderr = run(capsys, "state", "--inventory", str(inventory_path), "WS002.corp.example.com")
    assert code == 0 and by_fqdn["name"] == "ws002"


def test_unknown_host_exits_2(capsys: pytest.CaptureFixture[str], inventory_path: Path) -> None:
    for command in (["state"], ["stats"], ["reset-stats"], ["invoke"], ["configure"]):
        extra = {"invoke": ["StdRegProv", "EnumKey"], "configure": ["latency_ms=1"]}.get(command[0], [])
        code, out, err = run(capsys, *command, "--inventory", str(inventory_path), "nosuch", *extra)
        assert code == 2, command
        assert out is None
        assert "unknown host 'nosuch'" in err


def test_stats_and_reset(fleet: RunningFleet, capsys: pytest.CaptureFixture[str], inventory_path: Path) -> None:
    fleet.invoke(fleet.SERVICE_URI, "StopService", selectors={"Name": "svc002"})
    fleet.invoke(fleet.REG_URI, "EnumKey", host="ws002")
    code, all_stats, _stderr = run(capsys, "stats", "--inventory", str(inventory_path))
    assert code == 0
    assert set(all_stats) == {"ws001", "ws002"}
    assert all_stats["ws001"]["requests"]["by_method"] == {"Win32_Service.StopService": 1}
    assert all_stats["ws001"]["writes"] == 1
    code, one, _stderr = run(capsys, "stats", "--inventory", str(inventory_path), "ws002")
    assert one["requests"] == {"total": 1, "by_action": {"Invoke": 1}, "by_method": {"StdRegProv.EnumKey": 1}}

    code, reset, _stderr = run(capsys, "reset-stats", "--inventory", str(inventory_path), "ws001")
    assert code == 0 and reset == {"reset": ["ws001"]}
    assert fleet.endpoint("ws001").stats_dict()["writes"] == 0
    assert fleet.endpoint("ws002").stats_dict()["requests"]["total"] == 1
    run(capsys, "reset-stats", "--inventory", str(inventory_path))
    assert fleet.endpoint("ws002").stats_dict()["requests"]["total"] == 0


def test_invoke_static_method_with_typed_params(
    fleet: RunningFleet, capsys: pytest.CaptureFixture[str], inventory_path: Path
) -> None:
    key = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
    args = ["invoke", "--inventory", str(inventory_path), "ws001", "StdRegProv", "SetMultiStringValue"]
    args += ["--namespace", "root/default", "--param", f"hDefKey={fleet.HKLM}", "--param", f"sSubKeyName={key}"]
    args += ["--param", "sValueName=Drift", "--param", "sValue=a=1", "--param", "sValue=b"]
    code, result, _stderr = run(capsys, *args)
    assert code == 0 and result == {"ReturnValue": 0}
    assert fleet.machine().registry[(fleet.HKLM, key.lower())]["drift"] == ("Drift", ["a=1", "b"])
    # drift injection writes count for the machine but are not WinRM requests
    assert fleet.endpoint().stats_dict()["requests"]["total"] == 0
    assert fleet.endpoint().stats_dict()["writes"] == 1


def test_invoke_instance_method_and_output_types(
    fleet: RunningFleet, capsys: pytest.CaptureFixture[str], inventory_path: Path
) -> None:
    args = ["invoke", "--inventory", str(inventory_path), "ws001", "win32_service", "describe"]
    args += ["--selector", "name=sppsvc", "--param", "Verbose=true", "--param", "Tags=x"]
    code, result, _stderr = run(capsys, *args)
    assert code == 0
    assert result["Tags"] == ["x", "seen"]
    assert result["Seen"] == "2024-05-01T08:30:15Z"
    assert result["Missing"] is None and "verbose=True" in result["Text"]


def test_invoke_cim_error_exits_1(capsys: pytest.CaptureFixture[str], inventory_path: Path) -> None:
    args = [
        "invoke",
        "--inventory",
        str(inventory_path),
        "ws001",
        "Win32_Service",
        "Break",
        "--selector",
        "Name=sppsvc",
    ]
    code, result, err = run(capsys, *args)
    assert code == 1
    assert result == {
        "error": {
            "type": "ProviderError",
            "message": "The Key Management Service (KMS) is unavailable.",
            "hresult": "0xC004F074",
        }
    }
    assert "ProviderError" in err
    code, result, _stderr = run(capsys, "invoke", "--inventory", str(inventory_path), "ws001", "Win32_Service", "Nope")
    assert code == 1 and result["error"]["type"] == "MethodNotFound"
    code, result, _stderr = run(capsys, "invoke", "--inventory", str(inventory_path), "ws001", "Win32_Nothing", "Go")
    assert code == 1 and result["error"]["type"] == "ClassNotFound"
    bad = [
        "invoke",
        "--inventory",
        str(inventory_path),
        "ws001",
        "StdRegProv",
        "EnumKey",
        "--namespace",
        "root/default",
    ]
    code, result, _stderr = run(capsys, *bad, "--param", "hDefKey=HKLM")
    assert code == 1 and result["error"]["type"] == "InvalidParameter"


def test_invoke_needs_the_keys_of_a_class_with_many_instances(
    capsys: pytest.CaptureFixture[str], inventory_path: Path
) -> None:
    code, result, _stderr = run(
        capsys, "invoke", "--inventory", str(inventory_path), "ws001", "Win32_Service", "StopService"
    )
    assert code == 1 and result["error"]["type"] == "InvalidSelectors"


def test_configure_faults_and_machine(
    fleet: RunningFleet, capsys: pytest.CaptureFixture[str], inventory_path: Path
) -> None:
    args = ["configure", "--inventory", str(inventory_path), "ws001", "latency_ms=5", "fault_at_request=2"]
    code, result, _stderr = run(capsys, *args, "fail_enumeration=true")
    assert code == 0
    assert result == {
        "host": "ws001",
        "faults": {
            **FaultSettings().to_dict(),  # the kinds not named here are off
            "latency_ms": 5,
            "drop_at_request": None,
            "fault_at_request": 2,
            "malformed_at_request": None,
            "hostile_at_request": None,
            "drop_after_method": None,
            "slow_method": None,
            "slow_method_ms": 0,
        },
        "machine": ["fail_enumeration"],
    }
    assert fleet.machine().fail_enumeration is True
    code, result, _stderr = run(
        capsys, "configure", "--inventory", str(inventory_path), "ws001", "fault_at_request=null"
    )
    assert result["faults"]["fault_at_request"] is None


@pytest.mark.parametrize("setting", ["latency_ms=-5", "drop_at_request=often", "no_such_setting=1", "novalue"])
def test_configure_rejects_bad_settings(
    fleet: RunningFleet, capsys: pytest.CaptureFixture[str], inventory_path: Path, setting: str
) -> None:
    code, out, err = run(capsys, "configure", "--inventory", str(inventory_path), "ws001", setting)
    assert code == 2 and out is None and err.startswith("winemu: ")
    assert fleet.endpoint().faults.to_dict() == {
        **FaultSettings().to_dict(),  # the kinds not named here are off
        "latency_ms": 0,
        "drop_at_request": None,
        "fault_at_request": None,
        "malformed_at_request": None,
        "hostile_at_request": None,
        "drop_after_method": None,
        "slow_method": None,
        "slow_method_ms": 0,
    }


def test_bad_value_changes_nothing_at_all(
    fleet: RunningFleet, capsys: pytest.CaptureFixture[str], inventory_path: Path
) -> None:
    code, _output, _stderr = run(
        capsys, "configure", "--inventory", str(inventory_path), "ws001", "fail_enumeration=1", "latency_ms=x"
    )
    assert code == 2
    assert fleet.machine().fail_enumeration is False


def test_control_api_reports_emulator_bugs(
    fleet: RunningFleet, capsys: pytest.CaptureFixture[str], inventory_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("state is broken")

    monkeypatch.setattr(fleet.machine(), "state", broken)
    code, out, err = run(capsys, "state", "--inventory", str(inventory_path), "ws001")
    assert code == 1 and out is None
    assert "RuntimeError: state is broken" in err


@pytest.mark.parametrize(
    ("text", "value"),
    [("5", 5), ("-3", -3), ("true", True), ("null", None), ("None", None), ("Running", "Running"), ("10.0", "10.0")],
)
def test_setting_values(text: str, value: t.Any) -> None:
    assert cli.parse_setting(text) == value


def test_missing_inventory_or_emulator_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, inventory_path: Path, fleet: RunningFleet
) -> None:
    code, _output, err = run(capsys, "stats", "--inventory", str(tmp_path / "missing.yml"))
    assert code == 2 and "cannot read inventory" in err
    stale = tmp_path / "stale.yml"
    data = yaml.safe_load(inventory_path.read_text())
    data["all"]["vars"]["winemu_control"] = "http://127.0.0.1:9"
    stale.write_text(yaml.safe_dump(data))
    code, _output, err = run(capsys, "stats", "--inventory", str(stale))
    assert code == 2 and "cannot be reached" in err
    remote = tmp_path / "remote.yml"
    data["all"]["vars"]["winemu_control"] = "http://192.0.2.1:80"
    remote.write_text(yaml.safe_dump(data))
    code, _output, err = run(capsys, "stats", "--inventory", str(remote))
    assert code == 2 and "loopback" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert cli.main(["frobnicate"]) == 2
    assert cli.main(["state", "--inventory"]) == 2
    capsys.readouterr()


def test_executable_runs_directly_and_through_python(
    winemu: WinemuRunner, inventory_path: Path, fleet: RunningFleet
) -> None:
    direct = subprocess.run(
        [str(winemu.path), "stats", "--inventory", str(inventory_path), "ws001"],
        capture_output=True,
        text=True,
        timeout=60,
        env=winemu.env(),
        cwd=str(inventory_path.parent),
        check=False,
    )
    assert direct.returncode == 0, direct.stderr
    assert json.loads(direct.stdout)["requests"]["total"] == 0
    assert os.access(winemu.path, os.X_OK)
    via_python = winemu("stats", "--inventory", str(inventory_path))
    assert via_python.returncode == 0, via_python.stderr
    assert set(json.loads(via_python.stdout)) == {"ws001", "ws002"}
    unknown = winemu("state", "--inventory", str(inventory_path), "nosuch")
    assert unknown.returncode == 2 and "unknown host" in unknown.stderr
