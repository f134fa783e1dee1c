"""The referee helpers chapter 3 shows (lstm_course.torch.equivalence, step_factors, gate_stats)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_course import convert
from lstm_course.experiments.gate_stats import gate_saturation
from lstm_course.experiments.step_factors import step_factors
from lstm_course.numpy.lstm import init_lstm_params, lstm_forward
from lstm_course.numpy.rnn import init_rnn_params, rnn_forward, scale_spectral_radius
from lstm_course.torch.equivalence import (
    CountMatmuls,
    compare_with_nn_lstm,
    numpy_loss_outputs_and_grads,
)
from lstm_course.torch.lstm import FusedLSTM, ScratchLSTM


@pytest.mark.parametrize("make", [ScratchLSTM, FusedLSTM])
def test_compare_with_nn_lstm_float64_is_rounding_only(make):
    diffs = compare_with_nn_lstm(make, torch.float64, layers=2, bidirectional=True)
    assert set(diffs) == {"output", "h_n", "c_n", "dL/dX", "dL/dh_0", "dL/dc_0", "参数梯度"}
    assert max(diffs.values()) <= 1e-10, diffs


def test_compare_with_nn_lstm_sees_a_wrong_weight():
    class Broken(ScratchLSTM):
        def forward(self, X, state=None):
            out, (h, c) = super().forward(X, state)
            return out * 1.01, (h, c)

    assert compare_with_nn_lstm(Broken, torch.float64)["output"] > 1e-4


def test_count_matmuls_counts_the_per_gate_and_fused_products():
    X = torch.randn(10, 2, 3)
    with CountMatmuls() as per_gate:
        ScratchLSTM(3, 4)(X)
    with CountMatmuls() as fused:
        FusedLSTM(3, 4)(X)
    with CountMatmuls() as reference:
        torch.randn(3, 4) @ torch.randn(4, 5)
    assert (per_gate.total, fused.total, reference.total) == (80, 11, 1)


def test_numpy_loss_outputs_and_grads_matches_the_numpy_backward():
    from lstm_course.numpy.lstm import lstm_backward

    rng = np.random.default_rng(0)
    params = init_lstm_params(3, 4, rng=rng)
    X, H0, C0 = rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    dH_all, dH_T, dC_T = rng.normal(size=(5, 2, 4)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    module = convert.load_lstm_params(torch.nn.LSTM(3, 4).double(), params)
    out, grads = numpy_loss_outputs_and_grads(module, X, (H0, C0), dH_all, dH_T, dC_T)
    H_all, _, cache = lstm_forward(X, (H0, C0), params)
    ours = lstm_backward(dH_all, cache, dH_T=dH_T, dC_T=dC_T)
    assert np.abs(out - H_all).max() <= 1e-12
    assert max(np.abs(ours[k] - grads[k]).max() for k in grads) <= 1e-12


def test_step_factors_rate_is_the_root_of_the_product_norm():
    rng = np.random.default_rng(1)
    base = init_rnn_params(2, 6, seed=0)
    X = rng.normal(size=(8, 1, 2))  # one sample: the rate is its own
    f = step_factors(base, X, 0.9)
    assert f["radius"] == pytest.approx(0.9)
    # recompute dh_T/dh_1 by finite differences of the NumPy RNN, one sample
    params = dict(base, W_hh=scale_spectral_radius(base["W_hh"], 0.9))
    eps, J = 1e-6, np.zeros((6, 6))
    H1 = rnn_forward(X[:1], np.zeros((1, 6)), params)[1].H[0]
    for j in range(6):
        bumped = [H1.copy(), H1.copy()]
        bumped[0][0, j] += eps
        bumped[1][0, j] -= eps
        ends = [rnn_forward(X[1:], b, params)[1].H[-1][0] for b in bumped]
        J[:, j] = (ends[0] - ends[1]) / (2 * eps)
    norm0 = np.linalg.norm(J, 2)
    assert 0 < f["mean_slope"] <= 1
    assert f["rate"] == pytest.approx(norm0 ** (1 / 7), rel=1e-6)


def test_gate_saturation_counts_fractions():
    rng = np.random.default_rng(2)
    _, _, cache = lstm_forward(rng.normal(size=(6, 2, 3)), None, init_lstm_params(3, 4, rng=rng, scale=3.0))
    sat = gate_saturation(cache)
    assert sat["遗忘门 <0.1"] == pytest.approx(float((cache.F < 0.1).mean()))
    assert sat["候选记忆元 |C̃|>0.9"] == pytest.approx(float((np.abs(cache.C_tilde) > 0.9).mean()))
    assert all(0.0 <= v <= 1.0 for v in sat.values()) and len(sat) == 7
