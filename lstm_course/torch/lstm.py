"""Scratch LSTMs in PyTorch with ``torch.nn.LSTM`` semantics: a readable per-gate form and a fused form.

One step (d2l row-vector convention, parameter names as in :mod:`lstm_course`)::

    I_t  = sigmoid(X_t @ W_xi + H_{t-1} @ W_hi + b_i)      # input gate      (batch, hidden)
    F_t  = sigmoid(X_t @ W_xf + H_{t-1} @ W_hf + b_f)      # forget gate
    O_t  = sigmoid(X_t @ W_xo + H_{t-1} @ W_ho + b_o)      # output gate
    C~_t = tanh(X_t @ W_xc + H_{t-1} @ W_hc + b_c)         # candidate memory
    C_t  = F_t * C_{t-1} + I_t * C~_t
    H_t  = O_t * tanh(C_t)

* :class:`LSTMCell` keeps the twelve parameters separately and computes the equations as written.
* :class:`FusedLSTMCell` stores them side by side — ``W_x`` ``(input, 4*hidden)``, ``W_h``
  ``(hidden, 4*hidden)``, ``b`` ``(4*hidden,)`` with column blocks in the order ``i, f, o, c``
  (:data:`FUSED_GATE_ORDER`) — computes the input projection of *all* steps in one matrix
  product before the time loop, and back-propagates with a hand-written BPTT (one small matrix
  product per step; the weight gradients are single large products after the loop).
* :class:`ScratchLSTM` / :class:`FusedLSTM` stack either cell with
  :class:`~lstm_course.torch.stack.StackedRNN`: ``forward(X, state=None) -> (output, (h_n, c_n))``
  with the shapes, ``batch_first``, ``num_layers``, ``bidirectional`` and ``dropout`` of ``nn.LSTM``.

:mod:`lstm_course.convert` copies weights between these modules, ``nn.LSTM`` and Keras.
"""

from __future__ import annotations

import torch
from torch import nn

from lstm_course.layout import FUSED_LSTM_ORDER, LSTM_GATES, LSTM_PARAM_NAMES
from lstm_course.torch.stack import RecurrentCell, StackedRNN, State

__all__ = [
    "GATES",
    "FUSED_GATE_ORDER",
    "PARAM_NAMES",
    "LSTMCell",
    "FusedLSTMCell",
    "ScratchLSTM",
    "FusedLSTM",
    "fused_lstm_scan",
]

#: Gate letters in d2l's listing order: input, forget, output, candidate (memory cell).
GATES = LSTM_GATES
#: Order of the four column blocks of the fused ``W_x``, ``W_h`` and ``b``.
FUSED_GATE_ORDER = FUSED_LSTM_ORDER
#: The twelve parameter names of one LSTM layer and direction.
PARAM_NAMES = LSTM_PARAM_NAMES


class LSTMCell(RecurrentCell):
    """Readable per-gate LSTM (one layer, one direction) with parameters ``W_xi, W_hi, b_i, ...``.

    ``W_x*`` are ``(input_size, hidden_size)``, ``W_h*`` ``(hidden_size, hidden_size)``, ``b_*``
    ``(hidden_size,)``.  Initialised like ``nn.LSTM``: uniform in ``±1/sqrt(hidden_size)``.
    """

    num_states = 2

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        for g in GATES:
            setattr(self, f"W_x{g}", nn.Parameter(torch.empty(input_size, hidden_size)))
            setattr(self, f"W_h{g}", nn.Parameter(torch.empty(hidden_size, hidden_size)))
            setattr(self, f"b_{g}", nn.Parameter(torch.empty(hidden_size)))
        self.reset_parameters()

    def step(self, x: torch.Tensor, state: State) -> State:
        """``x`` ``(batch, input_size)``, ``state = (H, C)`` each ``(batch, hidden)`` → ``(H, C)``."""
        H, C = state
        I = torch.sigmoid(x @ self.W_xi + H @ self.W_hi + self.b_i)
        F = torch.sigmoid(x @ self.W_xf + H @ self.W_hf + self.b_f)
        O = torch.sigmoid(x @ self.W_xo + H @ self.W_ho + self.b_o)
        C_tilde = torch.tanh(x @ self.W_xc + H @ self.W_hc + self.b_c)
        C = F * C + I * C_tilde
        H = O * torch.tanh(C)
        return H, C

    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """``X`` ``(steps, batch, input_size)`` → ``(Y (steps, batch, hidden), (H_T, C_T))``."""
        return super().forward(X, state)


