"""Evaluation of a trained classifier: accuracy with a confidence interval, precision/recall/F1,
confusion matrix, accuracy per category and per length bucket, the most confident mistakes."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_course.data.reviews import LABEL_NAMES, EncodedReviews
from lstm_course.tables import format_table

DEFAULT_LENGTH_EDGES = (10, 20, 40, 80, 160)


def wilson_interval(correct: int, total: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a proportion (default 95 %); better than ``p ± z·se`` near 0 or 1."""
    if total <= 0:
        return (float("nan"), float("nan"))
    p = correct / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class Evaluation:
    """Predictions on a labelled split and everything computed from them.

    Attributes:
        probs: ``(n,)`` probability of the positive label.
        labels: ``(n,)`` true labels 0/1.
        categories, texts: per review.
        lengths: ``(n,)`` token counts before truncation.
        threshold: ``probs >= threshold`` predicts positive.
    """

    probs: np.ndarray
    labels: np.ndarray
    categories: list[str]
    texts: list[str]
    lengths: np.ndarray
    threshold: float = 0.5

    @classmethod
    def from_probs(cls, probs: np.ndarray, data: EncodedReviews) -> Evaluation:
        """Build an evaluation from probabilities ``(n,)`` and the reviews they belong to."""
        probs = np.asarray(probs, dtype=np.float64)
        if probs.shape != (len(data),):
            raise ValueError(f"probs must have shape ({len(data)},), got {probs.shape}")
        if (data.labels < 0).any():
            raise ValueError("evaluation needs labelled data (labels 0/1)")
        return cls(
            probs, np.asarray(data.labels), list(data.categories), list(data.texts), np.asarray(data.full_lengths)
        )

    @property
    def predictions(self) -> np.ndarray:
        """Predicted labels ``(n,)``: 1 where ``P(positive) >= threshold``."""
        return (self.probs >= self.threshold).astype(np.int64)

    @property
    def correct(self) -> np.ndarray:
        """Boolean ``(n,)``: whether each prediction equals the label."""
        return self.predictions == self.labels

    @property
    def accuracy(self) -> float:
        """Share of correct predictions."""
        return float(self.correct.mean())

    def accuracy_ci(self, level: float = 0.95) -> tuple[float, float]:
        """Wilson interval of the accuracy at confidence ``level``."""
        from statistics import NormalDist

        z = NormalDist().inv_cdf(0.5 + level / 2)
        return wilson_interval(int(self.correct.sum()), len(self.labels), z)

    def confusion(self) -> np.ndarray:
        """``(2, 2)`` counts, rows = true label, columns = predicted label (0 negative, 1 positive)."""
        matrix = np.zeros((2, 2), dtype=np.int64)
        np.add.at(matrix, (self.labels, self.predictions), 1)
        return matrix

    def precision_recall_f1(self, positive: int = 1) -> tuple[float, float, float]:
        """For the class ``positive`` (1: 正面, 0: 负面)."""
        m = self.confusion()
        tp = m[positive, positive]
        predicted, actual = m[:, positive].sum(), m[positive, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return float(precision), float(recall), float(f1)

    def per_category(self) -> list[dict[str, Any]]:
        """One row per category, sorted by accuracy (worst first): n, positive share, accuracy, CI."""
        groups: dict[str, list[int]] = defaultdict(list)
        for i, cat in enumerate(self.categories):
            groups[cat].append(i)
        rows = []
        for cat, idx in groups.items():
            correct = int(self.correct[idx].sum())
            rows.append(
                {
                    "category": cat,
                    "n": len(idx),
                    "positive": float(self.labels[idx].mean()),
                    "accuracy": correct / len(idx),
                    "ci": wilson_interval(correct, len(idx)),
                }
            )
        return sorted(rows, key=lambda r: (r["accuracy"], r["category"]))

    def per_length(self, edges: Sequence[int] = DEFAULT_LENGTH_EDGES) -> list[dict[str, Any]]:
        """Accuracy per bucket of token count: ``[1, e0)``, ``[e0, e1)``, ..., ``[e_last, inf)``."""
        bounds = [1, *edges, None]
        rows = []
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            mask = (self.lengths >= lo) & (self.lengths < hi if hi is not None else True)
            n = int(mask.sum())
            if n == 0:
                continue
            correct = int(self.correct[mask].sum())
            rows.append(
                {
                    "bucket": f"{lo}–{hi - 1}" if hi is not None else f"≥{lo}",
                    "n": n,
                    "accuracy": correct / n,
                    "ci": wilson_interval(correct, n),
                }
            )
        return rows

    def confident_mistakes(self, k: int = 10) -> list[dict[str, Any]]:
        """The ``k`` wrong predictions the model was most sure of."""
        wrong = np.flatnonzero(~self.correct)
        confidence = np.abs(self.probs[wrong] - 0.5)
        order = wrong[np.argsort(-confidence, kind="stable")][:k]
        return [
            {
                "text": self.texts[i],
                "category": self.categories[i],
                "label": LABEL_NAMES[self.labels[i]],
                "predicted": LABEL_NAMES[self.predictions[i]],
                "p_positive": float(self.probs[i]),
            }
            for i in order
        ]

    def summary(self) -> str:
        """Multi-line Chinese report of the headline metrics."""
        lo, hi = self.accuracy_ci()
        lines = [
            f"样本数 {len(self.labels):,}",
            f"准确率 (accuracy) {self.accuracy:.4f}，95% 置信区间 [{lo:.4f}, {hi:.4f}]",
        ]
        for cls in (1, 0):
            p, r, f = self.precision_recall_f1(cls)
            lines.append(f"{LABEL_NAMES[cls]}：精确率 (precision) {p:.4f}  召回率 (recall) {r:.4f}  F1 {f:.4f}")
        return "\n".join(lines)

    def category_table(self) -> str:
        """Accuracy per product category with Wilson 95 % intervals, worst first, as a text table."""
        rows = [
            (r["category"], r["n"], f"{r['positive']:.0%}", r["accuracy"], f"[{r['ci'][0]:.3f}, {r['ci'][1]:.3f}]")
            for r in self.per_category()
        ]
        return format_table(["类别", "样本数", "正面占比", "准确率", "95% 置信区间"], rows)

    def length_table(self, edges: Sequence[int] = DEFAULT_LENGTH_EDGES) -> str:
        """Accuracy per length bucket (tokens before truncation) with Wilson 95 % intervals, as a text table."""
        rows = [
            (r["bucket"], r["n"], r["accuracy"], f"[{r['ci'][0]:.3f}, {r['ci'][1]:.3f}]")
            for r in self.per_length(edges)
        ]
        return format_table(["词元数", "样本数", "准确率", "95% 置信区间"], rows)


def average(evaluations: Sequence[Evaluation]) -> Evaluation:
    """A small ensemble: the mean of several models' probabilities on the same reviews.

    Raises:
        ValueError: the evaluations are not on the same reviews in the same order.
    """
    if not evaluations:
        raise ValueError("need at least one evaluation to average")
    first = evaluations[0]
    for i, other in enumerate(evaluations[1:], 1):
        if other.texts != first.texts or not np.array_equal(other.labels, first.labels):
            raise ValueError(
                f"evaluation {i} is on other reviews than evaluation 0; an ensemble must be "
                "evaluated on the same split in the same order"
            )
    probs = np.mean([ev.probs for ev in evaluations], axis=0)
    return Evaluation(probs, first.labels, first.categories, first.texts, first.lengths, first.threshold)


def evaluate(model, data: EncodedReviews, *, batch_size: int = 256, device=None) -> Evaluation:
    """Run ``model`` on every review of ``data`` and wrap the result in an :class:`Evaluation`.

    Runs where the model is (``next(model.parameters()).device``): a checkpoint loaded on the CPU
    is evaluated on the CPU; ``model.to('cuda')`` first to evaluate on a GPU.  ``device``, if
    given, must name the model's device.
    """
    from lstm_course.torch.sentiment.inference import positive_probabilities

    return Evaluation.from_probs(positive_probabilities(model, data, batch_size=batch_size, device=device), data)


def plot_confusion(evaluation: Evaluation, *, ax: Any = None) -> Any:
    """Confusion matrix as a heat map with counts; rows true, columns predicted."""
    from lstm_course.plot import heatmap

    names = list(LABEL_NAMES)
    return heatmap(
        evaluation.confusion(),
        xlabels=names,
        ylabels=names,
        annotate=True,
        fmt="{:.0f}",
        xlabel="预测标签",
        ylabel="真实标签",
        title="混淆矩阵 (confusion matrix)",
        ax=ax,
    )


def plot_per_category(evaluation: Evaluation, *, ax: Any = None) -> Any:
    """Horizontal bars of per-category accuracy with 95 % Wilson intervals."""
    from lstm_course.plot import new_axes

    rows = evaluation.per_category()
    ax = new_axes(ax, figsize=(6, 3.8))
    acc = np.array([r["accuracy"] for r in rows])
    err = np.array([[r["accuracy"] - r["ci"][0], r["ci"][1] - r["accuracy"]] for r in rows]).T
    ax.barh(
        [f"{r['category']} ({r['n']})" for r in rows],
        acc,
        xerr=err,
        color="tab:blue",
        alpha=0.8,
        error_kw={"capsize": 3},
    )
    ax.axvline(evaluation.accuracy, color="tab:red", ls="--", label=f"总体 {evaluation.accuracy:.3f}")
    ax.set(
        xlabel="准确率",
        title="各类别的测试准确率（误差线：95% 置信区间）",
        xlim=(max(0.0, float((acc - err[0]).min()) - 0.05), 1.0),
    )
    ax.legend(loc="lower right")
    return ax
