"""Pre-training for transfer learning: a left-to-right LSTM language model on review text.

The language model (LM) reads the **training split's** reviews only (:func:`pretrain_corpus`),
one review per sequence, with the classifier's tokenizer and vocabulary, so its embedding and
LSTM can later be copied into a :class:`~lstm_course.torch.sentiment.model.SentimentLSTM`
(:func:`lstm_course.torch.sentiment.transfer.transfer_weights`).

A word-level softmax over the whole vocabulary is the expensive part on a CPU, so the output
layer predicts only the ``output_size`` most frequent tokens (the vocabulary is ordered by
frequency); rarer next tokens count as ``<unk>``.  The input embedding keeps every token.
Perplexities are therefore over that capped vocabulary.

Checkpoints use the format of :mod:`lstm_course.torch.checkpoint_io` (atomic write,
``weights_only=True`` load) with the vocabulary and tokenizer settings in the metadata.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_course.config import by_profile
from lstm_course.data.review_tokens import TokenizerConfig
from lstm_course.data.reviews import PAD_TOKEN, EncodedReviews
from lstm_course.data.vocab import Vocab
from lstm_course.runtime import get_device, model_device, set_seed
from lstm_course.torch.checkpoint_io import (
    CheckpointError,
    build_checked,
    read_checkpoint,
    vocab_difference,
    write_checkpoint,
)
from lstm_course.torch.lm import LMHistory, perplexity, sample_next
from lstm_course.torch.sentiment.batching import make_loader
from lstm_course.torch.sentiment.checkpoint import vocab_fingerprint
from lstm_course.torch.sentiment.pipeline import PreparedData
from lstm_course.torch.training import clipped_step

__all__ = [
    "ReviewLMConfig",
    "ReviewLM",
    "PretrainConfig",
    "ReviewLMCheckpoint",
    "lm_config",
    "pretrain_config",
    "pretrain_corpus",
    "lm_targets",
    "review_lm_loss",
    "review_perplexity",
    "unigram_perplexity",
    "pretrain_lm",
    "generate_review",
    "save_lm",
    "load_lm",
]

FORMAT = "lstm_course.sentiment_lm"
VERSION = 1
IGNORE = -100  # target index F.cross_entropy skips (positions after a review's last token)


@dataclass(frozen=True)
class ReviewLMConfig:
    """Sizes of a :class:`ReviewLM`; stored in its checkpoints.

    Attributes:
        vocab_size, pad_index: the classifier's vocabulary (embedding rows, ``<pad>``).
        embedding_dim, hidden_size, num_layers: as in
            :class:`~lstm_course.torch.sentiment.model.SentimentConfig`.
        dropout: on the embeddings, between layers and before the output layer.
        output_size: the output layer predicts indices ``0 .. output_size-1`` (the most
            frequent tokens); a rarer next token is scored as ``<unk>`` (index 0).
    """

    vocab_size: int
    pad_index: int = 1
    embedding_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.1
    output_size: int = 10_000

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embedding_dim", "hidden_size", "num_layers", "output_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not 0 <= self.pad_index < self.vocab_size:
            raise ValueError(f"pad_index {self.pad_index} outside the vocabulary of size {self.vocab_size}")
        if self.output_size > self.vocab_size:
            raise ValueError(f"output_size {self.output_size} exceeds the vocabulary size {self.vocab_size}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        """A JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ReviewLMConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown language-model settings {unknown}")
        return cls(**data)


