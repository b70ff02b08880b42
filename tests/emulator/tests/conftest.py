"""Shared fixtures of the emulator tests.

``tests/emulator`` goes on ``sys.path`` so ``winemu_lib`` imports without the collection. The protocol
tests use :class:`FakeMachine`, a small :class:`cim.Provider` with a StdRegProv-like static class and a
keyed class with instance methods, inside a fake fleet of the contract's shape (Fleet/HostSpec/Account/
FaultSpec), so they do not depend on the emulated Windows machines.

Test modules reach everything here through fixtures (a :class:`RunningFleet` carries the request helpers);
they import names from this module only under ``typing.TYPE_CHECKING``, because pytest imports each
``conftest.py`` as a top-level module while mypy sees it as part of the ``tests`` package.
"""

from __future__ import annotations

import asyncio
import base64
import collections.abc
import dataclasses
import datetime
import http.client
import os
import ssl
import subprocess
import sys
import threading
import typing as t
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

EMULATOR_DIR = Path(__file__).resolve().parent.parent
if str(EMULATOR_DIR) not in sys.path:
    sys.path.insert(0, str(EMULATOR_DIR))

from winemu_lib import cim, control, inventory, server, soap, winrm_endpoint  # noqa: E402
from winemu_lib.winrm_service import LAB_BASIC, WinrmService  # noqa: E402

WINEMU = EMULATOR_DIR / "winemu"
FLEETS_DIR = EMULATOR_DIR / "fleets"
ADMIN = ("Administrator", "Winact-2026!")
OPERATOR = ("operator", "Operator-2026!")

HKLM = 2147483650
REG_URI = soap.WMI_URI_PREFIX + "root/default/StdRegProv"
SERVICE_URI = soap.WMI_URI_PREFIX + "root/cimv2/Win32_Service"
CIMV2_ALL = soap.WMI_URI_PREFIX + "root/cimv2/*"


# --------------------------------------------------------------------------- fake machine

REGISTRY_CLASS = cim.ClassDef(
    name="StdRegProv",
    namespaces=("root/default", "root/cimv2"),
    properties={},
    keys=(),
    methods={
        "GetStringValue": cim.MethodDef(
            "GetStringValue",
            {"hDefKey": "uint32", "sSubKeyName": "string", "sValueName": "string"},
            {"sValue": "string", "ReturnValue": "uint32"},
            static=True,
        ),
        "SetStringValue": cim.MethodDef(
            "SetStringValue",
            {"hDefKey": "uint32", "sSubKeyName": "string", "sValueName": "string", "sValue": "string"},
            {"ReturnValue": "uint32"},
            static=True,
        ),
        "GetMultiStringValue": cim.MethodDef(
            "GetMultiStringValue",
            {"hDefKey": "uint32", "sSubKeyName": "string", "sValueName": "string"},
            {"sValue": "string[]", "ReturnValue": "uint32"},
            static=True,
        ),
        "SetMultiStringValue": cim.MethodDef(
            "SetMultiStringValue",
            {"hDefKey": "uint32", "sSubKeyName": "string", "sValueName": "string", "sValue": "string[]"},
            {"ReturnValue": "uint32"},
            static=True,
        ),
        "EnumKey": cim.MethodDef(
            "EnumKey",
            {"hDefKey": "uint32", "sSubKeyName": "string"},
            {"sNames": "string[]", "ReturnValue": "uint32"},
            static=True,
        ),
    },
)

SERVICE_CLASS = cim.ClassDef(
    name="Win32_Service",
    namespaces=("root/cimv2",),
    properties={
        "Name": "string",
        "DisplayName": "string",
        "Description": "string",
        "ProcessId": "uint32",
        "Started": "boolean",
        "StartMode": "string",
        "State": "string",
        "InstallDate": "datetime",
        "DependentServices": "string[]",
    },
    keys=("Name",),
    methods={
        "StartService": cim.MethodDef("StartService", {}, {"ReturnValue": "uint32"}),
        "StopService": cim.MethodDef("StopService", {}, {"ReturnValue": "uint32"}),
        "ChangeStartMode": cim.MethodDef("ChangeStartMode", {"StartMode": "string"}, {"ReturnValue": "uint32"}),
        "Describe": cim.MethodDef(
            "Describe",
            {"Verbose": "boolean", "Since": "datetime", "Tags": "string[]"},
            {"Text": "string", "Tags": "string[]", "Seen": "datetime", "Missing": "string", "ReturnValue": "uint32"},
        ),
        "Break": cim.MethodDef("Break", {}, {"ReturnValue": "uint32"}),
    },
)

