"""Scratch LSTM in TensorFlow: ``tf.Variable`` parameters, ``GradientTape`` training, ``tf.function``.

Same equations and parameter names as :mod:`lstm_course.torch.lstm` (d2l row-vector form,
``W_xi, W_hi, b_i, ...`` for gates ``i, f, o, c``).

* :func:`lstm_step` — one step written with plain TensorFlow ops; :data:`lstm_step_compiled` is
  the same function compiled with ``tf.function``.
* :class:`TFScratchLSTM` — a ``tf.Module`` holding the twelve ``tf.Variable``s; time-major
  ``(steps, batch, input)`` like the other scratch implementations; ``compiled`` runs the whole
  sequence as one ``tf.function`` graph.
* :func:`train_step` / :func:`make_train_step` — one optimisation step with ``tf.GradientTape``
  (eager, or compiled).
* :class:`KerasScratchLSTMCell` (a ``keras.layers.Layer``) and :class:`KerasScratchLSTM` (a
  ``keras.layers.RNN`` around it) — Keras 3 layers usable in ``keras.Sequential``; batch-major
  ``(batch, steps, input)`` like every Keras RNN, with ``return_sequences``/``return_state``.

Weights convert to and from ``keras.layers.LSTM`` with :mod:`lstm_course.convert`.
The names say the framework: ``TF…`` is the ``tf.Module``, ``Keras…`` the Keras layers, so
neither is taken for PyTorch's :class:`~lstm_course.torch.lstm.ScratchLSTM` or d2l's ``LSTMScratch``.
Importing this module before TensorFlow keeps TensorFlow's start-up log quiet (it sets
``TF_CPP_MIN_LOG_LEVEL=2`` and ``TF_ENABLE_ONEDNN_OPTS=0`` unless they are already set).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence

# Quiet start-up: TensorFlow prints C++ INFO lines (oneDNN notice, CPU features) on import that
# TF_CPP_MIN_LOG_LEVEL alone no longer silences.  Only defaults: a learner's own settings win.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from lstm_course.layout import LSTM_GATES, LSTM_PARAM_NAMES

__all__ = [
    "lstm_step",
    "lstm_step_compiled",
    "TFScratchLSTM",
    "train_step",
    "make_train_step",
    "KerasScratchLSTMCell",
    "KerasScratchLSTM",
]


def expect_float_tensor(name: str, value: object, dtype: tf.DType) -> tf.Tensor:
    """``value`` as a tensor, if it is a ``tf.Tensor``/``tf.Variable``/``numpy.ndarray`` of ``dtype``.

    The rule every cell of the course applies (see :mod:`lstm_course.numpy.common`): anything
    else is a ``TypeError`` naming the argument, the expected and the received type or dtype.
    """
    import numpy as np

    if not isinstance(value, (tf.Tensor, tf.Variable, np.ndarray)):
        raise TypeError(f"{name}: expected a tf.Tensor or numpy.ndarray, received {type(value).__name__}")
    received = tf.as_dtype(value.dtype)
    if not received.is_floating:
        raise TypeError(f"{name}: expected a floating dtype, received {received.name}")
    if received != dtype:
        raise TypeError(
            f"{name}: expected dtype {dtype.name} (the variables' dtype), received {received.name}; "
            f"convert it with tf.cast(..., tf.{dtype.name})"
        )
    return tf.convert_to_tensor(value)


def lstm_step(
    params: Mapping[str, tf.Variable], x: tf.Tensor, state: Sequence[tf.Tensor]
) -> tuple[tf.Tensor, tf.Tensor]:
    """One LSTM step: ``x`` ``(batch, input)``, ``state = (H, C)`` each ``(batch, hidden)`` → ``(H, C)``."""
    H, C = state
    p = params
    I = tf.sigmoid(tf.matmul(x, p["W_xi"]) + tf.matmul(H, p["W_hi"]) + p["b_i"])
    F = tf.sigmoid(tf.matmul(x, p["W_xf"]) + tf.matmul(H, p["W_hf"]) + p["b_f"])
    O = tf.sigmoid(tf.matmul(x, p["W_xo"]) + tf.matmul(H, p["W_ho"]) + p["b_o"])
    C_tilde = tf.tanh(tf.matmul(x, p["W_xc"]) + tf.matmul(H, p["W_hc"]) + p["b_c"])
    C = F * C + I * C_tilde
    H = O * tf.tanh(C)
    return H, C


#: :func:`lstm_step` compiled into a TensorFlow graph with ``tf.function``.
lstm_step_compiled = tf.function(lstm_step)


class TFScratchLSTM(tf.Module):
    """One-layer LSTM with ``tf.Variable`` parameters ``W_xi, W_hi, b_i, ...`` (time-major).

    Args:
        input_size, hidden_size: feature sizes.
        seed: seed of the uniform ``±1/sqrt(hidden_size)`` initialisation (as in ``nn.LSTM``).
        dtype: ``tf.float32`` or ``tf.float64``.

    ``model(X, state=None) -> (Y, (H, C))`` with ``X`` ``(steps, batch, input_size)`` and ``Y``
    ``(steps, batch, hidden_size)`` runs eagerly (a Python loop over steps);
    ``model.compiled(X, state)`` does the same inside one ``tf.function``.
    """

    def __init__(
        self, input_size: int, hidden_size: int, *, seed: int = 0, dtype: tf.DType = tf.float32, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.input_size, self.hidden_size = input_size, hidden_size
        bound = 1.0 / hidden_size**0.5
        rng = tf.random.Generator.from_seed(seed)
        shapes = {"W_x": (input_size, hidden_size), "W_h": (hidden_size, hidden_size), "b_": (hidden_size,)}
        for g in LSTM_GATES:
            for prefix, shape in shapes.items():
                value = rng.uniform(shape, -bound, bound, dtype=dtype)
                setattr(self, f"{prefix}{g}", tf.Variable(value, name=f"{prefix}{g}"))
        self.compiled = tf.function(self.__call__)

    @property
    def params(self) -> dict[str, tf.Variable]:
        """The twelve variables by d2l name."""
        return {n: getattr(self, n) for n in LSTM_PARAM_NAMES}

    def init_state(self, batch_size: int) -> tuple[tf.Tensor, tf.Tensor]:
        """Zero ``(H, C)``, each ``(batch_size, hidden_size)``."""
        zeros = tf.zeros((batch_size, self.hidden_size), dtype=self.W_xi.dtype)
        return zeros, zeros

    def __call__(
        self, X: tf.Tensor, state: Sequence[tf.Tensor] | None = None
    ) -> tuple[tf.Tensor, tuple[tf.Tensor, tf.Tensor]]:
        """``X`` ``(steps, batch, input_size)`` → ``(Y (steps, batch, hidden), (H_T, C_T))``."""
        X = expect_float_tensor("X", X, self.W_xi.dtype)
        if X.shape.rank != 3 or X.shape[-1] != self.input_size or X.shape[0] == 0:
            raise ValueError(f"X: expected shape (steps>0, batch, {self.input_size}), received {tuple(X.shape)}")
        if state is None:
            state = self.init_state(tf.shape(X)[1])
        else:
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                received = f"{len(state)} tensors" if isinstance(state, (tuple, list)) else type(state).__name__
                raise ValueError(f"state: expected a pair (H, C), received {received}")
            state = tuple(
                expect_float_tensor(f"state {n}", s, self.W_xi.dtype) for n, s in zip("HC", state, strict=True)
            )
            for name, s in zip(("H", "C"), state, strict=True):
                expected = (X.shape[1], self.hidden_size)
                if tuple(s.shape) != expected:
                    raise ValueError(
                        f"state {name}: expected shape {expected} (batch, hidden_size), received {tuple(s.shape)}"
                    )
        params = self.params
        outputs = []
        for x in tf.unstack(X):
            state = lstm_step(params, x, state)
            outputs.append(state[0])
        return tf.stack(outputs), tuple(state)


def train_step(
    loss_fn: Callable[..., tf.Tensor], variables: Sequence[tf.Variable], optimizer: keras.optimizers.Optimizer, *batch
) -> tf.Tensor:
    """Record ``loss_fn(*batch)`` on a ``tf.GradientTape``, apply the gradients, return the loss."""
    with tf.GradientTape() as tape:
        loss = loss_fn(*batch)
    grads = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(grads, variables, strict=True))
    return loss


def make_train_step(
    loss_fn: Callable[..., tf.Tensor], variables: Sequence[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> Callable[..., tf.Tensor]:
    """:func:`train_step` compiled with ``tf.function``: ``step(*batch) -> loss``."""
    variables = list(variables)
    optimizer.build(variables)
    return tf.function(functools.partial(train_step, loss_fn, variables, optimizer))


@keras.saving.register_keras_serializable(package="lstm_course")
class KerasScratchLSTMCell(keras.layers.Layer):
    """Keras 3 LSTM cell with d2l-named weights; wrap it in ``keras.layers.RNN`` (or use :class:`KerasScratchLSTM`).

    Initialised like ``keras.layers.LSTM``: Glorot-uniform ``W_x*``, orthogonal ``W_h*``, zero
    biases except ``b_f = 1`` (the "unit forget bias").
    """

    def __init__(self, units: int, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive int, received {units!r}")
        self.units = units
        self.state_size = [units, units]
        self.output_size = units
        for name in LSTM_PARAM_NAMES:
            setattr(self, name, None)  # created in build()

    def build(self, input_shape) -> None:
        """Create the twelve d2l-named weights once the input size ``input_shape[-1]`` is known."""
        input_size = input_shape[-1]
        for g in LSTM_GATES:
            # Glorot on the fused (input, 4*units) kernel, as keras.layers.LSTM does.
            limit = (6.0 / (input_size + 4 * self.units)) ** 0.5
            setattr(
                self,
                f"W_x{g}",
                self.add_weight(
                    name=f"W_x{g}",
                    shape=(input_size, self.units),
                    initializer=keras.initializers.RandomUniform(-limit, limit),
                ),
            )
            setattr(
                self,
                f"W_h{g}",
                self.add_weight(name=f"W_h{g}", shape=(self.units, self.units), initializer="orthogonal"),
            )
            setattr(
                self,
                f"b_{g}",
                self.add_weight(name=f"b_{g}", shape=(self.units,), initializer="ones" if g == "f" else "zeros"),
            )
        super().build(input_shape)

    def call(self, inputs, states, training: bool = False):
        """``inputs`` ``(batch, input)``, ``states = [H, C]`` → ``(H, [H, C])``."""
        H, C = lstm_step({n: getattr(self, n) for n in LSTM_PARAM_NAMES}, inputs, states)
        return H, [H, C]

    def get_config(self) -> dict:
        """Keras serialisation: the base config plus ``units``."""
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="lstm_course")
class KerasScratchLSTM(keras.layers.RNN):
    """``keras.layers.RNN(KerasScratchLSTMCell(units))``: input ``(batch, steps, input)``, like ``keras.layers.LSTM``.

    Returns ``(batch, units)`` (last step), ``(batch, steps, units)`` with ``return_sequences``,
    plus ``[h, c]`` with ``return_state``.  Works in ``keras.Sequential`` and
    ``keras.layers.Bidirectional``.
    """

    def __init__(
        self,
        units: int,
        *,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        **kwargs,
    ) -> None:
        kwargs.pop("cell", None)
        super().__init__(
            KerasScratchLSTMCell(units),
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            **kwargs,
        )
        self.units = units

    def get_config(self) -> dict:
        """Keras serialisation: the ``keras.layers.RNN`` config without the cell, plus ``units``."""
        config = super().get_config()
        del config["cell"]
        return {**config, "units": self.units}

    @classmethod
    def from_config(cls, config: dict) -> KerasScratchLSTM:
        """Rebuild the layer from :meth:`get_config` (used by ``keras.models.load_model``)."""
        return cls(**config)
