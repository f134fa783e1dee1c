"""The NumPy RNN: shapes, BPTT against finite differences and torch.autograd, and the chapter 1–2 self-checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_course import check
from lstm_course.check import CheckFailed
from lstm_course.numpy.gradcheck import gradcheck
from lstm_course.numpy.rnn import (
    init_rnn_params,
    rnn_backward,
    rnn_forward,
    rnn_step,
    rnn_step_backward,
    scale_spectral_radius,
    spectral_radius,
    step_jacobians,
)

STEPS, BATCH, D, H, Q = 5, 3, 3, 4, 2  # Q: output size (d2l's q)


def _setup(output: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    params = init_rnn_params(D, H, Q if output else None, rng=rng, scale=0.7)
    X = rng.normal(size=(STEPS, BATCH, D))
    H0 = rng.uniform(-0.5, 0.5, size=(BATCH, H))
    return params, X, H0, rng


def test_shapes_of_the_worked_example():
    params = init_rnn_params(3, 4, 2, seed=0)
    assert {k: v.shape for k, v in params.items()} == {
        "W_xh": (3, 4),
        "W_hh": (4, 4),
        "b_h": (4,),
        "W_hq": (4, 2),
        "b_q": (2,),
    }
    assert all(v.dtype == np.float64 for v in params.values())
    Y, cache = rnn_forward(np.zeros((6, 5, 3)), np.zeros((5, 4)), params)
    assert Y.shape == (6, 5, 2) and cache.H.shape == (6, 5, 4)
    assert init_rnn_params(3, 4, dtype=np.float32)["W_hh"].dtype == np.float32


def test_forward_is_the_recurrence():
    params, X, H0, _ = _setup(output=True)
    Y, cache = rnn_forward(X, H0, params)
    H_t = H0
    for t in range(STEPS):
        H_t = np.tanh(X[t] @ params["W_xh"] + H_t @ params["W_hh"] + params["b_h"])
        np.testing.assert_allclose(cache.H[t], H_t, atol=1e-12)
        np.testing.assert_allclose(Y[t], H_t @ params["W_hq"] + params["b_q"], atol=1e-12)
    np.testing.assert_allclose(rnn_step(X[0], H0, params), cache.H[0])


@pytest.mark.parametrize("output", [True, False], ids=["with-output-layer", "hidden-states"])
def test_bptt_passes_the_finite_difference_check(output):
    params, X, H0, rng = _setup(output)
    outputs, cache = rnn_forward(X, H0, params)
    target = rng.normal(size=outputs.shape)
    w_last = rng.normal(size=(BATCH, H))

    def loss() -> float:
        out, c = rnn_forward(X, H0, params)
        return 0.5 * float(np.sum((out - target) ** 2)) + float(np.sum(c.H[-1] * w_last))

    grads = rnn_backward(outputs - target, cache, dH_last=w_last)
    errors = gradcheck(loss, {**params, "X": X, "H0": H0}, grads)
    expected_keys = {"W_xh", "W_hh", "b_h", "X", "H0"} | ({"W_hq", "b_q"} if output else set())
    assert set(errors) == expected_keys
    assert max(errors.values()) <= 1e-7, errors


def test_bptt_matches_torch_autograd_float64():
    params, X, H0, rng = _setup(output=True, seed=1)
    outputs, cache = rnn_forward(X, H0, params)
    target = rng.normal(size=outputs.shape)
    grads = rnn_backward(outputs - target, cache)

    rnn = torch.nn.RNN(D, H, nonlinearity="tanh").double()
    with torch.no_grad():  # torch computes x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        rnn.weight_ih_l0.copy_(torch.from_numpy(params["W_xh"].T))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params["W_hh"].T))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params["b_h"]))
        rnn.bias_hh_l0.zero_()
    W_hq = torch.tensor(params["W_hq"], requires_grad=True)
    b_q = torch.tensor(params["b_q"], requires_grad=True)
    Xt = torch.tensor(X, requires_grad=True)
    H0t = torch.tensor(H0[None], requires_grad=True)
    states, _ = rnn(Xt, H0t)
    Y = states @ W_hq + b_q
    (0.5 * ((Y - torch.from_numpy(target)) ** 2).sum()).backward()
    torch_grads = {
        "W_xh": rnn.weight_ih_l0.grad.T,
        "W_hh": rnn.weight_hh_l0.grad.T,
        "b_h": rnn.bias_ih_l0.grad,
        "W_hq": W_hq.grad,
        "b_q": b_q.grad,
        "X": Xt.grad,
        "H0": H0t.grad[0],
    }
    np.testing.assert_allclose(Y.detach().numpy(), outputs, atol=1e-12)
    for name, value in torch_grads.items():
        a, b = grads[name], value.numpy()
        rel = np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b)))
        assert rel <= 1e-10, (name, rel)


def test_step_backward_is_what_bptt_uses():
    params, X, H0, rng = _setup(output=False)
    H1 = rnn_step(X[0], H0, params)
    dH = rng.normal(size=H1.shape)
    step = rnn_step_backward(dH, X[0], H0, H1, params)
    _, cache = rnn_forward(X[:1], H0, params)
    full = rnn_backward(dH[None], cache)
    for name in ("W_xh", "W_hh", "b_h"):
        np.testing.assert_allclose(step[name], full[name])
    np.testing.assert_allclose(step["H_prev"], full["H0"])
    np.testing.assert_allclose(step["X"], full["X"][0])


def test_step_jacobians_multiply_to_the_bptt_gradient():
    params, X, H0, rng = _setup(output=False, seed=2)
    _, cache = rnn_forward(X, H0, params)
    J = step_jacobians(cache)
    assert J.shape == (STEPS, BATCH, H, H)
    v = rng.normal(size=(BATCH, H))  # loss = sum(v * H_T)
    d_outputs = np.zeros((STEPS, BATCH, H))
    d_outputs[-1] = v
    expected = rnn_backward(d_outputs, cache)["H0"]
    product = np.broadcast_to(np.eye(H), (BATCH, H, H))
    for t in reversed(range(STEPS)):
        product = product @ J[t]  # dH_T/dH_0 = J_T ... J_1
    np.testing.assert_allclose(np.einsum("bi,bij->bj", v, product), expected, atol=1e-12)


@pytest.mark.parametrize(
    "bad",
    [
        ("X", np.zeros((5, 3, 2)), "X: expected shape \\(any, any, 3\\), received \\(5, 3, 2\\)"),
        ("H0", np.zeros((3, 5)), "H0: expected shape \\(3, 4\\), received \\(3, 5\\)"),
        ("X", np.zeros((3, 3)), "X: expected shape"),
    ],
)
def test_wrong_shapes_name_expected_and_received(bad):
    params, X, H0, _ = _setup(output=True)
    name, value, message = bad
    args = {"X": X, "H0": H0, name: value}
    with pytest.raises(ValueError, match=message):
        rnn_forward(args["X"], args["H0"], params)


def test_wrong_parameter_shapes_and_grad_shapes():
    params, X, H0, _ = _setup(output=True)
    with pytest.raises(ValueError, match="W_hh: expected shape \\(4, 4\\), received \\(4, 3\\)"):
        rnn_forward(X, H0, {**params, "W_hh": np.zeros((4, 3))})
    with pytest.raises(KeyError, match="b_q"):
        rnn_forward(X, H0, {k: v for k, v in params.items() if k != "b_q"})
    outputs, cache = rnn_forward(X, H0, params)
    with pytest.raises(ValueError, match="d_outputs: expected shape \\(5, 3, 2\\)"):
        rnn_backward(np.zeros((5, 3, 4)), cache)
    with pytest.raises(ValueError, match="seed or rng"):
        init_rnn_params(2, 3, seed=0, rng=np.random.default_rng(0))


def test_spectral_radius_scaling():
    W = np.random.default_rng(0).normal(size=(8, 8))
    for radius in (0.5, 1.0, 1.5):
        scaled = scale_spectral_radius(W, radius)
        assert spectral_radius(scaled) == pytest.approx(radius, rel=1e-10)
        assert np.allclose(scaled / W, (scaled / W)[0, 0])  # same direction
    with pytest.raises(ValueError, match="square"):
        spectral_radius(np.zeros((2, 3)))


# --- self-checks: they accept the reference and reject typical mistakes -----------------------


def test_check_rnn_step(capsys):
    check.rnn_step(rnn_step)
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="H_t"):
        check.rnn_step(lambda X, H, p: np.tanh(X @ p["W_xh"] + H @ p["W_hh"].T + p["b_h"]))
    with pytest.raises(CheckFailed, match="出错"):
        check.rnn_step(lambda X, H, p: X @ p["W_hh"])


def test_check_rnn_step_backward(capsys):
    check.rnn_step_backward(rnn_step_backward)
    assert "✅" in capsys.readouterr().out

    def forgot_tanh(dH, X, H_prev, H_t, p):
        return {
            "W_xh": X.T @ dH,
            "W_hh": H_prev.T @ dH,
            "b_h": dH.sum(0),
            "X": dH @ p["W_xh"].T,
            "H_prev": dH @ p["W_hh"].T,
        }

    with pytest.raises(CheckFailed, match="dW_xh"):
        check.rnn_step_backward(forgot_tanh)
    with pytest.raises(CheckFailed, match="缺少键"):
        check.rnn_step_backward(lambda *a: {k: v for k, v in rnn_step_backward(*a).items() if k != "X"})


def test_check_parameter_count_spectral_radius_and_clipping(capsys):
    check.rnn_parameter_count(lambda d, h, o: d * h + h * h + h + h * o + o)
    with pytest.raises(CheckFailed, match="偏置"):
        check.rnn_parameter_count(lambda d, h, o: d * h + h * h + h * o)
    check.scale_spectral_radius(scale_spectral_radius)
    with pytest.raises(CheckFailed, match="缩放后的 W"):
        check.scale_spectral_radius(lambda W, r: W * r / np.linalg.norm(W, 2))

    def clip(grads, max_norm):
        total = float(np.sqrt(sum(float(np.sum(g**2)) for g in grads)))
        factor = min(1.0, max_norm / total)
        return [g * factor for g in grads], total

    check.clip_grad_norm(clip)
    with pytest.raises(CheckFailed, match="梯度"):
        check.clip_grad_norm(
            lambda grads, m: ([np.clip(g, -m, m) for g in grads], float(np.sqrt(sum(np.sum(g**2) for g in grads))))
        )
    assert capsys.readouterr().out.count("✅") == 3


def test_check_adding_batch(capsys):
    from lstm_course.experiments.adding import adding_batch

    check.adding_batch(lambda steps, batch, rng: adding_batch(steps, batch, rng=rng))
    assert "✅" in capsys.readouterr().out

    def anywhere(steps, batch, rng):  # markers not split into the two halves
        X, _ = adding_batch(steps, batch, rng=rng)
        X[..., 1] = 0
        X[0, :, 1] = X[1, :, 1] = 1
        return X, X[0, :, 0] + X[1, :, 0]

    with pytest.raises(CheckFailed, match="前一半"):
        check.adding_batch(anywhere)
