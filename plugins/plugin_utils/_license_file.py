# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""License files, as ``slmgr /ilc`` installs them: ``SoftwareLicensingService.InstallLicense`` with the XML text.

slmgr reads the file (its charset from the byte order mark: UTF-16 LE, UTF-8, else ASCII) and passes the text,
not a path; "Licenses are not validated during this process", the Software Protection service validates them
when it uses them ("Slmgr.vbs options for obtaining volume activation information",
https://learn.microsoft.com/windows-server/get-started/activation-slmgr-vbs-options; "InstallLicense method of
the SoftwareLicensingService class").

Windows has no WMI query that tells whether a given license file is installed (SoftwareLicensingProduct lists
SKUs, not the license files behind them). So the module records the SHA-256 of each license it installed under
``HKLM\\SOFTWARE\\winact.kms`` (``InstalledLicenses``, REG_MULTI_SZ) and installs a license again only when its
digest is not recorded there, or when forced. InstallLicense replaces a matching license, so a forced reinstall
is harmless.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils import _licensing as lic
from ansible_collections.winact.kms.plugins.plugin_utils._explain import explained_failure, invoke_explained
from ansible_collections.winact.kms.plugins.plugin_utils._registry import Registry, RegistryTypeMismatch, RegType
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._settings import PENDING_KEY
from ansible_collections.winact.kms.plugins.plugin_utils._spp import SERVICE_CLASS
from ansible_collections.winact.kms.plugins.plugin_utils._validate import MAX_VALUE_BYTES, ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import WSManError, WSManUnreachable

RECORD_KEY = PENDING_KEY  # the collection's own key (HKLM\SOFTWARE\winact.kms)
RECORD_VALUE = "InstalledLicenses"
# At most this many digests are kept (oldest dropped first), so the record stays one small registry value.
RECORD_LIMIT = 200


@dataclasses.dataclass(frozen=True)
class Request:
    content: str
    source: str  # "content", or the controller path it was read from
    force: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content.encode("utf-8")).hexdigest()


def decode_license_file(data: bytes, path: str) -> str:
    """The text of a license file, as slmgr /ilc reads it: UTF-16 LE or UTF-8 by its byte order mark.

    Files without one are read as UTF-8 (slmgr reads them as ASCII, a subset).
    """
    try:
        if data.startswith(codecs.BOM_UTF16_LE):
            return data[len(codecs.BOM_UTF16_LE) :].decode("utf-16-le")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "src", f"{path} is not UTF-8 or UTF-16 LE text ({exc.reason} at byte {exc.start})"
        ) from None


def build_request(params: t.Mapping[str, t.Any], read_src: t.Callable[[str], bytes] | None = None) -> Request:
    content, src = params.get("content"), params.get("src")
    if (content is None) == (src is None):
        raise ValidationError(
            "content", "give exactly one of content (the license XML) or src (a file on the controller)"
        )
    source = "content"
    if src is not None:
        if read_src is None:
            raise ValidationError("src", "cannot be read here")
        content = decode_license_file(read_src(str(src)), str(src))
        source = str(src)
    text = str(content)
    option = "content" if src is None else "src"
    if not text.strip():
        raise ValidationError(option, "is empty; a license file is XrML (XML) text")
    if not text.lstrip().startswith("<"):
        raise ValidationError(option, "is not a license document: a license file is XrML (XML) text starting with '<'")
    if len(text.encode("utf-8")) > MAX_VALUE_BYTES:
        raise ValidationError(option, f"is larger than the {MAX_VALUE_BYTES} bytes one WS-Management request can carry")
    return Request(text, source, bool(params.get("force")))


def _recorded(registry: Registry, ctx: TaskContext) -> list[str]:
    try:
        return [str(v) for v in registry.get(RECORD_KEY, RECORD_VALUE, RegType.MULTI_SZ) or []]
    except RegistryTypeMismatch as exc:
        ctx.warnings.append(f"{exc.msg}; the record of installed licenses is rewritten")
        return []


def execute(wmi: WmiClient, request: Request, ctx: TaskContext) -> dict[str, t.Any]:
    digest = request.sha256
    registry = Registry(wmi)
    try:
        recorded = _recorded(registry, ctx)
    except WSManUnreachable:
        raise
    except WSManError as exc:
        raise explained_failure(exc, "Reading the record of installed licenses") from exc
    known = digest in recorded
    result: dict[str, t.Any] = {"sha256": digest, "source": request.source, "recorded": known}
    install = request.force or not known
    result["changed"] = install
    if ctx.diff_mode:
        result["diff"] = {
            "before": {"license_sha256": digest if known else None},
            "after": {"license_sha256": digest},
        }
    if not install or ctx.check_mode:
        return result
    version = lic.read_licensing_service(wmi, ("Version",)).get("Version")
    if not version:
        raise ModuleFailure(f"{SERVICE_CLASS} has no Version, so InstallLicense cannot be called")
    invoke_explained(
        wmi,
        SERVICE_CLASS,
        "InstallLicense",
        {"License": request.content},
        selectors={"Version": str(version)},
        doing="Installing the license file (InstallLicense)",
    )
    ctx.applied.append("license")
    if not known:
        try:
            registry.set(RECORD_KEY, RECORD_VALUE, RegType.MULTI_SZ, [*recorded, digest][-RECORD_LIMIT:])
        except (WSManError, ModuleFailure) as exc:
            message = exc.message if isinstance(exc, WSManError) else exc.msg
            ctx.warnings.append(
                f"The license was installed, but recording it under HKLM\\{RECORD_KEY}\\{RECORD_VALUE} failed "
                f"({message}); the next run installs it again"
            )
    result["recorded"] = True
    return result
