# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake WmiClient for the settings tests: an in-memory SPP service, products, registry and sppsvc.

It answers like the facts say Windows does (spp-facts.md §2.4 StdRegProv return codes,
§3.2-3.4 SoftwareLicensingService properties and methods, SetVL*Interval refused on a
machine that is not a KMS host) and records every call, so tests can count round trips
and writes.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManFault, WSManUnreachable

SPP = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
HKLM = 2147483650
WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"
SL_E_NOT_KMS_HOST = 0xC004F008  # Assumption for the fake: any SL error works; the tests only need a fault.

_SELECT = re.compile(r"^SELECT (?P<props>.+) FROM (?P<cls>\w+)(?: WHERE ID = '(?P<id>[^']*)')?$")
_TYPES = {
    "String": "REG_SZ",
    "ExpandedString": "REG_EXPAND_SZ",
    "DWORD": "REG_DWORD",
    "QWORD": "REG_QWORD",
    "MultiString": "REG_MULTI_SZ",
}
_TYPE_CODES = {"REG_SZ": 1, "REG_EXPAND_SZ": 2, "REG_DWORD": 4, "REG_MULTI_SZ": 7, "REG_QWORD": 11}


@dataclasses.dataclass
class Call:
    kind: str  # query | invoke | get
    cls: str
    method: str | None
    params: dict[str, t.Any]
    selectors: dict[str, str] | None
    namespace: str


