"""How much memory a model needs, found out before a single weight is allocated.

A model is built on PyTorch's ``meta`` device, which records shapes and dtypes but stores
nothing, so a configuration asking for a billion hidden units costs nothing to inspect.
:func:`check_fits` refuses a model whose training would not fit the device, and
:func:`skeleton_shapes` gives the parameter shapes a configuration implies, which checkpoint
loaders compare with the stored tensors before building the real model.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

__all__ = [
    "ModelTooLargeError",
    "meta_model",
    "skeleton_shapes",
    "parameter_bytes",
    "device_memory",
    "check_fits",
    "TRAINING_COPIES",
]

#: Copies of the parameters training holds at once: weights, gradients, two Adam moments.
TRAINING_COPIES = 4


class ModelTooLargeError(ValueError):
    """A model (or its training) needs more memory than the device has."""


def meta_model(factory: Callable[[], nn.Module], what: str = "the model") -> nn.Module:
    """Call ``factory`` with the ``meta`` device as default: shapes only, no storage.

    Raises:
        ModelTooLargeError: the shapes themselves cannot be represented (sizes overflow).
    """
    try:
        with torch.device("meta"):
            return factory()
    except (RuntimeError, OverflowError, MemoryError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelTooLargeError(f"{what} is too large to exist on any machine ({first})") from None


def skeleton_shapes(factory: Callable[[], nn.Module]) -> dict[str, tuple[int, ...]]:
    """``{name: shape}`` of the ``state_dict`` the model from ``factory`` would have."""
    return {name: tuple(t.shape) for name, t in meta_model(factory).state_dict().items()}


def parameter_bytes(factory: Callable[[], nn.Module], what: str = "the model") -> int:
    """Bytes of the parameters and buffers of the model from ``factory`` (nothing is allocated)."""
    return sum(t.numel() * t.element_size() for t in meta_model(factory, what).state_dict().values())


def device_memory(device: Any = "cpu") -> int | None:
    """Total memory of ``device`` in bytes (CUDA: the GPU's; otherwise the machine's RAM), or ``None``."""
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.get_device_properties(device).total_memory)
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - platforms without sysconf
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def check_fits(
    factory: Callable[[], nn.Module], *, device: Any = "cpu", copies: int = TRAINING_COPIES, what: str = "the model"
) -> int:
    """Refuse a model whose ``copies`` × parameter bytes exceed the memory of ``device``.

    Returns:
        the parameter bytes of one copy.

    Raises:
        ModelTooLargeError: one line with the estimate and the memory available.
    """
    nbytes = parameter_bytes(factory, what)
    memory = device_memory(device)
    if memory is not None and nbytes * copies > memory:
        raise ModelTooLargeError(
            f"{what} needs about {_gib(nbytes * copies)} ({_gib(nbytes)} of weights "
            f"x {copies} for gradients and optimizer state), but {device} has "
            f"{_gib(memory)}; choose smaller sizes"
        )
    return nbytes
