"""Side by side with the installed d2l package (1.0.3, TensorFlow flavour; installed with --no-deps).

What is compared, and why this way:

* **Text, vocabulary, corpus.**  d2l 1.0.x normalises the whole book at once (our
  ``join_lines=True``) and its ``Vocab`` orders tokens *alphabetically*; the Chinese edition's
  API (d2l 0.17, ``load_data_time_machine``), which ours follows, orders them by frequency.
  Both versions compute the same ``token_freqs`` list (frequency order, ties in order of first
  appearance), and the 0.17 order is exactly that list filtered by ``min_freq``.  So we check:
  identical normalised text; identical ``token_freqs``; the same token set; our order equals
  d2l's ``token_freqs`` order; and identical corpora once indices are mapped back to tokens.
* **Loss with the same weights.**  d2l's *library* has the language-model pipeline
  (``RNNLMScratch``: one-hot input, output layer ``H @ W_hq + b_q``, ``Classifier.loss``) and a
  scratch RNN (``RNNScratch``); its scratch LSTM exists only in the book's text (§10.1), not in
  the package.  We therefore compare (a) d2l's complete scratch RNN language model with ours
  (``nn.RNN`` inside :class:`~lstm_course.torch.lm.model.RNNLM`), and (b) d2l's ``RNNLMScratch``
  driving d2l's own §10.1 ``LSTMScratch`` — the book's listing reproduced unchanged, with
  attribution, in :mod:`lstm_course.experiments.speed_impls` (the benchmarks' d2l peer), not the
  course's LSTM — with our PyTorch per-gate, fused and ``nn.LSTM`` models and our TensorFlow
  ``ScratchLM``, all with the same weights, on the same batch of the book, to ≤ 1e-5.

If the environment variable ``LSTM_COURSE_D2L017`` names the ``d2l/tensorflow.py`` of d2l 0.17.6
(the Chinese edition's API; ``pip download d2l==0.17.6 --no-deps`` and unzip), the pipeline is
also compared with it function by function, batches included.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys

import numpy as np
import pytest
import torch
from torch import nn

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402
from d2l import tensorflow as d2l  # noqa: E402

from lstm_course.convert import load_lstm_params  # noqa: E402
from lstm_course.data import Vocab, fetch  # noqa: E402
from lstm_course.data import timemachine as tm  # noqa: E402
from lstm_course.experiments.speed_impls import _d2l_lstm_scratch  # noqa: E402
from lstm_course.tf.lm import ScratchLM, lm_loss_tf  # noqa: E402
from lstm_course.torch.lm import RNNLM, generate, lm_loss  # noqa: E402
from lstm_course.torch.lstm import FusedLSTM, ScratchLSTM  # noqa: E402

RAW = fetch("timemachine").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def d2l_build():
    """d2l 1.0.3's ``TimeMachine.build`` on the raw book, without its download step."""
    machine = object.__new__(d2l.TimeMachine)
    tokens = machine._tokenize(machine._preprocess(RAW))
    corpus, vocab = machine.build(RAW)
    return tokens, corpus, vocab


def test_d2l_version_is_the_one_compared_with():
    import d2l as package

    assert package.__version__ == "1.0.3"


def test_normalised_text_equals_d2l(d2l_build):
    tokens, _, _ = d2l_build
    ours = tm.time_machine_tokens("char", join_lines=True)
    assert "".join(tokens) == "".join(ours) + " "  # d2l keeps the space the final "." becomes


@pytest.mark.parametrize("token, min_freq, reserved", [("char", 0, []), ("word", 3, ["<pad>"]), ("word", 0, [])])
def test_vocab_equals_d2l_up_to_its_documented_order(token, min_freq, reserved):
    lines = tm.tokenize([tm.normalize(RAW)], token)
    ours = Vocab(lines, min_freq=min_freq, reserved_tokens=reserved)
    theirs = d2l.Vocab(lines, min_freq=min_freq, reserved_tokens=reserved)
    assert ours.token_freqs == theirs.token_freqs
    assert sorted(ours.idx_to_token) == theirs.idx_to_token  # same tokens; d2l 1.0 sorts them
    kept = [t for t, f in theirs.token_freqs if f >= min_freq]
    assert ours.idx_to_token == ["<unk>", *reserved, *kept]  # frequency order (d2l 0.17 / zh)
    flat = [t for line in lines for t in line]
    assert ours.to_tokens(ours[flat]) == theirs.to_tokens(theirs[flat])  # same <unk> mapping
    assert ours[["zzzz-unseen"]] == [ours.unk] and theirs.to_tokens(theirs.unk) == "<unk>"


