"""The GRU referee helpers that chapter 5 shows: nn.GRU, keras.layers.GRU, finite differences."""

import numpy as np
import pytest

from lstm_course.numpy.gru_gradcheck import gru_gradcheck


@pytest.mark.parametrize("variant", ["textbook", "framework"])
def test_gru_bptt_matches_centred_differences(variant):
    errors = gru_gradcheck(variant)
    assert {"X", "H0", "W_hh", "b_z"} <= set(errors)
    assert max(errors.values()) <= 1e-7


def test_gru_gradcheck_catches_a_wrong_gradient(monkeypatch):
    from lstm_course.numpy import gru_gradcheck as module

    real = module.gru_backward

    def wrong(*args, **kwargs):
        grads = real(*args, **kwargs)
        grads["W_hz"] = grads["W_hz"] * 1.01
        return grads

    monkeypatch.setattr(module, "gru_backward", wrong)
    assert gru_gradcheck("textbook")["W_hz"] > 1e-3


@pytest.mark.parametrize("form", ["ScratchGRU", "FusedGRU"])
def test_scratch_grus_match_nn_gru(form):
    torch = pytest.importorskip("torch")
    from lstm_course.torch import gru
    from lstm_course.torch.gru_equivalence import compare_with_nn_gru

    diffs = compare_with_nn_gru(getattr(gru, form), torch.float64)
    assert set(diffs) == {"output", "h_n", "dL/dX", "dL/dh_0", "参数梯度"}
    assert max(diffs.values()) <= 1e-10
    # the comparison can fail: an output that is off by 0.1 % is reported
    base = getattr(gru, form)

    class Off(base):
        def forward(self, *args, **kwargs):
            output, h_n = super().forward(*args, **kwargs)
            return output * 1.001, h_n

    assert compare_with_nn_gru(Off, torch.float64)["output"] > 1e-5


def test_tf_grus_match_keras_gru():
    pytest.importorskip("tensorflow")
    import keras
    import tensorflow as tf

    from lstm_course import convert
    from lstm_course.tf.gru import KerasScratchGRU, TFScratchGRU
    from lstm_course.tf.gru_equivalence import TimeMajorGRUAdapter, compare_with_keras_gru

    rng = np.random.default_rng(0)
    X = tf.constant(rng.standard_normal((3, 6, 5)), tf.float32)
    reference = keras.layers.GRU(4, return_sequences=True, return_state=True)
    reference.build((None, None, 5))
    for w in reference.weights:
        w.assign(rng.uniform(-0.5, 0.5, w.shape).astype("float32"))
    layer = convert.copy_gru(reference, KerasScratchGRU(4, return_sequences=True, return_state=True))
    module = convert.copy_gru(reference, TFScratchGRU(5, 4))
    assert max(compare_with_keras_gru(reference, layer, X).values()) <= 1e-5
    adapted = compare_with_keras_gru(reference, TimeMajorGRUAdapter(module), X, module)
    assert max(adapted.values()) <= 1e-5
