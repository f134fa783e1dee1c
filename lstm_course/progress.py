"""The progress bar over epochs that every trainer of the course shows.

Framework-free: the language-model trainers (:func:`lstm_course.torch.lm.train.train_lm`,
:func:`lstm_course.tf.lm.train_lm_tf`), the encoder–decoder and the forecaster of chapters
8–9 all iterate over :func:`epoch_bar`.
"""

from __future__ import annotations

import importlib.util
from typing import Any

__all__ = ["epoch_bar"]


class _NoBar:
    """Stand-in for a disabled tqdm bar: iterates, ignores postfixes."""

    def __init__(self, iterable) -> None:
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable)

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def epoch_bar(epochs: int, *, desc: str, enabled: bool = True) -> Any:
    """A tqdm bar over ``range(epochs)``; nothing is imported or printed when ``enabled`` is false.

    Uses the notebook widget when ``ipywidgets`` is installed and the text bar otherwise (so a
    notebook without ipywidgets shows a plain bar instead of a TqdmWarning).
    """
    if not enabled:
        return _NoBar(range(epochs))
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm(range(epochs), desc=desc, unit="epoch")
