"""The label-efficiency experiment of chapter 7, part two (lstm_course.experiments.transfer),
the stratified label subsets it draws and the unigram baseline of the review LM."""

from __future__ import annotations

import math
from collections import Counter

import matplotlib
import pytest
import torch
from sentiment_fixtures import synthetic_rows, write_csv

from lstm_course.data.reviews import stratified_indices
from lstm_course.experiments import transfer as X
from lstm_course.torch import sentiment as S
from lstm_course.torch.sentiment import pretrain as P
from lstm_course.torch.sentiment import transfer as T

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("experiment_transfer")
    source = write_csv(folder / "reviews.csv", synthetic_rows(300))
    settings = S.DataSettings(tokenizer=S.TokenizerConfig("char"), max_len=30, min_freq=1, source=str(source))
    return S.prepare_data(settings)


@pytest.fixture(scope="module")
def lm(data):
    torch.manual_seed(123)  # not the training seed, which initialises the scratch classifier
    return P.ReviewLM(P.lm_config(data.vocab, embedding_dim=8, hidden_size=8, output_size=10)).eval()


def test_stratified_indices_take_exact_sizes_in_proportion():
    keys = ["a"] * 60 + ["b"] * 30 + ["c"] * 10
    chosen = stratified_indices(keys, 20, seed=3)
    assert len(chosen) == len(set(chosen)) == 20
    assert Counter(keys[i] for i in chosen) == {"a": 12, "b": 6, "c": 2}
    assert chosen == stratified_indices(keys, 20, seed=3) != stratified_indices(keys, 20, seed=4)
    assert stratified_indices(keys, None) == list(range(100)) == stratified_indices(keys, 500)
    with pytest.raises(ValueError, match="positive"):
        stratified_indices(keys, 0)


def test_labelled_subset_keeps_category_and_label_shares(data):
    subset = X.labelled_subset(data.train, 60, seed=1)
    assert len(subset) == 60
    strata = Counter(zip(data.train.categories, data.train.labels.tolist(), strict=True))
    chosen = Counter(zip(subset.categories, subset.labels.tolist(), strict=True))
    for key, count in strata.items():
        assert abs(chosen[key] - count * 60 / len(data.train)) < 1  # largest remainder: within one
    assert set(subset.texts) <= set(data.train.texts)
    assert len(X.labelled_subset(data.train, None)) == len(data.train)


@pytest.mark.parametrize(("labelled", "epochs"), [(10, 7), (200, 4), (320, 3), (32 * 40, 3)])
def test_budget_gives_small_label_sets_more_epochs(labelled, epochs):
    plan = X.Budget(steps=25, min_epochs=3, max_epochs=7, batch_size=32, lr=0.01, patience=2)
    config = plan.train_config(labelled, seed=5)
    # steps per epoch: ceil(labelled / 32); epochs: ceil(25 / that), kept within [3, 7]
    assert config.epochs == epochs
    assert (config.batch_size, config.lr, config.patience, config.seed) == (32, 0.01, 2, 5)


def test_each_method_trains_the_same_architecture_and_scores_the_test_split(data, lm):
    labelled = X.labelled_subset(data.train, 64)
    plan = X.Budget(steps=4, min_epochs=3, max_epochs=3, batch_size=32, lr=1e-9, patience=3)
    nets = {}
    for method in X.METHODS:
        net, run = X.run_method(method, data, lm, labelled, plan.train_config(len(labelled)))
        nets[method] = net
        assert (run.method, run.labels, run.test_size, run.epochs) == (method, 64, len(data.test), 3)
        assert 0 <= run.low <= run.accuracy <= run.high <= 1
        _, accuracy, _ = S.loss_and_accuracy(net, data.test)
        assert run.accuracy == accuracy
    shapes = {m: [tuple(p.shape) for p in n.parameters()] for m, n in nets.items()}
    assert shapes["scratch"] == shapes["pretrained"] == shapes["ulmfit"]
    assert nets["scratch"].config.pooling == "last+max" and not nets["scratch"].config.bidirectional
    # a learning rate of 1e-9 leaves the copied weights where the LM put them; scratch is random
    for method in ("pretrained", "ulmfit"):
        torch.testing.assert_close(nets[method].lstm.weight_hh_l0, lm.lstm.weight_hh_l0, rtol=0, atol=1e-6)
    assert not torch.allclose(nets["scratch"].lstm.weight_hh_l0, lm.lstm.weight_hh_l0, atol=1e-3)
    with pytest.raises(ValueError, match="method"):
        X.run_method("bert", data, lm, labelled, plan.train_config(64))
    with pytest.raises(ValueError, match="ulmfit"):
        X.run_method("scratch", data, lm, labelled, plan.train_config(64), transfer=T.TransferConfig())


