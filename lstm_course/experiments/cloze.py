"""Character cloze: fill in masked characters of *The Time Machine* from their context.

A window of ``window`` characters is cut from the text and about ``mask_prob`` of its positions
(at least one) are replaced by an extra ``<mask>`` input token.  A recurrent tagger reads the
corrupted window and predicts, *at every masked position*, the character that was there:

* a **unidirectional** LSTM's output at position ``t`` has read positions ``0..t`` — only the
  left context (and the ``<mask>`` itself);
* a **bidirectional** LSTM's output at ``t`` concatenates the forward state (positions ``0..t``)
  and the backward state (positions ``t..window-1``) — both sides.

The hidden character never enters the input (only ``<mask>`` does), so the task is honest for
both models; it is the setting in which a bidirectional network is legitimately useful: the
whole sequence is available when the prediction is made.  (It is the character-level version of
the masked language model of BERT.)

Importing this module imports PyTorch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from lstm_course.config import by_profile
from lstm_course.params import parameter_count
from lstm_course.runtime import get_device, set_seed, single_thread
from lstm_course.torch.training import clipped_step

__all__ = [
    "settings",
    "ClozeBatch",
    "mask_windows",
    "window_starts",
    "ClozeModel",
    "ClozeResult",
    "train_cloze",
    "held_out_batch",
    "cloze_accuracy",
    "accuracy_by_kind",
    "KINDS",
    "frequency_baseline",
    "matching_hidden_size",
    "run_cloze",
    "fill_in",
]


def settings() -> dict[str, Any]:
    """Sizes and training budget of the active profile."""
    return by_profile(
        quick=dict(
            window=32,
            mask_prob=0.15,
            embedding_dim=32,
            hidden_size=64,
            batch_size=64,
            train_steps=500,
            lr=0.005,
            clip=1.0,
        ),
        full=dict(
            window=64,
            mask_prob=0.15,
            embedding_dim=32,
            hidden_size=256,
            batch_size=64,
            train_steps=6000,
            lr=0.002,
            clip=1.0,
        ),
    )


@dataclass
class ClozeBatch:
    """Masked windows, time-major.

    Attributes:
        inputs: ``(window, batch)`` token indices; masked positions hold ``mask_index``.
        targets: ``(window, batch)`` the original characters.
        mask: ``(window, batch)`` bool, ``True`` where a character was hidden.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor


def window_starts(length: int, window: int) -> np.ndarray:
    """Start positions of the non-overlapping windows that fit into ``length`` tokens."""
    if window < 2:
        raise ValueError(f"window must be >= 2, received {window}")
    if length < window:
        raise ValueError(f"corpus too short: expected at least {window} tokens, received {length}")
    return np.arange(0, length - window + 1, window)


