"""What the NumPy cells share: the logistic function and the checks of their inputs.

One rule for every cell of the course, NumPy, PyTorch and TensorFlow alike (the PyTorch and
TensorFlow cells apply it with their own tensor types):

* ``X`` is the framework's array type with a floating dtype, shaped ``(steps, batch, input)``
  with ``steps >= 1`` (as ``torch.nn.LSTM``); ``batch`` may be ``0``;
* a state of ``None`` means zeros; a given state must have the documented shapes;
* anything else is a ``TypeError`` (wrong type or dtype) or ``ValueError`` (wrong shape) whose
  message names the argument, what was expected and what was received.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "sigmoid",
    "expect_shape",
    "expect_float_array",
    "expect_float_dtype",
    "check_sequence",
    "check_state_pair",
    "gate_sizes",
]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function ``1 / (1 + exp(-z))``."""
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def expect_shape(name: str, array: np.ndarray, shape: tuple) -> None:
    """Raise ``ValueError`` unless ``array.shape`` matches ``shape`` (``None`` matches any size)."""
    actual = np.shape(array)
    if len(actual) != len(shape) or any(e is not None and e != a for e, a in zip(shape, actual, strict=True)):
        wanted = "(" + ", ".join("any" if e is None else str(e) for e in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{name}: expected shape {wanted}, received {tuple(actual)}")


def expect_float_array(name: str, array: Any) -> np.ndarray:
    """Raise ``TypeError`` unless ``array`` is a ``numpy.ndarray`` with a floating dtype; return it."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, received {type(array).__name__}")
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name}: expected a floating dtype (float16/32/64), received {array.dtype}")
    return array


def expect_float_dtype(dtype: Any) -> np.dtype:
    """``np.dtype(dtype)`` if it is floating, else ``TypeError`` (integer weights would all be 0)."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: expected a floating NumPy dtype, received {dtype!r}") from None
    if not np.issubdtype(resolved, np.floating):
        raise TypeError(
            f"dtype: expected a floating NumPy dtype (e.g. np.float64), received {resolved}; "
            "uniform weights in ±1/sqrt(hidden) would round to 0"
        )
    return resolved


def check_sequence(X: Any, input_size: int) -> tuple[int, int]:
    """Check ``X`` ``(steps >= 1, batch, input_size)`` of a floating dtype; return ``(steps, batch)``."""
    expect_float_array("X", X)
    expect_shape("X", X, (None, None, input_size))
    steps, batch, _ = X.shape
    if steps == 0:
        raise ValueError(f"X: expected at least one time step, received shape {X.shape}")
    return steps, batch


def check_state_pair(state: Any, batch: int, hidden_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Check an LSTM state ``(H, C)``, each ``(batch, hidden_size)`` and floating; return it."""
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        kind = f"{len(state)} arrays" if isinstance(state, (tuple, list)) else type(state).__name__
        raise ValueError(f"state: expected a pair (H, C), received {kind}")
    H, C = state
    for name, array in (("state H", H), ("state C", C)):
        expect_float_array(name, array)
        expect_shape(name, array, (batch, hidden_size))
    return H, C


def gate_sizes(
    params: Mapping[str, np.ndarray], gates: Iterable[str], kind: str, names: Iterable[str]
) -> tuple[int, int]:
    """Check ``W_x<g>`` ``(input, hidden)``, ``W_h<g>`` ``(hidden, hidden)`` and ``b_<g>`` ``(hidden,)``
    for every gate; return ``(input_size, hidden_size)``.

    Raises:
        KeyError: a name in ``names`` is missing (``kind`` names the cell in the message).
        ValueError: a shape does not fit the first gate's ``W_x``.
    """
    missing = [name for name in names if name not in params]
    if missing:
        raise KeyError(f"{kind} parameters need {', '.join(missing)}; got keys {sorted(params)}")
    gates = list(gates)
    first = f"W_x{gates[0]}"
    expect_shape(first, params[first], (None, None))
    input_size, hidden_size = np.shape(params[first])
    for g in gates:
        expect_shape(f"W_x{g}", params[f"W_x{g}"], (input_size, hidden_size))
        expect_shape(f"W_h{g}", params[f"W_h{g}"], (hidden_size, hidden_size))
        expect_shape(f"b_{g}", params[f"b_{g}"], (hidden_size,))
    return input_size, hidden_size
