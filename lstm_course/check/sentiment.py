"""Self-checks for chapter 7: the McNemar paired test and choosing a decision threshold on validation data.

Importing this module needs NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from statistics import NormalDist

import numpy as np

from lstm_course.check.core import CheckFailed, assert_close, call_learner, passed

__all__ = ["mcnemar", "best_threshold"]


def _reference_mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> tuple[float, float]:
    b = int((correct_a & ~correct_b).sum())
    c = int((~correct_a & correct_b).sum())
    if b + c == 0:
        return 0.0, 1.0
    stat = (abs(b - c) - 1) ** 2 / (b + c)
    return stat, 2 * (1 - NormalDist().cdf(stat**0.5))


def mcnemar(fn: Callable[[np.ndarray, np.ndarray], tuple[float, float]]) -> None:
    """Check ``fn(correct_a, correct_b) -> (statistic, p_value)`` (continuity-corrected McNemar test).

    ``correct_a``/``correct_b`` are boolean arrays of shape ``(n,)``: whether each model got sample ``i`` right.
    When the models never disagree the expected answer is ``(0.0, 1.0)``.
    """
    rng = np.random.default_rng(7)
    cases = [(rng.random(2000) < 0.86, rng.random(2000) < 0.84) for _ in range(3)]
    same = rng.random(100) < 0.9
    cases += [(same, same.copy()), (np.ones(50, bool), np.r_[np.zeros(5, bool), np.ones(45, bool)])]
    for k, (a, b) in enumerate(cases):
        expected = _reference_mcnemar(a, b)
        actual = call_learner("mcnemar", fn, a.copy(), b.copy())
        if not isinstance(actual, (Sequence, np.ndarray)) or len(actual) != 2:
            raise CheckFailed(f"mcnemar 应返回 (统计量, p 值) 两个数，你的结果是 {actual!r}。")
        assert_close(f"第 {k + 1} 组的 (统计量, p 值)", expected, actual, rtol=1e-6, atol=1e-9)
    passed("McNemar 统计量和 p 值与参考实现一致（含两个模型从不分歧的情形）。")


def best_threshold(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], float]) -> None:
    """Check ``fn(probabilities, labels, thresholds) -> float``: the threshold with the highest accuracy.

    A sample is predicted positive when ``probability >= threshold``; ties go to the first
    (smallest-index) threshold in ``thresholds``.
    """
    rng = np.random.default_rng(3)
    thresholds = np.linspace(0.3, 0.7, 41)
    for n, bias in ((500, 0.0), (300, 0.15), (200, -0.2)):
        labels = rng.integers(0, 2, size=n)
        probabilities = np.clip(0.5 + bias + 0.35 * (2 * labels - 1) + rng.normal(scale=0.25, size=n), 0, 1)
        accuracy = [((probabilities >= t) == labels).mean() for t in thresholds]
        expected = thresholds[int(np.argmax(accuracy))]
        actual = call_learner("best_threshold", fn, probabilities.copy(), labels.copy(), thresholds.copy())
        assert_close(f"最佳阈值（{n} 个样本）", expected, actual, atol=1e-12)
    # no probability lies between the thresholds: every threshold is equally good, the first wins
    labels = rng.integers(0, 2, size=100)
    probabilities = np.where(labels == 1, rng.uniform(0.8, 1.0, 100), rng.uniform(0.0, 0.2, 100))
    actual = call_learner("best_threshold", fn, probabilities.copy(), labels.copy(), thresholds.copy())
    assert_close("所有阈值一样好时（应取第一个阈值）", thresholds[0], actual, atol=1e-12)
    passed("在验证数据上选出的阈值与参考实现一致（3 组数据，外加一组平局：取第一个阈值）。")
