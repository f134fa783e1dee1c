"""The losses of the encoder-decoder: masked token cross-entropy, teacher-forced evaluation."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from lstm_course.data.vocab import Vocab
from lstm_course.seq2seq.batches import batches
from lstm_course.seq2seq.data import PAD

__all__ = ["masked_token_loss", "teacher_forced_loss"]


def masked_token_loss(logits: torch.Tensor, targets: torch.Tensor, pad_index: int) -> torch.Tensor:
    """Mean cross-entropy over the real target tokens only.

    Args:
        logits: ``(tgt_steps, batch, tgt_vocab)``.
        targets: ``(tgt_steps, batch)``; positions equal to ``pad_index`` count for nothing.

    Returns:
        a scalar: summed per-token loss divided by the number of non-padding tokens.
    """
    if logits.shape[:2] != targets.shape:
        raise ValueError(
            f"logits {tuple(logits.shape)} and targets {tuple(targets.shape)} must agree on (tgt_steps, batch)"
        )
    return (
        F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=pad_index, reduction="sum"
        )
        / (targets != pad_index).sum()
    )


@torch.no_grad()
def teacher_forced_loss(
    model: nn.Module, pairs: list[tuple[str, str]], src_vocab: Vocab, tgt_vocab: Vocab, batch_size: int = 256
) -> float:
    """Masked token loss of the reference targets when the decoder is fed the reference prefix."""
    model.eval()
    total, tokens = 0.0, 0
    device = next(model.parameters()).device
    for b in batches(pairs, src_vocab, tgt_vocab, batch_size):
        logits = model(b.src.to(device), b.src_len, b.tgt_in.to(device))
        n = int((b.tgt_out != tgt_vocab[PAD]).sum())
        total += float(masked_token_loss(logits, b.tgt_out.to(device), tgt_vocab[PAD])) * n
        tokens += n
    return total / tokens
