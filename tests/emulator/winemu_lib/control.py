"""The emulator's control API: a JSON-over-HTTP listener on 127.0.0.1 for tests and the CLI.

Routes (``{host}`` is a short name or FQDN):

* ``GET  /hosts``               -> ``{name: {fqdn, url, port, https}}``
* ``GET  /state/{host}``        -> ``Machine.state()``
* ``GET  /stats[/{host}]``      -> per-host counters (all hosts, or one host's dict)
* ``POST /reset-stats[/{host}]``-> ``{"reset": [names]}``
* ``POST /invoke/{host}``       body ``{class, method, namespace?, selectors?, params?}`` -> the out-parameters;
  runs as an administrator (``CallContext(user='winemu', is_admin=True)``); an instance method without
  selectors addresses the class's only instance (SoftwareLicensingService); parameters may be strings (typed
  by the MethodDef) or JSON values; a CIM error is HTTP 422 with ``{"error": {type, message, hresult?}}``
* ``POST /configure/{host}``    body ``{key: value}``: fault keys go to the server, the rest to ``Machine.configure``
* ``POST /generalize/{host}``   -> ``Machine.generalize()``: the licensing part of ``sysprep /generalize``
* ``POST /clone/{host}``        body ``{count, name?}`` -> ``{"source", "added": [{name, fqdn, port, groups}]}``;
  the new hosts are served at once and the inventory is rewritten (``on_hosts_added``)

Errors are ``{"error": ...}`` with 404 (unknown host or route), 400 (bad input) or 422 (CIM error).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import typing as t
import urllib.parse

from . import cim, server
from .faults import FAULT_KEYS, parse_fault_setting
from .http_listener import BIND_ADDRESS, HttpListener, HttpRequest, HttpResponse
from .winrm_endpoint import HostEndpoint, MachineLike

log = logging.getLogger(__name__)

ADMIN_CONTEXT = cim.CallContext(user="winemu", is_admin=True)
MAX_BODY = 1024 * 1024


class ApiError(Exception):
    def __init__(self, status: int, error: t.Any) -> None:
        super().__init__(str(error))
        self.status = status
        self.error = error


def jsonable(value: t.Any) -> t.Any:
    """CIM values and state dumps as JSON: datetimes in ISO 8601, tuples and sets as lists."""
    if isinstance(value, datetime.datetime):
        return cim.format_datetime(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def cim_error_dict(error: cim.CimError) -> dict[str, t.Any]:
    result: dict[str, t.Any] = {"type": type(error).__name__, "message": error.message}
    if isinstance(error, cim.ProviderError):
        result["hresult"] = f"0x{error.hresult:08X}"
    return result


def convert_params(method: cim.MethodDef, params: t.Mapping[str, t.Any]) -> dict[str, cim.CimValue]:
    """Type ``[in]`` parameters given as JSON (strings from the CLI, or native JSON values) per MethodDef."""
    names = {name.lower(): name for name in method.inputs}
    converted: dict[str, cim.CimValue] = {}
    for given, value in params.items():
        name = names.get(given.lower())
        if name is None:
            raise cim.InvalidParameter(f"{method.name} has no [in] parameter {given!r}")
        cim_type = method.inputs[name]
        try:
            if value is None:
                converted[name] = None
            elif cim.is_array(cim_type):
                values = value if isinstance(value, list) else [value]
                converted[name] = [_convert_scalar(cim_type, item) for item in values]
            elif isinstance(value, list):
                raise ValueError("is not an array")
            else:
                converted[name] = _convert_scalar(cim_type, value)
        except ValueError as exc:
            raise cim.InvalidParameter(f"parameter {name}: {exc}") from None
    return converted


def _convert_scalar(cim_type: str, value: t.Any) -> cim.CimValue:
    base = cim.base_type(cim_type)
    if isinstance(value, bool) and base != "boolean":
        raise ValueError(f"a boolean is not a {base}")
    if isinstance(value, (dict, list)):
        raise ValueError(f"{value!r} is not a {base}")
    return cim.text_to_cim(base, str(value))


class CloningFleet(t.Protocol):
    def clone(self, source: str, count: int, name_format: str | None = None) -> list[t.Any]: ...


class ControlServer:
    """Serves the control API for a running :class:`server.FleetServer`."""

    def __init__(
        self,
        fleet: server.FleetServer,
        *,
        port: int = 0,
        on_hosts_added: t.Callable[[], None] | None = None,
    ) -> None:
        self.fleet = fleet
        self.on_hosts_added = on_hosts_added
        self._listener = HttpListener(self._on_request, port=port, max_body=MAX_BODY)

    @property
    def port(self) -> int:
        return self._listener.port

    @property
    def url(self) -> str:
        return f"http://{BIND_ADDRESS}:{self.port}"

    async def start(self) -> None:
        await self._listener.start()

    async def stop(self) -> None:
        await self._listener.stop()

    async def _on_request(self, request: HttpRequest, writer: asyncio.StreamWriter) -> HttpResponse:
        try:
            if request.method == "POST" and request.path.startswith("/clone/"):
                status, payload = await self._clone(request.path.removeprefix("/clone/"), _json_object(request.body))
            else:
                status, payload = self.handle(request.method, request.path, request.body)
        except ApiError as exc:
            status, payload = exc.status, {"error": exc.error}
        except Exception as exc:  # report emulator bugs to the caller instead of dropping the connection
            log.exception("control API: %s %s failed", request.method, request.path)
            status, payload = 500, {"error": f"the emulator failed: {type(exc).__name__}: {exc}"}
        body = json.dumps(jsonable(payload), indent=2, sort_keys=False).encode("utf-8") + b"\n"
        return HttpResponse(status, body=body, content_type="application/json")

    # ------------------------------------------------------------------ routing

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, t.Any]:
        parts = [part for part in path.split("/") if part]
        if not parts:
            raise ApiError(404, "no such route; see /hosts, /state, /stats, /reset-stats, /invoke, /configure")
        route, args = parts[0], parts[1:]
        if len(args) > 1:
            raise ApiError(404, f"no such route: {path}")
        host = args[0] if args else None
        if route == "hosts" and method == "GET" and host is None:
            return 200, {
                name: {"fqdn": e.fqdn, "url": e.url, "port": e.port, "https": e.https}
                for name, e in self.fleet.hosts.items()
            }
        if route == "stats" and method == "GET":
            return 200, self._endpoint(host).stats_dict() if host else self.fleet.stats()
        if route == "reset-stats" and method == "POST":
            endpoints = [self._endpoint(host)] if host else list(self.fleet.hosts.values())
            for endpoint in endpoints:
                endpoint.reset_stats()
            return 200, {"reset": [endpoint.name for endpoint in endpoints]}
        if host is None:
            raise ApiError(404, f"no such route: {method} {path}")
        if route == "state" and method == "GET":
            return 200, self._endpoint(host).machine.state()
        if route == "invoke" and method == "POST":
            return self._invoke(self._endpoint(host), _json_object(body))
        if route == "configure" and method == "POST":
            return 200, self._configure(self._endpoint(host), _json_object(body))
        if route == "generalize" and method == "POST":
            return self._generalize(self._endpoint(host))
        raise ApiError(404, f"no such route: {method} {path}")

    def _endpoint(self, name: str | None) -> HostEndpoint:
        assert name is not None
        try:
            return self.fleet.host(name)
        except server.UnknownHost as exc:
            names = list(self.fleet.hosts)
            known = ", ".join(names[:10]) + (f", ... ({len(names)} hosts)" if len(names) > 10 else "")
            raise ApiError(404, f"{exc}; known hosts: {known}") from None

    def _invoke(self, endpoint: HostEndpoint, request: dict[str, t.Any]) -> tuple[int, t.Any]:
        class_name = request.get("class")
        method_name = request.get("method")
        if not isinstance(class_name, str) or not isinstance(method_name, str):
            raise ApiError(400, "'class' and 'method' are required strings")
        namespace = str(request.get("namespace") or "root/cimv2").replace("\\", "/").lower()
        selectors = request.get("selectors") or {}
        params = request.get("params") or {}
        if not isinstance(selectors, dict) or not isinstance(params, dict):
            raise ApiError(400, "'selectors' and 'params' must be objects")
        machine = endpoint.machine
        try:
            class_def = machine.class_def(namespace, class_name)
            methods = {name.lower(): method for name, method in class_def.methods.items()}
            method = methods.get(method_name.lower())
            if method is None:
                raise cim.MethodNotFound(f"{class_def.name} has no method {method_name}")
            keys = {key.lower(): key for key in class_def.keys}
            typed_selectors: dict[str, str] = {}
            for name, value in selectors.items():
                key = keys.get(str(name).lower())
                if key is None or method.static:
                    raise cim.InvalidSelectors(f"{name!r} is not a key of {class_def.name}")
                typed_selectors[key] = str(value)
            if not method.static and not typed_selectors:
                typed_selectors = _sole_instance_keys(machine, namespace, class_def)
            if not method.static and set(typed_selectors) != set(class_def.keys):
                raise cim.InvalidSelectors(
                    f"{class_def.name}.{method.name} needs the key selectors {', '.join(class_def.keys)}"
                )
            typed_params = convert_params(method, params)
            result = machine.invoke(
                namespace, class_def.name, method.name, typed_selectors, typed_params, ADMIN_CONTEXT
            )
        except cim.CimError as exc:
            return 422, {"error": cim_error_dict(exc)}
        return 200, result

    def _configure(self, endpoint: HostEndpoint, changes: dict[str, t.Any]) -> dict[str, t.Any]:
        fault_changes = {key: value for key, value in changes.items() if key in FAULT_KEYS}
        machine_changes = {key: value for key, value in changes.items() if key not in FAULT_KEYS}
        try:
            # Validate the fault values before touching the machine, so a bad value changes nothing.
            for key, value in fault_changes.items():
                parse_fault_setting(key, value)
            if machine_changes:
                endpoint.machine.configure(machine_changes)
            faults = endpoint.configure_faults(fault_changes)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        return {"host": endpoint.name, "faults": faults, "machine": sorted(machine_changes)}

    def _generalize(self, endpoint: HostEndpoint) -> tuple[int, t.Any]:
        machine = endpoint.machine
        generalize = getattr(machine, "generalize", None)
        if generalize is None:
            raise ApiError(400, f"host {endpoint.name} cannot be generalized")
        try:
            return 200, generalize()
        except cim.CimError as exc:
            return 422, {"error": cim_error_dict(exc)}

    async def _clone(self, host: str, request: dict[str, t.Any]) -> tuple[int, t.Any]:
        source = self._endpoint(urllib.parse.unquote(host))
        fleet = t.cast(CloningFleet, self.fleet.fleet)
        if not hasattr(fleet, "clone"):
            raise ApiError(400, "this fleet cannot clone hosts")
        count: t.Any = request.get("count")
        name_format = request.get("name")
        if name_format is not None and not isinstance(name_format, str):
            raise ApiError(400, "'name' must be a format string such as 'ws{index:03d}'")
        try:
            specs = fleet.clone(source.name, count, name_format)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        endpoints = await self.fleet.add(specs)
        if self.on_hosts_added is not None:
            self.on_hosts_added()
        added = [
            {"name": e.name, "fqdn": e.fqdn, "port": e.port, "groups": list(getattr(e.spec, "groups", ()))}
            for e in endpoints
        ]
        return 200, {"source": source.name, "added": added}


def _sole_instance_keys(machine: MachineLike, namespace: str, class_def: cim.ClassDef) -> dict[str, str]:
    """The keys of a class's only instance (SoftwareLicensingService), so drift injection needs no Version.

    A convenience of the control API only; WinRM requests always need their selectors.
    """
    instances = machine.instances(namespace, class_def.name, ADMIN_CONTEXT)
    if len(instances) != 1 or not class_def.keys:
        return {}
    return {key: cim.cim_to_text(instances[0].get(key)) for key in class_def.keys}


def _json_object(body: bytes) -> dict[str, t.Any]:
    try:
        value = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "the body must be a JSON object")
    return value
