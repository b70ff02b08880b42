# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WmiClient.query selects only the SPP properties the host's build has: Windows 7 lacks later ones, later builds
lack Windows 7's token-only flag, and WMI refuses a query naming an absent property (WBEM_E_INVALID_QUERY)."""

from __future__ import annotations

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import NS_WSMAN, WSManFault, qname
from ansible_collections.winact.kms.tests.unit.plugins.plugin_utils.wsman_fakes import (
    FakeTransport,
    Reply,
    body_of,
    fixture,
)

OS_2022 = fixture("enumerate-response_optimized-end_xmlfragment_Win32_OperatingSystem.xml")
OS_WIN7 = OS_2022.replace(b"<BuildNumber>20348", b"<BuildNumber>7601")
SERVICE_2022 = fixture("enumerate-response_optimized-end_xmlfragment_SoftwareLicensingService.xml")
SERVICE_WIN7 = SERVICE_2022.replace(b"<Version>10.0.20348.1", b"<Version>6.1.7601.17514").replace(
    b"<KeyManagementServicePort>1688</KeyManagementServicePort>", b""
)
INVALID_QUERY = Reply(fixture("fault-wql-invalid-query_wmi-provider.xml"), status=500)
LATER = "SELECT Version, KeyManagementServiceMachine, KeyManagementServiceLookupDomain FROM SoftwareLicensingService"
FLAG = "SELECT KeyManagementServiceActivationDisabled FROM SoftwareLicensingService"


def filters(transport: FakeTransport) -> list[str | None]:
    return [body_of(request).findtext(f".//{qname(NS_WSMAN, 'Filter')}") for request in transport.requests]


def test_a_refused_select_is_retried_once_as_windows7_and_the_absent_property_is_null() -> None:
    transport = FakeTransport(INVALID_QUERY, SERVICE_WIN7)
    client = WmiClient(transport)
    [row] = client.query(LATER)
    assert filters(transport) == [LATER, "SELECT Version, KeyManagementServiceMachine FROM SoftwareLicensingService"]
    assert row["KeyManagementServiceLookupDomain"] is None and row["Version"] == "6.1.7601.17514"
    assert client.windows7 is True


def test_the_build_read_by_an_earlier_query_costs_no_extra_request() -> None:
    transport = FakeTransport(OS_WIN7, SERVICE_WIN7)
    client = WmiClient(transport)
    client.query("SELECT BuildNumber FROM Win32_OperatingSystem")
    assert client.windows7 is True
    [row] = client.query(LATER)
    assert filters(transport)[1] == "SELECT Version, KeyManagementServiceMachine FROM SoftwareLicensingService"
    assert client.requests == 2 and row["KeyManagementServiceLookupDomain"] is None


def test_the_service_version_tells_the_build_too() -> None:
    transport = FakeTransport(SERVICE_2022, SERVICE_2022)
    client = WmiClient(transport)
    client.query("SELECT Version FROM SoftwareLicensingService")
    assert client.windows7 is False
    [row] = client.query(FLAG)  # only the Windows 7 flag: the key is selected so the instance still counts
    assert filters(transport)[1] == "SELECT Version FROM SoftwareLicensingService"
    assert row["KeyManagementServiceActivationDisabled"] is None


def test_windows8_and_later_refusing_the_windows7_flag_retry_without_it() -> None:
    transport = FakeTransport(OS_2022, SERVICE_2022)
    client = WmiClient(transport)
    client.query("SELECT BuildNumber FROM Win32_OperatingSystem")
    client.query(f"SELECT Version, {FLAG.split()[1]} FROM SoftwareLicensingService")
    assert filters(transport)[1] == "SELECT Version FROM SoftwareLicensingService"


def test_a_refusal_that_no_build_explains_is_raised_without_a_retry() -> None:
    transport = FakeTransport(INVALID_QUERY)
    client = WmiClient(transport)
    with pytest.raises(WSManFault):
        client.query("SELECT Version, KeyManagementServiceMachine FROM SoftwareLicensingService")
    assert client.requests == 1 and client.windows7 is None


def test_a_known_build_is_not_second_guessed_by_a_refusal() -> None:
    transport = FakeTransport(OS_2022, INVALID_QUERY)
    client = WmiClient(transport)
    client.query("SELECT BuildNumber FROM Win32_OperatingSystem")
    with pytest.raises(WSManFault):
        client.query(LATER)
    assert client.requests == 2
