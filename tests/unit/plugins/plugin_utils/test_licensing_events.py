# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMS events (docs/reference/kms.md#kms-events) decoded by _events, the KMS count warning of _licensing
(docs/reference/kms.md#thresholds-and-the-count) and explained WMI failures (_explain)."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _events as ev
from ansible_collections.winact.kms.plugins.plugin_utils import _explain as explain
from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManAccessDenied, WSManFault
from ansible_collections.winact.kms.tests.unit.plugins.spp_fake import FakeHost

# Microsoft's examples ("Error 0xC004F074 when activating Windows", Volume Activation Technical Reference).
EXAMPLE_12288 = (
    "0xC004F06C, 0x00000000, kms01.contoso.com:1688, 36f27b39-1e54-4b1d-9f0c-7a3b1c2d3e4f, 2010/09/29 17:52, 0, 2, "
    "41760, 68531fb9-5511-4989-97be-d11a0f55633f, 5"
)
AZURE_12288 = (
    "0xC004F06C, 0x00000000, azkms.core.windows.net:1688, 36f27b39-1e54-4b1d-9f0c-7a3b1c2d3e4f, 2024/01/02 03:04, "
    "1, 5, 0, 34e1ae55-27f8-4950-8877-7a03be5fb181,"
)
EXAMPLE_12290 = (
    "0xC004F06C,5,client01.contoso.com,36f27b39-1e54-4b1d-9f0c-7a3b1c2d3e4f,2010/9/29 21:46,0,2,41520,68531fb9"
)


def event(
    code: int, strings: t.Any, number: int = 1, source: str = "Software Protection Platform Service"
) -> dict[str, t.Any]:
    return {
        "EventCode": code,
        "InsertionStrings": strings,
        "RecordNumber": number,
        "SourceName": source,
        "Logfile": "Application",
        "TimeGenerated": None,
    }


def test_split_info_single_comma_joined_string() -> None:
    assert ev.split_info([EXAMPLE_12290])[:3] == ["0xC004F06C", "5", "client01.contoso.com"]
    assert ev.split_info(EXAMPLE_12288)[2] == "kms01.contoso.com:1688"


def test_split_info_several_strings_aligned_on_the_hresult() -> None:
    # The community map of classic 12290 records: the fields start after a leading offset.
    strings = ["", "0xC004F06C", "5", "client01.contoso.com", "cmid", "2010/9/29 21:46", "0", "2", "41520", "actid"]
    fields = ev.split_info(strings)
    assert fields[0] == "0xC004F06C"
    assert fields[2] == "client01.contoso.com"
    assert ev.split_info(None) == []


def test_decode_12288_microsoft_example() -> None:
    decoded = ev.decode_event(event(12288, [EXAMPLE_12288]))
    assert decoded["hresult"] == "0xC004F06C"
    assert decoded["success"] is False
    assert decoded["error"]["symbol"] == "SL_E_VL_INVALID_TIMESTAMP"
    assert decoded["kms_server"] == "kms01.contoso.com:1688"
    assert decoded["client_time"] == "2010/09/29 17:52"
    assert decoded["license_status"] == 2
    assert decoded["license_status_name"] == "OOBGrace"
    assert decoded["time_to_expiration_minutes"] == 41760
    assert decoded["n_policy"] == 5
    assert decoded["status_flag_names"] == []


def test_decode_12288_with_trailing_empty_field() -> None:
    decoded = ev.decode_event(event(12288, [AZURE_12288]))
    assert decoded["activation_id"] == "34e1ae55-27f8-4950-8877-7a03be5fb181"
    assert decoded["n_policy"] is None
    assert decoded["vm_info"] == 1


def test_decode_12289_not_enough_count() -> None:
    info = "0xC004F038, 0x04000000, 0, 0, 3, 120, 10080, 2026/11/22 08:00"
    decoded = ev.decode_event(event(12289, [info]))
    assert decoded["error"]["symbol"] == "SL_E_VL_NOT_ENOUGH_COUNT"
    assert decoded["status_flags"] == "0x04000000"
    assert decoded["status_flag_names"] == ["SL_VL_BINDING_ERROR_NOT_ENOUGH_COUNT"]
    assert decoded["activated"] is False
    assert decoded["kms_current_count"] == 3
    assert (decoded["activation_interval"], decoded["renewal_interval"]) == (120, 10080)
    assert "unused" not in decoded


def test_decode_success_has_no_error() -> None:
    decoded = ev.decode_event(event(12289, ["0x0, 0x00000000, 1, 0, 30, 120, 10080, 2026/11/22 08:00"]))
    assert decoded["hresult"] == "0x00000000"
    assert decoded["success"] is True
    assert decoded["error"] is None
    assert decoded["activated"] is True


def test_decode_12290_and_garbage_defensively() -> None:
    decoded = ev.decode_event(event(12290, [EXAMPLE_12290]))
    assert decoded["minimum_count"] == 5
    assert decoded["client_name"] == "client01.contoso.com"
    assert decoded["license_status_name"] == "OOBGrace"
    broken = ev.decode_event(event(12288, ["not an hresult, x"]))
    assert broken["hresult"] == "not an hresult"
    assert broken["success"] is None
    assert broken["status_flags"] == "x"
    assert broken["kms_server"] is None


def test_read_events_filters_sources_orders_and_limits() -> None:
    host = FakeHost()
    host.add_event("Application", 12288, "0xC004F074, 0x00000000, kms:1688, c, t, 0, 2, 1, a, 25")
    host.add_event("Application", 12288, "0x0, 0x0, x:1, c, t, 0, 1, 1, a, 25", source="SomeOtherApp")
    host.add_event("Application", 12289, "0x0, 0x00000000, 1, 0, 30, 120, 10080, t")
    host.add_event("Key Management Service", 12290, EXAMPLE_12290)
    events = ev.read_kms_events(t.cast(t.Any, host), kms_host=True, limit=5)
    assert [e["event_id"] for e in events["client"]] == [12289, 12288]
    assert events["client"][1]["hresult"] == "0xC004F074"
    assert [e["event_id"] for e in events["host"]] == [12290]
    assert ev.read_kms_events(t.cast(t.Any, host), kms_host=False, limit=1)["host"] == []
    assert len(ev.read_kms_events(t.cast(t.Any, host), kms_host=False, limit=1)["client"]) == 1
    wql = [c.params["wql"] for c in host.calls if c.cls == "Win32_NTLogEvent"][0]
    assert "Logfile = 'Application'" in wql and "(EventCode = 12288 OR EventCode = 12289)" in wql


def test_last_request_error_looks_at_the_newest_request_only() -> None:
    failed = {"event_id": 12288, "success": False, "hresult": "0xC004F06C"}
    ok = {"event_id": 12288, "success": True, "hresult": "0x00000000"}
    response = {"event_id": 12289, "success": True}
    assert ev.last_request_error([response, failed]) == failed
    assert ev.last_request_error([ok, failed]) is None
    assert ev.last_request_error([]) is None


def test_event_hresult_is_a_number_only_for_an_hresult() -> None:
    assert ev.event_hresult({"hresult": "0xC004F06C"}) == 0xC004F06C
    assert ev.event_hresult({"hresult": "not an hresult"}) is None
    assert ev.event_hresult({"hresult": None}) is None
    assert ev.event_hresult(None) is None


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (None, "activates no clients yet"),
        (0, "activates no clients yet"),
        (4, "activates no clients yet"),
        (5, "activates Windows Server, but Windows client editions need 25"),
        (24, "activates Windows Server, but Windows client editions need 25"),
        (25, None),
        (50, None),
    ],
)
def test_kms_count_warning(count: int | None, expected: str | None) -> None:
    warning = lic.kms_count_warning({"current_count": count})
    if expected is None:
        assert warning is None
    else:
        assert warning is not None and expected in warning and "0xC004F038" in warning


