"""Referee runs for the scratch LSTMs: the same loss through two modules, every difference.

Chapter 3 shows the tables these functions produce; ``tests/test_torch_lstm.py`` and
``tests/test_numpy_lstm.py`` run the same code.  The referee is always PyTorch's own
``nn.LSTM`` and ``torch.autograd``.

* :func:`run_and_differentiate` — forward, a loss that reads ``output``, ``h_n`` and ``c_n``,
  backward; the tensors and the d2l-named parameter gradients.
* :func:`compare_with_nn_lstm` — largest absolute difference between ``nn.LSTM`` and a scratch LSTM with
  copied weights, per quantity.
* :func:`numpy_loss_outputs_and_grads` — outputs and gradients of the loss
  ``Σ <dH_all, H_t> + <dH_T, H_T> + <dC_T, C_T>`` by autograd, as NumPy arrays, for comparing
  with :func:`lstm_course.numpy.lstm.lstm_backward`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from lstm_course import convert

__all__ = ["CountMatmuls", "run_and_differentiate", "compare_with_nn_lstm", "numpy_loss_outputs_and_grads"]

_MATMULS = ("matmul", "__matmul__", "mm", "addmm")


class CountMatmuls(TorchFunctionMode):
    """Count the matrix products (``matmul``, ``@``, ``mm``, ``addmm``) issued inside the block.

    >>> with CountMatmuls() as counter:                  # doctest: +SKIP
    ...     module(X)
    >>> sum(counter.calls.values())                      # doctest: +SKIP
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: D105
        name = getattr(func, "__name__", "")
        if name in _MATMULS:
            self.calls[name] += 1
        return func(*args, **(kwargs or {}))

    @property
    def total(self) -> int:
        """All matrix products counted so far."""
        return sum(self.calls.values())


def run_and_differentiate(
    module: nn.Module, X: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    """Forward, ``loss = mean(sin(output)) + mean(h_n * c_n)``, backward.

    Args:
        module: ``nn.LSTM`` or a scratch LSTM with the same call signature.
        X: the input (``requires_grad=True``), time- or batch-major as ``module`` expects.
        state: ``(h_0, c_0)``, each ``(layers * directions, batch, hidden)``, requiring grad.

    Returns:
        ``(tensors, grads)``: ``output, h_n, c_n`` and the gradients ``dL/dX, dL/dh_0,
        dL/dc_0``; and :func:`lstm_course.convert.lstm_grads` of ``module`` (one dict of
        d2l-named gradients per layer and direction).
    """
    for t in (X, *state):
        t.grad = None
    module.zero_grad()
    output, (h_n, c_n) = module(X, state)
    loss = output.sin().mean() + (h_n * c_n).mean()
    loss.backward()
    tensors = {
        "output": output,
        "h_n": h_n,
        "c_n": c_n,
        "dL/dX": X.grad.clone(),
        "dL/dh_0": state[0].grad.clone(),
        "dL/dc_0": state[1].grad.clone(),
    }
    return tensors, convert.lstm_grads(module)


def compare_with_nn_lstm(
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
    """Largest absolute difference between ``nn.LSTM`` and ``make(...)`` with copied weights, per quantity.

    Args:
        make: a scratch LSTM class taking ``(input_size, hidden_size, num_layers,
            bidirectional=..., batch_first=True)`` (e.g. ``ScratchLSTM``, ``FusedLSTM``).

    Returns:
        ``{"output", "h_n", "c_n", "dL/dX", "dL/dh_0", "dL/dc_0", "参数梯度"}``; the last is
        the largest difference over every parameter gradient.
    """
    torch.manual_seed(seed)
    kwargs = dict(bidirectional=bidirectional, batch_first=True)
    reference = nn.LSTM(input_size, hidden_size, layers, **kwargs).to(dtype)
    scratch = make(input_size, hidden_size, layers, **kwargs).to(dtype)
    convert.copy_lstm(reference, scratch)
    X = torch.randn(batch, steps, input_size, dtype=dtype, requires_grad=True)
    rows = layers * (2 if bidirectional else 1)
    state = tuple(torch.randn(rows, batch, hidden_size, dtype=dtype, requires_grad=True) for _ in range(2))
    t_ref, g_ref = run_and_differentiate(reference, X, state)
    t_new, g_new = run_and_differentiate(scratch, X, state)
    diffs = {k: (t_ref[k] - t_new[k]).abs().max().item() for k in t_ref}
    diffs["参数梯度"] = float(max(np.abs(a[n] - b[n]).max() for a, b in zip(g_ref, g_new, strict=True) for n in a))
    return diffs


def numpy_loss_outputs_and_grads(
    module: nn.Module,
    X: np.ndarray,
    state: tuple[np.ndarray, np.ndarray],
    dH_all: np.ndarray,
    dH_T: np.ndarray,
    dC_T: np.ndarray,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Outputs and gradients of ``L = Σ_t <dH_all[t], H_t> + <dH_T, H_T> + <dC_T, C_T>``.

    Args:
        module: a single-layer, unidirectional, time-major LSTM (``nn.LSTM`` in float64).
        X: ``(steps, batch, input)``; ``state``: ``(H0, C0)``, each ``(batch, hidden)``.
        dH_all: ``(steps, batch, hidden)``; ``dH_T``, ``dC_T``: ``(batch, hidden)``.

    Returns:
        ``(H_all, grads)``: the outputs ``(steps, batch, hidden)`` and the d2l-named gradients
        of the twelve parameters plus ``X``, ``H0``, ``C0``, all as NumPy arrays.
    """
    module.zero_grad()
    X_t = torch.tensor(X, requires_grad=True)
    H0, C0 = (torch.tensor(s[None], requires_grad=True) for s in state)  # (1, batch, hidden)
    out, (h_n, c_n) = module(X_t, (H0, C0))
    loss = (
        (out * torch.from_numpy(np.asarray(dH_all))).sum()
        + (h_n[0] * torch.from_numpy(np.asarray(dH_T))).sum()
        + (c_n[0] * torch.from_numpy(np.asarray(dC_T))).sum()
    )
    loss.backward()
    grads = {**convert.lstm_grads(module)[0], "X": X_t.grad.numpy(), "H0": H0.grad[0].numpy(), "C0": C0.grad[0].numpy()}
    return out.detach().numpy(), grads
