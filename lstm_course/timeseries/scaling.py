"""Standardisation whose statistics come from the training split only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Standardizer"]


@dataclass(frozen=True)
class Standardizer:
    """``(x - mean) / std`` with ``mean`` and ``std`` of the data it was fitted on."""

    mean: float
    std: float

    @classmethod
    def fit(cls, train: np.ndarray) -> Standardizer:
        """Fit on the training values only (shape ``(n,)``); population standard deviation."""
        train = np.asarray(train, dtype=float)
        std = float(train.std())
        if not np.isfinite(std) or std == 0:
            raise ValueError("cannot standardise: the training values are constant or not finite")
        return cls(float(train.mean()), std)

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype=float) - self.mean) / self.std

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        return np.asarray(scaled, dtype=float) * self.std + self.mean
