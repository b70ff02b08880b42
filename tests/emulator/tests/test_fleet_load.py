"""Fleet YAML parsing: defaults, count expansion, generated addresses, validation errors."""

from __future__ import annotations

import json
import textwrap
import typing as t
from pathlib import Path

import pytest
from winemu_lib import cim, spp_products
from winemu_lib.fleet import Account, FaultSpec, Fleet, HostSpec
from winemu_lib.machine import Machine

ADMIN = {"username": "Administrator", "password": "Winact-2026!", "admin": True}


def fleet_dict(
    *hosts: dict[str, t.Any], keys: t.Sequence[dict[str, t.Any]] = (), **defaults: t.Any
) -> dict[str, t.Any]:
    return {
        "defaults": {"domain": "corp.example.com", "accounts": [ADMIN], **defaults},
        "keys": list(keys),
        "hosts": list(hosts),
    }


def load(*hosts: dict[str, t.Any], keys: t.Sequence[dict[str, t.Any]] = (), **defaults: t.Any) -> Fleet:
    return Fleet.from_dict(fleet_dict(*hosts, keys=keys, **defaults))


def test_load_file_with_defaults_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yml"
    path.write_text(
        textwrap.dedent(
            """
            defaults:
              domain: corp.example.com
              accounts:
                - {username: Administrator, password: "Winact-2026!", admin: true}
                - {username: operator, password: "op"}
              https: false
            hosts:
              - name: kms01
                edition: ServerDatacenter
                build: 20348
                ip: 192.0.2.10
                ipv6: "2001:db8::10"
                kms_host: {csvlk_group: "Windows Server 2022", extra_count: 30}
                https: true
                port: 5986
                faults: {latency_ms: 5, drop_at_request: 3}
              - name: ws01
                edition: Professional
                build: 22631
                domain: east.example.com
            """
        ),
        encoding="utf-8",
    )
    fleet = Fleet.load(path)
    assert list(fleet.hosts) == ["kms01", "ws01"]
    kms01 = fleet.hosts["kms01"]
    assert isinstance(kms01, HostSpec)
    assert kms01.fqdn == "kms01.corp.example.com"
    assert (kms01.port, kms01.https) == (5986, True)
    assert kms01.accounts == [
        Account("Administrator", "Winact-2026!", True),
        Account("operator", "op", False),
    ]
    assert kms01.faults == FaultSpec(latency_ms=5, drop_at_request=3, fault_at_request=None)
    assert isinstance(kms01.machine, Machine)
    assert (kms01.machine.ip, kms01.machine.ipv6) == ("192.0.2.10", "2001:db8::10")
    ws01 = fleet.hosts["ws01"]
    assert ws01.fqdn == "ws01.east.example.com"
    assert ws01.https is False and ws01.port == 0
    assert ws01.faults == FaultSpec()


def test_count_expands_names_and_generates_unique_addresses() -> None:
    fleet = load(
        {"name": "ws{index:03d}", "count": 12, "edition": "Enterprise", "build": 19045},
        {"name": "srv01", "edition": "ServerStandard", "build": 17763, "ip": "192.0.2.1"},
    )
    names = list(fleet.hosts)
    assert names[:3] == ["ws001", "ws002", "ws003"] and names[11] == "ws012" and names[12] == "srv01"
    addresses = [spec.machine.ip for spec in fleet.hosts.values()]
    assert len(set(addresses)) == len(addresses)
    # The explicit address is kept out of the generated pool.
    assert addresses.count("192.0.2.1") == 1 and fleet.hosts["srv01"].machine.ip == "192.0.2.1"


def test_format_fields_take_the_index() -> None:
    fleet = load(
        {
            "name": "ws{index}",
            "count": 2,
            "edition": "Enterprise",
            "build": 19045,
            "ip": "198.51.100.{index}",
            "ipv6": "2001:db8::{index}",
        }
    )
    assert [(s.machine.ip, s.machine.ipv6) for s in fleet.hosts.values()] == [
        ("198.51.100.1", "2001:db8::1"),
        ("198.51.100.2", "2001:db8::2"),
    ]


