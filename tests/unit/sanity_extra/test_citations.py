# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Citations anyone can follow: no text cites a file outside the repository.

Code, docs, roles and playbooks cite public sources (document titles, URLs) or files of this
repository (docs/reference/*.md, tools/data/gvlk.yaml, ...). Not allowed: the project's internal
research notes (spp-facts, windows-builds.md or wsman.md outside docs/reference/, wsman-samples,
seeds/, notes/, emulator-api, ../shared), their source tags (S-PLAN, S-DNSDOC, S-SUP/...) and their
bare section numbers (§3.7). A "§" right after a public specification's name (MS-WSMV §4.1.4,
RFC 2782 §1) is fine.

Links into the repository's Markdown files with an anchor (docs/reference/kms.md#kms-events) must
point to a heading that exists.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SCAN_ROOTS = ("plugins", "docs", "roles", "playbooks", "README.md", "tests/emulator")
REFERENCE_DIR = Path("docs") / "reference"

# Recorded responses and other copied test data are quoted verbatim, not written by us: not scanned.
RECORDING_SUFFIXES = frozenset({".xml"})
RECORDING_DIRS = frozenset({"fixtures", "recordings", "responses"})
SKIPPED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})

# (rule, pattern): a match is a finding wherever it occurs.
FORBIDDEN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("internal notes file", re.compile(r"spp-facts")),
    ("internal notes file", re.compile(r"wsman-samples")),
    ("internal notes file", re.compile(r"(?<![\w.-])seeds/")),
    ("internal notes file", re.compile(r"(?<![\w.-])notes/")),
    ("internal notes file", re.compile(r"emulator-api")),
    ("file outside the repository", re.compile(r"\.\./shared|(?<![\w-])shared/reference\b")),
    ("source tag of the internal notes", re.compile(r"\bS-[A-Z]{2,}")),
)
# Notes files whose names docs/reference/ reuses: allowed only as a path to that page.
REFERENCE_PAGE_NAMES = frozenset({"windows-builds.md", "wsman.md"})
_PATH_TOKEN = re.compile(r"(?<![\w./-])[\w./-]*(?:windows-builds|wsman)\.md")
_LINK_TARGET = re.compile(r"`?\]\(([^)#\s]+)")  # after the text of a Markdown link: [text](target)
_SECTION_SIGN = re.compile(r"§")
# The spec's name may be bracketed, as Microsoft's Open Specifications write it: [MS-WSMV] §3.1.4.1.26.
_PUBLIC_SPEC_BEFORE = re.compile(r"(?:\bMS-[A-Z0-9]+|\bRFC ?\d+|\bDSP\d+)\]?\s*$")
_MD_LINK = re.compile(r"(?<![\w./-])([\w./-]*\.md)#([\w-]+)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclasses.dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    rule: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.text}"


def scanned_files(repo: Path, roots: Iterable[str]) -> Iterator[Path]:
    """Text files under the roots, without recordings, caches and binary files."""
    for name in roots:
        root = repo / name
        candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in candidates:
            parts = set(path.relative_to(repo).parts[:-1])
            if parts & (RECORDING_DIRS | SKIPPED_DIRS) or path.suffix in RECORDING_SUFFIXES:
                continue
            if path.suffix in {".pyc", ".png", ".jpg", ".gz", ".zip"}:
                continue
            yield path


def _read_lines(path: Path) -> list[str] | None:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return None


def _resolves_into_repo(repo: Path, source: Path, token: str) -> Path | None:
    """The repository file a path token names, relative to the citing file or to the repository root."""
    for base in (source.parent, repo):
        candidate = Path(os.path.normpath(base / token))
        if candidate.is_file() and candidate.is_relative_to(repo):
            return candidate
    return None


def _is_reference_page(repo: Path, source: Path, token: str) -> bool:
    target = _resolves_into_repo(repo, source, token)
    return target is not None and target.parent == repo / REFERENCE_DIR and target.name in REFERENCE_PAGE_NAMES


def _section_signs(line: str) -> Iterator[int]:
    for match in _SECTION_SIGN.finditer(line):
        if not _PUBLIC_SPEC_BEFORE.search(line[max(0, match.start() - 40) : match.start()]):
            yield match.start()


def line_findings(repo: Path, path: Path, number: int, line: str) -> list[Finding]:
    """At most one finding per line, naming every rule the line breaks."""
    rules: set[str] = set()
    for rule, pattern in FORBIDDEN:
        if pattern.search(line):
            rules.add(rule)
    for match in _PATH_TOKEN.finditer(line):
        token = match.group()
        link = _LINK_TARGET.match(line, match.end())
        if link:  # the text of a Markdown link: what counts is where it points
            token = link.group(1)
        if token.startswith(("//", "http://", "https://")):  # a URL: a public source whatever its file name
            continue
        if Path(match.group()).name in REFERENCE_PAGE_NAMES and not _is_reference_page(repo, path, token):
            rules.add("internal notes file (not docs/reference/)")
    if next(_section_signs(line), None) is not None:
        rules.add("section number of the internal notes")
    if not rules:
        return []
    text = line.strip()
    text = text if len(text) <= 110 else text[:107] + "..."
    return [Finding(path.relative_to(repo).as_posix(), number, "; ".join(sorted(rules)), text)]


def find_citations(repo: Path, roots: Iterable[str]) -> list[Finding]:
    findings: list[Finding] = []
    for path in scanned_files(repo, roots):
        lines = _read_lines(path)
        for number, line in enumerate(lines or (), start=1):
            findings.extend(line_findings(repo, path, number, line))
    return sorted(findings)


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown page (code blocks excluded)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    in_code = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        match = None if in_code else _HEADING.match(line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(2).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def broken_links(repo: Path, roots: Iterable[str]) -> list[Finding]:
    """Links `page.md#anchor` to a Markdown file of the repository whose anchor does not exist."""
    findings: list[Finding] = []
    cache: dict[Path, set[str]] = {}
    for path in scanned_files(repo, roots):
        for number, line in enumerate(_read_lines(path) or (), start=1):
            for match in _MD_LINK.finditer(line):
                target = _resolves_into_repo(repo, path, match.group(1))
                if target is None:
                    continue
                if target not in cache:
                    cache[target] = github_anchors(target.read_text(encoding="utf-8"))
                if match.group(2) not in cache[target]:
                    rel = path.relative_to(repo).as_posix()
                    findings.append(Finding(rel, number, "no such heading", match.group()))
    return sorted(findings)


def _report(findings: list[Finding]) -> str:
    return f"{len(findings)} citation(s) nobody outside the project can follow:\n" + "\n".join(map(str, findings))


# --- the repository --------------------------------------------------------------------------------


@pytest.mark.parametrize("root", SCAN_ROOTS)
def test_citations_are_public_sources_or_repository_files(root: str) -> None:
    findings = find_citations(REPO_ROOT, [root])
    assert not findings, _report(findings)


def test_links_to_repository_pages_have_their_anchors() -> None:
    findings = broken_links(REPO_ROOT, SCAN_ROOTS)
    assert not findings, "\n".join(map(str, findings))


def test_reference_pages_exist() -> None:
    pages = {p.name for p in (REPO_ROOT / REFERENCE_DIR).glob("*.md")}
    assert {"README.md", "registry.md", "spp-wmi.md", "kms.md"} | REFERENCE_PAGE_NAMES <= pages


# --- the checks themselves: they must catch drift, not just pass ---------------------------------


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / REFERENCE_DIR).mkdir(parents=True, exist_ok=True)
    for page in REFERENCE_PAGE_NAMES:
        (tmp_path / REFERENCE_DIR / page).write_text("# Page\n\n## Build numbers\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("# DNS SRV records (spp-facts §5).", "internal notes file"),
        ("# see spp-facts.md open items", "internal notes file"),
        ("Builds: ``windows-builds.md``.", "internal notes file (not docs/reference/)"),
        ("# (wsman.md B5)", "internal notes file (not docs/reference/)"),
        ("# ../reference/wsman.md does not exist here", "internal notes file (not docs/reference/)"),
        ("recordings in ``shared/reference/wsman-samples/``", "internal notes file"),
        ("# Windows 7 VA technical reference (seeds/004)", "internal notes file"),
        ("the format is in notes/emulator-api.md", "internal notes file"),
        ("see ../shared/reference/", "file outside the repository"),
        ('fix="Follow the KMS DNS procedures (S-DNSDOC)."', "source tag of the internal notes"),
        ("source: S-SUP/error-0xc004f074-activate-windows", "source tag of the internal notes"),
        ("# slmgr gives no restart warning (§3.9)", "section number of the internal notes"),
    ],
)
def test_each_kind_of_private_citation_is_found(tmp_path: Path, text: str, rule: str) -> None:
    repo = _repo(tmp_path, {"plugins/x.py": f"# header\n{text}\n"})
    findings = find_citations(repo, ["plugins"])
    assert [(f.path, f.line) for f in findings] == [("plugins/x.py", 2)]
    assert rule in findings[0].rule.split("; "), findings
    assert "plugins/x.py:2: " in _report(findings)


@pytest.mark.parametrize(
    "text",
    [
        "# Builds per release: docs/reference/windows-builds.md#build-numbers",
        "See [wsman.md](../docs/reference/wsman.md) for the fault shapes.",
        "See [`windows-builds.md`](../docs/reference/windows-builds.md#build-numbers).",
        "# MS-WSMV §3.1.4.1.26: a null array is sent once",
        "# a null array is sent once ([MS-WSMV] §3.1.4.1.26)",
        "# DNS SRV priority and weight (RFC 2782 §1)",
        "Microsoft's KMS and DNS troubleshooting: https://learn.microsoft.com/windows-server/get-started/"
        "common-troubleshooting-procedures-kms-dns",
        "See the release-notes/ folder of the vendor; CCCCC-SSSSS-VVVVV-22222-55555 is a fake key; MS-WSMV.",
        "plugins/plugin_utils/_wsman.py builds envelopes; tools/data/gvlk.yaml has the keys.",
    ],
)
def test_public_sources_and_repository_files_are_allowed(tmp_path: Path, text: str) -> None:
    repo = _repo(tmp_path, {"plugins/x.py": text + "\n"})
    assert find_citations(repo, ["plugins"]) == []


def test_reference_page_names_are_fine_inside_docs_reference(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            "docs/reference/README.md": "[builds](windows-builds.md) and [WS-Man](wsman.md#faults)\n",
            "docs/usage.md": "[builds](reference/windows-builds.md)\n",
            "docs/other.md": "[builds](windows-builds.md)\n",  # docs/windows-builds.md does not exist
            "docs/more.md": "[windows-builds.md](https://example.com/windows-builds.md)\n",
        },
    )
    assert [(f.path, f.line) for f in find_citations(repo, ["docs"])] == [("docs/other.md", 1)]


def test_recordings_and_binary_files_are_not_scanned(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            "tests/emulator/fixtures/recorded.txt": "S-PLAN\n",
            "tests/emulator/response.xml": "<x>spp-facts</x>\n",
            "tests/emulator/code.py": "# spp-facts §4\n",
        },
    )
    (repo / "tests/emulator/blob.bin").write_bytes(b"\xff\xfe spp-facts")
    assert {f.path for f in find_citations(repo, ["tests/emulator"])} == {"tests/emulator/code.py"}


def test_github_anchors() -> None:
    page = "# Title\n\n## slmgr.vbs options and their WMI calls\n```\n# not a heading\n```\n## Faults\n## Faults\n"
    assert github_anchors(page) == {"title", "slmgrvbs-options-and-their-wmi-calls", "faults", "faults-1"}


def test_broken_anchors_are_found(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            "plugins/x.py": "# docs/reference/windows-builds.md#build-numbers\n# docs/reference/wsman.md#nowhere\n",
            "docs/usage.md": "[x](reference/wsman.md#page) [y](https://example.com/a.md#b)\n",
        },
    )
    assert [(f.path, f.line, f.text) for f in broken_links(repo, ["plugins", "docs"])] == [
        ("plugins/x.py", 2, "docs/reference/wsman.md#nowhere"),
    ]
