"""Command line of the benchmark: ``python -m benchmarks.run [--quick] [--out DIR] [--only ID ...]``.

Without options: every implementation, d2l's configuration B=32, T=35, H=256, one thread, the
full timing of :data:`lstm_course.experiments.benchmark.TIMING` (2 warm-up steps, then 3
interleaved rounds × 3 timed groups × 3 steps: the median of 9 groups per row); the results
file is ``results/ch10_performance/benchmark_<device>.json`` (and ``.md``), with provenance.
``--quick`` uses the quick timing (1 round × 3 groups × 1 step), writes ``..._quick.json`` and
leaves out the slow rows (``torch.compile``) unless ``--only`` names them.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import replace

from benchmarks.report import write_results


def build_parser() -> argparse.ArgumentParser:
    from lstm_course.experiments.speed_impls import IMPL_IDS

    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="quick timing, no slow rows")
    parser.add_argument(
        "--out",
        default=None,
        help="results folder (default: the repository's results/; the file goes to OUT/ch10_performance/)",
    )
    parser.add_argument(
        "--only", nargs="+", metavar="ID", choices=IMPL_IDS, help="measure only these rows: " + ", ".join(IMPL_IDS)
    )
    parser.add_argument("--list", action="store_true", help="list the row ids and exit")
    parser.add_argument("--device", default="cpu", help="device of the whole table (default: cpu)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for every framework (default: 1)")
    for name, default in (("batch", 32), ("steps", 35)):
        parser.add_argument(f"--{name}", type=int, default=default, help=f"default: {default}")
    parser.add_argument(
        "--hidden-size", "--hidden", dest="hidden_size", type=int, default=256, help="default: 256 (--hidden: old name)"
    )
    parser.add_argument("--no-write", action="store_true", help="print the table, write no files")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    from lstm_course.experiments.benchmark import default_config, run_benchmark
    from lstm_course.experiments.speed import results_markdown
    from lstm_course.experiments.speed_impls import IMPLS, QUICK_IDS
    from lstm_course.results import git_state

    if args.list:
        for impl in IMPLS:
            print(f"{impl.id:28s} {impl.label}{'  (slow)' if impl.slow else ''}")
        return 0
    config = default_config("quick" if args.quick else "full")
    config = replace(
        config,
        batch=args.batch,
        steps=args.steps,
        hidden_size=args.hidden_size,
        threads=args.threads,
        device=args.device,
    )
    ids = args.only or (list(QUICK_IDS) if args.quick else None)
    git = git_state()
    start = time.perf_counter()
    results = run_benchmark(config, ids, progress=True)
    wall = time.perf_counter() - start
    print(results_markdown(results))
    if not args.no_write:
        command = shlex.join(["python", "-m", "benchmarks.run", *argv])
        for path in write_results(results, args.out, quick=args.quick, command=command, wall_seconds=wall, git=git):
            print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
