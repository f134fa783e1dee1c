"""Language-model checkpoints: weights + vocabulary + configuration in one safely loadable file.

The file is ``torch.save`` of a dict holding only tensors and strings — ``state_dict`` and a JSON
``metadata`` string (format tag, :class:`~lstm_course.torch.lm.LMConfig`, vocabulary, anything
JSON-serialisable in ``extra`` such as the training history).  :func:`load_checkpoint` reads it
with ``torch.load(weights_only=True)``, which refuses to unpickle arbitrary objects.

Loading checks that the pieces fit: the vocabulary size equals the model's, a vocabulary or
configuration the caller passes equals the stored one, and the weights fit the configuration;
any mismatch is a :class:`CheckpointError` saying what differs.
"""
from __future__ import annotations

import json
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from lstm_course.data.vocab import Vocab
from lstm_course.torch.lm import LMConfig, RNNLM, build_lm

__all__ = ["CheckpointError", "LMCheckpoint", "save_checkpoint", "load_checkpoint", "CHECKPOINT_NAME"]

FORMAT = "lstm_course.lm"
VERSION = 1
#: File name used inside a run folder (``lstm-course lm train --out DIR``).
CHECKPOINT_NAME = "checkpoint.pt"


class CheckpointError(ValueError):
    """Not a usable language-model checkpoint, or one that does not match what was expected."""


@dataclass
class LMCheckpoint:
    """What :func:`load_checkpoint` returns."""

    model: RNNLM
    vocab: Vocab
    config: LMConfig
    extra: dict[str, Any] = field(default_factory=dict)


def _resolve(path: str | Path) -> Path:
    path = Path(path)
    return path / CHECKPOINT_NAME if path.is_dir() else path


def save_checkpoint(path: str | Path, model: RNNLM, vocab: Vocab, config: LMConfig | None = None, *,
                    extra: dict[str, Any] | None = None) -> Path:
    """Write a checkpoint atomically; ``path`` may be a file or a folder (then ``checkpoint.pt``).

    Args:
        config: defaults to ``model.config`` (set by :func:`~lstm_course.torch.lm.build_lm`).
        extra: JSON-serialisable information kept alongside (settings, history, metrics).

    Raises:
        CheckpointError: no configuration, or the vocabulary size differs from the model's.
    """
    config = config or getattr(model, "config", None)
    if config is None:
        raise CheckpointError("no LMConfig: build the model with build_lm(config) or pass config=")
    if len(vocab) != config.vocab_size:
        raise CheckpointError(f"vocabulary has {len(vocab)} tokens but the configuration says "
                              f"vocab_size={config.vocab_size}")
    metadata = {"format": FORMAT, "version": VERSION, "config": config.to_dict(),
                "vocab": vocab.to_dict(), "extra": extra or {}}
    payload = {"format": FORMAT, "metadata": json.dumps(metadata, ensure_ascii=False),
               "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
    path = Path(path)
    if path.is_dir() or not path.suffix:
        path = path / CHECKPOINT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | Path, *, vocab: Vocab | None = None, config: LMConfig | None = None,
                    device: Any = "cpu") -> LMCheckpoint:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``).

    Args:
        path: the file, or a run folder containing ``checkpoint.pt``.
        vocab: the vocabulary the caller expects; a different one is an error (the output rows
            would mean other tokens).
        config: the configuration the caller expects; any differing field is an error.
        device: where to put the model.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: not an LM checkpoint, damaged, or not matching ``vocab``/``config``.
    """
    path = _resolve(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else "no details"
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {first})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a language-model checkpoint of lstm_course (format tag missing)")
    try:
        meta = json.loads(payload["metadata"])
        if meta.get("version", 0) > VERSION:
            raise CheckpointError(f"{path} has checkpoint version {meta['version']}; this lstm_course reads "
                                  f"up to version {VERSION} — upgrade lstm_course")
        saved_config = LMConfig.from_dict(meta["config"])
        saved_vocab = Vocab.from_dict(meta["vocab"])
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} has damaged metadata ({type(exc).__name__}: {exc})") from None
    if len(saved_vocab) != saved_config.vocab_size:
        raise CheckpointError(f"{path}: stored vocabulary has {len(saved_vocab)} tokens but the model "
                              f"expects {saved_config.vocab_size}")
    if vocab is not None and vocab != saved_vocab:
        raise CheckpointError(_vocab_difference(vocab, saved_vocab))
    if config is not None and config != saved_config:
        diff = ", ".join(f"{k}: checkpoint {v!r} vs given {getattr(config, k)!r}"
                         for k, v in saved_config.to_dict().items() if getattr(config, k) != v)
        raise CheckpointError(f"configuration mismatch ({diff})")
    model = build_lm(saved_config)
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError) as exc:
        lines = str(exc).strip().splitlines()
        raise CheckpointError(f"{path}: the weights do not fit the stored configuration "
                              f"({' '.join(line.strip() for line in lines[:3])})") from None
    model.to(device).eval()
    return LMCheckpoint(model, saved_vocab, saved_config, meta.get("extra", {}))


def _vocab_difference(expected: Vocab, saved: Vocab) -> str:
    if len(expected) != len(saved):
        return (f"vocabulary mismatch: the checkpoint was trained with {len(saved)} tokens, "
                f"the given vocabulary has {len(expected)}")
    i = next(i for i, (a, b) in enumerate(zip(expected.idx_to_token, saved.idx_to_token)) if a != b)
    return (f"vocabulary mismatch: index {i} is {saved.idx_to_token[i]!r} in the checkpoint but "
            f"{expected.idx_to_token[i]!r} in the given vocabulary")
