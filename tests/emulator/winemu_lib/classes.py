"""WMI class definitions the emulated machines serve.

Names and types follow the class documentation on Microsoft Learn (StdRegProv, SoftwareLicensingService,
SoftwareLicensingProduct, Win32_NTLogEvent) and, for the current property and method lists, the bindings
Microsoft generated from live Windows Server class schemas (github.com/microsoft/wmi).
"""

from __future__ import annotations

import dataclasses
import typing as t

from .cim import ClassDef, ClassNotFound, MethodDef
from .firewall import MSFT_NET_FIREWALL_RULE

CIMV2 = "root/cimv2"
DEFAULT = "root/default"


def _method(
    name: str,
    inputs: t.Sequence[tuple[str, str]] = (),
    outputs: t.Sequence[tuple[str, str]] = (),
    *,
    static: bool = False,
) -> MethodDef:
    return MethodDef(
        name=name,
        inputs=dict(inputs),
        outputs={**dict(outputs), "ReturnValue": "uint32"},
        static=static,
    )


def _methods(*defs: MethodDef) -> dict[str, MethodDef]:
    return {method.name: method for method in defs}


# --- StdRegProv ---------------------------------------------------------------------------------------

_KEY = (("hDefKey", "uint32"), ("sSubKeyName", "string"))
_VALUE = (*_KEY, ("sValueName", "string"))


def _reg_pair(kind: str, param: str, cim_type: str) -> tuple[MethodDef, MethodDef]:
    return (
        _method(f"Get{kind}Value", _VALUE, ((param, cim_type),), static=True),
        _method(f"Set{kind}Value", (*_VALUE, (param, cim_type)), static=True),
    )


# Set/GetSecurityDescriptor are left out: their __SecurityDescriptor object parameter has no
# representation in the emulator's CIM types (cim.CIM_TYPES).
STD_REG_PROV = ClassDef(
    name="StdRegProv",
    namespaces=(DEFAULT, CIMV2),
    properties={},
    keys=(),
    methods=_methods(
        _method("CreateKey", _KEY, static=True),
        _method("DeleteKey", _KEY, static=True),
        _method("EnumKey", _KEY, (("sNames", "string[]"),), static=True),
        _method("EnumValues", _KEY, (("sNames", "string[]"), ("Types", "sint32[]")), static=True),
        _method("DeleteValue", _VALUE, static=True),
        *_reg_pair("DWORD", "uValue", "uint32"),
        *_reg_pair("QWORD", "uValue", "uint64"),
        *_reg_pair("String", "sValue", "string"),
        *_reg_pair("MultiString", "sValue", "string[]"),
        *_reg_pair("ExpandedString", "sValue", "string"),
        *_reg_pair("Binary", "uValue", "uint8[]"),
        _method("CheckAccess", (*_KEY, ("uRequired", "uint32")), (("bGranted", "boolean"),), static=True),
    ),
)

# --- SoftwareLicensingService -------------------------------------------------------------------------

_KMS_REQUEST_COUNTERS = (
    "KeyManagementServiceTotalRequests",
    "KeyManagementServiceFailedRequests",
    "KeyManagementServiceUnlicensedRequests",
    "KeyManagementServiceLicensedRequests",
    "KeyManagementServiceOOBGraceRequests",
    "KeyManagementServiceOOTGraceRequests",
    "KeyManagementServiceNonGenuineGraceRequests",
    "KeyManagementServiceNotificationRequests",
)

