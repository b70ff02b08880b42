# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The activation type of Windows 7 / Windows Server 2008 R2: the Token-based Activation Only flag.

Windows 7's slmgr.vbs has no ``/act-type``; ``/stao`` and ``/ctao`` call
``SoftwareLicensingService.DisableKeyManagementServiceActivation(True|False)``, and the read-only
``KeyManagementServiceActivationDisabled`` reports the flag ("WMI Properties and Methods for Volume Activation",
https://learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2012-r2-and-2012/dn502536(v=ws.11)).
The option "was removed in Windows Server 2012 R2 and Windows 8.1. Use the /act-type option instead" ("Slmgr.vbs
options for obtaining volume activation information"), and Windows 7 has no AD-based activation, so of the
activation types only "all" (flag clear) and "token" (flag set) exist there.
"""

from __future__ import annotations

from ansible_collections.winact.kms.plugins.plugin_utils._spp import SERVICE_CLASS
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient, wql_select

PROPERTY = "KeyManagementServiceActivationDisabled"
METHOD = "DisableKeyManagementServiceActivation"
PARAM = "DisableActivation"
# The activation_type values (slmgr /act-type numbering) the flag can express: 0 all, 3 token only.
ALL, TOKEN = 0, 3


def is_windows7(service_version: str | None) -> bool:
    """SoftwareLicensingService.Version is the sppsvc file version: 6.1.x on Windows 7 / Server 2008 R2."""
    return bool(service_version) and str(service_version).startswith("6.1.")


def read(wmi: WmiClient) -> int:
    """The configured activation type: TOKEN when the flag is set, ALL otherwise."""
    rows = wmi.query(wql_select((PROPERTY,), SERVICE_CLASS))
    return TOKEN if rows and rows[0].get(PROPERTY) else ALL


def refusal(activation_type: int, per_product: bool) -> str | None:
    """Why Windows 7 cannot take this activation type, or None when it can."""
    if activation_type not in (ALL, TOKEN):
        return (
            "Windows 7 / Windows Server 2008 R2 has only the Token-based Activation Only flag (slmgr /stao, /ctao): "
            "activation_type token sets it and all clears it; ad and kms need Windows 8 / Server 2012 or later "
            "(slmgr /act-type), and Windows 7 has no AD-based activation"
        )
    if per_product:
        return (
            "on Windows 7 / Windows Server 2008 R2 the Token-based Activation Only flag (slmgr /stao, /ctao) is "
            "machine-wide; remove activation_id to set it"
        )
    return None


def call_params(activation_type: int) -> dict[str, bool]:
    """DisableKeyManagementServiceActivation's argument: True (``/stao``) for token only, False (``/ctao``) for all."""
    return {PARAM: activation_type == TOKEN}
