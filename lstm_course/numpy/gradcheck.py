"""Finite-difference gradient checking (centered differences, float64).

The relative error reported for one array is::

    max|a - n| / max(1e-8, max(|a| + |n|))

where ``a`` is the analytic gradient and ``n`` the numerical one; the maxima run over all
elements of the array.  Values around 1e-9 mean the backward pass is right; anything above
1e-5 means it is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``max|a-n| / max(1e-8, max(|a|+|n|))`` over all elements (0.0 for empty arrays)."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"shape mismatch: analytic {a.shape} vs numeric {n.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - n)) / max(1e-8, float(np.max(np.abs(a) + np.abs(n)))))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Centered-difference gradient of the scalar ``f()`` with respect to array ``x``.

    ``x`` is perturbed in place, one element at a time, and restored afterwards, so ``f``
    must read ``x`` (not a copy of it).  Returns an array of ``x``'s shape.
    """
    if x.dtype != np.float64:
        raise TypeError(f"gradient checks need float64 arrays, got {x.dtype}")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        idx = it.multi_index
        original = x[idx]
        x[idx] = original + eps
        plus = f()
        x[idx] = original - eps
        minus = f()
        x[idx] = original
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(
    loss: Callable[[], float],
    arrays: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    eps: float = 1e-6,
) -> dict[str, float]:
    """Compare analytic gradients with finite differences for every named array.

    Args:
        loss: computes the scalar loss from the *current* contents of ``arrays``.
        arrays: name -> float64 array that ``loss`` reads (perturbed in place, then restored).
        analytic: name -> gradient of the loss w.r.t. that array (same shapes).

    Returns:
        name -> relative error (see the module docstring).
    """
    missing = set(arrays) - set(analytic)
    if missing:
        raise KeyError(f"no analytic gradient for: {', '.join(sorted(missing))}")
    return {name: relative_error(analytic[name], numerical_gradient(loss, arrays[name], eps)) for name in arrays}


def format_report(errors: Mapping[str, float], tolerance: float = 1e-7) -> str:
    """A small table of relative errors with ✓/✗ against ``tolerance``."""
    width = max((len(k) for k in errors), default=4)
    lines = [f"{'参数'.ljust(width)}  相对误差    通过(≤{tolerance:g})"]
    for name, err in errors.items():
        lines.append(f"{name.ljust(width)}  {err:.2e}    {'✓' if err <= tolerance else '✗'}")
    return "\n".join(lines)
