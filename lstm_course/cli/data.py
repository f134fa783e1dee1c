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
        print(f"{'':26s} {where_found(ds)}")
    return 0


def where_found(ds) -> str:
    """Where a copy of ``ds`` lies (``LSTM_COURSE_DATA`` first, then the cache) and whether it is intact."""
    from lstm_course.data.fetch import cache_dir, provided_path, sha256_of

    for kind, path in (("provided", provided_path(ds)), ("cached", cache_dir() / ds.filename)):
        try:
            if path is None or not path.is_file():
                continue
            state = "verified" if sha256_of(path) == ds.sha256 else "corrupted, will not be used"
        except OSError as exc:
            state = f"unreadable: {exc.strerror or exc}"
        return f"{kind} copy: {path} ({state})"
    return "no local copy yet: `lstm-course data fetch " + ds.name + "` downloads it"


def _fetch(args: argparse.Namespace) -> int:
    from lstm_course.data import fetch

    print(fetch(args.name, progress=not args.quiet))
    return 0
