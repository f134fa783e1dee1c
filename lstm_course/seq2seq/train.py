"""Training the encoder–decoder with teacher forcing and a masked token loss."""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from lstm_course.config import by_profile
from lstm_course.data.vocab import Vocab
from lstm_course.progress import epoch_bar
from lstm_course.seq2seq.batches import batches
from lstm_course.seq2seq.data import PAD
from lstm_course.seq2seq.loss import masked_token_loss, teacher_forced_loss
from lstm_course.torch.training import clipped_step

__all__ = ["masked_token_loss", "TrainConfig", "train_config", "History", "fit", "teacher_forced_loss"]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings: Adam with a cosine-decayed learning rate, gradient clipping."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 3e-3
    clip: float = 1.0
    seed: int = 0
    device: str = "cpu"

    def to_dict(self) -> dict:
        """JSON-serialisable, for checkpoints."""
        return asdict(self)


def train_config(**overrides) -> TrainConfig:
    """The profile's training settings with ``overrides`` applied."""
    base = by_profile(quick=dict(epochs=6, lr=5e-3), full=dict(epochs=8))
    return TrainConfig(**{**base, **overrides})


@dataclass
class History:
    """Per-epoch training loss and validation exact match; the best epoch's weights were kept."""

    train_loss: list[float] = field(default_factory=list)
    valid_exact: list[float] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0

    @property
    def best_valid_exact(self) -> float:
        """Validation exact match of the kept (best) epoch."""
        return self.valid_exact[self.best_epoch - 1] if self.valid_exact else float("nan")


def fit(
    model: nn.Module,
    train: list[tuple[str, str]],
    valid: list[tuple[str, str]],
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    cfg: TrainConfig | None = None,
    *,
    progress: bool = True,
    desc: str = "训练",
) -> History:
    """Train with teacher forcing; keep the weights of the epoch with the best validation exact match."""
    from lstm_course.seq2seq.evaluate import evaluate

    cfg = cfg or train_config()
    device = torch.device(cfg.device)
    model.to(device)
    generator = torch.Generator().manual_seed(cfg.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    steps = cfg.epochs * -(-len(train) // cfg.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    pad = tgt_vocab[PAD]
    history, best, start = History(), None, time.perf_counter()
    bar = epoch_bar(cfg.epochs, desc=desc, enabled=progress)
    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        for b in batches(train, src_vocab, tgt_vocab, cfg.batch_size, generator):
            logits = model(b.src.to(device), b.src_len, b.tgt_in.to(device))
            loss = masked_token_loss(logits, b.tgt_out.to(device), pad)
            clipped_step(model, optimizer, loss, cfg.clip)
            schedule.step()
            total, count = total + loss.item() * len(b), count + len(b)
        history.train_loss.append(total / count)
        history.valid_exact.append(evaluate(model, valid, src_vocab, tgt_vocab).exact)
        if best is None or history.valid_exact[-1] > history.best_valid_exact:
            history.best_epoch, best = epoch + 1, copy.deepcopy(model.state_dict())
        bar.set_postfix(loss=f"{history.train_loss[-1]:.3f}", valid=f"{history.valid_exact[-1]:.3f}")
    bar.close()
    model.load_state_dict(best)
    model.eval()
    history.seconds = time.perf_counter() - start
    return history
