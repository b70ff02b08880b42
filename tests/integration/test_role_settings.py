# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles manage only what they are told, cover the client's whole setting set, restart sppsvc at most
once, validate their variables before touching a host, and honour a play's own check_mode."""

from __future__ import annotations

import pathlib
import typing as t

import pytest

from .conftest import FleetRun, PlaybookRun
from .settings_state import service, spp_values

PLAYBOOKS = pathlib.Path(__file__).resolve().parents[2] / "playbooks"
CSVLK_2022 = "36JRF-28D3C-4JX72-VQW3W-RPKH8"
NO_HOSTS = "no_such_group"


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("roles")


def site(fleet: FleetRun, kms_hosts: str, clients: str, **extra: t.Any) -> PlaybookRun:
    extra_vars = {"winact_site_kms_hosts": kms_hosts, "winact_site_kms_clients": clients, **extra}
    return fleet.playbook(PLAYBOOKS / "site.yml", extra_vars=extra_vars)


def changed(run: PlaybookRun) -> list[tuple[str, str]]:
    return sorted((r.host, r.task) for r in run.results if r.changed)


def test_drift_playbook_check_mode_on_a_future_kms_host_and_a_keyless_client(fleet: FleetRun) -> None:
    """drift.yml sets check_mode on its plays (not --check): the guards must still see check mode."""
    before = fleet.all_writes()
    run = fleet.playbook(
        PLAYBOOKS / "drift.yml",
        extra_vars={
            "winact_site_kms_hosts": "new_kms_hosts",
            "winact_site_kms_clients": "keyless01",
            "kms_host_key": CSVLK_2022,
            "kms_client_dns_discovery": True,
            "winact_drift_report_only": True,  # the keys to install are drift; no task may fail
        },
    )
    assert run.rc == 0, run.output
    assert not [r for r in run.results if r.failed]
    assert "keyless01: product_key.product_key: declared 'XXXXX-XXXXX-XXXXX-XXXXX-2YT43', actual not set" in run.output
    assert fleet.all_writes() == before
    assert run.task("winact.kms.kms_host : Install the KMS host key", "kms02").changed
    assert run.task("winact.kms.kms_host : Configure the KMS host", "kms02").status == "skipped"
    assert run.task("winact.kms.kms_host : Activate the KMS host", "kms02").status == "skipped"
    assert run.task("winact.kms.kms_client : Install the GVLK of the detected edition", "keyless01").changed
    first = "winact.kms.kms_client : Activate (first pass; a KMS host below its threshold counts the request)"
    assert run.task(first, "keyless01").status == "skipped"
    assert CSVLK_2022 not in run.output


def test_site_with_defaults_leaves_a_pinned_client_and_the_host_settings_alone(fleet: FleetRun) -> None:
    run = site(fleet, "kms_hosts", "branch01,keyless01")
    assert run.rc == 0, run.output
    assert service(fleet, "branch01")["KeyManagementServiceMachine"] == "kms01.corp.example.com"
    assert not run.task("winact.kms.kms_client : Point the client at its KMS host", "branch01").changed
    assert not run.task("winact.kms.kms_host : Configure the KMS host", "kms01").changed
    assert not run.tasks("winact.kms.kms_host : Restart sppsvc")  # nothing needed a restart
    first = "winact.kms.kms_client : Activate (first pass; a KMS host below its threshold counts the request)"
    assert run.task(first, "keyless01").changed
    # The role ran to its end (the second pass, in tasks/finish.yml, only runs on a client refused for the count).
    finish = "winact.kms.kms_client : Finish activation where the first pass did not, and manage Office when asked"
    assert run.task(finish, "keyless01")
    for host in ("branch01", "keyless01"):
        assert fleet.state(host)["licensing"]["products"], host
    report = fleet.playbook("license_info.yml", limit="branch01,keyless01").tasks("Read license info")
    assert {h: r.result["windows_product"]["license_status_name"] for h, r in report.items()} == {
        "branch01": "Licensed",
        "keyless01": "Licensed",
    }


