"""Self-checks for the exercises: ``lstm_course.check.<name>(your_function)``.

Each check runs the learner's code on random inputs, compares it with the package's
reference implementation, prints ``✅ 通过`` on success and raises
:class:`~lstm_course.check.core.CheckFailed` with a specific Chinese message on the first
mismatch.  Checks live in topic modules of this package (one per chapter); every public
name listed in a topic module's ``__all__`` is re-exported here.
"""

from __future__ import annotations

import importlib
import pkgutil

from lstm_course.check.core import CheckFailed, assert_close, passed

__all__ = ["CheckFailed", "assert_close", "passed"]

for _info in pkgutil.iter_modules(__path__):
    if _info.name == "core":
        continue
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in getattr(_module, "__all__", ()):
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
