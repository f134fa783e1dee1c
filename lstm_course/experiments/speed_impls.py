"""What the throughput benchmark measures: the table of implementations, one builder per row.

Every implementation trains the same character language model of the Time Machine (one-hot
input of the vocabulary, one recurrent layer, a linear output layer; d2l's setting B=32, T=35,
H=256 by default) and is timed on two jobs:

* **training step** — forward, mean cross-entropy, backward, gradient clipping at global norm 1,
  SGD update (what every language-model trainer of the course does per batch);
* **inference** — the forward pass only (no gradients).

:data:`IMPLS` lists them, in the order of the table; a builder returns a :class:`Runner` or
raises :class:`Unavailable` (e.g. a module that does not exist yet, or d2l not installed), which
the table shows as a skipped row instead of failing the run.  Nothing here times anything: the
run (build, interleaved rounds, tokens/s) is :mod:`lstm_course.experiments.benchmark`, the
timing, peak and rendered table :mod:`lstm_course.experiments.speed`.

Devices: a table holds **one** device, ``config.device``, and every row records the device it
ran on (``row["device"]``, read back from where its weights live) and the kernel that computes
its recurrence (``row["kernel"]``).  For a CPU table TensorFlow is pinned to the CPU
(``tf.config.set_visible_devices([], "GPU")`` before it initialises, and ``tf.device("/CPU:0")``
around every call); a GPU table (``device='cuda'``) runs every framework on the GPU and leaves
out the NumPy row.  A row that ends up elsewhere is reported as failed, never mixed in.

Kernels: ``nn.LSTM`` on the CPU runs oneDNN's whole-sequence LSTM (``aten::mkldnn_rnn_layer``,
forward and backward); ``nn.GRU``/``nn.RNN`` on the CPU run ATen's step loop of ``addmm``; on
CUDA all three run cuDNN.  ``keras.layers.LSTM`` takes the cuDNN kernel only when a GPU is
visible to TensorFlow **and** ``activation='tanh'``, ``recurrent_activation='sigmoid'``,
``use_bias=True``, ``unroll=False``, ``recurrent_dropout=0`` and ``use_cudnn`` is ``'auto'``/
``True`` (and no sequence is fully masked); otherwise, and always on the CPU, Keras 3 runs its
generic ``tf.while_loop`` over the steps — with ``TF_ENABLE_ONEDNN_OPTS=0`` (set by
:mod:`lstm_course.tf`) and no fused oneDNN LSTM kernel.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstm_course.experiments.speed import device_slug

__all__ = [
    "BenchConfig",
    "Data",
    "Runner",
    "Impl",
    "Unavailable",
    "IMPLS",
    "IMPL_IDS",
    "QUICK_IDS",
    "select",
    "load_batches",
    "keras_lstm_kernel",
]


@dataclass(frozen=True)
class BenchConfig:
    """Sizes and timing settings of one benchmark run.

    Attributes:
        batch, steps, hidden_size: minibatch ``(batch, steps)`` and hidden units ``H``.
        warmup: untimed calls before timing (the first ones trace or compile).
        repeats, number: timed groups per round and steps per group; the median group is reported.
        rounds: rounds over all implementations (interleaved, see
            :func:`lstm_course.experiments.benchmark.measure_rows`).
        threads: CPU threads for PyTorch, TensorFlow (intra and inter op) and OpenBLAS.
        device: the device of the whole table (``'cpu'``, ``'cuda'``): PyTorch and TensorFlow
            rows run there (the NumPy row only on the CPU).
        seed: weight initialisation.
    """

    batch: int = 32
    steps: int = 35
    hidden_size: int = 256
    warmup: int = 2
    repeats: int = 3
    number: int = 3
    rounds: int = 3
    threads: int = 1
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("batch", "steps", "hidden_size", "repeats", "number", "rounds", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, received {value!r}")
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise ValueError(f"warmup must be an int >= 0, received {self.warmup!r}")


class Unavailable(Exception):
    """An implementation that cannot run here (missing module or library); the row is skipped."""


@dataclass
class Runner:
    """What a builder returns: ``train()`` runs one training step, ``infer()`` one forward pass."""

    train: Callable[[], Any]
    infer: Callable[[], Any]
    sync: Callable[[], Any] | None = None
    note: str = ""
    trained: Any = None  # what train() updates (a module or the variables), for inspection
    device: str = "cpu"  # where the weights live: 'cpu', 'cuda:0', ... (recorded in the row)
    kernel: str = ""  # what computes the recurrence (recorded in the row)


@dataclass(frozen=True)
class Impl:
    """One row of the benchmark.

    Attributes:
        id: stable key (``--only`` and JSON).
        label: what the table shows.
        framework: ``'numpy'``, ``'torch'``, ``'tensorflow'`` or ``'d2l'``.
        cell: ``'lstm'``, ``'gru'`` or ``'rnn'`` (for the FLOP count).
        baseline: id of the row the ratio column divides by (the framework layer of the same
            framework and cell).
        build: ``build(config, data) -> Runner``.
        slow: left out of the quick selection (e.g. ``torch.compile``, a minute to compile).
    """

    id: str
    label: str
    framework: str
    cell: str
    baseline: str
    build: Callable[[BenchConfig, Data], Runner] = field(repr=False)
    slow: bool = False


@dataclass(frozen=True)
class Data:
    """Fixed minibatches of the Time Machine: ``batches`` of ``(X, Y)`` ``(batch, steps)`` int64."""

    batches: tuple[tuple[np.ndarray, np.ndarray], ...]
    vocab_size: int

    def cycle(self, convert: Callable[[np.ndarray], Any] = lambda a: a) -> Iterator[tuple[Any, Any]]:
        """Endless iterator over the batches, each converted once with ``convert``."""
        return itertools.cycle([(convert(X), convert(Y)) for X, Y in self.batches])


def load_batches(config: BenchConfig, count: int = 4) -> Data:
    """``count`` consecutive minibatches of the whole book (sequential partitioning, offset 0)."""
    from lstm_course.data import timemachine as tm

    corpus, vocab = tm.load_corpus_time_machine(-1)
    batches = tuple(itertools.islice(tm.seq_data_iter_sequential(corpus, config.batch, config.steps, offset=0), count))
    return Data(batches, len(vocab))


# ----------------------------------------------------------------------------- NumPy
def _build_numpy_lstm(config: BenchConfig, data: Data) -> Runner:
    from lstm_course.numpy.lstm import init_lstm_params, lstm_backward, lstm_forward

    if device_slug(config.device) != "cpu":
        raise Unavailable(f"NumPy runs on the CPU only; this table is for {config.device}")
    V, H = data.vocab_size, config.hidden_size
    rng = np.random.default_rng(config.seed)
    params = init_lstm_params(V, H, rng=rng, dtype=np.float32)
    bound = 1.0 / np.sqrt(H)
    params["W_hq"] = rng.uniform(-bound, bound, (H, V)).astype(np.float32)
    params["b_q"] = np.zeros(V, np.float32)
    eye = np.eye(V, dtype=np.float32)
    batches = data.cycle()

    def forward(X: np.ndarray):
        H_all, _, cache = lstm_forward(eye[X.T], None, params)  # (steps, batch, H)
        return H_all, H_all @ params["W_hq"] + params["b_q"], cache  # logits (steps, batch, V)

    def train() -> None:
        X, Y = next(batches)
        H_all, logits, cache = forward(X)
        # Mean cross-entropy: d logits = (softmax - one_hot) / N.
        P = np.exp(logits - logits.max(axis=-1, keepdims=True))
        P /= P.sum(axis=-1, keepdims=True)
        P[np.arange(P.shape[0])[:, None], np.arange(P.shape[1]), Y.T] -= 1.0
        P /= Y.size
        grads = lstm_backward(P @ params["W_hq"].T, cache)
        grads["W_hq"] = H_all.reshape(-1, H).T @ P.reshape(-1, V)
        grads["b_q"] = P.reshape(-1, V).sum(axis=0)
        names = [n for n in params]
        norm = float(np.sqrt(sum(float((grads[n] ** 2).sum()) for n in names)))
        scale = min(1.0, 1.0 / (norm + 1e-6))
        for n in names:
            params[n] -= scale * grads[n]

    def infer() -> None:
        forward(next(batches)[0])

    return Runner(train, infer, trained=params, device="cpu", kernel="NumPy 逐步循环（OpenBLAS 矩阵乘法）")


# ----------------------------------------------------------------------------- PyTorch
def _optional(module: str, name: str) -> Any:
    """``module.name`` or :class:`Unavailable` saying why not."""
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError as exc:
        raise Unavailable(f"{module} is not available ({exc})") from None
    if found is None:
        raise Unavailable(f"{module} has no {name}")
    return found


def _torch_runner(
    make_rnn: Callable[[int, int], Any], config: BenchConfig, data: Data, *, compile: bool = False
) -> Runner:
    import torch

    from lstm_course.torch.lm import RNNLM
    from lstm_course.torch.lm.evaluate import lm_loss

    device = torch.device(config.device)
    torch.manual_seed(config.seed)
    model = RNNLM(make_rnn(data.vocab_size, config.hidden_size), data.vocab_size).to(device)
    params = list(model.parameters())
    optimizer = torch.optim.SGD(params, lr=1.0)
    batches = data.cycle(lambda a: torch.as_tensor(a, device=device))
    forward = torch.compile(model) if compile else model

    def train() -> None:
        X, Y = next(batches)
        logits, _ = forward(X)
        loss = lm_loss(logits, Y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()

    def infer() -> None:
        with torch.no_grad():
            forward(next(batches)[0])

    from lstm_course.runtime import synchronize

    sync = (lambda: synchronize(device)) if device.type != "cpu" else None
    runner = Runner(
        train,
        infer,
        sync,
        trained=model,
        device=str(next(model.parameters()).device),
        kernel=_torch_kernel(model.rnn, device),
    )
    if compile:  # compile both graphs now, so that the time is reported and not hidden in warm-up
        from torch._inductor import config as inductor_config

        with inductor_config.patch(force_disable_caches=True), warnings.catch_warnings():
            # An honest compile time: no disk cache (torch warns that this also disables its PGO).
            warnings.filterwarnings("ignore", message=".*force_disable_caches.*")
            start = time.perf_counter()
            train()
            train_compile = time.perf_counter() - start
            start = time.perf_counter()
            infer()
            infer_compile = time.perf_counter() - start
        runner.note = (
            f"编译用时（不用磁盘缓存）：训练 {train_compile:.0f} s，推理 {infer_compile:.0f} s；循环用 autograd 求导"
        )
    return runner


def _torch_kernel(rnn: Any, device: Any) -> str:
    """Which kernel computes ``rnn``'s recurrence on ``device`` (see the module docstring)."""
    import torch

    kind = type(rnn).__name__
    if kind in ("LSTM", "GRU", "RNN") and type(rnn).__module__.startswith("torch.nn"):
        if torch.device(device).type == "cuda":
            return "cuDNN"
        if kind == "LSTM" and torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled:
            return "oneDNN LSTM（aten::mkldnn_rnn_layer）"
        return "ATen 逐步循环（addmm）"
    return "Python 逐步循环（PyTorch 算子）"


