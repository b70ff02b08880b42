"""Who may use which WinRM resource: the default security descriptors of Windows Server 2012 and later.

- The service's ``RootSDDL`` ``O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)…`` grants BUILTIN\\Administrators all
  rights and INTERACTIVE read ("Update RootSDDL default configuration for WinRM", MicrosoftDocs/win32 pull
  request #2194). A network logon is never INTERACTIVE, so over WinRM only Administrators pass it. It guards
  every resource whose plug-in has no SDDL of its own: WinRS (``cmd``) and ``winrm/config``.
- The ``Microsoft.PowerShell`` session configuration on Windows 8 / 2012 and later grants Administrators and
  BUILTIN\\Remote Management Users (``remoteSDDL_Win8`` in PowerShell's ``CustomShellCommands.cs``).
- The WMI plug-in lets Remote Management Users through, but WMI namespaces grant the Remote Enable right to
  Administrators only ("Namespace Access Rights Constants",
  https://learn.microsoft.com/windows/win32/wmisdk/namespace-access-rights-constants), so by default a
  non-administrator reaches no WMI class remotely.

Each denial is WinRM's access-denied fault, on every request, not only when a shell is opened.
"""

from __future__ import annotations

import typing as t

ADMINISTRATORS = "Administrators"
REMOTE_MANAGEMENT_USERS = "Remote Management Users"
KNOWN_GROUPS = (ADMINISTRATORS, REMOTE_MANAGEMENT_USERS)
POWERSHELL_URI_PREFIX = "http://schemas.microsoft.com/powershell/"


def groups_of(admin: bool, extra: t.Iterable[str] = ()) -> frozenset[str]:
    """The local groups of an account: Administrators when ``admin``, plus the fleet file's ``groups``."""
    return frozenset(({ADMINISTRATORS} if admin else set()) | set(extra))


def may_access(resource_uri: str, groups: t.AbstractSet[str]) -> bool:
    """Whether the account's groups pass the security descriptor guarding ``resource_uri``."""
    if ADMINISTRATORS in groups:
        return True
    if resource_uri.lower().startswith(POWERSHELL_URI_PREFIX):
        return REMOTE_MANAGEMENT_USERS in groups
    # Assumption: a Remote Management Users member is refused WMI with the same WinRM access-denied fault as
    # anyone else (the namespace's missing Remote Enable right; no recording of that denial is available).
    return False
