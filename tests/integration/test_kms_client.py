# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.kms_client end to end: check -> apply -> verify -> idempotent -> drift -> check, over WinRM."""

from __future__ import annotations

import typing as t

import pytest

from .conftest import FleetRun
from .settings_state import service, set_dword, spp_values

TASK = "Configure KMS client"


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("mixed")


def client(fleet: FleetRun, limit: str, *, check: bool = False, **options: t.Any) -> t.Any:
    return fleet.playbook(
        "kms_client.yml", limit=limit, check=check, diff=True, extra_vars={f"kms_{k}": v for k, v in options.items()}
    )


FULL: dict[str, t.Any] = {
    "server": "kms01.corp.example.com",
    "port": 1700,
    "lookup_domain": "corp.example.com",
    "host_caching": False,
    "activation_interval": 60,
    "renewal_interval": 4320,
}


def test_point_clients_at_a_host(fleet: FleetRun) -> None:
    hosts = ["w11pro", "srv2022"]
    limit = ",".join(hosts)
    writes = fleet.all_writes()

    checked = client(fleet, limit, check=True, **FULL)
    assert checked.rc == 0, checked.output
    for host in hosts:
        result = checked.task(TASK, host).result
        assert result["changed"] is True
        assert result["changes"] == list(FULL)
        assert result["diff"]["after"] == FULL
        assert result["diff"]["before"]["server"] is None
        assert result["restart_required"] is True and result["restarted"] is False
    assert fleet.all_writes() == writes, "check mode must not write"

    applied = client(fleet, limit, **FULL)
    assert applied.rc == 0, applied.output
    for host in hosts:
        result = applied.task(TASK, host).result
        assert result["changed"] is True and result["restarted"] is True
        assert result["settings"] == FULL  # the activation type is not managed here, so not read
        values = spp_values(fleet, host)
        assert values["KeyManagementServiceName"] == "kms01.corp.example.com"
        assert values["KeyManagementServicePort"] == "1700"
        assert values["KeyManagementServiceLookupDomain"] == "corp.example.com"
        assert values["VLActivationInterval"] == 60
        assert values["VLRenewalInterval"] == 4320
        props = service(fleet, host)
        assert props["KeyManagementServiceMachine"] == "kms01.corp.example.com"
        assert props["KeyManagementServicePort"] == 1700
        assert props["KeyManagementServiceHostCaching"] is False

    writes = fleet.all_writes()
    again = client(fleet, limit, **FULL)
    assert again.rc == 0, again.output
    for host in hosts:
        result = again.task(TASK, host).result
        assert result["changed"] is False and result["changes"] == []
        assert result["restarted"] is False
        assert result["diff"] == {"before": {}, "after": {}}
    assert fleet.all_writes() == writes, "an idempotent run must not write"

    # Drift on one host: someone changes the port and the renewal interval behind Ansible's back.
    version = service(fleet, "w11pro")["Version"]
    fleet.invoke(
        "w11pro",
        "SoftwareLicensingService",
        "SetKeyManagementServicePort",
        selectors={"Version": version},
        params={"PortNumber": 1800},
    )
    set_dword(fleet, "w11pro", "VLRenewalInterval", 999)
    writes = fleet.all_writes()
    drift = client(fleet, limit, check=True, **FULL)
    assert drift.rc == 0, drift.output
    drifted = drift.task(TASK, "w11pro").result
    assert drifted["changed"] is True
    assert drifted["changes"] == ["port", "renewal_interval"]
    assert drifted["diff"] == {
        "before": {"port": 1800, "renewal_interval": 999},
        "after": {"port": 1700, "renewal_interval": 4320},
    }
    assert drift.task(TASK, "srv2022").result["changed"] is False
    assert fleet.all_writes() == writes

    fixed = client(fleet, "w11pro", **FULL)
    assert fixed.task(TASK, "w11pro").result["changes"] == ["port", "renewal_interval"]
    assert spp_values(fleet, "w11pro")["KeyManagementServicePort"] == "1700"


def test_back_to_dns_discovery(fleet: FleetRun) -> None:
    host = "w10edu"
    assert client(fleet, host, server="kms01.corp.example.com", port=1700, lookup_domain="corp.example.com").rc == 0

    writes = fleet.writes(host)
    checked = client(fleet, host, check=True, state="absent")
    result = checked.task(TASK, host).result
    assert result["changes"] == ["server", "port", "lookup_domain"]
    assert result["diff"]["after"] == {"server": None, "port": 1688, "lookup_domain": None}
    assert fleet.writes(host) == writes

    cleared = client(fleet, host, state="absent")
    result = cleared.task(TASK, host).result
    assert result["changed"] is True and result["restarted"] is False  # /ckms needs no restart (§3.9)
    values = spp_values(fleet, host)
    for name in ("KeyManagementServiceName", "KeyManagementServicePort", "KeyManagementServiceLookupDomain"):
        assert name not in values
    assert result["settings"]["server"] is None and result["settings"]["port"] == 1688

    writes = fleet.writes(host)
    again = client(fleet, host, state="absent")
    assert again.task(TASK, host).result["changed"] is False
    assert fleet.writes(host) == writes


