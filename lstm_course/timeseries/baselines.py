"""The forecasts every learned model must beat: persistence, seasonal naive, the training mean, AR.

Each baseline is a *forecaster*: a callable ``history -> forecast`` that sees the values up to
the forecast origin, shape ``(t,)``, and returns the next ``horizon`` values, shape
``(horizon,)`` (see :mod:`lstm_course.timeseries.walkforward`).  Needs ``statsmodels``
(the ``timeseries`` extra).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from statsmodels.tsa.ar_model import AutoReg

__all__ = ["Forecaster", "persistence", "seasonal_naive", "constant", "LinearAR", "fit_ar", "choose_ar_order"]

#: ``history (t,) -> forecast (horizon,)``.
Forecaster = Callable[[np.ndarray], np.ndarray]


def persistence(horizon: int = 1) -> Forecaster:
    """The naive forecast: every future value equals the last observed one."""
    return lambda history: np.full(horizon, float(history[-1]))


def seasonal_naive(season: int, horizon: int = 1) -> Forecaster:
    """Each future value equals the value one season earlier: ``y_{t+h} = y_{t+h-m}``."""

    def forecast(history: np.ndarray) -> np.ndarray:
        if len(history) < season:
            raise ValueError(f"seasonal naive needs {season} past values, got {len(history)}")
        last = np.asarray(history[-season:], float)
        return np.array([last[h % season] for h in range(horizon)])

    return forecast


def constant(value: float, horizon: int = 1) -> Forecaster:
    """A constant forecast (e.g. the training mean)."""
    return lambda history: np.full(horizon, float(value))


@dataclass(frozen=True)
class LinearAR:
    """``y_t = const + sum_k phi[k] * y_{t-1-k}``; ``phi`` has shape ``(p,)``."""

    const: float
    phi: np.ndarray

    @property
    def order(self) -> int:
        return len(self.phi)

    def one_step(self, history: np.ndarray) -> float:
        """The next value after ``history`` (at least ``p`` values)."""
        p = self.order
        if len(history) < p:
            raise ValueError(f"AR({p}) needs {p} past values, got {len(history)}")
        recent = np.asarray(history[-p:], float)[::-1]
        return float(self.const + self.phi @ recent)

    def forecaster(self, horizon: int = 1) -> Forecaster:
        """Recursive forecasts: each predicted value is fed back as the newest input."""
        from lstm_course.timeseries.walkforward import recursive

        return lambda history: recursive(lambda h: np.array([self.one_step(h)]), history, horizon)


def fit_ar(train: np.ndarray, order: int) -> LinearAR:
    """Least-squares AR(``order``) with a constant, fitted by ``statsmodels``' ``AutoReg`` on ``train``."""
    result = AutoReg(np.asarray(train, float), lags=order, trend="c").fit()
    return LinearAR(float(result.params[0]), np.asarray(result.params[1:], float))


def choose_ar_order(
    values: np.ndarray, train: slice, valid: slice, orders: range = range(1, 13)
) -> tuple[int, dict[int, float]]:
    """Fit AR(p) on ``values[train]`` for each ``p`` and keep the one with the lowest validation MASE.

    Validation forecasts are one-step walk-forward forecasts for the targets in ``valid``.
    Returns the chosen order and ``{p: validation MASE}``.
    """
    from lstm_course.timeseries.metrics import mase
    from lstm_course.timeseries.splits import rolling_origins
    from lstm_course.timeseries.walkforward import walk_forward

    values = np.asarray(values, float)
    scores = {}
    for p in orders:
        forecast, truth = walk_forward(values, rolling_origins(valid), fit_ar(values[train], p).forecaster())
        scores[p] = mase(truth, forecast, values[train])
    return min(scores, key=scores.get), scores
