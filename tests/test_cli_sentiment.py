"""``lstm-course sentiment``: train/evaluate/predict on a tiny synthetic corpus, bad inputs, batch and
interactive prediction."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from sentiment_fixtures import synthetic_rows, write_csv

from lstm_course.cli import main


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli_sentiment")


@pytest.fixture(scope="module")
def checkpoint(workdir) -> Path:
    """A small character-level model trained through the CLI itself (a few seconds)."""
    source = write_csv(workdir / "reviews.csv", synthetic_rows(400))
    out = workdir / "model.pt"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    env_before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(workdir / "xdg")
    try:
        code = main(
            [
                "sentiment",
                "train",
                "--data",
                str(source),
                "--tokenizer",
                "char",
                "--epochs",
                "8",
                "--embedding-dim",
                "16",
                "--hidden-size",
                "16",
                "--lr",
                "0.01",
                "--batch-size",
                "16",
                "--max-len",
                "40",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
    finally:
        torch.set_num_threads(threads)
        if env_before is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = env_before
    assert code == 0 and out.is_file()
    return out


def _one_line_error(capsys, argv: list[str], code: int = 2) -> str:
    try:
        result = main(argv)
    except SystemExit as exc:  # argparse errors
        result = exc.code
    err = capsys.readouterr().err.strip()
    assert result == code, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_train_reports_and_predict_prints_label_and_confidence(checkpoint, capsys):
    assert main(["sentiment", "predict", "--checkpoint", str(checkpoint), "这个手机真的好推荐", "东西差失望"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("正面  置信度 ") and lines[1].startswith("负面  置信度 ")
    assert 0.5 <= float(lines[0].split()[2]) <= 1.0


def test_evaluate_rebuilds_the_held_out_split(checkpoint, capsys):
    assert main(["sentiment", "evaluate", "--checkpoint", str(checkpoint), "--mistakes", "1"]) == 0
    out = capsys.readouterr().out
    assert "测试集评估" in out and "95% 置信区间" in out and "类别" in out
    accuracy = float(out.split("准确率 (accuracy) ")[1].split("，")[0])
    assert accuracy >= 0.8


def test_repeated_checkpoints_form_an_ensemble(checkpoint, capsys):
    args = ["--checkpoint", str(checkpoint), "--checkpoint", str(checkpoint)]
    assert main(["sentiment", "evaluate", *args, "--mistakes", "0"]) == 0
    out = capsys.readouterr().out
    single = out.split("单个模型的准确率: ")[1].splitlines()[0].split("，")
    assert out.startswith("集成 2 个模型") and single[0] == single[1]
    assert f"准确率 (accuracy) {single[0]}" in out  # identical members: the ensemble equals each member
    assert main(["sentiment", "predict", *args, "好推荐"]) == 0
    assert capsys.readouterr().out.startswith("正面")


def test_bad_inputs_give_one_line_and_nonzero_exit(checkpoint, workdir, capsys):
    ckpt = str(checkpoint)
    assert "no model at" in _one_line_error(
        capsys, ["sentiment", "predict", "--checkpoint", str(workdir / "missing.pt"), "好"]
    )
    junk = workdir / "junk.pt"
    junk.write_bytes(b"\x00garbage")
    assert "not a readable checkpoint" in _one_line_error(
        capsys, ["sentiment", "predict", "--checkpoint", str(junk), "好"]
    )
    assert "text 2 is empty" in _one_line_error(capsys, ["sentiment", "predict", "--checkpoint", ckpt, "好", "  "])
    assert "file not found" in _one_line_error(
        capsys, ["sentiment", "predict", "--checkpoint", ckpt, "--file", str(workdir / "nope.txt")]
    )
    assert "--out only applies" in _one_line_error(
        capsys, ["sentiment", "predict", "--checkpoint", ckpt, "好", "--out", "x.csv"]
    )
    assert "positive integer" in _one_line_error(capsys, ["sentiment", "train", "--epochs", "0"])
    assert "invalid choice" in _one_line_error(capsys, ["sentiment", "train", "--tokenizer", "bpe"])
    assert "--user-dict only works" in _one_line_error(
        capsys, ["sentiment", "train", "--tokenizer", "char", "--user-dict", ckpt]
    )
    assert "file not found" in _one_line_error(capsys, ["sentiment", "train", "--data", "no/such.csv"])


def test_batch_predict_writes_one_row_per_input_line(checkpoint, workdir, capsys):
    lines = [
        "这个手机真的好推荐".encode(),
        b"\xff\xfe bad bytes",
        b"",
        "\ufeff东西差失望".encode(),
        b"   ",
        "𠀀𠀁".encode(),
        "物流很快质量好\r".encode(),
    ]
    source = workdir / "reviews.txt"
    source.write_bytes(b"\n".join(lines) + b"\n")
    out = workdir / "preds.csv"
    code = main(["sentiment", "predict", "--checkpoint", str(checkpoint), "--file", str(source), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1  # some lines could not be read: the caller must notice
    assert "line 2: not valid UTF-8" in err
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["line"]) for r in rows] == list(range(1, len(lines) + 1))
    assert [r["label"] for r in rows] == ["正面", "", "", "负面", "", rows[5]["label"], rows[6]["label"]]
    assert rows[1]["note"].startswith("invalid UTF-8") and rows[2]["note"] == rows[4]["note"] == "empty line"
    assert rows[5]["note"] == "all tokens unknown" and rows[5]["label"] in ("正面", "负面")
    assert rows[6]["text"] == "物流很快质量好" and rows[3]["text"] == "东西差失望"
    good = workdir / "good.txt"
    good.write_text("好推荐\n差\n", encoding="utf-8")
    assert main(["sentiment", "predict", "--checkpoint", str(checkpoint), "--file", str(good)]) == 0
    printed = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(printed) == 2


def _interactive(checkpoint: Path, stdin: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "lstm_course.cli", "sentiment", "predict", "--checkpoint", str(checkpoint)],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


def test_interactive_loop_hints_predicts_and_quits(checkpoint):
    result = _interactive(checkpoint, "这个手机真的好推荐\n\n   \n东西差失望\nquit\n这行不会被读到\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("请输入评论文字") == 2
    predictions = [line for line in result.stdout.split("评论> ") if "置信度" in line]
    assert len(predictions) == 2
    assert predictions[0].startswith("正面") and predictions[1].startswith("负面")
    assert "这行不会被读到" not in result.stdout and result.stderr == ""


def test_interactive_loop_ends_on_eof(checkpoint):
    result = _interactive(checkpoint, "好推荐\n")  # no q: Ctrl-D / end of input
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("置信度") == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "flags",
    [["--embedding-dim", "7", "--hidden-size", "5"], ["--embed-size", "7", "--hidden", "5"]],
    ids=["new names", "old names"],
)
def test_old_size_flags_are_aliases_of_the_new_ones(flags):
    from lstm_course.cli import build_parser

    args = build_parser().parse_args(["sentiment", "train", *flags])
    assert (args.embedding_dim, args.hidden_size) == (7, 5)
