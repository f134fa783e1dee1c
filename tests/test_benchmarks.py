"""The throughput benchmark: FLOP count, timing helper, results schema, ratios, skipped rows, files.

Tiny sizes and one timed repeat: these tests check the bookkeeping, never how fast anything is.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

import pytest

from lstm_course import params
from lstm_course.experiments import benchmark, speed, speed_impls
from lstm_course.experiments.benchmark import measure, run_benchmark
from lstm_course.experiments.speed_impls import BenchConfig, Impl

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `benchmarks/` lives at the top of the repository, outside the package
    sys.path.insert(0, str(ROOT))

from benchmarks import report, run  # noqa: E402

TINY = BenchConfig(batch=2, steps=3, hidden_size=4, warmup=1, repeats=1, number=1, rounds=2)
ROW_KEYS = {
    "id",
    "label",
    "framework",
    "cell",
    "baseline",
    "status",
    "note",
    "train_seconds",
    "infer_seconds",
    "train_tokens_per_s",
    "infer_tokens_per_s",
    "train_gflops",
    "infer_gflops",
    "train_peak_fraction",
    "infer_peak_fraction",
    "ratio_baseline_train",
    "ratio_baseline_infer",
    "ratio_overall_train",
    "ratio_overall_infer",
}


@pytest.fixture(scope="module")
def results():
    return run_benchmark(TINY, ["torch-nn-lstm", "torch-fused-lstm", "numpy-lstm", "torch-nn-gru"])


def test_flops_per_token_is_2_g_h_x_plus_h():
    assert params.flops_per_token("lstm", 28, 256) == 8 * 256 * (28 + 256)
    assert params.flops_per_token("lstm", 28, 256, train=True) == 3 * 8 * 256 * (28 + 256)
    assert params.flops_per_token("gru", 10, 5) == 6 * 5 * 15
    assert params.flops_per_token("rnn", 10, 5) == 2 * 5 * 15
    with pytest.raises(ValueError, match="cell"):
        params.flops_per_token("transformer", 10, 5)
    with pytest.raises(ValueError, match="positive"):
        params.flops_per_token("lstm", 0, 5)


def test_time_call_counts_calls_and_validates():
    calls = []
    seconds = speed.time_call(lambda: calls.append(1), warmup=2, repeats=3, number=4)
    assert len(seconds) == 3 and all(s >= 0 for s in seconds)
    assert len(calls) == 2 + 3 * 4
    with pytest.raises(ValueError, match="repeats"):
        speed.time_call(lambda: None, repeats=0)


def test_results_schema(results):
    assert results["schema"] == speed.SCHEMA_VERSION
    env = results["environment"]
    assert {"date", "cpu", "cpu_count", "device", "versions", "load_average"} <= set(env)
    assert {"numpy", "torch", "lstm_course"} <= set(env["versions"])
    assert results["threads"]["torch"] == 1
    assert results["config"]["vocab"] == 28 and results["config"]["tokens_per_step"] == 2 * 3
    assert results["peak"]["gflops"] > 0
    assert [r["id"] for r in results["rows"]] == [
        "torch-nn-lstm",
        "torch-fused-lstm",
        "numpy-lstm",
        "torch-nn-gru",
    ]  # table order, not request order
    for row in results["rows"]:
        assert row["status"] == "ok", row
        assert ROW_KEYS <= set(row)
        assert len(row["train_seconds"]) == len(row["infer_seconds"]) == TINY.repeats * TINY.rounds
    json.loads(json.dumps(results))  # JSON-serialisable as it is


def test_derived_columns_are_consistent(results):
    rows = {r["id"]: r for r in results["rows"]}
    peak, tokens = results["peak"]["gflops"], results["config"]["tokens_per_step"]
    ref = rows["torch-nn-lstm"]
    for row in rows.values():
        for mode in ("train", "infer"):
            assert math.isclose(row[f"{mode}_tokens_per_s"], tokens / statistics.median(row[f"{mode}_seconds"]))
            flops = params.flops_per_token(row["cell"], 28, TINY.hidden_size, train=mode == "train")
            assert math.isclose(row[f"{mode}_gflops"], row[f"{mode}_tokens_per_s"] * flops / 1e9)
            assert math.isclose(row[f"{mode}_peak_fraction"], row[f"{mode}_gflops"] / peak)
            assert math.isclose(row[f"ratio_overall_{mode}"], row[f"{mode}_tokens_per_s"] / ref[f"{mode}_tokens_per_s"])
            base = rows[row["baseline"]]
            assert math.isclose(
                row[f"ratio_baseline_{mode}"], row[f"{mode}_tokens_per_s"] / base[f"{mode}_tokens_per_s"]
            )
    assert rows["torch-nn-gru"]["baseline"] == "torch-nn-gru"
    assert rows["torch-nn-gru"]["ratio_baseline_train"] == 1.0
    assert rows["numpy-lstm"]["baseline"] == "torch-nn-lstm"


def test_missing_implementation_is_a_skipped_row_not_a_crash():
    data = speed_impls.load_batches(TINY)
    missing = Impl(
        "torch-missing",
        "缺失",
        "torch",
        "lstm",
        "torch-nn-lstm",
        speed_impls._scratch("lstm_course.torch.no_such_module", "NoSuchLSTM"),
    )
    row = measure(missing, TINY, data)
    assert row["status"] == "skipped" and "not available" in row["reason"]
    assert "no_such_module" in row["reason"]
    no_class = Impl(
        "torch-missing-class",
        "缺失类",
        "torch",
        "lstm",
        "torch-nn-lstm",
        speed_impls._scratch("lstm_course.torch.lstm", "NoSuchLSTM"),
    )
    assert measure(no_class, TINY, data)["status"] == "skipped"

    def broken(config, data):
        raise RuntimeError("kaputt\nsecond line")

    failed = measure(Impl("broken", "坏的", "torch", "lstm", "torch-nn-lstm", broken), TINY, data)
    assert failed["status"] == "failed" and failed["reason"] == "RuntimeError: kaputt"
    rows = speed.add_ratios([row, failed])
    assert all(r["ratio_overall_train"] is None and r["ratio_baseline_infer"] is None for r in rows)
    table = speed.results_table({"rows": rows})
    assert "未测：not available" in table and "失败：RuntimeError: kaputt" in table


def test_markdown_table_renders(results):
    text = speed.results_markdown(results)
    assert text.startswith("# LSTM throughput on cpu")
    for header in ("训练 词元/秒", "推理 词元/秒", "训练 ÷ nn.LSTM", "训练 占峰值"):
        assert header in text
    for row in results["rows"]:
        assert f"| {row['label']} |" in text
    table = speed.results_table(results, columns=["实现", "训练 ÷ 基准"])
    assert table.cells[0] == ["nn.LSTM", "1.00"]
    assert "<table" in table._repr_html_()
    with pytest.raises(ValueError, match="unknown columns"):
        speed.results_table(results, columns=["速度"])


def test_unknown_id_is_rejected():
    with pytest.raises(ValueError, match="unknown implementation ids"):
        benchmark.measure_rows(["no-such-row"], TINY)


def test_results_files_round_trip(results, tmp_path):
    from lstm_course.results import PROVENANCE_KEYS, load

    json_path, md_path = report.write_results(results, tmp_path, command="python -m benchmarks.run", wall_seconds=12.5)
    assert json_path == tmp_path / "ch10_performance" / "benchmark_cpu.json"
    assert md_path.read_text(encoding="utf-8") == speed.results_markdown(results)
    record = load(json_path)
    assert set(PROVENANCE_KEYS) <= set(record.provenance)
    assert record.provenance["profile"] == "full" and record.provenance["wall_seconds"] == 12.5
    assert record.provenance["threads"] == 1
    loaded = speed.from_record(record)
    assert loaded["rows"] == json.loads(json.dumps(results["rows"]))
    assert loaded["schema"] == speed.SCHEMA_VERSION and loaded["file"] == "benchmark_cpu.json"
    fused = next(r for r in results["rows"] if r["id"] == "torch-fused-lstm")
    assert record["torch_fused_lstm_train_tokens_per_s"] == fused["train_tokens_per_s"]
    assert record["peak_gflops"] == results["peak"]["gflops"]
    quick, _ = report.write_results(results, tmp_path, quick=True, command="x", wall_seconds=1)
    assert quick.name == "benchmark_cpu_quick.json" and load(quick).provenance["profile"] == "quick"


def test_harness_docstring_states_the_full_timing():
    full = benchmark.TIMING["full"]
    groups = full["rounds"] * full["repeats"]
    text = " ".join(run.__doc__.split())
    assert f"{full['warmup']} warm-up steps" in text
    assert (
        f"{full['rounds']} interleaved rounds × {full['repeats']} timed groups × "
        f"{full['number']} steps: the median of {groups} groups"
    ) in text


def test_cli_writes_results_and_lists_rows(tmp_path, capsys):
    assert run.main(["--list"]) == 0
    assert "d2l-tf-scratch-lstm" in capsys.readouterr().out
    assert (
        run.main(
            [
                "--quick",
                "--only",
                "torch-nn-rnn",
                "--batch",
                "2",
                "--steps",
                "3",
                "--hidden-size",
                "4",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    written = sorted(p.name for p in (tmp_path / "ch10_performance").iterdir())
    assert written == ["benchmark_cpu_quick.json", "benchmark_cpu_quick.md"]
    saved = json.loads((tmp_path / "ch10_performance" / written[0]).read_text(encoding="utf-8"))
    assert [r["id"] for r in saved["rows"]] == ["torch-nn-rnn"] and saved["config"]["hidden_size"] == 4
    assert saved["provenance"]["command"].startswith("python -m benchmarks.run --quick --only")
    with pytest.raises(SystemExit):
        run.main(["--only", "no-such-row"])


def test_d2l_peer_trains_all_its_variables():
    # Keras 3 does not track d2l's tf.Variable attributes; the peer must still update all 14.
    data = speed_impls.load_batches(TINY)
    runner = speed_impls._build_d2l(TINY, data)
    assert len(runner.trained) == 14
    before = [v.numpy().copy() for v in runner.trained]
    runner.train()
    changed = [not (b == v.numpy()).all() for b, v in zip(before, runner.trained, strict=True)]
    assert all(changed), changed
    row = measure(speed_impls._BY_ID["d2l-tf-scratch-lstm"], TINY, data)
    assert row["status"] == "ok" and row["framework"] == "d2l" and row["baseline"] == "tf-keras-lstm"


def test_numpy_row_updates_every_parameter():
    runner = speed_impls._build_numpy_lstm(TINY, speed_impls.load_batches(TINY))
    before = {k: v.copy() for k, v in runner.trained.items()}
    runner.train()
    from lstm_course.numpy.lstm import PARAM_NAMES

    assert set(before) == {*PARAM_NAMES, "W_hq", "b_q"}
    assert all(not (before[k] == runner.trained[k]).all() for k in before)


def _fake(tokens: dict[str, float], device: str = "cpu", peak: float = 100.0) -> dict:
    rows = []
    for row_id, value in tokens.items():
        gflops = value * params.flops_per_token("lstm", 28, 256, train=True) / 1e9
        rows.append(
            {
                "id": row_id,
                "label": row_id,
                "framework": "x",
                "cell": "lstm",
                "status": "ok",
                "train_tokens_per_s": value,
                "infer_tokens_per_s": 4 * value,
                "train_gflops": gflops,
                "train_peak_fraction": gflops / peak,
            }
        )
    return {"environment": {"device": device}, "rows": rows}


def test_targets_are_computed_from_the_rows():
    results = _fake(
        {
            "torch-nn-lstm": 50_000,
            "torch-fused-lstm": 30_000,
            "torch-fused-lstm-cpp": 47_500,
            "torch-fused-lstm-compile": 45_000,
            "tf-keras-lstm": 20_000,
            "tf-scratch-lstm-function": 21_000,
            "tf-scratch-lstm-eager": 4_000,
            "numpy-lstm": 16_000,
            "d2l-tf-scratch-lstm": 2_000,
        }
    )
    found = {t["target"]: t for t in speed.targets(results)}
    fused = found["融合的从零实现 (PyTorch) ÷ nn.LSTM"]
    assert fused["required"] == 0.9 and fused["measured"] == pytest.approx(0.95) and fused["met"]
    assert "cpp" in fused["detail"]
    assert found["融合的从零实现 (PyTorch) ÷ nn.LSTM（推理）"]["required"] == 0.8
    assert found["TF 从零实现 + tf.function ÷ Keras LSTM"]["met"] is True
    compiled = found["每一个编译/计算图实现 ÷ d2l 的即时执行 TF 从零实现"]
    # the eager rows (the lesson) do not count: the slowest compiled row is tf.function's
    assert compiled["measured"] == pytest.approx(10.5) and compiled["met"] is True
    assert "tf-scratch-lstm-function" in compiled["detail"]
    best = found["最好的一行达到的矩阵乘法峰值比例"]
    assert best["measured"] == pytest.approx(50_000 * 3 * 8 * 256 * 284 / 1e9 / 100) and best["met"] is True
    scratch = found["最好的从零实现达到的矩阵乘法峰值比例"]
    assert scratch["measured"] == pytest.approx(47_500 * 3 * 8 * 256 * 284 / 1e9 / 100)
    assert "torch-fused-lstm-cpp" in scratch["detail"]
    assert not any("GPU" in t for t in found)
    table = speed.targets_table(results)
    assert "未达到" not in table and "达到" in table
    slow = _fake({"torch-nn-lstm": 50_000, "torch-fused-lstm-cpp": 40_000, "d2l-tf-scratch-lstm": 10_000})
    found = {t["target"]: t for t in speed.targets(slow)}
    assert found["融合的从零实现 (PyTorch) ÷ nn.LSTM"]["met"] is False
    assert found["每一个编译/计算图实现 ÷ d2l 的即时执行 TF 从零实现"]["measured"] == pytest.approx(4.0)


def test_targets_without_rows_are_unknown_and_gpu_target_only_on_cuda():
    found = speed.targets(_fake({"torch-nn-lstm": 1.0}, device="cuda:0"))
    assert all(t["met"] is None for t in found if "峰值" not in t["target"])
    assert any("GPU" in t["target"] for t in found)
    assert "未测" in speed.targets_table(_fake({}, device="cpu"))


def test_flops_self_check_accepts_the_formula_and_names_mistakes(capsys):
    from lstm_course import check
    from lstm_course.check import CheckFailed

    check.lstm_flops(lambda X, H, train=False: (3 if train else 1) * 8 * H * (X + H))
    check.gru_flops(lambda X, H: 6 * H * (X + H))
    assert capsys.readouterr().out.count("✅ 通过") == 2
    with pytest.raises(CheckFailed, match="因子 2"):
        check.lstm_flops(lambda X, H, train=False: (3 if train else 1) * 4 * H * (X + H))
    with pytest.raises(CheckFailed, match="3 倍"):
        check.lstm_flops(lambda X, H, train=False: 8 * H * (X + H))
    with pytest.raises(CheckFailed, match="输入部分"):
        check.lstm_flops(lambda X, H, train=False: (3 if train else 1) * 8 * H * H)
    with pytest.raises(CheckFailed, match="门数是 3"):
        check.gru_flops(lambda X, H: 8 * H * (X + H) + 1)
    with pytest.raises(CheckFailed, match="出错"):
        check.gru_flops(lambda X: X)


def test_peak_fraction_self_check(capsys):
    from lstm_course import check
    from lstm_course.check import CheckFailed

    def right(tokens, X, H, peak, train):
        return tokens * params.flops_per_token("lstm", X, H, train=train) / (peak * 1e9)

    check.peak_fraction(right)
    assert "✅ 通过" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="不要乘 100"):
        check.peak_fraction(lambda *a: 100 * right(*a))
    with pytest.raises(CheckFailed, match="1e9"):
        check.peak_fraction(lambda *a: right(*a) * 1e9)
