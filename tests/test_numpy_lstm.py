"""The NumPy LSTM: forward, BPTT against finite differences and torch.autograd, bad inputs,
the deliberately wrong LSTM, the chapter 3 self-checks and the diagrams."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from lstm_course import (  # noqa: E402
    check,
    convert,  # noqa: E402
    diagrams,
)
from lstm_course.check import CheckFailed  # noqa: E402
from lstm_course.numpy.buggy_lstm import (  # noqa: E402
    BUGGY_PARAM_NAMES,
    as_lstm_params,
    buggy_lstm_backward,
    buggy_lstm_forward,
    buggy_params,
)
from lstm_course.numpy.gradcheck import gradcheck, relative_error  # noqa: E402
from lstm_course.numpy.lstm import (  # noqa: E402
    PARAM_NAMES,
    init_lstm_params,
    lstm_backward,
    lstm_forward,
    lstm_step,
    lstm_step_backward,
    sigmoid,
)

STEPS, BATCH, D, H = 5, 3, 3, 4


def _setup(seed: int = 0, batch: int = BATCH, steps: int = STEPS):
    rng = np.random.default_rng(seed)
    params = init_lstm_params(D, H, rng=rng, scale=0.8, forget_bias=None)
    X = rng.normal(size=(steps, batch, D))
    state = (rng.uniform(-0.5, 0.5, size=(batch, H)), rng.normal(size=(batch, H)))
    return params, X, state, rng


def _loss_weights(rng, steps: int, batch: int):
    """Random weights of a loss that reads every H_t and the final (H_T, C_T)."""
    return rng.normal(size=(steps, batch, H)), rng.normal(size=(batch, H)), rng.normal(size=(batch, H))


# ----------------------------------------------------------------------------- forward
def test_parameters_shapes_and_forget_bias():
    params = init_lstm_params(3, 5, seed=0)
    assert list(params) == list(PARAM_NAMES)
    for g in "ifoc":
        assert params[f"W_x{g}"].shape == (3, 5) and params[f"W_h{g}"].shape == (5, 5)
        assert params[f"b_{g}"].shape == (5,)
    assert np.all(params["b_f"] == 1.0) and not np.all(params["b_i"] == params["b_i"][0])
    assert init_lstm_params(3, 5, seed=0, forget_bias=3.0)["b_f"].tolist() == [3.0] * 5
    assert init_lstm_params(2, 2, dtype=np.float32, seed=1)["W_hc"].dtype == np.float32
    np.testing.assert_array_equal(init_lstm_params(3, 5, seed=7)["W_xo"], init_lstm_params(3, 5, seed=7)["W_xo"])


def test_forward_is_the_recurrence_and_caches_every_gate():
    params, X, (H0, C0), _ = _setup()
    H_all, (H_T, C_T), cache = lstm_forward(X, (H0, C0), params)
    assert H_all.shape == (STEPS, BATCH, H)
    h, c = H0, C0
    for t in range(STEPS):
        pre = {g: X[t] @ params[f"W_x{g}"] + h @ params[f"W_h{g}"] + params[f"b_{g}"] for g in "ifoc"}
        i, f, o, c_tilde = sigmoid(pre["i"]), sigmoid(pre["f"]), sigmoid(pre["o"]), np.tanh(pre["c"])
        c = f * c + i * c_tilde
        h = o * np.tanh(c)
        for name, value in (("I", i), ("F", f), ("O", o), ("C_tilde", c_tilde), ("C", c), ("H", h)):
            np.testing.assert_allclose(getattr(cache, name)[t], value, atol=1e-14)
        np.testing.assert_allclose(cache.tanh_C[t], np.tanh(c), atol=1e-14)
    np.testing.assert_allclose(H_T, h, atol=1e-14)
    np.testing.assert_allclose(C_T, c, atol=1e-14)
    assert set(cache.gates) == {"i", "f", "o", "c"} and cache.step_gates(2)["f"].shape == (BATCH, H)
    H1, C1, gates = lstm_step(X[0], (H0, C0), params, return_gates=True)
    np.testing.assert_allclose(H1, H_all[0])
    np.testing.assert_allclose(gates["c"], cache.C_tilde[0])
    zero_state_run, _, _ = lstm_forward(X, None, params)
    np.testing.assert_allclose(zero_state_run, lstm_forward(X, (0 * H0, 0 * C0), params)[0])


def test_sigmoid_is_stable_for_large_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = sigmoid(np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0]))
    np.testing.assert_allclose(values, [0.0, 1 / (1 + np.exp(40)), 0.5, 1 / (1 + np.exp(-40)), 1.0])
    np.testing.assert_allclose(sigmoid(np.array([1.0, 3.0, 0.0, -2.0])), [0.7311, 0.9526, 0.5, 0.1192], atol=1e-4)


# ----------------------------------------------------------------------------- backward
@pytest.mark.parametrize("batch", [1, BATCH], ids=["batch-1", "batch-3"])
def test_bptt_passes_the_finite_difference_check(batch):
    params, X, (H0, C0), rng = _setup(seed=batch, batch=batch)
    W, w_h, w_c = _loss_weights(rng, STEPS, batch)

    def loss() -> float:
        H_all, (H_T, C_T), _ = lstm_forward(X, (H0, C0), params)
        return float(np.sum(H_all * W) + np.sum(H_T * w_h) + np.sum(C_T * w_c))

    _, _, cache = lstm_forward(X, (H0, C0), params)
    grads = lstm_backward(W, cache, dH_T=w_h, dC_T=w_c)
    errors = gradcheck(loss, {**params, "X": X, "H0": H0, "C0": C0}, grads)
    assert set(errors) == set(PARAM_NAMES) | {"X", "H0", "C0"}
    assert max(errors.values()) <= 1e-7, errors


def test_step_backward_is_one_step_of_bptt():
    params, X, state, rng = _setup(seed=5)
    _, _, cache = lstm_forward(X[:1], state, params)
    dH, dC = rng.normal(size=(BATCH, H)), rng.normal(size=(BATCH, H))
    step = lstm_step_backward(dH, dC, X[0], state, cache.step_gates(0), cache.C[0], params)
    whole = lstm_backward(dH[None], cache, dC_T=dC)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(step[name], whole[name], atol=1e-14)
    np.testing.assert_allclose(step["C_prev"], whole["C0"], atol=1e-14)
    np.testing.assert_allclose(step["H_prev"], whole["H0"], atol=1e-14)
    # the additive path: with no gradient through H_t, dC_{t-1} = dC_t * f_t exactly
    no_h = lstm_step_backward(0 * dH, dC, X[0], state, cache.step_gates(0), cache.C[0], params)
    np.testing.assert_array_equal(no_h["C_prev"], dC * cache.F[0])


def _torch_reference(params, X, state, W, w_h, w_c):
    """A float64 ``torch.nn.LSTM`` with the same weights (copied by hand); its outputs and gradients."""
    lstm = torch.nn.LSTM(D, H).double()
    order = ("i", "f", "c", "o")  # torch's gate blocks: i, f, g, o
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(np.concatenate([params[f"W_x{g}"].T for g in order])))
        lstm.weight_hh_l0.copy_(torch.from_numpy(np.concatenate([params[f"W_h{g}"].T for g in order])))
        lstm.bias_ih_l0.copy_(torch.from_numpy(np.concatenate([params[f"b_{g}"] for g in order])))
        lstm.bias_hh_l0.zero_()
    X_t = torch.tensor(X, requires_grad=True)
    H0 = torch.tensor(state[0][None], requires_grad=True)
    C0 = torch.tensor(state[1][None], requires_grad=True)
    out, (h_n, c_n) = lstm(X_t, (H0, C0))
    loss = (
        (out * torch.from_numpy(W)).sum()
        + (h_n[0] * torch.from_numpy(w_h)).sum()
        + (c_n[0] * torch.from_numpy(w_c)).sum()
    )
    loss.backward()
    grads = {"X": X_t.grad.numpy(), "H0": H0.grad[0].numpy(), "C0": C0.grad[0].numpy()}
    for k, g in enumerate(order):
        rows = slice(k * H, (k + 1) * H)
        grads[f"W_x{g}"] = lstm.weight_ih_l0.grad[rows].T.numpy()
        grads[f"W_h{g}"] = lstm.weight_hh_l0.grad[rows].T.numpy()
        grads[f"b_{g}"] = lstm.bias_ih_l0.grad[rows].numpy()
    return out.detach().numpy(), (h_n[0].detach().numpy(), c_n[0].detach().numpy()), grads


@pytest.mark.parametrize("batch", [1, BATCH], ids=["batch-1", "batch-3"])
def test_forward_and_gradients_equal_torch_float64(batch):
    params, X, state, rng = _setup(seed=10 + batch, batch=batch, steps=7)
    W, w_h, w_c = _loss_weights(rng, 7, batch)
    H_all, (H_T, C_T), cache = lstm_forward(X, state, params)
    grads = lstm_backward(W, cache, dH_T=w_h, dC_T=w_c)
    out, (h_n, c_n), torch_grads = _torch_reference(params, X, state, W, w_h, w_c)
    assert max(np.abs(H_all - out).max(), np.abs(H_T - h_n).max(), np.abs(C_T - c_n).max()) <= 1e-12
    errors = {name: relative_error(grads[name], g) for name, g in torch_grads.items()}
    assert set(errors) == set(PARAM_NAMES) | {"X", "H0", "C0"}
    assert max(errors.values()) <= 1e-10, errors
    assert max(np.abs(grads[name] - g).max() for name, g in torch_grads.items()) <= 1e-10


# ----------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda X, s: (X[..., :2], s), r"X: expected shape \(any, any, 3\), received \(5, 3, 2\)"),
        (lambda X, s: (X[0], s), r"X: expected shape \(any, any, 3\), received \(3, 3\)"),
        (lambda X, s: (X, (s[0][:, :2], s[1])), r"state H: expected shape \(3, 4\), received \(3, 2\)"),
        (lambda X, s: (X, (s[0], s[1][:2])), r"state C: expected shape \(3, 4\), received \(2, 4\)"),
        (lambda X, s: (X[:, :2], s), r"state H: expected shape \(2, 4\), received \(3, 4\)"),
        (lambda X, s: (X, s[0]), r"state: expected a pair \(H, C\)"),
    ],
)
def test_bad_inputs_name_expected_and_received(make, expected):
    params, X, state, _ = _setup()
    X_bad, state_bad = make(X, state)
    with pytest.raises(ValueError, match=expected):
        lstm_forward(X_bad, state_bad, params)


def test_bad_parameters_and_gradients_are_rejected():
    params, X, state, _ = _setup()
    with pytest.raises(ValueError, match=r"W_hf: expected shape \(4, 4\), received \(4, 3\)"):
        lstm_forward(X, state, {**params, "W_hf": params["W_hf"][:, :3]})
    with pytest.raises(KeyError, match="b_o"):
        lstm_forward(X, state, {k: v for k, v in params.items() if k != "b_o"})
    with pytest.raises(ValueError, match=r"X_t: expected shape \(any, 3\), received \(3, 5\)"):
        lstm_step(np.zeros((3, 5)), state, params)
    _, _, cache = lstm_forward(X, state, params)
    with pytest.raises(ValueError, match=r"dH_all: expected shape \(5, 3, 4\), received \(4, 3, 4\)"):
        lstm_backward(np.zeros((4, 3, 4)), cache)
    with pytest.raises(ValueError, match=r"dC_T: expected shape \(3, 4\)"):
        lstm_backward(np.zeros((5, 3, 4)), cache, dC_T=np.zeros((1, 4)))
    with pytest.raises(ValueError, match="pass seed or rng"):
        init_lstm_params(2, 3, seed=0, rng=np.random.default_rng(0))


# ----------------------------------------------------------------------------- the wrong LSTM
def test_buggy_lstm_shared_bias_fails_the_shape_check():
    params, _, _, _ = _setup(seed=3)
    wrong = buggy_params(params)
    assert sorted(wrong) == sorted(BUGGY_PARAM_NAMES) and wrong["b"].shape == (H,)
    assert sum(v.size for v in wrong.values()) == 4 * (D * H + H * H + H) - 3 * H
    with pytest.raises(ValueError, match=r"missing \['b_i', 'b_f', 'b_o', 'b_c'\]"):
        convert.load_lstm_params(torch.nn.LSTM(D, H).double(), wrong)


def test_buggy_lstm_reads_the_cell_state_where_the_hidden_state_belongs():
    params, X, state, rng = _setup(seed=4)
    wrong = buggy_params(params)
    H_buggy, _, _ = buggy_lstm_forward(X, state, wrong)
    # the hidden state is never read: changing H0 changes nothing
    H_other, _, _ = buggy_lstm_forward(X, (state[0] + 1.0, state[1]), wrong)
    np.testing.assert_array_equal(H_buggy, H_other)
    meant = as_lstm_params(wrong)
    out, _, _ = _torch_reference(meant, X, state, *_loss_weights(rng, STEPS, BATCH))
    H_meant, _, _ = lstm_forward(X, state, meant)
    assert np.abs(H_meant - out).max() <= 1e-12  # the referee agrees with a real LSTM
    assert np.abs(H_buggy - out).max() > 1e-2  # and exposes the wrong one


def test_buggy_lstm_backward_does_not_run():
    params, X, state, rng = _setup(seed=5)
    _, _, cache = buggy_lstm_forward(X, state, buggy_params(params))
    W, w_h, w_c = _loss_weights(rng, STEPS, BATCH)
    with pytest.raises(ValueError, match="broadcast|mismatch"):
        buggy_lstm_backward(W, cache, dH_T=w_h, dC_T=w_c)


def test_buggy_backward_with_transposes_fixed_passes_the_gradient_check():
    """Exercise ex-ch03-5: fixing the three transposes gives the true derivative of the WRONG
    forward pass; the gradient check then passes, although the forward is still not an LSTM."""
    import inspect

    from lstm_course.numpy import buggy_lstm

    source = inspect.getsource(buggy_lstm.buggy_lstm_backward)
    fixed = (
        source.replace("dZ[g].T @ cache.X[t]", "cache.X[t].T @ dZ[g]")
        .replace("dZ[g].T @ C_prev", "C_prev.T @ dZ[g]")
        .replace('dZ[g] @ params[f"W_x{g}"]', 'dZ[g] @ params[f"W_x{g}"].T')
        .replace('dZ[g] @ params[f"W_h{g}"]', 'dZ[g] @ params[f"W_h{g}"].T')
    )
    assert "dZ[g].T" not in fixed and 'params[f"W_h{g}"].T' in fixed
    namespace = dict(vars(buggy_lstm))
    exec(compile(fixed, "<fixed>", "exec"), namespace)
    params, X, state, rng = _setup(seed=7)
    wrong = buggy_params(params)
    W, w_h, w_c = _loss_weights(rng, STEPS, BATCH)

    def loss() -> float:
        H_all, (H_T, C_T), _ = buggy_lstm_forward(X, state, wrong)
        return float(np.sum(H_all * W) + np.sum(H_T * w_h) + np.sum(C_T * w_c))

    _, _, cache = buggy_lstm_forward(X, state, wrong)
    grads = namespace["buggy_lstm_backward"](W, cache, dH_T=w_h, dC_T=w_c)
    errors = gradcheck(loss, {**wrong, "X": X, "H0": state[0], "C0": state[1]}, grads)
    assert max(errors.values()) <= 1e-7, errors


# ----------------------------------------------------------------------------- self-checks
def _student_step(mistake: str | None = None, return_gates: bool = True):
    """A learner's LSTM step, optionally with one classic mistake."""

    def step(X_t, state, p):
        H_prev, C_prev = state
        pre = {g: X_t @ p[f"W_x{g}"] + H_prev @ p[f"W_h{g}"] + p[f"b_{g}"] for g in "ifoc"}
        i, f, o, c = sigmoid(pre["i"]), sigmoid(pre["f"]), sigmoid(pre["o"]), np.tanh(pre["c"])
        if mistake == "forget-tanh":
            f = np.tanh(pre["f"])
        elif mistake == "forget-uses-input-weights":
            f = sigmoid(pre["i"])
        elif mistake == "candidate-sigmoid":
            c = sigmoid(pre["c"])
        elif mistake == "output-no-bias":
            o = sigmoid(pre["o"] - p["b_o"])
        C = f * C_prev + i * c
        if mistake == "swapped-gates":
            C = i * C_prev + f * c
        H_t = o * np.tanh(C)
        return (H_t, C, {"i": i, "f": f, "o": o, "c": c}) if return_gates else (H_t, C)

    return step


