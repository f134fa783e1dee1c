"""Plotting helpers with Chinese labels that render everywhere (laptop, CI, Colab, conda).

Call :func:`setup_chinese_font` once (every helper here calls it for you).  It registers
the Noto Sans CJK SC font shipped inside the PyPI package ``mplfonts`` with matplotlib, so
no system font is needed, and keeps DejaVu Sans as the fallback for Latin glyphs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib import pyplot as plt

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
_configured_font: str | None = None


def setup_chinese_font() -> str:
    """Register a CJK font with matplotlib and make it the default sans-serif font.

    Returns:
        The family name that is now first in ``rcParams['font.sans-serif']``.
    """
    global _configured_font
    if _configured_font is None:
        import mplfonts

        path = Path(mplfonts.__file__).parent / "fonts" / CJK_FONT_FILE
        font_manager.fontManager.addfont(str(path))
        _configured_font = font_manager.FontProperties(fname=str(path)).get_name()
    fallback = [f for f in matplotlib.rcParams["font.sans-serif"] if f != _configured_font]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [_configured_font, "DejaVu Sans", *fallback]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return _configured_font


def new_axes(ax: Any = None, figsize: tuple[float, float] = (6, 3.5)) -> Any:
    """Return ``ax`` or a fresh Axes with the Chinese font configured."""
    setup_chinese_font()
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_lines(
    x: Sequence[float] | np.ndarray,
    series: Mapping[str, Sequence[float] | np.ndarray],
    *,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    logy: bool = False,
    logx: bool = False,
    markers: bool = False,
    ax: Any = None,
) -> Any:
    """Plot several named curves that share one x axis; returns the Axes.

    Args:
        x: shape ``(n,)``.
        series: label -> values of shape ``(n,)``.
    """
    ax = new_axes(ax)
    for label, values in series.items():
        ax.plot(x, values, marker="o" if markers else None, markersize=3, label=label)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(True, alpha=0.3)
    if len(series) > 1:
        ax.legend()
    return ax


def plot_history(
    history: Mapping[str, Sequence[float]],
    *,
    xlabel: str = "轮次 (epoch)",
    ylabel: str = "",
    title: str = "",
    logy: bool = False,
    ax: Any = None,
) -> Any:
    """Plot training curves, e.g. ``{'训练困惑度': [...], '验证困惑度': [...]}``, against 1..n."""
    n = max((len(v) for v in history.values()), default=0)
    x = np.arange(1, n + 1)
    series = {k: np.asarray(v, dtype=float) for k, v in history.items()}
    ax = new_axes(ax)
    for label, values in series.items():
        ax.plot(x[: len(values)], values, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(True, alpha=0.3)
    if len(series) > 1:
        ax.legend()
    return ax


def heatmap(
    matrix: np.ndarray,
    *,
    xlabels: Sequence[str] | None = None,
    ylabels: Sequence[str] | None = None,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    cmap: str = "viridis",
    annotate: bool = False,
    fmt: str = "{:.2f}",
    ax: Any = None,
) -> Any:
    """Show a 2-D array ``(rows, cols)`` as a colour map with a colour bar; returns the Axes."""
    matrix = np.asarray(matrix, dtype=float)
    ax = new_axes(ax, figsize=(max(4, 0.5 * matrix.shape[1] + 2), max(3, 0.4 * matrix.shape[0] + 1.5)))
    image = ax.imshow(matrix, cmap=cmap, aspect="auto")
    ax.figure.colorbar(image, ax=ax)
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)), labels=list(xlabels))
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)), labels=list(ylabels))
    if annotate:
        mid = np.nanmean(matrix)
        for (r, c), value in np.ndenumerate(matrix):
            ax.text(
                c, r, fmt.format(value), ha="center", va="center", color="white" if value < mid else "black", fontsize=8
            )
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return ax