def _nn(cls_name: str) -> Callable[[BenchConfig, Data], Runner]:
    def build(config: BenchConfig, data: Data) -> Runner:
        from torch import nn

        return _torch_runner(getattr(nn, cls_name), config, data)

    return build


def _scratch(module: str, cls_name: str) -> Callable[[BenchConfig, Data], Runner]:
    def build(config: BenchConfig, data: Data) -> Runner:
        return _torch_runner(_optional(module, cls_name), config, data)

    return build


def _build_fused_cpp(config: BenchConfig, data: Data) -> Runner:
    """The fused LSTM with its time loops in C++ (built on first use, reused afterwards)."""
    from lstm_course.torch import fused_cpp
    from lstm_course.torch.lstm import FusedLSTM

    start = time.perf_counter()
    if not fused_cpp.load():
        raise Unavailable(fused_cpp.unavailable_reason())
    seconds = time.perf_counter() - start
    runner = _torch_runner(lambda inputs, hidden: FusedLSTM(inputs, hidden, backend="cpp"), config, data)
    runner.kernel = "C++ 时间循环（lstm_course.torch.fused_cpp，ATen 算子）"
    runner.note = f"C++ 扩展：加载（含首次编译）{seconds:.0f} s"
    return runner


def _build_fused_compiled(config: BenchConfig, data: Data) -> Runner:
    from lstm_course.torch.lstm import FusedLSTM

    def make(inputs: int, hidden: int) -> Any:
        # The hand-written backward is an opaque autograd.Function with a Python loop inside;
        # the compiler sees through the plain autograd version and fuses its element-wise work.
        return FusedLSTM(inputs, hidden, manual_backward=False)

    return _torch_runner(make, config, data, compile=True)


