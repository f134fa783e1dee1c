"""Prediction for raw text: ``SentimentPredictor.predict(texts) -> [(label, probability), ...]``."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstm_course.data.reviews import LABEL_NAMES, ReviewTokenizer, TokenizerConfig, encode, normalize_text
from lstm_course.data.vocab import Vocab
from lstm_course.runtime import get_device
from lstm_course.torch.sentiment.model import SentimentLSTM


class UnknownTokensWarning(UserWarning):
    """Every token of a text is outside the vocabulary; the prediction is close to a guess.

    ``index`` is the position of that text in the list given to ``predict``.
    """

    def __init__(self, message: str, index: int = -1) -> None:
        super().__init__(message)
        self.index = index


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
        """Load a checkpoint written by :func:`~lstm_course.torch.sentiment.save_checkpoint`."""
        from lstm_course.torch.sentiment.checkpoint import load_checkpoint

        ckpt = load_checkpoint(path)
        return cls(ckpt.model, ckpt.vocab, ckpt.tokenizer, max_len=ckpt.max_len, device=device)

    def predict_proba(self, texts: str | Sequence[str]) -> np.ndarray:
        """Probability of the positive label for each text, shape ``(n,)``.

        Raises:
            ValueError: a text that is empty or only whitespace (its position is named).
            TypeError: an element that is not a string.

        Warns:
            UnknownTokensWarning: a text none of whose tokens is in the vocabulary.
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
        if not cleaned:
            return np.zeros(0)
        tokens = [self.tokenizer(text) for text in cleaned]
        data = encode(tokens, self.vocab, max_len=self.max_len)
        for i, ids in enumerate(data.ids):
            if (ids == self.vocab.unk).all():
                message = (
                    f"text {i} ({cleaned[i][:20]!r}): none of its {len(tokens[i])} tokens is in the "
                    "vocabulary; the prediction only reflects the model's bias"
                )
                warnings.warn(UnknownTokensWarning(message, index=i), stacklevel=3)
        from lstm_course.torch.sentiment.train import loss_and_accuracy

        _, _, probs = loss_and_accuracy(self.model, data, device=self.device)
        return probs

    def predict(self, texts: str | Sequence[str]) -> list[tuple[str, float]]:
        """``[(label, probability of that label), ...]``, labels ``'正面'``/``'负面'``.

        A single string is treated as a list of one text.  See :meth:`predict_proba` for errors.
        """
        return label_probabilities(self.predict_proba(texts))


class SentimentEnsemble:
    """Several predictors (e.g. a word-level and a character-level BiLSTM) whose probabilities are
    averaged; same ``predict``/``predict_proba`` interface as :class:`SentimentPredictor`.

    An unknown-token warning is issued only when every member saw nothing but unknown tokens.
    """

    def __init__(self, members: Sequence[SentimentPredictor]) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)

    @classmethod
    def from_checkpoints(cls, paths: Sequence[str | Path], *, device: Any = None) -> SentimentEnsemble:
        """Load one :class:`SentimentPredictor` per checkpoint."""
        return cls([SentimentPredictor.from_checkpoint(p, device=device) for p in paths])

    def predict_proba(self, texts: str | Sequence[str]) -> np.ndarray:
        """Mean positive-class probability over the members, shape ``(n,)``."""
        unknown: list[set[int]] = []
        probs = []
        for member in self.members:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UnknownTokensWarning)
                probs.append(member.predict_proba(texts))
            unknown.append({w.message.index for w in caught if isinstance(w.message, UnknownTokensWarning)})
        for i in sorted(set.intersection(*unknown)):
            warnings.warn(
                UnknownTokensWarning(
                    f"text {i}: no member of the ensemble knows any of its tokens; "
                    "the prediction only reflects the models' biases",
                    index=i,
                ),
                stacklevel=2,
            )
        return np.mean(probs, axis=0)

    def predict(self, texts: str | Sequence[str]) -> list[tuple[str, float]]:
        """``[(label, probability of that label), ...]`` from the averaged probabilities."""
        return label_probabilities(self.predict_proba(texts))


def label_probabilities(probs: np.ndarray) -> list[tuple[str, float]]:
    """Positive-class probabilities -> ``[(label, probability of that label), ...]`` (threshold 0.5)."""
    return [(LABEL_NAMES[int(p >= 0.5)], float(p if p >= 0.5 else 1 - p)) for p in probs]
