from __future__ import annotations

import pytest

from lstm_course.data import Vocab


def test_frequency_order_unk_first_reserved_next():
    vocab = Vocab([list("abracadabra")], reserved_tokens=["<pad>"])
    assert vocab.idx_to_token[:2] == ["<unk>", "<pad>"]
    assert vocab.idx_to_token[2:] == ["a", "b", "r", "c", "d"]  # a:5, b:2, r:2 (first seen before c), ...
    assert vocab["a"] == 2 and vocab["zzz"] == vocab.unk == 0
    assert vocab[["a", "b"]] == [2, 3]
    assert vocab.to_tokens([2, 3]) == ["a", "b"]


def test_min_freq_and_max_size():
    vocab = Vocab(list("aaabbc"), min_freq=2)
    assert "c" not in vocab and "b" in vocab
    small = Vocab(list("aaabbc"), max_size=2)
    assert small.idx_to_token == ["<unk>", "a"]
    with pytest.raises(ValueError):
        Vocab(list("ab"), reserved_tokens=["<pad>"], max_size=1)


def test_round_trip_and_bad_index():
    vocab = Vocab(["x", "y", "x"])
    assert Vocab.from_dict(vocab.to_dict()) == vocab
    with pytest.raises(IndexError):
        vocab.to_tokens(99)
