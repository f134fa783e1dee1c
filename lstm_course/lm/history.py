"""The per-epoch record both language-model trainers return.

Framework-free: :func:`lstm_course.torch.lm.train.train_lm` and
:func:`lstm_course.tf.lm.train_lm_tf` both return an :class:`LMHistory`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["LMHistory"]


@dataclass
class LMHistory:
    """Per-epoch record of a language-model trainer (index ``e`` is epoch ``e + 1``).

    Attributes:
        train_ppl: training perplexity, averaged over the epoch's tokens (while the weights move).
        val_ppl: validation perplexity after the epoch (empty without validation data).
        tokens_per_s: training tokens per second of the epoch (forward, backward, update).
        seconds: wall-clock seconds of the epoch's training pass.
        lr: learning rate used during the epoch.
    """

    train_ppl: list[float] = field(default_factory=list)
    val_ppl: list[float] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self.train_ppl)

    @property
    def best_epoch(self) -> int | None:
        """1-based epoch with the lowest validation perplexity (``None`` without validation)."""
        return int(np.argmin(self.val_ppl)) + 1 if self.val_ppl else None

    @property
    def best_val_ppl(self) -> float | None:
        """The lowest validation perplexity (``None`` without validation)."""
        return float(min(self.val_ppl)) if self.val_ppl else None

    def mean_tokens_per_s(self, skip_first: bool = True) -> float:
        """Average training speed; the first epoch (warm-up) is skipped when there are others."""
        speeds = self.tokens_per_s[1:] if skip_first and len(self.tokens_per_s) > 1 else self.tokens_per_s
        return float(np.mean(speeds)) if speeds else float("nan")

    def to_dict(self) -> dict[str, list[float]]:
        """A JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LMHistory:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: [float(x) for x in v] for k, v in data.items()})

    def plot(self, *, title: str = "", logy: bool = False, ax: Any = None) -> Any:
        """Perplexity curves with :func:`lstm_course.plot.plot_history`; returns the Axes."""
        from matplotlib.ticker import MaxNLocator

        from lstm_course.plot import plot_history

        curves = {"训练困惑度": self.train_ppl}
        if self.val_ppl:
            curves["验证困惑度"] = self.val_ppl
        ax = plot_history(curves, ylabel="困惑度 (perplexity)", title=title, logy=logy, ax=ax)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        return ax
