"""Checkpoints: weights + vocabulary + tokenizer settings + configuration, loadable safely.

The file is ``torch.save`` of a dict holding only tensors and strings: ``state_dict`` (tensors)
and ``metadata`` (a JSON string).  :func:`load_checkpoint` reads it with
``torch.load(weights_only=True)``, which refuses to unpickle arbitrary objects, so opening a
checkpoint from someone else cannot run their code.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from lstm_course.data.reviews import PAD_TOKEN, TokenizerConfig
from lstm_course.data.vocab import Vocab
from lstm_course.torch.sentiment.model import ModelConfig, SentimentLSTM

FORMAT = "lstm_course.sentiment"
VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a usable sentiment checkpoint, or one that does not match what was expected."""


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns."""

    model: SentimentLSTM
    vocab: Vocab
    tokenizer: TokenizerConfig
    max_len: int
    extra: dict[str, Any] = field(default_factory=dict)


def vocab_fingerprint(vocab: Vocab) -> str:
    """SHA-256 of the index -> token list (order matters: it is what the embedding rows mean)."""
    return hashlib.sha256(json.dumps(vocab.idx_to_token, ensure_ascii=False).encode("utf-8")).hexdigest()


def save_checkpoint(path: str | Path, model: SentimentLSTM, vocab: Vocab, tokenizer: TokenizerConfig,
                    *, max_len: int, extra: dict[str, Any] | None = None) -> Path:
    """Write a checkpoint atomically (a temporary file renamed into place).

    Args:
        extra: JSON-serialisable information kept alongside (data settings, history, metrics).

    Raises:
        CheckpointError: the vocabulary does not fit the model.
    """
    _check_vocab_fits(model.config, vocab)
    metadata = {
        "format": FORMAT, "version": VERSION,
        "model_config": model.config.to_dict(),
        "tokenizer": tokenizer.to_dict(),
        "vocab": vocab.to_dict(),
        "vocab_sha256": vocab_fingerprint(vocab),
        "max_len": int(max_len),
        "extra": extra or {},
    }
    payload = {"format": FORMAT, "metadata": json.dumps(metadata, ensure_ascii=False),
               "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | Path, *, vocab: Vocab | None = None, device: Any = "cpu") -> Checkpoint:
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
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as exc:
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else 'no details'})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a sentiment checkpoint of lstm_course (format tag missing)")
    try:
        meta = json.loads(payload["metadata"])
        if meta.get("version", 0) > VERSION:
            raise CheckpointError(f"{path} has checkpoint version {meta['version']}; this lstm_course "
                                  f"reads up to version {VERSION} — upgrade lstm_course")
        config = ModelConfig.from_dict(meta["model_config"])
        tokenizer = TokenizerConfig.from_dict(meta["tokenizer"])
        saved_vocab = Vocab.from_dict(meta["vocab"])
        max_len = int(meta["max_len"])
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} has damaged metadata ({type(exc).__name__}: {exc})") from None
    if vocab_fingerprint(saved_vocab) != meta.get("vocab_sha256"):
        raise CheckpointError(f"{path}: the stored vocabulary does not match its fingerprint (edited or damaged)")
    _check_vocab_fits(config, saved_vocab)
    if vocab is not None and vocab != saved_vocab:
        raise CheckpointError(_vocab_difference(vocab, saved_vocab))
    model = SentimentLSTM(config)
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()
        raise CheckpointError(f"{path}: the weights do not fit the stored model configuration "
                              f"({' '.join(line.strip() for line in first[:3])})") from None
    model.to(device).eval()
    return Checkpoint(model, saved_vocab, tokenizer, max_len, meta.get("extra", {}))


def _check_vocab_fits(config: ModelConfig, vocab: Vocab) -> None:
    if len(vocab) != config.vocab_size:
        raise CheckpointError(f"vocabulary has {len(vocab)} tokens but the model's embedding has "
                              f"{config.vocab_size} rows")
    if vocab.to_tokens(config.pad_index) != PAD_TOKEN:
        raise CheckpointError(f"the model pads with index {config.pad_index}, which is "
                              f"{vocab.to_tokens(config.pad_index)!r} in the vocabulary, not {PAD_TOKEN!r}")


def _vocab_difference(expected: Vocab, saved: Vocab) -> str:
    if len(expected) != len(saved):
        return (f"vocabulary mismatch: the checkpoint was trained with {len(saved)} tokens, "
                f"the given vocabulary has {len(expected)}")
    i = next(i for i, (a, b) in enumerate(zip(expected.idx_to_token, saved.idx_to_token)) if a != b)
    return (f"vocabulary mismatch: index {i} is {saved.idx_to_token[i]!r} in the checkpoint but "
            f"{expected.idx_to_token[i]!r} in the given vocabulary")
