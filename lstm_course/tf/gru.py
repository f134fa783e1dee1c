"""Scratch GRU in TensorFlow: ``tf.Variable`` parameters, ``tf.function``, and a Keras 3 layer.

Same equations, variants and parameter names as :mod:`lstm_course.numpy.gru` (d2l row-vector form,
``W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h``, plus the recurrent candidate bias ``b_hh``
in the framework variant, which is what ``keras.layers.GRU(reset_after=True)`` computes).

* :func:`gru_step` — one step written with plain TensorFlow ops; :data:`gru_step_compiled` is the
  same function compiled with ``tf.function``.
* :class:`TFScratchGRU` — a ``tf.Module`` holding the ``tf.Variable``s; time-major
  ``(steps, batch, input)``; ``compiled`` runs the whole sequence as one ``tf.function`` graph.
* :class:`KerasScratchGRUCell` (a ``keras.layers.Layer``) and :class:`KerasScratchGRU` (a
  ``keras.layers.RNN`` around it) — Keras 3 layers, batch-major ``(batch, steps, input)`` like every
  Keras RNN, with ``return_sequences``/``return_state``.

Weights convert to and from ``keras.layers.GRU`` with :func:`lstm_course.convert.copy_gru`
(``reset_after=True`` ↔ ``variant='framework'``, ``reset_after=False`` ↔ ``variant='textbook'``).
As in :mod:`lstm_course.tf.lstm`, ``TF…`` names the ``tf.Module`` and ``Keras…`` the Keras layers,
apart from PyTorch's :class:`~lstm_course.torch.gru.ScratchGRU` and d2l's ``GRUScratch``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from lstm_course.layout import GRU_FRAMEWORK_PARAM_NAMES, GRU_GATES, GRU_PARAM_NAMES, GRU_VARIANTS  # noqa: E402

__all__ = ["gru_step", "gru_step_compiled", "TFScratchGRU", "KerasScratchGRUCell", "KerasScratchGRU"]


def _check_variant(variant: str) -> None:
    if variant not in GRU_VARIANTS:
        raise ValueError(f"variant: expected one of {GRU_VARIANTS}, received {variant!r}")


def _names(variant: str) -> tuple[str, ...]:
    return GRU_FRAMEWORK_PARAM_NAMES if variant == "framework" else GRU_PARAM_NAMES


def gru_step(params: Mapping[str, tf.Variable], x: tf.Tensor, H: tf.Tensor, variant: str = "framework") -> tf.Tensor:
    """One GRU step: ``x`` ``(batch, input)``, ``H`` ``(batch, hidden)`` → new ``H`` ``(batch, hidden)``.

    ``variant`` is a Python string (``'framework'`` or ``'textbook'``); under ``tf.function`` each
    value traces its own graph.
    """
    p = params
    R = tf.sigmoid(tf.matmul(x, p["W_xr"]) + tf.matmul(H, p["W_hr"]) + p["b_r"])
    Z = tf.sigmoid(tf.matmul(x, p["W_xz"]) + tf.matmul(H, p["W_hz"]) + p["b_z"])
    if variant == "textbook":
        H_tilde = tf.tanh(tf.matmul(x, p["W_xh"]) + tf.matmul(R * H, p["W_hh"]) + p["b_h"])
    elif variant == "framework":
        H_tilde = tf.tanh(tf.matmul(x, p["W_xh"]) + p["b_h"] + R * (tf.matmul(H, p["W_hh"]) + p["b_hh"]))
    else:
        raise ValueError(f"variant: expected one of {GRU_VARIANTS}, received {variant!r}")
    return Z * H + (1.0 - Z) * H_tilde


#: :func:`gru_step` compiled into a TensorFlow graph with ``tf.function``.
gru_step_compiled = tf.function(gru_step)


class TFScratchGRU(tf.Module):
    """One-layer GRU with ``tf.Variable`` parameters ``W_xr, W_hr, b_r, ...`` (time-major).

    Args:
        input_size, hidden_size: feature sizes.
        variant: ``'framework'`` (reset after the recurrent product, as Keras ``reset_after=True``)
            or ``'textbook'``.
        seed: seed of the uniform ``±1/sqrt(hidden_size)`` initialisation (as in ``nn.GRU``).
        dtype: ``tf.float32`` or ``tf.float64``.

    ``model(X, H=None) -> (Y, H_T)`` with ``X`` ``(steps, batch, input_size)`` and ``Y``
    ``(steps, batch, hidden_size)`` runs eagerly; ``model.compiled(X, H)`` runs the same code as
    one ``tf.function``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        variant: str = "framework",
        seed: int = 0,
        dtype: tf.DType = tf.float32,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        _check_variant(variant)
        self.input_size, self.hidden_size, self.variant = input_size, hidden_size, variant
        bound = 1.0 / hidden_size**0.5
        rng = tf.random.Generator.from_seed(seed)
        for n in _names(variant):
            shape = (
                (input_size, hidden_size)
                if n.startswith("W_x")
                else (hidden_size, hidden_size)
                if n.startswith("W_h")
                else (hidden_size,)
            )
            setattr(self, n, tf.Variable(rng.uniform(shape, -bound, bound, dtype=dtype), name=n))
        self.compiled = tf.function(self.__call__)

    @property
    def params(self) -> dict[str, tf.Variable]:
        """The variables by d2l name."""
        return {n: getattr(self, n) for n in _names(self.variant)}

    def __call__(self, X: tf.Tensor, H: tf.Tensor | None = None) -> tuple[tf.Tensor, tf.Tensor]:
        """``X`` ``(steps, batch, input_size)`` → ``(Y (steps, batch, hidden), H_T (batch, hidden))``."""
        from lstm_course.tf.lstm import expect_float_tensor

        X = expect_float_tensor("X", X, self.W_xr.dtype)
        if X.shape.rank != 3 or X.shape[-1] != self.input_size or X.shape[0] == 0:
            raise ValueError(f"X: expected shape (steps>0, batch, {self.input_size}), received {tuple(X.shape)}")
        if H is None:
            H = tf.zeros((tf.shape(X)[1], self.hidden_size), dtype=X.dtype)
        elif tuple(expect_float_tensor("H", H, self.W_xr.dtype).shape) != (X.shape[1], self.hidden_size):
            raise ValueError(
                f"H: expected shape {(X.shape[1], self.hidden_size)} (batch, hidden_size), received {tuple(H.shape)}"
            )
        params = self.params
        outputs = []
        for x in tf.unstack(X):
            H = gru_step(params, x, H, self.variant)
            outputs.append(H)
        return tf.stack(outputs), H


