"""Padded, time-major tensors for the encoder–decoder: ``(steps, batch)`` index matrices."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lstm_course.data.vocab import Vocab
from lstm_course.seq2seq.data import BOS, EOS, PAD

__all__ = ["Batch", "encode_sources", "encode_pairs", "batches"]


@dataclass
class Batch:
    """One batch.

    Attributes:
        src: ``(src_steps, batch)`` source indices, padded with ``<pad>``.
        src_len: ``(batch,)`` true source lengths.
        tgt_in: ``(tgt_steps, batch)`` decoder inputs ``<bos> y_1 .. y_T`` (teacher forcing).
        tgt_out: ``(tgt_steps, batch)`` targets ``y_1 .. y_T <eos>``, padded with ``<pad>``.
    """

    src: torch.Tensor
    src_len: torch.Tensor
    tgt_in: torch.Tensor | None = None
    tgt_out: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.src.shape[1])


def _pad(rows: list[list[int]], pad: int) -> torch.Tensor:
    steps = max(len(r) for r in rows)
    return torch.tensor([r + [pad] * (steps - len(r)) for r in rows], dtype=torch.long).T


def encode_sources(sources: list[str], src_vocab: Vocab) -> Batch:
    """Only the source side (for translation): ``src (steps, batch)`` and ``src_len``."""
    if not sources or any(not s for s in sources):
        raise ValueError("every source must be a non-empty string")
    rows = [src_vocab[list(s)] for s in sources]
    return Batch(_pad(rows, src_vocab[PAD]), torch.tensor([len(r) for r in rows]))


def encode_pairs(pairs: list[tuple[str, str]], src_vocab: Vocab, tgt_vocab: Vocab) -> Batch:
    """Sources and targets of ``pairs`` as one padded :class:`Batch`."""
    batch = encode_sources([s for s, _ in pairs], src_vocab)
    bos, eos, pad = tgt_vocab[BOS], tgt_vocab[EOS], tgt_vocab[PAD]
    targets = [tgt_vocab[list(t)] for _, t in pairs]
    batch.tgt_in = _pad([[bos] + t for t in targets], pad)
    batch.tgt_out = _pad([t + [eos] for t in targets], pad)
    return batch


def batches(
    pairs: list[tuple[str, str]],
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    batch_size: int,
    generator: torch.Generator | None = None,
):
    """Yield :class:`Batch` es of ``pairs``, shuffled with ``generator`` when one is given."""
    order = (
        torch.randperm(len(pairs), generator=generator).tolist() if generator is not None else list(range(len(pairs)))
    )
    for i in range(0, len(order), batch_size):
        yield encode_pairs([pairs[j] for j in order[i : i + batch_size]], src_vocab, tgt_vocab)
