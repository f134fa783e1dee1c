"""Shared machinery of the exercise self-checks: compare, explain in Chinese, stop early."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class CheckFailed(AssertionError):
    """Raised by a self-check; the message says in Chinese what differs and where."""


def assert_close(name: str, expected, actual, *, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Raise :class:`CheckFailed` naming ``name`` and the first mismatching element.

    Args:
        name: what is compared, in words a learner recognises (e.g. ``'遗忘门 f_t'``).
        expected, actual: array-likes of the same shape.
    """
    expected = np.asarray(expected, dtype=np.float64)
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(f"{name}：无法把你的结果转换成数组（{exc}）。") from None
    if expected.shape != actual.shape:
        raise CheckFailed(f"{name}：形状不对，应为 {expected.shape}，你的结果是 {actual.shape}。")
    bad = ~np.isclose(actual, expected, atol=atol, rtol=rtol)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CheckFailed(
            f"{name}：在位置 {idx} 处不一致，应为 {expected[idx]:.6g}，你的结果是 {actual[idx]:.6g}"
            f"（共 {int(bad.sum())} / {bad.size} 个元素不一致）。"
        )


def is_close(a, b) -> bool:
    """Whether ``a`` and ``b`` have the same shape and equal values (``atol=1e-6, rtol=1e-5``); never raises."""
    try:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, atol=1e-6, rtol=1e-5))


def compare_with_hint(
    label: str, expected, actual, hint: Callable[[], str] | None = None, *, axes: str = "样本, 隐藏单元"
) -> None:
    """:func:`assert_close` plus what the position's axes mean and, on failure, a specific hint from ``hint()``."""
    try:
        assert_close(label, expected, actual)
    except CheckFailed as exc:
        extra = hint() if hint is not None else ""
        raise CheckFailed(f"{exc}位置按 ({axes}) 编号。{('提示：' + extra) if extra else ''}") from None


def call_learner(name: str, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's ``fn(*args, **kwargs)``; an exception becomes a :class:`CheckFailed` naming ``name``."""
    try:
        return fn(*args, **kwargs)
    except CheckFailed:
        raise
    except Exception as exc:  # the learner's code failed: say where, in Chinese
        raise CheckFailed(f"{name}：调用你的函数时出错：{type(exc).__name__}: {exc}") from exc


def passed(message: str) -> None:
    """Print the success line every self-check ends with."""
    print(f"✅ 通过：{message}")
