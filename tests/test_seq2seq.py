"""Chapter 8: data labels by cn2an, masked loss, attention masks, decoding equivalences, checkpoints."""

from __future__ import annotations

import random

import cn2an
import pytest
import torch
from torch.nn import functional as F

from lstm_course.seq2seq import data as D
from lstm_course.seq2seq.attention import AdditiveAttention, DotAttention, masked_softmax
from lstm_course.seq2seq.batches import encode_pairs
from lstm_course.seq2seq.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from lstm_course.seq2seq.decode import beam_search, greedy, translate
from lstm_course.seq2seq.evaluate import accuracy_by_length, evaluate
from lstm_course.seq2seq.model import ModelConfig, Seq2Seq
from lstm_course.seq2seq.train import masked_token_loss

SMALL = D.TaskSettings(train_digits=3, long_digits=4, per_length=60, long_count=20)


@pytest.fixture(scope="module")
def splits():
    return D.make_splits(SMALL)


@pytest.fixture(scope="module")
def vocabs(splits):
    return D.build_vocabs(splits.train)


def _model(vocabs, attention: str, seed: int = 0) -> Seq2Seq:
    torch.manual_seed(seed)
    src, tgt = vocabs
    return Seq2Seq(
        ModelConfig(len(src), len(tgt), embed_size=8, hidden_size=12, attention=attention, attn_size=10)
    ).eval()


@pytest.mark.parametrize(
    "number, text",
    [
        (20503, "二万零五百零三"),
        (10010, "一万零一十"),
        (10, "十"),
        (100000, "十万"),
        (0, "零"),
        (110, "一百一十"),
        (1000001, "一百万零一"),
        (101, "一百零一"),
    ],
)
def test_readings_written_out_by_hand(number, text):
    assert D.reading(number) == text


def test_labels_are_cn2an_and_splits_are_disjoint_by_number(splits):
    parts = [splits.train, splits.valid, splits.test, splits.long]
    for part in parts:
        for src, tgt in part:
            assert tgt == cn2an.an2cn(src)
    seen = [set(s for s, _ in p) for p in parts]
    assert sum(map(len, seen)) == len(set().union(*seen))
    assert max(len(s) for s, _ in splits.test) <= SMALL.train_digits < min(len(s) for s, _ in splits.long)
    assert D.make_splits(SMALL).train == splits.train  # seeded


def test_sample_number_has_no_leading_zero_and_respects_length():
    rng = random.Random(1)
    numbers = [D.sample_number(rng, 6, 0.5) for _ in range(200)]
    assert all(len(n) == 6 and n[0] != "0" for n in numbers)
    assert any("0" in n for n in numbers)


def test_vocabularies_and_unknown_characters(vocabs):
    src, tgt = vocabs
    assert [src.to_tokens(i) for i in range(4)] == ["<unk>", *D.SPECIALS]
    assert set("0123456789") <= set(src.idx_to_token)
    assert D.unknown_characters("12a3b<", src) == ["a", "b", "<"]
    assert D.unknown_characters("<pad>", src) == ["<", "p", "a", "d", ">"]


def test_batches_are_time_major_with_bos_and_eos(vocabs):
    src_v, tgt_v = vocabs
    b = encode_pairs([("12", "十二"), ("5", "五")], src_v, tgt_v)
    assert b.src.shape == (2, 2) and b.src_len.tolist() == [2, 1]
    assert b.src[1, 1] == src_v[D.PAD]
    assert tgt_v.to_tokens(b.tgt_in[:, 0].tolist()) == [D.BOS, "十", "二"]
    assert tgt_v.to_tokens(b.tgt_out[:, 1].tolist()) == ["五", D.EOS, D.PAD]


def test_masked_loss_equals_hand_computed_per_token_loss():
    torch.manual_seed(0)
    logits = torch.randn(4, 3, 7)
    targets = torch.tensor([[2, 3, 4], [5, 1, 6], [1, 1, 2], [1, 1, 1]])  # pad = 1
    losses = [
        -torch.log_softmax(logits[t, b], -1)[targets[t, b]] for t in range(4) for b in range(3) if targets[t, b] != 1
    ]
    expected = torch.stack(losses).mean()
    assert torch.allclose(masked_token_loss(logits, targets, pad_index=1), expected, atol=1e-6)
    # padding logits may be anything
    noisy = logits.clone()
    noisy[targets == 1] = 1e3 * torch.randn_like(noisy[targets == 1])
    assert torch.allclose(masked_token_loss(noisy, targets, pad_index=1), expected, atol=1e-6)
    with pytest.raises(ValueError, match="must agree"):
        masked_token_loss(logits, targets[:3], pad_index=1)


@pytest.mark.parametrize("attention", [AdditiveAttention(6, 5), DotAttention()])
def test_attention_weights_sum_to_one_and_ignore_padding(attention):
    torch.manual_seed(0)
    query, memory = torch.randn(3, 2, 6), torch.randn(4, 2, 6)
    mask = torch.tensor([[True, True], [True, True], [True, False], [True, False]])
    context, weights = attention(query, memory, mask)
    assert weights.shape == (3, 2, 4) and context.shape == (3, 2, 6)
    assert torch.allclose(weights.sum(-1), torch.ones(3, 2))
    assert torch.all(weights[:, 1, 2:] == 0)
    # changing what stands on the padded positions changes nothing
    memory2 = memory.clone()
    memory2[2:, 1] = 100.0
    context2, _ = attention(query, memory2, mask)
    assert torch.allclose(context[:, 1], context2[:, 1], atol=1e-6)
    # the context of the unpadded row is the weighted sum, by einsum-free arithmetic
    manual = (weights[:, 0, :, None] * memory[:, 0][None]).sum(1)
    assert torch.allclose(context[:, 0], manual, atol=1e-6)


