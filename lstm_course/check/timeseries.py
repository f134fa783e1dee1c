"""Self-checks for chapter 9: MASE, a leak-free scaler, walk-forward splits.

Importing this module needs NumPy only; the references are the definitions in
:mod:`lstm_course.timeseries` (which the unit tests check against statsmodels).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lstm_course.check.core import CheckFailed, assert_close, call_learner, passed

__all__ = ["mase", "train_only_scaler", "walk_forward_split"]


def mase(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], float]) -> None:
    """Check ``fn(truth, forecast, train) -> float``: MAE divided by the training naive MAE (``m = 1``)."""
    from lstm_course.timeseries.metrics import mase as reference

    rng = np.random.default_rng(9)
    for k in range(4):
        train = np.cumsum(rng.normal(size=50 + 10 * k)) + 20
        truth = np.cumsum(rng.normal(size=15)) + train[-1]
        forecast = truth + rng.normal(scale=0.5 + k, size=15)
        actual = call_learner("mase", fn, truth.copy(), forecast.copy(), train.copy())
        expected = reference(truth, forecast, train)
        if np.isclose(actual, np.mean(np.abs(truth - forecast)) / np.mean(np.abs(np.diff(truth)))) and not np.isclose(
            actual, expected
        ):
            raise CheckFailed("mase：分母用了测试集上的朴素预测误差；MASE 的分母来自*训练集*。")
        assert_close(f"第 {k + 1} 组的 MASE", expected, actual, rtol=1e-9)
    naive = call_learner("mase", fn, train[1:], train[:-1], train)
    assert_close("持续性预测在训练集上的 MASE", 1.0, naive, rtol=1e-9)
    passed("MASE 与定义一致；持续性预测在自己的训练数据上 MASE 等于 1。")


def train_only_scaler(fn: Callable[[np.ndarray, int], np.ndarray]) -> None:
    """Check ``fn(values, n_train) -> scaled``: standardise the whole series with the mean and
    (population) standard deviation of ``values[:n_train]`` only."""
    rng = np.random.default_rng(4)
    for n_train in (30, 60):
        values = np.r_[rng.normal(10, 2, size=n_train), rng.normal(50, 9, size=25)]
        expected = (values - values[:n_train].mean()) / values[:n_train].std()
        actual = call_learner("train_only_scaler", fn, values.copy(), n_train)
        leaky = (values - values.mean()) / values.std()
        if np.shape(actual) == values.shape and np.allclose(actual, leaky):
            raise CheckFailed("train_only_scaler：均值和标准差用了整条序列——测试期的信息泄漏进来了。")
        assert_close(f"前 {n_train} 个值为训练集时的缩放结果", expected, actual, rtol=1e-9)
    passed("缩放器的统计量只来自训练集。")


def walk_forward_split(fn: Callable[[int, int, int], list]) -> None:
    """Check ``fn(n, first_origin, horizon) -> [(past, future), ...]``: for every origin ``t`` from
    ``first_origin`` to ``n - horizon``, ``past = arange(t)`` and ``future = arange(t, t + horizon)``."""
    for n, first, horizon in ((20, 10, 1), (30, 12, 4), (15, 14, 1)):
        expected = [(np.arange(t), np.arange(t, t + horizon)) for t in range(first, n - horizon + 1)]
        actual = list(call_learner("walk_forward_split", fn, n, first, horizon))
        if len(actual) != len(expected):
            raise CheckFailed(
                f"walk_forward_split({n}, {first}, {horizon})：应有 {len(expected)} 个起点，"
                f"你的结果有 {len(actual)} 个（最后一个起点的目标不能越过序列末尾）。"
            )
        for (past, future), (p_ok, f_ok) in zip(actual, expected, strict=True):
            past, future = np.asarray(past), np.asarray(future)
            if len(future) and len(past) and past.max() >= future.min():
                raise CheckFailed(f"起点 {f_ok[0]}：历史里出现了要预测的时刻 {past.max()}——这就是看见了未来。")
            assert_close(f"起点 {f_ok[0]} 的历史下标", p_ok, past)
            assert_close(f"起点 {f_ok[0]} 的目标下标", f_ok, future)
    passed("每个起点的历史只包含它之前的时刻，目标不越过序列末尾。")
