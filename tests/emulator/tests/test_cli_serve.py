"""``winemu serve`` as a process: ready line, inventory, clean stop on SIGTERM/SIGINT, real fleet files."""

from __future__ import annotations

import collections.abc
import json
import signal
import subprocess
import sys
import typing as t
import urllib.parse
from pathlib import Path

import pytest
import yaml
from winemu_lib import soap
from winrm.protocol import Protocol

if t.TYPE_CHECKING:
    from .conftest import WinemuRunner

READY_TIMEOUT = 120


class Served:
    def __init__(self, process: subprocess.Popen[str], inventory: Path) -> None:
        self.process = process
        self.inventory_path = inventory
        self.inventory: dict[str, t.Any] = yaml.safe_load(inventory.read_text())

    def host_vars(self, name: str) -> dict[str, t.Any]:
        return t.cast(dict[str, t.Any], self.inventory["all"]["hosts"][name])

    def url(self, name: str) -> str:
        host = self.host_vars(name)
        scheme = host.get("ansible_winrm_scheme", self.inventory["all"]["vars"]["ansible_winrm_scheme"])
        return f"{scheme}://{host['ansible_host']}:{host['ansible_port']}/wsman"

    def protocol(self, name: str) -> Protocol:
        host = {**self.inventory["all"]["vars"], **self.host_vars(name)}
        return Protocol(  # as the inventory says: NTLM with message encryption on Windows-default hosts
            endpoint=self.url(name),
            transport=host["ansible_winrm_transport"],
            username=host["ansible_user"],
            password=host["ansible_password"],
            message_encryption=host["ansible_winrm_message_encryption"],
            server_cert_validation="ignore",
        )

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=30)


def start(command: list[str], inventory: Path, env: dict[str, str]) -> Served:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()  # "ready" arrives once everything listens
    if line != "ready\n":
        process.kill()
        _output, err = process.communicate(timeout=30)
        raise AssertionError(f"no ready line: {line!r}\n{err}")
    return Served(process, inventory)


@pytest.fixture
def serve(winemu: WinemuRunner, tmp_path: Path) -> collections.abc.Iterator[t.Callable[..., Served]]:
    """Start ``winemu serve`` (a fleet file, or None for the fake fleet of conftest); killed at teardown."""
    started: list[Served] = []

    def run(fleet: str | None, count: int = 3) -> Served:
        inventory = tmp_path / f"inventory-{len(started)}.yml"
        if fleet is None:
            # The fake fleet of conftest.py, through the real CLI entry point.
            script = (
                "import sys\n"
                f"sys.path[:0] = [{str(winemu.tests_dir)!r}, {str(winemu.path.parent)!r}]\n"
                "import conftest\n"
                "from winemu_lib import cli\n"
                f"cli.load_fleet = lambda path: conftest.make_fleet({count})\n"
                "raise SystemExit(cli.main(sys.argv[1:]))\n"
            )
            command = [sys.executable, "-c", script, "serve", "--fleet", "fake", "--inventory", str(inventory)]
        else:
            command = winemu.command("serve", "--fleet", str(winemu.fleets_dir / fleet), "--inventory", str(inventory))
        served = start(command, inventory, winemu.env())
        started.append(served)
        return served

    try:
        yield run
    finally:
        for served in started:
            if served.process.poll() is None:
                served.process.kill()
                served.process.wait(timeout=30)
            for stream in (served.process.stdout, served.process.stderr):
                if stream is not None:
                    stream.close()


def test_ready_inventory_and_sigterm(serve: t.Callable[..., Served], winemu: WinemuRunner) -> None:
    served = serve(None)
    assert sorted(served.inventory["all"]["hosts"]) == ["ws001", "ws002", "ws003"]
    control = urllib.parse.urlsplit(served.inventory["all"]["vars"]["winemu_control"])
    assert control.hostname == "127.0.0.1" and control.port
    client = served.protocol("ws002")
    client.close_shell(client.open_shell())
    stats = winemu("stats", "--inventory", str(served.inventory_path), "ws002")
    assert json.loads(stats.stdout)["requests"]["by_action"] == {"Create": 1, "Delete": 1}
    assert served.stop(signal.SIGTERM) == 0


def test_sigint_stops_cleanly(serve: t.Callable[..., Served]) -> None:
    served = serve(None, count=1)
    assert served.stop(signal.SIGINT) == 0
    assert served.process.stderr is not None
    assert "Traceback" not in served.process.stderr.read()


def test_bad_fleet_file_exits_2(winemu: WinemuRunner, tmp_path: Path) -> None:
    fleet = tmp_path / "bad.yml"
    fleet.write_text("hosts: [{name: x, edition: NoSuchEdition, build: 1}]\n")
    inventory = tmp_path / "inventory.yml"
    result = winemu("serve", "--fleet", str(fleet), "--inventory", str(inventory))
    assert result.returncode == 2
    assert "cannot load fleet" in result.stderr and result.stdout == ""
    assert not inventory.exists()
    missing = winemu("serve", "--fleet", str(tmp_path / "missing.yml"), "--inventory", str(inventory))
    assert missing.returncode == 2 and "cannot load fleet" in missing.stderr


