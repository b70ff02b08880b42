# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a winact.kms action plugin the way ansible-core does, with the fake host at the transport seam.

The plugin is a real ansible-core ActionBase built from a real ``Task``, ``PlayContext``, ``DataLoader`` and
``Templar``; only the connection is a stand-in. ``_action.connection_transport`` and ``_action.WmiClient`` are
replaced, so argument validation, scrubbing and result mapping of the base class all run, and the engine
talks to :class:`FakeHost` instead of WS-Management.
"""

from __future__ import annotations

import importlib
import typing as t

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins import loader as plugin_loader
from ansible.template import Templar

from ansible_collections.winact.kms.plugins.plugin_utils import _action
from ansible_collections.winact.kms.tests.unit.plugins.spp_fake import FakeHost

MODULES = ("activate", "activation_policy", "kms_client", "kms_host", "license_info", "product_key", "time_source")


class FakeShell:
    tmpdir: str | None = None  # ActionBase.run reads it; nothing is ever copied to the host


class FakeConnection:
    """The task's connection as far as ActionBase and the access-denied message read it."""

    transport = "winrm"

    def __init__(self, remote_user: str | None = "ansible") -> None:
        self._shell = FakeShell()
        self.remote_user = remote_user

    def get_option(self, name: str) -> t.Any:
        if name == "remote_user":
            return self.remote_user
        raise KeyError(name)


class UntouchedConnection:
    """A connection that fails the test on any use beyond the shell's tmpdir, which ActionBase.run always reads."""

    _shell = FakeShell()

    def __getattr__(self, name: str) -> t.Any:
        raise AssertionError(f"the connection was used ({name}) before validation finished")


class Seam:
    """Stands in for the WS-Man transport: each transport the base opens is recorded, the client is the fake."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, host: FakeHost | None) -> None:
        self.host = host
        self.opened: list[t.Any] = []  # the connections a transport was opened on
        monkeypatch.setattr(_action, "connection_transport", self._transport)
        monkeypatch.setattr(_action, "WmiClient", self._client)

    def _transport(self, connection: t.Any) -> t.Any:
        if self.host is None:
            raise AssertionError("the plugin opened a transport although the test expects no I/O")
        self.opened.append(connection)
        return connection

    def _client(self, transport: t.Any) -> FakeHost:
        assert self.host is not None and transport is self.opened[-1]
        return self.host


PluginT = t.TypeVar("PluginT", bound=_action.WinactAction[t.Any])


def build_action(
    module: str,
    args: t.Mapping[str, t.Any],
    *,
    check: bool = False,
    diff: bool = False,
    connection: FakeConnection | UntouchedConnection | None = None,
) -> _action.WinactAction[t.Any]:
    """``winact.kms.<module>`` as the plugin loader hands it to the task executor."""
    plugin_class: type[_action.WinactAction[t.Any]] = importlib.import_module(
        f"ansible_collections.winact.kms.plugins.action.{module}"
    ).ActionModule
    plugin = build_plugin(plugin_class, args, check=check, diff=diff, connection=connection)
    plugin._load_name = f"winact.kms.{module}"  # what PluginLoader.get sets; validation messages name it
    return plugin


def build_plugin(
    plugin_class: type[PluginT],
    args: t.Mapping[str, t.Any],
    *,
    check: bool = False,
    diff: bool = False,
    connection: FakeConnection | UntouchedConnection | None = None,
) -> PluginT:
    """An instance of any WinactAction subclass, constructed the way ansible-core constructs action plugins."""
    task = Task()
    task.args = dict(args)
    task.check_mode = check
    task.diff = diff
    loader = DataLoader()
    plugin = plugin_class(
        task=task,
        connection=t.cast(t.Any, connection or FakeConnection()),  # only what ActionBase and _action read
        play_context=PlayContext(),  # type: ignore[no-untyped-call]  # ansible-core leaves it unannotated
        loader=loader,
        templar=Templar(loader=loader),
        shared_loader_obj=plugin_loader,
    )
    plugin._load_name = plugin_class.__name__
    return plugin


def run_action(
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    args: t.Mapping[str, t.Any],
    host: FakeHost | None,
    *,
    check: bool = False,
    diff: bool = False,
    connection: FakeConnection | UntouchedConnection | None = None,
) -> tuple[dict[str, t.Any], Seam]:
    """The task result of one run; ``host=None`` fails the test if the plugin uses the connection at all."""
    seam = Seam(monkeypatch, host)
    if host is None and connection is None:
        connection = UntouchedConnection()
    plugin = build_action(module, args, check=check, diff=diff, connection=connection)
    return plugin.run(task_vars={}), seam
