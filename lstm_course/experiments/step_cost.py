"""Where the time of an LSTM step goes: matrix products, element-wise work, issuing operations.

* :func:`step_breakdown` — one time step of a scratch cell (``cell.step``) split into the matrix
  products with the cell's own weights, the cost of *issuing* the step's operations (the same
  step on a cell with one unit and one sample, where the arithmetic is negligible) and the
  element-wise remainder.
* :func:`count_train_ops` and :func:`op_overhead_us` — how many PyTorch operators one training
  step issues, and what issuing one costs.
* :func:`hoisting` — the whole-sequence forward of a fused cell with the input projection
  computed once for all steps versus once per step.

Importing this module imports PyTorch.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import torch

from lstm_course.experiments.speed import time_call
from lstm_course.runtime import synchronize
from lstm_course.torch.stack import RecurrentCell

__all__ = ["MATMUL_OPS", "ELEMENTWISE_OPS", "step_breakdown", "count_train_ops", "op_overhead_us", "hoisting"]

#: Operator names counted as matrix products (oneDNN's whole-sequence LSTM kernels included).
MATMUL_OPS = frozenset(
    {
        "aten::mm",
        "aten::addmm",
        "aten::bmm",
        "aten::baddbmm",
        "aten::linear",
        "aten::matmul",
        "aten::mkldnn_rnn_layer",
        "aten::mkldnn_rnn_layer_backward",
    }
)
#: Operator names counted as element-wise (point-wise) work.
ELEMENTWISE_OPS = frozenset(
    {
        "aten::sigmoid",
        "aten::sigmoid_",
        "aten::tanh",
        "aten::tanh_",
        "aten::mul",
        "aten::mul_",
        "aten::add",
        "aten::add_",
        "aten::addcmul",
        "aten::addcmul_",
        "aten::sub",
        "aten::sub_",
        "aten::rsub",
        "aten::div",
        "aten::div_",
        "aten::sigmoid_backward",
        "aten::tanh_backward",
        "aten::exp",
        "aten::neg",
        "aten::pow",
        "aten::relu",
        "aten::threshold_backward",
        "aten::fill_",
        "aten::zero_",
        "aten::_foreach_add_",
        "aten::_foreach_mul_",
        "aten::_foreach_norm",
        "aten::clamp",
        "aten::clamp_",
        "aten::lerp_",
    }
)


def _median_us(fn: Callable[[], Any], repeats: int, number: int, device: Any = "cpu") -> float:
    """Median microseconds per call; on CUDA/MPS the clock is read after the queued kernels finish."""
    sync = (lambda: synchronize(device)) if torch.device(device).type != "cpu" else None
    return statistics.median(time_call(fn, warmup=2, repeats=repeats, number=number, sync=sync)) * 1e6


def step_breakdown(
    make_cell: Callable[[int, int], RecurrentCell],
    batch: int,
    hidden: int,
    input_size: int = 28,
    *,
    repeats: int = 5,
    number: int = 50,
) -> dict[str, float]:
    """Microseconds of one ``cell.step`` and of its parts (medians; inside ``torch.no_grad``).

    Args:
        make_cell: ``make_cell(input_size, hidden) -> RecurrentCell`` (e.g. ``LSTMCell``).
        batch, hidden, input_size: sizes of the step.

    Returns:
        ``{"step", "matmul", "dispatch", "elementwise"}``: the whole step; its matrix products
        (``x @ W_x*`` and ``H @ W_h*`` with the cell's own weights); the same step with one unit
        and one sample (almost only the cost of issuing its operations); and the rest,
        ``step - matmul - dispatch`` (never below 0).
    """
    cell = make_cell(input_size, hidden)
    tiny = make_cell(1, 1)
    x = torch.randn(batch, input_size)
    state = tuple(torch.rand(batch, hidden) for _ in range(cell.num_states))
    x1 = torch.randn(1, 1)
    state1 = tuple(torch.rand(1, 1) for _ in range(tiny.num_states))
    weights = [(name, p) for name, p in cell.named_parameters() if name.startswith(("W_x", "W_h"))]
    if not weights:
        raise ValueError(f"{type(cell).__name__} has no parameters named W_x*/W_h*")

    def products() -> None:
        for name, W in weights:
            (x if name.startswith("W_x") else state[0]) @ W

    with torch.no_grad():
        step = _median_us(lambda: cell.step(x, state), repeats, number)
        matmul = _median_us(products, repeats, number)
        dispatch = _median_us(lambda: tiny.step(x1, state1), repeats, number)
    return {"step": step, "matmul": matmul, "dispatch": dispatch, "elementwise": max(0.0, step - matmul - dispatch)}


def count_train_ops(model: torch.nn.Module, X: torch.Tensor, Y: torch.Tensor) -> dict[str, int]:
    """PyTorch operator calls in one training step (forward, loss, backward, SGD) of a language model.

    Counts every ATen operator dispatched (with a ``TorchDispatchMode``), grouped into
    ``matmul`` (:data:`MATMUL_OPS`), ``elementwise`` (:data:`ELEMENTWISE_OPS`) and ``other``,
    plus ``total``.  Each call costs a few microseconds of framework overhead however small the
    tensors are, so the count times that cost is a floor for the step's time.

    Args:
        model: an :class:`~lstm_course.torch.lm.model.RNNLM`.
        X, Y: token indices ``(batch, steps)``.
    """
    from torch.utils._python_dispatch import TorchDispatchMode

    from lstm_course.torch.lm.evaluate import lm_loss

    counts = {"matmul": 0, "elementwise": 0, "other": 0}

    class _Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = "aten::" + func.__name__.split(".")[0]
            group = "matmul" if name in MATMUL_OPS else "elementwise" if name in ELEMENTWISE_OPS else "other"
            counts[group] += 1
            return func(*args, **(kwargs or {}))

    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with _Count():
        logits, _ = model(X)
        loss = lm_loss(logits, Y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return {**counts, "total": sum(counts.values())}


def op_overhead_us(*, grad: bool = True, repeats: int = 5, number: int = 2000) -> float:
    """Microseconds of one tiny PyTorch operator (``torch.mul`` of two 1-element tensors): the
    fixed cost of issuing an operation, paid however little arithmetic it does.

    With ``grad`` the inputs require gradients, so autograd records the call as it does in a
    training step.
    """
    a, b = torch.ones(1, requires_grad=grad), torch.ones(1)
    return _median_us(lambda: torch.mul(a, b), repeats, number)


def hoisting(cell: RecurrentCell, X: torch.Tensor, *, repeats: int = 5, number: int = 5) -> dict[str, float]:
    """Forward milliseconds of ``cell(X)`` (input projection hoisted out of the loop, as the fused
    cells do) and of the generic loop :meth:`RecurrentCell.forward` (``x @ W_x`` inside every step).

    Returns ``{"hoisted", "per_step", "max_abs_diff"}``; the last is the largest difference
    between the two outputs (they compute the same function), computed in full float32
    (:func:`lstm_course.runtime.full_float32`: no TF32 on a GPU).  Runs on ``X``'s device.
    """
    from lstm_course.runtime import full_float32

    with torch.no_grad():
        hoisted = _median_us(lambda: cell(X), repeats, number, X.device) / 1e3
        per_step = _median_us(lambda: RecurrentCell.forward(cell, X), repeats, number, X.device) / 1e3
        with full_float32():
            diff = float((cell(X)[0] - RecurrentCell.forward(cell, X)[0]).abs().max())
    return {"hoisted": hoisted, "per_step": per_step, "max_abs_diff": diff}