INSTALL_DATE = datetime.datetime(2024, 5, 1, 8, 30, 15, tzinfo=datetime.UTC)
SPP_ERROR = 0xC004F074  # "The Key Management Service (KMS) is unavailable"


class FakeMachine:
    """A minimal emulated machine: a registry behind a StdRegProv-like class and a list of services."""

    def __init__(self, name: str, service_count: int = 30) -> None:
        self.name = name
        self.writes = 0
        self.fail_enumeration = False
        self.registry: dict[tuple[int, str], dict[str, tuple[str, t.Any]]] = {
            (HKLM, r"software\microsoft\windows nt\currentversion\softwareprotectionplatform"): {
                "keymanagementservicename": ("KeyManagementServiceName", "kms01.corp.example.com"),
            },
        }
        self.services: list[dict[str, cim.CimValue]] = [
            {
                "Name": "sppsvc",
                "DisplayName": "Software Protection",
                "Description": None,
                "ProcessId": 0,
                "Started": False,
                "StartMode": "Manual",
                "State": "Stopped",
                "InstallDate": INSTALL_DATE,
                "DependentServices": [],
            }
        ]
        for index in range(1, service_count):
            self.services.append(
                {
                    "Name": f"svc{index:03d}",
                    "DisplayName": f"Service <{index}> & co",
                    "Description": f"Fake service number {index}",
                    "ProcessId": 1000 + index,
                    "Started": index % 2 == 0,
                    "StartMode": "Automatic" if index % 3 else "Disabled",
                    "State": "Running" if index % 2 == 0 else "Stopped",
                    "InstallDate": INSTALL_DATE + datetime.timedelta(days=index),
                    "DependentServices": [f"dep{index}a", f"dep{index}b"] if index % 5 == 0 else [],
                }
            )

    # cim.Provider ------------------------------------------------------------------------------

    def class_def(self, namespace: str, class_name: str) -> cim.ClassDef:
        for class_def in (REGISTRY_CLASS, SERVICE_CLASS):
            if class_def.name.lower() == class_name.lower() and namespace in class_def.namespaces:
                return class_def
        raise cim.ClassNotFound(f"{namespace}:{class_name}")

    def instances(self, namespace: str, class_name: str, ctx: cim.CallContext) -> list[dict[str, cim.CimValue]]:
        class_def = self.class_def(namespace, class_name)
        if class_def is REGISTRY_CLASS:
            return []
        if self.fail_enumeration:
            raise cim.ProviderError(0x80041001, "Generic failure")
        return [dict(service) for service in self.services]

    def invoke(
        self,
        namespace: str,
        class_name: str,
        method: str,
        selectors: t.Mapping[str, str],
        params: t.Mapping[str, cim.CimValue],
        ctx: cim.CallContext,
    ) -> dict[str, cim.CimValue]:
        class_def = self.class_def(namespace, class_name)
        if class_def is REGISTRY_CLASS:
            return self._registry(method, params, ctx)
        service = self._service(selectors["Name"])
        if method == "StartService":
            if not ctx.is_admin:
                raise cim.AccessDenied("StartService needs an administrator")
            if service["State"] == "Running":
                return {"ReturnValue": 10}
            service.update(State="Running", Started=True, ProcessId=4242)
            self.writes += 1
            return {"ReturnValue": 0}
        if method == "StopService":
            service.update(State="Stopped", Started=False, ProcessId=0)
            self.writes += 1
            return {"ReturnValue": 0}
        if method == "ChangeStartMode":
            mode = params.get("StartMode")
            if mode not in ("Automatic", "Manual", "Disabled"):
                raise cim.InvalidParameter(f"StartMode {mode!r}")
            service["StartMode"] = mode
            self.writes += 1
            return {"ReturnValue": 0}
        if method == "Describe":
            tags = params.get("Tags") or []
            assert isinstance(tags, list)
            return {
                "Text": f"{service['Name']} verbose={params.get('Verbose')!r} since={params.get('Since')!r}",
                "Tags": [*tags, "seen"],
                "Seen": INSTALL_DATE,
                "Missing": None,
                "ReturnValue": 0,
            }
        if method == "Break":
            raise cim.ProviderError(SPP_ERROR, "The Key Management Service (KMS) is unavailable.")
        raise cim.MethodNotFound(method)

    def _service(self, name: str) -> dict[str, cim.CimValue]:
        for service in self.services:
            if str(service["Name"]).lower() == name.lower():
                return service
        raise cim.InstanceNotFound(f'Win32_Service.Name="{name}"')

    def _registry(
        self, method: str, params: t.Mapping[str, cim.CimValue], ctx: cim.CallContext
    ) -> dict[str, cim.CimValue]:
        hive = params.get("hDefKey", HKLM)
        assert isinstance(hive, int)
        key = (hive, str(params.get("sSubKeyName", "")).lower())
        if method == "EnumKey":
            prefix = key[1] + "\\"
            names = sorted({k[1][len(prefix) :].split("\\")[0] for k in self.registry if k[1].startswith(prefix)})
            return {"sNames": names, "ReturnValue": 0}
        values = self.registry.get(key)
        value_name = str(params.get("sValueName", ""))
        if method in ("GetStringValue", "GetMultiStringValue"):
            if values is None:
                return {"ReturnValue": 2}
            if value_name.lower() not in values:
                return {"ReturnValue": 1}
            return {"sValue": values[value_name.lower()][1], "ReturnValue": 0}
        if method in ("SetStringValue", "SetMultiStringValue"):
            if not ctx.is_admin:
                return {"ReturnValue": 5}
            self.registry.setdefault(key, {})[value_name.lower()] = (value_name, params.get("sValue"))
            self.writes += 1
            return {"ReturnValue": 0}
        raise cim.MethodNotFound(method)

    # Machine control -----------------------------------------------------------------------------

    def state(self) -> dict[str, t.Any]:
        return {
            "name": self.name,
            "registry": {f"{hive}:{path}": dict(values.values()) for (hive, path), values in self.registry.items()},
            "services": {str(s["Name"]): s["State"] for s in self.services[:3]},
            "installed": INSTALL_DATE,
        }

    def configure(self, changes: t.Mapping[str, t.Any]) -> None:
        for key in changes:
            if key != "fail_enumeration":
                raise ValueError(f"unknown setting {key!r}")
        if "fail_enumeration" in changes:
            self.fail_enumeration = bool(changes["fail_enumeration"])


