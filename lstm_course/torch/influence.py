"""Which inputs can an output see?  The influence matrix ``||∂y_t / ∂x_s||`` of a recurrent layer.

For a unidirectional network ``y_t`` depends on ``x_0..x_t`` only (the matrix is lower
triangular: exact zeros above the diagonal); for a bidirectional one on every ``x_s``.  Used by
chapter 6 to picture the leak of a bidirectional language model (the target of position ``t``
is the input at ``t+1``) and by the self-check :func:`lstm_course.check.deep.receptive_field`
(which is why it lives in the library and not with the experiments).

Importing this module imports PyTorch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lstm_course.runtime import single_thread

__all__ = ["influence_matrix", "visible_inputs"]


def influence_matrix(
    rnn: nn.Module, steps: int, *, inputs: torch.Tensor | None = None, seed: int = 0, dtype: torch.dtype = torch.float64
) -> np.ndarray:
    """``M[t, s] = ||∂ y_t / ∂ x_s||_F`` at a random input of ``steps`` steps (batch 1), or at ``inputs``.

    Args:
        rnn: time-major recurrent module with the ``nn.LSTM`` interface and an ``input_size``
            attribute (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``, :class:`~lstm_course.torch.stack.StackedRNN`).
        steps: sequence length.
        inputs: the point where the Jacobian is taken, ``(steps, input_size)`` (e.g. the embedded
            characters of a real text); default a standard normal input drawn with ``seed``.
        seed: seed of the random input.
        dtype: computation dtype (float64 keeps tiny but non-zero influences visible).

    Returns:
        ``(steps, steps)`` array; row ``t`` is output position ``t``, column ``s`` input position ``s``.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, received {steps}")
    if getattr(rnn, "batch_first", False):
        raise ValueError("rnn must be time-major (batch_first=False)")
    if inputs is not None and tuple(inputs.shape) not in ((steps, rnn.input_size), (steps, 1, rnn.input_size)):
        raise ValueError(
            f"inputs: expected shape {(steps, rnn.input_size)} (steps, input_size), received {tuple(inputs.shape)}"
        )
    generator = torch.Generator().manual_seed(seed)
    param = next(rnn.parameters())
    original, device, was_training = param.dtype, param.device, rnn.training
    if device.type == "mps" and dtype == torch.float64:
        dtype = torch.float32  # MPS has no float64
    rnn.to(dtype).eval()
    try:
        with single_thread():  # small matrices: extra threads only wait for each other
            if inputs is None:
                X = torch.randn(steps, 1, rnn.input_size, generator=generator, dtype=dtype)
            else:
                X = inputs.detach().to(dtype).reshape(steps, 1, rnn.input_size)
            return _jacobian_norms(rnn, X.to(device))
    finally:
        rnn.to(original).train(was_training)


def _jacobian_norms(rnn: nn.Module, X: torch.Tensor) -> np.ndarray:
    """``||∂y_t/∂x_s||_F`` for ``X`` ``(steps, 1, input)`` with one backward pass.

    The sequence is copied once per output element ``(t, f)``: copy ``b = t * features + f``
    back-propagates the one-hot of ``y_t[f]``.  Copies share no computation, so the input
    gradient of each copy is one row of the Jacobian.
    """
    steps, _, inputs = X.shape
    with torch.no_grad():
        features = rnn(X)[0].shape[-1]
    copies = steps * features
    Xs = X.expand(steps, copies, inputs).clone().requires_grad_(True)
    Y = rnn(Xs)[0]  # (steps, copies, features)
    select = torch.zeros_like(Y)
    arange = lambda n: torch.arange(n, device=X.device)  # noqa: E731
    select[arange(steps).repeat_interleave(features), arange(copies), arange(features).repeat(steps)] = 1.0
    (grad,) = torch.autograd.grad((Y * select).sum(), Xs)  # (s, copies, input)
    J = grad.view(steps, steps, features, inputs)  # (s, t, f, input)
    return J.pow(2).sum(dim=(2, 3)).sqrt().T.detach().cpu().numpy()  # (t, s)


def visible_inputs(matrix: np.ndarray, t: int) -> list[int]:
    """Input positions ``s`` with a non-zero influence on output ``t`` (row ``t`` of the matrix)."""
    return [int(s) for s in np.flatnonzero(np.asarray(matrix)[t] > 0)]
