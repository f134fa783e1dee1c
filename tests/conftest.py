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
    if "test_book" in path:
        return "book build (-W)"
    if "test_browser" in path:
        return "browser check"
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


@pytest.fixture(scope="session")
def built_site() -> Path:
    """Build the executed book once per session (``-W``: any warning fails) and return ``_build/html``.

    Set ``LSTM_COURSE_REUSE_SITE=1`` to test an existing build instead (development only).
    """
    import subprocess
    import sys

    if os.environ.get("LSTM_COURSE_REUSE_SITE") == "1" and (SITE / "index.html").is_file():
        return SITE
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jb), "build", str(ROOT), "-W", "-n", "--keep-going"],
                            capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        pytest.fail("jupyter-book build failed:\n" + (result.stdout + result.stderr)[-8000:])
    return SITE
