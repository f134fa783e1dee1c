"""Scratch GRUs in PyTorch == nn.GRU (outputs, h_n, every gradient), both variants == the NumPy GRU,
the scratch tanh RNN == nn.RNN, the language-model builder, and the GRU gradient-flow helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lstm_course import convert
from lstm_course.numpy.gru import gru_backward, gru_forward, init_gru_params, param_names
from lstm_course.torch.gru import FusedGRU, FusedGRUCell, GRUCell, ScratchGRU
from lstm_course.torch.lm import build_rnn
from lstm_course.torch.rnn import RNNCell, ScratchRNN

FORMS = {"gates": ScratchGRU, "fused": FusedGRU}
TOL = {torch.float32: 1e-5, torch.float64: 1e-10}
# (num_layers, bidirectional, batch_first, batch, steps, input, hidden)
CONFIGS = [(1, False, False, 3, 6, 5, 4), (2, True, True, 2, 5, 3, 6), (2, True, False, 1, 4, 4, 3)]


def _run(module, X, h0):
    for t in (X, h0):
        t.grad = None
    module.zero_grad()
    output, h_n = module(X, h0)
    (output.sin().mean() + (h_n**2).mean()).backward()
    return output.detach(), h_n.detach(), X.grad.clone(), h0.grad.clone()


def _randomize(module: nn.Module, seed: int) -> None:
    """Weights in ±0.5 (wider than the default init, so that the gates saturate differently)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=p.dtype) - 0.5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "L{}-bi{}-bf{}-B{}".format(*c[:4]))
def test_framework_variant_equals_nn_gru(config, form, dtype):
    layers, bidirectional, batch_first, batch, steps, x, h = config
    torch.manual_seed(CONFIGS.index(config))
    ref = nn.GRU(x, h, layers, bidirectional=bidirectional, batch_first=batch_first).to(dtype)
    _randomize(ref, seed=CONFIGS.index(config))
    scratch = FORMS[form](x, h, layers, bidirectional=bidirectional, batch_first=batch_first).to(dtype)
    convert.copy_gru(ref, scratch)
    shape = (batch, steps, x) if batch_first else (steps, batch, x)
    X = torch.randn(shape, dtype=dtype, requires_grad=True)
    h0 = torch.randn(layers * (2 if bidirectional else 1), batch, h, dtype=dtype, requires_grad=True)
    for name, e, a in zip(["output", "h_n", "dX", "dh0"], _run(ref, X, h0), _run(scratch, X, h0), strict=True):
        assert e.shape == a.shape, name
        assert (e - a).abs().max().item() <= TOL[dtype], name
    for k, (want, got) in enumerate(zip(convert.gru_grads(ref), convert.gru_grads(scratch), strict=True)):
        assert set(want) == set(got) == set(param_names("framework"))
        for name in want:
            assert np.abs(want[name] - got[name]).max() <= TOL[dtype], (k, name)


@pytest.mark.parametrize("form", list(FORMS))
def test_default_state_unbatched_and_textbook_variant_differs(form):
    torch.manual_seed(1)
    ref = nn.GRU(3, 4, 2, bidirectional=True)
    scratch = FORMS[form](3, 4, 2, bidirectional=True)
    convert.copy_gru(ref, scratch)
    X = torch.randn(5, 3)  # unbatched (steps, input)
    (y1, h1), (y2, h2) = ref(X), scratch(X)
    assert y2.shape == (5, 8) and h2.shape == (4, 4)
    assert (y1 - y2).abs().max().item() <= 1e-5 and (h1 - h2).abs().max().item() <= 1e-5
    textbook = FORMS[form](3, 4, 2, bidirectional=True, variant="textbook")
    params = [{k: v for k, v in p.items() if k != "b_hh"} for p in convert.gru_params(ref)]
    convert.load_gru_params(textbook, params)
    assert (textbook(X)[0] - y1).abs().max().item() > 1e-4  # a different function


