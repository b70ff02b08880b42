"""The fleet's emulated network: name resolution and _vlmcs._tcp SRV records ("KMS and DNS troubleshooting")."""

from __future__ import annotations

import typing as t

from winemu_lib.fleet import Fleet

ADMIN = {"username": "Administrator", "password": "Winact-2026!", "admin": True}


def load(*hosts: dict[str, t.Any]) -> Fleet:
    return Fleet.from_dict({"defaults": {"domain": "corp.example.com", "accounts": [ADMIN]}, "hosts": list(hosts)})


def kms(name: str, **extra: t.Any) -> dict[str, t.Any]:
    host = {"csvlk_group": "Windows Server 2022", **extra.pop("kms_host", {})}
    return {"name": name, "edition": "ServerDatacenter", "build": 20348, "kms_host": host, **extra}


def client(name: str, **extra: t.Any) -> dict[str, t.Any]:
    return {"name": name, "edition": "Enterprise", "build": 22631, **extra}


def test_resolution_by_fqdn_short_name_and_addresses() -> None:
    fleet = load(
        kms("kms01", ip="192.0.2.10", ipv6="2001:db8::10"),
        client("ws01"),
        client("ws02", domain="east.example.com"),
        client("ws03", domain="west.example.com"),
    )
    net = fleet.network
    kms01 = fleet.hosts["kms01"].machine
    ws01 = fleet.hosts["ws01"].machine
    assert net.resolve("KMS01.corp.example.com.") is kms01
    assert net.resolve("kms01", ws01) is kms01
    assert net.resolve("192.0.2.10") is kms01
    assert net.resolve("[2001:db8::10]") is kms01
    assert net.resolve("2001:0db8:0000::0010") is kms01
    assert net.resolve("kms01.other.example.com") is None
    assert net.resolve("192.0.2.250") is None
    assert net.resolve("") is None
    # Short names are unique in a fleet, so one in another domain still resolves.
    assert net.resolve("ws02", ws01) is fleet.hosts["ws02"].machine
    assert net.resolve("WS03", ws01) is fleet.hosts["ws03"].machine
    assert net.resolve("ws99", ws01) is None


def test_srv_records_follow_effective_publishing() -> None:
    fleet = load(
        kms(
            "kms01",
            kms_host={"publish_domains": [{"domain": "east.example.com", "priority": 10, "weight": 75}]},
        ),
        kms("kms02", kms_host={"publish_domains": [{"domain": "east.example.com", "priority": 10, "weight": 25}]}),
        kms("kms03", domain="east.example.com"),
        kms("kms04", kms_host={"dns_publishing": False}),
        kms("kms05", license={"status": "oob_grace"}),  # not activated: nothing published
        client("ws01"),
    )
    net = fleet.network
    own = net.srv_records("corp.example.com")
    assert {(r.target, r.priority, r.weight, r.port) for r in own} == {
        ("kms01.corp.example.com", 0, 0, 1688),
        ("kms02.corp.example.com", 0, 0, 1688),
    }
    east = net.srv_records("EAST.example.com")
    assert [(r.target, r.priority, r.weight) for r in east] == [
        ("kms03.east.example.com", 0, 0),
        ("kms01.corp.example.com", 10, 75),
        ("kms02.corp.example.com", 10, 25),
    ]
    assert net.srv_records("west.example.com") == []


def test_srv_port_is_the_effective_listening_port() -> None:
    fleet = load(kms("kms01", kms_host={"listening_port": 1700}))
    assert [r.port for r in fleet.network.srv_records("corp.example.com")] == [1700]
