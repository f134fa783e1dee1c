"""Forecast errors: MAE, RMSE, MASE, and the lag at which a forecast best matches the truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["mae", "rmse", "naive_scale", "mase", "lag_correlations", "best_lag", "seed_interval", "Scores", "score"]


def mae(truth: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute error over all entries (same shapes)."""
    truth, forecast = np.asarray(truth, float), np.asarray(forecast, float)
    if truth.shape != forecast.shape:
        raise ValueError(f"shapes differ: truth {truth.shape}, forecast {forecast.shape}")
    return float(np.mean(np.abs(truth - forecast)))


def rmse(truth: np.ndarray, forecast: np.ndarray) -> float:
    """Root mean squared error over all entries (same shapes)."""
    truth, forecast = np.asarray(truth, float), np.asarray(forecast, float)
    if truth.shape != forecast.shape:
        raise ValueError(f"shapes differ: truth {truth.shape}, forecast {forecast.shape}")
    return float(np.sqrt(np.mean((truth - forecast) ** 2)))


def naive_scale(train: np.ndarray, season: int = 1) -> float:
    """In-sample MAE of the (seasonal) naive forecast on the training series: ``mean(abs(y_t - y_{t-m}))``."""
    train = np.asarray(train, float)
    if len(train) <= season:
        raise ValueError(f"need more than {season} training values, got {len(train)}")
    return float(np.mean(np.abs(train[season:] - train[:-season])))


def mase(truth: np.ndarray, forecast: np.ndarray, train: np.ndarray, season: int = 1) -> float:
    """Mean absolute scaled error (Hyndman & Koehler 2006): MAE / :func:`naive_scale` of ``train``.

    Below 1: better than the naive forecast was on the training data.
    """
    return mae(truth, forecast) / naive_scale(train, season)


def lag_correlations(truth: np.ndarray, forecast: np.ndarray, max_lag: int = 3) -> np.ndarray:
    """Pearson correlation of ``forecast[t]`` with ``truth[t - k]`` for ``k = 0..max_lag``.

    A forecast that copies yesterday's value correlates best at ``k = 1``.  Shape ``(max_lag + 1,)``.
    """
    truth, forecast = np.asarray(truth, float), np.asarray(forecast, float)
    if truth.shape != forecast.shape or truth.ndim != 1:
        raise ValueError(f"expected two series of the same shape (n,), got {truth.shape}, {forecast.shape}")
    if len(truth) <= max_lag + 2:
        raise ValueError(f"series of length {len(truth)} too short for max_lag={max_lag}")
    out = []
    for k in range(max_lag + 1):
        out.append(np.corrcoef(forecast[k:], truth[: len(truth) - k])[0, 1])
    return np.asarray(out)


def best_lag(truth: np.ndarray, forecast: np.ndarray, max_lag: int = 3) -> int:
    """The ``k`` of :func:`lag_correlations` with the highest correlation."""
    return int(np.argmax(lag_correlations(truth, forecast, max_lag)))


def seed_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval of the mean over independent runs (e.g. seeds): ``(mean, lo, hi)``."""
    from scipy import stats

    values = np.asarray(values, float)
    if len(values) < 2:
        raise ValueError("an interval needs at least two runs")
    mean = float(values.mean())
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class Scores:
    """Errors of one forecast on one split (MASE scaled by the training split's naive MAE)."""

    mae: float
    rmse: float
    mase: float


def score(truth: np.ndarray, forecast: np.ndarray, train: np.ndarray) -> Scores:
    """:class:`Scores` of ``forecast`` against ``truth`` (same shapes); MASE with ``season=1``."""
    return Scores(mae(truth, forecast), rmse(truth, forecast), mase(truth, forecast, train))
