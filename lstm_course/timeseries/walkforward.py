"""Walk-forward (rolling-origin) evaluation and recursive multi-step forecasting."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["walk_forward", "recursive"]


def walk_forward(
    values: np.ndarray, origins: np.ndarray, forecaster: Callable[[np.ndarray], np.ndarray], horizon: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Forecast from every origin ``t`` with only ``values[:t]`` visible.

    The forecaster receives a read-only copy of the past, so it can neither see nor change the
    future.  Returns ``(forecasts, truth)``, both of shape ``(origins, horizon)``.
    """
    values = np.asarray(values, dtype=float)
    forecasts, truth = [], []
    for t in np.asarray(origins, dtype=int):
        if t < 1 or t + horizon > len(values):
            raise ValueError(f"origin {t} with horizon {horizon} lies outside 1..{len(values)}")
        past = values[:t].copy()
        past.flags.writeable = False
        out = np.asarray(forecaster(past), dtype=float).reshape(-1)
        if out.shape != (horizon,):
            raise ValueError(f"forecaster returned shape {out.shape}, expected ({horizon},)")
        forecasts.append(out)
        truth.append(values[t : t + horizon])
    return np.asarray(forecasts).reshape(-1, horizon), np.asarray(truth).reshape(-1, horizon)


def recursive(one_step: Callable[[np.ndarray], np.ndarray], history: np.ndarray, steps: int) -> np.ndarray:
    """Multi-step forecast by recursion: predict one step, append it, repeat.  Shape ``(steps,)``."""
    extended = list(np.asarray(history, dtype=float))
    out = []
    for _ in range(steps):
        nxt = float(np.asarray(one_step(np.asarray(extended))).reshape(-1)[0])
        out.append(nxt)
        extended.append(nxt)
    return np.asarray(out)
