# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and change SPP settings on emulated hosts, for the settings modules' integration tests."""

from __future__ import annotations

import typing as t

from .conftest import FleetRun

SPP = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
HKLM = 2147483650


def spp_values(fleet: FleetRun, host: str, subkey: str | None = None) -> dict[str, t.Any]:
    """The SoftwareProtectionPlatform registry values of an emulated host: {name: data}."""
    node = fleet.state(host)["registry"]["SoftwareProtectionPlatform"] or {}
    for part in (subkey or "").split("\\"):
        if part:
            node = {k.lower(): v for k, v in node.get("subkeys", {}).items()}.get(part.lower()) or {}
    return {name: value["data"] for name, value in node.get("values", {}).items()}


def service(fleet: FleetRun, host: str) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], fleet.state(host)["licensing"]["service"])


def set_dword(fleet: FleetRun, host: str, name: str, value: int) -> None:
    fleet.invoke(
        host,
        "StdRegProv",
        "SetDWORDValue",
        namespace="root/default",
        params={"hDefKey": HKLM, "sSubKeyName": SPP, "sValueName": name, "uValue": value},
    )