def test_self_checks_pass_on_the_reference(capsys):
    check.lstm_step(lstm_step)
    check.lstm_step(lambda X_t, state, params: lstm_step(X_t, state, params, return_gates=True))
    check.lstm_step(_student_step())
    check.lstm_step_backward(lstm_step_backward)
    check.lstm_forward(lambda X, state, params: lstm_forward(X, state, params)[:2])
    assert capsys.readouterr().out.count("✅ 通过") == 5


@pytest.mark.parametrize(
    "mistake, gate, hint",
    [
        ("forget-tanh", "遗忘门 f_t", "应使用 sigmoid"),
        ("forget-uses-input-weights", "遗忘门 f_t", "与参考实现的输入门完全相同"),
        ("candidate-sigmoid", "候选记忆元 C̃_t", "应使用 tanh"),
        ("output-no-bias", "输出门 o_t", "漏掉了偏置 b_o"),
        ("swapped-gates", "细胞状态 C_t", "输入门和遗忘门的位置弄反了"),
    ],
)
def test_step_check_names_the_wrong_gate(mistake, gate, hint):
    with pytest.raises(CheckFailed) as info:
        check.lstm_step(_student_step(mistake))
    message = str(info.value)
    assert message.startswith(gate), message
    assert hint in message and "在位置 (0, " in message and "应为" in message


def test_step_check_without_gates_separates_forget_term_from_input_term():
    with pytest.raises(CheckFailed, match="错在遗忘门"):
        check.lstm_step(_student_step("forget-tanh", return_gates=False))
    with pytest.raises(CheckFailed, match="错在输入门 i_t 或候选记忆元"):
        check.lstm_step(_student_step("candidate-sigmoid", return_gates=False))


def test_backward_and_forward_checks_catch_classic_mistakes():
    def no_tanh_derivative(dH_t, dC_t, X_t, state, gates, C_t, params):
        grads = lstm_step_backward(dH_t, dC_t, X_t, state, gates, C_t, params)
        grads["C_prev"] = (dC_t + dH_t * gates["o"]) * gates["f"]
        return grads

    with pytest.raises(CheckFailed, match="忘了 tanh 的导数"):
        check.lstm_step_backward(no_tanh_derivative)

    def transposed(*args):
        grads = lstm_step_backward(*args)
        grads["W_hi"] = grads["W_hi"].T
        return grads

    with pytest.raises(CheckFailed, match=r"梯度 dW_hi（输入门的循环权重）.*转置"):
        check.lstm_step_backward(transposed)

    def state_not_carried(X, state, params):
        H_all = np.stack([lstm_step(x, state, params)[0] for x in X])
        return H_all, (H_all[-1], state[1])

    with pytest.raises(CheckFailed, match="第 1 个时间步的 H_t.*前 1 步都正确"):
        check.lstm_forward(state_not_carried)