@pytest.mark.parametrize(
    ("extra", "play_hosts", "message"),
    [
        ({"kms_client_activation_interval": 5}, ("none", "branch01"), "15-43200"),
        ({"kms_client_server": "https://kms.example.com:1688"}, ("none", "branch01"), "without scheme"),
        ({"kms_client_cloud": "azure", "kms_client_dns_discovery": True}, ("none", "branch01"), "cannot be combined"),
        ({"kms_host_listening_port": 70000}, ("kms01", NO_HOSTS), "1-65535"),
        # One validation task lists every problem it finds, each naming its variable.
        (
            {
                "kms_client_cloud": "azure",
                "kms_client_dns_discovery": True,
                "kms_client_server_map": {14393: "kms01:1688"},
                "kms_client_renewal_interval": 14,
                "kms_client_office": {"port": 70000},
            },
            ("none", "branch01"),
            (
                "kms_client_dns_discovery=true cannot be combined",
                "kms_client_server_map[14393]",
                "kms_client_renewal_interval",
                "kms_client_office.port",
            ),
        ),
    ],
)
def test_bad_role_variables_fail_before_any_task_talks_to_a_host(
    fleet: FleetRun, extra: dict[str, t.Any], play_hosts: tuple[str, str], message: str | tuple[str, ...]
) -> None:
    before = fleet.all_writes()
    run = site(fleet, *play_hosts, **extra)
    assert run.rc != 0
    failed = [r for r in run.results if r.failed]
    assert failed and all("Validate" in r.task for r in failed), [(r.task, r.result.get("msg")) for r in failed]
    assert len(failed) == 1, [(r.task, r.result.get("msg")) for r in failed]
    for expected in (message,) if isinstance(message, str) else message:
        assert expected in str(failed[0].result.get("msg")), failed[0].result
    assert not [r for r in run.results if r.action.startswith("winact.kms.")], "a task talked to a host"
    assert fleet.all_writes() == before


def test_cloud_preset_with_a_per_build_map_and_the_whole_client_setting_set(fleet: FleetRun) -> None:
    extra = {
        "kms_client_cloud": "tencent",
        "kms_client_install_gvlk": False,
        "kms_client_activate": False,
        "kms_client_activation_interval": 60,
        "kms_client_renewal_interval": 4320,
        "kms_client_host_caching": False,
        "kms_client_alternate_url": "https://help.example.com/activation",
        "kms_client_user_operations": True,
        "kms_client_time_servers": ["ntpupdate.tencentyun.com"],
    }
    run = site(fleet, NO_HOSTS, "cloud_clients", **extra)
    assert run.rc == 0, run.output
    # Tencent Cloud serves Windows Server 2016 (build 14393) from kms1.tencentyun.com, other releases from
    # kms.tencentyun.com.
    assert service(fleet, "srv2016")["KeyManagementServiceMachine"] == "kms1.tencentyun.com"
    assert service(fleet, "srv2022")["KeyManagementServiceMachine"] == "kms.tencentyun.com"
    for host in ("srv2016", "srv2022"):
        values = spp_values(fleet, host)
        assert (values["VLActivationInterval"], values["VLRenewalInterval"]) == (60, 4320), values
        assert values["UserOperations"] == 1
        assert spp_values(fleet, host, "Activation")["AlternateURL"] == "https://help.example.com/activation"
        assert service(fleet, host)["KeyManagementServiceHostCaching"] is False
        ntp = fleet.state(host)["registry"]["W32Time"]
        assert "ntpupdate.tencentyun.com" in str(ntp), ntp
    # An explicit per-build entry wins over the preset; the rest is already in place.
    again = site(fleet, NO_HOSTS, "cloud_clients", **extra, kms_client_server_map={20348: "kms01.corp.example.com"})
    assert again.rc == 0, again.output
    assert changed(again) == [("srv2022", "winact.kms.kms_client : Point the client at its KMS host")]
    assert service(fleet, "srv2022")["KeyManagementServiceMachine"] == "kms01.corp.example.com"


def test_kms_host_role_restarts_sppsvc_once_and_opens_the_firewall_rule(fleet: FleetRun) -> None:
    extra = {
        "kms_host_low_priority": True,
        "kms_host_activation_interval": 60,
        "kms_host_renewal_interval": 4320,
        "kms_host_firewall": True,
    }
    assert fleet.state("kms01")["firewall"]["SPPSVC-In-TCP"]["enabled"] is False
    run = site(fleet, "kms01", NO_HOSTS, **extra)
    assert run.rc == 0, run.output
    configure = run.task("winact.kms.kms_host : Configure the KMS host", "kms01")
    assert configure.changed and not configure.result["restarted"]
    restarts = run.tasks("winact.kms.kms_host : Restart sppsvc")
    assert list(restarts) == ["kms01"] and restarts["kms01"].result["restarted"]
    effective = fleet.state("kms01")["kms_host"]["effective"]
    assert (effective["low_priority"], effective["activation_interval"], effective["renewal_interval"]) == (
        True,
        60,
        4320,
    )
    assert fleet.state("kms01")["firewall"]["SPPSVC-In-TCP"]["enabled"] is True
    before = fleet.writes("kms01")
    again = site(fleet, "kms01", NO_HOSTS, **extra)
    assert again.rc == 0 and changed(again) == []
    assert fleet.writes("kms01") == before
