"""Self-checks for chapter 4: minibatch counts of both sampling schemes, the ``<unk>`` share
of a vocabulary, and perplexity with a softmax temperature.

Importing this module needs NumPy only.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np

from lstm_course.check.core import CheckFailed, assert_close, call_learner, passed
from lstm_course.data.timemachine import seq_data_iter_random, seq_data_iter_sequential
from lstm_course.data.vocab import Vocab

__all__ = ["sequential_batch_count", "random_batch_count", "unk_fraction", "temperature_perplexity"]

# (corpus length N, batch size B, steps T, offset o): small, odd sizes so off-by-one errors show.
_BATCH_CASES = (
    (1000, 4, 7, 3),
    (1000, 4, 7, 0),
    (1000, 4, 7, 7),
    (357, 5, 6, 2),
    (10_000, 32, 35, 11),
    (260, 3, 9, 9),
    (281, 4, 7, 1),
)


class _FixedOffset(random.Random):
    """A ``random.Random`` whose ``randint`` returns a fixed offset (shuffling stays random)."""

    def __init__(self, offset: int) -> None:
        super().__init__(0)
        self.offset = offset

    def randint(self, a: int, b: int) -> int:  # noqa: D102 - same contract as random.randint
        return self.offset


def _check_counts(name: str, fn: Callable, count_batches: Callable[[int, int, int, int], int]) -> None:
    for N, B, T, o in _BATCH_CASES:
        expected = count_batches(N, B, T, o)
        actual = call_learner(name, fn, N, B, T, o)
        if actual != expected:
            raise CheckFailed(
                f"{name}：N={N}, B={B}, T={T}, 偏移 o={o} 时迭代器产生 {expected} 个小批量，你的公式给出 {actual}。"
            )


def sequential_batch_count(fn: Callable[[int, int, int, int], int]) -> None:
    """Check ``fn(N, B, T, offset) -> int`` against the batches ``seq_data_iter_sequential`` yields."""
    _check_counts(
        "顺序分区的小批量数", fn, lambda N, B, T, o: sum(1 for _ in seq_data_iter_sequential(range(N), B, T, offset=o))
    )
    passed(f"顺序分区的小批量数与迭代器一致（{len(_BATCH_CASES)} 组 N、B、T、偏移）。")


def random_batch_count(fn: Callable[[int, int, int, int], int]) -> None:
    """Check ``fn(N, B, T, offset) -> int`` against the batches ``seq_data_iter_random`` yields.

    ``offset`` is the number of tokens dropped from the front (``seq_data_iter_random`` draws it
    from ``[0, T - 1]``; here it is fixed, and cases with ``offset == T`` use ``T - 1``).
    """

    def iterator_count(N: int, B: int, T: int, o: int) -> int:
        return sum(1 for _ in seq_data_iter_random(range(N), B, T, rng=_FixedOffset(o)))

    _check_counts(
        "随机采样的小批量数",
        lambda N, B, T, o: fn(N, B, T, min(o, T - 1)),
        lambda N, B, T, o: iterator_count(N, B, T, min(o, T - 1)),
    )
    passed(f"随机采样的小批量数与迭代器一致（{len(_BATCH_CASES)} 组 N、B、T、偏移）。")


def unk_fraction(fn: Callable[[Sequence[str], int], float]) -> None:
    """Check ``fn(tokens, min_freq) -> float``: the share of ``tokens`` a ``Vocab(tokens, min_freq)`` maps to ``<unk>``."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)]
    weights = 1.0 / np.arange(1, len(words) + 1)  # Zipf-like: many rare words
    for size, min_freq in ((400, 1), (400, 3), (1500, 5), (50, 2)):
        tokens = list(rng.choice(words, size=size, p=weights / weights.sum()))
        vocab = Vocab(tokens, min_freq=min_freq)
        expected = sum(index == vocab.unk for index in vocab[tokens]) / len(tokens)
        actual = call_learner("unk_fraction", fn, list(tokens), min_freq)
        assert_close(f"<unk> 的比例（{size} 个词元，min_freq={min_freq}）", expected, actual, atol=1e-9)
    passed("<unk> 比例与 Vocab 一致（4 组词元序列与 min_freq）。")


def _reference_perplexity(logits: np.ndarray, targets: np.ndarray, tau: float) -> float:
    scaled = logits / tau
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
    return float(np.exp(-log_probs[np.arange(len(targets)), targets].mean()))


def temperature_perplexity(fn: Callable[[np.ndarray, np.ndarray, float], float]) -> None:
    """Check ``fn(logits, targets, tau) -> float``: ``exp`` of the mean cross-entropy of ``softmax(logits / tau)``.

    ``logits`` has shape ``(n, vocab)``, ``targets`` ``(n,)`` integer indices.
    """
    rng = np.random.default_rng(1)
    for n, vocab_size, tau, scale in ((50, 28, 1.0, 2.0), (30, 10, 0.5, 3.0), (80, 28, 1.7, 1.0), (5, 3, 1.0, 40.0)):
        logits = rng.normal(scale=scale, size=(n, vocab_size))
        targets = rng.integers(0, vocab_size, size=n)
        expected = _reference_perplexity(logits, targets, tau)
        actual = call_learner("temperature_perplexity", fn, logits.copy(), targets.copy(), tau)
        assert_close(
            f"困惑度（n={n}，词表 {vocab_size}，τ={tau}，logits 尺度 {scale}）", expected, actual, rtol=1e-6, atol=1e-9
        )
    passed("带温度的困惑度与参考实现一致（含 logits 很大、需要数值稳定的情形）。")
