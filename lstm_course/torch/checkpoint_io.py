"""The file format shared by the course's checkpoints (language model, review classifier).

A checkpoint is ``torch.save`` of a dict holding only tensors and strings: a ``format`` tag,
``metadata`` (a JSON string) and ``state_dict``.  It is written atomically (temporary file, then
rename) and read with ``torch.load(weights_only=True)``, which refuses to unpickle arbitrary
objects, so opening someone else's checkpoint cannot run their code.  What the metadata holds,
and how it is checked, is up to each kind of checkpoint.
"""

from __future__ import annotations

import io
import json
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lstm_course.data.vocab import Vocab
from lstm_course.results import atomic_write_bytes

__all__ = [
    "CheckpointError",
    "checkpoint_bytes",
    "write_checkpoint",
    "read_checkpoint",
    "load_weights",
    "build_checked",
    "vocab_difference",
]


class CheckpointError(ValueError):
    """Not a usable checkpoint, or one that does not match what was expected."""


def checkpoint_bytes(fmt: str, metadata: dict[str, Any], model: nn.Module) -> bytes:
    """The file content :func:`write_checkpoint` writes (to stage it with other files of a run).

    Raises:
        CheckpointError: a weight is NaN or infinite (a diverged run is never saved), or the
            metadata holds NaN/infinity (not valid JSON).
    """
    state_dict = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    _check_finite(state_dict, "the model")
    try:
        text = json.dumps(metadata, ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise CheckpointError(f"the checkpoint metadata is not valid JSON ({exc})") from None
    buffer = io.BytesIO()
    torch.save({"format": fmt, "metadata": text, "state_dict": state_dict}, buffer)
    return buffer.getvalue()


def write_checkpoint(path: Path, fmt: str, metadata: dict[str, Any], model: nn.Module) -> Path:
    """Save ``model``'s weights (on the CPU) and ``metadata`` (JSON-serialisable) under the tag ``fmt``."""
    atomic_write_bytes(path, checkpoint_bytes(fmt, metadata, model))
    return path


def _check_finite(state_dict: dict[str, torch.Tensor], where: str) -> None:
    for name, tensor in state_dict.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{where} has NaN or infinite values in {name!r} (a diverged training run?)")


def _unreadable(path: Path, exc: BaseException) -> CheckpointError:
    message = str(exc)
    found = re.search(r"GLOBAL ([\w.]+)", message)
    if isinstance(exc, pickle.UnpicklingError) and found:
        return CheckpointError(
            f"{path} holds Python objects ({found.group(1)}) besides tensors and text; "
            "lstm_course does not unpickle them, since loading them could run arbitrary code"
        )
    if "weights only load failed" in message.lower():  # torch's advice to load unsafely is not repeated
        lines = [line.strip() for line in message.splitlines()[1:] if line.strip()]
        detail = next((line for line in lines if not line.startswith(("Please file", "Check the doc"))), "")
        message = detail or "not a file torch.save wrote"
    first = message.splitlines()[0] if message else "no details"
    return CheckpointError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {first})")


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
        raise _unreadable(path, exc) from None
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        raise CheckpointError(f"{path} is not a {what} checkpoint of lstm_course (format tag missing)")
    try:
        metadata = json.loads(payload["metadata"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} has damaged metadata ({type(exc).__name__}: {exc})") from None
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{path} has damaged metadata (a JSON {type(metadata).__name__}, expected an object)")
    stored = metadata.get("version", 0)
    if not isinstance(stored, int) or isinstance(stored, bool):
        raise CheckpointError(f"{path} has damaged metadata (version {stored!r} is not an int)")
    if stored > version:
        raise CheckpointError(
            f"{path} has checkpoint version {stored}; this lstm_course reads "
            f"up to version {version} — upgrade lstm_course"
        )
    state_dict = payload.get("state_dict")
    if not isinstance(state_dict, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state_dict.items()
    ):
        raise CheckpointError(
            f"{path} is damaged: its state_dict is a {type(state_dict).__name__}, not a mapping of names to tensors"
        )
    return metadata, state_dict


def build_checked(factory: Callable[[], nn.Module], state_dict: dict[str, torch.Tensor], path: Path) -> nn.Module:
    """Build the model from ``factory`` only after its configuration has been checked against the tensors.

    A checkpoint's configuration is untrusted input: one claiming ``hidden_size=3000000`` would
    make the constructor allocate terabytes before :func:`load_weights` could compare anything.
    The model is first described on the ``meta`` device (no storage) and its parameter names
    and shapes compared with ``state_dict``; only a consistent configuration is built, and then
    its size is that of tensors already in memory.

    Raises:
        CheckpointError: names or shapes differ, or a weight is NaN/infinite.
    """
    from lstm_course.torch.sizing import skeleton_shapes

    try:
        expected = skeleton_shapes(factory)
    except (ValueError, TypeError, RuntimeError, OverflowError) as exc:
        raise CheckpointError(f"{path}: the stored configuration does not describe a buildable model ({exc})") from None
    stored = {k: tuple(v.shape) for k, v in state_dict.items()}
    problems = [f"missing {k}" for k in expected if k not in stored]
    problems += [f"unexpected {k}" for k in stored if k not in expected]
    problems += [
        f"{k}: configuration implies {expected[k]}, stored {stored[k]}"
        for k in expected
        if k in stored and expected[k] != stored[k]
    ]
    if problems:
        more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise CheckpointError(
            f"{path}: the weights do not fit the stored configuration ({'; '.join(problems[:3])}{more})"
        )
    _check_finite(state_dict, str(path))
    model = factory()
    load_weights(model, state_dict, path)
    return model


def load_weights(model: nn.Module, state_dict: dict[str, Any], path: Path) -> None:
    """``model.load_state_dict`` with a one-line :class:`CheckpointError` when the shapes or names differ."""
    try:
        model.load_state_dict(state_dict)
    except (RuntimeError, KeyError) as exc:
        lines = str(exc).strip().splitlines()
        raise CheckpointError(
            f"{path}: the weights do not fit the stored configuration ({' '.join(line.strip() for line in lines[:3])})"
        ) from None


def vocab_difference(expected: Vocab, saved: Vocab) -> str:
    """Say how two vocabularies differ: their sizes, or the first index mapped to another token."""
    if len(expected) != len(saved):
        return (
            f"vocabulary mismatch: the checkpoint was trained with {len(saved)} tokens, "
            f"the given vocabulary has {len(expected)}"
        )
    i = next(i for i, (a, b) in enumerate(zip(expected.idx_to_token, saved.idx_to_token, strict=True)) if a != b)
    return (
        f"vocabulary mismatch: index {i} is {saved.idx_to_token[i]!r} in the checkpoint but "
        f"{expected.idx_to_token[i]!r} in the given vocabulary"
    )
