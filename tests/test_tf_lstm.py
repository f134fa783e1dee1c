"""TensorFlow scratch LSTM == keras.layers.LSTM (outputs and gradients); tf.function and Keras integration."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from lstm_course import convert  # noqa: E402
from lstm_course.tf.lstm import (  # noqa: E402
    KerasScratchLSTM,
    KerasScratchLSTMCell,
    TFScratchLSTM,
    lstm_step,
    lstm_step_compiled,
    make_train_step,
    train_step,
)

TOL = 1e-5


def _keras_reference(x: int, h: int, seed: int) -> keras.layers.LSTM:
    """A built keras LSTM with random weights everywhere, biases included."""
    layer = keras.layers.LSTM(h, return_sequences=True, return_state=True)
    layer.build((None, None, x))
    rng = np.random.default_rng(seed)
    for w in layer.weights:
        w.assign(rng.uniform(-0.6, 0.6, w.shape).astype("float32"))
    return layer


def _max_diff(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


@pytest.mark.parametrize("batch, steps, x, h", [(1, 4, 3, 2), (3, 6, 5, 4), (2, 1, 2, 6)])
def test_keras_scratch_layer_equals_keras_lstm(batch, steps, x, h):
    ref = _keras_reference(x, h, seed=batch + steps)
    scratch = KerasScratchLSTM(h, return_sequences=True, return_state=True)
    convert.copy_lstm(ref, scratch)
    X = tf.constant(np.random.default_rng(0).standard_normal((batch, steps, x)), tf.float32)
    grads = []
    outputs = []
    for layer in (ref, scratch):
        with tf.GradientTape() as tape:
            tape.watch(X)
            y, h_n, c_n = layer(X)
            loss = tf.reduce_mean(tf.sin(y)) + tf.reduce_mean(h_n * c_n)
        outputs.append((y, h_n, c_n))
        variables = layer.trainable_weights
        dX, *dW = tape.gradient(loss, [X, *variables])
        params = convert.lstm_grads(layer, dW, variables)
        grads.append((dX, params[0]))
    for e, a in zip(*outputs, strict=True):
        assert e.shape == a.shape and _max_diff(e, a) <= TOL
    assert _max_diff(grads[0][0], grads[1][0]) <= TOL
    for name in convert.LSTM_PARAM_NAMES:
        assert _max_diff(grads[0][1][name], grads[1][1][name]) <= TOL, name


def test_tf_module_eager_and_compiled_equal_keras_lstm():
    ref = _keras_reference(4, 3, seed=7)
    model = convert.copy_lstm(ref, TFScratchLSTM(4, 3))
    X = np.random.default_rng(1).standard_normal((2, 5, 4)).astype("float32")  # Keras: batch-major
    y_ref, h_ref, c_ref = ref(X)
    Xt = tf.constant(X.transpose(1, 0, 2))  # scratch: time-major
    for run in (model, model.compiled):
        Y, (H, C) = run(Xt)
        assert _max_diff(tf.transpose(Y, (1, 0, 2)), y_ref) <= TOL
        assert _max_diff(H, h_ref) <= TOL and _max_diff(C, c_ref) <= TOL
    state = model.init_state(2)
    eager, compiled = lstm_step(model.params, Xt[0], state), lstm_step_compiled(model.params, Xt[0], state)
    assert all(_max_diff(a, b) <= 1e-6 for a, b in zip(eager, compiled, strict=True))
    assert set(model.params) == set(convert.LSTM_PARAM_NAMES)
    assert all(isinstance(v, tf.Variable) for v in model.params.values())


def test_bidirectional_scratch_equals_keras():
    ref = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True))
    X = np.random.default_rng(2).standard_normal((2, 4, 5)).astype("float32")
    ref(X)
    scratch = convert.copy_lstm(ref, keras.layers.Bidirectional(KerasScratchLSTM(3, return_sequences=True)))
    assert _max_diff(scratch(X), ref(X)) <= TOL


def test_training_steps_reduce_the_loss():
    keras.utils.set_random_seed(0)
    model = TFScratchLSTM(2, 8, seed=1)
    readout = tf.Variable(tf.random.normal((8, 1), stddev=0.3, seed=2))
    X = tf.random.normal((6, 16, 2), seed=3)
    target = tf.reduce_sum(X[..., :1], axis=0)  # sum of the first feature over time

    def loss_fn(X, target):
        Y, _ = model(X)
        return tf.reduce_mean((Y[-1] @ readout - target) ** 2)

    variables = [*model.params.values(), readout]
    before = float(loss_fn(X, target))
    eager = float(train_step(loss_fn, variables, keras.optimizers.Adam(0.05), X, target))
    assert abs(eager - before) < 1e-6
    step = make_train_step(loss_fn, variables, keras.optimizers.Adam(0.05))
    for _ in range(30):
        step(X, target)
    assert float(loss_fn(X, target)) < 0.5 * before


def test_works_in_sequential_and_serialises():
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((5, 3)), KerasScratchLSTM(4), keras.layers.Dense(1)])
    X = np.random.default_rng(3).standard_normal((8, 5, 3)).astype("float32")
    assert net(X).shape == (8, 1)
    assert net.count_params() == 4 * (3 * 4 + 4 * 4 + 4) + 5
    clone = KerasScratchLSTM.from_config(net.layers[0].get_config())
    assert clone.units == 4 and clone.return_sequences is False
    cell = KerasScratchLSTMCell(4)
    cell.build((None, 3))
    assert float(np.asarray(cell.b_f).min()) == 1.0 and not np.asarray(cell.b_i).any()


def test_bad_input_shapes_raise_value_errors():
    model = TFScratchLSTM(3, 2)
    with pytest.raises(ValueError, match=r"expected shape \(steps>0, batch, 3\), received \(4, 2, 5\)"):
        model(tf.zeros((4, 2, 5)))
    with pytest.raises(ValueError, match=r"state C: expected shape \(2, 2\).*received \(3, 2\)"):
        model(tf.zeros((4, 2, 3)), (tf.zeros((2, 2)), tf.zeros((3, 2))))
    with pytest.raises(ValueError, match="units must be a positive int"):
        KerasScratchLSTMCell(0)
