"""A deliberately WRONG NumPy LSTM — a teaching counter-example, never use it for anything else.

It reproduces, in code written for this course, the three bugs of a NumPy LSTM that is widely
copied online.  Its weights are separate per gate (``W_xi, W_hi, ..., W_xc, W_hc``), so at first
sight it looks right; chapter 3 shows which check exposes each bug:

1. **One bias shared by all gates.** The parameters are eight weight matrices and a single bias
   ``b`` of shape ``(hidden,)``; an LSTM has one bias per gate (``4h`` numbers, ``nn.LSTM`` even
   ``8h``).  *The shape check* exposes it: loading the parameters into ``nn.LSTM`` with
   :func:`lstm_course.convert.load_lstm_params` fails, naming the missing biases, and the
   parameter count is ``3h`` short of ``4(dh + h^2 + h)``.
2. **``C_{t-1}`` where ``H_{t-1}`` belongs.** Every gate computes
   ``X_t @ W_xg + C_{t-1} @ W_hg + b``.  ``C`` and ``H`` have the same shape, so nothing raises;
   *the comparison with* ``nn.LSTM`` (same weights, the shared bias copied into every gate)
   exposes it: the outputs differ far beyond rounding.
3. **A backward pass that does not run.** :func:`buggy_lstm_backward` multiplies by the weights
   where their transposes belong (``dZ @ W_xg`` instead of ``dZ @ W_xg.T``); whenever
   ``input_size != hidden_size`` it raises ``ValueError`` at the first step, so *the gradient
   check*, which needs the gradients, fails at once.

The signatures and the cache are those of :mod:`lstm_course.numpy.lstm`, so the same checks run
on both.
"""

from __future__ import annotations

import numpy as np

from lstm_course.numpy.common import sigmoid
from lstm_course.numpy.lstm import GATES, LSTMCache, State

__all__ = [
    "BUGGY_PARAM_NAMES",
    "buggy_params",
    "as_lstm_params",
    "buggy_lstm_step",
    "buggy_lstm_forward",
    "buggy_lstm_backward",
]

#: The nine arrays of the wrong LSTM: two weight matrices per gate and ONE bias.
BUGGY_PARAM_NAMES = tuple(f"W_{k}{g}" for g in GATES for k in ("x", "h")) + ("b",)


