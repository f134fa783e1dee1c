"""The course's one table formatter: rows in, a table that prints, renders in Jupyter and lines up.

* :class:`Table` — a Markdown table (the string itself) that Jupyter and the book render as an
  HTML table; :meth:`Table.text` is the same table as plain text, columns padded by display
  width (a CJK character counts as two), for ``print`` and the command line.
* :func:`markdown_table` — rows (dicts, or sequences with ``columns``) as a :class:`Table`.
* :func:`format_table` — header and rows as the plain text of :meth:`Table.text`.
* :func:`format_cell` — how one value is written: floats with ``floatfmt``, integers with
  ``intfmt``, anything else with ``str``.

Standard library only.
"""

from __future__ import annotations

import html
import numbers
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["Table", "format_cell", "markdown_table", "format_table", "display_width"]


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide and full-width (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_cell(value: Any, floatfmt: str = "{:.3g}", intfmt: str = "{}") -> str:
    """``value`` as table text: floats (NumPy's too) with ``floatfmt``, integers with ``intfmt``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral):
        return intfmt.format(int(value))
    return floatfmt.format(float(value))


class Table(str):
    """A Markdown table (the string itself) that Jupyter and the book also render as an HTML table.

    ``display(table)`` in a notebook shows a real table even where Markdown outputs are not
    rendered with table support; ``print(table)`` shows the Markdown text and
    ``print(table.text())`` an aligned plain-text table.
    """

    columns: list[str]
    cells: list[list[str]]

    def __new__(cls, columns: Sequence[str], cells: Sequence[Sequence[str]]) -> Table:
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        table = super().__new__(cls, "\n".join(lines))
        table.columns = [str(c) for c in columns]
        table.cells = [[str(v) for v in row] for row in cells]
        return table

    def _repr_markdown_(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in self.cells)
        return f'<table class="table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

    def text(self) -> str:
        """Plain text: the first column left-aligned, the others right-aligned, a rule under the header."""
        rows = [self.columns, *self.cells]
        widths = [max(display_width(row[i]) for row in rows) for i in range(len(self.columns))]
        lines = []
        for r, row in enumerate(rows):
            padded = (
                v + " " * (w - display_width(v)) if i == 0 else " " * (w - display_width(v)) + v
                for i, (v, w) in enumerate(zip(row, widths, strict=True))
            )
            lines.append("  ".join(padded).rstrip())
            if r == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


def markdown_table(
    rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
    columns: Sequence[str] | None = None,
    floatfmt: str = "{:.3g}",
    intfmt: str = "{}",
) -> Table:
    """``rows`` as a :class:`Table`, each value written by :func:`format_cell`.

    Rows are dicts with the same keys (``columns`` picks and orders them; default the keys of
    the first row) or sequences in the order of ``columns`` (then ``columns`` is required).
    """
    rows = list(rows)
    if not rows:
        return Table(list(columns or []), [])
    if isinstance(rows[0], Mapping):
        columns = list(columns) if columns is not None else list(rows[0])
        values = [[row[c] for c in columns] for row in rows]
    else:
        if columns is None:
            raise ValueError("rows that are sequences need columns (the header)")
        columns = list(columns)
        values = [list(row) for row in rows]
        short = [len(row) for row in values if len(row) != len(columns)]
        if short:
            raise ValueError(f"every row needs {len(columns)} values (one per column), received rows of {short}")
    return Table(columns, [[format_cell(v, floatfmt, intfmt) for v in row] for row in values])


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table (:meth:`Table.text`): floats with three decimals, integers with ``,`` separators."""
    return markdown_table(list(rows), headers, floatfmt="{:.3f}", intfmt="{:,}").text()
