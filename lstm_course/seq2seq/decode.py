"""Decoding without the reference: greedy, beam search, and the free-running loss.

All functions take a batch of sources ``src (src_steps, batch)`` with ``src_len (batch,)`` and
return, per source, the generated target indices without ``<bos>`` and ``<eos>``.
"""

from __future__ import annotations

import torch
from torch import nn

from lstm_course.data.vocab import Vocab
from lstm_course.seq2seq.data import BOS, EOS, PAD

__all__ = ["greedy", "beam_search", "free_running_logits", "strip", "max_steps_for", "translate"]


def strip(row: list[int], eos: int) -> list[int]:
    """Indices up to (not including) the first ``eos``."""
    return row[: row.index(eos)] if eos in row else row


@torch.no_grad()
def greedy(
    model: nn.Module,
    src: torch.Tensor,
    src_len: torch.Tensor,
    tgt_vocab: Vocab,
    max_steps: int,
    *,
    return_weights: bool = False,
):
    """Feed back the most probable token at each step; stop when every row has emitted ``<eos>``.

    With ``return_weights`` also returns the attention weights ``(steps, batch, src_steps)``
    (``None`` for a model without attention).
    """
    model.eval()
    memory, mask, state = model.encode(src, src_len)
    token = torch.full((1, src.shape[1]), tgt_vocab[BOS], dtype=torch.long, device=src.device)
    eos = tgt_vocab[EOS]
    out, weights = [], []
    done = torch.zeros(src.shape[1], dtype=torch.bool, device=src.device)
    for _ in range(max_steps):
        logits, state, w = model.decoder(token, state, memory, mask)
        token = logits.argmax(-1)
        out.append(token[0])
        if w is not None:
            weights.append(w)
        done |= token[0] == eos
        if bool(done.all()):
            break
    rows = [strip(r, eos) for r in torch.stack(out, 1).tolist()]
    if return_weights:
        return rows, torch.cat(weights) if weights else None
    return rows


@torch.no_grad()
def beam_search(
    model: nn.Module, src: torch.Tensor, src_len: torch.Tensor, tgt_vocab: Vocab, max_steps: int, width: int
) -> list[list[int]]:
    """Keep the ``width`` most probable prefixes (summed log-probabilities) of every source.

    A prefix that has emitted ``<eos>`` stays in the beam with its score frozen (it can only be
    extended by ``<pad>`` at no cost), so finished and unfinished prefixes compete for the
    ``width`` places; the search stops when every prefix is finished or after ``max_steps``,
    and returns the highest-scoring prefix.  With ``width=1`` this is exactly :func:`greedy`.
    """
    if width < 1:
        raise ValueError(f"beam width must be >= 1, got {width}")
    model.eval()
    batch = src.shape[1]
    memory, mask, (h, c) = model.encode(src, src_len)
    # every source repeated `width` times: (.., batch * width, ..), beams of one source adjacent
    memory = memory.repeat_interleave(width, dim=1)
    mask = mask.repeat_interleave(width, dim=1)
    state = (h.repeat_interleave(width, dim=1), c.repeat_interleave(width, dim=1))
    bos, eos, pad = tgt_vocab[BOS], tgt_vocab[EOS], tgt_vocab[PAD]
    scores = torch.full((batch, width), float("-inf"), device=src.device)
    scores[:, 0] = 0.0  # at the start only one prefix (<bos>) is alive
    tokens = torch.full((batch * width,), bos, dtype=torch.long, device=src.device)
    finished = torch.zeros(batch, width, dtype=torch.bool, device=src.device)
    history = torch.empty(batch, width, 0, dtype=torch.long, device=src.device)
    vocab = len(tgt_vocab)
    for _ in range(max_steps):
        logits, state, _ = model.decoder(tokens.unsqueeze(0), state, memory, mask)
        logp = torch.log_softmax(logits[0], -1).view(batch, width, vocab)
        frozen = torch.full_like(logp, float("-inf"))
        frozen[..., pad] = 0.0
        logp = torch.where(finished.unsqueeze(-1), frozen, logp)
        total = (scores.unsqueeze(-1) + logp).view(batch, width * vocab)
        scores, flat = total.topk(width, dim=-1)
        parent, token = flat // vocab, flat % vocab
        history = torch.cat(
            [history.gather(1, parent.unsqueeze(-1).expand(-1, -1, history.shape[2])), token.unsqueeze(-1)], dim=2
        )
        finished = finished.gather(1, parent) | (token == eos)
        rows = (parent + torch.arange(batch, device=src.device).unsqueeze(1) * width).view(-1)
        state = (state[0][:, rows], state[1][:, rows])
        tokens = token.view(-1)
        if bool(finished.all()):
            break
    best = scores.argmax(-1)
    return [strip(history[b, best[b]].tolist(), eos) for b in range(batch)]


@torch.no_grad()
def free_running_logits(
    model: nn.Module, src: torch.Tensor, src_len: torch.Tensor, tgt_vocab: Vocab, steps: int
) -> torch.Tensor:
    """Logits ``(steps, batch, tgt_vocab)`` when the decoder is fed its own greedy choices.

    Scoring the reference tokens with these logits gives the *free-running* loss; the gap to the
    teacher-forced loss is the exposure bias the model meets at test time.
    """
    model.eval()
    memory, mask, state = model.encode(src, src_len)
    token = torch.full((1, src.shape[1]), tgt_vocab[BOS], dtype=torch.long, device=src.device)
    out = []
    for _ in range(steps):
        logits, state, _ = model.decoder(token, state, memory, mask)
        out.append(logits[0])
        token = logits.argmax(-1)
    return torch.stack(out)


def max_steps_for(src_steps: int) -> int:
    """A decoding budget: a reading has at most two characters per digit, plus ``<eos>`` and slack."""
    return 2 * src_steps + 2


def translate(
    model: nn.Module, sources: list[str], src_vocab: Vocab, tgt_vocab: Vocab, *, width: int = 1, batch_size: int = 512
) -> list[str]:
    """Read numerals aloud: greedy (``width=1``) or beam search; raises ``ValueError`` on unknown characters."""
    from lstm_course.seq2seq.batches import encode_sources
    from lstm_course.seq2seq.data import unknown_characters

    for text in sources:
        bad = unknown_characters(text, src_vocab)
        if bad:
            raise ValueError(
                f"{text!r} has characters outside the source vocabulary: {' '.join(bad)} "
                f"(the model reads only {''.join(sorted(_plain(src_vocab)))})"
            )
    device = next(model.parameters()).device
    out: list[str] = []
    for i in range(0, len(sources), batch_size):
        b = encode_sources(sources[i : i + batch_size], src_vocab)
        src = b.src.to(device)
        steps = max_steps_for(src.shape[0])
        rows = (
            greedy(model, src, b.src_len, tgt_vocab, steps)
            if width == 1
            else beam_search(model, src, b.src_len, tgt_vocab, steps, width)
        )
        out += ["".join(tgt_vocab.to_tokens(r)) for r in rows]
    return out


def _plain(vocab: Vocab) -> list[str]:
    """The vocabulary's ordinary tokens (no ``<unk>``/``<pad>``/...)."""
    return [t for t in vocab.idx_to_token if not t.startswith("<")]
