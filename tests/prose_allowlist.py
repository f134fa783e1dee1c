"""Numbers that may stand in the prose of the notebooks without a glue role.

A number in a markdown cell that a run produced (an accuracy, a perplexity, a speed, a ratio, a
count from the data, a decay factor) must be glued (``{glue:text}`name:.3f```).  What is left here
are constants that are not results: settings the page fixes in code, confidence levels, exact
formulas worked out by hand.  Each entry is a phrase as it stands in the prose (the number with
enough words around it to be unambiguous) and the reason it is not a result.  Prefer gluing a
setting from the code that sets it over adding an entry.

Keyed by chapter folder; each chapter keeps its own block.
"""

from __future__ import annotations

ALLOWED: dict[str, dict[str, str]] = {
    "*": {
        "95% 置信": "the confidence level of every interval in the book (a choice, not a result)",
        "95% Wilson": "the confidence level of every interval in the book (a choice, not a result)",
    },
    "ch01_rnn": {},
    "ch02_gradients": {},
    "ch03_lstm": {
        "TensorFlow 2.16": "a library version number, not a result",
    },
    "ch04_language_model": {
        "TensorFlow 2.16": "the release from which tf.keras is Keras 3 (a fact, not a result)",
        "TensorFlow 2.21": "the release the KERAS3_CHANGES table was tried on",
        "标准差 0.01": "d2l's initialisation setting, which ScratchLM reproduces",
        "接近 0.5": "sigmoid(0) = 0.5 exactly: gates of near-zero weights",
        "1.0.3 版": "the version of the installed d2l package",
        "差距都不超过 $10^{-5}$": "the tolerance tests/test_d2l_crosscheck.py asserts",
        "$10^{-3}$ 量级": "the size of TF32 rounding (10-bit mantissa), a hardware fact",
        "d2l 0.17": "the version of the d2l package whose interface is described",
        "前 90%": "the train/validation split that load_time_machine_splits fixes (a setting)",
        "最后 10%": "the train/validation split that load_time_machine_splits fixes (a setting)",
        "温度 0.5": "a sampling temperature the page sets in code (a setting)",
        "温度 1.0": "a sampling temperature the page sets in code (a setting)",
        "温度 1.5": "a sampling temperature the page sets in code (a setting)",
    },
    "ch05_gru": {
        "[0.8, -0.6]": "the inputs an exercise fixes",
        "[0.5, 1]": "the inputs an exercise fixes",
        "前 90%": "the train/validation split that load_time_machine_splits fixes (a setting)",
        "最后 10%": "the train/validation split that load_time_machine_splits fixes (a setting)",
        "R_t\\cdot 0.5": "the value of H_{t-1} the worked example sets in code",
    },
    "ch06_deep_bidirectional": {
        "差别在 $10^{-7}$ 量级": "the size of float32 rounding, a hardware fact",
        "接近 100%": "the accuracy of copying the input, a thought experiment",
        "前 90%": "the train/validation split that load_time_machine_splits fixes (a setting)",
        "最后 10%": "the train/validation split that load_time_machine_splits fixes (a setting)",
    },
    "ch07_sentiment": {
        r"\Phi^{-1}(0.975)": "the normal quantile that defines the 95% level (a constant)",
        "大于 0.05": "the conventional significance level of a test (a choice)",
    },
    "ch08_seq2seq": {},
    "ch09_timeseries": {},
    "ch10_performance": {},
    "ch11_summary": {
        "困惑度 1.05": "the hypothetical value of an exercise's scenario (checked against the baseline in code)",
    },
    "preface": {},
    "appendix": {},
}
