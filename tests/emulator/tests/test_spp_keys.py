"""Products, key installation, uninstall, rearm and online activation."""

from __future__ import annotations

import typing as t

import pytest
from winemu_lib import cim
from winemu_lib.fleet import Fleet
from winemu_lib.machine import Machine

ADMIN = cim.CallContext("Administrator", True)
CIMV2 = "root/cimv2"
WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"
CURRENT_VERSION = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"
SPP = CURRENT_VERSION + r"\SoftwareProtectionPlatform"

ENTERPRISE_GVLK = "NPPR9-FWDCX-D2C8J-H872K-2YT43"
PRO_GVLK = "W269N-WFGWX-YVC9B-4J6C9-T83GX"
SERVER_2022_STD_GVLK = "VDYBN-27WPP-V4HQT-9VMD4-VMK7H"
MAK = "MMMMM-AAAAA-KKKKK-22222-33333"
BLOCKED_MAK = "BBBBB-LLLLL-KKKKK-22222-33333"
RETAIL = "RRRRR-TTTTT-LLLLL-22222-44444"
CSVLK_2022 = "CCCCC-SSSSS-VVVVV-22222-55555"
CSVLK_2019 = "CCCCC-SSSSS-VVVVV-22222-66666"
KEYS = [
    {"key": MAK, "channel": "Volume:MAK", "editions": ["Enterprise", "ServerStandard"]},
    {"key": BLOCKED_MAK, "channel": "Volume:MAK", "editions": ["Enterprise"], "blocked": True},
    {"key": RETAIL, "channel": "Retail", "editions": ["Professional", "Core"]},
    {"key": CSVLK_2022, "channel": "Volume:CSVLK", "csvlk_group": "Windows Server 2022"},
    {"key": CSVLK_2019, "channel": "Volume:CSVLK", "csvlk_group": "Windows Server 2019"},
]


def load(*hosts: dict[str, t.Any]) -> Fleet:
    return Fleet.from_dict(
        {
            "defaults": {"domain": "corp.example.com", "accounts": [{"username": "a", "password": "b", "admin": True}]},
            "keys": KEYS,
            "hosts": list(hosts),
        }
    )


@pytest.fixture
def fleet() -> Fleet:
    return load(
        {"name": "ws01", "edition": "Enterprise", "build": 22631},
        {"name": "srv01", "edition": "ServerStandard", "build": 20348},
        {"name": "home01", "edition": "Core", "build": 22631, "license": {"key": "none"}},
        {"name": "srv23h2", "edition": "ServerStandard", "build": 25398, "license": {"key": "none"}},
    )


def products(machine: Machine) -> list[dict[str, t.Any]]:
    return t.cast(list[dict[str, t.Any]], machine.instances(CIMV2, "SoftwareLicensingProduct", ADMIN))


def windows_with_key(machine: Machine) -> list[dict[str, t.Any]]:
    # slmgr.vbs's selection of "the Windows product".
    return [
        p
        for p in products(machine)
        if p["ApplicationID"] == WINDOWS_APP and p["PartialProductKey"] is not None and not p["LicenseIsAddon"]
    ]


def by_marker(machine: Machine, marker: str) -> dict[str, t.Any]:
    return next(
        p
        for p in products(machine)
        if p["ApplicationID"] == WINDOWS_APP and p["Description"].endswith(f"{marker} channel")
    )


def install(machine: Machine, key: str) -> dict[str, t.Any]:
    selectors = {"Version": machine.licensing.version}
    return machine.invoke(CIMV2, "SoftwareLicensingService", "InstallProductKey", selectors, {"ProductKey": key}, ADMIN)


def call_product(machine: Machine, product_id: str, method: str, **params: t.Any) -> dict[str, t.Any]:
    return machine.invoke(CIMV2, "SoftwareLicensingProduct", method, {"ID": product_id}, params, ADMIN)


def call(machine: Machine, method: str, **params: t.Any) -> dict[str, t.Any]:
    selectors = {"Version": machine.licensing.version}
    return machine.invoke(CIMV2, "SoftwareLicensingService", method, selectors, params, ADMIN)


def hresult_of(action: t.Callable[[], object]) -> int:
    with pytest.raises(cim.ProviderError) as info:
        action()
    return info.value.hresult


