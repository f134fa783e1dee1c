"""The factors of ``∂h_T/∂h_1`` in a NumPy tanh RNN, one summary per spectral radius (chapter 2).

:func:`step_factors` runs :func:`lstm_course.numpy.rnn.rnn_forward` with ``W_hh`` scaled to a
spectral radius and summarises the step Jacobians ``J_k = diag(1 - h_k^2) W_hh^T``: their norms,
the mean ``tanh'``, and the measured per-step rate of the whole product.  Needs NumPy only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lstm_course.numpy.rnn import (
    rnn_forward,
    scale_spectral_radius,
    spectral_radius,
    step_jacobians,
)

__all__ = ["step_factors"]


def step_factors(base: Mapping[str, np.ndarray], X: np.ndarray, radius: float) -> dict[str, float]:
    """Summaries of the step Jacobians of an RNN whose ``W_hh`` has spectral radius ``radius``.

    Args:
        base: RNN parameters (:func:`lstm_course.numpy.rnn.init_rnn_params`); ``W_hh`` is
            rescaled, the rest is kept.
        X: inputs ``(steps, batch, input)``; the initial state is zero.
        radius: the spectral radius ``ρ`` of the rescaled ``W_hh``.

    Returns:
        ``radius`` (measured), ``w_norm`` (``‖W_hh‖₂``), ``j_norm`` (geometric mean of
        ``‖J_k‖₂``), ``mean_slope`` (mean ``tanh'``), ``rho_slope`` (``ρ × mean tanh'``) and
        ``rate``: ``‖∂h_T/∂h_1‖₂^{1/(T-1)}``, the measured per-step factor (geometric mean over
        the batch).
    """
    steps, batch, _ = X.shape
    hidden = base["W_hh"].shape[0]
    params = dict(base, W_hh=scale_spectral_radius(base["W_hh"], radius))
    _, cache = rnn_forward(X, np.zeros((batch, hidden)), params)
    J = step_jacobians(cache)  # (steps, batch, hidden, hidden)
    product = np.broadcast_to(np.eye(hidden), (batch, hidden, hidden))
    for k in range(steps - 1, 0, -1):  # dh_T/dh_1 = J_T ... J_2
        product = product @ J[k]
    norms = np.linalg.norm(product, 2, axis=(1, 2))
    rate = float(np.exp(np.mean(np.log(norms)) / (steps - 1)))
    mean_slope = float(np.mean(1 - cache.H**2))
    j_norm = float(np.exp(np.mean(np.log(np.linalg.norm(J, 2, axis=(2, 3))))))
    return {
        "radius": float(spectral_radius(params["W_hh"])),
        "w_norm": float(np.linalg.norm(params["W_hh"], 2)),
        "j_norm": j_norm,
        "mean_slope": mean_slope,
        "rho_slope": radius * mean_slope,
        "rate": rate,
    }
