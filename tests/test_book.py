"""The course site builds with Jupyter Book 1.x, warnings as errors, and its internal links resolve."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = pytest.mark.slow

_LINK = re.compile(r'(?:href|src)="([^"]+)"')
_ID = re.compile(r'\bid="([^"]+)"')


def test_jupyter_book_is_1x():
    major = int(version("jupyter-book").split(".")[0])
    assert major == 1, "Jupyter Book 2.x ignores _config.yml/_toc.yml; this course needs 1.x"


def test_book_builds_without_warnings(book_build, built_site):
    """``-W``: a warning (a broken reference, a failed notebook, a missing glue) fails the build."""
    warnings = [
        line
        for line in book_build.output.splitlines()
        if ("WARNING" in line or "ERROR" in line) and "[IPKernelApp]" not in line
    ]
    assert book_build.returncode == 0, "jupyter-book build -W failed:\n" + "\n".join(
        warnings[:60] or [book_build.output[-8000:]]
    )


def test_site_has_index_and_every_toc_page(built_site):
    import yaml

    assert (built_site / "index.html").is_file()
    toc = yaml.safe_load((built_site.parents[1] / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files += [s["file"] for s in chapter.get("sections", []) if "file" in s]
    for name in files:
        assert (built_site / f"{name}.html").is_file(), name


def _internal_links(page: Path):
    for target in _LINK.findall(page.read_text(encoding="utf-8")):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or target.startswith(("mailto:", "javascript:", "data:")):
            continue
        yield target, parts


def test_internal_links_and_anchors_resolve(built_site):
    ids: dict[Path, set[str]] = {}
    broken = []
    for page in sorted(built_site.rglob("*.html")):
        if page.name in {"genindex.html", "search.html"} or "_static" in page.parts:
            continue
        for target, parts in _internal_links(page):
            dest = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if dest.is_dir():
                dest = dest / "index.html"
            if not dest.exists():
                broken.append(f"{page.relative_to(built_site)} -> {target}")
                continue
            if parts.fragment and dest.suffix == ".html":
                if dest not in ids:
                    ids[dest] = set(_ID.findall(dest.read_text(encoding="utf-8")))
                if unquote(parts.fragment) not in ids[dest]:
                    broken.append(f"{page.relative_to(built_site)} -> {target} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(broken[:50])


def test_mathjax_and_search_are_self_contained(built_site):
    intro = (built_site / "book" / "intro.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', intro)
    external = [s for s in scripts if urlsplit(s).scheme in {"http", "https"} or s.startswith("//")]
    assert not external, f"scripts loaded from outside the site: {external}"
    assert (built_site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    raw = (built_site / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(raw[raw.index("(") + 1 : raw.rindex(")")])
    words = set(index["terms"]) | set(index["titleterms"])
    assert "循环神经网络" in words, "the Chinese search index lacks the course's terms (is jieba installed?)"


def test_execution_times_page_lists_notebooks(built_site):
    page = (built_site / "book" / "appendix" / "execution.html").read_text(encoding="utf-8")
    assert "data_tour" in page
