"""Open every page of the built site in headless Chromium (Debian's, driven by Playwright).

Fails on JavaScript errors, formulas MathJax did not typeset, broken images and broken internal
links; searches for Chinese terms.  Saves a screenshot of every page at 1280 px under
``_build/screenshots/pages/`` (the top of each page; ``LSTM_COURSE_SCREENSHOTS=full`` saves whole
pages, for reading the site as a learner would) and full-page shots of the home page and a chapter.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SEARCHES = {  # term -> a page that must be among the results
    "循环神经网络": "book/intro.html",
    "遗忘门": "book/ch03_lstm/01_gates.html",
    "门控循环单元": "book/ch05_gru/index.html",
}
_LEFT_MATH = re.compile(r"(?<![\\\w$])\$[^$\s][^$]*\$(?!\w)")


@pytest.fixture(scope="module")
def site_url(built_site):
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Debian's chromium is needed: apt-get install chromium (scripts/setup.sh --browser)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def _pages(site: Path) -> list[str]:
    skip = {"genindex.html", "search.html", "index.html"}  # the site's root index.html only redirects
    return sorted(
        rel
        for p in site.rglob("*.html")
        if not {"_static", "_sources", "_modules"} & set(p.parts) and (rel := str(p.relative_to(site))) not in skip
    )


def _wait_for_mathjax(page) -> None:
    """Wait until MathJax (if the page has math) has typeset everything."""
    page.evaluate("""async () => {
      if (!document.querySelector('.math')) return;
      for (let i = 0; i < 150 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
        await new Promise(r => setTimeout(r, 100));
      if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
    }""")


PAGE_CHECK = """() => {
  const article = document.querySelector('article') || document.body;
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(e => e.remove());
  const images = [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);
  const math = document.querySelectorAll('.math, div.math, span.math').length;
  const typeset = document.querySelectorAll('mjx-container').length;
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href)
      .filter(h => h.startsWith(location.origin));
  const cut = [...document.querySelectorAll('div.cell_input pre, div.cell_input .highlight pre')]
      .filter(p => p.scrollWidth > p.clientWidth + 1)
      .map(p => p.innerText.split('\\n').find(l => l.length > 0) || '');
  const colab = (document.body.innerText || '').includes('Colab setup');
  return {text: clone.innerText, images, math, typeset, links, cut, colab};
}"""
#: The width at which the site is read (issue 14): code must fit, nothing scrolls sideways.
VIEWPORT = {"width": 1280, "height": 900}


def test_every_page_renders_cleanly(browser, site_url, built_site):
    problems: list[str] = []
    links: set[str] = set()
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_navigation_timeout(180_000)
    page.set_default_timeout(120_000)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    pages = _pages(built_site)
    assert pages, "no pages found"
    shots = built_site.parent / "screenshots" / "pages"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    whole_pages = os.environ.get("LSTM_COURSE_SCREENSHOTS") == "full"
    for rel in pages:
        console.clear()
        page.goto(f"{site_url}/{rel}", wait_until="load")
        _wait_for_mathjax(page)
        page.screenshot(path=str(shots / (rel.replace("/", "__") + ".png")), full_page=whole_pages)
        info = page.evaluate(PAGE_CHECK)
        if console:
            problems.append(f"{rel}: JavaScript errors: {console[:3]}")
        if info["images"]:
            problems.append(f"{rel}: broken images: {info['images'][:3]}")
        if info["math"] and info["typeset"] < info["math"]:
            problems.append(f"{rel}: {info['math'] - info['typeset']} formulas not typeset by MathJax")
        if info["cut"]:
            problems.append(
                f"{rel}: {len(info['cut'])} code cells wider than the column at "
                f"{VIEWPORT['width']} px, e.g. {info['cut'][0][:60]!r}"
            )
        if info["colab"]:
            problems.append(f"{rel}: the Colab setup cell is shown on the site")
        left = _LEFT_MATH.findall(info["text"])
        if left:
            problems.append(f"{rel}: unrendered math in text: {left[:3]}")
        links.update(link.split("#")[0] for link in info["links"])
    for link in sorted(links):
        response = page.request.get(link)
        if not response.ok:
            problems.append(f"broken internal link {link}: HTTP {response.status}")
    page.close()
    assert len(list(shots.glob("*.png"))) == len(pages), "a page has no screenshot"
    assert not problems, "\n".join(problems)


def test_screenshots_show_home_and_a_chapter(browser, site_url, built_site):
    out = built_site.parent / "screenshots"
    out.mkdir(exist_ok=True)
    chapter = next(
        (p for p in _pages(built_site) if "/ch0" in f"/{p}" and p.endswith(".html")), "book/preface/data_tour.html"
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    for name, rel in (("home", "book/intro.html"), ("chapter", chapter)):
        page.goto(f"{site_url}/{rel}", wait_until="load")
        _wait_for_mathjax(page)
        page.screenshot(path=str(out / f"{name}.png"), full_page=True)
        assert (out / f"{name}.png").stat().st_size > 20_000
    page.close()


@pytest.mark.parametrize("term,expected", sorted(SEARCHES.items()))
def test_chinese_search_finds_the_page(browser, site_url, term, expected):
    page = browser.new_page()
    page.goto(f"{site_url}/search.html?q={term}", wait_until="load")
    page.wait_for_selector("#search-results li, #search-results p", timeout=20000)
    page.wait_for_function(
        "() => !document.querySelector('#search-progress')"
        " || document.querySelector('#search-progress').innerText !== ''",
        timeout=20000,
    )
    hrefs = page.eval_on_selector_all("#search-results a", "els => els.map(e => e.getAttribute('href'))")
    page.close()
    assert any(expected in (h or "") for h in hrefs), f"searching {term!r} gave {hrefs}"
