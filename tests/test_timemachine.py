"""The Time Machine pipeline: normalisation, tokens, corpus, the two minibatch schemes, the split."""

from __future__ import annotations

import random

import numpy as np
import pytest

from lstm_course.data import Vocab, fetch
from lstm_course.data import timemachine as tm


def test_normalize_is_d2l_regex():
    assert tm.normalize("The Time-Machine, by H. G. Wells!\n") == "the time machine by h g wells "
    assert tm.normalize("  42 ") == " "


def test_read_time_machine_lines_are_normalised():
    lines = tm.read_time_machine()
    assert len(lines) == len(fetch("timemachine").read_text(encoding="utf-8").splitlines())
    assert lines[0] == "the time machine by h g wells"
    assert all(set(line) <= set("abcdefghijklmnopqrstuvwxyz ") for line in lines)
    assert all(line == line.strip() and "  " not in line for line in lines)


def test_tokenize_char_and_word():
    lines = ["the time", "", "a b"]
    assert tm.tokenize(lines, "word") == [["the", "time"], [], ["a", "b"]]
    assert tm.tokenize(lines, "char") == [list("the time"), [], list("a b")]
    with pytest.raises(ValueError, match="token must be one of"):
        tm.tokenize(lines, "byte")


def test_corpus_and_vocab_of_the_d2l_setting():
    corpus, vocab = tm.load_corpus_time_machine(10000)
    assert len(corpus) == 10000 and len(vocab) == 28
    assert vocab.idx_to_token[:3] == ["<unk>", " ", "e"]  # most frequent first
    tokens = tm.time_machine_tokens("char")
    assert vocab.to_tokens(corpus) == tokens[:10000]
    assert "".join(tokens[:40]) == "the time machine by h g wellsithe time t"  # lines glued, as d2l 0.17
    full, _ = tm.load_corpus_time_machine()
    assert len(full) == len(tokens) and corpus == full[:10000]


def test_join_lines_gives_d2l_1x_text():
    raw = fetch("timemachine").read_text(encoding="utf-8")
    joined = "".join(tm.time_machine_tokens("char", join_lines=True))
    assert joined == tm.normalize(raw).strip()
    words = tm.time_machine_tokens("word", join_lines=True)
    assert words == tm.time_machine_tokens("word")


def _batches(it):
    return [(X.copy(), Y.copy()) for X, Y in it]


def test_random_sampling_shapes_targets_and_disjoint_windows():
    corpus = list(range(100))
    batches = _batches(tm.seq_data_iter_random(corpus, 3, 5, rng=random.Random(0)))
    assert batches and all(X.shape == (3, 5) and X.dtype == np.int64 for X, _ in batches)
    starts = []
    for X, Y in batches:
        np.testing.assert_array_equal(Y, X + 1)  # next token
        np.testing.assert_array_equal(X, X[:, :1] + np.arange(5))  # contiguous windows
        starts += list(X[:, 0])
    assert len(set(starts)) == len(starts)  # no window twice
    assert len({s % 5 for s in starts}) == 1  # one common offset
    assert starts != sorted(starts)  # shuffled


def test_sequential_partitioning_rows_continue_across_batches():
    corpus = list(range(200))
    batches = _batches(tm.seq_data_iter_sequential(corpus, 4, 6, rng=random.Random(1)))
    assert len(batches) >= 2
    for (X0, _), (X1, Y1) in zip(batches, batches[1:], strict=False):
        np.testing.assert_array_equal(X1[:, 0], X0[:, -1] + 1)  # state may be carried
        np.testing.assert_array_equal(Y1, X1 + 1)
    first = batches[0][0]
    assert len(set(np.diff(first[:, 0]))) == 1  # equal-length rows


def test_iterators_are_reproducible_and_use_global_random():
    corpus = list(range(300))
    random.seed(5)
    a = _batches(tm.seq_data_iter_random(corpus, 4, 7))
    random.seed(5)
    b = _batches(tm.seq_data_iter_random(corpus, 4, 7))
    c = _batches(tm.seq_data_iter_random(corpus, 4, 7, rng=random.Random(5)))
    for (xa, _), (xb, _), (xc, _) in zip(a, b, c, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(xa, xc)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(batch_size=0, num_steps=5), "batch_size must be a positive int"),
        (dict(batch_size=2, num_steps=-1), "num_steps must be a positive int"),
        (dict(batch_size=8, num_steps=10), "corpus too short"),
    ],
)
def test_iterator_argument_errors(kwargs, message):
    for fn in (tm.seq_data_iter_random, tm.seq_data_iter_sequential):
        with pytest.raises(ValueError, match=message):
            next(fn(list(range(50)), **kwargs))


def test_loader_is_reiterable_and_len_is_close():
    loader, vocab = tm.load_time_machine(32, 35)
    assert loader.vocab is vocab and not loader.use_random_iter
    counts = [sum(1 for _ in loader) for _ in range(3)]
    assert all(len(loader) <= c <= len(loader) + 1 for c in counts)
    rand, _ = tm.load_time_machine(32, 35, use_random_iter=True)
    assert rand.use_random_iter and all(len(rand) <= sum(1 for _ in rand) <= len(rand) + 1 for _ in range(2))
    with pytest.raises(ValueError, match="offset applies to sequential"):
        tm.SeqDataLoader(list(range(500)), 2, 5, use_random_iter=True, offset=0)


def test_split_by_position_holds_out_the_end():
    train, val = tm.split_by_position(list(range(1000)), 0.1)
    assert train == list(range(900)) and val == list(range(900, 1000))
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="val_fraction"):
            tm.split_by_position([1, 2, 3], bad)


def test_honest_splits_cover_the_book_and_validation_is_fixed():
    train, val, vocab = tm.load_time_machine_splits(32, 35)
    tokens = tm.time_machine_tokens("char", join_lines=True)
    assert vocab.to_tokens(train.corpus + val.corpus) == tokens
    assert len(val.corpus) == round(0.1 * len(tokens))
    assert vocab == Vocab(tokens[: len(train.corpus)])  # built on training text only
    first = _batches(val)
    second = _batches(val)
    assert len(first) == len(second) and all((a[0] == b[0]).all() for a, b in zip(first, second, strict=True))
    assert first[0][0][0, 0] == val.corpus[0]  # offset 0
