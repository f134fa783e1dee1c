"""Run profiles: ``quick`` (CI, laptops) and ``full`` (the published site, on a GPU).

The profile is read from the environment variable ``LSTM_COURSE_PROFILE``
(default ``quick``: Colab, laptops and ``pip install`` users get the quick profile unless
they ask for ``full``; ``lstm-course reproduce`` sets ``full`` itself).  Code never branches
on the profile by hand; it asks :func:`by_profile` for the settings of the active one, so both
profiles run the same code path with different sizes.
"""

from __future__ import annotations

import os
from typing import TypeVar

ENV_VAR = "LSTM_COURSE_PROFILE"
PROFILES = ("quick", "full")
DEFAULT_PROFILE = "quick"

T = TypeVar("T")


class ProfileError(ValueError):
    """Raised when ``LSTM_COURSE_PROFILE`` names no known profile."""


def profile() -> str:
    """Return the active profile, ``'quick'`` or ``'full'``.

    Raises:
        ProfileError: if ``LSTM_COURSE_PROFILE`` is set to anything else.
    """
    value = os.environ.get(ENV_VAR, "").strip().lower() or DEFAULT_PROFILE
    if value not in PROFILES:
        raise ProfileError(
            f"{ENV_VAR}={os.environ.get(ENV_VAR)!r} is not a known profile; "
            f"use one of {', '.join(PROFILES)} (unset means {DEFAULT_PROFILE!r})."
        )
    return value


def by_profile(*, quick: T, full: T) -> T:
    """Pick the value for the active profile.

    >>> by_profile(quick=dict(epochs=2), full=dict(epochs=50))  # doctest: +SKIP
    {'epochs': 2}
    """
    return quick if profile() == "quick" else full
