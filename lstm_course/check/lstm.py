"""Self-checks for chapter 3: one LSTM step, its backward pass, and the loop over time.

Every check compares the learner's function with :mod:`lstm_course.numpy.lstm` on random
inputs of several shapes (batch 1 included) and, on the first mismatch, raises
:class:`~lstm_course.check.core.CheckFailed` naming the gate (遗忘门、输入门、候选记忆元、输出门)
or gradient, the element, and — where a common mistake explains the numbers — that mistake.
Importing this module needs NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from lstm_course.check.core import CheckFailed, call_learner, compare_with_hint, is_close, passed
from lstm_course.numpy import lstm as ref

__all__ = ["lstm_step", "lstm_step_backward", "lstm_forward"]

# (input_size, hidden_size, batch): non-square, batch 1 included, so transposes and broadcasts show up.
_SIZES = ((3, 4, 2), (5, 2, 1), (2, 6, 3))
_ORDER = ("f", "i", "c", "o")  # the order in which gates are checked: along the conveyor belt
_SYMBOL = {"i": "i_t", "f": "f_t", "o": "o_t", "c": "C̃_t"}
_FORMULA = {
    "i": "i_t = σ(X_t @ W_xi + H_{t-1} @ W_hi + b_i)",
    "f": "f_t = σ(X_t @ W_xf + H_{t-1} @ W_hf + b_f)",
    "o": "o_t = σ(X_t @ W_xo + H_{t-1} @ W_ho + b_o)",
    "c": "C̃_t = tanh(X_t @ W_xc + H_{t-1} @ W_hc + b_c)",
}


def _case(seed: int, input_size: int, hidden_size: int, batch: int):
    rng = np.random.default_rng(seed)
    params = ref.init_lstm_params(input_size, hidden_size, rng=rng, scale=0.8, forget_bias=None)
    X_t = rng.normal(size=(batch, input_size))
    state = (rng.uniform(-1, 1, size=(batch, hidden_size)), rng.normal(size=(batch, hidden_size)))
    return rng, params, X_t, state


def _copies(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.array(v) for k, v in params.items()}


def _pre(g: str, X_t, H_prev, params, *, with_h: bool = True) -> np.ndarray:
    z = X_t @ params[f"W_x{g}"] + params[f"b_{g}"]
    return z + H_prev @ params[f"W_h{g}"] if with_h else z


def _gate_hint(g: str, actual, gates: Mapping[str, np.ndarray], X_t, H_prev, params) -> str:
    """Explain a wrong gate by the common mistakes that reproduce the learner's numbers."""
    name = ref.GATE_NAMES_ZH[g]
    for other in ("i", "f", "o", "c"):
        if other != g and is_close(actual, gates[other]):
            return (
                f"你的{name}与参考实现的{ref.GATE_NAMES_ZH[other]}完全相同——是不是把 W_x{other}、W_h{other}、"
                f"b_{other} 用在了{name}上？每个门都有自己的一组参数。"
            )
    z = _pre(g, X_t, H_prev, params)
    wrong_act, right_act, act_name = (ref.sigmoid, np.tanh, "tanh") if g == "c" else (np.tanh, ref.sigmoid, "sigmoid")
    if is_close(actual, wrong_act(z)):
        return f"{name}应使用 {act_name}：" + (
            "候选记忆元取值在 -1 到 1 之间。" if g == "c" else "门的取值在 0 到 1 之间，表示“放行多少”。"
        )
    if is_close(actual, right_act(_pre(g, X_t, H_prev, params, with_h=False))):
        return f"漏掉了上一时间步隐状态的贡献 H_{{t-1}} @ W_h{g}。"
    if is_close(actual, right_act(X_t @ params[f"W_x{g}"] + H_prev @ params[f"W_h{g}"])):
        return f"漏掉了偏置 b_{g}。"
    if g != "c" and (np.min(actual) < 0 or np.max(actual) > 1):
        return f"门的值应在 0 到 1 之间，你的结果在 [{np.min(actual):.3g}, {np.max(actual):.3g}]。公式：{_FORMULA[g]}。"
    return f"公式：{_FORMULA[g]}。"


