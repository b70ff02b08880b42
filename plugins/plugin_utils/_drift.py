# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift gate: per host and per setting, what the site roles declare against what the host has.

``winact.kms.drift`` runs the site roles in check mode with a diff. Each role task registers its result;
this module turns those results (and the role variables that say which settings are declared) into one
summary: a check per host and setting, failed when the task would change it, with the declared and the
actual value from the task's diff. The same summary renders as JUnit XML, one test case per host and
setting, for CI systems.
"""

from __future__ import annotations

import dataclasses
import typing as t
import xml.etree.ElementTree as ET

# Registered result -> (area, how its declared settings are found). The areas are what the site roles manage.
KMS_HOST_SETTINGS = (
    "listening_port",
    "dns_publishing",
    "dns_publish_domains",
    "low_priority",
    "activation_interval",
    "renewal_interval",
)
CLIENT_SETTINGS = ("lookup_domain", "host_caching", "activation_interval", "renewal_interval")
POLICY_SETTINGS = ("alternate_url", "user_operations", "notifications_disabled")


@dataclasses.dataclass(frozen=True)
class Check:
    host: str
    area: str
    setting: str
    drifted: bool
    declared: t.Any = None
    actual: t.Any = None
    error: str | None = None

    def as_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


def _ran(result: t.Any) -> t.TypeGuard[t.Mapping[str, t.Any]]:
    return isinstance(result, t.Mapping) and not result.get("skipped") and bool(result)


def _given(host_vars: t.Mapping[str, t.Any], name: str) -> bool:
    value = host_vars.get(name)
    return value is not None and value != [] and value != {}


def _checks_of(
    host: str, area: str, result: t.Mapping[str, t.Any], declared: t.Iterable[str], *, shown: str | None = None
) -> list[Check]:
    """One check per declared setting; those the task would change have drifted, with the diff's values."""
    if result.get("failed") or result.get("unreachable"):
        return [Check(host, area, shown or area, True, error=str(result.get("msg") or "failed"))]
    changes = [str(c) for c in result.get("changes") or ()]
    diff = result.get("diff") or {}
    before, after = diff.get("before") or {}, diff.get("after") or {}
    names = list(dict.fromkeys([*declared, *changes]))
    return [
        Check(host, area, name, name in changes, declared=after.get(name), actual=before.get(name))
        if name in changes
        else Check(host, area, name, False)
        for name in names
    ]


def host_checks(host: str, host_vars: t.Mapping[str, t.Any]) -> list[Check]:
    """Every check of one host, from its registered results and the role variables it was given."""
    checks: list[Check] = []
    key = host_vars.get("kms_host_key_result")
    if _ran(key):
        checks += _key_check(host, "kms_host_key", key)
    settings = host_vars.get("kms_host_settings")
    if _ran(settings):
        declared = [s for s in KMS_HOST_SETTINGS if _given(host_vars, f"kms_host_{s}")]
        checks += _checks_of(host, "kms_host", settings, declared)
    firewall = host_vars.get("kms_host_firewall_result")
    if _ran(firewall):
        rules = [str(rule.get("display_name")) for rule in firewall.get("rules") or ()]
        checks += _checks_of(host, "kms_host_firewall", firewall, rules)
    for name, area in (("kms_host_activation", "kms_host_activation"), ("kms_client_activation_first", "activation")):
        activation = host_vars.get(name)
        if _ran(activation):
            checks.append(_activation_check(host, area, activation))
    client_key = host_vars.get("kms_client_key")
    if _ran(client_key):
        checks += _key_check(host, "product_key", client_key)
    time_source = host_vars.get("kms_client_time")
    if _ran(time_source):
        checks += _checks_of(host, "time_source", time_source, ["NtpServer", "Type"])
    client = host_vars.get("kms_client_settings")
    if _ran(client):
        declared = [s for s in CLIENT_SETTINGS if _given(host_vars, f"kms_client_{s}")]
        target = host_vars.get("kms_client_target") or {}
        if target.get("server") or host_vars.get("kms_client_dns_discovery"):
            declared = ["server", "port", *declared]
        checks += _checks_of(host, "kms_client", client, declared)
    policy = host_vars.get("kms_client_policy")
    if _ran(policy):
        declared = [s for s in POLICY_SETTINGS if _given(host_vars, f"kms_client_{s}")]
        checks += _checks_of(host, "activation_policy", policy, declared)
    return checks


