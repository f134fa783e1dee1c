"""The sunspot setting of chapter 9, the one of the forecasting literature (Zhang 2003).

Zhang's hybrid ARIMA–ANN study uses the yearly Wolf numbers 1700–1987, fits on 1700–1920 and
holds out 1921–1987 (67 years) as the test period.  The course keeps that test period and
carves a validation period, 1891–1920, out of the end of the training years, so that model
orders, window lengths and epochs are chosen without looking at the test years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_course.timeseries.data import sunspots
from lstm_course.timeseries.splits import Split

__all__ = ["LAST_YEAR", "VALID_FROM", "TEST_FROM", "sunspot_setting"]

LAST_YEAR = 1987
VALID_FROM = 1891
TEST_FROM = 1921


def sunspot_setting() -> tuple[pd.Series, Split]:
    """Sunspots 1700–1987 and the split train 1700–1890 / validation 1891–1920 / test 1921–1987."""
    series = sunspots().loc[:LAST_YEAR]
    years = series.index.to_numpy()
    split = Split(int(np.searchsorted(years, VALID_FROM)), int(np.searchsorted(years, TEST_FROM)), len(series))
    return series, split
