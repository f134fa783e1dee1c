"""lstm_course.tables: the one table formatter (Markdown, HTML and aligned plain text)."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_course.tables import Table, display_width, format_cell, format_table, markdown_table


def test_markdown_table_from_dicts():
    table = markdown_table([{"a": 1, "b": 0.123456}, {"a": "x", "b": 2.0}], floatfmt="{:.2f}")
    assert isinstance(table, Table) and table.columns == ["a", "b"]
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1 | 0.12 |", "| x | 2.00 |"]
    assert table._repr_markdown_() == str(table)
    page = markdown_table([{"<b>": "a&b"}])._repr_html_()
    assert page.startswith("<table") and "<th>&lt;b&gt;</th>" in page and "<td>a&amp;b</td>" in page


def test_markdown_table_from_sequences_needs_the_header():
    table = markdown_table([("书籍", 1234, 0.5)], ["类别", "数", "比例"], intfmt="{:,}")
    assert table.cells == [["书籍", "1,234", "0.5"]]
    with pytest.raises(ValueError, match="need columns"):
        markdown_table([(1, 2)])
    with pytest.raises(ValueError, match="2 values"):
        markdown_table([(1, 2), (3,)], ["a", "b"])
    assert markdown_table([], ["a"]).columns == ["a"]


def test_format_cell_numbers_of_numpy_and_python():
    assert format_cell(np.float32(0.25), "{:.1%}") == "25.0%"
    assert format_cell(np.int64(12345), intfmt="{:,}") == "12,345"
    assert format_cell(True) == "True" and format_cell(None) == "None"


def test_format_table_lines_up_cjk_columns():
    text = format_table(["类别", "负面", "正面"], [("书籍", 1, 2), ("蒙牛", 1000, 0.5)])
    lines = text.splitlines()
    assert len({display_width(line) for line in lines[:3]}) == 1  # header, rule, first row
    assert len({len(line.encode("gbk")) for line in lines[:2]}) == 1  # CJK counts two columns
    assert lines[3].endswith("1,000  0.500")  # integers with separators, floats with 3 decimals
    assert lines[1] == "----  -----  -----"
