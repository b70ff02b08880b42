# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Provide ansible-test's pip bootstrap script offline.

``ansible-test sanity --requirements`` creates an empty virtualenv per test and bootstraps pip into it with
``get-pip-<version>.py``, downloaded from a host that cannot be reached here and cached as
``~/.ansible/test/cache/get_pip_<version with dots as underscores>.py``. ansible-test runs the cached file
through its quiet_pip wrapper as ``python get_pip_X_Y.py --disable-pip-version-check pip==X.Y
--no-setuptools --no-wheel`` (see ansible_test/_util/target/setup/requirements.py, ``bootstrap``).

This writes, when that file is missing, a stand-in that does the same job with what CPython ships: it runs
``ensurepip`` and then ``pip install`` with the given arguments from the configured package index. The pip
version comes from the installed ansible-test itself, so the stand-in follows ansible-core upgrades.

Usage: ``python tools/ansible_test_get_pip.py`` with the interpreter that runs ansible-test; prints the path.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

STANDIN = '''\
"""Offline stand-in for get-pip.py: ensurepip, then pip install of the requested packages."""

import subprocess
import sys

# Options of get-pip.py itself, which pip install does not know.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel", "--no-pip"}


def main():
    """Bootstrap pip into the running interpreter, then install the requested packages."""
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))


if __name__ == "__main__":
    main()
'''

MARKER = "Offline stand-in for get-pip.py"


def bootstrap_pip_version() -> str:
    """The pip version the installed ansible-test bootstraps into its sanity virtualenvs."""
    from ansible_test._internal.python_requirements import get_venv_packages

    python = types.SimpleNamespace(version=f"{sys.version_info[0]}.{sys.version_info[1]}")
    return str(get_venv_packages(python)["pip"])  # type: ignore[arg-type]


def cache_path(pip_version: str) -> Path:
    """Where ansible-test looks for the bootstrap script of ``pip_version``."""
    return Path(os.path.expanduser(f"~/.ansible/test/cache/get_pip_{pip_version.replace('.', '_')}.py"))


def main() -> int:
    """Write the stand-in unless a bootstrap script is already cached; print its path."""
    path = cache_path(bootstrap_pip_version())
    if not path.exists() or MARKER in path.read_text(encoding="utf-8"):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(STANDIN, encoding="utf-8")
        tmp.replace(path)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
