"""The chapter 5-6 diagrams draw, carry their Chinese labels, and refuse sizes they cannot lay out."""

import io

import matplotlib
import pytest

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402

from lstm_course import diagrams  # noqa: E402


def _texts(ax) -> str:
    return " ".join(t.get_text() for t in ax.texts) + " " + ax.get_title()


def _renders(ax) -> None:
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=40)
    plt.close(ax.figure)
    assert buffer.getvalue()[:4] == b"\x89PNG"


def test_gru_cell_shows_two_gates_and_the_candidate():
    ax = diagrams.draw_gru_cell()
    text = _texts(ax)
    assert "重置门" in text and "更新门" in text and "候选隐状态" in text
    assert "遗忘门" not in text and "输出门" not in text  # a GRU has two gates
    boxes = [p for p in ax.patches if type(p).__name__ == "FancyBboxPatch"]
    assert len(boxes) == 4  # the frame and the σ, σ, tanh blocks: three weight groups
    _renders(ax)


@pytest.mark.parametrize("layers, steps", [(1, 2), (2, 3), (3, 5)])
def test_stacked_lstm_has_one_cell_per_layer_and_step(layers, steps):
    ax = diagrams.draw_stacked_lstm(layers, steps)
    cells = [t for t in ax.texts if t.get_text().startswith("$h^{(")]
    assert len(cells) == layers * steps
    assert all(f"第 {layer + 1} 层" in _texts(ax) for layer in range(layers))
    _renders(ax)


def test_bidirectional_layer_has_both_directions_at_every_step():
    ax = diagrams.draw_bidirectional_layer(steps=4)
    forward = [t for t in ax.texts if "overrightarrow" in t.get_text() and "_{" in t.get_text()]
    backward = [t for t in ax.texts if t.get_text().startswith("$\\overleftarrow{h}_")]
    assert len(backward) == 4 and len(forward) >= 4
    assert "正向" in _texts(ax) and "反向" in _texts(ax)
    _renders(ax)


def test_deep_bidirectional_labels_every_layer():
    ax = diagrams.draw_deep_bidirectional(layers=2, steps=3)
    labels = [t.get_text() for t in ax.texts]
    assert sum("^{(2)}" in s for s in labels) == 2 * 3  # both directions of layer 2
    assert "第 2 层" in labels
    _renders(ax)


@pytest.mark.parametrize(
    "draw, kwargs",
    [
        (diagrams.draw_stacked_lstm, dict(layers=0)),
        (diagrams.draw_stacked_lstm, dict(steps=9)),
        (diagrams.draw_bidirectional_layer, dict(steps=1)),
        (diagrams.draw_deep_bidirectional, dict(layers=5)),
    ],
)
def test_sizes_that_do_not_fit_are_refused_with_the_name(draw, kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        draw(**kwargs)