SOFTWARE_LICENSING_SERVICE = ClassDef(
    name="SoftwareLicensingService",
    namespaces=(CIMV2,),
    properties={
        "Version": "string",
        "ClientMachineID": "string",
        "KeyManagementServiceMachine": "string",
        "KeyManagementServicePort": "uint32",
        "KeyManagementServiceLookupDomain": "string",
        "KeyManagementServiceListeningPort": "uint32",
        "KeyManagementServiceDnsPublishing": "boolean",
        "KeyManagementServiceLowPriority": "boolean",
        "KeyManagementServiceHostCaching": "boolean",
        "KeyManagementServiceProductKeyID": "string",
        "KeyManagementServiceCurrentCount": "uint32",
        "IsKeyManagementServiceMachine": "uint32",
        "RequiredClientCount": "uint32",
        **dict.fromkeys(_KMS_REQUEST_COUNTERS, "uint32"),
        "DiscoveredKeyManagementServiceMachineName": "string",
        "DiscoveredKeyManagementServiceMachinePort": "uint32",
        "DiscoveredKeyManagementServiceMachineIpAddress": "string",
        "VLActivationInterval": "uint32",
        "VLRenewalInterval": "uint32",
        "PolicyCacheRefreshRequired": "uint32",
        "RemainingWindowsReArmCount": "uint32",
        "TokenActivationILID": "string",
        "TokenActivationILVID": "uint32",
        "TokenActivationGrantNumber": "uint32",
        "TokenActivationCertificateThumbprint": "string",
        "TokenActivationAdditionalInfo": "string",
        "OA2xBiosMarkerMinorVersion": "uint32",
        "OA2xBiosMarkerStatus": "uint32",
        "OA3xOriginalProductKey": "string",
        "OA3xOriginalProductKeyDescription": "string",
        "OA3xOriginalProductKeyPkPn": "string",
        "SubscriptionEdition": "string",
        "SubscriptionExpiry": "string",
        "SubscriptionStatus": "uint32",
        "SubscriptionType": "uint32",
        "AzureMetadataResponse": "uint32",
        "EmitWindowsMeter": "uint32",
        # Windows 7 / Server 2008 R2 only ("WMI Properties and Methods for Volume Activation"; absent from the
        # Windows Server 2019 and 23H2 schemas): slmgr /stao and /ctao. for_build() drops it from 9200 on.
        "KeyManagementServiceActivationDisabled": "boolean",
    },
    keys=("Version",),
    methods=_methods(
        _method("InstallProductKey", (("ProductKey", "string"),)),
        _method("InstallLicense", (("License", "string"),)),
        _method("InstallLicensePackage", (("LicensePackage", "string"),)),
        _method("SetKeyManagementServiceMachine", (("MachineName", "string"),)),
        _method("ClearKeyManagementServiceMachine"),
        _method("SetKeyManagementServicePort", (("PortNumber", "uint32"),)),
        _method("ClearKeyManagementServicePort"),
        _method("SetKeyManagementServiceLookupDomain", (("LookupDomain", "string"),)),
        _method("ClearKeyManagementServiceLookupDomain"),
        _method("SetKeyManagementServiceListeningPort", (("PortNumber", "uint32"),)),
        _method("ClearKeyManagementServiceListeningPort"),
        _method("DisableKeyManagementServiceDnsPublishing", (("DisablePublishing", "boolean"),)),
        _method("EnableKeyManagementServiceLowPriority", (("EnableLowPriority", "boolean"),)),
        _method("DisableKeyManagementServiceHostCaching", (("DisableCaching", "boolean"),)),
        _method("SetVLActivationInterval", (("ActivationInterval", "uint32"),)),
        _method("SetVLRenewalInterval", (("RenewalInterval", "uint32"),)),
        _method("ClearProductKeyFromRegistry"),
        _method("AcquireGenuineTicket", (("TemplateId", "string"), ("ServerUrl", "string"))),
        _method("ReArmWindows"),
        _method("ReArmApp", (("ApplicationId", "string"),)),
        _method("RefreshLicenseStatus"),
        _method(
            "GenerateActiveDirectoryOfflineActivationId",
            (("ProductKey", "string"),),
            (("InstallationID", "string"),),
        ),
        _method(
            "DepositActiveDirectoryOfflineActivationConfirmation",
            (("ProductKey", "string"), ("ConfirmationID", "string"), ("ActivationObjectName", "string")),
        ),
        _method(
            "DoActiveDirectoryOnlineActivation",
            (("ProductKey", "string"), ("ActivationObjectName", "string")),
        ),
        _method("SetVLActivationTypeEnabled", (("ActivationType", "uint32"),)),
        _method("ClearVLActivationTypeEnabled"),
        _method("DisableKeyManagementServiceActivation", (("DisableActivation", "boolean"),)),
    ),
)

