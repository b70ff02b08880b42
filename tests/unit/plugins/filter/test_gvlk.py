# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the winact.kms.gvlk filter."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.winact.kms.plugins.filter import gvlk as plugin
from ansible_collections.winact.kms.plugins.filter.gvlk import FilterModule, gvlk

DATACENTER_2022 = "WX4NM-KYWYW-QJJR4-XV3QB-6VM33"


def test_registered_under_its_documented_name() -> None:
    assert FilterModule().filters() == {"gvlk": gvlk}
    assert yaml.safe_load(plugin.DOCUMENTATION)["name"] == "gvlk"


def test_documented_options_match_the_function() -> None:
    options = yaml.safe_load(plugin.DOCUMENTATION)["options"]
    parameters = list(inspect.signature(gvlk).parameters)
    assert parameters[0] == "value"
    assert "_input" in options
    assert set(options) - {"_input"} == set(parameters[1:])
    assert yaml.safe_load(plugin.RETURN)["_value"]["type"] == "str"
    assert isinstance(yaml.safe_load(plugin.EXAMPLES), list)


def test_documented_examples_return_what_they_say() -> None:
    assert gvlk("ServerDatacenter", build=20348) == DATACENTER_2022
    assert gvlk("EnterpriseS", build=19044, product_type=1) == "M7XTQ-FN8P6-TTKYV-9D4CC-J462D"
    host = {"operating_system_sku": 48, "build_number": "22631", "product_type": 1}
    assert gvlk(host) == "W269N-WFGWX-YVC9B-4J6C9-T83GX"


def test_edition_id_string() -> None:
    assert gvlk("ServerStandard", build=17763, product_type=3) == "N69G4-B89J2-4G8F4-WWYCC-J464C"
    assert gvlk("ServerStandard", build="17763") == "N69G4-B89J2-4G8F4-WWYCC-J464C"
    assert gvlk("Enterprise", build=17763) == "NPPR9-FWDCX-D2C8J-H872K-2YT43"  # client only: no product_type needed
    assert gvlk("ServerTurbine", build=26100) == "XGN3F-F394H-FD2MY-PP6FD-8MCRC"


def test_license_info_os_dictionary() -> None:
    os_entry = {"edition_id": "ServerDatacenter", "operating_system_sku": 8, "build_number": "20348", "product_type": 3}
    assert gvlk(os_entry) == DATACENTER_2022
    assert gvlk({"edition_id": "ServerDatacenter", "build_number": 20348, "product_type": 3}) == DATACENTER_2022
    assert gvlk({"edition_id": "ServerDatacenter"}, build=20348) == DATACENTER_2022
    assert gvlk({**os_entry, "license_family": "ServerDatacenter"}) == DATACENTER_2022
    # license_info reads edition_id from LicenseFamily: Windows 7 Professional reports Business there.
    windows_7 = {"edition_id": "Business", "operating_system_sku": 48, "build_number": 7601, "product_type": 1}
    assert gvlk(windows_7) == "FJ82H-XT6CR-J8D7P-XQJJ2-GPDD4"


@pytest.mark.parametrize(
    ("value", "kwargs", "match"),
    [
        ("Datacenter", {"build": 20348}, "Unknown EditionID 'Datacenter'.*Did you mean 'ServerDatacenter'"),
        ("ServerDatacenter", {}, "build is required"),
        ("EnterpriseS", {"build": 19045}, "No GVLK for EditionID 'EnterpriseS'"),
        ("ServerStandard", {"build": 25398}, "version 23H2"),
        ("ServerDatacenter", {"build": 20348, "product_type": 1}, "No GVLK"),
        ("Core", {"build": 22631}, "not volume-licensed"),
        (12, {"build": 20348}, "expected an EditionID string or a dictionary"),
        ({"build_number": 20348}, {}, "needs edition_id or operating_system_sku"),
        ({"operating_system_sku": 101, "build_number": 22631, "product_type": 1}, {}, "PRODUCT_CORE"),
        (
            {"edition_id": "ServerStandard", "operating_system_sku": 8, "build_number": 20348, "product_type": 3},
            {},
            r"Edition mismatch.*LicenseFamily 'ServerStandard'",
        ),
        (
            {"operating_system_sku": 8, "build_number": 20348, "product_type": 3, "license_family": "ServerStandard"},
            {},
            "mismatch",
        ),
        ("ServerDatacenter", {"build": 20348, "include_unlisted": "yes"}, "include_unlisted must be a boolean"),
    ],
)
def test_clear_errors(value: Any, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(AnsibleFilterError, match=match) as info:
        gvlk(value, **kwargs)
    assert str(info.value).startswith("winact.kms.gvlk: ")


def test_missing_edition_errors_say_how_to_pass_a_key() -> None:
    with pytest.raises(AnsibleFilterError, match=r"`key: <your key>` on winact\.kms\.product_key"):
        gvlk({"operating_system_sku": 101, "build_number": "22631", "product_type": 1})


def test_unlisted_keys_only_on_request() -> None:
    with pytest.raises(AnsibleFilterError, match="not listed by Microsoft"):
        gvlk("ServerRdsh", build=19044, product_type=1)
    assert gvlk("ServerRdsh", build=19044, product_type=1, include_unlisted=True) == "CPWHC-NT2C7-VYW78-DHDB2-PG3GK"


def test_server_only_edition_reports_the_server_error_without_product_type() -> None:
    with pytest.raises(AnsibleFilterError) as info:
        gvlk("ServerDatacenter", build=22631)
    assert "ProductType 3" in str(info.value)
