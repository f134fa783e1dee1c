"""Transfer learning (ULMFiT): LM pre-training on the training split only, weight transfer,
discriminative rates, gradual unfreezing, the slanted triangular schedule, LM checkpoints."""

from __future__ import annotations

import pytest
import torch
from sentiment_fixtures import synthetic_rows, write_csv

from lstm_course.torch import sentiment as S
from lstm_course.torch.checkpoint_io import CheckpointError
from lstm_course.torch.sentiment import pretrain as P
from lstm_course.torch.sentiment import transfer as T
from lstm_course.torch.sentiment.batching import collate


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("transfer")
    source = write_csv(folder / "reviews.csv", synthetic_rows(300))
    settings = S.DataSettings(tokenizer=S.TokenizerConfig("char"), max_len=30, min_freq=1, source=str(source))
    return S.prepare_data(settings)


def _lm(vocab_size=30, layers=2, **overrides):
    config = P.ReviewLMConfig(
        vocab_size=vocab_size, embedding_dim=6, hidden_size=5, num_layers=layers, dropout=0.0, output_size=12
    )
    return P.ReviewLM(P.ReviewLMConfig(**{**config.to_dict(), **overrides}))


def _batch(vocab_size=30, lengths=(7, 3, 5, 1), seed=0):
    g = torch.Generator().manual_seed(seed)
    items = [(torch.randint(2, vocab_size, (n,), generator=g).numpy(), 0, i) for i, n in enumerate(lengths)]
    return collate(items, pad_index=1)