# --------------------------------------------------------------------------- fake fleet (contract shapes)


@dataclasses.dataclass
class Account:
    username: str
    password: str
    admin: bool
    groups: tuple[str, ...] = ()


@dataclasses.dataclass
class FaultSpec:
    latency_ms: int = 0
    drop_at_request: int | None = None
    fault_at_request: int | None = None


@dataclasses.dataclass
class HostSpec:
    name: str
    fqdn: str
    port: int
    https: bool
    accounts: list[Account]
    faults: FaultSpec
    machine: FakeMachine
    # The protocol tests talk Basic over plain HTTP: a lab host configured for it (Windows refuses both by
    # default; tests/emulator/tests/test_auth_*.py cover the defaults).
    winrm: WinrmService = LAB_BASIC


@dataclasses.dataclass
class Fleet:
    hosts: dict[str, HostSpec]


def make_fleet(
    count: int = 2,
    *,
    https: bool = False,
    service_count: int = 30,
    prefix: str = "ws",
    faults: t.Mapping[str, t.Any] | None = None,
    winrm: WinrmService = LAB_BASIC,
    accounts: list[Account] | None = None,
) -> Fleet:
    hosts = {}
    for index in range(1, count + 1):
        name = f"{prefix}{index:03d}"
        hosts[name] = HostSpec(
            name=name,
            fqdn=f"{name}.corp.example.com",
            port=0,
            https=https,
            accounts=accounts or [Account(*ADMIN, admin=True), Account(*OPERATOR, admin=False)],
            faults=FaultSpec(**(faults or {})),
            machine=FakeMachine(name, service_count=service_count),
            winrm=winrm,
        )
    return Fleet(hosts)


# --------------------------------------------------------------------------- a raw WS-Man client

NAMESPACES = {
    "s": soap.NS_S,
    "a": soap.NS_A,
    "w": soap.NS_W,
    "n": soap.NS_N,
    "x": soap.NS_X,
    "f": soap.NS_F,
    "xsi": soap.NS_XSI,
    "cim": soap.NS_CIM,
    "rsp": soap.NS_RSP,
}


