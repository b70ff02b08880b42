# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WmiClient.get: WS-Transfer Get of one instance, typed by the class schema."""

from __future__ import annotations

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WMI_URI, WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wmi_schema import PROPERTY_TYPES
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    ACTION_GET,
    WSManInvalidSelectors,
    WSManNotFound,
    WSManProtocolError,
)
from ansible_collections.winact.kms.tests.unit.plugins.plugin_utils.wsman_fakes import (
    FakeTransport,
    Reply,
    action_of,
    body_of,
    fixture,
    resource_uri_of,
    selectors_of,
)


def test_get_request_and_typed_instance() -> None:
    transport = FakeTransport(fixture("get-instance_Win32_Service_sppsvc.xml"))
    client = WmiClient(transport)
    service = client.get("Win32_Service", {"Name": "sppsvc"})

    (request,) = transport.requests
    assert action_of(request) == ACTION_GET == "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
    assert resource_uri_of(request) == f"{WMI_URI}/root/cimv2/Win32_Service"
    assert selectors_of(request) == {"Name": "sppsvc"}
    assert len(body_of(request)) == 0
    assert client.requests == 1

    assert set(service) == set(PROPERTY_TYPES["Win32_Service"])
    assert service["Name"] == "sppsvc"
    assert service["State"] == "Running" and service["StartMode"] == "Auto"
    assert service["DelayedAutoStart"] is True and service["AcceptPause"] is False
    assert service["ProcessId"] == 4120
    assert service["InstallDate"] is None
    assert service["PathName"] == "C:\\Windows\\system32\\sppsvc.exe"


def test_recorded_instance_of_a_class_outside_the_schema() -> None:
    transport = FakeTransport(fixture("get-instance_Win32_LogicalDisk_selector-DeviceId.xml"))
    disk = WmiClient(transport).get("Win32_LogicalDisk", {"DeviceId": "c:"})
    assert selectors_of(transport.requests[0]) == {"DeviceId": "c:"}
    # Undeclared properties stay text; xsi:nil is None whatever the type; the empty string stays empty.
    assert disk["DeviceID"] == "c:"
    assert disk["FreeSpace"] == "840649814016"
    assert disk["Compressed"] == "false"
    assert disk["Availability"] is None
    assert disk["VolumeName"] == ""
    assert len(disk) == 39


def test_get_faults() -> None:
    transport = FakeTransport(
        Reply(fixture("fault-invalid-selectors_wsmanfault.xml"), status=500),
        Reply(fixture("fault-instance-not-found_msft-wmierror.xml"), status=500),
    )
    client = WmiClient(transport)
    with pytest.raises(WSManInvalidSelectors):
        client.get("SoftwareLicensingService", {"Name": "x"})
    with pytest.raises(WSManNotFound):
        client.get("SoftwareLicensingProduct", {"ID": "00000000-0000-0000-0000-000000000000"})


def test_response_for_another_class_is_refused() -> None:
    transport = FakeTransport(fixture("get-instance_Win32_LogicalDisk_selector-DeviceId.xml"))
    with pytest.raises(WSManProtocolError, match="expected <Win32_Service> in the response to Get Win32_Service"):
        WmiClient(transport).get("Win32_Service", {"Name": "sppsvc"})


def test_class_name_case_from_the_host_is_accepted() -> None:
    body = fixture("get-instance_Win32_Service_sppsvc.xml").replace(b"p:Win32_Service ", b"p:WIN32_SERVICE ")
    body = body.replace(b"</p:Win32_Service>", b"</p:WIN32_SERVICE>")
    assert WmiClient(FakeTransport(body)).get("Win32_Service", {"Name": "sppsvc"})["Name"] == "sppsvc"


def test_winrm_config_get_is_not_a_wmi_instance() -> None:
    transport = FakeTransport(fixture("get-winrm-config_MaxEnvelopeSizekb-500_RootSDDL.xml"))
    with pytest.raises(WSManProtocolError, match="got <Config>"):
        WmiClient(transport).get("Win32_Service", {"Name": "WinRM"})
