"""One process serves a 500-host fleet (one listener per host) on one event loop."""

from __future__ import annotations

import resource
import typing as t

from winemu_lib import server

if t.TYPE_CHECKING:
    from .conftest import RunningFleet

HOSTS = 500


def test_five_hundred_hosts_start_and_serve(start_fleet: t.Callable[..., RunningFleet]) -> None:
    running = start_fleet(HOSTS, service_count=3)
    ports = {endpoint.port for endpoint in running.server.hosts.values()}
    assert len(running.server.hosts) == HOSTS and len(ports) == HOSTS
    for name in ("ws001", "ws137", "ws250", "ws499", "ws500"):
        items, _trips = running.query("SELECT Name FROM Win32_Service", host=name)
        assert len(items) == 3
    stats = running.server.stats()
    assert sum(host["requests"]["total"] for host in stats.values()) == 10  # Enumerate + Pull on 5 hosts
    assert stats["ws250"]["requests"]["by_action"] == {"Enumerate": 1, "Pull": 1}
    assert stats["ws002"]["requests"]["total"] == 0


def test_open_file_limit_is_raised_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        if hard != resource.RLIM_INFINITY and hard > 256:
            resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        new_soft, new_hard = server.raise_open_file_limit()
        assert new_hard == hard
        assert new_soft == hard or (hard == resource.RLIM_INFINITY and new_soft >= 256)
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == new_soft
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
