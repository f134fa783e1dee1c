"""The task as data: Arabic numerals -> their Chinese reading (20503 -> 二万零五百零三).

Labels come from ``cn2an.an2cn``, a library written for exactly this conversion; nothing here
re-implements the reading rules.  Numbers are split by value (a number is in exactly one
split), and a *length split* holds numbers longer than any seen in training.  Importing this
module needs neither torch nor NumPy.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import cn2an

from lstm_course.config import by_profile
from lstm_course.data.vocab import Vocab

__all__ = [
    "PAD",
    "BOS",
    "EOS",
    "SPECIALS",
    "reading",
    "sample_number",
    "TaskSettings",
    "task_settings",
    "Splits",
    "make_splits",
    "build_vocabs",
    "unknown_characters",
]

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
#: Reserved tokens of both vocabularies: ``<unk>`` is 0, then ``<pad>`` 1, ``<bos>`` 2, ``<eos>`` 3.
SPECIALS = (PAD, BOS, EOS)


def reading(number: int | str) -> str:
    """The Chinese reading of a non-negative integer, by ``cn2an.an2cn`` (e.g. ``10 -> '十'``)."""
    return cn2an.an2cn(str(int(number)))


def sample_number(rng: random.Random, digits: int, zero_prob: float) -> str:
    """A ``digits``-long numeral (no leading zero) whose other digits are ``0`` with ``zero_prob``.

    Zeros are over-sampled because they carry the hard rules (零 between groups, 一十 vs 十).
    """
    first = str(rng.randint(1, 9)) if digits > 1 else str(rng.randint(0, 9))
    rest = "".join("0" if rng.random() < zero_prob else str(rng.randint(1, 9)) for _ in range(digits - 1))
    return first + rest


@dataclass(frozen=True)
class TaskSettings:
    """How many numbers of which lengths; ``train_digits`` is the longest length seen in training."""

    train_digits: int = 7
    long_digits: int = 8
    per_length: int = 1500
    long_count: int = 500
    valid_frac: float = 0.1
    test_frac: float = 0.1
    zero_prob: float = 0.3
    seed: int = 0


def task_settings(**overrides) -> TaskSettings:
    """The profile's settings (quick: fewer numbers per length), with ``overrides`` applied."""
    base = by_profile(quick=dict(per_length=500, long_count=300), full=dict(per_length=2000, long_count=1000))
    return TaskSettings(**{**base, **overrides})


@dataclass
class Splits:
    """``(source, target)`` string pairs: train/valid/test have 1..train_digits digits, long more."""

    settings: TaskSettings
    train: list[tuple[str, str]] = field(default_factory=list)
    valid: list[tuple[str, str]] = field(default_factory=list)
    test: list[tuple[str, str]] = field(default_factory=list)
    long: list[tuple[str, str]] = field(default_factory=list)

    def sizes(self) -> dict[str, int]:
        """Number of pairs in each split."""
        return {name: len(getattr(self, name)) for name in ("train", "valid", "test", "long")}


def _distinct(rng: random.Random, digits: int, count: int, zero_prob: float) -> list[str]:
    low = 0 if digits == 1 else 10 ** (digits - 1)
    available = 10**digits - low
    if count >= available // 2:  # short numbers: draw without replacement from all of them
        return [str(n) for n in sorted(rng.sample(range(low, 10**digits), min(count, available)))]
    seen: set[str] = set()
    while len(seen) < count:
        seen.add(sample_number(rng, digits, zero_prob))
    return sorted(seen)


def make_splits(settings: TaskSettings | None = None) -> Splits:
    """Seeded splits by number: up to ``per_length`` distinct numbers of each length ``1..train_digits``.

    Each length is shuffled and cut into train/valid/test by ``valid_frac``/``test_frac``;
    ``long`` holds ``long_count`` numbers of ``train_digits+1..long_digits`` digits.
    """
    s = settings or task_settings()
    if not 1 <= s.train_digits < s.long_digits:
        raise ValueError(f"need 1 <= train_digits < long_digits, got {s.train_digits}, {s.long_digits}")
    rng = random.Random(s.seed)
    out = Splits(s)
    for digits in range(1, s.train_digits + 1):
        numbers = _distinct(rng, digits, s.per_length, s.zero_prob)
        rng.shuffle(numbers)
        n_valid = round(len(numbers) * s.valid_frac)
        n_test = round(len(numbers) * s.test_frac)
        out.valid += [(n, reading(n)) for n in numbers[:n_valid]]
        out.test += [(n, reading(n)) for n in numbers[n_valid : n_valid + n_test]]
        out.train += [(n, reading(n)) for n in numbers[n_valid + n_test :]]
    lengths = range(s.train_digits + 1, s.long_digits + 1)
    for digits in lengths:
        numbers = _distinct(rng, digits, s.long_count // len(lengths), s.zero_prob)
        out.long += [(n, reading(n)) for n in numbers]
    rng.shuffle(out.train)
    return out


def build_vocabs(train: list[tuple[str, str]]) -> tuple[Vocab, Vocab]:
    """Source (digit) and target (Chinese character) vocabularies from the training pairs only."""
    source = Vocab([list(s) for s, _ in train], reserved_tokens=list(SPECIALS))
    target = Vocab([list(t) for _, t in train], reserved_tokens=list(SPECIALS))
    return source, target


def unknown_characters(text: str, vocab: Vocab) -> list[str]:
    """The distinct characters of ``text`` that ``vocab`` does not hold, in order of appearance."""
    return list(dict.fromkeys(ch for ch in text if ch not in vocab or ch in SPECIALS))
