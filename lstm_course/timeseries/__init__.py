"""Time-series forecasting (chapter 9): data, leak-free splits, baselines, metrics, an LSTM.

Modules: :mod:`~lstm_course.timeseries.data` (statsmodels' sunspots and co2),
:mod:`~lstm_course.timeseries.splits` (chronological splits, rolling origins),
:mod:`~lstm_course.timeseries.scaling` (a scaler fitted on training data only),
:mod:`~lstm_course.timeseries.windows` (input/target windows inside a split),
:mod:`~lstm_course.timeseries.metrics` (MAE, RMSE, MASE, the lag of best correlation),
:mod:`~lstm_course.timeseries.baselines` (persistence, seasonal naive, mean, AR),
:mod:`~lstm_course.timeseries.walkforward` (walk-forward evaluation, recursive forecasts),
:mod:`~lstm_course.timeseries.model` and :mod:`~lstm_course.timeseries.train` (the LSTM; torch).

Importing this package imports neither torch nor statsmodels.
"""
