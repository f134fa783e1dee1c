"""Training: AdamW, gradient clipping, early stopping and model selection on the validation split."""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_course.data.reviews import EncodedReviews
from lstm_course.runtime import get_device, set_seed
from lstm_course.torch.sentiment.batching import make_loader
from lstm_course.torch.sentiment.inference import predict_logits, sigmoid
from lstm_course.torch.sentiment.model import SentimentLSTM
from lstm_course.torch.training import clipped_step


@dataclass
class TrainConfig:
    """Optimisation settings.

    Attributes:
        epochs: maximum number of passes over the training split.
        batch_size: reviews per step.
        lr, weight_decay: AdamW settings (weight decay is not applied to biases and embeddings
            of ``<pad>`` receive no gradient anyway).
        clip_norm: gradients are rescaled so their global L2 norm is at most this.
        patience: stop after this many epochs without a better validation accuracy.
        lr_decay: multiply the learning rate by this after every epoch (1.0: constant).
        seed: seeds parameters, dropout and batch order.
        device: ``None``/``'auto'`` picks the best device via :func:`lstm_course.get_device`.
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-2
    clip_norm: float = 1.0
    patience: int = 3
    lr_decay: float = 1.0
    seed: int = 0
    device: str | None = None

    def to_dict(self) -> dict:
        """The configuration as a JSON-serialisable dict."""
        return asdict(self)


@dataclass
class History:
    """Per-epoch curves and the epoch whose weights were kept (1-based)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    valid_acc: list[float] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0
    stopped_early: bool = False

    @property
    def best_valid_acc(self) -> float:
        """Validation accuracy of the epoch whose weights were kept."""
        return self.valid_acc[self.best_epoch - 1] if self.best_epoch else float("nan")

    def to_dict(self) -> dict:
        """The per-epoch curves and timings as a JSON-serialisable dict."""
        return asdict(self)


def loss_and_accuracy(
    model: SentimentLSTM, data: EncodedReviews, *, batch_size: int = 256, device: torch.device | str | None = None
) -> tuple[float, float, np.ndarray]:
    """Mean BCE loss, accuracy and positive-class probabilities ``(n,)`` in data order.

    The model runs through :func:`~lstm_course.torch.sentiment.inference.predict_logits` (eval
    mode, no gradients, on the model's device).  Loss and accuracy are ``nan`` when a review has
    no label (``-1``) or ``data`` is empty; the probabilities are returned either way.
    """
    logits = predict_logits(model, data, batch_size=batch_size, device=device)
    probs = sigmoid(logits)
    labels = np.asarray(data.labels)
    if len(data) == 0 or (labels < 0).any():
        return float("nan"), float("nan"), probs
    loss = nn.functional.binary_cross_entropy_with_logits(
        torch.from_numpy(logits).double(), torch.from_numpy(labels).double()
    ).item()
    acc = float(((probs >= 0.5) == (labels == 1)).mean())
    return loss, acc, probs


def fit(
    model: SentimentLSTM,
    train: EncodedReviews,
    valid: EncodedReviews,
    config: TrainConfig,
    *,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
    tensorboard_dir: str | None = None,
    schedule: Any = None,
) -> History:
    """Train ``model`` in place and leave it holding the weights of its best validation epoch.

    Selection uses validation accuracy (ties: lower validation loss), never the training loss;
    training stops after ``config.patience`` epochs without improvement.

    Args:
        progress: show a tqdm bar per epoch (turn off in notebooks).
        log: called with one line per epoch; ``None`` for silence.
        tensorboard_dir: write scalars there with ``torch.utils.tensorboard`` when TensorBoard is
            installed; otherwise a warning is issued and training continues without it.
        schedule: replaces the optimiser and learning-rate plan, e.g.
            :class:`~lstm_course.torch.sentiment.transfer.ULMFiTSchedule`:
            ``schedule.build(model, config, total_steps) -> (optimizer, per_step_scheduler)`` once,
            ``schedule.start_epoch(model, epoch)`` before every epoch.
    """
    if len(train) == 0 or len(valid) == 0:
        raise ValueError(f"need non-empty train and valid splits, got {len(train)} and {len(valid)}")
    set_seed(config.seed)
    device = get_device(config.device)
    model.to(device)
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (no_decay if name.endswith("bias") or name.startswith("embedding") else decay).append(param)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.lr,
    )
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)
    loss_fn = nn.BCEWithLogitsLoss()
    writer = _tensorboard_writer(tensorboard_dir)
    loader = make_loader(
        train, batch_size=config.batch_size, pad_index=model.config.pad_index, shuffle=True, seed=config.seed
    )
    step_scheduler = None
    if schedule is not None:
        optimizer, step_scheduler = schedule.build(model, config, config.epochs * len(loader))
    history = History()
    best_state, best_key, waited = None, (-math.inf, -math.inf), 0
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        if schedule is not None:
            schedule.start_epoch(model, epoch)
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        batches = loader
        if progress:
            from tqdm.auto import tqdm

            batches = tqdm(loader, desc=f"epoch {epoch}/{config.epochs}", leave=False, unit="batch")
        for batch in batches:
            labels = batch["labels"].to(device)
            logits = model(batch["tokens"].to(device), batch["lengths"])
            loss = loss_fn(logits, labels)
            clipped_step(model, optimizer, loss, config.clip_norm)
            if step_scheduler is not None:
                step_scheduler.step()
            total_loss += loss.item() * len(labels)
            correct += int(((logits > 0) == (labels > 0.5)).sum())
            seen += len(labels)
            if progress:
                batches.set_postfix(loss=f"{total_loss / seen:.4f}")
        if step_scheduler is None:
            scheduler.step()
        valid_loss, valid_acc, _ = loss_and_accuracy(model, valid, device=device)
        history.train_loss.append(total_loss / seen)
        history.train_acc.append(correct / seen)
        history.valid_loss.append(valid_loss)
        history.valid_acc.append(valid_acc)
        if writer is not None:
            for name in ("train_loss", "train_acc", "valid_loss", "valid_acc"):
                writer.add_scalar(name, getattr(history, name)[-1], epoch)
        key = (valid_acc, -valid_loss)
        improved = key > best_key
        if improved:
            best_key, best_state, waited = key, copy.deepcopy(model.state_dict()), 0
            history.best_epoch = epoch
        else:
            waited += 1
        if log is not None:
            log(
                f"epoch {epoch:2d}  训练损失 {history.train_loss[-1]:.4f}  训练准确率 {history.train_acc[-1]:.4f}  "
                f"验证损失 {valid_loss:.4f}  验证准确率 {valid_acc:.4f}{'  *' if improved else ''}"
            )
        if waited >= config.patience:
            history.stopped_early = epoch < config.epochs
            break
    history.seconds = time.perf_counter() - start
    if writer is not None:
        writer.close()
    model.load_state_dict(best_state)
    model.eval()
    return history


def _tensorboard_writer(log_dir: str | None):
    if log_dir is None:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        warnings.warn(
            "TensorBoard is not installed (pip install tensorboard); training continues without TensorBoard logs.",
            stacklevel=3,
        )
        return None
    return SummaryWriter(log_dir)
