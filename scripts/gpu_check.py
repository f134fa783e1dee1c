"""The GPU check: everything the book needs from a CUDA machine, in one command (``make gpu-check``).

A GPU machine is available only now and then, for minutes.  On one, this script

1. runs the benchmark's GPU rows (cuDNN ``nn.LSTM``, the fused LSTM with its time loop in Python,
   in C++ and under ``torch.compile``, the per-gate scratch LSTM, Keras — cuDNN when TensorFlow
   sees the GPU) with the full timing, and writes ``results/ch10_performance/benchmark_cuda.json``;
2. records the full profile of the pages whose prose quotes full-profile results
   (:data:`PAGES`) with :func:`lstm_course.results.reproduce`, one results file per notebook;

each file with its provenance, and prints how long each part took.  ``--budget`` (default 450 s)
bounds the run: a chapter starts only while at least 30 s are left, each of its cells may take
what is left, and a part that fails or runs out of time is reported in one line while the
others go on (exit status 1).

``--dry-run`` does everything but the CUDA parts, on the CPU with tiny sizes, into a temporary
results folder (or ``--results``): the benchmark rows at ``B=2, T=3, H=4`` with the quick timing,
and the recording machinery on a one-cell probe notebook instead of the full-profile chapters
(which take minutes on a GPU and hours on a CPU); the chapter notebooks it would record are
checked to exist.  CI runs the dry run (``tests/test_gpu_check.py``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ lives at the top of the repository
    sys.path.insert(0, str(ROOT))

#: The pages whose prose quotes recorded full-profile results: (chapter, notebooks or None = all).
PAGES: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("ch04_language_model", ("03_honest_setting",)),
    ("ch06_deep_bidirectional", None),
    ("ch07_sentiment", ("02_training",)),
)
#: The benchmark rows measured on the GPU (the NumPy and d2l rows are CPU-only lessons).
GPU_ROWS = (
    "torch-nn-lstm",
    "torch-fused-lstm",
    "torch-fused-lstm-cpp",
    "torch-fused-lstm-compile",
    "torch-scratch-lstm",
    "tf-keras-lstm",
)
#: The rows of the dry run (no torch.compile: a minute of compilation is not a plumbing test).
DRY_ROWS = ("torch-nn-lstm", "torch-fused-lstm", "torch-fused-lstm-cpp", "torch-scratch-lstm")


class CheckError(RuntimeError):
    """A user-facing problem, reported in one line."""


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def run_benchmark_part(results_root: Path, *, dry_run: bool, command: str) -> list[Path]:
    """The benchmark's GPU rows (or the tiny CPU dry run); returns the files written."""
    from benchmarks.report import write_results
    from lstm_course.experiments.benchmark import default_config, run_benchmark
    from lstm_course.results import git_state

    if dry_run:
        config = default_config("quick", batch=2, steps=3, hidden_size=4, device="cpu")
        ids = list(DRY_ROWS)
    else:
        config = default_config("full", device="cuda")
        ids = list(GPU_ROWS)
    git = git_state(ROOT)
    start = time.perf_counter()
    results = run_benchmark(config, ids)
    wall = time.perf_counter() - start
    for row in results["rows"]:
        state = row["status"] if row["status"] == "ok" else f"{row['status']}: {row.get('reason', '')}"
        print(f"  {row['id']:28s} {state}")
    return list(write_results(results, results_root, quick=dry_run, command=command, wall_seconds=wall, git=git))


def _probe_notebook(folder: Path) -> Path:
    """A one-cell notebook ``ch00_probe/01_probe.ipynb`` under ``folder`` for the dry run."""
    import nbformat

    chapter = folder / "ch00_probe"
    chapter.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import lstm_course\nfrom lstm_course.claims import glue, glue_run\n"
            "print(glue_run('cpu', 1))\nglue('profile_name', lstm_course.profile())"
        )
    ]
    page = chapter / "01_probe.ipynb"
    nbformat.write(nb, page)
    return page


