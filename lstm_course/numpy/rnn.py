"""A vanilla tanh RNN in pure NumPy: forward, and backpropagation through time (BPTT) by hand.

One step computes (d2l row-vector convention)::

    H_t = tanh(X_t @ W_xh + H_{t-1} @ W_hh + b_h)        # (batch, hidden)
    Y_t = H_t @ W_hq + b_q                               # (batch, output), optional

Shapes: ``X`` is ``(steps, batch, input_size)``, ``H0`` is ``(batch, hidden_size)``,
``W_xh`` is ``(input_size, hidden_size)``, ``W_hh`` is ``(hidden_size, hidden_size)``,
``b_h`` is ``(hidden_size,)``, ``W_hq`` is ``(hidden_size, output_size)``, ``b_q`` is
``(output_size,)``.  The output layer is present when ``params`` holds ``W_hq`` and ``b_q``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from lstm_course.numpy.common import check_sequence, expect_float_array, expect_float_dtype
from lstm_course.numpy.common import expect_shape as _expect
from lstm_course.numpy.init import make_rng, uniform_scale

__all__ = [
    "RNNCache",
    "init_rnn_params",
    "rnn_step",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "step_jacobians",
    "spectral_radius",
    "scale_spectral_radius",
]

Params = Mapping[str, np.ndarray]


@dataclass
class RNNCache:
    """What :func:`rnn_forward` keeps for :func:`rnn_backward`.

    Attributes:
        X: inputs ``(steps, batch, input_size)``.
        H0: initial state ``(batch, hidden_size)``.
        H: hidden states ``H_1 .. H_T``, shape ``(steps, batch, hidden_size)``.
        params: the parameter dict used by the forward pass.
    """

    X: np.ndarray
    H0: np.ndarray
    H: np.ndarray
    params: Params


def _sizes(params: Params) -> tuple[int, int, int | None]:
    """Validate the parameter dict and return ``(input_size, hidden_size, output_size or None)``."""
    for key in ("W_xh", "W_hh", "b_h"):
        if key not in params:
            raise KeyError(f"RNN parameters need {key!r}; got keys {sorted(params)}")
    _expect("W_xh", params["W_xh"], (None, None))
    input_size, hidden_size = params["W_xh"].shape
    _expect("W_hh", params["W_hh"], (hidden_size, hidden_size))
    _expect("b_h", params["b_h"], (hidden_size,))
    if ("W_hq" in params) != ("b_q" in params):
        raise KeyError("the output layer needs both 'W_hq' and 'b_q'")
    if "W_hq" not in params:
        return input_size, hidden_size, None
    _expect("W_hq", params["W_hq"], (hidden_size, None))
    output_size = params["W_hq"].shape[1]
    _expect("b_q", params["b_q"], (output_size,))
    return input_size, hidden_size, output_size


def init_rnn_params(
    input_size: int,
    hidden_size: int,
    output_size: int | None = None,
    *,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    scale: float | None = None,
    dtype: type = np.float64,
) -> dict[str, np.ndarray]:
    """Random RNN parameters ``W_xh, W_hh, b_h`` (and ``W_hq, b_q`` if ``output_size`` is given).

    Every entry is drawn from ``U(-scale, scale)`` with ``scale = 1/sqrt(hidden_size)`` by
    default, the rule ``torch.nn.RNN`` uses.  Pass ``seed`` or an ``rng``, not both.
    """
    if min(input_size, hidden_size) < 1 or (output_size is not None and output_size < 1):
        raise ValueError(f"sizes must be positive, got {input_size}, {hidden_size}, {output_size}")
    dtype = expect_float_dtype(dtype)
    rng = make_rng(seed, rng)
    scale = uniform_scale(hidden_size, scale)
    shapes = {"W_xh": (input_size, hidden_size), "W_hh": (hidden_size, hidden_size), "b_h": (hidden_size,)}
    if output_size is not None:
        shapes |= {"W_hq": (hidden_size, output_size), "b_q": (output_size,)}
    return {name: rng.uniform(-scale, scale, size=shape).astype(dtype) for name, shape in shapes.items()}


def rnn_step(X_t: np.ndarray, H_prev: np.ndarray, params: Params) -> np.ndarray:
    """One time step ``tanh(X_t @ W_xh + H_prev @ W_hh + b_h)``.

    Args:
        X_t: ``(batch, input_size)``.
        H_prev: ``(batch, hidden_size)``.

    Returns:
        ``H_t`` of shape ``(batch, hidden_size)``.
    """
    input_size, hidden_size, _ = _sizes(params)
    _expect("X_t", expect_float_array("X_t", X_t), (None, input_size))
    _expect("H_prev", expect_float_array("H_prev", H_prev), (X_t.shape[0], hidden_size))
    return np.tanh(X_t @ params["W_xh"] + H_prev @ params["W_hh"] + params["b_h"])


def rnn_step_backward(
    dH_t: np.ndarray, X_t: np.ndarray, H_prev: np.ndarray, H_t: np.ndarray, params: Params
) -> dict[str, np.ndarray]:
    """Backward pass of :func:`rnn_step`.

    Args:
        dH_t: gradient of the loss w.r.t. ``H_t``, ``(batch, hidden_size)``.
        X_t, H_prev: the step's inputs; ``H_t``: its output (``tanh' = 1 - H_t**2``).

    Returns:
        Gradients ``W_xh, W_hh, b_h`` (this step's contribution), ``X`` (``(batch, input_size)``)
        and ``H_prev`` (``(batch, hidden_size)``).
    """
    input_size, hidden_size, _ = _sizes(params)
    _expect("X_t", X_t, (None, input_size))
    batch = X_t.shape[0]
    for name, array in (("dH_t", dH_t), ("H_prev", H_prev), ("H_t", H_t)):
        _expect(name, array, (batch, hidden_size))
    dZ = dH_t * (1.0 - H_t**2)  # through tanh
    return {
        "W_xh": X_t.T @ dZ,
        "W_hh": H_prev.T @ dZ,
        "b_h": dZ.sum(axis=0),
        "X": dZ @ params["W_xh"].T,
        "H_prev": dZ @ params["W_hh"].T,
    }


def rnn_forward(X: np.ndarray, H0: np.ndarray | None, params: Params) -> tuple[np.ndarray, RNNCache]:
    """Run the RNN over a whole sequence.

    Args:
        X: ``(steps, batch, input_size)``, ``steps >= 1``.
        H0: ``(batch, hidden_size)``; ``None`` means zeros.
        params: ``W_xh, W_hh, b_h`` and optionally ``W_hq, b_q``.

    Returns:
        ``(outputs, cache)``: ``outputs`` is ``Y`` of shape ``(steps, batch, output_size)`` when
        the output layer is present, else the hidden states ``(steps, batch, hidden_size)``
        (always available as ``cache.H``).
    """
    input_size, hidden_size, output_size = _sizes(params)
    steps, batch = check_sequence(X, input_size)
    if H0 is None:
        H0 = np.zeros((batch, hidden_size), np.result_type(X, params["W_hh"]))
    _expect("H0", expect_float_array("H0", H0), (batch, hidden_size))
    H = np.empty((steps, batch, hidden_size), dtype=np.result_type(X, H0, params["W_hh"]))
    H_t = H0
    for t in range(steps):
        H_t = rnn_step(X[t], H_t, params)
        H[t] = H_t
    cache = RNNCache(X=X, H0=H0, H=H, params=params)
    if output_size is None:
        return H, cache
    return H @ params["W_hq"] + params["b_q"], cache


def rnn_backward(d_outputs: np.ndarray, cache: RNNCache, dH_last: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Backpropagation through time for :func:`rnn_forward`.

    Args:
        d_outputs: gradient of the loss w.r.t. the forward pass's ``outputs`` (``dY`` of shape
            ``(steps, batch, output_size)``, or ``dH`` of shape ``(steps, batch, hidden_size)``
            without an output layer).
        cache: from :func:`rnn_forward`.
        dH_last: optional extra gradient w.r.t. the final state ``H_T``, ``(batch, hidden_size)``.

    Returns:
        One gradient per parameter (same keys as ``cache.params``) plus ``X`` (shape of ``X``)
        and ``H0`` (shape of ``H0``).
    """
    params = cache.params
    _, hidden_size, output_size = _sizes(params)
    steps, batch, _ = cache.X.shape
    _expect("d_outputs", d_outputs, (steps, batch, hidden_size if output_size is None else output_size))
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    if output_size is None:
        dH_out = d_outputs
    else:
        grads["W_hq"] = np.einsum("tbh,tbo->ho", cache.H, d_outputs)
        grads["b_q"] = d_outputs.sum(axis=(0, 1))
        dH_out = d_outputs @ params["W_hq"].T
    dX = np.zeros_like(cache.X, dtype=np.result_type(cache.X, d_outputs))
    dH_next = np.zeros((batch, hidden_size), dtype=dH_out.dtype)
    if dH_last is not None:
        _expect("dH_last", dH_last, (batch, hidden_size))
        dH_next = dH_next + dH_last
    for t in reversed(range(steps)):
        H_prev = cache.H[t - 1] if t > 0 else cache.H0
        step = rnn_step_backward(dH_out[t] + dH_next, cache.X[t], H_prev, cache.H[t], params)
        for name in ("W_xh", "W_hh", "b_h"):
            grads[name] += step[name]
        dX[t] = step["X"]
        dH_next = step["H_prev"]
    grads["X"] = dX
    grads["H0"] = dH_next
    return grads


def step_jacobians(cache: RNNCache) -> np.ndarray:
    """The Jacobians ``dH_t/dH_{t-1} = diag(1 - H_t**2) @ W_hh.T`` of every step.

    Returns:
        ``(steps, batch, hidden_size, hidden_size)``; entry ``[t, b, i, j]`` is
        ``dH_t[b, i] / dH_{t-1}[b, j]``.  Their product over ``t+1..T`` is ``dH_T/dH_t``.
    """
    _sizes(cache.params)
    return (1.0 - cache.H**2)[..., :, None] * cache.params["W_hh"].T[None, None]


def spectral_radius(W: np.ndarray) -> float:
    """Largest absolute eigenvalue of the square matrix ``W``."""
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square matrix (n, n), received {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def scale_spectral_radius(W: np.ndarray, radius: float) -> np.ndarray:
    """Return ``W`` rescaled so that its spectral radius equals ``radius`` (a new array)."""
    if radius < 0:
        raise ValueError(f"radius must be non-negative, got {radius}")
    current = spectral_radius(W)
    if current == 0:
        raise ValueError("W has spectral radius 0 and cannot be rescaled")
    return np.asarray(W) * (radius / current)
