"""Chronological train/validation/test splits and the rolling origins of walk-forward evaluation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Split", "chronological_split", "rolling_origins"]


@dataclass(frozen=True)
class Split:
    """Three consecutive index ranges ``[0, valid_start)``, ``[valid_start, test_start)``, ``[test_start, stop)``."""

    valid_start: int
    test_start: int
    stop: int

    @property
    def train(self) -> slice:
        return slice(0, self.valid_start)

    @property
    def valid(self) -> slice:
        return slice(self.valid_start, self.test_start)

    @property
    def test(self) -> slice:
        return slice(self.test_start, self.stop)

    def sizes(self) -> tuple[int, int, int]:
        """Number of time steps in train, validation and test."""
        return self.valid_start, self.test_start - self.valid_start, self.stop - self.test_start


def chronological_split(n: int, valid: int, test: int) -> Split:
    """The last ``test`` steps are the test set, the ``valid`` steps before them validation.

    Raises:
        ValueError: when the sizes leave no training data.
    """
    if valid < 1 or test < 1 or valid + test >= n:
        raise ValueError(f"need 1 <= valid, 1 <= test and valid + test < n; got n={n}, valid={valid}, test={test}")
    return Split(n - valid - test, n - test, n)


def rolling_origins(part: slice, horizon: int = 1, step: int = 1) -> np.ndarray:
    """Forecast origins ``t`` inside ``part``: a forecast made at ``t`` sees ``values[:t]`` and
    predicts ``values[t:t + horizon]``, which all lie inside ``part``.  Shape ``(origins,)``."""
    if horizon < 1 or step < 1:
        raise ValueError(f"horizon and step must be >= 1, got {horizon}, {step}")
    return np.arange(part.start, part.stop - horizon + 1, step)
