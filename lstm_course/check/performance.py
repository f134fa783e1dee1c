"""Self-checks for chapter 10: the FLOP count of a recurrent layer and the fraction of the peak.

Each check calls the learner's function on several sizes, compares it with
:func:`lstm_course.params.flops_per_token` and, on the first mismatch, raises
:class:`~lstm_course.check.core.CheckFailed` naming the common mistake the numbers reveal
(the factor 2 of a multiply-add, the number of gates, the input part ``X``, the training factor 3).
Importing this module needs NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable

from lstm_course.check.core import CheckFailed, call_learner, passed
from lstm_course.params import GATES_PER_CELL, flops_per_token

__all__ = ["lstm_flops", "gru_flops", "peak_fraction"]

# (input_size, hidden_size): X smaller, equal and larger than H, so a swapped X/H shows up.
_SIZES = ((28, 256), (256, 256), (300, 64), (1, 7))
_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def _flops_hint(cell: str, X: int, H: int, actual: float, train: bool) -> str:
    G, expected = GATES_PER_CELL[cell], flops_per_token(cell, X, H, train=train)
    factor = 3 if train else 1
    candidates = {
        factor * G * H * (X + H): "少了乘法-加法的因子 2：每个乘加 (multiply-add) 算两次浮点运算。",
        factor * 2 * H * (X + H): f"只数了一个门：{_NAMES[cell]} 有 {G} 个门（块），每个都要一次同样大小的乘法。",
        factor * 2 * G * H * H: "漏掉了输入部分 X_t @ W_x：每个门的乘法是 (X+H) × H，不只是 H × H。",
        factor * 2 * G * X * H: "漏掉了循环部分 H_{t-1} @ W_h：每个门的乘法是 (X+H) × H。",
        factor * 2 * G * (X + H) ** 2: "输出维度是 H，不是 X+H：每个门把 X+H 个输入变成 H 个输出。",
    }
    if train:
        candidates[expected // 3] = (
            "这是前向的计算量；训练还要两次同样大小的乘法（对输入求梯度、对权重求梯度），共 3 倍。"
        )
        candidates[2 * expected // 3] = "训练是前向的 3 倍，不是 2 倍：反向传播要对输入和对权重各做一次乘法。"
    for value, hint in candidates.items():
        if value != expected and abs(actual - value) <= 1e-9 * max(1.0, abs(value)):
            return hint
    return f"公式是 2 × 门数 × H × (X + H)，{_NAMES[cell]} 的门数是 {G}" + ("，训练再乘 3。" if train else "。")


def _check_flops(fn: Callable, cell: str, *, train_arg: bool) -> None:
    for X, H in _SIZES:
        for train in (False, True) if train_arg else (False,):
            actual = call_learner("FLOPs", fn, X, H, train=train) if train_arg else call_learner("FLOPs", fn, X, H)
            try:
                actual = float(actual)
            except (TypeError, ValueError):
                raise CheckFailed(f"应返回一个数，你的函数返回了 {type(actual).__name__}。") from None
            expected = flops_per_token(cell, X, H, train=train)
            if abs(actual - expected) > 1e-9 * expected:
                what = "训练" if train else "前向"
                raise CheckFailed(
                    f"X={X}, H={H} 时每个词元的{what}计算量应为 {expected:,} FLOPs，你的结果是 "
                    f"{actual:,.6g}。提示：{_flops_hint(cell, X, H, actual, train)}"
                )


def lstm_flops(fn: Callable) -> None:
    """Check ``fn(input_size, hidden_size, train=False) -> FLOPs per token`` of one LSTM layer.

    Forward ``8 H (X + H)``; with ``train=True`` three times that.
    """
    _check_flops(fn, "lstm", train_arg=True)
    passed("LSTM 每个词元的前向与训练计算量都正确。")


def gru_flops(fn: Callable) -> None:
    """Check ``fn(input_size, hidden_size) -> forward FLOPs per token`` of one GRU layer (``6 H (X + H)``)."""
    _check_flops(fn, "gru", train_arg=False)
    passed("GRU 每个词元的前向计算量正确。")


def peak_fraction(fn: Callable) -> None:
    """Check ``fn(tokens_per_s, input_size, hidden_size, peak_gflops, train) -> fraction of the peak``.

    The fraction is ``tokens_per_s * flops_per_token / (peak_gflops * 1e9)``.
    """
    cases = ((52_000.0, 28, 256, 200.0, True), (225_000.0, 28, 256, 200.0, False), (1_000.0, 300, 64, 50.0, True))
    for tokens, X, H, peak, train in cases:
        expected = tokens * flops_per_token("lstm", X, H, train=train) / (peak * 1e9)
        actual = call_learner("peak_fraction", fn, tokens, X, H, peak, train)
        try:
            actual = float(actual)
        except (TypeError, ValueError):
            raise CheckFailed(f"应返回一个数，你的函数返回了 {type(actual).__name__}。") from None
        if abs(actual - expected) <= 1e-9 * expected:
            continue
        if abs(actual - 100 * expected) <= 1e-7 * expected:
            hint = "返回比例（0 到 1 之间的小数），不要乘 100。"
        elif abs(actual * 1e9 - expected) <= 1e-9 * expected or abs(actual / 1e9 - expected) <= 1e-9 * expected:
            hint = "单位不一致：峰值是 GFLOP/s，要乘 1e9 才是 FLOP/s。"
        elif train and abs(actual * 3 - expected) <= 1e-9 * expected:
            hint = "训练时每个词元的计算量是前向的 3 倍。"
        else:
            hint = "比例 = 词元/秒 × 每个词元的 FLOPs ÷ (峰值 GFLOP/s × 1e9)。"
        raise CheckFailed(
            f"词元/秒={tokens:,.0f}, X={X}, H={H}, 峰值={peak} GFLOP/s, 训练={train} 时比例应为 "
            f"{expected:.4f}，你的结果是 {actual:.6g}。提示：{hint}"
        )
    passed("峰值比例的计算正确。")
