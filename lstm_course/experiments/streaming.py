"""Streaming generation: an LSTM against a small causal Transformer, per token, as the context grows.

Three decoders of the same width and (almost) the same parameter count produce one token at a
time after a prefix of ``position`` tokens has been read:

* ``LSTMStreamer`` keeps the state ``(h, c)`` — ``2 * num_layers * hidden`` numbers, whatever the
  position — and does the same work for every new token;
* ``TransformerStreamer(cache=True)`` keeps the keys and values of every past token in every layer
  (the *KV cache*, ``2 * num_layers * position * d_model`` numbers) and attends over all of them;
* ``TransformerStreamer(cache=False)`` keeps only the token ids and recomputes the whole prefix
  through ``torch.nn.TransformerEncoder`` with a causal mask for every new token.

:func:`measure` times single steps at several positions (median of repeats, batch 1, one CPU thread,
``torch.inference_mode``) and reports the bytes each model must keep between steps.  The cached
path is checked against the recomputing one by the tests (same logits).  Importing this module
imports PyTorch.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lstm_course.config import by_profile
from lstm_course.experiments.common import Table, markdown_table, single_thread
from lstm_course.runtime import synchronize

__all__ = [
    "settings",
    "LSTMStreamer",
    "TransformerStreamer",
    "state_bytes",
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


def state_bytes(state: Any) -> int:
    """Bytes of all tensors in ``state`` (a tensor or nested tuples/lists of tensors)."""
    if isinstance(state, torch.Tensor):
        return state.numel() * state.element_size()
    if isinstance(state, (tuple, list)):
        return sum(state_bytes(s) for s in state)
    raise TypeError(f"state: expected tensors in tuples/lists, received {type(state).__name__}")


def _check_tokens(tokens: torch.Tensor) -> None:
    if tokens.dim() != 2 or tokens.dtype not in (torch.int32, torch.int64):
        raise ValueError(
            f"tokens: expected integer ids of shape (batch, steps), received {tuple(tokens.shape)} {tokens.dtype}"
        )


class LSTMStreamer(nn.Module):
    """Embedding → ``nn.LSTM`` (batch-first) → linear head; the state is ``(h, c)``.

    ``prefill(tokens)`` reads ``(batch, steps)`` token ids and returns ``(logits, state)`` with
    logits of the last step ``(batch, vocab)``; ``step(token, state)`` reads one token per
    sequence, ``(batch,)``, and returns the next ``(logits, state)``.
    """

    def __init__(self, vocab_size: int, d_model: int, num_layers: int = 1) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.rnn = nn.LSTM(d_model, d_model, num_layers, batch_first=True)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(
        self, tokens: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Logits of every step ``(batch, steps, vocab)`` and the final state ``(h_n, c_n)``."""
        _check_tokens(tokens)
        output, state = self.rnn(self.embedding(tokens), state)
        return self.head(output), state

    def prefill(self, tokens: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Read a prefix ``(batch, steps)``; return the last logits ``(batch, vocab)`` and the state."""
        logits, state = self(tokens)
        return logits[:, -1], state

    def step(
        self, token: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One new token per sequence ``(batch,)`` → ``(logits (batch, vocab), new state)``."""
        logits, state = self(token.reshape(-1, 1), state)
        return logits[:, -1], state


def _sinusoid(positions: torch.Tensor, d_model: int) -> torch.Tensor:
    """Sinusoidal position encodings (Vaswani et al., 2017) of ``positions``, ``(steps, d_model)``."""
    i = torch.arange(0, d_model, 2, dtype=torch.float32, device=positions.device)
    angles = positions.float()[:, None] / torch.pow(10000.0, i / d_model)
    encoding = torch.zeros(len(positions), d_model, device=positions.device)
    encoding[:, 0::2], encoding[:, 1::2] = torch.sin(angles), torch.cos(angles)
    return encoding


class TransformerStreamer(nn.Module):
    """A causal Transformer decoder of ``torch.nn.TransformerEncoderLayer`` blocks (post-norm, ReLU).

    With ``cache=True`` the state is the KV cache, one ``(K, V)`` pair per layer, each
    ``(batch, nhead, steps, d_model // nhead)``; with ``cache=False`` it is the token ids read so far,
    ``(batch, steps)``, and every step runs the whole prefix through ``nn.TransformerEncoder`` with a
    causal mask.  Both give the same logits (up to rounding); only the work and memory differ.
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int,
        num_layers: int = 1,
        nhead: int = 4,
        dim_feedforward: int | None = None,
        *,
        cache: bool = True,
    ) -> None:
        super().__init__()
        if d_model % nhead:
            raise ValueError(f"d_model={d_model} must be divisible by nhead={nhead}")
        self.d_model, self.nhead, self.cache = d_model, nhead, cache
        self.embedding = nn.Embedding(vocab_size, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward or 2 * d_model, dropout=0.0, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, vocab_size)

    def _embed(self, tokens: torch.Tensor, start: int) -> torch.Tensor:
        positions = torch.arange(start, start + tokens.shape[1], device=tokens.device)
        return self.embedding(tokens) * math.sqrt(self.d_model) + _sinusoid(positions, self.d_model)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits of every position ``(batch, steps, vocab)``, each seeing only earlier tokens."""
        _check_tokens(tokens)
        steps = tokens.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(steps, device=tokens.device)
        return self.head(self.encoder(self._embed(tokens, 0), mask=mask, is_causal=True))

    def _cached_layers(
        self, x: torch.Tensor, cache: Sequence[tuple[torch.Tensor, torch.Tensor]] | None
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """Run new positions ``x`` ``(batch, n, d_model)`` through every layer, extending the cache."""
        batch, n, _ = x.shape
        heads, head_dim = self.nhead, self.d_model // self.nhead
        new_cache = []
        for index, layer in enumerate(self.encoder.layers):
            attn = layer.self_attn
            q, k, v = F.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
            q, k, v = (t.reshape(batch, n, heads, head_dim).transpose(1, 2) for t in (q, k, v))
            if cache is not None:
                k = torch.cat([cache[index][0], k], dim=2)
                v = torch.cat([cache[index][1], v], dim=2)
            past = k.shape[2] - n
            # new position i (absolute past + i) may attend to absolute positions <= past + i
            allowed = torch.ones(n, past + n, dtype=torch.bool, device=x.device).tril(diagonal=past)
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=None if n == 1 else allowed)
            a = attn.out_proj(a.transpose(1, 2).reshape(batch, n, self.d_model))
            x = layer.norm1(x + a)
            x = layer.norm2(x + layer.linear2(layer.activation(layer.linear1(x))))
            new_cache.append((k, v))
        return x, new_cache

    def prefill(self, tokens: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """Read a prefix ``(batch, steps)``; return the last logits ``(batch, vocab)`` and the state."""
        _check_tokens(tokens)
        if not self.cache:
            return self(tokens)[:, -1], tokens
        x, cache = self._cached_layers(self._embed(tokens, 0), None)
        return self.head(x[:, -1]), cache

    def step(self, token: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """One new token per sequence ``(batch,)`` → ``(logits (batch, vocab), new state)``.

        The old state is not modified, so the same state can be stepped from repeatedly.
        """
        token = token.reshape(-1, 1)
        if not self.cache:
            tokens = torch.cat([state, token], dim=1)
            return self(tokens)[:, -1], tokens
        position = state[0][0].shape[2]
        x, cache = self._cached_layers(self._embed(token, position), state)
        return self.head(x[:, -1]), cache


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
                seconds = _median_seconds(lambda: model.step(token, state), repeats, sync)
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
