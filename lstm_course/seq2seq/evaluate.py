"""How good is a trained encoder–decoder: exact match, token accuracy, by input length, loss gap."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstm_course.data.vocab import Vocab
from lstm_course.seq2seq.batches import batches
from lstm_course.seq2seq.data import EOS, PAD
from lstm_course.seq2seq.decode import beam_search, free_running_logits, greedy, max_steps_for, strip
from lstm_course.seq2seq.loss import masked_token_loss, teacher_forced_loss

__all__ = ["Evaluation", "evaluate", "accuracy_by_length", "free_running_loss", "exposure_gap"]


@dataclass
class Evaluation:
    """Predictions of one decoder on a list of pairs.

    Attributes:
        correct: ``(n,)`` bool, the whole reading right (exact match).
        token_acc: share of reference positions (``<eos>`` included) predicted right at that position.
        predictions: the readings produced.
        seconds: wall time of decoding.
    """

    correct: np.ndarray
    token_acc: float
    predictions: list[str]
    seconds: float

    @property
    def exact(self) -> float:
        """Exact-match accuracy."""
        return float(self.correct.mean())


@torch.no_grad()
def evaluate(
    model: nn.Module,
    pairs: list[tuple[str, str]],
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    *,
    width: int = 1,
    batch_size: int = 512,
) -> Evaluation:
    """Decode every source (greedy when ``width == 1``, beam search otherwise) and score it."""
    model.eval()
    device = next(model.parameters()).device
    eos = tgt_vocab[EOS]
    correct, predictions = [], []
    hits = positions = 0
    start = time.perf_counter()
    for b in batches(pairs, src_vocab, tgt_vocab, batch_size):
        src = b.src.to(device)
        steps = max_steps_for(src.shape[0])
        rows = (
            greedy(model, src, b.src_len, tgt_vocab, steps)
            if width == 1
            else beam_search(model, src, b.src_len, tgt_vocab, steps, width)
        )
        for row, ref in zip(rows, b.tgt_out.T.tolist(), strict=True):
            ref = strip(ref, eos) + [eos]
            hyp = row + [eos]
            hits += sum(a == r for a, r in zip(hyp, ref, strict=False))  # a hypothesis may be shorter or longer
            positions += len(ref)
            correct.append(hyp == ref)
            predictions.append("".join(tgt_vocab.to_tokens(row)))
    return Evaluation(np.array(correct), hits / positions, predictions, time.perf_counter() - start)


def accuracy_by_length(pairs: list[tuple[str, str]], correct: np.ndarray) -> dict[int, float]:
    """Exact match per number of source digits, ``{digits: accuracy}`` in increasing order."""
    groups: dict[int, list[bool]] = defaultdict(list)
    for (src, _), ok in zip(pairs, correct, strict=True):
        groups[len(src)].append(bool(ok))
    return {n: float(np.mean(groups[n])) for n in sorted(groups)}


@torch.no_grad()
def free_running_loss(
    model: nn.Module, pairs: list[tuple[str, str]], src_vocab: Vocab, tgt_vocab: Vocab, batch_size: int = 512
) -> float:
    """Masked token loss of the references when the decoder is fed its own greedy outputs."""
    device = next(model.parameters()).device
    pad = tgt_vocab[PAD]
    total, tokens = 0.0, 0
    for b in batches(pairs, src_vocab, tgt_vocab, batch_size):
        logits = free_running_logits(model, b.src.to(device), b.src_len, tgt_vocab, b.tgt_out.shape[0])
        n = int((b.tgt_out != pad).sum())
        total += float(masked_token_loss(logits, b.tgt_out.to(device), pad)) * n
        tokens += n
    return total / tokens


def exposure_gap(
    model: nn.Module, pairs: list[tuple[str, str]], src_vocab: Vocab, tgt_vocab: Vocab
) -> tuple[float, float]:
    """``(teacher_forced_loss, free_running_loss)`` on the same pairs."""
    return (
        teacher_forced_loss(model, pairs, src_vocab, tgt_vocab),
        free_running_loss(model, pairs, src_vocab, tgt_vocab),
    )
