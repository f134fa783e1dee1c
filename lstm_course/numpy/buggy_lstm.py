"""A deliberately WRONG NumPy LSTM — a teaching counter-example, never use it for anything else.

It reproduces mistakes found in NumPy LSTMs that circulate online, and chapter 3 shows how the
gradient check and an equivalence test against ``torch.nn.LSTM`` expose them:

1. **One weight matrix for three gates.** The input, forget and output gates all compute
   ``sigmoid(X_t @ W_xi + H_{t-1} @ W_hi + b)``, so ``I_t = F_t = O_t`` at every step and
   ``W_xf, W_hf, W_xo, W_ho`` are never used.
2. **One bias for all four gates.** ``b_i`` is added to every gate, the candidate included;
   ``b_f, b_o, b_c`` are never used.
3. **A backward pass that is not the derivative of this forward pass.** It is written as if the
   gates had their own weights (so it returns non-zero gradients for parameters the forward
   pass never reads, and too little for the shared ones), and it forgets the derivative of
   ``tanh`` on the way from ``H_t`` into ``C_t`` (``dC = dH * O`` instead of
   ``dH * O * (1 - tanh(C)**2)``).

The signatures and the cache are those of :mod:`lstm_course.numpy.lstm`, so the same checks run
on both.  :func:`tied_params` shows what the forward pass really computes: a correct LSTM whose
three gates share one weight pair and whose four gates share one bias; :func:`tied_grads` turns
that LSTM's (correct) gradients into the true gradients of the buggy forward pass — a backward
pass that *does* pass the gradient check, although the forward pass is still not an LSTM.
"""
from __future__ import annotations

import numpy as np

from lstm_course.numpy.lstm import (
    GATES, PARAM_NAMES, LSTMCache, Params, State, _check_state, _expect, _sizes, sigmoid,
)

__all__ = ["buggy_lstm_step", "buggy_lstm_forward", "buggy_lstm_backward", "tied_params", "tied_grads"]


