"""Training the LSTM forecaster: Adam, MSE on scaled values, clipping, best validation epoch."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn

from lstm_course.config import by_profile
from lstm_course.progress import epoch_bar
from lstm_course.runtime import set_seed
from lstm_course.timeseries.model import LSTMForecaster
from lstm_course.torch.training import clipped_step

__all__ = ["configure_cpu_threads", "TrainConfig", "train_config", "History", "fit_forecaster"]


def configure_cpu_threads() -> int:
    """Quick profile: one PyTorch CPU thread (tiny models on a shared CPU); full: PyTorch's default.

    Returns the number of threads in use.
    """
    threads = by_profile(quick=1, full=None)
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (see :func:`train_config` for the profile's values)."""

    hidden_size: int = 32
    epochs: int = 200
    batch_size: int = 16
    lr: float = 5e-3
    weight_decay: float = 0.0
    clip: float | None = 1.0
    seed: int = 0


def train_config(**overrides) -> TrainConfig:
    """The active profile's settings, with ``overrides`` applied."""
    base = by_profile(
        quick=TrainConfig(hidden_size=16, epochs=50, batch_size=64, lr=1e-2),
        full=TrainConfig(hidden_size=32, epochs=100, batch_size=32, lr=5e-3),
    )
    return replace(base, **overrides)


@dataclass
class History:
    """Per-epoch losses (scaled MSE) and the epoch whose validation loss was lowest."""

    train_loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float32))


def fit_forecaster(
    train: tuple[np.ndarray, np.ndarray],
    valid: tuple[np.ndarray, np.ndarray],
    config: TrainConfig,
    *,
    progress: bool = False,
) -> tuple[LSTMForecaster, History]:
    """Train on scaled windows ``train = (inputs (n, window), targets (n, horizon))``.

    Training windows are shuffled *among themselves* each epoch (that is harmless: every one
    of them lies before the validation data); the returned model is the one of the epoch with
    the lowest validation MSE.
    """
    set_seed(config.seed)
    x, y = _tensor(train[0]), _tensor(train[1])
    xv, yv = _tensor(valid[0]), _tensor(valid[1])
    model = LSTMForecaster(config.hidden_size, horizon=y.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    loss_fn = nn.MSELoss()
    history, best, best_state = History(), float("inf"), None
    generator = torch.Generator().manual_seed(config.seed)
    start = time.perf_counter()
    bar = epoch_bar(config.epochs, desc="LSTM", enabled=progress)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for i in range(0, len(x), config.batch_size):
            idx = order[i : i + config.batch_size]
            loss = loss_fn(model(x[idx]), y[idx])
            clipped_step(model, optimizer, loss, config.clip)
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            valid_loss = loss_fn(model(xv), yv).item()
        history.train_loss.append(total / len(x))
        history.valid_loss.append(valid_loss)
        if valid_loss < best:
            best, best_state, history.best_epoch = valid_loss, copy.deepcopy(model.state_dict()), epoch
        bar.set_postfix(valid=f"{valid_loss:.3f}")
    bar.close()
    model.load_state_dict(best_state)
    model.eval()
    history.seconds = time.perf_counter() - start
    return model, history
