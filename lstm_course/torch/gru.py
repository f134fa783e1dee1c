"""Scratch GRUs in PyTorch with ``torch.nn.GRU`` semantics: a readable per-gate form and a fused form.

One step (d2l row-vector convention; the two variants of :mod:`lstm_course.numpy.gru`)::

    R_t  = sigmoid(X_t @ W_xr + H_{t-1} @ W_hr + b_r)                   # reset gate   (batch, hidden)
    Z_t  = sigmoid(X_t @ W_xz + H_{t-1} @ W_hz + b_z)                   # update gate
    H~_t = tanh(X_t @ W_xh + (R_t * H_{t-1}) @ W_hh + b_h)              # variant="textbook"
    H~_t = tanh(X_t @ W_xh + b_h + R_t * (H_{t-1} @ W_hh + b_hh))       # variant="framework" (nn.GRU)
    H_t  = Z_t * H_{t-1} + (1 - Z_t) * H~_t

* :class:`GRUCell` keeps the parameters separately (``W_xr, W_hr, b_r, ..., b_h`` and, for the
  framework variant, the recurrent candidate bias ``b_hh``) and computes the equations as written.
* :class:`FusedGRUCell` stores them side by side — ``W_x`` ``(input, 3*hidden)``, ``W_h``
  ``(hidden, 3*hidden)``, ``b`` ``(3*hidden,)`` with column blocks ``r, z, h``
  (:data:`FUSED_GATE_ORDER`), plus ``b_hh`` ``(hidden,)`` for the framework variant — and computes
  the input projection of *all* steps in one matrix product before the time loop.  In the
  framework variant each step then needs a single ``H @ W_h`` for all three gates (the reason
  cuDNN and the frameworks apply the reset gate after the product); the textbook variant needs
  two, because ``R_t * H_{t-1}`` is only known after the gates.  Backward is autograd.
* :class:`ScratchGRU` / :class:`FusedGRU` stack either cell with
  :class:`~lstm_course.torch.stack.StackedRNN`: ``forward(X, h_0=None) -> (output, h_n)`` with the
  shapes, ``batch_first``, ``num_layers``, ``bidirectional`` and ``dropout`` of ``nn.GRU``.

:mod:`lstm_course.convert` copies weights between these modules, ``nn.GRU`` and Keras
(``gru_params``, ``load_gru_params``, ``copy_gru``).
"""

from __future__ import annotations

import torch
from torch import nn

from lstm_course.layout import FUSED_GRU_ORDER, GRU_GATES, GRU_VARIANTS
from lstm_course.torch.stack import RecurrentCell, StackedRNN, State

__all__ = ["GATES", "FUSED_GATE_ORDER", "VARIANTS", "param_names", "GRUCell", "FusedGRUCell", "ScratchGRU", "FusedGRU"]

#: Gate letters in d2l's order: reset, update, candidate hidden state.
GATES = GRU_GATES
#: Order of the three column blocks of the fused ``W_x``, ``W_h`` and ``b``.
FUSED_GATE_ORDER = FUSED_GRU_ORDER
#: ``"textbook"`` (reset before the recurrent product) and ``"framework"`` (after it, as nn.GRU).
VARIANTS = GRU_VARIANTS


def param_names(variant: str = "framework") -> tuple[str, ...]:
    """Parameter names of a :class:`GRUCell` of ``variant`` (nine, plus ``b_hh`` for ``'framework'``)."""
    from lstm_course.numpy.gru import param_names as names

    return names(variant)


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"variant: expected one of {VARIANTS}, received {variant!r}")


class GRUCell(RecurrentCell):
    """Readable per-gate GRU (one layer, one direction) with parameters ``W_xr, W_hr, b_r, ...``.

    ``W_x*`` are ``(input_size, hidden_size)``, ``W_h*`` ``(hidden_size, hidden_size)``, ``b_*``
    (and ``b_hh`` in the framework variant) ``(hidden_size,)``.  Initialised like ``nn.GRU``:
    uniform in ``±1/sqrt(hidden_size)``.
    """

    num_states = 1

    def __init__(self, input_size: int, hidden_size: int, *, variant: str = "framework") -> None:
        super().__init__()
        _check_variant(variant)
        self.input_size, self.hidden_size, self.variant = input_size, hidden_size, variant
        for g in GATES:
            setattr(self, f"W_x{g}", nn.Parameter(torch.empty(input_size, hidden_size)))
            setattr(self, f"W_h{g}", nn.Parameter(torch.empty(hidden_size, hidden_size)))
            setattr(self, f"b_{g}", nn.Parameter(torch.empty(hidden_size)))
        if variant == "framework":
            self.b_hh = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    def extra_repr(self) -> str:
        """The sizes and variant shown by ``print(module)``."""
        return f"{self.input_size}, {self.hidden_size}, variant={self.variant!r}"

    def step(self, x: torch.Tensor, state: State) -> State:
        """``x`` ``(batch, input_size)``, ``state = (H,)`` with ``H`` ``(batch, hidden)`` → ``(H,)``."""
        (H,) = state
        R = torch.sigmoid(x @ self.W_xr + H @ self.W_hr + self.b_r)
        Z = torch.sigmoid(x @ self.W_xz + H @ self.W_hz + self.b_z)
        if self.variant == "textbook":
            H_tilde = torch.tanh(x @ self.W_xh + (R * H) @ self.W_hh + self.b_h)
        else:
            H_tilde = torch.tanh(x @ self.W_xh + self.b_h + R * (H @ self.W_hh + self.b_hh))
        H = Z * H + (1 - Z) * H_tilde
        return (H,)

    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """``X`` ``(steps, batch, input_size)`` → ``(Y (steps, batch, hidden), (H_T,))``."""
        return super().forward(X, state)


