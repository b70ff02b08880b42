# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark session hooks: print the derived numbers (per page, per request, hosts/s) after the timings."""

from __future__ import annotations

import pytest

from ansible_collections.winact.kms.tests.benchmarks.harness import REPORT


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORT:
        return
    terminalreporter.section("winact.kms benchmark targets")
    for title, metrics in REPORT:
        terminalreporter.write_line(f"{title}:")
        for name, value in metrics.items():
            terminalreporter.write_line(f"    {name:<34} {value}")
