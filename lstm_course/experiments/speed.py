"""Measuring throughput: timing, FLOP counts, the machine's matmul peak, environment, ratios, tables.

These are the course's measuring tools; :mod:`lstm_course.experiments.speed_impls` is the table of
*what* is measured (one builder per implementation), :mod:`lstm_course.experiments.benchmark` the
run that times a selection of it with these tools, and the ``benchmarks/`` harness at the top of
the repository only adds a command line and results files around them.

* :func:`time_call` — warm-up calls, then ``repeats`` timed groups of ``number`` calls; the
  median of the groups is what the tables report (robust to a noisy neighbour on a shared machine).
* the FLOP count of a row is :func:`lstm_course.params.flops_per_token` (``2 G H (X + H)`` per
  token, ×3 for training), the cost model beside the parameter count it shares the gates with.
* :func:`matmul_peak_gflops` — dense square float32 matrix products (256–1024), the best of many
  short timings: the ceiling the recurrent layers are compared with.
* :func:`environment` — device, library versions, thread counts, load average, date.
* :func:`add_ratios`, :func:`results_table`, :func:`results_markdown` — the derived columns and
  the rendered table (the book renders committed results files with the same functions).

Importing this module needs NumPy only; PyTorch is imported by the functions that use it.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lstm_course.tables import Table

__all__ = [
    "SCHEMA_VERSION",
    "time_call",
    "matmul_gflops",
    "matmul_peak_gflops",
    "blas_threads",
    "environment",
    "add_ratios",
    "results_table",
    "results_markdown",
    "device_slug",
    "table_device",
    "from_record",
    "OUR_LSTMS",
    "FUSED_LSTMS",
    "COMPILED_LSTMS",
    "targets",
    "targets_table",
]

#: The LSTM implementations written in this course (the framework layers and d2l's are not).
OUR_LSTMS = (
    "numpy-lstm",
    "torch-scratch-lstm",
    "torch-fused-lstm",
    "torch-fused-lstm-cpp",
    "torch-fused-lstm-compile",
    "tf-scratch-lstm-eager",
    "tf-scratch-lstm-function",
)
#: Our PyTorch fused LSTMs (Python loop, C++ loop, torch.compile).
FUSED_LSTMS = ("torch-fused-lstm", "torch-fused-lstm-cpp", "torch-fused-lstm-compile")
#: Our implementations whose time loop is compiled or a graph (the eager rows are the lesson).
COMPILED_LSTMS = ("torch-fused-lstm-cpp", "torch-fused-lstm-compile", "tf-scratch-lstm-function")

#: Version of the results dictionary written by :func:`lstm_course.experiments.benchmark.run_benchmark`.
SCHEMA_VERSION = 1


def time_call(
    fn: Callable[[], Any], *, warmup: int = 1, repeats: int = 3, number: int = 1, sync: Callable[[], Any] | None = None
) -> list[float]:
    """Seconds per call of ``fn()``, one value per timed group.

    Args:
        fn: the work, called without arguments.
        warmup: untimed calls first (allocations, caches, graph tracing, compilation).
        repeats: timed groups; report the median of the returned list.
        number: calls per group (the group's time is divided by ``number``).
        sync: called after ``fn`` before the clock is read (e.g.
            ``lambda: lstm_course.runtime.synchronize(device)`` on CUDA or MPS).
    """
    for name, value, low in (("warmup", warmup, 0), ("repeats", repeats, 1), ("number", number, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, received {value!r}")
    for _ in range(warmup):
        fn()
    if sync is not None:
        sync()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if sync is not None:
            sync()
        seconds.append((time.perf_counter() - start) / number)
    return seconds


def matmul_gflops(
    m: int, k: int, n: int, *, device: Any = "cpu", repeats: int = 30, number: int | None = None
) -> float:
    """Measured float32 GFLOP/s of ``torch.mm`` of an ``(m, k)`` and a ``(k, n)`` matrix: the best group.

    A ceiling is what the machine *can* do, so the fastest of ``repeats`` short groups (about a
    millisecond each by default) is reported: a busy neighbour on a shared machine only ever
    slows a group down, and short groups often fit between two interruptions.  Runs with
    whatever thread count PyTorch is set to: call it under the setting of the rows it is
    compared with.
    """
    import torch

    if min(m, k, n) < 1:
        raise ValueError(f"matrix sizes must be positive, received m={m}, k={k}, n={n}")
    device = torch.device(device)
    a = torch.randn(m, k, device=device)
    b = torch.randn(k, n, device=device)
    flops = 2 * m * k * n
    if number is None:  # about a millisecond per group at 200 GFLOP/s
        number = max(1, int(2e8 // flops))
    from lstm_course.runtime import synchronize

    sync = (lambda: synchronize(device)) if device.type != "cpu" else None
    seconds = time_call(lambda: torch.mm(a, b), warmup=2, repeats=repeats, number=number, sync=sync)
    return flops / min(seconds) / 1e9


def matmul_peak_gflops(sizes: Sequence[int] = (256, 512, 1024), *, device: Any = "cpu", repeats: int = 30) -> float:
    """The machine's dense-matmul ceiling: the best :func:`matmul_gflops` over square sizes.

    Several sizes, because on a shared machine the largest product is interrupted most often
    while a smaller one may already run at full speed.
    """
    return max(matmul_gflops(n, n, n, device=device, repeats=repeats) for n in sizes)


def _openblas() -> Any:
    """The OpenBLAS library NumPy loaded, with its ``(get, set)`` thread functions, or ``None``."""
    import numpy  # noqa: F401 - make sure the library is loaded

    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("64_", ""):
            for prefix in ("scipy_openblas", "openblas"):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    return get, set_
    return None


def blas_threads(n: int | None = None) -> int | None:
    """Threads of NumPy's OpenBLAS; with ``n``, set them first. ``None`` if not found (e.g. MKL)."""
    functions = _openblas()
    if functions is None:
        return None
    get, set_ = functions
    if n is not None:
        set_(int(n))
    return int(get())


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module: str) -> str | None:
    """The version of ``module`` if it is already imported (nothing is imported just to ask)."""
    import sys

    if module not in sys.modules:
        return None
    return getattr(sys.modules[module], "__version__", "unknown")


