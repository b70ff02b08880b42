"""``winemu``: run an emulated Windows fleet and steer it from tests.

Subcommands (stable; tests and docs rely on them)::

    winemu serve --fleet FLEET.yml --inventory OUT.yml [--control-port N]
    winemu state --inventory OUT.yml HOST
    winemu stats --inventory OUT.yml [HOST]
    winemu invoke --inventory OUT.yml HOST CLASS METHOD [--namespace root/cimv2] [--selector K=V]... [--param K=V]...
    winemu configure --inventory OUT.yml HOST KEY=VALUE...
    winemu reset-stats --inventory OUT.yml [HOST]
    winemu generalize --inventory OUT.yml HOST
    winemu clone --inventory OUT.yml HOST --count N [--name FORMAT]

Exit codes: 0 success; 1 a CIM error from ``invoke``, a failure while serving or inside the emulator; 2 bad
usage, an unknown host, a bad setting, a bad fleet file or an emulator that cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import logging
import signal
import sys
import typing as t
import urllib.error
import urllib.parse
import urllib.request

import yaml

from . import control, inventory, server

EXIT_OK = 0
EXIT_CIM_ERROR = 1
EXIT_USAGE = 2
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
REQUEST_TIMEOUT = 30.0


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- serve


def load_fleet(path: str) -> server.FleetLike:
    from .fleet import Fleet  # the machine side; imported late so the client subcommands never need it

    return t.cast(server.FleetLike, Fleet.load(path))


async def serve(fleet: server.FleetLike, inventory_path: str, *, control_port: int = 0) -> int:
    """Serve until SIGTERM/SIGINT; print ``ready`` once every listener is up and the inventory is written."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    fleet_server = server.FleetServer(fleet)

    def rewrite_inventory() -> None:  # at start, and when hosts are added while serving (clones)
        ca_path = inventory.write_ca(inventory_path, fleet_server)
        inventory.write(inventory_path, inventory.build(fleet_server, control_server.url, ca_path=ca_path))

    control_server = control.ControlServer(fleet_server, port=control_port, on_hosts_added=rewrite_inventory)
    try:
        await fleet_server.start()
        await control_server.start()
        rewrite_inventory()
        print("ready", flush=True)
        await stop.wait()
    finally:
        await control_server.stop()
        await fleet_server.stop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        fleet = load_fleet(args.fleet)
    except ImportError as exc:
        raise CliError(f"the emulated machines (winemu_lib.fleet) cannot be loaded: {exc}", code=1) from None
    except (ValueError, OSError, yaml.YAMLError) as exc:
        raise CliError(f"cannot load fleet {args.fleet}: {exc}") from None
    try:
        return asyncio.run(serve(fleet, args.inventory, control_port=args.control_port))
    except OSError as exc:
        raise CliError(f"cannot serve the fleet: {exc}", code=1) from None


# --------------------------------------------------------------------------- control API client


class ControlClient:
    """Talks to the control API named in an inventory written by ``winemu serve``."""

    def __init__(self, inventory_path: str) -> None:
        try:
            data = inventory.read(inventory_path)
            self.base = inventory.control_url(data).rstrip("/")
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise CliError(f"cannot read inventory {inventory_path}: {exc}") from None
        host = urllib.parse.urlsplit(self.base).hostname
        if host not in LOOPBACK_HOSTS:
            raise CliError(f"refusing to contact {self.base}: the control API only listens on the loopback address")

    def call(self, method: str, path: str, payload: t.Any = None) -> tuple[int, t.Any]:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            body = exc.read()
            try:
                return exc.code, json.loads(body or b"null")
            except ValueError:
                return exc.code, {"error": body.decode("utf-8", "replace")}
        except (urllib.error.URLError, OSError) as exc:
            message = f"the emulator at {self.base} cannot be reached ({exc}); is 'winemu serve' running?"
            raise CliError(message) from None

    def checked(self, method: str, path: str, payload: t.Any = None) -> t.Any:
        status, result = self.call(method, path, payload)
        if status != 200:
            error = result.get("error") if isinstance(result, dict) else result
            message = error if isinstance(error, str) else json.dumps(error)
            raise CliError(message, code=1 if status >= 500 else EXIT_USAGE)
        return result


def _host_path(host: str) -> str:
    return "/" + urllib.parse.quote(host, safe="")


def _emit(value: t.Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=False))


def _cmd_state(args: argparse.Namespace) -> int:
    _emit(ControlClient(args.inventory).checked("GET", "/state" + _host_path(args.host)))
    return EXIT_OK


def _cmd_stats(args: argparse.Namespace) -> int:
    path = "/stats" + (_host_path(args.host) if args.host else "")
    _emit(ControlClient(args.inventory).checked("GET", path))
    return EXIT_OK


def _cmd_reset_stats(args: argparse.Namespace) -> int:
    path = "/reset-stats" + (_host_path(args.host) if args.host else "")
    _emit(ControlClient(args.inventory).checked("POST", path))
    return EXIT_OK


