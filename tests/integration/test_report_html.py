# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.report's HTML page, opened in a real headless Chromium: what it shows matches its JSON.

The page must be self-contained (no external scripts, styles, fonts or images). The screenshot is kept in
build/test-artifacts/ as a test artefact.
"""

from __future__ import annotations

import html.parser
import json
import pathlib
import re
import shutil
import subprocess
import typing as t

import pytest

from .conftest import REPO, FleetRun

PLAYBOOKS = REPO / "playbooks"
ARTIFACTS = REPO / "build" / "test-artifacts"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


class PageReader(html.parser.HTMLParser):
    """The totals, the status cards and the table rows of the rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.total: str = ""
        self.statuses: dict[str, str] = {}
        self.rows: dict[str, dict[str, str]] = {}
        self._in: tuple[str, str] | None = None  # (what, key) of the element whose text is read
        self._status: str | None = None
        self._row: str | None = None
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "img", "link", "iframe", "source") and (a.get("src") or a.get("href")):
            self.external.append(f"{tag} {a.get('src') or a.get('href')}")
        if a.get("id") == "total-hosts":
            self._in = ("total", "")
        if "status-total" in a.get("class", ""):
            self._status = a.get("data-status")
        elif self._status and a.get("class") == "n":
            self._in = ("status", self._status)
        if tag == "tr" and a.get("data-host"):
            self._row = a["data-host"]
            self.rows[self._row] = {}
        elif tag == "td" and self._row:
            self._in = ("cell", a.get("data-key", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None
        if tag in ("div", "td"):
            if tag == "div" and self._in and self._in[0] == "status":
                self._status = None
            self._in = None

    def handle_data(self, data: str) -> None:
        if not self._in:
            return
        what, key = self._in
        if what == "total":
            self.total += data.strip()
        elif what == "status":
            self.statuses[key] = self.statuses.get(key, "") + data.strip()
        elif what == "cell" and self._row:
            row = self.rows[self._row]
            row[key] = (row.get(key, "") + data).strip()


def chromium(*args: str, profile: pathlib.Path) -> subprocess.CompletedProcess[str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Debian's chromium is not installed (make integration installs it)"
    return subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def report(fleet_factory: t.Callable[[str], FleetRun], tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    fleet = fleet_factory("rollout_small")
    # Three clients of a fresh KMS host: they stay below the threshold, so the page has errors to explain.
    extra = {"kms_client_dns_discovery": True, "kms_client_activate_retries": 0}
    site = fleet.playbook(PLAYBOOKS / "site.yml", extra_vars=extra)
    assert site.rc == 0, site.output
    out = tmp_path_factory.mktemp("report")
    run = fleet.playbook(PLAYBOOKS / "report.yml", extra_vars={"winact_report_dir": str(out)})
    assert run.rc == 0, run.output
    assert f"Report: {out}/report.html" in run.output
    return out


def test_the_page_is_self_contained(report: pathlib.Path) -> None:
    page = (report / "report.html").read_text()
    reader = PageReader()
    reader.feed(page)
    assert reader.external == []
    assert not re.search(r"(?i)(src|href)\s*=\s*[\"']?(https?:)?//", page)
    assert not re.search(r"(?i)@import|url\(", page)
    assert page.count("<svg") == 3


def test_chromium_shows_the_totals_and_rows_of_the_json(report: pathlib.Path, tmp_path: pathlib.Path) -> None:
    data = json.loads((report / "report.json").read_text())
    url = (report / "report.html").as_uri()
    dumped = chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
    assert dumped.returncode == 0, dumped.stderr
    reader = PageReader()
    reader.feed(dumped.stdout)
    assert reader.total == str(data["totals"]["hosts"]) == "4"
    assert reader.statuses == {status: str(n) for status, n in data["totals"]["by_status"].items()}
    assert set(reader.rows) == {row["host"] for row in data["hosts"]}
    for row in data["hosts"]:
        shown = reader.rows[row["host"]]
        assert shown["status"] == row["status"]
        assert shown["build"] == str(row["build"])
        assert shown["key"] == (row["key_tail"] or "")
        assert shown["kms"] == row["kms"]
    for host in ("pc1", "pc2", "pc3"):
        assert "0xC004F038" in reader.rows[host]["error"], reader.rows[host]
    assert reader.rows["kms01"]["kms"] == "KMS host"
    assert data["kms_hosts"] == [
        {
            "host": "kms01",
            "count": 3,
            "client_threshold": 25,
            "server_threshold": 5,
            "activates_clients": False,
            "activates_servers": False,
        }
    ]

    # The table sorts by a column (here through a shared link to a sorted view).
    ordered = chromium("--dump-dom", url + "#sort=host-desc", profile=tmp_path / "profile-sort")
    assert ordered.returncode == 0, ordered.stderr
    sorted_reader = PageReader()
    sorted_reader.feed(ordered.stdout)
    assert list(sorted_reader.rows) == sorted(reader.rows, reverse=True) != list(reader.rows)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "report.png"
    screenshot.unlink(missing_ok=True)
    shot = chromium("--window-size=1400,1600", f"--screenshot={screenshot}", url, profile=tmp_path / "profile-shot")
    assert shot.returncode == 0, shot.stderr
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
