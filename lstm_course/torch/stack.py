"""Generic multi-layer / bidirectional recurrent network built from any scratch cell.

The cell protocol (what :class:`StackedRNN` needs from a cell) is small:

* a cell is an :class:`torch.nn.Module` subclassing :class:`RecurrentCell`, for **one layer and
  one direction**, with attributes ``input_size``, ``hidden_size`` and ``num_states`` (how many
  tensors the state has: 1 for RNN/GRU ``h``, 2 for LSTM ``(h, c)``; ``state[0]`` is always
  the hidden state ``h`` that becomes the output);
* ``cell.step(x, state) -> state`` advances one time step: ``x`` is ``(batch, input_size)``,
  ``state`` a tuple of ``num_states`` tensors ``(batch, hidden_size)``;
* ``cell(X, state) -> (Y, state)`` runs a whole sequence, ``X`` of shape
  ``(steps, batch, input_size)``, ``Y`` of shape ``(steps, batch, hidden_size)``.  The default
  implementation loops over :meth:`RecurrentCell.step`; fast cells override it (e.g. to
  compute the input projection of all steps at once).

:class:`StackedRNN` then provides ``torch.nn.LSTM``/``nn.GRU``/``nn.RNN`` semantics on top:
``batch_first``, ``num_layers``, ``bidirectional`` (the reverse direction reads the sequence
back to front), inter-layer ``dropout``, unbatched 2-D input, and states of shape
``(num_layers * num_directions, batch, hidden_size)`` ordered layer-major, forward before
backward (index ``layer * num_directions + direction``), exactly like ``nn.LSTM``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["RecurrentCell", "StackedRNN", "State", "StackState", "expect_float_tensor"]

State = tuple[torch.Tensor, ...]
#: What :class:`StackedRNN` accepts/returns as state: one tensor (RNN, GRU) or a tuple (LSTM).
StackState = torch.Tensor | tuple[torch.Tensor, ...]


def expect_float_tensor(name: str, value: object, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Raise ``TypeError`` unless ``value`` is a floating ``torch.Tensor`` (of ``dtype``, if given).

    The rule of ``torch.nn.LSTM``: the input has the parameters' dtype; convert it with
    ``X.to(dtype)`` (a NumPy array with ``torch.from_numpy``) rather than let a matrix product
    fail deep inside the cell.
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name}: expected a torch.Tensor, received {type(value).__name__}"
            + (" (convert it with torch.from_numpy)" if type(value).__module__ == "numpy" else "")
        )
    if not value.is_floating_point():
        raise TypeError(f"{name}: expected a floating dtype, received {value.dtype}")
    if dtype is not None and value.dtype != dtype:
        raise TypeError(
            f"{name}: expected dtype {dtype} (the parameters' dtype), received {value.dtype}; "
            f"convert it with .to({dtype})"
        )
    return value


def _parameter_dtype(module: nn.Module) -> torch.dtype | None:
    return next((p.dtype for p in module.parameters()), None)


class RecurrentCell(nn.Module):
    """Base class of one-layer, one-direction scratch cells (see the module docstring).

    Subclasses set ``input_size``, ``hidden_size``, ``num_states`` and implement :meth:`step`;
    they may override :meth:`forward` with a faster whole-sequence version.
    """

    input_size: int
    hidden_size: int
    num_states: int = 1

    def step(self, x: torch.Tensor, state: State) -> State:
        """One time step: ``x`` ``(batch, input_size)`` → new state, ``num_states`` × ``(batch, hidden)``."""
        raise NotImplementedError

    def reset_parameters(self) -> None:
        """Uniform ``±1/sqrt(hidden_size)`` initialisation of every parameter, as in ``nn.RNN/LSTM/GRU``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        """The sizes shown by ``print(module)``."""
        return f"{self.input_size}, {self.hidden_size}"

    def init_state(self, batch_size: int, *, device=None, dtype=None) -> State:
        """Zero state: ``num_states`` tensors of shape ``(batch_size, hidden_size)``."""
        return tuple(
            torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype) for _ in range(self.num_states)
        )

    def check_input(self, X: torch.Tensor, state: State | None) -> None:
        """The one input check of every scratch cell (see :mod:`lstm_course.numpy.common` for the rule).

        Raises:
            TypeError: ``X`` or a state tensor is not a floating tensor of the parameters' dtype.
            ValueError: ``X`` is not ``(steps >= 1, batch, input_size)``, or the state is not
                ``num_states`` tensors of shape ``(batch, hidden_size)``.
        """
        dtype = _parameter_dtype(self)
        expect_float_tensor("X", X, dtype)
        if X.dim() != 3 or X.shape[-1] != self.input_size or X.shape[0] == 0:
            raise ValueError(f"X: expected shape (steps>0, batch, {self.input_size}), received {tuple(X.shape)}")
        if state is None:
            return
        names = ("H", "C")[: self.num_states] if self.num_states <= 2 else tuple(range(self.num_states))
        if not isinstance(state, (tuple, list)) or len(state) != self.num_states:
            received = f"{len(state)} tensors" if isinstance(state, (tuple, list)) else type(state).__name__
            raise ValueError(
                f"state: expected a tuple of {self.num_states} tensor(s) "
                f"({', '.join(map(str, names))}), received {received}"
            )
        expected = (X.shape[1], self.hidden_size)
        for name, tensor in zip(names, state, strict=True):
            expect_float_tensor(f"state {name}", tensor, dtype)
            if tuple(tensor.shape) != expected:
                single = "; state: expected one tensor (H,) of that shape" if self.num_states == 1 else ""
                raise ValueError(
                    f"state {name}: expected shape {expected} (batch, hidden_size), "
                    f"received {tuple(tensor.shape)}{single}"
                )

    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Run ``X`` ``(steps, batch, input_size)`` → ``(Y (steps, batch, hidden), final state)``."""
        self.check_input(X, state)
        if state is None:
            state = self.init_state(X.shape[1], device=X.device, dtype=X.dtype)
        outputs = []
        for x in X:
            state = self.step(x, state)
            outputs.append(state[0])
        return torch.stack(outputs), state


class StackedRNN(nn.Module):
    """``num_layers`` × ``num_directions`` cells with the call semantics of ``torch.nn.LSTM``.

    Args:
        cell_factory: ``cell_factory(input_size, hidden_size) -> RecurrentCell``; called once per
            layer and direction, layer-major, forward before backward.
        input_size, hidden_size: feature sizes of the input and of each direction's state.
        num_layers: stacked layers; layer ``l > 0`` reads ``num_directions * hidden_size`` features.
        bidirectional: add a backward-in-time cell to every layer (outputs are concatenated).
        dropout: dropout probability on the outputs of every layer but the last (training only).
        batch_first: input and output are ``(batch, steps, features)`` instead of time-major;
            states are always ``(num_layers * num_directions, batch, hidden_size)``.

    ``forward(X, state=None) -> (output, state_n)``: ``output`` is
    ``(steps, batch, num_directions * hidden_size)`` (or batch-first); ``state_n`` is one tensor
    for single-state cells and a tuple (``(h_n, c_n)``) otherwise, like ``nn.GRU``/``nn.LSTM``.
    """

    def __init__(
        self,
        cell_factory: Callable[[int, int], RecurrentCell],
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bidirectional: bool = False,
        dropout: float = 0.0,
        batch_first: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, received {value!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), received {dropout!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        cells = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for _ in range(self.num_directions):
                cells.append(cell_factory(layer_input, hidden_size))
        self.cells = nn.ModuleList(cells)
        self.num_states = cells[0].num_states

    def cell(self, layer: int = 0, direction: int = 0) -> RecurrentCell:
        """The cell of ``layer`` and ``direction`` (0 forward, 1 backward)."""
        if not (0 <= layer < self.num_layers and 0 <= direction < self.num_directions):
            raise IndexError(
                f"no cell for layer={layer}, direction={direction} in a "
                f"{self.num_layers}-layer, {self.num_directions}-direction stack"
            )
        return self.cells[layer * self.num_directions + direction]

    def extra_repr(self) -> str:
        """The configuration shown by ``print(module)``."""
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"bidirectional={self.bidirectional}, dropout={self.dropout}, "
            f"batch_first={self.batch_first}"
        )

    def _check_state(self, state: StackState, batch: int, unbatched: bool) -> list[torch.Tensor]:
        if not isinstance(state, (torch.Tensor, tuple, list)):
            raise TypeError(f"state: expected a tensor or a tuple of tensors, received {type(state).__name__}")
        tensors = [state] if isinstance(state, torch.Tensor) else list(state)
        for k, tensor in enumerate(tensors):
            expect_float_tensor(f"state[{k}]", tensor, _parameter_dtype(self))
        if len(tensors) != self.num_states:
            raise ValueError(f"state: expected {self.num_states} tensor(s), received {len(tensors)}")
        rows = self.num_layers * self.num_directions
        expected = (rows, self.hidden_size) if unbatched else (rows, batch, self.hidden_size)
        for k, tensor in enumerate(tensors):
            if tuple(tensor.shape) != expected:
                raise ValueError(
                    f"state[{k}]: expected shape {expected} (num_layers * num_directions"
                    f"{'' if unbatched else ', batch'}, hidden_size), "
                    f"received {tuple(tensor.shape)}"
                )
        return [t.unsqueeze(1) for t in tensors] if unbatched else tensors

    def forward(self, X: torch.Tensor, state: StackState | None = None) -> tuple[torch.Tensor, StackState]:
        """``X`` ``(steps, batch, input_size)`` (or batch-first, or unbatched ``(steps, input_size)``)."""
        expect_float_tensor("X", X, _parameter_dtype(self))
        if X.dim() not in (2, 3):
            raise ValueError(
                f"X: expected a 3-D (steps, batch, input_size) or 2-D (steps, input_size) "
                f"tensor, received shape {tuple(X.shape)}"
            )
        if X.shape[-1] != self.input_size:
            raise ValueError(
                f"X: expected input_size {self.input_size} in the last dimension, received shape {tuple(X.shape)}"
            )
        unbatched = X.dim() == 2
        if unbatched:
            X = X.unsqueeze(1)
        elif self.batch_first:
            X = X.transpose(0, 1)
        batch = X.shape[1]
        states = None if state is None else self._check_state(state, batch, unbatched)

        finals: list[State] = []
        layer_input = X
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                cell_state = None if states is None else tuple(s[index] for s in states)
                inputs = layer_input if direction == 0 else layer_input.flip(0)
                Y, final = self.cells[index](inputs, cell_state)
                outputs.append(Y if direction == 0 else Y.flip(0))
                finals.append(final)
            layer_input = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, p=self.dropout, training=True)

        output = layer_input
        stacked = [torch.stack([f[k] for f in finals]) for k in range(self.num_states)]
        if unbatched:
            output = output.squeeze(1)
            stacked = [s.squeeze(1) for s in stacked]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (stacked[0] if self.num_states == 1 else tuple(stacked))
