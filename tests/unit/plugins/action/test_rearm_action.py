# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winact.kms.rearm's request: what to rearm, checked before any I/O (the rearm itself runs against the
emulator in tests/integration/test_image_pipeline.py)."""

from __future__ import annotations

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _rearm as rearm
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError

OFFICE_APP = "0ff1ce15-a989-479d-af46-f275c6370663"
SKU = "73111121-5638-40f6-bc11-f1d7b0d64300"


def test_windows_is_the_default() -> None:
    assert rearm.build_request({}) == rearm.Request("windows", None)


def test_one_application_or_one_sku_normalised() -> None:
    assert rearm.build_request({"application_id": "{" + OFFICE_APP.upper() + "}"}) == rearm.Request(
        "application", OFFICE_APP
    )
    assert rearm.build_request({"activation_id": SKU}) == rearm.Request("sku", SKU)


def test_both_targets_are_refused_naming_the_options() -> None:
    with pytest.raises(ValidationError, match="^application_id: cannot be used with activation_id"):
        rearm.build_request({"application_id": OFFICE_APP, "activation_id": SKU})


@pytest.mark.parametrize("option", ["application_id", "activation_id"])
def test_a_target_that_is_not_a_guid_is_refused(option: str) -> None:
    with pytest.raises(ValidationError, match=f"^{option}: 'office' is not a GUID"):
        rearm.build_request({option: "office"})
