"""Training throughput of one recurrent layer on random data (chapter 3's speed table).

Chapter 10 measures every implementation with the full harness (:mod:`~lstm_course.experiments.speed`);
this is the small version a page can run in seconds: forward + backward of ``sum(output)``,
timed with :func:`~lstm_course.experiments.speed.time_call`, the device synchronised before
each reading of the clock.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_course.experiments.speed import time_call
from lstm_course.runtime import synchronize

__all__ = ["training_tokens_per_second"]


def training_tokens_per_second(
    module: Any, *, steps: int, batch: int, input_size: int, device: Any = "cpu", repeats: int = 5, warmup: int = 2
) -> float:
    """Median tokens/s (``steps * batch`` per training step) of ``module`` on ``device``.

    Args:
        module: a time-major recurrent layer returning ``(output, state)``, already on
            ``device``.
        steps, batch, input_size: the shape ``(steps, batch, input_size)`` of the random input.
        repeats: timed steps; the median is reported.  ``warmup``: untimed steps first.
    """
    import torch

    X = torch.randn(steps, batch, input_size, device=device)

    def train_step() -> None:
        module.zero_grad(set_to_none=True)
        output, _ = module(X)
        output.sum().backward()

    seconds = time_call(train_step, warmup=warmup, repeats=repeats, sync=lambda: synchronize(device))
    return steps * batch / float(np.median(seconds))
