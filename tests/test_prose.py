"""The prose keeps its promises: numbers are glued from the run, code fits the site's column."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from notebook_tools import NOTEBOOKS, ROOT, cells, source
from prose_allowlist import ALLOWED

#: A decimal, a percentage, scientific notation or a power of ten: the shapes a result takes.
NUMBER = re.compile(
    r"(?<![\w.^{-])(\d+\.\d+(?:e[-+]?\d+)?|\d+(?:\.\d+)?\s*[%％]|\d+(?:\.\d+)?e[-+]?\d+"
    r"|10\s*\^\s*\{?\s*-?\d+\s*\}?)"
)
#: Parts of a markdown cell that are not prose numbers: glue roles, other roles, inline code,
#: link targets, labels and image/figure options.
NOT_PROSE = [
    re.compile(p)
    for p in (
        r"\{glue(?::\w+)?\}`[^`]*`",
        r"\{(?:cite|doc|ref|numref|eq|term|download)(?::\w+)?\}`[^`]*`",
        r"``[^`]*``",
        r"`[^`]*`",
        r"\]\([^)]*\)",
        r"https?://\S+",
        r"^:[\w-]+:.*$",
        r"^\(.*\)=$",
    )
]
CODE_COLUMNS = 79


def _chapter(path: Path) -> str:
    return path.relative_to(ROOT / "book").parts[0]


def prose_numbers(path: Path) -> list[tuple[int, str]]:
    """``(cell index, number)`` for every number of the markdown cells that is neither glued,
    in code, nor allowlisted."""
    allowed = {**ALLOWED["*"], **ALLOWED.get(_chapter(path), {})}
    found = []
    for index, cell in enumerate(cells(path)):
        if cell["cell_type"] != "markdown":
            continue
        text = source(cell)
        for pattern in NOT_PROSE:
            text = (
                pattern.sub(" ", text)
                if not pattern.pattern.startswith("^")
                else re.sub(pattern.pattern, " ", text, flags=re.M)
            )
        for phrase in allowed:
            text = text.replace(phrase, " ")
        found += [(index, m.group(0)) for m in NUMBER.finditer(text)]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_numbers_in_prose_are_glued(path):
    found = prose_numbers(path)
    assert not found, (
        f"{path.relative_to(ROOT)}: numbers in markdown that are not glued from the run "
        f"(glue them, or add a phrase with a reason to tests/prose_allowlist.py): "
        + "; ".join(f"cell {i}: {n}" for i, n in found)
    )


def test_allowlist_entries_have_reasons_and_are_used():
    text = "\n".join(source(c) for p in NOTEBOOKS for c in cells(p) if c["cell_type"] == "markdown")
    for chapter, entries in ALLOWED.items():
        for phrase, reason in entries.items():
            assert NUMBER.search(phrase), f"{chapter}: {phrase!r} holds no number"
            assert len(reason.split()) >= 3, f"{chapter}: {phrase!r} needs a reason"
            assert phrase in text, f"{chapter}: {phrase!r} is no longer in the prose; remove it"


def test_prose_number_check_catches_a_bare_result(tmp_path):
    import json

    nb = {
        "cells": [
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": ["测试准确率为 0.941，比基线高 3%。误差 {glue:text}`err:.1e`，设置 `lr=0.002`。"],
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = ROOT / "book" / "ch07_sentiment" / "_probe.ipynb"
    try:
        path.write_text(json.dumps(nb), encoding="utf-8")
        assert [n for _, n in prose_numbers(path)] == ["0.941", "3%"]
    finally:
        path.unlink(missing_ok=True)


def display_width(line: str) -> int:
    """Columns a line takes in a monospace font: East Asian wide characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_code_fits_the_site_column(path):
    long = [
        (i, n + 1, display_width(line))
        for i, cell in enumerate(cells(path))
        if cell["cell_type"] == "code"
        for n, line in enumerate(source(cell).splitlines())
        if display_width(line) > CODE_COLUMNS
    ]
    assert not long, (
        f"{path.relative_to(ROOT)}: code lines wider than {CODE_COLUMNS} columns "
        "(cell, line, width): " + ", ".join(map(str, long[:20]))
    )
