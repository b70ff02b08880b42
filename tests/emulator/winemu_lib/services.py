"""The Windows services the emulated machines run (sppsvc, W32Time) and how Win32_Service shows them.

The start mode lives in the registry (``Services\\<name>\\Start``); whether a service runs is a
:class:`ServiceRuntime` of the machine.
"""

from __future__ import annotations

import dataclasses

from .cim import CimValue

SERVICES_KEY = r"SYSTEM\CurrentControlSet\Services"
W32TIME_KEY = rf"{SERVICES_KEY}\W32Time"

# Services\<name>\Start values <-> Win32_Service.StartMode. ChangeStartMode takes "Automatic" where the
# StartMode property reads "Auto" (Win32_Service documentation).
START_VALUES = {"Boot": 0, "System": 1, "Automatic": 2, "Manual": 3, "Disabled": 4}
START_MODES = {0: "Boot", 1: "System", 2: "Auto", 3: "Manual", 4: "Disabled"}

# Assumption: Win32_Service method return codes as the Win32_Service documentation lists them.
SVC_OK = 0
SVC_ACCESS_DENIED = 2
SVC_CANNOT_ACCEPT_CONTROL = 5
SVC_ALREADY_RUNNING = 10
SVC_DISABLED = 14
SVC_INVALID_PARAMETER = 21


def start_value(mode: str) -> int:
    """'Automatic'/'Auto', 'Manual', 'Disabled' (any case) -> Services\\<name>\\Start value."""
    normalized = {"auto": "Automatic"}.get(mode.strip().lower(), mode.strip().capitalize())
    if normalized not in ("Automatic", "Manual", "Disabled"):
        raise ValueError(f"start mode must be Automatic, Manual or Disabled, not {mode!r}")
    return START_VALUES[normalized]


@dataclasses.dataclass(frozen=True)
class ServiceInfo:
    name: str
    display_name: str
    description: str
    path: str
    service_type: str
    start_name: str
    delayed: bool


# Assumption: display names, image paths and accounts as on current Windows releases.
SERVICES: dict[str, ServiceInfo] = {
    "sppsvc": ServiceInfo(
        name="sppsvc",
        display_name="Software Protection",
        description="Enables the download, installation and enforcement of digital licenses for Windows and "
        "Windows applications.",
        path=r"C:\Windows\system32\sppsvc.exe",
        service_type="Own Process",
        start_name=r"NT AUTHORITY\NetworkService",
        delayed=True,
    ),
    "W32Time": ServiceInfo(
        name="W32Time",
        display_name="Windows Time",
        description="Maintains date and time synchronization on all clients and servers in the network.",
        path=r"C:\Windows\system32\svchost.exe -k LocalService",
        service_type="Share Process",
        start_name=r"NT AUTHORITY\LocalService",
        delayed=False,
    ),
}


@dataclasses.dataclass
class ServiceRuntime:
    running: bool
    pid: int = 0


def service_instance(
    info: ServiceInfo, runtime: ServiceRuntime, start: int, *, delayed: bool, system_name: str
) -> dict[str, CimValue]:
    """A Win32_Service instance; ``start`` is the Services\\<name>\\Start value."""
    return {
        "Name": info.name,
        "DisplayName": info.display_name,
        "Caption": info.display_name,
        "Description": info.description,
        "State": "Running" if runtime.running else "Stopped",
        "StartMode": START_MODES.get(start, "Unknown"),
        "Status": "OK",
        "Started": runtime.running,
        "ProcessId": runtime.pid if runtime.running else 0,
        "PathName": info.path,
        "ServiceType": info.service_type,
        "StartName": info.start_name,
        "AcceptStop": runtime.running,
        "AcceptPause": False,
        "DelayedAutoStart": delayed and start == 2,
        "ErrorControl": "Normal",
        "ExitCode": 0 if runtime.running else 1077,
        "ServiceSpecificExitCode": 0,
        "SystemName": system_name,
    }
