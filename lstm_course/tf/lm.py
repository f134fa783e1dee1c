"""d2l's TensorFlow character language model (Chinese edition, §8.5–§9.2) rewritten for TF ≥ 2.16 / Keras 3.

Two models with one call interface, ``model(X, state=None) -> (logits, state)`` where ``X`` are
token indices ``(batch, steps)`` and ``logits`` are time-major ``(steps, batch, vocab)``:

* :class:`ScratchLM` — d2l's ``RNNModelScratch`` with its ``lstm``/``get_lstm_params``: one-hot
  input, the scratch :class:`~lstm_course.tf.lstm.TFScratchLSTM` (``tf.Variable`` weights
  ``W_xi, W_hi, b_i, ...``) and an output layer ``H @ W_hq + b_q``; d2l's initialisation
  (normal, std 0.01; zero biases) by default.
* :class:`KerasLM` — d2l's ``RNNModel`` around a Keras recurrent layer: one-hot input,
  ``keras.layers.LSTM`` (or the scratch Keras layer :class:`~lstm_course.tf.lstm.KerasScratchLSTM`)
  and ``keras.layers.Dense``.

:func:`train_lm_tf` is d2l's ``train_ch8`` (SGD, global-norm clipping at 1, sequential or random
minibatches) with the training step compiled by ``tf.function``; :func:`predict_tf` is
``predict_ch8`` (greedy).  What breaks on Keras 3 and what this module does instead is listed in
:data:`KERAS3_CHANGES`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from lstm_course.data.vocab import Vocab  # noqa: E402
from lstm_course.lm.history import LMHistory  # noqa: E402
from lstm_course.progress import epoch_bar  # noqa: E402
from lstm_course.tf.lstm import KerasScratchLSTM, TFScratchLSTM  # sets TensorFlow's quiet defaults first

__all__ = ["KERAS3_CHANGES", "ScratchLM", "KerasLM", "lm_loss_tf", "train_lm_tf", "predict_tf"]

#: d2l's TensorFlow code (Chinese edition, TF 2.x / Keras 2) on Keras 3: each entry is
#: ``(d2l's code, what Keras 3 does with it, what this module does)``; display strings in Chinese.
KERAS3_CHANGES: tuple[tuple[str, str, str], ...] = (
    (
        "tf.keras.layers.RNN(cell, time_major=True, ...)",
        "ValueError：Keras 3 删除了 time_major 参数",
        "循环层读取批量在前的 (批量, 时间步, 特征)；模型在层外转置，输出仍是时间步在前",
    ),
    (
        "self.rnn.cell.get_initial_state(batch_size=..., dtype=...)",
        "TypeError：Keras 3 的 get_initial_state 不再接受 dtype",
        "begin_state 自己构造全零的 [h, c]",
    ),
    (
        "tf.keras.optimizers.SGD(lr)，其中 lr = 1",
        "ValueError：Keras 3 要求学习率是浮点数，整数 1 被拒绝",
        "keras.optimizers.SGD(learning_rate=float(lr))",
    ),
    (
        "逐批即时执行 (eager) 的 train_epoch_ch8 与用 .numpy() 求范数的 grad_clipping",
        "仍能运行，但很慢",
        "训练步用 tf.function 编译，裁剪用 tf.clip_by_global_norm（本课程的选择，不是必须的修改）",
    ),
    (
        "tf.distribute.OneDeviceStrategy(d2l.try_gpu()._device_name)",
        "仍能运行",
        "不需要：有 GPU 时 TensorFlow 自动把计算放上去",
    ),
)


def _one_hot_time_major(X: tf.Tensor, vocab_size: int) -> tf.Tensor:
    """Token indices ``(batch, steps)`` → one-hot ``(steps, batch, vocab_size)`` float32."""
    return tf.one_hot(tf.transpose(tf.cast(X, tf.int32)), vocab_size, dtype=tf.float32)


class ScratchLM(tf.Module):
    """d2l's scratch LSTM language model: one-hot → :class:`TFScratchLSTM` → ``H @ W_hq + b_q``.

    Args:
        vocab_size, hidden_size: sizes.
        seed: seed of the weight initialisation.
        init: ``'d2l'`` (normal, std 0.01; zero biases, as in d2l) or ``'uniform'``
            (``±1/sqrt(hidden_size)``, as ``nn.LSTM``).

    ``model(X, state=None) -> (logits (steps, batch, vocab), (H, C))``.
    """

    def __init__(
        self, vocab_size: int, hidden_size: int, *, seed: int = 0, init: str = "d2l", name: str | None = None
    ) -> None:
        super().__init__(name=name)
        if init not in ("d2l", "uniform"):
            raise ValueError(f"init must be 'd2l' or 'uniform', received {init!r}")
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.rnn = TFScratchLSTM(vocab_size, hidden_size, seed=seed)
        rng = tf.random.Generator.from_seed(seed + 1)
        if init == "d2l":
            for name_, var in self.rnn.params.items():
                var.assign(tf.zeros_like(var) if name_.startswith("b_") else rng.normal(var.shape, stddev=0.01))
            W_hq = rng.normal((hidden_size, vocab_size), stddev=0.01)
        else:
            bound = 1.0 / hidden_size**0.5
            W_hq = rng.uniform((hidden_size, vocab_size), -bound, bound)
        self.W_hq = tf.Variable(W_hq, name="W_hq")
        self.b_q = tf.Variable(tf.zeros(vocab_size), name="b_q")

    def begin_state(self, batch_size: int) -> tuple[tf.Tensor, tf.Tensor]:
        """Zero ``(H, C)``, each ``(batch_size, hidden_size)``."""
        return self.rnn.init_state(batch_size)

    def __call__(self, X: tf.Tensor, state: Any = None) -> tuple[tf.Tensor, tuple[tf.Tensor, tf.Tensor]]:
        """``X`` ``(batch, steps)`` → ``(logits (steps, batch, vocab), (H, C))``."""
        Y, state = self.rnn(_one_hot_time_major(X, self.vocab_size), None if state is None else tuple(state))
        return tf.matmul(Y, self.W_hq) + self.b_q, state


class KerasLM(keras.Model):
    """d2l's ``RNNModel`` for Keras 3: one-hot → Keras recurrent layer → ``Dense(vocab_size)``.

    Args:
        vocab_size, hidden_size: sizes.
        rnn: ``'keras'`` for ``keras.layers.LSTM`` (fused kernels) or ``'scratch'`` for
            :class:`~lstm_course.tf.lstm.KerasScratchLSTM` (the d2l-named Keras layer).

    ``model(X, state=None) -> (logits (steps, batch, vocab), [h, c])``.
    """

    def __init__(self, vocab_size: int, hidden_size: int, *, rnn: str = "keras", **kwargs) -> None:
        super().__init__(**kwargs)
        if rnn == "keras":
            layer = keras.layers.LSTM(hidden_size, return_sequences=True, return_state=True)
        elif rnn == "scratch":
            layer = KerasScratchLSTM(hidden_size, return_sequences=True, return_state=True)
        else:
            raise ValueError(f"rnn must be 'keras' or 'scratch', received {rnn!r}")
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.rnn = layer
        self.dense = keras.layers.Dense(vocab_size)

    def begin_state(self, batch_size: int) -> list[tf.Tensor]:
        """Zero ``[h, c]``, each ``(batch_size, hidden_size)``."""
        zeros = tf.zeros((batch_size, self.hidden_size))
        return [zeros, zeros]

    def call(self, X: tf.Tensor, state: Any = None) -> tuple[tf.Tensor, list[tf.Tensor]]:
        """``X`` ``(batch, steps)`` → ``(logits (steps, batch, vocab), [h, c])``."""
        inputs = tf.one_hot(tf.cast(X, tf.int32), self.vocab_size, dtype=tf.float32)  # (batch, steps, V)
        Y, h, c = self.rnn(inputs, initial_state=None if state is None else list(state))
        return tf.transpose(self.dense(Y), (1, 0, 2)), [h, c]


def lm_loss_tf(logits: tf.Tensor, Y: tf.Tensor) -> tf.Tensor:
    """Mean cross-entropy per token; ``logits`` ``(steps, batch, vocab)``, ``Y`` ``(batch, steps)``."""
    labels = tf.transpose(tf.cast(Y, tf.int32))
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def _variables(model: Any) -> list[tf.Variable]:
    return list(model.trainable_variables)


def train_lm_tf(
    model: ScratchLM | KerasLM,
    train_iter: Iterable,
    *,
    epochs: int,
    lr: float,
    clip: float = 1.0,
    use_random_iter: bool | None = None,
    progress: bool = True,
    desc: str = "训练 (TensorFlow)",
) -> LMHistory:
    """d2l's ``train_ch8`` for Keras 3: SGD, global-norm clipping, a compiled training step.

    Args:
        model: a :class:`ScratchLM` or :class:`KerasLM`.
        train_iter: re-iterable ``(X, Y)`` NumPy batches ``(batch, steps)``.
        epochs, lr, clip: as in :func:`lstm_course.torch.lm.train.train_lm`.
        use_random_iter: reset the state every batch; ``None`` reads ``train_iter.use_random_iter``.
        progress: tqdm bar over epochs.

    Returns:
        :class:`~lstm_course.lm.history.LMHistory` with training perplexity and tokens/s.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, received {epochs!r}")
    random_iter = bool(getattr(train_iter, "use_random_iter", False) if use_random_iter is None else use_random_iter)
    X0, _ = next(iter(train_iter))
    model(tf.constant(X0[:, :1]))  # builds Keras layers so that their variables exist
    variables = _variables(model)
    optimizer = keras.optimizers.SGD(learning_rate=float(lr))
    optimizer.build(variables)

    @tf.function
    def step(X, Y, state):
        with tf.GradientTape() as tape:
            logits, new_state = model(X, state)
            loss = lm_loss_tf(logits, Y)
        grads = tape.gradient(loss, variables)
        grads, _ = tf.clip_by_global_norm(grads, clip)
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        return loss, [tf.stop_gradient(s) for s in new_state]

    history = LMHistory()
    bar = epoch_bar(epochs, desc=desc, enabled=progress)
    for _ in bar:
        total, count, state = 0.0, 0, None
        start = time.perf_counter()
        for X, Y in train_iter:
            if state is None or random_iter:
                state = list(model.begin_state(X.shape[0]))
            loss, state = step(tf.constant(X), tf.constant(Y), state)
            total += float(loss) * Y.size
            count += Y.size
        seconds = time.perf_counter() - start
        history.train_ppl.append(math.exp(total / count))
        history.tokens_per_s.append(count / seconds)
        history.seconds.append(seconds)
        history.lr.append(float(lr))
        bar.set_postfix({"训练ppl": f"{history.train_ppl[-1]:.2f}", "tok/s": f"{history.tokens_per_s[-1]:.0f}"})
    bar.close()
    return history


def predict_tf(model: ScratchLM | KerasLM, vocab: Vocab, prefix: str, num_preds: int) -> str:
    """Greedy continuation of a character ``prefix`` (d2l's ``predict_ch8``).

    Raises:
        ValueError: ``num_preds < 1``, an empty prefix, or characters outside ``vocab``.
    """
    if not isinstance(num_preds, int) or num_preds < 1:
        raise ValueError(f"num_preds must be an int >= 1, received {num_preds!r}")
    if not prefix:
        raise ValueError("prefix must contain at least one character")
    unknown = sorted({ch for ch in prefix if ch not in vocab})
    if unknown:
        raise ValueError(f"prefix contains characters not in the vocabulary: {', '.join(map(repr, unknown))}")
    indices = vocab[list(prefix)]
    state = None
    if len(indices) > 1:
        _, state = model(tf.constant([indices[:-1]]), state)
    outputs, last = [], indices[-1]
    for _ in range(num_preds):
        logits, state = model(tf.constant([[last]]), state)
        last = int(tf.argmax(logits[-1, 0]))
        outputs.append(last)
    return prefix + "".join(vocab.to_tokens(outputs))
