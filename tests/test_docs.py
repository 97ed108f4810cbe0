"""The README stays a five-minute read, every docs/*.md page is reachable from it, and no relative link is broken.

Relative links (to files, with or without a `#fragment`) in README.md and docs/*.md must name a file of the
repository; a fragment into a Markdown file must name one of its headings (GitHub's anchors). Links inside fenced
code and inline code are not links.
"""

import pathlib
import re
from urllib.parse import unquote

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
README_MAX_LINES = 200

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code spans."""
    kept, fence = [], None
    for line in text.splitlines():
        marker = re.match(r"\s*(```|~~~)", line)
        if marker:
            if fence is None:
                fence = marker.group(1)
            elif marker.group(1) == fence:
                fence = None
            continue
        if fence is None:
            kept.append(re.sub(r"(`+).*?\1", "", line))
    return "\n".join(kept)


def relative_links(page: pathlib.Path) -> list[str]:
    return [
        target
        for target in LINK.findall(prose(page.read_text()))
        if not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target)  # http:, https:, mailto: ...
    ]


def anchors(page: pathlib.Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    result = set()
    for line in prose(page.read_text()).splitlines():
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def test_readme_is_short():
    lines = len(README.read_text().splitlines())
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; move deep sections into docs/ and link them"


def test_docs_exist():
    assert DOCS, "docs/ holds no .md page"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_docs_page_is_linked_from_the_readme(doc):
    linked = {(ROOT / unquote(target.split("#", 1)[0])).resolve() for target in relative_links(README)}
    assert doc.resolve() in linked, f"README.md does not link docs/{doc.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files_and_headings(page):
    broken = []
    for target in relative_links(page):
        path, _, fragment = target.partition("#")
        file = (page.parent / unquote(path)).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif fragment and file.suffix == ".md" and unquote(fragment).lower() not in anchors(file):
            broken.append(f"{target}: no heading with that anchor in {file.relative_to(ROOT)}")
    assert not broken, f"broken links in {page.relative_to(ROOT)}:\n" + "\n".join(broken)


def test_link_checker_sees_what_it_should(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# A title: with, punctuation\n\n## Load\n\n[a](other.md#load) [b](https://example.com) ![c](img/x.png)\n"
        "`[not](inline.md)`\n```\n[not](fenced.md)\n```\n"
    )
    assert relative_links(page) == ["other.md#load", "img/x.png"]
    assert anchors(page) == {"a-title-with-punctuation", "load"}