@pytest.mark.parametrize("layers", [1, 2])
def test_after_transfer_the_classifier_lstm_computes_the_lm_hidden_states(layers):
    torch.manual_seed(0)
    lm = _lm(layers=layers).eval()
    classifier = S.SentimentLSTM(T.classifier_config(lm, dropout=0.0, pooling="last")).eval()
    batch = _batch()
    tokens, lengths = batch["tokens"], batch["lengths"]
    with torch.no_grad():
        expected = lm.hidden_states(tokens, lengths)  # (steps, batch, hidden)
        last = expected[lengths - 1, torch.arange(len(lengths))]
        before = classifier.encode(tokens, lengths)
        T.transfer_weights(lm, classifier)
        packed = torch.nn.utils.rnn.pack_padded_sequence(classifier.embedding(tokens), lengths, enforce_sorted=False)
        outputs, _ = classifier.lstm(packed)
        outputs, _ = torch.nn.utils.rnn.pad_packed_sequence(outputs, total_length=tokens.shape[0])
        after = classifier.encode(tokens, lengths)
    assert not torch.allclose(before, last, atol=1e-3)  # the test can fail: fresh weights differ
    torch.testing.assert_close(outputs, expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(after, last, rtol=0, atol=1e-6)
    assert classifier.embedding.weight.data_ptr() != lm.embedding.weight.data_ptr()  # a copy, not shared


def test_transfer_refuses_a_bidirectional_or_differently_sized_classifier():
    lm = _lm()
    with pytest.raises(ValueError, match="backward direction"):
        T.transfer_weights(lm, S.SentimentLSTM(T.classifier_config(lm, bidirectional=True)))
    with pytest.raises(ValueError, match="hidden_size"):
        T.transfer_weights(lm, S.SentimentLSTM(T.classifier_config(lm, hidden_size=7)))


def test_parameter_groups_carry_discriminative_rates_bottom_to_top():
    model = S.SentimentLSTM(T.classifier_config(_lm(layers=2)))
    groups = T.discriminative_param_groups(model, 0.01, layer_decay=2.0, weight_decay=0.1)
    assert [g["name"] for g in groups] == ["embedding", "lstm.0", "lstm.1", "output"]
    assert [g["lr"] for g in groups] == pytest.approx([0.01 / 8, 0.01 / 4, 0.01 / 2, 0.01])
    assert groups[0]["weight_decay"] == 0.0 and groups[-1]["weight_decay"] == 0.1
    ids = [id(p) for g in groups for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in model.parameters())  # each parameter exactly once
    assert {n for n, p in model.lstm.named_parameters() if id(p) in map(id, groups[1]["params"])} == {
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
    }
    optimizer, _ = T.ULMFiTSchedule(T.TransferConfig(layer_decay=2.0)).build(model, S.TrainConfig(lr=0.01), 50)
    assert [g["initial_lr"] for g in optimizer.param_groups] == pytest.approx([0.01 / 8, 0.01 / 4, 0.01 / 2, 0.01])


def test_gradual_unfreezing_opens_one_more_group_per_stage():
    model = S.SentimentLSTM(T.classifier_config(_lm(layers=2)))
    stages = []
    for epoch in (1, 2, 3, 4, 5):
        names = T.unfreeze(model, epoch)
        frozen = {n.split(".")[0] for n, p in model.named_parameters() if not p.requires_grad}
        stages.append((names, frozen))
    assert stages[0] == (["output"], {"embedding", "lstm"})
    assert stages[1][0] == ["lstm.1", "output"]
    assert stages[2] == (["lstm.0", "lstm.1", "output"], {"embedding"})
    assert stages[3] == (["embedding", "lstm.0", "lstm.1", "output"], set()) == stages[4]
    model = S.SentimentLSTM(T.classifier_config(_lm(layers=2)))
    T.unfreeze(model, 2)
    assert model.lstm.weight_ih_l1.requires_grad and not model.lstm.weight_ih_l0.requires_grad


def test_fine_tuning_through_fit_freezes_the_lower_layers_in_the_first_epoch(data):
    torch.manual_seed(0)
    lm = P.ReviewLM(P.lm_config(data.vocab, embedding_dim=8, hidden_size=8, output_size=10))
    classifier = T.transfer_weights(lm, S.SentimentLSTM(T.classifier_config(lm)))
    embedding, lstm = classifier.embedding.weight.clone(), classifier.lstm.weight_hh_l0.clone()
    output = classifier.output.weight.clone()
    schedule = T.ULMFiTSchedule()
    train, valid = data.train.subset(range(64)), data.valid.subset(range(16))
    S.fit(classifier, train, valid, S.TrainConfig(epochs=1, batch_size=32), schedule=schedule, log=None,
          progress=False)  # fmt: skip
    assert schedule.trainable == [["output"]]
    assert torch.equal(classifier.embedding.weight, embedding) and torch.equal(classifier.lstm.weight_hh_l0, lstm)
    assert not torch.equal(classifier.output.weight, output)
    net, history = T.train_from_lm(
        data, lm, labelled=train, train=S.TrainConfig(epochs=3, patience=3, batch_size=32), progress=False, log=None
    )
    assert len(history.valid_acc) == 3
    assert all(p.requires_grad for p in net.parameters())  # nothing left frozen afterwards
    assert not torch.equal(net.embedding.weight, embedding)  # the third stage trained the embedding


def test_slanted_triangular_rises_to_its_peak_at_cut_frac_then_decays():
    total, cut_frac, ratio = 200, 0.1, 32.0
    shape = T.slanted_triangular(total, cut_frac=cut_frac, ratio=ratio)
    values = [shape(t) for t in range(total + 1)]
    peak = max(range(total + 1), key=values.__getitem__)
    assert peak == int(total * cut_frac) and values[peak] == pytest.approx(1.0)
    assert values[0] == pytest.approx(1 / ratio) and values[-1] == pytest.approx(1 / ratio)
    assert all(a < b for a, b in zip(values[:peak], values[1 : peak + 1], strict=True))
    assert all(a > b for a, b in zip(values[peak:-1], values[peak + 1 :], strict=True))
    # through LambdaLR, on every discriminative group alike
    model = S.SentimentLSTM(T.classifier_config(_lm(layers=1)))
    optimizer, scheduler = T.ULMFiTSchedule().build(model, S.TrainConfig(lr=0.01), total)
    lrs = []
    for _ in range(total):
        lrs.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    top = [row[-1] for row in lrs]
    assert max(range(total), key=top.__getitem__) == peak and max(top) == pytest.approx(0.01)
    assert lrs[peak][0] == pytest.approx(0.01 / 2.6**2)


def test_pretraining_reads_the_training_split_only(data, monkeypatch):
    corpus = P.pretrain_corpus(data)
    train, held_out = set(data.train.texts), set(data.valid.texts) | set(data.test.texts)
    assert data.valid.texts and data.test.texts and not train & held_out  # disjoint splits exist
    assert set(corpus.texts) <= train and len(corpus) == sum(n >= 2 for n in data.train.lengths)
    seen = []
    original = P.make_loader

    def spy(dataset, **kwargs):
        if kwargs.get("shuffle"):
            seen.append(dataset)
        return original(dataset, **kwargs)

    monkeypatch.setattr(P, "make_loader", spy)
    _, history = P.pretrain_lm(
        data,
        config=P.lm_config(data.vocab, embedding_dim=8, hidden_size=8, output_size=10),
        train=P.PretrainConfig(epochs=1, batch_size=32),
        log=None,
    )
    assert seen and all(set(d.texts) <= train for d in seen)
    assert not any(set(d.texts) & held_out for d in seen)
    assert len(history.val_ppl) == 1 and history.val_ppl[0] > 1  # validation is measured, not trained on


def test_lm_targets_shift_map_rare_tokens_to_unk_and_ignore_the_padding():
    tokens = torch.tensor([[5, 20, 7, 9], [3, 4, 1, 1]]).T  # (steps, batch); 20 is outside the output layer
    targets = P.lm_targets(tokens, torch.tensor([4, 2]), output_size=12)
    assert targets[:, 0].tolist() == [0, 7, 9, -100]
    assert targets[:, 1].tolist() == [4, -100, -100, -100]


def test_generate_review_continues_the_prefix(data):
    lm = P.ReviewLM(P.lm_config(data.vocab, embedding_dim=8, hidden_size=8, output_size=10))
    first = data.vocab.idx_to_token[2]
    text = P.generate_review(lm, data.vocab, [first], 5, seed=1)
    assert text.startswith(first) and len(text) == 6
    assert text == P.generate_review(lm, data.vocab, [first], 5, seed=1)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        P.generate_review(lm, data.vocab, ["不存在的词"], 5)


def test_lm_checkpoint_round_trip_and_one_line_errors(data, tmp_path):
    lm = P.ReviewLM(P.lm_config(data.vocab, embedding_dim=8, hidden_size=8, output_size=10))
    path = P.save_lm(tmp_path / "lm.pt", lm, data)
    loaded = P.load_lm(path, vocab=data.vocab)
    assert loaded.vocab == data.vocab and loaded.max_len == 30 and loaded.tokenizer == data.settings.tokenizer
    for name, tensor in lm.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], tensor)
    other = S.prepare_data(S.DataSettings(**{**data.settings.__dict__, "max_size": 20}))
    assert other.vocab != data.vocab
    with pytest.raises(CheckpointError, match="vocabulary mismatch"):
        P.load_lm(path, vocab=other.vocab)
    with pytest.raises(FileNotFoundError):
        P.load_lm(tmp_path / "missing.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        P.load_lm(tmp_path / "bad.pt")
    classifier = S.SentimentLSTM(T.classifier_config(lm))
    S.save_checkpoint(tmp_path / "clf.pt", classifier, data.vocab, data.settings.tokenizer, max_len=30)
    with pytest.raises(CheckpointError, match="not a review language-model checkpoint"):
        P.load_lm(tmp_path / "clf.pt")
