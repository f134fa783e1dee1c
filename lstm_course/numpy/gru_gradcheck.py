"""The gradient check of chapter 5: the NumPy GRU's BPTT against centred differences."""

from __future__ import annotations

import numpy as np

from lstm_course.numpy.gradcheck import gradcheck
from lstm_course.numpy.gru import gru_backward, gru_forward, init_gru_params

__all__ = ["gru_gradcheck"]


def gru_gradcheck(
    variant: str = "textbook", *, steps: int = 5, batch: int = 3, d: int = 3, h: int = 4, seed: int = 0
) -> dict[str, float]:
    """Relative error of :func:`~lstm_course.numpy.gru.gru_backward` for every array.

    The loss reads every hidden state and the last one through random weights,
    ``L = Σ_t <W_all[t], H_t> + <W_T, H_T>``; the arrays checked are the parameters of
    ``variant``, the input ``X`` ``(steps, batch, d)`` and the initial state ``H0``
    ``(batch, h)``, in float64.

    Returns:
        ``{name: relative error}`` (see :func:`lstm_course.numpy.gradcheck.gradcheck`).
    """
    rng = np.random.default_rng(seed)
    params = init_gru_params(d, h, variant=variant, rng=rng, scale=0.8)
    X = rng.standard_normal((steps, batch, d))
    H0 = rng.uniform(-0.8, 0.8, (batch, h))
    w_all = rng.standard_normal((steps, batch, h))
    w_T = rng.standard_normal((batch, h))

    def loss() -> float:
        H_all, _ = gru_forward(X, H0, params, variant=variant)
        return float((w_all * H_all).sum() + (w_T * H_all[-1]).sum())

    _, cache = gru_forward(X, H0, params, variant=variant)
    analytic = gru_backward(w_all, cache, dH_T=w_T)
    return gradcheck(loss, {**params, "X": X, "H0": H0}, analytic)
