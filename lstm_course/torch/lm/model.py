"""A language model around any recurrent module with the ``torch.nn.LSTM``/``nn.GRU``/``nn.RNN`` interface.

:class:`RNNLM` = input layer (one-hot, as in d2l, or an ``nn.Embedding``) → recurrent module →
``nn.Linear`` output layer.  The recurrent module only needs ``forward(X, state) -> (output,
state_n)`` with time-major ``X`` ``(steps, batch, input_size)`` and attributes ``input_size``,
``hidden_size``: ``nn.LSTM``, ``nn.GRU``, ``nn.RNN`` and the scratch modules of
:mod:`lstm_course.torch.lstm` all qualify.

:class:`LMConfig` describes a model completely (it is what a checkpoint stores) and
:func:`build_lm` turns it into an :class:`RNNLM`; :func:`build_rnn` picks the recurrent module
for a ``cell`` (``'rnn'``, ``'lstm'``, ``'gru'``) and an ``impl``:

* ``'framework'`` — ``torch.nn.RNN``/``nn.LSTM``/``nn.GRU`` (cuDNN/oneDNN kernels);
* ``'scratch'`` — the readable per-gate :class:`~lstm_course.torch.lstm.ScratchLSTM`,
  :class:`~lstm_course.torch.gru.ScratchGRU` (framework variant, = ``nn.GRU``) or
  :class:`~lstm_course.torch.rnn.ScratchRNN`;
* ``'fused'`` — :class:`~lstm_course.torch.lstm.FusedLSTM` (four gates in one matrix product,
  hand-written BPTT) or :class:`~lstm_course.torch.gru.FusedGRU` (three gates, autograd).

Loss and perplexity live in :mod:`lstm_course.torch.lm.evaluate`, training in :mod:`lstm_course.torch.lm.train`, generation in
:mod:`lstm_course.torch.lm.generation`, checkpoints in :mod:`lstm_course.torch.lm.checkpoint` (all re-exported by :mod:`lstm_course.torch.lm`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["CELLS", "IMPLS", "TOKENS", "LMConfig", "RNNLM", "build_rnn", "build_lm", "detach_state"]

#: Recurrent cells an :class:`LMConfig` can name.
CELLS = ("rnn", "lstm", "gru")
#: Implementations: PyTorch's layers, the per-gate scratch cells, the fused scratch cells.
IMPLS = ("framework", "scratch", "fused")
#: Token kinds (as in :func:`lstm_course.data.timemachine.tokenize`).
TOKENS = ("char", "word")

State = torch.Tensor | tuple[torch.Tensor, ...]
_FRAMEWORK = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _scratch_classes() -> dict[tuple[str, str], type]:
    from lstm_course.torch.gru import FusedGRU, ScratchGRU
    from lstm_course.torch.lstm import FusedLSTM, ScratchLSTM
    from lstm_course.torch.rnn import ScratchRNN

    return {
        ("lstm", "scratch"): ScratchLSTM,
        ("lstm", "fused"): FusedLSTM,
        ("gru", "scratch"): ScratchGRU,
        ("gru", "fused"): FusedGRU,
        ("rnn", "scratch"): ScratchRNN,
    }


def build_rnn(
    cell: str, impl: str, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0
) -> nn.Module:
    """A time-major recurrent module with the ``nn.LSTM`` call interface.

    ``dropout`` applies between stacked layers (ignored when ``num_layers == 1``).

    Raises:
        ValueError: unknown ``cell``/``impl``, or a combination that has no implementation
            (scratch: LSTM, GRU and RNN; fused: LSTM and GRU).
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, received {cell!r}")
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS}, received {impl!r}")
    dropout = dropout if num_layers > 1 else 0.0  # between layers only; nn.LSTM warns otherwise
    if impl == "framework":
        return _FRAMEWORK[cell](input_size, hidden_size, num_layers, dropout=dropout)
    classes = _scratch_classes()
    if (cell, impl) not in classes:
        available = ", ".join(f"{c}/{i}" for c, i in classes)
        raise ValueError(
            f"no {impl!r} implementation of {cell!r} in lstm_course; available scratch "
            f"modules: {available} (use impl='framework' for {cell!r})"
        )
    return classes[cell, impl](input_size, hidden_size, num_layers, dropout=dropout)


