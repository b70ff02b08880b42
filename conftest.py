# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make a plain ``pytest`` run from a checkout see this tree as the ``winact.kms`` collection.

Tests import ``ansible_collections.winact.kms...`` and run ``ansible-playbook`` with ``winact.kms.*`` modules,
so the checkout must sit at ``<path>/ansible_collections/winact/kms``. This links it there under ``build/``
(as ``make collection-link`` does), puts ``build/collections`` first on ``sys.path`` and first in
``ANSIBLE_COLLECTIONS_PATH`` for the subprocesses the tests start.

A tree that already sits at ``ansible_collections/winact/kms`` (``ansible-test units``, an installed copy, a clone
made there) needs no link: its own collections root is used. ansible-test sets ``ANSIBLE_COLLECTIONS_PATH`` to that
single directory and its pytest workers resolve every test file against it, so it must stay exactly that.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
COLLECTIONS_ROOT = REPO_ROOT / "build" / "collections"
COLLECTION_LINK = COLLECTIONS_ROOT / "ansible_collections" / "winact" / "kms"
# Relative, so the link stays right when the checkout moves.
LINK_TARGET = os.path.join(os.pardir, os.pardir, os.pardir, os.pardir)


def ensure_collection_link() -> None:
    """Create ``build/collections/ansible_collections/winact/kms`` pointing at this checkout."""
    if COLLECTION_LINK.resolve() == REPO_ROOT:
        return
    if COLLECTION_LINK.exists() and not COLLECTION_LINK.is_symlink():
        raise RuntimeError(f"{COLLECTION_LINK} exists and is not a symlink to {REPO_ROOT}; remove it")
    COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
    # Several pytest processes (xdist workers) may get here at once: create under a private name, then
    # rename over the old link atomically.
    temporary = COLLECTION_LINK.with_name(f".kms.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(LINK_TARGET, target_is_directory=True)
    temporary.replace(COLLECTION_LINK)


def prepend_path_entry(value: str | None, entry: str) -> str:
    """``entry`` first in the ``os.pathsep``-separated ``value``, without duplicating it."""
    others = [item for item in (value or "").split(os.pathsep) if item and item != entry]
    return os.pathsep.join([entry, *others])


def in_collection_tree(path: Path) -> bool:
    """True when ``path`` already is ``.../ansible_collections/winact/kms``."""
    return list(path.parts[-3:]) == ["ansible_collections", "winact", "kms"]


if in_collection_tree(REPO_ROOT):
    collections_root = REPO_ROOT.parents[2]
else:
    ensure_collection_link()
    collections_root = COLLECTIONS_ROOT
if str(collections_root) not in sys.path:
    sys.path.insert(0, str(collections_root))
os.environ["ANSIBLE_COLLECTIONS_PATH"] = prepend_path_entry(
    os.environ.get("ANSIBLE_COLLECTIONS_PATH"), str(collections_root)
)