@pytest.mark.parametrize("variant", ["textbook", "framework"])
def test_cells_agree_step_by_step_and_fused_shapes(variant):
    torch.manual_seed(3)
    gates = GRUCell(3, 5, variant=variant).double()
    fused = FusedGRUCell(3, 5, variant=variant).double()
    convert.copy_gru(gates, fused)
    x, H = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)
    (a,), (b,) = gates.step(x, (H,)), fused.step(x, (H,))
    assert (a - b).abs().max().item() <= 1e-12
    X = torch.randn(6, 2, 3, dtype=torch.float64)
    assert (gates(X)[0] - fused(X)[0]).abs().max().item() <= 1e-12
    expected = [(3, 15), (5, 15), (15,)] + ([(5,)] if variant == "framework" else [])
    assert [tuple(p.shape) for p in fused.parameters()] == expected
    assert gates.num_states == fused.num_states == 1


@pytest.mark.parametrize("variant", ["textbook", "framework"])
@pytest.mark.parametrize("form", list(FORMS))
def test_numpy_gru_equals_torch_scratch_float64(variant, form):
    rng = np.random.default_rng(0)
    steps, batch, x, h = 5, 2, 3, 4
    params = init_gru_params(x, h, variant=variant, rng=rng, scale=0.9)
    X, H0, dH = (
        rng.standard_normal((steps, batch, x)),
        rng.standard_normal((batch, h)),
        rng.standard_normal((steps, batch, h)),
    )
    H_all, cache = gru_forward(X, H0, params, variant=variant)
    grads = gru_backward(dH, cache)
    model = convert.load_gru_params(FORMS[form](x, h, variant=variant).double(), params)
    Xt, H0t = torch.tensor(X, requires_grad=True), torch.tensor(H0[None], requires_grad=True)
    Y, _ = model(Xt, H0t)
    (Y * torch.tensor(dH)).sum().backward()
    assert np.abs(Y.detach().numpy() - H_all).max() <= 1e-12
    assert np.abs(Xt.grad.numpy() - grads["X"]).max() <= 1e-12
    assert np.abs(H0t.grad.numpy()[0] - grads["H0"]).max() <= 1e-12
    for name, g in convert.gru_grads(model)[0].items():
        assert np.abs(g - grads[name]).max() <= 1e-12, name


def test_dropout_only_between_layers():
    torch.manual_seed(4)
    model = FusedGRU(3, 6, 2, dropout=0.5)
    X = torch.randn(7, 4, 3)
    y_eval, h_eval = model.eval()(X)
    y_train, h_train = model.train()(X)
    assert torch.equal(h_train[0], h_eval[0])
    assert (y_train - y_eval).abs().max().item() > 1e-3


def test_bad_shapes_and_variants():
    model = ScratchGRU(3, 4, 2, bidirectional=True)
    with pytest.raises(ValueError, match=r"expected input_size 3.*received shape \(5, 2, 7\)"):
        model(torch.randn(5, 2, 7))
    with pytest.raises(ValueError, match="expected 1 tensor"):
        model(torch.randn(5, 2, 3), (torch.zeros(4, 2, 4), torch.zeros(4, 2, 4)))
    with pytest.raises(ValueError, match=r"state H: expected shape \(2, 4\)"):
        model.cell(0, 0)(torch.randn(5, 2, 3), (torch.zeros(3, 4),))
    with pytest.raises(ValueError, match=r"expected shape \(steps>0, batch, 3\)"):
        FusedGRUCell(3, 4)(torch.randn(5, 2, 2))
    with pytest.raises(ValueError, match="variant: expected one of"):
        FusedGRU(3, 4, variant="cudnn")