def test_masked_softmax_matches_softmax_of_the_real_part():
    scores = torch.randn(2, 1, 5)
    mask = torch.tensor([[True], [True], [True], [False], [False]])
    assert torch.allclose(masked_softmax(scores, mask)[..., :3], F.softmax(scores[..., :3], -1))


@pytest.mark.parametrize("attention", ["none", "additive", "dot"])
def test_encoder_final_state_is_at_the_true_last_token(vocabs, attention):
    model = _model(vocabs, attention)
    src_v, tgt_v = vocabs
    b = encode_pairs([("1234", "一千二百三十四"), ("56", "五十六")], src_v, tgt_v)
    _, (h, c) = model.encoder(b.src, b.src_len)
    _, (h_alone, c_alone) = model.encoder.lstm(model.encoder.embedding(b.src[:2, 1:2]))
    assert torch.allclose(h[:, 1], h_alone[:, 0], atol=1e-6)
    assert torch.allclose(c[:, 1], c_alone[:, 0], atol=1e-6)


@pytest.mark.parametrize("attention", ["none", "additive", "dot"])
def test_step_by_step_teacher_forcing_equals_the_forward_pass(vocabs, splits, attention):
    model = _model(vocabs, attention)
    b = encode_pairs(splits.test[:5], *vocabs)
    with torch.no_grad():
        full = model(b.src, b.src_len, b.tgt_in)
        memory, mask, state = model.encode(b.src, b.src_len)
        steps = []
        for t in range(b.tgt_in.shape[0]):
            logits, state, _ = model.decoder(b.tgt_in[t : t + 1], state, memory, mask)
            steps.append(logits[0])
    assert torch.allclose(torch.stack(steps), full, atol=1e-5)


@pytest.mark.parametrize("attention", ["none", "additive"])
def test_beam_width_one_equals_greedy(vocabs, splits, attention):
    model = _model(vocabs, attention, seed=3)
    b = encode_pairs(splits.test, *vocabs)
    tgt_v = vocabs[1]
    assert beam_search(model, b.src, b.src_len, tgt_v, 9, width=1) == greedy(model, b.src, b.src_len, tgt_v, 9)


def test_beam_search_finds_sequences_at_least_as_probable_as_greedy(vocabs, splits):
    model = _model(vocabs, "additive", seed=5)
    src_v, tgt_v = vocabs
    b = encode_pairs(splits.test[:8], src_v, tgt_v)

    def log_prob(row, j):
        eos = tgt_v[D.EOS]
        tgt_in = torch.tensor([[tgt_v[D.BOS]] + row]).T
        with torch.no_grad():
            logits = model(b.src[:, j : j + 1], b.src_len[j : j + 1], tgt_in)
        logp = torch.log_softmax(logits[:, 0], -1)
        return float(sum(logp[t, tok] for t, tok in enumerate(row + [eos])))

    greedy_rows = greedy(model, b.src, b.src_len, tgt_v, 20)
    beam_rows = beam_search(model, b.src, b.src_len, tgt_v, 20, width=4)
    for j, (g, s) in enumerate(zip(greedy_rows, beam_rows, strict=True)):
        if len(g) < 19 and len(s) < 19:  # both finished with <eos>
            assert log_prob(s, j) >= log_prob(g, j) - 1e-5
    with pytest.raises(ValueError, match="beam width"):
        beam_search(model, b.src, b.src_len, tgt_v, 5, width=0)


def test_evaluate_and_accuracy_by_length(vocabs, splits):
    model = _model(vocabs, "dot")
    result = evaluate(model, splits.test, *vocabs)
    assert result.correct.shape == (len(splits.test),)
    assert 0 <= result.token_acc <= 1
    assert result.exact == pytest.approx(result.correct.mean())
    by_len = accuracy_by_length([("1", ""), ("12", ""), ("34", "")], [True, False, True])
    assert by_len == {1: 1.0, 2: 0.5}


def test_checkpoint_round_trip_and_bad_files(vocabs, tmp_path):
    model = _model(vocabs, "additive")
    path = save_checkpoint(tmp_path / "m.pt", model, *vocabs, SMALL, extra={"note": "x"})
    ckpt = load_checkpoint(path)
    assert ckpt.task == SMALL and ckpt.src_vocab == vocabs[0] and ckpt.extra == {"note": "x"}
    for a, b in zip(model.state_dict().values(), ckpt.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert translate(model, ["20503"], *vocabs) == translate(ckpt.model, ["20503"], *vocabs)
    with pytest.raises(ValueError, match="outside the source vocabulary"):
        translate(model, ["12x"], *vocabs)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        load_checkpoint(bad)
    torch.save({"format": "other"}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a seq2seq checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
