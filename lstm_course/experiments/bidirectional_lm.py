"""Why a bidirectional network cheats as a language model — measured, not asserted.

A language model predicts token ``t+1`` from tokens ``0..t``.  Put a bidirectional LSTM under the
same loss and the output at position ``t`` concatenates the forward state (tokens ``0..t``) with
the backward state, which has read tokens ``t..T-1`` — **including the target** ``x_{t+1}``.
The network learns to copy the next input from its backward half: a near-perfect training and
validation perplexity.  At generation time the next token does not exist yet, so the trick is
gone: at the last position of a window (the only place where the target is not in the input)
it is no better than a unidirectional model, and the generated text shows it.

:class:`BidirectionalLM` has the call interface of :class:`lstm_course.torch.lm.model.RNNLM`, so
:func:`lstm_course.torch.lm.train.train_lm` trains it unchanged (with random sampling: every
window starts from the zero state in both directions).  :func:`position_perplexity` measures the
perplexity at each position of a window; :func:`generate_rereading` generates text the only way a
bidirectional model can be used for it: re-read the whole text so far, take the last position's
prediction.  :func:`influence_matrix` (in :mod:`lstm_course.torch.influence`) shows the
leak as a picture.

Importing this module imports PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from lstm_course.config import by_profile
from lstm_course.data.vocab import Vocab
from lstm_course.runtime import model_device
from lstm_course.torch.lm.generation import sample_next, split_prefix

__all__ = ["settings", "BidirectionalLM", "position_perplexity", "perplexity_from_positions", "generate_rereading"]


def settings() -> dict[str, Any]:
    """Sizes and budget of the active profile (the same for the unidirectional comparison model)."""
    return by_profile(
        quick=dict(batch_size=32, num_steps=32, embedding_dim=16, hidden_size=64, epochs=3, lr=0.01),
        full=dict(batch_size=32, num_steps=64, embedding_dim=32, hidden_size=256, epochs=10, lr=0.002),
    )


class BidirectionalLM(nn.Module):
    """The *wrong* language model: embedding → bidirectional LSTM → linear layer on ``[h_fwd; h_bwd]``.

    ``forward(X, state=None) -> (logits, None)``: ``X`` token indices ``(batch, steps)``, ``logits``
    time-major ``(steps, batch, vocab_size)`` — the call interface of
    :class:`~lstm_course.torch.lm.model.RNNLM`.  Both directions start every call from the zero state:
    a backward state cannot be carried from one window into the next (it was computed from the
    *end* of the previous window), so ``state`` must be ``None`` and ``None`` is returned.
    """

    def __init__(self, vocab_size: int, *, embedding_dim: int, hidden_size: int, num_layers: int = 1) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = nn.LSTM(embedding_dim, hidden_size, num_layers, bidirectional=True)
        self.output = nn.Linear(2 * hidden_size, vocab_size)

    def forward(self, X: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, None]:
        """``X`` ``(batch, steps)`` → ``(logits (steps, batch, vocab_size), None)``."""
        if state is not None:
            raise ValueError(
                "BidirectionalLM reads each window from the zero state: pass state=None "
                "(train with random sampling, use_random_iter=True)"
            )
        if X.dim() != 2:
            raise ValueError(f"X: expected token indices of shape (batch, steps), received {tuple(X.shape)}")
        Y, _ = self.rnn(self.embedding(X.T.long()))
        return self.output(Y), None


@torch.no_grad()
def position_perplexity(model: nn.Module, data_iter: Iterable, *, device: Any = None) -> np.ndarray:
    """Mean cross-entropy at each position ``t`` of the windows of ``data_iter``, as perplexities.

    Every window is read from the zero state (the state is *not* carried between batches), so
    position ``t`` has exactly ``t`` earlier tokens of context for a unidirectional model.
    Runs on the device of the model's parameters (``device``, if given, must be that one).

    Returns:
        ``(steps,)`` array: ``exp`` of the mean loss at each position.
    """
    device = model_device(model, device)
    was_training = model.training
    model.eval()
    total, count = None, 0
    try:
        for X, Y in data_iter:
            X = torch.as_tensor(np.asarray(X), dtype=torch.long, device=device)
            Y = torch.as_tensor(np.asarray(Y), dtype=torch.long, device=device)
            logits, _ = model(X, None)  # (steps, batch, vocab)
            loss = F.cross_entropy(logits.permute(1, 2, 0), Y, reduction="none")  # (batch, steps)
            total = loss.sum(0) if total is None else total + loss.sum(0)
            count += Y.shape[0]
    finally:
        model.train(was_training)
    if not count:
        raise ValueError("data_iter produced no batches")
    return np.exp((total / count).cpu().double().numpy())  # to the CPU first: MPS has no float64


def perplexity_from_positions(per_position: np.ndarray) -> float:
    """Overall perplexity of equally weighted positions: ``exp(mean(log ppl_t))``."""
    return float(math.exp(np.mean(np.log(np.asarray(per_position, dtype=np.float64)))))


@torch.no_grad()
def generate_rereading(
    model: nn.Module,
    vocab: Vocab,
    prefix: str,
    num_preds: int,
    *,
    context: int = 64,
    temperature: float = 0.0,
    top_k: int | None = None,
    seed: int | None = None,
) -> str:
    """Continue ``prefix`` character by character, re-reading the last ``context`` characters each step.

    The model sees the text so far as one window (zero state in both directions) and the next
    character is chosen from the logits at the **last** position
    (:func:`~lstm_course.torch.lm.generation.sample_next`: greedy for ``temperature=0``).  This is
    how any model can be used for generation; for a unidirectional model it equals carrying the
    state (up to the ``context`` cut-off).
    """
    if not isinstance(num_preds, int) or num_preds < 1:
        raise ValueError(f"num_preds must be an int >= 1, received {num_preds!r}")
    if context < 1:
        raise ValueError(f"context must be >= 1, received {context!r}")
    indices = list(split_prefix(prefix, vocab, "char"))
    device = model_device(model)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    was_training = model.training
    model.eval()
    try:
        for _ in range(num_preds):
            window = torch.tensor([indices[-context:]], device=device)
            logits, _ = model(window, None)
            indices.append(sample_next(logits[-1, 0], temperature=temperature, top_k=top_k, generator=generator))
    finally:
        model.train(was_training)
    return prefix + "".join(vocab.to_tokens(indices[len(indices) - num_preds :]))