def run_reproduce_part(
    results_root: Path, *, dry_run: bool, deadline: float, scratch: Path
) -> tuple[list[Path], list[str]]:
    """Record the full-profile pages (or the probe); returns (files written, failures)."""
    from lstm_course.results import ResultsError, chapter_notebooks, execute_and_record, reproduce

    written, failures = [], []
    for chapter, notebooks in PAGES:
        found = {p.stem for p in chapter_notebooks(chapter, ROOT)}
        missing = set(notebooks or ()) - found
        if missing:
            raise CheckError(f"{chapter} has no notebook {', '.join(sorted(missing))}")
    if dry_run:
        page = _probe_notebook(scratch)
        start = time.perf_counter()
        path = execute_and_record(
            page,
            chapter="ch00_probe",
            profile="quick",
            threads=1,
            timeout=120,
            command="scripts/gpu_check.py --dry-run",
            folder=results_root,
            log=lambda *_: None,
        )
        print(
            f"  probe notebook recorded in {_seconds(time.perf_counter() - start)}; would record: "
            + ", ".join(f"{c}/{'+'.join(n) if n else '*'}" for c, n in PAGES)
        )
        return [path], failures
    for chapter, notebooks in PAGES:
        left = int(deadline - time.perf_counter())
        if left < 30:
            failures.append(f"{chapter}: not run, the time budget is spent")
            print(f"  {chapter}: skipped (budget spent)")
            continue
        start = time.perf_counter()
        try:
            paths = reproduce(
                chapter,
                list(notebooks) if notebooks else None,
                profile="full",
                timeout=left,
                folder=results_root,
                log=lambda line: print("  " + line),
            )
        except (ResultsError, TimeoutError) as exc:
            failures.append(f"{chapter}: {str(exc).splitlines()[0]}")
            print(f"  {chapter}: FAILED after {_seconds(time.perf_counter() - start)}: {str(exc).splitlines()[0]}")
            continue
        written += paths
        print(f"  {chapter}: {len(paths)} file(s) in {_seconds(time.perf_counter() - start)}")
    return written, failures


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="scripts/gpu_check.py", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="everything but the CUDA parts, on the CPU with tiny sizes, into a temporary results folder",
    )
    parser.add_argument(
        "--results",
        default=None,
        help="results folder (default: the repository's results/; a temporary folder with --dry-run)",
    )
    parser.add_argument(
        "--budget", type=float, default=450.0, help="seconds for the whole check (default: %(default)s)"
    )
    parser.add_argument("--skip-reproduce", action="store_true", help="only the benchmark rows")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    deadline = start + args.budget
    with tempfile.TemporaryDirectory(prefix="lstm-course-gpu-check-") as tmp:
        scratch = Path(tmp)
        if args.results:
            results_root = Path(args.results)
        elif args.dry_run:
            results_root = scratch / "results"
        else:
            results_root = ROOT / "results"
        try:
            return _run(args, argv, results_root, scratch, start, deadline)
        except CheckError as exc:
            print(f"gpu-check: {exc}", file=sys.stderr)
            return 2


def _run(
    args: argparse.Namespace, argv: list[str], results_root: Path, scratch: Path, start: float, deadline: float
) -> int:
    import torch

    if not args.dry_run and not torch.cuda.is_available():
        raise CheckError(
            f"no CUDA GPU is visible to PyTorch (torch {torch.__version__}); use --dry-run to test the command on a CPU"
        )
    where = "dry run on the CPU" if args.dry_run else f"GPU {torch.cuda.get_device_name(0)}"
    print(f"gpu-check ({where}), results -> {results_root}")
    command = shlex.join(["python", "scripts/gpu_check.py", *argv])
    times, written, failures = {}, [], []

    part = time.perf_counter()
    print("[1/2] benchmark rows")
    try:
        written += run_benchmark_part(results_root, dry_run=args.dry_run, command=command)
    except Exception as exc:  # noqa: BLE001 - reported, the reproduce part still runs
        failures.append(f"benchmark: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        print(f"  FAILED: {failures[-1]}")
    times["benchmark"] = time.perf_counter() - part

    if not args.skip_reproduce:
        part = time.perf_counter()
        print("[2/2] full-profile pages" + (" (probe notebook)" if args.dry_run else ""))
        paths, failed = run_reproduce_part(results_root, dry_run=args.dry_run, deadline=deadline, scratch=scratch)
        written += paths
        failures += failed
        times["reproduce"] = time.perf_counter() - part

    times["total"] = time.perf_counter() - start
    print("time per part: " + ", ".join(f"{k} {_seconds(v)}" for k, v in times.items()))
    for path in written:
        print("wrote", path)
    for failure in failures:
        print("failed:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
