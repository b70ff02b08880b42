# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input fails before any I/O, naming the option: one real ansible-playbook run of every case of the table
against one emulated host, which must see zero requests. Legal strings with XML-special characters round-trip.
"""

from __future__ import annotations

import pathlib
import typing as t

import pytest
import yaml

from .conftest import FleetRun
from .settings_state import spp_values

HOST = "member"
XML_ILLEGAL = "\ufffe"
OVERSIZE = "a" * 600_000

# (module or role:<name>, arguments, the option the message must name)
Case = tuple[str, dict[str, t.Any], str]


def _module_cases() -> list[Case]:
    cases: list[Case] = []
    bad_servers = [
        "",
        " ",
        "kms host",
        "http://kms01",
        "kms01/activation",
        "kms01:1688",
        "[fd00::1]:1688",
        "fd00::1%eth0",
        "[fd00::1",
        "fd00::1]",
        "fd00:::1",
        "256.1.1.1",
        "kms_01",
        "-kms01",
        "averyveryverylongnetbiosname",
        "kms01..corp.example.com",
        "a" * 64 + ".example.com",
        "kms01.corp.123",
        "kms\x01host",
        "kmsé.example.com",
        "kms01" + XML_ILLEGAL,
    ]
    cases += [("kms_client", {"server": server}, "server") for server in bad_servers]
    bad_ports = [0, -1, 65536, 100000, "abc", True, 1.5, [1688]]
    cases += [("kms_client", {"server": "kms01", "port": port}, "port") for port in bad_ports]
    cases += [("kms_host", {"listening_port": port}, "listening_port") for port in bad_ports]
    bad_domains = [
        " ",
        "corp example.com",
        "corp..example.com",
        "-corp.example.com",
        "corp.example.com:53",
        "http://corp.example.com",
        "corp/example",
        "x" * 64 + ".com",
        "corp_example.com",
        "corp" + XML_ILLEGAL + ".example.com",
    ]
    cases += [("kms_client", {"lookup_domain": domain}, "lookup_domain") for domain in bad_domains]
    bad_intervals = [0, 14, 43201, -5, "often", False]
    for option in ("activation_interval", "renewal_interval"):
        cases += [("kms_client", {option: value}, option) for value in bad_intervals]
        cases += [("kms_host", {option: value}, option) for value in bad_intervals[:3]]
    cases += [
        ("kms_client", {"host_caching": "maybe"}, "host_caching"),
        ("kms_client", {"state": "gone"}, "state"),
        ("kms_client", {"state": "absent", "server": "kms01"}, "server"),
        ("kms_client", {"activation_id": "not-a-guid", "server": "kms01"}, "activation_id"),
        ("kms_client", {"restart_service": "sometimes"}, "restart_service"),
        ("kms_client", {"application": "outlook", "server": "kms01"}, "application"),
        ("kms_client", {"bogus": 1}, "bogus"),
        ("kms_client", {"server": OVERSIZE}, "server"),
        ("kms_host", {"dns_publishing": "perhaps"}, "dns_publishing"),
        ("kms_host", {"low_priority": "low"}, "low_priority"),
        ("kms_host", {"dns_publish_domains": "east.example.com"}, "dns_publish_domains"),
        ("kms_host", {"dns_publish_domains": [{"domain": "bad domain"}]}, "dns_publish_domains[0].domain"),
        ("kms_host", {"dns_publish_domains": [{"domain": "a.example.com", "priority": 70000}]}, "priority"),
        ("kms_host", {"dns_publish_domains": [{"domain": "a.example.com", "weight": -1}]}, "weight"),
        (
            "kms_host",
            {"dns_publish_domains": [{"domain": "a.example.com"}, {"domain": "A.example.com."}]},
            "dns_publish_domains[1].domain",
        ),
        ("kms_host", {"dns_publish_domains": [{"domain": "a" + XML_ILLEGAL + ".example.com"}]}, "domain"),
        ("kms_host", {"restart_service": "later"}, "restart_service"),
        ("kms_host", {"unknown_option": True}, "unknown_option"),
    ]
    bad_urls = [
        "ftp://help.example.com/",
        "help.example.com/activation",
        "https://",
        "https://help example.com/",
        "https://help.example.com:99999/",
        "javascript:alert(1)",
        "https://help.example.com/\x07",
        "https://help.example.com/" + XML_ILLEGAL,
        "https://help.example.com/" + OVERSIZE,
        "https://help.example.com/\uffff",
    ]
    cases += [("activation_policy", {"alternate_url": url}, "alternate_url") for url in bad_urls]
    cases += [
        ("activation_policy", {option: "sometimes"}, option)
        for option in ("user_operations", "notifications_disabled", "manual_activation", "skip_rearm")
    ]
    cases += [("activation_policy", {"restart_service": "no"}, "restart_service")]
    bad_keys = [
        "ABCDE",
        "ABCDE-FGHIJ-KLMNO-PQRST",
        "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z",
        "ABCDE FGHIJ KLMNO PQRST UVWXY",
        "ABCD€-FGHIJ-KLMNO-PQRST-UVWXY",
        "mak",
        12345,
    ]
    cases += [("product_key", {"key": key}, "key") for key in bad_keys]
    cases += [
        ("product_key", {"state": "installed"}, "state"),
        ("product_key", {"activation_id": "{not-a-guid}"}, "activation_id"),
        ("product_key", {"clear_registry": "yes please"}, "clear_registry"),
        ("product_key", {"restart_service": "maybe"}, "restart_service"),
        ("product_key", {"application": "visio"}, "application"),
        ("product_key", {"application": "office", "key": "avma"}, "key"),
        ("product_key", {"application": "office", "clear_registry": True}, "clear_registry"),
        ("activate", {"retries": -1}, "retries"),
        ("activate", {"delay": -10}, "delay"),
        ("activate", {"timeout": -1}, "timeout"),
        ("activate", {"retries": "twice"}, "retries"),
        ("activate", {"skip_preflight": ["clock", "moon"]}, "skip_preflight"),
        ("activate", {"activation_id": "1234"}, "activation_id"),
        ("activate", {"force": "sure"}, "force"),
        ("activate", {"application": "word"}, "application"),
        ("time_source", {"servers": []}, "servers"),
        ("time_source", {"servers": ["ntp1.example.com", "NTP1.example.com"]}, "servers"),
        ("time_source", {"servers": ["ntp1.example.com,0x99"]}, "servers"),
        ("time_source", {"servers": ["ntp1.example.com,zz"]}, "servers"),
        ("time_source", {"servers": ["ntp 1.example.com"]}, "servers"),
        ("time_source", {"servers": ["ntp1" + XML_ILLEGAL]}, "servers"),
        ("time_source", {"servers": ["ntp1.example.com"], "flags": 16}, "flags"),
        ("time_source", {"servers": ["ntp1.example.com"], "flags": -1}, "flags"),
        ("time_source", {"servers": ["ntp1.example.com"], "type": "NT5DS"}, "type"),
        ("license_info", {"event_count": -1}, "event_count"),
        ("license_info", {"event_count": 1001}, "event_count"),
        ("license_info", {"event_count": "many"}, "event_count"),
        ("license_info", {"activation_id": "not-a-guid"}, "activation_id"),
        ("license_info", {"events": "all"}, "events"),
        ("rearm", {"application_id": "not-a-guid"}, "application_id"),
        ("rearm", {"activation_id": "{1234}"}, "activation_id"),
        ("kms_firewall", {"enabled": "perhaps"}, "enabled"),
        ("spp_service", {"state": "stopped"}, "state"),
        ("phone_activation", {"confirmation_id": "not digits"}, "confirmation_id"),
        ("phone_activation", {"activation_id": "not-a-guid"}, "activation_id"),
        ("license_file", {}, "content"),
        ("license_file", {"content": "<a/>", "src": "x.xrm-ms"}, "content"),
        ("license_file", {"content": "   "}, "content"),
        ("license_file", {"content": "not a license"}, "content"),
        ("license_file", {"content": "<" + OVERSIZE + ">"}, "content"),
        ("license_file", {"src": "/nonexistent/license.xrm-ms"}, "src"),
        ("license_file", {"content": "<a/>", "force": "often"}, "force"),
        ("token_license", {"state": "present"}, "state"),
        ("token_license", {"state": "absent"}, "ilid"),
        ("token_license", {"state": "absent", "ilid": "not-a-guid"}, "ilid"),
        ("token_license", {"ilvid": 1}, "ilvid"),
        ("token_license", {"ilid": "8c1a0c4f-3a6b-4f5e-9d2a-6b7c1e0f2a3b", "ilvid": -1}, "ilvid"),
        ("token_license", {"ilid": "8c1a0c4f-3a6b-4f5e-9d2a-6b7c1e0f2a3b", "ilvid": "two"}, "ilvid"),
        ("ad_activation", {}, "csvlk"),
        ("ad_activation", {"csvlk": "HJ3QW-7VRCX"}, "csvlk"),
        ("ad_activation", {"csvlk": "W269N-WFGWX-YVC9B-4J6C9-T83GX"}, "csvlk"),
        (
            "ad_activation",
            {"csvlk": "HJ3QW-7VRCX-DM2KG-PT8BY-4MT8D", "activation_object_name": "n" * 41},
            "activation_object_name",
        ),
        ("ad_activation", {"csvlk": "HJ3QW-7VRCX-DM2KG-PT8BY-4MT8D", "confirmation_id": "12-ab"}, "confirmation_id"),
        ("ad_activation", {"csvlk": "HJ3QW-7VRCX-DM2KG-PT8BY-4MT8D", "offline": "maybe"}, "offline"),
        ("ad_activation", {"csvlk": "HJ3QW-7VRCX-DM2KG-PT8BY-4MT8D", "activate_host": "later"}, "activate_host"),
    ]
    return cases


def _role_cases() -> list[Case]:
    """Role entry points: their argument specs reject wrong types and choices before the first task."""
    wrong = {"int": "not-a-number", "bool": "maybe", "list": 5}
    cases: list[Case] = []
    for role in ("kms_client", "kms_host", "image_prep"):
        spec = yaml.safe_load(
            (pathlib.Path(__file__).parents[2] / "roles" / role / "meta" / "argument_specs.yml").read_text()
        )
        for name, option in spec["argument_specs"]["main"]["options"].items():
            if option.get("choices"):
                cases.append((f"role:{role}", {name: "not-a-choice"}, name))
            elif option.get("type") in wrong:
                cases.append((f"role:{role}", {name: wrong[option["type"]]}, name))
    # Checked by the role's own validation (a nested mapping): a port out of range, an unknown key.
    cases += [
        ("role:kms_client", {"kms_client_office": {"port": 70000}}, "kms_client_office"),
        ("role:kms_client", {"kms_client_office": {"sever": "kms01"}}, "kms_client_office"),
    ]
    return cases


def _role_value_cases() -> list[Case]:
    """Role variables of the right type that a module refuses: the role's validate step stops them (with the
    modules' own checks) before any task talks to the host."""
    client = "role:kms_client"
    cases: list[Case] = [
        (client, {"kms_client_server": server}, "kms_client_server")
        for server in (
            "256.1.1.1",
            "averyveryverylongnetbiosname",
            "fd00:::1",
            "[fd00::1",
            "kms-.example.com",
            "kms01.corp.123",
            "kms01" + XML_ILLEGAL,
            OVERSIZE,
        )
    ]
    cases += [
        (client, {"kms_client_server": "kms01", "kms_client_port": 65536}, "kms_client_port"),
        (client, {"kms_client_server_map": {14393: "256.1.1.1"}}, "kms_client_server_map"),
        (client, {"kms_client_server_map": {14393: "kms01:1688"}}, "kms_client_server_map"),
        (client, {"kms_client_lookup_domain": "corp example.com"}, "kms_client_lookup_domain"),
        (client, {"kms_client_lookup_domain": "x" * 64 + ".com"}, "kms_client_lookup_domain"),
        (client, {"kms_client_activation_interval": 43201}, "kms_client_activation_interval"),
        (client, {"kms_client_renewal_interval": 14}, "kms_client_renewal_interval"),
        (client, {"kms_client_alternate_url": "https://help.example.com/" + XML_ILLEGAL}, "kms_client_alternate_url"),
        (client, {"kms_client_alternate_url": "https://help.example.com/" + OVERSIZE}, "kms_client_alternate_url"),
        (client, {"kms_client_alternate_url": "https:///activation"}, "kms_client_alternate_url"),
        (client, {"kms_client_alternate_url": "ftp://help.example.com/"}, "kms_client_alternate_url"),
        (client, {"kms_client_time_servers": ["time.example.com,zz"]}, "kms_client_time_servers"),
        (client, {"kms_client_time_servers": ["time" + XML_ILLEGAL]}, "kms_client_time_servers"),
        (client, {"kms_client_activate_retries": -1}, "kms_client_activate_retries"),
        (client, {"kms_client_activate_delay": -1}, "kms_client_activate_delay"),
    ]
    host = "role:kms_host"
    cases += [
        (host, {"kms_host_key": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"}, "kms_host_key"),
        (host, {"kms_host_key": "not a key"}, "kms_host_key"),
        (host, {"kms_host_listening_port": 0}, "kms_host_listening_port"),
        (host, {"kms_host_activation_interval": 14}, "kms_host_activation_interval"),
        (host, {"kms_host_dns_publish_domains": [{"domain": "x" * 64 + ".com"}]}, "kms_host_dns_publish_domains"),
        (host, {"kms_host_dns_publish_domains": [{"domain": "corp..example.com"}]}, "kms_host_dns_publish_domains"),
        (
            host,
            {"kms_host_dns_publish_domains": [{"domain": "east.example.com", "priority": 70000}]},
            "kms_host_dns_publish_domains",
        ),
    ]
    image = "role:image_prep"
    cases += [
        (image, {"image_prep_kms_server": server}, "image_prep_kms_server")
        for server in ("256.1.1.1", "fd00:::1", "a" * 300, "kms 01;rm")
    ]
    cases += [(image, {"image_prep_kms_server": "kms01", "image_prep_kms_port": 0}, "image_prep_kms_port")]
    return cases


CASES = _module_cases() + _role_cases() + _role_value_cases()


def _task(index: int, case: Case) -> dict[str, t.Any]:
    target, args, _option = case
    name = f"case {index}"
    if target.startswith("role:"):
        role = target.removeprefix("role:")
        # A block stops at the failed argument validation: the role's own tasks never run.
        return {
            "name": name,
            "block": [{"name": name, "ansible.builtin.include_role": {"name": f"winact.kms.{role}"}, "vars": args}],
            "rescue": [{"name": f"{name} rescued", "ansible.builtin.meta": "noop"}],
        }
    return {"name": name, f"winact.kms.{target}": args, "ignore_errors": True}


@pytest.fixture(scope="module")
def fleet(fleet_factory: t.Callable[[str], FleetRun]) -> FleetRun:
    return fleet_factory("time")


def test_the_table_is_large_and_covers_every_entry_point() -> None:
    assert len(CASES) >= 120
    targets = {target for target, _args, _option in CASES}
    modules = {p.stem for p in (pathlib.Path(__file__).parents[2] / "plugins" / "modules").glob("[a-z]*.py")}
    assert modules | {"role:kms_client", "role:kms_host", "role:image_prep"} <= targets


def test_bad_input_fails_before_any_io_naming_the_option(fleet: FleetRun, tmp_path: pathlib.Path) -> None:
    playbook = tmp_path / "bad_input.yml"
    tasks = [_task(index, case) for index, case in enumerate(CASES)]
    playbook.write_text(yaml.safe_dump([{"name": "Bad input", "hosts": HOST, "gather_facts": False, "tasks": tasks}]))
    fleet.winemu("reset-stats", HOST)
    run = fleet.playbook(playbook, limit=HOST)
    failures = [r for r in run.results if r.status in ("failed", "ignored")]  # ignored: ignore_errors
    assert len(failures) == len(CASES), (run.output[-3000:], [r.task for r in run.results if r not in failures])
    for (target, args, option), result in zip(CASES, failures, strict=True):
        # A loop's failed items carry their own messages.
        items = [str(item.get("msg", "")) for item in result.result.get("results", []) if isinstance(item, dict)]
        msg = " ".join([str(result.result.get("msg", "")), *items])
        assert option in msg, (target, args if len(str(args)) < 200 else "...", msg[:300])
        assert len(msg) < 3000, (target, "the message quotes a huge value")
        assert result.result.get("changed") is False, (target, result.result)
    stats = fleet.stats(HOST)
    assert stats["requests"]["total"] == 0, stats
    assert stats["writes"] == 0


def test_legal_xml_special_characters_round_trip_verbatim(fleet: FleetRun, tmp_path: pathlib.Path) -> None:
    url = "https://help.example.com/activation?a=1&b=<2>&c=]]>&d='\"'"
    playbook = tmp_path / "policy.yml"
    task = {"name": "Policy", "winact.kms.activation_policy": {"alternate_url": url, "restart_service": "never"}}
    playbook.write_text(yaml.safe_dump([{"name": "Policy", "hosts": HOST, "gather_facts": False, "tasks": [task]}]))
    first = fleet.playbook(playbook, limit=HOST)
    assert first.rc == 0, first.output
    assert first.task("Policy", HOST).result["settings"]["alternate_url"] == url
    assert spp_values(fleet, HOST, "Activation")["AlternateURL"] == url
    again = fleet.playbook(playbook, limit=HOST)
    assert again.rc == 0 and again.task("Policy", HOST).changed is False
