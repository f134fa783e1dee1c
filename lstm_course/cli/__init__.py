"""The ``lstm-course`` command line.

Each command group lives in its own module of this package and exposes
``register(subparsers)``; :data:`COMMAND_MODULES` lists them.  Errors a user can fix are
raised as :class:`UsageError` (or a data-layer error) and printed as one line, exit code 2/1.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: The command groups, one module of this package each (``lstm-course GROUP ...``).
COMMAND_MODULES = ("data", "lm", "sentiment", "reproduce")


class UsageError(Exception):
    """A problem with what the user asked for; printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, one sub-command group per module in :data:`COMMAND_MODULES`."""
    parser = argparse.ArgumentParser(
        prog="lstm-course",
        description="Companion tools of the LSTM course: datasets, language models, sentiment.",
    )
    from lstm_course import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"lstm_course.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse ``argv`` and run the chosen command; returns the exit code."""
    from lstm_course.data import DataError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"lstm-course: error: {exc}", file=sys.stderr)
        return 2
    except DataError as exc:
        print(f"lstm-course: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lstm-course: interrupted", file=sys.stderr)
        return 130
