# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake WmiClient for the product_key / activate / time_source / license_info unit tests.

It keeps an in-memory Windows host: OS identity, SoftwareLicensingService and -Product
instances, a registry (StdRegProv return codes of spp-facts §2.4), services, event log
records and a scripted outcome for each ``Activate`` call. WQL is matched only as far as
the plugins write it (``SELECT props FROM cls [WHERE a AND b ...]``); an unexpected query
fails the test. Every call is recorded so tests can assert on what was (not) written.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    WSManClassNotFound,
    WSManFault,
    WSManNotFound,
    WSManTimeout,
)

WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"
HKLM = 2147483650
SERVER_2022_DC_GVLK = "WX4NM-KYWYW-QJJR4-XV3QB-6VM33"
SERVER_2022_DC_ID = "ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03"
WRITE_METHODS = frozenset(
    {
        "InstallProductKey",
        "UninstallProductKey",
        "ClearProductKeyFromRegistry",
        "Activate",
        "SetStringValue",
        "DeleteValue",
        "CreateKey",
        "StartService",
        "StopService",
    }
)

_SELECT = re.compile(r"^SELECT (?P<props>.+?) FROM (?P<cls>\w+)(?: WHERE (?P<where>.+))?$")
_COND = re.compile(r"^(?P<prop>\w+) (?:= (?P<value>'(?:[^'\\]|\\.)*'|\d+|TRUE|FALSE)|(?P<notnull>IS NOT NULL))$")


@dataclasses.dataclass
class Call:
    kind: str
    cls: str
    method: str | None
    params: dict[str, t.Any]
    selectors: dict[str, str] | None


@dataclasses.dataclass
class KeySpec:
    """What InstallProductKey does with a key: the product it lands on and that product's new state."""

    product_id: str
    description: str
    channel: str
    license_status: int = 2


def _value(text: str) -> t.Any:
    if text.startswith("'"):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    return int(text)


def _matches(row: t.Mapping[str, t.Any], where: str | None) -> bool:
    if not where:
        return True
    for part in re.split(r" AND (?![^(]*\))", where):
        part = part.strip()
        if part.startswith("(") and part.endswith(")"):
            if not any(_matches(row, alt) for alt in part[1:-1].split(" OR ")):
                return False
            continue
        match = _COND.match(part)
        assert match, f"unexpected WQL condition {part!r}"
        actual = row.get(match["prop"])
        if match["notnull"]:
            if actual is None:
                return False
            continue
        expected = _value(match["value"])
        if isinstance(expected, str) and isinstance(actual, str):
            if expected.lower() != actual.lower():
                return False
        elif expected != actual:
            return False
    return True


