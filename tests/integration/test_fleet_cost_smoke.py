# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A one-host run of the fleet cost benchmark (tests/benchmarks/fleet_cost.py), so its harness stays working."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.winact.kms.tests.benchmarks import fleet_cost

SHELL_ACTIONS = {"Create", "Delete", "Command", "Send", "Receive", "Signal"}


def test_fleet_cost_on_one_host(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, svg = tmp_path / "results.json", tmp_path / "results.svg"
    rc = fleet_cost.main(["--hosts", "1", "--latency-ms", "0", "--forks", "2", "--out", str(out), "--svg", str(svg)])
    assert rc == 0, capsys.readouterr()
    scenarios = json.loads(out.read_text())["sizes"]["1"]
    full, again, drift = scenarios["a_full_configuration"], scenarios["b_no_change"], scenarios["c_drift"]
    assert full["rc"] == 0 and full["writes_per_host"] > 0
    assert full["requests_by_method_per_host"]["SoftwareLicensingProduct.Activate"] == 1
    for second in (again, drift):
        assert second["writes_per_host"] == 0 and 0 < second["requests_per_host"] < full["requests_per_host"]
        assert not SHELL_ACTIONS & set(second["requests_by_action_per_host"])
        assert second["bytes_sent_per_host"] > 0 and second["bytes_received_per_host"] > 0
    assert drift["rc"] == 0  # nothing drifted after the configuration
    assert "<svg" in svg.read_text() and "| 1 | b_no_change |" in capsys.readouterr().out
