"""A token n-gram language model with interpolated Kneser–Ney smoothing: the baseline an LSTM must beat.

For an order-``n`` model and a context ``h`` of the previous ``n - 1`` tokens
(Chen & Goodman's interpolated Kneser–Ney, one discount ``D_k`` per order):

.. math::

   P(w \\mid h) = \\frac{\\max(c(h w) - D, 0)}{c(h \\bullet)}
                 + \\frac{D \\, N_{1+}(h \\bullet)}{c(h \\bullet)} \\, P(w \\mid h')

where ``h'`` drops the oldest token of ``h``.  The highest order uses raw counts ``c``; every
lower order uses *continuation counts* ``N1+(• h w)`` (in how many different contexts a string
was seen), and order 1 interpolates with the uniform distribution over the vocabulary, so no
token ever has probability 0.  A context never seen backs off entirely to the lower order.
``D_k = n_1 / (n_1 + 2 n_2)`` from the number of k-grams seen once and twice.

Tokens are integer indices (e.g. from :class:`~lstm_course.data.vocab.Vocab`).  Perplexity is
measured on *streams*: in each stream the first token is given and every later token is scored
given the tokens before it — exactly what a recurrent model sees when it reads the same
stream, so :func:`streams_of` turns a sequential minibatch loader into the streams its rows
form, for a like-for-like comparison with an LSTM's validation perplexity.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["KneserNeyLM", "OrderSelection", "select_order", "streams_of"]


def _encode(tokens: Sequence[int]) -> str:
    """Token indices as a string (one character per token) so n-grams are fast substrings."""
    return "".join(map(chr, (int(t) for t in tokens)))


class KneserNeyLM:
    """Interpolated Kneser–Ney n-gram model of orders ``1 .. max_order`` (fit once, use any order).

    Args:
        max_order: the largest ``n``; :meth:`perplexity` etc. accept any ``order <= max_order``.
        vocab_size: number of token indices (``0 .. vocab_size - 1``).
    """

    def __init__(self, max_order: int, vocab_size: int) -> None:
        if not isinstance(max_order, int) or max_order < 1:
            raise ValueError(f"max_order must be a positive int, received {max_order!r}")
        if not isinstance(vocab_size, int) or vocab_size < 1:
            raise ValueError(f"vocab_size must be a positive int, received {vocab_size!r}")
        self.max_order, self.vocab_size = max_order, vocab_size
        self._fitted = False

    def fit(self, corpus: Sequence[int]) -> KneserNeyLM:
        """Count the n-grams of ``corpus`` (token indices); returns ``self``."""
        corpus = list(corpus)
        if len(corpus) < 2:
            raise ValueError(f"corpus too short: expected at least 2 tokens, received {len(corpus)}")
        if min(corpus) < 0 or max(corpus) >= self.vocab_size:
            raise ValueError(
                f"corpus tokens must be in [0, {self.vocab_size}), received values in [{min(corpus)}, {max(corpus)}]"
            )
        text = _encode(corpus)
        N = self.max_order
        # raw[k]: counts of k-grams; cont[k]: continuation counts N1+(. w) of k-grams (k < N).
        self._raw = [Counter()] + [Counter(text[i : i + k] for i in range(len(text) - k + 1)) for k in range(1, N + 1)]
        self._cont: list[Counter] = [Counter() for _ in range(N + 1)]
        for k in range(1, N):
            self._cont[k] = Counter(gram[1:] for gram in self._raw[k + 1])
        # Per order and kind: context -> (total count, number of distinct followers); discount.
        self._ctx = {}
        self._discount = {}
        for kind, table in (("raw", self._raw), ("cont", self._cont)):
            for k in range(1, N + 1):
                counts = table[k]
                totals: dict[str, list[int]] = {}
                for gram, c in counts.items():
                    entry = totals.setdefault(gram[:-1], [0, 0])
                    entry[0] += c
                    entry[1] += 1
                self._ctx[kind, k] = totals
                n1 = sum(1 for c in counts.values() if c == 1)
                n2 = sum(1 for c in counts.values() if c == 2)
                self._discount[kind, k] = n1 / (n1 + 2 * n2) if n1 + 2 * n2 > 0 else 0.5
        self._fitted = True
        return self

    def _check(self, order: int | None) -> int:
        if not self._fitted:
            raise RuntimeError("call fit(corpus) first")
        order = self.max_order if order is None else order
        if not isinstance(order, int) or not 1 <= order <= self.max_order:
            raise ValueError(f"order must be in [1, {self.max_order}], received {order!r}")
        return order

    def _prob(self, w: str, h: str, kind: str) -> float:
        """P(w | h) with ``len(h) + 1`` as the order; ``kind`` 'raw' (highest order) or 'cont'."""
        k = len(h) + 1
        table = self._raw if kind == "raw" else self._cont
        total, types = self._ctx[kind, k].get(h, (0, 0))
        lower = 1.0 / self.vocab_size if k == 1 else self._prob(w, h[1:], "cont")
        if total == 0:
            return lower
        D = self._discount[kind, k]
        return max(table[k][h + w] - D, 0.0) / total + D * types / total * lower

    def prob(self, token: int, context: Sequence[int] = (), order: int | None = None) -> float:
        """``P(token | the last order-1 tokens of context)``."""
        order = self._check(order)
        h = _encode(context)[-(order - 1) :] if order > 1 else ""
        return self._prob(chr(int(token)), h, "raw")

    def distribution(self, context: Sequence[int] = (), order: int | None = None) -> np.ndarray:
        """Probabilities of every next token, shape ``(vocab_size,)`` (sums to 1)."""
        order = self._check(order)
        h = _encode(context)[-(order - 1) :] if order > 1 else ""
        return np.array([self._prob(chr(v), h, "raw") for v in range(self.vocab_size)])

    def cross_entropy(self, streams: Iterable[Sequence[int]], order: int | None = None) -> float:
        """Mean negative log-likelihood (nats) of every token but the first of each stream."""
        order = self._check(order)
        total, count = 0.0, 0
        for stream in streams:
            text = _encode(stream)
            for i in range(1, len(text)):
                h = text[max(0, i - order + 1) : i] if order > 1 else ""
                total -= math.log(self._prob(text[i], h, "raw"))
                count += 1
        if count == 0:
            raise ValueError("nothing to score: every stream needs at least 2 tokens")
        return total / count

    def perplexity(self, streams: Iterable[Sequence[int]], order: int | None = None) -> float:
        """``exp(cross_entropy)``; pass ``[corpus]`` for a single text."""
        return math.exp(self.cross_entropy(streams, order))

    def generate(
        self,
        context: Sequence[int],
        num_preds: int,
        *,
        order: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> list[int]:
        """Sample ``num_preds`` tokens after ``context``; returns only the new tokens."""
        order = self._check(order)
        if not isinstance(num_preds, int) or num_preds < 1:
            raise ValueError(f"num_preds must be an int >= 1, received {num_preds!r}")
        rng = rng or np.random.default_rng()
        tokens = list(context)
        for _ in range(num_preds):
            p = self.distribution(tokens, order)
            tokens.append(int(rng.choice(self.vocab_size, p=p / p.sum())))
        return tokens[len(context) :]


def streams_of(data_iter: Iterable) -> list[list[int]]:
    """The streams a sequential minibatch loader reads: row ``b`` of all batches, plus its last target.

    For batches ``(X, Y)`` of shape ``(batch, steps)`` from sequential partitioning with a fixed
    offset, stream ``b`` is ``X[b]`` of every batch concatenated, followed by the final
    ``Y[b, -1]``; scoring its tokens after the first scores exactly the loader's targets.
    """
    rows: list[list[int]] | None = None
    last = None
    for X, Y in data_iter:
        X, Y = np.asarray(X), np.asarray(Y)
        if rows is None:
            rows = [[] for _ in range(X.shape[0])]
        for b in range(X.shape[0]):
            rows[b].extend(int(t) for t in X[b])
        last = Y[:, -1]
    if rows is None:
        raise ValueError("data_iter produced no batches")
    return [row + [int(t)] for row, t in zip(rows, last, strict=True)]


@dataclass
class OrderSelection:
    """Result of :func:`select_order`: validation perplexity per order, and the best order."""

    perplexities: dict[int, float]
    best_order: int
    model: KneserNeyLM

    @property
    def best_perplexity(self) -> float:
        """Validation perplexity of :attr:`best_order`."""
        return self.perplexities[self.best_order]


def select_order(
    train: Sequence[int], val_streams: Iterable[Sequence[int]], vocab_size: int, orders: Iterable[int] = range(1, 11)
) -> OrderSelection:
    """Fit on ``train`` once and pick the order with the lowest perplexity on ``val_streams``.

    Choosing ``n`` on the data the result is reported on favours the baseline slightly, which
    makes "the LSTM beats it" a conservative claim.
    """
    orders = sorted(set(orders))
    if not orders or orders[0] < 1:
        raise ValueError(f"orders must be positive ints, received {orders}")
    val_streams = [list(s) for s in val_streams]
    model = KneserNeyLM(orders[-1], vocab_size).fit(train)
    ppl = {n: model.perplexity(val_streams, order=n) for n in orders}
    best = min(ppl, key=ppl.get)
    return OrderSelection(ppl, best, model)