def test_checks_report_crashes_and_wrong_return_types():
    with pytest.raises(CheckFailed, match="调用你的函数时出错：ZeroDivisionError"):
        check.lstm_step(lambda X_t, state, params: 1 / 0)
    with pytest.raises(CheckFailed, match=r"应返回 \(H_t, C_t\) 或 \(H_t, C_t, gates\)"):
        check.lstm_step(lambda X_t, state, params: X_t)
    with pytest.raises(CheckFailed, match="缺少键 'o'"):
        check.lstm_step(_drop_gate)


def _drop_gate(X_t, state, params):
    H_t, C_t, gates = lstm_step(X_t, state, params, return_gates=True)
    gates.pop("o")
    return H_t, C_t, gates


# ----------------------------------------------------------------------------- drawings
def test_diagrams_and_gate_plot_render_without_missing_glyphs(tmp_path):
    params, X, state, _ = _setup()
    _, _, cache = lstm_forward(X, state, params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing" would fail here
        diagrams.draw_lstm_cell().figure.savefig(tmp_path / "cell.png")
        diagrams.draw_unrolled_lstm(4).figure.savefig(tmp_path / "chain.png")
        fig = diagrams.plot_gate_activations(
            {g: v[:, 0] for g, v in cache.gates.items()}, "ab cd", units=[0, 2], title="门"
        )
        fig.savefig(tmp_path / "gates.png")
    assert len(fig.axes) == 8  # four heat maps and their colour bars
    plt.close("all")
    with pytest.raises(ValueError, match=r"expected shape \(3, hidden_size\) to match 3 tokens, received \(5, 4\)"):
        diagrams.plot_gate_activations({g: v[:, 0] for g, v in cache.gates.items()}, "abc")
    with pytest.raises(ValueError, match="expected 1 to 6 cells"):
        diagrams.draw_unrolled_lstm(0)
