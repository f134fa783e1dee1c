"""``lstm-course seq2seq``: train/evaluate/translate on a tiny task, one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from lstm_course.cli import main


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli_seq2seq") / "model.pt"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    profile = os.environ.get("LSTM_COURSE_PROFILE")
    os.environ["LSTM_COURSE_PROFILE"] = "quick"
    try:
        code = main(
            [
                "seq2seq",
                "train",
                "--train-digits",
                "2",
                "--epochs",
                "2",
                "--hidden-size",
                "16",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
    finally:
        torch.set_num_threads(threads)
        if profile is None:
            os.environ.pop("LSTM_COURSE_PROFILE", None)
        else:
            os.environ["LSTM_COURSE_PROFILE"] = profile
    assert code == 0 and out.is_file()
    return out


def test_translate_and_evaluate(checkpoint, capsys):
    assert main(["seq2seq", "translate", "12", "507", "--checkpoint", str(checkpoint)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("12\t") and lines[1].startswith("507\t")
    assert "超过训练时的 2 位" in lines[1]
    assert main(["seq2seq", "evaluate", "--checkpoint", str(checkpoint), "--split", "long", "--beam", "3"]) == 0
    out = capsys.readouterr().out
    assert "完全匹配率" in out and "束搜索（宽度 3）" in out and " 3 位数" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["translate", "12a"], "cannot read: 'a'"),
        (["translate", "１２"], "cannot read: '１'"),
        (["translate", ""], "is empty"),
    ],
)
def test_bad_input_is_one_line(checkpoint, capsys, argv, message):
    assert main(["seq2seq", *argv, "--checkpoint", str(checkpoint)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_missing_and_damaged_checkpoint(tmp_path, capsys):
    assert main(["seq2seq", "translate", "12", "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "no model at" in capsys.readouterr().err
    bad = tmp_path / "bad.pt"
    bad.write_text("hello")
    assert main(["seq2seq", "evaluate", "--checkpoint", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a readable checkpoint" in err and len(err.splitlines()) == 1


def test_argument_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["seq2seq", "evaluate", "--beam", "0"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "positive integer" in err
    assert main(["seq2seq", "train", "--lr", "-1"]) == 2
    assert "--lr must be positive" in capsys.readouterr().err
