# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation shared by every winact.kms module."""

from __future__ import annotations


class ModuleDocFragment:
    # Every module runs on the controller and reaches Windows through the task's WinRM or PSRP connection.
    PLATFORM = r"""
options: {}
attributes:
  platform:
    support: full
    platforms: windows
    description: Targets Windows hosts through the C(winrm) or C(psrp) connection plugins.
"""
