"""Issue 13, item 9: one input rule for every cell of NumPy, PyTorch and TensorFlow.

Accepted everywhere: ``X`` ``(steps >= 1, batch, input)`` of a floating dtype, ``batch == 0``,
a ``None`` state.  Refused everywhere with an error naming the argument, the expectation and what
was received: zero steps (``ValueError``, as ``torch.nn.LSTM``), a value of the wrong type or an
integer dtype (``TypeError``), and integer parameter dtypes in the NumPy initialisers.
The referee for what is accepted is ``torch.nn.LSTM``/``nn.GRU``/``nn.RNN``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lstm_course.numpy.gru import gru_forward, init_gru_params
from lstm_course.numpy.lstm import init_lstm_params, lstm_forward
from lstm_course.numpy.rnn import init_rnn_params, rnn_forward
from lstm_course.torch.gru import FusedGRU, ScratchGRU
from lstm_course.torch.lstm import FusedLSTM, ScratchLSTM
from lstm_course.torch.rnn import ScratchRNN

D, H = 3, 4
NUMPY = {
    "rnn": lambda X, s: rnn_forward(X, s, init_rnn_params(D, H, seed=0))[0],
    "lstm": lambda X, s: lstm_forward(X, s, init_lstm_params(D, H, seed=0))[0],
    "gru": lambda X, s: gru_forward(X, s, init_gru_params(D, H, seed=0))[0],
}
TORCH = {
    "ScratchLSTM": ScratchLSTM,
    "FusedLSTM": FusedLSTM,
    "ScratchGRU": ScratchGRU,
    "FusedGRU": FusedGRU,
    "ScratchRNN": ScratchRNN,
}
REFEREE = {"ScratchLSTM": nn.LSTM, "FusedLSTM": nn.LSTM, "ScratchGRU": nn.GRU, "FusedGRU": nn.GRU, "ScratchRNN": nn.RNN}


@pytest.mark.parametrize("name", NUMPY)
def test_numpy_cells_accept_none_state_and_batch_zero(name):
    assert NUMPY[name](np.zeros((5, 2, D)), None).shape == (5, 2, H)
    assert NUMPY[name](np.zeros((5, 0, D)), None).shape == (5, 0, H)
    assert NUMPY[name](np.zeros((5, 2, D), np.float32), None).shape == (5, 2, H)


@pytest.mark.parametrize("name", NUMPY)
def test_numpy_cells_refuse_the_same_inputs(name):
    with pytest.raises(ValueError, match=r"X: expected at least one time step, received shape \(0, 2, 3\)"):
        NUMPY[name](np.zeros((0, 2, D)), None)
    with pytest.raises(TypeError, match="X: expected a numpy.ndarray, received list"):
        NUMPY[name](np.zeros((5, 2, D)).tolist(), None)
    with pytest.raises(TypeError, match="X: expected a floating dtype .*received int64"):
        NUMPY[name](np.zeros((5, 2, D), dtype=np.int64), None)


@pytest.mark.parametrize(
    "init",
    [
        lambda dt: init_rnn_params(D, H, dtype=dt),
        lambda dt: init_lstm_params(D, H, dtype=dt),
        lambda dt: init_gru_params(D, H, dtype=dt),
    ],
)
def test_numpy_initialisers_refuse_integer_dtypes(init):
    with pytest.raises(TypeError, match="dtype: expected a floating NumPy dtype.*received int"):
        init(int)
    params = init(np.float32)
    assert all(p.dtype == np.float32 and np.abs(p).max() > 0 for p in params.values())


@pytest.mark.parametrize("name", TORCH)
def test_torch_cells_accept_what_torch_nn_accepts(name):
    torch.manual_seed(0)
    ours, referee = TORCH[name](D, H), REFEREE[name](D, H)
    for X in (torch.zeros(5, 2, D), torch.zeros(5, 0, D)):
        assert ours(X)[0].shape == referee(X)[0].shape == (5, X.shape[1], H)


@pytest.mark.parametrize("name", TORCH)
def test_torch_cells_refuse_what_torch_nn_refuses_with_a_named_error(name):
    ours, referee = TORCH[name](D, H), REFEREE[name](D, H)
    for bad in (
        torch.zeros(0, 2, D),
        torch.zeros(5, 2, D, dtype=torch.float16),
        torch.zeros(5, 2, D, dtype=torch.long),
    ):
        with pytest.raises((ValueError, RuntimeError)):
            referee(bad)
    with pytest.raises(ValueError, match=r"X: expected shape \(steps>0, batch, 3\), received \(0, 2, 3\)"):
        ours(torch.zeros(0, 2, D))
    with pytest.raises(TypeError, match=r"X: expected dtype torch.float32 .*received torch.float16"):
        ours(torch.zeros(5, 2, D, dtype=torch.float16))
    with pytest.raises(TypeError, match=r"X: expected a floating dtype, received torch.int64"):
        ours(torch.zeros(5, 2, D, dtype=torch.long))
    with pytest.raises(TypeError, match=r"X: expected a torch.Tensor, received ndarray"):
        ours(np.zeros((5, 2, D), np.float32))
    assert ours.double()(torch.zeros(5, 2, D, dtype=torch.float64))[0].dtype == torch.float64


def test_tensorflow_cells_follow_the_same_rule():
    tf = pytest.importorskip("tensorflow")
    from lstm_course.tf.gru import TFScratchGRU
    from lstm_course.tf.lstm import TFScratchLSTM

    for cell in (TFScratchLSTM(D, H), TFScratchGRU(D, H)):
        Y, _ = cell(tf.zeros((5, 2, D)))
        assert tuple(Y.shape) == (5, 2, H)
        assert tuple(cell(np.zeros((5, 2, D), np.float32))[0].shape) == (5, 2, H)
        with pytest.raises(ValueError, match=r"X: expected shape \(steps>0, batch, 3\)"):
            cell(tf.zeros((0, 2, D)))
        with pytest.raises(TypeError, match="X: expected a tf.Tensor or numpy.ndarray, received list"):
            cell(np.zeros((5, 2, D)).tolist())
        with pytest.raises(TypeError, match="X: expected a floating dtype, received int32"):
            cell(tf.zeros((5, 2, D), tf.int32))
        with pytest.raises(TypeError, match="X: expected dtype float32 .*received float16"):
            cell(tf.zeros((5, 2, D), tf.float16))
