"""Every notebook of the book executed without error — in the book build, the only execution.

``make test`` runs each notebook once: the book build executes it (jupyter-cache records a
notebook only when it ran without error), and these tests report the outcome per notebook with
the failing cell from the build's report.  ``make notebooks`` still runs them through nbval.
"""

from __future__ import annotations

import pytest
from conftest import EXECUTION_CACHE, SITE
from notebook_tools import ROOT, toc_notebooks

pytestmark = pytest.mark.slow

BUILT_NOTEBOOKS = toc_notebooks()


def _report(path) -> str:
    docname = path.relative_to(ROOT).with_suffix("").as_posix()
    log = SITE / "reports" / f"{docname}.err.log"
    if log.is_file():
        return log.read_text(encoding="utf-8", errors="replace")[-6000:]
    return "(no report written; see test_book_builds_without_warnings for the build's output)"


@pytest.mark.parametrize("path", BUILT_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_executed_without_error(built_site, path):
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(EXECUTION_CACHE)
    try:
        cache.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        pytest.fail(f"{path.relative_to(ROOT)} did not execute cleanly in the book build:\n" + _report(path))


def test_every_built_notebook_is_checked():
    in_book = {p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts}
    assert set(BUILT_NOTEBOOKS) == in_book, sorted(map(str, in_book ^ set(BUILT_NOTEBOOKS)))
