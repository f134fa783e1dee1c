"""Self-checks for chapter 5: one GRU step (both variants), its backward pass, and the parameter count.

Every check compares the learner's function with :mod:`lstm_course.numpy.gru` on random inputs of
several shapes (batch 1 included) and, on the first mismatch, raises
:class:`~lstm_course.check.core.CheckFailed` naming the gate (重置门、更新门、候选隐状态) or gradient
and, where a common mistake reproduces the numbers, that mistake.  Importing this module needs
NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from lstm_course.check.core import CheckFailed, call_learner, compare_with_hint, is_close, passed
from lstm_course.numpy import gru as ref
from lstm_course.numpy.lstm import sigmoid

__all__ = ["gru_step", "gru_step_backward", "gru_parameter_count"]

# (input_size, hidden_size, batch): non-square, batch 1 included, so transposes and broadcasts show up.
_SIZES = ((3, 4, 2), (5, 2, 1), (2, 6, 3))
_SYMBOL = {"r": "R_t", "z": "Z_t", "h": "H̃_t"}
_FORMULA = {
    "r": "R_t = σ(X_t @ W_xr + H_{t-1} @ W_hr + b_r)",
    "z": "Z_t = σ(X_t @ W_xz + H_{t-1} @ W_hz + b_z)",
    "h": {
        "textbook": "H̃_t = tanh(X_t @ W_xh + (R_t ⊙ H_{t-1}) @ W_hh + b_h)",
        "framework": "H̃_t = tanh(X_t @ W_xh + b_h + R_t ⊙ (H_{t-1} @ W_hh + b_hh))",
    },
}
_VARIANT_ZH = {
    "textbook": "教科书形式（重置门作用在矩阵乘法之前）",
    "framework": "框架形式（重置门作用在矩阵乘法之后）",
}


def _check_variant(variant: str) -> None:
    if variant not in ref.VARIANTS:
        raise ValueError(f"variant: expected one of {ref.VARIANTS}, received {variant!r}")


def _case(seed: int, input_size: int, hidden_size: int, batch: int, variant: str):
    rng = np.random.default_rng(seed)
    params = ref.init_gru_params(input_size, hidden_size, variant=variant, rng=rng, scale=0.8)
    X_t = rng.normal(size=(batch, input_size))
    H_prev = rng.uniform(-1, 1, size=(batch, hidden_size))
    return rng, params, X_t, H_prev


def _copies(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.array(v) for k, v in params.items()}


def _candidate(X_t, H_prev, R, params, form: str) -> np.ndarray:
    p = params
    if form == "textbook":
        return np.tanh(X_t @ p["W_xh"] + (R * H_prev) @ p["W_hh"] + p["b_h"])
    return np.tanh(X_t @ p["W_xh"] + p["b_h"] + R * (H_prev @ p["W_hh"] + p.get("b_hh", 0.0)))


def _gate_hint(g: str, actual, gates, X_t, H_prev, params, variant: str) -> str:
    name = ref.GATE_NAMES_ZH[g]
    for other in ("r", "z"):
        if g != "h" and other != g and is_close(actual, gates[other]):
            return (
                f"你的{name}与参考实现的{ref.GATE_NAMES_ZH[other]}相同——是不是把 W_x{other}、W_h{other}、b_{other} "
                f"用在了{name}上？"
            )
    if g == "h":
        other = "framework" if variant == "textbook" else "textbook"
        if is_close(actual, _candidate(X_t, H_prev, gates["r"], params, other)):
            return f"你写的是{_VARIANT_ZH[other]}，这里要求{_VARIANT_ZH[variant]}。公式：{_FORMULA['h'][variant]}。"
        if is_close(actual, np.tanh(X_t @ params["W_xh"] + H_prev @ params["W_hh"] + params["b_h"])):
            return "候选隐状态里漏掉了重置门 R_t。公式：" + _FORMULA["h"][variant] + "。"
        return "公式：" + _FORMULA["h"][variant] + "。"
    z = X_t @ params[f"W_x{g}"] + H_prev @ params[f"W_h{g}"] + params[f"b_{g}"]
    if is_close(actual, np.tanh(z)):
        return f"{name}应使用 sigmoid：门的取值在 0 到 1 之间。"
    if is_close(actual, sigmoid(X_t @ params[f"W_x{g}"] + params[f"b_{g}"])):
        return f"漏掉了上一时间步隐状态的贡献 H_{{t-1}} @ W_h{g}。"
    return f"公式：{_FORMULA[g]}。"


def _update_hint(actual, gates, H_prev) -> str:
    Z, H_tilde = gates["z"], gates["h"]
    if is_close(actual, (1 - Z) * H_prev + Z * H_tilde):
        return (
            "更新门的两个系数弄反了：本书（与 d2l、PyTorch、Keras 一致）写作 H_t = Z_t ⊙ H_{t-1} + (1 − Z_t) ⊙ H̃_t，"
            "Z_t 接近 1 时保留旧状态。"
        )
    if is_close(actual, H_tilde):
        return "忘了用更新门混合旧状态：H_t = Z_t ⊙ H_{t-1} + (1 − Z_t) ⊙ H̃_t。"
    return "三个门都正确，问题在更新公式 H_t = Z_t ⊙ H_{t-1} + (1 − Z_t) ⊙ H̃_t（⊙ 在 NumPy 里是 *）。"


def gru_step(fn: Callable, *, variant: str = "textbook") -> None:
    """Check ``fn(X_t, H_prev, params)`` against :func:`lstm_course.numpy.gru.gru_step`.

    ``fn`` returns ``H_t`` or, better, ``(H_t, gates)`` with ``gates = {"r": R_t, "z": Z_t,
    "h": H_tilde_t}``: then a mismatch is traced to the gate that causes it.  ``variant`` picks the
    formulation (``'textbook'``: d2l; ``'framework'``: ``nn.GRU``, whose ``params`` also hold ``b_hh``).
    """
    _check_variant(variant)
    for seed, (d, h, b) in enumerate(_SIZES):
        _gru_step_case(fn, seed, d, h, b, variant)
    passed(f"gru_step（{_VARIANT_ZH[variant]}）与参考实现一致（3 组不同形状，含批量 1）。")


def _gru_step_case(fn: Callable, seed: int, d: int, h: int, b: int, variant: str) -> None:
    """One case of :func:`gru_step`: input size ``d``, hidden size ``h``, batch ``b``, data from ``seed``."""
    _, params, X_t, H_prev = _case(seed, d, h, b, variant)
    H_ref, gates_ref = ref.gru_step(X_t, H_prev, params, variant=variant, return_gates=True)
    where = f"（输入维 {d}，隐藏维 {h}，批量 {b}）"
    result = call_learner("gru_step", fn, X_t.copy(), H_prev.copy(), _copies(params))
    if isinstance(result, (tuple, list)):
        if len(result) != 2 or not isinstance(result[1], Mapping):
            raise CheckFailed(
                "gru_step 应返回 H_t 或 (H_t, gates)，其中 gates 是字典 {'r', 'z', 'h'}；"
                f"你的函数返回了长度为 {len(result)} 的 {type(result).__name__}。"
            )
        H_t, gates = result
        for g in ("r", "z", "h"):
            if g not in gates:
                raise CheckFailed(f"门的字典缺少键 {g!r}（{ref.GATE_NAMES_ZH[g]}）；需要 'r', 'z', 'h'。")
            compare_with_hint(
                f"{ref.GATE_NAMES_ZH[g]} {_SYMBOL[g]}{where}",
                gates_ref[g],
                gates[g],
                lambda g=g: _gate_hint(g, gates[g], gates_ref, X_t, H_prev, params, variant),
            )
    else:
        H_t = result
    with_gates = isinstance(result, (tuple, list))
    compare_with_hint(
        f"隐状态 H_t{where}",
        H_ref,
        H_t,
        lambda: (
            _update_hint(H_t, gates_ref, H_prev)
            if with_gates or _is_update_mistake(H_t, gates_ref, H_prev)
            else _step_hint(H_t, X_t, H_prev, params, variant)
        ),
    )


def _is_update_mistake(actual, gates, H_prev) -> bool:
    """Whether ``actual`` is one of the update-rule mistakes :func:`_update_hint` names."""
    Z, H_tilde = gates["z"], gates["h"]
    return is_close(actual, (1 - Z) * H_prev + Z * H_tilde) or is_close(actual, H_tilde)


def _step_hint(actual, X_t, H_prev, params, variant: str) -> str:
    """Without gates: test the other formulation, then suggest returning the gate dict."""
    other = "framework" if variant == "textbook" else "textbook"
    R = sigmoid(X_t @ params["W_xr"] + H_prev @ params["W_hr"] + params["b_r"])
    Z = sigmoid(X_t @ params["W_xz"] + H_prev @ params["W_hz"] + params["b_z"])
    if is_close(actual, Z * H_prev + (1 - Z) * _candidate(X_t, H_prev, R, params, other)):
        return f"你写的是{_VARIANT_ZH[other]}，这里要求{_VARIANT_ZH[variant]}。公式：{_FORMULA['h'][variant]}。"
    return "返回 (H_t, gates) 可以让检查指出是哪一个门出错。"


_GRAD_ZH = {"W_x": "输入权重", "W_h": "循环权重", "b_": "偏置"}


def gru_step_backward(fn: Callable, *, variant: str = "textbook") -> None:
    """Check ``fn(dH_t, X_t, H_prev, gates, params) -> dict`` against the reference backward step.

    Arguments as in :func:`lstm_course.numpy.gru.gru_step_backward` (``dH_t`` is the total gradient
    w.r.t. ``H_t``).  The dict must hold every parameter gradient and ``X``, ``H_prev``.
    """
    _check_variant(variant)
    for seed, (d, h, b) in enumerate(_SIZES):
        _gru_step_backward_case(fn, seed, d, h, b, variant)
    passed(f"gru_step_backward（{_VARIANT_ZH[variant]}）与参考实现一致（3 组不同形状，含批量 1）。")


def _gru_step_backward_case(fn: Callable, seed: int, d: int, h: int, b: int, variant: str) -> None:
    """One case of :func:`gru_step_backward`: input size ``d``, hidden size ``h``, batch ``b``, data from ``seed``."""
    rng, params, X_t, H_prev = _case(100 + seed, d, h, b, variant)
    _, gates = ref.gru_step(X_t, H_prev, params, variant=variant, return_gates=True)
    dH_t = rng.normal(size=(b, h))
    expected = ref.gru_step_backward(dH_t, X_t, H_prev, gates, params, variant=variant)
    actual = call_learner(
        "gru_step_backward",
        fn,
        dH_t.copy(),
        X_t.copy(),
        H_prev.copy(),
        {g: v.copy() for g, v in gates.items()},
        _copies(params),
    )
    if not isinstance(actual, Mapping):
        raise CheckFailed(f"gru_step_backward 应返回字典，你的结果是 {type(actual).__name__}。")
    missing = [k for k in expected if k not in actual]
    if missing:
        raise CheckFailed(f"返回的字典缺少 {missing}；需要每个参数的梯度以及 'X'、'H_prev'。")
    where = f"（输入维 {d}，隐藏维 {h}，批量 {b}）"

    def prev_hint() -> str:
        direct = dH_t * gates["z"]
        if is_close(actual["H_prev"], direct):
            return "只算了直接通路 dH_t ⊙ Z_t，漏掉了经过三个门（各自的 W_h）流回 H_{t-1} 的梯度。"
        if is_close(actual["H_prev"] - expected["H_prev"], -direct):
            return "漏掉了直接通路 dH_t ⊙ Z_t（H_t = Z_t ⊙ H_{t-1} + ... 中的第一项）。"
        return "H_{t-1} 出现在四个地方：直接通路、重置门、更新门和候选隐状态，梯度要全部相加。"

    compare_with_hint(f"∂L/∂H_{{t-1}}{where}", expected["H_prev"], actual["H_prev"], prev_hint)
    compare_with_hint(f"∂L/∂X_t{where}", expected["X"], actual["X"], axes="样本, 输入维")
    for name in ref.param_names(variant):
        prefix = name[:3] if name[:3] in _GRAD_ZH else "b_"
        label = f"∂L/∂{name}（{_GRAD_ZH.get(prefix, '偏置')}）{where}"
        compare_with_hint(label, expected[name], actual[name], axes="隐藏单元," if name.startswith("b_") else "行, 列")


def gru_parameter_count(fn: Callable) -> None:
    """Check ``fn(d, h, variant)`` — the parameter count of one GRU layer — for both variants.

    ``'textbook'`` has ``3(dh + h² + h)``; ``'framework'`` one more bias vector ``b_hh`` (``+h``).
    """
    for d, h in ((28, 256), (3, 5), (1, 1)):
        for variant in ref.VARIANTS:
            expected = sum(p.size for p in ref.init_gru_params(d, h, variant=variant, seed=0).values())
            actual = call_learner("gru_parameter_count", fn, d, h, variant)
            if actual != expected:
                hint = ""
                if actual == expected - h and variant == "framework":
                    hint = "框架形式的候选隐状态有两个偏置：b_h 在矩阵乘法外，b_hh 在重置门的乘积里，不能合并。"
                elif actual == 4 * (d * h + h * h + h) - (h if variant == "textbook" else 0):
                    hint = "GRU 有三组权重（重置门、更新门、候选隐状态），不是 LSTM 的四组。"
                raise CheckFailed(
                    f"gru_parameter_count（d={d}，h={h}，{variant}）：应为 {expected}，你的结果是 {actual}。"
                    + (f"提示：{hint}" if hint else "")
                )
    passed("gru_parameter_count 对两种形式都正确。")
