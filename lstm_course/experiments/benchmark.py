"""The throughput benchmark's run: build the selected rows, time them, derive the columns.

:mod:`lstm_course.experiments.speed_impls` is the table (what each implementation is and how it
is built); this module measures a selection of it with the tools of
:mod:`lstm_course.experiments.speed` and returns a JSON-serialisable results dict:

* :func:`default_config` — d2l's sizes with the timing of a run profile (:data:`TIMING`);
* :func:`measure` — one row: build, ``rounds`` rounds of timed groups, tokens/s and GFLOP/s;
* :func:`measure_rows` — several rows, every one built first and then timed in interleaved
  rounds, so that a busy moment on a shared machine spreads over all rows instead of hitting one;
* :func:`run_benchmark` — the matmul peak before and after the rows, the environment and the
  configuration around :func:`measure_rows` (what ``python -m benchmarks.run`` writes);
* :func:`sweep` — training tokens/s of some rows at each value of one size.

Threads: unless told otherwise everything runs on **one** thread (PyTorch, TensorFlow intra- and
inter-op, OpenBLAS); on a small shared machine more threads make the numbers erratic.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from typing import Any

from lstm_course.config import by_profile
from lstm_course.experiments.speed import (
    SCHEMA_VERSION,
    add_ratios,
    blas_threads,
    device_slug,
    environment,
    matmul_peak_gflops,
    time_call,
)
from lstm_course.experiments.speed_impls import BenchConfig, Data, Impl, Runner, Unavailable, load_batches, select
from lstm_course.params import flops_per_token

__all__ = ["TIMING", "default_config", "measure", "measure_rows", "run_benchmark", "with_sizes", "sweep"]


#: Timing settings of the two run profiles (the sizes are d2l's in both).
TIMING = {"quick": dict(warmup=1, repeats=3, number=1, rounds=1), "full": dict(warmup=2, repeats=3, number=3, rounds=3)}


def default_config(profile: str | None = None, **overrides: Any) -> BenchConfig:
    """The d2l configuration with the timing of ``profile`` (default: the active profile)."""
    timing = TIMING[profile] if profile is not None else by_profile(quick=TIMING["quick"], full=TIMING["full"])
    return BenchConfig(**{**timing, **overrides})


def _first_line(exc: BaseException) -> str:
    """``Type: message`` in one line; for TensorFlow's "in user code:" traces, the final line."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = (lines[-1] if lines[0].endswith(":") else lines[0]) if lines else ""
    return f"{type(exc).__name__}: {text[:200]}"


def _build(impl: Impl, config: BenchConfig, data: Data) -> tuple[dict[str, Any], Runner | None]:
    """The row's identity and its runner, or a ``skipped``/``failed`` row and ``None``."""
    row: dict[str, Any] = {
        "id": impl.id,
        "label": impl.label,
        "framework": impl.framework,
        "cell": impl.cell,
        "baseline": impl.baseline,
        "device": str(config.device),
    }
    try:
        runner = impl.build(config, data)
        row.update(device=runner.device, kernel=runner.kernel)
        if device_slug(runner.device) != device_slug(config.device):
            return {
                **row,
                "status": "failed",
                "reason": f"ran on {runner.device}, but this table is for {config.device}: one table, one device",
            }, None
        return row, runner
    except Unavailable as exc:
        return {**row, "status": "skipped", "reason": f"not available: {exc}"}, None
    except Exception as exc:  # noqa: BLE001 - a row that breaks is reported, the run goes on
        return {**row, "status": "failed", "reason": _first_line(exc)}, None


def _time_round(row: dict[str, Any], runner: Runner, config: BenchConfig, *, first: bool) -> bool:
    """Add one round of timed groups to ``row``; on an error mark it failed and return False."""
    timing = dict(warmup=config.warmup if first else 0, repeats=config.repeats, number=config.number, sync=runner.sync)
    try:
        for mode, fn in (("train", runner.train), ("infer", runner.infer)):
            row.setdefault(f"{mode}_seconds", []).extend(time_call(fn, **timing))
    except Exception as exc:  # noqa: BLE001
        for mode in ("train", "infer"):
            row.pop(f"{mode}_seconds", None)
        row.update(status="failed", reason=_first_line(exc))
        return False
    return True


def _finish(row: dict[str, Any], runner: Runner, config: BenchConfig, data: Data) -> dict[str, Any]:
    tokens = config.batch * config.steps
    row.update(status="ok", note=runner.note)
    for mode in ("train", "infer"):
        row[f"{mode}_tokens_per_s"] = tokens / statistics.median(row[f"{mode}_seconds"])
        flops = flops_per_token(row["cell"], data.vocab_size, config.hidden_size, train=mode == "train")
        row[f"{mode}_gflops"] = row[f"{mode}_tokens_per_s"] * flops / 1e9
    return row


def measure(impl: Impl, config: BenchConfig, data: Data) -> dict[str, Any]:
    """Build and time one implementation; returns its row (``status`` ``ok``/``skipped``/``failed``).

    ``config.rounds`` rounds of ``config.repeats`` timed groups of ``config.number`` steps each,
    after ``config.warmup`` untimed steps; tokens/s come from the median group.
    """
    row, runner = _build(impl, config, data)
    if runner is None:
        return row
    for k in range(config.rounds):
        if not _time_round(row, runner, config, first=k == 0):
            return row
    return _finish(row, runner, config, data)


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    import torch

    previous_torch, previous_blas = torch.get_num_threads(), blas_threads()
    torch.set_num_threads(n)
    blas_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous_torch)
        if previous_blas is not None:
            blas_threads(previous_blas)


def measure_rows(
    ids: Sequence[str] | None,
    config: BenchConfig,
    *,
    data: Data | None = None,
    peak_gflops: float | None = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Measure the named implementations (all when ``ids`` is ``None``) under ``config.threads``.

    Every implementation is built first; then ``config.rounds`` rounds time each of them in turn,
    so that a busy moment on a shared machine spreads over all rows instead of hitting one.
    With ``peak_gflops`` the rows also get ``*_peak_fraction``; ratios are filled by
    :func:`~lstm_course.experiments.speed.add_ratios` over the rows measured here.
    """
    impls = select(ids)
    data = data or load_batches(config)
    with _threads(config.threads):
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(impls) * (1 + config.rounds), desc="基准测试", unit="项")
        built = []
        for impl in impls:
            if bar is not None:
                bar.set_postfix_str(f"构建 {impl.id}")
            built.append(_build(impl, config, data))
            if bar is not None:
                bar.update()
        for k in range(config.rounds):
            for row, runner in built:
                if bar is not None:
                    bar.set_postfix_str(f"第 {k + 1} 轮 {row['id']}")
                if runner is not None and row.get("status") != "failed":
                    _time_round(row, runner, config, first=k == 0)
                if bar is not None:
                    bar.update()
        if bar is not None:
            bar.close()
    rows = [
        row if runner is None or row.get("status") == "failed" else _finish(row, runner, config, data)
        for row, runner in built
    ]
    if peak_gflops:
        for row in rows:
            if row["status"] == "ok":
                for mode in ("train", "infer"):
                    row[f"{mode}_peak_fraction"] = row[f"{mode}_gflops"] / peak_gflops
    return add_ratios(rows)


def _tf_threads() -> dict[str, Any]:
    import sys

    if "tensorflow" not in sys.modules:
        return {}
    tf = sys.modules["tensorflow"]
    # 0 means "TensorFlow's default" (all cores), i.e. the pin could not be applied.
    return {
        "tensorflow_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "tensorflow_inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def run_benchmark(
    config: BenchConfig | None = None, ids: Sequence[str] | None = None, *, progress: bool = False
) -> dict[str, Any]:
    """Measure the peak and the selected rows; return a JSON-serialisable results dict.

    Keys: ``schema``, ``environment`` (device, versions, load, date), ``threads``, ``config``,
    ``peak`` (``gflops``, ``how``), ``rows`` (one dict per implementation, in table order) and
    ``load_average_after``.
    """
    import torch

    config = config or default_config()
    env = environment(config.device)
    data = load_batches(config)
    with _threads(config.threads):
        peak = matmul_peak_gflops(device=config.device)
        threads = {"torch": torch.get_num_threads(), "blas": blas_threads()}
    rows = measure_rows(ids, config, data=data, peak_gflops=None, progress=progress)
    with _threads(config.threads):  # measured again afterwards; the better of the two is the peak
        peak_after = matmul_peak_gflops(device=config.device)
    peaks = [peak, peak_after]
    peak = max(peaks)
    for row in rows:
        if row["status"] == "ok":
            for mode in ("train", "infer"):
                row[f"{mode}_peak_fraction"] = row[f"{mode}_gflops"] / peak
    threads.update(_tf_threads())
    frameworks = ("numpy", "torch", "tensorflow", "keras", "d2l", "lstm_course")
    env["versions"] = environment(config.device, frameworks=frameworks)["versions"]
    env["versions"] = {k: v for k, v in env["versions"].items() if v is not None}
    return {
        "schema": SCHEMA_VERSION,
        "environment": env,
        "threads": threads,
        "config": {**asdict(config), "vocab": data.vocab_size, "tokens_per_step": config.batch * config.steps},
        "peak": {
            "gflops": peak,
            "before_after": peaks,
            "how": f"torch.mm float32, square 256/512/1024, on {config.device}, {threads['torch']} "
            "thread(s): fastest of 30 short groups per size, best size, measured before and "
            "after the rows (the higher)",
        },
        "rows": rows,
        "load_average_after": environment(config.device, frameworks=())["load_average"],
    }


def with_sizes(config: BenchConfig, **sizes: int) -> BenchConfig:
    """``config`` with other ``batch``/``steps``/``hidden_size`` (for sweeps)."""
    return replace(config, **sizes)


def sweep(
    ids: Sequence[str], config: BenchConfig, *, peak_gflops: float | None = None, **sizes: Sequence[int]
) -> dict[str, dict[str, list[float | None]]]:
    """Training tokens/s and peak fraction of each row at each value of one swept size.

    ``sweep(ids, config, batch=(4, 16, 64))`` measures the rows at every batch size (the other
    sizes from ``config``) and returns ``{row id: {"tokens": [...], "fraction": [...]}}``, one
    entry per value (``None`` for a row that was not measured; ``fraction`` needs ``peak_gflops``).
    """
    if len(sizes) != 1:
        raise ValueError(f"sweep one size at a time (batch=, steps= or hidden_size=), received {sorted(sizes)}")
    ((name, values),) = sizes.items()
    out: dict[str, dict[str, list[float | None]]] = {i: {"tokens": [], "fraction": []} for i in ids}
    for value in values:
        for row in measure_rows(ids, with_sizes(config, **{name: value}), peak_gflops=peak_gflops):
            out[row["id"]]["tokens"].append(row.get("train_tokens_per_s"))
            out[row["id"]]["fraction"].append(row.get("train_peak_fraction"))
    return out
