"""Deep (stacked) LSTMs: the layout of ``h_n``, scratch == ``nn.LSTM``, and 1 vs 2 layers on a real task.

* :func:`state_layout` — which row of ``h_n`` belongs to which layer and direction, and which
  rows equal a slice of ``output`` (only the top layer's do);
* :func:`scratch_vs_framework` — the scratch :class:`~lstm_course.torch.lstm.ScratchLSTM` (a
  :class:`~lstm_course.torch.stack.StackedRNN`) against ``nn.LSTM`` with the same weights
  (copied by :mod:`lstm_course.convert`): maximum differences of outputs, states and gradients;
* :func:`run_depth` — character language models on *The Time Machine* (honest position split)
  with 1 and 2 layers, same hidden size and budget: parameters, tokens/s, perplexities.

Importing this module imports PyTorch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from lstm_course.config import by_profile
from lstm_course.lm.history import LMHistory
from lstm_course.params import parameter_count
from lstm_course.runtime import get_device, set_seed, single_thread
from lstm_course.tables import Table, markdown_table
from lstm_course.torch.lm import RNNLM, build_rnn
from lstm_course.torch.lm.train import train_lm

__all__ = [
    "settings",
    "default_runs",
    "state_layout",
    "scratch_vs_framework",
    "build_depth_lm",
    "DepthResult",
    "run_depth",
    "depth_rows",
    "depth_table",
    "plot_depth",
]

_DIRECTIONS = ("正向", "反向")


def settings() -> dict[str, Any]:
    """Data, model and training sizes of the active profile."""
    return by_profile(
        quick=dict(batch_size=32, num_steps=64, embedding_dim=16, hidden_size=128, epochs=3, lr=0.004, dropout=0.2),
        full=dict(batch_size=32, num_steps=64, embedding_dim=32, hidden_size=256, epochs=30, lr=0.002, dropout=0.3),
    )


def default_runs(dropout: float | None = None) -> dict[str, dict[str, Any]]:
    """The compared models: ``{name: {"num_layers": ..., "dropout": ...}}``."""
    p = settings()["dropout"] if dropout is None else dropout
    return {
        "1 层": dict(num_layers=1, dropout=0.0),
        "2 层": dict(num_layers=2, dropout=0.0),
        f"2 层 + 层间 dropout {p:g}": dict(num_layers=2, dropout=p),
    }


# ---------------------------------------------------------------- shapes
@torch.no_grad()
def state_layout(rnn: nn.Module, X: torch.Tensor) -> list[dict[str, Any]]:
    """One row per row ``k`` of ``h_n``: its layer and direction, and where it shows up in ``output``.

    For the top layer, the forward direction's final state is ``output[-1, :, :H]`` (after the
    last step) and the backward direction's is ``output[0, :, H:]`` (the backward cell ends at
    position 0); lower layers' states are not part of ``output``.  ``X`` is time-major
    ``(steps, batch, input_size)``; ``rnn`` has the ``nn.LSTM`` interface.
    """
    if getattr(rnn, "batch_first", False):
        raise ValueError("state_layout expects a time-major rnn (batch_first=False)")
    output, state = rnn(X)
    h_n = state[0] if isinstance(state, tuple) else state
    H, D = rnn.hidden_size, 2 if rnn.bidirectional else 1
    rows = []
    for k in range(h_n.shape[0]):
        layer, direction = divmod(k, D)
        row = {"h_n 的行 k": k, "层 layer": layer, "方向": _DIRECTIONS[direction], "等于 output 的": "—", "最大差": "—"}
        if layer == rnn.num_layers - 1:
            piece = output[-1, :, :H] if direction == 0 else output[0, :, H:]
            row["等于 output 的"] = "output[-1, :, :H]" if direction == 0 else "output[0, :, H:]"
            row["最大差"] = f"{(piece - h_n[k]).abs().max().item():.1e}"
        rows.append(row)
    return rows


def scratch_vs_framework(
    num_layers: int = 2,
    bidirectional: bool = True,
    *,
    input_size: int = 3,
    hidden_size: int = 4,
    steps: int = 5,
    batch: int = 2,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> dict[str, float]:
    """Max absolute differences between ``ScratchLSTM`` and ``nn.LSTM`` with copied weights.

    Both get the same random input and initial state; the loss uses ``output``, ``h_n`` and
    ``c_n``.  Returns differences of ``output``, ``h_n``, ``c_n``, ``dX`` (gradient w.r.t. the
    input) and ``d参数`` (all parameter gradients, in the d2l layout).
    """
    from lstm_course import convert
    from lstm_course.torch.lstm import ScratchLSTM

    torch.manual_seed(seed)
    ref = nn.LSTM(input_size, hidden_size, num_layers, bidirectional=bidirectional).to(dtype)
    scratch = ScratchLSTM(input_size, hidden_size, num_layers, bidirectional=bidirectional).to(dtype)
    convert.copy_lstm(ref, scratch)
    rows = num_layers * (2 if bidirectional else 1)
    X = torch.randn(steps, batch, input_size, dtype=dtype)
    state = tuple(torch.randn(rows, batch, hidden_size, dtype=dtype) for _ in range(2))
    results = []
    for module in (ref, scratch):
        x = X.clone().requires_grad_(True)
        out, (h_n, c_n) = module(x, state)
        (out.sin().sum() + h_n.square().sum() + c_n.cos().sum()).backward()
        results.append((out, h_n, c_n, x.grad))
    diffs = {
        name: (a - b).abs().max().item() for name, a, b in zip(("output", "h_n", "c_n", "dX"), *results, strict=True)
    }
    grads = zip(convert.lstm_grads(ref), convert.lstm_grads(scratch), strict=True)
    diffs["d参数"] = max(float(abs(g1[n] - g2[n]).max()) for g1, g2 in grads for n in convert.LSTM_PARAM_NAMES)
    return diffs


# ---------------------------------------------------------------- 1 vs 2 layers
def build_depth_lm(vocab_size: int, num_layers: int, dropout: float, *, embedding_dim: int, hidden_size: int) -> RNNLM:
    """Embedding → ``nn.LSTM(num_layers, dropout=dropout)`` → linear; dropout **between layers only**."""
    rnn = build_rnn("lstm", "framework", embedding_dim, hidden_size, num_layers, dropout)
    return RNNLM(rnn, vocab_size, embedding_dim=embedding_dim)


@dataclass
class DepthResult:
    """One trained language model of the depth comparison."""

    name: str
    num_layers: int
    dropout: float
    parameters: int
    recurrent_parameters: int
    history: LMHistory = field(repr=False)
    model: RNNLM = field(repr=False)


def run_depth(
    train_iter: Iterable,
    val_iter: Iterable,
    vocab_size: int,
    runs: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    seed: int = 0,
    device: Any = None,
    progress: bool = False,
    **overrides: Any,
) -> list[DepthResult]:
    """Train one language model per run (same data, hidden size, epochs, optimiser and seed).

    Args:
        train_iter, val_iter: e.g. from :func:`lstm_course.data.timemachine.load_time_machine_splits`.
        vocab_size: number of characters.
        runs: ``{name: {"num_layers": int, "dropout": float}}``; default :func:`default_runs`.
        overrides: replace entries of :func:`settings` (``embedding_dim``, ``hidden_size``,
            ``epochs``, ``lr``).

    Every model is trained with Adam, gradient clipping at 1, validation after every epoch, and
    the weights of its best validation epoch restored (``restore_best=True``).
    """
    cfg = {**settings(), **overrides}
    runs = default_runs(cfg["dropout"]) if runs is None else runs
    device = device if isinstance(device, torch.device) else get_device(device)
    results = []
    for name, run in runs.items():
        set_seed(seed)
        model = build_depth_lm(
            vocab_size,
            run["num_layers"],
            run["dropout"],
            embedding_dim=cfg["embedding_dim"],
            hidden_size=cfg["hidden_size"],
        )
        with single_thread():
            history = train_lm(
                model,
                train_iter,
                epochs=cfg["epochs"],
                lr=cfg["lr"],
                optimizer="adam",
                clip=1.0,
                val_iter=val_iter,
                restore_best=True,
                device=device,
                seed=seed,
                progress=progress,
                desc=name,
            )
        recurrent = parameter_count("lstm", cfg["embedding_dim"], cfg["hidden_size"], num_layers=run["num_layers"])
        results.append(
            DepthResult(
                name,
                run["num_layers"],
                run["dropout"],
                sum(p.numel() for p in model.parameters()),
                recurrent,
                history,
                model,
            )
        )
    return results


def depth_rows(results: Sequence[DepthResult]) -> list[dict[str, Any]]:
    """One row per model: parameters, speed, final training and best validation perplexity."""
    return [
        {
            "模型": r.name,
            "参数量（全部）": f"{r.parameters:,}",
            "其中 LSTM": f"{r.recurrent_parameters:,}",
            "词元/秒": f"{r.history.mean_tokens_per_s():,.0f}",
            "训练用时 (s)": f"{sum(r.history.seconds):.1f}",
            "训练困惑度（末轮）": r.history.train_ppl[-1],
            "最佳验证困惑度": r.history.best_val_ppl,
            "最佳轮": r.history.best_epoch,
        }
        for r in results
    ]


def depth_table(results: Sequence[DepthResult]) -> Table:
    """:func:`depth_rows` as a :class:`~lstm_course.tables.Table`."""
    return markdown_table(depth_rows(results), floatfmt="{:.3f}")


def plot_depth(results: Sequence[DepthResult], *, ax: Any = None) -> Any:
    """Validation perplexity per epoch of every model (training perplexity dotted); returns the Axes."""
    from matplotlib.ticker import MaxNLocator

    from lstm_course.plot import new_axes

    ax = new_axes(ax, figsize=(6.5, 3.8))
    for k, r in enumerate(results):
        epochs = range(1, r.history.epochs + 1)
        color = f"C{k}"
        ax.plot(epochs, r.history.val_ppl, marker="o", color=color, label=f"{r.name}（验证）")
        ax.plot(epochs, r.history.train_ppl, linestyle=":", color=color, label=f"{r.name}（训练）")
    ax.set(xlabel="轮 (epoch)", ylabel="困惑度 (perplexity)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax
