"""``lstm-course sentiment pretrain`` and ``sentiment train --pretrained``: a tiny run end to end,
and one-line errors for a missing, corrupt or mismatched language-model checkpoint."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from sentiment_fixtures import synthetic_rows, write_csv

from lstm_course.cli import main
from lstm_course.torch import sentiment as S
from lstm_course.torch.sentiment import pretrain as P

COMMON = ["--tokenizer", "char", "--max-len", "30", "--no-progress"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli_transfer")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder / "xdg")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield folder
    torch.set_num_threads(threads)
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(scope="module")
def source(workdir) -> Path:
    return write_csv(workdir / "reviews.csv", synthetic_rows(200))


@pytest.fixture(scope="module")
def lm_path(workdir, source) -> Path:
    out = workdir / "lm.pt"
    argv = ["sentiment", "pretrain", "--data", str(source), *COMMON, "--epochs", "1"]
    argv += ["--embedding-dim", "8", "--hidden-size", "8", "--out", str(out)]
    assert main(argv) == 0
    return out


def _one_line_error(capsys, argv: list[str], code: int = 2) -> str:
    try:
        result = main(argv)
    except SystemExit as exc:
        result = exc.code
    err = capsys.readouterr().err.strip()
    assert result == code, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_pretrain_then_train_pretrained_saves_a_unidirectional_classifier(lm_path, source, workdir, capsys):
    assert P.load_lm(lm_path).model.config.hidden_size == 8
    out = workdir / "clf.pt"
    argv = ["sentiment", "train", "--data", str(source), *COMMON, "--epochs", "2"]
    assert main([*argv, "--pretrained", str(lm_path), "--out", str(out)]) == 0
    checkpoint = S.load_checkpoint(out)
    assert not checkpoint.model.config.bidirectional and checkpoint.model.config.hidden_size == 8
    assert checkpoint.extra["pretrained"] == str(lm_path)
    assert checkpoint.extra["fine_tune"] == "ulmfit"
    assert len(checkpoint.extra["history"]["valid_acc"]) == 2


def test_plain_fine_tuning_starts_from_the_language_model(lm_path, source, workdir):
    out = workdir / "plain.pt"
    argv = ["sentiment", "train", "--data", str(source), *COMMON, "--epochs", "1", "--lr", "1e-9"]
    assert main([*argv, "--pretrained", str(lm_path), "--fine-tune", "plain", "--out", str(out)]) == 0
    checkpoint = S.load_checkpoint(out)
    assert checkpoint.extra["fine_tune"] == "plain"
    lm = P.load_lm(lm_path).model
    # a learning rate of 1e-9 leaves the transferred LSTM where the language model put it
    torch.testing.assert_close(checkpoint.model.lstm.weight_hh_l0, lm.lstm.weight_hh_l0, rtol=0, atol=1e-6)


def test_fine_tune_without_pretrained_is_a_one_line_error(source, workdir, capsys):
    argv = ["sentiment", "train", "--data", str(source), *COMMON, "--fine-tune", "plain"]
    assert "--pretrained" in _one_line_error(capsys, [*argv, "--out", str(workdir / "y.pt")])


def test_bad_pretrained_checkpoints_are_one_line_errors(lm_path, source, workdir, capsys):
    train = ["sentiment", "train", "--data", str(source), *COMMON, "--epochs", "1", "--out", str(workdir / "x.pt")]
    err = _one_line_error(capsys, [*train, "--pretrained", str(workdir / "missing.pt")])
    assert "--pretrained" in err and "not found" in err
    (workdir / "corrupt.pt").write_bytes(b"\x00garbage")
    assert "not a readable checkpoint" in _one_line_error(capsys, [*train, "--pretrained", str(workdir / "corrupt.pt")])
    other = [*train[:-2], "--train-size", "20", "--out", str(workdir / "x.pt")]  # another split, another vocabulary
    assert "vocabulary mismatch" in _one_line_error(capsys, [*other, "--pretrained", str(lm_path)])
    err = _one_line_error(capsys, [*train, "--pretrained", str(lm_path), "--hidden-size", "16"])
    assert "--hidden-size" in err
    assert not (workdir / "x.pt").exists()  # nothing half-written


def test_pretrain_needs_out_and_a_positive_lr(source, workdir, capsys):
    assert "--out" in _one_line_error(capsys, ["sentiment", "pretrain", "--data", str(source)])
    argv = ["sentiment", "pretrain", "--data", str(source), "--lr", "0", "--out", str(workdir / "y.pt")]
    assert "--lr" in _one_line_error(capsys, argv)
