"""Chinese labels render with a real CJK font: matplotlib must not warn about missing glyphs."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from lstm_course import plot  # noqa: E402


def test_chinese_text_has_no_missing_glyphs(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" becomes a failure
        ax = plot.plot_lines(
            [1, 2, 3],
            {"遗忘门": [1, 2, 3], "输入门 −1": [3, 2, 1]},
            xlabel="时间步",
            ylabel="梯度范数",
            title="循环神经网络",
            logy=True,
        )
        plot.heatmap(np.eye(3), xlabels=["甲", "乙", "丙"], ylabels=list("一二三"), title="热力图", annotate=True)
        plot.plot_history({"训练困惑度": [3, 2, 1.5]}, title="困惑度")
        ax.figure.savefig(tmp_path / "fig.png")
        plt.close("all")
    assert matplotlib.rcParams["font.sans-serif"][0] == plot.setup_chinese_font()
    assert "CJK" in plot.setup_chinese_font()
