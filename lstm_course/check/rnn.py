"""Self-checks for chapters 1–2: the RNN step and its backward pass, parameter count,
spectral-radius scaling, the adding-problem data and global-norm clipping.

Importing this module needs NumPy only; :func:`clip_grad_norm` imports PyTorch when it runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lstm_course.check.core import CheckFailed, assert_close, call_learner, passed
from lstm_course.numpy import rnn as ref

__all__ = [
    "rnn_step",
    "rnn_step_backward",
    "rnn_parameter_count",
    "scale_spectral_radius",
    "adding_batch",
    "clip_grad_norm",
]

# (input_size, hidden_size, output_size, batch): non-square on purpose, so transposes show up.
_SIZES = ((3, 4, 2, 2), (5, 2, 3, 1), (1, 6, 1, 3))


def rnn_step(fn: Callable) -> None:
    """Check ``fn(X_t, H_prev, params) -> H_t`` against :func:`lstm_course.numpy.rnn.rnn_step`."""
    for seed, (d, h, _, b) in enumerate(_SIZES):
        rng = np.random.default_rng(seed)
        params = ref.init_rnn_params(d, h, rng=rng, scale=0.8)
        X_t, H_prev = rng.normal(size=(b, d)), rng.uniform(-1, 1, size=(b, h))
        expected = ref.rnn_step(X_t, H_prev, params)
        assert_close(
            f"H_t（输入维 {d}，隐藏维 {h}，批量 {b}）",
            expected,
            call_learner("rnn_step", fn, X_t.copy(), H_prev.copy(), dict(params)),
        )
    passed("rnn_step 与参考实现一致（3 组不同形状）。")


def rnn_step_backward(fn: Callable) -> None:
    """Check ``fn(dH_t, X_t, H_prev, H_t, params) -> dict`` with keys ``W_xh, W_hh, b_h, X, H_prev``."""
    for seed, (d, h, _, b) in enumerate(_SIZES):
        rng = np.random.default_rng(100 + seed)
        params = ref.init_rnn_params(d, h, rng=rng, scale=0.8)
        X_t, H_prev = rng.normal(size=(b, d)), rng.uniform(-1, 1, size=(b, h))
        H_t = ref.rnn_step(X_t, H_prev, params)
        dH_t = rng.normal(size=(b, h))
        expected = ref.rnn_step_backward(dH_t, X_t, H_prev, H_t, params)
        actual = call_learner("rnn_step_backward", fn, dH_t.copy(), X_t.copy(), H_prev.copy(), H_t.copy(), dict(params))
        if not isinstance(actual, dict):
            raise CheckFailed(f"rnn_step_backward 应返回字典，你的结果是 {type(actual).__name__}。")
        for key, value in expected.items():
            if key not in actual:
                raise CheckFailed(f"返回的字典缺少键 {key!r}（需要 {', '.join(expected)}）。")
            assert_close(f"梯度 d{key}（输入维 {d}，隐藏维 {h}，批量 {b}）", value, actual[key])
    passed("rnn_step_backward 的 5 个梯度都与参考实现一致。")


def rnn_parameter_count(fn: Callable) -> None:
    """Check ``fn(input_size, hidden_size, output_size) -> int`` (RNN layer plus output layer)."""
    for d, h, o in ((3, 4, 2), (28, 256, 28), (1, 1, 1), (100, 32, 5)):
        expected = sum(a.size for a in ref.init_rnn_params(d, h, o, seed=0).values())
        actual = call_learner("rnn_parameter_count", fn, d, h, o)
        if actual != expected:
            raise CheckFailed(
                f"d={d}, h={h}, o={o} 时参数量应为 {expected}，你的结果是 {actual}。别忘了偏置 b_h 和 b_q。"
            )
    passed("参数量公式正确。")


def scale_spectral_radius(fn: Callable) -> None:
    """Check ``fn(W, radius) -> W_scaled``: same direction as ``W``, spectral radius ``radius``."""
    rng = np.random.default_rng(7)
    for n, radius in ((4, 0.5), (16, 1.0), (32, 1.5)):
        W = rng.normal(size=(n, n))
        original = W.copy()
        actual = np.asarray(call_learner("scale_spectral_radius", fn, W, radius), dtype=np.float64)
        if not np.array_equal(W, original):
            raise CheckFailed("你的函数修改了输入矩阵 W；请返回一个新数组。")
        assert_close(f"缩放后的 W（n={n}，目标谱半径 {radius}）", ref.scale_spectral_radius(W, radius), actual)
    passed("缩放后的谱半径与方向都正确。")


def adding_batch(fn: Callable) -> None:
    """Check an adding-problem generator ``fn(steps, batch, rng) -> (X, y)`` by its properties.

    ``X``: ``(steps, batch, 2)``, values in ``[0, 1)``, exactly one marker in each half;
    ``y``: ``(batch,)``, the sum of the two marked values; the baseline MSE is close to 1/6.
    """
    steps, batch = 20, 4000
    X, y = call_learner("adding_batch", fn, steps, batch, np.random.default_rng(0))
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if X.shape != (steps, batch, 2):
        raise CheckFailed(f"X 的形状应为 {(steps, batch, 2)}（时间步, 批量, 2），你的结果是 {X.shape}。")
    if y.shape != (batch,):
        raise CheckFailed(f"y 的形状应为 {(batch,)}，你的结果是 {y.shape}。")
    values, markers = X[..., 0], X[..., 1]
    if values.min() < 0 or values.max() >= 1:
        raise CheckFailed(f"数值通道应在 [0, 1) 内，你的最小值 {values.min():.3g}、最大值 {values.max():.3g}。")
    if not np.isin(markers, (0.0, 1.0)).all() or not (markers.sum(axis=0) == 2).all():
        raise CheckFailed("标记通道每个序列应恰好有两个 1，其余为 0。")
    half = steps // 2
    if not ((markers[:half].sum(axis=0) == 1) & (markers[half:].sum(axis=0) == 1)).all():
        raise CheckFailed(f"两个标记应分别位于前一半（t < {half}）和后一半（t ≥ {half}）。")
    assert_close("目标 y（两个标记值之和）", (values * markers).sum(axis=0), y)
    baseline = float(np.mean((y - 1.0) ** 2))
    if abs(baseline - 1 / 6) > 0.02:
        raise CheckFailed(f"总是预测 1 的 MSE 应接近 1/6 ≈ 0.167，你的数据给出 {baseline:.3f}；数值是均匀分布吗？")
    passed(f"加法问题的数据正确（基线 MSE = {baseline:.4f}）。")


def clip_grad_norm(fn: Callable) -> None:
    """Check ``fn(grads, max_norm) -> (clipped_grads, total_norm)`` against ``torch.nn.utils.clip_grad_norm_``.

    ``grads`` is a list of NumPy arrays; the function must return new arrays scaled together so
    that their global L2 norm is at most ``max_norm``, and the norm before clipping.
    """
    import torch

    rng = np.random.default_rng(3)
    shapes = [(3, 4), (4, 4), (4,)]
    for max_norm, scale in ((1.0, 5.0), (100.0, 1.0)):  # clipped, then left unchanged
        grads = [scale * rng.normal(size=s) for s in shapes]
        tensors = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
        for t, g in zip(tensors, grads, strict=True):
            t.grad = torch.from_numpy(g.copy())
        norm = float(torch.nn.utils.clip_grad_norm_(tensors, max_norm))
        result = call_learner("clip_grad_norm", fn, [g.copy() for g in grads], max_norm)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise CheckFailed("应返回二元组 (裁剪后的梯度列表, 裁剪前的全局范数)。")
        clipped, total = result
        assert_close(f"裁剪前的全局范数（max_norm={max_norm}）", norm, total)
        if len(clipped) != len(grads):
            raise CheckFailed(f"应返回 {len(grads)} 个梯度，你返回了 {len(clipped)} 个。")
        for i, (t, c) in enumerate(zip(tensors, clipped, strict=True)):
            assert_close(f"第 {i} 个梯度（max_norm={max_norm}）", t.grad.numpy(), c)
    passed("全局范数裁剪与 torch.nn.utils.clip_grad_norm_ 一致。")