# --- SoftwareLicensingTokenActivationLicense ------------------------------------------------------------
# "SoftwareLicensingTokenActivationLicense class" (Microsoft Learn): read-only properties, key ID, Uninstall().

SOFTWARE_LICENSING_TOKEN_ACTIVATION_LICENSE = ClassDef(
    name="SoftwareLicensingTokenActivationLicense",
    namespaces=(CIMV2,),
    properties={
        "ID": "string",
        "ILID": "string",
        "ILVID": "uint32",
        "AuthorizationStatus": "uint32",
        "ExpirationDate": "datetime",
        "Description": "string",
        "AdditionalInfo": "string",
    },
    keys=("ID",),
    methods=_methods(_method("Uninstall")),
)

# --- SoftwareLicensingProduct -------------------------------------------------------------------------

SOFTWARE_LICENSING_PRODUCT = ClassDef(
    name="SoftwareLicensingProduct",
    namespaces=(CIMV2,),
    properties={
        "ID": "string",
        "Name": "string",
        "Description": "string",
        "ApplicationID": "string",
        "ProcessorURL": "string",
        "MachineURL": "string",
        "ProductKeyURL": "string",
        "UseLicenseURL": "string",
        "ValidationURL": "string",
        "LicenseStatus": "uint32",
        "LicenseStatusReason": "uint32",
        "GracePeriodRemaining": "uint32",
        "EvaluationEndDate": "datetime",
        "TrustedTime": "datetime",
        "OfflineInstallationId": "string",
        "PartialProductKey": "string",
        "ProductKeyID": "string",
        "ProductKeyID2": "string",
        "ProductKeyChannel": "string",
        "LicenseFamily": "string",
        "LicenseDependsOn": "string",
        "LicenseIsAddon": "boolean",
        "VLActivationInterval": "uint32",
        "VLRenewalInterval": "uint32",
        "VLActivationType": "uint32",
        "VLActivationTypeEnabled": "uint32",
        "KeyManagementServiceProductKeyID": "string",
        "KeyManagementServiceMachine": "string",
        "KeyManagementServiceLookupDomain": "string",
        "KeyManagementServicePort": "uint32",
        "DiscoveredKeyManagementServiceMachineName": "string",
        "DiscoveredKeyManagementServiceMachineIpAddress": "string",
        "DiscoveredKeyManagementServiceMachinePort": "uint32",
        "IsKeyManagementServiceMachine": "uint32",
        "KeyManagementServiceCurrentCount": "uint32",
        "RequiredClientCount": "uint32",
        **dict.fromkeys(_KMS_REQUEST_COUNTERS, "uint32"),
        "GenuineStatus": "uint32",
        "ExtendedGrace": "uint32",
        "RemainingAppReArmCount": "uint32",
        "RemainingSkuReArmCount": "uint32",
        "TokenActivationILID": "string",
        "TokenActivationILVID": "uint32",
        "TokenActivationGrantNumber": "uint32",
        "TokenActivationCertificateThumbprint": "string",
        "TokenActivationAdditionalInfo": "string",
        "ADActivationObjectName": "string",
        "ADActivationObjectDN": "string",
        "ADActivationCsvlkPid": "string",
        "ADActivationCsvlkSkuId": "string",
        "IAID": "string",
        "AutomaticVMActivationHostMachineName": "string",
        "AutomaticVMActivationLastActivationTime": "string",
        "AutomaticVMActivationHostDigitalPid2": "string",
    },
    keys=("ID",),
    methods=_methods(
        _method("Activate"),
        _method("UninstallProductKey"),
        _method("DepositOfflineConfirmationId", (("InstallationId", "string"), ("ConfirmationId", "string"))),
        _method("GetPolicyInformationDWord", (("PolicyName", "string"),), (("PolicyValue", "uint32"),)),
        _method("GetPolicyInformationString", (("PolicyName", "string"),), (("PolicyValue", "string"),)),
        _method("SetKeyManagementServiceMachine", (("MachineName", "string"),)),
        _method("ClearKeyManagementServiceMachine"),
        _method("SetKeyManagementServicePort", (("PortNumber", "uint32"),)),
        _method("ClearKeyManagementServicePort"),
        _method("SetKeyManagementServiceLookupDomain", (("LookupDomain", "string"),)),
        _method("ClearKeyManagementServiceLookupDomain"),
        _method("GetTokenActivationGrants", (), (("Grants", "string[]"),)),
        _method("GenerateTokenActivationChallenge", (), (("Challenge", "string"),)),
        _method(
            "DepositTokenActivationResponse",
            (("Challenge", "string"), ("Response", "string"), ("CertChain", "string")),
        ),
        _method("SetVLActivationTypeEnabled", (("ActivationType", "uint32"),)),
        _method("ClearVLActivationTypeEnabled"),
        _method("ReArmSku"),
    ),
)

