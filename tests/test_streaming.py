"""Chapter 9's streaming demonstration: the KV cache is exact, the LSTM state does not grow."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from lstm_course.experiments import streaming  # noqa: E402
from lstm_course.torch import streamers  # noqa: E402

SMALL = dict(vocab_size=11, d_model=16, num_layers=2, nhead=4)


@pytest.fixture(scope="module")
def models():
    return streaming.build_streamers(**SMALL, seed=3)


def _tokens(steps: int, batch: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.randint(SMALL["vocab_size"], (batch, steps), generator=torch.Generator().manual_seed(seed))


def test_kv_cache_gives_the_logits_of_full_recomputation(models):
    cached, recompute = models["Transformer + KV 缓存"], models["Transformer（重算前缀）"]
    tokens = _tokens(9)
    with torch.inference_mode():
        full = recompute(tokens)  # (batch, steps, vocab), causal
        logits, cache = cached.prefill(tokens[:, :4])
        torch.testing.assert_close(logits, full[:, 3], atol=1e-5, rtol=1e-4)
        _, ids = recompute.prefill(tokens[:, :4])
        for t in range(4, 9):
            logits, cache = cached.step(tokens[:, t], cache)
            again, ids = recompute.step(tokens[:, t], ids)
            torch.testing.assert_close(logits, full[:, t], atol=1e-5, rtol=1e-4)
            torch.testing.assert_close(again, full[:, t], atol=1e-5, rtol=1e-4)
        # prefill in one pass (causal mask inside the cached path) = the same cache as stepping
        _, cache_at_once = cached.prefill(tokens)
    for (k1, v1), (k2, v2) in zip(cache, cache_at_once, strict=True):
        torch.testing.assert_close(k1, k2, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(v1, v2, atol=1e-5, rtol=1e-4)


def test_transformer_is_causal(models):
    tokens = _tokens(6)
    changed = tokens.clone()
    changed[:, 4] = (changed[:, 4] + 1) % SMALL["vocab_size"]
    with torch.inference_mode():
        a, b = models["Transformer（重算前缀）"](tokens), models["Transformer（重算前缀）"](changed)
    torch.testing.assert_close(a[:, :4], b[:, :4])
    assert not torch.allclose(a[:, 4:], b[:, 4:])


def test_lstm_steps_equal_one_pass(models):
    lstm = models["LSTM"]
    tokens = _tokens(7)
    with torch.inference_mode():
        full, _ = lstm(tokens)
        logits, state = lstm.prefill(tokens[:, :1])
        torch.testing.assert_close(logits, full[:, 0])
        for t in range(1, 7):
            logits, state = lstm.step(tokens[:, t], state)
            torch.testing.assert_close(logits, full[:, t], atol=1e-6, rtol=1e-5)


def test_state_sizes_constant_for_lstm_linear_for_the_cache(models):
    d, layers = SMALL["d_model"], SMALL["num_layers"]
    with torch.inference_mode():
        for steps in (1, 5, 20):
            tokens = _tokens(steps, batch=1)
            _, lstm_state = models["LSTM"].prefill(tokens)
            _, cache = models["Transformer + KV 缓存"].prefill(tokens)
            _, ids = models["Transformer（重算前缀）"].prefill(tokens)
            assert streamers.state_bytes(lstm_state) == 2 * layers * d * 4  # (h, c), float32
            assert streamers.state_bytes(cache) == 2 * layers * steps * d * 4  # K and V per layer
            assert streamers.state_bytes(ids) == steps * 8  # int64 token ids
    with pytest.raises(TypeError, match="state"):
        streamers.state_bytes({"h": torch.zeros(2)})


def test_measure_rows_and_plot(models):
    rows = streaming.measure(models, positions=(2, 8), repeats=2)
    assert [(r["模型"], r["position"]) for r in rows] == [(m, p) for m in models for p in (2, 8)]
    assert all(r["ms_per_token"] > 0 and r["prefill_ms"] > 0 for r in rows)
    by = {(r["模型"], r["position"]): r for r in rows}
    assert by["LSTM", 2]["state_bytes"] == by["LSTM", 8]["state_bytes"]
    assert by["Transformer + KV 缓存", 8]["state_bytes"] == 4 * by["Transformer + KV 缓存", 2]["state_bytes"]
    assert by["LSTM", 2]["parameters"] == sum(p.numel() for p in models["LSTM"].parameters())
    table = streaming.streaming_table(rows)
    assert table.columns[0] == "模型" and len(table.cells) == 6
    fig = streaming.plot_streaming(rows)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 3
    plt.close(fig)


def test_every_timed_step_waits_for_the_device(models, monkeypatch):
    """On CUDA and MPS kernels run asynchronously: the clock is read only after synchronize(device)."""
    seen = []
    monkeypatch.setattr(streaming, "synchronize", lambda device: seen.append(torch.device(device)))
    streaming.measure({"LSTM": models["LSTM"]}, positions=(2, 4), repeats=3, device="cpu")
    # one after the warm-up, and per position one after the prefill and one per timed step
    assert len(seen) == 1 + 2 * (1 + 3) and set(seen) == {torch.device("cpu")}


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="positions"):
        streaming.measure(positions=(0,))
    with pytest.raises(ValueError, match=r"\(batch, steps\)"):
        streamers.LSTMStreamer(5, 4)(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="divisible"):
        streamers.TransformerStreamer(5, 6, nhead=4)


def test_quick_setting_compares_models_of_equal_size():
    config = streaming.settings()
    built = streaming.build_streamers(**config)
    counts = [sum(p.numel() for p in m.parameters()) for m in built.values()]
    assert max(counts) / min(counts) < 1.05  # same width, about the same number of parameters


# --- chapter 11 self-checks -------------------------------------------------------------------

from lstm_course import check  # noqa: E402

_TORCH_ORDER = "ifco"  # nn.LSTM stacks i, f, g (= c), o


def _convert(order=_TORCH_ORDER, transpose=True, both_biases=True):
    def fn(w_ih, w_hh, b_ih, b_hh):
        h = w_hh.shape[1]
        bias = b_ih + b_hh if both_biases else b_ih
        out = {}
        for k, g in enumerate(order):
            rows = slice(k * h, (k + 1) * h)
            out[f"W_x{g}"] = w_ih[rows].T if transpose else w_ih[rows]
            out[f"W_h{g}"] = w_hh[rows].T if transpose else w_hh[rows]
            out[f"b_{g}"] = bias[rows]
        return out

    return fn


def test_torch_lstm_to_d2l_check(capsys):
    check.torch_lstm_to_d2l(_convert())
    assert "✅" in capsys.readouterr().out
    with pytest.raises(check.CheckFailed, match="i、f、g"):
        check.torch_lstm_to_d2l(_convert(order="ifoc"))  # d2l's listing order is not torch's
    with pytest.raises(check.CheckFailed, match="转置"):
        check.torch_lstm_to_d2l(_convert(transpose=False))
    with pytest.raises(check.CheckFailed, match="bias_hh"):
        check.torch_lstm_to_d2l(_convert(both_biases=False))
    with pytest.raises(check.CheckFailed, match="字典"):
        check.torch_lstm_to_d2l(lambda *a: [1, 2])


def test_state_and_cache_byte_checks(capsys):
    check.lstm_state_bytes(lambda L, h, n, bi: 2 * L * (2 if bi else 1) * n * h * 4)
    check.kv_cache_bytes(lambda L, d, t, n: 2 * L * t * n * d * 4)
    assert capsys.readouterr().out.count("✅") == 2
    with pytest.raises(check.CheckFailed, match="记忆元"):
        check.lstm_state_bytes(lambda L, h, n, bi: L * (2 if bi else 1) * n * h * 4)
    with pytest.raises(check.CheckFailed, match="两个方向"):
        check.lstm_state_bytes(lambda L, h, n, bi: 2 * L * n * h * 4)
    with pytest.raises(check.CheckFailed, match="值 V"):
        check.kv_cache_bytes(lambda L, d, t, n: L * t * n * d * 4)
    with pytest.raises(check.CheckFailed, match="4 字节"):
        check.kv_cache_bytes(lambda L, d, t, n: 2 * L * t * n * d)