def mask_windows(
    corpus: Sequence[int] | np.ndarray,
    starts: Sequence[int] | np.ndarray,
    window: int,
    *,
    mask_index: int,
    mask_prob: float,
    rng: np.random.Generator,
) -> ClozeBatch:
    """Cut ``corpus[s : s + window]`` for every start ``s`` and hide characters.

    Every position is hidden independently with probability ``mask_prob``; a window in which
    none was drawn gets one hidden position chosen uniformly, so every window has a target.
    """
    if not 0.0 < mask_prob < 1.0:
        raise ValueError(f"mask_prob must be in (0, 1), received {mask_prob!r}")
    data = np.asarray(corpus, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    if starts.ndim != 1 or starts.size == 0:
        raise ValueError(f"starts: expected a non-empty 1-D array, received shape {starts.shape}")
    if starts.min() < 0 or starts.max() + window > len(data):
        raise ValueError(f"starts: windows of {window} tokens must lie inside the {len(data)}-token corpus")
    if (data == mask_index).any():
        raise ValueError(f"mask_index {mask_index} is a real token of the corpus; use an unused index")
    targets = data[starts[None, :] + np.arange(window)[:, None]]  # (window, batch)
    mask = rng.random(targets.shape) < mask_prob
    empty = ~mask.any(axis=0)
    mask[rng.integers(0, window, size=int(empty.sum())), np.flatnonzero(empty)] = True
    inputs = np.where(mask, mask_index, targets)
    return ClozeBatch(torch.from_numpy(inputs), torch.from_numpy(targets), torch.from_numpy(mask))


class ClozeModel(nn.Module):
    """Embedding (``vocab_size + 1`` rows: the last is ``<mask>``) → LSTM → linear layer per position.

    ``forward(inputs)`` maps ``(steps, batch)`` token indices to logits ``(steps, batch,
    vocab_size)``; with ``bidirectional=True`` the linear layer reads ``[h_fwd; h_bwd]``.
    """

    def __init__(
        self, vocab_size: int, *, embedding_dim: int, hidden_size: int, bidirectional: bool, num_layers: int = 1
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.mask_index = vocab_size
        self.embedding = nn.Embedding(vocab_size + 1, embedding_dim)
        self.rnn = nn.LSTM(embedding_dim, hidden_size, num_layers, bidirectional=bidirectional)
        self.output = nn.Linear(hidden_size * (2 if bidirectional else 1), vocab_size)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``inputs`` ``(steps, batch)`` → logits ``(steps, batch, vocab_size)``."""
        if inputs.dim() != 2:
            raise ValueError(f"inputs: expected (steps, batch) token indices, received shape {tuple(inputs.shape)}")
        Y, _ = self.rnn(self.embedding(inputs))
        return self.output(Y)


def _masked_loss(model: ClozeModel, batch: ClozeBatch) -> torch.Tensor:
    logits = model(batch.inputs)
    return F.cross_entropy(logits[batch.mask], batch.targets[batch.mask])


@dataclass
class ClozeResult:
    """One trained cloze model and what was measured."""

    name: str
    bidirectional: bool
    hidden_size: int
    parameters: int
    accuracy: float
    seconds: float
    losses: list[float] = field(repr=False)
    model: ClozeModel = field(repr=False)


def train_cloze(
    model: ClozeModel,
    corpus: Sequence[int],
    *,
    train_steps: int,
    batch_size: int,
    window: int,
    mask_prob: float,
    lr: float,
    clip: float | None = 1.0,
    seed: int = 0,
    device: Any = None,
) -> list[float]:
    """Adam on random masked windows of ``corpus``; returns the loss of every step."""
    device = device if isinstance(device, torch.device) else get_device(device)
    set_seed(seed)
    rng = np.random.default_rng(seed)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(train_steps):
        starts = rng.integers(0, len(corpus) - window + 1, size=batch_size)
        batch = mask_windows(corpus, starts, window, mask_index=model.mask_index, mask_prob=mask_prob, rng=rng)
        batch = ClozeBatch(*(t.to(device) for t in (batch.inputs, batch.targets, batch.mask)))
        loss = _masked_loss(model, batch)
        clipped_step(model, opt, loss, clip)
        losses.append(loss.item())
    return losses


def held_out_batch(
    corpus: Sequence[int], *, window: int, mask_prob: float, mask_index: int, seed: int = 1234
) -> ClozeBatch:
    """All non-overlapping windows of ``corpus`` with a fixed (seeded) choice of hidden characters."""
    starts = window_starts(len(corpus), window)
    return mask_windows(
        corpus, starts, window, mask_index=mask_index, mask_prob=mask_prob, rng=np.random.default_rng(seed)
    )


@torch.no_grad()
def cloze_accuracy(model: ClozeModel, batch: ClozeBatch, *, chunk: int = 512) -> float:
    """Fraction of hidden characters of ``batch`` that ``model`` restores (argmax)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    correct = total = 0
    try:
        for j in range(0, batch.inputs.shape[1], chunk):
            inputs, targets, mask = (t[:, j : j + chunk].to(device) for t in (batch.inputs, batch.targets, batch.mask))
            pred = model(inputs).argmax(-1)
            correct += int((pred[mask] == targets[mask]).sum())
            total += int(mask.sum())
    finally:
        model.train(was_training)
    return correct / total


#: Kinds of hidden characters distinguished by :func:`accuracy_by_kind`.
KINDS = ("空格", "词首字母", "词内字母")


@torch.no_grad()
def accuracy_by_kind(model: ClozeModel, batch: ClozeBatch, space_index: int) -> dict[str, tuple[float, int]]:
    """Accuracy per kind of hidden character: a space, the first letter of a word (the original
    character before it is a space), or any other letter.  Returns ``{kind: (accuracy, count)}``."""
    was_training = model.training
    model.eval()
    try:
        pred = model(batch.inputs.to(next(model.parameters()).device)).argmax(-1).cpu()
    finally:
        model.train(was_training)
    targets = batch.targets
    after_space = torch.zeros_like(batch.mask)
    after_space[1:] = targets[:-1] == space_index
    is_space = targets == space_index
    groups = {KINDS[0]: is_space, KINDS[1]: ~is_space & after_space, KINDS[2]: ~is_space & ~after_space}
    out = {}
    for kind, where in groups.items():
        where = where & batch.mask
        n = int(where.sum())
        out[kind] = (float((pred[where] == targets[where]).double().mean()) if n else float("nan"), n)
    return out


def frequency_baseline(train_corpus: Sequence[int], batch: ClozeBatch) -> float:
    """Accuracy of always answering the most frequent training character (a space, in this book)."""
    most_common = int(np.bincount(np.asarray(train_corpus)).argmax())
    return float((batch.targets[batch.mask] == most_common).double().mean())


def _model_parameters(vocab_size: int, embedding_dim: int, hidden_size: int, bidirectional: bool) -> int:
    D = 2 if bidirectional else 1
    return (
        (vocab_size + 1) * embedding_dim
        + parameter_count("lstm", embedding_dim, hidden_size, bidirectional=bidirectional)
        + (D * hidden_size + 1) * vocab_size
    )


def matching_hidden_size(vocab_size: int, *, embedding_dim: int, hidden_size: int) -> int:
    """Smallest hidden size of a *unidirectional* :class:`ClozeModel` with at least as many
    parameters as the bidirectional one of ``hidden_size`` (a control for model size)."""
    target = _model_parameters(vocab_size, embedding_dim, hidden_size, True)
    h = hidden_size
    while _model_parameters(vocab_size, embedding_dim, h, False) < target:
        h += 1
    return h


def run_cloze(
    train_corpus: Sequence[int],
    val_corpus: Sequence[int],
    vocab_size: int,
    models: dict[str, dict[str, Any]],
    *,
    seed: int = 0,
    device: Any = None,
    **overrides: Any,
) -> list[ClozeResult]:
    """Train one :class:`ClozeModel` per entry of ``models`` and measure held-out accuracy.

    Args:
        train_corpus, val_corpus: token indices (e.g. the position split of the book).
        vocab_size: number of characters (``<mask>`` is added as index ``vocab_size``).
        models: ``{name: {"bidirectional": bool, "hidden_size": int (optional)}}``.
        overrides: replace entries of :func:`settings`.
    """
    cfg = {**settings(), **overrides}
    device = device if isinstance(device, torch.device) else get_device(device)
    val_batch = held_out_batch(val_corpus, window=cfg["window"], mask_prob=cfg["mask_prob"], mask_index=vocab_size)
    results = []
    for name, spec in models.items():
        hidden = spec.get("hidden_size", cfg["hidden_size"])
        set_seed(seed)
        model = ClozeModel(
            vocab_size, embedding_dim=cfg["embedding_dim"], hidden_size=hidden, bidirectional=spec["bidirectional"]
        )
        start = time.perf_counter()
        with single_thread():
            losses = train_cloze(
                model,
                train_corpus,
                train_steps=cfg["train_steps"],
                batch_size=cfg["batch_size"],
                window=cfg["window"],
                mask_prob=cfg["mask_prob"],
                lr=cfg["lr"],
                clip=cfg["clip"],
                seed=seed,
                device=device,
            )
            seconds = time.perf_counter() - start
            accuracy = cloze_accuracy(model, val_batch)
        results.append(
            ClozeResult(
                name,
                spec["bidirectional"],
                hidden,
                sum(p.numel() for p in model.parameters()),
                accuracy,
                seconds,
                losses,
                model,
            )
        )
    return results


@torch.no_grad()
def fill_in(model: ClozeModel, tokens: Sequence[int], hidden: Sequence[int]) -> list[int]:
    """The model's guesses for positions ``hidden`` of ``tokens`` (which are replaced by ``<mask>``)."""
    inputs = torch.as_tensor(list(tokens), dtype=torch.long).clone()
    positions = torch.as_tensor(list(hidden), dtype=torch.long)
    inputs[positions] = model.mask_index
    was_training = model.training
    model.eval()
    try:
        logits = model(inputs[:, None].to(next(model.parameters()).device))[:, 0]
    finally:
        model.train(was_training)
    return logits[positions].argmax(-1).tolist()
