"""The classifier: Embedding(padding_idx) -> LSTM over packed sequences -> Linear -> one logit."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


@dataclass
class SentimentConfig:
    """Hyper-parameters of :class:`SentimentLSTM`; stored in checkpoints.

    Attributes:
        vocab_size: rows of the embedding table (= ``len(vocab)``).
        pad_index: index of ``<pad>``; its embedding stays zero and is never trained.
        embedding_dim, hidden_size, num_layers: sizes of the embedding (PyTorch's
            ``nn.Embedding(num_embeddings, embedding_dim)``) and of the LSTM.
        bidirectional: run a second LSTM right-to-left and concatenate both final states.
        dropout: applied to the embeddings, between LSTM layers and before the output layer.
        pooling: ``'last'`` uses the final hidden state(s); ``'last+max'`` also concatenates the
            element-wise maximum of the top layer's outputs over the true time steps.
    """

    vocab_size: int
    pad_index: int = 1
    embedding_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.3
    pooling: str = "last"

    def __post_init__(self) -> None:
        if self.pooling not in ("last", "last+max"):
            raise ValueError(f"pooling must be 'last' or 'last+max', got {self.pooling!r}")
        if not 0 <= self.pad_index < self.vocab_size:
            raise ValueError(f"pad_index {self.pad_index} outside the vocabulary of size {self.vocab_size}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        """The configuration as a JSON-serialisable dict (stored in checkpoints)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SentimentConfig:
        """Rebuild the configuration written by :meth:`to_dict`.

        Checkpoints written before the rename store the embedding size as ``embed_size``; that
        key is read as ``embedding_dim``.
        """
        data = dict(data)
        if "embed_size" in data:
            if "embedding_dim" in data:
                raise ValueError("both embed_size (old name) and embedding_dim given")
            data["embedding_dim"] = data.pop("embed_size")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model settings {sorted(unknown)}")
        return cls(**data)


class SentimentLSTM(nn.Module):
    """Binary sentiment classifier over token indices.

    ``forward(tokens, lengths)`` takes time-major ``tokens`` of shape ``(steps, batch)``
    (``batch_first=True``: ``(batch, steps)``) padded with ``pad_index``, and ``lengths`` of
    shape ``(batch,)`` with the true lengths (>= 1).  It returns logits of shape ``(batch,)``:
    ``sigmoid(logit)`` is the probability of the positive label.

    The embedded batch is packed with ``pack_padded_sequence``, so padding never enters the
    recurrence: the final state of each review is the state after its own last token, and the
    backward direction starts at the true last token instead of at a pad.
    """

    def __init__(self, config: SentimentConfig, *, batch_first: bool = False) -> None:
        super().__init__()
        self.config = config
        self.batch_first = batch_first
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=config.pad_index)
        self.lstm = nn.LSTM(
            config.embedding_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(config.dropout)
        directions = 2 if config.bidirectional else 1
        features = directions * config.hidden_size * (2 if config.pooling == "last+max" else 1)
        self.output = nn.Linear(features, 1)

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The features the output layer sees, shape ``(batch, features)``."""
        if tokens.dim() != 2:
            raise ValueError(f"tokens must have shape (steps, batch), got {tuple(tokens.shape)}")
        if self.batch_first:
            tokens = tokens.transpose(0, 1)
        steps, batch = tokens.shape
        lengths = torch.as_tensor(lengths).to("cpu", torch.int64)
        if lengths.shape != (batch,):
            raise ValueError(f"lengths must have shape ({batch},), got {tuple(lengths.shape)}")
        if batch and (int(lengths.min()) < 1 or int(lengths.max()) > steps):
            raise ValueError(
                f"lengths must lie in [1, {steps}], got min {int(lengths.min())} and max {int(lengths.max())}"
            )
        embedded = self.dropout(self.embedding(tokens))  # (steps, batch, embed)
        packed = pack_padded_sequence(embedded, lengths, enforce_sorted=False)
        outputs, (h_n, _) = self.lstm(packed)  # h_n: (layers*dirs, batch, hidden)
        if self.config.bidirectional:
            features = torch.cat([h_n[-2], h_n[-1]], dim=1)  # forward, backward of the top layer
        else:
            features = h_n[-1]
        if self.config.pooling == "last+max":
            from torch.nn.utils.rnn import pad_packed_sequence

            padded, _ = pad_packed_sequence(outputs, padding_value=float("-inf"))  # (steps, batch, dirs*hidden)
            features = torch.cat([features, padded.max(dim=0).values], dim=1)
        return features

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch,)`` for token indices ``(steps, batch)`` with true ``lengths`` ``(batch,)``."""
        return self.output(self.dropout(self.encode(tokens, lengths))).squeeze(1)
