"""Self-checks for chapter 8: the masked token loss, attention weights with padding, one beam-search step.

The learner's functions take and return ``torch`` tensors; torch is imported when a check runs.
"""

from __future__ import annotations

from collections.abc import Callable

from lstm_course.check.core import CheckFailed, assert_close, call_learner, passed

__all__ = ["masked_loss", "attention_weights", "beam_step"]


def _numpy(name: str, value):
    import torch

    if not isinstance(value, torch.Tensor):
        raise CheckFailed(f"{name} 应返回 torch.Tensor，你的结果是 {type(value).__name__}。")
    return value.detach().cpu().double().numpy()


def masked_loss(fn: Callable) -> None:
    """Check ``fn(logits, targets, pad_index) -> scalar``: mean cross-entropy over non-padding tokens.

    ``logits`` is ``(tgt_steps, batch, vocab)``, ``targets`` ``(tgt_steps, batch)``.
    """
    import torch

    from lstm_course.seq2seq.train import masked_token_loss

    gen = torch.Generator().manual_seed(0)
    for steps, batch, vocab in ((5, 3, 7), (8, 4, 11), (3, 1, 5)):
        logits = torch.randn(steps, batch, vocab, generator=gen)
        targets = torch.randint(2, vocab, (steps, batch), generator=gen)
        lengths = torch.randint(1, steps + 1, (batch,), generator=gen)
        targets[torch.arange(steps).unsqueeze(1) >= lengths] = 1
        expected = masked_token_loss(logits, targets, 1)
        actual = _numpy("masked_loss", call_learner("masked_loss", fn, logits.clone(), targets.clone(), 1))
        if actual.size != 1:
            raise CheckFailed(f"masked_loss 应返回一个标量，你的结果形状是 {actual.shape}。")
        hint = ""
        plain = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
        if abs(float(actual.reshape(())) - float(plain)) < 1e-6:
            hint = "（看起来 <pad> 也算进了损失：用 ignore_index 或掩码把它排除。）"
        try:
            assert_close(f"形状 {(steps, batch, vocab)} 的掩码损失", float(expected), actual.reshape(()))
        except CheckFailed as exc:
            raise CheckFailed(f"{exc}{hint}") from None
    passed("掩码损失只对真实词元取平均，与参考实现一致（3 组数据）。")


def attention_weights(fn: Callable) -> None:
    """Check ``fn(scores, mask) -> weights``: softmax over the source, exactly 0 on padding.

    ``scores`` is ``(tgt_steps, batch, src_steps)``, ``mask`` ``(src_steps, batch)`` (True = real token).
    """
    import torch

    from lstm_course.seq2seq.attention import masked_softmax

    gen = torch.Generator().manual_seed(1)
    for steps, batch, src in ((2, 3, 5), (4, 2, 7)):
        scores = 3 * torch.randn(steps, batch, src, generator=gen)
        lengths = torch.randint(1, src + 1, (batch,), generator=gen)
        lengths[0] = src
        mask = torch.arange(src).unsqueeze(1) < lengths
        expected = masked_softmax(scores, mask)
        actual = _numpy("attention_weights", call_learner("attention_weights", fn, scores.clone(), mask.clone()))
        if actual.shape == expected.shape and (actual * ~mask.T.unsqueeze(0).numpy()).any():
            raise CheckFailed("attention_weights：填充位置的权重不是 0。提示：softmax 之前把这些分数设为 -inf。")
        assert_close(f"形状 {(steps, batch, src)} 的注意力权重", expected.numpy(), actual)
    passed("注意力权重在源序列上和为 1，填充位置恰为 0。")


def beam_step(fn: Callable) -> None:
    """Check ``fn(scores, log_probs, width) -> (new_scores, parents, tokens)``: one beam-search step.

    ``scores`` ``(batch, width)`` are the prefixes' summed log-probabilities, ``log_probs``
    ``(batch, width, vocab)`` the next-token log-probabilities; the result keeps, per source,
    the ``width`` best extensions, best first, each ``(batch, width)``.
    """
    import torch

    gen = torch.Generator().manual_seed(2)
    for batch, width, vocab in ((2, 3, 6), (3, 2, 9), (1, 4, 5)):
        scores = -torch.rand(batch, width, generator=gen) * 3
        log_probs = torch.log_softmax(torch.randn(batch, width, vocab, generator=gen), -1)
        total = (scores.unsqueeze(-1) + log_probs).view(batch, -1)
        expected, flat = total.topk(width, dim=-1)
        result = call_learner("beam_step", fn, scores.clone(), log_probs.clone(), width)
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise CheckFailed("beam_step 应返回 (new_scores, parents, tokens) 三个张量。")
        names = ("new_scores", "parents", "tokens")
        for name, want, got in zip(names, (expected, flat // vocab, flat % vocab), result, strict=True):
            assert_close(f"{name}（batch={batch}, width={width}）", want.double().numpy(), _numpy(name, got))
    passed("一步束搜索：在 width × vocab 个扩展中按累计对数概率选出最好的 width 个，前缀与词元都对。")