def test_corpus_equals_d2l_after_mapping_indices(d2l_build):
    tokens, corpus_d2l, vocab_d2l = d2l_build
    corpus, vocab = tm.load_corpus_time_machine(join_lines=True)
    assert vocab.to_tokens(corpus) == vocab_d2l.to_tokens(corpus_d2l)[:-1]
    # The index maps are one permutation: ours -> d2l's.
    perm = np.array([vocab_d2l[t] for t in vocab.idx_to_token])
    assert len(set(perm)) == len(perm) == len(vocab_d2l)
    np.testing.assert_array_equal(perm[np.array(corpus)], np.array(corpus_d2l[:-1]))


# ----------------------------------------------------------------- same weights, same loss
V, H, B, T = 28, 32, 4, 10


@pytest.fixture(scope="module")
def batch():
    loader, vocab = tm.load_time_machine(B, T)
    X, Y = next(tm.seq_data_iter_sequential(loader.corpus, B, T, offset=3))
    return X, Y, vocab


def _d2l_loss(lm, X, Y) -> float:
    # Keras 3 models own an attribute named `loss`, which hides d2l's method; call it explicitly.
    return float(d2l.Classifier.loss(lm, lm(tf.constant(X)), tf.constant(Y)))


def test_scratch_rnn_language_model_matches_d2l(batch):
    X, Y, vocab = batch
    tf.random.set_seed(0)
    lm = d2l.RNNLMScratch(d2l.RNNScratch(V, H, sigma=0.5), V)
    rnn = nn.RNN(V, H)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(lm.rnn.W_xh.numpy().T))
        rnn.weight_hh_l0.copy_(torch.tensor(lm.rnn.W_hh.numpy().T))
        rnn.bias_ih_l0.copy_(torch.tensor(lm.rnn.b_h.numpy()))
        rnn.bias_hh_l0.zero_()
    ours = RNNLM(rnn, V)
    with torch.no_grad():
        ours.output.weight.copy_(torch.tensor(lm.W_hq.numpy().T))
        ours.output.bias.copy_(torch.tensor(lm.b_q.numpy()))
    logits, _ = ours(torch.as_tensor(X))
    np.testing.assert_allclose(
        logits.detach().numpy().transpose(1, 0, 2), lm(tf.constant(X)).numpy(), atol=1e-4, rtol=1e-4
    )
    loss = lm_loss(logits, torch.as_tensor(Y)).item()
    assert abs(loss - _d2l_loss(lm, X, Y)) <= 1e-5
    # Greedy generation = d2l's RNNLMScratch.predict.  Its last line, int() of a 1-element 1-D
    # tensor, fails with NumPy 2, so the same steps are driven here with d2l's own building blocks.
    prefix = "time traveller"
    state, outputs = None, [vocab[prefix[0]]]
    for i in range(len(prefix) + 20 - 1):
        rnn_outputs, state = lm.rnn(lm.one_hot(tf.constant([[outputs[-1]]])), state)
        if i < len(prefix) - 1:
            outputs.append(vocab[prefix[i + 1]])
        else:
            outputs.append(int(tf.argmax(lm.output_layer(rnn_outputs), axis=2)[0, 0]))
    assert generate(ours, vocab, prefix, 20) == "".join(vocab.idx_to_token[i] for i in outputs)


@pytest.fixture(scope="module")
def d2l_lstm_lm():
    """d2l's RNNLMScratch around d2l's own §10.1 LSTMScratch (the book's code, not ours)."""
    tf.random.set_seed(1)
    lstm = _d2l_lstm_scratch(d2l, tf)(num_inputs=V, num_hiddens=H, sigma=0.3)
    return d2l.RNNLMScratch(lstm, V), lstm


def _d2l_weights(lstm) -> dict[str, np.ndarray]:
    """The twelve d2l-named arrays of d2l's LSTMScratch (W_xi, W_hi, b_i, ... for i, f, o, c)."""
    return {f"{kind}{g}": getattr(lstm, f"{kind}{g}").numpy() for g in "ifoc" for kind in ("W_x", "W_h", "b_")}


def test_the_d2l_lstm_is_not_the_course_lstm(d2l_lstm_lm):
    from lstm_course.tf.lstm import TFScratchLSTM

    _, lstm = d2l_lstm_lm
    assert isinstance(lstm, d2l.Module) and not isinstance(lstm, TFScratchLSTM)
    assert type(lstm).__name__ == "LSTMScratch" != TFScratchLSTM.__name__  # d2l's name, not ours


@pytest.mark.parametrize(
    "make",
    [lambda: ScratchLSTM(V, H), lambda: FusedLSTM(V, H), lambda: nn.LSTM(V, H)],
    ids=["per-gate scratch", "fused scratch", "nn.LSTM"],
)
def test_torch_lstm_language_models_match_d2l_loss(batch, d2l_lstm_lm, make):
    X, Y, _ = batch
    lm, lstm = d2l_lstm_lm
    ours = RNNLM(load_lstm_params(make(), _d2l_weights(lstm)), V)
    with torch.no_grad():
        ours.output.weight.copy_(torch.tensor(lm.W_hq.numpy().T))
        ours.output.bias.copy_(torch.tensor(lm.b_q.numpy()))
    logits, _ = ours(torch.as_tensor(X))
    assert abs(lm_loss(logits, torch.as_tensor(Y)).item() - _d2l_loss(lm, X, Y)) <= 1e-5