def test_port_in_use_fails_without_ready(winemu: WinemuRunner, tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        fleet = tmp_path / "fleet.yml"
        fleet.write_text(
            yaml.safe_dump(
                {
                    "defaults": {
                        "domain": "corp.example.com",
                        "accounts": [{"username": "Administrator", "password": "x", "admin": True}],
                    },
                    "hosts": [{"name": "h1", "edition": "ServerStandard", "build": 20348, "port": port}],
                }
            )
        )
        result = winemu("serve", "--fleet", str(fleet), "--inventory", str(tmp_path / "inventory.yml"))
    assert result.returncode == 1
    assert "ready" not in result.stdout
    assert f"h1: cannot listen on 127.0.0.1:{port}" in result.stderr


def wql(client: Protocol, query: str) -> list[dict[str, str]]:
    """A one-shot optimized WQL enumeration + pulls over pywinrm, items as {property: text}."""
    import uuid
    import xml.etree.ElementTree as ET

    ns = {"s": soap.NS_S, "n": soap.NS_N, "w": soap.NS_W}

    def send(action: str, body: str) -> ET.Element:
        message = (
            f'<s:Envelope xmlns:s="{soap.NS_S}" xmlns:a="{soap.NS_A}" xmlns:w="{soap.NS_W}" xmlns:n="{soap.NS_N}">'
            f"<s:Header><a:To>{client.transport.endpoint}</a:To>"
            f"<w:ResourceURI>{soap.WMI_URI_PREFIX}root/cimv2/*</w:ResourceURI><a:Action>{action}</a:Action>"
            f"<a:MessageID>uuid:{uuid.uuid4()}</a:MessageID><w:MaxEnvelopeSize>153600</w:MaxEnvelopeSize>"
            f"<w:OperationTimeout>PT20S</w:OperationTimeout></s:Header><s:Body>{body}</s:Body></s:Envelope>"
        )
        return ET.fromstring(client.send_message(message))

    root = send(
        soap.ACTION_ENUMERATE,
        f'<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements><w:Filter Dialect="'
        f'{soap.WQL_DIALECT}">{soap.xml_text(query)}</w:Filter></n:Enumerate>',
    )
    items = list(root.findall("s:Body/n:EnumerateResponse/w:Items/*", ns))
    done = root.find("s:Body/n:EnumerateResponse/w:EndOfSequence", ns) is not None
    context = root.findtext("s:Body/n:EnumerateResponse/n:EnumerationContext", namespaces=ns)
    while not done:
        root = send(
            soap.ACTION_PULL,
            f"<n:Pull><n:EnumerationContext>{context}</n:EnumerationContext><n:MaxElements>32000</n:MaxElements>"
            "</n:Pull>",
        )
        items.extend(root.findall("s:Body/n:PullResponse/n:Items/*", ns))
        done = root.find("s:Body/n:PullResponse/n:EndOfSequence", ns) is not None
        context = root.findtext("s:Body/n:PullResponse/n:EnumerationContext", namespaces=ns)
    return [{child.tag.rpartition("}")[2]: child.text or "" for child in item} for item in items]


def test_small_fleet_file(serve: t.Callable[..., Served], winemu: WinemuRunner) -> None:
    served = serve("small.yml")
    assert list(served.inventory["all"]["hosts"]) == ["kms01", "srv01", "pc01"]
    assert served.host_vars("kms01")["winemu_fqdn"] == "kms01.corp.example.com"
    client = served.protocol("srv01")
    shell = client.open_shell(codepage=65001)
    services = wql(client, "SELECT Version, KeyManagementServiceMachine FROM SoftwareLicensingService")
    assert len(services) == 1 and services[0]["Version"].startswith("10.0.17763")
    products = wql(client, "SELECT ID, LicenseStatus FROM SoftwareLicensingProduct WHERE PartialProductKey <> NULL")
    assert len(products) >= 1
    client.close_shell(shell)
    state = json.loads(winemu("state", "--inventory", str(served.inventory_path), "srv01").stdout)
    assert json.dumps(state)  # JSON all the way down
    stats = json.loads(winemu("stats", "--inventory", str(served.inventory_path), "srv01").stdout)
    assert stats["requests"]["by_method"] == {
        "enumerate:SoftwareLicensingProduct": 1,
        "enumerate:SoftwareLicensingService": 1,
    }
    assert stats["writes"] == 0
    assert served.stop() == 0


def test_demo_fleet_file_with_an_https_host(serve: t.Callable[..., Served]) -> None:
    served = serve("demo.yml")
    hosts = served.inventory["all"]["hosts"]
    assert len(hosts) >= 10
    assert served.inventory["all"]["vars"]["ansible_winrm_scheme"] == "http"
    assert hosts["w11ent"]["ansible_winrm_scheme"] == "https"
    for name in ("w11ent", "srv2012r2", "br01"):
        client = served.protocol(name)
        client.close_shell(client.open_shell())
    assert served.stop() == 0


def test_large_fleet_file_serves_500_hosts(serve: t.Callable[..., Served], winemu: WinemuRunner) -> None:
    served = serve("large.yml")
    hosts = served.inventory["all"]["hosts"]
    assert len(hosts) == 500
    assert len({host["ansible_port"] for host in hosts.values()}) == 500
    for name in ("kms01", "srv001", "srv300", "pc199"):
        client = served.protocol(name)
        assert wql(client, "SELECT Name FROM Win32_OperatingSystem")
    stats = json.loads(winemu("stats", "--inventory", str(served.inventory_path)).stdout)
    assert len(stats) == 500
    assert sum(host["requests"]["total"] for host in stats.values()) == 4
    assert served.stop() == 0
