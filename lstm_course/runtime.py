"""Seeding and device selection that work whether or not torch/tensorflow are installed."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
import random
import sys
from typing import Any

import numpy as np


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy and, when they are installed, PyTorch and TensorFlow.

    Frameworks are seeded only if already imported or importable; nothing heavy is imported
    just to seed it unless it is installed.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if _installed("torch"):
        import torch

        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
    if "tensorflow" in sys.modules or "keras" in sys.modules:
        # TensorFlow is slow to import; seed it only when the learner already uses it.
        import tensorflow as tf

        tf.random.set_seed(seed)
        try:
            import keras

            keras.utils.set_random_seed(seed)
        except (ImportError, AttributeError):  # pragma: no cover - very old keras
            pass


def _installed(name: str) -> bool:
    if name in sys.modules:
        return True
    import importlib.util

    return importlib.util.find_spec(name) is not None


def get_device(prefer: str | None = None) -> Any:
    """Return the best available ``torch.device``: cuda > mps > cpu.

    Args:
        prefer: ``'auto'``/``None`` for the best device, or an explicit ``'cpu'``, ``'cuda'``,
            ``'cuda:1'``, ``'mps'``; an explicit device that is not available is an error.
    """
    import torch

    if prefer not in (None, "auto"):
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' was requested but no CUDA GPU is available")
        if device.type == "mps" and not _mps_available(torch):
            raise RuntimeError("device 'mps' was requested but Apple MPS is not available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available(torch):
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available(torch: Any) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


@contextmanager
def full_float32() -> Iterator[None]:
    """Run the block in full float32 precision: TF32 matrix products off in PyTorch and TensorFlow.

    On Ampere-or-newer NVIDIA GPUs both frameworks may compute float32 matrix products with
    TF32 (10-bit mantissa), which makes two correct implementations differ by ~1e-3.  The
    equivalence checks of the book run inside this context; on a CPU it changes nothing.
    The previous settings are restored on exit.
    """
    restore: list[Any] = []
    if _installed("torch"):
        import torch

        matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

        def _torch_back() -> None:
            torch.backends.cuda.matmul.allow_tf32 = matmul
            torch.backends.cudnn.allow_tf32 = cudnn

        restore.append(_torch_back)
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        enabled = tf.config.experimental.tensor_float_32_execution_enabled()
        tf.config.experimental.enable_tensor_float_32_execution(False)
        restore.append(lambda: tf.config.experimental.enable_tensor_float_32_execution(enabled))
    try:
        yield
    finally:
        for undo in reversed(restore):
            undo()


def synchronize(device: Any) -> None:
    """Wait until queued work on ``device`` (CUDA or MPS) has finished; a no-op on the CPU.

    Timers must call it before reading the clock: GPU kernels run asynchronously.
    """
    import torch

    kind = torch.device(device).type if not hasattr(device, "type") else device.type
    if kind == "cuda":
        torch.cuda.synchronize(device)
    elif kind == "mps":
        torch.mps.synchronize()