def _key_check(host: str, area: str, result: t.Mapping[str, t.Any]) -> list[Check]:
    if result.get("failed"):
        return [Check(host, area, "product_key", True, error=str(result.get("msg") or "failed"))]
    diff = result.get("diff") or {}
    return [
        Check(
            host,
            area,
            "product_key",
            bool(result.get("changed")),
            declared=(diff.get("after") or {}).get("product_key") if result.get("changed") else None,
            actual=(diff.get("before") or {}).get("product_key") if result.get("changed") else None,
        )
    ]


def _activation_check(host: str, area: str, result: t.Mapping[str, t.Any]) -> Check:
    if result.get("failed"):
        return Check(host, area, "license_status", True, declared="Licensed", error=str(result.get("msg")))
    status = result.get("license_status_name")
    drifted = bool(result.get("changed"))
    return Check(host, area, "license_status", drifted, declared="Licensed", actual=status if drifted else None)


def summary(per_host: t.Mapping[str, t.Mapping[str, t.Any]]) -> dict[str, t.Any]:
    """The drift summary of the hosts the drift check ran on (those with results): checks, drift, totals."""
    by_host = {host: host_checks(host, per_host[host]) for host in sorted(per_host)}
    by_host = {host: found for host, found in by_host.items() if found}
    checks = [check for found in by_host.values() for check in found]
    drifted = [c for c in checks if c.drifted]
    return {
        "drifted": bool(drifted),
        "totals": {
            "hosts": len(by_host),
            "checks": len(checks),
            "drifted": len(drifted),
            "hosts_drifted": len({c.host for c in drifted}),
        },
        "drift": [c.as_dict() for c in drifted],
        "checks": [c.as_dict() for c in checks],
    }


def shown(setting: str, value: t.Any) -> str:
    """A value as people read it: no KMS host name means DNS auto-discovery."""
    if value is None:
        return "DNS auto-discovery" if setting == "server" else "not set"
    return repr(value)


def lines(report: t.Mapping[str, t.Any]) -> list[str]:
    """The summary for people: one line per drifted setting, then the totals."""
    out = [
        f"{c['host']}: {c['area']}.{c['setting']}: "
        + (
            f"failed: {c['error']}"
            if c.get("error")
            else f"declared {shown(c['setting'], c['declared'])}, actual {shown(c['setting'], c['actual'])}"
        )
        for c in report["drift"]
    ]
    totals = report["totals"]
    out.append(
        f"{totals['drifted']} of {totals['checks']} settings drifted on {totals['hosts_drifted']} of "
        f"{totals['hosts']} hosts"
    )
    return out


def junit(report: t.Mapping[str, t.Any], name: str = "winact.kms.drift") -> str:
    """JUnit XML: one test suite, one test case per host and setting; a drifted setting is a failure."""
    checks = report["checks"]
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(checks)),
        failures=str(sum(1 for c in checks if c["drifted"] and not c.get("error"))),
        errors=str(sum(1 for c in checks if c.get("error"))),
    )
    for check in checks:
        case_name = f"{check['area']}.{check['setting']}"
        case = ET.SubElement(suite, "testcase", classname=str(check["host"]), name=case_name)
        if check.get("error"):
            ET.SubElement(case, "error", message=str(check["error"]))
        elif check["drifted"]:
            setting = str(check["setting"])
            message = f"declared {shown(setting, check['declared'])}, actual {shown(setting, check['actual'])}"
            ET.SubElement(case, "failure", message=message).text = message
    suites = ET.Element("testsuites", name=name)
    suites.append(suite)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
