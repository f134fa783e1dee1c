"""TensorFlow / Keras 3 implementations. Importing this subpackage imports TensorFlow.

Initialising TensorFlow here, once, before any TensorFlow operation of the course runs:

* quiet start-up defaults (``TF_CPP_MIN_LOG_LEVEL=2``, ``TF_ENABLE_ONEDNN_OPTS=0``) unless the
  learner set them;
* :func:`enable_memory_growth` — by default TensorFlow reserves nearly all memory of every
  visible GPU at its first operation, leaving none for PyTorch in the same notebook; with memory
  growth it takes only what it uses;
* TensorFlow's op determinism, if :func:`lstm_course.runtime.set_seed` was called with
  ``deterministic=True`` before TensorFlow was imported.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import tensorflow as _tf  # noqa: E402

from lstm_course import runtime as _runtime  # noqa: E402

__all__ = ["enable_memory_growth"]


def enable_memory_growth() -> list[str]:
    """``tf.config.experimental.set_memory_growth(gpu, True)`` for every physical GPU.

    Must run before TensorFlow initialises its devices (its first operation); afterwards
    TensorFlow refuses (``RuntimeError``) and the GPU keeps the setting it started with.

    Returns:
        The names of the GPUs whose setting was applied (empty without a GPU, or when too late).
    """
    applied = []
    for gpu in _tf.config.list_physical_devices("GPU"):
        try:
            _tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):  # devices already initialised: keep what they have
            continue
        applied.append(gpu.name)
    return applied


enable_memory_growth()
if _runtime.determinism_requested():
    _runtime.tf_op_determinism()