# ----------------------------------------------------------------------------- TensorFlow
def _tensorflow(threads: int, device: str = "cpu") -> Any:
    """Import TensorFlow (quietly, through lstm_course.tf), pin its thread pools and, for a CPU
    table, hide the GPUs from it — both only possible before TensorFlow initialises; afterwards
    :func:`_tf_device` still places every operation of the rows on the table's device."""
    import tensorflow as tf

    import lstm_course.tf.lstm  # noqa: F401 - sets TensorFlow's quiet logging defaults first

    if device_slug(device) == "cpu":
        with contextlib.suppress(RuntimeError):  # already initialised: tf.device pins the rows
            tf.config.set_visible_devices([], "GPU")
    for setter in (
        tf.config.threading.set_intra_op_parallelism_threads,
        tf.config.threading.set_inter_op_parallelism_threads,
    ):
        with contextlib.suppress(RuntimeError):  # the runtime already started: keep its setting
            setter(threads)
    return tf


def _tf_device(tf: Any, device: str) -> str:
    """TensorFlow's name of the table's device (``/CPU:0``, ``/GPU:0``); Unavailable without a GPU."""
    torch_device = str(device)
    if device_slug(torch_device) == "cpu":
        return "/CPU:0"
    if device_slug(torch_device) != "cuda":
        raise Unavailable(f"TensorFlow has no {device_slug(torch_device)} device")
    if not tf.config.list_logical_devices("GPU"):
        raise Unavailable("TensorFlow sees no GPU (tensorflow-cpu installed? see scripts/setup.sh)")
    index = torch_device.split(":")[1] if ":" in torch_device else "0"
    return f"/GPU:{index}"


