# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of the fleet features: the KMS count shortfall, the drift summary and JUnit, the report data."""

from __future__ import annotations

import datetime
import typing as t
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _activation as activation
from ansible_collections.winact.kms.plugins.plugin_utils import _drift as drift
from ansible_collections.winact.kms.plugins.plugin_utils import _fleet_report as report
from ansible_collections.winact.kms.plugins.plugin_utils import _kms_count as kms_count
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError

EVENTS: list[dict[str, t.Any]] = [
    {"event_id": 12289, "kms_current_count": 3, "activation_interval": 120},
    {"event_id": 12288, "kms_server": "kms01.corp.example.com:1688", "n_policy": 25},
    {"event_id": 12289, "kms_current_count": 2, "activation_interval": 120},
]


def test_shortfall_reads_the_newest_request_and_response() -> None:
    found = kms_count.shortfall(EVENTS)
    assert found == {"kms_host": "kms01.corp.example.com:1688", "count": 3, "threshold": 25, "retry_minutes": 120}
    text = kms_count.shortfall_text(found)
    assert text.startswith("count 3 of 25: the KMS host kms01.corp.example.com:1688")
    assert "VLActivationInterval" in text


def test_shortfall_without_events_assumes_the_client_threshold() -> None:
    assert kms_count.shortfall(None) == {"kms_host": None, "count": None, "threshold": 25, "retry_minutes": 120}
    assert kms_count.shortfall_text(kms_count.shortfall([])).startswith("count unknown of 25")


def test_below_threshold_option_is_validated_before_any_io() -> None:
    assert activation.build_request({"below_threshold": "warn"}).below_threshold == "warn"
    assert activation.build_request({}).below_threshold == "fail"
    with pytest.raises(ValidationError, match="below_threshold"):
        activation.build_request({"below_threshold": "ignore"})


HOST_VARS = {
    "kms_client_server": "kms01.corp.example.com",
    "kms_client_target": {"server": "kms01.corp.example.com", "port": 1688},
    "kms_client_activation_interval": 120,
    "kms_client_key": {"changed": False},
    "kms_client_time": {"skipped": True},
    "kms_client_settings": {
        "changed": True,
        "changes": ["server"],
        "diff": {"before": {"server": "rogue.example.net"}, "after": {"server": "kms01.corp.example.com"}},
    },
    "kms_client_policy": {"skipped": True},
    "kms_client_activation_first": {"changed": False, "license_status_name": "Licensed"},
}


def test_drift_summary_lists_every_declared_setting_and_marks_the_drifted_ones() -> None:
    summary = drift.summary({"w11pro": HOST_VARS, "other": {}})
    checks = {(c["area"], c["setting"]): c for c in summary["checks"]}
    assert set(checks) == {
        ("product_key", "product_key"),
        ("kms_client", "server"),
        ("kms_client", "port"),
        ("kms_client", "activation_interval"),
        ("activation", "license_status"),
    }
    assert summary["drift"] == [
        {
            "host": "w11pro",
            "area": "kms_client",
            "setting": "server",
            "drifted": True,
            "declared": "kms01.corp.example.com",
            "actual": "rogue.example.net",
            "error": None,
        }
    ]
    assert summary["totals"] == {"hosts": 1, "checks": 5, "drifted": 1, "hosts_drifted": 1}
    assert drift.shown("server", None) == "DNS auto-discovery" and drift.shown("port", None) == "not set"
    assert drift.lines(summary)[0] == (
        "w11pro: kms_client.server: declared 'kms01.corp.example.com', actual 'rogue.example.net'"
    )


def test_junit_has_one_case_per_host_and_setting_and_a_failure_per_drift() -> None:
    summary = drift.summary({"w11pro": HOST_VARS, "kms01": {"kms_host_settings": {"failed": True, "msg": "boom"}}})
    root = ET.fromstring(drift.junit(summary))
    assert root.get("name") == "winact.kms.drift"
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == (str(len(cases)), "1", "1")
    failures = [c.find("failure") for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in cases if c.find("failure") is not None] == ["kms_client.server"]
    assert failures[0] is not None
    assert failures[0].get("message") == "declared 'kms01.corp.example.com', actual 'rogue.example.net'"
    assert [c.get("classname") for c in cases if c.find("error") is not None] == ["kms01"]


def test_report_rows_totals_and_expiry_buckets() -> None:
    client = {
        "os": {"edition_id": "Enterprise", "build_number": 22631, "caption": "Windows 11 Enterprise"},
        "windows_product": {
            "license_status_name": "OOBGrace",
            "product_key_channel": "Volume:GVLK",
            "partial_product_key": "2YT43",
            "grace_period_remaining_minutes": 43200,
            "grace_period_expires": "2027-01-05T00:00:00+00:00",
        },
        "kms_client": {"registered_name": None},
        "kms_host": None,
        "events": {
            "client": [
                {
                    "event_id": 12288,
                    "success": False,
                    "kms_server": "kms01:1688",
                    "error": {"hresult": "0xC004F038", "symbol": "SL_E_VL_NOT_ENOUGH_COUNT"},
                }
            ]
        },
    }
    host = {
        "os": {"edition_id": "ServerDatacenter", "build_number": 26100},
        "windows_product": {"license_status_name": "Licensed", "grace_period_remaining_minutes": 0},
        "kms_client": {},
        "kms_host": {"current_count": 3, "activates_client_os": False, "activates_server_os": False},
    }
    data = report.build(
        {"pc1": client, "kms01": host, "gone": {"unreachable": True, "msg": "timed out"}},
        now=datetime.datetime(2026, 12, 6, tzinfo=datetime.UTC),
    )
    assert data["totals"] == {
        "hosts": 3,
        "by_status": {"Licensed": 1, "OOBGrace": 1, "Unreachable": 1},
        "with_error": 2,
    }
    rows = {row["host"]: row for row in data["hosts"]}
    assert rows["pc1"]["days_left"] == 30.0 and rows["pc1"]["kms"] == "DNS auto-discovery"
    assert rows["pc1"]["error"]["symbol"] == "SL_E_VL_NOT_ENOUGH_COUNT"
    assert rows["kms01"]["kms"] == "KMS host"
    buckets = {b["label"]: b["hosts"] for b in data["expiry"]}
    assert buckets["30-90 days"] == 1 and buckets["no expiry"] == 1 and sum(buckets.values()) == 2
    assert data["kms_hosts"][0]["count"] == 3
