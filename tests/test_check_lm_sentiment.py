"""The chapter-4 and chapter-7 self-checks accept right answers and reject typical wrong ones."""
from __future__ import annotations

import numpy as np
import pytest

from lstm_course import check
from lstm_course.data import Vocab


def test_batch_count_checks_accept_the_formulas_and_reject_off_by_one(capsys):
    check.sequential_batch_count(lambda N, B, T, o: ((N - o - 1) // B) // T)
    check.random_batch_count(lambda N, B, T, o: ((N - o - 1) // T) // B)
    assert capsys.readouterr().out.count("✅") == 2
    with pytest.raises(check.CheckFailed, match="偏移"):
        check.sequential_batch_count(lambda N, B, T, o: ((N - o) // B) // T)
    with pytest.raises(check.CheckFailed):
        check.random_batch_count(lambda N, B, T, o: ((N - 1) // T) // B)


def test_unk_fraction_check():
    def right(tokens, min_freq):
        vocab = Vocab(tokens, min_freq=min_freq)
        return sum(i == vocab.unk for i in vocab[tokens]) / len(tokens)

    check.unk_fraction(right)
    with pytest.raises(check.CheckFailed, match="unk"):   # share of the vocabulary, not of the tokens
        check.unk_fraction(lambda tokens, m: sum(1 for t in set(tokens) if tokens.count(t) < m) / len(set(tokens)))


def test_temperature_perplexity_check_needs_a_stable_softmax():
    def stable(logits, targets, tau):
        z = logits / tau
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(np.exp(-logp[np.arange(len(targets)), targets].mean()))

    check.temperature_perplexity(stable)
    with pytest.raises(check.CheckFailed):   # temperature applied the wrong way round
        check.temperature_perplexity(lambda lo, y, tau: stable(lo * tau, y, 1.0))
    with pytest.raises(check.CheckFailed, match="出错"):
        check.temperature_perplexity(lambda lo, y, tau: 1 / 0)


def test_mcnemar_check():
    from statistics import NormalDist

    def right(a, b):
        n01, n10 = int((a & ~b).sum()), int((~a & b).sum())
        if n01 + n10 == 0:
            return 0.0, 1.0
        stat = (abs(n01 - n10) - 1) ** 2 / (n01 + n10)
        return stat, 2 * (1 - NormalDist().cdf(stat ** 0.5))

    check.mcnemar(right)
    with pytest.raises(check.CheckFailed):   # forgot the continuity correction
        check.mcnemar(lambda a, b: (lambda n01, n10: ((n01 - n10) ** 2 / max(n01 + n10, 1), 1.0))(
            int((a & ~b).sum()), int((~a & b).sum())))
    with pytest.raises(check.CheckFailed, match="两个数"):
        check.mcnemar(lambda a, b: 0.5)


def test_best_threshold_check():
    def right(p, y, ts):
        return ts[int(np.argmax([((p >= t) == y).mean() for t in ts]))]

    check.best_threshold(right)
    with pytest.raises(check.CheckFailed):   # strict inequality shifts ties
        check.best_threshold(lambda p, y, ts: ts[int(np.argmax([((p > t + 0.011) == y).mean() for t in ts]))])
    with pytest.raises(check.CheckFailed):
        check.best_threshold(lambda p, y, ts: 0.5)
