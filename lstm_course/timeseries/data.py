"""The two series of chapter 9, both shipped inside ``statsmodels`` (no download; the ``timeseries`` extra)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.datasets import co2 as _co2_source
from statsmodels.datasets import sunspots as _sunspots_source

__all__ = ["sunspots", "CO2", "co2"]


def sunspots() -> pd.Series:
    """Yearly Wolf sunspot numbers 1700–2008 (``statsmodels.datasets.sunspots``), indexed by year."""
    frame = _sunspots_source.load_pandas().data
    years = frame["YEAR"].astype(int).to_numpy()
    return pd.Series(frame["SUNACTIVITY"].to_numpy(dtype=float), index=pd.Index(years, name="year"), name="sunspots")


@dataclass(frozen=True)
class CO2:
    """Weekly Mauna Loa CO₂ (ppm) with its missing weeks filled.

    Attributes:
        series: weekly values (``W-SAT``), no missing entries.
        filled: boolean mask, shape ``(len(series),)``: weeks that were missing and interpolated.
        longest_gap: the longest run of consecutive missing weeks.
    """

    series: pd.Series
    filled: np.ndarray
    longest_gap: int


def co2() -> CO2:
    """``statsmodels.datasets.co2`` (1958–2001), missing weeks linearly interpolated in time.

    The source is already on a regular weekly (Saturday) grid; some weeks have no measurement.
    They are filled by linear interpolation between the neighbouring weeks and flagged in
    :attr:`CO2.filled`, so a page can say how many values are not measurements.
    """
    raw = _co2_source.load_pandas().data["co2"].asfreq("W-SAT")
    missing = raw.isna().to_numpy()
    runs, current = [0], 0
    for flag in missing:
        current = current + 1 if flag else 0
        runs.append(current)
    filled = raw.interpolate(method="time", limit_direction="both")
    return CO2(filled.rename("co2"), missing, max(runs))
