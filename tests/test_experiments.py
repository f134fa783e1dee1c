"""Chapter 2's experiments: gradient flow, the adding problem and exploding gradients, on small settings."""

from __future__ import annotations

import math
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from torch import nn  # noqa: E402

from lstm_course.experiments import adding, exploding, gradient_flow  # noqa: E402
from lstm_course.experiments.common import make_recurrent, set_forget_bias, set_recurrent_radius  # noqa: E402
from lstm_course.numpy.rnn import init_rnn_params, rnn_forward, spectral_radius, step_jacobians  # noqa: E402
from lstm_course.runtime import single_thread  # noqa: E402

SMALL = dict(hidden_size=16, input_size=3, n_seq=3, steps=41)


# --- common ----------------------------------------------------------------------------------


def test_forget_bias_and_radius_setters():
    lstm = make_recurrent("lstm", 3, 5, forget_bias=3.0, seed=0)
    assert torch.all(lstm.bias_ih_l0[5:10] == 3.0) and torch.all(lstm.bias_hh_l0[5:10] == 0.0)
    assert not torch.all(lstm.bias_ih_l0[:5] == 3.0)  # the input gate is untouched

    class Scratch(nn.Module):
        def __init__(self):
            super().__init__()
            self.b_f = nn.Parameter(torch.zeros(4))

    assert torch.all(set_forget_bias(Scratch(), 1.0).b_f == 1.0)
    with pytest.raises(TypeError, match="forget-gate bias"):
        set_forget_bias(nn.GRU(3, 4), 1.0)
    with pytest.raises(ValueError, match="lstm"):
        make_recurrent("gru", 3, 4, forget_bias=1.0)
    gru = set_recurrent_radius(nn.GRU(3, 6), 0.9)
    for block in gru.weight_hh_l0.detach().double().numpy().reshape(3, 6, 6):
        assert spectral_radius(block) == pytest.approx(0.9, rel=1e-5)


def test_single_thread_restores_the_setting():
    before = torch.get_num_threads()
    with single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


# --- gradient flow ---------------------------------------------------------------------------


def test_jacobian_norms_equal_the_explicit_jacobian_product():
    """Autograd through nn.RNN, step by step, against the NumPy RNN's product of step Jacobians."""
    d, h, steps = 3, 4, 6
    params = init_rnn_params(d, h, seed=0, scale=0.9)
    rnn = nn.RNN(d, h).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(params["W_xh"].T))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params["W_hh"].T))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params["b_h"]))
        rnn.bias_hh_l0.zero_()
    X = np.random.default_rng(1).normal(size=(steps, 2, d))
    norms = gradient_flow.jacobian_norms(rnn, X)
    assert norms.shape == (steps - 1, 2)
    _, cache = rnn_forward(X, np.zeros((2, h)), params)
    J = step_jacobians(cache)
    product = np.broadcast_to(np.eye(h), (2, h, h))
    for k, t in enumerate(range(steps - 1, 0, -1)):  # distance k+1: dH_T/dH_t = J_T ... J_{t+1}
        product = product @ J[t]
        np.testing.assert_allclose(norms[k], np.linalg.norm(product, ord=2, axis=(1, 2)), rtol=1e-10)


def test_spectral_radius_decides_vanishing():
    curves = gradient_flow.radius_curves((0.5, 1.5), **SMALL)
    small, large = (gradient_flow.geometric_mean(c) for c in curves.values())
    assert small[39] < 1e-8  # 40 steps at radius 0.5: at most 0.5^40 ~ 1e-12 times ||W||-slack
    assert large[39] > 1e-2
    assert np.all(np.diff(np.log(small[5:])) < 0)  # strictly decaying
    rows = gradient_flow.flow_rows(curves, distances=(1, 40, 100))
    assert rows[0]["模型"] == "RNN ρ=0.5" and math.isnan(rows[0]["距离 100"])


def test_forget_gate_bias_keeps_the_gradient_alive():
    curves = gradient_flow.cell_curves(**SMALL)
    assert set(curves) == {"RNN", "LSTM b_f=0", "LSTM b_f=1", "LSTM b_f=3", "GRU"}
    at_40 = {k: gradient_flow.geometric_mean(v)[39] for k, v in curves.items()}
    assert at_40["LSTM b_f=3"] > 100 * at_40["LSTM b_f=1"] > 100 * at_40["LSTM b_f=0"]
    assert at_40["LSTM b_f=3"] > 0.1


