"""Drawings of the LSTM (the cell, the unrolled chain) and plots of its gate activations.

Everything is plain matplotlib with Chinese labels (via :func:`lstm_course.plot.setup_chinese_font`),
so the figures render in a notebook and in the built site without any JavaScript or CDN.

* :func:`draw_lstm_cell` — one cell: the cell state runs along the top like a conveyor belt,
  the forget gate multiplies it, the input gate adds the candidate memory, the output gate reads
  ``tanh(C_t)`` out into the hidden state.
* :func:`draw_unrolled_lstm` — the same cell repeated over time, ``C`` and ``h`` passed along.
* :func:`plot_gate_activations` — one heat map per gate, ``(steps, units)``, with the characters
  of a text as the time axis.
* :func:`draw_folded_and_unfolded_rnn` — the RNN drawn with its loop (folded) and unrolled over
  time, the same ``W_xh``, ``W_hh``, ``W_hq`` at every step.
* :func:`draw_task_topologies` — one-to-many, many-to-one, many-to-many (aligned) and
  encoder–decoder, side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import patches
from matplotlib import pyplot as plt

from lstm_course.plot import heatmap, setup_chinese_font

__all__ = [
    "GATE_COLORS",
    "draw_lstm_cell",
    "draw_unrolled_lstm",
    "plot_gate_activations",
    "draw_folded_and_unfolded_rnn",
    "draw_task_topologies",
]

#: One colour per gate letter (d2l letters; ``"c"`` is the candidate memory cell).
GATE_COLORS = {"f": "#d62728", "i": "#2ca02c", "c": "#9467bd", "o": "#1f77b4"}
_GATE_LABELS = {"f": "遗忘门 $f_t$", "i": "输入门 $i_t$", "c": "候选记忆元 $\\tilde{C}_t$", "o": "输出门 $o_t$"}
_BELT = "#e6a100"
_LINE = "#333333"


def _canvas(ax: Any, size: tuple[float, float], xlim: tuple[float, float], ylim: tuple[float, float]) -> Any:
    setup_chinese_font()
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _line(
    ax: Any,
    points: Sequence[tuple[float, float]],
    *,
    color: str = _LINE,
    lw: float = 1.6,
    arrow: bool = True,
    shrink: float = 0.0,
    zorder: int = 1,
) -> None:
    """A polyline through ``points``; the last segment ends in an arrow head (shortened by ``shrink`` points)."""
    xs, ys = zip(*points, strict=True)
    if len(points) > 2:
        ax.plot(xs[:-1], ys[:-1], color=color, lw=lw, solid_capstyle="round", zorder=zorder)
    style = "-|>" if arrow else "-"
    ax.annotate(
        "",
        xy=points[-1],
        xytext=points[-2],
        zorder=zorder,
        arrowprops=dict(arrowstyle=style, color=color, lw=lw, shrinkA=0, shrinkB=shrink, mutation_scale=12),
    )


def _op(ax: Any, xy: tuple[float, float], symbol: str, *, color: str = _LINE, r: float = 0.24) -> None:
    """A pointwise operation (×, +, tanh) drawn as a circle or ellipse."""
    width = 2 * r if symbol in ("×", "+") else 0.95
    ax.add_patch(patches.Ellipse(xy, width, 2 * r, facecolor="white", edgecolor=color, lw=1.5, zorder=3))
    ax.text(*xy, symbol, ha="center", va="center", fontsize=11 if symbol in ("×", "+") else 9, color=color, zorder=4)


def _box(ax: Any, xy: tuple[float, float], text: str, color: str, *, w: float = 0.9, h: float = 0.6) -> None:
    x, y = xy
    ax.add_patch(
        patches.FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.04",
            facecolor=color,
            edgecolor=color,
            alpha=0.9,
            zorder=3,
        )
    )
    ax.text(x, y, text, ha="center", va="center", color="white", fontsize=10, zorder=4)


def draw_lstm_cell(ax: Any = None, *, title: str = "LSTM 单元：细胞状态是一条传送带") -> Any:
    """Draw one LSTM cell with its three gates and the candidate memory; returns the Axes.

    The cell state ``C`` runs straight along the top (the conveyor belt): one elementwise
    multiplication by the forget gate, one addition of ``i_t ⊙ C̃_t``, nothing else.  The gates
    read ``[h_{t-1}, x_t]`` from the bottom.
    """
    ax = _canvas(ax, (9.5, 5.6), (-0.3, 12.6), (-0.55, 7.3))
    ax.add_patch(
        patches.FancyBboxPatch(
            (1.4, 0.75), 9.4, 5.35, boxstyle="round,pad=0.1", facecolor="#f4f6fa", edgecolor="#9aa5b8", lw=1.2, zorder=0
        )
    )
    y_belt, y_bus, y_gate, y_mix = 5.4, 1.45, 2.8, 4.25
    x = {"f": 3.4, "i": 4.9, "c": 6.2, "o": 7.7}
    x_out, x_h = 9.3, 10.25
    # inputs: h_{t-1} from the left, x_t from below, joined into one bus [h_{t-1}, x_t]
    _line(ax, [(0.1, y_bus), (x["o"], y_bus)], arrow=False)
    _line(ax, [(2.2, -0.35), (2.2, y_bus)], arrow=False)
    ax.text(0.1, y_bus + 0.22, "$h_{t-1}$", fontsize=12, ha="left", va="bottom")
    ax.text(2.35, -0.3, "$x_t$", fontsize=12, ha="left", va="bottom")
    ax.text(4.15, y_bus - 0.25, "拼接 $[h_{t-1}, x_t]$ 送入每个门", fontsize=8.5, ha="center", va="top", color="#555")
    for g, xg in x.items():
        _line(ax, [(xg, y_bus), (xg, y_gate)], shrink=10)
        _box(ax, (xg, y_gate), "tanh" if g == "c" else "σ", GATE_COLORS[g])
    # the conveyor belt, drawn last among the lines so it stays on top
    _line(ax, [(x["f"], y_gate + 0.3), (x["f"], y_belt)], color=GATE_COLORS["f"], shrink=8)
    _line(ax, [(x["i"], y_gate + 0.3), (x["i"], y_mix), (x["c"], y_mix)], color=GATE_COLORS["i"], shrink=8)
    _line(ax, [(x["c"], y_gate + 0.3), (x["c"], y_mix)], color=GATE_COLORS["c"], shrink=8)
    _line(ax, [(x["c"], y_mix), (x["c"], y_belt)], shrink=8)
    _line(ax, [(x_out, y_belt), (x_out, y_mix)], shrink=9)
    _line(ax, [(x_out, y_mix), (x_out, y_gate)], shrink=8)
    _line(ax, [(x["o"], y_gate), (x_out, y_gate)], color=GATE_COLORS["o"], shrink=8)
    _line(ax, [(x_out, y_gate), (x_h, y_gate), (x_h, y_bus), (12.4, y_bus)])
    _line(ax, [(x_h, y_gate), (x_h, 7.05)])
    _line(ax, [(0.1, y_belt), (12.4, y_belt)], color=_BELT, lw=3.2, zorder=2)
    _op(ax, (x["f"], y_belt), "×")
    _op(ax, (x["c"], y_belt), "+")
    _op(ax, (x["c"], y_mix), "×")
    _op(ax, (x_out, y_mix), "tanh")
    _op(ax, (x_out, y_gate), "×")
    ax.text(0.1, y_belt + 0.2, "$C_{t-1}$", fontsize=12, ha="left", va="bottom")
    ax.text(12.4, y_belt + 0.2, "$C_t$", fontsize=12, ha="right", va="bottom")
    ax.text(12.4, y_bus + 0.22, "$h_t$", fontsize=12, ha="right", va="bottom")
    ax.text(x_h + 0.15, 6.85, "$h_t$（输出）", fontsize=10, ha="left", va="top")
    ax.text(
        6.0,
        6.3,
        "细胞状态（记忆元）$C$：传送带，只有逐元素的 × 与 +",
        fontsize=9.5,
        ha="center",
        va="bottom",
        color="#8a5a00",
    )
    # gate labels
    ax.text(x["f"] - 0.12, 3.75, _GATE_LABELS["f"], fontsize=9, ha="right", va="center", color=GATE_COLORS["f"])
    ax.text(x["i"] - 0.12, 3.75, _GATE_LABELS["i"], fontsize=9, ha="right", va="center", color=GATE_COLORS["i"])
    ax.text(x["c"] + 0.12, 3.6, _GATE_LABELS["c"], fontsize=9, ha="left", va="center", color=GATE_COLORS["c"])
    ax.text(x["o"] + 0.1, 2.05, _GATE_LABELS["o"], fontsize=9, ha="left", va="center", color=GATE_COLORS["o"])
    ax.text(
        6.1,
        0.05,
        "$C_t = f_t \\odot C_{t-1} + i_t \\odot \\tilde{C}_t$，  $h_t = o_t \\odot \\tanh(C_t)$",
        fontsize=10,
        ha="center",
        va="center",
    )
    if title:
        ax.set_title(title)
    return ax


def draw_unrolled_lstm(
    steps: int = 3, ax: Any = None, *, title: str = "按时间展开：同一个 LSTM 单元（同一组参数）在每个时间步重复使用"
) -> Any:
    """Draw the LSTM unrolled over ``steps`` time steps; returns the Axes.

    Each box is the whole cell of :func:`draw_lstm_cell`; the cell state ``C`` (top, the belt)
    and the hidden state ``h`` (bottom) go from each step to the next.
    """
    if not 1 <= steps <= 6:
        raise ValueError(f"steps: expected 1 to 6 cells, received {steps}")
    width = 1.6 + 3.0 * steps
    ax = _canvas(ax, (min(2.3 + 2.2 * steps, 12), 3.6), (-0.2, width + 0.2), (-0.9, 3.9))
    y_c, y_h = 2.2, 1.0
    for k in range(steps):
        left = 1.2 + 3.0 * k
        ax.add_patch(
            patches.FancyBboxPatch(
                (left, 0.55),
                1.8,
                2.1,
                boxstyle="round,pad=0.08",
                facecolor="#f4f6fa",
                edgecolor="#9aa5b8",
                lw=1.2,
                zorder=2,
            )
        )
        ax.text(left + 0.9, 1.6, "LSTM\n单元", ha="center", va="center", fontsize=10, zorder=3)
        centre = left + 0.9
        t = f"{k + 1}" if steps <= 3 or k < steps - 1 else "T"
        _line(ax, [(centre, -0.5), (centre, 0.55)], shrink=2)
        ax.text(centre, -0.55, f"$x_{{{t}}}$", ha="center", va="top", fontsize=11)
        _line(ax, [(centre, 2.65), (centre, 3.45)])
        ax.text(centre, 3.5, f"$h_{{{t}}}$", ha="center", va="bottom", fontsize=11)
        prev_c = "0" if k == 0 else (f"{k}" if t != "T" or steps <= 3 else "T-1")
        x0 = left - 1.2
        _line(ax, [(x0, y_c), (left - 0.08, y_c)], color=_BELT, lw=3.0, shrink=0)
        _line(ax, [(x0, y_h), (left - 0.08, y_h)], shrink=0)
        ax.text(x0 + 0.05, y_c + 0.12, f"$C_{{{prev_c}}}$", fontsize=10, va="bottom")
        ax.text(x0 + 0.05, y_h + 0.12, f"$h_{{{prev_c}}}$", fontsize=10, va="bottom")
    end = 1.2 + 3.0 * steps - 1.2 + 0.08
    _line(ax, [(end, y_c), (end + 1.0, y_c)], color=_BELT, lw=3.0)
    _line(ax, [(end, y_h), (end + 1.0, y_h)])
    ax.text(end + 1.0, y_c + 0.12, "$C_T$" if steps > 3 else f"$C_{steps}$", fontsize=10, ha="right", va="bottom")
    ax.text(end + 1.0, y_h + 0.12, "$h_T$" if steps > 3 else f"$h_{steps}$", fontsize=10, ha="right", va="bottom")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_gate_activations(
    gates: Mapping[str, np.ndarray],
    text: str | Sequence[str],
    *,
    units: Sequence[int] | None = None,
    order: Sequence[str] = ("f", "i", "o", "c"),
    title: str = "",
) -> Any:
    """One heat map per gate: rows are hidden units, columns are the characters of ``text``.

    Args:
        gates: gate letter -> activations ``(steps, hidden_size)`` of one sequence (e.g.
            ``cache.gates`` of :func:`lstm_course.numpy.lstm.lstm_forward` at one batch index).
        text: the ``steps`` tokens read at each step (a string is split into characters;
            a space is shown as ``␣``).
        units: which hidden units to show (default: all).
        order: which gates, top to bottom.

    Returns:
        The matplotlib Figure.
    """
    tokens = ["␣" if ch == " " else ch for ch in text]
    missing = [g for g in order if g not in gates]
    if missing:
        raise KeyError(f"gates has no entry for {missing}; expected keys among {list(GATE_COLORS)}")
    steps = len(tokens)
    for g in order:
        if np.ndim(gates[g]) != 2 or np.shape(gates[g])[0] != steps:
            raise ValueError(
                f"gates[{g!r}]: expected shape ({steps}, hidden_size) to match {steps} tokens, "
                f"received {np.shape(gates[g])}"
            )
    units = list(range(np.shape(gates[order[0]])[1])) if units is None else list(units)
    setup_chinese_font()
    fig, axes = plt.subplots(
        len(order),
        1,
        figsize=(min(2.5 + 0.2 * steps, 15), 0.9 + 0.32 * len(units) * len(order)),
        layout="constrained",
        sharex=True,
        squeeze=False,
    )
    for ax, g in zip(axes[:, 0], order, strict=True):
        values = np.asarray(gates[g])[:, units].T  # (units, steps)
        heatmap(values, ylabels=[str(u) for u in units], cmap="RdBu_r" if g == "c" else "viridis", ax=ax)
        ax.images[0].set_clim(-1.0 if g == "c" else 0.0, 1.0)
        ax.set_ylabel(_GATE_LABELS[g].replace(" ", "\n"), rotation=0, ha="right", va="center", fontsize=9, labelpad=14)
        ax.tick_params(axis="y", labelsize=7)
    bottom = axes[-1, 0]
    bottom.set_xticks(range(steps), labels=tokens, fontsize=8)
    bottom.set_xlabel("读入的字符（时间步）")
    if title:
        fig.suptitle(title)
    return fig


_RNN_FILL, _RNN_EDGE = "#dbe9f6", "#1f4e79"
_IO_FILL = {"x": "#fde9d9", "o": "#e2f0d9"}


def _node(
    ax: Any,
    xy: tuple[float, float],
    text: str,
    kind: str = "h",
    *,
    w: float = 0.9,
    h: float = 0.6,
    fontsize: float = 11,
) -> None:
    """A labelled box: ``kind`` ``"h"`` (a recurrent cell), ``"x"`` (input) or ``"o"`` (output)."""
    fill = _RNN_FILL if kind == "h" else _IO_FILL[kind]
    edge = _RNN_EDGE if kind == "h" else "#888888"
    x, y = xy
    ax.add_patch(
        patches.FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", facecolor=fill, edgecolor=edge, lw=1.3, zorder=3
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def draw_folded_and_unfolded_rnn(
    steps: int = 4, ax: Any = None, *, title: str = "折叠（左）与按时间展开（右）的 RNN"
) -> Any:
    """Draw the RNN folded (one cell with a loop) and unrolled over ``steps`` steps.

    Every unrolled step uses the same ``W_xh`` (up), ``W_hh`` (right) and ``W_hq`` (up to the
    output): unrolling copies the computation, not the parameters.  Returns the Axes.
    """
    if not 2 <= steps <= 6:
        raise ValueError(f"steps: expected 2 to 6 steps, received {steps}")
    width = 4.7 + 1.8 * steps
    ax = _canvas(ax, (min(2.0 + 1.45 * steps, 12), 3.9), (-0.3, width), (-0.9, 4.2))
    # folded: x -> h (with a loop) -> o
    _node(ax, (1.0, 0.0), "$x_t$", "x")
    _node(ax, (1.0, 1.7), "$h_t$")
    _node(ax, (1.0, 3.4), "$o_t$", "o")
    _line(ax, [(1.0, 0.3), (1.0, 1.4)], shrink=2)
    _line(ax, [(1.0, 2.0), (1.0, 3.1)], shrink=2)
    ax.add_patch(
        patches.FancyArrowPatch(
            (1.45, 1.85),
            (1.45, 1.55),
            connectionstyle="arc3,rad=-2.2",
            arrowstyle="-|>",
            mutation_scale=12,
            color=_LINE,
            lw=1.5,
        )
    )
    ax.text(2.05, 1.7, "$W_{hh}$", fontsize=9, color="#555", va="center")
    ax.text(0.85, 0.85, "$W_{xh}$", fontsize=9, color="#555", ha="right")
    ax.text(0.85, 2.55, "$W_{hq}$", fontsize=9, color="#555", ha="right")
    ax.text(1.0, -0.75, "折叠：一个单元和一条回路", fontsize=9.5, ha="center")
    ax.annotate("", xy=(3.55, 1.7), xytext=(2.75, 1.7), arrowprops=dict(arrowstyle="simple", color="#bbbbbb"))
    ax.text(3.15, 2.0, "展开", fontsize=9, ha="center", color="#777")
    left = 5.0
    for k in range(steps):
        x = left + 1.8 * k
        t = str(k + 1) if k < steps - 1 else "T"
        _node(ax, (x, 0.0), f"$x_{{{t}}}$", "x")
        _node(ax, (x, 1.7), f"$h_{{{t}}}$")
        _node(ax, (x, 3.4), f"$o_{{{t}}}$", "o")
        _line(ax, [(x, 0.3), (x, 1.4)], shrink=2)
        _line(ax, [(x, 2.0), (x, 3.1)], shrink=2)
        start = x - 1.35 if k else x - 0.95
        _line(ax, [(start, 1.7), (x - 0.47, 1.7)], shrink=1)
        ax.text(x - 0.9, 1.82, "$W_{hh}$", fontsize=8, color="#555", ha="center", va="bottom")
    ax.text(left - 0.95, 1.45, "$h_0$", fontsize=10, ha="left", va="top")
    ax.text(
        left + 0.9 * (steps - 1),
        -0.75,
        "展开：每个时间步共用同一组 $W_{xh}, W_{hh}, W_{hq}$",
        fontsize=9.5,
        ha="center",
    )
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def _topology(
    ax: Any, left: float, inputs: Sequence[int], outputs: Sequence[int], cells: int, *, split: int | None = None
) -> None:
    """Cells ``0..cells-1`` in a row; inputs under ``inputs``, outputs over ``outputs``.
    ``split`` colours the cells from that index on as the decoder."""
    for k in range(cells):
        x = left + 1.05 * k
        decoder = split is not None and k >= split
        ax.add_patch(
            patches.FancyBboxPatch(
                (x - 0.35, 1.15),
                0.7,
                0.7,
                boxstyle="round,pad=0.04",
                facecolor="#e8dcf5" if decoder else _RNN_FILL,
                edgecolor="#6a3d9a" if decoder else _RNN_EDGE,
                lw=1.2,
                zorder=3,
            )
        )
        if k:
            _line(ax, [(x - 0.7, 1.5), (x - 0.37, 1.5)], shrink=1)
        if k in inputs:
            _node(ax, (x, 0.0), "$x$", "x", w=0.6, h=0.5, fontsize=10)
            _line(ax, [(x, 0.25), (x, 1.13)], shrink=1)
        if k in outputs:
            _node(ax, (x, 3.0), "$y$", "o", w=0.6, h=0.5, fontsize=10)
            _line(ax, [(x, 1.87), (x, 2.75)], shrink=1)


def draw_task_topologies(ax: Any = None, *, title: str = "循环网络的四种任务结构（蓝：循环单元；紫：解码器）") -> Any:
    """Four panels: 一对多 (e.g. generating text from a start token), 多对一 (classifying a
    review), 多对多·对齐 (tagging every token), 编码器–解码器 (translation: read all, then write).

    Returns the Axes.
    """
    ax = _canvas(ax, (12, 3.2), (-0.6, 21.9), (-1.35, 3.6))
    panels = [
        ("一对多", "例：给定开头生成文本", [0], [0, 1, 2, 3], 4, None),
        ("多对一", "例：评论情感分类", [0, 1, 2, 3], [3], 4, None),
        ("多对多（对齐）", "例：逐字标注、语言模型", [0, 1, 2, 3], [0, 1, 2, 3], 4, None),
        ("编码器–解码器", "例：翻译、数字转中文读法", [0, 1, 2], [3, 4, 5], 6, 3),
    ]
    left = 0.0
    for name, example, inputs, outputs, cells, split in panels:
        _topology(ax, left, inputs, outputs, cells, split=split)
        centre = left + 1.05 * (cells - 1) / 2
        ax.text(centre, -0.62, name, fontsize=10.5, ha="center", va="center", weight="bold")
        ax.text(centre, -1.08, example, fontsize=8.5, ha="center", va="center", color="#555")
        left += 1.05 * cells + 0.9
    if title:
        ax.set_title(title, fontsize=11)
    return ax


# ---------------------------------------------------------------- chapters 5 and 6 (GRU, deep, bidirectional)
__all__ += ["draw_gru_cell", "draw_stacked_lstm", "draw_bidirectional_layer", "draw_deep_bidirectional"]

#: Colours of the GRU's reset gate, update gate and candidate hidden state.
GRU_COLORS = {"r": "#d62728", "z": "#1f77b4", "h": "#9467bd"}
_FORWARD, _BACKWARD = "#1f4e79", "#c55a11"


def draw_gru_cell(ax: Any = None, *, title: str = "GRU 单元：两个门、三组权重，隐状态本身就是传送带") -> Any:
    """One GRU cell (the textbook form): the reset gate scales ``H_{t-1}`` before the candidate,
    the update gate mixes ``H_{t-1}`` and the candidate, ``H_t = Z ⊙ H_{t-1} + (1 - Z) ⊙ H̃``.

    Returns the Axes.
    """
    ax = _canvas(ax, (8.6, 5.2), (-0.2, 12.4), (-1.0, 7.0))
    ax.add_patch(
        patches.FancyBboxPatch(
            (0.55, 0.15),
            11.0,
            6.0,
            boxstyle="round,pad=0.1",
            facecolor="#f7f7f7",
            edgecolor="#bbbbbb",
            lw=1.0,
            zorder=0,
        )
    )
    y_top, x_r, x_z, x_h = 5.5, 2.4, 4.2, 7.2
    # the hidden state runs along the top: × Z, then + (1 - Z) ⊙ H̃
    _line(ax, [(-0.1, y_top), (8.36, y_top)], color=_BELT, lw=2.6, shrink=0)
    _line(ax, [(8.84, y_top), (10.36, y_top)], color=_BELT, lw=2.6, shrink=0)
    _line(ax, [(10.84, y_top), (12.3, y_top)], color=_BELT, lw=2.6)
    _op(ax, (8.6, y_top), "×")
    _op(ax, (10.6, y_top), "+")
    _line(ax, [(11.3, y_top), (11.3, 6.75)])
    # H_{t-1} down to the gates, x_t up to them
    _line(ax, [(0.9, y_top), (0.9, 1.2), (x_z, 1.2)], arrow=False)
    _line(ax, [(1.6, -0.45), (1.6, 1.2)], arrow=False)
    _line(ax, [(1.6, 0.5), (x_h, 0.5), (x_h, 2.48)], shrink=1)
    for x in (x_r, x_z):
        _line(ax, [(x, 1.2), (x, 2.48)], shrink=1)
    _box(ax, (x_r, 2.8), "σ", GRU_COLORS["r"])
    _box(ax, (x_z, 2.8), "σ", GRU_COLORS["z"])
    _box(ax, (x_h, 2.8), "tanh", GRU_COLORS["h"])
    # reset: R ⊙ H_{t-1} feeds the candidate
    _op(ax, (x_r, 4.3), "×", color=GRU_COLORS["r"])
    _line(ax, [(x_r, y_top), (x_r, 4.56)], shrink=1)
    _line(ax, [(x_r, 3.12), (x_r, 4.04)], color=GRU_COLORS["r"], shrink=1)
    _line(ax, [(x_r + 0.26, 4.3), (6.1, 4.3), (6.1, 2.8), (x_h - 0.47, 2.8)], color=GRU_COLORS["r"], shrink=1)
    # update: Z on the old state, 1 - Z on the candidate
    _line(ax, [(x_z, 3.12), (x_z, 4.9), (8.6, 4.9), (8.6, y_top - 0.26)], color=GRU_COLORS["z"], shrink=1)
    _op(ax, (9.6, 4.35), "1−", color=GRU_COLORS["z"])
    _line(ax, [(8.6, 4.9), (9.6, 4.9), (9.6, 4.6)], color=GRU_COLORS["z"], shrink=1)
    _op(ax, (9.6, 3.5), "×")
    _line(ax, [(9.6, 4.1), (9.6, 3.76)], color=GRU_COLORS["z"], shrink=1)
    _line(ax, [(x_h, 3.12), (x_h, 3.5), (9.34, 3.5)], color=GRU_COLORS["h"], shrink=1)
    _line(ax, [(9.86, 3.5), (10.6, 3.5), (10.6, y_top - 0.26)], shrink=1)
    ax.text(-0.1, y_top + 0.2, "$H_{t-1}$", fontsize=12, ha="left", va="bottom")
    ax.text(12.3, y_top + 0.2, "$H_t$", fontsize=12, ha="right", va="bottom")
    ax.text(11.45, 6.8, "$H_t$（输出）", fontsize=10, ha="left", va="top")
    ax.text(1.75, -0.5, "$x_t$", fontsize=12, ha="left", va="bottom")
    ax.text(x_r - 0.5, 2.8, "重置门 $R_t$", fontsize=9, ha="right", va="center", color=GRU_COLORS["r"])
    ax.text(x_z + 0.5, 2.25, "更新门 $Z_t$", fontsize=9, ha="left", va="center", color=GRU_COLORS["z"])
    ax.text(x_h + 0.5, 2.25, "候选隐状态 $\\tilde{H}_t$", fontsize=9, ha="left", va="center", color=GRU_COLORS["h"])
    ax.text(
        6.0,
        6.35,
        "隐状态 $H$：只有逐元素的 × 与 +（更新门决定留下多少旧值）",
        fontsize=9.5,
        ha="center",
        va="bottom",
        color="#8a6100",
    )
    ax.text(
        6.05,
        -0.75,
        "$H_t = Z_t \\odot H_{t-1} + (1 - Z_t) \\odot \\tilde{H}_t$，"
        "  $\\tilde{H}_t = \\tanh(X_t W_{xh} + (R_t \\odot H_{t-1}) W_{hh} + b_h)$",
        fontsize=9.5,
        ha="center",
        va="center",
    )
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def _check_grid(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name}: expected {low} to {high}, received {value}")


def draw_stacked_lstm(
    layers: int = 2, steps: int = 3, ax: Any = None, *, title: str = "堆叠的 LSTM：第 l 层读第 l−1 层同一时间步的隐状态"
) -> Any:
    """A deep (stacked) LSTM: ``layers`` rows of cells over ``steps`` time steps.

    Each layer passes its own ``(h, C)`` to the right; its ``h`` goes up to the next layer at the
    same step (where ``nn.LSTM``'s ``dropout`` acts); only the top layer reaches the output.
    Returns the Axes.
    """
    _check_grid("layers", layers, 1, 4)
    _check_grid("steps", steps, 2, 6)
    dx, dy = 2.0, 1.5
    ax = _canvas(
        ax,
        (min(2.6 + 1.5 * steps, 11), 1.9 + 1.15 * layers),
        (-1.9, dx * (steps - 1) + 1.6),
        (-0.95, dy * (layers + 1) + 0.55),
    )
    for t in range(steps):
        x = dx * t
        label = str(t + 1) if t < steps - 1 else "T"
        _node(ax, (x, 0.0), f"$x_{{{label}}}$", "x")
        _line(ax, [(x, 0.3), (x, dy - 0.32)], shrink=1)
        for layer in range(layers):
            y = dy * (layer + 1)
            _node(ax, (x, y), f"$h^{{({layer + 1})}}_{{{label}}}$", w=1.05, h=0.62, fontsize=10)
            if t:
                _line(ax, [(x - dx + 0.55, y), (x - 0.55, y)], shrink=1)
            if layer < layers - 1:
                _line(ax, [(x, y + 0.33), (x, y + dy - 0.33)], shrink=1)
        top = dy * layers
        _node(ax, (x, top + dy), f"$o_{{{label}}}$", "o")
        _line(ax, [(x, top + 0.33), (x, top + dy - 0.32)], shrink=1)
    for layer in range(layers):
        ax.text(-1.8, dy * (layer + 1), f"第 {layer + 1} 层", fontsize=9.5, ha="left", va="center")
    if layers > 1:
        ax.text(0.12, dy * 1.5, "层间 dropout", fontsize=8, color="#777", ha="left", va="center")
    ax.text(
        dx * (steps - 1) / 2,
        -0.8,
        "每层把自己的 $(h, C)$ 传给下一个时间步；只有最顶层连到输出",
        fontsize=9,
        ha="center",
        va="center",
    )
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def _bidirectional_rows(
    ax: Any, y: float, steps: int, dx: float, inputs: Sequence[float], layer: int | None = None
) -> list[float]:
    """A forward row (``y``) and a backward row (``y + 1.1``) reading the points ``inputs`` (their
    heights, one per step), concatenated at ``y + 2.2``; returns the heights of the outputs."""
    suffix = f"^{{({layer})}}" if layer is not None else ""
    for t in range(steps):
        x = dx * t
        label = str(t + 1) if t < steps - 1 else "T"
        _line(ax, [(x - 0.25, inputs[t]), (x - 0.25, y - 0.3)], shrink=1)
        _line(ax, [(x + 0.55, inputs[t]), (x + 0.55, y + 0.55), (x + 0.3, y + 0.85)], color="#999999", lw=1.2, shrink=1)
        _node(ax, (x, y), f"$\\overrightarrow{{h}}{suffix}_{{{label}}}$", w=1.0, h=0.56, fontsize=9.5)
        _node(ax, (x, y + 1.1), f"$\\overleftarrow{{h}}{suffix}_{{{label}}}$", w=1.0, h=0.56, fontsize=9.5)
        if t:
            _line(ax, [(x - dx + 0.52, y), (x - 0.52, y)], color=_FORWARD, shrink=1)
            _line(ax, [(x - 0.52, y + 1.1), (x - dx + 0.52, y + 1.1)], color=_BACKWARD, shrink=1)
        ax.add_patch(patches.Circle((x, y + 2.2), 0.2, facecolor="white", edgecolor=_LINE, lw=1.2, zorder=3))
        ax.text(x, y + 2.2, "‖", ha="center", va="center", fontsize=9, zorder=4)
        _line(
            ax,
            [(x - 0.35, y + 0.28), (x - 0.35, y + 0.6), (x - 0.62, y + 0.6), (x - 0.62, y + 2.2), (x - 0.22, y + 2.2)],
            color=_FORWARD,
            lw=1.2,
            shrink=1,
        )
        _line(ax, [(x, y + 1.38), (x, y + 1.98)], color=_BACKWARD, lw=1.2, shrink=1)
    return [y + 2.42] * steps


def draw_bidirectional_layer(
    steps: int = 4, ax: Any = None, *, title: str = "双向循环层：两个方向各读一遍，每个位置拼接（‖）"
) -> Any:
    """One bidirectional layer: a forward RNN (left to right), a backward RNN (right to left),
    both reading every ``x_t``; the output at ``t`` is ``[→h_t; ←h_t]``.  Returns the Axes."""
    _check_grid("steps", steps, 2, 6)
    dx = 2.0
    ax = _canvas(ax, (min(2.4 + 1.6 * steps, 11), 4.6), (-1.6, dx * (steps - 1) + 1.5), (-1.0, 5.1))
    for t in range(steps):
        label = str(t + 1) if t < steps - 1 else "T"
        _node(ax, (dx * t, 0.0), f"$x_{{{label}}}$", "x")
    outputs = _bidirectional_rows(ax, 1.1, steps, dx, [0.3] * steps)
    for t in range(steps):
        label = str(t + 1) if t < steps - 1 else "T"
        _node(ax, (dx * t, outputs[t] + 0.95), f"$o_{{{label}}}$", "o")
        _line(ax, [(dx * t, outputs[t]), (dx * t, outputs[t] + 0.65)], shrink=1)
    ax.text(-1.55, 1.1, "正向 →", fontsize=9.5, color=_FORWARD, ha="left", va="center")
    ax.text(-1.55, 2.2, "反向 ←", fontsize=9.5, color=_BACKWARD, ha="left", va="center")
    ax.text(
        dx * (steps - 1) / 2,
        -0.8,
        "位置 $t$ 的输出 $[\\overrightarrow{h}_t; \\overleftarrow{h}_t]$"
        " 依赖整个序列：正向带来 $t$ 之前，反向带来 $t$ 之后",
        fontsize=9,
        ha="center",
        va="center",
    )
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def draw_deep_bidirectional(
    layers: int = 2, steps: int = 3, ax: Any = None, *, title: str = "深层双向网络：下一层的两个方向都读上一层的拼接"
) -> Any:
    """``layers`` bidirectional layers stacked: layer ``l + 1`` reads the concatenation
    ``[→h^{(l)}_t; ←h^{(l)}_t]`` at every step (``nn.LSTM(num_layers=L, bidirectional=True)``).
    Returns the Axes."""
    _check_grid("layers", layers, 1, 3)
    _check_grid("steps", steps, 2, 5)
    dx, block = 2.0, 3.0
    height = 1.1 + block * layers + 1.4
    ax = _canvas(
        ax, (min(2.6 + 1.6 * steps, 11), 1.2 + 1.55 * layers + 1.0), (-1.9, dx * (steps - 1) + 1.5), (-1.0, height)
    )
    for t in range(steps):
        label = str(t + 1) if t < steps - 1 else "T"
        _node(ax, (dx * t, 0.0), f"$x_{{{label}}}$", "x")
    heights = [0.3] * steps
    for layer in range(layers):
        y = 1.1 + block * layer
        heights = _bidirectional_rows(ax, y, steps, dx, heights, layer=layer + 1)
        ax.text(-1.85, y + 0.55, f"第 {layer + 1} 层", fontsize=9.5, ha="left", va="center")
    for t in range(steps):
        label = str(t + 1) if t < steps - 1 else "T"
        _node(ax, (dx * t, heights[t] + 0.95), f"$o_{{{label}}}$", "o")
        _line(ax, [(dx * t, heights[t]), (dx * t, heights[t] + 0.65)], shrink=1)
    ax.text(
        dx * (steps - 1) / 2,
        -0.8,
        "蓝：正向；橙：反向；‖：两个方向在特征维上拼接（$2h$ 维）",
        fontsize=9,
        ha="center",
        va="center",
    )
    if title:
        ax.set_title(title, fontsize=11)
    return ax
