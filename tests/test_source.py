"""lstm_course.source.block cuts one statement with its body out of a function's source."""

import pytest

from lstm_course.source import block


def _example(values):
    total = 0
    for value in values:
        if value > 0:
            total += value

        total -= 1
    return total


def test_block_is_the_loop_with_its_body_and_nothing_after():
    text = block(_example, "for value in")
    assert text.splitlines()[0] == "for value in values:"
    assert "total -= 1" in text and "return total" not in text
    # what is cut out is code that compiles and runs on its own
    scope = {"values": [2, -1, 3], "total": 0}
    exec(compile(text, "<block>", "exec"), scope)
    assert scope["total"] == _example([2, -1, 3])


def test_block_of_the_lm_training_loop_holds_detach_and_clipping():
    pytest.importorskip("torch")
    from lstm_course.torch.lm.train import train_lm

    text = block(train_lm, "for X, Y in train_iter")
    assert "detach_state" in text and "clipped_step" in text and "lm_loss" in text


def test_block_names_a_missing_header():
    with pytest.raises(ValueError, match="no line of _example contains 'while'"):
        block(_example, "while")
