"""Device consistency without a GPU: CPU-side proxies for CUDA and Apple-MPS semantics.

* **The model on ``meta``** stands for a model on an accelerator.  :class:`MetaAsAccelerator`
  lets a path run to its end (a copy from ``meta`` to the CPU gives ones, ``.item()`` gives 1)
  and records every float64 tensor created off the CPU (Apple's MPS has no float64).
* **"The best device" is ``meta`` while the model is on the CPU**: ``get_device`` is patched
  everywhere, so code that sends inputs to the best device instead of the model's is caught.
* A forward pre-hook on every model of the course records the device of its token input; each
  must equal the device of the model's parameters.
* An AST scan finds ``.double()``/``.to(torch.float64)`` applied before ``.cpu()``.
* Benchmark rows record the device they ran on, and a table holds one device.
"""

from __future__ import annotations

import ast
import contextlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

import lstm_course
from lstm_course import runtime
from lstm_course.data.review_tokens import TokenizerConfig
from lstm_course.data.reviews import build_vocab, encode
from lstm_course.data.vocab import Vocab

ROOT = Path(__file__).resolve().parents[1]
META = torch.device("meta")


class MetaAsAccelerator(TorchDispatchMode):
    """Run code whose model lives on ``meta`` to its end, recording float64 made off the CPU."""

    def __init__(self) -> None:
        super().__init__()
        self.float64_off_cpu: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        on_meta = any(isinstance(t, torch.Tensor) and t.device.type == "meta" for t in tree_flatten((args, kwargs))[0])
        if on_meta and func is torch.ops.aten._to_copy.default and kwargs.get("device") == torch.device("cpu"):
            return torch.ones(args[0].shape, dtype=kwargs.get("dtype") or args[0].dtype)
        if on_meta and func is torch.ops.aten._local_scalar_dense.default:
            return 1
        out = func(*args, **kwargs)
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.dtype == torch.float64 and t.device.type != "cpu":
                self.float64_off_cpu.append(str(func))
        return out


def _watched() -> tuple[type, ...]:
    from lstm_course.experiments.bidirectional_lm import BidirectionalLM
    from lstm_course.experiments.cloze import ClozeModel
    from lstm_course.torch.lm import RNNLM
    from lstm_course.torch.sentiment.model import SentimentLSTM

    return (SentimentLSTM, RNNLM, BidirectionalLM, ClozeModel)


@pytest.fixture
def model_inputs():
    """``[(model class, model device, device of its first input), ...]`` of every model call."""
    calls: list[tuple[str, torch.device, torch.device]] = []
    watched = _watched()

    def hook(module, args):
        if isinstance(module, watched) and args and isinstance(args[0], torch.Tensor):
            calls.append((type(module).__name__, runtime.model_device(module), args[0].device))

    handle = torch.nn.modules.module.register_module_forward_pre_hook(hook)
    yield calls
    handle.remove()


def assert_inputs_on_model_device(calls, expected: torch.device) -> None:
    assert calls, "the model was never called"
    wrong = [c for c in calls if c[1] != c[2]]
    assert not wrong, f"inputs on another device than the model: {wrong[:3]}"
    assert {c[1].type for c in calls} == {expected.type}


@pytest.fixture
def best_device_is_meta(monkeypatch):
    """``get_device()`` answers ``meta`` wherever the package imported it (an accelerator stand-in)."""
    real = runtime.get_device

    def fake(prefer=None):
        return META if prefer in (None, "auto") else real(prefer)

    for name, module in list(sys.modules.items()):
        if name.startswith("lstm_course") and getattr(module, "get_device", None) is real:
            monkeypatch.setattr(module, "get_device", fake)
    return fake


# ----------------------------------------------------------------------------- sentiment
def _sentiment():
    from lstm_course.torch.sentiment.model import SentimentConfig, SentimentLSTM

    texts = [list("好用推荐"), list("太差了退货"), list("满意"), list("失望透顶差")]
    vocab = build_vocab(texts + [["<pad>"]])
    data = encode(texts, vocab, max_len=6)
    torch.manual_seed(0)
    model = SentimentLSTM(
        SentimentConfig(
            vocab_size=len(vocab),
            pad_index=vocab["<pad>"],
            embedding_dim=4,
            hidden_size=3,
            num_layers=1,
            bidirectional=True,
            dropout=0.0,
        )
    )
    return model, vocab, data


def test_sentiment_evaluation_runs_on_the_model_device_cpu_model(best_device_is_meta, model_inputs):
    from lstm_course.torch.sentiment.evaluate import evaluate
    from lstm_course.torch.sentiment.train import loss_and_accuracy

    model, _, data = _sentiment()
    _, _, probs = loss_and_accuracy(model, data)
    assert probs.shape == (len(data),) and np.isfinite(probs).all() and (probs > 0).all()
    with pytest.raises(ValueError):  # labels -1: Evaluation needs labels, but the run itself worked
        evaluate(model, data)
    assert_inputs_on_model_device(model_inputs, torch.device("cpu"))


def test_sentiment_evaluation_runs_on_the_model_device_meta_model(model_inputs):
    from lstm_course.torch.sentiment.train import loss_and_accuracy

    model, _, data = _sentiment()
    model.to(META)
    with MetaAsAccelerator() as mode:
        _, _, probs = loss_and_accuracy(model, data)
    assert probs.shape == (len(data),)
    assert not mode.float64_off_cpu, mode.float64_off_cpu
    assert_inputs_on_model_device(model_inputs, META)


def test_evaluation_refuses_a_device_other_than_the_model_device():
    from lstm_course.torch.sentiment.train import loss_and_accuracy

    model, _, data = _sentiment()
    with pytest.raises(ValueError, match="model is on cpu.*model.to"):
        loss_and_accuracy(model, data, device="meta")
    assert runtime.model_device(model, "cpu") == torch.device("cpu")


def test_predictor_runs_where_it_put_the_model(best_device_is_meta, model_inputs):
    from lstm_course.torch.sentiment.predict import SentimentPredictor

    model, vocab, _ = _sentiment()
    on_cpu = SentimentPredictor(model, vocab, TokenizerConfig(kind="char"), max_len=6, device="cpu")
    assert len(on_cpu.predict(["好用", "太差"])) == 2
    assert_inputs_on_model_device(model_inputs, torch.device("cpu"))
    model_inputs.clear()
    default = SentimentPredictor(model, vocab, TokenizerConfig(kind="char"), max_len=6)  # best: meta
    with MetaAsAccelerator() as mode:
        default.predict_proba(["好用", "太差"])
    assert not mode.float64_off_cpu
    assert_inputs_on_model_device(model_inputs, META)


@pytest.fixture(scope="module")
def cli_checkpoint(tmp_path_factory):
    import os

    from sentiment_fixtures import synthetic_rows, write_csv

    from lstm_course.cli import main

    work = tmp_path_factory.mktemp("devices_cli")
    source, out = write_csv(work / "reviews.csv", synthetic_rows(200)), work / "model.pt"
    before, threads = os.environ.get("XDG_CACHE_HOME"), torch.get_num_threads()
    os.environ["XDG_CACHE_HOME"] = str(work / "xdg")
    torch.set_num_threads(1)
    try:
        assert (
            main(
                [
                    "sentiment",
                    "train",
                    "--data",
                    str(source),
                    "--tokenizer",
                    "char",
                    "--epochs",
                    "1",
                    "--embed-size",
                    "8",
                    "--hidden-size",
                    "8",
                    "--max-len",
                    "20",
                    "--no-progress",
                    "--device",
                    "cpu",
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        yield out
    finally:
        torch.set_num_threads(threads)
        if before is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = before


def test_cli_evaluate_and_predict_feed_the_model_on_its_device(
    cli_checkpoint, best_device_is_meta, model_inputs, capsys
):
    from lstm_course.cli import main

    assert main(["sentiment", "evaluate", "--checkpoint", str(cli_checkpoint), "--mistakes", "0"]) == 0
    assert main(["sentiment", "predict", "--checkpoint", str(cli_checkpoint), "好推荐"]) == 0
    assert "准确率" in capsys.readouterr().out
    assert_inputs_on_model_device(model_inputs, torch.device("cpu"))


# ----------------------------------------------------------------------------- language models
def _vocab() -> Vocab:
    return Vocab(list("abcdefg "))


def _lm(vocab: Vocab):
    from lstm_course.torch.lm import RNNLM

    torch.manual_seed(0)
    return RNNLM(nn.LSTM(len(vocab), 6), len(vocab))


def _windows(vocab: Vocab, batch: int = 2, steps: int = 5):
    rng = np.random.default_rng(0)
    X = rng.integers(1, len(vocab), (batch, steps))
    return [(X, np.roll(X, -1, axis=1))]


@pytest.mark.parametrize("kw", [dict(temperature=0.0), dict(temperature=0.8, top_k=3, seed=1)])
def test_generation_on_an_accelerator_stays_there_and_samples_on_the_cpu(kw, model_inputs):
    from lstm_course.torch.lm.generation import generate

    vocab = _vocab()
    model = _lm(vocab).to(META)
    with MetaAsAccelerator() as mode:
        text = generate(model, vocab, "abc", 4, **kw)
    assert text.startswith("abc") and len(text) > 3
    assert not mode.float64_off_cpu, mode.float64_off_cpu  # was: logits.double() on the device
    assert_inputs_on_model_device(model_inputs, META)


def test_generation_with_the_best_device_elsewhere(best_device_is_meta, model_inputs):
    from lstm_course.torch.lm.generation import generate

    vocab = _vocab()
    assert generate(_lm(vocab), vocab, "ab", 3, temperature=1.0, seed=0).startswith("ab")
    assert_inputs_on_model_device(model_inputs, torch.device("cpu"))


def test_perplexity_paths_run_on_the_model_device(model_inputs):
    from lstm_course.experiments.bidirectional_lm import BidirectionalLM, generate_rereading, position_perplexity
    from lstm_course.torch.lm.evaluate import evaluate_perplexity

    vocab = _vocab()
    torch.manual_seed(0)
    bi = BidirectionalLM(len(vocab), embedding_dim=4, hidden_size=5).to(META)
    uni = _lm(vocab).to(META)
    with MetaAsAccelerator() as mode:
        per_position = position_perplexity(bi, _windows(vocab))
        generate_rereading(bi, vocab, "ab", 3, temperature=0.7, top_k=2, seed=0)
        evaluate_perplexity(uni, _windows(vocab), use_random_iter=True)
    assert per_position.shape == (5,)
    assert not mode.float64_off_cpu, mode.float64_off_cpu  # was: (total / count).double().cpu()
    assert_inputs_on_model_device(model_inputs, META)


def test_cloze_evaluation_runs_on_the_model_device(model_inputs, monkeypatch):
    from torch.fx.experimental import _config as fx_config

    from lstm_course.experiments.cloze import ClozeBatch, ClozeModel, accuracy_by_kind, cloze_accuracy

    # boolean-mask indexing on meta needs a size; the mask below is all True, so "all non-zero" is right
    monkeypatch.setattr(fx_config, "meta_nonzero_assume_all_nonzero", True)

    torch.manual_seed(0)
    model = ClozeModel(7, embedding_dim=4, hidden_size=5, bidirectional=True).to(META)
    inputs = torch.randint(0, 7, (6, 3))
    batch = ClozeBatch(inputs, inputs.clone(), torch.ones(6, 3, dtype=torch.bool))
    with MetaAsAccelerator() as mode:
        cloze_accuracy(model, batch)
        accuracy_by_kind(model, batch, space_index=0)
    assert not mode.float64_off_cpu
    assert_inputs_on_model_device(model_inputs, META)


def test_the_proxy_catches_inputs_sent_to_the_best_device(best_device_is_meta, model_inputs):
    """The harness itself: the old ``batch.to(get_device())`` pattern is reported."""
    model, _, data = _sentiment()
    tokens = torch.ones(3, 2, dtype=torch.long).to(lstm_course.runtime.get_device())
    with contextlib.suppress(RuntimeError):  # torch lets a meta input through CPU weights
        model(tokens, torch.tensor([3, 2]))
    with pytest.raises(AssertionError, match="another device"):
        assert_inputs_on_model_device(model_inputs, torch.device("cpu"))
    with MetaAsAccelerator() as mode:
        torch.ones(2, device=META).double().cpu()
    assert mode.float64_off_cpu


# ----------------------------------------------------------------------------- float64 before .cpu()
_FLOAT64 = {"float64", "double"}


def _is_float64(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr in _FLOAT64) or (
        isinstance(node, ast.Constant) and node.value in _FLOAT64
    )


def _widens(call: ast.Call) -> bool:
    """``x.double()``, ``x.to(torch.float64)``, ``x.to(dtype=torch.float64)``, ``x.type(torch.double)``."""
    if not isinstance(call.func, ast.Attribute):
        return False
    if call.func.attr == "double" and not call.args:
        return True
    if call.func.attr in ("to", "type"):
        return any(_is_float64(a) for a in call.args) or any(
            k.arg == "dtype" and _is_float64(k.value) for k in call.keywords
        )
    return False


def _receivers(node: ast.AST):
    """The calls a method chain is built on: for ``a.b().c().cpu()`` yields ``c()``, ``b()``."""
    node = node.func.value if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else None
    while node is not None:
        if isinstance(node, ast.Call):
            yield node
            node = node.func.value if isinstance(node.func, ast.Attribute) else None
        elif isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        else:
            node = None


def float64_before_cpu(source: str) -> list[int]:
    """Line numbers where a tensor is widened to float64 and only then moved to the CPU.

    (``x.double().numpy()`` without ``.cpu()`` is not flagged: ``.numpy()`` only works on CPU
    tensors anyway.)
    """
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "cpu":
            if any(_widens(r) for r in _receivers(node)):
                lines.append(node.lineno)
    return lines


def test_ast_scan_finds_the_mps_float64_pattern():
    assert float64_before_cpu("p = torch.sigmoid(z).double().cpu().numpy()") == [1]
    assert float64_before_cpu("p = (a / b).to(torch.float64).cpu()") == [1]
    assert float64_before_cpu("p = x.to(dtype=torch.double).detach().cpu()[0]") == [1]
    assert float64_before_cpu("p = x.type(torch.float64).cpu()") == [1]
    assert float64_before_cpu("p = torch.sigmoid(z).cpu().double().numpy()") == []
    assert float64_before_cpu("m = copy.deepcopy(module).cpu().double()") == []


def test_no_float64_before_cpu_in_the_package():
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "lstm_course").rglob("*.py"))
        if (lines := float64_before_cpu(path.read_text(encoding="utf-8")))
    }
    assert not found, f"widen to float64 only after .cpu() (MPS has no float64): {found}"


# ----------------------------------------------------------------------------- benchmark rows
TINY = dict(batch=2, steps=3, hidden_size=4, warmup=1, repeats=1, number=1, rounds=1)


def test_every_row_records_its_device_and_kernel_and_a_table_holds_one_device():
    from lstm_course.experiments import speed
    from lstm_course.experiments.benchmark import run_benchmark
    from lstm_course.experiments.speed_impls import BenchConfig

    results = run_benchmark(BenchConfig(**TINY), ["torch-nn-lstm", "torch-nn-gru", "numpy-lstm", "tf-keras-lstm"])
    rows = {r["id"]: r for r in results["rows"]}
    assert all(r["status"] == "ok" for r in rows.values()), rows
    assert {r["device"] for r in rows.values()} == {"cpu"}
    assert speed.table_device(results) == "cpu"
    assert "mkldnn" in rows["torch-nn-lstm"]["kernel"]
    assert "addmm" in rows["torch-nn-gru"]["kernel"]
    assert "tf.while_loop" in rows["tf-keras-lstm"]["kernel"]  # no GPU visible: no cuDNN


def test_an_accelerator_table_leaves_out_what_cannot_run_there():
    from lstm_course.experiments import speed
    from lstm_course.experiments.benchmark import run_benchmark
    from lstm_course.experiments.speed_impls import BenchConfig

    results = run_benchmark(BenchConfig(**TINY, device="meta"), ["torch-nn-lstm", "numpy-lstm", "tf-keras-lstm"])
    rows = {r["id"]: r for r in results["rows"]}
    assert rows["torch-nn-lstm"]["status"] == "ok" and rows["torch-nn-lstm"]["device"] == "meta"
    assert rows["numpy-lstm"]["status"] == "skipped" and "CPU only" in rows["numpy-lstm"]["reason"]
    assert rows["tf-keras-lstm"]["status"] == "skipped"
    assert speed.table_device(results) == "meta"


def test_table_device_rejects_mixed_or_unrecorded_rows():
    from lstm_course.experiments.speed import table_device

    env = {"environment": {"device": "cpu"}}
    ok = {"id": "a", "status": "ok", "device": "cpu"}
    assert table_device({**env, "rows": [ok, {"id": "s", "status": "skipped"}]}) == "cpu"
    with pytest.raises(ValueError, match="ran on cuda:0"):
        table_device({**env, "rows": [ok, {"id": "b", "status": "ok", "device": "cuda:0"}]})
    with pytest.raises(ValueError, match="does not record"):
        table_device({**env, "rows": [{"id": "c", "status": "ok"}]})


def test_keras_kernel_rule_follows_keras_conditions():
    import keras

    from lstm_course.experiments.speed_impls import keras_lstm_kernel

    default = keras.layers.LSTM(4)
    assert keras_lstm_kernel(default, gpu_visible=True).startswith("cuDNN")
    assert keras_lstm_kernel(default, gpu_visible=False).startswith("tf.while_loop")
    for kwargs in (
        dict(activation="relu"),
        dict(recurrent_activation="hard_sigmoid"),
        dict(use_bias=False),
        dict(unroll=True),
        dict(recurrent_dropout=0.1),
        dict(use_cudnn=False),
    ):
        assert keras_lstm_kernel(keras.layers.LSTM(4, **kwargs), gpu_visible=True).startswith("tf.while_loop"), kwargs


def test_torch_timers_synchronise_the_device(monkeypatch):
    from lstm_course.experiments import speed, step_cost
    from lstm_course.experiments.speed_impls import BenchConfig, _nn, load_batches

    seen = []
    monkeypatch.setattr(runtime, "synchronize", lambda device: seen.append(torch.device(device).type))
    config = BenchConfig(**TINY, device="meta")
    runner = _nn("LSTM")(config, load_batches(config, count=1))
    runner.sync()
    speed.matmul_gflops(4, 4, 4, device="meta", repeats=1, number=1)
    step_cost._median_us(lambda: None, 1, 1, device="meta")
    assert seen and set(seen) == {"meta"}
    seen.clear()
    speed.matmul_gflops(4, 4, 4, device="cpu", repeats=1, number=1)
    assert not seen  # nothing to wait for on the CPU


# ----------------------------------------------------------------------------- runtime helpers
def test_synchronize_waits_on_cuda_and_mps(monkeypatch):
    seen = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: seen.append("cuda"))
    monkeypatch.setattr(torch.mps, "synchronize", lambda: seen.append("mps"))
    runtime.synchronize("cpu")
    runtime.synchronize("cuda:0")
    runtime.synchronize(torch.device("mps"))
    assert seen == ["cuda", "mps"]


def test_full_float32_turns_tf32_off_and_restores_it():
    import tensorflow as tf

    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    tf_before = tf.config.experimental.tensor_float_32_execution_enabled()
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    tf.config.experimental.enable_tensor_float_32_execution(True)
    try:

        @runtime.full_float32()
        def inside():
            return (
                torch.backends.cuda.matmul.allow_tf32,
                torch.backends.cudnn.allow_tf32,
                tf.config.experimental.tensor_float_32_execution_enabled(),
            )

        assert inside() == (False, False, False)
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        assert tf.config.experimental.tensor_float_32_execution_enabled()
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn
        tf.config.experimental.enable_tensor_float_32_execution(tf_before)


def test_equivalence_checks_run_in_full_float32(monkeypatch):
    from lstm_course.experiments import step_cost
    from lstm_course.torch.lstm import FusedLSTMCell

    entered = []

    @contextlib.contextmanager
    def recording():
        entered.append(True)
        yield

    monkeypatch.setattr(runtime, "full_float32", recording)
    result = step_cost.hoisting(FusedLSTMCell(3, 4, manual_backward=False), torch.randn(5, 2, 3), repeats=1, number=1)
    assert entered and result["max_abs_diff"] < 1e-5


def test_memory_growth_is_requested_for_every_gpu(monkeypatch):
    import tensorflow as tf

    import lstm_course.tf as ltf

    class FakeGPU:
        def __init__(self, name):
            self.name, self.device_type = name, "GPU"

    calls = []
    monkeypatch.setattr(
        tf.config,
        "list_physical_devices",
        lambda kind=None: [FakeGPU("/physical_device:GPU:0"), FakeGPU("/physical_device:GPU:1")],
    )

    def growth(device, enabled):
        if device.name.endswith("1"):
            raise RuntimeError("Physical devices cannot be modified after being initialized")
        calls.append((device.name, enabled))

    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", growth)
    assert ltf.enable_memory_growth() == ["/physical_device:GPU:0"]
    assert calls == [("/physical_device:GPU:0", True)]


def test_importing_lstm_course_tf_initialises_tensorflow_for_gpus_without_a_gpu():
    """In a fresh interpreter: memory growth at import, a pending determinism request applied,
    and a CPU benchmark hiding the GPUs from TensorFlow before it initialises."""
    code = """
import lstm_course
lstm_course.set_seed(0, deterministic=True)          # before TensorFlow is imported
import tensorflow as tf
calls = {"growth": [], "determinism": 0, "visible": []}
class FakeGPU:
    name, device_type = "/physical_device:GPU:0", "GPU"
real_list = tf.config.list_physical_devices
tf.config.list_physical_devices = lambda kind=None: [FakeGPU()] if kind == "GPU" else real_list(kind)
tf.config.experimental.set_memory_growth = lambda device, on: calls["growth"].append((device.name, on))
def determinism():
    calls["determinism"] += 1
tf.config.experimental.enable_op_determinism = determinism
import lstm_course.tf
tf.config.list_physical_devices = real_list
assert calls["growth"] == [("/physical_device:GPU:0", True)], calls
assert calls["determinism"] == 1, calls
tf.config.set_visible_devices = lambda devices, kind=None: calls["visible"].append((list(devices), kind))
from lstm_course.experiments.speed_impls import _tensorflow
_tensorflow(1, "cpu")
assert calls["visible"] == [([], "GPU")], calls
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]
