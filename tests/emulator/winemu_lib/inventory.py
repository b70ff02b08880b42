"""The Ansible inventory of a running emulated fleet, and how the CLI reads it back."""

from __future__ import annotations

import contextlib
import os
import tempfile
import typing as t

import yaml

from . import server
from .http_auth import AccountLike
from .http_listener import BIND_ADDRESS
from .winrm_endpoint import HostEndpoint


def account_for(endpoint: HostEndpoint) -> AccountLike:
    """The account Ansible connects with: the first administrator, else the first account."""
    accounts = list(endpoint.spec.accounts)
    if not accounts:
        raise ValueError(f"host {endpoint.name} has no account")
    return next((account for account in accounts if account.admin), accounts[0])


# Ansible's psrp connection options that mean the same as a winrm one (values are spelled alike).
PSRP_EQUIVALENTS = {
    "ansible_winrm_transport": "ansible_psrp_auth",
    "ansible_winrm_scheme": "ansible_psrp_protocol",
    "ansible_winrm_server_cert_validation": "ansible_psrp_cert_validation",
    "ansible_winrm_ca_trust_path": "ansible_psrp_ca_cert",
    "ansible_winrm_message_encryption": "ansible_psrp_message_encryption",
    # Kerberos: pywinrm's keyword arguments, passed through by the winrm plugin, and psrp's own options.
    "ansible_winrm_kerberos_hostname_override": "ansible_psrp_negotiate_hostname_override",
    "ansible_winrm_kerberos_delegation": "ansible_psrp_negotiate_delegate",
}


def with_psrp_equivalents(variables: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """``variables`` plus the psrp spelling of each winrm option, so ``ansible_connection: psrp`` works too."""
    result = dict(variables)
    for winrm_name, psrp_name in PSRP_EQUIVALENTS.items():
        if winrm_name in variables:
            result[psrp_name] = variables[winrm_name]
    return result


def write_ca(inventory_path: str | os.PathLike[str], fleet: server.FleetServer) -> str | None:
    """Write the fleet's CA certificate beside the inventory (``<inventory>-ca.pem``); its path, or None."""
    if fleet.ca is None:
        return None
    base, _ext = os.path.splitext(os.path.abspath(os.fspath(inventory_path)))
    path = f"{base}-ca.pem"
    with open(path, "wb") as handle:
        handle.write(fleet.ca.cert_pem)
    return path


NTLM = {"ansible_winrm_transport": "ntlm", "ansible_winrm_message_encryption": "auto"}


def connection_vars(endpoint: HostEndpoint) -> dict[str, str]:
    """How Ansible authenticates to this host: NTLM with message encryption where Negotiate is enabled (the
    Windows default), else Basic (a lab host), which over HTTP works only with AllowUnencrypted."""
    if endpoint.spec.winrm.negotiate:
        return dict(NTLM)
    return {"ansible_winrm_transport": "basic", "ansible_winrm_message_encryption": "never"}


def build(fleet: server.FleetServer, control_url: str, *, ca_path: str | None = None) -> dict[str, t.Any]:
    """``all.vars`` carries the connection settings; a host whose scheme or authentication differs overrides them.

    With ``ca_path`` (the fleet CA written by :func:`write_ca`) clients validate HTTPS certificates.
    """
    endpoints = list(fleet.hosts.values())
    scheme = "https" if endpoints and all(endpoint.https for endpoint in endpoints) else "http"
    # What every host accepts goes in all.vars (NTLM with encryption for Windows defaults).
    choices = [connection_vars(endpoint) for endpoint in endpoints]
    fleet_auth = choices[0] if choices and all(choice == choices[0] for choice in choices) else NTLM
    hosts: dict[str, dict[str, t.Any]] = {}
    children: dict[str, dict[str, dict[str, None]]] = {}
    for endpoint in endpoints:
        account = account_for(endpoint)
        host_vars: dict[str, t.Any] = {
            "ansible_host": BIND_ADDRESS,
            "ansible_port": endpoint.port,
            "ansible_user": account.username,
            "ansible_password": account.password,
            "winemu_fqdn": endpoint.fqdn,
        }
        host_scheme = "https" if endpoint.https else "http"
        if host_scheme != scheme:
            host_vars["ansible_winrm_scheme"] = host_scheme
        host_vars.update({k: v for k, v in connection_vars(endpoint).items() if fleet_auth[k] != v})
        hosts[endpoint.name] = with_psrp_equivalents(host_vars)
        for group in getattr(endpoint.spec, "groups", ()):
            children.setdefault(group, {"hosts": {}})["hosts"][endpoint.name] = None
    connection: dict[str, t.Any] = {
        "ansible_connection": "winrm",
        **fleet_auth,
        "ansible_winrm_scheme": scheme,
        "ansible_winrm_server_cert_validation": "ignore",
    }
    if ca_path is not None:
        # HTTPS certificates chain to the fleet's CA: validate them, as against real hosts.
        connection["ansible_winrm_server_cert_validation"] = "validate"
        connection["ansible_winrm_ca_trust_path"] = ca_path
    return {
        "all": {
            "vars": {**with_psrp_equivalents(connection), "winemu_control": control_url},
            "hosts": hosts,
            "children": children,
        }
    }


def write(path: str | os.PathLike[str], data: t.Mapping[str, t.Any]) -> None:
    """Write YAML atomically: readers see the old file or the complete new one, never a partial one."""
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    fd, temporary = tempfile.mkstemp(prefix=".winemu-inventory-", suffix=".yml", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(dict(data), handle, default_flow_style=False, sort_keys=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)  # it holds passwords
        os.replace(temporary, target)
    except BaseException:
        _unlink_quietly(temporary)
        raise


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def read(path: str | os.PathLike[str]) -> dict[str, t.Any]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("all"), dict):
        raise ValueError(f"{os.fspath(path)} is not an inventory written by 'winemu serve'")
    return data


def control_url(data: t.Mapping[str, t.Any]) -> str:
    """The control API URL recorded in ``all.vars.winemu_control``."""
    url = ((data.get("all") or {}).get("vars") or {}).get("winemu_control")
    if not isinstance(url, str) or not url:
        raise ValueError("the inventory has no all.vars.winemu_control (was it written by 'winemu serve'?)")
    return url
