"""H. G. Wells' *The Time Machine*: raw text and d2l-style normalised lines."""
from __future__ import annotations

import re

from lstm_course.data.fetch import fetch


def read_time_machine() -> list[str]:
    """Lines of the book, normalised as d2l does: non-letters become spaces, lower case.

    Returns:
        list of ``str``, one per line of the file (blank lines kept as ``''``).
    """
    text = fetch("timemachine").read_text(encoding="utf-8")
    return [re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in text.splitlines()]