# --- Win32 classes ----------------------------------------------------------------------------------

# Assumption: property lists follow the Win32_OperatingSystem / Win32_ComputerSystem / Win32_Service
# documentation on Microsoft Learn; sint16 properties such as CurrentTimeZone are left out because
# the emulator's CIM types (cim.CIM_TYPES) have no sint16.
WIN32_OPERATING_SYSTEM = ClassDef(
    name="Win32_OperatingSystem",
    namespaces=(CIMV2,),
    properties={
        "Name": "string",
        "Caption": "string",
        "Version": "string",
        "BuildNumber": "string",
        "BuildType": "string",
        "OperatingSystemSKU": "uint32",
        "ProductType": "uint32",
        "CSName": "string",
        "OSLanguage": "uint32",
        "Locale": "string",
        "CountryCode": "string",
        "CodeSet": "string",
        "LocalDateTime": "datetime",
        "LastBootUpTime": "datetime",
        "InstallDate": "datetime",
        "OSArchitecture": "string",
        "OSType": "uint16",
        "Manufacturer": "string",
        "Organization": "string",
        "RegisteredUser": "string",
        "SerialNumber": "string",
        "ServicePackMajorVersion": "uint16",
        "ServicePackMinorVersion": "uint16",
        "SystemDirectory": "string",
        "WindowsDirectory": "string",
        "SystemDrive": "string",
        "BootDevice": "string",
        "SystemDevice": "string",
        "Primary": "boolean",
        "Status": "string",
        "TotalVisibleMemorySize": "uint64",
        "FreePhysicalMemory": "uint64",
        "NumberOfUsers": "uint32",
    },
    keys=("Name",),
    methods={},
)

WIN32_COMPUTER_SYSTEM = ClassDef(
    name="Win32_ComputerSystem",
    namespaces=(CIMV2,),
    properties={
        "Name": "string",
        "Caption": "string",
        "Domain": "string",
        "DNSHostName": "string",
        "PartOfDomain": "boolean",
        "Workgroup": "string",
        "DomainRole": "uint16",
        "Manufacturer": "string",
        "Model": "string",
        "SystemType": "string",
        "NumberOfProcessors": "uint32",
        "NumberOfLogicalProcessors": "uint32",
        "TotalPhysicalMemory": "uint64",
        "PrimaryOwnerName": "string",
        "UserName": "string",
        "Status": "string",
    },
    keys=("Name",),
    methods={},
)

