"""parameter_count equals what PyTorch and Keras report, and the scratch modules' sizes."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
from torch import nn  # noqa: E402

from lstm_course.params import flops_per_token, parameter_count  # noqa: E402
from lstm_course.torch.lstm import FusedLSTM, ScratchLSTM  # noqa: E402

TORCH = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
SHAPES = [(3, 5, 1, False), (7, 4, 2, True), (1, 8, 3, False), (6, 2, 2, False)]


def _numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("cell", list(TORCH))
@pytest.mark.parametrize("x, h, layers, bi", SHAPES)
@pytest.mark.parametrize("bias", [True, False])
def test_matches_torch(cell, x, h, layers, bi, bias):
    module = TORCH[cell](x, h, layers, bidirectional=bi, bias=bias)
    assert parameter_count(cell, x, h, num_layers=layers, bidirectional=bi, bias=bias) == _numel(module)


@pytest.mark.parametrize("layers, bi", [(1, False), (2, True)])
def test_matches_torch_lstm_projection(layers, bi):
    module = nn.LSTM(5, 6, layers, bidirectional=bi, proj_size=3)
    assert parameter_count("lstm", 5, 6, num_layers=layers, bidirectional=bi, proj_size=3) == _numel(module)


def _keras_count(cell: str, x: int, h: int, layers: int, bi: bool, **kwargs) -> int:
    import keras

    kind = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    stack = []
    for _ in range(layers):
        layer = kind(h, return_sequences=True, **kwargs)
        stack.append(keras.layers.Bidirectional(layer) if bi else layer)
    model = keras.Sequential([keras.Input((None, x)), *stack])
    return model.count_params()


@pytest.mark.parametrize("cell", list(TORCH))
@pytest.mark.parametrize("x, h, layers, bi", SHAPES[:2])
def test_matches_keras(cell, x, h, layers, bi):
    expected = _keras_count(cell, x, h, layers, bi)
    assert parameter_count(cell, x, h, num_layers=layers, bidirectional=bi, framework="keras") == expected


@pytest.mark.parametrize("reset_after", [True, False])
def test_matches_keras_gru_variants_and_no_bias(reset_after):
    expected = _keras_count("gru", 4, 3, 1, False, reset_after=reset_after)
    assert parameter_count("gru", 4, 3, framework="keras", reset_after=reset_after) == expected
    assert parameter_count("lstm", 4, 3, framework="keras", bias=False) == _keras_count(
        "lstm", 4, 3, 1, False, use_bias=False
    )


@pytest.mark.parametrize("x, h, layers, bi", SHAPES)
def test_textbook_count_is_the_scratch_modules_and_torch_has_4h_more_per_layer(x, h, layers, bi):
    textbook = parameter_count("lstm", x, h, num_layers=layers, bidirectional=bi, framework="textbook")
    assert textbook == _numel(ScratchLSTM(x, h, layers, bidirectional=bi))
    assert textbook == _numel(FusedLSTM(x, h, layers, bidirectional=bi))
    torch_count = parameter_count("lstm", x, h, num_layers=layers, bidirectional=bi)
    assert torch_count - textbook == 4 * h * layers * (2 if bi else 1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell: expected one of"):
        parameter_count("transformer", 3, 4)
    with pytest.raises(ValueError, match="framework: expected one of"):
        parameter_count("lstm", 3, 4, framework="jax")
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1, received 0"):
        parameter_count("lstm", 3, 0)
    with pytest.raises(ValueError, match="proj_size is only defined"):
        parameter_count("gru", 3, 4, proj_size=2)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_flops_per_token_is_two_flops_per_weight_of_the_layer(cell):
    """The cost model and the parameter count share one gate count: a weight is one multiply-add."""
    x, h = 28, 256
    weights = parameter_count(cell, x, h, framework="textbook", bias=False)
    assert flops_per_token(cell, x, h) == 2 * weights
    assert flops_per_token(cell, x, h, train=True) == 6 * weights
    with pytest.raises(ValueError, match="cell"):
        flops_per_token("transformer", x, h)
    with pytest.raises(ValueError, match="positive"):
        flops_per_token(cell, 0, h)