def _cell_hint(actual, gates, C_prev, *, specific_only: bool = False) -> str:
    I, F, C_tilde = gates["i"], gates["f"], gates["c"]
    if is_close(actual, I * C_prev + F * C_tilde):
        return "输入门和遗忘门的位置弄反了：遗忘门 f_t 乘旧的记忆元 C_{t-1}，输入门 i_t 乘候选记忆元 C̃_t。"
    if is_close(actual, F * C_prev + C_tilde):
        return "候选记忆元要先乘输入门 i_t 再加到细胞状态上。"
    if is_close(actual, C_prev + I * C_tilde):
        return "旧的记忆元 C_{t-1} 要先乘遗忘门 f_t。"
    if specific_only:
        return ""
    return "C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t（⊙ 是逐元素乘法，在 NumPy 里就是 *，不是 @）。"


def _hidden_hint(actual, gates, C_t) -> str:
    if is_close(actual, gates["o"] * C_t):
        return "忘了 tanh：H_t = o_t ⊙ tanh(C_t)。"
    if is_close(actual, np.tanh(C_t)):
        return "忘了乘输出门 o_t：H_t = o_t ⊙ tanh(C_t)。"
    return (
        f"C_t 已经正确，问题在 H_t = o_t ⊙ tanh(C_t)：检查输出门（{_FORMULA['o']}），"
        "以及 tanh 里用的是否是本步更新后的 C_t。"
    )


def lstm_step(fn: Callable) -> None:
    """Check ``fn(X_t, state, params)`` against :func:`lstm_course.numpy.lstm.lstm_step`.

    ``state`` is ``(H_prev, C_prev)``; ``fn`` returns ``(H_t, C_t)`` or, better,
    ``(H_t, C_t, gates)`` with ``gates = {"i": I_t, "f": F_t, "o": O_t, "c": C_tilde_t}``:
    then a mismatch is traced to the gate that causes it.
    """
    for seed, (d, h, b) in enumerate(_SIZES):
        _lstm_step_case(fn, seed, d, h, b)
    passed("lstm_step 与参考实现一致（3 组不同形状，含批量 1）。")


def _lstm_step_case(fn: Callable, seed: int, d: int, h: int, b: int) -> None:
    """One case of :func:`lstm_step`: input size ``d``, hidden size ``h``, batch ``b``, data from ``seed``."""
    _, params, X_t, state = _case(seed, d, h, b)
    H_ref, C_ref, gates_ref = ref.lstm_step(X_t, state, params, return_gates=True)
    where = f"（输入维 {d}，隐藏维 {h}，批量 {b}）"
    result = call_learner("lstm_step", fn, X_t.copy(), (state[0].copy(), state[1].copy()), _copies(params))
    if not isinstance(result, (tuple, list)) or len(result) not in (2, 3):
        raise CheckFailed(
            "lstm_step 应返回 (H_t, C_t) 或 (H_t, C_t, gates)，"
            f"你的函数返回了 {type(result).__name__}"
            + (f"（长度 {len(result)}）" if isinstance(result, (tuple, list)) else "")
            + "。"
        )
    H_t, C_t = result[0], result[1]
    if len(result) == 3:
        gates = result[2]
        if not isinstance(gates, Mapping):
            raise CheckFailed(f"第三个返回值应是字典 {{'i', 'f', 'o', 'c'}}，你的是 {type(gates).__name__}。")
        for g in _ORDER:
            if g not in gates:
                raise CheckFailed(f"门的字典缺少键 {g!r}（{ref.GATE_NAMES_ZH[g]}）；需要 'i', 'f', 'o', 'c'。")
            compare_with_hint(
                f"{ref.GATE_NAMES_ZH[g]} {_SYMBOL[g]}{where}",
                gates_ref[g],
                gates[g],
                lambda g=g: _gate_hint(g, gates[g], gates_ref, X_t, state[0], params),
            )
        compare_with_hint(
            f"细胞状态 C_t{where}",
            C_ref,
            C_t,
            lambda: "四个门都正确，问题在更新公式。" + _cell_hint(C_t, gates_ref, state[1]),
        )
    else:
        compare_with_hint(
            f"细胞状态 C_t{where}",
            C_ref,
            C_t,
            lambda: _cell_hint(C_t, gates_ref, state[1], specific_only=True) or _diagnose_cell(fn, X_t, state, params),
        )
    compare_with_hint(f"隐状态 H_t{where}", H_ref, H_t, lambda: _hidden_hint(H_t, gates_ref, C_ref))


