"""Shared pytest setup: quick profile by default, and a per-stage timing summary."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("LSTM_COURSE_PROFILE", "quick")

_stage_seconds: dict[str, float] = defaultdict(float)
_stage_counts: dict[str, int] = defaultdict(int)


def _stage(nodeid: str) -> str:
    path = nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        return "notebooks (nbval)"
    if "test_book" in path or "test_notebooks" in path:
        return "book build (-W)"
    if "test_browser" in path:
        return "browser check"
    if "test_fresh_venv" in path:
        return "fresh venvs"
    return "unit tests"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.perf_counter()
    yield
    stage = _stage(item.nodeid)
    _stage_seconds[stage] += time.perf_counter() - start
    _stage_counts[stage] += 1


def pytest_terminal_summary(terminalreporter):
    if not _stage_seconds:
        return
    terminalreporter.section("time per stage")
    for stage, seconds in _stage_seconds.items():
        terminalreporter.write_line(f"{stage:22s} {seconds:8.1f} s  ({_stage_counts[stage]} items)")


SITE = ROOT / "_build" / "html"
#: The build's jupyter-cache: every notebook that executed without error has a record here.
EXECUTION_CACHE = ROOT / "_build" / ".jupyter_cache"


class BuildResult:
    """What one ``jupyter-book build -W -n --keep-going`` printed and returned."""

    def __init__(self, returncode: int, output: str):
        self.returncode, self.output = returncode, output


@pytest.fixture(scope="session")
def book_build() -> BuildResult:
    """Build the executed book once per test session; every notebook is executed here, once.

    The execution cache is emptied first, so every notebook runs against the package as it is
    now.  A failing notebook does not stop the build (``raise_on_error: false``); it becomes a
    warning, which ``-W`` turns into a failed build, and ``tests/test_notebooks.py`` reports it
    per notebook with the failing cell.  Set ``LSTM_COURSE_REUSE_SITE=1`` to test an existing
    build instead (development only).
    """
    import shutil
    import subprocess
    import sys

    if os.environ.get("LSTM_COURSE_REUSE_SITE") == "1" and (SITE / "index.html").is_file():
        return BuildResult(0, "(reused an existing build)")
    shutil.rmtree(EXECUTION_CACHE, ignore_errors=True)
    shutil.rmtree(SITE / "reports", ignore_errors=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(ROOT), "-W", "-n", "--keep-going"], capture_output=True, text=True, cwd=ROOT
    )
    return BuildResult(result.returncode, result.stdout + result.stderr)


@pytest.fixture(scope="session")
def built_site(book_build: BuildResult) -> Path:
    """``_build/html`` of the session's book build (see :func:`book_build`)."""
    if not (SITE / "index.html").is_file():
        pytest.fail("jupyter-book build produced no site:\n" + book_build.output[-8000:])
    return SITE
