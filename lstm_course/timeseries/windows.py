"""Input/target windows whose targets stay inside one split."""

from __future__ import annotations

import numpy as np

__all__ = ["make_windows"]


def make_windows(
    values: np.ndarray, part: slice, window: int, horizon: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows for the targets of ``part``.

    The target ``values[t:t + horizon]`` of every window lies inside ``part``; its input
    ``values[t - window:t]`` may reach back before ``part.start`` into *earlier* data (that is
    what a forecaster at time ``t`` has seen), never forward.

    Returns:
        ``inputs`` of shape ``(n, window)``, ``targets`` of shape ``(n, horizon)`` and the
        origins ``t`` of shape ``(n,)``.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"expected values of shape (steps,), got {values.shape}")
    if window < 1 or horizon < 1:
        raise ValueError(f"window and horizon must be >= 1, got {window}, {horizon}")
    start = max(part.start or 0, window)
    stop = min(part.stop if part.stop is not None else len(values), len(values))
    origins = np.arange(start, stop - horizon + 1)
    inputs = np.stack([values[t - window : t] for t in origins]) if len(origins) else np.empty((0, window))
    targets = np.stack([values[t : t + horizon] for t in origins]) if len(origins) else np.empty((0, horizon))
    return inputs, targets, origins
