# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One fake Windows host behind the WmiClient API (``query``, ``get``, ``invoke``), for every unit suite.

It keeps the OS identity, SoftwareLicensingService and -Product instances, a registry answering with the
StdRegProv return codes of docs/reference/registry.md ("Return values"), Win32_Service instances with the
StartService / StopService return values, event log records, and a scripted outcome per ``Activate``.
Methods behave as docs/reference/spp-wmi.md ("Methods") describes: the KMS host methods fault on a machine
that is not a KMS host, SoftwareLicensingProduct.Set*/Clear* write the per-SKU registry values.

WQL is matched only as far as the plugins write it (``SELECT props FROM cls [WHERE a AND (b OR c) ...]``);
an unexpected query, class or method fails the test. Every call is recorded before it is answered, so tests
can count round trips and writes (even failed ones). ``failures`` makes request N raise, ``return_values``
forces a method's ReturnValue.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    WSManClassNotFound,
    WSManFault,
    WSManNotFound,
    WSManTimeout,
)

SPP = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
CURRENT_VERSION = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"
WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"
HKLM = 2147483650
SERVER_2022_DC_GVLK = "WX4NM-KYWYW-QJJR4-XV3QB-6VM33"
SERVER_2022_DC_ID = "ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03"
SL_E_NOT_KMS_HOST = 0xC004F008  # Assumption for the fake: any SL error works; the tests only need a fault.
E_ACCESSDENIED = 0x80070005

# Methods that only read; every other method call counts as a write. RefreshLicenseStatus re-evaluates
# the licenses without changing any setting, so it is not a write either.
READ_PREFIXES = ("Get", "Enum")
NOT_WRITES = frozenset({"RefreshLicenseStatus"})

# EnumValues Types codes and the Get/Set<suffix>Value methods of StdRegProv.
REG_CODES = {"REG_SZ": 1, "REG_EXPAND_SZ": 2, "REG_BINARY": 3, "REG_DWORD": 4, "REG_MULTI_SZ": 7, "REG_QWORD": 11}
_REG_SUFFIXES = {
    "String": "REG_SZ",
    "ExpandedString": "REG_EXPAND_SZ",
    "Binary": "REG_BINARY",
    "DWORD": "REG_DWORD",
    "QWORD": "REG_QWORD",
    "MultiString": "REG_MULTI_SZ",
}
_REG_PARAMS = {"REG_BINARY": "uValue", "REG_DWORD": "uValue", "REG_QWORD": "uValue"}  # others: sValue

# The KMS host methods a machine without a CSVLK refuses.
_HOST_ONLY = frozenset(
    {
        "SetKeyManagementServiceListeningPort",
        "ClearKeyManagementServiceListeningPort",
        "DisableKeyManagementServiceDnsPublishing",
        "EnableKeyManagementServiceLowPriority",
        "SetVLActivationInterval",
        "SetVLRenewalInterval",
    }
)
# SoftwareLicensingService setter -> (property it changes, its new value from the parameters).
_SERVICE_SETTERS: dict[str, tuple[str, t.Callable[[dict[str, t.Any]], t.Any]]] = {
    "SetKeyManagementServiceMachine": ("KeyManagementServiceMachine", lambda p: p["MachineName"]),
    "ClearKeyManagementServiceMachine": ("KeyManagementServiceMachine", lambda p: None),
    "SetKeyManagementServicePort": ("KeyManagementServicePort", lambda p: int(p["PortNumber"])),
    "ClearKeyManagementServicePort": ("KeyManagementServicePort", lambda p: 0),
    "SetKeyManagementServiceLookupDomain": ("KeyManagementServiceLookupDomain", lambda p: p["LookupDomain"]),
    "ClearKeyManagementServiceLookupDomain": ("KeyManagementServiceLookupDomain", lambda p: None),
    "DisableKeyManagementServiceHostCaching": ("KeyManagementServiceHostCaching", lambda p: not p["DisableCaching"]),
}
# KMS host setters write the registry; sppsvc runs with those values from its next start.
_HOST_SETTERS: dict[str, tuple[str, str, t.Callable[[dict[str, t.Any]], t.Any]]] = {
    "SetKeyManagementServiceListeningPort": (
        "KeyManagementServiceListeningPort",
        "REG_SZ",
        lambda p: str(int(p["PortNumber"])),
    ),
    "ClearKeyManagementServiceListeningPort": ("KeyManagementServiceListeningPort", "REG_SZ", lambda p: None),
    "DisableKeyManagementServiceDnsPublishing": (
        "DisableDnsPublishing",
        "REG_DWORD",
        lambda p: 1 if p["DisablePublishing"] else None,
    ),
    "EnableKeyManagementServiceLowPriority": (
        "EnableKmsLowPriority",
        "REG_DWORD",
        lambda p: 1 if p["EnableLowPriority"] else None,
    ),
}
# SoftwareLicensingProduct Set*/Clear* suffix -> (per-SKU registry value, method parameter).
_PER_SKU_VALUES = {
    "KeyManagementServiceMachine": ("KeyManagementServiceName", "MachineName"),
    "KeyManagementServicePort": ("KeyManagementServicePort", "PortNumber"),
    "KeyManagementServiceLookupDomain": ("KeyManagementServiceLookupDomain", "LookupDomain"),
}

