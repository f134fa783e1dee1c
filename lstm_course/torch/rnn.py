"""A scratch tanh RNN in PyTorch with ``torch.nn.RNN`` semantics.

One step (d2l row-vector convention)::

    H_t = tanh(X_t @ W_xh + H_{t-1} @ W_hh + b_h)        # (batch, hidden)

:class:`RNNCell` holds ``W_xh`` ``(input, hidden)``, ``W_hh`` ``(hidden, hidden)`` and ``b_h``
``(hidden,)``; its :meth:`~RNNCell.forward` computes ``X @ W_xh + b_h`` for all steps before the
time loop.  :class:`ScratchRNN` stacks it with :class:`~lstm_course.torch.stack.StackedRNN`:
``forward(X, h_0=None) -> (output, h_n)`` with ``nn.RNN``'s shapes, ``batch_first``,
``num_layers``, ``bidirectional`` and ``dropout``.  ``nn.RNN``'s two biases map to
``b_h = bias_ih + bias_hh``; ``W_xh = weight_ih.T``, ``W_hh = weight_hh.T``.
"""

from __future__ import annotations

import torch
from torch import nn

from lstm_course.torch.stack import RecurrentCell, StackedRNN, State

__all__ = ["PARAM_NAMES", "RNNCell", "ScratchRNN"]

#: The three parameter names of one layer and direction.
PARAM_NAMES = ("W_xh", "W_hh", "b_h")


class RNNCell(RecurrentCell):
    """Tanh RNN (one layer, one direction); initialised like ``nn.RNN``: uniform ``±1/sqrt(hidden)``."""

    num_states = 1

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.W_xh = nn.Parameter(torch.empty(input_size, hidden_size))
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.b_h = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    def step(self, x: torch.Tensor, state: State) -> State:
        """``x`` ``(batch, input_size)``, ``state = (H,)`` → ``(tanh(x @ W_xh + H @ W_hh + b_h),)``."""
        (H,) = state
        return (torch.tanh(x @ self.W_xh + H @ self.W_hh + self.b_h),)

    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """``X`` ``(steps, batch, input_size)`` → ``(Y (steps, batch, hidden), (H_T,))``."""
        self.check_input(X, state)
        T, B, _ = X.shape
        H = X.new_zeros(B, self.hidden_size) if state is None else state[0]
        XW = torch.addmm(self.b_h, X.reshape(T * B, self.input_size), self.W_xh).view(T, B, self.hidden_size)
        outputs = []
        for xw in XW:
            H = torch.tanh(torch.addmm(xw, H, self.W_hh))
            outputs.append(H)
        return torch.stack(outputs), (H,)


class ScratchRNN(StackedRNN):
    """Scratch tanh RNN with ``nn.RNN`` semantics (layers, directions, ``batch_first``, dropout)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bidirectional: bool = False,
        dropout: float = 0.0,
        batch_first: bool = False,
    ) -> None:
        super().__init__(
            RNNCell,
            input_size,
            hidden_size,
            num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            batch_first=batch_first,
        )