def test_cell_state_jacobian_is_the_forget_gate():
    lstm = make_recurrent("lstm", 3, 5, forget_bias=1.0, seed=0).double()
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(4, 2, 3, generator=gen, dtype=torch.float64)
    f = gradient_flow.forget_gates(lstm, X)
    assert f.shape == (4, 2, 5) and np.all((f > 0) & (f < 1))
    outputs, _ = lstm(X[:1])
    h1 = outputs[0].detach()
    c1 = torch.randn(2, 5, generator=gen, dtype=torch.float64)
    jac = gradient_flow.cell_state_jacobian(lstm, X[1], h1, c1)
    for b in range(2):
        np.testing.assert_allclose(jac[b], np.diag(f[1, b]), atol=1e-12)
    with pytest.raises(TypeError):
        gradient_flow.forget_gates(nn.GRU(3, 5), X)


def test_jacobian_norms_rejects_bad_input():
    with pytest.raises(ValueError, match="expected shape"):
        gradient_flow.jacobian_norms(nn.RNN(3, 4), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="target"):
        gradient_flow.jacobian_norms(nn.GRU(3, 4), torch.zeros(5, 1, 3), target=1)


# --- adding problem --------------------------------------------------------------------------


def test_adding_batch_and_baseline():
    X, y = adding.adding_batch(20, 5000, rng=np.random.default_rng(0))
    assert X.shape == (20, 5000, 2) and y.shape == (5000,) and X.dtype == np.float32
    assert np.all(X[..., 1].sum(axis=0) == 2)
    assert np.all(X[:10, :, 1].sum(axis=0) == 1)
    np.testing.assert_allclose((X[..., 0] * X[..., 1]).sum(axis=0), y, rtol=1e-6)
    assert adding.baseline_mse(y) == pytest.approx(adding.BASELINE_MSE, abs=0.01)
    with pytest.raises(ValueError):
        adding.adding_batch(1, 4, rng=np.random.default_rng(0))


def test_lstm_solves_what_the_rnn_cannot():
    """The acceptance claim on a smaller setting: T=30, hidden 32, at most 600 Adam updates."""
    rnn = adding.train_adding("rnn", 30, max_steps=600, seed=0)
    lstm = adding.train_adding("lstm", 30, max_steps=600, seed=0)
    assert rnn.final_mse >= 0.1
    assert lstm.final_mse <= 0.01
    assert lstm.train_steps < 600  # stopped early: solved
    rows = adding.adding_rows([rnn, lstm])
    assert [r["模型"] for r in rows] == ["RNN", "LSTM"]
    # the trained LSTM carries the gradient across the whole sequence, the RNN does not
    flows = adding.flow_before_after([rnn, lstm], 30)
    assert list(flows) == ["RNN 初始化", "RNN 训练后", "LSTM 初始化", "LSTM 训练后"]
    at_30 = {k: gradient_flow.geometric_mean(v)[29] for k, v in flows.items()}
    assert at_30["LSTM 训练后"] > 0.1 and at_30["LSTM 训练后"] > 10 * at_30["LSTM 初始化"]
    assert at_30["RNN 训练后"] < 1e-3 * at_30["LSTM 训练后"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adding.plot_adding_mse([rnn, lstm])
        adding.plot_adding_losses([rnn, lstm], 30)
        adding.plot_flow_before_after(flows)
        plt.close("all")
    with pytest.raises(ValueError, match="T=7"):
        adding.plot_adding_losses([rnn], 7)


# --- exploding gradients ---------------------------------------------------------------------


def test_clipping_turns_a_diverging_run_into_a_training_one():
    results = exploding.run_exploding(updates=250)
    plain, exploding_run, clipped = results.values()
    assert plain.diverged_at is None and clipped.diverged_at is None
    assert exploding_run.diverged_at is not None and exploding_run.diverged_at < 100
    assert not math.isfinite(exploding_run.losses[-1])
    # both survivors learn something: clearly below the 1/6 baseline of predicting the mean
    assert clipped.final_loss() < 0.14 and plain.final_loss() < 0.16
    assert max(clipped.grad_norms) < 1e3 < max(g for g in exploding_run.grad_norms if math.isfinite(g))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exploding.plot_exploding(results)
        plt.close("all")
    with pytest.raises(TypeError, match="unknown settings"):
        exploding.train_sgd(1.0, None, epochs=3)
