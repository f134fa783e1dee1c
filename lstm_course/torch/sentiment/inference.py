"""Batched inference over encoded reviews: logits and probabilities in data order, no gradients.

Training (its validation loss and accuracy), evaluation and prediction all run the model through
:func:`predict_logits`, so the three see the same length-sorted batches, eval mode, ``no_grad``
and device.
"""

from __future__ import annotations

import numpy as np
import torch

from lstm_course.data.reviews import EncodedReviews
from lstm_course.runtime import model_device
from lstm_course.torch.sentiment.batching import make_loader
from lstm_course.torch.sentiment.model import SentimentLSTM

__all__ = ["positive_probabilities", "predict_logits", "sigmoid"]


def predict_logits(
    model: SentimentLSTM, data: EncodedReviews, *, batch_size: int = 256, device: torch.device | str | None = None
) -> np.ndarray:
    """Logits ``(n,)`` (float32) of every review of ``data``, in data order.

    Eval mode (no dropout) and no gradients; the model's training mode is restored afterwards.
    Runs on the device of the model's parameters (move the model first); ``device``, if given,
    must be that device (:func:`lstm_course.runtime.model_device`).
    """
    device = model_device(model, device)
    logits = np.zeros(len(data), dtype=np.float32)
    if len(data) == 0:
        return logits
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            loader = make_loader(data, batch_size=batch_size, pad_index=model.config.pad_index, shuffle=False)
            for batch in loader:
                out = model(batch["tokens"].to(device), batch["lengths"])
                logits[batch["index"].numpy()] = out.float().cpu().numpy()  # float64 only on the CPU (MPS)
    finally:
        model.train(was_training)
    return logits


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """``P(positive)`` ``(n,)`` (float64) from logits ``(n,)``, computed as torch computes it."""
    return torch.sigmoid(torch.from_numpy(np.asarray(logits, dtype=np.float32))).double().numpy()


def positive_probabilities(
    model: SentimentLSTM, data: EncodedReviews, *, batch_size: int = 256, device: torch.device | str | None = None
) -> np.ndarray:
    """``P(positive)`` ``(n,)`` (float64) of every review of ``data``, in data order (see :func:`predict_logits`)."""
    return sigmoid(predict_logits(model, data, batch_size=batch_size, device=device))
