"""The protocol layer in front of the real emulated machines (fleet.py), end to end over WS-Man."""

from __future__ import annotations

import collections.abc
import typing as t
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from pypsrp.wsman import SelectorSet, WSMan
from winemu_lib import soap
from winemu_lib.fleet import Fleet

if t.TYPE_CHECKING:
    from .conftest import RunningFleet, WinemuRunner

SLS_URI = soap.WMI_URI_PREFIX + "root/cimv2/SoftwareLicensingService"
REG_URI = soap.WMI_URI_PREFIX + "root/default/StdRegProv"
SPP_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"


@pytest.fixture
def small(
    winemu: WinemuRunner, start_real_fleet: t.Callable[[Fleet], RunningFleet]
) -> collections.abc.Iterator[RunningFleet]:
    yield start_real_fleet(Fleet.load(winemu.fleets_dir / "small.yml"))


def wsman_client(running: RunningFleet, host: str) -> WSMan:
    return WSMan(
        "127.0.0.1",
        port=urllib.parse.urlsplit(running.url(host)).port,
        username="Administrator",
        password="Winact-2026!",
        auth="ntlm",
        ssl=False,
        encryption="auto",
    )


def service_version(running: RunningFleet, host: str) -> str:
    items, _trips = running.query("SELECT Version FROM SoftwareLicensingService", host=host)
    assert len(items) == 1
    version = items[0].findtext("Version")
    assert version
    return version


def test_instance_method_round_trip_counts_one_write(small: RunningFleet) -> None:
    version = service_version(small, "srv01")
    selectors = SelectorSet()
    selectors.add_option("Version", version)
    with wsman_client(small, "srv01") as client:
        body = ET.Element(f"{{{SLS_URI}}}SetKeyManagementServiceMachine_INPUT")
        ET.SubElement(body, f"{{{SLS_URI}}}MachineName").text = "kms01.corp.example.com"
        response = client.invoke(f"{SLS_URI}/SetKeyManagementServiceMachine", SLS_URI, body, selector_set=selectors)
    output = response.find(f"{{{soap.NS_S}}}Body/{{{SLS_URI}}}SetKeyManagementServiceMachine_OUTPUT")
    assert output is not None and output.findtext(f"{{{SLS_URI}}}ReturnValue") == "0"
    reply = small.invoke(
        REG_URI,
        "GetStringValue",
        {"hDefKey": small.HKLM, "sSubKeyName": SPP_KEY, "sValueName": "KeyManagementServiceName"},
        host="srv01",
    )
    assert reply.text(f"s:Body/{{{REG_URI}}}GetStringValue_OUTPUT/{{{REG_URI}}}sValue") == "kms01.corp.example.com"
    stats = small.endpoint("srv01").stats_dict()
    assert stats["writes"] == 1
    assert stats["requests"]["by_method"] == {
        "SoftwareLicensingService.SetKeyManagementServiceMachine": 1,
        "StdRegProv.GetStringValue": 1,
        "enumerate:SoftwareLicensingService": 1,
    }


def test_spp_failure_is_a_provider_fault_with_the_hresult(small: RunningFleet) -> None:
    version = service_version(small, "pc01")
    reply = small.invoke(
        SLS_URI, "InstallProductKey", {"ProductKey": "not-a-key"}, selectors={"Version": version}, host="pc01"
    )
    assert reply.status == 500
    assert reply.subcode == "w:InternalError"
    assert reply.wsman_code == 0xC004F050
    assert reply.provider_code == 0xC004F050
    assert small.endpoint("pc01").stats_dict()["writes"] == 0


def test_singleton_still_needs_its_key(small: RunningFleet) -> None:
    reply = small.invoke(SLS_URI, "RefreshLicenseStatus", host="pc01")
    assert reply.status == 500 and reply.subcode == "w:InvalidSelectors"


