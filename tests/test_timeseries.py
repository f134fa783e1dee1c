"""Chapter 9's time-series pieces, checked against statsmodels and against the definitions."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("statsmodels")

from lstm_course.timeseries import baselines, metrics, scaling, splits, walkforward, windows  # noqa: E402


def _series(n: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 20 * np.sin(2 * np.pi * t / 11) + rng.normal(scale=3, size=n)


def test_mase_of_the_naive_forecast_is_one_on_its_training_data():
    y = _series()
    for season in (1, 11):
        naive = y[:-season]
        assert metrics.mase(y[season:], naive, y, season=season) == pytest.approx(1.0, abs=1e-12)


def test_mase_matches_its_definition_on_other_data():
    train, test = _series(80, 1), _series(20, 2)
    forecast = test + 1.5
    assert metrics.mase(test, forecast, train) == pytest.approx(1.5 / np.mean(np.abs(np.diff(train))))


def test_windows_never_cross_a_split_boundary():
    y = np.arange(100, dtype=float)  # value == index: a window shows where it comes from
    split = splits.chronological_split(100, valid=15, test=20)
    for part in (split.train, split.valid, split.test):
        for horizon in (1, 5):
            inputs, targets, origins = windows.make_windows(y, part, window=8, horizon=horizon)
            assert len(origins) > 0
            assert targets.min() >= part.start and targets.max() < part.stop
            np.testing.assert_array_equal(targets[:, 0], origins)
            assert (inputs.max(axis=1) < targets.min(axis=1)).all()  # inputs only look back
    train_targets = windows.make_windows(y, split.train, 8, 5)[1]
    assert train_targets.max() < split.valid_start


def test_the_scaler_uses_the_training_split_only():
    y = np.r_[_series(80), 1e6 * np.ones(20)]  # a wild test period must not move it
    split = splits.chronological_split(100, valid=10, test=20)
    scaler = scaling.Standardizer.fit(y[split.train])
    assert scaler.mean == pytest.approx(np.mean(y[:70]))
    assert scaler.std == pytest.approx(np.std(y[:70]))
    np.testing.assert_allclose(scaler.inverse(scaler.transform(y)), y)


def test_walk_forward_never_sees_the_future():
    y = _series(100)
    origins = splits.rolling_origins(slice(60, 100), horizon=3)
    ar = baselines.fit_ar(y[:60], 4).forecaster(horizon=3)
    clean, _ = walkforward.walk_forward(y, origins, ar, horizon=3)
    for cut in (70, 85):
        poisoned = y.copy()
        poisoned[cut:] = np.nan
        poisoned[cut + 1 :] = 1e12
        keep = origins <= cut
        dirty, _ = walkforward.walk_forward(poisoned, origins[keep], ar, horizon=3)
        np.testing.assert_array_equal(dirty, clean[keep])


def test_walk_forward_hands_over_a_read_only_past():
    def tamper(history):
        history[-1] = 0.0
        return history[-1:]

    with pytest.raises(ValueError):
        walkforward.walk_forward(np.arange(10.0), np.array([5]), tamper)


def test_recursive_ar_forecast_equals_statsmodels():
    from statsmodels.tsa.ar_model import AutoReg

    y = _series(150, 3)
    result = AutoReg(y, lags=5, trend="c").fit()
    ours = baselines.LinearAR(float(result.params[0]), np.asarray(result.params[1:]))
    np.testing.assert_allclose(ours.forecaster(horizon=12)(y), result.forecast(12), rtol=1e-10)


def test_recursive_ar_forecast_equals_statsmodels_arima_process():
    """The same coefficients through statsmodels' ARIMA (fixed parameters, no fitting)."""
    from statsmodels.tsa.arima.model import ARIMA

    y = _series(150, 4)
    phi, mean = np.array([0.9, -0.3, 0.1]), 50.0
    model = ARIMA(y, order=(3, 0, 0), trend="c")
    fixed = model.filter(np.r_[mean, phi, 1.0])  # const is the process mean in ARIMA
    ours = baselines.LinearAR(mean * (1 - phi.sum()), phi)
    np.testing.assert_allclose(ours.forecaster(horizon=8)(y), fixed.forecast(8), rtol=1e-8)


def test_persistence_and_seasonal_naive():
    y = np.arange(30.0)
    np.testing.assert_array_equal(baselines.persistence(3)(y), [29, 29, 29])
    np.testing.assert_array_equal(baselines.seasonal_naive(4, 6)(y), [26, 27, 28, 29, 26, 27])


def test_lag_of_persistence_is_one():
    y = _series(80)
    assert metrics.best_lag(y[1:], y[:-1]) == 1
    assert metrics.best_lag(y, y) == 0


def test_split_and_origins():
    split = splits.chronological_split(50, valid=10, test=5)
    assert split.sizes() == (35, 10, 5)
    np.testing.assert_array_equal(splits.rolling_origins(split.test, horizon=2), [45, 46, 47, 48])
    with pytest.raises(ValueError):
        splits.chronological_split(10, valid=5, test=5)


def test_the_datasets():
    from lstm_course.timeseries import data

    s = data.sunspots()
    assert s.index[0] == 1700 and s.index[-1] == 2008 and len(s) == 309
    c = data.co2()
    assert not c.series.isna().any() and c.filled.sum() > 0 and c.longest_gap >= 1
    assert c.series.index.freqstr == "W-SAT"