@dataclasses.dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)

    def find(self, path: str) -> ET.Element | None:
        return self.xml().find(path, NAMESPACES)

    def text(self, path: str) -> str | None:
        element = self.find(path)
        return None if element is None else element.text

    def findall(self, path: str) -> list[ET.Element]:
        return list(self.xml().findall(path, NAMESPACES))

    @property
    def action(self) -> str | None:
        return self.text("s:Header/a:Action")

    @property
    def subcode(self) -> str | None:
        return self.text("s:Body/s:Fault/s:Code/s:Subcode/s:Value")

    @property
    def wsman_code(self) -> int | None:
        element = self.find("s:Body/s:Fault/s:Detail/f:WSManFault")
        return None if element is None else int(element.get("Code", "0"))

    @property
    def provider_code(self) -> int | None:
        """The Code of the WSManFault nested in a ProviderFault, when there is one."""
        element = self.find("s:Body/s:Fault/s:Detail/f:WSManFault/f:Message/f:ProviderFault/f:WSManFault")
        return None if element is None else int(element.get("Code", "0"))


def envelope(
    action: str,
    resource_uri: str,
    body: str = "",
    *,
    selectors: t.Mapping[str, str] | None = None,
    options: t.Mapping[str, str] | None = None,
    message_id: str | None = None,
    timeout: str | None = "PT20S",
    max_envelope_size: int | None = 153600,
) -> tuple[bytes, str]:
    """A request envelope like pywinrm's and pypsrp's; returns (xml, message id)."""
    message_id = message_id or f"uuid:{uuid.uuid4()}"
    parts = [
        f'<s:Envelope xmlns:s="{soap.NS_S}" xmlns:a="{soap.NS_A}" xmlns:w="{soap.NS_W}" xmlns:n="{soap.NS_N}" '
        f'xmlns:p="{soap.NS_P}" xmlns:rsp="{soap.NS_RSP}"><s:Header>',
        "<a:To>http://127.0.0.1:5985/wsman</a:To>",
        f'<w:ResourceURI s:mustUnderstand="true">{resource_uri}</w:ResourceURI>',
        f'<a:ReplyTo><a:Address s:mustUnderstand="true">{soap.ANONYMOUS}</a:Address></a:ReplyTo>',
        f'<a:Action s:mustUnderstand="true">{action}</a:Action>',
        f"<a:MessageID>{message_id}</a:MessageID>",
        '<w:Locale xml:lang="en-US" s:mustUnderstand="false"/>',
    ]
    if max_envelope_size is not None:
        parts.append(f'<w:MaxEnvelopeSize s:mustUnderstand="true">{max_envelope_size}</w:MaxEnvelopeSize>')
    if timeout is not None:
        parts.append(f"<w:OperationTimeout>{timeout}</w:OperationTimeout>")
    if selectors:
        parts.append("<w:SelectorSet>")
        parts.extend(f'<w:Selector Name="{k}">{soap.xml_text(v)}</w:Selector>' for k, v in selectors.items())
        parts.append("</w:SelectorSet>")
    if options:
        parts.append("<w:OptionSet>")
        parts.extend(f'<w:Option Name="{k}">{soap.xml_text(v)}</w:Option>' for k, v in options.items())
        parts.append("</w:OptionSet>")
    parts.append(f"</s:Header><s:Body>{body}</s:Body></s:Envelope>")
    return "".join(parts).encode("utf-8"), message_id


