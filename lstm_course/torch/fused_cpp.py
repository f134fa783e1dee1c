"""The fused LSTM's time loops in C++: a PyTorch extension compiled on first use.

``fused_lstm.cpp`` (shipped with the package) holds the forward and backward time loops of
``lstm_course.torch.lstm._FusedLSTMScan`` — the same algorithm, one ``addmm`` per step and a
hand-written BPTT — registered as ``torch.ops.lstm_course.fused_lstm_forward`` / ``_backward``.
The first :func:`load` compiles it with :func:`torch.utils.cpp_extension.load` (a C++ compiler
and ninja are needed; about a minute) into :func:`build_dir`; later calls and later processes
reuse the build.  Without a compiler :func:`resolve_backend` falls back to the Python loop and
says so once, in one line (a :class:`UserWarning`).

The Python loop stays the lesson (chapter 3); this is what chapter 10 measures against it.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

import torch

__all__ = [
    "BACKENDS",
    "SOURCE",
    "build_dir",
    "compiler",
    "load",
    "available",
    "unavailable_reason",
    "resolve_backend",
    "fused_lstm_scan_cpp",
]

#: Implementations of the fused LSTM's time loop: ``FusedLSTM(..., backend=...)``.
BACKENDS = ("python", "cpp", "auto")
#: The C++ source compiled by :func:`load`.
SOURCE = Path(__file__).with_name("fused_lstm.cpp")
_NAME = "lstm_course_fused_lstm"
_state: dict[str, object] = {"loaded": False, "error": None, "warned": False}


def build_dir() -> Path:
    """Where the extension is built: ``$TORCH_EXTENSIONS_DIR`` or ``~/.cache/lstm_course``.

    One folder per PyTorch and Python version, so an upgrade never loads a stale build.
    """
    base = os.environ.get("TORCH_EXTENSIONS_DIR")
    root = Path(base) if base else Path.home() / ".cache" / "lstm_course" / "torch_extensions"
    tag = f"torch-{torch.__version__.replace('+', '_')}-py{sys.version_info[0]}{sys.version_info[1]}"
    return root / tag / _NAME


def compiler() -> str | None:
    """The C++ compiler PyTorch would use (``$CXX`` or ``c++``), or ``None`` if there is none."""
    return shutil.which(os.environ.get("CXX", "c++"))


def load(*, verbose: bool = False) -> bool:
    """Compile (first time) and load the extension; ``True`` when its operators are usable.

    Failures are remembered for the process: :func:`unavailable_reason` says why, in one line.
    """
    if _state["loaded"]:
        return True
    if _state["error"] is not None:
        return False
    if compiler() is None:
        _state["error"] = f"no C++ compiler found ({os.environ.get('CXX', 'c++')!r} is not on PATH)"
        return False
    from torch.utils import cpp_extension

    folder = build_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        cpp_extension.load(
            name=_NAME,
            sources=[str(SOURCE)],
            build_directory=str(folder),
            extra_cflags=["-O3"],
            is_python_module=False,
            verbose=verbose,
        )
    except Exception as exc:  # noqa: BLE001 - a failed build means: use the Python loop
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()] or lines
        _state["error"] = (
            f"building the C++ extension in {folder} failed ({type(exc).__name__}: {errors[0][:200] if errors else ''})"
        )
        return False
    _state["loaded"] = True
    return True


def available() -> bool:
    """Whether the C++ time loop can be used in this process (builds it if needed)."""
    return load()


def unavailable_reason() -> str | None:
    """Why :func:`load` failed, in one line (``None`` if it did not fail)."""
    return _state["error"]  # type: ignore[return-value]


def _reset() -> None:
    """Forget the outcome of :func:`load` (for tests that force the fallback)."""
    _state.update(loaded=False, error=None, warned=False)


def resolve_backend(backend: str) -> str:
    """``'cpp'`` or ``'python'``: what ``backend`` (one of :data:`BACKENDS`) runs here.

    ``'cpp'`` raises ``RuntimeError`` when the extension cannot be built; ``'auto'`` falls back
    to the Python loop with a one-line warning, given once per process.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, received {backend!r}")
    if backend == "python":
        return "python"
    if load():
        return "cpp"
    if backend == "cpp":
        raise RuntimeError(f"backend='cpp' is not available: {unavailable_reason()}")
    if not _state["warned"]:
        _state["warned"] = True
        warnings.warn(f"FusedLSTM: using the Python time loop: {unavailable_reason()}", UserWarning, stacklevel=3)
    return "python"


class _FusedLSTMScanCpp(torch.autograd.Function):
    """``lstm_course.torch.lstm._FusedLSTMScan`` with both time loops in C++."""

    @staticmethod
    def forward(ctx, XW, W_h, h0, c0):
        Y, h_T, c_T, gates, cs, tanh_cs = torch.ops.lstm_course.fused_lstm_forward(XW, W_h, h0, c0)
        ctx.save_for_backward(W_h, h0, gates, cs, tanh_cs, Y)
        return Y, h_T, c_T

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dY, dh_T, dc_T):
        W_h, h0, gates, cs, tanh_cs, Y = ctx.saved_tensors
        dXW, dW_h, dh0, dc0 = torch.ops.lstm_course.fused_lstm_backward(dY, dh_T, dc_T, W_h, h0, gates, cs, tanh_cs, Y)
        return dXW, dW_h, dh0, dc0


def fused_lstm_scan_cpp(
    XW: torch.Tensor, W_h: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`~lstm_course.torch.lstm.fused_lstm_scan` with the loops in C++ (builds on first use).

    Args:
        XW: ``X @ W_x + b`` for all steps, ``(steps, batch, 4*hidden)``, blocks ``i, f, o, c``.
        W_h: ``(hidden, 4*hidden)``.
        h0, c0: ``(batch, hidden)``.

    Returns:
        ``(Y, h_T, c_T)``: ``Y`` ``(steps, batch, hidden)``; first derivatives only.
    """
    if resolve_backend("cpp") != "cpp":  # pragma: no cover - resolve_backend raises instead
        raise RuntimeError(unavailable_reason())
    return _FusedLSTMScanCpp.apply(XW, W_h, h0, c0)
