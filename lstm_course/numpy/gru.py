"""A GRU in pure NumPy: forward with every gate kept, and backpropagation through time by hand.

Two formulations share the gates and the update; they differ only in where the reset gate acts.

``variant="textbook"`` — Cho et al. (2014), d2l: the reset gate scales ``H_{t-1}`` *before* the
recurrent product::

    R_t  = sigmoid(X_t @ W_xr + H_{t-1} @ W_hr + b_r)               # reset gate      (batch, hidden)
    Z_t  = sigmoid(X_t @ W_xz + H_{t-1} @ W_hz + b_z)               # update gate
    H~_t = tanh(X_t @ W_xh + (R_t * H_{t-1}) @ W_hh + b_h)          # candidate hidden state
    H_t  = Z_t * H_{t-1} + (1 - Z_t) * H~_t

``variant="framework"`` — ``torch.nn.GRU``, Keras ``GRU(reset_after=True)``, cuDNN: the reset gate
scales the recurrent product *after* it is computed, so ``H_{t-1} @ [W_hr W_hz W_hh]`` is one
matrix product for all three blocks.  The bias of that product survives inside ``R_t * (...)``,
so the candidate needs a second bias, **``b_hh``** (the recurrent candidate bias; torch's
``bias_hh`` ``n`` block, Keras' ``bias[1]`` ``h`` block)::

    H~_t = tanh(X_t @ W_xh + b_h + R_t * (H_{t-1} @ W_hh + b_hh))

(``b_r`` and ``b_z`` stay single biases: only the sum of the frameworks' two biases matters for them.)

Shapes: ``X`` is ``(steps, batch, input_size)``; ``H0`` is ``(batch, hidden_size)``; ``W_xg`` is
``(input_size, hidden_size)``, ``W_hg`` ``(hidden_size, hidden_size)``, ``b_g`` and ``b_hh``
``(hidden_size,)`` for ``g`` in ``r, z, h``.  A gate dict uses the same letters:
``{"r": R_t, "z": Z_t, "h": H~_t}`` (``"h"`` is the *candidate*, not ``H_t``).
:mod:`lstm_course.convert` maps the parameter dict to and from ``torch.nn.GRU`` and Keras.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from lstm_course.layout import GRU_FRAMEWORK_PARAM_NAMES, GRU_GATES, GRU_PARAM_NAMES, GRU_VARIANTS
from lstm_course.numpy.common import check_sequence, expect_float_array, expect_float_dtype, gate_sizes, sigmoid
from lstm_course.numpy.common import expect_shape as _expect
from lstm_course.numpy.init import make_rng, uniform_gate_params, uniform_scale

__all__ = [
    "GATES",
    "GATE_NAMES_ZH",
    "VARIANTS",
    "GRUCache",
    "param_names",
    "init_gru_params",
    "gru_step",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
]

Params = Mapping[str, np.ndarray]

#: Gate letters in d2l's order: reset, update, candidate hidden state.
GATES = GRU_GATES
#: ``"textbook"`` (reset before the recurrent product) and ``"framework"`` (after it).
VARIANTS = GRU_VARIANTS
#: Chinese names of the gates, used in plots and self-check messages.
GATE_NAMES_ZH = {"r": "重置门", "z": "更新门", "h": "候选隐状态"}


def param_names(variant: str = "textbook") -> tuple[str, ...]:
    """The parameter names of ``variant``: nine for ``'textbook'``, plus ``b_hh`` for ``'framework'``."""
    _check_variant(variant)
    return GRU_FRAMEWORK_PARAM_NAMES if variant == "framework" else GRU_PARAM_NAMES


@dataclass
class GRUCache:
    """Everything :func:`gru_forward` computed, kept for :func:`gru_backward` and for plots.

    Attributes:
        X: inputs ``(steps, batch, input_size)``.
        H0: initial state ``(batch, hidden_size)``.
        R, Z: reset and update gates, each ``(steps, batch, hidden_size)``.
        H_tilde: candidate hidden states ``(steps, batch, hidden_size)``.
        H: hidden states ``H_1 .. H_T``, same shape.
        params: the parameter dict of the forward pass.
        variant: ``'textbook'`` or ``'framework'``.
    """

    X: np.ndarray
    H0: np.ndarray
    R: np.ndarray
    Z: np.ndarray
    H_tilde: np.ndarray
    H: np.ndarray
    params: Params
    variant: str

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """``{"r": R, "z": Z, "h": H_tilde}``, each ``(steps, batch, hidden_size)``."""
        return {"r": self.R, "z": self.Z, "h": self.H_tilde}

    def step_gates(self, t: int) -> dict[str, np.ndarray]:
        """The gate dict of step ``t`` (0-based), each ``(batch, hidden_size)``."""
        return {g: value[t] for g, value in self.gates.items()}


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"variant: expected one of {VARIANTS}, received {variant!r}")


def _sizes(params: Params, variant: str) -> tuple[int, int]:
    """Validate the parameters of ``variant`` and return ``(input_size, hidden_size)``."""
    names = param_names(variant)
    missing = [name for name in names if name not in params]
    if missing:
        hint = " (the framework variant needs the recurrent candidate bias b_hh)" if missing == ["b_hh"] else ""
        raise KeyError(f"GRU parameters ({variant}) need {', '.join(missing)}{hint}; got keys {sorted(params)}")
    if variant == "textbook" and "b_hh" in params:
        raise ValueError(
            "b_hh belongs to the framework variant (reset after the recurrent product); "
            "pass variant='framework' or drop b_hh"
        )
    input_size, hidden_size = gate_sizes(params, GATES, f"GRU ({variant})", names)
    if variant == "framework":
        _expect("b_hh", params["b_hh"], (hidden_size,))
    return input_size, hidden_size


def init_gru_params(
    input_size: int,
    hidden_size: int,
    *,
    variant: str = "textbook",
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    scale: float | None = None,
    dtype: type = np.float64,
) -> dict[str, np.ndarray]:
    """Random GRU parameters ``W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h`` (+ ``b_hh``).

    Every entry is drawn from ``U(-scale, scale)`` with ``scale = 1/sqrt(hidden_size)`` by
    default (the rule of ``torch.nn.GRU``).  ``variant='framework'`` adds ``b_hh``.  Pass ``seed``
    or ``rng``, not both.
    """
    _check_variant(variant)
    dtype = expect_float_dtype(dtype)
    rng = make_rng(seed, rng)
    scale = uniform_scale(hidden_size, scale)
    params = uniform_gate_params(GATES, input_size, hidden_size, rng, scale, dtype)
    if variant == "framework":
        params["b_hh"] = rng.uniform(-scale, scale, size=(hidden_size,)).astype(dtype)
    return params


def gru_step(
    X_t: np.ndarray,
    H_prev: np.ndarray,
    params: Params,
    *,
    variant: str = "textbook",
    return_gates: bool = False,
) -> np.ndarray | tuple[np.ndarray, dict[str, np.ndarray]]:
    """One time step.

    Args:
        X_t: ``(batch, input_size)``.
        H_prev: ``(batch, hidden_size)``.
        variant: ``'textbook'`` or ``'framework'`` (see the module docstring).
        return_gates: also return the gate dict ``{"r", "z", "h"}``.

    Returns:
        ``H_t`` ``(batch, hidden_size)``, or ``(H_t, gates)``.
    """
    input_size, hidden_size = _sizes(params, variant)
    _expect("X_t", expect_float_array("X_t", X_t), (None, input_size))
    _expect("H_prev", expect_float_array("H_prev", H_prev), (X_t.shape[0], hidden_size))
    p = params
    R = sigmoid(X_t @ p["W_xr"] + H_prev @ p["W_hr"] + p["b_r"])
    Z = sigmoid(X_t @ p["W_xz"] + H_prev @ p["W_hz"] + p["b_z"])
    if variant == "textbook":
        H_tilde = np.tanh(X_t @ p["W_xh"] + (R * H_prev) @ p["W_hh"] + p["b_h"])
    else:
        H_tilde = np.tanh(X_t @ p["W_xh"] + p["b_h"] + R * (H_prev @ p["W_hh"] + p["b_hh"]))
    H_t = Z * H_prev + (1.0 - Z) * H_tilde
    return (H_t, {"r": R, "z": Z, "h": H_tilde}) if return_gates else H_t


def gru_step_backward(
    dH_t: np.ndarray,
    X_t: np.ndarray,
    H_prev: np.ndarray,
    gates: Mapping[str, np.ndarray],
    params: Params,
    *,
    variant: str = "textbook",
) -> dict[str, np.ndarray]:
    """Backward pass of :func:`gru_step`.

    Args:
        dH_t: gradient of the loss w.r.t. ``H_t`` (from the output and from later steps),
            ``(batch, hidden_size)``.
        X_t, H_prev: the step's inputs.
        gates: the step's gate dict ``{"r", "z", "h"}`` from :func:`gru_step`.

    Returns:
        This step's contribution to every parameter gradient, and ``X`` ``(batch, input_size)``
        and ``H_prev`` ``(batch, hidden_size)``.
    """
    input_size, hidden_size = _sizes(params, variant)
    _expect("X_t", X_t, (None, input_size))
    batch = X_t.shape[0]
    for name, array in (("dH_t", dH_t), ("H_prev", H_prev), *((f"gates[{g!r}]", gates[g]) for g in GATES)):
        _expect(name, array, (batch, hidden_size))
    p = params
    R, Z, H_tilde = gates["r"], gates["z"], gates["h"]
    dH_prev = dH_t * Z  # the direct path: dH_t/dH_{t-1} ⊃ diag(Z_t)
    dA_z = dH_t * (H_prev - H_tilde) * Z * (1.0 - Z)  # through the update gate's sigmoid
    dA_h = dH_t * (1.0 - Z) * (1.0 - H_tilde**2)  # through the candidate's tanh
    grads: dict[str, np.ndarray] = {
        "W_xh": X_t.T @ dA_h,
        "b_h": dA_h.sum(axis=0),
    }
    if variant == "textbook":
        RH = R * H_prev
        grads["W_hh"] = RH.T @ dA_h
        dRH = dA_h @ p["W_hh"].T
        dR = dRH * H_prev
        dH_prev = dH_prev + dRH * R
    else:
        U = H_prev @ p["W_hh"] + p["b_hh"]  # the recurrent product the reset gate scales
        dR = dA_h * U
        dU = dA_h * R
        grads["W_hh"] = H_prev.T @ dU
        grads["b_hh"] = dU.sum(axis=0)
        dH_prev = dH_prev + dU @ p["W_hh"].T
    dA_r = dR * R * (1.0 - R)
    dX = dA_h @ p["W_xh"].T
    for g, dA in (("r", dA_r), ("z", dA_z)):
        grads[f"W_x{g}"] = X_t.T @ dA
        grads[f"W_h{g}"] = H_prev.T @ dA
        grads[f"b_{g}"] = dA.sum(axis=0)
        dX = dX + dA @ p[f"W_x{g}"].T
        dH_prev = dH_prev + dA @ p[f"W_h{g}"].T
    grads = {name: grads[name] for name in param_names(variant)}
    grads["X"] = dX
    grads["H_prev"] = dH_prev
    return grads


def gru_forward(
    X: np.ndarray, H0: np.ndarray | None, params: Params, *, variant: str = "textbook"
) -> tuple[np.ndarray, GRUCache]:
    """Run the GRU over a sequence.

    Args:
        X: ``(steps, batch, input_size)``.
        H0: ``(batch, hidden_size)``; ``None`` means zeros.
        params: the parameters of ``variant``.
        variant: ``'textbook'`` or ``'framework'``.

    Returns:
        ``(H_all, cache)``: ``H_all`` is ``(steps, batch, hidden_size)`` (its last row is ``H_T``);
        the cache holds every gate activation (see :class:`GRUCache`).
    """
    input_size, hidden_size = _sizes(params, variant)
    steps, batch = check_sequence(X, input_size)
    dtype = np.result_type(X, params["W_hr"])
    if H0 is None:
        H0 = np.zeros((batch, hidden_size), dtype)
    _expect("H0", expect_float_array("H0", H0), (batch, hidden_size))
    dtype = np.result_type(dtype, H0)
    R, Z, H_tilde, H = (np.empty((steps, batch, hidden_size), dtype) for _ in range(4))
    H_t = H0
    for t in range(steps):
        H_t, gates = gru_step(X[t], H_t, params, variant=variant, return_gates=True)
        R[t], Z[t], H_tilde[t], H[t] = gates["r"], gates["z"], gates["h"], H_t
    return H, GRUCache(X=X, H0=H0, R=R, Z=Z, H_tilde=H_tilde, H=H, params=params, variant=variant)


def gru_backward(dH_all: np.ndarray, cache: GRUCache, dH_T: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Backpropagation through time for :func:`gru_forward`.

    Args:
        dH_all: gradient of the loss w.r.t. ``H_all``, ``(steps, batch, hidden_size)``.
        cache: from :func:`gru_forward`.
        dH_T: optional extra gradient w.r.t. the final state ``H_T``, ``(batch, hidden_size)``.

    Returns:
        One gradient per parameter, plus ``X`` (shape of ``X``) and ``H0`` ``(batch, hidden_size)``.
    """
    params, variant = cache.params, cache.variant
    _, hidden_size = _sizes(params, variant)
    steps, batch, _ = cache.X.shape
    _expect("dH_all", dH_all, (steps, batch, hidden_size))
    dtype = np.result_type(dH_all, cache.H)
    dH_next = np.zeros((batch, hidden_size), dtype=dtype)
    if dH_T is not None:
        _expect("dH_T", dH_T, (batch, hidden_size))
        dH_next = dH_next + dH_T
    names = param_names(variant)
    grads = {name: np.zeros_like(params[name], dtype=np.result_type(params[name], dtype)) for name in names}
    dX = np.zeros(cache.X.shape, dtype=np.result_type(cache.X, dtype))
    for t in reversed(range(steps)):
        H_prev = cache.H[t - 1] if t > 0 else cache.H0
        step = gru_step_backward(dH_all[t] + dH_next, cache.X[t], H_prev, cache.step_gates(t), params, variant=variant)
        for name in names:
            grads[name] += step[name]
        dX[t] = step["X"]
        dH_next = step["H_prev"]
    grads["X"] = dX
    grads["H0"] = dH_next
    return grads