def device_slug(device: Any) -> str:
    """``'cpu'``, ``'cuda'``, ...: the device part of a results file name."""
    return str(device).split(":")[0]


def table_device(results: Mapping[str, Any]) -> str:
    """The one device a results table was measured on (``'cpu'``, ``'cuda'``, ...).

    Raises:
        ValueError: a measured row does not record its device, or records another device than
            the table's (``results["environment"]["device"]``): one table, one device.
    """
    table = device_slug(results["environment"]["device"])
    for row in results["rows"]:
        if row.get("status") != "ok":
            continue
        if "device" not in row:
            raise ValueError(f"row {row['id']!r} does not record the device it ran on")
        if device_slug(row["device"]) != table:
            raise ValueError(f"row {row['id']!r} ran on {row['device']} but the table is for {table}")
    return table


def environment(device: Any = "cpu", *, frameworks: Sequence[str] = ("numpy", "torch")) -> dict[str, Any]:
    """Where the numbers come from: device, library versions, load average, date (UTC).

    Args:
        device: the PyTorch device the torch rows run on.
        frameworks: modules whose versions are recorded (only those already imported).
    """
    env: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "device": str(device),
        "versions": {name: _version(name) for name in frameworks},
    }
    if "torch" in frameworks:
        import torch

        if torch.device(device).type == "cuda":
            env["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return env


def add_ratios(rows: list[dict[str, Any]], *, overall: str = "torch-nn-lstm") -> list[dict[str, Any]]:
    """Fill the ratio columns of measured ``rows`` in place (and return them).

    Each row names its ``baseline`` row id (the framework layer of its own framework, e.g.
    ``nn.LSTM`` for the PyTorch LSTMs, the Keras LSTM for the TensorFlow ones).  Ratios are
    tokens/s of the row divided by tokens/s of the baseline (``ratio_baseline_*``) and of the
    ``overall`` row (``ratio_overall_*``); ``None`` when either side was not measured.
    """
    by_id = {row["id"]: row for row in rows}
    for row in rows:
        for key, ref_id in (("baseline", row.get("baseline")), ("overall", overall)):
            ref = by_id.get(ref_id) if ref_id else None
            for mode in ("train", "infer"):
                ours, theirs = row.get(f"{mode}_tokens_per_s"), ref.get(f"{mode}_tokens_per_s") if ref else None
                row[f"ratio_{key}_{mode}"] = ours / theirs if ours and theirs else None
    return rows


def _fmt(value: Any, spec: str) -> str:
    return "—" if value is None else format(value, spec)


#: Columns of :func:`results_table`: header → function of (row, results).
_COLUMNS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], str]] = {
    "实现": lambda r, _: r["label"],
    "框架": lambda r, _: r["framework"],
    "训练 词元/秒": lambda r, _: _fmt(r.get("train_tokens_per_s"), ",.0f"),
    "推理 词元/秒": lambda r, _: _fmt(r.get("infer_tokens_per_s"), ",.0f"),
    "训练 ÷ 基准": lambda r, _: _fmt(r.get("ratio_baseline_train"), ".2f"),
    "训练 ÷ nn.LSTM": lambda r, _: _fmt(r.get("ratio_overall_train"), ".2f"),
    "推理 ÷ nn.LSTM": lambda r, _: _fmt(r.get("ratio_overall_infer"), ".2f"),
    "训练 GFLOP/s": lambda r, _: _fmt(r.get("train_gflops"), ".1f"),
    "训练 占峰值": lambda r, _: _fmt(r.get("train_peak_fraction"), ".0%"),
    "推理 占峰值": lambda r, _: _fmt(r.get("infer_peak_fraction"), ".0%"),
    "说明": lambda r, res: _note(r, res),
}