def buggy_lstm_step(X_t: np.ndarray, state: State, params: Params
                    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One WRONG step: ``I = F = O`` from the shared ``W_xi, W_hi``; ``b_i`` in every gate.

    Returns:
        ``(H_t, C_t, gates)`` with the gate dict ``{"i", "f", "o", "c"}`` as in
        :func:`lstm_course.numpy.lstm.lstm_step`.
    """
    input_size, hidden_size = _sizes(params)
    _expect("X_t", X_t, (None, input_size))
    H_prev, C_prev = _check_state(state, X_t.shape[0], hidden_size)
    shared = sigmoid(X_t @ params["W_xi"] + H_prev @ params["W_hi"] + params["b_i"])  # BUG 1 + 2
    C_tilde = np.tanh(X_t @ params["W_xc"] + H_prev @ params["W_hc"] + params["b_i"])  # BUG 2
    C_t = shared * C_prev + shared * C_tilde
    H_t = shared * np.tanh(C_t)
    return H_t, C_t, {"i": shared, "f": shared, "o": shared, "c": C_tilde}


def buggy_lstm_forward(X: np.ndarray, state: State | None, params: Params
                       ) -> tuple[np.ndarray, State, LSTMCache]:
    """The WRONG forward pass over a sequence; same signature and cache as ``lstm_forward``."""
    input_size, hidden_size = _sizes(params)
    _expect("X", X, (None, None, input_size))
    steps, batch, _ = X.shape
    if state is None:
        state = (np.zeros((batch, hidden_size)), np.zeros((batch, hidden_size)))
    H0, C0 = _check_state(state, batch, hidden_size)
    arrays = {name: np.empty((steps, batch, hidden_size), dtype=np.result_type(X, H0, params["W_hi"]))
              for name in ("I", "F", "O", "C_tilde", "C", "tanh_C", "H")}
    H_t, C_t = H0, C0
    for t in range(steps):
        H_t, C_t, gates = buggy_lstm_step(X[t], (H_t, C_t), params)
        arrays["I"][t], arrays["F"][t], arrays["O"][t] = gates["i"], gates["f"], gates["o"]
        arrays["C_tilde"][t], arrays["C"][t], arrays["H"][t] = gates["c"], C_t, H_t
        arrays["tanh_C"][t] = np.tanh(C_t)
    return arrays["H"], (H_t, C_t), LSTMCache(X=X, H0=H0, C0=C0, params=params, **arrays)


def buggy_lstm_backward(dH_all: np.ndarray, cache: LSTMCache, dH_T: np.ndarray | None = None,
                        dC_T: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """A backward pass that is NOT the derivative of :func:`buggy_lstm_forward` (see the module docstring).

    Same signature and keys as :func:`lstm_course.numpy.lstm.lstm_backward`.
    """
    params = cache.params
    steps, batch, _ = cache.X.shape
    _, hidden_size = _sizes(params)
    _expect("dH_all", dH_all, (steps, batch, hidden_size))
    dH_next = np.zeros((batch, hidden_size)) if dH_T is None else np.array(dH_T, dtype=float)
    dC_next = np.zeros((batch, hidden_size)) if dC_T is None else np.array(dC_T, dtype=float)
    grads = {name: np.zeros_like(params[name], dtype=float) for name in PARAM_NAMES}
    dX = np.zeros(cache.X.shape)
    for t in reversed(range(steps)):
        H_prev, C_prev = (cache.H[t - 1], cache.C[t - 1]) if t > 0 else (cache.H0, cache.C0)
        dH = dH_all[t] + dH_next
        I, F, O, C_tilde = cache.I[t], cache.F[t], cache.O[t], cache.C_tilde[t]
        dC = dC_next + dH * O                                  # BUG 3: tanh'(C_t) forgotten
        d_pre = {"i": dC * C_tilde * I * (1 - I), "f": dC * C_prev * F * (1 - F),
                 "o": dH * cache.tanh_C[t] * O * (1 - O), "c": dC * I * (1 - C_tilde**2)}
        dX_t, dH_prev = np.zeros_like(cache.X[t]), np.zeros_like(H_prev)
        for g in GATES:                                        # BUG 3: as if every gate had its own weights
            grads[f"W_x{g}"] += cache.X[t].T @ d_pre[g]
            grads[f"W_h{g}"] += H_prev.T @ d_pre[g]
            grads[f"b_{g}"] += d_pre[g].sum(axis=0)
            dX_t += d_pre[g] @ params[f"W_x{g}"].T
            dH_prev += d_pre[g] @ params[f"W_h{g}"].T
        dX[t] = dX_t
        dH_next, dC_next = dH_prev, dC * F
    return {**grads, "X": dX, "H0": dH_next, "C0": dC_next}


def tied_params(params: Params) -> dict[str, np.ndarray]:
    """The parameters of a *correct* LSTM that computes exactly what :func:`buggy_lstm_forward` computes.

    ``W_xf = W_xo = W_xi``, ``W_hf = W_ho = W_hi`` and ``b_f = b_o = b_c = b_i``; ``W_xc`` and
    ``W_hc`` are kept.  ``lstm_forward(X, state, tied_params(p))`` equals
    ``buggy_lstm_forward(X, state, p)``: the buggy cell is an LSTM with one gate instead of three.
    """
    _sizes(params)
    tied = {name: np.array(params[name]) for name in PARAM_NAMES}
    for g in ("f", "o"):
        tied[f"W_x{g}"], tied[f"W_h{g}"] = np.array(params["W_xi"]), np.array(params["W_hi"])
    for g in ("f", "o", "c"):
        tied[f"b_{g}"] = np.array(params["b_i"])
    return tied


def tied_grads(grads: Params) -> dict[str, np.ndarray]:
    """The true gradients of :func:`buggy_lstm_forward`, from the gradients of the tied LSTM.

    Args:
        grads: :func:`lstm_course.numpy.lstm.lstm_backward` of ``lstm_forward(X, state,
            tied_params(p))`` (twelve parameters plus ``X``, ``H0``, ``C0``).

    Returns:
        Same keys.  A shared parameter collects the gradients of every gate that uses it
        (``W_xi`` gets those of ``W_xi, W_xf, W_xo``; ``b_i`` those of all four biases); the
        parameters the buggy forward pass never reads get zeros.
    """
    out = {name: np.array(value) for name, value in grads.items()}
    out["W_xi"] = grads["W_xi"] + grads["W_xf"] + grads["W_xo"]
    out["W_hi"] = grads["W_hi"] + grads["W_hf"] + grads["W_ho"]
    out["b_i"] = grads["b_i"] + grads["b_f"] + grads["b_o"] + grads["b_c"]
    for name in ("W_xf", "W_hf", "b_f", "W_xo", "W_ho", "b_o", "b_c"):
        out[name] = np.zeros_like(grads[name])
    return out
