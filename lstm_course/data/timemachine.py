"""H. G. Wells' *The Time Machine*: text, tokens, vocabulary, corpus and minibatch iterators.

The pipeline mirrors the Chinese edition of d2l (API of the ``d2l`` 0.17 releases) so a d2l
reader recognises every step:

* :func:`read_time_machine` — lines, normalised (non-letters → one space, lower case);
* :func:`tokenize` — ``'char'`` or ``'word'`` tokens per line;
* :func:`load_corpus_time_machine` — token indices of the book and its :class:`~lstm_course.data.vocab.Vocab`
  (most frequent first, ``<unk>`` at 0);
* :func:`seq_data_iter_random` / :func:`seq_data_iter_sequential` — the two minibatch schemes,
  yielding ``(X, Y)`` integer arrays of shape ``(batch, steps)`` with ``Y`` = ``X`` shifted by one;
* :func:`load_time_machine` — ``(iterator, vocab)`` for the d2l setting (first 10,000 characters,
  no held-out text);
* :func:`split_by_position` / :func:`load_time_machine_splits` — the honest setting: the whole
  book, the last 10 % held out as validation text.

Two ways to join lines: d2l 0.17 concatenates the characters of consecutive lines with *no*
separator (so ``"...the time traveller"`` + ``"for so it..."`` becomes ``"travellerfor"``);
``join_lines=True`` puts one space between lines instead, which gives exactly the text that
d2l 1.x's ``TimeMachine._preprocess`` produces.  The d2l setting keeps d2l 0.17's choice;
the honest setting joins with spaces.

Arrays are NumPy ``int64``; the framework code converts them (this module imports neither
PyTorch nor TensorFlow).  Randomness comes from Python's :mod:`random` (seeded by
:func:`lstm_course.runtime.set_seed`) unless an ``rng`` (a :class:`random.Random`) is given, and is
drawn in the same order as d2l's functions, so equal seeds give d2l's batches.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from lstm_course.data.fetch import fetch
from lstm_course.data.vocab import Vocab

__all__ = [
    "normalize",
    "read_time_machine",
    "tokenize",
    "time_machine_tokens",
    "load_corpus_time_machine",
    "seq_data_iter_random",
    "seq_data_iter_sequential",
    "SeqDataLoader",
    "load_time_machine",
    "split_by_position",
    "load_time_machine_splits",
    "TOKEN_KINDS",
]

#: The token kinds :func:`tokenize` knows.
TOKEN_KINDS = ("char", "word")
_NON_LETTERS = re.compile("[^A-Za-z]+")


def normalize(text: str) -> str:
    """d2l's normalisation: every run of non-letters becomes one space, then lower case.

    Applied to the whole raw book this is d2l 1.x's ``TimeMachine._preprocess``.
    """
    return _NON_LETTERS.sub(" ", text).lower()


def read_time_machine() -> list[str]:
    """Lines of the book, normalised as d2l does: non-letters become spaces, lower case.

    Returns:
        list of ``str``, one per line of the file (blank lines kept as ``''``).
    """
    text = fetch("timemachine").read_text(encoding="utf-8")
    return [normalize(line).strip() for line in text.splitlines()]


def tokenize(lines: Sequence[str], token: str = "word") -> list[list[str]]:
    """Split each line into ``'word'`` tokens (on whitespace) or ``'char'`` tokens.

    Raises:
        ValueError: ``token`` is neither ``'word'`` nor ``'char'``.
    """
    if token == "word":
        return [line.split() for line in lines]
    if token == "char":
        return [list(line) for line in lines]
    raise ValueError(f"token must be one of {TOKEN_KINDS}, received {token!r}")


def time_machine_tokens(token: str = "char", *, join_lines: bool = False) -> list[str]:
    """All tokens of the book in reading order, as one flat list.

    Args:
        token: ``'char'`` or ``'word'``.
        join_lines: put one space between consecutive non-empty lines (d2l 1.x); the default
            concatenates lines without separator (d2l 0.17). Irrelevant for word tokens.
    """
    lines = read_time_machine()
    if join_lines:
        lines = [" ".join(line for line in lines if line)]
    return [tok for line in tokenize(lines, token) for tok in line]


def load_corpus_time_machine(
    max_tokens: int = -1, *, token: str = "char", join_lines: bool = False
) -> tuple[list[int], Vocab]:
    """Token indices of the book and the vocabulary built on *all* of its tokens (as d2l does).

    Args:
        max_tokens: keep only the first ``max_tokens`` indices (``<= 0``: keep all).
        token, join_lines: see :func:`time_machine_tokens`.

    Returns:
        ``(corpus, vocab)``: ``corpus`` a list of ``int`` of length ``min(max_tokens, #tokens)``.
    """
    tokens = time_machine_tokens(token, join_lines=join_lines)
    vocab = Vocab(tokens)
    corpus = vocab[tokens]
    if max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab


def _check_sizes(corpus: Sequence[int], batch_size: int, num_steps: int) -> None:
    for name, value in (("batch_size", batch_size), ("num_steps", num_steps)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, received {value!r}")
    needed = batch_size * num_steps + num_steps + 1
    if len(corpus) < needed:
        raise ValueError(
            f"corpus too short: expected at least {needed} tokens for "
            f"batch_size={batch_size}, num_steps={num_steps}, received {len(corpus)}"
        )


def seq_data_iter_random(
    corpus: Sequence[int], batch_size: int, num_steps: int, *, rng: random.Random | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Random sampling: shuffled, non-overlapping subsequences; batches are unrelated to each other.

    A random offset in ``[0, num_steps - 1]`` is dropped from the front, the rest is cut into
    subsequences of ``num_steps`` tokens, and their start positions are shuffled.

    Yields:
        ``(X, Y)``, each ``int64`` of shape ``(batch_size, num_steps)``; ``Y[b, t]`` is the token
        after ``X[b, t]``.  Batch ``k+1`` does *not* continue batch ``k``: reset the state.
    """
    _check_sizes(corpus, batch_size, num_steps)
    rng = rng or random
    data = np.asarray(corpus, dtype=np.int64)[rng.randint(0, num_steps - 1) :]
    num_subseqs = (len(data) - 1) // num_steps
    starts = list(range(0, num_subseqs * num_steps, num_steps))
    rng.shuffle(starts)
    num_batches = num_subseqs // batch_size
    window = np.arange(num_steps)
    for i in range(0, batch_size * num_batches, batch_size):
        idx = np.asarray(starts[i : i + batch_size])[:, None] + window  # (batch, steps)
        yield data[idx], data[idx + 1]


def seq_data_iter_sequential(
    corpus: Sequence[int],
    batch_size: int,
    num_steps: int,
    *,
    rng: random.Random | None = None,
    offset: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Sequential partitioning: ``batch_size`` parallel streams read left to right.

    After a random offset in ``[0, num_steps]`` (or the given ``offset``) the corpus is cut into
    ``batch_size`` equal rows; batch ``k`` holds columns ``k*num_steps .. (k+1)*num_steps - 1``.
    Row ``b`` of batch ``k+1`` continues row ``b`` of batch ``k``, so the final hidden state of
    one batch is the right initial state of the next (carry it, detached).

    Yields:
        ``(X, Y)``, each ``int64`` of shape ``(batch_size, num_steps)``.
    """
    _check_sizes(corpus, batch_size, num_steps)
    if offset is None:
        offset = (rng or random).randint(0, num_steps)
    elif not 0 <= offset <= num_steps:
        raise ValueError(f"offset must be in [0, {num_steps}], received {offset}")
    data = np.asarray(corpus, dtype=np.int64)
    num_tokens = ((len(data) - offset - 1) // batch_size) * batch_size
    Xs = data[offset : offset + num_tokens].reshape(batch_size, -1)
    Ys = data[offset + 1 : offset + 1 + num_tokens].reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_batches * num_steps, num_steps):
        yield Xs[:, i : i + num_steps], Ys[:, i : i + num_steps]


class SeqDataLoader:
    """Re-iterable minibatches of a corpus; each ``iter()`` draws fresh random offsets.

    Args:
        corpus: token indices.
        batch_size, num_steps: minibatch shape ``(batch_size, num_steps)``.
        use_random_iter: random sampling (reset the state every batch) instead of sequential
            partitioning (carry the state).
        vocab: the vocabulary of ``corpus`` (kept for convenience, as ``loader.vocab``).
        rng: random source; default Python's global :mod:`random`.
        offset: fixed offset for sequential partitioning (e.g. ``0`` for a deterministic
            validation pass); ``None`` draws one per epoch like d2l.
    """

    def __init__(
        self,
        corpus: Sequence[int],
        batch_size: int,
        num_steps: int,
        *,
        use_random_iter: bool = False,
        vocab: Vocab | None = None,
        rng: random.Random | None = None,
        offset: int | None = None,
    ) -> None:
        _check_sizes(corpus, batch_size, num_steps)
        if use_random_iter and offset is not None:
            raise ValueError("offset applies to sequential partitioning only (use_random_iter=False)")
        self.corpus = list(corpus)
        self.batch_size, self.num_steps = batch_size, num_steps
        self.use_random_iter = bool(use_random_iter)
        self.vocab = vocab
        self.rng = rng
        self.offset = offset

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self.use_random_iter:
            return seq_data_iter_random(self.corpus, self.batch_size, self.num_steps, rng=self.rng)
        return seq_data_iter_sequential(self.corpus, self.batch_size, self.num_steps, rng=self.rng, offset=self.offset)

    def __len__(self) -> int:
        """Batches per epoch for the largest offset (an epoch may have one batch more)."""
        n, B, T = len(self.corpus), self.batch_size, self.num_steps
        if self.use_random_iter:
            return ((n - 1 - (T - 1)) // T) // B
        offset = T if self.offset is None else self.offset
        return ((n - offset - 1) // B) // T

    @property
    def num_tokens(self) -> int:
        """Tokens predicted per epoch, roughly ``len(self) * batch_size * num_steps``."""
        return len(self) * self.batch_size * self.num_steps

    def __repr__(self) -> str:
        scheme = "random" if self.use_random_iter else "sequential"
        return (
            f"SeqDataLoader({scheme}, tokens={len(self.corpus)}, batch_size={self.batch_size}, "
            f"num_steps={self.num_steps}, batches≈{len(self)})"
        )


def load_time_machine(
    batch_size: int, num_steps: int, *, use_random_iter: bool = False, max_tokens: int = 10000
) -> tuple[SeqDataLoader, Vocab]:
    """The d2l setting: ``(iterator, vocab)`` over the first ``max_tokens`` characters.

    Same text, vocabulary and batches as d2l's ``load_data_time_machine`` (Chinese edition);
    there is no held-out text, so the perplexity it reports measures memorisation.
    """
    corpus, vocab = load_corpus_time_machine(max_tokens)
    return SeqDataLoader(corpus, batch_size, num_steps, use_random_iter=use_random_iter, vocab=vocab), vocab


def split_by_position(corpus: Sequence[Any], val_fraction: float = 0.1) -> tuple[list, list]:
    """Cut a sequence into ``(train, val)``: the last ``val_fraction`` of it is held out.

    Splitting by position (not by shuffled windows) keeps every validation character unseen
    during training, so validation perplexity measures generalisation.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), received {val_fraction!r}")
    n_val = int(round(len(corpus) * val_fraction))
    if n_val < 1 or n_val >= len(corpus):
        raise ValueError(f"val_fraction={val_fraction} leaves an empty part of a {len(corpus)}-token corpus")
    cut = len(corpus) - n_val
    return list(corpus[:cut]), list(corpus[cut:])


def load_time_machine_splits(
    batch_size: int,
    num_steps: int,
    *,
    use_random_iter: bool = False,
    val_fraction: float = 0.1,
    token: str = "char",
    join_lines: bool = True,
    min_freq: int = 0,
) -> tuple[SeqDataLoader, SeqDataLoader, Vocab]:
    """The honest setting: the whole book, the last ``val_fraction`` held out.

    The vocabulary is built on the training part only (unseen validation tokens map to
    ``<unk>``).  The validation loader is sequential with offset 0, so every evaluation sees the
    same batches.

    Returns:
        ``(train_iter, val_iter, vocab)``.
    """
    tokens = time_machine_tokens(token, join_lines=join_lines)
    train_tokens, val_tokens = split_by_position(tokens, val_fraction)
    vocab = Vocab(train_tokens, min_freq=min_freq)
    train = SeqDataLoader(vocab[train_tokens], batch_size, num_steps, use_random_iter=use_random_iter, vocab=vocab)
    val = SeqDataLoader(vocab[val_tokens], batch_size, num_steps, use_random_iter=False, vocab=vocab, offset=0)
    return train, val, vocab
