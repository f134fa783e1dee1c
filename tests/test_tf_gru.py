"""TensorFlow scratch GRU == keras.layers.GRU (reset_after True and False; outputs and gradients);
tf.function, the tf.Module, Keras integration."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from lstm_course import convert  # noqa: E402
from lstm_course.numpy.gru import gru_forward  # noqa: E402
from lstm_course.tf.gru import KerasScratchGRU, KerasScratchGRUCell, TFScratchGRU, gru_step, gru_step_compiled  # noqa: E402

TOL = 1e-5
VARIANT = {True: "framework", False: "textbook"}


def _keras_reference(x: int, h: int, seed: int, reset_after: bool) -> keras.layers.GRU:
    layer = keras.layers.GRU(h, return_sequences=True, return_state=True, reset_after=reset_after)
    layer.build((None, None, x))
    rng = np.random.default_rng(seed)
    for w in layer.weights:  # random weights everywhere, both bias rows included
        w.assign(rng.uniform(-0.6, 0.6, w.shape).astype("float32"))
    return layer


def _outputs_and_grads(layer, X, owner=None):
    with tf.GradientTape() as tape:
        tape.watch(X)
        y, h = layer(X)
        loss = tf.reduce_mean(tf.sin(y)) + tf.reduce_mean(h * h)
    variables = layer.trainable_weights
    dX, *grads = tape.gradient(loss, [X, *variables])
    return [np.asarray(t) for t in (y, h, dX)], convert.gru_grads(owner or layer, grads, variables)


class _TimeMajor:
    """The time-major tf.Module called like a batch-major Keras layer returning (output, h)."""

    def __init__(self, module):
        self.module, self.trainable_weights = module, list(module.params.values())

    def __call__(self, X):
        Y, H = self.module(tf.transpose(X, (1, 0, 2)))
        return tf.transpose(Y, (1, 0, 2)), H


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("batch, steps, x, h", [(1, 4, 3, 2), (3, 6, 5, 4)])
def test_scratch_equals_keras_gru(reset_after, batch, steps, x, h):
    ref = _keras_reference(x, h, seed=batch + steps, reset_after=reset_after)
    variant = VARIANT[reset_after]
    layer = convert.copy_gru(ref, KerasScratchGRU(h, variant=variant, return_sequences=True, return_state=True))
    module = convert.copy_gru(ref, TFScratchGRU(x, h, variant=variant))
    X = tf.constant(np.random.default_rng(0).standard_normal((batch, steps, x)), tf.float32)
    (want, g_want) = _outputs_and_grads(ref, X)
    for candidate, owner in ((layer, None), (_TimeMajor(module), module)):
        got, g_got = _outputs_and_grads(candidate, X, owner)
        for name, a, b in zip(("output", "h_n", "dX"), want, got, strict=True):
            assert np.abs(a - b).max() <= TOL, name
        assert set(g_want[0]) == set(g_got[0])
        for name in g_want[0]:
            assert np.abs(g_want[0][name] - g_got[0][name]).max() <= TOL, name


@pytest.mark.parametrize("variant", ["framework", "textbook"])
def test_tf_function_and_numpy_agree(variant):
    module = TFScratchGRU(3, 4, variant=variant, seed=1, dtype=tf.float64)
    X = np.random.default_rng(1).standard_normal((5, 2, 3))
    Y_eager, H_eager = module(X)
    Y_graph, _ = module.compiled(tf.constant(X))
    assert float(tf.reduce_max(tf.abs(Y_eager - Y_graph))) <= 1e-12
    params = {k: v.numpy() for k, v in module.params.items()}
    H_np, _ = gru_forward(X, None, params, variant=variant)
    assert np.abs(H_np - Y_eager.numpy()).max() <= 1e-12
    H0 = tf.zeros((2, 4), tf.float64)
    step = gru_step_compiled(module.params, tf.constant(X[0]), H0, variant)
    assert np.abs(step.numpy() - gru_step(module.params, X[0], H0, variant).numpy()).max() <= 1e-12


def test_keras_integration_and_parameter_counts():
    for variant, reset_after in (("framework", True), ("textbook", False)):
        net = keras.Sequential([keras.Input((6, 5)), KerasScratchGRU(4, variant=variant), keras.layers.Dense(1)])
        assert tuple(net(np.zeros((2, 6, 5), "float32")).shape) == (2, 1)
        reference = keras.layers.GRU(4, reset_after=reset_after)
        reference.build((None, None, 5))
        # Keras stores the two bias rows of z and r separately; the scratch layer only their sum
        extra = 2 * 4 if reset_after else 0
        assert net.layers[0].count_params() + extra == reference.count_params()
    config = KerasScratchGRU(3, variant="textbook", return_sequences=True).get_config()
    clone = KerasScratchGRU.from_config(config)
    assert clone.variant == "textbook" and clone.return_sequences
    bi = keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True))
    bi.build((None, None, 2))
    params = convert.gru_params(bi)
    assert len(params) == 2 and "b_hh" in params[1]


def test_bad_inputs():
    module = TFScratchGRU(3, 4)
    with pytest.raises(ValueError, match=r"X: expected shape \(steps>0, batch, 3\)"):
        module(tf.zeros((5, 2, 7)))
    with pytest.raises(ValueError, match=r"H: expected shape \(2, 4\)"):
        module(tf.zeros((5, 2, 3)), tf.zeros((3, 4)))
    with pytest.raises(ValueError, match="variant"):
        KerasScratchGRUCell(4, variant="cudnn")
    with pytest.raises(ValueError, match="units must be a positive int"):
        KerasScratchGRUCell(0)
