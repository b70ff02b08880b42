# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.kms_host end to end on the emulated KMS host: check -> apply -> verify -> idempotent -> drift."""

from __future__ import annotations

import typing as t

import pytest

from .conftest import FleetRun
from .settings_state import HKLM, SPP, service, spp_values

TASK = "Configure KMS host"
HOST = "kms01"


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("mixed")


def kms_host(fleet: FleetRun, limit: str = HOST, *, check: bool = False, **options: t.Any) -> t.Any:
    return fleet.playbook(
        "kms_host.yml", limit=limit, check=check, diff=True, extra_vars={f"kms_{k}": v for k, v in options.items()}
    )


def effective(fleet: FleetRun) -> dict[str, t.Any]:
    """The host settings sppsvc runs with (read when it last started)."""
    return t.cast(dict[str, t.Any], fleet.state(HOST)["kms_host"]["effective"])


def test_port_publishing_priority_and_intervals(fleet: FleetRun) -> None:
    options: dict[str, t.Any] = {
        "listening_port": 1700,
        "dns_publishing": False,
        "low_priority": True,
        "activation_interval": 60,
        "renewal_interval": 4320,
    }
    writes = fleet.writes(HOST)
    checked = kms_host(fleet, check=True, **options)
    assert checked.rc == 0, checked.output
    result = checked.task(TASK, HOST).result
    assert result["changes"] == [
        "listening_port",
        "dns_publishing",
        "low_priority",
        "activation_interval",
        "renewal_interval",
    ]
    assert result["diff"]["before"] == {
        "listening_port": 1688,
        "dns_publishing": True,
        "low_priority": False,
        "activation_interval": 120,
        "renewal_interval": 10080,
    }
    assert result["diff"]["after"] == options
    assert result["restart_required"] is True and result["restarted"] is False
    assert fleet.writes(HOST) == writes

    applied = kms_host(fleet, **options)
    assert applied.rc == 0, applied.output
    result = applied.task(TASK, HOST).result
    assert result["changed"] is True and result["restarted"] is True
    for option, value in options.items():
        assert result["settings"][option] == value
    values = spp_values(fleet, HOST)
    assert values["KeyManagementServiceListeningPort"] == "1700"  # REG_SZ (§3.7)
    assert values["DisableDnsPublishing"] == 1
    assert values["EnableKmsLowPriority"] == 1
    assert values["VLActivationInterval"] == 60 and values["VLRenewalInterval"] == 4320
    # restart_service=auto restarted sppsvc, so the host now runs with the new settings.
    now = effective(fleet)
    assert now["listening_port"] == 1700 and now["dns_publishing"] is False and now["low_priority"] is True

    writes = fleet.writes(HOST)
    again = kms_host(fleet, **options)
    result = again.task(TASK, HOST).result
    assert result["changed"] is False and result["restarted"] is False
    assert fleet.writes(HOST) == writes

    version = service(fleet, HOST)["Version"]
    fleet.invoke(
        HOST,
        "SoftwareLicensingService",
        "EnableKeyManagementServiceLowPriority",
        selectors={"Version": version},
        params={"EnableLowPriority": "false"},
    )
    writes = fleet.writes(HOST)
    drift = kms_host(fleet, check=True, **options)
    result = drift.task(TASK, HOST).result
    assert result["changes"] == ["low_priority"]
    assert result["diff"] == {"before": {"low_priority": False}, "after": {"low_priority": True}}
    assert fleet.writes(HOST) == writes

    # Back to the defaults so the other tests start from a known host.
    reset = kms_host(
        fleet,
        listening_port=1688,
        dns_publishing=True,
        low_priority=False,
        activation_interval=120,
        renewal_interval=10080,
    )
    assert reset.rc == 0, reset.output
    assert "KeyManagementServiceListeningPort" not in spp_values(fleet, HOST)  # 1688 clears the custom port


EAST_WEST: list[dict[str, t.Any]] = [
    {"domain": "east.contoso.com", "priority": 10, "weight": 75},
    {"domain": "west.contoso.com", "priority": 90, "weight": 75},
]


def test_multi_site_dns_publish_domains(fleet: FleetRun) -> None:
    writes = fleet.writes(HOST)
    checked = kms_host(fleet, check=True, dns_publish_domains=EAST_WEST)
    result = checked.task(TASK, HOST).result
    assert result["changes"] == ["dns_publish_domains"]
    assert result["diff"] == {"before": {"dns_publish_domains": []}, "after": {"dns_publish_domains": EAST_WEST}}
    assert fleet.writes(HOST) == writes

    applied = kms_host(fleet, dns_publish_domains=EAST_WEST)
    result = applied.task(TASK, HOST).result
    assert result["changed"] is True and result["restarted"] is True
    assert spp_values(fleet, HOST)["DnsDomainPublishList"] == ["east.contoso.com, 10, 75", "west.contoso.com, 90, 75"]
    # sppsvc restarted (restart_service=auto), so the host now publishes in its own domain and both sites.
    records = fleet.state(HOST)["kms_host"]["srv_records"]
    assert {(r["domain"], r["priority"], r["weight"], r["port"]) for r in records} == {
        ("corp.example.com", 0, 0, 1688),
        ("east.contoso.com", 10, 75, 1688),
        ("west.contoso.com", 90, 75, 1688),
    }

    writes = fleet.writes(HOST)
    assert kms_host(fleet, dns_publish_domains=EAST_WEST).task(TASK, HOST).result["changed"] is False
    assert fleet.writes(HOST) == writes

    # An array parameter is the same --param repeated.
    fleet.winemu(
        "invoke",
        HOST,
        "StdRegProv",
        "SetMultiStringValue",
        "--namespace",
        "root/default",
        "--param",
        f"hDefKey={HKLM}",
        "--param",
        f"sSubKeyName={SPP}",
        "--param",
        "sValueName=DnsDomainPublishList",
        "--param",
        "sValue=east.contoso.com, 10, 25",
        "--param",
        "sValue=west.contoso.com, 90, 75",
    )
    drift = kms_host(fleet, check=True, dns_publish_domains=EAST_WEST)
    result = drift.task(TASK, HOST).result
    assert result["changes"] == ["dns_publish_domains"]
    assert result["diff"]["before"]["dns_publish_domains"][0] == {
        "domain": "east.contoso.com",
        "priority": 10,
        "weight": 25,
    }

    removed = kms_host(fleet, dns_publish_domains=[])
    assert removed.task(TASK, HOST).result["changes"] == ["dns_publish_domains"]
    assert "DnsDomainPublishList" not in spp_values(fleet, HOST)


def test_restart_never_reports_the_pending_restart(fleet: FleetRun) -> None:
    before = effective(fleet)["listening_port"]
    run = kms_host(fleet, listening_port=1701, restart_service="never")
    result = run.task(TASK, HOST).result
    assert result["changed"] is True
    assert result["restart_required"] is True and result["restarted"] is False
    assert spp_values(fleet, HOST)["KeyManagementServiceListeningPort"] == "1701"
    assert effective(fleet)["listening_port"] == before, "sppsvc still runs with the old port"
    assert kms_host(fleet, listening_port=1688).rc == 0


def test_host_only_settings_fail_on_a_client(fleet: FleetRun) -> None:
    client = "srv2025"
    for check in (True, False):
        writes = fleet.writes(client)
        run = kms_host(fleet, client, check=check, listening_port=1700, low_priority=True)
        result = run.task(TASK, client)
        assert result.failed
        assert "not a KMS host" in result.result["msg"]
        assert result.result["not_kms_host"] == ["listening_port", "low_priority"]
        assert fleet.writes(client) == writes
