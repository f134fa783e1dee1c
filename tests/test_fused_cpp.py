"""The fused LSTM's C++ time loops: equal to nn.LSTM in float64, gradcheck, and the fallback.

All tests share one build of the extension (compiled on first use into the user cache and
reused afterwards); they are skipped, with the reason, only when no C++ compiler is present.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from lstm_course import convert
from lstm_course.torch import fused_cpp
from lstm_course.torch.lstm import FusedLSTM, FusedLSTMCell

TOL = 1e-10


@pytest.fixture(scope="module")
def cpp():
    """The built extension (one build for the whole test run)."""
    if fused_cpp.compiler() is None:
        pytest.skip("no C++ compiler on this machine: the C++ time loop cannot be built")
    assert fused_cpp.load(), fused_cpp.unavailable_reason()
    return fused_cpp


@pytest.fixture
def no_compiler(monkeypatch):
    """A process in which the extension cannot be built (restores the real state afterwards)."""
    saved = dict(fused_cpp._state)
    monkeypatch.setenv("CXX", "/nonexistent/c++")
    fused_cpp._reset()
    yield
    fused_cpp._state.update(saved)


def _run(module, X, state):
    for t in (X, *state):
        t.grad = None
    module.zero_grad()
    out, (h_n, c_n) = module(X, state)
    loss = (out.sin().sum() + (h_n * h_n).sum() + c_n.cos().sum()) / X.numel()
    loss.backward()
    return out, h_n, c_n, X.grad.clone(), state[0].grad.clone(), state[1].grad.clone()


@pytest.mark.parametrize("layers, bidirectional, batch_first", [(1, False, False), (2, True, True)])
def test_cpp_backend_equals_nn_lstm_in_float64(cpp, layers, bidirectional, batch_first):
    torch.manual_seed(layers)
    x, h, batch, steps = 5, 7, 3, 6
    ref = nn.LSTM(x, h, layers, bidirectional=bidirectional, batch_first=batch_first).double()
    ours = FusedLSTM(x, h, layers, bidirectional=bidirectional, batch_first=batch_first, backend="cpp").double()
    convert.copy_lstm(ref, ours)
    shape = (batch, steps, x) if batch_first else (steps, batch, x)
    X = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    rows = layers * (2 if bidirectional else 1)
    state = tuple(torch.randn(rows, batch, h, dtype=torch.float64, requires_grad=True) for _ in range(2))
    for name, e, a in zip(
        ["output", "h_n", "c_n", "dX", "dh0", "dc0"], _run(ref, X, state), _run(ours, X, state), strict=True
    ):
        assert e.shape == a.shape, name
        assert (e - a).abs().max().item() <= TOL, name
    for k, (want, got) in enumerate(zip(convert.lstm_grads(ref), convert.lstm_grads(ours), strict=True)):
        for name in convert.LSTM_PARAM_NAMES:
            assert np.abs(want[name] - got[name]).max() <= TOL, (k, name)


def test_cpp_scan_passes_gradcheck(cpp):
    torch.manual_seed(2)
    args = [
        torch.randn(4, 2, 12, dtype=torch.float64, requires_grad=True),
        torch.randn(3, 12, dtype=torch.float64, requires_grad=True),
        torch.randn(2, 3, dtype=torch.float64, requires_grad=True),
        torch.randn(2, 3, dtype=torch.float64, requires_grad=True),
    ]
    assert torch.autograd.gradcheck(cpp.fused_lstm_scan_cpp, args)


def test_cpp_ops_reject_wrong_shapes(cpp):
    XW, W_h = torch.randn(3, 2, 8), torch.randn(2, 8)
    with pytest.raises(RuntimeError, match="h0: expected"):
        torch.ops.lstm_course.fused_lstm_forward(XW, W_h, torch.randn(2, 3), torch.randn(2, 3))
    with pytest.raises(RuntimeError, match="W_h: expected"):
        torch.ops.lstm_course.fused_lstm_forward(XW, torch.randn(8, 2), torch.randn(2, 2), torch.randn(2, 2))


def test_auto_uses_the_cpp_loop_when_it_builds(cpp):
    assert fused_cpp.resolve_backend("auto") == "cpp"
    assert fused_cpp.build_dir().is_dir()


def test_without_a_compiler_auto_falls_back_once_and_cpp_says_why(no_compiler):
    torch.manual_seed(4)
    python, auto = FusedLSTM(3, 4), FusedLSTM(3, 4, backend="auto")
    auto.load_state_dict(python.state_dict())
    X = torch.randn(5, 2, 3)
    with pytest.warns(UserWarning, match="using the Python time loop: no C\\+\\+ compiler"):
        y_auto, _ = auto(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto(X)  # said once, not on every call
    assert torch.equal(y_auto, python(X)[0])
    with pytest.raises(RuntimeError, match="backend='cpp' is not available: no C\\+\\+ compiler"):
        FusedLSTM(3, 4, backend="cpp")(X)


def test_backend_is_validated():
    with pytest.raises(ValueError, match="backend must be one of"):
        FusedLSTM(3, 4, backend="cuda")
    with pytest.raises(ValueError, match="manual_backward=True"):
        FusedLSTMCell(3, 4, manual_backward=False, backend="cpp")
    with pytest.raises(ValueError, match="backend must be one of"):
        fused_cpp.resolve_backend("fast")
