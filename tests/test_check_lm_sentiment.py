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
    with pytest.raises(check.CheckFailed, match="unk"):  # share of the vocabulary, not of the tokens
        check.unk_fraction(lambda tokens, m: sum(1 for t in set(tokens) if tokens.count(t) < m) / len(set(tokens)))


def test_temperature_perplexity_check_needs_a_stable_softmax():
    from scipy.special import log_softmax

    def stable(logits, targets, tau):  # referee: SciPy's log-softmax
        logp = log_softmax(logits / tau, axis=1)
        return float(np.exp(-logp[np.arange(len(targets)), targets].mean()))

    check.temperature_perplexity(stable)
    with pytest.raises(check.CheckFailed):  # temperature applied the wrong way round
        check.temperature_perplexity(lambda lo, y, tau: stable(lo * tau, y, 1.0))
    with pytest.raises(check.CheckFailed, match="出错"):
        check.temperature_perplexity(lambda lo, y, tau: 1 / 0)


def scipy_mcnemar(correct_a, correct_b):
    """Referee: the discordant counts from SciPy's contingency table, the p-value from SciPy's
    chi-square distribution with one degree of freedom (continuity-corrected statistic)."""
    from scipy.stats import chi2
    from scipy.stats.contingency import crosstab

    (levels_a, levels_b), table = crosstab(correct_a, correct_b, levels=([False, True], [False, True]))
    a_only, b_only = int(table[1, 0]), int(table[0, 1])  # A right and B wrong; A wrong and B right
    if a_only + b_only == 0:
        return 0.0, 1.0
    stat = (abs(a_only - b_only) - 1) ** 2 / (a_only + b_only)
    return stat, float(chi2.sf(stat, df=1))


def test_mcnemar_referee_agrees_with_statsmodels():
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

    rng = np.random.default_rng(11)
    for n in (40, 500, 3000):
        a, b = rng.random(n) < 0.85, rng.random(n) < 0.8
        table = [[int((a & b).sum()), int((a & ~b).sum())], [int((~a & b).sum()), int((~a & ~b).sum())]]
        result = sm_mcnemar(table, exact=False, correction=True)
        assert np.allclose(scipy_mcnemar(a, b), (result.statistic, result.pvalue), rtol=1e-10)


def test_mcnemar_check():
    check.mcnemar(scipy_mcnemar)
    with pytest.raises(check.CheckFailed):  # forgot the continuity correction
        check.mcnemar(
            lambda a, b: (lambda n01, n10: ((n01 - n10) ** 2 / max(n01 + n10, 1), 1.0))(
                int((a & ~b).sum()), int((~a & b).sum())
            )
        )
    with pytest.raises(check.CheckFailed):  # the exact binomial test is a different test
        from scipy.stats import binomtest

        def exact(a, b):
            n01, n10 = int((a & ~b).sum()), int((~a & b).sum())
            stat = scipy_mcnemar(a, b)[0]
            return stat, binomtest(n01, n01 + n10, 0.5).pvalue if n01 + n10 else 1.0

        check.mcnemar(exact)
    with pytest.raises(check.CheckFailed, match="两个数"):
        check.mcnemar(lambda a, b: 0.5)


def brute_force_threshold(probabilities, labels, thresholds):
    """Referee: count the right answers of every threshold one sample at a time, in plain
    Python; the first threshold with the largest count wins."""
    best, best_count = None, -1
    pairs = list(zip(probabilities.tolist(), labels.tolist(), strict=True))
    for t in thresholds.tolist():
        count = 0
        for p, y in pairs:
            predicted = 1 if p >= t else 0
            count += predicted == y
        if count > best_count:
            best, best_count = t, count
    return best


def test_best_threshold_check():
    check.best_threshold(brute_force_threshold)
    with pytest.raises(check.CheckFailed):  # strict inequality shifts ties
        check.best_threshold(lambda p, y, ts: ts[int(np.argmax([((p > t + 0.011) == y).mean() for t in ts]))])
    with pytest.raises(check.CheckFailed):  # the last of the tied thresholds instead of the first
        check.best_threshold(lambda p, y, ts: brute_force_threshold(p[::-1], y[::-1], ts[::-1]))
    with pytest.raises(check.CheckFailed):
        check.best_threshold(lambda p, y, ts: 0.5)