def test_server_alone_clears_a_custom_port(fleet: FleetRun) -> None:
    host = "srv2016"
    assert client(fleet, host, server="kms01.corp.example.com", port=1700).rc == 0
    run = client(fleet, host, server="kms01.corp.example.com")
    result = run.task(TASK, host).result
    assert result["changes"] == ["port"]
    assert "KeyManagementServicePort" not in spp_values(fleet, host)


def test_ipv6_host_is_stored_bracketed(fleet: FleetRun) -> None:
    host = "srv2019"
    run = client(fleet, host, server="fd00:ec2::250", port=1688)
    assert run.rc == 0, run.output
    assert spp_values(fleet, host)["KeyManagementServiceName"] == "[fd00:ec2::250]"
    writes = fleet.writes(host)
    again = client(fleet, host, server="[FD00:EC2:0::250]")
    assert again.task(TASK, host).result["changed"] is False
    assert fleet.writes(host) == writes


def test_per_product_name_and_port(fleet: FleetRun) -> None:
    host = "w11ent"
    product = next(p for p in fleet.state(host)["licensing"]["products"] if p["partial_product_key"])
    sku_key = f"{product['application_id']}\\{product['id']}"
    options = {"server": "kms-office.corp.example.com", "port": 1701, "activation_id": product["id"].upper()}

    writes = fleet.writes(host)
    checked = client(fleet, host, check=True, **options)
    assert checked.task(TASK, host).result["changes"] == ["server", "port"]
    assert fleet.writes(host) == writes

    applied = client(fleet, host, **options)
    result = applied.task(TASK, host).result
    assert result["changed"] is True and result["activation_id"] == product["id"]
    assert spp_values(fleet, host, sku_key) == {
        "KeyManagementServiceName": "kms-office.corp.example.com",
        "KeyManagementServicePort": "1701",
    }
    assert "KeyManagementServiceName" not in spp_values(fleet, host), "the global name must stay untouched"

    writes = fleet.writes(host)
    assert client(fleet, host, **options).task(TASK, host).result["changed"] is False
    assert fleet.writes(host) == writes

    removed = client(fleet, host, state="absent", activation_id=product["id"])
    assert removed.task(TASK, host).result["changes"] == ["server", "port"]
    assert spp_values(fleet, host, sku_key) == {}


def test_unknown_product_fails_clearly(fleet: FleetRun) -> None:
    run = client(fleet, "w81ent", server="kms01", activation_id="00000000-0000-0000-0000-000000000001")
    result = run.task(TASK, "w81ent")
    assert result.failed
    assert "no product with Activation ID 00000000-0000-0000-0000-000000000001" in result.result["msg"]


def test_reads_take_few_round_trips(fleet: FleetRun) -> None:
    host = "srv2012r2"
    assert client(fleet, host, **FULL).rc == 0
    fleet.winemu("reset-stats", host)
    run = client(fleet, host, **FULL)
    assert run.task(TASK, host).result["changed"] is False
    by_method = fleet.stats(host)["requests"]["by_method"]
    wmi = {name: count for name, count in by_method.items() if "Shell" not in name and "shell" not in name}
    # One WQL query of SoftwareLicensingService, the two registry interval values and the host's note of a
    # restart still owed for them (docs/reliability.md); the activation type, not given, is not read.
    assert wmi == {
        "enumerate:SoftwareLicensingService": 1,
        "StdRegProv.GetDWORDValue": 2,
        "StdRegProv.GetMultiStringValue": 1,
    }, by_method


