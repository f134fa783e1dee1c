"""``lstm-course reproduce CHAPTER [NOTEBOOK ...]``: record a chapter's full-profile results."""

from __future__ import annotations

import argparse

from lstm_course.cli import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``reproduce`` command to the ``lstm-course`` parser."""
    parser = subparsers.add_parser(
        "reproduce",
        help="run a chapter's notebooks in the full profile and record their results",
        description="Execute the notebooks of book/CHAPTER (all, or those named) in a fresh kernel "
        "with LSTM_COURSE_PROFILE=full and write results/CHAPTER/NOTEBOOK.json: every "
        "value the notebook glued, with the command, commit, date, device, package "
        "versions, threads and wall time. Run it inside a checkout of the course.",
    )
    parser.add_argument("chapter", help="chapter folder, e.g. ch07_sentiment")
    parser.add_argument("notebooks", nargs="*", help="notebook names (default: every section)")
    parser.add_argument(
        "--profile",
        choices=("full", "quick"),
        default="full",
        help="profile to run (default full; quick is for trying the command)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="OMP_NUM_THREADS for the kernel (default: the frameworks' choice)"
    )
    parser.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell (default: no limit)")
    parser.set_defaults(func=_reproduce)


def _reproduce(args: argparse.Namespace) -> int:
    import os

    from lstm_course.results import ResultsError, reproduce

    if args.threads is not None and not 1 <= args.threads <= (os.cpu_count() or 1):
        raise UsageError(f"--threads must be between 1 and {os.cpu_count()}, got {args.threads}")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout}")
    try:
        reproduce(args.chapter, args.notebooks, profile=args.profile, threads=args.threads, timeout=args.timeout)
    except ResultsError as exc:
        raise UsageError(str(exc)) from None
    return 0
