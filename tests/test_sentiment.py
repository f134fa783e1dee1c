"""lstm_course.torch.sentiment: packing, training on validation, metrics, checkpoints, prediction."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from sentiment_fixtures import synthetic_rows

from lstm_course.data import reviews as R
from lstm_course.data.review_tokens import TokenizerConfig
from lstm_course.torch import sentiment as S


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: one thread avoids oversubscribing a shared CPU (10x faster under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_final_state_equals_each_sequence_alone(bidirectional):
    torch.manual_seed(0)
    config = S.SentimentConfig(
        vocab_size=30,
        pad_index=1,
        embedding_dim=8,
        hidden_size=6,
        num_layers=2,
        bidirectional=bidirectional,
        dropout=0.2,
    )
    model = S.SentimentLSTM(config).eval()
    lengths = torch.tensor([5, 2, 7, 1])
    tokens = torch.full((7, 4), 1, dtype=torch.int64)
    for j, n in enumerate(lengths.tolist()):
        tokens[:n, j] = torch.randint(2, 30, (n,))
    with torch.no_grad():
        batched = model.encode(tokens, lengths)
        alone = torch.cat(
            [model.encode(tokens[:n, j : j + 1], torch.tensor([n])) for j, n in enumerate(lengths.tolist())]
        )
        # what packing prevents: running the LSTM over the pads changes the final state
        _, (h_n, _) = model.lstm(model.embedding(tokens))
        padded = torch.cat([h_n[-2], h_n[-1]], 1) if bidirectional else h_n[-1]
    assert batched.shape == (4, 6 * (2 if bidirectional else 1))
    assert torch.max(torch.abs(batched - alone)) <= 1e-6
    assert torch.max(torch.abs(padded - alone)) > 1e-3


def test_batch_first_and_shape_errors():
    torch.manual_seed(0)
    model = S.SentimentLSTM(S.SentimentConfig(vocab_size=10, embedding_dim=4, hidden_size=3), batch_first=True).eval()
    tokens = torch.randint(2, 10, (3, 5))
    assert model(tokens, torch.tensor([5, 3, 1])).shape == (3,)
    with pytest.raises(ValueError, match="lengths must have shape \\(3,\\)"):
        model(tokens, torch.tensor([5, 3]))
    with pytest.raises(ValueError, match="lengths must lie in \\[1, 5\\]"):
        model(tokens, torch.tensor([6, 3, 1]))
    with pytest.raises(ValueError, match="tokens must have shape"):
        model(torch.zeros(2, 3, 4, dtype=torch.int64), torch.tensor([1, 1, 1]))


def test_pad_embedding_is_zero_and_max_pooling_ignores_pads():
    torch.manual_seed(0)
    model = S.SentimentLSTM(S.SentimentConfig(vocab_size=10, embedding_dim=4, hidden_size=3, pooling="last+max")).eval()
    assert torch.count_nonzero(model.embedding.weight[1]) == 0
    tokens = torch.tensor([[2, 3], [4, 1], [5, 1]])
    with torch.no_grad():
        both = model.encode(tokens, torch.tensor([3, 1]))
        alone = model.encode(tokens[:1, 1:], torch.tensor([1]))
    assert torch.allclose(both[1], alone[0], atol=1e-6)


def _prepared(tmp_path, kind="char", n=360):
    from sentiment_fixtures import write_csv

    source = write_csv(tmp_path / "reviews.csv", synthetic_rows(n))
    settings = S.DataSettings(tokenizer=TokenizerConfig(kind), max_len=40, min_freq=1, source=str(source))
    return S.prepare_data(settings)


@pytest.fixture
def trained(tmp_path):
    data = _prepared(tmp_path)
    torch.manual_seed(0)
    config = S.model_config(data.vocab, embedding_dim=16, hidden_size=16, dropout=0.1)
    net, history = S.train_model(
        data, config=config, train=S.TrainConfig(epochs=6, batch_size=16, lr=1e-2, patience=2), progress=False, log=None
    )
    return data, net, history


def test_training_learns_and_keeps_the_best_validation_epoch(trained):
    data, net, history = trained
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.best_valid_acc == max(history.valid_acc) >= 0.9
    _, acc, _ = S.loss_and_accuracy(net, data.valid)
    assert acc == history.best_valid_acc  # the kept weights are those of the best validation epoch
    assert S.evaluate(net, data.test).accuracy >= 0.85


def test_inference_is_batched_in_data_order_without_dropout(trained):
    data, net, _ = trained
    net.train()  # dropout on: inference must switch it off and switch training back on after
    logits = S.predict_logits(net, data.test, batch_size=7)
    assert net.training and logits.shape == (len(data.test),)
    net.eval()
    with torch.no_grad():
        alone = [net(torch.from_numpy(ids)[:, None], torch.tensor([len(ids)])).item() for ids in data.test.ids[:6]]
    np.testing.assert_allclose(logits[:6], alone, rtol=1e-5, atol=1e-6)
    probs = S.positive_probabilities(net, data.test)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-logits.astype(np.float64))), rtol=1e-6)
    assert S.predict_logits(net, data.test.subset([])).shape == (0,)
    loss, acc, same = S.loss_and_accuracy(net, data.test)
    np.testing.assert_array_equal(same, probs)
    assert acc == S.evaluate(net, data.test).accuracy and 0 < loss < 1
    unlabelled = data.test.subset(range(3))
    unlabelled.labels = np.full(3, -1)
    loss, acc, _ = S.loss_and_accuracy(net, unlabelled)
    assert np.isnan(loss) and np.isnan(acc)


def test_selection_uses_validation_not_training_loss(tmp_path):
    data = _prepared(tmp_path)
    # labels of the validation split flipped: the model improves on training data and gets worse on
    # validation, so the kept weights must be those of the first epoch
    flipped = data.valid.subset(range(len(data.valid)))
    flipped.labels = 1 - flipped.labels
    torch.manual_seed(0)
    net = S.SentimentLSTM(S.model_config(data.vocab, embedding_dim=16, hidden_size=16))
    history = S.fit(
        net, data.train, flipped, S.TrainConfig(epochs=4, batch_size=16, lr=1e-2, patience=5), progress=False, log=None
    )
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.best_epoch == int(np.argmax(history.valid_acc)) + 1
    assert history.valid_acc[-1] < history.valid_acc[history.best_epoch - 1]


def test_tensorboard_is_optional(tmp_path):
    data = _prepared(tmp_path)
    net = S.SentimentLSTM(S.model_config(data.vocab, embedding_dim=4, hidden_size=4))
    try:
        import tensorboard  # noqa: F401

        installed = True
    except ImportError:
        installed = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        S.fit(
            net,
            data.train,
            data.valid,
            S.TrainConfig(epochs=1),
            progress=False,
            log=None,
            tensorboard_dir=str(tmp_path / "tb"),
        )
    assert installed or any("TensorBoard is not installed" in str(w.message) for w in caught)


def test_wilson_interval_and_metrics():
    lo, hi = S.wilson_interval(81, 100)
    assert (round(lo, 4), round(hi, 4)) == (0.7222, 0.8749)
    data = R.EncodedReviews(
        ids=[np.array([2])] * 6,
        lengths=np.ones(6, dtype=np.int64),
        labels=np.array([1, 1, 1, 0, 0, 0]),
        categories=list("aaabbb"),
        texts=list("uvwxyz"),
        full_lengths=np.array([1, 5, 50, 200, 3, 12]),
    )
    ev = S.Evaluation.from_probs(np.array([0.9, 0.6, 0.2, 0.4, 0.99, 0.1]), data)
    assert ev.confusion().tolist() == [[2, 1], [1, 2]]
    assert ev.accuracy == pytest.approx(4 / 6)
    assert ev.precision_recall_f1(1) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert [m["text"] for m in ev.confident_mistakes(5)] == ["y", "w"]  # 0.99 wrong is worse than 0.2
    assert {r["category"]: r["accuracy"] for r in ev.per_category()} == pytest.approx({"a": 2 / 3, "b": 2 / 3})
    buckets = {r["bucket"]: r["n"] for r in ev.per_length((10, 100))}
    assert buckets == {"1–9": 3, "10–99": 2, "≥100": 1}
    with pytest.raises(ValueError, match="shape \\(6,\\)"):
        S.Evaluation.from_probs(np.zeros(5), data)
    assert "准确率" in ev.summary() and "类别" in ev.category_table()


def test_checkpoint_round_trip_is_exact_and_safe(trained, tmp_path):
    data, net, history = trained
    path = S.save_trained(tmp_path / "m.pt", net, data, history, S.TrainConfig())
    raw = torch.load(path, weights_only=True)  # loads without unpickling arbitrary objects
    assert set(raw) == {"format", "metadata", "state_dict"}
    ckpt = S.load_checkpoint(path, vocab=data.vocab)
    assert ckpt.vocab == data.vocab and ckpt.tokenizer == data.settings.tokenizer and ckpt.max_len == 40
    assert S.DataSettings.from_dict(ckpt.extra["data"]) == data.settings
    _, _, before = S.loss_and_accuracy(net, data.test)
    _, _, after = S.loss_and_accuracy(ckpt.model, data.test)
    np.testing.assert_array_equal(before, after)


def test_checkpoint_written_with_the_old_embed_size_key_still_loads(trained, tmp_path):
    data, net, history = trained
    path = S.save_trained(tmp_path / "m.pt", net, data, history, S.TrainConfig())
    payload = torch.load(path, weights_only=True)
    meta = json.loads(payload["metadata"])
    meta["model_config"]["embed_size"] = meta["model_config"].pop("embedding_dim")  # the name before the rename
    payload["metadata"] = json.dumps(meta)
    torch.save(payload, tmp_path / "old.pt")
    ckpt = S.load_checkpoint(tmp_path / "old.pt")
    assert isinstance(ckpt, S.SentimentCheckpoint)
    assert ckpt.model.config == net.config and ckpt.model.config.embedding_dim == 16
    meta["model_config"]["embedding_dim"] = 16
    with pytest.raises(ValueError, match="both embed_size"):
        S.SentimentConfig.from_dict(meta["model_config"])


def test_checkpoint_mismatches_are_clear_errors(trained, tmp_path):
    data, net, history = trained
    path = S.save_trained(tmp_path / "m.pt", net, data, history, S.TrainConfig())
    other = R.build_vocab([["完", "全", "不", "同"]])
    with pytest.raises(S.CheckpointError, match="vocabulary mismatch: the checkpoint was trained with"):
        S.load_checkpoint(path, vocab=other)
    swapped = R.Vocab.from_dict(data.vocab.to_dict())
    swapped.idx_to_token[2], swapped.idx_to_token[3] = swapped.idx_to_token[3], swapped.idx_to_token[2]
    with pytest.raises(S.CheckpointError, match="index 2 is"):
        S.load_checkpoint(path, vocab=swapped)
    with pytest.raises(S.CheckpointError, match="embedding has"):
        S.save_checkpoint(tmp_path / "x.pt", net, other, data.settings.tokenizer, max_len=5)
    payload = torch.load(path, weights_only=True)
    meta = json.loads(payload["metadata"])
    meta["vocab"]["idx_to_token"].append("多余")
    payload["metadata"] = json.dumps(meta)
    torch.save(payload, tmp_path / "edited.pt")
    with pytest.raises(S.CheckpointError, match="fingerprint"):
        S.load_checkpoint(tmp_path / "edited.pt")
    meta["vocab"]["idx_to_token"].pop()
    meta["model_config"]["hidden_size"] = 99
    payload["metadata"] = json.dumps(meta)
    torch.save(payload, tmp_path / "resized.pt")
    with pytest.raises(S.CheckpointError, match="weights do not fit"):
        S.load_checkpoint(tmp_path / "resized.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(S.CheckpointError, match="not a readable checkpoint"):
        S.load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(S.CheckpointError, match="not a sentiment checkpoint"):
        S.load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError):
        S.load_checkpoint(tmp_path / "missing.pt")


def test_predictor_edge_cases(trained):
    data, net, _ = trained
    predictor = S.SentimentPredictor(net, data.vocab, data.settings.tokenizer, max_len=12, device="cpu")
    results = predictor.predict(["这个真的好推荐", "东西差失望", "好"])
    assert [r.label for r in results] == ["正面", "负面", "正面"]
    assert all(0.5 <= r.probability <= 1 and not r.all_unknown for r in results)
    assert [r.p_positive for r in results] == predictor.predict_proba(["这个真的好推荐", "东西差失望", "好"]).tolist()
    assert results[1].probability == pytest.approx(1 - results[1].p_positive)
    assert predictor.predict("质量好") == predictor.predict(["质量好"])
    assert predictor.predict([]) == [] and predictor.predict_proba([]).shape == (0,)
    for bad in ["", "  \n\t\u3000", "\ufeff"]:
        with pytest.raises(ValueError, match="empty or only whitespace"):
            predictor.predict(["好", bad])
    with pytest.raises(TypeError):
        predictor.predict([None])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the flag travels in the result, not as a warning
        unknown, known = predictor.predict(["𠀀𠀁𠀂", "好𠀀"])
    assert unknown.all_unknown and not known.all_unknown
    assert unknown.label in R.LABEL_NAMES and 0.5 <= unknown.probability <= 1
    long = "好" * 3 + "差" * 20000  # truncated to max_len=12 tokens: only the first 12 are seen
    assert predictor.predict_proba([long])[0] == pytest.approx(predictor.predict_proba(["好" * 3 + "差" * 9])[0])


def test_ensemble_averages_members_on_the_same_reviews(trained, tmp_path):
    data, net, _ = trained
    torch.manual_seed(1)
    other = S.SentimentLSTM(S.model_config(data.vocab, embedding_dim=8, hidden_size=8)).eval()
    ev_a, ev_b = S.evaluate(net, data.test), S.evaluate(other, data.test)
    mean = S.average([ev_a, ev_b])
    np.testing.assert_allclose(mean.probs, (ev_a.probs + ev_b.probs) / 2)
    with pytest.raises(ValueError, match="same split"):
        S.average([ev_a, S.evaluate(net, data.valid)])
    members = [
        S.SentimentPredictor(m, data.vocab, data.settings.tokenizer, max_len=40, device="cpu") for m in (net, other)
    ]
    texts = ["这个真的好推荐", "东西差失望"]
    expected = (members[0].predict_proba(texts) + members[1].predict_proba(texts)) / 2
    ensemble = S.SentimentEnsemble(members)
    np.testing.assert_allclose(ensemble.predict_proba(texts), expected)
    np.testing.assert_allclose([p.p_positive for p in ensemble.predict(texts)], expected)
    assert ensemble.predict(["𠀀"])[0].all_unknown
    # jieba keeps "推荐" whole, a word the character vocabulary lacks: all unknown to that member
    # alone, but not to an ensemble with a member that reads its characters
    words = S.SentimentPredictor(other, data.vocab, TokenizerConfig("word"), max_len=40, device="cpu")
    assert words.predict(["推荐"])[0].all_unknown and not members[0].predict(["推荐"])[0].all_unknown
    assert not S.SentimentEnsemble([members[0], words]).predict(["推荐"])[0].all_unknown
