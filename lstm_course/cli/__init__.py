"""The ``lstm-course`` command line.

Each command group lives in its own module of this package and exposes
``register(subparsers)``; :data:`COMMAND_MODULES` lists them.  Errors a user can fix are
raised as :class:`UsageError` (or a data-layer error) and printed as one line, exit code 2/1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

#: The command groups, one module of this package each (``lstm-course GROUP ...``).
COMMAND_MODULES = ("data", "lm", "sentiment", "seq2seq", "reproduce")


class UsageError(Exception):
    """A problem with what the user asked for; printed without a traceback."""


def positive_int(text: str) -> int:
    """argparse ``type=`` for a count: an integer >= 1, else a one-line argparse error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def check_input_file(option: str, value: str) -> Path:
    """``value`` as a path to an existing file, or a one-line :class:`UsageError` saying what it is instead."""
    path = Path(value)
    if path.is_dir():
        raise UsageError(f"{option} {value} is a directory, not a file")
    if not path.is_file():
        raise UsageError(f"{option}: file not found: {value}")
    return path


def ensure_writable(path: str | Path, *, option: str, folder: bool) -> Path:
    """Check before any work that ``path`` (a folder, or a file when ``folder`` is false) can be written.

    Creates nothing: a temporary file is made and removed in the nearest existing folder.

    Raises:
        UsageError: ``path`` is the wrong kind (a file where a folder is wanted or the other way
            round), lies under a file, or its folder is not writable.
    """
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} exists and is not a folder")
    if not folder and path.is_dir():
        raise UsageError(f"{option} {path} is a folder; give a file name")
    existing = path if folder else path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{option} {path}: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write in {existing} ({exc.strerror or exc})") from None
    return path


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"lstm-course: warning: {message}\n"


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
    from lstm_course.config import ProfileError
    from lstm_course.data import DataError

    parser = build_parser()
    args = parser.parse_args(argv)
    formatwarning, warnings.formatwarning = warnings.formatwarning, _one_line_warning
    try:
        return int(args.func(args) or 0)
    except (UsageError, ProfileError) as exc:
        print(f"lstm-course: error: {exc}", file=sys.stderr)
        return 2
    except DataError as exc:
        print(f"lstm-course: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lstm-course: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = formatwarning