def basic(credentials: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()


def post(
    url: str,
    body: bytes,
    *,
    credentials: tuple[str, str] | None = ADMIN,
    headers: t.Mapping[str, str] | None = None,
    method: str = "POST",
    path: str | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> Reply:
    """One HTTP request to 127.0.0.1; pass ``connection`` to reuse a keep-alive connection."""
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname == "127.0.0.1"
    own = connection is None
    if connection is None:
        if parts.scheme == "https":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=30, context=context)
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    all_headers = {"Content-Type": "application/soap+xml;charset=UTF-8"}
    if credentials is not None:
        all_headers["Authorization"] = basic(credentials)
    all_headers.update(headers or {})
    try:
        connection.request(method, path or parts.path, body=body, headers=all_headers)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        if own:
            connection.close()


def ntlm_post(url: str, body: bytes, *, credentials: tuple[str, str] = ADMIN) -> Reply:
    """One request through pywinrm's transport with NTLM and message encryption, what a Windows default host
    needs; the answer as a :class:`Reply` (the body decrypted, the headers of the last response)."""
    from winrm.exceptions import InvalidCredentialsError, WinRMTransportError
    from winrm.transport import Transport

    transport = Transport(
        endpoint=url,
        username=credentials[0],
        password=credentials[1],
        auth_method="ntlm",
        message_encryption="auto",
        server_cert_validation="ignore",
    )
    try:
        return Reply(200, http.client.HTTPMessage(), transport.send_message(body))
    except InvalidCredentialsError:
        return Reply(401, http.client.HTTPMessage(), b"")
    except WinRMTransportError as exc:
        return Reply(exc.code, http.client.HTTPMessage(), exc.response_text.encode())


def method_input(uri: str, method: str, params: t.Mapping[str, t.Any] | None = None) -> str:
    parts = []
    for name, value in (params or {}).items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(f"<p:{name}>{soap.xml_text(cim.cim_to_text(item))}</p:{name}>")
    return f'<p:{method}_INPUT xmlns:p="{uri}">{"".join(parts)}</p:{method}_INPUT>'


def enumerate_body(query: str | None, *, optimize: bool = True, max_elements: int | None = 32000) -> str:
    parts = ["<n:Enumerate>"]
    if optimize:
        parts.append("<w:OptimizeEnumeration/>")
    if max_elements is not None:
        parts.append(f"<w:MaxElements>{max_elements}</w:MaxElements>")
    if query is not None:
        parts.append(f'<w:Filter Dialect="{soap.WQL_DIALECT}">{soap.xml_text(query)}</w:Filter>')
    parts.append("</n:Enumerate>")
    return "".join(parts)


def pull_body(context: str, max_elements: int | None = 32000) -> str:
    limit = f"<n:MaxElements>{max_elements}</n:MaxElements>" if max_elements is not None else ""
    return f"<n:Pull><n:EnumerationContext>{context}</n:EnumerationContext>{limit}</n:Pull>"


# --------------------------------------------------------------------------- running a fleet in a thread


class RunningFleet:
    """A FleetServer and its control API on an event loop in a background thread (the clients block).

    The request helpers and constants live here so test modules only need the fixture.
    """

    ADMIN = ADMIN
    OPERATOR = OPERATOR
    HKLM = HKLM
    REG_URI = REG_URI
    SERVICE_URI = SERVICE_URI
    CIMV2_ALL = CIMV2_ALL
    SPP_ERROR = SPP_ERROR
    INSTALL_DATE = INSTALL_DATE
    NAMESPACES = NAMESPACES

    envelope = staticmethod(envelope)
    post = staticmethod(post)
    ntlm_post = staticmethod(ntlm_post)
    method_input = staticmethod(method_input)
    enumerate_body = staticmethod(enumerate_body)
    pull_body = staticmethod(pull_body)

    def __init__(self, fleet: server.FleetLike) -> None:
        self.fleet = fleet
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="winemu-test-loop", daemon=True)
        self.thread.start()
        self.server = server.FleetServer(fleet)
        self.control = control.ControlServer(self.server)
        self.run(self.server.start())
        self.run(self.control.start())

    def run(self, awaitable: collections.abc.Coroutine[t.Any, t.Any, t.Any], timeout: float = 120) -> t.Any:
        return asyncio.run_coroutine_threadsafe(awaitable, self.loop).result(timeout)

    def close(self) -> None:
        self.run(self.control.stop())
        self.run(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def endpoint(self, name: str = "ws001") -> winrm_endpoint.HostEndpoint:
        return self.server.host(name)

    def url(self, name: str = "ws001") -> str:
        return self.endpoint(name).url

    def machine(self, name: str = "ws001") -> FakeMachine:
        return t.cast(FakeMachine, self.endpoint(name).machine)

    def write_inventory(self, path: Path) -> Path:
        ca_path = inventory.write_ca(path, self.server)
        inventory.write(path, inventory.build(self.server, self.control.url, ca_path=ca_path))
        return path

    def wsman(
        self,
        action: str,
        resource_uri: str,
        body: str = "",
        *,
        host: str = "ws001",
        credentials: tuple[str, str] = ADMIN,
        **kwargs: t.Any,
    ) -> Reply:
        """Send one request and check RelatesTo against the MessageID, as pypsrp does."""
        data, message_id = envelope(action, resource_uri, body, **kwargs)
        service = self.endpoint(host).spec.winrm
        if service.basic and (service.allow_unencrypted or self.endpoint(host).https):
            reply = post(self.url(host), data, credentials=credentials)
        else:  # Windows defaults: Basic is off and plaintext refused
            reply = ntlm_post(self.url(host), data, credentials=credentials)
        if reply.body:
            assert reply.text("s:Header/a:RelatesTo") == message_id
        return reply

    def invoke(self, uri: str, method: str, params: t.Mapping[str, t.Any] | None = None, **kwargs: t.Any) -> Reply:
        return self.wsman(f"{uri}/{method}", uri, method_input(uri, method, params), **kwargs)

    def get(self, uri: str, selectors: t.Mapping[str, str], **kwargs: t.Any) -> Reply:
        return self.wsman(soap.ACTION_GET, uri, selectors=selectors, **kwargs)

    def enumerate(self, query: str | None, uri: str = CIMV2_ALL, **kwargs: t.Any) -> Reply:
        body_options = {k: kwargs.pop(k) for k in ("optimize", "max_elements") if k in kwargs}
        return self.wsman(soap.ACTION_ENUMERATE, uri, enumerate_body(query, **body_options), **kwargs)

    def pull(self, context: str, uri: str = CIMV2_ALL, max_elements: int | None = 32000, **kwargs: t.Any) -> Reply:
        return self.wsman(soap.ACTION_PULL, uri, pull_body(context, max_elements), **kwargs)

    def query(self, query: str, *, max_elements: int = 32000, **kwargs: t.Any) -> tuple[list[ET.Element], int]:
        """Enumerate + Pull until EndOfSequence; returns the items and the number of round trips."""
        reply = self.enumerate(query, max_elements=max_elements, **kwargs)
        assert reply.status == 200, reply.body
        items = list(reply.findall("s:Body/n:EnumerateResponse/w:Items/*"))
        trips = 1
        done = reply.find("s:Body/n:EnumerateResponse/w:EndOfSequence") is not None
        context = reply.text("s:Body/n:EnumerateResponse/n:EnumerationContext")
        while not done:
            assert context
            reply = self.pull(context, max_elements=max_elements, **kwargs)
            assert reply.status == 200, reply.body
            trips += 1
            items.extend(reply.findall("s:Body/n:PullResponse/n:Items/*"))
            done = reply.find("s:Body/n:PullResponse/n:EndOfSequence") is not None
            new_context = reply.text("s:Body/n:PullResponse/n:EnumerationContext")
            assert done or (new_context and new_context != context)
            context = new_context
        return items, trips


@pytest.fixture
def fleet() -> collections.abc.Iterator[RunningFleet]:
    """Two fake hosts (ws001, ws002) over HTTP."""
    running = RunningFleet(make_fleet())
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def start_fleet() -> collections.abc.Iterator[collections.abc.Callable[..., RunningFleet]]:
    """Start fake fleets with :func:`make_fleet` arguments; all stop at teardown."""
    started: list[RunningFleet] = []

    def start(count: int = 2, **kwargs: t.Any) -> RunningFleet:
        running = RunningFleet(make_fleet(count, **kwargs))
        started.append(running)
        return running

    try:
        yield start
    finally:
        for running in started:
            running.close()


@pytest.fixture
def start_real_fleet() -> collections.abc.Iterator[collections.abc.Callable[[server.FleetLike], RunningFleet]]:
    """Serve any fleet object (e.g. ``winemu_lib.fleet.Fleet.load(...)``) in the background; stopped at teardown."""
    started: list[RunningFleet] = []

    def start(fleet: server.FleetLike) -> RunningFleet:
        running = RunningFleet(fleet)
        started.append(running)
        return running

    try:
        yield start
    finally:
        for running in started:
            running.close()


def winemu_command(*args: str) -> list[str]:
    """``python tests/emulator/winemu ARGS`` with the interpreter running the tests."""
    return [sys.executable, str(WINEMU), *args]


def subprocess_env() -> dict[str, str]:
    """The environment for a ``winemu`` subprocess: this interpreter's directory first in PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def winemu() -> WinemuRunner:
    return WinemuRunner()


class WinemuRunner:
    """Runs the ``winemu`` executable as a subprocess."""

    path = WINEMU
    fleets_dir = FLEETS_DIR
    tests_dir = Path(__file__).resolve().parent
    command = staticmethod(winemu_command)
    env = staticmethod(subprocess_env)

    def __call__(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            winemu_command(*args), capture_output=True, text=True, timeout=timeout, env=subprocess_env(), check=False
        )
