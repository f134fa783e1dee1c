"""Scoring a language model: the loss per token and the perplexity of a whole text.

:func:`lm_loss` is the mean cross-entropy per token that training minimises and
:func:`evaluate_perplexity` ``exp`` of it over every token of a data iterator, with the state
handled as the minibatch scheme requires (see :mod:`lstm_course.data.timemachine`): carried
across batches for sequential partitioning, reset for random sampling.  Nothing here trains.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from lstm_course.torch.lm.model import RNNLM

__all__ = ["perplexity", "lm_loss", "as_tokens", "resets_state", "evaluate_perplexity"]


def perplexity(mean_loss: float) -> float:
    """``exp(mean_loss)``, ``inf`` where that overflows a float (instead of ``OverflowError``)."""
    try:
        return math.exp(mean_loss)
    except OverflowError:
        return math.inf


def lm_loss(logits: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per token.

    Args:
        logits: ``(steps, batch, vocab)``, as returned by :class:`~lstm_course.torch.lm.model.RNNLM`.
        Y: targets ``(batch, steps)`` (d2l's batch layout).
    """
    steps, batch, vocab = logits.shape
    if tuple(Y.shape) != (batch, steps):
        raise ValueError(
            f"Y: expected shape {(batch, steps)} (batch, steps) to match logits "
            f"{tuple(logits.shape)}, received {tuple(Y.shape)}"
        )
    return F.cross_entropy(logits.reshape(-1, vocab), Y.T.reshape(-1).long())


def as_tokens(array: Any, device: torch.device) -> torch.Tensor:
    """A batch of token indices (NumPy or torch) as a ``long`` tensor on ``device``."""
    if isinstance(array, torch.Tensor):
        return array.to(device)
    return torch.as_tensor(np.asarray(array), dtype=torch.long, device=device)


def resets_state(data_iter: Any, use_random_iter: bool | None = None) -> bool:
    """Whether every batch starts from the zero state: ``use_random_iter``, else ``data_iter.use_random_iter``."""
    if use_random_iter is not None:
        return bool(use_random_iter)
    return bool(getattr(data_iter, "use_random_iter", False))


@torch.no_grad()
def evaluate_perplexity(
    model: RNNLM, data_iter: Iterable, *, device: Any = None, use_random_iter: bool | None = None
) -> float:
    """Perplexity ``exp(mean cross-entropy)`` of ``model`` on every token of ``data_iter``.

    The state is carried across batches for sequential partitioning (reset for random sampling);
    the model is put in ``eval()`` mode and returned to its previous mode afterwards.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    random_iter = resets_state(data_iter, use_random_iter)
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        for X, Y in data_iter:
            X, Y = as_tokens(X, device), as_tokens(Y, device)
            logits, state = model(X, None if random_iter else state)
            total += float(lm_loss(logits, Y)) * Y.numel()
            count += Y.numel()
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("data_iter produced no batches")
    return perplexity(total / count)
