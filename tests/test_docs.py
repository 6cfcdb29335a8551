"""The docs hold together: every relative link resolves, and the README stays a short door."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 200

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def doc_files(root: Path = ROOT) -> list[Path]:
    """README.md, docs/**/*.md, and the READMEs published with the pack and the agent image."""
    files = [
        root / "README.md",
        root / "policies" / "README.md",
        root / "agent_image" / "README.md",
    ]
    files += sorted((root / "docs").rglob("*.md"))
    return [f for f in files if f.is_file()]


def links(text: str) -> Iterator[str]:
    """The link targets of a Markdown text, outside code blocks and inline code."""
    prose = INLINE_CODE.sub("", FENCE.sub("", text))
    for pattern in (INLINE_LINK, REFERENCE_LINK):
        for match in pattern.finditer(prose):
            yield match.group(1)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; an
    underscore within a word (``build_zip``) is text and stays, one around it is emphasis."""
    text = re.sub(r"[`*]|(?<!\w)_+|_+(?!\w)|\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def broken_links(files: list[Path], root: Path = ROOT) -> list[str]:
    """Every relative link that does not name an existing file (or carries an anchor)."""
    problems = []
    for doc in files:
        text = doc.read_text(encoding="utf-8")
        where = doc.relative_to(root)
        anchors = {slug(h) for h in HEADING.findall(FENCE.sub("", text))}
        for target in links(text):
            if EXTERNAL.match(target):
                continue
            if target.startswith("#"):  # within the page: the heading must exist
                if target[1:] not in anchors:
                    problems.append(f"{where}: {target}: no such heading in this file")
                continue
            if "#" in target:
                problems.append(f"{where}: {target}: link to the file, without an anchor")
                continue
            resolved = (doc.parent / target).resolve()
            if not resolved.exists():
                problems.append(f"{where}: {target}: no such file")
            elif not resolved.is_relative_to(root):
                problems.append(f"{where}: {target}: outside the repository")
    return problems


def test_every_relative_link_in_the_docs_points_at_an_existing_file():
    files = doc_files()
    assert len(files) >= 5, files
    assert broken_links(files) == []


def test_readme_is_a_door_of_at_most_200_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail to docs/"


def test_the_link_check_sees_a_broken_link_an_anchor_and_a_missing_heading(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "there.md").write_text("# There\n", encoding="utf-8")
    (tmp_path / "README.md").write_text(
        "[ok](docs/there.md) [gone](docs/gone.md) [anchored](docs/there.md#there)\n"
        "[web](https://example.com) [self](#a-title) [nope](#no-title)\n\n# A title\n\n"
        "```\n[in code](docs/also-gone.md)\n```\n`[inline](docs/also-gone.md)`\n",
        encoding="utf-8",
    )
    problems = broken_links(doc_files(tmp_path), tmp_path)
    assert problems == [
        "README.md: docs/gone.md: no such file",
        "README.md: docs/there.md#there: link to the file, without an anchor",
        "README.md: #no-title: no such heading in this file",
    ]


def test_the_anchor_keeps_an_underscore_within_a_word_and_drops_emphasis():
    assert slug("build_zip") == "build_zip"
    assert slug("va_platform.packaging") == "va_platformpackaging"
    assert slug("_Emphasis_ and `code`") == "emphasis-and-code"
