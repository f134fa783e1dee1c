"""The one optimisation step every training loop of the course takes."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["clipped_step"]


def clipped_step(model: nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor, clip: float | None) -> None:
    """Zero the gradients, back-propagate ``loss``, clip the global gradient norm to ``clip``, update.

    ``clip`` of ``None`` (or 0) skips clipping (``torch.nn.utils.clip_grad_norm_``).
    """
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