_SELECT = re.compile(r"^SELECT (?P<props>.+?) FROM (?P<cls>\w+)(?: WHERE (?P<where>.+))?$")
_COND = re.compile(r"^(?P<prop>\w+) (?:= (?P<value>'(?:[^'\\]|\\.)*'|\d+|TRUE|FALSE)|(?P<notnull>IS NOT NULL))$")

#: What ``Activate`` does: 0 succeeds, an int HRESULT faults, "timeout" raises WSManTimeout after Windows
#: activated anyway, "unchanged" returns 0 but leaves the license status as it was.
ActivateOutcome = int | t.Literal["timeout", "unchanged"]


@dataclasses.dataclass
class Call:
    kind: str  # query | get | invoke
    cls: str
    method: str | None
    params: dict[str, t.Any]
    selectors: dict[str, str] | None
    namespace: str


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
            if expected.lower() != actual.lower():  # WQL compares strings case-insensitively
                return False
        elif expected != actual:
            return False
    return True


def is_write(method: str) -> bool:
    return not method.startswith(READ_PREFIXES) and method not in NOT_WRITES


class FakeHost:
    """An emulated Windows host: KMS client by default, a KMS host with ``kms_host=True``."""

    def __init__(self, *, kms_host: bool = False, products: t.Iterable[str] = ()) -> None:
        self.requests = 0
        self.calls: list[Call] = []
        self.failures: dict[int, Exception] = {}  # 1-based request number -> what that request raises
        self.return_values: dict[str, int] = {}  # method -> forced ReturnValue
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
        self.service: dict[str, t.Any] = {
            "Version": "10.0.20348.1",
            "IsKeyManagementServiceMachine": 1 if kms_host else 0,
            "KeyManagementServiceMachine": None,
            "KeyManagementServicePort": 0,
            "KeyManagementServiceLookupDomain": None,
            "KeyManagementServiceHostCaching": True,
        }
        # The KMS settings sppsvc runs with (read from the registry when it starts); None until first asked.
        self.running: dict[str, t.Any] | None = None
        self.products: dict[str, dict[str, t.Any]] = {}
        for product_id in products:
            self.add_product(product_id)
        self.keys: dict[str, KeySpec] = {}
        self.install_error: dict[str, int] = {}  # key -> HRESULT raised by InstallProductKey
        # SPP writes an installed key into DigitalProductId; these are the bytes it writes (None: it does not).
        self.key_bytes_on_install: list[int] | None = None
        # lower-case key path -> value name (case kept, looked up case-insensitively) -> (REG_* type, data)
        self.registry: dict[str, dict[str, tuple[str, t.Any]]] = {SPP.lower(): {}}
        self.services: dict[str, dict[str, t.Any]] = {
            "sppsvc": {"Name": "sppsvc", "State": "Running", "StartMode": "Manual"},
            "W32Time": {"Name": "W32Time", "State": "Running", "StartMode": "Manual"},
        }
        self.events: list[dict[str, t.Any]] = []
        self.activate_outcomes: list[ActivateOutcome] = []  # consumed one per Activate; empty: success
        self.access_denied = False  # every SoftwareLicensing* query and method faults with E_ACCESSDENIED
        self.has_adapter_class = False
        self.addresses: list[str] = []

    @property
    def wmi(self) -> WmiClient:
        """This fake where the engines expect a WmiClient."""
        return t.cast(WmiClient, self)

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

    def sku_key(self, product_id: str) -> str:
        """The per-SKU registry key SoftwareLicensingProduct.Set*/Clear* write."""
        return f"{SPP}\\{WINDOWS_APP}\\{product_id}"

    def reg_value(self, key: str, name: str) -> tuple[str, t.Any] | None:
        """(REG_* type, data) of a value, or None; names are case-insensitive as in Windows."""
        values = self.registry.get(key.lower(), {})
        found = self._value_name(values, name)
        return values[found] if found is not None else None

    def reg_set(self, key: str, name: str, reg_type: str, value: t.Any) -> None:
        """Store a value (creating its key), whatever the type: tests set up wrong types on purpose."""
        assert reg_type in REG_CODES, reg_type
        values = self.registry.setdefault(key.lower(), {})
        values[self._value_name(values, name) or name] = (str(reg_type), value)

    @staticmethod
    def _value_name(values: t.Mapping[str, t.Any], name: str) -> str | None:
        return next((stored for stored in values if stored.lower() == name.lower()), None)

    # -- what happened ----------------------------------------------------------------------------
    def writes(self) -> list[str]:
        """'Class.Method' of every method call that may change the host, in order (failed ones too)."""
        return [f"{c.cls}.{c.method}" for c in self.calls if c.kind == "invoke" and is_write(c.method or "")]

    def invoked(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.kind == "invoke" and c.method == method]

    # -- WmiClient API ----------------------------------------------------------------------------
    def _count(self) -> None:
        self.requests += 1
        if self.requests in self.failures:
            raise self.failures[self.requests]

    def query(self, wql: str, *, namespace: str = "root/cimv2") -> list[dict[str, t.Any]]:
        match = _SELECT.match(wql)
        assert match, f"unexpected WQL {wql!r}"
        cls, where = match["cls"], match["where"]
        self.calls.append(Call("query", cls, None, {"wql": wql}, None, namespace))
        self._count()
        if self.access_denied and cls.startswith("SoftwareLicensing"):
            raise WSManFault("Access is denied.", hresult=E_ACCESSDENIED)
        tables: dict[str, list[dict[str, t.Any]]] = {
            "Win32_OperatingSystem": [self.os],
            "Win32_ComputerSystem": [self.computer],
            "SoftwareLicensingService": [self._service_row()],
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
        self.calls.append(Call("get", class_name, None, {}, dict(selectors), namespace))
        self._count()
        assert class_name == "Win32_Service", class_name
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
        params = dict(params or {})
        self.calls.append(Call("invoke", class_name, method, params, dict(selectors or {}) or None, namespace))
        self._count()
        if method in self.return_values:
            return {"ReturnValue": self.return_values[method]}
        if class_name == "StdRegProv":
            assert namespace == "root/default" and params.pop("hDefKey") == HKLM
            return self._registry(method, params)
        if class_name == "Win32_Service":
            return self._service_control(method, dict(selectors or {}))
        if self.access_denied:
            raise WSManFault("Access is denied.", hresult=E_ACCESSDENIED)
        if class_name == "SoftwareLicensingService":
            assert selectors == {"Version": self.service["Version"]}, selectors
            return self._spp_service(method, params)
        assert class_name == "SoftwareLicensingProduct" and selectors, (class_name, selectors)
        assert selectors["ID"] in self.products, selectors
        return self._spp_product(self.products[selectors["ID"]], method, params)

    # -- emulation --------------------------------------------------------------------------------
    def _interval(self, name: str, default: int) -> int:
        stored = self.reg_value(SPP, name)
        return int(stored[1]) if stored and stored[0] == "REG_DWORD" else default

    def configured(self) -> dict[str, t.Any]:
        """The KMS settings the registry holds, as SoftwareLicensingService names them."""
        port = self.reg_value(SPP, "KeyManagementServiceListeningPort")
        return {
            "KeyManagementServiceListeningPort": int(port[1]) if port else 0,
            "KeyManagementServiceDnsPublishing": not self._interval("DisableDnsPublishing", 0),
            "KeyManagementServiceLowPriority": bool(self._interval("EnableKmsLowPriority", 0)),
            "VLActivationInterval": self._interval("VLActivationInterval", 120),
            "VLRenewalInterval": self._interval("VLRenewalInterval", 10080),
        }

    def _service_row(self) -> dict[str, t.Any]:
        # SoftwareLicensingService reports the KMS settings sppsvc runs with, those of its last start.
        if self.running is None:
            self.running = self.configured()
        return {**self.running, **self.service}  # a test may pin a property in self.service

    def _spp_service(self, method: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
        if method == "InstallProductKey":
            return self._install(params["ProductKey"])
        if method == "RefreshLicenseStatus":
            return {"ReturnValue": 0}
        if method == "ClearProductKeyFromRegistry":
            stored = self.reg_value(CURRENT_VERSION, "DigitalProductId")
            if stored:
                data = list(stored[1])
                data[52:67] = [0] * 15
                self.reg_set(CURRENT_VERSION, "DigitalProductId", "REG_BINARY", data)
            return {"ReturnValue": 0}
        if method in ("SetVLActivationTypeEnabled", "ClearVLActivationTypeEnabled"):
            return self._activation_type(SPP, method, params)
        if method in _HOST_ONLY and not self.service["IsKeyManagementServiceMachine"]:
            raise WSManFault(
                "The Software Licensing Service reported that the product is not a KMS host.", hresult=SL_E_NOT_KMS_HOST
            )
        if method in ("SetVLActivationInterval", "SetVLRenewalInterval"):
            value = int(next(iter(params.values())))
            if not 15 <= value <= 43200:
                raise WSManFault("invalid interval", hresult=0x80070057)
            self.reg_set(SPP, method.removeprefix("Set"), "REG_DWORD", value)
            return {"ReturnValue": 0}
        if method in _HOST_SETTERS:
            name, reg_type, compute = _HOST_SETTERS[method]
            value = compute(params)
            if value is None:
                self.registry[SPP.lower()].pop(self._value_name(self.registry[SPP.lower()], name) or name, None)
            else:
                self.reg_set(SPP, name, reg_type, value)
            return {"ReturnValue": 0}
        assert method in _SERVICE_SETTERS, f"unexpected SoftwareLicensingService.{method}"
        prop, compute = _SERVICE_SETTERS[method]
        self.service[prop] = compute(params)
        return {"ReturnValue": 0}

    def _activation_type(self, key: str, method: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
        # slmgr /act-type: REG_DWORD VLActivationType (per SKU; the service-wide location is assumed the same name).
        if method.startswith("Set"):
            if params["ActivationType"] not in (0, 1, 2, 3):
                raise WSManFault("The parameter is incorrect.", hresult=0x80070057)
            self.reg_set(key, "VLActivationType", "REG_DWORD", int(params["ActivationType"]))
        else:
            values = self.registry.get(key.lower(), {})
            found = self._value_name(values, "VLActivationType")
            if found is not None:
                del values[found]
        return {"ReturnValue": 0}

    def _install(self, key: str) -> dict[str, t.Any]:
        if key in self.install_error:
            raise WSManFault("The Software Licensing Service reported an error.", hresult=self.install_error[key])
        spec = self.keys.get(key)
        if spec is None:
            raise WSManFault("The product key is invalid.", hresult=0xC004F050)
        for product in self.products.values():  # one Windows key at a time
            if product["ApplicationID"] == WINDOWS_APP and product["ID"] != spec.product_id:
                product["PartialProductKey"] = None
        self.products[spec.product_id].update(
            PartialProductKey=key[-5:],
            Description=spec.description,
            ProductKeyChannel=spec.channel,
            LicenseStatus=spec.license_status,
        )
        if self.key_bytes_on_install is not None:
            self.reg_set(CURRENT_VERSION, "DigitalProductId", "REG_BINARY", list(self.key_bytes_on_install))
        return {"ReturnValue": 0}

    def _spp_product(self, product: dict[str, t.Any], method: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
        if method == "UninstallProductKey":
            product.update(PartialProductKey=None, LicenseStatus=0, ProductKeyChannel=None)
            return {"ReturnValue": 0}
        if method == "Activate":
            return self._activate(product)
        if method in ("SetVLActivationTypeEnabled", "ClearVLActivationTypeEnabled"):
            return self._activation_type(self.sku_key(str(product["ID"])), method, params)
        value = method.removeprefix("Set").removeprefix("Clear")
        assert method != value and value in _PER_SKU_VALUES, f"unexpected SoftwareLicensingProduct.{method}"
        name, param = _PER_SKU_VALUES[value]
        key = self.sku_key(str(product["ID"]))
        if method.startswith("Set"):
            self.reg_set(key, name, "REG_SZ", str(params[param]))
        else:
            values = self.registry.get(key.lower(), {})
            found = self._value_name(values, name)
            if found is not None:
                del values[found]
        return {"ReturnValue": 0}

    def _activate(self, product: dict[str, t.Any]) -> dict[str, t.Any]:
        outcome = self.activate_outcomes.pop(0) if self.activate_outcomes else 0
        if outcome == "timeout":
            product["LicenseStatus"] = 1  # Windows finished while the request timed out
            raise WSManTimeout("The WS-Management service cannot complete the operation within the time")
        if outcome == "unchanged":
            return {"ReturnValue": 0}
        if outcome:
            raise WSManFault("Activation failed", hresult=int(outcome))
        product["LicenseStatus"] = 1
        return {"ReturnValue": 0}

    def _service_control(self, method: str, selectors: dict[str, str]) -> dict[str, t.Any]:
        service = self.services[selectors["Name"]]
        if method == "StopService":
            if service["State"] == "Stopped":
                return {"ReturnValue": 5}  # Service Cannot Accept Control
            service["State"] = "Stopped"
            return {"ReturnValue": 0}
        if method == "StartService":
            if service["StartMode"] == "Disabled":
                return {"ReturnValue": 14}  # Service Disabled
            if service["State"] == "Running":
                return {"ReturnValue": 10}  # Service Already Running
            service["State"] = "Running"
            if selectors["Name"] == "sppsvc":
                self.running = self.configured()
            return {"ReturnValue": 0}
        raise AssertionError(f"unexpected Win32_Service.{method}")

    def _registry(self, method: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
        key = params["sSubKeyName"].lower()
        values = self.registry.get(key)
        if method == "CreateKey":
            self.registry.setdefault(key, {})
            return {"ReturnValue": 0}
        if method == "EnumValues":
            if values is None:
                return {"ReturnValue": 2, "sNames": None, "Types": None}
            if not values:  # only the default value: null arrays
                return {"ReturnValue": 0, "sNames": None, "Types": None}
            return {
                "ReturnValue": 0,
                "sNames": list(values),
                "Types": [REG_CODES[reg_type] for reg_type, _data in values.values()],
            }
        name = params["sValueName"]
        found = self._value_name(values or {}, name)
        if method == "DeleteValue":
            if values is None or found is None:
                return {"ReturnValue": 2}
            del values[found]
            return {"ReturnValue": 0}
        match = re.fullmatch(r"(Get|Set)(\w+)Value", method)
        assert match and match[2] in _REG_SUFFIXES, f"unexpected StdRegProv.{method}"
        reg_type = _REG_SUFFIXES[match[2]]
        param = _REG_PARAMS.get(reg_type, "sValue")
        if match[1] == "Get":
            if values is None:
                return {"ReturnValue": 2}
            if found is None:
                return {"ReturnValue": 1}
            stored_type, data = values[found]
            if stored_type != reg_type:
                return {"ReturnValue": 0x80041005}  # WBEM_E_TYPE_MISMATCH
            return {"ReturnValue": 0, param: data}
        if values is None:
            return {"ReturnValue": 2}  # Set*Value does not create keys
        values[found or name] = (reg_type, params[param])
        return {"ReturnValue": 0}
