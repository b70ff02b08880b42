# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_explain: the one ``error`` shape of failed results, and failures explained from HRESULTs and WS-Man errors."""

from __future__ import annotations

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _explain as ex
from ansible_collections.winact.kms.plugins.plugin_utils._errors import explain
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    WSManAccessDenied,
    WSManFault,
    WSManProtocolError,
    WSManUnreachable,
)
from ansible_collections.winact.kms.tests.unit.plugins.spp_fake import FakeHost

SL_E_INVALID_PRODUCT_KEY = 0xC004F050


def test_error_detail_always_has_the_five_keys_plus_context() -> None:
    assert ex.error_detail("bad input", option="port") == {
        "hresult": None,
        "symbol": None,
        "message": "bad input",
        "cause": None,
        "fix": None,
        "option": "port",
    }
    assert tuple(ex.error_detail("x"))[:5] == ex.ERROR_KEYS


def test_error_for_code_is_the_table_entry_plus_context() -> None:
    error = ex.error_for_code(SL_E_INVALID_PRODUCT_KEY, method="SoftwareLicensingService.InstallProductKey")
    assert {key: error[key] for key in ex.ERROR_KEYS} == explain(SL_E_INVALID_PRODUCT_KEY).to_dict()
    assert error["method"] == "SoftwareLicensingService.InstallProductKey"


def test_fault_hresult() -> None:
    assert ex.fault_hresult(WSManFault("x", hresult=SL_E_INVALID_PRODUCT_KEY)) == SL_E_INVALID_PRODUCT_KEY
    assert ex.fault_hresult(WSManAccessDenied("Access is denied.")) == 0x80070005  # WinRM sends no code then
    assert ex.fault_hresult(WSManFault("no code")) is None
    assert ex.fault_hresult(WSManUnreachable("refused")) is None


def test_error_for_wsman_explains_a_code_and_keeps_the_wire_detail() -> None:
    fault = WSManFault("The product key is invalid.", hresult=SL_E_INVALID_PRODUCT_KEY, wsman_code=2147749890)
    error = ex.error_for_wsman(fault, method="M")
    assert (error["hresult"], error["symbol"]) == ("0xC004F050", "SL_E_INVALID_PRODUCT_KEY")
    assert error["wsman"] == fault.to_dict() and error["method"] == "M"
    plain = ex.error_for_wsman(WSManProtocolError("the response is not XML"))
    assert (plain["hresult"], plain["message"]) == (None, "the response is not XML")
    assert plain["wsman"]["type"] == "WSManProtocolError"


def test_explain_text_reads_as_sentences() -> None:
    info = explain(SL_E_INVALID_PRODUCT_KEY)
    text = ex.explain_text(SL_E_INVALID_PRODUCT_KEY)
    assert text.startswith("0xC004F050 SL_E_INVALID_PRODUCT_KEY: ")
    assert f" Likely cause: {info.cause.strip()}" in text and text.endswith(f" Fix: {info.fix}")
    unknown = ex.explain_text(0xC004FFFE)
    assert unknown.startswith("0xC004FFFE: Unknown error 0xC004FFFE. Likely cause: ")  # no symbol, no double space


def test_code_failure_merges_the_context_into_the_explained_error() -> None:
    failure = ex.code_failure(0xC004F074, "SoftwareLicensingService.SetKeyManagementServiceMachine", setting="server")
    assert failure.msg.startswith(
        "SoftwareLicensingService.SetKeyManagementServiceMachine failed with 0xC004F074 "
        "SL_E_VL_BINDING_SERVICE_UNAVAILABLE: "
    )
    assert failure.detail["setting"] == "server"
    with_context = ex.code_failure(0xC004F074, "X", error={"method": "X", "return_value": 0xC004F074})
    assert with_context.detail["error"]["method"] == "X" and with_context.detail["error"]["symbol"]


def test_explained_failure_keeps_the_call_context() -> None:
    failure = ex.explained_failure(WSManFault("boom", hresult=0xC004F069), "Installing", error={"method": "M"}, k=1)
    assert failure.detail["error"]["method"] == "M" and failure.detail["error"]["wsman"]["message"] == "boom"
    assert failure.detail["k"] == 1


def test_invoke_explained() -> None:
    host = FakeHost()
    assert ex.invoke_explained(
        host.wmi, "SoftwareLicensingService", "RefreshLicenseStatus", selectors={"Version": "10.0.20348.1"}, doing="D"
    ) == {"ReturnValue": 0}
    host.failures[2] = WSManFault("Generic failure", hresult=0xC004F074)
    with pytest.raises(ModuleFailure) as info:
        ex.invoke_explained(
            host.wmi, "SoftwareLicensingService", "RefreshLicenseStatus", selectors={"Version": "1"}, doing="Refreshing"
        )
    assert info.value.msg.startswith("Refreshing failed with 0xC004F074")
    assert info.value.detail["error"]["method"] == "SoftwareLicensingService.RefreshLicenseStatus"
    host.failures[3] = WSManUnreachable("connection reset by peer")  # a lost connection stays what it is
    with pytest.raises(WSManUnreachable):
        ex.invoke_explained(host.wmi, "SoftwareLicensingService", "RefreshLicenseStatus", selectors={}, doing="R")
