"""The NumPy GRU (both variants): forward, BPTT against finite differences and torch autograd,
bad inputs, and the chapter 5 self-checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_course import check
from lstm_course.check import CheckFailed
from lstm_course.numpy.gradcheck import gradcheck
from lstm_course.numpy.gru import (
    VARIANTS,
    gru_backward,
    gru_forward,
    gru_step,
    gru_step_backward,
    init_gru_params,
    param_names,
)

STEPS, BATCH, D, H = 5, 3, 3, 4


def _setup(variant: str, seed: int = 0, batch: int = BATCH, steps: int = STEPS):
    rng = np.random.default_rng(seed)
    params = init_gru_params(D, H, variant=variant, rng=rng, scale=0.8)
    X = rng.normal(size=(steps, batch, D))
    H0 = rng.uniform(-0.8, 0.8, size=(batch, H))
    return params, X, H0, rng


def test_parameter_names_and_shapes():
    assert param_names("textbook") == ("W_xr", "W_hr", "b_r", "W_xz", "W_hz", "b_z", "W_xh", "W_hh", "b_h")
    assert param_names("framework") == param_names("textbook") + ("b_hh",)
    for variant in VARIANTS:
        params = init_gru_params(3, 5, variant=variant, seed=0)
        assert tuple(params) == param_names(variant)
        assert params["W_xz"].shape == (3, 5) and params["W_hh"].shape == (5, 5) and params["b_r"].shape == (5,)
    assert init_gru_params(2, 2, dtype=np.float32, seed=1)["W_hh"].dtype == np.float32
    with pytest.raises(ValueError, match="variant"):
        init_gru_params(2, 2, variant="cudnn")


@pytest.mark.parametrize("variant", VARIANTS)
def test_forward_is_the_recurrence(variant):
    params, X, H0, _ = _setup(variant)
    H_all, cache = gru_forward(X, H0, params, variant=variant)
    h = H0
    p = params
    for t in range(STEPS):
        r = 1 / (1 + np.exp(-(X[t] @ p["W_xr"] + h @ p["W_hr"] + p["b_r"])))
        z = 1 / (1 + np.exp(-(X[t] @ p["W_xz"] + h @ p["W_hz"] + p["b_z"])))
        if variant == "textbook":
            cand = np.tanh(X[t] @ p["W_xh"] + (r * h) @ p["W_hh"] + p["b_h"])
        else:
            cand = np.tanh(X[t] @ p["W_xh"] + p["b_h"] + r * (h @ p["W_hh"] + p["b_hh"]))
        h = z * h + (1 - z) * cand
        np.testing.assert_allclose(H_all[t], h, rtol=1e-12)
        np.testing.assert_allclose(cache.R[t], r, rtol=1e-12)
        np.testing.assert_allclose(cache.Z[t], z, rtol=1e-12)
        np.testing.assert_allclose(cache.H_tilde[t], cand, rtol=1e-12)
    assert set(cache.step_gates(0)) == {"r", "z", "h"}
    # the update gate interpolates: every H_t lies between H_{t-1} and the candidate
    prev = np.concatenate([H0[None], H_all[:-1]])
    low, high = np.minimum(prev, cache.H_tilde), np.maximum(prev, cache.H_tilde)
    assert np.all((H_all >= low - 1e-12) & (H_all <= high + 1e-12))


def test_variants_differ_and_agree_without_reset():
    params, X, H0, _ = _setup("framework")
    textbook = {k: v for k, v in params.items() if k != "b_hh"}
    a, _ = gru_forward(X, H0, params, variant="framework")
    b, _ = gru_forward(X, H0, textbook, variant="textbook")
    assert np.abs(a - b).max() > 1e-3
    # with the reset gate forced to 1 and b_hh = 0 the two forms are the same function
    opened = dict(params, b_r=np.full(H, 50.0), b_hh=np.zeros(H))
    a, _ = gru_forward(X, H0, opened, variant="framework")
    b, _ = gru_forward(X, H0, {k: v for k, v in opened.items() if k != "b_hh"}, variant="textbook")
    np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("batch", [1, BATCH])
def test_bptt_passes_gradcheck(variant, batch):
    params, X, H0, rng = _setup(variant, seed=1, batch=batch)
    w_all, w_T = rng.normal(size=(STEPS, batch, H)), rng.normal(size=(batch, H))

    def loss() -> float:
        H_all, _ = gru_forward(X, H0, params, variant=variant)
        return float((w_all * H_all).sum() + (w_T * H_all[-1]).sum())

    H_all, cache = gru_forward(X, H0, params, variant=variant)
    grads = gru_backward(w_all, cache, dH_T=w_T)
    errors = gradcheck(loss, {**params, "X": X, "H0": H0}, grads)
    assert set(errors) == set(param_names(variant)) | {"X", "H0"}
    assert max(errors.values()) <= 1e-7, errors


@pytest.mark.parametrize("variant", VARIANTS)
def test_bptt_equals_torch_autograd(variant):
    params, X, H0, rng = _setup(variant, seed=2)
    w_all = rng.normal(size=(STEPS, BATCH, H))
    _, cache = gru_forward(X, H0, params, variant=variant)
    grads = gru_backward(w_all, cache)

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tX, tH = torch.tensor(X, requires_grad=True), torch.tensor(H0, requires_grad=True)
    h, outputs = tH, []
    for t in range(STEPS):
        r = torch.sigmoid(tX[t] @ tp["W_xr"] + h @ tp["W_hr"] + tp["b_r"])
        z = torch.sigmoid(tX[t] @ tp["W_xz"] + h @ tp["W_hz"] + tp["b_z"])
        if variant == "textbook":
            cand = torch.tanh(tX[t] @ tp["W_xh"] + (r * h) @ tp["W_hh"] + tp["b_h"])
        else:
            cand = torch.tanh(tX[t] @ tp["W_xh"] + tp["b_h"] + r * (h @ tp["W_hh"] + tp["b_hh"]))
        h = z * h + (1 - z) * cand
        outputs.append(h)
    (torch.stack(outputs) * torch.tensor(w_all)).sum().backward()
    for name, tensor in (*tp.items(), ("X", tX), ("H0", tH)):
        np.testing.assert_allclose(grads[name], tensor.grad.numpy(), atol=1e-6, rtol=0)
        assert np.abs(grads[name] - tensor.grad.numpy()).max() <= 1e-12


def test_step_backward_direct_path_is_the_update_gate():
    """With every weight zero, H_t = Z ⊙ H_{t-1} + (1-Z) ⊙ tanh(b_h) and ∂H_t/∂H_{t-1} = diag(Z)."""
    params = {k: np.zeros_like(v) for k, v in init_gru_params(2, 3, seed=0).items()}
    params["b_z"] = np.array([-2.0, 0.0, 3.0])
    X_t, H_prev = np.ones((1, 2)), np.array([[0.5, -0.5, 1.0]])
    H_t, gates = gru_step(X_t, H_prev, params, return_gates=True)
    dH = np.ones((1, 3))
    grads = gru_step_backward(dH, X_t, H_prev, gates, params)
    np.testing.assert_allclose(grads["H_prev"], gates["z"], rtol=1e-12)
    np.testing.assert_allclose(gates["z"][0], 1 / (1 + np.exp(-params["b_z"])))


def test_bad_inputs():
    params = init_gru_params(D, H, seed=0)
    with pytest.raises(ValueError, match=r"X: expected shape \(any, any, 3\), received \(2, 2, 4\)"):
        gru_forward(np.zeros((2, 2, 4)), None, params)
    with pytest.raises(ValueError, match="H0: expected shape"):
        gru_forward(np.zeros((2, 2, D)), np.zeros((3, H)), params)
    with pytest.raises(KeyError, match="b_hh"):
        gru_forward(np.zeros((2, 2, D)), None, params, variant="framework")
    with pytest.raises(ValueError, match="b_hh belongs to the framework variant"):
        gru_forward(np.zeros((2, 2, D)), None, init_gru_params(D, H, variant="framework", seed=0))
    with pytest.raises(ValueError, match="W_hz: expected shape"):
        gru_step(np.zeros((1, D)), np.zeros((1, H)), dict(params, W_hz=np.zeros((H, H + 1))))
    with pytest.raises(ValueError, match="at least one time step"):
        gru_forward(np.zeros((0, 2, D)), None, params)


@pytest.mark.parametrize("variant", VARIANTS)
def test_self_checks_pass_the_reference_and_catch_mistakes(variant, capsys):
    check.gru_step(lambda X, Hp, p: gru_step(X, Hp, p, variant=variant, return_gates=True), variant=variant)
    check.gru_step(lambda X, Hp, p: gru_step(X, Hp, p, variant=variant), variant=variant)
    check.gru_step_backward(
        lambda dH, X, Hp, g, p: gru_step_backward(dH, X, Hp, g, p, variant=variant), variant=variant
    )
    assert capsys.readouterr().out.count("✅ 通过") == 3

    def swapped_update(X, Hp, p):
        _, g = gru_step(X, Hp, p, variant=variant, return_gates=True)
        return (1 - g["z"]) * Hp + g["z"] * g["h"]

    with pytest.raises(CheckFailed, match="更新门的两个系数弄反了"):
        check.gru_step(swapped_update, variant=variant)

    other = "framework" if variant == "textbook" else "textbook"

    def wrong_variant(X, Hp, p):
        q = dict(p)
        if other == "framework":
            q["b_hh"] = np.zeros_like(p["b_h"])
        else:
            q.pop("b_hh")
        return gru_step(X, Hp, q, variant=other)

    with pytest.raises(CheckFailed, match="这里要求"):
        check.gru_step(wrong_variant, variant=variant)

    def no_direct_path(dH, X, Hp, g, p):
        grads = gru_step_backward(dH, X, Hp, g, p, variant=variant)
        return dict(grads, H_prev=grads["H_prev"] - dH * g["z"])

    with pytest.raises(CheckFailed, match="漏掉了直接通路"):
        check.gru_step_backward(no_direct_path, variant=variant)


def test_parameter_count_check(capsys):
    check.gru_parameter_count(lambda d, h, v: 3 * (d * h + h * h + h) + (h if v == "framework" else 0))
    assert "✅ 通过" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="b_hh"):
        check.gru_parameter_count(lambda d, h, v: 3 * (d * h + h * h + h))
