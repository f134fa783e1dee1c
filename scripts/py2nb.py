"""Turn a percent-format script (``# %%`` code cells, ``# %% [markdown]`` cells) into a
notebook stored without outputs.  A code-cell marker may carry a figure caption and label,
``# %% caption="..." name="fig-..."``, stored as myst-nb figure metadata so the built book
numbers and captions the cell's plot; ``tags="remove-input"`` sets cell tags.  Usage: ``python scripts/py2nb.py draft.py book/chNN_x/NN_name.ipynb``.

The notebook is the source of truth afterwards; this only saves typing JSON by hand.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

_MARKER = re.compile(r"^# %%(?P<md> \[markdown\])?(?P<attrs>.*)$")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def convert(text: str) -> nbformat.NotebookNode:
    cells, kind, lines, attrs = [], None, [], {}

    def flush() -> None:
        body = "\n".join(lines).strip("\n")
        if kind is None or not body:
            return
        if kind == "markdown":
            body = "\n".join(re.sub(r"^# ?", "", line) for line in body.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(body))
        else:
            cell = nbformat.v4.new_code_cell(body)
            if "caption" in attrs:
                figure = {"caption": attrs["caption"]}
                if "name" in attrs:
                    figure["name"] = attrs["name"]
                cell.metadata["mystnb"] = {"figure": figure}
            if "tags" in attrs:
                cell.metadata["tags"] = [t.strip() for t in attrs["tags"].split(",") if t.strip()]
            cells.append(cell)

    for line in text.splitlines():
        match = _MARKER.match(line)
        if match:
            flush()
            kind, lines = ("markdown" if match.group("md") else "code"), []
            attrs = dict(_ATTR.findall(match.group("attrs")))
        else:
            lines.append(line)
    flush()
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main() -> None:
    src, dst = map(Path, sys.argv[1:3])
    nb = convert(src.read_text(encoding="utf-8"))
    nbformat.write(nb, dst)
    print(f"wrote {dst} ({len(nb.cells)} cells)")


if __name__ == "__main__":
    main()
