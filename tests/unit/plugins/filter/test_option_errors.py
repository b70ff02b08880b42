# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.option_errors: a module's own option checks on the controller, and the roles' use of it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.winact.kms.plugins.filter.option_errors import FilterModule

option_errors = FilterModule().filters()["option_errors"]
ROOT = Path(__file__).resolve().parents[4]
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("[a-z]*.py"))


@pytest.mark.parametrize(
    ("module", "options", "expected"),
    [
        ("kms_client", {"server": "256.1.1.1"}, "kms_client_server: "),
        ("kms_client", {"server": "fd00:::1"}, "kms_client_server: 'fd00:::1' is not a valid IPv6 address"),
        ("kms_client", {"server": "kms01", "port": 65536}, "kms_client_port: 65536 is out of range; expected 1-65535"),
        ("kms_client", {"lookup_domain": "corp..example.com"}, "kms_client_lookup_domain: "),
        (
            "activation_policy",
            {"alternate_url": "https://a.example.com/\ufffe"},
            "kms_client_alternate_url: contains U+FFFE",
        ),
        ("activation_policy", {"alternate_url": "https://a.example.com/" + "a" * 600_000}, "MaxEnvelopeSize"),
        (
            "activation_policy",
            {"alternate_url": "https:///x"},
            "kms_client_alternate_url: 'https:///x' has no host name",
        ),
        ("kms_host", {"dns_publish_domains": [{"domain": "e.example.com", "weight": -1}]}, "domains[0].weight: -1"),
        ("time_source", {"servers": ["time.example.com,zz"]}, "kms_client_time_servers: flags 'zz'"),
        ("activate", {"retries": -1}, "kms_client_activate_retries: -1 is negative"),
    ],
)
def test_the_module_refusal_names_the_role_variable(module: str, options: dict[str, object], expected: str) -> None:
    names = {
        "server": "kms_client_server",
        "port": "kms_client_port",
        "lookup_domain": "kms_client_lookup_domain",
        "alternate_url": "kms_client_alternate_url",
        "dns_publish_domains": "kms_host_dns_publish_domains",
        "servers": "kms_client_time_servers",
        "retries": "kms_client_activate_retries",
    }
    problems = option_errors(options, module, names=names)
    assert len(problems) == 1 and expected in problems[0], problems
    assert len(problems[0]) < 1000  # a huge value is not quoted back


def test_accepted_options_give_no_problem_and_null_means_left_out() -> None:
    assert option_errors({"server": "kms01.corp.example.com", "port": 1688, "lookup_domain": None}, "kms_client") == []
    assert option_errors({"server": "[fd00::1]", "activation_interval": 120}, "kms_client") == []
    assert option_errors({"alternate_url": "https://help.example.com/a?b=1&c=<2>"}, "activation_policy") == []


def test_argument_spec_and_option_rules_come_first() -> None:
    assert "unable to convert to int" in option_errors({"port": "abc"}, "kms_client", names={"port": "p"})[0]
    assert "'p'" in option_errors({"port": "abc"}, "kms_client", names={"port": "p"})[0]
    assert "bogus" in option_errors({"bogus": 1}, "kms_client")[0]
    assert "mutually exclusive" in option_errors({"application_id": "x", "activation_id": "y"}, "rearm")[0]
    assert option_errors({"server": "kms01", "state": "absent"}, "kms_client") == [
        "server: cannot be used with state=absent, which clears the KMS host name and port so the client goes back "
        "to DNS auto-discovery"
    ]


def test_a_product_key_is_masked() -> None:
    key = "BCDFG-HJKMP-QRTVW-XY234-67890"  # the 0 is a character product keys never use
    problems = option_errors({"key": key}, "product_key", names={"key": "kms_host_key"})
    assert problems and problems[0].startswith("kms_host_key: ")
    assert key not in problems[0] and "HJKMP" not in problems[0] and "67890" in problems[0]


@pytest.mark.parametrize("module", MODULES)
def test_every_module_can_be_checked(module: str) -> None:
    assert isinstance(option_errors({}, module), list)


def test_an_unknown_module_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a module of this collection"):
        option_errors({}, "nope")


def _role_module_tasks(role: Path) -> list[tuple[str, str]]:
    """(module, task name) of every task of the role that passes role variables to a winact.kms module."""
    found = []
    for path in sorted((role / "tasks").glob("*.yml")) + sorted((role / "handlers").glob("*.yml")):
        for task in yaml.safe_load(path.read_text()) or []:
            for key, args in task.items():
                if key.startswith("winact.kms.") and re.search(rf"\b{role.name}_", yaml.safe_dump(args or {})):
                    found.append((key.removeprefix("winact.kms."), task.get("name", "")))
    return found


@pytest.mark.parametrize("role", sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir()))
def test_each_role_checks_every_module_it_feeds_before_any_host_task(role: str) -> None:
    """A role variable that reaches a module is checked by that module's own rules in the validate step."""
    path = ROOT / "roles" / role
    validate = path / "tasks" / "validate.yml"
    steps = (validate if validate.exists() else path / "tasks" / "main.yml").read_text()
    modules = {module for module, _name in _role_module_tasks(path)}
    assert modules, role
    missing = [m for m in sorted(modules) if f"winact.kms.option_errors('{m}'" not in steps]
    assert missing == [], f"{role} passes variables to {missing} without checking them first"
