"""Results files of the benchmark, in the course's results scheme (:mod:`lstm_course.results`).

``python -m benchmarks.run`` writes ``results/ch10_performance/benchmark_<device>[_quick].json``
with :func:`lstm_course.results.write_results`: the flat ``values`` (tokens/s, ratios and peak
fractions of every measured row, the matmul peak) and the ``provenance`` block of every results
file (command, commit, date, device, versions, threads, wall time), plus the run's ``rows``,
``config``, ``environment``, ``peak`` and ``threads`` as extra keys; the same name ``.md`` holds
the rendered table.  Chapter 10 reads the file with :func:`lstm_course.results.recorded`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lstm_course import results as recorded_results
from lstm_course.experiments.speed import device_slug, results_markdown

__all__ = ["CHAPTER", "results_name", "values_of", "write_results"]

#: The chapter folder under ``results/`` that holds the benchmark's files.
CHAPTER = "ch10_performance"
_VALUE_KEYS = (
    "train_tokens_per_s",
    "infer_tokens_per_s",
    "ratio_overall_train",
    "ratio_overall_infer",
    "ratio_baseline_train",
    "train_peak_fraction",
    "infer_peak_fraction",
)


def results_name(results: dict[str, Any], *, quick: bool = False) -> str:
    """File stem, e.g. ``benchmark_cpu`` or ``benchmark_cuda_quick`` (one file per device)."""
    return f"benchmark_{device_slug(results['environment']['device'])}" + ("_quick" if quick else "")


def values_of(results: dict[str, Any]) -> dict[str, float]:
    """The numbers of a run as flat, gluable names: ``<row id with _>_<key>`` and ``peak_gflops``."""
    values: dict[str, float] = {"peak_gflops": float(results["peak"]["gflops"])}
    for row in results["rows"]:
        if row.get("status") != "ok":
            continue
        stem = row["id"].replace("-", "_")
        for key in _VALUE_KEYS:
            if row.get(key) is not None:
                values[f"{stem}_{key}"] = float(row[key])
    return values


def write_results(
    results: dict[str, Any],
    folder: str | Path | None = None,
    *,
    quick: bool = False,
    command: str,
    wall_seconds: float,
    git: tuple[str, bool | None] | None = None,
) -> tuple[Path, Path]:
    """Write the run as a results file (and its table as ``.md``); returns ``(json, md)``.

    ``folder`` is the ``results/`` root (default :func:`lstm_course.results.results_dir`);
    ``git`` is :func:`lstm_course.results.git_state` taken before the run started.
    """
    device = str(results["environment"]["device"])
    prov = recorded_results.provenance(
        command=command,
        wall_seconds=wall_seconds,
        device=recorded_results.device_description(device),
        profile="quick" if quick else "full",
        threads=results["threads"].get("torch"),
        git=git,
    )
    extra = {k: v for k, v in results.items() if k != "schema"}
    path = recorded_results.write_results(
        CHAPTER,
        results_name(results, quick=quick),
        values_of(results),
        prov,
        folder=Path(folder) if folder is not None else None,
        benchmark_schema=results["schema"],
        **extra,
    )
    md_path = path.with_suffix(".md")
    recorded_results.atomic_write_text(md_path, results_markdown(results))
    return path, md_path
