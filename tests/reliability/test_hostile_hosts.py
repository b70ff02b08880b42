# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A broken or hostile host gets a clean failure that names it, and the controller's memory stays bounded.

Each case answers the first request of a ``license_info`` task with something no Windows host sends. The task
runs in this process (over a real pywinrm transport), so the process's peak RSS is the controller's.
"""

from __future__ import annotations

import resource
import typing as t

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _wsman
from ansible_collections.winact.kms.tests.reliability import harness as h

# Peak RSS growth allowed per hostile answer: the 4 MiB response cap, the parsed tree and the libraries'
# buffers fit well within it; a 1 GiB gzip bomb or a 50 MB body read whole would not.
RSS_BOUND = 64 * 1024 * 1024

# kind -> what the failure says (besides the host's address)
HOSTILE: dict[str, str] = {
    "hostile": "DOCTYPE",  # the entity expansion ("billion laughs") is refused at its DOCTYPE
    "external_entity": "DOCTYPE",
    "wrong_relates_to": "relates to",
    "malformed": "malformed XML",
    "html": "not a WS-Management answer",
    "empty": "malformed XML",
    "wrong_root": "not a SOAP 1.2 envelope",
    "huge": "over the 4194304 byte limit",
    "gzip_bomb": "exceeds the 4194304 byte limit",
    "deep": "nest deeper than 128 levels",
    "truncated_enumeration": "",
    "endless_paging": "did not end after 1000 pages",
    "trickle": "did not finish its answer within",
}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[h.RemoteFleet]:
    running = h.RemoteFleet(h.fleet_spec(len(HOSTILE), 0), tmp_path_factory.mktemp("hostile"))
    yield running
    running.close()


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_answer_fails_cleanly_naming_the_host(
    fleet: h.RemoteFleet, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_wsman, "DEADLINE_GRACE", 1.0)  # a trickling host is cut 1 s after the read timeout
    host = fleet.host(f"c{list(HOSTILE).index(kind) + 1:03d}")
    host.configure_faults({f"{kind}_at_request": 1, "trickle_ms": 300})
    before = _peak_rss()
    result = h.run_task("license_info", host, {})
    growth = _peak_rss() - before
    assert result.get("failed") or result.get("unreachable"), result
    assert result["changed"] is False and "applied" not in result
    message = str(result["msg"])
    assert host.url in message, message  # names the host
    assert HOSTILE[kind] in message, message
    assert "Traceback" not in message and len(message) < 2000
    assert growth < RSS_BOUND, f"peak RSS grew by {growth} bytes"
