"""Self-checks for chapter 6: shapes and layout of stacked / bidirectional LSTMs, what an output sees.

* :func:`lstm_shapes` — the shapes of ``output`` and ``h_n`` of ``nn.LSTM``;
* :func:`h_n_index` — which row of ``h_n`` holds a given layer's and direction's final state;
* :func:`stacked_parameter_count` — parameters of a stacked, optionally bidirectional ``nn.LSTM``;
* :func:`receptive_field` — which input positions an output position can depend on.

Every reference is measured on a real ``torch.nn.LSTM`` (PyTorch is imported when a check runs;
importing this module needs NumPy only).
"""

from __future__ import annotations

from collections.abc import Callable

from lstm_course.check.core import CheckFailed, call_learner, passed

__all__ = ["lstm_shapes", "h_n_index", "stacked_parameter_count", "receptive_field"]

# (steps, batch, input_size, hidden_size, num_layers, bidirectional)
_CASES = ((5, 2, 3, 4, 1, False), (6, 3, 2, 5, 2, False), (4, 1, 3, 2, 1, True), (3, 2, 7, 3, 3, True))
_DIRECTION = ("正向", "反向")


def _describe(num_layers: int, bidirectional: bool) -> str:
    return f"num_layers={num_layers}, bidirectional={bidirectional}"


def _as_shape(value, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} 应是一个整数元组（例如 (2, 3, 4)），你的结果是 {value!r}。") from None


def lstm_shapes(fn: Callable) -> None:
    """Check ``fn(steps, batch, input_size, hidden_size, num_layers, bidirectional) -> (output_shape, h_n_shape)``.

    Shapes are those of a time-major ``nn.LSTM`` called on a ``(steps, batch, input_size)`` input.
    """
    import torch
    from torch import nn

    for T, B, x, h, L, bi in _CASES:
        out, (h_n, _) = nn.LSTM(x, h, L, bidirectional=bi)(torch.zeros(T, B, x))
        expected = (tuple(out.shape), tuple(h_n.shape))
        where = f"（steps={T}, batch={B}, input_size={x}, hidden_size={h}, {_describe(L, bi)}）"
        result = call_learner("lstm_shapes", fn, T, B, x, h, L, bi)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise CheckFailed(f"lstm_shapes 应返回 (output 的形状, h_n 的形状) 两个元组，你的结果是 {result!r}。")
        got = (_as_shape(result[0], "output 的形状"), _as_shape(result[1], "h_n 的形状"))
        if got[0] != expected[0]:
            hint = ""
            if bi and got[0] == (T, B, h):
                hint = "双向时每个位置的输出是正向与反向隐状态的拼接，最后一维是 2 × hidden_size。"
            elif got[0][:2] == (B, T):
                hint = "nn.LSTM 默认时间步在前 (batch_first=False)：output 是 (steps, batch, ...)。"
            elif L > 1 and got[0][0] == L * T:
                hint = "output 只包含最顶层每个时间步的输出，下面几层的输出不在其中。"
            raise CheckFailed(f"output 的形状{where}应为 {expected[0]}，你的结果是 {got[0]}。{hint}")
        if got[1] != expected[1]:
            D = 2 if bi else 1
            hint = ""
            if got[1] == (L, B, h) and bi:
                hint = "双向时每一层有两个最终状态（正向、反向）：第一维是 num_layers × 2。"
            elif got[1] == (L * D, B, D * h):
                hint = "h_n 中每一行是一层、一个方向的最终隐状态，最后一维是 hidden_size，不拼接方向。"
            elif got[1] == (B, L * D, h):
                hint = "即使 batch_first=True，h_n 的批量维也在第二维：(num_layers × 方向数, batch, hidden_size)。"
            elif got[1][0] == 1 and L > 1:
                hint = "h_n 保存每一层的最终状态，不只是最顶层的。"
            raise CheckFailed(f"h_n 的形状{where}应为 {expected[1]}，你的结果是 {got[1]}。{hint}")
    passed(f"lstm_shapes 与 nn.LSTM 一致（{len(_CASES)} 组设置，含多层双向）。")


def h_n_index(fn: Callable) -> None:
    """Check ``fn(layer, direction, num_layers, bidirectional) -> k``: the row of ``h_n`` holding
    the final hidden state of ``layer`` (0 = bottom) and ``direction`` (0 = forward, 1 = backward).

    The reference row is found on a real ``nn.LSTM``: the row that equals the final state of the
    layer's direction computed on its own.
    """
    import torch
    from torch import nn

    for L, bi in ((1, False), (3, False), (1, True), (2, True), (3, True)):
        D = 2 if bi else 1
        torch.manual_seed(L * 10 + D)
        lstm = nn.LSTM(2, 3, L, bidirectional=bi).double()
        X = torch.randn(4, 1, 2, dtype=torch.float64)
        with torch.no_grad():
            _, (h_n, _) = lstm(X)
            finals = _layer_finals(lstm, X)
        for layer in range(L):
            for direction in range(D):
                expected = [k for k in range(L * D) if torch.allclose(h_n[k], finals[layer][direction], atol=1e-12)]
                got = call_learner("h_n_index", fn, layer, direction, L, bi)
                if not isinstance(got, int) or isinstance(got, bool):
                    try:
                        got = int(got)
                    except (TypeError, ValueError):
                        raise CheckFailed(f"h_n_index 应返回整数，你的结果是 {got!r}。") from None
                if [got] != expected:
                    hint = ""
                    if bi and got == direction * L + layer:
                        hint = (
                            "你按“方向优先”排列了；PyTorch 按层优先：先是第 0 层的正向、反向，再是第 1 层的正向、反向……"
                            "即 k = layer × 方向数 + direction。"
                        )
                    elif got == L * D + layer or got < 0:
                        hint = "行号从 0 开始，最底层是 layer 0。"
                    raise CheckFailed(
                        f"{_describe(L, bi)}：第 {layer} 层{_DIRECTION[direction]}的最终隐状态在 h_n[{expected[0]}]，"
                        f"你的结果是 {got}。{hint}"
                    )
    passed("h_n_index 找对了每一层、每个方向的最终隐状态（5 组设置）。")