def buggy_params(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The wrong LSTM's parameters from a correct parameter dict: the same eight weight matrices,
    and ``b_i`` as the one bias ``b`` every gate shares (``(hidden,)``)."""
    out = {name: np.array(params[name]) for name in BUGGY_PARAM_NAMES if name != "b"}
    out["b"] = np.array(params["b_i"])
    return out


def as_lstm_params(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What the wrong LSTM's author meant, as the twelve arrays of a real LSTM: the shared bias
    copied into ``b_i, b_f, b_o, b_c``.  ``nn.LSTM`` loaded with these is the comparison that
    leaves bug 2 (``C_{t-1}`` for ``H_{t-1}``) as the only difference."""
    out = {name: np.array(value) for name, value in params.items() if name != "b"}
    for g in GATES:
        out[f"b_{g}"] = np.array(params["b"])
    return out


def _sizes(params: dict[str, np.ndarray]) -> tuple[int, int]:
    missing = [name for name in BUGGY_PARAM_NAMES if name not in params]
    if missing:
        raise KeyError(f"buggy LSTM parameters need {missing}; got keys {sorted(params)}")
    input_size, hidden_size = np.shape(params["W_xi"])
    return input_size, hidden_size


def buggy_lstm_step(
    X_t: np.ndarray, state: State, params: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One WRONG step: each gate reads ``C_{t-1}`` instead of ``H_{t-1}``, all add the same ``b``.

    Args:
        X_t: ``(batch, input_size)``.
        state: ``(H_prev, C_prev)``, each ``(batch, hidden_size)``.

    Returns:
        ``(H_t, C_t, gates)`` with the gate dict ``{"i", "f", "o", "c"}``.
    """
    _, _ = _sizes(params)
    H_prev, C_prev = state
    del H_prev  # BUG 2: the hidden state is never read

    def pre(g: str) -> np.ndarray:
        return X_t @ params[f"W_x{g}"] + C_prev @ params[f"W_h{g}"] + params["b"]  # BUG 2 + 1

    I, F, O, C_tilde = sigmoid(pre("i")), sigmoid(pre("f")), sigmoid(pre("o")), np.tanh(pre("c"))
    C_t = F * C_prev + I * C_tilde
    H_t = O * np.tanh(C_t)
    return H_t, C_t, {"i": I, "f": F, "o": O, "c": C_tilde}


def buggy_lstm_forward(
    X: np.ndarray, state: State | None, params: dict[str, np.ndarray]
) -> tuple[np.ndarray, State, LSTMCache]:
    """The WRONG forward pass over ``X`` ``(steps, batch, input_size)``; returns
    ``(H_all, (H_T, C_T), cache)`` like :func:`lstm_course.numpy.lstm.lstm_forward`."""
    _, hidden_size = _sizes(params)
    steps, batch, _ = np.shape(X)
    if state is None:
        state = (np.zeros((batch, hidden_size)), np.zeros((batch, hidden_size)))
    H0, C0 = state
    names = ("I", "F", "O", "C_tilde", "C", "tanh_C", "H")
    arrays = {name: np.empty((steps, batch, hidden_size)) for name in names}
    H_t, C_t = H0, C0
    for t in range(steps):
        H_t, C_t, gates = buggy_lstm_step(X[t], (H_t, C_t), params)
        arrays["I"][t], arrays["F"][t] = gates["i"], gates["f"]
        arrays["O"][t], arrays["C_tilde"][t] = gates["o"], gates["c"]
        arrays["C"][t], arrays["H"][t], arrays["tanh_C"][t] = C_t, H_t, np.tanh(C_t)
    cache = LSTMCache(X=X, H0=H0, C0=C0, params=params, **arrays)
    return arrays["H"], (H_t, C_t), cache


def buggy_lstm_backward(
    dH_all: np.ndarray, cache: LSTMCache, dH_T: np.ndarray | None = None, dC_T: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """A backward pass that does NOT run (bug 3): weights where their transposes belong.

    With ``input_size != hidden_size`` the first ``dZ @ W_xg`` raises ``ValueError``; the
    signature is that of :func:`lstm_course.numpy.lstm.lstm_backward`.
    """
    params = cache.params
    steps, batch, _ = np.shape(cache.X)
    _, hidden_size = _sizes(params)
    dH_next = np.zeros((batch, hidden_size)) if dH_T is None else np.asarray(dH_T, dtype=float)
    dC_next = np.zeros((batch, hidden_size)) if dC_T is None else np.asarray(dC_T, dtype=float)
    grads = {name: np.zeros_like(params[name], dtype=float) for name in BUGGY_PARAM_NAMES}
    dX = np.zeros(np.shape(cache.X))
    for t in reversed(range(steps)):
        C_prev = cache.C[t - 1] if t > 0 else cache.C0
        I, F, O, C_tilde = cache.I[t], cache.F[t], cache.O[t], cache.C_tilde[t]
        dH = dH_all[t] + dH_next
        dC = dC_next + dH * O * (1 - cache.tanh_C[t] ** 2)
        dZ = {
            "i": dC * C_tilde * I * (1 - I),
            "f": dC * C_prev * F * (1 - F),
            "o": dH * cache.tanh_C[t] * O * (1 - O),
            "c": dC * I * (1 - C_tilde**2),
        }
        dC_prev = dC * F
        for g in GATES:
            grads[f"W_x{g}"] += dZ[g].T @ cache.X[t]  # BUG 3: (h, d), not (d, h)
            grads[f"W_h{g}"] += dZ[g].T @ C_prev
            grads["b"] += dZ[g].sum(axis=0)
            dX[t] += dZ[g] @ params[f"W_x{g}"]  # BUG 3: needs W_xg.T
            dC_prev = dC_prev + dZ[g] @ params[f"W_h{g}"]
        dH_next, dC_next = np.zeros_like(dH), dC_prev
    return {**grads, "X": dX, "H0": dH_next, "C0": dC_next}
