"""``lstm-course lm``: train, generate, ngram; plain help; one-line errors with exit code 2."""

from __future__ import annotations

import json

import pytest
import torch

from lstm_course.cli import main

TINY = [
    "--data",
    "d2l",
    "--max-tokens",
    "1500",
    "--batch-size",
    "4",
    "--num-steps",
    "8",
    "--hidden-size",
    "16",
    "--epochs",
    "2",
    "--threads",
    "1",
    "--quiet",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm")
    previous = torch.get_num_threads()
    assert main(["lm", "train", *TINY, "--impl", "fused", "--out", str(out)]) == 0
    torch.set_num_threads(previous)
    return out


def test_train_writes_checkpoint_history_and_plot(run_dir, capsys):
    assert {p.name for p in run_dir.iterdir()} >= {"checkpoint.pt", "history.json", "history.png"}
    history = json.loads((run_dir / "history.json").read_text(encoding="utf-8"))
    assert len(history["train_ppl"]) == 2 and history["settings"]["impl"] == "fused"
    assert history["val_ppl"] == []  # the d2l setting has no held-out text


def test_generate_prints_the_prefix_and_continuation(run_dir, capsys):
    assert main(["lm", "generate", str(run_dir), "--prefix", "time", "--num-preds", "12"]) == 0
    out = capsys.readouterr().out.rstrip("\n")
    assert out.startswith("time") and len(out) == 16 and "\n" not in out
    assert (
        main(
            [
                "lm",
                "generate",
                str(run_dir / "checkpoint.pt"),
                "--prefix",
                "The Time!",
                "--normalize",
                "--temperature",
                "0.8",
                "--top-k",
                "3",
                "--samples",
                "2",
                "--num-preds",
                "5",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.rstrip("\n").split("\n")
    assert len(lines) == 2 and all(line.startswith("the time ") for line in lines)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["generate", "{run}", "--prefix", "Time"], "never saw: 'T'; pass --normalize"),
        (["generate", "{run}", "--num-preds", "0"], "--num-preds must be positive"),
        (["generate", "{run}", "--temperature", "-1"], "--temperature must be >= 0"),
        (["generate", "{run}", "--top-k", "3"], "--top-k applies to sampling"),
        (["generate", "{run}/missing"], "checkpoint not found"),
        (["train", "--epochs", "0"], "--epochs must be positive"),
        (["train", "--val-fraction", "1.5"], "--val-fraction must be in (0, 1)"),
        (["train", "--plateau-decay", "0.5", *TINY], "--plateau-decay needs validation text"),
        (["train", "--device", "cuda:7", *TINY], "--device cuda:7"),
        (["train", "--cell", "rnn", "--impl", "fused", *TINY], "no 'fused' implementation of 'rnn'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(run_dir, capsys, argv, message):
    if torch.cuda.is_available() and "cuda:7" in argv:
        pytest.skip("a CUDA machine may have a device 7")
    argv = [a.replace("{run}", str(run_dir)) for a in argv]
    assert main(["lm", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lstm-course: error:") and message in err and "\n" not in err


def test_train_on_the_book_reports_validation_and_keeps_the_best_epoch(tmp_path, capsys):
    argv = [
        "lm",
        "train",
        "--data",
        "book",
        "--val-fraction",
        "0.02",
        "--batch-size",
        "8",
        "--num-steps",
        "16",
        "--hidden-size",
        "8",
        "--epochs",
        "1",
        "--threads",
        "1",
        "--quiet",
        "--optimizer",
        "adam",
        "--plateau-decay",
        "0.5",
        "--embedding-dim",
        "4",
        "--out",
        str(tmp_path),
    ]
    previous = torch.get_num_threads()
    assert main(argv) == 0
    torch.set_num_threads(previous)
    out = capsys.readouterr().out
    assert "validation perplexity" in out and "whose weights are saved" in out
    history = json.loads((tmp_path / "history.json").read_text(encoding="utf-8"))
    assert len(history["val_ppl"]) == 1 and history["settings"]["plateau_decay"] == 0.5
    assert history["settings"]["hidden_size"] == 8 and history["settings"]["embedding_dim"] == 4


@pytest.mark.parametrize(
    "flags",
    [["--hidden-size", "12", "--embedding-dim", "5"], ["--hidden", "12", "--embedding", "5"]],
    ids=["new names", "old names (aliases)"],
)
def test_size_flags_have_one_name_and_keep_the_old_one_as_alias(flags):
    from lstm_course.cli import build_parser

    args = build_parser().parse_args(["lm", "train", *flags])
    assert (args.hidden_size, args.embedding_dim) == (12, 5)
    assert not hasattr(args, "hidden") and not hasattr(args, "embedding")


def test_help_names_the_new_flags(capsys):
    from lstm_course.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["lm", "train", "--help"])
    out = capsys.readouterr().out
    assert "--hidden-size" in out and "--embedding-dim" in out


def test_corrupt_checkpoint_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "checkpoint.pt").write_bytes(b"garbage")
    assert main(["lm", "generate", str(tmp_path)]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["lm", "--help"], ["lm", "train", "--help"], ["lm", "generate", "--help"]])
def test_help_is_plain(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: lstm-course lm" in out and "Traceback" not in out


def test_train_help_explains_the_two_settings(capsys):
    with pytest.raises(SystemExit):
        main(["lm", "train", "--help"])
    out = capsys.readouterr().out
    for words in ("--data", "first", "held out", "--impl", "per-gate", "--random-iter"):
        assert words in out


def test_ngram_reports_every_order(capsys):
    assert main(["lm", "ngram", "--max-order", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and sum("<- best" in line for line in lines) == 1
    ppl = [float(line.split("perplexity")[1].split()[0]) for line in lines]
    assert ppl[0] > ppl[1] > ppl[2] > 1
