"""Notebook drafts are written in jupytext's percent format (CONTRIBUTING.md, "Writing a notebook").

A draft's cell markers carry the cell metadata the book needs: tags (``remove-input``) and
myst-nb's figure caption and label.  This converts such a draft the way the guide says and
checks that myst-nb finds the metadata where it reads it, and that nothing executed is stored.
"""

from __future__ import annotations

import jupytext
import nbformat
import pytest

DRAFT = """\
# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 标题
#
# 正文里的一段话。

# %% tags=["remove-input"]
print("the output stays, the input is hidden")

# %% mystnb={"figure": {"caption": "一条正弦曲线", "name": "fig-sine"}}
import math

values = [math.sin(k / 10) for k in range(50)]

# %%
total = sum(values)
"""


def _convert(text: str) -> nbformat.NotebookNode:
    """What ``jupytext --to ipynb --update-metadata '{"jupytext": null}' draft.py`` writes."""
    nb = jupytext.reads(text, fmt="py:percent")
    nb.metadata.pop("jupytext", None)
    return nbformat.from_dict(nbformat.reads(jupytext.writes(nb, fmt="ipynb"), as_version=4))


def test_percent_draft_becomes_a_clean_notebook() -> None:
    nb = _convert(DRAFT)
    nbformat.validate(nb)
    kinds = [cell.cell_type for cell in nb.cells]
    assert kinds == ["markdown", "code", "code", "code"]
    assert nb.cells[0].source == "# 标题\n\n正文里的一段话。"
    assert nb.cells[1].metadata["tags"] == ["remove-input"]
    assert nb.cells[2].metadata["mystnb"] == {"figure": {"caption": "一条正弦曲线", "name": "fig-sine"}}
    assert nb.cells[3].metadata == {}
    assert nb.cells[2].source.startswith("import math")
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "jupytext" not in nb.metadata


def test_myst_nb_reads_the_figure_and_the_tags() -> None:
    config_module = pytest.importorskip("myst_nb.core.config", reason="myst-nb comes with the [book] extra")
    nb = _convert(DRAFT)
    config = config_module.NbParserConfig()
    warnings: list[str] = []
    figure = config.get_cell_level_config(
        "render_figure_options", nb.cells[2].metadata, lambda msg, _subtype: warnings.append(msg)
    )
    assert figure == {"caption": "一条正弦曲线", "name": "fig-sine"}
    assert not warnings
    # no figure options on a cell without them; the tags are plain nbformat cell tags
    assert config.get_cell_level_config("render_figure_options", nb.cells[3].metadata, print) == {}
    assert "remove-input" in nb.cells[1].metadata.get("tags", [])


def test_round_trip_keeps_the_metadata() -> None:
    """Converting a page back to a draft (``jupytext --to py:percent``) keeps tags and figure."""
    nb = _convert(DRAFT)
    text = jupytext.writes(nb, fmt="py:percent")
    assert '# %% tags=["remove-input"]' in text
    assert "# %% mystnb=" in text
    again = _convert(text)
    assert [cell.metadata for cell in again.cells] == [cell.metadata for cell in nb.cells]
    assert [cell.source for cell in again.cells] == [cell.source for cell in nb.cells]