class FusedGRUCell(RecurrentCell):
    """GRU with the three gates fused: ``W_x`` ``(input, 3h)``, ``W_h`` ``(h, 3h)``, ``b`` ``(3h,)``.

    Column blocks are ``r, z, h`` (:data:`FUSED_GATE_ORDER`): block ``k`` of ``W_x`` is the
    per-gate ``W_x{gate}``, block ``k`` of ``b`` is ``b_{gate}``.  The framework variant also has
    ``b_hh`` ``(h,)``.  :meth:`forward` computes ``X @ W_x + b`` for all steps at once before the
    time loop; autograd provides the backward pass.
    """

    num_states = 1

    def __init__(self, input_size: int, hidden_size: int, *, variant: str = "framework") -> None:
        super().__init__()
        _check_variant(variant)
        self.input_size, self.hidden_size, self.variant = input_size, hidden_size, variant
        self.W_x = nn.Parameter(torch.empty(input_size, 3 * hidden_size))
        self.W_h = nn.Parameter(torch.empty(hidden_size, 3 * hidden_size))
        self.b = nn.Parameter(torch.empty(3 * hidden_size))
        if variant == "framework":
            self.b_hh = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    def extra_repr(self) -> str:
        """The sizes and variant shown by ``print(module)``."""
        return f"{self.input_size}, {self.hidden_size}, variant={self.variant!r}"

    def _recurrent_bias(self) -> torch.Tensor | None:
        """``[0, 0, b_hh]`` ``(3h,)``: added to ``H @ W_h`` so one ``addmm`` gives all three blocks."""
        if self.variant != "framework":
            return None
        return torch.cat([self.b_hh.new_zeros(2 * self.hidden_size), self.b_hh])

    def _step_preactivated(self, xw: torch.Tensor, H: torch.Tensor, bias_h: torch.Tensor | None) -> torch.Tensor:
        """One step given ``xw = x @ W_x + b`` ``(batch, 3h)``; returns the new ``H``."""
        h = self.hidden_size
        if bias_h is not None:  # framework: one product for r, z and h
            hw = torch.addmm(bias_h, H, self.W_h)
            RZ = torch.sigmoid(xw[:, : 2 * h] + hw[:, : 2 * h])
            R, Z = RZ[:, :h], RZ[:, h:]
            H_tilde = torch.tanh(xw[:, 2 * h :] + R * hw[:, 2 * h :])
        else:  # textbook: R must be known before the h block
            RZ = torch.sigmoid(xw[:, : 2 * h] + H @ self.W_h[:, : 2 * h])
            R, Z = RZ[:, :h], RZ[:, h:]
            H_tilde = torch.tanh(xw[:, 2 * h :] + (R * H) @ self.W_h[:, 2 * h :])
        return H_tilde + Z * (H - H_tilde)  # = Z * H + (1 - Z) * H_tilde

    def step(self, x: torch.Tensor, state: State) -> State:
        """One step: ``x`` ``(batch, input_size)``, ``state = (H,)`` → ``(H,)``."""
        (H,) = state
        return (self._step_preactivated(torch.addmm(self.b, x, self.W_x), H, self._recurrent_bias()),)

    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """``X`` ``(steps, batch, input_size)`` → ``(Y (steps, batch, hidden), (H_T,))``."""
        self.check_input(X, state)
        T, B, _ = X.shape
        H = self.init_state(B, device=X.device, dtype=X.dtype)[0] if state is None else state[0]
        # Hoisting: the input projection of every step in one (T*B, input) @ (input, 3h) product.
        XW = torch.addmm(self.b, X.reshape(T * B, self.input_size), self.W_x).view(T, B, 3 * self.hidden_size)
        bias_h = self._recurrent_bias()
        outputs = []
        for xw in XW:
            H = self._step_preactivated(xw, H, bias_h)
            outputs.append(H)
        return torch.stack(outputs), (H,)


class ScratchGRU(StackedRNN):
    """Per-gate scratch GRU with ``nn.GRU`` semantics (layers, directions, ``batch_first``, dropout).

    ``forward(X, h_0=None) -> (output, h_n)``; ``output`` is ``(steps, batch, D*hidden)``, ``h_n``
    is ``(num_layers*D, batch, hidden)``, ``D`` = 1 or 2.  ``variant='framework'`` (default) is the
    function ``nn.GRU`` computes; ``'textbook'`` applies the reset gate before the recurrent product.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bidirectional: bool = False,
        dropout: float = 0.0,
        batch_first: bool = False,
        variant: str = "framework",
    ) -> None:
        _check_variant(variant)

        def factory(inputs: int, hidden: int) -> GRUCell:
            return GRUCell(inputs, hidden, variant=variant)

        super().__init__(
            factory,
            input_size,
            hidden_size,
            num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            batch_first=batch_first,
        )
        self.variant = variant


class FusedGRU(StackedRNN):
    """Fused scratch GRU (:class:`FusedGRUCell` per layer and direction), ``nn.GRU`` semantics."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bidirectional: bool = False,
        dropout: float = 0.0,
        batch_first: bool = False,
        variant: str = "framework",
    ) -> None:
        _check_variant(variant)

        def factory(inputs: int, hidden: int) -> FusedGRUCell:
            return FusedGRUCell(inputs, hidden, variant=variant)

        super().__init__(
            factory,
            input_size,
            hidden_size,
            num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            batch_first=batch_first,
        )
        self.variant = variant