def test_large_fleet_loads_lazily() -> None:
    fleet = load({"name": "ws{index:03d}", "count": 500, "edition": "Professional", "build": 22631})
    assert len(fleet.hosts) == 500
    machine = fleet.hosts["ws250"].machine
    assert machine._state is None  # nothing built until the machine is used
    ctx = cim.CallContext("Administrator", True)
    assert machine.instances("root/cimv2", "Win32_ComputerSystem", ctx)[0]["Name"] == "WS250"
    assert fleet.hosts["ws251"].machine._state is None


def test_state_is_json_and_never_shows_a_full_non_gvlk_key() -> None:
    mak = "QQQQQ-WWWWW-RRRRR-TTTTT-YYYYY"
    fleet = load(
        {"name": "ws01", "edition": "Professional", "build": 22631, "license": {"key": mak, "status": "licensed"}},
        keys=[{"key": mak, "channel": "Volume:MAK", "editions": ["Professional"]}],
    )
    dump = json.dumps(fleet.hosts["ws01"].machine.state())
    assert "YYYYY" in dump  # the partial key
    assert mak not in dump


@pytest.mark.parametrize(
    ("host", "fragment"),
    [
        (
            {"name": "ws01", "edition": "Professional", "build": 22631, "colour": "blue"},
            "host 'ws01': host: unknown key(s) colour",
        ),
        ({"name": "ws01", "edition": "Nope", "build": 22631}, "host 'ws01': edition/build: unknown edition 'Nope'"),
        ({"name": "ws01", "edition": "Professional", "build": 12345}, "host 'ws01': edition/build"),
        ({"name": "ws01", "edition": "ServerDatacenter", "build": 22631}, "not a known Windows Server build"),
        ({"name": "ws", "count": 3, "edition": "Professional", "build": 22631}, "host 'ws': name: with count > 1"),
        ({"name": "ws01", "edition": "Professional", "build": "22631"}, "host 'ws01': build: must be an integer"),
        ({"name": "bad_name", "edition": "Professional", "build": 22631}, "name: 'bad_name' is not a valid host name"),
        ({"name": "ws01", "edition": "Professional", "build": 22631, "ip": "10.0.0.999"}, "host 'ws01': ip:"),
        (
            {"name": "ws01", "edition": "Professional", "build": 22631, "port": 70000},
            "host 'ws01': port: must be at most",
        ),
        (
            {
                "name": "ws01",
                "edition": "Professional",
                "build": 22631,
                "license": {"key": "none", "status": "licensed"},
            },
            "license.status: a machine without a key is unlicensed",
        ),
        (
            {"name": "ws01", "edition": "Professional", "build": 22631, "license": {"key": "gvlk", "status": "great"}},
            "license.status: must be one of",
        ),
        (
            {
                "name": "ws01",
                "edition": "Professional",
                "build": 22631,
                "license": {"key": "NPPR9-FWDCX-D2C8J-H872K-2YT43"},
            },
            "license.key: cannot be installed",
        ),
        (
            {"name": "ws01", "edition": "ServerStandard", "build": 25398},
            "has no GVLK; use none or a key",
        ),
        (
            {
                "name": "k1",
                "edition": "ServerDatacenter",
                "build": 20348,
                "kms_host": {"csvlk_group": "Windows Server 2019"},
            },
            "kms_host.csvlk_group: 'Windows Server 2019' cannot be hosted",
        ),
        (
            {
                "name": "k1",
                "edition": "ServerTurbine",
                "build": 20348,
                "kms_host": {"csvlk_group": "Windows Server 2022"},
            },
            "cannot be hosted",
        ),
        (
            {"name": "k1", "edition": "ServerDatacenter", "build": 20348, "kms_host": {"csvlk_group": "Windows 2000"}},
            "unknown CSVLK group",
        ),
        (
            {"name": "ws01", "edition": "Professional", "build": 22631, "sppsvc": {"start_mode": "Sometimes"}},
            "sppsvc.start_mode",
        ),
        (
            {"name": "ws01", "edition": "Professional", "build": 22631, "kms_client": {"port": 0}},
            "kms_client.port: must be at least 1",
        ),
        ({"name": "ws01", "edition": "Professional", "build": 22631, "accounts": []}, "host 'ws01': accounts"),
        ({"name": "ws01", "edition": "Professional", "build": 22631, "cmid": "nope"}, "cmid: 'nope' is not a GUID"),
    ],
)
def test_host_errors_name_host_and_key(host: dict[str, t.Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        load(host)
    assert fragment in str(info.value)


def test_duplicates_are_refused() -> None:
    with pytest.raises(ValueError, match="host 'WS01': name: 'WS01' is used by more than one host"):
        load(
            {"name": "ws01", "edition": "Professional", "build": 22631},
            {"name": "WS01", "edition": "Professional", "build": 22631},
        )
    with pytest.raises(ValueError, match="192.0.2.7 is already used by ws01"):
        load(
            {"name": "ws01", "edition": "Professional", "build": 22631, "ip": "192.0.2.7"},
            {"name": "ws02", "edition": "Professional", "build": 22631, "ip": "192.0.2.7"},
        )
    with pytest.raises(ValueError, match="port: 5985 is also used by ws01"):
        load(
            {"name": "ws01", "edition": "Professional", "build": 22631, "port": 5985},
            {"name": "ws02", "edition": "Professional", "build": 22631, "port": 5985},
        )


@pytest.mark.parametrize(
    ("keys", "fragment"),
    [
        ([{"key": "ABC", "channel": "Retail", "editions": ["Professional"]}], "keys[0]: key: 'ABC' is not a 5x5"),
        ([{"key": "W269N-WFGWX-YVC9B-4J6C9-T83GX", "channel": "Retail", "editions": ["Professional"]}], "public GVLK"),
        ([{"key": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "channel": "Volume:GVLK", "editions": ["Professional"]}], "channel"),
        ([{"key": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "channel": "Volume:MAK"}], "editions: must be a non-empty list"),
        ([{"key": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "channel": "Volume:MAK", "editions": ["Pro"]}], "unknown EditionID"),
        ([{"key": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "channel": "Volume:CSVLK"}], "csvlk_group"),
        (
            [
                {"key": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "channel": "Retail", "editions": ["Professional"]},
                {"key": "aaaaa-aaaaa-aaaaa-aaaaa-aaaaa", "channel": "Retail", "editions": ["Professional"]},
            ],
            "keys[1]: key: is listed twice",
        ),
    ],
)
def test_key_list_errors(keys: list[dict[str, t.Any]], fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        load({"name": "ws01", "edition": "Professional", "build": 22631}, keys=keys)
    assert fragment in str(info.value)


def test_top_level_and_defaults_errors() -> None:
    with pytest.raises(ValueError, match="unknown top-level key"):
        Fleet.from_dict({"hosts": [], "extra": 1})
    with pytest.raises(ValueError, match="hosts: must be a non-empty list"):
        Fleet.from_dict({"hosts": []})
    with pytest.raises(ValueError, match="defaults: unknown or per-host key"):
        Fleet.from_dict(fleet_dict({"name": "ws01", "edition": "Professional", "build": 22631}, count=2))


def test_kms_host_uses_the_fleet_csvlk_or_a_fabricated_one() -> None:
    csvlk = "HHHHH-JJJJJ-KKKKK-MMMMM-PPPPP"
    fleet = load(
        {
            "name": "kms01",
            "edition": "ServerDatacenter",
            "build": 20348,
            "kms_host": {"csvlk_group": "Windows Server 2022"},
        },
        {
            "name": "kms02",
            "edition": "ServerStandard",
            "build": 17763,
            "kms_host": {"csvlk_group": "Windows Server 2019"},
        },
        keys=[{"key": csvlk, "channel": "Volume:CSVLK", "csvlk_group": "Windows Server 2022"}],
    )
    host1 = fleet.hosts["kms01"].machine.licensing.host_product()
    host2 = fleet.hosts["kms02"].machine.licensing.host_product()
    assert host1 is not None and host1.key == csvlk and host1.channel == spp_products.CHANNEL_CSVLK
    assert host2 is not None and host2.csvlk_group == "Windows Server 2019" and host2.key != csvlk
    assert fleet.keys[host2.key or ""].channel == spp_products.CHANNEL_CSVLK
    with pytest.raises(ValueError, match="license.key: a kms_host has its CSVLK installed"):
        load(
            {
                "name": "kms01",
                "edition": "ServerDatacenter",
                "build": 20348,
                "kms_host": {"csvlk_group": "Windows Server 2022"},
                "license": {"key": "gvlk"},
            }
        )
