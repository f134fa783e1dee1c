"""An LSTM in pure NumPy: forward with every gate kept, and backpropagation through time by hand.

One step (d2l row-vector convention, parameter names as in :mod:`lstm_course`)::

    I_t  = sigmoid(X_t @ W_xi + H_{t-1} @ W_hi + b_i)      # input gate               (batch, hidden)
    F_t  = sigmoid(X_t @ W_xf + H_{t-1} @ W_hf + b_f)      # forget gate
    O_t  = sigmoid(X_t @ W_xo + H_{t-1} @ W_ho + b_o)      # output gate
    C~_t = tanh(X_t @ W_xc + H_{t-1} @ W_hc + b_c)         # candidate memory cell
    C_t  = F_t * C_{t-1} + I_t * C~_t                      # memory cell (cell state)
    H_t  = O_t * tanh(C_t)                                 # hidden state

Shapes: ``X`` is ``(steps, batch, input_size)``; ``H0`` and ``C0`` are ``(batch, hidden_size)``;
``W_xg`` is ``(input_size, hidden_size)``, ``W_hg`` is ``(hidden_size, hidden_size)`` and ``b_g``
is ``(hidden_size,)`` for ``g`` in ``i, f, o, c``.  A gate dict uses the same letters:
``{"i": I_t, "f": F_t, "o": O_t, "c": C~_t}`` (``"c"`` is the *candidate*, not ``C_t``).
:mod:`lstm_course.convert` maps the parameter dict to and from ``torch.nn.LSTM`` and Keras.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from lstm_course.layout import LSTM_GATES, LSTM_PARAM_NAMES
from lstm_course.numpy.common import check_sequence, expect_float_array, expect_float_dtype, gate_sizes, sigmoid
from lstm_course.numpy.common import check_state_pair as _check_state
from lstm_course.numpy.common import expect_shape as _expect
from lstm_course.numpy.init import make_rng, uniform_gate_params, uniform_scale

__all__ = [
    "GATES",
    "GATE_NAMES_ZH",
    "PARAM_NAMES",
    "LSTMCache",
    "sigmoid",
    "init_lstm_params",
    "lstm_step",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
]

Params = Mapping[str, np.ndarray]
State = tuple[np.ndarray, np.ndarray]

#: Gate letters in d2l's order: input, forget, output, candidate memory cell.
GATES = LSTM_GATES
#: The twelve parameter names ``W_xi, W_hi, b_i, W_xf, ..., b_c``.
PARAM_NAMES = LSTM_PARAM_NAMES
#: Chinese names of the gates, used in plots and self-check messages.
GATE_NAMES_ZH = {"i": "输入门", "f": "遗忘门", "o": "输出门", "c": "候选记忆元"}


@dataclass
class LSTMCache:
    """Everything :func:`lstm_forward` computed, kept for :func:`lstm_backward` and for plots.

    Attributes:
        X: inputs ``(steps, batch, input_size)``.
        H0, C0: initial state, each ``(batch, hidden_size)``.
        I, F, O: input, forget and output gates, each ``(steps, batch, hidden_size)``.
        C_tilde: candidate memory cells ``(steps, batch, hidden_size)``.
        C: memory cells ``C_1 .. C_T`` ``(steps, batch, hidden_size)``.
        tanh_C: ``tanh(C)``, same shape.
        H: hidden states ``H_1 .. H_T``, same shape.
        params: the parameter dict of the forward pass.
    """

    X: np.ndarray
    H0: np.ndarray
    C0: np.ndarray
    I: np.ndarray
    F: np.ndarray
    O: np.ndarray
    C_tilde: np.ndarray
    C: np.ndarray
    tanh_C: np.ndarray
    H: np.ndarray
    params: Params

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """``{"i": I, "f": F, "o": O, "c": C_tilde}``, each ``(steps, batch, hidden_size)``."""
        return {"i": self.I, "f": self.F, "o": self.O, "c": self.C_tilde}

    def step_gates(self, t: int) -> dict[str, np.ndarray]:
        """The gate dict of step ``t`` (0-based), each ``(batch, hidden_size)``."""
        return {g: value[t] for g, value in self.gates.items()}


def _sizes(params: Params) -> tuple[int, int]:
    """Validate the twelve parameters and return ``(input_size, hidden_size)``."""
    return gate_sizes(params, GATES, "LSTM", PARAM_NAMES)


def init_lstm_params(
    input_size: int,
    hidden_size: int,
    *,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    scale: float | None = None,
    forget_bias: float | None = 1.0,
    dtype: type = np.float64,
) -> dict[str, np.ndarray]:
    """Random LSTM parameters ``W_xi, W_hi, b_i, ..., W_xc, W_hc, b_c`` (see the module docstring).

    Every weight and bias is drawn from ``U(-scale, scale)`` with ``scale = 1/sqrt(hidden_size)``
    by default (the rule of ``torch.nn.LSTM``), except that every entry of ``b_f`` is set to
    ``forget_bias`` (``None`` draws ``b_f`` like the other biases).  Pass ``seed`` or ``rng``,
    not both.
    """
    dtype = expect_float_dtype(dtype)
    rng = make_rng(seed, rng)
    params = uniform_gate_params(GATES, input_size, hidden_size, rng, uniform_scale(hidden_size, scale), dtype)
    if forget_bias is not None:
        params["b_f"] = np.full(hidden_size, forget_bias, dtype=dtype)
    return params


def lstm_step(
    X_t: np.ndarray, state: State, params: Params, *, return_gates: bool = False
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One time step.

    Args:
        X_t: ``(batch, input_size)``.
        state: ``(H_prev, C_prev)``, each ``(batch, hidden_size)``.
        return_gates: also return the gate dict ``{"i", "f", "o", "c"}``.

    Returns:
        ``(H_t, C_t)`` or ``(H_t, C_t, gates)``; every array is ``(batch, hidden_size)``.
    """
    input_size, hidden_size = _sizes(params)
    _expect("X_t", expect_float_array("X_t", X_t), (None, input_size))
    H_prev, C_prev = _check_state(state, X_t.shape[0], hidden_size)

    def pre(g: str) -> np.ndarray:
        return X_t @ params[f"W_x{g}"] + H_prev @ params[f"W_h{g}"] + params[f"b_{g}"]

    gates = {"i": sigmoid(pre("i")), "f": sigmoid(pre("f")), "o": sigmoid(pre("o")), "c": np.tanh(pre("c"))}
    C_t = gates["f"] * C_prev + gates["i"] * gates["c"]
    H_t = gates["o"] * np.tanh(C_t)
    return (H_t, C_t, gates) if return_gates else (H_t, C_t)


