"""pypsrp's WSMan client against the emulator: invoke, Get, enumerate/pull with hand-built bodies."""

from __future__ import annotations

import typing as t
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from pypsrp.exceptions import AuthenticationError, WSManFaultError
from pypsrp.wsman import SelectorSet, WSMan
from winemu_lib import soap

if t.TYPE_CHECKING:
    from .conftest import RunningFleet

N = soap.NS_N
W = soap.NS_W


def client(url: str, credentials: tuple[str, str], *, ssl: bool = False) -> WSMan:
    parts = urllib.parse.urlsplit(url)
    return WSMan(
        "127.0.0.1",
        port=parts.port,
        username=credentials[0],
        password=credentials[1],
        auth="basic",
        ssl=ssl,
        cert_validation=False,
        encryption="never",
        operation_timeout=20,
        read_timeout=30,
    )


def invoke_static(wsman: WSMan, uri: str, method: str, params: t.Mapping[str, str]) -> ET.Element:
    body = ET.Element(f"{{{uri}}}{method}_INPUT")
    for name, value in params.items():
        ET.SubElement(body, f"{{{uri}}}{name}").text = value
    return wsman.invoke(f"{uri}/{method}", uri, body)


def test_static_method_via_invoke(fleet: RunningFleet) -> None:
    with client(fleet.url(), fleet.ADMIN) as wsman:
        response = invoke_static(
            wsman,
            fleet.REG_URI,
            "GetStringValue",
            {
                "hDefKey": str(fleet.HKLM),
                "sSubKeyName": r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform",
                "sValueName": "KeyManagementServiceName",
            },
        )
    p = "{" + fleet.REG_URI + "}"
    output = response.find(f"{{{soap.NS_S}}}Body/{p}GetStringValue_OUTPUT")
    assert output is not None
    assert output.findtext(p + "sValue") == "kms01.corp.example.com"
    assert output.findtext(p + "ReturnValue") == "0"


def test_instance_method_with_selector_set(fleet: RunningFleet) -> None:
    selectors = SelectorSet()
    selectors.add_option("Name", "svc002")
    with client(fleet.url(), fleet.ADMIN) as wsman:
        body = ET.Element(f"{{{fleet.SERVICE_URI}}}StopService_INPUT")
        wsman.invoke(f"{fleet.SERVICE_URI}/StopService", fleet.SERVICE_URI, body, selector_set=selectors)
        instance = wsman.get(fleet.SERVICE_URI, selector_set=selectors)
    p = "{" + fleet.SERVICE_URI + "}"
    assert instance.findtext(f"{p}Win32_Service/{p}State") == "Stopped"
    assert fleet.machine().writes == 1


def enumerate_all(wsman: WSMan, query: str, uri: str, max_elements: int = 32000) -> tuple[list[ET.Element], int]:
    enum = ET.Element(f"{{{N}}}Enumerate")
    ET.SubElement(enum, f"{{{W}}}OptimizeEnumeration")
    ET.SubElement(enum, f"{{{W}}}MaxElements").text = str(max_elements)
    ET.SubElement(enum, f"{{{W}}}Filter", Dialect=soap.WQL_DIALECT).text = query
    body = wsman.enumerate(uri, enum)
    response = body.find(f"{{{N}}}EnumerateResponse")
    assert response is not None
    items = list(response.findall(f"{{{W}}}Items/*"))
    done = response.find(f"{{{W}}}EndOfSequence") is not None
    context = response.findtext(f"{{{N}}}EnumerationContext")
    trips = 1
    while not done:
        pull = ET.Element(f"{{{N}}}Pull")
        ET.SubElement(pull, f"{{{N}}}EnumerationContext").text = context
        ET.SubElement(pull, f"{{{N}}}MaxElements").text = str(max_elements)
        page = wsman.pull(uri, pull).find(f"{{{N}}}PullResponse")
        assert page is not None
        trips += 1
        items.extend(page.findall(f"{{{N}}}Items/*"))
        done = page.find(f"{{{N}}}EndOfSequence") is not None
        context = page.findtext(f"{{{N}}}EnumerationContext")
    return items, trips


def test_enumerate_and_pull(fleet: RunningFleet) -> None:
    with client(fleet.url(), fleet.ADMIN) as wsman:
        items, trips = enumerate_all(wsman, "SELECT * FROM Win32_Service", fleet.CIMV2_ALL, max_elements=10)
        fragments, _trips = enumerate_all(wsman, "SELECT Name FROM Win32_Service WHERE Started = TRUE", fleet.CIMV2_ALL)
    p = "{" + fleet.SERVICE_URI + "}"
    assert len(items) == 30 and trips == 4  # 1 + 10 + 10 + 9
    assert items[0].findtext(p + "Name") == "sppsvc"
    assert [fragment.findtext("Name") for fragment in fragments] == [f"svc{i:03d}" for i in range(2, 30, 2)]
    assert fleet.endpoint().stats_dict()["requests"]["by_action"] == {"Enumerate": 2, "Pull": 4}


def test_fault_surfaces_as_wsman_fault_error(fleet: RunningFleet) -> None:
    with client(fleet.url(), fleet.ADMIN) as wsman, pytest.raises(WSManFaultError) as caught:
        wsman.get(fleet.SERVICE_URI)  # no selectors
    assert caught.value.code == 2150858843


def test_wrong_password_is_401(fleet: RunningFleet) -> None:
    with client(fleet.url(), (fleet.ADMIN[0], "wrong")) as wsman, pytest.raises(AuthenticationError):
        invoke_static(wsman, fleet.REG_URI, "EnumKey", {"sSubKeyName": "SOFTWARE"})


def test_https_with_certificate_validation_off(start_fleet: t.Callable[..., RunningFleet]) -> None:
    running = start_fleet(1, https=True)
    with client(running.url(), running.ADMIN, ssl=True) as wsman:
        response = invoke_static(wsman, running.REG_URI, "EnumKey", {"hDefKey": str(running.HKLM), "sSubKeyName": ""})
    p = "{" + running.REG_URI + "}"
    assert response.findtext(f"{{{soap.NS_S}}}Body/{p}EnumKey_OUTPUT/{p}ReturnValue") == "0"
    assert running.endpoint().stats_dict()["requests"]["by_method"] == {"StdRegProv.EnumKey": 1}
