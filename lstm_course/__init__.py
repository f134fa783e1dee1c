"""lstm_course: the companion package of the course 《循环神经网络与 LSTM》.

Importing the package is cheap: it imports neither PyTorch nor TensorFlow.
Subpackages load on first attribute access, e.g. ``lstm_course.numpy``.

Conventions shared by every implementation (documented once, here):

* Sequences are time-major by default: ``X`` has shape ``(steps, batch, input_size)``
  (``batch_first=True`` in the PyTorch modules switches to ``(batch, steps, input_size)``).
* Parameters follow d2l's row-vector naming: a gate ``g`` computes
  ``X_t @ W_xg + H_{t-1} @ W_hg + b_g`` with ``W_xg`` of shape ``(input_size, hidden_size)``,
  ``W_hg`` of shape ``(hidden_size, hidden_size)`` and ``b_g`` of shape ``(hidden_size,)``.
  RNN: ``W_xh, W_hh, b_h``. LSTM: ``W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o,
  W_xc, W_hc, b_c``. GRU: ``W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h`` (+ ``b_hh``, the
  recurrent candidate bias of the framework variant); see :mod:`lstm_course.numpy.gru`.
  :mod:`lstm_course.convert` maps these dicts to and from ``torch.nn`` and Keras layouts.
"""

from __future__ import annotations

import importlib
from typing import Any

from lstm_course.config import PROFILES, by_profile, profile
from lstm_course.runtime import get_device, set_seed

__version__ = "0.1.0"

_LAZY_SUBMODULES = {
    "check",
    "claims",
    "cli",
    "config",
    "convert",
    "data",
    "experiments",
    "numpy",
    "params",
    "plot",
    "results",
    "runtime",
    "tf",
    "torch",
}

__all__ = ["__version__", "profile", "by_profile", "PROFILES", "get_device", "set_seed", *sorted(_LAZY_SUBMODULES)]


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        module = importlib.import_module(f"lstm_course.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'lstm_course' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_SUBMODULES)
