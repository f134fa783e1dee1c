"""Issue 13: failures lose nothing and say one line (items 1-8 and 10, through the CLI entry point).

Every bad input is driven through ``lstm_course.cli.main`` (or ``python -m lstm_course.cli`` where
the process needs a file-size limit or must run without root's power to write anywhere) and must
give exactly one line on stderr, no traceback, and a non-zero exit code.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from sentiment_fixtures import synthetic_rows, write_csv

from lstm_course.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "--data",
    "d2l",
    "--max-tokens",
    "1500",
    "--batch-size",
    "4",
    "--num-steps",
    "8",
    "--hidden",
    "8",
    "--epochs",
    "2",
    "--threads",
    "1",
    "--quiet",
]
SENTIMENT_TINY = [
    "--tokenizer",
    "char",
    "--epochs",
    "1",
    "--embed-size",
    "8",
    "--hidden-size",
    "8",
    "--batch-size",
    "32",
    "--max-len",
    "20",
    "--no-progress",
]
NO_CAPS = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def one_line_error(capsys, argv: list[str]) -> tuple[int, str]:
    """Run the CLI; assert a non-zero exit and exactly one line on stderr without a traceback."""
    threads = torch.get_num_threads()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    finally:
        torch.set_num_threads(threads)
    err = capsys.readouterr().err.strip()
    assert code != 0, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return code, err


def run_cli(
    args: list[str], *, prefix: list[str] = (), env: dict | None = None, before: str = ""
) -> subprocess.CompletedProcess:
    """``python -m lstm_course.cli ARGS`` in a fresh process; ``before`` runs after the imports."""
    code = (
        "import sys\nimport lstm_course.cli, lstm_course.torch.sentiment, lstm_course.torch.lm.train\n"
        f"{before}\nsys.exit(lstm_course.cli.main({args!r}))"
    )
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    return subprocess.run(
        [*prefix, sys.executable, "-c", code], capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=300
    )


def assert_one_line(result: subprocess.CompletedProcess) -> str:
    err = result.stderr.strip()
    assert result.returncode != 0, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


needs_setpriv = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="read-only folders are simulated by dropping root's capabilities",
)


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lm_run")
    threads = torch.get_num_threads()
    assert main(["lm", "train", *TINY, "--out", str(out)]) == 0
    torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="module")
def sentiment_model(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("sentiment_run")
    source = write_csv(work / "reviews.csv", synthetic_rows(200))
    out = work / "model.pt"
    threads = torch.get_num_threads()
    assert main(["sentiment", "train", "--data", str(source), *SENTIMENT_TINY, "--out", str(out)]) == 0
    torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="module")
def book() -> Path:
    from lstm_course.data import fetch

    return fetch("timemachine", progress=False)


@pytest.fixture
def reviews_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "reviews.csv", synthetic_rows(200))


def craft(source: Path, target: Path, change) -> Path:
    """A copy of checkpoint ``source`` edited by ``change(payload, metadata)``, which may return new metadata."""
    payload = torch.load(source, weights_only=True)
    metadata = json.loads(payload["metadata"])
    replaced = change(payload, metadata)
    payload["metadata"] = json.dumps(metadata if replaced is None else replaced)
    torch.save(payload, target)
    return target


# ----------------------------------------------------------------------------- 1. predict --out


def test_1_a_failed_csv_write_leaves_the_old_file_intact(sentiment_model, tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(f"这个手机真的好推荐{i}" for i in range(200)) + "\n", encoding="utf-8")
    old = tmp_path / "old.csv"
    old.write_text("line,label\n" + "1,正面\n" * 2000, encoding="utf-8")
    before = old.read_bytes()
    limit = "import resource\nresource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.RLIM_INFINITY))"
    result = run_cli(
        ["sentiment", "predict", "--checkpoint", str(sentiment_model), "--file", str(texts), "--out", str(old)],
        before=limit,
    )
    assert "cannot write" in assert_one_line(result)
    assert old.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ----------------------------------------------------------------------------- 2. the run folder is a unit


def test_2_a_failed_save_keeps_the_previous_run_whole(lm_run, tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    shutil.copytree(lm_run, run)
    before = {p.name: p.read_bytes() for p in run.iterdir()}

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("matplotlib.figure.Figure.savefig", disk_full)
    code, err = one_line_error(capsys, ["lm", "train", *TINY, "--seed", "1", "--out", str(run)])
    assert "No space left" in err and "unchanged" in err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_2_replacing_a_run_is_announced_and_writes_every_file(lm_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(lm_run, run)
    old = (run / "checkpoint.pt").read_bytes()
    assert main(["lm", "train", *TINY, "--seed", "2", "--out", str(run)]) == 0
    assert "already holds a run" in capsys.readouterr().out
    assert (run / "checkpoint.pt").read_bytes() != old
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "history.json", "history.png"]


# ----------------------------------------------------------------------------- 3. output checked first


def test_3_unwritable_outputs_are_refused_before_training(tmp_path, capsys, reviews_csv):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    a_dir = tmp_path / "dir"
    a_dir.mkdir()
    for argv in (
        ["lm", "train", *TINY, "--out", str(a_file / "run")],
        ["lm", "train", *TINY, "--out", str(a_file)],
        ["sentiment", "train", "--data", str(reviews_csv), *SENTIMENT_TINY, "--out", str(a_dir)],
        ["sentiment", "train", "--data", str(reviews_csv), *SENTIMENT_TINY, "--out", str(a_file / "model.pt")],
    ):
        threads = torch.get_num_threads()
        code = main(argv)
        torch.set_num_threads(threads)
        captured = capsys.readouterr()
        assert code == 2 and len(captured.err.strip().splitlines()) == 1, captured.err
        assert "data:" not in captured.out and "训练" not in captured.out  # nothing was trained


@needs_setpriv
def test_3_a_read_only_folder_is_refused_before_training(tmp_path, reviews_csv):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        for args in (
            ["lm", "train", *TINY, "--out", str(folder / "run")],
            ["sentiment", "train", "--data", str(reviews_csv), *SENTIMENT_TINY, "--out", str(folder / "model.pt")],
        ):
            result = run_cli(args, prefix=NO_CAPS)
            assert "Permission denied" in assert_one_line(result)
            assert result.returncode == 2 and "data:" not in result.stdout
    finally:
        folder.chmod(0o755)


# ----------------------------------------------------------------------------- 4. diverged runs


@pytest.mark.parametrize(
    "setting", [["--lr", "nan"], ["--lr", "inf"], ["--clip", "nan"], ["--clip", "inf"], ["--dropout", "nan"]]
)
def test_4_non_finite_settings_are_refused(tmp_path, capsys, setting):
    code, err = one_line_error(capsys, ["lm", "train", *TINY, *setting, "--out", str(tmp_path / "run")])
    assert code == 2 and setting[0] in err and not (tmp_path / "run").exists()


def test_4_a_loss_that_explodes_stops_with_the_step(tmp_path, capsys):
    code, err = one_line_error(
        capsys, ["lm", "train", *TINY, "--lr", "1e6", "--clip", "0", "--out", str(tmp_path / "run")]
    )
    assert code == 1 and "diverged" in err and "at step" in err and "--clip" in err
    for history in tmp_path.rglob("history.json"):
        json.loads(history.read_text(), parse_constant=lambda name: pytest.fail(f"{name} in history.json"))


def test_4_divergence_keeps_the_last_finite_epoch(tmp_path, capsys, monkeypatch):
    import lstm_course.torch.lm.train as lm_train

    calls = {"n": 0}
    real_step = lm_train.clipped_step
    steps_per_epoch = len(
        __import__("lstm_course.data.timemachine", fromlist=["x"]).load_time_machine(4, 8, max_tokens=1500)[0]
    )

    def poisoned_step(model, opt, loss, clip):
        real_step(model, opt, loss, clip)
        calls["n"] += 1
        if calls["n"] == steps_per_epoch + 2:  # in epoch 2
            with torch.no_grad():
                next(model.parameters()).fill_(float("nan"))

    monkeypatch.setattr(lm_train, "clipped_step", poisoned_step)
    run = tmp_path / "run"
    code, err = one_line_error(capsys, ["lm", "train", *TINY, "--out", str(run)])
    assert code == 1 and "epoch 2" in err and "weights of epoch 1 are saved" in err
    history = json.loads(
        (run / "history.json").read_text(), parse_constant=lambda name: pytest.fail(f"{name} in history.json")
    )
    assert len(history["train_ppl"]) == 1
    assert main(["lm", "generate", str(run), "--num-preds", "5"]) == 0


def test_4_a_checkpoint_of_nan_weights_is_refused(lm_run, tmp_path, capsys):
    def poison(payload, metadata):
        name = next(iter(payload["state_dict"]))
        payload["state_dict"][name] = torch.full_like(payload["state_dict"][name], float("nan"))

    bad = craft(lm_run / "checkpoint.pt", tmp_path / "nan.pt", poison)
    code, err = one_line_error(capsys, ["lm", "generate", str(bad)])
    assert "NaN" in err


# ----------------------------------------------------------------------------- 5. profile, sentiment lr


@pytest.mark.parametrize("group", ["lm", "sentiment"])
def test_5_an_unknown_profile_is_one_line_in_both_commands(group, tmp_path, capsys, monkeypatch, reviews_csv):
    monkeypatch.setenv("LSTM_COURSE_PROFILE", "bogus")
    args = TINY if group == "lm" else ["--data", str(reviews_csv), *SENTIMENT_TINY]
    code, err = one_line_error(capsys, [group, "train", *args, "--out", str(tmp_path / "out.pt")])
    assert code == 2 and "LSTM_COURSE_PROFILE" in err


@pytest.mark.parametrize("setting", [["--lr", "nan"], ["--lr", "inf"], ["--dropout", "nan"]])
def test_5_sentiment_refuses_non_finite_settings(tmp_path, capsys, reviews_csv, setting):
    code, err = one_line_error(
        capsys,
        ["sentiment", "train", "--data", str(reviews_csv), *SENTIMENT_TINY, *setting, "--out", str(tmp_path / "m.pt")],
    )
    assert code == 2 and setting[0] in err


# ----------------------------------------------------------------------------- 6. caches


def test_6_a_cache_that_is_a_file_is_one_line(tmp_path, capsys, monkeypatch):
    a_file = tmp_path / "cache"
    a_file.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(a_file))
    monkeypatch.delenv("LSTM_COURSE_DATA", raising=False)
    code, err = one_line_error(capsys, ["data", "fetch", "timemachine", "--quiet"])
    assert code == 1 and str(a_file) in err and "XDG_CACHE_HOME" in err


@needs_setpriv
@pytest.mark.parametrize("corrupted", [False, True])
def test_6_a_read_only_cache_is_one_line(tmp_path, corrupted):
    cache = tmp_path / "xdg"
    (cache / "lstm_course").mkdir(parents=True)
    if corrupted:
        (cache / "lstm_course" / "timemachine.txt").write_text("not the book")
    (cache / "lstm_course").chmod(0o555)
    try:
        env = {"XDG_CACHE_HOME": str(cache), "LSTM_COURSE_DATA": ""}
        err = assert_one_line(run_cli(["data", "fetch", "timemachine", "--quiet"], prefix=NO_CAPS, env=env))
    finally:
        (cache / "lstm_course").chmod(0o755)
    assert str(cache / "lstm_course") in err
    assert ("cannot be deleted" in err) == corrupted


def test_6_the_token_cache_is_optional(tmp_path, capsys, monkeypatch, reviews_csv, recwarn):
    a_file = tmp_path / "cache"
    a_file.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(a_file))
    monkeypatch.setattr("lstm_course.data.review_tokens._warned_cache_folders", set())
    threads = torch.get_num_threads()
    args = ["sentiment", "train", "--data", str(reviews_csv), *SENTIMENT_TINY]
    args[args.index("char")] = "word"  # jieba: the tokens would be cached
    code = main([*args, "--out", str(tmp_path / "model.pt")])
    torch.set_num_threads(threads)
    capsys.readouterr()
    assert code == 0 and (tmp_path / "model.pt").is_file()
    assert [str(w.message) for w in recwarn if "token cache" in str(w.message)] == [
        f"the token cache {a_file / 'lstm_course' / 'reviews'} is not writable (Not a directory); tokenising "
        "without it (set XDG_CACHE_HOME to a writable folder to cache jieba's work)"
    ]
    code, message = one_line_error(capsys, args)  # the default checkpoint lives in that cache
    assert "give --out" in message


# ----------------------------------------------------------------------------- 7. bounded sizes


def test_7_threads_are_bounded_by_the_machine(tmp_path, capsys):
    code, err = one_line_error(capsys, ["lm", "train", *TINY, "--threads", "100000", "--out", str(tmp_path)])
    assert f"at most {os.cpu_count()}" in err


def test_7_a_model_too_large_is_refused_before_it_is_built(tmp_path, capsys):
    start = time.perf_counter()
    code, err = one_line_error(capsys, ["lm", "train", *TINY, "--hidden", "1000000000", "--out", str(tmp_path / "run")])
    assert code == 2 and "too large" in err and "--hidden-size 1000000000" in err
    code, err = one_line_error(capsys, ["lm", "train", *TINY, "--hidden", "200000", "--out", str(tmp_path / "run")])
    assert code == 2 and "GiB" in err and "--hidden-size 200000" in err
    assert time.perf_counter() - start < 60  # nothing of that size was allocated


def test_7_checkpoint_configs_are_checked_against_the_tensors(lm_run, sentiment_model, tmp_path, capsys):
    def huge_lm(payload, metadata):
        metadata["config"]["hidden_size"] = 3_000_000

    def huge_sentiment(payload, metadata):
        metadata["model_config"]["hidden_size"] = 3_000_000

    bad = craft(lm_run / "checkpoint.pt", tmp_path / "huge.pt", huge_lm)
    code, err = one_line_error(capsys, ["lm", "generate", str(bad)])
    assert "do not fit the stored configuration" in err
    bad = craft(sentiment_model, tmp_path / "huge_s.pt", huge_sentiment)
    code, err = one_line_error(capsys, ["sentiment", "predict", "--checkpoint", str(bad), "好"])
    assert "do not fit the stored configuration" in err


# ----------------------------------------------------------------------------- 8. more one-liners


@pytest.mark.parametrize(
    "argv",
    [["lm", "ngram", "--batch-size", "0"], ["lm", "ngram", "--num-steps", "-1"], ["lm", "ngram", "--max-order", "0"]],
)
def test_8_ngram_sizes(capsys, argv):
    assert one_line_error(capsys, argv)[0] == 2


def test_8_generate_temperature_nan(lm_run, capsys):
    code, err = one_line_error(capsys, ["lm", "generate", str(lm_run), "--temperature", "nan"])
    assert "--temperature" in err


def _state_dict_string(payload, metadata):
    payload["state_dict"] = "not tensors"


def _metadata_list(payload, metadata):
    return [1, 2, 3]


def _version_text(payload, metadata):
    metadata["version"] = "9"


@pytest.mark.parametrize(
    "change, message",
    [
        (_state_dict_string, "state_dict is a str"),
        (_metadata_list, "expected an object"),
        (_version_text, "not an int"),
    ],
)
def test_8_crafted_checkpoints(lm_run, sentiment_model, tmp_path, capsys, change, message):
    bad = craft(lm_run / "checkpoint.pt", tmp_path / "lm.pt", change)
    assert message in one_line_error(capsys, ["lm", "generate", str(bad)])[1]
    bad = craft(sentiment_model, tmp_path / "s.pt", change)
    assert message in one_line_error(capsys, ["sentiment", "predict", "--checkpoint", str(bad), "好"])[1]


@pytest.mark.parametrize("max_len", [-5, 0, "40", 2.5])
def test_8_sentiment_checkpoint_max_len(sentiment_model, tmp_path, capsys, max_len):
    def change(payload, metadata):
        metadata["max_len"] = max_len

    bad = craft(sentiment_model, tmp_path / "s.pt", change)
    code, err = one_line_error(capsys, ["sentiment", "predict", "--checkpoint", str(bad), "好"])
    assert "max_len" in err


# ----------------------------------------------------------------------------- 10. smaller


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_10_a_bad_data_folder_is_warned_about_once_in_one_line(book, tmp_path, kind):
    folder = tmp_path / "data"
    if kind == "file":
        folder.write_text("x")
    (tmp_path / "xdg" / "lstm_course").mkdir(parents=True)
    shutil.copy(book, tmp_path / "xdg" / "lstm_course" / "timemachine.txt")
    env = {"LSTM_COURSE_DATA": str(folder), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    args = ["data", "fetch", "timemachine"]
    result = run_cli(args, env=env, before=f"lstm_course.cli.main({args!r})")  # fetched twice
    err = result.stderr.strip().splitlines()
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 2
    assert len(err) == 1 and err[0].startswith("lstm-course: warning: LSTM_COURSE_DATA="), err
    assert ("is a file" if kind == "file" else "does not exist") in err[0]


def test_10_file_arguments_that_are_folders(sentiment_model, tmp_path, capsys):
    err = one_line_error(
        capsys, ["sentiment", "predict", "--checkpoint", str(sentiment_model), "--file", str(tmp_path)]
    )[1]
    assert "is a directory" in err
    err = one_line_error(capsys, ["sentiment", "train", "--data", str(tmp_path), *SENTIMENT_TINY])[1]
    assert "is a directory" in err


def test_10_stale_part_files_are_removed(book, tmp_path, capsys, monkeypatch):
    cache = tmp_path / "xdg" / "lstm_course"
    cache.mkdir(parents=True)
    shutil.copy(book, cache / "timemachine.txt")
    stale, fresh = cache / ".timemachine.txt.abc.part", cache / ".timemachine.txt.def.part"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    hours_ago = time.time() - 2 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("LSTM_COURSE_DATA", raising=False)
    assert main(["data", "fetch", "timemachine", "--quiet"]) == 0
    capsys.readouterr()
    assert not stale.exists() and fresh.exists()


def test_10_a_malicious_checkpoint_gets_no_unsafe_advice(tmp_path, capsys):
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    bad = tmp_path / "evil.pt"
    torch.save({"format": "lstm_course.lm", "metadata": "{}", "state_dict": Exploit()}, bad)
    for argv in (["lm", "generate", str(bad)], ["sentiment", "predict", "--checkpoint", str(bad), "好"]):
        err = one_line_error(capsys, argv)[1]
        assert "weights_only" not in err and "arbitrary code" in err and "system" in err


def test_10_data_list_says_where_each_copy_is(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("LSTM_COURSE_DATA", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "timemachine.txt").write_text("not the book")
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert f"provided copy: {tmp_path / 'data' / 'timemachine.txt'} (corrupted" in out
    assert "no local copy yet" in out


def test_10_generated_text_never_contains_unk(lm_run, tmp_path, capsys):
    def favour_unk(payload, metadata):
        payload["state_dict"]["output.bias"][0] = 1e4  # index 0 is <unk>

    bad = craft(lm_run / "checkpoint.pt", tmp_path / "unk.pt", favour_unk)
    for extra in ([], ["--temperature", "1.0"]):
        assert main(["lm", "generate", str(bad), "--num-preds", "20", *extra]) == 0
        out = capsys.readouterr().out.rstrip("\n")
        assert "<unk>" not in out and len(out) == len("time traveller") + 20
