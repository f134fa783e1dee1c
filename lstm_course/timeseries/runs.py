"""One LSTM experiment of chapter 9 from series to scores, honest or with a named leak.

:func:`run_lstm` goes the whole leak-free way: scaler fitted on the training split, windows
built inside each split, the model chosen on validation, scored by walk-forward on the test
split.  ``leak="scaler"`` fits the scaler on the whole series instead; ``leak="shuffle"``
builds windows over the whole series, shuffles them and holds out a random part — the two
mistakes of many tutorials, kept here so that a page can measure how much they flatter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_course.timeseries.metrics import Scores, score
from lstm_course.timeseries.model import LSTMForecaster, as_forecaster
from lstm_course.timeseries.scaling import Standardizer
from lstm_course.timeseries.splits import Split, rolling_origins
from lstm_course.timeseries.train import History, TrainConfig, fit_forecaster
from lstm_course.timeseries.walkforward import recursive, walk_forward
from lstm_course.timeseries.windows import make_windows

__all__ = ["SHUFFLE_HOLDOUT", "LSTMRun", "run_lstm", "recursive_forecaster"]

#: Share of the shuffled windows held out as the "test" set of the ``leak="shuffle"`` mistake.
SHUFFLE_HOLDOUT = 0.2


@dataclass
class LSTMRun:
    """A trained forecaster and its scores.

    ``test_forecast``/``test_truth`` have shape ``(origins, horizon)``; ``test_origins`` holds the
    forecast origins ``t`` (indices into the series), shape ``(origins,)``.
    """

    model: LSTMForecaster
    scaler: Standardizer
    window: int
    history: History
    valid: Scores
    test: Scores
    test_forecast: np.ndarray
    test_truth: np.ndarray
    test_origins: np.ndarray

    def forecaster(self):
        """``history -> forecast`` in the series' units."""
        return as_forecaster(self.model, self.scaler, self.window)


def _shuffled_windows(
    z: np.ndarray, stop: int, window: int, horizon: int, holdout: float, seed: int
) -> tuple[tuple, tuple, np.ndarray]:
    inputs, targets, origins = make_windows(z, slice(0, stop), window, horizon)
    order = np.random.default_rng(seed).permutation(len(origins))
    cut = int(round(len(order) * (1 - holdout)))
    fit_idx, held = order[:cut], order[cut:]
    return (inputs[fit_idx], targets[fit_idx]), (inputs[held], targets[held]), origins[held]


def run_lstm(
    values: np.ndarray,
    split: Split,
    window: int,
    config: TrainConfig,
    *,
    horizon: int = 1,
    leak: str | None = None,
    progress: bool = False,
) -> LSTMRun:
    """Train an LSTM forecaster on ``values`` (shape ``(steps,)``) and score it.

    ``leak``: ``None`` (honest), ``"scaler"`` (scaler fitted on all of ``values[:split.stop]``)
    or ``"shuffle"`` (random windows of the whole series held out; the "test" score is then
    measured on those random windows, as the tutorials do).
    """
    if leak not in (None, "scaler", "shuffle"):
        raise ValueError(f"leak must be None, 'scaler' or 'shuffle', got {leak!r}")
    values = np.asarray(values, float)
    train_values = values[split.train]
    scaler = Standardizer.fit(values[: split.stop] if leak else train_values)
    z = scaler.transform(values)
    if leak == "shuffle":
        fit, held, origins = _shuffled_windows(z, split.stop, window, horizon, SHUFFLE_HOLDOUT, config.seed)
        model, history = fit_forecaster(fit, held, config, progress=progress)
        forecaster = as_forecaster(model, scaler, window)
        truth = scaler.inverse(held[1])
        forecast = np.stack([forecaster(values[:t]) for t in origins])
        valid = test = score(truth, forecast, train_values)
        return LSTMRun(model, scaler, window, history, valid, test, forecast, truth, origins)
    fit = make_windows(z, split.train, window, horizon)[:2]
    held = make_windows(z, split.valid, window, horizon)[:2]
    model, history = fit_forecaster(fit, held, config, progress=progress)
    forecaster = as_forecaster(model, scaler, window)
    scores = []
    for part in (split.valid, split.test):
        forecast, truth = walk_forward(values, rolling_origins(part, horizon), forecaster, horizon)
        scores.append((score(truth, forecast, train_values), forecast, truth))
    (valid, _, _), (test, forecast, truth) = scores
    return LSTMRun(model, scaler, window, history, valid, test, forecast, truth, rolling_origins(split.test, horizon))


def recursive_forecaster(one_step, horizon: int):
    """Turn a one-step ``history -> (1,)`` forecaster into a ``horizon``-step recursive one."""
    return lambda history: recursive(one_step, history, horizon)
