"""Saving and loading a trained encoder–decoder (safe: ``torch.load(weights_only=True)``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lstm_course.data.fetch import cache_dir
from lstm_course.data.vocab import Vocab
from lstm_course.seq2seq.data import TaskSettings
from lstm_course.seq2seq.model import ModelConfig, Seq2Seq
from lstm_course.torch.checkpoint_io import CheckpointError, load_weights, read_checkpoint, write_checkpoint

# CheckpointError is lstm_course.torch.checkpoint_io's (documented there, importable from here).
__all__ = ["FORMAT", "VERSION", "Checkpoint", "save_checkpoint", "load_checkpoint", "default_checkpoint"]

FORMAT = "lstm_course.seq2seq"
VERSION = 1


@dataclass
class Checkpoint:
    """What a saved model needs to translate and to be evaluated on its own splits."""

    model: Seq2Seq
    src_vocab: Vocab
    tgt_vocab: Vocab
    task: TaskSettings
    extra: dict


def default_checkpoint() -> Path:
    """Where ``lstm-course seq2seq train`` saves by default (the course cache)."""
    return cache_dir() / "seq2seq" / "numbers.pt"


def save_checkpoint(
    path: Path, model: Seq2Seq, src_vocab: Vocab, tgt_vocab: Vocab, task: TaskSettings, extra: dict | None = None
) -> Path:
    """Write weights, configuration, vocabularies and task settings atomically."""
    from dataclasses import asdict

    metadata = {
        "version": VERSION,
        "config": model.config.to_dict(),
        "src_vocab": src_vocab.to_dict(),
        "tgt_vocab": tgt_vocab.to_dict(),
        "task": asdict(task),
        "extra": extra or {},
    }
    return write_checkpoint(Path(path), FORMAT, metadata, model)


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`; one-line :class:`CheckpointError` otherwise."""
    path = Path(path)
    try:
        metadata, state = read_checkpoint(path, FORMAT, VERSION, "seq2seq")
    except KeyError as exc:  # torch's safe unpickler on some damaged files
        raise CheckpointError(f"{path} is not a readable checkpoint (KeyError: {exc})") from None
    try:
        cfg = ModelConfig(**metadata["config"])
        src_vocab, tgt_vocab = Vocab.from_dict(metadata["src_vocab"]), Vocab.from_dict(metadata["tgt_vocab"])
        task = TaskSettings(**metadata["task"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} has incomplete metadata ({type(exc).__name__}: {exc})") from None
    model = Seq2Seq(cfg)
    load_weights(model, state, path)
    model.eval()
    return Checkpoint(model, src_vocab, tgt_vocab, task, metadata.get("extra", {}))
