"""Text generation from a prefix: greedy decoding, temperature sampling and top-k sampling.

The prefix is fed through the model first (warm-up: it only sets the state), then one token at
a time is chosen and fed back.  Choosing the next token from the logits ``z``:

* ``temperature == 0`` — greedy: ``argmax z`` (what d2l's ``predict_ch8`` does);
* ``temperature > 0`` — sample from ``softmax(z / temperature)``; below 1 sharpens, above 1
  flattens the distribution;
* ``top_k = k`` — keep only the ``k`` most likely tokens before sampling.

Prefix tokens missing from the vocabulary are an **error** (:class:`UnknownTokenError`), never
silently mapped to ``<unk>``: a model trained on normalised text (lower-case letters and spaces)
has never seen ``'T'`` or ``'!'``, and feeding it ``<unk>`` instead would condition the text on
something the user did not write.  Normalise the prefix first
(:func:`lstm_course.data.timemachine.normalize`) if it may contain such characters.
"""

from __future__ import annotations

from typing import Any

import torch

from lstm_course.data.vocab import Vocab
from lstm_course.runtime import model_device
from lstm_course.torch.lm.model import RNNLM

__all__ = ["UnknownTokenError", "split_prefix", "sample_next", "generate"]


class UnknownTokenError(ValueError):
    """The prefix contains tokens that are not in the vocabulary (listed in ``.tokens``)."""

    def __init__(self, message: str, tokens: list[str]) -> None:
        super().__init__(message)
        self.tokens = tokens


def split_prefix(prefix: str, vocab: Vocab, token: str = "char") -> list[int]:
    """Token indices of ``prefix`` (characters, or whitespace-separated words).

    Raises:
        ValueError: empty prefix or unknown ``token`` kind.
        UnknownTokenError: some tokens are not in ``vocab`` (the message lists them).
    """
    if token == "char":
        tokens = list(prefix)
    elif token == "word":
        tokens = prefix.split()
    else:
        raise ValueError(f"token must be 'char' or 'word', received {token!r}")
    if not tokens:
        raise ValueError("prefix must contain at least one token")
    unknown = sorted({t for t in tokens if t not in vocab})
    if unknown:
        known = "".join(t for t in vocab.idx_to_token if len(t) == 1) if token == "char" else None
        hint = (
            f"; the model knows the characters {known!r} — normalise the prefix first "
            f"(lstm_course.data.timemachine.normalize)"
            if known
            else ""
        )
        raise UnknownTokenError(
            f"prefix contains {len(unknown)} {token} token(s) not in the "
            f"vocabulary: {', '.join(map(repr, unknown))}{hint}",
            unknown,
        )
    return vocab[tokens]


def sample_next(
    logits: torch.Tensor,
    *,
    temperature: float = 0.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> int:
    """Choose one token from ``logits`` of shape ``(vocab,)``: greedy, temperature and/or top-k.

    Raises:
        ValueError: ``temperature < 0``, ``top_k < 1``, or ``logits`` not 1-D.
    """
    if logits.dim() != 1:
        raise ValueError(f"logits: expected shape (vocab,), received {tuple(logits.shape)}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy), received {temperature!r}")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive int or None, received {top_k!r}")
    if temperature == 0 or top_k == 1:
        return int(torch.argmax(logits))
    logits = logits.detach().cpu().double() / temperature  # to the CPU first: MPS has no float64
    if top_k is not None and top_k < logits.numel():
        kth = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=0)
    return int(torch.multinomial(probs, 1, generator=generator))


@torch.no_grad()
def generate(
    model: RNNLM,
    vocab: Vocab,
    prefix: str,
    num_preds: int,
    *,
    temperature: float = 0.0,
    top_k: int | None = None,
    token: str | None = None,
    seed: int | None = None,
    device: Any = None,
) -> str:
    """Continue ``prefix`` by ``num_preds`` tokens; returns the prefix followed by them.

    Args:
        model: a trained :class:`~lstm_course.torch.lm.model.RNNLM`.
        vocab: its vocabulary.
        prefix: the start of the text; every token must be in ``vocab`` (see the module docstring).
        num_preds: tokens to generate, ``>= 1``.
        temperature: ``0`` greedy, ``> 0`` sampling (see :func:`sample_next`).
        top_k: sample among the ``top_k`` most likely tokens only.
        token: ``'char'`` or ``'word'``; default ``model.config.token`` or ``'char'``.
        seed: seed of a private ``torch.Generator`` for reproducible sampling.
        device: the device of the model's parameters (the default; another one is an error).

    Raises:
        ValueError: ``num_preds < 1``, empty prefix, bad ``temperature``/``top_k``.
        UnknownTokenError: the prefix has tokens outside the vocabulary.
    """
    if not isinstance(num_preds, int) or isinstance(num_preds, bool) or num_preds < 1:
        raise ValueError(f"num_preds must be an int >= 1, received {num_preds!r}")
    if not 0 <= temperature < float("inf"):  # also refuses NaN
        raise ValueError(f"temperature must be finite and >= 0 (0 = greedy), received {temperature!r}")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive int or None, received {top_k!r}")
    if len(vocab) != getattr(model, "vocab_size", len(vocab)):
        raise ValueError(f"vocab has {len(vocab)} tokens but the model predicts {model.vocab_size}")
    if token is None:
        token = getattr(getattr(model, "config", None), "token", "char")
    indices = split_prefix(prefix, vocab, token)
    device = model_device(model, device)
    generator = None
    if seed is not None:
        generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        # Warm-up: all prefix tokens but the last only move the state.
        state = None
        if len(indices) > 1:
            _, state = model(torch.tensor([indices[:-1]], device=device), state)
        outputs, last = [], indices[-1]
        for _ in range(num_preds):
            logits, state = model(torch.tensor([[last]], device=device), state)
            scores = logits[-1, 0].clone()
            scores[vocab.unk] = float("-inf")  # "<unk>" stands for no text: never produce it
            last = sample_next(scores, temperature=temperature, top_k=top_k, generator=generator)
            outputs.append(last)
    finally:
        model.train(was_training)
    words = vocab.to_tokens(outputs)
    if token == "char":
        return prefix + "".join(words)
    return " ".join([*prefix.split(), *words])
