"""The file format shared by the course's checkpoints (language model, review classifier).

A checkpoint is ``torch.save`` of a dict holding only tensors and strings: a ``format`` tag,
``metadata`` (a JSON string) and ``state_dict``.  It is written atomically (temporary file, then
rename) and read with ``torch.load(weights_only=True)``, which refuses to unpickle arbitrary
objects, so opening someone else's checkpoint cannot run their code.  What the metadata holds,
and how it is checked, is up to each kind of checkpoint.
"""
from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lstm_course.data.vocab import Vocab

__all__ = ["CheckpointError", "write_checkpoint", "read_checkpoint", "load_weights", "vocab_difference"]


class CheckpointError(ValueError):
    """Not a usable checkpoint, or one that does not match what was expected."""


def write_checkpoint(path: Path, fmt: str, metadata: dict[str, Any], model: nn.Module) -> Path:
    """Save ``model``'s weights (on the CPU) and ``metadata`` (JSON-serialisable) under the tag ``fmt``."""
    payload = {"format": fmt, "metadata": json.dumps(metadata, ensure_ascii=False),
               "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def read_checkpoint(path: Path, fmt: str, version: int, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a checkpoint tagged ``fmt`` of at most ``version``; return ``(metadata, state_dict)``.

    Args:
        what: how error messages name the kind, e.g. ``'language-model'``.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: unreadable, another kind of file, a newer version, or damaged metadata.
    """
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else "no details"
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {first})") from None
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        raise CheckpointError(f"{path} is not a {what} checkpoint of lstm_course (format tag missing)")
    try:
        metadata = json.loads(payload["metadata"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} has damaged metadata ({type(exc).__name__}: {exc})") from None
    if metadata.get("version", 0) > version:
        raise CheckpointError(f"{path} has checkpoint version {metadata['version']}; this lstm_course reads "
                              f"up to version {version} — upgrade lstm_course")
    return metadata, payload.get("state_dict", {})


def load_weights(model: nn.Module, state_dict: dict[str, Any], path: Path) -> None:
    """``model.load_state_dict`` with a one-line :class:`CheckpointError` when the shapes or names differ."""
    try:
        model.load_state_dict(state_dict)
    except (RuntimeError, KeyError) as exc:
        lines = str(exc).strip().splitlines()
        raise CheckpointError(f"{path}: the weights do not fit the stored configuration "
                              f"({' '.join(line.strip() for line in lines[:3])})") from None


def vocab_difference(expected: Vocab, saved: Vocab) -> str:
    """Say how two vocabularies differ: their sizes, or the first index mapped to another token."""
    if len(expected) != len(saved):
        return (f"vocabulary mismatch: the checkpoint was trained with {len(saved)} tokens, "
                f"the given vocabulary has {len(expected)}")
    i = next(i for i, (a, b) in enumerate(zip(expected.idx_to_token, saved.idx_to_token)) if a != b)
    return (f"vocabulary mismatch: index {i} is {saved.idx_to_token[i]!r} in the checkpoint but "
            f"{expected.idx_to_token[i]!r} in the given vocabulary")