def _layer_finals(lstm, X):
    """Final hidden states per layer and direction, recomputed with one-layer LSTMs."""
    import torch
    from torch import nn

    D = 2 if lstm.bidirectional else 1
    finals, inputs = [], X
    for layer in range(lstm.num_layers):
        outs, states = [], []
        for direction in range(D):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            single = nn.LSTM(inputs.shape[-1], lstm.hidden_size).double()
            with torch.no_grad():
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(single, f"{name}_l0").copy_(getattr(lstm, f"{name}{suffix}"))
            seq = inputs if direction == 0 else inputs.flip(0)
            Y, (h, _) = single(seq)
            outs.append(Y if direction == 0 else Y.flip(0))
            states.append(h[0])
        finals.append(states)
        inputs = torch.cat(outs, dim=-1)
    return finals


def stacked_parameter_count(fn: Callable) -> None:
    """Check ``fn(input_size, hidden_size, num_layers, bidirectional) -> int`` against
    ``sum(p.numel() for p in nn.LSTM(...).parameters())`` (two bias vectors per gate, as PyTorch)."""
    from torch import nn

    for x, h, L, bi in ((3, 4, 1, False), (5, 2, 2, False), (3, 4, 1, True), (6, 3, 2, True), (2, 5, 3, True)):
        expected = sum(p.numel() for p in nn.LSTM(x, h, L, bidirectional=bi).parameters())
        got = call_learner("stacked_parameter_count", fn, x, h, L, bi)
        if got != expected:
            D = 2 if bi else 1
            same_input = D * L * (4 * h * (x + h) + 8 * h)
            hint = ""
            if got == same_input and L > 1:
                hint = f"第 1 层以上的输入不是 input_size，而是下一层的输出：{D} × hidden_size = {D * h} 维。"
            elif got == expected - D * L * 4 * h:
                hint = "PyTorch 每个门有两个偏置向量（bias_ih 与 bias_hh），共 8 × hidden_size 个偏置。"
            elif bi and got * 2 == expected:
                hint = "双向时每一层有两套独立的参数。"
            raise CheckFailed(
                f"input_size={x}, hidden_size={h}, {_describe(L, bi)}：nn.LSTM 有 {expected} 个参数，"
                f"你的结果是 {got}。{hint}"
            )
    passed("stacked_parameter_count 与 nn.LSTM 的参数量一致（5 组设置）。")


def receptive_field(fn: Callable) -> None:
    """Check ``fn(steps, t, num_layers, bidirectional) -> positions``: the input positions ``s``
    (0-based) whose value can change the output at position ``t``.

    The reference is measured: the non-zero entries of the Jacobian ``∂y_t/∂x_s`` of a random
    ``nn.LSTM`` (:func:`lstm_course.torch.influence.influence_matrix`).
    """
    from torch import nn

    from lstm_course.torch.influence import influence_matrix, visible_inputs

    for T, L, bi in ((6, 1, False), (6, 2, False), (6, 1, True), (5, 2, True)):
        matrix = influence_matrix(nn.LSTM(2, 3, L, bidirectional=bi), T, seed=T + L)
        for t in range(T):
            expected = visible_inputs(matrix, t)
            got = call_learner("receptive_field", fn, T, t, L, bi)
            try:
                got = sorted({int(s) for s in got})
            except (TypeError, ValueError):
                raise CheckFailed(f"receptive_field 应返回输入位置的列表或集合，你的结果是 {got!r}。") from None
            if got != expected:
                hint = ""
                if bi and got == list(range(t + 1)):
                    hint = "双向网络的反向部分从序列末尾读到 t，所以 t 之后的输入也能影响位置 t 的输出。"
                elif not bi and got == list(range(T)):
                    hint = "单向网络在位置 t 还没有读到 t 之后的输入。"
                elif got == list(range(t)) or got == list(range(t + 1, T)):
                    hint = "别忘了位置 t 本身的输入。"
                elif L > 1:
                    hint = "层数不改变能看到的范围：每一层都只把它下面一层同样范围的信息传上去。"
                raise CheckFailed(
                    f"steps={T}, t={t}, {_describe(L, bi)}：位置 {t} 的输出依赖输入位置 {expected}，"
                    f"你的结果是 {got}。{hint}"
                )
    passed("receptive_field 与测得的雅可比矩阵一致（单向、双向，1 层与 2 层）。")
