"""Decoders that generate one token at a time: an LSTM and a small causal Transformer.

* :class:`LSTMStreamer` keeps the state ``(h, c)`` — ``2 * num_layers * hidden`` numbers, whatever
  the position — and does the same work for every new token;
* :class:`TransformerStreamer` with ``cache=True`` keeps the keys and values of every past token
  in every layer (the *KV cache*, ``2 * num_layers * position * d_model`` numbers) and attends
  over all of them; with ``cache=False`` it keeps only the token ids and recomputes the whole
  prefix through ``torch.nn.TransformerEncoder`` with a causal mask for every new token;
* :func:`state_bytes` — what a decoder must keep between two steps, in bytes.

Chapter 11's measurement (:mod:`lstm_course.experiments.streaming`) times them; the self-checks
of :mod:`lstm_course.check.summary` compare a learner's state sizes with :func:`state_bytes`.
Importing this module imports PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LSTMStreamer", "TransformerStreamer", "state_bytes"]


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