def test_tensorflow_scratch_lm_matches_d2l_loss(batch, d2l_lstm_lm):
    X, Y, _ = batch
    lm, lstm = d2l_lstm_lm
    ours = ScratchLM(V, H)
    load_lstm_params(ours.rnn, _d2l_weights(lstm))
    ours.W_hq.assign(lm.W_hq)
    ours.b_q.assign(lm.b_q)
    logits, _ = ours(tf.constant(X))
    assert abs(float(lm_loss_tf(logits, Y)) - _d2l_loss(lm, X, Y)) <= 1e-5


# ----------------------------------------------------------------- optional: d2l 0.17 (Chinese edition API)
LEGACY = os.environ.get("LSTM_COURSE_D2L017")


@pytest.fixture(scope="module")
def d2l017():
    spec = importlib.util.spec_from_file_location("d2l017_tensorflow", LEGACY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.download = lambda *args, **kwargs: str(fetch("timemachine"))
    return module


@pytest.mark.skipif(not LEGACY, reason="set LSTM_COURSE_D2L017 to d2l 0.17.6's d2l/tensorflow.py to compare")
def test_pipeline_equals_d2l_017_exactly(d2l017):
    lines = d2l017.read_time_machine()
    assert lines == tm.read_time_machine()
    for token in ("char", "word"):
        assert d2l017.tokenize(lines, token) == tm.tokenize(lines, token)
        assert (
            d2l017.Vocab(d2l017.tokenize(lines, token), 2, ["<pad>"]).idx_to_token
            == Vocab(tm.tokenize(lines, token), 2, ["<pad>"]).idx_to_token
        )
    corpus_017, vocab_017 = d2l017.load_corpus_time_machine(10000)
    corpus, vocab = tm.load_corpus_time_machine(10000)
    assert corpus == corpus_017 and vocab.idx_to_token == vocab_017.idx_to_token
    for theirs, ours in (
        (d2l017.seq_data_iter_random, tm.seq_data_iter_random),
        (d2l017.seq_data_iter_sequential, tm.seq_data_iter_sequential),
    ):
        random.seed(7)
        expected = [(x.numpy(), y.numpy()) for x, y in theirs(corpus, 32, 35)]
        random.seed(7)
        got = list(ours(corpus, 32, 35))
        assert len(got) == len(expected)
        for (x1, y1), (x2, y2) in zip(expected, got, strict=True):
            np.testing.assert_array_equal(x1, x2)
            np.testing.assert_array_equal(y1, y2)


# ----------------------------------------------------------------- the Keras 3 rewrite of d2l's TF model
def test_the_documented_keras3_breakages_are_real():
    import keras

    from lstm_course.tf.lm import KERAS3_CHANGES

    assert len(KERAS3_CHANGES) >= 3 and all(len(row) == 3 for row in KERAS3_CHANGES)
    with pytest.raises(ValueError, match="time_major"):
        keras.layers.RNN(keras.layers.LSTMCell(4), time_major=True, return_sequences=True)
    with pytest.raises(TypeError, match="dtype"):
        keras.layers.LSTMCell(4).get_initial_state(batch_size=2, dtype=tf.float32)
    with pytest.raises(ValueError, match="learning_rate"):
        keras.optimizers.SGD(1)


def test_tensorflow_models_learn_a_periodic_text():
    from lstm_course.tf.lm import KerasLM, predict_tf, train_lm_tf

    vocab = Vocab(list("abcd "))
    loader = tm.SeqDataLoader(vocab[list("abcd " * 80)], 4, 8, rng=random.Random(0))
    tf.random.set_seed(0)
    for model, lr in ((ScratchLM(len(vocab), 16, init="uniform"), 1.0), (KerasLM(len(vocab), 16), 1.0)):
        history = train_lm_tf(model, loader, epochs=30, lr=lr, progress=False)
        assert history.train_ppl[0] > 2.5 and history.train_ppl[-1] < 1.5
        assert predict_tf(model, vocab, "abc", 7) == "abcd abcd "
        logits, state = model(tf.constant(np.zeros((3, 5), dtype=np.int64)))
        assert logits.shape == (5, 3, len(vocab)) and tuple(state[0].shape) == (3, 16)


def test_predict_tf_errors():
    from lstm_course.tf.lm import predict_tf

    vocab = Vocab(list("ab "))
    model = ScratchLM(len(vocab), 4)
    with pytest.raises(ValueError, match="num_preds must be an int >= 1"):
        predict_tf(model, vocab, "ab", 0)
    with pytest.raises(ValueError, match="not in the vocabulary: 'Z'"):
        predict_tf(model, vocab, "aZ", 3)
    with pytest.raises(ValueError, match="at least one character"):
        predict_tf(model, vocab, "", 3)
