"""Experiments the chapters run and measure, one module per experiment.

Chapter 2: :mod:`~lstm_course.experiments.gradient_flow` (RNN/LSTM/GRU), :mod:`~lstm_course.experiments.adding`,
:mod:`~lstm_course.experiments.exploding`.  Chapter 6: :mod:`~lstm_course.experiments.depth`,
:mod:`~lstm_course.experiments.cloze`, :mod:`~lstm_course.experiments.bidirectional_lm`,
:mod:`~lstm_course.torch.influence`.  Chapter 7: :mod:`~lstm_course.experiments.transfer`
(label efficiency of a pre-trained LM).  Chapter 8: :mod:`~lstm_course.experiments.speed`,
:mod:`~lstm_course.experiments.speed_impls`, :mod:`~lstm_course.experiments.step_cost`.
Chapter 9: :mod:`~lstm_course.experiments.streaming`.  Shared helpers: :mod:`~lstm_course.experiments.common`.
"""