class FakeWmi:
    def __init__(self, *, kms_host: bool = False, products: t.Iterable[str] = ()) -> None:
        self.requests = 0
        self.writes = 0
        self.calls: list[Call] = []
        self.registry: dict[str, dict[str, tuple[str, t.Any]]] = {SPP.lower(): {}}
        self.service: dict[str, t.Any] = {
            "Version": "10.0.20348.1",
            "IsKeyManagementServiceMachine": 1 if kms_host else 0,
            "KeyManagementServiceMachine": None,
            "KeyManagementServicePort": 0,
            "KeyManagementServiceLookupDomain": None,
            "KeyManagementServiceHostCaching": True,
            "KeyManagementServiceListeningPort": 0,
            "KeyManagementServiceDnsPublishing": True,
            "KeyManagementServiceLowPriority": False,
        }
        self.products = {pid: {"ID": pid, "ApplicationID": WINDOWS_APP} for pid in products}
        self.sppsvc = {"Name": "sppsvc", "State": "Running", "StartMode": "Manual"}
        self.failures: dict[int, Exception] = {}  # 1-based request number -> what that request raises
        self.return_values: dict[str, int] = {}  # method -> forced ReturnValue

    # -- helpers for tests -------------------------------------------------------------------
    def reg_set(self, key: str, name: str, reg_type: str, value: t.Any) -> None:
        self.registry.setdefault(key.lower(), {})[name] = (reg_type, value)

    def reg_value(self, key: str, name: str) -> tuple[str, t.Any] | None:
        return self.registry.get(key.lower(), {}).get(name)

    def sku_key(self, product_id: str) -> str:
        return f"{SPP}\\{WINDOWS_APP}\\{product_id}"

    def written(self) -> list[str]:
        return [f"{c.cls}.{c.method}" for c in self.calls if c.kind == "invoke" and _is_write(c.method or "")]

    # -- WmiClient API -----------------------------------------------------------------------
    def _count(self) -> None:
        self.requests += 1
        if self.requests in self.failures:
            raise self.failures[self.requests]

    def query(self, wql: str, *, namespace: str = "root/cimv2") -> list[dict[str, t.Any]]:
        self._count()
        match = _SELECT.match(wql)
        assert match, f"unexpected WQL {wql!r}"
        props = [p.strip() for p in match["props"].split(",")]
        self.calls.append(Call("query", match["cls"], None, {"wql": wql}, None, namespace))
        if match["cls"] == "SoftwareLicensingService":
            rows = [self._service_row()]
        elif match["cls"] == "SoftwareLicensingProduct":
            rows = [p for pid, p in self.products.items() if match["id"] is None or pid == match["id"].lower()]
        else:
            raise AssertionError(f"unexpected class {match['cls']}")
        return [{p: row.get(p) for p in props} for row in rows]

    def get(
        self, class_name: str, selectors: t.Mapping[str, str], *, namespace: str = "root/cimv2"
    ) -> dict[str, t.Any]:
        self._count()
        self.calls.append(Call("get", class_name, None, {}, dict(selectors), namespace))
        assert class_name == "Win32_Service" and selectors == {"Name": "sppsvc"}
        return dict(self.sppsvc)

    def invoke(
        self,
        class_name: str,
        method: str,
        params: t.Mapping[str, t.Any] | None = None,
        *,
        selectors: t.Mapping[str, str] | None = None,
        namespace: str = "root/cimv2",
    ) -> dict[str, t.Any]:
        self._count()
        params = dict(params or {})
        self.calls.append(Call("invoke", class_name, method, params, dict(selectors or {}) or None, namespace))
        if method in self.return_values:
            return {"ReturnValue": self.return_values[method]}
        if class_name == "StdRegProv":
            assert namespace == "root/default" and params.pop("hDefKey") == HKLM
            return self._registry(method, params)
        if class_name == "SoftwareLicensingService":
            assert selectors == {"Version": self.service["Version"]}, selectors
            return self._spp(self.service, method, params)
        if class_name == "SoftwareLicensingProduct":
            assert selectors is not None and selectors["ID"] in self.products, selectors
            return self._per_sku(self.sku_key(selectors["ID"]), method, params)
        if class_name == "Win32_Service":
            assert selectors == {"Name": "sppsvc"}
            if method == "StopService":
                self.sppsvc["State"] = "Stopped"
            else:
                self.sppsvc["State"] = "Running"
            self.writes += 1
            return {"ReturnValue": 0}
        raise AssertionError(f"unexpected {class_name}.{method}")

    # -- emulation ---------------------------------------------------------------------------
    def _interval(self, name: str, default: int) -> int:
        stored = self.reg_value(SPP, name)
        return int(stored[1]) if stored and stored[0] == "REG_DWORD" else default

    def _service_row(self) -> dict[str, t.Any]:
        row = dict(self.service)
        row["VLActivationInterval"] = self._interval("VLActivationInterval", 120)
        row["VLRenewalInterval"] = self._interval("VLRenewalInterval", 10080)
        return row

    def _per_sku(self, key: str, method: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
        """SoftwareLicensingProduct.Set*/Clear* write the per-SKU registry values (S-REGSET)."""
        values = {
            "KeyManagementServiceMachine": ("KeyManagementServiceName", "MachineName"),
            "KeyManagementServicePort": ("KeyManagementServicePort", "PortNumber"),
            "KeyManagementServiceLookupDomain": ("KeyManagementServiceLookupDomain", "LookupDomain"),
        }
        name, param = values[method.removeprefix("Set").removeprefix("Clear")]
        if method.startswith("Set"):
            self.reg_set(key, name, "REG_SZ", str(params[param]))
        else:
            self.registry.get(key.lower(), {}).pop(name, None)
        self.writes += 1
        return {"ReturnValue": 0}

    def _spp(self, target: dict[str, t.Any], method: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
        host_only = {
            "SetKeyManagementServiceListeningPort",
            "ClearKeyManagementServiceListeningPort",
            "DisableKeyManagementServiceDnsPublishing",
            "EnableKeyManagementServiceLowPriority",
            "SetVLActivationInterval",
            "SetVLRenewalInterval",
        }
        if method in host_only and not self.service["IsKeyManagementServiceMachine"]:
            raise WSManFault(
                "The Software Licensing Service reported that the product is not a KMS host.", hresult=SL_E_NOT_KMS_HOST
            )
        setters: dict[str, tuple[str, t.Callable[[dict[str, t.Any]], t.Any]]] = {
            "SetKeyManagementServiceMachine": ("KeyManagementServiceMachine", lambda p: p["MachineName"]),
            "ClearKeyManagementServiceMachine": ("KeyManagementServiceMachine", lambda p: None),
            "SetKeyManagementServicePort": ("KeyManagementServicePort", lambda p: int(p["PortNumber"])),
            "ClearKeyManagementServicePort": ("KeyManagementServicePort", lambda p: 0),
            "SetKeyManagementServiceLookupDomain": ("KeyManagementServiceLookupDomain", lambda p: p["LookupDomain"]),
            "ClearKeyManagementServiceLookupDomain": ("KeyManagementServiceLookupDomain", lambda p: None),
            "DisableKeyManagementServiceHostCaching": (
                "KeyManagementServiceHostCaching",
                lambda p: not p["DisableCaching"],
            ),
            "SetKeyManagementServiceListeningPort": (
                "KeyManagementServiceListeningPort",
                lambda p: int(p["PortNumber"]),
            ),
            "ClearKeyManagementServiceListeningPort": ("KeyManagementServiceListeningPort", lambda p: 0),
            "DisableKeyManagementServiceDnsPublishing": (
                "KeyManagementServiceDnsPublishing",
                lambda p: not p["DisablePublishing"],
            ),
            "EnableKeyManagementServiceLowPriority": (
                "KeyManagementServiceLowPriority",
                lambda p: p["EnableLowPriority"],
            ),
        }
        if method in ("SetVLActivationInterval", "SetVLRenewalInterval"):
            value = int(next(iter(params.values())))
            if not 15 <= value <= 43200:
                raise WSManFault("invalid interval", hresult=0x80070057)
            self.reg_set(SPP, method[len("Set") :], "REG_DWORD", value)
            self.writes += 1
            return {"ReturnValue": 0}
        assert method in setters, method
        prop, compute = setters[method]
        target[prop] = compute(params)
        self.writes += 1
        return {"ReturnValue": 0}

    def _registry(self, method: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
        key = params["sSubKeyName"].lower()
        values = self.registry.get(key)
        if method == "CreateKey":
            if values is None:
                self.registry[key] = {}
                self.writes += 1
            return {"ReturnValue": 0}
        if method == "EnumValues":
            if values is None:
                return {"ReturnValue": 2, "sNames": None, "Types": None}
            if not values:
                return {"ReturnValue": 0, "sNames": None, "Types": None}
            return {
                "ReturnValue": 0,
                "sNames": list(values),
                "Types": [_TYPE_CODES[reg_type] for reg_type, _data in values.values()],
            }
        name = params["sValueName"]
        if method == "DeleteValue":
            if values is None or name not in values:
                return {"ReturnValue": 2}
            del values[name]
            self.writes += 1
            return {"ReturnValue": 0}
        match = re.fullmatch(r"(Get|Set)(\w+)Value", method)
        assert match, method
        reg_type = _TYPES[match[2]]
        param = "uValue" if reg_type in ("REG_DWORD", "REG_QWORD") else "sValue"
        if match[1] == "Get":
            if values is None:
                return {"ReturnValue": 2}
            if name not in values:
                return {"ReturnValue": 1}
            stored_type, value = values[name]
            if stored_type != reg_type:
                return {"ReturnValue": 0x80041005}
            return {"ReturnValue": 0, param: value}
        if values is None:
            return {"ReturnValue": 2}  # Set*Value does not create keys
        values[name] = (reg_type, params[param])
        self.writes += 1
        return {"ReturnValue": 0}


def _is_write(method: str) -> bool:
    return not method.startswith(("Get", "Enum"))


def unreachable() -> WSManUnreachable:
    return WSManUnreachable("connection reset by peer")
