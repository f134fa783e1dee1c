"""Referee runs for the TensorFlow GRUs against ``keras.layers.GRU`` (chapter 5).

* :class:`TimeMajorGRUAdapter` — call the time-major ``tf.Module`` ``TFScratchGRU`` like a
  batch-major Keras layer returning ``(output, h)``.
* :func:`keras_gru_outputs_and_grads` — outputs and d2l-named gradients of one loss.
* :func:`compare_with_keras_gru` — largest absolute difference between two layers, per quantity.

Importing this module imports TensorFlow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from lstm_course import convert

__all__ = ["TimeMajorGRUAdapter", "keras_gru_outputs_and_grads", "compare_with_keras_gru"]


class TimeMajorGRUAdapter:
    """A batch-major view ``(batch, steps, input) -> (output, h)`` of a time-major module."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.trainable_weights = list(module.params.values())

    def __call__(self, X: Any) -> tuple[Any, Any]:
        Y, H = self.module(tf.transpose(X, (1, 0, 2)))
        return tf.transpose(Y, (1, 0, 2)), H


def keras_gru_outputs_and_grads(layer: Any, X: Any, owner: Any = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Outputs of ``layer(X) -> (y, h_n)`` and the gradients of ``mean(sin(y)) + mean(h_n²)``.

    Args:
        layer: batch-major, ``return_sequences=True, return_state=True`` (or an adapter).
        X: ``(batch, steps, input)``.
        owner: the object :func:`lstm_course.convert.gru_grads` reads the names from
            (default ``layer``; the wrapped module for a :class:`TimeMajorGRUAdapter`).
    """
    with tf.GradientTape() as tape:
        tape.watch(X)
        y, h_n = layer(X)
        loss = tf.reduce_mean(tf.sin(y)) + tf.reduce_mean(h_n * h_n)
    variables = layer.trainable_weights
    dX, *grads = tape.gradient(loss, [X, *variables])
    tensors = {"output": y, "h_n": h_n, "dL/dX": dX}
    return tensors, convert.gru_grads(owner or layer, grads, variables)


def compare_with_keras_gru(reference: Any, layer: Any, X: Any, owner: Any = None) -> dict[str, float]:
    """Largest absolute difference between ``reference`` and ``layer`` on ``X``: outputs, state, input
    gradient and (key ``"参数梯度"``) the largest parameter-gradient difference."""
    t_ref, g_ref = keras_gru_outputs_and_grads(reference, X)
    t_new, g_new = keras_gru_outputs_and_grads(layer, X, owner)
    diffs = {k: float(np.abs(np.asarray(t_ref[k]) - np.asarray(t_new[k])).max()) for k in t_ref}
    diffs["参数梯度"] = max(float(np.abs(a[n] - b[n]).max()) for a, b in zip(g_ref, g_new, strict=True) for n in a)
    return diffs
