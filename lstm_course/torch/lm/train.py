"""Training a language model: the loop, its optimiser, and what it does when the loss diverges.

:func:`train_lm` follows d2l's ``train_ch8`` (mean cross-entropy per token, global-norm gradient
clipping, perplexity = ``exp(mean loss)``) with what that loop lacks: a validation pass per
epoch, Adam as an alternative to SGD, a tqdm bar, and a returned
:class:`~lstm_course.lm.history.LMHistory`.  The loss and the perplexity it reports are
:mod:`lstm_course.torch.lm.evaluate`'s.

State handling depends on the minibatch scheme (see :mod:`lstm_course.data.timemachine`):

* sequential partitioning — batch ``k+1`` continues batch ``k``, so the final state is carried
  to the next batch and *detached* (truncated BPTT over ``num_steps`` steps);
* random sampling — batches are unrelated, so every batch starts from the zero state.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_course.lm.history import LMHistory
from lstm_course.progress import epoch_bar
from lstm_course.runtime import get_device, set_seed
from lstm_course.torch.lm.evaluate import as_tokens, evaluate_perplexity, lm_loss, perplexity, resets_state
from lstm_course.torch.lm.model import RNNLM, detach_state
from lstm_course.torch.training import clipped_step

__all__ = ["DivergedError", "make_optimizer", "train_lm"]

OPTIMIZERS = ("sgd", "adam")


class DivergedError(RuntimeError):
    """The training loss became NaN or infinite (or the perplexity overflowed).

    Attributes:
        step: 1-based optimisation step at which it happened (counted over the whole run).
        epoch: 1-based epoch of that step.
        history: the epochs completed before it, all finite.
        kept_epoch: the epoch whose weights the model holds now (the best validation epoch
            with ``restore_best``, else the last completed epoch), or ``None`` when no epoch
            completed and the model's weights are unusable.
    """

    def __init__(self, message: str, *, step: int, epoch: int, history: LMHistory, kept_epoch: int | None) -> None:
        super().__init__(message)
        self.step, self.epoch, self.history, self.kept_epoch = step, epoch, history, kept_epoch


def _finite_weights(model: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def make_optimizer(model: nn.Module, name: str, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """``torch.optim.SGD`` (d2l's choice, ``lr=1``) or ``torch.optim.Adam`` over ``model``'s parameters."""
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, received {name!r}")


def train_lm(
    model: RNNLM,
    train_iter: Iterable,
    *,
    epochs: int,
    lr: float,
    optimizer: str | torch.optim.Optimizer = "sgd",
    clip: float | None = 1.0,
    val_iter: Iterable | None = None,
    use_random_iter: bool | None = None,
    device: Any = None,
    seed: int | None = None,
    weight_decay: float = 0.0,
    plateau_decay: float | None = None,
    restore_best: bool = False,
    progress: bool = True,
    desc: str = "训练",
) -> LMHistory:
    """Train a language model; return its per-epoch :class:`LMHistory`.

    Args:
        model: an :class:`~lstm_course.torch.lm.model.RNNLM` (or any module with its call interface).
        train_iter: re-iterable ``(X, Y)`` batches of shape ``(batch, steps)``, e.g. a
            :class:`~lstm_course.data.timemachine.SeqDataLoader`.
        epochs: passes over ``train_iter``.
        lr: learning rate.
        optimizer: ``'sgd'``, ``'adam'`` or a ready ``torch.optim.Optimizer``.
        clip: maximum global gradient norm (``clip_grad_norm_``); ``None`` disables clipping.
        val_iter: validation batches; their perplexity is measured after every epoch.
        use_random_iter: how to treat the state; ``None`` reads ``train_iter.use_random_iter``.
        device: ``'auto'``/``None`` for :func:`~lstm_course.runtime.get_device`, or explicit.
        seed: if given, :func:`~lstm_course.runtime.set_seed` before the first batch.
        weight_decay: L2 penalty passed to the optimizer (when it is built from a name).
        plateau_decay: with ``val_iter``, multiply the learning rate by this factor after every
            epoch whose validation perplexity is not a new best (``ReduceLROnPlateau``, patience 0).
        restore_best: with ``val_iter``, load the weights of the epoch with the lowest validation
            perplexity at the end.
        progress: show a tqdm bar over epochs with the latest perplexities and speed.
        desc: label of the bar.

    Raises:
        ValueError: a non-positive or non-finite ``lr``/``clip``, or bad ``epochs``.
        DivergedError: the loss became NaN/infinite; the model then holds the weights of the
            best (``restore_best``) or last completed epoch, if any (see ``kept_epoch``).
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, received {epochs!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.number)) or not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, received {lr!r}")
    if clip is not None and not (math.isfinite(clip) and clip > 0):
        raise ValueError(f"clip must be positive and finite, or None, received {clip!r}")
    if (restore_best or plateau_decay is not None) and val_iter is None:
        raise ValueError("restore_best and plateau_decay need val_iter")
    if plateau_decay is not None and not 0.0 < plateau_decay < 1.0:
        raise ValueError(f"plateau_decay must be in (0, 1), received {plateau_decay!r}")
    device = device if isinstance(device, torch.device) else get_device(device)
    if seed is not None:
        set_seed(seed)
    model.to(device)
    opt = (
        optimizer
        if isinstance(optimizer, torch.optim.Optimizer)
        else make_optimizer(model, optimizer, lr, weight_decay)
    )
    scheduler = None
    if plateau_decay is not None:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=plateau_decay, patience=0)
    random_iter = resets_state(train_iter, use_random_iter)
    history = LMHistory()
    best_state, best_ppl, best_epoch = None, math.inf, None
    last_state, step = None, 0

    def diverged(epoch: int, what: str) -> DivergedError:
        bar.close()
        kept = best_epoch if best_state is not None else (history.epochs or None)
        if kept is not None:
            model.load_state_dict(best_state if best_state is not None else last_state)
        return DivergedError(
            f"{what} at step {step} (epoch {epoch}); lower the learning rate or clip the gradients",
            step=step,
            epoch=epoch,
            history=history,
            kept_epoch=kept,
        )

    bar = epoch_bar(epochs, desc=desc, enabled=progress)
    for epoch, _ in enumerate(bar, 1):
        model.train()
        total, count, state = 0.0, 0, None
        start = time.perf_counter()
        for X, Y in train_iter:
            X, Y = as_tokens(X, device), as_tokens(Y, device)
            state = None if random_iter else detach_state(state)
            logits, state = model(X, state)
            loss = lm_loss(logits, Y)
            step += 1
            value = loss.item()
            if not math.isfinite(value):
                raise diverged(epoch, f"the training loss became {value}")
            clipped_step(model, opt, loss, clip)
            total += value * Y.numel()
            count += Y.numel()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        if count == 0:
            raise ValueError("train_iter produced no batches")
        if not math.isfinite(perplexity(total / count)) or not _finite_weights(model):
            raise diverged(
                epoch,
                "the training perplexity overflowed"
                if _finite_weights(model)
                else "the weights became NaN or infinite",
            )
        val_ppl = evaluate_perplexity(model, val_iter, device=device) if val_iter is not None else None
        if val_ppl is not None and not math.isfinite(val_ppl):
            raise diverged(epoch, f"the validation perplexity became {val_ppl}")
        history.train_ppl.append(perplexity(total / count))
        history.tokens_per_s.append(count / seconds)
        history.seconds.append(seconds)
        history.lr.append(float(opt.param_groups[0]["lr"]))
        postfix = {"训练ppl": f"{history.train_ppl[-1]:.2f}"}
        if val_ppl is not None:
            history.val_ppl.append(val_ppl)
            postfix["验证ppl"] = f"{history.val_ppl[-1]:.2f}"
            if restore_best and history.val_ppl[-1] < best_ppl:
                best_ppl, best_epoch = history.val_ppl[-1], history.epochs
                best_state = copy.deepcopy(model.state_dict())
            if scheduler is not None:
                scheduler.step(history.val_ppl[-1])
        if best_state is None:
            last_state = copy.deepcopy(model.state_dict())
        postfix["tok/s"] = f"{history.tokens_per_s[-1]:.0f}"
        bar.set_postfix(postfix)
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
