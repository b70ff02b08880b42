# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The per-request deadline before the response body: a watchdog that cuts a request's connections off.

A read timeout bounds each socket read, not a whole answer: a host that sends its status line and headers a
byte at a time keeps every read short and the request alive for ever, before any response hook can look at
it. The watchdog runs beside the request and, when the deadline passes, shuts down the sockets of the
session's connections, which ends any read blocked on them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

_MARK = "_winact_deadline_tracked"


class ConnectionRegistry:
    """The HTTP connections a requests session opened (weakly held: the session's pools own them)."""

    def __init__(self) -> None:
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, connection: Any) -> None:
        with self._lock:
            self._connections.add(connection)

    def cut_off(self) -> None:
        """Shut every tracked socket down, both ways: a read blocked on one returns at once."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            sock = getattr(connection, "sock", None)
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def track_connections(session: Any, registry: ConnectionRegistry) -> None:
    """Register every connection ``session`` has and will open in ``registry``.

    requests gives no hook before the response headers, so this wraps, on this session's own objects only,
    the urllib3 pool manager's pool factory and each pool's connection factory.
    """
    for adapter in getattr(session, "adapters", {}).values():
        manager = getattr(adapter, "poolmanager", None)
        if manager is None:
            continue
        for key in list(manager.pools.keys()):
            pool = manager.pools.get(key)
            if pool is not None:
                _track_pool(pool, registry)
        _wrap(manager, "_new_pool", lambda pool: _track_pool(pool, registry))


def _track_pool(pool: Any, registry: ConnectionRegistry) -> None:
    for connection in list(getattr(getattr(pool, "pool", None), "queue", ())):
        if connection is not None:
            registry.add(connection)
    _wrap(pool, "_new_conn", registry.add)


def _wrap(owner: Any, name: str, after: Callable[[Any], None]) -> None:
    """Make ``owner.name(...)`` also hand its result to ``after`` (once, however often this is called)."""
    original = getattr(owner, name, None)
    if original is None or getattr(original, _MARK, False):
        return

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        made = original(*args, **kwargs)
        after(made)
        return made

    setattr(wrapped, _MARK, True)
    setattr(owner, name, wrapped)


class Watchdog:
    """Cuts the tracked connections off when a request outlives ``seconds``; :attr:`expired` says it did."""

    def __init__(self, registry: ConnectionRegistry) -> None:
        self._registry = registry
        self.expired = False

    @contextlib.contextmanager
    def watch(self, seconds: float) -> Iterator[None]:
        self.expired = False
        timer = threading.Timer(max(seconds, 0.0), self._expire)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def _expire(self) -> None:
        self.expired = True
        self._registry.cut_off()
