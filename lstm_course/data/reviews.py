"""Chinese product reviews (``online_shopping_10_cats``): read, clean, split, encode.

The pipeline, in order, each step a function of its own:

1. :func:`read_reviews` reads ``cat,label,review`` rows from the verified zip (or any CSV/zip
   with those columns);
2. :func:`clean_reviews` strips byte-order marks and whitespace, drops empty reviews and removes
   exact duplicate texts **before** any split, so the same review can never be in training and
   test data.  A text that occurs with both labels is dropped entirely (every copy): its label
   is contradictory, and keeping either copy would be a guess;
3. :func:`split_reviews` makes a seeded train/validation/test split, stratified by
   ``(category, label)`` so every split has the same category and label mix;
4. tokenising (jieba words or characters, with an on-disk cache) is
   :mod:`lstm_course.data.review_tokens`'s job;
5. :func:`build_vocab` builds a :class:`~lstm_course.data.Vocab` from the training split's
   tokens only, and :func:`encode` maps token lists to index arrays, truncated to ``max_len``.

Everything here is NumPy/standard library; the models live in :mod:`lstm_course.torch.sentiment`.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstm_course.data.fetch import fetch
from lstm_course.data.vocab import Vocab

DATASET = "online_shopping_10_cats"
COLUMNS = ("cat", "label", "review")
LABEL_NAMES = ("负面", "正面")  # index = label: 0 negative, 1 positive
PAD_TOKEN = "<pad>"


@dataclass(frozen=True)
class Review:
    """One cleaned review: its product category, label (0 negative, 1 positive) and text."""

    category: str
    label: int
    text: str


# ----------------------------------------------------------------------------- reading


def read_reviews(path: str | Path | None = None) -> list[Review]:
    """Read the raw rows, unchanged except for type conversion (``label`` -> ``int``).

    Args:
        path: a ``.csv`` file or a ``.zip`` holding exactly one; default: the verified copy of
            ``online_shopping_10_cats`` from :func:`~lstm_course.data.fetch`.

    Raises:
        ValueError: a missing column, or a label that is not 0/1 (the message names the line).
    """
    path = fetch(DATASET) if path is None else Path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
            if len(names) != 1:
                raise ValueError(f"{path} should hold exactly one .csv file, found {names}")
            with archive.open(names[0]) as raw:
                return _parse_csv(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""), path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return _parse_csv(fh, path)


def _parse_csv(fh: io.TextIOBase, source: Path) -> list[Review]:
    reader = csv.DictReader(fh)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{source}: expected columns {list(COLUMNS)}, missing {missing} (found {reader.fieldnames})")
    rows = []
    for row in reader:
        label = (row["label"] or "").strip()
        if label not in ("0", "1"):
            raise ValueError(f"{source}, line {reader.line_num}: label must be 0 or 1, got {label!r}")
        rows.append(Review(category=(row["cat"] or "").strip(), label=int(label), text=row["review"] or ""))
    return rows


# ----------------------------------------------------------------------------- cleaning


@dataclass
class CleaningReport:
    """What :func:`clean_reviews` removed, and why.

    Attributes:
        raw: rows read.
        empty: rows whose text is empty after stripping BOMs and whitespace.
        duplicates: extra copies of a text already kept with the same label (first copy kept).
        duplicated: the texts behind ``duplicates`` -> ``[(text, [(category, label), ...])]``.
        conflicting: texts that occur with both labels -> ``[(text, [(category, label), ...])]``;
            every copy of these is removed.
        conflicting_rows: rows removed because of ``conflicting``.
        kept: rows left.
    """

    raw: int = 0
    empty: int = 0
    duplicates: int = 0
    duplicated: list[tuple[str, list[tuple[str, int]]]] = field(default_factory=list)
    conflicting: list[tuple[str, list[tuple[str, int]]]] = field(default_factory=list)
    conflicting_rows: int = 0
    kept: int = 0

    def summary(self) -> str:
        """One Chinese sentence with all the counts."""
        return (
            f"原始 {self.raw:,} 条；空评论 {self.empty} 条；完全重复 {self.duplicates} 条（保留首条）；"
            f"同一文本标签矛盾 {len(self.conflicting)} 组共 {self.conflicting_rows} 条（全部删除）；"
            f"保留 {self.kept:,} 条。"
        )


def normalize_text(text: str) -> str:
    """Remove byte-order marks (U+FEFF) anywhere and strip surrounding whitespace (incl. U+3000)."""
    return text.replace("\ufeff", "").strip()


def clean_reviews(reviews: Iterable[Review]) -> tuple[list[Review], CleaningReport]:
    """Normalise texts, drop empty ones and exact duplicates; drop texts with both labels.

    Duplicates are detected on the normalised text alone (categories may differ: the same
    stock phrase "好好好好好" appears under several products); the first copy is kept.

    Returns:
        ``(kept, report)``; ``kept`` preserves the input order.
    """
    report = CleaningReport()
    groups: dict[str, list[Review]] = defaultdict(list)
    order: list[str] = []
    for review in reviews:
        report.raw += 1
        text = normalize_text(review.text)
        if not text:
            report.empty += 1
            continue
        if text not in groups:
            order.append(text)
        groups[text].append(Review(review.category, review.label, text))
    kept = []
    for text in order:
        copies = groups[text]
        if len({r.label for r in copies}) > 1:
            report.conflicting.append((text, [(r.category, r.label) for r in copies]))
            report.conflicting_rows += len(copies)
            continue
        if len(copies) > 1:
            report.duplicates += len(copies) - 1
            report.duplicated.append((text, [(r.category, r.label) for r in copies]))
        kept.append(copies[0])
    report.kept = len(kept)
    return kept, report


# ----------------------------------------------------------------------------- splitting


@dataclass
class ReviewSplits:
    """Disjoint train/validation/test lists of :class:`Review`."""

    train: list[Review]
    valid: list[Review]
    test: list[Review]

    def items(self) -> list[tuple[str, list[Review]]]:
        """``(name, reviews)`` pairs for ``train``, ``valid`` and ``test``, in that order."""
        return [("train", self.train), ("valid", self.valid), ("test", self.test)]


def split_reviews(
    reviews: Sequence[Review], fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), *, seed: int = 0
) -> ReviewSplits:
    """Seeded split stratified by ``(category, label)``.

    Each stratum is shuffled with ``random.Random(seed)`` and cut into
    ``round(n * valid)`` validation, ``round(n * test)`` test and the rest training reviews.

    Args:
        reviews: cleaned reviews (duplicates already removed, so no text lands in two splits).
        fractions: ``(train, valid, test)``, non-negative, summing to 1.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    rng = random.Random(seed)
    strata: dict[tuple[str, int], list[Review]] = defaultdict(list)
    for review in reviews:
        strata[(review.category, review.label)].append(review)
    train, valid, test = [], [], []
    for key in sorted(strata):
        members = list(strata[key])
        rng.shuffle(members)
        n_valid = round(len(members) * fractions[1])
        n_test = round(len(members) * fractions[2])
        valid += members[:n_valid]
        test += members[n_valid : n_valid + n_test]
        train += members[n_valid + n_test :]
    for part in (train, valid, test):
        rng.shuffle(part)
    return ReviewSplits(train, valid, test)


