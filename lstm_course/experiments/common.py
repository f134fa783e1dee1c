"""Pieces the experiments share: building recurrent layers, the forget-gate bias, the recurrent radius.

Tables are :mod:`lstm_course.tables`; one CPU thread is :func:`lstm_course.runtime.single_thread`.

Importing this module imports PyTorch.
"""

from __future__ import annotations

import torch
from torch import nn

from lstm_course.numpy.rnn import scale_spectral_radius

__all__ = [
    "KINDS",
    "make_recurrent",
    "set_forget_bias",
    "set_recurrent_radius",
]

KINDS = ("rnn", "lstm", "gru")
_CLASSES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def make_recurrent(
    kind: str,
    input_size: int,
    hidden_size: int,
    *,
    forget_bias: float | None = None,
    radius: float | None = None,
    seed: int | None = None,
) -> nn.Module:
    """A one-layer, time-major ``torch.nn.RNN`` (tanh), ``nn.LSTM`` or ``nn.GRU``.

    Args:
        kind: ``'rnn'``, ``'lstm'`` or ``'gru'``.
        forget_bias: LSTM only; see :func:`set_forget_bias`.
        radius: if given, rescale every ``W_hh`` block to this spectral radius
            (see :func:`set_recurrent_radius`).
        seed: seeds ``torch`` before the weights are drawn.
    """
    if kind not in _CLASSES:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if forget_bias is not None and kind != "lstm":
        raise ValueError(f"forget_bias applies to 'lstm' only, not {kind!r}")
    if seed is not None:
        torch.manual_seed(seed)
    module = _CLASSES[kind](input_size, hidden_size)
    if forget_bias is not None:
        set_forget_bias(module, forget_bias)
    if radius is not None:
        set_recurrent_radius(module, radius)
    return module


def set_forget_bias(module: nn.Module, value: float) -> nn.Module:
    """Set the LSTM forget-gate bias ``b_f`` to ``value`` in place and return ``module``.

    Works for ``torch.nn.LSTM`` (gate order i, f, g, o: the f block of ``bias_ih_l*`` is set to
    ``value`` and that of ``bias_hh_l*`` to 0) and for any module with a parameter named ``b_f``
    (the d2l naming of the course's scratch LSTM).
    """
    with torch.no_grad():
        if isinstance(module, nn.LSTM):
            hidden = module.hidden_size
            for name, param in module.named_parameters():
                if name.startswith("bias_ih"):
                    param[hidden : 2 * hidden] = value
                elif name.startswith("bias_hh"):
                    param[hidden : 2 * hidden] = 0.0
            return module
        params = dict(module.named_parameters())
        found = [p for n, p in params.items() if n == "b_f" or n.endswith(".b_f")]
        if not found:
            raise TypeError(f"{type(module).__name__} has no forget-gate bias (nn.LSTM or a 'b_f' parameter)")
        for param in found:
            param.fill_(value)
    return module


def set_recurrent_radius(module: nn.Module, radius: float) -> nn.Module:
    """Rescale each recurrent gate block of ``weight_hh_l*`` to spectral radius ``radius`` (in place).

    For ``nn.RNN`` there is one block; for ``nn.LSTM``/``nn.GRU`` the stacked gate blocks
    (4 or 3 of shape ``(hidden, hidden)``) are rescaled one by one.
    """
    hidden = module.hidden_size
    with torch.no_grad():
        for name, param in module.named_parameters():
            if not name.startswith("weight_hh"):
                continue
            for start in range(0, param.shape[0], hidden):
                block = param[start : start + hidden].detach().cpu().double().numpy()
                scaled = scale_spectral_radius(block, radius)
                param[start : start + hidden] = torch.as_tensor(scaled, dtype=param.dtype)
    return module