class _FusedLSTMScan(torch.autograd.Function):
    """Time loop of the fused LSTM with a hand-written backward pass (BPTT).

    Inputs: ``XW`` ``(steps, batch, 4*hidden)`` (input projection plus bias, blocks i, f, o, c),
    ``W_h`` ``(hidden, 4*hidden)``, ``h0``, ``c0`` ``(batch, hidden)``.
    Outputs: ``Y`` ``(steps, batch, hidden)``, ``h_T``, ``c_T``.
    """

    @staticmethod
    def forward(ctx, XW, W_h, h0, c0):
        T, B, G = XW.shape
        Hd = G // 4
        gates = torch.empty_like(XW)  # activated gates i, f, o (sigmoid) and c~ (tanh)
        cs = XW.new_empty(T + 1, B, Hd)  # C_0 .. C_T
        tanh_cs = XW.new_empty(T, B, Hd)  # tanh(C_1) .. tanh(C_T)
        Y = XW.new_empty(T, B, Hd)
        cs[0] = c0
        h = h0
        for t in range(T):
            g = gates[t]
            torch.addmm(XW[t], h, W_h, out=g)  # the only matrix product inside the loop
            g[:, : 3 * Hd].sigmoid_()
            g[:, 3 * Hd :].tanh_()
            c = cs[t + 1]
            torch.mul(g[:, Hd : 2 * Hd], cs[t], out=c)  # F * C_{t-1}
            c.addcmul_(g[:, :Hd], g[:, 3 * Hd :])  # + I * C~
            torch.tanh(c, out=tanh_cs[t])
            h = torch.mul(g[:, 2 * Hd : 3 * Hd], tanh_cs[t], out=Y[t])
        ctx.save_for_backward(W_h, h0, gates, cs, tanh_cs, Y)
        return Y, Y[-1].clone(), cs[-1].clone()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dY, dh_T, dc_T):
        W_h, h0, gates, cs, tanh_cs, Y = ctx.saved_tensors
        T, B, G = gates.shape
        Hd = G // 4
        i, f, o, g = (gates[..., k * Hd : (k + 1) * Hd] for k in range(4))
        # Local derivatives of the pre-activations, for all steps at once (outside the loop):
        # d pre_i = dC * C~ * i(1-i); d pre_f = dC * C_{t-1} * f(1-f);
        # d pre_o = dH * tanh(C) * o(1-o); d pre_c = dC * I * (1 - C~^2).
        P = torch.empty_like(gates)
        torch.mul(i * (1 - i), g, out=P[..., :Hd])
        torch.mul(f * (1 - f), cs[:-1], out=P[..., Hd : 2 * Hd])
        torch.mul(o * (1 - o), tanh_cs, out=P[..., 2 * Hd : 3 * Hd])
        torch.mul(1 - g * g, i, out=P[..., 3 * Hd :])
        dC_dH = o * (1 - tanh_cs * tanh_cs)  # dC_t += dH_t * O_t * (1 - tanh^2 C_t)
        dG = torch.empty_like(gates)
        dh = dY[-1] + dh_T
        dc = dc_T.clone()
        W_hT = W_h.t()
        for t in range(T - 1, -1, -1):
            d, p = dG[t], P[t]
            dc.addcmul_(dh, dC_dH[t])
            torch.mul(dc.unsqueeze(1), p[:, : 2 * Hd].view(B, 2, Hd), out=d[:, : 2 * Hd].view(B, 2, Hd))
            torch.mul(dh, p[:, 2 * Hd : 3 * Hd], out=d[:, 2 * Hd : 3 * Hd])
            torch.mul(dc, p[:, 3 * Hd :], out=d[:, 3 * Hd :])
            dc.mul_(f[t])  # dC_{t-1} = dC_t * F_t
            dh = torch.addmm(dY[t - 1], d, W_hT) if t > 0 else d @ W_hT
        H_prev = torch.cat([h0.unsqueeze(0), Y[:-1]], dim=0)
        dW_h = H_prev.reshape(-1, Hd).t() @ dG.reshape(-1, G)
        return dG, dW_h, dh, dc