def lstm_step_backward(
    dH_t: np.ndarray,
    dC_t: np.ndarray,
    X_t: np.ndarray,
    state: State,
    gates: Mapping[str, np.ndarray],
    C_t: np.ndarray,
    params: Params,
) -> dict[str, np.ndarray]:
    """Backward pass of :func:`lstm_step`.

    Args:
        dH_t: gradient of the loss w.r.t. ``H_t``, ``(batch, hidden_size)``.
        dC_t: gradient w.r.t. ``C_t`` arriving from *later* steps (not through ``H_t``),
            ``(batch, hidden_size)``.
        X_t, state: the step's inputs ``X_t`` and ``(H_prev, C_prev)``.
        gates: the step's gate dict ``{"i", "f", "o", "c"}`` from :func:`lstm_step`.
        C_t: the step's new memory cell.

    Returns:
        This step's contribution to the twelve parameter gradients, and ``X``
        ``(batch, input_size)``, ``H_prev`` and ``C_prev`` ``(batch, hidden_size)``.
    """
    input_size, hidden_size = _sizes(params)
    _expect("X_t", X_t, (None, input_size))
    batch = X_t.shape[0]
    H_prev, C_prev = _check_state(state, batch, hidden_size)
    for name, array in (("dH_t", dH_t), ("dC_t", dC_t), ("C_t", C_t), *((f"gates[{g!r}]", gates[g]) for g in GATES)):
        _expect(name, array, (batch, hidden_size))
    I, F, O, C_tilde = gates["i"], gates["f"], gates["o"], gates["c"]
    tanh_C = np.tanh(C_t)
    dC = dC_t + dH_t * O * (1.0 - tanh_C**2)  # both routes into C_t: later steps and H_t
    d_pre = {  # through each gate's nonlinearity
        "i": dC * C_tilde * I * (1.0 - I),
        "f": dC * C_prev * F * (1.0 - F),
        "o": dH_t * tanh_C * O * (1.0 - O),
        "c": dC * I * (1.0 - C_tilde**2),
    }
    grads: dict[str, np.ndarray] = {}
    dX = np.zeros_like(X_t, dtype=np.result_type(X_t, dC))
    dH_prev = np.zeros_like(H_prev, dtype=np.result_type(H_prev, dC))
    for g, dZ in d_pre.items():
        grads[f"W_x{g}"] = X_t.T @ dZ
        grads[f"W_h{g}"] = H_prev.T @ dZ
        grads[f"b_{g}"] = dZ.sum(axis=0)
        dX += dZ @ params[f"W_x{g}"].T
        dH_prev += dZ @ params[f"W_h{g}"].T
    grads["X"] = dX
    grads["H_prev"] = dH_prev
    grads["C_prev"] = dC * F  # the additive path: dC_t/dC_{t-1} = diag(F_t)
    return grads


