"""The whole case study in a few calls: settings per profile, data preparation, training, saving.

Notebooks and the ``lstm-course sentiment`` CLI both go through these functions, so they
tokenise, split and train in exactly the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from lstm_course.config import by_profile
from lstm_course.data.fetch import cache_dir
from lstm_course.data.review_tokens import ReviewTokenizer, TokenizerConfig
from lstm_course.data.reviews import (
    CleaningReport,
    EncodedReviews,
    ReviewSplits,
    build_vocab,
    clean_reviews,
    encode,
    read_reviews,
    split_reviews,
    stratified_subset,
)
from lstm_course.data.vocab import Vocab
from lstm_course.torch.sentiment.model import SentimentConfig, SentimentLSTM
from lstm_course.torch.sentiment.train import History, TrainConfig, fit


def configure_cpu_threads() -> int:
    """Quick profile: run PyTorch's CPU ops on one thread and return the thread count in use.

    The quick models are tiny; their time goes into many small per-step operations, and on a
    shared CPU a second thread that must wait for a busy core slows training down by up to an
    order of magnitude.  The full profile keeps PyTorch's default.
    """
    import torch

    threads = by_profile(quick=1, full=None)
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def default_checkpoint() -> Path:
    """Where ``lstm-course sentiment train`` saves and ``predict``/``evaluate`` look by default."""
    return cache_dir() / "sentiment" / "model.pt"


@dataclass
class DataSettings:
    """How the reviews become tensors; stored in checkpoints so evaluation rebuilds the same split.

    Attributes:
        tokenizer: word (jieba) or character tokens.
        max_len: tokens kept per review (the rest is cut off).
        min_freq, max_size: vocabulary limits (built on the training split only).
        train_size, valid_size, test_size: stratified subsets of each split (``None``: all of it).
        seed, fractions: the split.
        source: a CSV/zip with ``cat,label,review`` columns; ``None`` uses ``online_shopping_10_cats``.
    """

    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    max_len: int = 200
    min_freq: int = 2
    max_size: int | None = None
    train_size: int | None = None
    valid_size: int | None = None
    test_size: int | None = None
    seed: int = 0
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    source: str | None = None

    def to_dict(self) -> dict:
        """The settings as a JSON-serialisable dict (stored in checkpoints)."""
        data = asdict(self)
        data["fractions"] = list(self.fractions)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> DataSettings:
        """Rebuild the settings written by :meth:`to_dict`."""
        data = dict(data)
        data["tokenizer"] = TokenizerConfig.from_dict(data["tokenizer"])
        data["fractions"] = tuple(data["fractions"])
        return cls(**data)


def data_settings(kind: str = "word", **overrides: Any) -> DataSettings:
    """Profile defaults: ``quick`` trains on a subset with short reviews, ``full`` on everything."""
    sizes = by_profile(
        quick=dict(max_len=60, train_size=6000, valid_size=2000, test_size=None),
        full=dict(max_len=200, train_size=None, valid_size=None, test_size=None),
    )
    settings = DataSettings(tokenizer=TokenizerConfig(kind=kind), **sizes)
    return replace(settings, **overrides)


def model_config(vocab: Vocab, **overrides: Any) -> SentimentConfig:
    """Profile defaults for :class:`SentimentConfig` (a BiLSTM), sized to ``vocab``."""
    sizes = by_profile(quick=dict(embedding_dim=32, hidden_size=32), full=dict(embedding_dim=128, hidden_size=128))
    settings = dict(
        vocab_size=len(vocab), pad_index=vocab["<pad>"], num_layers=1, bidirectional=True, dropout=0.3, **sizes
    )
    settings.update(overrides)
    return SentimentConfig(**settings)


def train_config(**overrides: Any) -> TrainConfig:
    """Profile defaults for :class:`TrainConfig`."""
    settings = by_profile(quick=dict(epochs=3, patience=2, lr=4e-3), full=dict(epochs=12, patience=3, lr=2e-3))
    settings.update(overrides)
    return TrainConfig(**settings)


@dataclass
class PreparedData:
    """Everything :func:`prepare_data` computes."""

    settings: DataSettings
    splits: ReviewSplits  # the full cleaned splits (before any subset)
    report: CleaningReport
    tokenizer: ReviewTokenizer
    vocab: Vocab
    train: EncodedReviews
    valid: EncodedReviews
    test: EncodedReviews


def prepare_data(settings: DataSettings | None = None, *, progress: bool = False) -> PreparedData:
    """Read -> clean -> split -> subset -> tokenise (cached) -> vocabulary (training only) -> encode."""
    settings = settings or data_settings()
    splits, report, parts = _reviews(settings)
    if not parts["train"] or not parts["valid"]:
        raise ValueError(
            f"the split left {len(parts['train'])} training and {len(parts['valid'])} "
            "validation reviews; the data set is too small"
        )
    tokenizer = ReviewTokenizer(settings.tokenizer)
    tokens = {
        name: tokenizer.tokenize_many([r.text for r in reviews], progress=progress) for name, reviews in parts.items()
    }
    vocab = build_vocab(tokens["train"], min_freq=settings.min_freq, max_size=settings.max_size)
    encoded = {name: encode(tokens[name], vocab, max_len=settings.max_len, reviews=parts[name]) for name in parts}
    return PreparedData(settings, splits, report, tokenizer, vocab, **encoded)


def encode_split(settings: DataSettings, name: str, vocab: Vocab, *, progress: bool = False) -> EncodedReviews:
    """Rebuild one split (``'train'``, ``'valid'`` or ``'test'``) and encode it with a given vocabulary
    (e.g. a checkpoint's), exactly as :func:`prepare_data` would."""
    if name not in ("train", "valid", "test"):
        raise ValueError(f"split must be 'train', 'valid' or 'test', got {name!r}")
    reviews = _reviews(settings)[2][name]
    tokens = ReviewTokenizer(settings.tokenizer).tokenize_many([r.text for r in reviews], progress=progress)
    return encode(tokens, vocab, max_len=settings.max_len, reviews=reviews)


def _reviews(settings: DataSettings) -> tuple[ReviewSplits, CleaningReport, dict[str, list]]:
    cleaned, report = clean_reviews(read_reviews(settings.source))
    splits = split_reviews(cleaned, settings.fractions, seed=settings.seed)
    parts = {
        "train": stratified_subset(splits.train, settings.train_size, seed=settings.seed),
        "valid": stratified_subset(splits.valid, settings.valid_size, seed=settings.seed),
        "test": stratified_subset(splits.test, settings.test_size, seed=settings.seed),
    }
    return splits, report, parts


def train_model(
    data: PreparedData,
    *,
    config: SentimentConfig | None = None,
    train: TrainConfig | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
    tensorboard_dir: str | None = None,
) -> tuple[SentimentLSTM, History]:
    """Build a :class:`SentimentLSTM` from ``config`` (default: :func:`model_config` of the data's
    vocabulary) and :func:`fit` it with ``train`` (default: :func:`train_config`)."""
    train = train or train_config()
    config = config or model_config(data.vocab)
    from lstm_course.runtime import set_seed

    set_seed(train.seed)  # parameters are initialised from the training seed
    net = SentimentLSTM(config)
    history = fit(net, data.train, data.valid, train, progress=progress, log=log, tensorboard_dir=tensorboard_dir)
    return net, history


def save_trained(
    path: str | Path,
    net: SentimentLSTM,
    data: PreparedData,
    history: History,
    train: TrainConfig,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Save a checkpoint with the data settings, training settings and history needed to evaluate it."""
    from lstm_course.torch.sentiment.checkpoint import save_checkpoint

    info = {"data": data.settings.to_dict(), "train": train.to_dict(), "history": history.to_dict()}
    info.update(extra or {})
    return save_checkpoint(path, net, data.vocab, data.settings.tokenizer, max_len=data.settings.max_len, extra=info)
