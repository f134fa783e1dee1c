"""Throughput benchmark of every LSTM implementation of the course (``python -m benchmarks.run``).

The measuring code lives in the package (:mod:`lstm_course.experiments.speed` for timing, the
matmul peak and the table; :mod:`lstm_course.experiments.speed_impls` for the rows;
:mod:`lstm_course.experiments.benchmark` for the run), because chapter 10 runs the same
measurements live.  This directory adds what only the harness needs: the
command line (:mod:`benchmarks.run`) and the results files (:mod:`benchmarks.report`), written in
the course's results scheme to ``results/ch10_performance/``.
"""