def lstm_forward(X: np.ndarray, state: State | None, params: Params) -> tuple[np.ndarray, State, LSTMCache]:
    """Run the LSTM over a sequence.

    Args:
        X: ``(steps, batch, input_size)``.
        state: ``(H0, C0)``, each ``(batch, hidden_size)``; ``None`` means zeros.
        params: the twelve parameters.

    Returns:
        ``(H_all, (H_T, C_T), cache)``: ``H_all`` is ``(steps, batch, hidden_size)``; the cache
        holds every gate activation (see :class:`LSTMCache`).
    """
    input_size, hidden_size = _sizes(params)
    steps, batch = check_sequence(X, input_size)
    dtype = np.result_type(X, params["W_hi"])
    if state is None:
        state = (np.zeros((batch, hidden_size), dtype), np.zeros((batch, hidden_size), dtype))
    H0, C0 = _check_state(state, batch, hidden_size)
    dtype = np.result_type(dtype, H0, C0)
    arrays = {
        name: np.empty((steps, batch, hidden_size), dtype=dtype)
        for name in ("I", "F", "O", "C_tilde", "C", "tanh_C", "H")
    }
    H_t, C_t = H0, C0
    for t in range(steps):
        H_t, C_t, gates = lstm_step(X[t], (H_t, C_t), params, return_gates=True)
        arrays["I"][t], arrays["F"][t], arrays["O"][t] = gates["i"], gates["f"], gates["o"]
        arrays["C_tilde"][t], arrays["C"][t], arrays["H"][t] = gates["c"], C_t, H_t
        arrays["tanh_C"][t] = np.tanh(C_t)
    cache = LSTMCache(X=X, H0=H0, C0=C0, params=params, **arrays)
    return arrays["H"], (H_t, C_t), cache


def lstm_backward(
    dH_all: np.ndarray,
    cache: LSTMCache,
    dH_T: np.ndarray | None = None,
    dC_T: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Backpropagation through time for :func:`lstm_forward`.

    Args:
        dH_all: gradient of the loss w.r.t. ``H_all``, ``(steps, batch, hidden_size)``.
        cache: from :func:`lstm_forward`.
        dH_T, dC_T: optional extra gradients w.r.t. the final state ``(H_T, C_T)``,
            each ``(batch, hidden_size)`` (e.g. when the final state feeds a classifier).

    Returns:
        One gradient per parameter (the twelve names), plus ``X`` (shape of ``X``), ``H0`` and
        ``C0`` (each ``(batch, hidden_size)``).
    """
    params = cache.params
    _, hidden_size = _sizes(params)
    steps, batch, _ = cache.X.shape
    _expect("dH_all", dH_all, (steps, batch, hidden_size))
    dtype = np.result_type(dH_all, cache.H)
    dH_next = np.zeros((batch, hidden_size), dtype=dtype)
    dC_next = np.zeros((batch, hidden_size), dtype=dtype)
    if dH_T is not None:
        _expect("dH_T", dH_T, (batch, hidden_size))
        dH_next = dH_next + dH_T
    if dC_T is not None:
        _expect("dC_T", dC_T, (batch, hidden_size))
        dC_next = dC_next + dC_T
    grads = {name: np.zeros_like(params[name], dtype=np.result_type(params[name], dtype)) for name in PARAM_NAMES}
    dX = np.zeros(cache.X.shape, dtype=np.result_type(cache.X, dtype))
    for t in reversed(range(steps)):
        state = (cache.H[t - 1], cache.C[t - 1]) if t > 0 else (cache.H0, cache.C0)
        step = lstm_step_backward(
            dH_all[t] + dH_next, dC_next, cache.X[t], state, cache.step_gates(t), cache.C[t], params
        )
        for name in PARAM_NAMES:
            grads[name] += step[name]
        dX[t] = step["X"]
        dH_next, dC_next = step["H_prev"], step["C_prev"]
    grads["X"] = dX
    grads["H0"] = dH_next
    grads["C0"] = dC_next
    return grads
