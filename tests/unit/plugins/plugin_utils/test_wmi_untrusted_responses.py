# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Responses are untrusted: mutated real responses must give a WSManError, never a bare Python error.

The mutations are seeded, so a failure is reproducible: the test names the seed and the operation.
"""

from __future__ import annotations

import copy
import random
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    NS_ENUMERATION,
    NS_WSMAN,
    NS_XSI,
    WSManError,
    decode_fault,
    parse_xml,
    qname,
    serialize,
)
from ansible_collections.winact.kms.tests.unit.plugins.plugin_utils.wsman_fakes import FakeTransport, fixture

Operation = Callable[[WmiClient], Any]

SCENARIOS: dict[str, tuple[Operation, list[str]]] = {
    "EnumValues": (
        lambda c: c.invoke("StdRegProv", "EnumValues", {"sSubKeyName": "K"}, namespace="root/default"),
        ["invoke-StdRegProv-EnumValues_OUTPUT_arrays.xml"],
    ),
    "GetMultiStringValue": (
        lambda c: c.invoke("StdRegProv", "GetMultiStringValue", {"sSubKeyName": "K"}, namespace="root/default"),
        ["invoke-StdRegProv-GetMultiStringValue_OUTPUT_many-elements.xml"],
    ),
    "EnumKey": (
        lambda c: c.invoke("StdRegProv", "EnumKey", {"sSubKeyName": "K"}, namespace="root/default"),
        ["invoke-static-method-response_StdRegProv-EnumKey_OUTPUT_array_ws2003.xml"],
    ),
    "Get Win32_Service": (
        lambda c: c.get("Win32_Service", {"Name": "sppsvc"}),
        ["get-instance_Win32_Service_sppsvc.xml"],
    ),
    "paged query": (
        lambda c: c.query("SELECT * FROM SoftwareLicensingProduct"),
        [
            "enumerate-response_SoftwareLicensingProduct_page1-1-item.xml",
            "pull-response_SoftwareLicensingProduct_page2-2-items.xml",
            "pull-response_SoftwareLicensingProduct_page3-end-of-sequence.xml",
            "pull-response_SoftwareLicensingProduct_page3-end-of-sequence.xml",
        ],
    ),
    "fragment query": (
        lambda c: c.query("SELECT Caption, LocalDateTime, MUILanguages FROM Win32_OperatingSystem"),
        ["enumerate-response_optimized-end_xmlfragment_Win32_OperatingSystem.xml"],
    ),
}
TEXTS = ["", "x", "-1", "true", "2026-13-01T00:00:00Z", "9" * 30, "0x10", " ", None]
EXTRA_TAGS = ["Datetime", qname(NS_WSMAN, "XmlFragment"), qname(NS_ENUMERATION, "EndOfSequence"), "{urn:x}Odd"]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    root = parse_xml(data)
    nodes = list(root.iter())
    for _step in range(rng.randint(1, 4)):
        parent = rng.choice(nodes)
        kids = list(parent)
        operation = rng.randrange(6)
        if operation == 0 and kids:
            parent.remove(rng.choice(kids))
        elif operation == 1 and kids:
            parent.append(copy.deepcopy(rng.choice(kids)))
        elif operation == 2:
            parent.text = rng.choice(TEXTS)
        elif operation == 3:
            parent.set(qname(NS_XSI, "nil"), "true")
        elif operation == 4:
            parent.append(ET.Element(rng.choice(EXTRA_TAGS)))
        else:
            parent.tag = rng.choice(nodes).tag
    return serialize(root)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_mutated_responses_only_raise_wsman_errors(scenario: str) -> None:
    operation, names = SCENARIOS[scenario]
    rng = random.Random(scenario)
    outcomes = {"ok": 0, "refused": 0}
    for attempt in range(150):
        replies = [_mutate(fixture(name), rng) if rng.random() < 0.5 else fixture(name) for name in names]
        transport = FakeTransport(*replies, *[fixture(names[-1])] * 2)
        try:
            operation(WmiClient(transport))
            outcomes["ok"] += 1
        except WSManError:
            outcomes["refused"] += 1
        except Exception as exc:  # noqa: BLE001 - the point is to report any other exception
            pytest.fail(f"{scenario} attempt {attempt}: {type(exc).__name__}: {exc}")
    assert outcomes["ok"] and outcomes["refused"], outcomes


@pytest.mark.parametrize(
    "name",
    [
        "fault-wql-class-not-found_wmi-provider_ws2008r2.xml",
        "fault-msft-wmierror-quota_shells.xml",
        "fault-method-sl-hresult_providerfault.xml",
    ],
)
def test_mutated_faults_decode_or_are_refused(name: str) -> None:
    rng = random.Random(name)
    for attempt in range(150):
        data = _mutate(fixture(name), rng)
        try:
            decode_fault(data)
        except WSManError:
            pass
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{name} attempt {attempt}: {type(exc).__name__}: {exc}")
