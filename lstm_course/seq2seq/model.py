"""The LSTM encoder–decoder.

The encoder reads the packed source; its final ``(h, c)`` initialises the decoder.  The
decoder is an LSTM over the (teacher-forced or generated) target tokens; with attention, each
decoder state ``s_t`` looks at the encoder outputs and the output layer reads
``tanh(W_c [s_t; c_t])`` (Luong's global attention), otherwise it reads ``s_t`` alone.
Because attention sits after the recurrence, a teacher-forced step-by-step run equals the
one-call forward pass (tested).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_course.config import by_profile
from lstm_course.seq2seq.attention import make_attention

__all__ = ["ModelConfig", "model_config", "Encoder", "Decoder", "Seq2Seq", "State"]

State = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the encoder–decoder; ``attention`` is ``'none'``, ``'additive'`` or ``'dot'``."""

    src_vocab: int
    tgt_vocab: int
    pad_index: int = 1
    embed_size: int = 32
    hidden_size: int = 128
    num_layers: int = 1
    attention: str = "additive"
    attn_size: int = 64

    def to_dict(self) -> dict:
        """JSON-serialisable, for checkpoints."""
        return asdict(self)


def model_config(src_vocab: int, tgt_vocab: int, **overrides) -> ModelConfig:
    """The profile's model sizes with ``overrides`` applied."""
    base = by_profile(quick=dict(hidden_size=64), full=dict(hidden_size=128))
    return ModelConfig(src_vocab=src_vocab, tgt_vocab=tgt_vocab, **{**base, **overrides})


class Encoder(nn.Module):
    """Embedding + LSTM over the packed source."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(cfg.src_vocab, cfg.embed_size, padding_idx=cfg.pad_index)
        self.lstm = nn.LSTM(cfg.embed_size, cfg.hidden_size, cfg.num_layers)

    def forward(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[torch.Tensor, State]:
        """``src (src_steps, batch)`` -> outputs ``(src_steps, batch, hidden)`` (0 on padding), ``(h_n, c_n)``.

        ``h_n``/``c_n`` are ``(layers, batch, hidden)``, taken at each source's true last token.
        """
        packed = pack_padded_sequence(self.embedding(src), src_len.cpu(), enforce_sorted=False)
        outputs, state = self.lstm(packed)
        outputs, _ = pad_packed_sequence(outputs, total_length=src.shape[0])
        return outputs, state


class Decoder(nn.Module):
    """Embedding + LSTM over target tokens, optional attention, linear output layer."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(cfg.tgt_vocab, cfg.embed_size, padding_idx=cfg.pad_index)
        self.lstm = nn.LSTM(cfg.embed_size, cfg.hidden_size, cfg.num_layers)
        self.attention = make_attention(cfg.attention, cfg.hidden_size, cfg.attn_size)
        if self.attention is not None:
            self.combine = nn.Linear(2 * cfg.hidden_size, cfg.hidden_size)
        self.output = nn.Linear(cfg.hidden_size, cfg.tgt_vocab)

    def forward(
        self, tokens: torch.Tensor, state: State, memory: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, State, torch.Tensor | None]:
        """Decode ``tokens (tgt_steps, batch)`` from ``state``.

        Returns logits ``(tgt_steps, batch, tgt_vocab)``, the new state and the attention
        weights ``(tgt_steps, batch, src_steps)`` (``None`` without attention).
        """
        outputs, state = self.lstm(self.embedding(tokens), state)
        weights = None
        if self.attention is not None:
            context, weights = self.attention(outputs, memory, mask)
            outputs = torch.tanh(self.combine(torch.cat([outputs, context], dim=-1)))
        return self.output(outputs), state, weights


class Seq2Seq(nn.Module):
    """Encoder–decoder; ``forward`` is the teacher-forced pass used in training."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, State]:
        """Memory ``(src_steps, batch, hidden)``, mask ``(src_steps, batch)`` and the decoder's initial state."""
        memory, state = self.encoder(src, src_len)
        steps = torch.arange(src.shape[0], device=src.device).unsqueeze(1)
        return memory, steps < src_len.to(src.device).unsqueeze(0), state

    def forward(self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits ``(tgt_steps, batch, tgt_vocab)`` for ``tgt_in (tgt_steps, batch)``."""
        memory, mask, state = self.encode(src, src_len)
        logits, _, _ = self.decoder(tgt_in, state, memory, mask)
        return logits
