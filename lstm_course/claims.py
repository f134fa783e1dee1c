"""Numbers for the prose, and claims asserted in code.

A number that a run produced reaches a markdown cell through myst-nb's ``glue``: the notebook
calls :func:`glue` with the value, the markdown cell writes ``{glue:text}`name:.3f```.  A
qualitative sentence of the prose ("A 比 B 快") is backed by a :func:`claim` in the cell before
it: the claim glues the numbers behind it and raises :class:`ClaimError`, naming the statement
and the numbers, when it does not hold, so the notebook fails in CI the day the prose stops
being true.

When the environment variable :data:`RECORD_ENV` names a file, every glued value is also
written there (``lstm-course reproduce`` uses this to record a chapter's full-profile results;
see :mod:`lstm_course.results`).

>>> from lstm_course.claims import claim, glue
>>> glue("lstm_ppl", 3.69)
3.69
>>> claim("LSTM 的验证困惑度低于 n 元语法基线", 3.69 < 3.81, lstm_ppl=3.69, ngram_ppl=3.81)
"""

from __future__ import annotations

import json
import math
import numbers
import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

#: Environment variable naming a JSON file that collects every glued value of a run.
RECORD_ENV = "LSTM_COURSE_RECORD_TO"

#: Prefix of the names under which recorded full-profile values are glued; never recorded again.
RECORDED_PREFIX = "full_"

T = TypeVar("T")


class ClaimError(AssertionError):
    """A claim of the prose does not hold for the numbers this run measured."""


def _plain(value: Any) -> Any:
    """NumPy/torch scalars become Python numbers (they render and serialise the same).

    ``np.float64`` is a subclass of ``float`` whose repr is ``np.float64(0.5)`` under NumPy 2,
    which a glue format such as ``:.3f`` cannot read, so only the exact built-in types pass.
    """
    if type(value) in (bool, int, float, str):
        return value
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _record(name: str, value: Any) -> None:
    path = os.environ.get(RECORD_ENV)
    if not path or name.startswith(RECORDED_PREFIX):
        return
    if not isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ClaimError(f"glue {name!r}: refusing to record a non-finite value ({value})")
    target = Path(path)
    values = json.loads(target.read_text(encoding="utf-8")) if target.exists() else {}
    values[name] = value
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle, ensure_ascii=False, indent=1)
    os.replace(tmp, target)


def glue(name: str, value: T, *, display: bool = False) -> T:
    """Glue ``value`` under ``name`` for the page's markdown and return it unchanged.

    Numbers are pasted with ``{glue:text}`name:.3f```, text with ``{glue:md}`name```.
    Outside a Jupyter Book build (no ``myst_nb``, or no IPython kernel) nothing is displayed;
    the value is still returned and, when :data:`RECORD_ENV` is set, recorded.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"glue name must be an identifier, got {name!r}")
    plain = _plain(value)
    _record(name, plain)
    try:
        from IPython import get_ipython
        from myst_nb import glue as myst_glue
    except ImportError:
        return value
    if get_ipython() is not None:
        if isinstance(plain, str):
            from IPython.display import Markdown

            plain = Markdown(plain)  # text is pasted with {glue:md}`name`
        myst_glue(name, plain, display=display)
    return value


def glue_run(device: Any, threads: int | None = None) -> str:
    """Glue where this run happens (``run_device``, ``run_threads``) and return a Chinese line.

    Pages call it once, after choosing the device; ``lstm-course reproduce`` copies both values
    into the provenance of a recorded run.
    """
    from lstm_course.config import profile

    glue("run_device", str(device))
    if threads is not None:
        glue("run_threads", int(threads))
    where = f"设备 {device}" + (f"，{threads} 个 CPU 线程" if threads is not None else "")
    return f"本次运行：{profile()} 配置，{where}"


def glue_all(values: dict[str, Any]) -> None:
    """Glue every ``name: value`` of a dict (see :func:`glue`)."""
    for name, value in values.items():
        glue(name, value)


def _describe(numbers_: dict[str, Any]) -> str:
    parts = []
    for name, value in numbers_.items():
        value = _plain(value)
        if isinstance(value, float):
            parts.append(f"{name}={value:.6g}")
        else:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def claim(statement: str, holds: bool, **numbers_: Any) -> None:
    """Assert a sentence of the prose, gluing the numbers behind it.

    Args:
        statement: the sentence as the page states it (Chinese is fine).
        holds: the comparison that makes it true, computed from this run's numbers.
        **numbers_: the numbers behind the statement; each is glued under its keyword.

    Raises:
        ClaimError: naming the statement and the numbers when ``holds`` is false.
    """
    for name, value in numbers_.items():
        glue(name, value)
    if not isinstance(holds, bool):
        holds = bool(_plain(holds))
    if not holds:
        detail = f" ({_describe(numbers_)})" if numbers_ else ""
        raise ClaimError(f"claim does not hold: {statement}{detail}")