class FakeHost:
    """An emulated host behind the WmiClient API (query, get, invoke, requests)."""

    def __init__(self) -> None:
        self.requests = 0
        self.calls: list[Call] = []
        self.os: dict[str, t.Any] = {
            "Caption": "Microsoft Windows Server 2022 Datacenter",
            "Version": "10.0.20348",
            "BuildNumber": "20348",
            "OperatingSystemSKU": 8,
            "ProductType": 3,
            "OSArchitecture": "64-bit",
            "CSName": "SRV01",
            "LocalDateTime": datetime.datetime.now(datetime.UTC),
        }
        self.computer: dict[str, t.Any] = {
            "Name": "SRV01",
            "DNSHostName": "srv01",
            "Domain": "corp.example.com",
            "PartOfDomain": True,
        }
        self.service: dict[str, t.Any] = {"Version": "10.0.20348.1", "KeyManagementServiceMachine": None}
        self.products: dict[str, dict[str, t.Any]] = {}
        self.keys: dict[str, KeySpec] = {}
        self.install_error: dict[str, int] = {}  # key -> HRESULT raised by InstallProductKey
        self.registry: dict[str, dict[str, tuple[int, t.Any]]] = {}
        self.services: dict[str, dict[str, t.Any]] = {
            "sppsvc": {"Name": "sppsvc", "State": "Running", "StartMode": "Manual"},
            "W32Time": {"Name": "W32Time", "State": "Running", "StartMode": "Manual"},
        }
        self.events: list[dict[str, t.Any]] = []
        self.activate_outcomes: list[int | str] = []  # 0 success, an HRESULT, or "timeout"
        self.access_denied = False
        self.has_adapter_class = False
        self.addresses: list[str] = []

    # -- set-up helpers ---------------------------------------------------------------------------
    def add_product(self, product_id: str, **props: t.Any) -> dict[str, t.Any]:
        row = {
            "ID": product_id,
            "ApplicationID": WINDOWS_APP,
            "Name": "Windows(R), ServerDatacenter edition",
            "Description": "Windows(R) Operating System, VOLUME_KMSCLIENT channel",
            "LicenseFamily": "ServerDatacenter",
            "LicenseIsAddon": False,
            "LicenseStatus": 2,
            "PartialProductKey": None,
            "ProductKeyChannel": None,
            "GracePeriodRemaining": 43200,
        }
        row.update(props)
        self.products[product_id] = row
        return row

    def add_event(self, logfile: str, code: int, info: str | list[str], source: str | None = None) -> None:
        number = 1 + max((e["RecordNumber"] for e in self.events if e["Logfile"] == logfile), default=0)
        self.events.append(
            {
                "Logfile": logfile,
                "RecordNumber": number,
                "EventCode": code,
                "SourceName": source
                or ("KmsRequests" if logfile == "Key Management Service" else "Software Protection Platform Service"),
                "InsertionStrings": [info] if isinstance(info, str) else info,
                "TimeGenerated": datetime.datetime(2026, 11, 22, 8, number % 60, tzinfo=datetime.UTC),
            }
        )

    def reg(self, key: str, name: str) -> tuple[int, t.Any] | None:
        return self.registry.get(key.lower(), {}).get(name.lower())

    def reg_set(self, key: str, name: str, reg_type: int, value: t.Any) -> None:
        self.registry.setdefault(key.lower(), {})[name.lower()] = (reg_type, value)

    def writes(self) -> list[str]:
        return [f"{c.cls}.{c.method}" for c in self.calls if c.kind == "invoke" and c.method in WRITE_METHODS]

    def invoked(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.kind == "invoke" and c.method == method]

    # -- WmiClient API ----------------------------------------------------------------------------
    def query(self, wql: str, *, namespace: str = "root/cimv2") -> list[dict[str, t.Any]]:
        self.requests += 1
        match = _SELECT.match(wql)
        assert match, f"unexpected WQL {wql!r}"
        cls, where = match["cls"], match["where"]
        self.calls.append(Call("query", cls, None, {"wql": wql}, None))
        if self.access_denied and cls.startswith("SoftwareLicensing"):
            raise WSManFault("Access is denied.", hresult=0x80070005)
        tables: dict[str, list[dict[str, t.Any]]] = {
            "Win32_OperatingSystem": [self.os],
            "Win32_ComputerSystem": [self.computer],
            "SoftwareLicensingService": [self.service],
            "SoftwareLicensingProduct": list(self.products.values()),
            "Win32_NTLogEvent": self.events,
        }
        if cls == "Win32_NetworkAdapterConfiguration":
            if not self.has_adapter_class:
                raise WSManClassNotFound("Invalid class", hresult=0x80041010)
            tables[cls] = [{"IPAddress": self.addresses, "IPEnabled": True}]
        assert cls in tables, f"unexpected class {cls}"
        props = [p.strip() for p in match["props"].split(",")]
        rows = [r for r in tables[cls] if _matches(r, where)]
        return [{p: r.get(p) for p in props} if props != ["*"] else dict(r) for r in rows]

    def get(
        self, class_name: str, selectors: t.Mapping[str, str], *, namespace: str = "root/cimv2"
    ) -> dict[str, t.Any]:
        self.requests += 1
        self.calls.append(Call("get", class_name, None, {}, dict(selectors)))
        assert class_name == "Win32_Service"
        service = self.services.get(selectors["Name"])
        if service is None:
            raise WSManNotFound("Not found", hresult=0x80041002)
        return dict(service)

    def invoke(
        self,
        class_name: str,
        method: str,
        params: t.Mapping[str, t.Any] | None = None,
        *,
        selectors: t.Mapping[str, str] | None = None,
        namespace: str = "root/cimv2",
    ) -> dict[str, t.Any]:
        self.requests += 1
        params = dict(params or {})
        self.calls.append(Call("invoke", class_name, method, params, dict(selectors or {}) or None))
        if class_name == "StdRegProv":
            assert namespace == "root/default" and params.pop("hDefKey") == HKLM
            return self._registry(method, params)
        if class_name == "Win32_Service":
            return self._service_control(method, dict(selectors or {}))
        if self.access_denied:
            raise WSManFault("Access is denied.", hresult=0x80070005)
        if class_name == "SoftwareLicensingService":
            assert selectors == {"Version": self.service["Version"]}, selectors
            return self._spp_service(method, params)
        assert class_name == "SoftwareLicensingProduct" and selectors, (class_name, selectors)
        product = self.products[selectors["ID"]]
        return self._spp_product(product, method)

    # -- emulation --------------------------------------------------------------------------------
    def _spp_service(self, method: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
        if method == "InstallProductKey":
            key = params["ProductKey"]
            if key in self.install_error:
                raise WSManFault("The Software Licensing Service reported an error.", hresult=self.install_error[key])
            spec = self.keys.get(key)
            if spec is None:
                raise WSManFault("The product key is invalid.", hresult=0xC004F050)
            for product in self.products.values():
                if product["ApplicationID"] == WINDOWS_APP and product["ID"] != spec.product_id:
                    product["PartialProductKey"] = None
            product = self.products[spec.product_id]
            product.update(
                PartialProductKey=key[-5:],
                Description=spec.description,
                ProductKeyChannel=spec.channel,
                LicenseStatus=spec.license_status,
            )
            return {"ReturnValue": 0}
        if method in ("RefreshLicenseStatus", "ClearProductKeyFromRegistry"):
            if method == "ClearProductKeyFromRegistry":
                stored = self.reg(r"SOFTWARE\Microsoft\Windows NT\CurrentVersion", "DigitalProductId")
                if stored:
                    data = list(stored[1])
                    data[52:67] = [0] * 15
                    self.reg_set(r"SOFTWARE\Microsoft\Windows NT\CurrentVersion", "DigitalProductId", 3, data)
            return {"ReturnValue": 0}
        raise AssertionError(f"unexpected SoftwareLicensingService.{method}")

    def _spp_product(self, product: dict[str, t.Any], method: str) -> dict[str, t.Any]:
        if method == "UninstallProductKey":
            product.update(PartialProductKey=None, LicenseStatus=0, ProductKeyChannel=None)
            return {"ReturnValue": 0}
        if method == "Activate":
            outcome = self.activate_outcomes.pop(0) if self.activate_outcomes else 0
            if outcome == "timeout":
                product["LicenseStatus"] = 1  # Windows finished while the request timed out
                raise WSManTimeout("The WS-Management service cannot complete the operation within the time")
            if outcome:
                raise WSManFault("Activation failed", hresult=int(outcome))
            product["LicenseStatus"] = 1
            return {"ReturnValue": 0}
        raise AssertionError(f"unexpected SoftwareLicensingProduct.{method}")

    def _service_control(self, method: str, selectors: dict[str, str]) -> dict[str, t.Any]:
        service = self.services[selectors["Name"]]
        if method == "StopService":
            if service["State"] == "Stopped":
                return {"ReturnValue": 5}
            service["State"] = "Stopped"
            return {"ReturnValue": 0}
        if method == "StartService":
            if service["StartMode"] == "Disabled":
                return {"ReturnValue": 14}
            if service["State"] == "Running":
                return {"ReturnValue": 10}
            service["State"] = "Running"
            return {"ReturnValue": 0}
        raise AssertionError(f"unexpected Win32_Service.{method}")

    def _registry(self, method: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
        key = params["sSubKeyName"]
        exists = key.lower() in self.registry
        if method == "EnumValues":
            if not exists:
                return {"ReturnValue": 2}
            values = self.registry[key.lower()]
            return {"ReturnValue": 0, "sNames": list(values), "Types": [v[0] for v in values.values()]}
        if method == "CreateKey":
            self.registry.setdefault(key.lower(), {})
            return {"ReturnValue": 0}
        name = params["sValueName"]
        stored = self.reg(key, name)
        if method in ("GetStringValue", "GetBinaryValue"):
            wanted = 1 if method == "GetStringValue" else 3
            if not exists:
                return {"ReturnValue": 2}
            if stored is None:
                return {"ReturnValue": 1}
            if stored[0] != wanted:
                return {"ReturnValue": 0x80041005}
            return {"ReturnValue": 0, ("sValue" if wanted == 1 else "uValue"): stored[1]}
        if method == "SetStringValue":
            if not exists:
                return {"ReturnValue": 2}
            self.reg_set(key, name, 1, params["sValue"])
            return {"ReturnValue": 0}
        if method == "DeleteValue":
            if stored is None:
                return {"ReturnValue": 2}
            del self.registry[key.lower()][name.lower()]
            return {"ReturnValue": 0}
        raise AssertionError(f"unexpected StdRegProv.{method}")