def test_ulmfit_options_reach_the_fine_tuning(data, lm):
    labelled = X.labelled_subset(data.train, 64)
    config = X.Budget(steps=2, min_epochs=1, max_epochs=1, batch_size=32, lr=0.05, patience=1).train_config(64)
    frozen, _ = X.run_method("ulmfit", data, lm, labelled, config)  # epoch 1: only the output layer trains
    free, _ = X.run_method("ulmfit", data, lm, labelled, config, transfer=T.TransferConfig(gradual_unfreezing=False))
    torch.testing.assert_close(frozen.lstm.weight_hh_l0, lm.lstm.weight_hh_l0, rtol=0, atol=0)
    assert not torch.allclose(free.lstm.weight_hh_l0, lm.lstm.weight_hh_l0, atol=1e-4)


def test_label_efficiency_runs_every_method_at_every_count(data, lm):
    plan = X.Budget(steps=2, min_epochs=1, max_epochs=1, batch_size=64, lr=0.01, patience=1)
    runs, kept = X.label_efficiency(
        data, lm, [30, None], methods=("scratch", "pretrained"), plan=plan, keep=lambda r: r.labels == 30,
        progress=False,
    )  # fmt: skip
    assert [(r.labels, r.method) for r in runs] == [
        (30, "scratch"),
        (30, "pretrained"),
        (len(data.train), "scratch"),
        (len(data.train), "pretrained"),
    ]
    assert set(kept) == {(30, "scratch"), (30, "pretrained")}
    table = X.runs_table(runs)
    assert table.columns == ["有标签的评论", "从零训练", "预训练 + 普通微调"] and len(table.cells) == 2
    ax = X.plot_label_efficiency(runs)
    assert len(ax.containers) == 2 and ax.get_xscale() == "log"


def _run(labels, method, accuracy, half=0.01):
    return X.TransferRun(labels, method, accuracy, accuracy - half, accuracy + half, 1000, accuracy, 3, 3, 1.0)


def test_gap_and_meeting_point_read_the_intervals():
    runs = [
        _run(250, "scratch", 0.70),
        _run(250, "pretrained", 0.78),
        _run(1000, "scratch", 0.80),
        _run(1000, "pretrained", 0.815),  # ahead, but the intervals overlap
        _run(4000, "scratch", 0.86),
        _run(4000, "pretrained", 0.90),
    ]
    assert X.gap(runs, 250) == (pytest.approx(0.08), True)
    assert X.gap(runs, 1000) == (pytest.approx(0.015), False)
    assert X.meeting_point(runs) == 1000
    assert X.meeting_point([r for r in runs if r.labels != 1000]) is None
    with pytest.raises(ValueError, match="ulmfit"):
        X.gap(runs, 250, "ulmfit")


def test_unigram_perplexity_is_the_exponent_of_the_frequency_entropy(data):
    output_size = 10
    train, valid = data.train, data.valid

    def capped(reviews):
        return [t if t < output_size else 0 for ids in reviews.ids if len(ids) >= 2 for t in ids[1:].tolist()]

    counts = Counter(capped(train))
    total = sum(counts.values()) + output_size
    scored = capped(valid)
    expected = math.exp(-sum(math.log((counts[t] + 1) / total) for t in scored) / len(scored))
    assert P.unigram_perplexity(train, valid, output_size) == pytest.approx(expected, rel=1e-12)


def test_glued_runs_read_back_from_a_record(monkeypatch):
    from lstm_course import claims

    glued = {}
    monkeypatch.setattr(claims, "glue", lambda name, value, **_: glued.setdefault(name, value))
    runs = [_run(250, "scratch", 0.70), _run(250, "ulmfit", 0.75), _run(5000, "pretrained", 0.9)]
    X.glue_runs(runs, n_train=5000)
    assert "pretrained_all_accuracy" in glued and "scratch_250_high" in glued
    back = X.runs_from_record({**glued, "n_train": 5000, "n_test": 1000, "pretrained_x_accuracy": 1.0})
    assert [(r.labels, r.method, r.accuracy, r.low, r.high, r.epochs) for r in back] == [
        (r.labels, r.method, r.accuracy, r.low, r.high, r.epochs) for r in runs
    ]
