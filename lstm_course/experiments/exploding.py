"""Exploding gradients and global-norm clipping (Pascanu et al., 2013), measured.

A tanh RNN learns the adding problem (short sequences) with plain SGD.  With the recurrent
matrix at spectral radius 1 it trains without help; at radius 1.5 the gradient norm grows step
after step until the loss overflows to ``inf``/``nan``; the *same* run with
``torch.nn.utils.clip_grad_norm_`` trains.  The runs are tiny and always use the CPU, so the
divergence (a numerical event) is reproducible.  Importing this module imports PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_course.config import by_profile
from lstm_course.experiments.adding import AddingModel, adding_batch
from lstm_course.experiments.common import make_recurrent
from lstm_course.runtime import single_thread
from lstm_course.tables import Table, markdown_table

__all__ = [
    "settings",
    "ClippingResult",
    "train_sgd",
    "run_exploding",
    "exploding_rows",
    "exploding_table",
    "plot_exploding",
]


def settings() -> dict[str, Any]:
    """Settings of the active profile: task length, sizes, SGD learning rate, updates, clip norm."""
    return by_profile(
        quick=dict(steps=10, hidden_size=32, batch_size=64, lr=0.1, updates=600, clip=1.0),
        full=dict(steps=10, hidden_size=32, batch_size=64, lr=0.1, updates=3000, clip=1.0),
    )


@dataclass
class ClippingResult:
    """One SGD run: the loss and the (unclipped) global gradient norm of every update."""

    label: str
    radius: float
    clip: float | None
    losses: list[float] = field(repr=False)
    grad_norms: list[float] = field(repr=False)
    diverged_at: int | None
    """1-based update at which the loss first was ``inf``/``nan`` (``None``: never)."""

    def final_loss(self, window: int = 50) -> float:
        """Mean training MSE of the last ``window`` updates (``nan`` if the run diverged)."""
        if self.diverged_at is not None:
            return float("nan")
        return float(np.mean(self.losses[-window:]))


def train_sgd(
    radius: float,
    clip: float | None,
    *,
    label: str | None = None,
    seed: int = 0,
    **overrides: Any,
) -> ClippingResult:
    """Train a tanh RNN (``W_hh`` at spectral radius ``radius``) on the adding problem with SGD.

    Args:
        clip: the global-norm threshold for ``clip_grad_norm_``, or ``None`` for no clipping.
        overrides: replace entries of :func:`settings` (``steps``, ``lr``, ``updates``, ...).

    The run stops at the first non-finite loss.  Both runs with the same ``seed`` see the same
    initial weights and the same batches.
    """
    cfg = settings()
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; known: {sorted(cfg)}")
    cfg |= overrides
    rng = np.random.default_rng(seed)
    model = AddingModel(make_recurrent("rnn", 2, cfg["hidden_size"], radius=radius, seed=seed), cfg["hidden_size"])
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"])
    losses: list[float] = []
    norms: list[float] = []
    diverged_at = None
    with single_thread():
        for update in range(1, cfg["updates"] + 1):
            X, y = (torch.from_numpy(a) for a in adding_batch(cfg["steps"], cfg["batch_size"], rng=rng))
            loss = nn.functional.mse_loss(model(X), y)
            optimizer.zero_grad()
            loss.backward()
            # With max_norm=inf clip_grad_norm_ only measures; otherwise it rescales all gradients
            # together so that their global norm is at most `clip`.  It returns the norm before.
            norm = nn.utils.clip_grad_norm_(model.parameters(), math.inf if clip is None else clip)
            losses.append(loss.item())
            norms.append(norm.item())
            if not math.isfinite(losses[-1]):
                diverged_at = update
                break
            optimizer.step()
    if label is None:
        label = f"ρ={radius:g}，" + ("不裁剪" if clip is None else f"裁剪到 {clip:g}")
    return ClippingResult(
        label=label, radius=radius, clip=clip, losses=losses, grad_norms=norms, diverged_at=diverged_at
    )


def run_exploding(*, seed: int = 0, **overrides: Any) -> dict[str, ClippingResult]:
    """The chapter's three runs: radius 1 unclipped, radius 1.5 unclipped, radius 1.5 clipped."""
    clip = (settings() | overrides)["clip"]
    runs = [
        train_sgd(1.0, None, seed=seed, **overrides),
        train_sgd(1.5, None, seed=seed, **overrides),
        train_sgd(1.5, clip, seed=seed, **overrides),
    ]
    return {r.label: r for r in runs}


def exploding_rows(results: Mapping[str, ClippingResult]) -> list[dict[str, Any]]:
    """One row per run: first non-finite update, largest gradient norm, final training MSE."""
    rows = []
    for r in results.values():
        finite = [g for g in r.grad_norms if math.isfinite(g)]
        rows.append(
            {
                "设置": r.label,
                "发散于第几步": "—" if r.diverged_at is None else str(r.diverged_at),
                "最大有限梯度范数": max(finite) if finite else float("nan"),
                "最后 50 步平均 MSE": r.final_loss(),
            }
        )
    return rows


def exploding_table(results: Mapping[str, ClippingResult]) -> Table:
    """:func:`exploding_rows` as a :class:`~lstm_course.tables.Table`."""
    return markdown_table(exploding_rows(results), floatfmt="{:.3g}")


def plot_exploding(results: Mapping[str, ClippingResult], *, axes: Any = None) -> Any:
    """Training MSE (left) and global gradient norm before clipping (right), log y; returns the axes."""
    from matplotlib import pyplot as plt

    from lstm_course.plot import plot_history, setup_chinese_font

    setup_chinese_font()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
    plot_history(
        {k: r.losses for k, r in results.items()},
        xlabel="更新步数",
        ylabel="训练 MSE",
        title="损失",
        logy=True,
        ax=axes[0],
    )
    plot_history(
        {k: r.grad_norms for k, r in results.items()},
        xlabel="更新步数",
        ylabel="全局梯度范数（裁剪前）",
        title="梯度范数",
        logy=True,
        ax=axes[1],
    )
    diverged = [r for r in results.values() if r.diverged_at is not None]
    for r in diverged:
        for ax in axes:
            ax.axvline(r.diverged_at, color="red", linestyle=":", linewidth=1)
        axes[0].annotate(
            f"第 {r.diverged_at} 步：损失 → inf/nan",
            xy=(r.diverged_at, 10),
            xytext=(8, -14),
            textcoords="offset points",
            color="red",
            fontsize=9,
        )
    if diverged:
        axes[0].set_ylim(top=10)  # the diverging curve leaves the plot; keep the others readable
    return axes
