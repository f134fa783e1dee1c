"""Streaming generation: an LSTM against a small causal Transformer, per token, as the context grows.

Three decoders of :mod:`lstm_course.torch.streamers`, of the same width and (almost) the same
parameter count, produce one token at a time after a prefix of ``position`` tokens has been read:
``LSTMStreamer`` (state ``(h, c)``, the same work for every token), ``TransformerStreamer(cache=True)``
(the KV cache, growing with the position) and ``TransformerStreamer(cache=False)`` (recomputes the
whole prefix for every token).

:func:`measure` times single steps at several positions (median of repeats, batch 1, one CPU thread,
``torch.inference_mode``) and reports the bytes each model must keep between steps.  The cached
path is checked against the recomputing one by the tests (same logits).  Importing this module
imports PyTorch.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from lstm_course.config import by_profile
from lstm_course.runtime import single_thread, synchronize
from lstm_course.tables import Table, markdown_table
from lstm_course.torch.streamers import LSTMStreamer, TransformerStreamer, state_bytes

__all__ = [
    "settings",
    "build_streamers",
    "measure",
    "streaming_table",
    "plot_streaming",
]


def settings() -> dict[str, Any]:
    """Sizes of the demonstration and the positions (context lengths) at which a step is timed."""
    return by_profile(
        quick=dict(vocab_size=64, d_model=128, num_layers=2, nhead=4, positions=(16, 64, 256, 1024), repeats=7),
        full=dict(
            vocab_size=64, d_model=256, num_layers=2, nhead=4, positions=(16, 64, 256, 1024, 2048, 4096), repeats=15
        ),
    )


def build_streamers(
    *, vocab_size: int, d_model: int, num_layers: int, nhead: int, seed: int = 0, **_: Any
) -> dict[str, nn.Module]:
    """The three decoders of the comparison, in eval mode, keyed by their Chinese label.

    The LSTM and the Transformer have the same width ``d_model``; with the Transformer's feed-forward
    width ``2 * d_model`` one layer of each has about ``8 * d_model**2`` weights.
    """
    torch.manual_seed(seed)
    lstm = LSTMStreamer(vocab_size, d_model, num_layers)
    torch.manual_seed(seed)
    cached = TransformerStreamer(vocab_size, d_model, num_layers, nhead, cache=True)
    recompute = TransformerStreamer(vocab_size, d_model, num_layers, nhead, cache=False)
    recompute.load_state_dict(cached.state_dict())
    models = {"LSTM": lstm, "Transformer + KV 缓存": cached, "Transformer（重算前缀）": recompute}
    return {name: model.eval() for name, model in models.items()}


def _median_seconds(fn, repeats: int, sync) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(
    models: dict[str, nn.Module] | None = None,
    positions: Sequence[int] | None = None,
    *,
    repeats: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> list[dict[str, Any]]:
    """Time one generation step after ``position`` tokens, for each model and position.

    Returns one row per (model, position): ``模型``, ``position``, ``ms_per_token`` (median of
    ``repeats`` steps from the same state, batch 1), ``state_bytes`` (what the model keeps between
    steps), ``prefill_ms`` (reading the whole prefix once) and ``parameters``.  Runs without
    gradients on ``device`` (default the CPU, on one thread; on CUDA or MPS every step is followed
    by :func:`lstm_course.runtime.synchronize`, and the models are moved there); ``None`` arguments come from
    :func:`settings`.
    """
    config = settings()
    models = build_streamers(**config, seed=seed) if models is None else models
    positions = tuple(config["positions"] if positions is None else positions)
    repeats = config["repeats"] if repeats is None else repeats
    if not positions or min(positions) < 1:
        raise ValueError(f"positions: expected lengths >= 1, received {positions}")
    vocab = next(iter(models.values())).head.out_features
    device = torch.device(device)
    sync = lambda: synchronize(device)  # noqa: E731 - waits for CUDA/MPS kernels; a no-op on the CPU
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randint(vocab, (1, max(positions) + 1), generator=generator).to(device)
    rows = []
    with single_thread(), torch.inference_mode():
        for name, model in models.items():
            model.to(device)
            parameters = sum(p.numel() for p in model.parameters())
            model.step(tokens[:, 0], model.prefill(tokens[:, :1])[1])  # warm-up
            sync()
            for position in positions:
                start = time.perf_counter()
                _, state = model.prefill(tokens[:, :position])
                sync()
                prefill = time.perf_counter() - start
                token = tokens[:, position]
                seconds = _median_seconds(lambda m=model, t=token, s=state: m.step(t, s), repeats, sync)
                rows.append(
                    {
                        "模型": name,
                        "position": position,
                        "ms_per_token": 1e3 * seconds,
                        "state_bytes": state_bytes(state),
                        "prefill_ms": 1e3 * prefill,
                        "parameters": parameters,
                    }
                )
    return rows


def streaming_table(rows: Sequence[dict[str, Any]]) -> Table:
    """The rows of :func:`measure` as a table (state in KiB)."""
    shown = [
        {
            "模型": r["模型"],
            "已读词元数": r["position"],
            "每个新词元（毫秒）": r["ms_per_token"],
            "步间保存的状态（KiB）": r["state_bytes"] / 1024,
            "一次读完前缀（毫秒）": r["prefill_ms"],
        }
        for r in rows
    ]
    return markdown_table(shown, floatfmt="{:.4g}")


def plot_streaming(rows: Sequence[dict[str, Any]]):
    """Two log-log panels against the position: milliseconds per new token, bytes kept. Returns the figure."""
    from matplotlib import pyplot as plt

    from lstm_course.plot import plot_lines, setup_chinese_font

    setup_chinese_font()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    names = list(dict.fromkeys(r["模型"] for r in rows))
    x = sorted({r["position"] for r in rows})
    by = {(r["模型"], r["position"]): r for r in rows}
    for ax, key, label in (
        (left, "ms_per_token", "每个新词元的时间（毫秒）"),
        (right, "state_bytes", "步间保存的状态（字节）"),
    ):
        series = {name: [by[name, p][key] for p in x] for name in names}
        plot_lines(x, series, xlabel="已读的词元数", ylabel=label, logx=True, logy=True, markers=True, ax=ax)
        ax.set_xticks(x, [str(p) for p in x])
        ax.minorticks_off()
    return fig
