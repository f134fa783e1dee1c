"""Parameter layouts of the recurrent cells: the facts every implementation and converter shares.

The bottom layer of the package: it imports nothing of ``lstm_course`` (and no framework), so
the NumPy cells, the PyTorch and TensorFlow modules, :mod:`lstm_course.convert`,
:mod:`lstm_course.params` and the experiments all read gate letters, parameter names and gate
orders from here, once.

One layer and direction of a cell is a dict of arrays under d2l's names (row vectors: a gate
``g`` computes ``X_t @ W_xg + H_{t-1} @ W_hg + b_g``).  Frameworks stack the per-gate blocks
along one axis in their own order; :class:`CellLayout` records that order for ``torch.nn``,
``keras.layers`` and the course's fused cells.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CellLayout",
    "LAYOUTS",
    "GATES_PER_CELL",
    "RNN_PARAM_NAMES",
    "LSTM_GATES",
    "LSTM_PARAM_NAMES",
    "TORCH_LSTM_ORDER",
    "KERAS_LSTM_ORDER",
    "FUSED_LSTM_ORDER",
    "GRU_GATES",
    "GRU_PARAM_NAMES",
    "GRU_FRAMEWORK_PARAM_NAMES",
    "GRU_VARIANTS",
    "DEFAULT_GRU_VARIANT",
    "TORCH_GRU_ORDER",
    "KERAS_GRU_ORDER",
    "FUSED_GRU_ORDER",
    "gate_param_names",
    "gru_param_names",
]


def gate_param_names(gates: tuple[str, ...]) -> tuple[str, ...]:
    """``W_x{g}, W_h{g}, b_{g}`` for each gate letter, in order."""
    return tuple(name for g in gates for name in (f"W_x{g}", f"W_h{g}", f"b_{g}"))


#: The vanilla RNN: one "gate", the hidden state itself.
RNN_PARAM_NAMES = ("W_xh", "W_hh", "b_h")

#: d2l's LSTM letters: input, forget, output gate, candidate memory (c = torch's ``g``).
LSTM_GATES = ("i", "f", "o", "c")
#: The twelve parameter arrays of one LSTM layer and direction.
LSTM_PARAM_NAMES = gate_param_names(LSTM_GATES)
#: Gate block order of ``torch.nn.LSTM`` (``i, f, g, o`` in PyTorch's letters).
TORCH_LSTM_ORDER = ("i", "f", "c", "o")
#: Gate block order of ``keras.layers.LSTM``.
KERAS_LSTM_ORDER = ("i", "f", "c", "o")
#: Gate block order of the course's fused LSTM cells.
FUSED_LSTM_ORDER = ("i", "f", "o", "c")

#: d2l's GRU letters: reset gate, update gate, candidate hidden state (h = torch's ``n``).
GRU_GATES = ("r", "z", "h")
#: The nine parameter arrays of one textbook GRU layer and direction (one bias per gate).
GRU_PARAM_NAMES = gate_param_names(GRU_GATES)
#: The framework form (reset gate after the recurrent product) adds the candidate's recurrent bias.
GRU_FRAMEWORK_PARAM_NAMES = GRU_PARAM_NAMES + ("b_hh",)
#: The two GRU formulations: reset gate before (Cho et al. 2014) or after the recurrent product.
GRU_VARIANTS = ("textbook", "framework")
#: The variant the framework-matching modules (torch, TF scratch) build unless told otherwise.
DEFAULT_GRU_VARIANT = "framework"
#: Gate block order of ``torch.nn.GRU`` (``r, z, n`` in PyTorch's letters).
TORCH_GRU_ORDER = ("r", "z", "h")
#: Gate block order of ``keras.layers.GRU``.
KERAS_GRU_ORDER = ("z", "r", "h")
#: Gate block order of the course's fused GRU cells.
FUSED_GRU_ORDER = ("r", "z", "h")


def gru_param_names(variant: str) -> tuple[str, ...]:
    """The GRU parameter names of ``variant`` (nine, plus ``b_hh`` for ``'framework'``)."""
    if variant not in GRU_VARIANTS:
        raise ValueError(f"variant: expected one of {GRU_VARIANTS}, received {variant!r}")
    return GRU_FRAMEWORK_PARAM_NAMES if variant == "framework" else GRU_PARAM_NAMES


@dataclass(frozen=True)
class CellLayout:
    """Where one cell kind keeps its parameters, in every layout the course converts between.

    Attributes:
        kind: ``'rnn'``, ``'lstm'`` or ``'gru'``.
        gates: d2l's gate letters (the per-gate dict names are ``W_x{g}, W_h{g}, b_{g}``).
        torch_order, keras_order, fused_order: the gate block order along the stacked axis.
    """

    kind: str
    gates: tuple[str, ...]
    torch_order: tuple[str, ...]
    keras_order: tuple[str, ...]
    fused_order: tuple[str, ...]

    @property
    def gate_count(self) -> int:
        """Gate blocks stacked along the ``gate_count * hidden`` axis of the fused layouts."""
        return len(self.gates)

    def names(self, variant: str | None = None) -> tuple[str, ...]:
        """The parameter names of one layer and direction (``variant``: GRU only)."""
        if self.kind == "gru":
            return gru_param_names(variant or "textbook")
        return gate_param_names(self.gates) if self.kind == "lstm" else RNN_PARAM_NAMES


#: The layout of each cell kind.
LAYOUTS = {
    "rnn": CellLayout("rnn", ("h",), ("h",), ("h",), ("h",)),
    "lstm": CellLayout("lstm", LSTM_GATES, TORCH_LSTM_ORDER, KERAS_LSTM_ORDER, FUSED_LSTM_ORDER),
    "gru": CellLayout("gru", GRU_GATES, TORCH_GRU_ORDER, KERAS_GRU_ORDER, FUSED_GRU_ORDER),
}
#: Gate blocks per cell kind (the factor in ``gates * h * (h + x + ...)``).
GATES_PER_CELL = {kind: layout.gate_count for kind, layout in LAYOUTS.items()}
