"""The adding problem (Hochreiter & Schmidhuber, 1997): can a recurrent net carry two numbers across T steps?

Each sequence has ``T`` steps with two input channels: a value drawn from ``U(0, 1)`` and a marker
that is 1 at exactly two positions (one in the first half, one in the second half) and 0 elsewhere.
The target is the sum of the two marked values.  Always predicting the mean 1 gives
``MSE = Var(u1 + u2) = 2/12 ≈ 0.167``: a model "stuck at the baseline" has learned nothing.

Importing this module imports PyTorch.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_course.config import by_profile
from lstm_course.experiments.common import KINDS, make_recurrent
from lstm_course.runtime import get_device, single_thread
from lstm_course.tables import Table, markdown_table
from lstm_course.torch.training import clipped_step

__all__ = [
    "BASELINE_MSE",
    "adding_batch",
    "baseline_mse",
    "settings",
    "AddingModel",
    "AddingResult",
    "train_adding",
    "run_adding",
    "flow_before_after",
    "adding_rows",
    "adding_table",
    "plot_adding_mse",
    "plot_adding_losses",
    "plot_flow_before_after",
]

BASELINE_MSE = 1.0 / 6.0
"""Expected MSE of always predicting the mean target 1, which is ``2 * Var(U(0,1)) = 2/12``."""


def adding_batch(steps: int, batch: int, *, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One batch of the adding problem.

    Returns:
        ``X`` of shape ``(steps, batch, 2)`` (channel 0: values in ``[0, 1)``, channel 1: markers)
        and the targets ``y`` of shape ``(batch,)``, both float32.
    """
    if steps < 2 or batch < 1:
        raise ValueError(f"need steps >= 2 and batch >= 1, got steps={steps}, batch={batch}")
    values = rng.random((steps, batch))
    first = rng.integers(0, steps // 2, size=batch)
    second = rng.integers(steps // 2, steps, size=batch)
    columns = np.arange(batch)
    markers = np.zeros((steps, batch))
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    X = np.stack([values, markers], axis=-1).astype(np.float32)
    y = (values[first, columns] + values[second, columns]).astype(np.float32)
    return X, y


def baseline_mse(y: np.ndarray) -> float:
    """MSE of the constant prediction 1 (the mean target) on the targets ``y``."""
    return float(np.mean((np.asarray(y, dtype=np.float64) - 1.0) ** 2))


def settings() -> dict[str, Any]:
    """Training settings of the active profile (sizes, optimiser, lengths ``T``)."""
    return by_profile(
        quick=dict(
            lengths=(10, 50, 100),
            hidden_size=32,
            batch_size=64,
            lr=0.02,
            max_steps=1000,
            stop_below=0.002,
            clip=1.0,
            forget_bias=1.0,
            eval_size=1000,
        ),
        full=dict(
            lengths=(10, 50, 100, 200),
            hidden_size=64,
            batch_size=128,
            lr=0.01,
            max_steps=6000,
            stop_below=0.0005,
            clip=1.0,
            forget_bias=1.0,
            eval_size=5000,
        ),
    )


class AddingModel(nn.Module):
    """A recurrent layer followed by a linear read-out of the last hidden state.

    ``forward(X)`` maps ``(steps, batch, 2)`` to predictions ``(batch,)``.
    """

    def __init__(self, recurrent: torch.nn.Module, hidden_size: int) -> None:
        super().__init__()
        self.recurrent = recurrent
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Predict the sum for each sequence of ``X`` ``(steps, batch, 2)``; returns ``(batch,)``."""
        outputs, _ = self.recurrent(X)
        return self.head(outputs[-1]).squeeze(-1)


@dataclass
class AddingResult:
    """One training run: the model kind, sequence length, test MSE and the training-loss history."""

    kind: str
    steps: int
    final_mse: float
    baseline_mse: float
    history: list[float] = field(repr=False)
    train_steps: int
    seconds: float
    model: AddingModel = field(repr=False)
    initial_recurrent: torch.nn.Module = field(repr=False)
    """A copy of the recurrent layer before training (for before/after comparisons)."""


def train_adding(
    kind: str,
    steps: int,
    *,
    hidden_size: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    max_steps: int | None = None,
    stop_below: float | None = None,
    clip: float | None = None,
    forget_bias: float | None = None,
    eval_size: int | None = None,
    seed: int = 0,
    window: int = 50,
    device: str | torch.device | None = None,
) -> AddingResult:
    """Train ``kind`` (``'rnn'``, ``'lstm'``, ``'gru'``) on the adding problem of length ``steps``.

    Adam on fresh batches, global-norm gradient clipping at ``clip``; training stops after
    ``max_steps`` updates, or earlier once the mean training MSE of the last ``window`` updates is
    below ``stop_below``.  The final MSE is measured on ``eval_size`` new sequences.  ``None``
    arguments take the values of :func:`settings`; ``forget_bias`` is used for LSTMs only.
    ``device`` defaults to :func:`lstm_course.runtime.get_device` (a GPU when there is one).
    """
    cfg = settings()
    hidden_size = cfg["hidden_size"] if hidden_size is None else hidden_size
    batch_size = cfg["batch_size"] if batch_size is None else batch_size
    lr = cfg["lr"] if lr is None else lr
    max_steps = cfg["max_steps"] if max_steps is None else max_steps
    stop_below = cfg["stop_below"] if stop_below is None else stop_below
    clip = cfg["clip"] if clip is None else clip
    forget_bias = cfg["forget_bias"] if forget_bias is None else forget_bias
    eval_size = cfg["eval_size"] if eval_size is None else eval_size
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    recurrent = make_recurrent(kind, 2, hidden_size, seed=seed, forget_bias=forget_bias if kind == "lstm" else None)
    initial = copy.deepcopy(recurrent)
    device = get_device() if device is None else torch.device(device)
    model = AddingModel(recurrent, hidden_size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history: list[float] = []
    with single_thread():
        for _ in range(max_steps):
            X, y = (torch.from_numpy(a).to(device) for a in adding_batch(steps, batch_size, rng=rng))
            loss = nn.functional.mse_loss(model(X), y)
            clipped_step(model, optimizer, loss, clip)
            history.append(loss.item())
            if stop_below and len(history) >= window and np.mean(history[-window:]) < stop_below:
                break
        X_test, y_test = adding_batch(steps, eval_size, rng=rng)
        with torch.no_grad():
            prediction = model(torch.from_numpy(X_test).to(device)).cpu().numpy()
    final = float(np.mean((prediction.astype(np.float64) - y_test) ** 2))
    return AddingResult(
        kind=kind,
        steps=steps,
        final_mse=final,
        baseline_mse=baseline_mse(y_test),
        history=history,
        train_steps=len(history),
        seconds=time.perf_counter() - start,
        model=model,
        initial_recurrent=initial,
    )


def run_adding(
    kinds: Sequence[str] = KINDS,
    lengths: Sequence[int] | None = None,
    *,
    seed: int = 0,
    progress: bool = True,
    **overrides: Any,
) -> list[AddingResult]:
    """Train every kind at every length (defaults: :func:`settings`); ``overrides`` go to :func:`train_adding`."""
    lengths = settings()["lengths"] if lengths is None else lengths
    jobs = [(kind, steps) for steps in lengths for kind in kinds]
    if progress:
        from tqdm import tqdm

        jobs = tqdm(jobs, desc="加法问题")
    return [train_adding(kind, steps, seed=seed, **overrides) for kind, steps in jobs]


_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def flow_before_after(
    results: Sequence[AddingResult], steps: int, *, n_seq: int = 4, seed: int = 1234
) -> dict[str, np.ndarray]:
    """``||dh_T/ds_t||`` of each run trained at length ``steps``, at initialisation and after training.

    Measured with :func:`lstm_course.experiments.gradient_flow.jacobian_norms` on ``n_seq`` fresh
    adding-problem sequences of ``steps + 1`` steps (so distances 1 .. ``steps``).  Returns
    label -> ``(steps, n_seq)``, e.g. ``'LSTM 初始化'`` and ``'LSTM 训练后'``.
    """
    from lstm_course.experiments.gradient_flow import jacobian_norms

    chosen = [r for r in results if r.steps == steps]
    if not chosen:
        raise ValueError(f"no run with T={steps}; available: {sorted({r.steps for r in results})}")
    X = torch.from_numpy(adding_batch(steps + 1, n_seq, rng=np.random.default_rng(seed))[0])
    curves = {}
    for r in chosen:
        curves[f"{_NAMES[r.kind]} 初始化"] = jacobian_norms(r.initial_recurrent, X)
        curves[f"{_NAMES[r.kind]} 训练后"] = jacobian_norms(r.model.recurrent, X)
    return curves


def adding_rows(results: Sequence[AddingResult]) -> list[dict[str, Any]]:
    """One row per run: model, T, test MSE, baseline MSE, updates and seconds."""
    return [
        {
            "模型": _NAMES[r.kind],
            "T": r.steps,
            "测试 MSE": r.final_mse,
            "基线 MSE": r.baseline_mse,
            "更新步数": r.train_steps,
            "用时 (s)": f"{r.seconds:.1f}",
        }
        for r in results
    ]


def adding_table(results: Sequence[AddingResult]) -> Table:
    """:func:`adding_rows` as a :class:`~lstm_course.tables.Table`."""
    return markdown_table(adding_rows(results), floatfmt="{:.4f}")


def plot_adding_mse(results: Sequence[AddingResult], *, ax: Any = None) -> Any:
    """Test MSE versus sequence length ``T`` per model (log y), with the baseline; returns the Axes."""
    from lstm_course.plot import plot_lines

    lengths = sorted({r.steps for r in results})
    series = {}
    for kind in dict.fromkeys(r.kind for r in results):
        by_length = {r.steps: r.final_mse for r in results if r.kind == kind}
        series[_NAMES[kind]] = [by_length.get(T, np.nan) for T in lengths]
    ax = plot_lines(lengths, series, xlabel="序列长度 T", ylabel="测试 MSE", logy=True, markers=True, ax=ax)
    ax.axhline(BASELINE_MSE, color="gray", linestyle="--", label="基线 1/6")
    ax.legend()
    return ax


def plot_adding_losses(results: Sequence[AddingResult], steps: int, *, ax: Any = None) -> Any:
    """Training-loss curves of every model trained at length ``steps`` (log y); returns the Axes."""
    from lstm_course.plot import plot_history

    history = {_NAMES[r.kind]: r.history for r in results if r.steps == steps}
    if not history:
        raise ValueError(f"no run with T={steps}; available: {sorted({r.steps for r in results})}")
    ax = plot_history(history, xlabel="更新步数", ylabel="训练 MSE", title=f"加法问题，T = {steps}", logy=True, ax=ax)
    ax.axhline(BASELINE_MSE, color="gray", linestyle="--", label="基线 1/6")
    ax.legend()
    return ax


def plot_flow_before_after(curves: dict[str, np.ndarray], *, title: str = "", ax: Any = None) -> Any:
    """Plot :func:`flow_before_after`: one colour per model, dashed at initialisation, solid after training."""
    from lstm_course.experiments.gradient_flow import plot_flow

    ax = plot_flow(curves, title=title, ax=ax)
    colours: dict[str, str] = {}
    for line in ax.get_lines():
        model, _, stage = line.get_label().partition(" ")
        line.set_color(colours.setdefault(model, f"C{len(colours)}"))
        line.set_linestyle("--" if stage == "初始化" else "-")
    ax.legend()
    return ax
