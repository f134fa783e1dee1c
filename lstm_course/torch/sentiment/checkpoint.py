"""Checkpoints: weights + vocabulary + tokenizer settings + configuration, loadable safely.

The file format (tensors and a JSON ``metadata`` string, atomic write, ``weights_only=True``
load, so opening a checkpoint from someone else cannot run their code) is
:mod:`lstm_course.torch.checkpoint_io`'s; this module decides what the metadata holds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lstm_course.data.review_tokens import TokenizerConfig
from lstm_course.data.reviews import PAD_TOKEN
from lstm_course.data.vocab import Vocab
from lstm_course.torch.checkpoint_io import (
    CheckpointError,
    build_checked,
    read_checkpoint,
    vocab_difference,
    write_checkpoint,
)
from lstm_course.torch.sentiment.model import SentimentConfig, SentimentLSTM

__all__ = ["CheckpointError", "SentimentCheckpoint", "save_checkpoint", "load_checkpoint", "vocab_fingerprint"]

FORMAT = "lstm_course.sentiment"
VERSION = 1


@dataclass
class SentimentCheckpoint:
    """What :func:`load_checkpoint` returns."""

    model: SentimentLSTM
    vocab: Vocab
    tokenizer: TokenizerConfig
    max_len: int
    extra: dict[str, Any] = field(default_factory=dict)


def vocab_fingerprint(vocab: Vocab) -> str:
    """SHA-256 of the index -> token list (order matters: it is what the embedding rows mean)."""
    return hashlib.sha256(json.dumps(vocab.idx_to_token, ensure_ascii=False).encode("utf-8")).hexdigest()


def save_checkpoint(
    path: str | Path,
    model: SentimentLSTM,
    vocab: Vocab,
    tokenizer: TokenizerConfig,
    *,
    max_len: int,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically (a temporary file renamed into place).

    Args:
        extra: JSON-serialisable information kept alongside (data settings, history, metrics).

    Raises:
        CheckpointError: the vocabulary does not fit the model.
    """
    _check_vocab_fits(model.config, vocab)
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": model.config.to_dict(),
        "tokenizer": tokenizer.to_dict(),
        "vocab": vocab.to_dict(),
        "vocab_sha256": vocab_fingerprint(vocab),
        "max_len": int(max_len),
        "extra": extra or {},
    }
    return write_checkpoint(Path(path), FORMAT, metadata, model)


def load_checkpoint(path: str | Path, *, vocab: Vocab | None = None, device: Any = "cpu") -> SentimentCheckpoint:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``).

    Args:
        vocab: if given, the vocabulary the caller expects; a different one is an error, because
            the embedding rows would mean other tokens.
        device: where to put the model.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: not a sentiment checkpoint, a newer format, an inconsistent vocabulary,
            weights that do not fit the configuration, or ``vocab`` differing from the saved one.
    """
    path = Path(path)
    meta, state_dict = read_checkpoint(path, FORMAT, VERSION, "sentiment")
    try:
        config = SentimentConfig.from_dict(meta["model_config"])
        tokenizer = TokenizerConfig.from_dict(meta["tokenizer"])
        saved_vocab = Vocab.from_dict(meta["vocab"])
        max_len = meta["max_len"]
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise CheckpointError(f"{path} has damaged metadata ({type(exc).__name__}: {exc})") from None
    if not isinstance(max_len, int) or isinstance(max_len, bool) or max_len < 1:
        raise CheckpointError(f"{path} has damaged metadata (max_len must be a positive int, got {max_len!r})")
    if vocab_fingerprint(saved_vocab) != meta.get("vocab_sha256"):
        raise CheckpointError(f"{path}: the stored vocabulary does not match its fingerprint (edited or damaged)")
    _check_vocab_fits(config, saved_vocab)
    if vocab is not None and vocab != saved_vocab:
        raise CheckpointError(vocab_difference(vocab, saved_vocab))
    model = build_checked(lambda: SentimentLSTM(config), state_dict, path)
    model.to(device).eval()
    extra = meta.get("extra", {})
    return SentimentCheckpoint(model, saved_vocab, tokenizer, max_len, extra if isinstance(extra, dict) else {})


def _check_vocab_fits(config: SentimentConfig, vocab: Vocab) -> None:
    if len(vocab) != config.vocab_size:
        raise CheckpointError(
            f"vocabulary has {len(vocab)} tokens but the model's embedding has {config.vocab_size} rows"
        )
    if vocab.to_tokens(config.pad_index) != PAD_TOKEN:
        raise CheckpointError(
            f"the model pads with index {config.pad_index}, which is "
            f"{vocab.to_tokens(config.pad_index)!r} in the vocabulary, not {PAD_TOKEN!r}"
        )