@keras.saving.register_keras_serializable(package="lstm_course")
class KerasScratchGRUCell(keras.layers.Layer):
    """Keras 3 GRU cell with d2l-named weights; wrap it in ``keras.layers.RNN`` (or use :class:`KerasScratchGRU`).

    Initialised like ``keras.layers.GRU``: Glorot-uniform ``W_x*`` (limit of the fused
    ``(input, 3*units)`` kernel), orthogonal ``W_h*``, zero biases.
    """

    def __init__(self, units: int, *, variant: str = "framework", **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive int, received {units!r}")
        _check_variant(variant)
        self.units, self.variant = units, variant
        self.state_size = units
        self.output_size = units
        for name in _names(variant):
            setattr(self, name, None)  # created in build()

    def build(self, input_shape) -> None:
        """Create the weights once the input size is known (Keras calls this)."""
        input_size = input_shape[-1]
        limit = (6.0 / (input_size + 3 * self.units)) ** 0.5
        for g in GRU_GATES:
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
            setattr(self, f"b_{g}", self.add_weight(name=f"b_{g}", shape=(self.units,), initializer="zeros"))
        if self.variant == "framework":
            self.b_hh = self.add_weight(name="b_hh", shape=(self.units,), initializer="zeros")
        super().build(input_shape)

    def call(self, inputs, states, training: bool = False):
        """``inputs`` ``(batch, input)``, ``states = [H]`` → ``(H, [H])``."""
        H_prev = states[0] if isinstance(states, (list, tuple)) else states
        H = gru_step({n: getattr(self, n) for n in _names(self.variant)}, inputs, H_prev, self.variant)
        return H, [H]

    def get_config(self) -> dict:
        """The constructor arguments, so Keras can save and rebuild the layer."""
        return {**super().get_config(), "units": self.units, "variant": self.variant}


@keras.saving.register_keras_serializable(package="lstm_course")
class KerasScratchGRU(keras.layers.RNN):
    """``keras.layers.RNN(KerasScratchGRUCell(units))``: input ``(batch, steps, input)``, like ``keras.layers.GRU``.

    Returns ``(batch, units)`` (last step), ``(batch, steps, units)`` with ``return_sequences``, plus
    ``h`` with ``return_state``.  ``variant='framework'`` equals ``keras.layers.GRU(reset_after=True)``,
    ``'textbook'`` equals ``reset_after=False``.
    """

    def __init__(
        self,
        units: int,
        *,
        variant: str = "framework",
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        **kwargs,
    ) -> None:
        kwargs.pop("cell", None)
        super().__init__(
            KerasScratchGRUCell(units, variant=variant),
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            **kwargs,
        )
        self.units, self.variant = units, variant

    def get_config(self) -> dict:
        """The constructor arguments, so Keras can save and rebuild the layer."""
        config = super().get_config()
        del config["cell"]
        return {**config, "units": self.units, "variant": self.variant}

    @classmethod
    def from_config(cls, config: dict) -> KerasScratchGRU:
        """Rebuild the layer from :meth:`get_config`."""
        return cls(**config)
