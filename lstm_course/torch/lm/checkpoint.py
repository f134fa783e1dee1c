"""Language-model checkpoints: weights + vocabulary + configuration in one safely loadable file.

The file format (tensors and a JSON ``metadata`` string, atomic write, ``weights_only=True``
load) is :mod:`lstm_course.torch.checkpoint_io`'s; the metadata holds a format tag, the
:class:`~lstm_course.torch.lm.model.LMConfig`, the vocabulary and anything JSON-serialisable in
``extra`` such as the training history.

Loading checks that the pieces fit: the vocabulary size equals the model's, a vocabulary or
configuration the caller passes equals the stored one, and the weights fit the configuration;
any mismatch is a :class:`CheckpointError` saying what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lstm_course.data.vocab import Vocab
from lstm_course.torch.checkpoint_io import (
    CheckpointError,
    build_checked,
    checkpoint_bytes,
    read_checkpoint,
    vocab_difference,
    write_checkpoint,
)
from lstm_course.torch.lm.model import RNNLM, LMConfig, build_lm

__all__ = [
    "CheckpointError",
    "LMCheckpoint",
    "save_checkpoint",
    "encode_checkpoint",
    "load_checkpoint",
    "CHECKPOINT_NAME",
]

FORMAT = "lstm_course.lm"
VERSION = 1
#: File name used inside a run folder (``lstm-course lm train --out DIR``).
CHECKPOINT_NAME = "checkpoint.pt"


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


def _metadata(model: RNNLM, vocab: Vocab, config: LMConfig | None, extra: dict[str, Any] | None) -> dict[str, Any]:
    config = config or getattr(model, "config", None)
    if config is None:
        raise CheckpointError("no LMConfig: build the model with build_lm(config) or pass config=")
    if len(vocab) != config.vocab_size:
        raise CheckpointError(
            f"vocabulary has {len(vocab)} tokens but the configuration says vocab_size={config.vocab_size}"
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": config.to_dict(),
        "vocab": vocab.to_dict(),
        "extra": extra or {},
    }


def encode_checkpoint(
    model: RNNLM, vocab: Vocab, config: LMConfig | None = None, *, extra: dict[str, Any] | None = None
) -> bytes:
    """The bytes :func:`save_checkpoint` writes, to stage a checkpoint with the other files of a run."""
    return checkpoint_bytes(FORMAT, _metadata(model, vocab, config, extra), model)


def save_checkpoint(
    path: str | Path, model: RNNLM, vocab: Vocab, config: LMConfig | None = None, *, extra: dict[str, Any] | None = None
) -> Path:
    """Write a checkpoint atomically; ``path`` may be a file or a folder (then ``checkpoint.pt``).

    Args:
        config: defaults to ``model.config`` (set by :func:`~lstm_course.torch.lm.model.build_lm`).
        extra: JSON-serialisable information kept alongside (settings, history, metrics).

    Raises:
        CheckpointError: no configuration, the vocabulary size differs from the model's, or a
            weight is NaN/infinite.
    """
    metadata = _metadata(model, vocab, config, extra)
    path = Path(path)
    if path.is_dir() or not path.suffix:
        path = path / CHECKPOINT_NAME
    return write_checkpoint(path, FORMAT, metadata, model)


def load_checkpoint(
    path: str | Path, *, vocab: Vocab | None = None, config: LMConfig | None = None, device: Any = "cpu"
) -> LMCheckpoint:
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
    meta, state_dict = read_checkpoint(path, FORMAT, VERSION, "language-model")
    try:
        saved_config = LMConfig.from_dict(meta["config"])
        saved_vocab = Vocab.from_dict(meta["vocab"])
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise CheckpointError(f"{path} has damaged metadata ({type(exc).__name__}: {exc})") from None
    if len(saved_vocab) != saved_config.vocab_size:
        raise CheckpointError(
            f"{path}: stored vocabulary has {len(saved_vocab)} tokens but the model expects {saved_config.vocab_size}"
        )
    if vocab is not None and vocab != saved_vocab:
        raise CheckpointError(vocab_difference(vocab, saved_vocab))
    if config is not None and config != saved_config:
        diff = ", ".join(
            f"{k}: checkpoint {v!r} vs given {getattr(config, k)!r}"
            for k, v in saved_config.to_dict().items()
            if getattr(config, k) != v
        )
        raise CheckpointError(f"configuration mismatch ({diff})")
    model = build_checked(lambda: build_lm(saved_config), state_dict, path)
    model.to(device).eval()
    extra = meta.get("extra", {})
    return LMCheckpoint(model, saved_vocab, saved_config, extra if isinstance(extra, dict) else {})
