"""Chapter 8: sequence to sequence — numbers read aloud in Chinese with an LSTM encoder–decoder.

Modules, one job each: :mod:`~lstm_course.seq2seq.data` (numbers, readings by ``cn2an``,
splits, vocabularies; no torch), :mod:`~lstm_course.seq2seq.batches` (padded tensors),
:mod:`~lstm_course.seq2seq.attention`, :mod:`~lstm_course.seq2seq.model` (encoder, decoder),
:mod:`~lstm_course.seq2seq.train` (masked loss, training loop),
:mod:`~lstm_course.seq2seq.decode` (greedy and beam search, free-running loss),
:mod:`~lstm_course.seq2seq.evaluate` (exact match, token accuracy, by length) and
:mod:`~lstm_course.seq2seq.checkpoint` (safe save/load).
"""
