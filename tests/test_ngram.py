"""The Kneser–Ney n-gram baseline: proper distributions, hand-checked values, order selection."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from lstm_course.data.timemachine import SeqDataLoader
from lstm_course.lm.ngram import KneserNeyLM, select_order, streams_of

# a b a c a b a c ... plus one rare d: tokens 0..4 (4 never appears)
CORPUS = [0, 1, 0, 2] * 25 + [0, 3]
V = 5


@pytest.fixture(scope="module")
def model() -> KneserNeyLM:
    return KneserNeyLM(4, V).fit(CORPUS)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("context", [[], [0], [1, 0], [3, 3, 3], [4], [0, 1, 0, 2, 0]])
def test_every_distribution_sums_to_one_and_is_positive(model, order, context):
    p = model.distribution(context, order)
    assert p.shape == (V,)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert (p > 0).all()  # even the never-seen token 4


def test_unigram_values_by_hand(model):
    # As the highest order, order 1 uses raw counts: 0 x51, 1 x25, 2 x25, 3 x1 (total 102, 4 types);
    # count-of-counts n1 = 1, n2 = 0 -> D = 1.
    assert model.prob(0, order=1) == pytest.approx((51 - 1) / 102 + 1 * 4 / 102 / V)
    assert model.prob(4, order=1) == pytest.approx(4 / 102 / V)
    # As a lower order, it uses continuation counts N1+(. w), the number of distinct left neighbours:
    # 0 follows {1, 2}; 1, 2 and 3 follow {0}; 4 never -> total 5, 4 types, n1 = 3, n2 = 1, D = 3/5.
    # Context [4] was never seen, so the bigram model backs off to exactly this distribution.
    D = 3 / 5
    assert model.prob(0, [4], order=2) == pytest.approx((2 - D) / 5 + D * 4 / 5 / V)
    assert model.prob(1, [4], order=2) == pytest.approx((1 - D) / 5 + D * 4 / 5 / V)
    assert model.prob(4, [4], order=2) == pytest.approx(D * 4 / 5 / V)


def test_bigram_value_by_hand(model):
    # Raw bigram counts after context 0: (0,1) x25, (0,2) x25, (0,3) x1 -> total 51, 3 types.
    raw2 = list(model._raw[2].values())
    n1, n2 = raw2.count(1), raw2.count(2)
    D = n1 / (n1 + 2 * n2)
    lower = (1 - 3 / 5) / 5 + 3 / 5 * 4 / 5 / V  # continuation unigram of token 1 (see above)
    assert model.prob(1, [0], order=2) == pytest.approx((25 - D) / 51 + D * 3 / 51 * lower)


def test_higher_orders_capture_the_pattern(model):
    # After "1 0" the next token is always 2; after "2 0" it is 1 (or the rare 3).
    assert model.prob(2, [1, 0], order=3) > 0.9
    assert model.prob(1, [2, 0], order=3) > 0.9
    val = [[0, 1, 0, 2, 0, 1, 0, 2, 0, 1]]
    ppl = [model.perplexity(val, order=n) for n in (1, 2, 3)]
    assert ppl[0] > ppl[1] > ppl[2] and ppl[2] < 1.2


def test_unseen_context_backs_off_to_the_lower_order(model):
    assert model.prob(1, [4, 4, 0], order=4) == pytest.approx(model.prob(1, [4, 0], order=3))
    assert model.prob(1, [4, 4, 4], order=4) == pytest.approx(model.prob(1, [4], order=2))


def test_argument_errors(model):
    with pytest.raises(ValueError, match=r"corpus tokens must be in \[0, 5\)"):
        KneserNeyLM(2, V).fit([0, 1, 5])
    with pytest.raises(ValueError, match=r"order must be in \[1, 4\]"):
        model.perplexity([CORPUS], order=5)
    with pytest.raises(RuntimeError, match="fit"):
        KneserNeyLM(2, V).prob(0)
    with pytest.raises(ValueError, match="nothing to score"):
        model.perplexity([[1]])
    with pytest.raises(ValueError, match="max_order must be a positive int"):
        KneserNeyLM(0, V)


def test_cross_entropy_matches_a_manual_sum(model):
    stream = [0, 1, 0, 2, 0, 3]
    manual = -np.mean([math.log(model.prob(stream[i], stream[:i], order=3)) for i in range(1, len(stream))])
    assert model.cross_entropy([stream], order=3) == pytest.approx(manual)


def test_streams_of_a_sequential_loader_score_exactly_its_targets():
    corpus = list(np.random.default_rng(0).integers(0, V, 400))
    loader = SeqDataLoader(corpus, 4, 7, offset=0, rng=random.Random(0))
    streams = streams_of(loader)
    targets = [Y for _, Y in loader]
    assert len(streams) == 4
    for b, stream in enumerate(streams):
        assert stream[1:] == [int(t) for Y in targets for t in Y[b]]
    assert sum(len(s) - 1 for s in streams) == sum(Y.size for Y in targets)


def test_select_order_picks_the_lowest_validation_perplexity():
    rng = np.random.default_rng(1)
    # A second-order Markov source: the next token depends on the last two.
    table = rng.dirichlet(np.full(V, 0.3), size=(V, V))
    seq = [0, 1]
    for _ in range(6000):
        seq.append(int(rng.choice(V, p=table[seq[-2], seq[-1]])))
    selection = select_order(seq[:5000], [seq[5000:]], V, orders=range(1, 6))
    assert selection.best_order == min(selection.perplexities, key=selection.perplexities.get)
    assert selection.best_order == 3
    assert selection.perplexities[1] > selection.perplexities[2] > selection.perplexities[3]