def _tf_placed(variable: Any) -> str:
    """Where a TensorFlow variable lives, in PyTorch's spelling: ``'cpu'`` or ``'cuda:N'``."""
    device = getattr(variable, "device", None)
    if device is None:  # a keras.Variable wraps the tf.Variable that has a device
        device = variable.value.device
    name = str(device).upper()
    if "GPU:" in name:
        return f"cuda:{name.rsplit('GPU:', 1)[1]}"
    return "cpu" if "CPU:" in name or not name else name.lower()


def _pinned(tf: Any, where: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        with tf.device(where):
            return fn(*args)

    return call


def keras_lstm_kernel(layer: Any, gpu_visible: bool) -> str:
    """Which kernel ``keras.layers.LSTM`` uses (Keras 3's rule, see the module docstring)."""
    from keras import activations

    cudnn_args = (
        layer.activation in (activations.tanh,)
        and layer.recurrent_activation in (activations.sigmoid,)
        and layer.use_bias
        and not layer.unroll
        and not layer.recurrent_dropout
        and getattr(layer, "use_cudnn", "auto") in ("auto", True)
    )
    if cudnn_args and gpu_visible:
        return "cuDNN（Keras 的条件都满足且有 GPU）"
    return "tf.while_loop（Keras 3 的通用实现，无 oneDNN 融合 LSTM 内核）"


def _tf_runner(model: Any, config: BenchConfig, data: Data, *, compiled: bool) -> Runner:
    import keras

    from lstm_course.tf.lm import lm_loss_tf

    tf = _tensorflow(config.threads, config.device)
    where = _tf_device(tf, config.device)
    with tf.device(where):
        batches = data.cycle(lambda a: tf.constant(a))
        model(next(batches)[0])  # builds Keras layers
        variables = list(model.trainable_variables)
        optimizer = keras.optimizers.SGD(learning_rate=1.0)
        optimizer.build(variables)

    def step(X, Y):
        with tf.GradientTape() as tape:
            logits, _ = model(X)
            loss = lm_loss_tf(logits, Y)
        grads = tape.gradient(loss, variables)
        grads, _ = tf.clip_by_global_norm(grads, 1.0)
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        return loss

    def forward(X):
        return model(X)[0]

    if compiled:
        step, forward = tf.function(step), tf.function(forward)
    run_step, run_forward = _pinned(tf, where, step), _pinned(tf, where, forward)

    def train() -> None:
        run_step(*next(batches)).numpy()

    def infer() -> None:
        run_forward(next(batches)[0]).numpy()

    gpu = where.startswith("/GPU")
    layer = getattr(model, "rnn", None)
    kernel = (
        keras_lstm_kernel(layer, gpu)
        if isinstance(layer, keras.layers.LSTM)
        else "TF 算子逐步循环" + ("（tf.function 图）" if compiled else "（即时执行）")
    )
    return Runner(train, infer, trained=variables, device=_tf_placed(variables[0]), kernel=kernel)


def _build_tf_scratch(compiled: bool) -> Callable[[BenchConfig, Data], Runner]:
    def build(config: BenchConfig, data: Data) -> Runner:
        _tensorflow(config.threads, config.device)
        from lstm_course.tf.lm import ScratchLM

        return _tf_runner(
            ScratchLM(data.vocab_size, config.hidden_size, seed=config.seed, init="uniform"),
            config,
            data,
            compiled=compiled,
        )

    return build


def _build_keras(config: BenchConfig, data: Data) -> Runner:
    _tensorflow(config.threads, config.device)
    import keras

    from lstm_course.tf.lm import KerasLM

    keras.utils.set_random_seed(config.seed)
    return _tf_runner(KerasLM(data.vocab_size, config.hidden_size, rnn="keras"), config, data, compiled=True)


# ----------------------------------------------------------------------------- d2l (the peer)
def _d2l_lstm_scratch(d2l: Any, tf: Any) -> type:
    """d2l's TensorFlow ``LSTMScratch`` (Dive into Deep Learning 1.0, §10.1), as printed in the book.

    The d2l package (1.0.3) ships the base classes this builds on (``d2l.Module``,
    ``d2l.RNNLMScratch``, ``d2l.Trainer``) but not the LSTM itself, which lives only in the
    book's text; it is reproduced here unchanged so that the peer is d2l's code, not ours.
    """

    class LSTMScratch(d2l.Module):
        def __init__(self, num_inputs, num_hiddens, sigma=0.01):
            super().__init__()
            self.save_hyperparameters()
            init_weight = lambda *shape: tf.Variable(tf.random.normal(shape) * sigma)  # noqa: E731
            triple = lambda: (  # noqa: E731
                init_weight(num_inputs, num_hiddens),
                init_weight(num_hiddens, num_hiddens),
                tf.Variable(tf.zeros(num_hiddens)),
            )
            self.W_xi, self.W_hi, self.b_i = triple()  # Input gate
            self.W_xf, self.W_hf, self.b_f = triple()  # Forget gate
            self.W_xo, self.W_ho, self.b_o = triple()  # Output gate
            self.W_xc, self.W_hc, self.b_c = triple()  # Input node

        def forward(self, inputs, H_C=None):
            if H_C is None:
                # Initial state with shape: (batch_size, num_hiddens)
                H = tf.zeros((inputs.shape[1], self.num_hiddens))
                C = tf.zeros((inputs.shape[1], self.num_hiddens))
            else:
                H, C = H_C
            outputs = []
            for X in inputs:
                I = tf.sigmoid(tf.matmul(X, self.W_xi) + tf.matmul(H, self.W_hi) + self.b_i)  # noqa: E741 - d2l's names
                F = tf.sigmoid(tf.matmul(X, self.W_xf) + tf.matmul(H, self.W_hf) + self.b_f)
                O = tf.sigmoid(tf.matmul(X, self.W_xo) + tf.matmul(H, self.W_ho) + self.b_o)  # noqa: E741 - d2l's names
                C_tilde = tf.tanh(tf.matmul(X, self.W_xc) + tf.matmul(H, self.W_hc) + self.b_c)
                C = F * C + I * C_tilde
                H = O * tf.tanh(C)
                outputs.append(H)
            return outputs, (H, C)

    return LSTMScratch


def _build_d2l(config: BenchConfig, data: Data) -> Runner:
    tf = _tensorflow(config.threads, config.device)
    where = _tf_device(tf, config.device)
    try:
        from d2l import tensorflow as d2l
    except Exception as exc:  # noqa: BLE001 - not installed, or an incompatible version
        raise Unavailable(f"d2l (TensorFlow flavour) cannot be imported ({type(exc).__name__}: {exc})") from None
    tf.random.set_seed(config.seed)
    with tf.device(where):
        lstm = _d2l_lstm_scratch(d2l, tf)(num_inputs=data.vocab_size, num_hiddens=config.hidden_size)
        model = d2l.RNNLMScratch(lstm, vocab_size=data.vocab_size, lr=4.0)  # d2l's §10.1 uses lr=4
    optimizer = model.configure_optimizers()
    trainer = d2l.Trainer(max_epochs=1, gradient_clip_val=1)
    batches = data.cycle(lambda a: tf.constant(a))
    # Keras 3 no longer tracks plain tf.Variable attributes: model.trainable_variables is empty
    # (d2l's own loop would silently train nothing), so the fourteen variables are listed here.
    variables = [
        getattr(lstm, n)
        for n in ("W_xi", "W_hi", "b_i", "W_xf", "W_hf", "b_f", "W_xo", "W_ho", "b_o", "W_xc", "W_hc", "b_c")
    ]
    variables += [model.W_hq, model.b_q]

    def train() -> None:
        # d2l.Trainer.fit_epoch's body for one batch (eager), without its live plot.
        X, Y = next(batches)
        with tf.GradientTape() as tape:
            loss = d2l.Classifier.loss(model, model(X), Y)  # Keras 3 hides the method; call it directly
        grads = tape.gradient(loss, variables)
        grads = trainer.clip_gradients(trainer.gradient_clip_val, grads)
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        float(loss)

    def infer() -> None:
        model(next(batches)[0]).numpy()

    return Runner(
        _pinned(tf, where, train),
        _pinned(tf, where, infer),
        trained=variables,
        note="d2l 1.0 的 RNNLMScratch + 书中 §10.1 的 LSTMScratch，即时执行",
        device=_tf_placed(variables[0]),
        kernel="TF 算子逐步循环（即时执行）",
    )


# ----------------------------------------------------------------------------- the table
IMPLS: tuple[Impl, ...] = (
    Impl("torch-nn-lstm", "nn.LSTM", "torch", "lstm", "torch-nn-lstm", _nn("LSTM")),
    Impl(
        "torch-fused-lstm",
        "FusedLSTM（融合，手写反向）",
        "torch",
        "lstm",
        "torch-nn-lstm",
        _scratch("lstm_course.torch.lstm", "FusedLSTM"),
    ),
    Impl("torch-fused-lstm-cpp", "FusedLSTM + C++ 时间循环", "torch", "lstm", "torch-nn-lstm", _build_fused_cpp),
    Impl(
        "torch-fused-lstm-compile",
        "FusedLSTM + torch.compile",
        "torch",
        "lstm",
        "torch-nn-lstm",
        _build_fused_compiled,
        slow=True,
    ),
    Impl(
        "torch-scratch-lstm",
        "ScratchLSTM（逐门）",
        "torch",
        "lstm",
        "torch-nn-lstm",
        _scratch("lstm_course.torch.lstm", "ScratchLSTM"),
    ),
    Impl("numpy-lstm", "NumPy LSTM（手写 BPTT）", "numpy", "lstm", "torch-nn-lstm", _build_numpy_lstm),
    Impl("torch-nn-gru", "nn.GRU", "torch", "gru", "torch-nn-gru", _nn("GRU")),
    Impl(
        "torch-fused-gru",
        "FusedGRU（融合）",
        "torch",
        "gru",
        "torch-nn-gru",
        _scratch("lstm_course.torch.gru", "FusedGRU"),
    ),
    Impl(
        "torch-scratch-gru",
        "ScratchGRU（逐门）",
        "torch",
        "gru",
        "torch-nn-gru",
        _scratch("lstm_course.torch.gru", "ScratchGRU"),
    ),
    Impl("torch-nn-rnn", "nn.RNN", "torch", "rnn", "torch-nn-rnn", _nn("RNN")),
    Impl(
        "torch-scratch-rnn",
        "ScratchRNN",
        "torch",
        "rnn",
        "torch-nn-rnn",
        _scratch("lstm_course.torch.rnn", "ScratchRNN"),
    ),
    Impl("tf-keras-lstm", "keras.layers.LSTM", "tensorflow", "lstm", "tf-keras-lstm", _build_keras),
    Impl(
        "tf-scratch-lstm-function",
        "TF 从零实现 + tf.function",
        "tensorflow",
        "lstm",
        "tf-keras-lstm",
        _build_tf_scratch(compiled=True),
    ),
    Impl(
        "tf-scratch-lstm-eager",
        "TF 从零实现（即时执行）",
        "tensorflow",
        "lstm",
        "tf-keras-lstm",
        _build_tf_scratch(compiled=False),
    ),
    Impl("d2l-tf-scratch-lstm", "d2l 的 TF 从零实现 LSTM", "d2l", "lstm", "tf-keras-lstm", _build_d2l),
)
IMPL_IDS = tuple(impl.id for impl in IMPLS)
#: The default selection when nothing is named: everything but the slow rows.
QUICK_IDS = tuple(impl.id for impl in IMPLS if not impl.slow)
_BY_ID = {impl.id: impl for impl in IMPLS}


def select(ids: Sequence[str] | None) -> list[Impl]:
    """The rows named by ``ids`` in table order (all of them for ``None``); unknown ids raise."""
    if ids is None:
        return list(IMPLS)
    unknown = [i for i in ids if i not in _BY_ID]
    if unknown:
        raise ValueError(f"unknown implementation ids {unknown}; known: {list(IMPL_IDS)}")
    return [impl for impl in IMPLS if impl.id in set(ids)]
