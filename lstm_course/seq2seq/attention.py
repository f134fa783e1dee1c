"""Attention over the encoder's outputs: additive (Bahdanau) and dot-product (Luong) scores.

Both take the decoder states ``query (tgt_steps, batch, hidden)``, the encoder outputs
``memory (src_steps, batch, hidden)`` and ``mask (src_steps, batch)`` (True where a real
source token stands), and return the context ``(tgt_steps, batch, hidden)`` and the weights
``(tgt_steps, batch, src_steps)``, which sum to 1 over the source and are exactly 0 on padding.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["masked_softmax", "AdditiveAttention", "DotAttention", "make_attention"]


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax of ``scores (tgt_steps, batch, src_steps)`` over the last axis, 0 where ``mask`` is False.

    ``mask`` is ``(src_steps, batch)``; every column must hold at least one True.
    """
    keep = mask.T.unsqueeze(0)  # (1, batch, src_steps)
    return torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1)


class _Attention(nn.Module):
    def score(self, query: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(
        self, query: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Context ``(tgt_steps, batch, hidden)`` and weights ``(tgt_steps, batch, src_steps)``."""
        weights = masked_softmax(self.score(query, memory), mask)
        context = torch.einsum("tbs,sbh->tbh", weights, memory)
        return context, weights


class AdditiveAttention(_Attention):
    """Bahdanau's score ``v^T tanh(W_q q_t + W_k k_s)`` with a hidden layer of ``attn_size``."""

    def __init__(self, hidden_size: int, attn_size: int) -> None:
        super().__init__()
        self.W_q = nn.Linear(hidden_size, attn_size, bias=False)
        self.W_k = nn.Linear(hidden_size, attn_size, bias=False)
        self.v = nn.Linear(attn_size, 1, bias=False)

    def score(self, query: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Scores ``(tgt_steps, batch, src_steps)``."""
        q = self.W_q(query).unsqueeze(2)  # (T, B, 1, A)
        k = self.W_k(memory).permute(1, 0, 2).unsqueeze(0)  # (1, B, S, A)
        return self.v(torch.tanh(q + k)).squeeze(-1)


class DotAttention(_Attention):
    """Luong's dot score ``q_t^T k_s / sqrt(hidden)``."""

    def score(self, query: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Scores ``(tgt_steps, batch, src_steps)``."""
        return torch.einsum("tbh,sbh->tbs", query, memory) / query.shape[-1] ** 0.5


def make_attention(kind: str, hidden_size: int, attn_size: int) -> nn.Module | None:
    """``'additive'``, ``'dot'`` or ``'none'`` (no attention: returns ``None``)."""
    if kind == "additive":
        return AdditiveAttention(hidden_size, attn_size)
    if kind == "dot":
        return DotAttention()
    if kind == "none":
        return None
    raise ValueError(f"attention must be 'none', 'additive' or 'dot', got {kind!r}")