def test_no_warning_on_a_machine_that_is_not_a_kms_host() -> None:
    assert lic.kms_count_warning(None) is None


def test_describe_kms_host_thresholds() -> None:
    service = {"IsKeyManagementServiceMachine": 1, "KeyManagementServiceCurrentCount": 7}
    host = lic.describe_kms_host(service)
    assert host is not None
    assert (host["activates_server_os"], host["activates_client_os"]) == (True, False)
    service["KeyManagementServiceCurrentCount"] = lic.NOT_COUNTING
    host = lic.describe_kms_host(service)
    assert host is not None and host["current_count"] is None and host["activates_server_os"] is False


def test_explained_failure_uses_the_hresult() -> None:
    failure = explain.explained_failure(WSManFault("boom", hresult=0xC004F050), "Installing")
    assert failure.msg.startswith("Installing failed with 0xC004F050 SL_E_INVALID_PRODUCT_KEY")
    assert failure.detail["error"]["symbol"] == "SL_E_INVALID_PRODUCT_KEY"
    assert failure.detail["error"]["wsman"]["message"] == "boom"
    denied = explain.explained_failure(WSManAccessDenied("Access is denied."), "Reading")
    assert denied.detail["error"]["hresult"] == "0x80070005"
    plain = explain.explained_failure(WSManFault("no code"), "Reading")
    assert plain.msg == "Reading failed: no code"
