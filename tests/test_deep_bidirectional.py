"""Chapter 6: h_n layout, stack == nn.LSTM, the depth runs, the cloze task, and the bidirectional-LM leak."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lstm_course import check
from lstm_course.data.timemachine import SeqDataLoader
from lstm_course.data.vocab import Vocab
from lstm_course.experiments import bidirectional_lm as blm
from lstm_course.experiments import cloze, depth
from lstm_course.torch.influence import influence_matrix, visible_inputs
from lstm_course.torch.lm import LMConfig, build_lm
from lstm_course.torch.lm.evaluate import evaluate_perplexity
from lstm_course.torch.lm.generation import generate
from lstm_course.torch.lstm import ScratchLSTM


# ---------------------------------------------------------------- shapes and layout
@pytest.mark.parametrize("layers,bidirectional", [(1, True), (2, False), (3, True)])
def test_state_layout_names_every_row_and_only_top_rows_match_output(layers, bidirectional):
    torch.manual_seed(0)
    rows = depth.state_layout(nn.LSTM(3, 4, layers, bidirectional=bidirectional), torch.randn(5, 2, 3))
    D = 2 if bidirectional else 1
    assert [r["h_n 的行 k"] for r in rows] == list(range(layers * D))
    assert [(r["层 layer"], r["方向"]) for r in rows] == [(k // D, ("正向", "反向")[k % D]) for k in range(layers * D)]
    top = [r for r in rows if r["层 layer"] == layers - 1]
    assert len(top) == D and all(float(r["最大差"]) == 0.0 for r in top)
    assert all(r["等于 output 的"] == "—" for r in rows if r["层 layer"] < layers - 1)


@pytest.mark.parametrize("layers,bidirectional", [(2, True), (3, False)])
def test_scratch_stack_equals_nn_lstm_after_conversion(layers, bidirectional):
    diffs = depth.scratch_vs_framework(layers, bidirectional, seed=layers)
    assert set(diffs) == {"output", "h_n", "c_n", "dX", "d参数"}
    assert max(diffs.values()) <= 1e-5, diffs


def test_state_layout_agrees_with_the_scratch_stack():
    torch.manual_seed(1)
    scratch = ScratchLSTM(3, 4, 2, bidirectional=True)
    rows = depth.state_layout(scratch, torch.randn(6, 2, 3))
    assert [float(r["最大差"]) for r in rows[2:]] == [0.0, 0.0]


# ---------------------------------------------------------------- what an output can see
@pytest.mark.parametrize("module", [nn.LSTM(2, 3, 2), nn.GRU(2, 3)], ids=["lstm-2-layers", "gru"])
def test_unidirectional_influence_is_lower_triangular(module):
    M = influence_matrix(module, 6)
    assert M.shape == (6, 6)
    assert np.all(M[np.triu_indices(6, k=1)] == 0.0)  # nothing from the future, exactly
    assert np.all(M[np.tril_indices(6)] > 0.0)  # everything from the past
    assert visible_inputs(M, 3) == [0, 1, 2, 3]


def test_influence_matrix_equals_the_norms_of_the_autograd_jacobian():
    torch.manual_seed(7)
    rnn = nn.LSTM(3, 4, 2, bidirectional=True)
    M = influence_matrix(rnn, 5, seed=3)
    X = torch.randn(5, 1, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    J = torch.autograd.functional.jacobian(lambda x: rnn.double()(x)[0][:, 0], X)  # (t, f, s, 1, in)
    expected = J[:, :, :, 0].pow(2).sum(dim=(1, 3)).sqrt().numpy()
    assert np.abs(M - expected).max() < 1e-12


def test_bidirectional_influence_is_full_for_scratch_and_framework():
    torch.manual_seed(2)
    for module in (nn.LSTM(2, 3, bidirectional=True), ScratchLSTM(2, 3, 2, bidirectional=True)):
        M = influence_matrix(module, 5)
        assert np.all(M > 0.0)
        assert next(module.parameters()).dtype == torch.float32  # restored after the float64 pass


def _tokens(batch: int, steps: int, vocab: int, seed: int) -> torch.Tensor:
    return torch.randint(0, vocab, (batch, steps), generator=torch.Generator().manual_seed(seed))


def test_bidirectional_lm_output_changes_with_the_next_input_unidirectional_does_not():
    torch.manual_seed(3)
    vocab, t = 11, 4
    bi = blm.BidirectionalLM(vocab, embedding_dim=5, hidden_size=6).eval()
    uni = build_lm(LMConfig(vocab, hidden_size=6, embedding_dim=5)).eval()
    X = _tokens(2, 9, vocab, 0)
    X2 = X.clone()
    X2[:, t + 1] = (X[:, t + 1] + 1) % vocab  # change the *target* of position t
    with torch.no_grad():
        (b1, _), (b2, _) = bi(X), bi(X2)
        (u1, _), (u2, _) = uni(X), uni(X2)
    assert torch.equal(u1[: t + 1], u2[: t + 1])  # a language model cannot see it
    assert (b1[t] - b2[t]).abs().max().item() > 1e-4  # the bidirectional one can: the leak
    assert b1.shape == (9, 2, vocab)


def test_bidirectional_lm_refuses_a_state():
    model = blm.BidirectionalLM(7, embedding_dim=3, hidden_size=4)
    logits, state = model(_tokens(2, 5, 7, 1))
    assert state is None and logits.shape == (5, 2, 7)
    with pytest.raises(ValueError, match="state=None"):
        model(_tokens(2, 5, 7, 1), (torch.zeros(2, 2, 4), torch.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match=r"\(batch, steps\)"):
        model(torch.zeros(5, dtype=torch.long))


def _loader(seed: int = 0, n: int = 600, vocab: int = 9, batch: int = 4, steps: int = 8) -> SeqDataLoader:
    rng = np.random.default_rng(seed)
    return SeqDataLoader(rng.integers(0, vocab, size=n).tolist(), batch, steps, offset=0)


def test_position_perplexity_averages_to_the_windowed_perplexity():
    torch.manual_seed(4)
    model = build_lm(LMConfig(9, hidden_size=5, embedding_dim=3))
    loader = _loader()
    per_position = blm.position_perplexity(model, loader)
    assert per_position.shape == (8,)
    windowed = evaluate_perplexity(model, loader, use_random_iter=True)  # state reset every batch
    assert blm.perplexity_from_positions(per_position) == pytest.approx(windowed, rel=1e-6)


def test_rereading_generation_equals_state_carrying_for_a_unidirectional_model():
    torch.manual_seed(5)
    vocab = Vocab(list("abcdefgh "))
    model = build_lm(LMConfig(len(vocab), hidden_size=8, embedding_dim=4))
    expected = generate(model, vocab, "abc", 12)
    assert blm.generate_rereading(model, vocab, "abc", 12, context=64) == expected
    sampled = blm.generate_rereading(model, vocab, "abc", 12, temperature=1.0, seed=0)
    assert sampled == blm.generate_rereading(model, vocab, "abc", 12, temperature=1.0, seed=0)
    with pytest.raises(ValueError):
        blm.generate_rereading(model, vocab, "abc", 0)


# ---------------------------------------------------------------- cloze
def test_masked_windows_hide_the_target_and_nothing_else():
    rng = np.random.default_rng(0)
    corpus = rng.integers(0, 10, size=500)
    starts = np.array([0, 17, 100, 468])
    batch = cloze.mask_windows(corpus, starts, 32, mask_index=10, mask_prob=0.15, rng=rng)
    inputs, targets, mask = batch.inputs.numpy(), batch.targets.numpy(), batch.mask.numpy()
    assert inputs.shape == targets.shape == mask.shape == (32, 4)
    for j, s in enumerate(starts):
        assert np.array_equal(targets[:, j], corpus[s : s + 32])
    assert np.all(inputs[mask] == 10)  # the hidden character never enters the input
    assert np.array_equal(inputs[~mask], targets[~mask])  # every other character is intact
    assert mask.any(axis=0).all()  # every window has a target
    with pytest.raises(ValueError, match="mask_index"):
        cloze.mask_windows(corpus, starts, 32, mask_index=3, mask_prob=0.15, rng=rng)
    with pytest.raises(ValueError, match="inside"):
        cloze.mask_windows(corpus, [480], 32, mask_index=10, mask_prob=0.15, rng=rng)


def test_held_out_batch_is_fixed_and_masks_about_mask_prob():
    corpus = np.random.default_rng(1).integers(0, 10, size=3200)
    a = cloze.held_out_batch(corpus, window=32, mask_prob=0.2, mask_index=10)
    b = cloze.held_out_batch(corpus, window=32, mask_prob=0.2, mask_index=10)
    assert torch.equal(a.mask, b.mask) and a.inputs.shape == (32, 100)
    assert 0.17 < a.mask.double().mean().item() < 0.24


def test_unidirectional_cloze_model_sees_only_the_left_context():
    torch.manual_seed(6)
    inputs = torch.randint(0, 9, (10, 3))
    changed = inputs.clone()
    changed[6:] = (changed[6:] + 1) % 9
    for bidirectional in (False, True):
        model = cloze.ClozeModel(9, embedding_dim=4, hidden_size=5, bidirectional=bidirectional).eval()
        with torch.no_grad():
            same = torch.equal(model(inputs)[:6], model(changed)[:6])
        assert same is not bidirectional


def test_bidirectional_wins_when_the_answer_is_on_the_right():
    # every character is doubled ("xxyyzz..."): the first of a pair is given away only by its
    # right neighbour, the second by its left neighbour.  Left context alone restores about half;
    # both sides restore all but the pairs whose two characters are both hidden (about 15 %).
    rng = np.random.default_rng(0)
    corpus = np.repeat(rng.integers(0, 8, size=3000), 2)
    results = cloze.run_cloze(
        corpus[:5000],
        corpus[5000:],
        8,
        {"uni": dict(bidirectional=False), "bi": dict(bidirectional=True)},
        window=16,
        mask_prob=0.15,
        embedding_dim=8,
        hidden_size=16,
        batch_size=32,
        train_steps=150,
        lr=0.02,
        device="cpu",
    )
    uni, bi = (r.accuracy for r in results)
    assert bi > 0.75 and uni < 0.6 and bi > uni + 0.25, (uni, bi)
    assert results[1].parameters > results[0].parameters
    batch = cloze.held_out_batch(corpus[5000:], window=16, mask_prob=0.15, mask_index=8)
    assert 0.0 < cloze.frequency_baseline(corpus[:5000], batch) < 0.3
    guesses = cloze.fill_in(results[1].model, corpus[5000:5016].tolist(), [3, 8])
    assert guesses == corpus[[5003, 5008]].tolist()


def test_matching_hidden_size_gives_at_least_the_parameters():
    H = cloze.matching_hidden_size(28, embedding_dim=32, hidden_size=64)

    def count(h: int, bi: bool) -> int:
        model = cloze.ClozeModel(28, embedding_dim=32, hidden_size=h, bidirectional=bi)
        return sum(p.numel() for p in model.parameters())

    assert count(H, False) >= count(64, True) > count(H - 1, False)


# ---------------------------------------------------------------- depth
def test_run_depth_trains_every_run_with_dropout_between_layers_only():
    train, val = _loader(0, n=1200), _loader(1, n=400)
    results = depth.run_depth(
        train, val, 9, embedding_dim=4, hidden_size=6, epochs=1, lr=0.01, dropout=0.3, device="cpu"
    )
    assert [r.num_layers for r in results] == [1, 2, 2] and [r.dropout for r in results] == [0.0, 0.0, 0.3]
    for r in results:
        assert r.recurrent_parameters == sum(p.numel() for p in r.model.rnn.parameters())
        assert r.model.rnn.dropout == r.dropout and r.model.dropout is None  # nothing outside the stack
        assert r.history.epochs == 1 and np.isfinite(r.history.best_val_ppl)
    table = depth.depth_table(results)
    assert len(table.cells) == 3 and table.columns[0] == "模型"


# ---------------------------------------------------------------- self-checks
def test_self_checks_accept_the_right_answers():
    D = lambda bi: 2 if bi else 1  # noqa: E731
    check.lstm_shapes(lambda T, B, x, h, L, bi: ((T, B, D(bi) * h), (L * D(bi), B, h)))
    check.h_n_index(lambda layer, direction, L, bi: layer * D(bi) + direction)
    check.stacked_parameter_count(
        lambda x, h, L, bi: sum(D(bi) * (4 * h * ((x if layer == 0 else D(bi) * h) + h) + 8 * h) for layer in range(L))
    )
    check.receptive_field(lambda T, t, L, bi: range(T) if bi else range(t + 1))


@pytest.mark.parametrize(
    "name,wrong,hint",
    [
        ("lstm_shapes", lambda T, B, x, h, L, bi: ((T, B, h), (L, B, h)), "2 × hidden_size"),
        ("h_n_index", lambda layer, direction, L, bi: direction * L + layer, "层优先"),
        (
            "stacked_parameter_count",
            lambda x, h, L, bi: (2 if bi else 1) * L * (4 * h * (x + h) + 8 * h),
            "下一层的输出",
        ),
        ("receptive_field", lambda T, t, L, bi: range(t + 1), "反向部分"),
    ],
)
def test_self_checks_reject_the_classic_mistakes(name, wrong, hint):
    with pytest.raises(check.CheckFailed, match=hint):
        getattr(check, name)(wrong)
