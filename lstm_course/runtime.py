"""Seeding, device selection and numerics settings that work whether or not torch/tensorflow are installed.

* :func:`set_seed` — Python, NumPy, PyTorch and TensorFlow seeds; with ``deterministic=True``
  also the switches each framework needs for bit-reproducible results on one device.
* :func:`get_device` — the best available ``torch.device`` (cuda > mps > cpu); where a *new*
  model goes.  :func:`model_device` — where an existing model *is*: inference and evaluation run
  on the device of the model's parameters, and the caller decides where the model lives.
* :func:`full_float32` — TF32 off in both frameworks for equivalence checks.
* :func:`synchronize` — wait for queued CUDA/MPS work before reading a clock.
* :func:`single_thread` — PyTorch on one CPU thread inside a ``with`` block.

``PYTHONHASHSEED`` is **not** set here: Python fixes the hash seed of ``str``/``bytes`` when the
interpreter starts, so setting it in a running process changes nothing for that process (only
for child processes it starts).  For reproducible ``set`` iteration order of strings start Python
with it set, e.g. ``PYTHONHASHSEED=0 jupyter lab``.
"""

from __future__ import annotations

import os
import random
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

#: cuBLAS needs a fixed workspace for deterministic matrix products on CUDA ≥ 10.2; read when
#: CUDA initialises (see PyTorch's "Reproducibility" notes).
CUBLAS_WORKSPACE = ":4096:8"

#: Set by ``set_seed(..., deterministic=True)`` so that :mod:`lstm_course.tf` can switch on
#: TensorFlow's op determinism when it imports TensorFlow later.
_determinism_requested = False


def set_seed(seed: int, deterministic: bool = False, *, warn_only: bool = True) -> None:
    """Seed Python's ``random``, NumPy and, when they are installed, PyTorch and TensorFlow.

    Frameworks are seeded only if already imported or importable; TensorFlow (slow to import)
    only when it is already imported.

    Args:
        seed: a non-negative int.
        deterministic: also make each framework choose deterministic kernels, so that a run
            repeats bit for bit **on the same device and library versions** (results still differ
            between CPU, CUDA and MPS, and between GPU models):

            * PyTorch: ``torch.use_deterministic_algorithms(True, warn_only=warn_only)``,
              ``torch.backends.cudnn.deterministic = True``, ``torch.backends.cudnn.benchmark =
              False`` and ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` (only effective before CUDA
              initialises: a warning says so when it is too late);
            * TensorFlow: ``tf.config.experimental.enable_op_determinism()`` — now if TensorFlow
              is imported, otherwise when :mod:`lstm_course.tf` imports it.

            ``False`` leaves these switches as they are.
        warn_only: with ``deterministic``, an operation that has no deterministic PyTorch kernel
            warns instead of raising.
    """
    global _determinism_requested
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if deterministic:
        _determinism_requested = True
        _torch_cuda_workspace()
    if _installed("torch"):
        import torch

        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
        if deterministic:
            torch.use_deterministic_algorithms(True, warn_only=warn_only)
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
    if "tensorflow" in sys.modules or "keras" in sys.modules:
        # TensorFlow is slow to import; seed it only when the learner already uses it.
        import tensorflow as tf

        tf.random.set_seed(seed)
        try:
            import keras

            keras.utils.set_random_seed(seed)
        except (ImportError, AttributeError):  # pragma: no cover - very old keras
            pass
        if deterministic:
            tf_op_determinism()


def _torch_cuda_workspace() -> None:
    """Set ``CUBLAS_WORKSPACE_CONFIG`` unless the user did; warn when CUDA already started."""
    if "CUBLAS_WORKSPACE_CONFIG" in os.environ:
        return
    os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        warnings.warn(
            "CUDA is already initialised, so CUBLAS_WORKSPACE_CONFIG set now has no effect: "
            "call set_seed(..., deterministic=True) before the first CUDA operation, or start "
            f"Python with CUBLAS_WORKSPACE_CONFIG={CUBLAS_WORKSPACE}",
            stacklevel=3,
        )


def determinism_requested() -> bool:
    """Whether :func:`set_seed` was called with ``deterministic=True`` in this process."""
    return _determinism_requested


def tf_op_determinism() -> None:
    """``tf.config.experimental.enable_op_determinism()`` (TensorFlow must be importable)."""
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()


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


def model_device(model: Any, device: Any = None) -> Any:
    """The ``torch.device`` of ``model``'s parameters (or buffers; the CPU if it has neither).

    Inference and evaluation run where the model is; the caller moves the model
    (``model.to(device)``) before calling.  ``device``, if given, must name that device:
    a different one is an error rather than a silent copy of the inputs to another device.

    Raises:
        ValueError: ``device`` differs from the model's device.
    """
    import torch

    tensor = next(iter(model.parameters()), None)
    if tensor is None:
        tensor = next(iter(model.buffers()), None)
    actual = tensor.device if tensor is not None else torch.device("cpu")
    if device is not None and device != "auto":
        wanted = torch.device(device)
        same = wanted.type == actual.type and (
            wanted.index is None or actual.index is None or wanted.index == actual.index
        )
        if not same:
            raise ValueError(
                f"the model is on {actual} but device={str(wanted)!r} was requested; "
                f"move the model first (model.to({str(wanted)!r})) or leave device unset"
            )
    return actual


@contextmanager
def full_float32() -> Iterator[None]:
    """Run the block in full float32 precision: TF32 matrix products off in PyTorch and TensorFlow.

    On Ampere-or-newer NVIDIA GPUs both frameworks may compute float32 matrix products with
    TF32 (10-bit mantissa), which makes two correct implementations differ by ~1e-3.  The
    equivalence checks of the book run inside this context; on a CPU it changes nothing.
    The previous settings are restored on exit.  Also usable as a decorator
    (``@full_float32()``) for a function that compares two implementations.
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


@contextmanager
def single_thread() -> Iterator[None]:
    """Run PyTorch on one CPU thread inside the ``with`` block, then restore the setting.

    The course's recurrent layers are tiny; on a shared 2-core machine extra intra-op threads
    only wait for each other (measured: up to 100x slower), so the experiments train on one.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
