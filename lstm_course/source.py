"""Show the package's real code on a page: a whole function, or one block of it.

Pages print code with :func:`inspect.getsource` so that what a learner reads is what runs.
When a function is long (argument checks, progress bars, error handling), :func:`block` cuts
out the one loop a lesson is about, still read from the installed source:

>>> from lstm_course.source import block
>>> print(block(block, "for number, line"))  # doctest: +ELLIPSIS
for number, line in enumerate(lines):
...
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

__all__ = ["block"]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def block(obj: Any, header: str) -> str:
    """The first statement of ``obj``'s source whose first line contains ``header``, with
    its indented body (e.g. a ``for`` loop), dedented.

    Raises:
        ValueError: when no line of the source contains ``header``.
    """
    lines = inspect.getsource(obj).splitlines()
    number = next((i for i, line in enumerate(lines) if header in line), None)
    if number is None:
        name = getattr(obj, "__qualname__", repr(obj))
        raise ValueError(f"no line of {name} contains {header!r}")
    line = lines[number]
    first = _indent(line)
    body = [line]
    for following in lines[number + 1 :]:
        if following.strip() and _indent(following) <= first:
            break
        body.append(following)
    while body and not body[-1].strip():
        body.pop()
    return textwrap.dedent("\n".join(body))
