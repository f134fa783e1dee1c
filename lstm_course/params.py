"""Parameter counts of RNN, LSTM and GRU layers, exactly as PyTorch and Keras count them.

With ``g`` gates (RNN 1, LSTM 4, GRU 3), input size ``x`` and hidden size ``h``, one layer and
direction has ``g * (x*h + h*h)`` weights plus biases, and the frameworks differ only in biases:

* ``'textbook'`` (d2l, the NumPy and scratch implementations): one bias per gate, ``g*h`` — except
  the GRU in its framework form (``reset_after=True``: reset gate after the recurrent product, see
  :mod:`lstm_course.numpy.gru`), whose candidate has a second, recurrent bias ``b_hh``: ``(g+1)*h``;
* ``'keras'``: one bias per gate too, except ``GRU(reset_after=True)`` (the default), which has
  separate input and recurrent biases, ``2*g*h``;
* ``'torch'``: always two biases per gate (``bias_ih`` and ``bias_hh``), ``2*g*h`` — for the RNN
  and LSTM one of them is redundant (only the sum enters the equations), for the GRU the
  recurrent bias of the candidate sits inside the reset gate's product and is not redundant.

Layer ``l > 0`` of a stack reads ``num_directions * h`` features (``num_directions * proj_size``
with a PyTorch LSTM projection); a bidirectional layer is two independent directions.

The same ``g`` gives the cost model of chapter 10, :func:`flops_per_token`: each gate block is one
``(x + h) × h`` matrix product per token, ``2 g h (x + h)`` FLOPs.
"""

from __future__ import annotations

from lstm_course.layout import GATES_PER_CELL

__all__ = ["GATES_PER_CELL", "FRAMEWORKS", "parameter_count", "flops_per_token"]

#: Accepted values of ``framework``.
FRAMEWORKS = ("torch", "keras", "textbook")


def _positive(name: str, value: int, *, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, received {value!r}")


def parameter_count(
    cell: str,
    input_size: int,
    hidden_size: int,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    framework: str = "torch",
    bias: bool = True,
    proj_size: int = 0,
    reset_after: bool | None = None,
) -> int:
    """Number of trainable parameters of a (stacked, optionally bidirectional) recurrent layer.

    Equals ``sum(p.numel() for p in nn.RNN/nn.LSTM/nn.GRU(...).parameters())`` for
    ``framework='torch'`` and ``count_params()`` of ``num_layers`` stacked
    ``keras.layers.SimpleRNN/LSTM/GRU`` (wrapped in ``Bidirectional`` if asked) for ``'keras'``.

    Args:
        cell: ``'rnn'``, ``'lstm'`` or ``'gru'``.
        input_size, hidden_size: feature sizes (Keras ``units`` = ``hidden_size``).
        num_layers: stacked layers.
        bidirectional: two directions per layer.
        framework: ``'torch'``, ``'keras'`` or ``'textbook'`` (one bias per gate).
        bias: ``False`` for layers without biases (``bias=False`` / ``use_bias=False``).
        proj_size: PyTorch LSTM projection size (``framework='torch'``, ``cell='lstm'`` only).
        reset_after: GRU only: where the reset gate acts.  ``None`` means each framework's own form:
            ``True`` for Keras (its default, matching PyTorch), ``False`` for ``'textbook'`` (Cho et
            al., d2l).  ``'textbook'`` with ``True`` counts the course's framework-variant scratch GRU;
            PyTorch has only ``True``.
    """
    if cell not in GATES_PER_CELL:
        raise ValueError(f"cell: expected one of {sorted(GATES_PER_CELL)}, received {cell!r}")
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework: expected one of {FRAMEWORKS}, received {framework!r}")
    _positive("input_size", input_size)
    _positive("hidden_size", hidden_size)
    _positive("num_layers", num_layers)
    _positive("proj_size", proj_size, allow_zero=True)
    if proj_size and not (framework == "torch" and cell == "lstm"):
        raise ValueError("proj_size is only defined for the PyTorch LSTM (framework='torch', cell='lstm')")
    if proj_size >= hidden_size:
        raise ValueError(f"proj_size must be smaller than hidden_size={hidden_size}, received {proj_size}")

    if reset_after is not None and cell != "gru":
        raise ValueError(f"reset_after is a GRU setting; received reset_after={reset_after!r} for cell={cell!r}")
    if reset_after is False and framework == "torch":
        raise ValueError(
            "torch.nn.GRU always applies the reset gate after the recurrent product; "
            "reset_after=False exists only for framework='keras' or 'textbook'"
        )
    if reset_after is None:
        reset_after = framework != "textbook"

    g, h = GATES_PER_CELL[cell], hidden_size
    if not bias:
        biases = 0
    elif framework == "torch" or (framework == "keras" and cell == "gru" and reset_after):
        biases = 2 * g * h
    elif framework == "textbook" and cell == "gru" and reset_after:
        biases = (g + 1) * h  # b_r, b_z, b_h and the recurrent candidate bias b_hh
    else:
        biases = g * h
    out = proj_size or h  # what the recurrence and the next layer see
    directions = 2 if bidirectional else 1
    total, x = 0, input_size
    for _ in range(num_layers):
        per_direction = g * h * x + g * h * out + biases + (proj_size * h if proj_size else 0)
        total += directions * per_direction
        x = directions * out
    return total


def flops_per_token(cell: str, input_size: int, hidden_size: int, *, train: bool = False) -> int:
    """Matrix-product FLOPs of one recurrent layer per token: ``2 G H (X + H)``, ×3 for training.

    ``G`` is the number of gate blocks (:data:`GATES_PER_CELL`: RNN 1, GRU 3, LSTM 4), so the LSTM
    gives ``8 H (X + H)``; training adds the input and the weight gradient, two more products of
    the same size.  Element-wise work, the output layer and the optimiser are not counted.
    """
    if cell not in GATES_PER_CELL:
        raise ValueError(f"cell must be one of {tuple(GATES_PER_CELL)}, received {cell!r}")
    if min(input_size, hidden_size) < 1:
        raise ValueError(f"sizes must be positive, received input_size={input_size}, hidden_size={hidden_size}")
    forward = 2 * GATES_PER_CELL[cell] * hidden_size * (input_size + hidden_size)
    return 3 * forward if train else forward
