# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: gvlk
author: winact.kms contributors
version_added: "0.1.0"
short_description: The KMS client setup key (GVLK) of a Windows edition
description:
  - Returns the Generic Volume License Key (GVLK, "KMS client setup key") that Microsoft publishes for a
    Windows edition on a given build, from the collection's catalog of Microsoft's table
    U(https://learn.microsoft.com/windows-server/get-started/kms-client-activation-keys).
  - The input is either an EditionID (the registry value
    C(HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\EditionID), for example C(ServerDatacenter),
    C(Professional), C(EnterpriseS)) together with O(build), or a dictionary describing the host such as
    the C(os) entry of the M(winact.kms.license_info) result.
  - A dictionary with C(operating_system_sku), C(build_number) and C(product_type) selects the edition by
    its OperatingSystemSKU; C(edition_id) and C(license_family) (SoftwareLicensingProduct.LicenseFamily),
    when present, must name the same edition.
  - The build matters. Windows 11 and Windows 10 share the keys of their general availability editions but
    are different families (Windows 11 is build 22000 and later); LTSB/LTSC releases each have their own
    key, picked by build (10240, 14393, 17763, 19044, 26100); Windows Server 2019 and Windows 10 1809 share
    build 17763 and are told apart by O(product_type).
  - Fails with a clear message for an unknown EditionID, a build that is not a release of that edition,
    and editions without a published GVLK (Home, evaluation editions).
  - GVLKs are public and only activate against a KMS host or Active Directory-based activation.
positional: _input
options:
  _input:
    description:
      - An EditionID string, or a dictionary with C(edition_id) and/or C(operating_system_sku), plus
        C(build_number) and C(product_type) (and optionally C(license_family)).
    type: raw
    required: true
  build:
    description:
      - The Windows build number (C(Win32_OperatingSystem.BuildNumber)), for example C(20348).
      - Required with an EditionID string; with a dictionary, used when it has no C(build_number).
    type: int
  product_type:
    description:
      - C(Win32_OperatingSystem.ProductType) - V(1) workstation, V(2) domain controller, V(3) server.
      - When omitted with an EditionID string, the client and server families are both tried and the
        filter fails if the EditionID exists in both on that build.
    type: int
    choices: [1, 2, 3]
  include_unlisted:
    description:
      - Also consider the community rows of the catalog, whose keys Microsoft does not list (for example
        Enterprise multi-session). Home editions are never selected.
    type: bool
    default: false
seealso:
  - name: Microsoft's KMS client activation and product keys
    description: The table the catalog is generated from.
    link: https://learn.microsoft.com/windows-server/get-started/kms-client-activation-keys
"""

EXAMPLES = r"""
- name: Key of Windows Server 2022 Datacenter
  ansible.builtin.debug:
    msg: "{{ 'ServerDatacenter' | winact.kms.gvlk(build=20348) }}"
  # => WX4NM-KYWYW-QJJR4-XV3QB-6VM33

- name: Windows 10 Enterprise LTSC 2021 (the build picks the LTSC release)
  ansible.builtin.debug:
    msg: "{{ 'EnterpriseS' | winact.kms.gvlk(build=19044, product_type=1) }}"
  # => M7XTQ-FN8P6-TTKYV-9D4CC-J462D

- name: Key for the edition a host reports (the os entry of winact.kms.license_info)
  winact.kms.license_info:
  register: license

- name: Write it into an unattend answer file
  ansible.builtin.set_fact:
    unattend_product_key: "{{ license.os | winact.kms.gvlk }}"

- name: A dictionary built by hand works the same way
  ansible.builtin.debug:
    msg: "{{ {'operating_system_sku': 48, 'build_number': '22631', 'product_type': 1} | winact.kms.gvlk }}"
  # => W269N-WFGWX-YVC9B-4J6C9-T83GX (Windows 11 Pro)
"""

RETURN = r"""
_value:
  description: The GVLK, five groups of five characters separated by C(-).
  type: str
  sample: WX4NM-KYWYW-QJJR4-XV3QB-6VM33
"""

# The documentation strings come first, as in ansible-core's own filter plugins.
from collections.abc import Callable, Mapping  # noqa: E402
from typing import Any  # noqa: E402

from ansible.errors import AnsibleFilterError  # noqa: E402

from ansible_collections.winact.kms.plugins.plugin_utils._catalog import (  # noqa: E402
    CatalogEntry,
    CatalogError,
    detect_edition,
    entries,
    lookup,
    span_of,
)

_FILTER = "winact.kms.gvlk"


def gvlk(value: Any, build: Any = None, product_type: Any = None, include_unlisted: bool = False) -> str:
    """The GVLK of an EditionID (with build) or of a host description dictionary."""
    if not isinstance(include_unlisted, bool):
        raise AnsibleFilterError(f"{_FILTER}: include_unlisted must be a boolean, got {include_unlisted!r}")
    try:
        if isinstance(value, str):
            return _for_edition_id(value, build, product_type, include_unlisted).gvlk
        if isinstance(value, Mapping):
            return _for_host(value, build, product_type, include_unlisted).gvlk
    except CatalogError as exc:
        raise AnsibleFilterError(f"{_FILTER}: {exc}") from exc
    raise AnsibleFilterError(
        f"{_FILTER}: expected an EditionID string or a dictionary like the os entry of winact.kms.license_info, "
        f"got {type(value).__name__}"
    )


def _for_edition_id(edition_id: str, build: Any, product_type: Any, include_unlisted: bool) -> CatalogEntry:
    if build is None:
        raise CatalogError(f"build is required with an EditionID, e.g. {edition_id!r} | {_FILTER}(build=20348)")
    if product_type is not None:
        return lookup(edition_id, build, product_type, include_unlisted=include_unlisted)
    # No ProductType: try the client and the server families; the EditionID usually belongs to one only.
    results: dict[int, CatalogEntry] = {}
    errors: dict[int, CatalogError] = {}
    for candidate in (1, 3):
        try:
            results[candidate] = lookup(edition_id, build, candidate, include_unlisted=include_unlisted)
        except CatalogError as exc:
            errors[candidate] = exc
    if len({entry.gvlk for entry in results.values()}) == 1:
        return next(iter(results.values()))
    if results:
        found = "; ".join(f"ProductType {pt}: {entry.edition}" for pt, entry in sorted(results.items()))
        raise CatalogError(f"EditionID {edition_id!r} on build {build} is ambiguous ({found}); pass product_type")
    raise errors[_likely_product_type(edition_id)]


def _likely_product_type(edition_id: str) -> int:
    """The product type whose error explains best why an EditionID failed: server-only editions -> 3."""
    wanted = edition_id.strip().lower()
    types = {pt for entry in entries() if entry.edition_id.lower() == wanted for pt in span_of(entry).product_types}
    return 3 if types and 1 not in types else 1


def _for_host(host: Mapping[str, Any], build: Any, product_type: Any, include_unlisted: bool) -> CatalogEntry:
    edition_id = host.get("edition_id")
    build_number = host["build_number"] if host.get("build_number") is not None else build
    ptype = host["product_type"] if host.get("product_type") is not None else product_type
    if host.get("operating_system_sku") is not None:
        os_info = {
            "OperatingSystemSKU": host["operating_system_sku"],
            "BuildNumber": build_number,
            "ProductType": ptype,
        }
        # license_info reports edition_id from the Windows product's LicenseFamily, so both names are
        # cross-checked against the SKU the same way; each check returns the same row or raises.
        names = [name for name in (host.get("license_family"), edition_id) if name] or [None]
        entries_found = {detect_edition(os_info, name, include_unlisted=include_unlisted) for name in names}
        return entries_found.pop()
    if edition_id:
        if not isinstance(edition_id, str):
            raise CatalogError(f"edition_id must be a string, got {edition_id!r}")
        return _for_edition_id(edition_id, build_number, ptype, include_unlisted)
    raise CatalogError("the dictionary needs edition_id or operating_system_sku (plus build_number, product_type)")


class FilterModule:
    """winact.kms GVLK filter."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"gvlk": gvlk}
