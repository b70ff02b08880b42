# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names of the Software Protection Platform (SPP) that every layer refers to, defined once.

Sources: "SoftwareLicensingService class" and "SoftwareLicensingProduct class"
(https://learn.microsoft.com/previous-versions/windows/desktop/sppwmi/softwarelicensingservice),
"Registry Settings for Volume Activation"
(https://learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2012-r2-and-2012/dn502532(v=ws.11))
and "Key Management Services (KMS) activation planning"
(https://learn.microsoft.com/windows-server/get-started/kms-activation-planning).
"""

from __future__ import annotations

import typing as t

SERVICE_CLASS: t.Final = "SoftwareLicensingService"
PRODUCT_CLASS: t.Final = "SoftwareLicensingProduct"
SPP_SERVICE: t.Final = "sppsvc"  # the Software Protection service (Win32_Service name)

# Where SPP keeps its settings; slmgr.vbs writes the same key (SLKeyPath) and its 32-bit view (SLKeyPath32).
SPP_KEY: t.Final = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
SPP_KEY_32: t.Final = r"SOFTWARE\Wow6432Node\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"

# The TCP port KMS clients ask and KMS hosts listen on when no custom port is set (WMI reports 0 then).
DEFAULT_KMS_PORT: t.Final = 1688

# ApplicationID of Windows in SoftwareLicensingProduct (Office and other applications have their own).
WINDOWS_APP_ID: t.Final = "55c92734-d682-4d71-983e-d6ec3f16059f"
# ApplicationID of Office 2013 and later, which ospp.vbs filters SoftwareLicensingProduct by on Windows 8+.
OFFICE_APP_ID: t.Final = "0ff1ce15-a989-479d-af46-f275c6370663"
