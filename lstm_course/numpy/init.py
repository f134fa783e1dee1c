"""Random initialisation shared by the NumPy cells: the ``U(±1/sqrt(hidden))`` rule of ``torch.nn``."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["make_rng", "uniform_scale", "uniform_gate_params"]


def make_rng(seed: int | None, rng: np.random.Generator | None) -> np.random.Generator:
    """The generator to draw from: ``rng`` if given, else a new one from ``seed`` (passing both is an error)."""
    if seed is not None and rng is not None:
        raise ValueError("pass seed or rng, not both")
    return rng if rng is not None else np.random.default_rng(seed)


def uniform_scale(hidden_size: int, scale: float | None) -> float:
    """``scale`` if given, else ``1/sqrt(hidden_size)`` (the rule of ``torch.nn.RNN/LSTM/GRU``)."""
    return 1.0 / np.sqrt(hidden_size) if scale is None else float(scale)


def uniform_gate_params(
    gates: Iterable[str], input_size: int, hidden_size: int, rng: np.random.Generator, scale: float, dtype: type
) -> dict[str, np.ndarray]:
    """``W_xg`` ``(input, hidden)``, ``W_hg`` ``(hidden, hidden)``, ``b_g`` ``(hidden,)`` for each gate ``g``, from ``U(-scale, scale)``.

    Raises:
        ValueError: a size below 1.
    """
    if min(input_size, hidden_size) < 1:
        raise ValueError(f"sizes must be positive, got input_size={input_size}, hidden_size={hidden_size}")
    from lstm_course.numpy.common import expect_float_dtype

    dtype = expect_float_dtype(dtype)
    params = {}
    for g in gates:
        params[f"W_x{g}"] = rng.uniform(-scale, scale, size=(input_size, hidden_size)).astype(dtype)
        params[f"W_h{g}"] = rng.uniform(-scale, scale, size=(hidden_size, hidden_size)).astype(dtype)
        params[f"b_{g}"] = rng.uniform(-scale, scale, size=(hidden_size,)).astype(dtype)
    return params