def _diagnose_cell(fn: Callable, X_t, state, params) -> str:
    """Without gates: rerun with ``C_prev = 0`` to tell the forget term from the input term."""
    zero_state = (state[0].copy(), np.zeros_like(state[1]))
    _, C_ref, _ = ref.lstm_step(X_t, zero_state, params, return_gates=True)
    try:
        result = fn(X_t.copy(), zero_state, _copies(params))
        C_zero = result[1]
    except Exception:  # noqa: BLE001 - only a hint; the mismatch itself is already reported
        return "返回门的字典 (H_t, C_t, gates) 可以让检查指出是哪一个门出错。"
    if is_close(C_zero, C_ref):
        return (
            "令 C_{t-1} = 0 时你的 C_t 正确，所以 i_t ⊙ C̃_t 这一项没问题，错在遗忘门 f_t ⊙ C_{t-1} 这一项。"
            "返回门的字典 (H_t, C_t, gates) 可以得到更具体的提示。"
        )
    return (
        "令 C_{t-1} = 0 时你的 C_t 仍然不对，所以错在输入门 i_t 或候选记忆元 C̃_t（i_t ⊙ C̃_t 这一项）。"
        "返回门的字典 (H_t, C_t, gates) 可以得到更具体的提示。"
    )


_GRAD_NAMES = {"W_x": "输入权重", "W_h": "循环权重", "b_": "偏置"}
_GRAD_AXES = {"W_x": "输入维, 隐藏单元", "W_h": "上一步的隐藏单元, 隐藏单元", "b_": "隐藏单元,"}


def lstm_step_backward(fn: Callable) -> None:
    """Check ``fn(dH_t, dC_t, X_t, state, gates, C_t, params) -> dict`` against the reference.

    Arguments as in :func:`lstm_course.numpy.lstm.lstm_step_backward` (``dC_t`` is the gradient
    w.r.t. ``C_t`` that arrives from later steps).  The dict must hold the twelve parameter
    gradients ``W_xi, ..., b_c`` and ``X``, ``H_prev``, ``C_prev``.
    """
    for seed, (d, h, b) in enumerate(_SIZES):
        _lstm_step_backward_case(fn, seed, d, h, b)
    passed("lstm_step_backward 的 15 个梯度都与参考实现一致（3 组不同形状，含批量 1）。")


def _lstm_step_backward_case(fn: Callable, seed: int, d: int, h: int, b: int) -> None:
    """One case of :func:`lstm_step_backward`: input size ``d``, hidden size ``h``, batch ``b``, data from ``seed``."""
    rng, params, X_t, state = _case(100 + seed, d, h, b)
    H_t, C_t, gates = ref.lstm_step(X_t, state, params, return_gates=True)
    dH_t, dC_t = rng.normal(size=(b, h)), rng.normal(size=(b, h))
    expected = ref.lstm_step_backward(dH_t, dC_t, X_t, state, gates, C_t, params)
    actual = call_learner(
        "lstm_step_backward",
        fn,
        dH_t.copy(),
        dC_t.copy(),
        X_t.copy(),
        (state[0].copy(), state[1].copy()),
        {g: v.copy() for g, v in gates.items()},
        C_t.copy(),
        _copies(params),
    )
    if not isinstance(actual, Mapping):
        raise CheckFailed(f"lstm_step_backward 应返回字典，你的结果是 {type(actual).__name__}。")
    missing = [k for k in expected if k not in actual]
    if missing:
        raise CheckFailed(f"返回的字典缺少键 {', '.join(missing)}（需要 {', '.join(expected)}）。")
    where = f"（输入维 {d}，隐藏维 {h}，批量 {b}）"
    F, O, tanh_C = gates["f"], gates["o"], np.tanh(C_t)

    def dc_hint() -> str:
        if is_close(actual["C_prev"], dC_t * F):
            return "漏掉了经由 H_t = o_t ⊙ tanh(C_t) 流回 C_t 的梯度 dH_t ⊙ o_t ⊙ (1 − tanh²C_t)。"
        if is_close(actual["C_prev"], (dC_t + dH_t * O) * F):
            return "忘了 tanh 的导数：经由 H_t 流回 C_t 的梯度是 dH_t ⊙ o_t ⊙ (1 − tanh²C_t)。"
        if is_close(actual["C_prev"], dC_t + dH_t * O * (1 - tanh_C**2)):
            return "dC_{t-1} 还要乘遗忘门 f_t：∂C_t/∂C_{t-1} = diag(f_t)。"
        return "dC_{t-1} = (dC_t + dH_t ⊙ o_t ⊙ (1 − tanh²C_t)) ⊙ f_t。"

    compare_with_hint(f"梯度 dC_prev（传回上一步细胞状态的梯度）{where}", expected["C_prev"], actual["C_prev"], dc_hint)
    for g in _ORDER:
        for prefix, what in _GRAD_NAMES.items():
            key = f"{prefix}{g}"
            compare_with_hint(
                f"梯度 d{key}（{ref.GATE_NAMES_ZH[g]}的{what}）{where}",
                expected[key],
                actual[key],
                lambda key=key: _transpose_hint(expected[key], actual[key]),
                axes=_GRAD_AXES[prefix],
            )
    compare_with_hint(
        f"梯度 dX（对输入 X_t）{where}",
        expected["X"],
        actual["X"],
        lambda: "四个门都要把梯度传回输入：dX_t = Σ_g dZ_g @ W_xg.T。",
        axes="样本, 输入维",
    )
    compare_with_hint(
        f"梯度 dH_prev（对上一步隐状态）{where}",
        expected["H_prev"],
        actual["H_prev"],
        lambda: "四个门都要把梯度传回隐状态：dH_{t-1} = Σ_g dZ_g @ W_hg.T。",
    )