def stratified_indices(keys: Sequence[Hashable], size: int | None, *, seed: int = 0) -> list[int]:
    """Indices of exactly ``size`` items keeping the proportions of their ``keys``; ``None`` keeps all.

    Each stratum (items with one key) gets its proportional share rounded down, and the items
    left over go to the strata with the largest remainders (the largest remainder method), so
    the sizes add up.  The indices come in a seeded random order.
    """
    if size is None or size >= len(keys):
        return list(range(len(keys)))
    if size < 1:
        raise ValueError(f"size must be a positive int or None, got {size}")
    rng = random.Random(seed)
    strata: dict[Hashable, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        strata[key].append(index)
    ordered = sorted(strata)
    exact = {key: len(strata[key]) * size / len(keys) for key in ordered}
    quota = {key: int(exact[key]) for key in ordered}
    for key in sorted(ordered, key=lambda k: -(exact[k] - quota[k]))[: size - sum(quota.values())]:
        quota[key] += 1
    chosen = []
    for key in ordered:
        members = list(strata[key])
        rng.shuffle(members)
        chosen += members[: quota[key]]
    rng.shuffle(chosen)
    return chosen


def stratified_subset(reviews: Sequence[Review], size: int | None, *, seed: int = 0) -> list[Review]:
    """Exactly ``size`` reviews keeping the ``(category, label)`` proportions; ``None`` keeps all
    (:func:`stratified_indices`)."""
    keys = [(review.category, review.label) for review in reviews]
    return [reviews[i] for i in stratified_indices(keys, size, seed=seed)]


def load_splits(
    path: str | Path | None = None, *, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
) -> tuple[ReviewSplits, CleaningReport]:
    """:func:`read_reviews` -> :func:`clean_reviews` -> :func:`split_reviews` in one call."""
    cleaned, report = clean_reviews(read_reviews(path))
    return split_reviews(cleaned, fractions, seed=seed), report


# ----------------------------------------------------------------------------- statistics


def category_counts(reviews: Iterable[Review]) -> dict[str, tuple[int, int]]:
    """``{category: (negatives, positives)}``, categories sorted by total count, largest first."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for review in reviews:
        counts[review.category][review.label] += 1
    ordered = sorted(counts.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    return {cat: (neg, pos) for cat, (neg, pos) in ordered}


# ----------------------------------------------------------------------------- vocabulary, encoding


def build_vocab(token_lists: Sequence[Sequence[str]], *, min_freq: int = 1, max_size: int | None = None) -> Vocab:
    """Vocabulary of the **training** token lists: ``<unk>`` = 0, ``<pad>`` = 1, then by frequency."""
    return Vocab(token_lists, min_freq=min_freq, reserved_tokens=[PAD_TOKEN], max_size=max_size)


def coverage(token_lists: Sequence[Sequence[str]], vocab: Vocab) -> float:
    """Fraction of tokens (running text, not types) that the vocabulary knows."""
    counts = Counter(tok for tokens in token_lists for tok in tokens)
    total = sum(counts.values())
    known = sum(n for tok, n in counts.items() if tok in vocab and vocab[tok] != vocab.unk)
    return known / total if total else 0.0


@dataclass
class EncodedReviews:
    """Reviews as index arrays, ready for batching.

    Attributes:
        ids: one ``int64`` array per review, shape ``(length_i,)``, truncated to ``max_len``.
        lengths: ``(n,)`` the lengths of ``ids`` (>= 1).
        labels: ``(n,)`` 0/1.
        categories: ``n`` category names.
        texts: ``n`` cleaned texts.
        full_lengths: ``(n,)`` token counts before truncation.
    """

    ids: list[np.ndarray]
    lengths: np.ndarray
    labels: np.ndarray
    categories: list[str]
    texts: list[str]
    full_lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, indices: Sequence[int]) -> EncodedReviews:
        """The reviews at ``indices`` (any integer index array), as a new :class:`EncodedReviews`."""
        idx = [int(i) for i in indices]
        return EncodedReviews(
            [self.ids[i] for i in idx],
            self.lengths[idx],
            self.labels[idx],
            [self.categories[i] for i in idx],
            [self.texts[i] for i in idx],
            self.full_lengths[idx],
        )


def encode(
    token_lists: Sequence[Sequence[str]], vocab: Vocab, *, max_len: int, reviews: Sequence[Review] | None = None
) -> EncodedReviews:
    """Map tokens to indices, keeping the first ``max_len`` tokens of each review.

    Args:
        token_lists: one token list per review.
        reviews: the matching reviews (labels, categories, texts); omitted for unlabeled
            text, which gets label ``-1``.

    Raises:
        ValueError: an empty token list (it cannot be packed into an LSTM), or a length mismatch.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    if reviews is not None and len(reviews) != len(token_lists):
        raise ValueError(f"expected one review per token list: {len(token_lists)} token lists, {len(reviews)} reviews")
    ids, full = [], []
    for i, tokens in enumerate(token_lists):
        if not tokens:
            raise ValueError(f"review {i} has no tokens; empty reviews must be removed before encoding")
        full.append(len(tokens))
        ids.append(np.asarray(vocab[list(tokens[:max_len])], dtype=np.int64))
    n = len(ids)
    return EncodedReviews(
        ids=ids,
        lengths=np.asarray([len(a) for a in ids], dtype=np.int64),
        labels=np.asarray([r.label for r in reviews] if reviews is not None else [-1] * n, dtype=np.int64),
        categories=[r.category for r in reviews] if reviews is not None else [""] * n,
        texts=[r.text for r in reviews] if reviews is not None else [""] * n,
        full_lengths=np.asarray(full, dtype=np.int64),
    )