def test_product_catalogue(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    listed = products(ws)
    windows = [p for p in listed if p["ApplicationID"] == WINDOWS_APP]
    markers = sorted(p["Description"].split(", ")[1] for p in windows)
    assert markers == ["RETAIL channel", "VOLUME_KMSCLIENT channel", "VOLUME_MAK channel"]
    kms_client = by_marker(ws, "VOLUME_KMSCLIENT")
    assert kms_client["ID"] == "73111121-5638-40f6-bc11-f1d7b0d64300"  # gvlk.yaml activation_id
    assert kms_client["LicenseFamily"] == "Enterprise" and kms_client["LicenseIsAddon"] is False
    assert (kms_client["PartialProductKey"], kms_client["ProductKeyChannel"]) == ("2YT43", "Volume:GVLK")
    assert (kms_client["LicenseStatus"], kms_client["LicenseStatusReason"]) == (2, 0x4004F00C)
    assert 43000 < kms_client["GracePeriodRemaining"] <= 43200  # 30-day OOB grace in minutes
    office = [p for p in listed if p["ApplicationID"] != WINDOWS_APP]
    assert office and office[0]["PartialProductKey"] is not None  # clients must filter by ApplicationID
    assert [p["ID"] for p in windows_with_key(ws)] == [kms_client["ID"]]
    # Server editions add CSVLK SKUs (VOLUME_KMS, not VOLUME_KMSCLIENT) for the groups they can host.
    server_markers = {
        p["Description"] for p in products(fleet.hosts["srv01"].machine) if p["ApplicationID"] == WINDOWS_APP
    }
    assert "Windows(R) Operating System, VOLUME_KMS_WS22 channel" in server_markers
    assert "Windows(R) Operating System, VOLUME_KMS_WS25 channel" in server_markers
    assert not any("WS19" in marker for marker in server_markers)  # a 2019 CSVLK cannot be hosted on 2022


def test_editions_without_a_gvlk_have_only_retail(fleet: Fleet) -> None:
    annual = fleet.hosts["srv23h2"].machine
    windows = [p for p in products(annual) if p["ApplicationID"] == WINDOWS_APP]
    assert [p["Description"] for p in windows] == ["Windows(R) Operating System, RETAIL channel"]
    assert windows[0]["LicenseStatus"] == 0 and windows[0]["PartialProductKey"] is None
    assert hresult_of(lambda: install(annual, SERVER_2022_STD_GVLK)) == 0xC004F069
    assert hresult_of(lambda: install(annual, MAK)) == 0xC004F069  # no MAK SKU either


@pytest.mark.parametrize(
    ("key", "hresult"),
    [
        ("NPPR9-FWDCX-D2C8J-H872K", 0xC004F050),  # malformed
        ("NPPR9—FWDCX—D2C8J—H872K—2YT43", 0xC004F050),  # em-dashes ("Troubleshoot activation error codes")
        ("ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ", 0xC004F050),  # well formed, unknown
        (PRO_GVLK, 0xC004F069),  # a GVLK of another edition (inferred)
        (SERVER_2022_STD_GVLK, 0xC004F069),
        (RETAIL, 0xC004F069),  # Retail key for other editions
        (CSVLK_2022, 0xC004F069),  # a CSVLK cannot be hosted on Windows 11
    ],
)
def test_install_errors(fleet: Fleet, key: str, hresult: int) -> None:
    ws = fleet.hosts["ws01"].machine
    assert hresult_of(lambda: install(ws, key)) == hresult
    assert ws.writes == 0
    assert by_marker(ws, "VOLUME_KMSCLIENT")["PartialProductKey"] == "2YT43"


def test_install_mak_replaces_the_gvlk_then_activates(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    assert install(ws, MAK.lower()) == {"ReturnValue": 0}
    assert ws.writes == 1
    (only,) = windows_with_key(ws)
    assert only["Description"].endswith("VOLUME_MAK channel")
    assert (only["PartialProductKey"], only["ProductKeyChannel"], only["LicenseStatus"]) == ("33333", "Volume:MAK", 2)
    assert by_marker(ws, "VOLUME_KMSCLIENT")["PartialProductKey"] is None
    call_product(ws, only["ID"], "Activate")
    activated = by_marker(ws, "VOLUME_MAK")
    assert (activated["LicenseStatus"], activated["GracePeriodRemaining"]) == (1, 0)
    assert ws.writes == 2


def test_blocked_mak(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    install(ws, BLOCKED_MAK)
    mak = by_marker(ws, "VOLUME_MAK")
    assert hresult_of(lambda: call_product(ws, mak["ID"], "Activate")) == 0xC004C003
    assert by_marker(ws, "VOLUME_MAK")["LicenseStatus"] == 2


def test_retail_key_on_home(fleet: Fleet) -> None:
    home = fleet.hosts["home01"].machine
    assert windows_with_key(home) == []
    install(home, RETAIL)
    (product,) = windows_with_key(home)
    assert product["ProductKeyChannel"] == "Retail" and product["Description"].endswith("RETAIL channel")


def test_reinstalling_the_gvlk_restores_the_kms_client(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    install(ws, MAK)
    install(ws, ENTERPRISE_GVLK)
    (only,) = windows_with_key(ws)
    assert only["ProductKeyChannel"] == "Volume:GVLK" and only["PartialProductKey"] == "2YT43"


def test_csvlk_makes_a_kms_host(fleet: Fleet) -> None:
    srv = fleet.hosts["srv01"].machine
    assert call(srv, "SetKeyManagementServiceMachine", MachineName="x") == {"ReturnValue": 0}
    assert hresult_of(lambda: install(srv, CSVLK_2019)) == 0xC004F069  # 2019 group: not on Server 2022
    install(srv, CSVLK_2022)
    svc = srv.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0]
    assert svc["IsKeyManagementServiceMachine"] == 1
    assert svc["KeyManagementServiceCurrentCount"] == 4294967295  # no request received yet (documented -1)
    host = by_marker(srv, "VOLUME_KMS_WS22")
    assert (host["ProductKeyChannel"], host["PartialProductKey"], host["IsKeyManagementServiceMachine"]) == (
        "Volume:CSVLK",
        "55555",
        1,
    )
    # The KMS service starts listening only after an sppsvc restart.
    assert srv.state()["kms_host"]["listening"] is False
    call_product(srv, host["ID"], "Activate")  # online activation of the host key
    assert by_marker(srv, "VOLUME_KMS_WS22")["LicenseStatus"] == 1
    for method in ("StopService", "StartService"):
        srv.invoke(CIMV2, "Win32_Service", method, {"Name": "sppsvc"}, {}, ADMIN)
    assert srv.state()["kms_host"]["listening"] is True


def test_uninstall_and_clear_from_registry(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    product = by_marker(ws, "VOLUME_KMSCLIENT")
    read = ws.invoke(
        "root/default",
        "StdRegProv",
        "GetBinaryValue",
        {},
        {"sSubKeyName": CURRENT_VERSION, "sValueName": "DigitalProductId"},
        ADMIN,
    )
    assert read["ReturnValue"] == 0 and read["uValue"]
    call(ws, "ClearProductKeyFromRegistry")
    read = ws.invoke(
        "root/default",
        "StdRegProv",
        "GetBinaryValue",
        {},
        {"sSubKeyName": CURRENT_VERSION, "sValueName": "DigitalProductId"},
        ADMIN,
    )
    assert read["ReturnValue"] == 1
    assert by_marker(ws, "VOLUME_KMSCLIENT")["PartialProductKey"] == "2YT43"  # the installed key stays
    call_product(ws, product["ID"], "UninstallProductKey")
    assert windows_with_key(ws) == []
    after = by_marker(ws, "VOLUME_KMSCLIENT")
    assert (after["LicenseStatus"], after["LicenseStatusReason"]) == (0, 0xC004F014)
    assert hresult_of(lambda: call_product(ws, product["ID"], "UninstallProductKey")) == 0xC004F014
    assert hresult_of(lambda: call_product(ws, product["ID"], "Activate")) == 0xC004F014


def test_rearm(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    svc: dict[str, t.Any] = ws.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0]
    count, cmid = svc["RemainingWindowsReArmCount"], svc["ClientMachineID"]
    call(ws, "ReArmWindows")
    svc = ws.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0]
    assert svc["RemainingWindowsReArmCount"] == count - 1
    assert svc["ClientMachineID"] != cmid  # a generalized image gets a new CMID
    assert by_marker(ws, "VOLUME_KMSCLIENT")["LicenseStatus"] == 2
    writes = ws.writes
    ws.invoke(
        "root/default",
        "StdRegProv",
        "SetDWORDValue",
        {},
        {"sSubKeyName": SPP, "sValueName": "SkipRearm", "uValue": 1},
        ADMIN,
    )
    call(ws, "ReArmWindows")  # SkipRearm = 1: does nothing (slmgr.vbs options)
    assert (
        ws.instances(CIMV2, "SoftwareLicensingService", ADMIN)[0]["RemainingWindowsReArmCount"]
        == svc["RemainingWindowsReArmCount"]
    )
    assert ws.writes == writes + 1  # only the registry write
    ws.invoke("root/default", "StdRegProv", "DeleteValue", {}, {"sSubKeyName": SPP, "sValueName": "SkipRearm"}, ADMIN)
    ws.licensing.rearm_count = 0
    assert hresult_of(lambda: call(ws, "ReArmWindows")) == 0xC004D307


def test_policy_information(fleet: Fleet) -> None:
    srv = fleet.hosts["srv01"].machine
    product = by_marker(srv, "VOLUME_KMSCLIENT")
    assert (
        call_product(srv, product["ID"], "GetPolicyInformationDWord", PolicyName="Kernel-ProductInfo")["PolicyValue"]
        == 7
    )
    assert (
        hresult_of(lambda: call_product(srv, product["ID"], "GetPolicyInformationDWord", PolicyName="Nope"))
        == 0xC004F012
    )
    assert (
        hresult_of(
            lambda: call_product(srv, product["ID"], "GetPolicyInformationDWord", PolicyName="Kernel-EditionName")
        )
        == 0xC004F012
    )


def test_offline_confirmation(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    install(ws, MAK)
    mak = by_marker(ws, "VOLUME_MAK")
    iid = mak["OfflineInstallationId"]
    assert len(iid) == 63 and iid.isdigit()

    def deposit_bad_confirmation() -> dict[str, t.Any]:
        return call_product(ws, mak["ID"], "DepositOfflineConfirmationId", InstallationId=iid, ConfirmationId="123")

    assert hresult_of(deposit_bad_confirmation) == 0xC004F02C
    other = "-".join(["123456"] * 8)  # well-formed, but not the activation center's answer for this IID

    def deposit_other_confirmation() -> dict[str, t.Any]:
        return call_product(ws, mak["ID"], "DepositOfflineConfirmationId", InstallationId=iid, ConfirmationId=other)

    assert hresult_of(deposit_other_confirmation) == 0xC004F02C
    cid = ws.licensing.confirmation_id(ws.licensing.product(mak["ID"]))
    cid = "-".join(cid[i : i + 6] for i in range(0, 48, 6))
    call_product(ws, mak["ID"], "DepositOfflineConfirmationId", InstallationId=iid, ConfirmationId=cid)
    assert by_marker(ws, "VOLUME_MAK")["LicenseStatus"] == 1


def test_not_emulated_methods_fail_cleanly(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    assert hresult_of(lambda: call(ws, "AcquireGenuineTicket", TemplateId="x", ServerUrl="y")) == 0xC004F016
    assert (
        hresult_of(
            lambda: call(ws, "DoActiveDirectoryOnlineActivation", ProductKey=CSVLK_2022, ActivationObjectName="x")
        )
        == 0xC004F016
    )
    product = by_marker(ws, "VOLUME_KMSCLIENT")
    assert call_product(ws, product["ID"], "GetTokenActivationGrants") == {"Grants": None, "ReturnValue": 0}
    assert ws.writes == 0


def test_license_install(fleet: Fleet) -> None:
    ws = fleet.hosts["ws01"].machine
    assert hresult_of(lambda: call(ws, "InstallLicense", License="not xml")) == 0x80070057
    call(ws, "InstallLicense", License="<rg:licenseGroup/>")
    assert ws.writes == 1
