# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.license_info: the _license_report engine on the fake host, then the plugin's run()."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _license_report as report
from ansible_collections.winact.kms.plugins.plugin_utils._explain import ERROR_KEYS
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.tests.unit.plugins.action_harness import run_action
from ansible_collections.winact.kms.tests.unit.plugins.spp_fake import SERVER_2022_DC_ID, FakeHost

OFFICE_ID = "fbdb3e18-a8ef-4fb3-9183-dffd60bd0984"
OFFICE_APP = "0ff1ce15-a989-479d-af46-f275c6370663"


def client() -> FakeHost:
    host = FakeHost()
    host.add_product(SERVER_2022_DC_ID, PartialProductKey="6VM33", LicenseStatus=1, ProductKeyChannel="Volume:GVLK")
    host.add_product(OFFICE_ID, ApplicationID=OFFICE_APP, Name="Office 21, Office21ProPlus2021VL_KMS_Client_AE")
    host.service.update(KeyManagementServiceMachine="kms01.corp.example.com", ClientMachineID="cmid-1")
    return host


def execute(host: FakeHost, **params: t.Any) -> tuple[dict[str, t.Any], TaskContext]:
    ctx = TaskContext(check_mode=False, diff_mode=False)
    return report.execute(host.wmi, report.build_request(params), ctx), ctx


def test_build_request_defaults_and_normalises_the_activation_id() -> None:
    assert report.build_request({}) == report.Request(activation_id=None, events=False, event_count=10)
    request = report.build_request({"activation_id": SERVER_2022_DC_ID.upper(), "events": True, "event_count": 3})
    assert (request.activation_id, request.events, request.event_count) == (SERVER_2022_DC_ID, True, 3)
    with pytest.raises(ValidationError, match="activation_id"):
        report.build_request({"activation_id": "not-a-guid"})


def test_report_of_a_kms_client_is_read_only() -> None:
    host = client()
    result, ctx = execute(host)
    assert result["changed"] is False and host.writes() == []
    assert [p["id"] for p in result["products"]] == [SERVER_2022_DC_ID]  # keyed Windows products only
    assert result["windows_product"]["license_status_name"] == "Licensed"
    assert result["windows_product"]["partial_product_key"] == "6VM33"
    assert result["kms_client"]["registered_name"] == "kms01.corp.example.com"
    assert result["kms_client"]["registered_port"] == 1688
    assert result["kms_host"] is None and not ctx.warnings
    assert result["os"]["edition_id"] == "ServerDatacenter" and result["os"]["build_number"] == 20348
    assert "events" not in result
    report_keys = (
        "os",
        "products",
        "windows_product",
        "office_products",
        "kms_client",
        "kms_host",
        "client_machine_id",
        "is_kms_host",
        "sppsvc",
        "rearm",
    )
    assert result["is_kms_host"] is False and result["client_machine_id"] == "cmid-1"
    assert result["ansible_facts"] == {"winact_kms": {k: result[k] for k in report_keys}}


def test_activation_id_reports_that_product_of_any_application() -> None:
    result, _ctx = execute(client(), activation_id=OFFICE_ID)
    assert [p["id"] for p in result["products"]] == [OFFICE_ID]
    assert result["windows_product"]["id"] == SERVER_2022_DC_ID


def test_unknown_activation_id_names_the_option() -> None:
    with pytest.raises(ModuleFailure) as info:
        execute(client(), activation_id="00000000-0000-0000-0000-000000000001")
    assert info.value.msg.startswith("activation_id: no SoftwareLicensingProduct has the ID")
    assert info.value.detail["option"] == "activation_id"


def test_no_key_installed_still_shows_the_edition() -> None:
    host = FakeHost()
    host.add_product(SERVER_2022_DC_ID)  # no PartialProductKey
    result, _ctx = execute(host)
    assert result["products"] == [] and result["windows_product"] is None
    assert result["os"]["edition_id"] == "ServerDatacenter"


def test_events_are_read_only_when_asked_and_limited() -> None:
    host = client()
    host.add_event("Application", 12288, "0xC004F074, 0x00000000, kms:1688, c, t, 0, 2, 1, a, 25")
    host.add_event("Application", 12289, "0x0, 0x00000000, 1, 0, 30, 120, 10080, t")
    result, _ctx = execute(host, events=True, event_count=1)
    assert [e["event_id"] for e in result["events"]["client"]] == [12289]
    assert result["events"]["host"] == []  # not a KMS host: the KMS log is not read


def test_kms_host_report_carries_the_count_and_the_host_settings() -> None:
    host = client()
    host.service.update(
        IsKeyManagementServiceMachine=1,
        KeyManagementServiceCurrentCount=30,
        RequiredClientCount=25,
        KeyManagementServiceListeningPort=1700,
        KeyManagementServiceTotalRequests=42,
    )
    result, ctx = execute(host)
    assert result["kms_host"]["current_count"] == 30
    assert result["kms_host"]["activates_client_os"] is True
    assert result["kms_host"]["listening_port"] == 1700
    assert result["kms_host"]["requests"]["total"] == 42
    assert not ctx.warnings  # 30 is above both thresholds


def test_kms_host_below_the_threshold_warns() -> None:
    host = client()
    host.service.update(IsKeyManagementServiceMachine=1, KeyManagementServiceCurrentCount=0xFFFFFFFF)
    result, ctx = execute(host)
    assert result["kms_host"]["enabled"] is True and result["kms_host"]["current_count"] is None
    assert len(ctx.warnings) == 1 and "activates no clients yet" in ctx.warnings[0]


# -- the action plugin: ActionModule.run() through the base class ---------------------------------


def test_run_in_check_mode_reports_the_same_and_sets_the_fact(monkeypatch: pytest.MonkeyPatch) -> None:
    host = client()
    result, seam = run_action(monkeypatch, "license_info", {}, host, check=True)
    assert len(seam.opened) == 1
    assert result["changed"] is False and "failed" not in result and host.writes() == []
    assert result["ansible_facts"]["winact_kms"]["windows_product"]["id"] == SERVER_2022_DC_ID
    normal, _seam = run_action(monkeypatch, "license_info", {}, host)
    assert normal == result  # read-only: check mode changes nothing about the run


def test_run_warnings_reach_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    host = client()
    host.service.update(IsKeyManagementServiceMachine=1, KeyManagementServiceCurrentCount=0xFFFFFFFF)
    result, _seam = run_action(monkeypatch, "license_info", {}, host)
    assert len(result["warnings"]) == 1 and "0xC004F038" in result["warnings"][0]


def test_run_unknown_product_fails_with_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    args = {"activation_id": "00000000-0000-0000-0000-000000000001"}
    result, _seam = run_action(monkeypatch, "license_info", args, client())
    assert result["failed"] is True and result["changed"] is False
    assert result["option"] == "activation_id"
    assert set(ERROR_KEYS) <= set(result["error"]) and result["error"]["message"] == result["msg"]


def test_run_refuses_a_bad_activation_id_before_any_io(monkeypatch: pytest.MonkeyPatch) -> None:
    result, _seam = run_action(monkeypatch, "license_info", {"activation_id": "abc"}, None)
    assert result["failed"] is True and result["option"] == "activation_id"
    result, _seam = run_action(monkeypatch, "license_info", {"event_count": "many"}, None)
    assert result["failed"] is True and "event_count" in result["msg"]
