"""Self-checks for chapter 11: reading PyTorch's LSTM layout, and what a decoder keeps per step.

* :func:`torch_lstm_to_d2l` — turn ``nn.LSTM``'s stacked weights (gate order i, f, g, o, two biases)
  into the course's d2l parameter dict;
* :func:`lstm_state_bytes` — bytes of the state ``(h_n, c_n)`` an ``nn.LSTM`` carries between steps;
* :func:`kv_cache_bytes` — bytes of the KV cache of a causal Transformer after ``position`` tokens.

References: :func:`lstm_course.convert.lstm_from_torch_state_dict`, a real ``torch.nn.LSTM`` and a
real :class:`~lstm_course.torch.streamers.TransformerStreamer` (PyTorch is imported when a
check runs; importing this module needs NumPy only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from lstm_course.check.core import CheckFailed, assert_close, call_learner, passed

__all__ = ["torch_lstm_to_d2l", "lstm_state_bytes", "kv_cache_bytes"]

_GATE_ZH = {"i": "输入门", "f": "遗忘门", "o": "输出门", "c": "候选记忆元"}


def _torch_state(input_size: int, hidden_size: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "weight_ih_l0": rng.normal(size=(4 * hidden_size, input_size)),
        "weight_hh_l0": rng.normal(size=(4 * hidden_size, hidden_size)),
        "bias_ih_l0": rng.normal(size=4 * hidden_size),
        "bias_hh_l0": rng.normal(size=4 * hidden_size),
    }


def _same(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b))


def _layout_hint(name: str, actual, expected: Mapping[str, np.ndarray], state: Mapping[str, np.ndarray]) -> str:
    """Explain a wrong array by the mistakes that reproduce it: gate order, transpose, one bias."""
    kind, gate = name[:-1], name[-1]
    for other in "ifoc":
        if other != gate and _same(actual, expected[f"{kind}{other}"]):
            return (
                f"你的 {name} 其实是{_GATE_ZH[other]}的参数：PyTorch 按 i、f、g(=c)、o 的顺序堆叠四个门，"
                "d2l 列参数的顺序 i、f、o、c 与它不同。"
            )
    if kind in ("W_x", "W_h") and _same(np.asarray(actual).T, expected[name]):
        return (
            f"你的 {name} 差一个转置：PyTorch 的权重是 (4h, 输入) 并计算 W x，d2l 的 {name} 是 (输入, h) 并计算 X @ W。"
        )
    if kind == "b_":
        h = len(expected[name])
        k = "ifco".index(gate)
        if _same(actual, state["bias_ih_l0"][k * h : (k + 1) * h]):
            return "你只取了 bias_ih：方程里出现的是 bias_ih 与 bias_hh 之和。"
    return ""


def torch_lstm_to_d2l(fn: Callable) -> None:
    """Check ``fn(weight_ih, weight_hh, bias_ih, bias_hh) -> dict`` of ``W_xi, W_hi, b_i, ...`` arrays.

    Inputs are NumPy arrays in ``nn.LSTM``'s layout: ``(4h, d)``, ``(4h, h)``, ``(4h,)``, ``(4h,)``.
    """
    from lstm_course.convert import lstm_from_torch_state_dict

    for seed, (d, h) in enumerate(((3, 4), (5, 2), (1, 3))):
        state = _torch_state(d, h, seed)
        expected = lstm_from_torch_state_dict(state)[0]
        arrays = {k: v.copy() for k, v in state.items()}
        actual = call_learner(
            "torch_lstm_to_d2l",
            fn,
            arrays["weight_ih_l0"],
            arrays["weight_hh_l0"],
            arrays["bias_ih_l0"],
            arrays["bias_hh_l0"],
        )
        if not isinstance(actual, Mapping):
            raise CheckFailed(f"应返回一个字典（键为 W_xi、W_hi、b_i 等），你的结果是 {type(actual).__name__}。")
        missing = [name for name in expected if name not in actual]
        if missing:
            raise CheckFailed(f"字典缺少这些键：{missing}（d2l 命名：W_x?、W_h?、b_?，? 为 i、f、o、c）。")
        for name, value in expected.items():
            try:
                assert_close(f"{name}（d={d}, h={h}）", value, actual[name])
            except CheckFailed as exc:
                hint = _layout_hint(name, actual[name], expected, state)
                raise CheckFailed(f"{exc}{('提示：' + hint) if hint else ''}") from None
    passed("PyTorch 的 LSTM 权重已正确拆成 d2l 的参数（门顺序、转置与两个偏置都对）。")


def lstm_state_bytes(fn: Callable) -> None:
    """Check ``fn(num_layers, hidden_size, batch, bidirectional) -> int``: bytes of float32 ``(h_n, c_n)``."""
    import torch
    from torch import nn

    from lstm_course.torch.streamers import state_bytes

    for layers, hidden, batch, bidirectional in ((1, 4, 1, False), (2, 8, 3, False), (3, 5, 2, True)):
        lstm = nn.LSTM(2, hidden, layers, bidirectional=bidirectional)
        with torch.no_grad():
            _, state = lstm(torch.zeros(7, batch, 2))
        expected = state_bytes(state)
        actual = call_learner("lstm_state_bytes", fn, layers, hidden, batch, bidirectional)
        if actual != expected:
            case = f"num_layers={layers}, hidden_size={hidden}, batch={batch}, bidirectional={bidirectional}"
            hint = ""
            if bidirectional and actual * 2 == expected:  # the one-direction cases came first
                hint = "双向时每一层有两个方向，各有自己的 h 和 c。"
            elif actual * 2 == expected:
                hint = "LSTM 的状态有两部分：隐状态 h 和记忆元 c。"
            elif actual * 4 == expected:
                hint = "float32 每个数占 4 字节，题目问的是字节数。"
            raise CheckFailed(f"{case}：应为 {expected} 字节，你的结果是 {actual}。{('提示：' + hint) if hint else ''}")
    passed("LSTM 的状态大小与序列长度无关：2 × 层数 × 方向数 × 批量 × 隐藏单元 个 float32。")


def kv_cache_bytes(fn: Callable) -> None:
    """Check ``fn(num_layers, d_model, position, batch) -> int``: bytes of a float32 KV cache."""
    import torch

    from lstm_course.torch.streamers import TransformerStreamer, state_bytes

    for layers, d_model, position, batch in ((1, 8, 5, 1), (2, 16, 12, 3), (3, 8, 1, 2)):
        model = TransformerStreamer(10, d_model, layers, nhead=2).eval()
        with torch.inference_mode():
            _, cache = model.prefill(torch.zeros(batch, position, dtype=torch.long))
        expected = state_bytes(cache)
        actual = call_learner("kv_cache_bytes", fn, layers, d_model, position, batch)
        if actual != expected:
            case = f"num_layers={layers}, d_model={d_model}, position={position}, batch={batch}"
            hint = ""
            if actual * 2 == expected:
                hint = "每一层既要缓存键 K，也要缓存值 V。"
            elif actual * 4 == expected:
                hint = "float32 每个数占 4 字节，题目问的是字节数。"
            elif actual * layers == expected:
                hint = "每一层都有自己的 K 和 V。"
            raise CheckFailed(f"{case}：应为 {expected} 字节，你的结果是 {actual}。{('提示：' + hint) if hint else ''}")
    passed("KV 缓存随已读词元数线性增长：2 × 层数 × 词元数 × 批量 × d_model 个 float32。")
