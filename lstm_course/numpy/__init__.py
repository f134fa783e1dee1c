"""Pure-NumPy recurrent networks (forward and hand-written backward) and a gradient checker.

Submodules: :mod:`~lstm_course.numpy.gradcheck` (finite differences),
``rnn``, ``lstm``, ``gru`` (one cell type each).  Everything here is float64-friendly and
needs neither PyTorch nor TensorFlow.
"""