def test_hoisted_input_projection_and_one_recurrent_product_per_step():
    """Framework variant: 1 + T matrix products; textbook: 1 + 2T (R ⊙ H must exist before the h block)."""
    from torch.overrides import TorchFunctionMode

    class Count(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.n = 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            if getattr(func, "__name__", "") in ("matmul", "__matmul__", "mm", "addmm"):
                self.n += 1
            return func(*args, **(kwargs or {}))

    X = torch.randn(10, 2, 3)
    counts = {}
    for variant in ("framework", "textbook"):
        with Count() as c:
            FusedGRU(3, 4, variant=variant)(X)
        counts[variant] = c.n
    assert counts == {"framework": 11, "textbook": 21}


@pytest.mark.parametrize("bidirectional", [False, True])
def test_scratch_rnn_equals_nn_rnn(bidirectional):
    torch.manual_seed(5)
    ref = nn.RNN(3, 4, 2, bidirectional=bidirectional, batch_first=True).double()
    model = ScratchRNN(3, 4, 2, bidirectional=bidirectional, batch_first=True).double()
    with torch.no_grad():
        for k, cell in enumerate(model.cells):
            d = 2 if bidirectional else 1
            s = f"_l{k // d}" + ("_reverse" if k % d else "")
            cell.W_xh.copy_(getattr(ref, f"weight_ih{s}").T)
            cell.W_hh.copy_(getattr(ref, f"weight_hh{s}").T)
            cell.b_h.copy_(getattr(ref, f"bias_ih{s}") + getattr(ref, f"bias_hh{s}"))
    X = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2 * (2 if bidirectional else 1), 2, 4, dtype=torch.float64)
    (y1, h1), (y2, h2) = ref(X, h0), model(X, h0)
    assert (y1 - y2).abs().max().item() <= 1e-12 and (h1 - h2).abs().max().item() <= 1e-12
    (g1,) = torch.autograd.grad(y1.sum(), X)
    (g2,) = torch.autograd.grad(y2.sum(), X)
    assert (g1 - g2).abs().max().item() <= 1e-12
    cell = RNNCell(3, 4)
    (h,) = cell.step(torch.zeros(1, 3), (torch.zeros(1, 4),))
    assert torch.allclose(h, torch.tanh(cell.b_h))
    with pytest.raises(ValueError, match="state: expected one tensor"):
        cell(torch.zeros(2, 1, 3), (torch.zeros(2, 4),))


@pytest.mark.parametrize(
    "cell, impl, cls", [("gru", "scratch", ScratchGRU), ("gru", "fused", FusedGRU), ("rnn", "scratch", ScratchRNN)]
)
def test_build_rnn_knows_the_new_scratch_modules(cell, impl, cls):
    module = build_rnn(cell, impl, 5, 6, num_layers=2, dropout=0.2)
    assert type(module) is cls and module.num_layers == 2 and module.dropout == 0.2
    y, h = module(torch.randn(4, 3, 5))
    assert y.shape == (4, 3, 6) and h.shape == (2, 3, 6)
    with pytest.raises(ValueError, match="no 'fused' implementation of 'rnn'"):
        build_rnn("rnn", "fused", 5, 6)


def test_gru_gradient_flow_update_path():
    """The update gate's direct path bounds nothing but is part of dh_T/dh_t; scratch == nn.GRU norms."""
    from lstm_course.experiments import gradient_flow

    torch.manual_seed(0)
    gru = nn.GRU(3, 8)
    X = gradient_flow.random_inputs(30, 2, 3, seed=0)
    z = gradient_flow.update_gates(gru, X)
    assert z.shape == (30, 2, 8) and np.all((z > 0) & (z < 1))
    paths = gradient_flow.update_path_norms(gru, X)
    assert paths.shape == (29, 2) and np.all(np.diff(paths, axis=0) <= 1e-15)  # a product of gates < 1
    np.testing.assert_allclose(paths[0], z[-1].max(axis=-1), rtol=1e-6)
    scratch = convert.copy_gru(gru, FusedGRU(3, 8))
    np.testing.assert_allclose(
        gradient_flow.jacobian_norms(scratch, X), gradient_flow.jacobian_norms(gru, X), rtol=1e-8
    )
    with pytest.raises(TypeError, match="one-layer, unidirectional torch.nn.GRU"):
        gradient_flow.update_gates(nn.LSTM(3, 8), X)


def test_update_bias_keeps_the_gradient_alive():
    from lstm_course.experiments import gradient_flow
    from lstm_course.experiments.common import make_recurrent

    small = dict(hidden_size=16, input_size=3, n_seq=2, steps=41)
    modules = {"default": make_recurrent("gru", 3, 16, seed=0)}
    modules["b_z=4"] = gradient_flow.set_update_bias(make_recurrent("gru", 3, 16, seed=0), 4.0)
    assert torch.all(modules["b_z=4"].bias_ih_l0[16:32] == 4.0) and not modules["b_z=4"].bias_hh_l0[16:32].any()
    curves = gradient_flow.cell_curves(modules, **small)
    at_40 = {k: gradient_flow.geometric_mean(v)[39] for k, v in curves.items()}
    assert at_40["b_z=4"] > 0.1 and at_40["b_z=4"] > 1e4 * at_40["default"]
    with pytest.raises(TypeError, match="needs a torch.nn.GRU"):
        gradient_flow.set_update_bias(nn.LSTM(3, 4), 1.0)
