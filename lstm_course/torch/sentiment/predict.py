"""Prediction for raw text: ``SentimentPredictor.predict(texts) -> [Prediction, ...]``.

A text none of whose tokens the vocabulary knows is still classified (the model then only
shows its bias); its :class:`Prediction` says so in ``all_unknown``, for the caller to act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstm_course.data.review_tokens import ReviewTokenizer, TokenizerConfig
from lstm_course.data.reviews import LABEL_NAMES, EncodedReviews, encode, normalize_text
from lstm_course.data.vocab import Vocab
from lstm_course.runtime import get_device
from lstm_course.torch.sentiment.inference import positive_probabilities
from lstm_course.torch.sentiment.model import SentimentLSTM

__all__ = ["Prediction", "SentimentEnsemble", "SentimentPredictor"]


@dataclass(frozen=True)
class Prediction:
    """The prediction for one text.

    Attributes:
        label: ``'正面'`` or ``'负面'`` (positive when ``p_positive >= 0.5``).
        probability: the probability of ``label`` (at least 0.5).
        p_positive: the probability of the positive label.
        all_unknown: none of the text's tokens (of the first ``max_len``) is in the vocabulary,
            so the probability only reflects the model's bias.
    """

    label: str
    probability: float
    p_positive: float
    all_unknown: bool = False

    @classmethod
    def from_probability(cls, p_positive: float, *, all_unknown: bool = False) -> Prediction:
        """The prediction for a positive-class probability (threshold 0.5)."""
        p = float(p_positive)
        positive = p >= 0.5
        return cls(LABEL_NAMES[int(positive)], p if positive else 1 - p, p, bool(all_unknown))


class SentimentPredictor:
    """A trained model together with the vocabulary and tokenizer it was trained with.

    Args:
        max_len: texts longer than this many tokens are truncated (their first ``max_len``
            tokens are used), exactly as in training.
    """

    def __init__(
        self, model: SentimentLSTM, vocab: Vocab, tokenizer: TokenizerConfig, *, max_len: int, device: Any = None
    ) -> None:
        self.device = get_device(device) if not isinstance(device, torch.device) else device
        self.model = model.to(self.device).eval()
        self.vocab = vocab
        self.tokenizer = ReviewTokenizer(tokenizer)
        self.max_len = max_len

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, device: Any = None) -> SentimentPredictor:
        """Load a checkpoint written by :func:`~lstm_course.torch.sentiment.save_checkpoint`.

        Raises:
            FileNotFoundError, CheckpointError: as :func:`~lstm_course.torch.sentiment.checkpoint.load_checkpoint`.
        """
        from lstm_course.torch.sentiment.checkpoint import load_checkpoint

        ckpt = load_checkpoint(path)
        return cls(ckpt.model, ckpt.vocab, ckpt.tokenizer, max_len=ckpt.max_len, device=device)

    def encode(self, texts: str | Sequence[str]) -> EncodedReviews:
        """Clean, tokenise and encode texts exactly as the training data was (unlabelled).

        A single string is treated as a list of one text.

        Raises:
            ValueError: a text that is empty or only whitespace (its position is named).
            TypeError: an element that is not a string.
        """
        if isinstance(texts, str):
            texts = [texts]
        cleaned = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {i} must be a str, got {type(text).__name__}")
            text = normalize_text(text)
            if not text:
                raise ValueError(f"text {i} is empty or only whitespace; there is nothing to classify")
            cleaned.append(text)
        return encode([self.tokenizer(text) for text in cleaned], self.vocab, max_len=self.max_len)

    def predict_proba(self, texts: str | Sequence[str]) -> np.ndarray:
        """Probability of the positive label for each text, shape ``(n,)``; errors as :meth:`encode`."""
        return positive_probabilities(self.model, self.encode(texts), device=self.device)

    def predict(self, texts: str | Sequence[str]) -> list[Prediction]:
        """One :class:`Prediction` per text (label, its probability, whether every token was unknown).

        A single string is treated as a list of one text; errors as :meth:`encode`.
        """
        data = self.encode(texts)
        probs = positive_probabilities(self.model, data, device=self.device)
        unknown = [bool((ids == self.vocab.unk).all()) for ids in data.ids]
        return [Prediction.from_probability(p, all_unknown=u) for p, u in zip(probs, unknown, strict=True)]


class SentimentEnsemble:
    """Several predictors (e.g. a word-level and a character-level BiLSTM) whose probabilities are
    averaged; same ``predict``/``predict_proba`` interface as :class:`SentimentPredictor`.

    A prediction is ``all_unknown`` only when every member saw nothing but unknown tokens.
    """

    def __init__(self, members: Sequence[SentimentPredictor]) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)

    @classmethod
    def from_checkpoints(cls, paths: Sequence[str | Path], *, device: Any = None) -> SentimentEnsemble:
        """Load one :class:`SentimentPredictor` per checkpoint (errors as :meth:`SentimentPredictor.from_checkpoint`)."""
        return cls([SentimentPredictor.from_checkpoint(p, device=device) for p in paths])

    def predict_proba(self, texts: str | Sequence[str]) -> np.ndarray:
        """Mean positive-class probability over the members, shape ``(n,)``."""
        return np.mean([member.predict_proba(texts) for member in self.members], axis=0)

    def predict(self, texts: str | Sequence[str]) -> list[Prediction]:
        """One :class:`Prediction` per text from the members' averaged probabilities."""
        per_member = [member.predict(texts) for member in self.members]
        return [
            Prediction.from_probability(
                np.mean([p.p_positive for p in votes]), all_unknown=all(p.all_unknown for p in votes)
            )
            for votes in zip(*per_member, strict=True)
        ]
