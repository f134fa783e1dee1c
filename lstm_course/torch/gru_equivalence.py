"""Referee runs for the scratch GRUs against ``torch.nn.GRU`` (chapter 5).

* :func:`run_and_differentiate` — forward, a loss that reads ``output`` and ``h_n``, backward;
  the tensors and the d2l-named parameter gradients.
* :func:`compare_with_nn_gru` — largest absolute difference between ``nn.GRU`` and a scratch GRU with
  copied weights, per quantity.

Chapter 5 shows the table; ``tests/test_gru_equivalence.py`` runs the same code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_course import convert

__all__ = ["run_and_differentiate", "compare_with_nn_gru"]


def run_and_differentiate(
    module: nn.Module, X: torch.Tensor, h0: torch.Tensor
) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    """Forward, ``loss = mean(sin(output)) + mean(h_n ** 2)``, backward.

    Args:
        module: ``nn.GRU`` or a scratch GRU with the same call signature.
        X: the input (``requires_grad=True``), time- or batch-major as ``module`` expects.
        h0: ``(layers * directions, batch, hidden)``, requiring grad.

    Returns:
        ``(tensors, grads)``: ``output, h_n, dL/dX, dL/dh_0``; and
        :func:`lstm_course.convert.gru_grads` of ``module`` (one dict per layer and direction).
    """
    for t in (X, h0):
        t.grad = None
    module.zero_grad()
    output, h_n = module(X, h0)
    (output.sin().mean() + (h_n**2).mean()).backward()
    tensors = {"output": output, "h_n": h_n, "dL/dX": X.grad.clone(), "dL/dh_0": h0.grad.clone()}
    return tensors, convert.gru_grads(module)


def compare_with_nn_gru(
    make: Any,
    dtype: torch.dtype = torch.float64,
    *,
    layers: int = 2,
    bidirectional: bool = True,
    batch: int = 3,
    steps: int = 6,
    input_size: int = 5,
    hidden_size: int = 4,
    seed: int = 0,
) -> dict[str, float]:
    """Largest absolute difference between ``nn.GRU`` and ``make(...)`` with copied weights, per quantity.

    Args:
        make: a scratch GRU class taking ``(input_size, hidden_size, num_layers,
            bidirectional=..., batch_first=True)`` (``ScratchGRU``, ``FusedGRU``).

    Returns:
        ``{"output", "h_n", "dL/dX", "dL/dh_0", "参数梯度"}``; the last is the largest
        difference over every parameter gradient.
    """
    torch.manual_seed(seed)
    kwargs = dict(bidirectional=bidirectional, batch_first=True)
    reference = nn.GRU(input_size, hidden_size, layers, **kwargs).to(dtype)
    scratch = make(input_size, hidden_size, layers, **kwargs).to(dtype)
    convert.copy_gru(reference, scratch)
    X = torch.randn(batch, steps, input_size, dtype=dtype, requires_grad=True)
    rows = layers * (2 if bidirectional else 1)
    h0 = torch.randn(rows, batch, hidden_size, dtype=dtype, requires_grad=True)
    t_ref, g_ref = run_and_differentiate(reference, X, h0)
    t_new, g_new = run_and_differentiate(scratch, X, h0)
    diffs = {k: (t_ref[k] - t_new[k]).abs().max().item() for k in t_ref}
    diffs["参数梯度"] = float(max(np.abs(a[n] - b[n]).max() for a, b in zip(g_ref, g_new, strict=True) for n in a))
    return diffs
