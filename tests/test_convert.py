"""Weight conversion: gate orders, bias handling, layouts, round trips, and cross-framework equality."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from lstm_course import convert
from lstm_course.torch.lstm import FusedLSTM, ScratchLSTM


def _random_params(x: int, h: int, seed: int, dtype=np.float64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = {"W_x": (x, h), "W_h": (h, h), "b_": (h,)}
    return {f"{p}{g}": rng.uniform(-0.5, 0.5, shapes[p]).astype(dtype) for g in convert.LSTM_GATES for p in shapes}


def _marked(x: int, h: int) -> dict[str, np.ndarray]:
    """Parameters whose value names the gate: gate i -> 1, f -> 2, o -> 3, c -> 4."""
    value = {"i": 1.0, "f": 2.0, "o": 3.0, "c": 4.0}
    shapes = {"W_x": (x, h), "W_h": (h, h), "b_": (h,)}
    return {f"{p}{g}": np.full(shapes[p], value[g]) for g in convert.LSTM_GATES for p in shapes}


def test_module_imports_without_frameworks():
    code = (
        "import lstm_course.convert, lstm_course.params, sys; "
        "bad = [m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_gate_orders_land_in_the_right_blocks():
    x, h = 2, 3
    p = _marked(x, h)
    torch_lstm = convert.load_lstm_params(nn.LSTM(x, h).double(), p)
    rows = torch_lstm.weight_ih_l0[:, 0].detach().numpy()  # (4h,) blocks i, f, g, o
    assert rows.tolist() == [1.0] * h + [2.0] * h + [4.0] * h + [3.0] * h
    assert not torch_lstm.bias_hh_l0.detach().numpy().any()  # all bias goes to bias_ih
    fused = convert.load_lstm_params(FusedLSTM(x, h).double(), p).cell()
    assert fused.W_x[0].detach().numpy().tolist() == [1.0] * h + [2.0] * h + [3.0] * h + [4.0] * h
    state = convert.lstm_to_torch_state_dict([p, p], num_layers=1, bidirectional=True)
    assert sorted(state) == sorted(
        f"{w}_l0{s}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") for s in ("", "_reverse")
    )
    assert state["weight_ih_l0_reverse"].shape == (4 * h, x) and state["weight_hh_l0"].shape == (4 * h, h)


def test_torch_biases_are_summed():
    torch.manual_seed(0)
    ref = nn.LSTM(3, 2)
    p = convert.lstm_params(ref)[0]
    b = (ref.bias_ih_l0 + ref.bias_hh_l0).detach().numpy()
    assert np.allclose(p["b_i"], b[0:2]) and np.allclose(p["b_c"], b[4:6]) and np.allclose(p["b_o"], b[6:8])


@pytest.mark.parametrize("target", ["torch", "gates", "fused"])
def test_round_trip_is_exact(target):
    layers, bi, x, h = 2, True, 3, 4
    params = [_random_params(x if k < 2 else 2 * h, h, seed=k) for k in range(4)]
    module = {
        "torch": lambda: nn.LSTM(x, h, layers, bidirectional=bi),
        "gates": lambda: ScratchLSTM(x, h, layers, bidirectional=bi),
        "fused": lambda: FusedLSTM(x, h, layers, bidirectional=bi),
    }[target]().double()
    back = convert.lstm_params(convert.load_lstm_params(module, params))
    assert len(back) == 4
    for a, b in zip(params, back, strict=True):
        assert all(np.array_equal(a[n], b[n]) for n in convert.LSTM_PARAM_NAMES)


def test_torch_to_keras_to_torch_preserves_the_function():
    import keras

    torch.manual_seed(1)
    ref = nn.LSTM(5, 6, batch_first=True)
    X = torch.randn(2, 7, 5)
    layer = keras.layers.LSTM(6, return_sequences=True, return_state=True)
    convert.copy_lstm(ref, layer)  # builds the layer for input size 5
    y_keras, h_keras, c_keras = (np.asarray(t) for t in layer(X.numpy()))
    y_torch, (h_torch, c_torch) = ref(X)
    assert np.abs(y_keras - y_torch.detach().numpy()).max() <= 1e-5
    assert np.abs(h_keras - h_torch[0].detach().numpy()).max() <= 1e-5
    assert np.abs(c_keras - c_torch[0].detach().numpy()).max() <= 1e-5
    back = convert.copy_lstm(layer, nn.LSTM(5, 6, batch_first=True))
    assert (back(X)[0] - y_torch).abs().max().item() <= 1e-6


def test_keras_bidirectional_matches_torch_bidirectional():
    import keras

    torch.manual_seed(2)
    ref = nn.LSTM(3, 4, bidirectional=True, batch_first=True)
    layer = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))
    convert.copy_lstm(ref, layer)
    X = torch.randn(1, 6, 3)
    diff = np.abs(np.asarray(layer(X.numpy())) - ref(X)[0].detach().numpy()).max()
    assert diff <= 1e-5


def test_errors_name_expected_and_received():
    p = _random_params(3, 4, seed=0)
    with pytest.raises(ValueError, match=r"expected 2 parameter dict.*received 1"):
        convert.load_lstm_params(nn.LSTM(3, 4, bidirectional=True), p)
    bad = dict(p, W_hf=np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"W_hf expected shape \(4, 4\), received \(4, 5\)"):
        convert.load_lstm_params(nn.LSTM(3, 4), bad)
    with pytest.raises(ValueError, match=r"weight_ih_l0: expected shape \(16, 2\), received \(16, 3\)"):
        convert.load_lstm_params(nn.LSTM(2, 4), p)
    with pytest.raises(ValueError, match="missing.*b_c"):
        convert.lstm_params({k: v for k, v in p.items() if k != "b_c"})
    with pytest.raises(ValueError, match="proj_size"):
        convert.lstm_params(nn.LSTM(3, 4, proj_size=2))
    with pytest.raises(TypeError, match="don't know how"):
        convert.lstm_params(nn.GRU(3, 4))
    with pytest.raises(ValueError, match="divisible by 4"):
        convert.split_gates(np.zeros((3, 10)), convert.LSTM_GATES)
