"""Statistics of LSTM gate activations read from a NumPy forward cache (chapter 3).

:func:`gate_saturation` is the measurement of Karpathy et al. (2015): how often a gate is
nearly closed (< 0.1) or nearly open (> 0.9).  Needs NumPy only.
"""

from __future__ import annotations

import numpy as np

from lstm_course.numpy.lstm import GATE_NAMES_ZH, LSTMCache

__all__ = ["gate_saturation"]


def gate_saturation(cache: LSTMCache, low: float = 0.1, high: float = 0.9) -> dict[str, float]:
    """Fraction of gate values below ``low`` / above ``high``; for the candidate, ``|C̃| > high``.

    Args:
        cache: :func:`lstm_course.numpy.lstm.lstm_forward`'s cache; every step, sample and
            unit counts once.

    Returns:
        Chinese labels (``"遗忘门 <0.1"``, ``"遗忘门 >0.9"``, …, ``"候选记忆元 |C̃|>0.9"``) to
        fractions in ``[0, 1]``.
    """
    out = {}
    for g in ("f", "i", "o"):
        values, name = cache.gates[g], GATE_NAMES_ZH[g]
        out[f"{name} <{low:g}"] = float((values < low).mean())
        out[f"{name} >{high:g}"] = float((values > high).mean())
    out[f"候选记忆元 |C̃|>{high:g}"] = float((np.abs(cache.C_tilde) > high).mean())
    return out