INVALID = {
    "Client port 0": "port: 0 is out of range; expected 1-65535",
    "Client port 70000": "port: 70000 is out of range; expected 1-65535",
    "Client activation interval 14": "activation_interval: 14 is out of range; expected 15-43200 minutes",
    "Client renewal interval 43201": "renewal_interval: 43201 is out of range; expected 15-43200 minutes",
    "Empty server": "server: must not be empty",
    "Server with spaces": "server: 'kms 01' contains whitespace",
    "Server with a scheme": "has a URL scheme",
    "Server with a path": "contains a path",
    "Server with a port": "includes a port; give the port in the 'port' option",
    "Malformed IPv6 server": "is not a valid IPv6 address",
    "IPv6 server with a zone index": "zone index",
    "Invalid lookup domain": "lookup_domain: 'corp_example..com'",
    "Server with state absent": "server: cannot be used with state=absent",
    "Unknown client option": "Unsupported parameters",
    "Host listening port 0": "listening_port: 0 is out of range; expected 1-65535",
    "Host publish priority out of range": "dns_publish_domains[0].priority: 65536 is out of range; expected 0-65535",
    "Host publish weight out of range": "dns_publish_domains[0].weight: -1 is out of range; expected 0-65535",
    "Host publish domain invalid": "dns_publish_domains[0].domain: 'KMS_E1' has an invalid label",
    "Unknown host option": "Unsupported parameters",
    "Alternate URL with another scheme": "alternate_url: 'ftp://help.contoso.com/activation' has scheme 'ftp'",
    "Unknown policy option": "Unsupported parameters",
}


def test_bad_arguments_fail_before_any_request(fleet: FleetRun) -> None:
    host = "w10ltsc"
    fleet.winemu("reset-stats", host)
    writes = fleet.writes(host)
    run = fleet.playbook("settings_invalid.yml", limit=host)
    assert run.rc == 0, run.output  # every task ignores its error
    for task, message in INVALID.items():
        result = run.task(task, host)
        assert result.status == "ignored", (task, result.result)
        assert message in result.result["msg"], (task, result.result["msg"])
        assert result.result.get("changed") is False
    assert "Traceback" not in run.output
    assert fleet.writes(host) == writes
    assert fleet.stats(host)["requests"]["total"] == 0, "validation must fail before any WS-Man request"


def _license_product(fleet: FleetRun, host: str) -> dict[str, t.Any]:
    run = fleet.playbook("license_info.yml", limit=host)
    assert run.rc == 0, run.output
    return t.cast(dict[str, t.Any], run.task("Read license info", host).result["windows_product"])


def test_activation_type_globally_and_per_product(fleet: FleetRun) -> None:
    host = "w10edu"
    writes = fleet.writes(host)
    checked = client(fleet, host, check=True, activation_type="kms")
    result = checked.task(TASK, host).result
    assert result["changed"] is True and result["changes"] == ["activation_type"]
    assert result["diff"] == {"before": {"activation_type": "all"}, "after": {"activation_type": "kms"}}
    assert fleet.writes(host) == writes, "check mode must not write"

    applied = client(fleet, host, activation_type="kms")
    result = applied.task(TASK, host).result
    assert result["changed"] is True and result["restarted"] is False
    assert result["settings"]["activation_type"] == "kms"
    assert spp_values(fleet, host)["VLActivationType"] == 2
    assert _license_product(fleet, host)["activation_type_configured"] == "KMS"

    writes = fleet.writes(host)
    assert client(fleet, host, activation_type="kms").task(TASK, host).result["changed"] is False
    assert fleet.writes(host) == writes

    # Per product: VLActivationType under <AppID>\<SKU-ID> (slmgr /act-type 1 <ActID>), which overrides the global one.
    product = next(p for p in fleet.state(host)["licensing"]["products"] if p["partial_product_key"])
    sku_key = f"{product['application_id']}\\{product['id']}"
    per_product = client(fleet, host, activation_type="ad", activation_id=product["id"])
    assert per_product.task(TASK, host).result["changes"] == ["activation_type"]
    assert spp_values(fleet, host, sku_key) == {"VLActivationType": 1}
    assert spp_values(fleet, host)["VLActivationType"] == 2, "the global type must stay untouched"
    assert _license_product(fleet, host)["activation_type_configured"] == "AD"

    # AD-only: the client no longer activates against a KMS host, and the failure says so.
    activated = fleet.playbook("activate.yml", limit=host, extra_vars={"act_retries": 0})
    failure = activated.task("Activate", host)
    assert failure.failed and "0xC004F074" in failure.result["msg"], failure.result

    cleared = client(fleet, host, activation_type="all", activation_id=product["id"])
    assert cleared.task(TASK, host).result["diff"]["after"] == {"activation_type": "all"}
    assert client(fleet, host, activation_type="all").task(TASK, host).result["changed"] is True
    assert "VLActivationType" not in spp_values(fleet, host)
    assert spp_values(fleet, host, sku_key) == {}
    assert _license_product(fleet, host)["activation_type_configured"] == "All"


def test_activation_type_is_validated_before_any_request(fleet: FleetRun) -> None:
    host = "w10edu"
    fleet.winemu("reset-stats", host)
    run = client(fleet, host, activation_type="kms-only")
    result = run.task(TASK, host)
    assert result.failed
    assert "activation_type" in result.result["msg"] and "all, ad, kms, token" in result.result["msg"]
    assert fleet.stats(host)["requests"]["total"] == 0