def _pairs(items: t.Sequence[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"{what} {item!r} is not KEY=VALUE")
        pairs.append((key, value))
    return pairs


def _cmd_invoke(args: argparse.Namespace) -> int:
    params: dict[str, t.Any] = {}
    for key, value in _pairs(args.param, "--param"):
        if key in params:  # a repeated parameter is an array
            existing = params[key]
            params[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            params[key] = value
    payload = {
        "class": args.class_name,
        "method": args.method,
        "namespace": args.namespace,
        "selectors": dict(_pairs(args.selector, "--selector")),
        "params": params,
    }
    status, result = ControlClient(args.inventory).call("POST", "/invoke" + _host_path(args.host), payload)
    if status == 422:
        _emit(result)
        error = result.get("error", {}) if isinstance(result, dict) else {}
        print(f"winemu: {error.get('type', 'CimError')}: {error.get('message', '')}", file=sys.stderr)
        return EXIT_CIM_ERROR
    if status != 200:
        error = result.get("error") if isinstance(result, dict) else result
        raise CliError(str(error), code=1 if status >= 500 else EXIT_USAGE)
    _emit(result)
    return EXIT_OK


def parse_setting(text: str) -> t.Any:
    """A KEY=VALUE value: YAML integers, booleans, null and flow lists/maps; anything else stays a string."""
    if text.strip().lower() in ("null", "none", "~"):
        return None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if value is None or isinstance(value, (float, datetime.date)):
        return text  # empty values, version strings and dates stay text
    return value


def _cmd_configure(args: argparse.Namespace) -> int:
    if not args.settings:
        raise CliError("configure needs at least one KEY=VALUE")
    changes = {key: parse_setting(value) for key, value in _pairs(args.settings, "setting")}
    _emit(ControlClient(args.inventory).checked("POST", "/configure" + _host_path(args.host), changes))
    return EXIT_OK


def _cmd_generalize(args: argparse.Namespace) -> int:
    _emit(_checked_cim("POST", "/generalize" + _host_path(args.host), args.inventory))
    return EXIT_OK


def _cmd_clone(args: argparse.Namespace) -> int:
    payload: dict[str, t.Any] = {"count": args.count}
    if args.name is not None:
        payload["name"] = args.name
    _emit(ControlClient(args.inventory).checked("POST", "/clone" + _host_path(args.host), payload))
    return EXIT_OK


def _checked_cim(method: str, path: str, inventory_path: str) -> t.Any:
    """A control call whose CIM error (HTTP 422) exits 1 with the error printed, like ``invoke``."""
    status, result = ControlClient(inventory_path).call(method, path)
    if status == 422:
        _emit(result)
        error = result.get("error", {}) if isinstance(result, dict) else {}
        raise CliError(f"{error.get('type', 'CimError')}: {error.get('message', '')}", code=EXIT_CIM_ERROR)
    if status != 200:
        error = result.get("error") if isinstance(result, dict) else result
        raise CliError(str(error), code=1 if status >= 500 else EXIT_USAGE)
    return result


# --------------------------------------------------------------------------- entry point


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> t.NoReturn:
        self.print_usage(sys.stderr)
        raise CliError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="winemu", description="Emulated Windows fleet speaking WinRM/WS-Management and WMI.")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log injected faults (-v) and every request (-vv) to stderr"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p: argparse.ArgumentParser = sub.add_parser("serve", help="serve a fleet in the foreground until SIGTERM/SIGINT")
    p.add_argument("--fleet", required=True, help="fleet YAML file")
    p.add_argument("--inventory", required=True, help="Ansible inventory (YAML) to write")
    p.add_argument("--control-port", type=int, default=0, help="port of the control API (default: any free port)")
    p.set_defaults(func=_cmd_serve)

    def client(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--inventory", required=True, help="inventory written by 'winemu serve'")
        return p

    p = client("state", "print a host's machine state as JSON")
    p.add_argument("host")
    p.set_defaults(func=_cmd_state)

    p = client("stats", "print request counters and write counts as JSON")
    p.add_argument("host", nargs="?")
    p.set_defaults(func=_cmd_stats)

    p = client("reset-stats", "zero the counters of one host or of all hosts")
    p.add_argument("host", nargs="?")
    p.set_defaults(func=_cmd_reset_stats)

    p = client("invoke", "run a WMI method on a host as an administrator")
    p.add_argument("host")
    p.add_argument("class_name", metavar="CLASS")
    p.add_argument("method", metavar="METHOD")
    p.add_argument("--namespace", default="root/cimv2")
    p.add_argument("--selector", action="append", default=[], metavar="K=V", help="key selector (repeatable)")
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="[in] parameter; repeat for arrays")
    p.set_defaults(func=_cmd_invoke)

    p = client("configure", "change machine settings or fault injection (latency_ms, drop_at_request, ...)")
    p.add_argument("host")
    p.add_argument("settings", nargs="*", metavar="KEY=VALUE")
    p.set_defaults(func=_cmd_configure)

    p = client("generalize", "sysprep /generalize on a running host: a rearm unless SkipRearm is 1")
    p.add_argument("host")
    p.set_defaults(func=_cmd_generalize)

    p = client("clone", "add N running hosts made from HOST's current state and rewrite the inventory")
    p.add_argument("host")
    p.add_argument("--count", type=int, required=True, help="how many clones")
    p.add_argument("--name", help="name format of the clones, with {index} (default: HOST-clone{index:03d})")
    p.set_defaults(func=_cmd_clone)
    return parser


def main(argv: t.Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        logging.basicConfig(
            level={0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG),
            format="winemu: %(levelname)s: %(message)s",
        )
        return int(args.func(args))
    except CliError as exc:
        print(f"winemu: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