WIN32_SERVICE = ClassDef(
    name="Win32_Service",
    namespaces=(CIMV2,),
    properties={
        "Name": "string",
        "DisplayName": "string",
        "Caption": "string",
        "Description": "string",
        "State": "string",
        "StartMode": "string",
        "Status": "string",
        "Started": "boolean",
        "ProcessId": "uint32",
        "PathName": "string",
        "ServiceType": "string",
        "StartName": "string",
        "AcceptStop": "boolean",
        "AcceptPause": "boolean",
        "DelayedAutoStart": "boolean",
        "ErrorControl": "string",
        "ExitCode": "uint32",
        "ServiceSpecificExitCode": "uint32",
        "SystemName": "string",
    },
    keys=("Name",),
    methods=_methods(
        _method("StartService"),
        _method("StopService"),
        _method("ChangeStartMode", (("StartMode", "string"),)),
    ),
)

WIN32_NT_LOG_EVENT = ClassDef(
    name="Win32_NTLogEvent",
    namespaces=(CIMV2,),
    properties={
        "Logfile": "string",
        "RecordNumber": "uint32",
        "Category": "uint16",
        "CategoryString": "string",
        "ComputerName": "string",
        "Data": "uint8[]",
        "EventCode": "uint16",
        "EventIdentifier": "uint32",
        "EventType": "uint8",
        "InsertionStrings": "string[]",
        "Message": "string",
        "SourceName": "string",
        "TimeGenerated": "datetime",
        "TimeWritten": "datetime",
        "Type": "string",
        "User": "string",
    },
    keys=("Logfile", "RecordNumber"),
    methods={},
)

ALL_CLASSES: tuple[ClassDef, ...] = (
    STD_REG_PROV,
    SOFTWARE_LICENSING_SERVICE,
    SOFTWARE_LICENSING_PRODUCT,
    SOFTWARE_LICENSING_TOKEN_ACTIVATION_LICENSE,
    WIN32_OPERATING_SYSTEM,
    WIN32_COMPUTER_SYSTEM,
    WIN32_SERVICE,
    WIN32_NT_LOG_EVENT,
    MSFT_NET_FIREWALL_RULE,
)

_BY_NAME: dict[str, ClassDef] = {cls.name.lower(): cls for cls in ALL_CLASSES}

