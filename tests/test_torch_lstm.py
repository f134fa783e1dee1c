"""PyTorch scratch LSTMs (per-gate and fused) are the same function as torch.nn.LSTM, gradients included."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lstm_course import convert
from lstm_course.torch.lstm import FusedLSTM, FusedLSTMCell, LSTMCell, ScratchLSTM, fused_lstm_scan
from lstm_course.torch.stack import RecurrentCell, StackedRNN

TOL = {torch.float32: 1e-5, torch.float64: 1e-10}
FORMS = {
    "gates": lambda *a, **k: ScratchLSTM(*a, **k),
    "fused": lambda *a, **k: FusedLSTM(*a, **k),
    "fused-autograd": lambda *a, **k: FusedLSTM(*a, manual_backward=False, **k),
}
# (num_layers, bidirectional, batch_first, batch, steps, input_size, hidden_size)
CONFIGS = [
    (1, False, False, 1, 5, 3, 4),
    (1, False, True, 3, 4, 5, 2),
    (1, True, False, 2, 6, 4, 3),
    (2, False, True, 1, 3, 2, 5),
    (2, True, False, 3, 4, 3, 4),
    (2, True, True, 2, 5, 6, 3),
    (1, True, False, 1, 1, 2, 3),  # a single time step
]


def _run(module, X, state):
    """Forward + a loss that uses output, h_n and c_n; returns everything and all gradients."""
    for t in (X, *state):
        t.grad = None
    module.zero_grad()
    out, (h_n, c_n) = module(X, state)
    loss = (out.sin().sum() + (h_n * h_n).sum() + c_n.cos().sum()) / X.numel()
    loss.backward()
    return out, h_n, c_n, X.grad.clone(), state[0].grad.clone(), state[1].grad.clone()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "L{}-bi{}-bf{}-B{}".format(*c[:4]))
def test_scratch_equals_nn_lstm(config, form, dtype):
    layers, bidirectional, batch_first, batch, steps, x, h = config
    torch.manual_seed(10 * CONFIGS.index(config) + list(FORMS).index(form))
    ref = nn.LSTM(x, h, layers, bidirectional=bidirectional, batch_first=batch_first).to(dtype)
    scratch = FORMS[form](x, h, layers, bidirectional=bidirectional, batch_first=batch_first).to(dtype)
    convert.copy_lstm(ref, scratch)
    shape = (batch, steps, x) if batch_first else (steps, batch, x)
    X = torch.randn(shape, dtype=dtype, requires_grad=True)
    rows = layers * (2 if bidirectional else 1)
    state = tuple(torch.randn(rows, batch, h, dtype=dtype, requires_grad=True) for _ in range(2))

    expected, actual = _run(ref, X, state), _run(scratch, X, state)
    for name, e, a in zip(["output", "h_n", "c_n", "dX", "dh0", "dc0"], expected, actual, strict=True):
        assert e.shape == a.shape, name
        assert (e - a).abs().max().item() <= TOL[dtype], name

    # parameter gradients, d2l layout; nn.LSTM's two biases each get the gradient of b_g
    for name, p in ref.named_parameters():
        if name.startswith("bias_hh"):
            other = ref.get_parameter(name.replace("bias_hh", "bias_ih")).grad
            assert (p.grad - other).abs().max().item() <= TOL[dtype]
    for k, (want, got) in enumerate(zip(convert.lstm_grads(ref), convert.lstm_grads(scratch), strict=True)):
        for name in convert.LSTM_PARAM_NAMES:
            assert np.abs(want[name] - got[name]).max() <= TOL[dtype], (k, name)


@pytest.mark.parametrize("form", list(FORMS))
def test_default_state_and_unbatched_input_match_nn_lstm(form):
    torch.manual_seed(1)
    ref = nn.LSTM(3, 4, 2, bidirectional=True)
    scratch = FORMS[form](3, 4, 2, bidirectional=True)
    convert.copy_lstm(ref, scratch)
    X = torch.randn(5, 3)  # unbatched (steps, input)
    (y1, (h1, c1)), (y2, (h2, c2)) = ref(X), scratch(X)
    assert y2.shape == (5, 8) and h2.shape == (4, 4)
    for e, a in ((y1, y2), (h1, h2), (c1, c2)):
        assert (e - a).abs().max().item() <= 1e-5


def test_inference_under_no_grad_matches_training_forward():
    torch.manual_seed(6)
    model = FusedLSTM(4, 5, 2)
    X = torch.randn(6, 2, 4)
    with torch.no_grad():
        y_inference, _ = model(X)
    y_train, _ = model(X)
    assert not y_inference.requires_grad and y_train.requires_grad
    assert torch.equal(y_inference, y_train.detach())


def test_fused_manual_backward_passes_gradcheck():
    torch.manual_seed(2)
    args = [
        torch.randn(4, 2, 12, dtype=torch.float64, requires_grad=True),
        torch.randn(3, 12, dtype=torch.float64, requires_grad=True),
        torch.randn(2, 3, dtype=torch.float64, requires_grad=True),
        torch.randn(2, 3, dtype=torch.float64, requires_grad=True),
    ]
    assert torch.autograd.gradcheck(fused_lstm_scan, args)


def test_cells_agree_step_by_step():
    torch.manual_seed(3)
    gates, fused = LSTMCell(3, 5).double(), FusedLSTMCell(3, 5).double()
    convert.copy_lstm(gates, fused)
    x, H, C = torch.randn(2, 3, dtype=torch.float64), *torch.randn(2, 2, 5, dtype=torch.float64)
    for a, b in zip(gates.step(x, (H, C)), fused.step(x, (H, C)), strict=True):
        assert (a - b).abs().max().item() <= 1e-12
    assert gates.num_states == fused.num_states == 2
    assert [p.shape for p in fused.parameters()] == [(3, 20), (5, 20), (20,)]


def test_dropout_only_between_layers():
    torch.manual_seed(4)
    model = FusedLSTM(3, 6, 2, dropout=0.5)
    X = torch.randn(7, 4, 3)
    model.eval()
    y_eval, (h_eval, _) = model(X)
    model.train()
    y_train, (h_train, _) = model(X)
    assert torch.equal(h_train[0], h_eval[0])  # layer 0 sees undropped input
    assert (y_train - y_eval).abs().max().item() > 1e-3  # layer 1 reads dropped-out features
    single = FusedLSTM(3, 6, 1, dropout=0.5).train()  # no layer after the last: no dropout
    assert torch.equal(single(X)[0], single.eval()(X)[0])


class _TanhCell(RecurrentCell):
    """A one-state cell defined only by step(): exercises the stack protocol like a future GRU."""

    num_states = 1

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.W_xh = nn.Parameter(torch.randn(input_size, hidden_size))
        self.W_hh = nn.Parameter(torch.randn(hidden_size, hidden_size))
        self.b_h = nn.Parameter(torch.randn(hidden_size))

    def step(self, x, state):
        return (torch.tanh(x @ self.W_xh + state[0] @ self.W_hh + self.b_h),)


def test_stack_protocol_with_a_one_state_cell_matches_nn_rnn():
    torch.manual_seed(5)
    ref = nn.RNN(3, 4, 2, bidirectional=True, batch_first=True).double()
    stack = StackedRNN(_TanhCell, 3, 4, 2, bidirectional=True, batch_first=True).double()
    with torch.no_grad():
        for k, cell in enumerate(stack.cells):
            s = f"_l{k // 2}" + ("_reverse" if k % 2 else "")
            cell.W_xh.copy_(getattr(ref, f"weight_ih{s}").T)
            cell.W_hh.copy_(getattr(ref, f"weight_hh{s}").T)
            cell.b_h.copy_(getattr(ref, f"bias_ih{s}") + getattr(ref, f"bias_hh{s}"))
    X = torch.randn(2, 5, 3, dtype=torch.float64)
    h0 = torch.randn(4, 2, 4, dtype=torch.float64)
    (y1, h1), (y2, h2) = ref(X, h0), stack(X, h0)
    assert isinstance(h2, torch.Tensor) and h2.shape == h1.shape == (4, 2, 4)
    assert (y1 - y2).abs().max().item() <= 1e-12 and (h1 - h2).abs().max().item() <= 1e-12
    assert stack.cell(1, 1) is stack.cells[3]


@pytest.mark.parametrize("form", list(FORMS))
def test_bad_shapes_raise_value_errors(form):
    model = FORMS[form](3, 4, 2, bidirectional=True)
    with pytest.raises(ValueError, match=r"expected input_size 3.*received shape \(5, 2, 7\)"):
        model(torch.randn(5, 2, 7))
    with pytest.raises(ValueError, match=r"3-D .* received shape \(5, 2, 3, 1\)"):
        model(torch.randn(5, 2, 3, 1))
    good = torch.zeros(4, 2, 4)
    with pytest.raises(ValueError, match=r"state\[1\]: expected shape \(4, 2, 4\).*received \(2, 2, 4\)"):
        model(torch.randn(5, 2, 3), (good, torch.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match=r"expected shape \(4, 2, 4\).*received \(4, 3, 4\)"):  # batch mismatch
        model(torch.randn(5, 2, 3), (torch.zeros(4, 3, 4), good))
    with pytest.raises(ValueError, match="expected 2 tensor"):
        model(torch.randn(5, 2, 3), good)
    with pytest.raises(ValueError, match=r"expected shape \(steps>0, batch, 3\)"):
        model.cell(0, 0)(torch.randn(5, 2, 2))
    with pytest.raises(ValueError, match=r"state C: expected shape \(2, 4\)"):
        model.cell(0, 0)(torch.randn(5, 2, 3), (torch.zeros(2, 4), torch.zeros(1, 4)))
    with pytest.raises(ValueError, match="num_layers must be a positive int"):
        FORMS[form](3, 4, 0)


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("batch", [1, 3])
def test_numpy_lstm_equals_torch_scratch_float64(form, batch):
    from lstm_course.numpy.lstm import init_lstm_params, lstm_backward, lstm_forward

    rng = np.random.default_rng(batch)
    steps, x, h = 5, 3, 4
    params = init_lstm_params(x, h, rng=rng, forget_bias=None)
    X, H0, C0 = rng.standard_normal((steps, batch, x)), *rng.standard_normal((2, batch, h))
    dH_all, dH_T, dC_T = rng.standard_normal((steps, batch, h)), *rng.standard_normal((2, batch, h))

    H_all, (H_T, C_T), cache = lstm_forward(X, (H0, C0), params)
    grads = lstm_backward(dH_all, cache, dH_T, dC_T)

    model = convert.load_lstm_params(FORMS[form](x, h).double(), params)
    Xt = torch.tensor(X, requires_grad=True)
    state = tuple(torch.tensor(s[None], requires_grad=True) for s in (H0, C0))
    Y, (h_n, c_n) = model(Xt, state)
    loss = (Y * torch.tensor(dH_all)).sum() + (h_n[0] * torch.tensor(dH_T)).sum() + (c_n[0] * torch.tensor(dC_T)).sum()
    loss.backward()

    tol = 1e-10  # float64 agrees to rounding (~1e-15); 1e-10 leaves margin
    assert np.abs(Y.detach().numpy() - H_all).max() <= tol
    assert np.abs(h_n[0].detach().numpy() - H_T).max() <= tol
    assert np.abs(c_n[0].detach().numpy() - C_T).max() <= tol
    assert np.abs(Xt.grad.numpy() - grads["X"]).max() <= tol
    assert np.abs(state[0].grad[0].numpy() - grads["H0"]).max() <= tol
    assert np.abs(state[1].grad[0].numpy() - grads["C0"]).max() <= tol
    torch_grads = convert.lstm_grads(model)[0]
    for name in convert.LSTM_PARAM_NAMES:
        assert np.abs(torch_grads[name] - grads[name]).max() <= tol, name
