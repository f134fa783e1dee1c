"""parameter_count for the GRU: PyTorch, Keras (reset_after True/False) and the course's two variants."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
from torch import nn  # noqa: E402

from lstm_course.numpy.gru import init_gru_params  # noqa: E402
from lstm_course.params import parameter_count  # noqa: E402
from lstm_course.torch.gru import FusedGRU, ScratchGRU  # noqa: E402

SHAPES = [(3, 5, 1, False), (7, 4, 2, True), (28, 16, 1, False)]


def _numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("x, h, layers, bi", SHAPES)
def test_torch_and_scratch_counts(x, h, layers, bi):
    assert parameter_count("gru", x, h, num_layers=layers, bidirectional=bi) == _numel(
        nn.GRU(x, h, layers, bidirectional=bi)
    )
    for variant, reset_after in (("framework", True), ("textbook", False)):
        count = parameter_count(
            "gru", x, h, num_layers=layers, bidirectional=bi, framework="textbook", reset_after=reset_after
        )
        assert count == _numel(ScratchGRU(x, h, layers, bidirectional=bi, variant=variant))
        assert count == _numel(FusedGRU(x, h, layers, bidirectional=bi, variant=variant))
    # torch has 6h biases per layer and direction, the framework-variant scratch GRU 4h
    difference = parameter_count("gru", x, h, num_layers=layers, bidirectional=bi) - parameter_count(
        "gru", x, h, num_layers=layers, bidirectional=bi, framework="textbook", reset_after=True
    )
    assert difference == 2 * h * layers * (2 if bi else 1)


def test_textbook_default_is_cho_and_equals_the_numpy_dict():
    assert parameter_count("gru", 28, 16, framework="textbook") == 3 * (28 * 16 + 16 * 16 + 16)
    for variant, reset_after in (("textbook", False), ("framework", True)):
        numpy_count = sum(p.size for p in init_gru_params(28, 16, variant=variant, seed=0).values())
        assert parameter_count("gru", 28, 16, framework="textbook", reset_after=reset_after) == numpy_count


@pytest.mark.parametrize("reset_after", [True, False, None])
@pytest.mark.parametrize("x, h, layers, bi", SHAPES[:2])
def test_keras_counts(reset_after, x, h, layers, bi):
    import keras

    stack = []
    for _ in range(layers):
        kwargs = {} if reset_after is None else {"reset_after": reset_after}
        layer = keras.layers.GRU(h, return_sequences=True, **kwargs)
        stack.append(keras.layers.Bidirectional(layer) if bi else layer)
    expected = keras.Sequential([keras.Input((None, x)), *stack]).count_params()
    assert (
        parameter_count("gru", x, h, num_layers=layers, bidirectional=bi, framework="keras", reset_after=reset_after)
        == expected
    )


def test_reset_after_errors():
    with pytest.raises(ValueError, match="torch.nn.GRU always applies the reset gate after"):
        parameter_count("gru", 3, 4, framework="torch", reset_after=False)
    with pytest.raises(ValueError, match="reset_after is a GRU setting"):
        parameter_count("lstm", 3, 4, reset_after=True)