# --- Per-build schemas of the SPP classes --------------------------------------------------------------
# WMI refuses a query naming a property its class lacks, so a build must serve exactly its own schema.
# Windows 7 / Server 2008 R2 (builds below 9200): the Windows 7-era "SoftwareLicensingService class" and
# "SoftwareLicensingProduct class" pages (MicrosoftDocs/win32 desktop-src/SppWmi, whose MOF syntax lists "all of
# the inherited properties") name exactly these. The Windows 7 slmgr.vbs selects nothing outside them (it reads
# the KMS port only from products, and has no /skms-domain, /act-type, /rearm-app or AD/AVMA output).
# Assumption: Windows 8 / Server 2012 (9200) and later serve the current schema (the microsoft/wmi Go bindings
# for server2019 and server23h2); no public source lists 8.0/8.1's exact additions, so they get the whole set.
WINDOWS8_BUILD = 9200
_WINDOWS7_PROPERTIES: dict[str, frozenset[str]] = {
    "SoftwareLicensingService": frozenset(
        {
            "Version",
            "KeyManagementServiceMachine",
            "IsKeyManagementServiceMachine",
            "VLActivationInterval",
            "VLRenewalInterval",
            "KeyManagementServiceCurrentCount",
            "RequiredClientCount",
            "KeyManagementServiceProductKeyID",
            "DiscoveredKeyManagementServiceMachineName",
            "DiscoveredKeyManagementServiceMachinePort",
            "PolicyCacheRefreshRequired",
            "ClientMachineID",
            "RemainingWindowsReArmCount",
            "KeyManagementServiceListeningPort",
            "KeyManagementServiceDnsPublishing",
            "KeyManagementServiceLowPriority",
            "KeyManagementServiceHostCaching",
            *_KMS_REQUEST_COUNTERS,
            "TokenActivationILID",
            "TokenActivationILVID",
            "TokenActivationGrantNumber",
            "TokenActivationCertificateThumbprint",
            "TokenActivationAdditionalInfo",
            "KeyManagementServiceActivationDisabled",
        }
    ),
    "SoftwareLicensingProduct": frozenset(
        {
            "ID",
            "Name",
            "Description",
            "ApplicationID",
            "ProcessorURL",
            "MachineURL",
            "ProductKeyURL",
            "UseLicenseURL",
            "LicenseStatus",
            "LicenseStatusReason",
            "GracePeriodRemaining",
            "EvaluationEndDate",
            "OfflineInstallationId",
            "PartialProductKey",
            "ProductKeyID",
            "LicenseFamily",
            "LicenseDependsOn",
            "LicenseIsAddon",
            "VLActivationInterval",
            "VLRenewalInterval",
            "KeyManagementServiceProductKeyID",
            "KeyManagementServiceMachine",
            "KeyManagementServicePort",
            "DiscoveredKeyManagementServiceMachineName",
            "DiscoveredKeyManagementServiceMachinePort",
            "IsKeyManagementServiceMachine",
            "KeyManagementServiceCurrentCount",
            "RequiredClientCount",
            *_KMS_REQUEST_COUNTERS,
            "GenuineStatus",
            "ExtendedGrace",
            "TokenActivationILID",
            "TokenActivationILVID",
            "TokenActivationGrantNumber",
            "TokenActivationCertificateThumbprint",
            "TokenActivationAdditionalInfo",
            "TrustedTime",
        }
    ),
}
# Absent from the server2019 and server23h2 schemas: removed with slmgr /stao and /ctao in Windows 8.1 / 2012 R2.
# Assumption: also absent from Windows 8 / Server 2012 (the property's replacement, /act-type, came with 8.0).
_WINDOWS7_ONLY: dict[str, frozenset[str]] = {
    "SoftwareLicensingService": frozenset({"KeyManagementServiceActivationDisabled"}),
}
_BY_BUILD: dict[tuple[str, bool], ClassDef] = {}


def for_build(cls: ClassDef, build: int) -> ClassDef:
    """``cls`` with the properties of this Windows build (the SPP classes differ; others are served whole)."""
    windows7 = build < WINDOWS8_BUILD
    if windows7:
        keep = _WINDOWS7_PROPERTIES.get(cls.name)
    else:
        dropped = _WINDOWS7_ONLY.get(cls.name, frozenset())
        keep = frozenset(cls.properties) - dropped if dropped else None
    if keep is None:
        return cls
    cached = _BY_BUILD.get((cls.name, windows7))
    if cached is None:
        properties = {name: cim_type for name, cim_type in cls.properties.items() if name in keep}
        cached = _BY_BUILD[(cls.name, windows7)] = dataclasses.replace(cls, properties=properties)
    return cached


NAMESPACES = frozenset(ns for cls in ALL_CLASSES for ns in cls.namespaces)


def lookup(namespace: str, class_name: str) -> ClassDef:
    """The class served in ``namespace``; ClassNotFound for an unknown class or namespace."""
    ns = namespace.replace("\\", "/").strip("/").lower()
    if ns not in NAMESPACES:
        raise ClassNotFound(f"Invalid namespace {namespace!r}")
    cls = _BY_NAME.get(class_name.lower())
    if cls is None or ns not in cls.namespaces:
        raise ClassNotFound(f"Invalid class {class_name!r} in namespace {namespace!r}")
    return cls


def find_method(cls: ClassDef, method: str) -> MethodDef | None:
    found = cls.methods.get(method)
    if found is not None:
        return found
    lowered = method.lower()
    return next((m for name, m in cls.methods.items() if name.lower() == lowered), None)
