"""The framework-free half of the chapter-4 language model: training history and the n-gram baseline.

Modules, one job each: :mod:`.history` (:class:`LMHistory`, what the PyTorch and TensorFlow
trainers return) and :mod:`.ngram` (the Kneser–Ney baseline an LSTM must beat).  They need only
NumPy, so ``import lstm_course.lm`` imports neither torch nor tensorflow; the PyTorch model,
training loop, generation and checkpoints are :mod:`lstm_course.torch.lm`, the TensorFlow
model :mod:`lstm_course.tf.lm`.
"""

from lstm_course.lm.history import LMHistory
from lstm_course.lm.ngram import KneserNeyLM, OrderSelection, select_order, streams_of

__all__ = ["KneserNeyLM", "LMHistory", "OrderSelection", "select_order", "streams_of"]