def _note(row: Mapping[str, Any], results: Mapping[str, Any]) -> str:
    if row.get("status") != "ok":
        return f"{'未测' if row.get('status') == 'skipped' else '失败'}：{row.get('reason', '')}"
    parts = []
    base = row.get("baseline")
    if base and base != row["id"]:
        labels = {r["id"]: r["label"] for r in results.get("rows", [])}
        parts.append(f"基准 {labels.get(base, base)}")
    if row.get("note"):
        parts.append(str(row["note"]))
    return "；".join(parts)


def results_table(results: Mapping[str, Any], *, columns: Sequence[str] | None = None) -> Table:
    """The rows of a results dict as a :class:`~lstm_course.tables.Table` (Markdown + HTML)."""
    columns = list(columns) if columns is not None else list(_COLUMNS)
    unknown = [c for c in columns if c not in _COLUMNS]
    if unknown:
        raise ValueError(f"unknown columns {unknown}; available: {list(_COLUMNS)}")
    cells = [[_COLUMNS[c](row, results) for c in columns] for row in results["rows"]]
    return Table(columns, cells)


def _train(rows: Mapping[str, Mapping[str, Any]], row_id: str, mode: str = "train") -> float | None:
    row = rows.get(row_id)
    return row.get(f"{mode}_tokens_per_s") if row and row.get("status") == "ok" else None


def _best(
    rows: Mapping[str, Mapping[str, Any]], ids: Sequence[str], mode: str = "train"
) -> tuple[str | None, float | None]:
    found = {k: _train(rows, k, mode) for k in ids if _train(rows, k, mode)}
    best = max(found, key=found.get) if found else None
    return best, found.get(best) if best else None


def targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The targets of the chapter, checked on a results dict (training throughput unless named).

    Returns one dict per target: ``target`` (in Chinese), ``required``, ``measured`` (a number or
    ``None`` when a row it needs was not measured), ``detail`` and ``met`` (``None`` if unknown).
    The GPU target is included only for CUDA results.
    """
    rows = {r["id"]: r for r in results["rows"]}
    out: list[dict[str, Any]] = []

    def add(target: str, required: float, measured: float | None, detail: str) -> None:
        out.append(
            {
                "target": target,
                "required": required,
                "measured": measured,
                "detail": detail,
                "met": None if measured is None else measured >= required,
            }
        )

    nn_lstm, keras_lstm, d2l = (_train(rows, k) for k in ("torch-nn-lstm", "tf-keras-lstm", "d2l-tf-scratch-lstm"))
    cuda = str(results["environment"]["device"]).startswith("cuda")
    best_fused, fused = _best(rows, FUSED_LSTMS)
    if not cuda:
        add(
            "融合的从零实现 (PyTorch) ÷ nn.LSTM",
            0.9,
            fused / nn_lstm if fused and nn_lstm else None,
            f"最好的一行：{best_fused}",
        )
        best_infer, fused_infer = _best(rows, FUSED_LSTMS, "infer")
        nn_infer = _train(rows, "torch-nn-lstm", "infer")
        add(
            "融合的从零实现 (PyTorch) ÷ nn.LSTM（推理）",
            0.8,
            fused_infer / nn_infer if fused_infer and nn_infer else None,
            f"最好的一行：{best_infer}",
        )
    tf_fn = _train(rows, "tf-scratch-lstm-function")
    add("TF 从零实现 + tf.function ÷ Keras LSTM", 1.0, tf_fn / keras_lstm if tf_fn and keras_lstm else None, "")
    compiled = {k: _train(rows, k) for k in COMPILED_LSTMS if _train(rows, k)}
    slowest = min(compiled, key=compiled.get) if compiled else None
    add(
        "每一个编译/计算图实现 ÷ d2l 的即时执行 TF 从零实现",
        5.0,
        compiled[slowest] / d2l if slowest and d2l else None,
        f"最慢的一行：{slowest}",
    )
    fractions = {r["id"]: r["train_peak_fraction"] for r in results["rows"] if r.get("train_peak_fraction")}
    best = max(fractions, key=fractions.get) if fractions else None
    add("最好的一行达到的矩阵乘法峰值比例", 0.5, fractions[best] if best else None, f"最好的一行：{best}")
    scratch = {k: v for k, v in fractions.items() if k in OUR_LSTMS}
    best_scratch = max(scratch, key=scratch.get) if scratch else None
    add(
        "最好的从零实现达到的矩阵乘法峰值比例",
        0.5,
        scratch[best_scratch] if best_scratch else None,
        f"最好的一行：{best_scratch}",
    )
    if cuda:
        add(
            "融合的从零实现 ÷ cuDNN nn.LSTM (GPU)",
            0.5,
            fused / nn_lstm if fused and nn_lstm else None,
            f"最好的一行：{best_fused}",
        )
    return out


def targets_table(results: Mapping[str, Any]) -> Table:
    """:func:`targets` as a :class:`~lstm_course.tables.Table`."""
    verdict = {True: "达到", False: "未达到", None: "未测"}
    cells = [
        [t["target"], f"≥ {t['required']:g}", _fmt(t["measured"], ".2f"), verdict[t["met"]], t["detail"]]
        for t in targets(results)
    ]
    return Table(["目标（训练，另注明的除外）", "要求", "实测", "结论", "说明"], cells)


def results_markdown(results: Mapping[str, Any]) -> str:
    """A results dict as a Markdown document: where and how it was measured, then the table."""
    env, cfg, peak = results["environment"], results["config"], results["peak"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
    threads = results.get("threads", {})
    lines = [
        f"# LSTM throughput on {env['device']} ({env['date']})",
        "",
        f"- device: `{env['device']}`, CPU: {env['cpu']} ({env['cpu_count']} logical cores)"
        + (f", GPU: {env['gpu']}" if env.get("gpu") else ""),
        f"- versions: {versions}",
        "- threads: " + ", ".join(f"{k} {v}" for k, v in threads.items()),
        f"- load average before / after: {env.get('load_average')} / {results.get('load_average_after')}",
        f"- configuration: batch {cfg['batch']}, steps {cfg['steps']}, hidden {cfg['hidden_size']}, "
        f"vocabulary {cfg['vocab']} (one-hot input), warm-up {cfg['warmup']} steps, "
        f"{cfg.get('rounds', 1)} interleaved rounds × {cfg['repeats']} timed groups × {cfg['number']} steps, "
        "median group reported",
        f"- measured matmul peak: {peak['gflops']:.1f} GFLOP/s ({peak['how']})",
        "- FLOPs per token: 2·G·H·(X+H) (LSTM 8·H·(X+H)), ×3 for training; the output layer is not counted",
        "",
        str(results_table(results)),
        "",
        "## Targets (training throughput)",
        "",
        str(targets_table(results)),
        "",
    ]
    return "\n".join(lines)


def from_record(record: Any) -> dict[str, Any]:
    """The results dict of a benchmark results file read by :func:`lstm_course.results.recorded`.

    ``python -m benchmarks.run`` writes ``results/ch10_performance/benchmark_<device>.json``: the
    flat ``values`` and ``provenance`` of every results file, plus the rows, configuration,
    environment and peak of the run as extra keys; this puts the latter back together for
    :func:`results_table` and :func:`targets_table`.
    """
    extra = dict(record.extra)
    missing = [k for k in ("environment", "config", "peak", "rows") if k not in extra]
    if missing:
        raise ValueError(f"{record.path} is not a benchmark results file (no {', '.join(missing)})")
    extra["schema"] = extra.pop("benchmark_schema", SCHEMA_VERSION)
    extra["file"] = record.path.name
    return extra
