"""``lstm-course data list|fetch``."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` group (``list``, ``fetch NAME [--quiet]``) to the ``lstm-course`` parser."""
    parser = subparsers.add_parser("data", help="list or download the course datasets")
    commands = parser.add_subparsers(dest="command", metavar="ACTION", required=True)
    listing = commands.add_parser("list", help="show the known datasets and where a copy was found")
    listing.set_defaults(func=_list)
    fetch = commands.add_parser("fetch", help="download (or find) and verify a dataset; prints its path")
    fetch.add_argument("name", help="dataset name, see `lstm-course data list`")
    fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    fetch.set_defaults(func=_fetch)


def _list(args: argparse.Namespace) -> int:
    from lstm_course.data import REGISTRY

    for ds in REGISTRY.values():
        print(f"{ds.name:26s} {ds.filename:30s} {ds.description}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from lstm_course.data import fetch

    print(fetch(args.name, progress=not args.quiet))
    return 0
