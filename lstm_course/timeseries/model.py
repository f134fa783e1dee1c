"""The LSTM forecaster: a window of past values in, the next ``horizon`` values out."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lstm_course.timeseries.scaling import Standardizer

__all__ = ["LSTMForecaster", "as_forecaster"]


class LSTMForecaster(nn.Module):
    """``nn.LSTM`` over a scaled window, a linear layer on the last hidden state.

    Input ``(batch, window)`` of scaled values, output ``(batch, horizon)`` of scaled values.
    """

    def __init__(self, hidden_size: int = 32, horizon: int = 1, num_layers: int = 1) -> None:
        super().__init__()
        self.horizon = horizon
        self.lstm = nn.LSTM(1, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, horizon)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        if windows.dim() != 2:
            raise ValueError(f"expected windows of shape (batch, window), got {tuple(windows.shape)}")
        outputs, _ = self.lstm(windows.unsqueeze(-1))  # (batch, window, hidden)
        return self.head(outputs[:, -1])  # (batch, horizon)


def as_forecaster(model: LSTMForecaster, scaler: Standardizer, window: int):
    """A ``history -> forecast`` callable in the series' units (uses the last ``window`` values)."""
    model.eval()

    def forecast(history: np.ndarray) -> np.ndarray:
        if len(history) < window:
            raise ValueError(f"the LSTM needs {window} past values, got {len(history)}")
        x = torch.as_tensor(scaler.transform(history[-window:]), dtype=torch.float32)[None]
        with torch.no_grad():
            return scaler.inverse(model(x)[0].numpy())

    return forecast