def fused_lstm_scan(
    XW: torch.Tensor, W_h: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run the fused LSTM recurrence over precomputed input projections.

    Args:
        XW: ``X @ W_x + b`` for all steps, ``(steps, batch, 4*hidden)``, blocks ``i, f, o, c``.
        W_h: ``(hidden, 4*hidden)``.
        h0, c0: ``(batch, hidden)``.

    Returns:
        ``(Y, h_T, c_T)``: ``Y`` ``(steps, batch, hidden)``; differentiable through a hand-written
        backward pass (first derivatives only).
    """
    return _FusedLSTMScan.apply(XW, W_h, h0, c0)


class FusedLSTMCell(RecurrentCell):
    """LSTM with the four gates fused: ``W_x`` ``(input, 4h)``, ``W_h`` ``(h, 4h)``, ``b`` ``(4h,)``.

    Column blocks are in the order ``i, f, o, c`` (:data:`FUSED_GATE_ORDER`): block ``k`` of
    ``W_x`` is the per-gate ``W_x{gate}``.  :meth:`forward` computes ``X @ W_x + b`` for all steps
    at once, then runs :func:`fused_lstm_scan`; with ``manual_backward=False`` the loop is plain
    autograd instead (slower; for comparison).  ``backend`` chooses where the hand-written time
    loops run: ``'python'`` (this module, the lesson), ``'cpp'`` (the same algorithm compiled as
    a C++ extension on first use, :mod:`lstm_course.torch.fused_cpp`) or ``'auto'`` (C++ when a
    compiler is present, otherwise Python, said once in a warning).
    """

    num_states = 2

    def __init__(
        self, input_size: int, hidden_size: int, *, manual_backward: bool = True, backend: str = "python"
    ) -> None:
        super().__init__()
        from lstm_course.torch.fused_cpp import BACKENDS

        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, received {backend!r}")
        if backend != "python" and not manual_backward:
            raise ValueError(f"backend={backend!r} runs the hand-written backward pass; it needs manual_backward=True")
        self.input_size, self.hidden_size = input_size, hidden_size
        self.manual_backward, self.backend = manual_backward, backend
        self.W_x = nn.Parameter(torch.empty(input_size, 4 * hidden_size))
        self.W_h = nn.Parameter(torch.empty(hidden_size, 4 * hidden_size))
        self.b = nn.Parameter(torch.empty(4 * hidden_size))
        self.reset_parameters()

    def extra_repr(self) -> str:
        """The sizes shown by ``print(module)``."""
        return f"{self.input_size}, {self.hidden_size}, manual_backward={self.manual_backward}"

    def step(self, x: torch.Tensor, state: State) -> State:
        """One step with a single ``(batch, 4h)`` pre-activation: ``x @ W_x + H @ W_h + b``."""
        H, C = state
        return self._step_preactivated(torch.addmm(self.b, x, self.W_x), H, C)

    def _step_preactivated(self, xw: torch.Tensor, H: torch.Tensor, C: torch.Tensor) -> State:
        h = self.hidden_size
        gates = xw + H @ self.W_h
        ifo = torch.sigmoid(gates[:, : 3 * h])
        I, F, O = ifo[:, :h], ifo[:, h : 2 * h], ifo[:, 2 * h :]
        C = F * C + I * torch.tanh(gates[:, 3 * h :])
        return O * torch.tanh(C), C

    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """``X`` ``(steps, batch, input_size)`` → ``(Y (steps, batch, hidden), (H_T, C_T))``."""
        self.check_input(X, state)
        T, B, _ = X.shape
        if state is None:
            state = self.init_state(B, device=X.device, dtype=X.dtype)
        # Hoisting: the input projection of every step in one (T*B, input) @ (input, 4h) product.
        XW = torch.addmm(self.b, X.reshape(T * B, self.input_size), self.W_x).view(T, B, 4 * self.hidden_size)
        if self.manual_backward:
            scan = fused_lstm_scan
            if self.backend != "python":
                from lstm_course.torch import fused_cpp

                if fused_cpp.resolve_backend(self.backend) == "cpp":
                    scan = fused_cpp.fused_lstm_scan_cpp
            Y, H, C = scan(XW, self.W_h, state[0], state[1])
            return Y, (H, C)
        H, C = state
        outputs = []
        for xw in XW:
            H, C = self._step_preactivated(xw, H, C)
            outputs.append(H)
        return torch.stack(outputs), (H, C)


class ScratchLSTM(StackedRNN):
    """Per-gate scratch LSTM with ``nn.LSTM`` semantics (layers, directions, ``batch_first``, dropout).

    ``forward(X, (h_0, c_0)=None) -> (output, (h_n, c_n))``; ``output`` is
    ``(steps, batch, D*hidden)``, ``h_n``/``c_n`` are ``(num_layers*D, batch, hidden)``, ``D`` = 1 or 2.
    Parameters live in ``self.cells[layer * D + direction]`` (see :meth:`lstm_course.torch.stack.StackedRNN.cell`).
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
    ) -> None:
        super().__init__(
            LSTMCell,
            input_size,
            hidden_size,
            num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            batch_first=batch_first,
        )


class FusedLSTM(StackedRNN):
    """Fused scratch LSTM (:class:`FusedLSTMCell` per layer and direction), ``nn.LSTM`` semantics.

    ``backend='cpp'`` runs the time loops in C++ (see :class:`FusedLSTMCell`).
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
        manual_backward: bool = True,
        backend: str = "python",
    ) -> None:
        def factory(inputs: int, hidden: int) -> FusedLSTMCell:
            return FusedLSTMCell(inputs, hidden, manual_backward=manual_backward, backend=backend)

        super().__init__(
            factory,
            input_size,
            hidden_size,
            num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            batch_first=batch_first,
        )