def test_reads_cause_no_writes(small: RunningFleet) -> None:
    for host in ("kms01", "srv01", "pc01"):
        small.query("SELECT * FROM SoftwareLicensingProduct WHERE PartialProductKey IS NOT NULL", host=host)
        small.query("SELECT * FROM Win32_OperatingSystem", host=host)
        reply = small.get(soap.WMI_URI_PREFIX + "root/cimv2/Win32_Service", {"Name": "sppsvc"}, host=host)
        assert reply.status == 200
        assert small.endpoint(host).stats_dict()["writes"] == 0


def test_every_class_renders_and_parses(small: RunningFleet) -> None:
    machine = small.endpoint("kms01").machine
    for class_name in (
        "SoftwareLicensingService",
        "SoftwareLicensingProduct",
        "Win32_OperatingSystem",
        "Win32_Service",
    ):
        class_def = machine.class_def("root/cimv2", class_name)
        items, _trips = small.query(f"SELECT * FROM {class_name}", host="kms01")
        assert items, class_name
        uri = f"{soap.WMI_URI_PREFIX}root/cimv2/{class_def.name}"
        assert {item.tag for item in items} == {f"{{{uri}}}{class_def.name}"}


def test_pypsrp_reads_the_registry_and_enumerates_licensing_products(small: RunningFleet) -> None:
    """A different WS-Man client than pywinrm: StdRegProv static method + paged SoftwareLicensingProduct query."""
    n, w = soap.NS_N, soap.NS_W
    product_uri = soap.WMI_URI_PREFIX + "root/cimv2/SoftwareLicensingProduct"
    all_uri = soap.WMI_URI_PREFIX + "root/cimv2/*"
    with wsman_client(small, "srv01") as client:
        body = ET.Element(f"{{{REG_URI}}}GetStringValue_INPUT")
        for name, value in (
            ("hDefKey", "2147483650"),
            ("sSubKeyName", SPP_KEY),
            ("sValueName", "KeyManagementServiceName"),
        ):
            ET.SubElement(body, f"{{{REG_URI}}}{name}").text = value
        reply = client.invoke(f"{REG_URI}/GetStringValue", REG_URI, body)
        output = reply.find(f"{{{soap.NS_S}}}Body/{{{REG_URI}}}GetStringValue_OUTPUT")
        assert output is not None
        # srv01 is pointed at kms01 in small.yml: the value slmgr /skms writes.
        assert output.findtext(f"{{{REG_URI}}}ReturnValue") == "0"
        assert output.findtext(f"{{{REG_URI}}}sValue") == "kms01.corp.example.com"

        enum = ET.Element(f"{{{n}}}Enumerate")
        ET.SubElement(enum, f"{{{w}}}OptimizeEnumeration")
        ET.SubElement(enum, f"{{{w}}}MaxElements").text = "2"
        ET.SubElement(enum, f"{{{w}}}Filter", Dialect=soap.WQL_DIALECT).text = "SELECT * FROM SoftwareLicensingProduct"
        first = client.enumerate(all_uri, enum).find(f"{{{n}}}EnumerateResponse")
        assert first is not None
        products = list(first.findall(f"{{{w}}}Items/*"))
        context = first.findtext(f"{{{n}}}EnumerationContext")
        done = first.find(f"{{{w}}}EndOfSequence") is not None
        pulls = 0
        while not done:
            pull = ET.Element(f"{{{n}}}Pull")
            ET.SubElement(pull, f"{{{n}}}EnumerationContext").text = context
            ET.SubElement(pull, f"{{{n}}}MaxElements").text = "2"
            page = client.pull(all_uri, pull).find(f"{{{n}}}PullResponse")
            assert page is not None
            pulls += 1
            products.extend(page.findall(f"{{{n}}}Items/*"))
            done = page.find(f"{{{n}}}EndOfSequence") is not None
            context = page.findtext(f"{{{n}}}EnumerationContext")
    p = "{" + product_uri + "}"
    assert pulls >= 1 and len(products) > 2
    app_ids = {item.findtext(p + "ApplicationID") for item in products}
    assert "55c92734-d682-4d71-983e-d6ec3f16059f" in app_ids and len(app_ids) > 1  # Windows and Office
    keyed = [item for item in products if item.findtext(p + "PartialProductKey")]
    assert keyed, "the Windows product has a key installed"
