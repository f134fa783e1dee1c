"""A vocabulary: tokens <-> indices, shared by the language model and the sentiment case."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import overload


def count_tokens(tokens: Iterable) -> Counter:
    """Count tokens in a flat list or a list of token lists (e.g. lines or reviews)."""
    tokens = list(tokens)
    if tokens and isinstance(tokens[0], (list, tuple)):
        return Counter(tok for line in tokens for tok in line)
    return Counter(tokens)


class Vocab:
    """Map tokens to indices and back, most frequent first.

    Index 0 is ``unk_token``; ``reserved_tokens`` (e.g. ``['<pad>']``) follow in the given
    order; then every token with frequency ``>= min_freq``, most frequent first (ties keep
    the order of first appearance), cut to ``max_size`` entries in total if given.
    This is the layout of the d2l book (and its Chinese edition).

    Args:
        tokens: a flat sequence of tokens or a sequence of token sequences.
        min_freq: tokens seen fewer times map to ``unk_token``.
        reserved_tokens: special tokens placed right after ``unk_token``.
        max_size: maximum number of entries, special tokens included.
        unk_token: the token unknown inputs map to.
    """

    def __init__(
        self,
        tokens: Iterable = (),
        min_freq: int = 0,
        reserved_tokens: Sequence[str] | None = None,
        *,
        max_size: int | None = None,
        unk_token: str = "<unk>",
    ) -> None:
        reserved = list(reserved_tokens or [])
        if unk_token in reserved:
            raise ValueError(f"{unk_token!r} is always index 0; do not list it in reserved_tokens")
        if len(set(reserved)) != len(reserved):
            raise ValueError(f"reserved_tokens has duplicates: {reserved}")
        if max_size is not None and max_size < 1 + len(reserved):
            raise ValueError(f"max_size={max_size} leaves no room for the {1 + len(reserved)} special tokens")
        counter = count_tokens(tokens)
        self.token_freqs: list[tuple[str, int]] = counter.most_common()
        self.unk_token = unk_token
        self.idx_to_token: list[str] = [unk_token, *reserved]
        self.token_to_idx: dict[str, int] = {tok: i for i, tok in enumerate(self.idx_to_token)}
        for token, freq in self.token_freqs:
            if freq < min_freq or (max_size is not None and len(self.idx_to_token) >= max_size):
                break
            if token not in self.token_to_idx:
                self.token_to_idx[token] = len(self.idx_to_token)
                self.idx_to_token.append(token)

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __contains__(self, token: str) -> bool:
        return token in self.token_to_idx

    @overload
    def __getitem__(self, tokens: str) -> int: ...
    @overload
    def __getitem__(self, tokens: Sequence) -> list: ...

    def __getitem__(self, tokens):
        """Index of a token, or (recursively) of a list of tokens; unknown tokens give ``unk``."""
        if isinstance(tokens, str):
            return self.token_to_idx.get(tokens, 0)
        return [self[tok] for tok in tokens]

    def to_tokens(self, indices) -> str | list:
        """Token of an index, or a list of tokens for a sequence of indices."""
        if hasattr(indices, "tolist"):
            indices = indices.tolist()
        if isinstance(indices, int):
            if not 0 <= indices < len(self):
                raise IndexError(f"index {indices} outside the vocabulary of size {len(self)}")
            return self.idx_to_token[indices]
        return [self.to_tokens(i) for i in indices]

    @property
    def unk(self) -> int:
        """Index of the unknown token (always 0)."""
        return 0

    def to_dict(self) -> dict:
        """A JSON-serialisable description, for checkpoints."""
        return {"idx_to_token": list(self.idx_to_token), "unk_token": self.unk_token}

    @classmethod
    def from_dict(cls, data: dict) -> Vocab:
        """Rebuild a vocabulary saved with :meth:`to_dict`."""
        vocab = cls(unk_token=data["unk_token"])
        vocab.idx_to_token = list(data["idx_to_token"])
        vocab.token_to_idx = {tok: i for i, tok in enumerate(vocab.idx_to_token)}
        if vocab.idx_to_token[0] != vocab.unk_token:
            raise ValueError("a saved vocabulary must have its unk_token at index 0")
        return vocab

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.idx_to_token == other.idx_to_token

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.idx_to_token[:8])
        return f"Vocab(size={len(self)}, [{head}{', ...' if len(self) > 8 else ''}])"
