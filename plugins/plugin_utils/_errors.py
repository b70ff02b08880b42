# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Activation HRESULTs explained: symbol, Microsoft's message, cause and fix.

ONE table (``ERRORS``) covers the activation error codes of Microsoft's troubleshooting articles and
every key of slmgr.vbs's built-in message table. SPP WMI methods fail with a WMI error whose number is
the SL HRESULT (docs/reference/spp-wmi.md#how-a-method-fails), and KMS events 12288/12289/12290 carry
one too; ``explain`` turns either into something a person can act on. docs/error-codes.md is generated
from it (tools/gen_error_docs.py).

Each entry names the documents its texts come from (``source``: keys of ``SOURCES``, which gives each
document's title and URL); "inferred" marks what no source says.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from ansible_collections.winact.kms.plugins.plugin_utils._results import hresult_hex


@dataclasses.dataclass(frozen=True)
class ErrorInfo:
    """What an activation HRESULT means and what to do about it."""

    hresult: int  # unsigned 32-bit
    symbol: str | None
    message: str  # Microsoft's text
    cause: str
    fix: str
    source: str  # "; "-separated keys of SOURCES (short document names); docs render title and URL
    known: bool = True  # False for the generic entry of a code missing from the table
    #: Why another Activate after a delay may succeed (the KMS host or the path to it may come back, or the
    #: count rises while other machines ask); None when the code needs a change first.
    retry_reason: str | None = None

    @property
    def transient(self) -> bool:
        return self.retry_reason is not None

    @property
    def hresult_hex(self) -> str:
        return hresult_hex(self.hresult)

    def to_dict(self) -> dict[str, Any]:
        return {
            "hresult": self.hresult_hex,
            "symbol": self.symbol,
            "message": self.message,
            "cause": self.cause,
            "fix": self.fix,
        }


_SUP = "https://learn.microsoft.com/troubleshoot/windows-server/licensing-and-activation"
_KMS_DNS_URL = "https://learn.microsoft.com/windows-server/get-started/common-troubleshooting-procedures-kms-dns"
_KMS_PLANNING_URL = "https://learn.microsoft.com/windows-server/get-started/kms-activation-planning"

# Short document name (what an entry's ``source`` lists) -> (full title, URL; "" when the document has
# none, e.g. a file that ships with Windows or the Windows SDK). docs/error-codes.md lists them all.
SOURCES: Final[dict[str, tuple[str, str]]] = {
    "Duplicate CMID": (
        "Microsoft's Azure virtual machine troubleshooting article on duplicate client machine IDs "
        "(support/azure/virtual-machines/windows-activation-duplicate-client-machine-id.md)",
        "https://github.com/MicrosoftDocs/SupportArticles-docs/blob/main/support/azure/virtual-machines/"
        "windows-activation-duplicate-client-machine-id.md",
    ),
    "Troubleshoot activation error codes": (
        "Troubleshoot activation error codes (Microsoft Learn)",
        f"{_SUP}/troubleshoot-activation-error-codes",
    ),
    "slmgr.vbs": (
        r"slmgr.vbs, Windows 10 version, in %SystemRoot%\System32 (Microsoft): its built-in error message table",
        "",
    ),
    "slerror.h": ("slerror.h, Windows SDK header (Microsoft): SL_* symbols and messages", ""),
    "SLInstallProofOfPurchaseEx": (
        "SLInstallProofOfPurchaseEx function (Microsoft Learn)",
        "https://learn.microsoft.com/windows/win32/api/slpublic/nf-slpublic-slinstallproofofpurchaseex",
    ),
    "KMS activation planning": ("KMS activation planning (Microsoft Learn)", _KMS_PLANNING_URL),
    "KMS and DNS troubleshooting": (
        "Common troubleshooting procedures for KMS and DNS issues (Microsoft Learn)",
        _KMS_DNS_URL,
    ),
    "Volume Activation 2.0 Operations Guide": (
        "Volume Activation 2.0 Operations Guide (Microsoft)",
        "http://technet.microsoft.com/library/cc303695.aspx",
    ),
    "SoftwareLicensingProduct class": (
        "SoftwareLicensingProduct class (Microsoft Learn)",
        "https://learn.microsoft.com/previous-versions/windows/desktop/sppwmi/softwarelicensingproduct",
    ),
    "py-kms": (
        "py-kms, pykms_Misc.py (community KMS emulator, GitHub Py-KMS-Organization/py-kms)",
        "https://github.com/Py-KMS-Organization/py-kms",
    ),
    "Error 0xC004F074 when activating Windows": (
        "Error 0xC004F074 when activating Windows (Microsoft Learn)",
        f"{_SUP}/error-0xc004f074-activate-windows",
    ),
    "Error 0xC004F06C when activating Windows": (
        "Error 0xC004F06C when activating Windows (Microsoft Learn)",
        f"{_SUP}/error-0xc004f06c-activate-windows",
    ),
    "Error 0xC004F015 when activating Windows 10 Enterprise": (
        "Error 0xC004F015 when activating Windows 10 Enterprise (Microsoft Learn)",
        f"{_SUP}/error-0xc004f015-activate-windows-10",
    ),
    "Error 0xC004E015 when activating Windows": (
        "Error 0xC004E015 (SL_E_EUL_CONSUMPTION_FAILED) when activating Windows (Microsoft Learn)",
        f"{_SUP}/error-0xc004e015-sl-e-eul-consumption-failed-activate-windows",
    ),
    "Rebuild the tokens.dat file": (
        "Rebuild the tokens.dat file (Microsoft Learn)",
        f"{_SUP}/rebuild-tokens-dotdat-file",
    ),
    "Error 0xC004E002 during activation": (
        "Error 0xC004E002 during activation (Microsoft Learn)",
        f"{_SUP}/error-0xc004e002-during-activation",
    ),
    "Windows is not genuine": ("Windows is not genuine (Microsoft Learn)", f"{_SUP}/windows-not-genuine-error"),
    "Error 0x8007267C when activating Windows": (
        "Windows activation fails with error 0x8007267C (Microsoft Learn)",
        f"{_SUP}/windows-activation-fails-with-error-0x8007267",
    ),
    "Error 0x8007000D when activating": (
        "Error 0x8007000D when activating (Microsoft Learn)",
        f"{_SUP}/0x8007000d-activate-machine",
    ),
    "Event 12293 when setting up a KMS host": (
        "Event 12293 with error 0x80072338 when setting up a KMS host (Microsoft Learn)",
        f"{_SUP}/event-12293-error-0x800723-set-kms-host",
    ),
    "Event 8198: KMS contact failure": (
        "Activation event 8198 with 0xC0020017 / 0x8007139F (KMS contact failure) (Microsoft Learn)",
        f"{_SUP}/activation-event-8198-error-0xc0020017-0x8007139f-kms-contact-failure",
    ),
    "winerror.h": ("winerror.h, Windows SDK header (Microsoft): standard system error texts", ""),
    "community": ("Community observation (not Microsoft)", ""),
    "inferred": ("Inferred by winact.kms; no source states it", ""),
    "symbol inferred": ("The symbol is inferred by winact.kms; no source names it", ""),
}

_DNS_FIX: Final = (
    "Follow Microsoft's 'Common troubleshooting procedures for KMS and DNS issues' "
    f"({_KMS_DNS_URL}): check the _vlmcs._tcp SRV records and name resolution of the KMS host, or set the "
    "KMS host explicitly (winact.kms.kms_client / slmgr /skms <host>)."
)
_TKA_FIX: Final = (
    "Token-based activation: list the installed issuance licenses and certificates (slmgr /lil, slmgr /ltc) and "
    "use a certificate that matches the issuance license; or allow KMS activation again (activation type 0 or 2, "
    "slmgr /act-type)."
)
_REBUILD_TOKENS: Final = (
    f"Rebuild tokens.dat (Microsoft: 'Rebuild the tokens.dat file', {_SUP}/rebuild-tokens-dotdat-file), then "
    "install the GVLK again and activate (slmgr /ipk <GVLK>, slmgr /ato)."
)


def _e(hresult: int, symbol: str | None, message: str, cause: str, fix: str, source: str) -> ErrorInfo:
    return ErrorInfo(hresult=hresult, symbol=symbol, message=message, cause=cause, fix=fix, source=source)


# Message texts: slmgr.vbs's L_MsgError_<hex> where slmgr has one, else slerror.h, else the text
# Microsoft's troubleshooting article ("Troubleshoot activation error codes") prints.
_TABLE: Final[tuple[ErrorInfo, ...]] = (
    # --- KMS client / KMS host -----------------------------------------------------------------
    _e(
        0xC004F074,
        "SL_E_VL_BINDING_SERVICE_UNAVAILABLE",
        "The Software Licensing Service reported that the computer could not be activated. No Key Management "
        "Service (KMS) could be contacted. Please see the Application Event Log for additional information.",
        "Every KMS host the client tried returned an error or could not be reached: the Software Protection "
        "service (sppsvc) is stopped on the host; TCP 1688 is blocked; a stale _vlmcs._tcp SRV or A record points "
        "to the wrong machine; the host is too old for this client (a Windows Server 2008 host needs KB968912 for "
        "Windows 7 / Server 2008 R2 clients); or client and host clocks differ by more than 4 hours (event 12288 "
        "then carries 0xC004F06C).",
        "Read the client's Application-log events 12288 and 12289 and fix each cause: start sppsvc on the host, "
        "open TCP 1688 (Test-NetConnection <host> -Port 1688), correct the DNS records, update the host, "
        "synchronise the clocks.",
        "slmgr.vbs; slerror.h; Error 0xC004F074 when activating Windows; KMS and DNS troubleshooting",
    ),
    _e(
        0xC004F06C,
        "SL_E_VL_INVALID_TIMESTAMP",
        "The Software Licensing Service reported that the product could not be activated. The Key Management "
        "Service (KMS) determined that the request timestamp is invalid.",
        "Client and KMS host clocks differ by more than 4 hours (compared in UTC), usually because the Windows "
        "Time service is off, the NTP client is disabled, or a domain member does not sync from the domain "
        "hierarchy (NT5DS). slmgr /ato then shows 0xC004F074, with 0xC004F06C inside event 12288.",
        "Synchronise time on the client and the host (w32tm /resync, NTP or the AD hierarchy), then activate again.",
        "slerror.h; Error 0xC004F074 when activating Windows; Error 0xC004F06C when activating Windows",
    ),
    _e(
        0xC004F038,
        "SL_E_VL_NOT_ENOUGH_COUNT",
        "The software Licensing Service reported that the computer could not be activated. The count reported by "
        "your Key Management Service (KMS) is insufficient. Please contact your system administrator",
        "The KMS host's count is below the activation threshold: client operating systems need a count of at "
        "least 25, Windows Server at least 5. The host counts unique clients (CMIDs) seen in the past 30 days: "
        "clones of an image generalized with SkipRearm=1 share one CMID and count as one client.",
        "Add machines to the KMS pool until the threshold is reached; check the count on the host with "
        "slmgr /dli (Current count). If the clients share a CMID (compare client_machine_id), generalize the "
        "image with SkipRearm=0, or on each deployed machine rearm (slmgr /rearm, winact.kms.rearm), restart "
        "and activate again.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes; KMS activation planning; Duplicate CMID",
    ),
    _e(
        0xC004F039,
        "SL_E_VL_BINDING_SERVICE_NOT_ENABLED",
        "The software Licensing Service reported that the computer could not be activated. The Key Management "
        "Service (KMS) is not enabled",
        "The KMS did not respond to the request.",
        "Fix the network path to the KMS host and make sure TCP 1688 is not blocked.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004F041,
        "SL_E_VL_KEY_MANAGEMENT_SERVICE_NOT_ACTIVATED",
        "The software Licensing Service determined that the Key Management Server (KMS) is not activated. KMS "
        "needs to be activated",
        "The KMS host itself is not activated.",
        "Activate the KMS host online or by phone.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004F042,
        "SL_E_VL_KEY_MANAGEMENT_SERVICE_ID_MISMATCH",
        "The software Licensing Service determined that the specified Key Management Service (KMS) cannot be used",
        "The KMS host cannot activate this product: its host key (CSVLK) belongs to a group that does not cover "
        "this client, or application-specific and OS-specific KMS hosts are mixed.",
        "Point the client at a host that can activate it (winact.kms.kms_client / slmgr /skms), or install on the "
        "host a CSVLK that covers this client, with the update the host needs (which CSVLK activates which "
        f"Windows: Microsoft's 'KMS activation planning', {_KMS_PLANNING_URL}).",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes; KMS activation planning",
    ),
    _e(
        0xC004F015,
        "SL_E_PRODUCT_SKU_NOT_INSTALLED",
        "The Software Licensing Service reported that the license is not installed.",
        "Seen when Windows 10 Enterprise asks a Windows Server 2012 R2 / 2008 R2 KMS host that has the plain "
        "Windows 10 host key; the host logs it in event 12290 together with 0xC004F042.",
        "On the KMS host, install the 'Windows Srv 2012R2 DataCtr/Std KMS for Windows 10' CSVLK. Prerequisites: "
        "KB3172614 (2012 R2) or KB3079821 (2008 R2).",
        "slerror.h; Error 0xC004F015 when activating Windows 10 Enterprise",
    ),
    _e(
        0xC004F06B,
        "SL_E_VL_KEY_MANAGEMENT_SERVICE_VM_NOT_SUPPORTED",
        "The software Licensing Service determined that it is running in a virtual machine. The Key Management "
        "Service (KMS) is not supported in this mode",
        "The license of this product does not allow the KMS operation inside a virtual machine (inferred from the "
        "message; Microsoft gives no cause).",
        "Run the KMS host where its license allows it, or activate this machine another way (another KMS host, "
        "MAK) (inferred).",
        "slmgr.vbs; slerror.h; inferred",
    ),
    _e(
        0xC004F035,
        "SL_E_VL_NOT_WINDOWS_SLP",
        "The software Licensing Service reported that the computer could not be activated with a Volume license "
        "product key. Volume licensed systems require upgrading from a qualified operating system. Please contact "
        "your system administrator or use a different type of key",
        "Windows 7: volume licensing is an upgrade right and the computer's firmware (BIOS) has no OEM marker of a "
        "qualifying operating system.",
        "Use a MAK or retail key instead; if online activation then fails with 0x80072EE2, activate by phone.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    # --- Product keys ----------------------------------------------------------------------------
    _e(
        0xC004F050,
        "SL_E_INVALID_PRODUCT_KEY",
        "The Software Licensing Service reported that the product key is invalid",
        "The key was mistyped, is a pre-release key used on a released build, or its hyphens were replaced by "
        "typographic dashes when it was copied.",
        "Enter the GVLK that matches this Windows version and edition (the winact.kms.gvlk filter returns it).",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004F069,
        "SL_E_MISMATCHED_PRODUCT_SKU",
        "The Software Licensing Service reported that the product SKU is not found.",
        "No license for the key's SKU exists on this installation: for example a GVLK of another edition, or an "
        "evaluation edition (inferred; Microsoft has no troubleshooting article for this code).",
        "Install the GVLK that matches the installed edition (by EditionID; the winact.kms.gvlk filter returns "
        "it), or convert the edition first (inferred).",
        "slerror.h; SLInstallProofOfPurchaseEx; inferred",
    ),
    _e(
        0xC004F066,
        "SL_E_DEPENDENT_PROPERTY_NOT_SET",
        "The Software Licensing Service reported that the product SKU is not found",
        "slmgr.vbs prints 'product SKU is not found' for this code, but slerror.h defines 0xC004F066 as "
        "SL_E_DEPENDENT_PROPERTY_NOT_SET (a genuine-information property set before the property it depends on); "
        "the 'product SKU is not found' code of slerror.h is 0xC004F069.",
        "If it came from installing a key, treat it like 0xC004F069: install the GVLK that matches the installed "
        "edition (inferred).",
        "slmgr.vbs; slerror.h; inferred",
    ),
    _e(
        0xC004F014,
        "SL_E_PKEY_NOT_INSTALLED",
        "The Software Licensing Service reported that the product key is not available",
        "No product key is installed.",
        "Install a MAK, or the KMS client setup key (GVLK) of this edition (the winact.kms.gvlk filter returns it).",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004F051,
        "SL_E_BLOCKED_PRODUCT_KEY",
        "The software Licensing Service reported that the product key is blocked",
        "Microsoft has blocked the key.",
        "Get a new key.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0x80070490,
        "ERROR_NOT_FOUND",
        "The product key you entered did not work…",
        "An invalid MAK, or a known issue on Windows Server 2019.",
        "Install the key from an elevated prompt: slmgr -ipk <key>.",
        "Troubleshoot activation error codes",
    ),
    # --- Activation server (MAK, CSVLK) -----------------------------------------------------------
    _e(
        0xC004C001,
        "SL_E_CHPA_PRODUCT_KEY_OUT_OF_RANGE",
        "The activation server determined the specified product key is invalid",
        "The MAK is invalid.",
        "Re-enter or verify the MAK.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004C003,
        "SL_E_CHPA_PRODUCT_KEY_BLOCKED",
        "The activation server determined the specified product key is blocked",
        "Microsoft has blocked the MAK.",
        "Get a new key from the Microsoft Licensing Activation Center.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004C008,
        "SL_E_CHPA_MAXIMUM_UNLOCK_EXCEEDED",
        "The activation server determined that the specified product key could not be used",
        "The KMS host key (CSVLK) has reached its activation limit: it activates up to 10 times on no more than "
        "six different computers.",
        "Ask the Microsoft Licensing Activation Center for more activations.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes; KMS activation planning",
    ),
    _e(
        0xC004C017,
        "SL_E_CHPA_PRODUCT_KEY_BLOCKED_IPLOCATION",
        "The activation server determined the specified product key has been blocked for this geographic location.",
        "The key may not be activated from the country or region the activation request came from (inferred from "
        "the message).",
        "Use a key licensed for this region, or contact the Microsoft Licensing Activation Center (inferred).",
        "slmgr.vbs; slerror.h; inferred",
    ),
    _e(
        0xC004C020,
        "SL_E_CHPA_DMAK_LIMIT_EXCEEDED",
        "The activation server reported that the Multiple Activation Key has exceeded its limit",
        "The MAK has been used more times than it allows.",
        "Request more activations for the MAK from the Microsoft Licensing Activation Center.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004C021,
        "SL_E_CHPA_DMAK_EXTENSION_LIMIT_EXCEEDED",
        "The activation server reported that the Multiple Activation Key extension limit has been exceeded",
        "The MAK's extension limit has been used up.",
        "Request more activations for the MAK from the Microsoft Licensing Activation Center.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004B100,
        "SL_E_SRV_GENERAL_ERROR",
        "The activation server determined that the computer could not be activated",
        "The MAK is not supported for this product.",
        "Verify the MAK with the Microsoft Licensing Activation Center.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004F02C,
        "SL_E_CIDIID_INVALID_DATA",
        "The software Licensing Service reported that the format for the offline activation data is incorrect",
        "A wrong confirmation ID (CID) was entered for offline (phone) activation.",
        "Re-enter the confirmation ID.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    # --- License state, grace, genuine -----------------------------------------------------------
    _e(
        0xC004F009,
        "SL_E_GRACE_TIME_EXPIRED",
        "The software Licensing Service reported that the grace period expired",
        "Windows was not activated before its grace period ended (LicenseStatus 5, Notification).",
        "Activate Windows (KMS or MAK), or contact the Microsoft Licensing Activation Center.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004F00F,
        "SL_E_OUT_OF_TOLERANCE",
        "The Software Licensing Server reported that the hardware ID binding is beyond level of tolerance",
        "Hardware or driver changes.",
        "MAK: activate again. KMS: restart, or activate again (slmgr /ato).",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004F064,
        "SL_E_NONGENUINE_GRACE_TIME_EXPIRED",
        "The software Licensing Service reported that the non-Genuine grace period expired",
        "Windows Activation Technologies flagged the installation as non-genuine and its grace period ended.",
        "Install a genuine key and activate.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004F065,
        "SL_I_NONGENUINE_GRACE_PERIOD",
        "The software Licensing Service reported that the application is running within the valid non-genuine period",
        "Windows Activation Technologies flagged the installation as non-genuine; it runs in the non-genuine grace "
        "period. slerror.h defines the code as 0x4004F065; slmgr and Microsoft's article print 0xC004F065.",
        "Install a genuine key and activate.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    _e(
        0xC004F200,
        "SL_E_NOT_GENUINE",
        "The Software Licensing Service reported that current state is not genuine.",
        "Windows is in a non-genuine state.",
        f"Follow Microsoft's troubleshooting article 'Windows is not genuine' ({_SUP}/windows-not-genuine-error).",
        "slerror.h; Troubleshoot activation error codes; Windows is not genuine",
    ),
    _e(
        0x8004FE21,
        None,
        "This computer is not running genuine Windows.",
        "Unlicensed language (MUI) packs, malware, or corrupt system files.",
        "Reinstall the operating system.",
        "Troubleshoot activation error codes",
    ),
    _e(
        0xC004D302,
        "SL_REMAPPING_SP_PUB_TS_REARMED",
        "The security processor reported that the trusted data store was rearmed.",
        "A rearm was done and the restart it needs is still pending (community).",
        "Restart the machine (inferred).",
        "slerror.h; py-kms; community; inferred",
    ),
    _e(
        0xC004D307,
        "SL_REMAPPING_SP_PUB_TS_MAX_REARM_REACHED",
        "The maximum allowed number of re-arms has been exceeded. You must re-install the OS before trying to "
        "re-arm again",
        "No rearms are left.",
        "Reinstall the operating system.",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes",
    ),
    # --- Service, store, privileges --------------------------------------------------------------
    _e(
        0xC004F075,
        "SL_E_SERVICE_STOPPING",
        "The Software Licensing Service reported that the operation cannot be completed because the service is "
        "stopping",
        "The Software Protection service (sppsvc) is shutting down.",
        "Retry once the service runs again (inferred).",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes; inferred",
    ),
    _e(
        0xC004E015,
        "SL_E_EUL_CONSUMPTION_FAILED",
        "The Software Licensing Service reported that license consumption failed.",
        r"The license store %SystemRoot%\System32\spp\store\2.0\tokens.dat is corrupt.",
        _REBUILD_TOKENS,
        "slerror.h; Error 0xC004E015 when activating Windows; Rebuild the tokens.dat file",
    ),
    _e(
        0xC004E002,
        "SL_E_TOKEN_STORE_INVALID_STATE",
        "The Software Licensing Service reported that the license store contains inconsistent data.",
        "Wrong permissions on, or corruption of, tokens.dat.",
        "Fix the permissions; or stop sppsvc, rename tokens.dat, start sppsvc, run slmgr /rilc, and restart twice.",
        "slerror.h; Error 0xC004E002 during activation",
    ),
    _e(
        0x8004E108,
        "SL_E_SFS_INVALID_TOKEN_DATA_HASH",
        "The Software Licensing Service reported that a token in the Token Store contains an invalid hash.",
        "The license token store is corrupt (community).",
        f"As for 0xC004E015 (community): {_REBUILD_TOKENS}",
        "slerror.h; community",
    ),
    _e(
        0xC004F025,
        "SL_E_LUA_ACCESSDENIED",
        "Access denied: the requested action requires elevated privileges",
        "The caller is not elevated.",
        "Run elevated; remotely, connect with an account that is a local administrator of the host (inferred).",
        "slmgr.vbs; slerror.h; Troubleshoot activation error codes; inferred",
    ),
    _e(
        0x80070005,
        "E_ACCESSDENIED",
        "Access denied: the requested action requires elevated privileges",
        "UAC: the command ran without elevation.",
        "Run slmgr.vbs from an elevated prompt; remotely, connect with an account that is a local administrator "
        "of the host (inferred).",
        "slmgr.vbs; Troubleshoot activation error codes; inferred",
    ),
    _e(
        0x00000005,
        "ERROR_ACCESS_DENIED",
        "Access denied: the requested action requires elevated privileges",
        "The Win32 form of 0x80070005: the caller lacks the rights (not elevated).",
        "Run elevated; remotely, connect with an account that is a local administrator of the host (inferred).",
        "slmgr.vbs; winerror.h; inferred",
    ),
    _e(
        0x80070057,
        "E_INVALIDARG",
        "The parameter is incorrect",
        "A licensing method rejected an argument, e.g. a malformed value or one out of range (inferred).",
        "Check the value passed: product key format, intervals of 15 to 43200 minutes, port numbers (inferred).",
        "slmgr.vbs; SoftwareLicensingProduct class; inferred",
    ),
    _e(
        0x8007000D,
        "ERROR_INVALID_DATA",
        "The data is invalid.",
        r"The SYSTEM account lost its permissions on HKLM\SYSTEM\CurrentControlSet\Enum\Root.",
        "Give SYSTEM back the Enumerate Subkeys permission on that key.",
        "Troubleshoot activation error codes; Error 0x8007000D when activating",
    ),
    _e(
        0xC004FD01,
        "SL_E_IA_INVALID_VIRTUALIZATION_PLATFORM",
        "Windows isn't running on a supported Microsoft Hyper-V virtualization platform.",
        "An Automatic Virtual Machine Activation (AVMA) guest is not running on a supported Hyper-V host.",
        "Use AVMA only on a supported Hyper-V host; elsewhere install the GVLK and activate against KMS (inferred).",
        "slerror.h; Troubleshoot activation error codes; inferred",
    ),
    # --- Network: DNS, RPC -----------------------------------------------------------------------
    _e(
        0x8007232B,
        "DNS_ERROR_RCODE_NAME_ERROR",
        "DNS name does not exist",
        "No _vlmcs._tcp SRV record was found for the KMS host.",
        "Make sure a KMS host exists with DNS publishing enabled, or set the KMS host explicitly "
        "(winact.kms.kms_client / slmgr /skms <host>); or switch to a MAK.",
        "slmgr.vbs; Troubleshoot activation error codes; KMS and DNS troubleshooting",
    ),
    _e(
        0x8007007B,
        "ERROR_INVALID_NAME",
        "DNS name does not exist.",
        "The client cannot find the KMS SRV records (Microsoft's article labels this code 'DNS name does not exist').",
        _DNS_FIX,
        "Troubleshoot activation error codes; KMS and DNS troubleshooting",
    ),
    _e(
        0x80092328,
        None,
        "DNS name does not exist.",
        "The same as 0x8007232B: no KMS SRV record was found.",
        _DNS_FIX,
        "Troubleshoot activation error codes; KMS and DNS troubleshooting",
    ),
    _e(
        0x8007232A,
        "DNS_ERROR_RCODE_SERVER_FAILURE",
        "DNS server failure",
        "A network or DNS problem (Microsoft lists it as a KMS host error).",
        _DNS_FIX,
        "slmgr.vbs; Troubleshoot activation error codes; KMS and DNS troubleshooting",
    ),
    _e(
        0x8007251D,
        "DNS_INFO_NO_RECORDS",
        "No records found for DNS query",
        "There are no KMS SRV records.",
        _DNS_FIX,
        "slmgr.vbs; Troubleshoot activation error codes; KMS and DNS troubleshooting",
    ),
    _e(
        0x8007267C,
        "DNS_ERROR_NO_DNS_SERVERS",
        "No DNS servers configured for local system",
        "The network adapter has no DNS server.",
        "Configure a DNS server, or use a MAK and phone activation.",
        "Troubleshoot activation error codes; Error 0x8007267C when activating Windows",
    ),
    _e(
        0x80072338,
        "DNS_ERROR_RCODE_BADSIG",
        "Publishing the Key Management Service (KMS) to DNS failed (logged in KMS host event 12293).",
        "The KMS host has no permission to update the existing _VLMCS._tcp record.",
        "Grant the host rights on the record, or delete the stale record; then restart sppsvc.",
        "Event 12293 when setting up a KMS host; symbol inferred",
    ),
    _e(
        0x800706BA,
        "RPC_S_SERVER_UNAVAILABLE",
        "The RPC server is unavailable",
        "A firewall on the KMS host blocks TCP 1688, or a stale SRV record points to the wrong machine.",
        "Open TCP 1688 on the host, fix the SRV record, and check connectivity.",
        "slmgr.vbs; Troubleshoot activation error codes",
    ),
    _e(
        0x800705B4,
        "ERROR_TIMEOUT",
        "This operation returned because the timeout period expired.",
        "Activation timed out; logged with Security-SPP event 8196 (community).",
        "Check connectivity to the KMS host and activate again; read events 12288 and 12289 (inferred).",
        "winerror.h; community; inferred",
    ),
    _e(
        0xC0020017,
        "RPC_NT_SERVER_UNAVAILABLE",
        "The RPC server is unavailable.",
        "The KMS host could not be contacted; logged in Security-SPP event 8198.",
        "Follow Microsoft's article on event 8198 with 0xC0020017 / 0x8007139F (KMS contact failure): "
        f"{_SUP}/activation-event-8198-error-0xc0020017-0x8007139f-kms-contact-failure",
        "Event 8198: KMS contact failure; winerror.h",
    ),
    _e(
        0x8007139F,
        "ERROR_INVALID_STATE",
        "The group or resource is not in the correct state to perform the requested operation.",
        "The KMS host could not be contacted; logged in Security-SPP event 8198.",
        "Follow Microsoft's article on event 8198 with 0xC0020017 / 0x8007139F (KMS contact failure): "
        f"{_SUP}/activation-event-8198-error-0xc0020017-0x8007139f-kms-contact-failure",
        "Event 8198: KMS contact failure; winerror.h",
    ),
    # --- Token-based activation (slmgr message table) -------------------------------------------
    _e(
        0xC004F304,
        "SL_E_TKA_GRANT_NOT_FOUND",
        "The Software Licensing Service reported that required license could not be found.",
        "Token-based activation: no issuance license that grants this product is installed (inferred).",
        _TKA_FIX,
        "slmgr.vbs; slerror.h; inferred",
    ),
    _e(
        0xC004F305,
        "SL_E_TKA_CERT_NOT_FOUND",
        "The Software Licensing Service reported that there are no certificates found in the system that could "
        "activate the product.",
        "Token-based activation: no certificate on the machine can activate the product (inferred).",
        _TKA_FIX,
        "slmgr.vbs; slerror.h; inferred",
    ),
    _e(
        0xC004F30A,
        "SL_E_TKA_INVALID_CERTIFICATE",
        "The Software Licensing Service reported that the computer could not be activated. The certificate does "
        "not match the conditions in the license.",
        "Token-based activation: the certificate does not meet the issuance license's conditions (inferred).",
        _TKA_FIX,
        "slmgr.vbs; slerror.h; inferred",
    ),
    _e(
        0xC004F30D,
        "SL_E_TKA_INVALID_THUMBPRINT",
        "The Software Licensing Service reported that the computer could not be activated. The thumbprint is invalid.",
        "Token-based activation: the certificate thumbprint given is malformed (inferred).",
        _TKA_FIX,
        "slmgr.vbs; slerror.h; inferred",
    ),
    _e(
        0xC004F30E,
        "SL_E_TKA_THUMBPRINT_CERT_NOT_FOUND",
        "The Software Licensing Service reported that the computer could not be activated. A certificate for the "
        "thumbprint could not be found.",
        "Token-based activation: no installed certificate has this thumbprint (inferred).",
        _TKA_FIX,
        "slmgr.vbs; slerror.h; inferred",
    ),
    _e(
        0xC004F30F,
        "SL_E_TKA_CRITERIA_MISMATCH",
        "The Software Licensing Service reported that the computer could not be activated. The certificate does "
        "not match the criteria specified in the issuance license.",
        "Token-based activation: the certificate does not match the issuance license's criteria (inferred).",
        _TKA_FIX,
        "slmgr.vbs; slerror.h; inferred",
    ),
    _e(
        0xC004F310,
        "SL_E_TKA_TPID_MISMATCH",
        "The Software Licensing Service reported that the computer could not be activated. The certificate does "
        "not match the trust point identifier (TPID) specified in the issuance license.",
        "Token-based activation: the certificate chains to another trust point than the issuance license names "
        "(inferred).",
        _TKA_FIX,
        "slmgr.vbs; slerror.h; inferred",
    ),
    _e(
        0xC004F311,
        "SL_E_TKA_SOFT_CERT_DISALLOWED",
        "The Software Licensing Service reported that the computer could not be activated. A soft token cannot be "
        "used for activation.",
        "Token-based activation: the license requires a hardware token (smart card), not a software certificate "
        "(inferred).",
        _TKA_FIX,
        "slmgr.vbs; slerror.h; inferred",
    ),
    _e(
        0xC004F312,
        "SL_E_TKA_SOFT_CERT_INVALID",
        "The Software Licensing Service reported that the computer could not be activated. The certificate cannot "
        "be used because its private key is exportable.",
        "Token-based activation: the certificate's private key is marked exportable (inferred from the message).",
        _TKA_FIX,
        "slmgr.vbs; slerror.h; inferred",
    ),
    # --- Success ----------------------------------------------------------------------------------
    _e(
        0x00000000,
        "S_OK",
        "The operation completed successfully.",
        "No error (KMS events 12288/12289 carry 0x0 when the request succeeded).",
        "Nothing to do.",
        "winerror.h; Volume Activation 2.0 Operations Guide",
    ),
)

# Codes printed under another value than the header defines: the header value explains the same way.
ALIASES: Final[dict[int, int]] = {0x4004F065: 0xC004F065}

# Errors worth another Activate after a delay. Everything else (bad key, DNS records missing, wrong host
# group, access denied, ...) needs a change first.
_RETRY_REASONS: Final[dict[int, str]] = {
    0xC004F074: "no KMS host could be contacted",
    0xC004F039: "the KMS host did not respond",
    0xC004F038: "the KMS count is below the threshold; it grows as other machines request activation",
    0xC004F075: "the Software Protection service is stopping",
    0x800706BA: "the RPC server (KMS host) is unavailable",
    0x800705B4: "the operation timed out",
}
ERRORS: Final[tuple[ErrorInfo, ...]] = tuple(
    dataclasses.replace(entry, retry_reason=_RETRY_REASONS.get(entry.hresult)) for entry in _TABLE
)
_BY_CODE: Final[dict[int, ErrorInfo]] = {entry.hresult: entry for entry in ERRORS}

# slerror.h zones of the SL facility (FACILITY_SL_ITF, 0xC004xxxx / 0x8004xxxx), by bits 12-15.
_SL_ZONES: Final[dict[int, str]] = {
    0xA000: "a Software Licensing error of the LM server zone",
    0xB000: "a Software Licensing error reported by the activation server",
    0xC000: "a Software Licensing error reported by the clearing house (activation server)",
    0xD000: "a Software Licensing error of the security processor (SP) zone",
    0xE000: "an internal error of the Software Licensing service",
    0xF000: "a Software Licensing client API error",
}

SLUI_ADVICE: Final = (
    "On a computer running Microsoft Windows non-core edition, run 'slui.exe 0x2a {code}' to display the error text."
)


def explain(hresult: int) -> ErrorInfo:
    """What an HRESULT means. Signed values (as COM reports them) are accepted.

    A bare Win32 code (below 0x10000) that is not in the table is looked up as HRESULT_FROM_WIN32.
    Codes missing from the table get a generic entry with the slui advice of slmgr.vbs.
    """
    if isinstance(hresult, bool) or not isinstance(hresult, int):
        raise TypeError(f"hresult must be an int, not {type(hresult).__name__}")
    if not -0x80000000 <= hresult <= 0xFFFFFFFF:
        raise ValueError(f"hresult {hresult} is not a 32-bit value")
    code = hresult & 0xFFFFFFFF
    canonical = ALIASES.get(code, code)
    if canonical not in _BY_CODE and 0 < code <= 0xFFFF:
        canonical = 0x80070000 | code
    entry = _BY_CODE.get(canonical)
    if entry is not None:
        return entry if entry.hresult == code else dataclasses.replace(entry, hresult=code)
    return _unknown(code)


def _unknown(code: int) -> ErrorInfo:
    text = hresult_hex(code)
    facility = (code >> 16) & 0x1FFF
    if facility == 0x4 and code & 0x80000000:
        kind = _SL_ZONES.get(code & 0xF000, "a Software Licensing error")
    elif facility == 0x7:
        kind = f"Win32 error {code & 0xFFFF} wrapped as an HRESULT (HRESULT_FROM_WIN32)"
    else:
        kind = "an error"
    return ErrorInfo(
        hresult=code,
        symbol=None,
        message=f"Unknown error {text}.",
        cause=f"{text} is {kind}; it is not in the winact.kms error table (docs/error-codes.md).",
        fix=SLUI_ADVICE.format(code=text),
        source="slmgr.vbs",
        known=False,
    )


# Status flags of KMS client events 12288 / 12289 (docs/reference/kms.md#kms-events; Microsoft's Volume
# Activation 2.0 Operations Guide). OTHER_PC is a warning (set for the OEM SLIC check); the others are errors.
STATUS_FLAGS: Final[dict[int, str]] = {
    0x00000008: "SL_VL_BINDING_STATUS_OTHER_PC",
    0x01000000: "SL_VL_BINDING_ERROR_NO_BINDING_SERVER_REGISTRATION",
    0x02000000: "SL_VL_BINDING_ERROR_INVALID_REGISTRATION_DATA_TYPE",
    0x04000000: "SL_VL_BINDING_ERROR_NOT_ENOUGH_COUNT",
    0x08000000: "SL_VL_BINDING_ERROR_NOT_WINDOWS_SLP",
}


def decode_status_flags(flags: int) -> list[str]:
    """Names of the bits set in an event 12288/12289 status field, lowest bit first.

    Bits without a documented name are reported as their hex value, e.g. '0x00000010'.
    """
    if isinstance(flags, bool) or not isinstance(flags, int):
        raise TypeError(f"flags must be an int, not {type(flags).__name__}")
    value = flags & 0xFFFFFFFF
    names: list[str] = []
    for bit in range(32):
        mask = 1 << bit
        if value & mask:
            names.append(STATUS_FLAGS.get(mask, hresult_hex(mask)))
    return names


# SoftwareLicensingProduct.LicenseStatus (docs/reference/spp-wmi.md#licensestatus; Microsoft's
# SoftwareLicensingProduct class).
LICENSE_STATUS_NAMES: Final[dict[int, str]] = {
    0: "Unlicensed",
    1: "Licensed",
    2: "OOBGrace",
    3: "OOTGrace",
    4: "NonGenuineGrace",
    5: "Notification",
    6: "ExtendedGrace",
}