class ReviewLM(nn.Module):
    """Embedding(padding_idx) → unidirectional LSTM → Linear over the ``output_size`` commonest tokens.

    The embedding and LSTM have the names and shapes of a unidirectional
    :class:`~lstm_course.torch.sentiment.model.SentimentLSTM` of the same sizes, so their
    ``state_dict`` entries can be copied across.
    """

    def __init__(self, config: ReviewLMConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=config.pad_index)
        self.lstm = nn.LSTM(
            config.embedding_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(config.hidden_size, config.output_size)

    def hidden_states(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Top-layer states ``(steps, batch, hidden)`` for padded ``tokens`` ``(steps, batch)``.

        Packed like the classifier, so a review's states never depend on the padding;
        positions at or after a review's length are zero.
        """
        if tokens.dim() != 2:
            raise ValueError(f"tokens must have shape (steps, batch), got {tuple(tokens.shape)}")
        lengths = torch.as_tensor(lengths).to("cpu", torch.int64)
        if lengths.shape != (tokens.shape[1],):
            raise ValueError(f"lengths must have shape ({tokens.shape[1]},), got {tuple(lengths.shape)}")
        embedded = self.dropout(self.embedding(tokens))
        packed = pack_padded_sequence(embedded, lengths, enforce_sorted=False)
        outputs, _ = self.lstm(packed)
        padded, _ = pad_packed_sequence(outputs, total_length=tokens.shape[0])
        return padded

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``(steps, batch, output_size)``; position ``t`` predicts token ``t+1``."""
        return self.output(self.dropout(self.hidden_states(tokens, lengths)))

    def step(self, tokens: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        """Unpacked run for generation: ``tokens`` ``(steps, batch)`` → ``(logits, state)``."""
        outputs, state = self.lstm(self.embedding(tokens), state)
        return self.output(outputs), state


@dataclass
class PretrainConfig:
    """Optimisation settings of :func:`pretrain_lm` (Adam, gradient clipping, fixed epochs).

    Attributes:
        epochs, batch_size, lr, clip_norm: as usual.
        seed: seeds parameters, dropout and batch order.
        device: ``None``/``'auto'`` picks the best device.
    """

    epochs: int = 5
    batch_size: int = 64
    lr: float = 3e-3
    clip_norm: float = 1.0
    seed: int = 0
    device: str | None = None

    def to_dict(self) -> dict:
        """A JSON-serialisable dict."""
        return asdict(self)


def lm_config(vocab: Vocab, **overrides: Any) -> ReviewLMConfig:
    """Profile defaults of the language model, sized to the classifier's ``vocab``."""
    sizes = by_profile(
        quick=dict(embedding_dim=64, hidden_size=64, output_size=1000),
        full=dict(embedding_dim=128, hidden_size=128, output_size=4000),
    )
    settings = dict(vocab_size=len(vocab), pad_index=vocab[PAD_TOKEN], num_layers=1, dropout=0.1, **sizes)
    settings.update(overrides)
    settings["output_size"] = min(settings["output_size"], settings["vocab_size"])
    return ReviewLMConfig(**settings)


def pretrain_config(**overrides: Any) -> PretrainConfig:
    """Profile defaults of :class:`PretrainConfig`."""
    settings = by_profile(quick=dict(epochs=1, batch_size=128, lr=1e-2), full=dict(epochs=5, batch_size=128, lr=5e-3))
    settings.update(overrides)
    return PretrainConfig(**settings)


def pretrain_corpus(data: PreparedData) -> EncodedReviews:
    """The reviews the language model reads: the **training** split only (labels unused).

    Validation and test reviews never reach the LM; reviews of one token have no next token
    to predict and are left out.
    """
    keep = [i for i, n in enumerate(data.train.lengths) if n >= 2]
    return data.train.subset(keep)


def lm_targets(tokens: torch.Tensor, lengths: torch.Tensor, output_size: int) -> torch.Tensor:
    """Targets ``(steps, batch)`` for :meth:`ReviewLM.forward`: token ``t+1`` at position ``t``.

    Tokens outside the output layer become ``<unk>`` (0); the last position of each review and
    the padding get ``-100``, which ``F.cross_entropy`` ignores.
    """
    steps = tokens.shape[0]
    targets = torch.full_like(tokens, IGNORE)
    targets[:-1] = tokens[1:]
    targets = torch.where(targets >= output_size, torch.zeros_like(targets), targets)
    positions = torch.arange(steps).unsqueeze(1)
    valid = positions < (torch.as_tensor(lengths).cpu() - 1).unsqueeze(0)
    return torch.where(valid.to(tokens.device), targets, torch.full_like(targets, IGNORE))


def review_lm_loss(model: ReviewLM, tokens: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy per predicted token of a padded batch, and the number of such tokens."""
    targets = lm_targets(tokens, lengths, model.config.output_size)
    mask = targets != IGNORE
    states = model.dropout(model.hidden_states(tokens, lengths))
    logits = model.output(states[mask])  # only real positions reach the softmax
    count = int(mask.sum())
    return F.cross_entropy(logits, targets[mask]), count


def review_perplexity(model: ReviewLM, data: EncodedReviews, *, batch_size: int = 256) -> float:
    """Perplexity ``exp(mean cross-entropy)`` over every predicted token of ``data`` (eval mode)."""
    device = model_device(model)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in make_loader(data, batch_size=batch_size, pad_index=model.config.pad_index, shuffle=False):
            keep = batch["lengths"] >= 2
            if not bool(keep.any()):
                continue
            loss, n = review_lm_loss(model, batch["tokens"][:, keep].to(device), batch["lengths"][keep])
            total += float(loss) * n
            count += n
    model.train(was_training)
    if count == 0:
        raise ValueError("no review with at least two tokens to score")
    return perplexity(total / count)


def unigram_perplexity(train: EncodedReviews, data: EncodedReviews, output_size: int) -> float:
    """The baseline a language model must beat: perplexity on ``data`` of token frequencies
    counted on ``train`` (add-one smoothed), over the same capped vocabulary and the same
    predicted positions (every token of a review but its first) as :func:`review_perplexity`.
    """
    import numpy as np

    def targets(reviews: EncodedReviews) -> np.ndarray:
        ids = np.concatenate([r[1:] for r in reviews.ids if len(r) >= 2] or [np.zeros(0, np.int64)])
        return np.where(ids >= output_size, 0, ids)

    counts = np.bincount(targets(train), minlength=output_size).astype(float) + 1.0
    log_p = np.log(counts / counts.sum())
    scored = targets(data)
    if scored.size == 0:
        raise ValueError("no review with at least two tokens to score")
    return float(np.exp(-log_p[scored].mean()))


def pretrain_lm(
    data: PreparedData,
    *,
    config: ReviewLMConfig | None = None,
    train: PretrainConfig | None = None,
    log: Any = print,
) -> tuple[ReviewLM, LMHistory]:
    """Pre-train a :class:`ReviewLM` on :func:`pretrain_corpus` (the training split).

    The validation split's perplexity is *measured* after every epoch, never trained on; the
    model keeps the weights of its last epoch.

    Returns:
        the model (eval mode) and its :class:`~lstm_course.lm.history.LMHistory`.
    """
    config = config or lm_config(data.vocab)
    train = train or pretrain_config()
    if config.vocab_size != len(data.vocab):
        raise ValueError(f"config.vocab_size {config.vocab_size} != vocabulary size {len(data.vocab)}")
    corpus = pretrain_corpus(data)
    if len(corpus) == 0:
        raise ValueError("the training split has no review with at least two tokens")
    set_seed(train.seed)
    device = get_device(train.device)
    model = ReviewLM(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=train.lr)
    loader = make_loader(corpus, batch_size=train.batch_size, pad_index=config.pad_index, shuffle=True, seed=train.seed)
    history = LMHistory()
    for epoch in range(1, train.epochs + 1):
        model.train()
        total, count, start = 0.0, 0, time.perf_counter()
        for batch in loader:
            loss, n = review_lm_loss(model, batch["tokens"].to(device), batch["lengths"])
            clipped_step(model, optimizer, loss, train.clip_norm)
            total += loss.item() * n
            count += n
        seconds = time.perf_counter() - start
        history.train_ppl.append(perplexity(total / count))
        history.seconds.append(seconds)
        history.tokens_per_s.append(count / seconds)
        history.lr.append(train.lr)
        history.val_ppl.append(review_perplexity(model, data.valid))
        if log is not None:
            log(f"epoch {epoch:2d}  训练困惑度 {history.train_ppl[-1]:.1f}  验证困惑度 {history.val_ppl[-1]:.1f}")
    model.eval()
    return model, history


@torch.no_grad()
def generate_review(
    model: ReviewLM,
    vocab: Vocab,
    prefix: list[str],
    num_tokens: int,
    *,
    temperature: float = 0.8,
    top_k: int | None = 20,
    seed: int | None = 0,
) -> str:
    """Continue the tokens ``prefix`` by ``num_tokens`` sampled tokens; return them joined (no spaces).

    Sampling is :func:`lstm_course.torch.lm.generation.sample_next`; ``<unk>`` and ``<pad>`` are
    never produced.

    Raises:
        ValueError: empty prefix, a prefix token outside the vocabulary, or ``num_tokens < 1``.
    """
    if not prefix:
        raise ValueError("prefix must hold at least one token")
    unknown = [t for t in prefix if t not in vocab or vocab[t] == vocab.unk]
    if unknown:
        raise ValueError(f"prefix tokens not in the vocabulary: {unknown}")
    if num_tokens < 1:
        raise ValueError(f"num_tokens must be >= 1, got {num_tokens}")
    device = model_device(model)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    was_training = model.training
    model.eval()
    ids = vocab[list(prefix)]
    logits, state = model.step(torch.tensor([ids], device=device).T)
    out = []
    for _ in range(num_tokens):
        scores = logits[-1, 0].clone()
        scores[vocab.unk] = float("-inf")
        if model.config.pad_index < scores.numel():
            scores[model.config.pad_index] = float("-inf")
        nxt = sample_next(scores, temperature=temperature, top_k=top_k, generator=generator)
        out.append(nxt)
        logits, state = model.step(torch.tensor([[nxt]], device=device), state)
    model.train(was_training)
    return "".join(prefix) + "".join(vocab.to_tokens(out))


# ----------------------------------------------------------------------------- checkpoints


@dataclass
class ReviewLMCheckpoint:
    """What :func:`load_lm` returns."""

    model: ReviewLM
    vocab: Vocab
    tokenizer: TokenizerConfig
    max_len: int
    extra: dict[str, Any]


def save_lm(
    path: str | Path,
    model: ReviewLM,
    data: PreparedData,
    history: LMHistory | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write the language model with the vocabulary, tokenizer and data settings (atomically)."""
    if model.config.vocab_size != len(data.vocab):
        raise CheckpointError(
            f"vocabulary has {len(data.vocab)} tokens but the model's embedding has {model.config.vocab_size} rows"
        )
    info = {"data": data.settings.to_dict(), "history": history.to_dict() if history else {}}
    info.update(extra or {})
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": model.config.to_dict(),
        "tokenizer": data.settings.tokenizer.to_dict(),
        "vocab": data.vocab.to_dict(),
        "vocab_sha256": vocab_fingerprint(data.vocab),
        "max_len": int(data.settings.max_len),
        "extra": info,
    }
    return write_checkpoint(Path(path), FORMAT, metadata, model)


def load_lm(path: str | Path, *, vocab: Vocab | None = None, device: Any = "cpu") -> ReviewLMCheckpoint:
    """Load a checkpoint written by :func:`save_lm` (``weights_only=True``).

    Args:
        vocab: the vocabulary the caller will fine-tune with; a different one is an error,
            since the embedding rows would mean other tokens.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: not a review-LM checkpoint, damaged, or ``vocab`` differs from the saved one.
    """
    path = Path(path)
    meta, state_dict = read_checkpoint(path, FORMAT, VERSION, "review language-model")
    try:
        config = ReviewLMConfig.from_dict(meta["model_config"])
        tokenizer = TokenizerConfig.from_dict(meta["tokenizer"])
        saved_vocab = Vocab.from_dict(meta["vocab"])
        max_len = int(meta["max_len"])
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise CheckpointError(f"{path} has damaged metadata ({type(exc).__name__}: {exc})") from None
    if vocab_fingerprint(saved_vocab) != meta.get("vocab_sha256") or len(saved_vocab) != config.vocab_size:
        raise CheckpointError(f"{path}: the stored vocabulary does not match the model (edited or damaged)")
    if vocab is not None and vocab != saved_vocab:
        raise CheckpointError(vocab_difference(vocab, saved_vocab))
    model = build_checked(lambda: ReviewLM(config), state_dict, path)
    model.to(device).eval()
    extra = meta.get("extra", {})
    return ReviewLMCheckpoint(model, saved_vocab, tokenizer, max_len, extra if isinstance(extra, dict) else {})
