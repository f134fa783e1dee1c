"""GRU weight conversion: gate orders, the two biases, variants, round trips, torch <-> Keras, and
that the LSTM functions refuse GRU objects (and vice versa)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from lstm_course import convert  # noqa: E402
from lstm_course.numpy.gru import init_gru_params  # noqa: E402
from lstm_course.torch.gru import FusedGRU, GRUCell, ScratchGRU  # noqa: E402
from lstm_course.torch.lstm import ScratchLSTM  # noqa: E402


def _marked(x: int, h: int, variant: str = "framework") -> dict[str, np.ndarray]:
    """Parameters whose value names the gate: r -> 1, z -> 2, h -> 3; b_hh -> 4."""
    value = {"r": 1.0, "z": 2.0, "h": 3.0}
    shapes = {"W_x": (x, h), "W_h": (h, h), "b_": (h,)}
    p = {f"{s}{g}": np.full(shapes[s], value[g]) for g in convert.GRU_GATES for s in shapes}
    if variant == "framework":
        p["b_hh"] = np.full(h, 4.0)
    return p


def test_gate_orders_and_biases_land_in_the_right_blocks():
    import keras

    x, h = 2, 3
    p = _marked(x, h)
    ref = convert.load_gru_params(nn.GRU(x, h).double(), p)
    assert ref.weight_ih_l0[:, 0].tolist() == [1.0] * h + [2.0] * h + [3.0] * h  # r, z, n
    assert ref.bias_ih_l0.tolist() == [1.0] * h + [2.0] * h + [3.0] * h
    assert ref.bias_hh_l0.tolist() == [0.0] * 2 * h + [4.0] * h  # b_hh in the n block only
    layer = keras.layers.GRU(h)
    convert.load_gru_params(layer, p)
    assert np.asarray(layer.cell.kernel)[0].tolist() == [2.0] * h + [1.0] * h + [3.0] * h  # z, r, h
    assert np.asarray(layer.cell.bias).tolist() == [[2.0] * h + [1.0] * h + [3.0] * h, [0.0] * 2 * h + [4.0] * h]
    textbook = keras.layers.GRU(h, reset_after=False)
    convert.load_gru_params(textbook, _marked(x, h, "textbook"))
    assert np.asarray(textbook.cell.bias).shape == (3 * h,)
    fused = convert.load_gru_params(FusedGRU(x, h).double(), p).cell()
    assert fused.W_x[0].tolist() == [1.0] * h + [2.0] * h + [3.0] * h and fused.b_hh.tolist() == [4.0] * h


def test_torch_biases_r_z_are_summed_but_the_candidate_keeps_two():
    torch.manual_seed(0)
    ref = nn.GRU(3, 2)
    p = convert.gru_params(ref)[0]
    b_ih, b_hh = ref.bias_ih_l0.detach().numpy(), ref.bias_hh_l0.detach().numpy()
    np.testing.assert_allclose(p["b_r"], b_ih[:2] + b_hh[:2])
    np.testing.assert_allclose(p["b_z"], b_ih[2:4] + b_hh[2:4])
    np.testing.assert_allclose(p["b_h"], b_ih[4:])
    np.testing.assert_allclose(p["b_hh"], b_hh[4:])
    assert convert.gru_variant(p) == "framework"


@pytest.mark.parametrize("target", ["torch", "gates", "fused"])
def test_round_trip_is_exact(target):
    layers, bi, x, h = 2, True, 3, 4
    params = [init_gru_params(x if k < 2 else 2 * h, h, variant="framework", seed=k) for k in range(4)]
    module = {
        "torch": lambda: nn.GRU(x, h, layers, bidirectional=bi),
        "gates": lambda: ScratchGRU(x, h, layers, bidirectional=bi),
        "fused": lambda: FusedGRU(x, h, layers, bidirectional=bi),
    }[target]().double()
    back = convert.gru_params(convert.load_gru_params(module, params))
    assert len(back) == 4
    for a, b in zip(params, back, strict=True):
        assert set(a) == set(b) and all(np.array_equal(a[n], b[n]) for n in a)
    state = convert.gru_to_torch_state_dict(params, layers, bi)
    assert state["weight_ih_l1_reverse"].shape == (3 * h, 2 * h)
    again = convert.gru_from_torch_state_dict(state, layers, bi)
    assert all(np.array_equal(a[n], b[n]) for a, b in zip(params, again, strict=True) for n in a)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_torch_to_keras_preserves_the_function(bidirectional):
    import keras

    torch.manual_seed(1)
    ref = nn.GRU(5, 6, batch_first=True, bidirectional=bidirectional)
    layer = keras.layers.GRU(6, return_sequences=True)
    if bidirectional:
        layer = keras.layers.Bidirectional(layer)
    convert.copy_gru(ref, layer)
    X = torch.randn(2, 7, 5)
    y_torch = ref(X)[0].detach().numpy()
    y_keras = np.asarray(layer(X.numpy()))
    assert np.abs(y_torch - y_keras).max() <= 1e-5
    back = nn.GRU(5, 6, batch_first=True, bidirectional=bidirectional)
    convert.copy_gru(layer, back)
    assert (back(X)[0] - ref(X)[0]).abs().max().item() <= 1e-6


def test_variant_mismatches_are_errors():
    import keras

    textbook = init_gru_params(3, 4, variant="textbook", seed=0)
    with pytest.raises(ValueError, match="nn.GRU: expected variant 'framework'"):
        convert.load_gru_params(nn.GRU(3, 4), textbook)
    with pytest.raises(ValueError, match=r"reset_after=True\): expected variant 'framework'"):
        convert.load_gru_params(keras.layers.GRU(4), textbook)
    with pytest.raises(ValueError, match="variant='textbook'"):
        convert.load_gru_params(ScratchGRU(3, 4, variant="textbook"), init_gru_params(3, 4, variant="framework"))
    with pytest.raises(ValueError, match=r"W_hz expected shape \(4, 4\)"):
        convert.load_gru_params(GRUCell(3, 4), dict(init_gru_params(3, 4, variant="framework"), W_hz=np.zeros((4, 3))))
    with pytest.raises(ValueError, match="expected 2 parameter dict"):
        convert.load_gru_params(nn.GRU(3, 4, bidirectional=True), init_gru_params(3, 4, variant="framework"))
    with pytest.raises(ValueError, match="missing"):
        convert.gru_params({"W_xi": np.zeros((3, 4))})


def test_lstm_and_gru_functions_refuse_each_other():
    with pytest.raises(TypeError, match="is a GRU; use gru_params"):
        convert.lstm_params(ScratchGRU(3, 4))
    with pytest.raises(TypeError, match="is a GRU"):
        convert.lstm_params(nn.GRU(3, 4))
    with pytest.raises(TypeError, match="is not a GRU"):
        convert.gru_params(ScratchLSTM(3, 4))
    with pytest.raises(TypeError, match="is not a GRU"):
        convert.copy_gru(nn.GRU(3, 4), nn.LSTM(3, 4))
    with pytest.raises(TypeError, match="don't know how to read GRU weights"):
        convert.gru_params(object())


def test_textbook_dicts_round_trip_through_keras_reset_before():
    import keras

    params = init_gru_params(3, 4, variant="textbook", seed=3)
    layer = convert.load_gru_params(keras.layers.GRU(4, reset_after=False, return_sequences=True), params)
    back = convert.gru_params(layer)[0]
    assert set(back) == set(params)
    assert all(np.allclose(back[n], params[n], atol=1e-7) for n in params)  # float32 storage
    scratch = convert.copy_gru(layer, ScratchGRU(3, 4, variant="textbook", batch_first=True))
    X = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    y_scratch = scratch(torch.from_numpy(X))[0].detach().numpy()
    assert np.abs(np.asarray(layer(X)) - y_scratch).max() <= 1e-5