@dataclass(frozen=True)
class LMConfig:
    """Everything needed to rebuild an :class:`RNNLM` (saved in checkpoints).

    Attributes:
        vocab_size: number of tokens (input and output size).
        cell: ``'rnn'``, ``'lstm'`` or ``'gru'``.
        impl: ``'framework'``, ``'scratch'`` or ``'fused'``.
        hidden_size: units per layer.
        num_layers: stacked layers.
        dropout: dropout on the non-recurrent connections (Zaremba et al.): the embedded input
            (with ``embedding_dim > 0``), between layers and before the output layer.
        embedding_dim: ``0`` for one-hot input (d2l), else the size of an ``nn.Embedding``.
        token: ``'char'`` or ``'word'`` — how a prefix is split and output joined.
    """

    vocab_size: int
    cell: str = "lstm"
    impl: str = "framework"
    hidden_size: int = 256
    num_layers: int = 1
    dropout: float = 0.0
    embedding_dim: int = 0
    token: str = "char"

    def __post_init__(self) -> None:
        for name in ("vocab_size", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, received {value!r}")
        if not isinstance(self.embedding_dim, int) or self.embedding_dim < 0:
            raise ValueError(f"embedding_dim must be an int >= 0 (0 = one-hot), received {self.embedding_dim!r}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, received {self.cell!r}")
        if self.impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, received {self.impl!r}")
        if self.token not in TOKENS:
            raise ValueError(f"token must be one of {TOKENS}, received {self.token!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), received {self.dropout!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LMConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown LMConfig fields: {unknown}")
        return cls(**data)


class RNNLM(nn.Module):
    """Language model: tokens ``(batch, steps)`` → logits ``(steps, batch, vocab_size)``.

    Args:
        rnn: time-major recurrent module (``nn.LSTM`` interface, one direction).
        vocab_size: number of tokens.
        embedding_dim: ``None``/``0`` feeds one-hot vectors (``rnn.input_size`` must equal
            ``vocab_size``); otherwise an ``nn.Embedding(vocab_size, embedding_dim)`` feeds
            ``rnn`` (whose ``input_size`` must equal ``embedding_dim``).
        dropout: dropout probability on the embedded input (embedding only) and on the recurrent
            module's output before the output layer; dropout *between* layers is the recurrent
            module's own ``dropout``.
        config: the :class:`LMConfig` this model was built from (set by :func:`build_lm`).

    ``forward(X, state=None) -> (logits, state_n)``: ``X`` are token indices of shape
    ``(batch, steps)`` (d2l's batch layout); ``logits`` are time-major
    ``(steps, batch, vocab_size)``; ``state`` is whatever ``rnn`` takes (``None`` = zeros).
    """

    def __init__(
        self,
        rnn: nn.Module,
        vocab_size: int,
        *,
        embedding_dim: int | None = None,
        dropout: float = 0.0,
        config: LMConfig | None = None,
    ) -> None:
        super().__init__()
        if getattr(rnn, "batch_first", False):
            raise ValueError("rnn must be time-major (batch_first=False)")
        if getattr(rnn, "bidirectional", False):
            raise ValueError("a language model reads left to right: rnn must not be bidirectional")
        input_size = getattr(rnn, "input_size", None)
        expected = embedding_dim or vocab_size
        if input_size is not None and input_size != expected:
            what = f"embedding_dim={embedding_dim}" if embedding_dim else f"vocab_size={vocab_size} (one-hot)"
            raise ValueError(f"rnn.input_size: expected {expected} to match {what}, received {input_size}")
        self.vocab_size = vocab_size
        self.rnn = rnn
        self.embedding = nn.Embedding(vocab_size, embedding_dim) if embedding_dim else None
        self.output = nn.Linear(rnn.hidden_size, vocab_size)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.config = config

    def embed(self, X: torch.Tensor) -> torch.Tensor:
        """Token indices ``(batch, steps)`` → time-major inputs ``(steps, batch, input_size)``."""
        if X.dim() != 2:
            raise ValueError(f"X: expected token indices of shape (batch, steps), received {tuple(X.shape)}")
        X = X.T.long()
        if self.embedding is not None:
            E = self.embedding(X)
            return self.dropout(E) if self.dropout is not None else E
        return F.one_hot(X, self.vocab_size).to(self.output.weight.dtype)

    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """``X`` ``(batch, steps)`` → ``(logits (steps, batch, vocab_size), state_n)``."""
        Y, state = self.rnn(self.embed(X), state)
        if self.dropout is not None:
            Y = self.dropout(Y)
        return self.output(Y), state


def build_lm(config: LMConfig) -> RNNLM:
    """The :class:`RNNLM` described by ``config`` (freshly initialised)."""
    input_size = config.embedding_dim or config.vocab_size
    rnn = build_rnn(config.cell, config.impl, input_size, config.hidden_size, config.num_layers, config.dropout)
    return RNNLM(
        rnn, config.vocab_size, embedding_dim=config.embedding_dim or None, dropout=config.dropout, config=config
    )


def detach_state(state: State | None) -> State | None:
    """Cut the graph behind a carried state (a tensor or a tuple of tensors)."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    return tuple(s.detach() for s in state)
