"""Chapter 7, part two: how many labels does a pre-trained language model save?

The experiment of ``book/ch07_sentiment/04_transfer``.  One review language model is
pre-trained on the text of the whole training split (labels unused; see
:func:`lstm_course.torch.sentiment.pretrain.pretrain_corpus`); then, for each number of
labelled reviews, three classifiers of the same architecture (embedding → unidirectional
LSTM → last + max pooling → one logit) are trained on the same labelled subset with the same
step budget:

* ``scratch``: random initialisation, AdamW at a constant learning rate;
* ``pretrained``: the LM's embedding and LSTM copied in (:func:`~lstm_course.torch.sentiment.
  transfer.transfer_weights`), then the same optimiser as ``scratch``;
* ``ulmfit``: the same copy, fine-tuned with ULMFiT's discriminative learning rates, slanted
  triangular schedule and gradual unfreezing (:func:`~lstm_course.torch.sentiment.transfer.fine_tune`).

Each is scored on the whole test split with a 95 % Wilson interval.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from lstm_course.config import by_profile
from lstm_course.data.reviews import EncodedReviews, stratified_indices
from lstm_course.runtime import set_seed
from lstm_course.tables import Table
from lstm_course.torch.sentiment.evaluate import wilson_interval
from lstm_course.torch.sentiment.model import SentimentLSTM
from lstm_course.torch.sentiment.pipeline import PreparedData, data_settings, prepare_data, train_config
from lstm_course.torch.sentiment.pretrain import ReviewLM
from lstm_course.torch.sentiment.train import TrainConfig, fit, loss_and_accuracy
from lstm_course.torch.sentiment.transfer import TransferConfig, classifier_config, fine_tune, transfer_weights

__all__ = [
    "METHODS",
    "METHOD_NAMES",
    "Budget",
    "TransferRun",
    "transfer_data",
    "label_counts",
    "budget",
    "labelled_subset",
    "run_method",
    "label_efficiency",
    "RECORDED_FIELDS",
    "record_key",
    "glue_runs",
    "runs_from_record",
    "runs_table",
    "gap",
    "meeting_point",
    "plot_label_efficiency",
]

METHODS = ("scratch", "pretrained", "ulmfit")
METHOD_NAMES = {"scratch": "从零训练", "pretrained": "预训练 + 普通微调", "ulmfit": "预训练 + ULMFiT 微调"}


def transfer_data(**overrides: Any) -> PreparedData:
    """Word-level reviews with the **whole** training split (the LM's text, the labels' pool).

    Reviews are cut to 60 tokens (quick) or 200 (full).  Model selection uses 2,000 validation
    reviews (each classifier is scored on them after every epoch); the test split is whole.
    """
    sizes = by_profile(quick=dict(max_len=60, valid_size=2000), full=dict(max_len=200, valid_size=2000))
    settings = data_settings("word", train_size=None, test_size=None, **{**sizes, **overrides})
    return prepare_data(settings)


def label_counts() -> list[int | None]:
    """Numbers of labelled training reviews per profile (``None``: every training review)."""
    return by_profile(quick=[250, 1000], full=[250, 1000, 4000, None])


@dataclass(frozen=True)
class Budget:
    """How long each classifier trains: at least ``steps`` optimiser steps, as whole epochs.

    Attributes:
        steps: the step budget (small label sets get more epochs).
        min_epochs, max_epochs: bounds on the epochs (ULMFiT unfreezes one group per epoch).
        batch_size, lr, patience: as in :class:`~lstm_course.torch.sentiment.train.TrainConfig`.
    """

    steps: int
    min_epochs: int
    max_epochs: int
    batch_size: int
    lr: float
    patience: int

    def train_config(self, labelled: int, seed: int = 0) -> TrainConfig:
        """The :class:`TrainConfig` for ``labelled`` training reviews."""
        per_epoch = math.ceil(labelled / self.batch_size)
        epochs = min(self.max_epochs, max(self.min_epochs, math.ceil(self.steps / per_epoch)))
        return train_config(epochs=epochs, patience=self.patience, batch_size=self.batch_size, lr=self.lr, seed=seed)


def budget(**overrides: Any) -> Budget:
    """Profile defaults of :class:`Budget`."""
    settings = by_profile(
        quick=dict(steps=150, min_epochs=3, max_epochs=25, batch_size=32, lr=1e-2, patience=25),
        full=dict(steps=400, min_epochs=3, max_epochs=30, batch_size=64, lr=3e-3, patience=4),
    )
    return Budget(**{**settings, **overrides})


def labelled_subset(train: EncodedReviews, size: int | None, *, seed: int = 0) -> EncodedReviews:
    """``size`` training reviews with the ``(category, label)`` proportions of ``train``.

    Subsets of one seed are drawn independently per size (not nested).
    """
    keys = [(c, int(y)) for c, y in zip(train.categories, train.labels, strict=True)]
    return train.subset(stratified_indices(keys, size, seed=seed))


@dataclass(frozen=True)
class TransferRun:
    """One trained classifier, scored on the test split.

    Attributes:
        labels: labelled training reviews used.
        method: one of :data:`METHODS`.
        accuracy, low, high: test accuracy and its 95 % Wilson interval.
        test_size: test reviews.
        valid_acc: validation accuracy of the kept epoch.
        epochs, best_epoch: epochs run and the epoch whose weights were kept.
        seconds: training time.
    """

    labels: int
    method: str
    accuracy: float
    low: float
    high: float
    test_size: int
    valid_acc: float
    epochs: int
    best_epoch: int
    seconds: float

    def to_dict(self) -> dict:
        """A JSON-serialisable dict."""
        return asdict(self)


def run_method(
    method: str,
    data: PreparedData,
    lm: ReviewLM,
    labelled: EncodedReviews,
    train: TrainConfig,
    *,
    transfer: TransferConfig | None = None,
) -> tuple[SentimentLSTM, TransferRun]:
    """Train one classifier with ``method`` on ``labelled`` and score it on ``data.test``.

    All three methods build the same architecture (:func:`classifier_config` of ``lm`` with last +
    max pooling); ``train.seed`` initialises the parameters the LM does not provide.
    ``transfer`` sets ULMFiT's options (``method='ulmfit'`` only; default: the paper's).
    """
    if transfer is not None and method != "ulmfit":
        raise ValueError(f"transfer settings apply to method 'ulmfit', not {method!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    set_seed(train.seed)
    net = SentimentLSTM(classifier_config(lm))
    if method != "scratch":
        transfer_weights(lm, net)
    options = dict(progress=False, log=None)
    start = time.perf_counter()
    if method == "ulmfit":
        history = fine_tune(net, labelled, data.valid, train, transfer, **options)
    else:
        history = fit(net, labelled, data.valid, train, **options)
    seconds = time.perf_counter() - start
    _, accuracy, _ = loss_and_accuracy(net, data.test)
    correct = round(accuracy * len(data.test))
    low, high = wilson_interval(correct, len(data.test))
    run = TransferRun(
        labels=len(labelled),
        method=method,
        accuracy=accuracy,
        low=low,
        high=high,
        test_size=len(data.test),
        valid_acc=history.best_valid_acc,
        epochs=len(history.valid_acc),
        best_epoch=history.best_epoch,
        seconds=seconds,
    )
    return net, run


def label_efficiency(
    data: PreparedData,
    lm: ReviewLM,
    counts: Sequence[int | None] | None = None,
    *,
    methods: Sequence[str] = METHODS,
    plan: Budget | None = None,
    seed: int = 0,
    keep: Callable[[TransferRun], bool] | None = None,
    progress: bool = True,
) -> tuple[list[TransferRun], dict[tuple[int, str], SentimentLSTM]]:
    """Every method at every label count (default :func:`label_counts`).

    Args:
        plan: the step budget (default :func:`budget`); the same for every method.
        keep: return the trained network of the runs it accepts (default: none).
        progress: one tqdm bar over the runs.

    Returns:
        the runs (in ``counts`` × ``methods`` order) and the kept networks by ``(labels, method)``.
    """
    from tqdm.auto import tqdm

    counts = label_counts() if counts is None else list(counts)
    plan = plan or budget()
    runs: list[TransferRun] = []
    kept: dict[tuple[int, str], SentimentLSTM] = {}
    jobs = [(n, m) for n in counts for m in methods]
    bar = tqdm(jobs, desc="标签数 × 方法", unit="run", disable=not progress)
    for count, method in bar:
        labelled = labelled_subset(data.train, count, seed=seed)
        bar.set_postfix(labels=len(labelled), method=method)
        net, run = run_method(method, data, lm, labelled, plan.train_config(len(labelled), seed=seed))
        runs.append(run)
        if keep is not None and keep(run):
            kept[(run.labels, run.method)] = net
    return runs, kept


RECORDED_FIELDS = ("accuracy", "low", "high", "seconds", "epochs")


def record_key(method: str, labels: int, n_train: int) -> str:
    """The glue prefix of one run: ``<method>_<labels>``, or ``<method>_all`` when every
    training review is labelled (e.g. ``pretrained_250``, ``ulmfit_all``)."""
    return f"{method}_{'all' if labels == n_train else labels}"


def glue_runs(runs: Sequence[TransferRun], n_train: int) -> None:
    """Glue :data:`RECORDED_FIELDS` of every run as ``<record_key>_<field>`` (read back by
    :func:`runs_from_record`)."""
    from lstm_course.claims import glue

    for run in runs:
        for name in RECORDED_FIELDS:
            glue(f"{record_key(run.method, run.labels, n_train)}_{name}", getattr(run, name))


def runs_from_record(values: dict[str, Any]) -> list[TransferRun]:
    """The runs glued by :func:`glue_runs`, from a results file's ``values`` (which also hold
    ``n_train`` and ``n_test``).  Fields that were not recorded are ``nan`` or 0."""
    n_train, n_test = int(values["n_train"]), int(values["n_test"])
    runs = []
    for method in METHODS:
        for key in values:
            prefix = f"{method}_"
            if not (key.startswith(prefix) and key.endswith("_accuracy")):
                continue
            count = key[len(prefix) : -len("_accuracy")]
            if not (count == "all" or count.isdigit()):
                continue
            labels = n_train if count == "all" else int(count)
            base = record_key(method, labels, n_train)
            got = {name: values[f"{base}_{name}"] for name in RECORDED_FIELDS}
            runs.append(
                TransferRun(
                    labels=labels,
                    method=method,
                    accuracy=float(got["accuracy"]),
                    low=float(got["low"]),
                    high=float(got["high"]),
                    test_size=n_test,
                    valid_acc=float("nan"),
                    epochs=int(got["epochs"]),
                    best_epoch=0,
                    seconds=float(got["seconds"]),
                )
            )
    return sorted(runs, key=lambda r: (r.labels, METHODS.index(r.method)))


def runs_table(runs: Sequence[TransferRun]) -> Table:
    """One row per label count, one column per method: accuracy [low, high]."""
    methods = [m for m in METHODS if any(r.method == m for r in runs)]
    counts = sorted({r.labels for r in runs})
    by_key = {(r.labels, r.method): r for r in runs}
    cells = []
    for n in counts:
        row = [f"{n:,}"]
        for m in methods:
            r = by_key.get((n, m))
            row.append(f"{r.accuracy:.3f} [{r.low:.3f}, {r.high:.3f}]" if r else "")
        cells.append(row)
    return Table(["有标签的评论", *(METHOD_NAMES[m] for m in methods)], cells)


def gap(runs: Sequence[TransferRun], labels: int, method: str = "pretrained") -> tuple[float, bool]:
    """``method`` minus ``scratch`` at ``labels``, and whether the intervals are disjoint with
    ``method`` above (its lower end above scratch's upper end)."""
    by_key = {(r.labels, r.method): r for r in runs}
    try:
        a, b = by_key[(labels, method)], by_key[(labels, "scratch")]
    except KeyError:
        raise ValueError(f"no {method!r} and 'scratch' runs with {labels} labels") from None
    return a.accuracy - b.accuracy, a.low > b.high


def meeting_point(runs: Sequence[TransferRun], method: str = "pretrained") -> int | None:
    """The smallest label count from which ``method`` no longer beats ``scratch`` outside both
    intervals (the curves meet); ``None`` when it stays ahead at every count measured."""
    counts = sorted({r.labels for r in runs if r.method == method})
    for n in counts:
        if not gap(runs, n, method)[1]:
            return n
    return None


def plot_label_efficiency(runs: Sequence[TransferRun], ax: Any = None) -> Any:
    """Test accuracy (with 95 % intervals) against the number of labels, log scale, one line per method."""
    from lstm_course.plot import new_axes

    ax = new_axes(ax, figsize=(6.4, 3.8))
    for method in METHODS:
        rows = sorted((r for r in runs if r.method == method), key=lambda r: r.labels)
        if not rows:
            continue
        x = np.array([r.labels for r in rows])
        y = np.array([r.accuracy for r in rows])
        err = np.array([[r.accuracy - r.low for r in rows], [r.high - r.accuracy for r in rows]])
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=METHOD_NAMES[method])
    ax.set_xscale("log")
    ax.set_xlabel("有标签的训练评论数（对数刻度）")
    ax.set_ylabel("测试准确率")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax
