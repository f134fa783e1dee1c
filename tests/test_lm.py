"""The PyTorch language model: wrapper, training loop, state handling, generation, checkpoints."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
from torch import nn

import lstm_course
from lstm_course.convert import copy_lstm
from lstm_course.data import Vocab
from lstm_course.data.timemachine import SeqDataLoader
from lstm_course.torch.lm import (
    RNNLM,
    CheckpointError,
    LMConfig,
    UnknownTokenError,
    build_lm,
    build_rnn,
    detach_state,
    evaluate_perplexity,
    generate,
    lm_loss,
    load_checkpoint,
    sample_next,
    save_checkpoint,
    train_lm,
)
from lstm_course.torch.lstm import FusedLSTM, ScratchLSTM

TEXT = "abcd " * 60
VOCAB = Vocab(list(TEXT))


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models: one intra-op thread avoids contention on a shared 2-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _loader(text: str = TEXT, batch_size: int = 4, num_steps: int = 6, **kwargs) -> SeqDataLoader:
    return SeqDataLoader(VOCAB[list(text)], batch_size, num_steps, vocab=VOCAB, rng=random.Random(0), **kwargs)


# ----------------------------------------------------------------- model
@pytest.mark.parametrize(
    "cell, impl",
    [("lstm", "framework"), ("lstm", "scratch"), ("lstm", "fused"), ("gru", "framework"), ("rnn", "framework")],
)
@pytest.mark.parametrize("embedding_dim", [0, 5])
def test_forward_shapes_for_every_cell_and_input(cell, impl, embedding_dim):
    config = LMConfig(len(VOCAB), cell=cell, impl=impl, hidden_size=8, num_layers=2, embedding_dim=embedding_dim)
    model = build_lm(config)
    X = torch.randint(0, len(VOCAB), (3, 7))
    logits, state = model(X)
    assert logits.shape == (7, 3, len(VOCAB))
    h = state[0] if isinstance(state, tuple) else state
    assert h.shape == (2, 3, 8)
    logits2, _ = model(X[:, :1], detach_state(state))
    assert logits2.shape == (1, 3, len(VOCAB))
    assert (model.embedding is None) == (embedding_dim == 0)


def test_build_rnn_and_config_errors():
    with pytest.raises(ValueError, match="no 'fused' implementation of 'rnn'"):
        build_rnn("rnn", "fused", 4, 4)
    with pytest.raises(ValueError, match="cell must be one of"):
        build_rnn("transformer", "framework", 4, 4)
    with pytest.raises(ValueError, match="impl must be one of"):
        LMConfig(10, impl="cuda")
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        LMConfig(10, hidden_size=0)
    with pytest.raises(ValueError, match="unknown LMConfig fields"):
        LMConfig.from_dict({"vocab_size": 3, "colour": "red"})
    assert LMConfig.from_dict(LMConfig(7, cell="gru").to_dict()) == LMConfig(7, cell="gru")


def test_wrapper_rejects_mismatched_modules_and_inputs():
    with pytest.raises(ValueError, match="rnn.input_size: expected 6"):
        RNNLM(nn.LSTM(5, 4), 6)
    with pytest.raises(ValueError, match="expected 3 to match embedding_dim=3"):
        RNNLM(nn.LSTM(6, 4), 6, embedding_dim=3)
    with pytest.raises(ValueError, match="bidirectional"):
        RNNLM(nn.LSTM(6, 4, bidirectional=True), 6)
    with pytest.raises(ValueError, match="time-major"):
        RNNLM(nn.LSTM(6, 4, batch_first=True), 6)
    model = RNNLM(nn.GRU(6, 4), 6)
    with pytest.raises(ValueError, match=r"expected token indices of shape \(batch, steps\)"):
        model(torch.zeros(2, 3, 6, dtype=torch.long))


def test_scratch_fused_and_framework_lstm_give_the_same_loss_with_the_same_weights():
    torch.manual_seed(0)
    V, H = len(VOCAB), 12
    ref = RNNLM(nn.LSTM(V, H, 2), V)
    X, Y = (torch.as_tensor(a) for a in next(iter(_loader(batch_size=3, num_steps=9))))
    expected, _ = ref(X)
    for rnn in (ScratchLSTM(V, H, 2), FusedLSTM(V, H, 2)):
        model = RNNLM(copy_lstm(ref.rnn, rnn), V)
        model.output.load_state_dict(ref.output.state_dict())
        logits, _ = model(X)
        torch.testing.assert_close(logits, expected, atol=1e-6, rtol=1e-5)
        assert abs(lm_loss(logits, Y).item() - lm_loss(expected, Y).item()) < 1e-6


def test_lm_loss_is_mean_cross_entropy_per_token():
    logits = torch.randn(5, 2, 4)
    Y = torch.randint(0, 4, (2, 5))
    manual = -torch.log_softmax(logits, -1).gather(-1, Y.T.unsqueeze(-1)).mean()
    torch.testing.assert_close(lm_loss(logits, Y), manual)
    with pytest.raises(ValueError, match=r"Y: expected shape \(2, 5\)"):
        lm_loss(logits, Y.T)


# ----------------------------------------------------------------- training
def test_uniform_model_has_perplexity_equal_to_vocab_size():
    model = build_lm(LMConfig(len(VOCAB), hidden_size=4))
    nn.init.zeros_(model.output.weight)
    nn.init.zeros_(model.output.bias)
    assert evaluate_perplexity(model, _loader(offset=0)) == pytest.approx(len(VOCAB), rel=1e-6)


@pytest.mark.parametrize("optimizer, lr", [("sgd", 1.0), ("adam", 0.02)])
def test_training_learns_a_periodic_text(optimizer, lr):
    lstm_course.set_seed(0)
    model = build_lm(LMConfig(len(VOCAB), hidden_size=16))
    history = train_lm(
        model, _loader(), epochs=25, lr=lr, optimizer=optimizer, val_iter=_loader(offset=0), progress=False
    )
    assert history.epochs == 25 and len(history.val_ppl) == 25 and len(history.tokens_per_s) == 25
    assert history.train_ppl[0] > 3 and history.train_ppl[-1] < 1.3
    assert history.val_ppl[-1] < 1.3 and all(s > 0 for s in history.tokens_per_s)
    assert generate(model, VOCAB, "abc", 10) == "abcd abcd abc"


class _Spy(nn.Module):
    """An nn.LSTM that records the state it receives."""

    def __init__(self, V):
        super().__init__()
        self.lstm, self.input_size, self.hidden_size = nn.LSTM(V, 4), V, 4
        self.seen = []

    def forward(self, X, state=None):
        self.seen.append(None if state is None else (state[0].requires_grad, state[0].grad_fn))
        return self.lstm(X, state)


@pytest.mark.parametrize("use_random_iter", [False, True])
def test_state_is_carried_detached_or_reset(use_random_iter):
    spy = _Spy(len(VOCAB))
    model = RNNLM(spy, len(VOCAB))
    loader = _loader(use_random_iter=use_random_iter)
    train_lm(model, loader, epochs=2, lr=0.1, progress=False)
    per_epoch = len(spy.seen) // 2
    if use_random_iter:
        assert all(s is None for s in spy.seen)
    else:
        assert spy.seen[0] is None and spy.seen[per_epoch] is None  # fresh state every epoch
        carried = [s for i, s in enumerate(spy.seen) if i % per_epoch]
        assert carried and all(s == (False, None) for s in carried)  # carried, graph cut


def test_restore_best_and_argument_errors():
    model = build_lm(LMConfig(len(VOCAB), hidden_size=8))
    history = train_lm(
        model, _loader(), epochs=4, lr=1.0, val_iter=_loader(offset=0), restore_best=True, progress=False
    )
    assert evaluate_perplexity(model, _loader(offset=0)) == pytest.approx(history.best_val_ppl, rel=1e-5)
    with pytest.raises(ValueError, match="restore_best and plateau_decay need val_iter"):
        train_lm(model, _loader(), epochs=1, lr=1.0, restore_best=True, progress=False)
    with pytest.raises(ValueError, match=r"plateau_decay must be in \(0, 1\)"):
        train_lm(model, _loader(), epochs=1, lr=1.0, val_iter=_loader(offset=0), plateau_decay=2.0, progress=False)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        train_lm(model, _loader(), epochs=0, lr=1.0, progress=False)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        train_lm(model, _loader(), epochs=1, lr=1.0, optimizer="rmsprop", progress=False)


def test_plateau_decay_lowers_the_learning_rate_when_validation_stalls():
    model = build_lm(LMConfig(len(VOCAB), hidden_size=8))
    # A learning rate this small changes the validation perplexity by far less than the 1e-4
    # relative threshold of ReduceLROnPlateau: only the first epoch counts as an improvement.
    history = train_lm(
        model, _loader(), epochs=4, lr=1e-6, val_iter=_loader(offset=0), plateau_decay=0.5, progress=False
    )
    assert history.lr == pytest.approx([1e-6, 1e-6, 0.5e-6, 0.25e-6])


def test_history_roundtrip_and_plot():
    from lstm_course.lm.history import LMHistory

    h = LMHistory([5.0, 3.0, 2.0], [6.0, 4.0, 4.5], [10.0, 20.0, 30.0], [1.0, 1.0, 1.0])
    assert h.best_epoch == 2 and h.best_val_ppl == 4.0 and h.mean_tokens_per_s() == 25.0
    assert LMHistory.from_dict(h.to_dict()) == h
    ax = h.plot(title="t")
    assert [line.get_label() for line in ax.get_lines()] == ["训练困惑度", "验证困惑度"]


# ----------------------------------------------------------------- generation
def _model(seed: int = 0) -> RNNLM:
    torch.manual_seed(seed)
    return build_lm(LMConfig(len(VOCAB), hidden_size=8))


def test_generate_errors():
    model = _model()
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="num_preds must be an int >= 1"):
            generate(model, VOCAB, "ab", bad)
    with pytest.raises(UnknownTokenError, match="not in the vocabulary: 'A', 'z'") as info:
        generate(model, VOCAB, "Abz", 5)
    assert info.value.tokens == ["A", "z"]
    with pytest.raises(ValueError, match="at least one token"):
        generate(model, VOCAB, "", 5)
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="temperature must be finite and >= 0"):
            generate(model, VOCAB, "ab", 5, temperature=bad)
    with pytest.raises(ValueError, match="top_k must be a positive int"):
        generate(model, VOCAB, "ab", 5, temperature=1, top_k=0)


def test_greedy_sampling_and_top_k():
    model = _model()
    greedy = generate(model, VOCAB, "ab", 12)
    assert greedy.startswith("ab") and len(greedy) == 14
    assert generate(model, VOCAB, "ab", 12, temperature=0.7, top_k=1) == greedy
    a = generate(model, VOCAB, "ab", 30, temperature=1.5, seed=3)
    assert a == generate(model, VOCAB, "ab", 30, temperature=1.5, seed=3)
    assert a != generate(model, VOCAB, "ab", 30, temperature=1.5, seed=4)
    assert model.training  # mode restored


def test_word_level_generation_joins_with_spaces():
    words = Vocab("the time traveller was here".split())
    torch.manual_seed(0)
    model = build_lm(LMConfig(len(words), hidden_size=8, token="word"))
    text = generate(model, words, "the  time", 4)
    assert text.split()[:2] == ["the", "time"] and len(text.split()) == 6
    assert all(w in words for w in text.split())
    with pytest.raises(UnknownTokenError, match="word token"):
        generate(model, words, "the machine", 2)


def test_sample_next_respects_top_k_and_temperature():
    logits = torch.tensor([0.0, 3.0, 2.9, -1.0, 1.0])
    gen = torch.Generator().manual_seed(0)
    picks = {sample_next(logits, temperature=5.0, top_k=2, generator=gen) for _ in range(200)}
    assert picks == {1, 2}
    cold = [sample_next(logits, temperature=0.01, generator=gen) for _ in range(50)]
    assert set(cold) == {1}
    assert sample_next(logits) == 1
    with pytest.raises(ValueError, match=r"expected shape \(vocab,\)"):
        sample_next(logits[None])


# ----------------------------------------------------------------- checkpoints
def test_checkpoint_roundtrip_is_safe_and_exact(tmp_path):
    model = _model()
    X = torch.randint(0, len(VOCAB), (2, 5))
    path = save_checkpoint(tmp_path / "run", model, VOCAB, extra={"note": "test"})
    assert path.name == "checkpoint.pt"
    torch.load(path, weights_only=True)  # plain tensors and strings only
    ckpt = load_checkpoint(tmp_path / "run")
    assert ckpt.vocab == VOCAB and ckpt.config == model.config and ckpt.extra == {"note": "test"}
    torch.testing.assert_close(ckpt.model(X)[0], model(X)[0])
    assert generate(ckpt.model, ckpt.vocab, "ab", 8) == generate(model, VOCAB, "ab", 8)


def test_checkpoint_mismatches_are_clear_errors(tmp_path):
    model = _model()
    path = save_checkpoint(tmp_path / "m.pt", model, VOCAB)
    other = Vocab(list("abcd e"))
    with pytest.raises(CheckpointError, match="vocabulary mismatch: the checkpoint was trained with 6 tokens"):
        load_checkpoint(path, vocab=other)
    swapped = Vocab.from_dict({"idx_to_token": ["<unk>", "a", " ", "b", "c", "d"], "unk_token": "<unk>"})
    with pytest.raises(CheckpointError, match="index 2 is 'b' in the checkpoint but ' '"):
        load_checkpoint(path, vocab=swapped)
    with pytest.raises(CheckpointError, match="configuration mismatch .*hidden_size: checkpoint 8 vs given 16"):
        load_checkpoint(path, config=LMConfig(len(VOCAB), hidden_size=16))
    with pytest.raises(CheckpointError, match="vocabulary has 8 tokens but the configuration says vocab_size=6"):
        save_checkpoint(tmp_path / "x.pt", model, Vocab(list("abcdefg")))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="not a language-model checkpoint"):
        load_checkpoint(tmp_path / "plain.pt")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")


def test_get_device_is_cpu_here_and_checkpoint_loads_to_it(tmp_path):
    device = lstm_course.get_device()
    assert device.type in ("cpu", "cuda", "mps")
    path = save_checkpoint(tmp_path, _model(), VOCAB)
    ckpt = load_checkpoint(path, device=device)
    assert next(ckpt.model.parameters()).device.type == device.type
    assert not math.isnan(float(np.asarray(evaluate_perplexity(ckpt.model, _loader(offset=0)))))


def test_package_re_exports_what_its_modules_define():
    import lstm_course.torch.lm as lm

    for name in lm.__all__:
        obj = getattr(lm, name)
        home = getattr(obj, "__module__", None)
        if home is not None and isinstance(obj, type | type(lm.train_lm)):
            assert home.startswith(("lstm_course.torch.lm.", "lstm_course.lm.", "lstm_course.torch.checkpoint_io")), (
                name,
                home,
            )
    # the submodules stay reachable under their own names (no function shadows a module)
    for module in ("model", "evaluate", "train", "generation", "checkpoint"):
        assert type(getattr(lm, module)).__name__ == "module", module


def test_framework_free_half_imports_without_torch():
    import subprocess
    import sys

    code = "import sys, lstm_course.lm, lstm_course.progress; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