def _transpose_hint(expected, actual) -> str:
    actual = np.asarray(actual, dtype=np.float64)
    if actual.ndim == 2 and actual.T.shape == expected.shape and is_close(actual.T, expected):
        return "结果恰好是正确答案的转置：权重梯度是 X_t.T @ dZ（或 H_{t-1}.T @ dZ），不是 dZ.T @ X_t。"
    if actual.ndim == 1 and expected.ndim == 1:
        return "偏置的梯度要对批量求和：db = dZ.sum(axis=0)。"
    return "先求门的预激活梯度 dZ_g（乘上 σ' = g(1 − g) 或 tanh' = 1 − C̃²），再乘输入的转置。"


def lstm_forward(fn: Callable) -> None:
    """Check ``fn(X, state, params) -> (H_all, (H_T, C_T))`` (extra return values are ignored).

    ``X`` is ``(steps, batch, input_size)``, ``state`` is ``(H0, C0)``; ``H_all`` must be
    ``(steps, batch, hidden_size)`` — the hidden state of every step, carried from step to step.
    """
    for seed, (d, h, b) in enumerate(_SIZES):
        rng, params, _, state = _case(200 + seed, d, h, b)
        X = rng.normal(size=(4, b, d))
        H_ref, (H_T, C_T), _ = ref.lstm_forward(X, state, params)
        result = call_learner("lstm_forward", fn, X.copy(), (state[0].copy(), state[1].copy()), _copies(params))
        if not isinstance(result, (tuple, list)) or len(result) < 2 or len(result[1]) != 2:
            raise CheckFailed("lstm_forward 应返回 (H_all, (H_T, C_T))。")
        H_all, (H_last, C_last) = result[0], result[1]
        where = f"（4 个时间步，输入维 {d}，隐藏维 {h}，批量 {b}）"
        if np.shape(H_all) != H_ref.shape:
            raise CheckFailed(f"H_all 的形状应为 {H_ref.shape}（时间步, 批量, 隐藏维），你的是 {np.shape(H_all)}。")
        for t in range(X.shape[0]):

            def hint(t=t) -> str:
                if t == 0:
                    return "第一步就不一致：检查是否用了给定的初始状态 (H0, C0)。"
                return f"前 {t} 步都正确：检查是否把第 {t - 1} 步得到的 (H, C) 都传给了下一步。"

            compare_with_hint(f"第 {t} 个时间步的 H_t{where}", H_ref[t], np.asarray(H_all)[t], hint)
        compare_with_hint(f"最终隐状态 H_T{where}", H_T, H_last)
        compare_with_hint(
            f"最终细胞状态 C_T{where}", C_T, C_last, lambda: "返回的应是最后一步的 C_t，而不是初始的 C0。"
        )
    passed("lstm_forward 与参考实现一致（3 组不同形状，含批量 1）。")
