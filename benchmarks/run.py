"""Command line of the benchmark: ``python -m benchmarks.run [--quick] [--out DIR] [--only ID ...]``.

Without options: every implementation, full timing (2 warm-up steps, median of 5 × 5 timed
steps), d2l's configuration B=32, T=35, H=256, one thread; results go to
``benchmarks/results/<device>-<date>.json`` and ``.md``.  ``--quick`` uses the quick timing and
leaves out the slow rows (``torch.compile``) unless ``--only`` names them.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace

from benchmarks.report import RESULTS_DIR, write_results


def build_parser() -> argparse.ArgumentParser:
    from lstm_course.experiments.speed_impls import IMPL_IDS

    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="quick timing, no slow rows")
    parser.add_argument("--out", default=str(RESULTS_DIR), help="results directory (default: %(default)s)")
    parser.add_argument("--only", nargs="+", metavar="ID", choices=IMPL_IDS,
                        help="measure only these rows: " + ", ".join(IMPL_IDS))
    parser.add_argument("--list", action="store_true", help="list the row ids and exit")
    parser.add_argument("--device", default="cpu", help="PyTorch device of the torch rows (default: cpu)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for every framework (default: 1)")
    for name, default in (("batch", 32), ("steps", 35), ("hidden", 256)):
        parser.add_argument(f"--{name}", type=int, default=default, help=f"default: {default}")
    parser.add_argument("--no-write", action="store_true", help="print the table, write no files")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from lstm_course.experiments.speed import results_markdown
    from lstm_course.experiments.speed_impls import IMPLS, QUICK_IDS, default_config, run_benchmark

    if args.list:
        for impl in IMPLS:
            print(f"{impl.id:28s} {impl.label}{'  (slow)' if impl.slow else ''}")
        return 0
    config = default_config("quick" if args.quick else "full")
    config = replace(config, batch=args.batch, steps=args.steps, hidden=args.hidden,
                     threads=args.threads, device=args.device)
    ids = args.only or (list(QUICK_IDS) if args.quick else None)
    results = run_benchmark(config, ids, progress=True)
    print(results_markdown(results))
    if not args.no_write:
        for path in write_results(results, args.out, quick=args.quick):
            print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
