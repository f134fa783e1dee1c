"""How far back does a gradient reach?  ``||dh_T/ds_t||`` versus the distance ``T - t``.

``s_t`` is the recurrent state after step ``t``: ``h_t`` for an RNN or GRU, ``(h_t, C_t)`` for an
LSTM.  The Jacobian ``dh_T/ds_t`` is computed exactly with autograd (float64), for every ``t`` at
once: each sequence is repeated ``hidden_size`` times in the batch and copy ``j`` back-propagates
``h_T[j]``, so a single backward pass yields all rows of every Jacobian.

Any module with the ``torch.nn.RNN``/``nn.LSTM``/``nn.GRU`` interface works: time-major input,
``module(X, state) -> (outputs, state)`` where ``state`` is a tensor ``(layers, batch, hidden)`` or
a tuple of them, and ``state=None`` means zeros.  Importing this module imports PyTorch.

The LSTM's forget-gate helpers (:func:`forget_gates`, :func:`forget_path_norms`) have GRU
counterparts for the update gate, whose ``diag(z_t)`` is the GRU's direct path:
:func:`update_gates`, :func:`update_path_norms` and :func:`set_update_bias`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_course.config import by_profile
from lstm_course.experiments.common import make_recurrent
from lstm_course.runtime import single_thread
from lstm_course.tables import Table, markdown_table

__all__ = [
    "DISTANCES",
    "settings",
    "jacobian_norms",
    "geometric_mean",
    "flow_rows",
    "flow_table",
    "plot_flow",
    "random_inputs",
    "radius_curves",
    "cell_curves",
    "forget_gates",
    "forget_path_norms",
    "cell_state_jacobian",
    "set_update_bias",
    "update_gates",
    "update_path_norms",
]

DISTANCES = (1, 10, 50, 100)
"""The distances ``T - t`` the chapter's tables report."""


def settings() -> dict[str, int]:
    """Sizes of the gradient-flow measurements in the active profile (``steps - 1`` = largest distance)."""
    return by_profile(
        quick=dict(hidden_size=32, input_size=4, n_seq=4, steps=101),
        full=dict(hidden_size=64, input_size=4, n_seq=16, steps=201),
    )


def _as_tuple(state: Any) -> tuple[torch.Tensor, ...]:
    return tuple(state) if isinstance(state, (tuple, list)) else (state,)


def _like(parts: tuple[torch.Tensor, ...], template: Any) -> Any:
    return parts if isinstance(template, (tuple, list)) else parts[0]


def _hidden_size(module: nn.Module, input_size: int, dtype: torch.dtype) -> int:
    size = getattr(module, "hidden_size", None)
    if isinstance(size, int):
        return size
    _, state = module(torch.zeros(1, 1, input_size, dtype=dtype), None)
    return _as_tuple(state)[0].shape[-1]


def jacobian_norms(
    module: nn.Module,
    X: torch.Tensor | np.ndarray,
    *,
    target: int = 0,
    wrt: int | None = None,
    ord: int | str = 2,
) -> np.ndarray:
    """Norms of the Jacobians ``d target_T / d s_t`` for every distance ``T - t = 1 .. steps-1``.

    Args:
        module: a recurrent layer (see the module docstring); it is copied to float64 and left unchanged.
        X: inputs ``(steps, n_seq, input_size)``; each of the ``n_seq`` sequences gives one Jacobian per step.
        target: which state part is differentiated at the last step: 0 = ``h_T``, 1 = ``C_T`` (LSTM).
        wrt: differentiate w.r.t. one state part only (0 = ``h_t``, 1 = ``C_t``); ``None`` means the
            whole state, i.e. the Jacobian w.r.t. ``(h_t, C_t)`` side by side for an LSTM.
        ord: matrix norm passed to ``torch.linalg.matrix_norm`` (2 = spectral norm, ``'fro'``).

    Returns:
        ``(steps - 1, n_seq)``; row ``k`` holds the norms at distance ``k + 1`` (last layer's ``h_T``
        against the state of all layers after step ``T - k - 1``).
    """
    X = torch.as_tensor(X)
    if X.ndim != 3:
        raise ValueError(f"X: expected shape (steps, n_seq, input_size), received {tuple(X.shape)}")
    steps, n_seq, input_size = X.shape
    if steps < 2:
        raise ValueError(f"X: need at least 2 steps to measure a distance, received {steps}")
    model = copy.deepcopy(module).cpu().double().eval()
    X = X.detach().cpu().double()
    with torch.enable_grad(), single_thread():
        hidden = _hidden_size(model, input_size, X.dtype)
        Xr = X.repeat_interleave(hidden, dim=1)  # batch index = sequence * hidden + row
        batch = Xr.shape[1]
        _, state = model(Xr[:1], None)
        fed: list[tuple[torch.Tensor, ...]] = []
        for t in range(1, steps):
            # A clone whose only consumer is the next step: its gradient is the partial derivative
            # of the rest of the sequence w.r.t. the state s_t.
            parts = tuple(p.clone() for p in _as_tuple(state))
            fed.append(parts)
            _, state = model(Xr[t : t + 1], _like(parts, state))
        final = _as_tuple(state)
        if target >= len(final):
            raise ValueError(f"target={target} but the state has {len(final)} part(s)")
        out = final[target][-1]
        rows = torch.arange(batch)
        loss = out[rows, rows % hidden].sum()
        chosen = [i for i in range(len(fed[0])) if wrt is None or i == wrt]
        if not chosen:
            raise ValueError(f"wrt={wrt} but the state has {len(fed[0])} part(s)")
        inputs = [parts[i] for parts in fed for i in chosen]
        grads = torch.autograd.grad(loss, inputs, allow_unused=True)
    norms = np.empty((steps - 1, n_seq))
    for k, t in enumerate(range(steps - 2, -1, -1)):  # distance k+1 <-> fed[t]
        pieces = []
        for j, i in enumerate(chosen):
            g = grads[t * len(chosen) + j]
            g = torch.zeros_like(fed[t][i]) if g is None else g
            pieces.append(g.permute(1, 0, 2).reshape(batch, -1))  # (batch, layers * hidden)
        jac = torch.cat(pieces, dim=1).reshape(n_seq, hidden, -1)
        norms[k] = torch.linalg.matrix_norm(jac, ord=ord).numpy()
    return norms


def geometric_mean(norms: np.ndarray) -> np.ndarray:
    """Geometric mean over the last axis (the sequences); the norms span many orders of magnitude."""
    with np.errstate(divide="ignore"):
        return np.exp(np.mean(np.log(np.asarray(norms, dtype=float)), axis=-1))


def random_inputs(steps: int, n_seq: int, input_size: int, *, seed: int = 0) -> torch.Tensor:
    """Standard-normal inputs ``(steps, n_seq, input_size)`` from a seeded generator."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(steps, n_seq, input_size, generator=gen)


def radius_curves(
    radii: Sequence[float] = (0.5, 1.0, 1.5),
    *,
    hidden_size: int | None = None,
    input_size: int | None = None,
    n_seq: int | None = None,
    steps: int | None = None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """``||dh_T/dh_t||`` of a tanh ``nn.RNN`` whose ``W_hh`` has each spectral radius in ``radii``.

    All runs share the same ``W_xh``, bias, direction of ``W_hh`` and inputs; only the scale of
    ``W_hh`` differs.  Defaults come from :func:`settings`.  Returns label -> ``(steps-1, n_seq)``.
    """
    cfg = _settings(hidden_size, input_size, n_seq, steps)
    X = random_inputs(cfg["steps"], cfg["n_seq"], cfg["input_size"], seed=seed)
    curves = {}
    for radius in radii:
        module = make_recurrent("rnn", cfg["input_size"], cfg["hidden_size"], radius=radius, seed=seed)
        curves[f"RNN ρ={radius:g}"] = jacobian_norms(module, X)
    return curves


def cell_curves(
    modules: Mapping[str, nn.Module] | None = None,
    *,
    hidden_size: int | None = None,
    input_size: int | None = None,
    n_seq: int | None = None,
    steps: int | None = None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """``||dh_T/ds_t||`` for several cells at initialisation on the same random inputs.

    Args:
        modules: label -> recurrent layer; by default a tanh RNN, LSTMs with forget-gate bias
            0, 1 and 3, and a GRU, all freshly initialised with ``seed``.
    """
    cfg = _settings(hidden_size, input_size, n_seq, steps)
    if modules is None:
        size = (cfg["input_size"], cfg["hidden_size"])
        modules = {"RNN": make_recurrent("rnn", *size, seed=seed)}
        for bias in (0.0, 1.0, 3.0):
            modules[f"LSTM b_f={bias:g}"] = make_recurrent("lstm", *size, forget_bias=bias, seed=seed)
        modules["GRU"] = make_recurrent("gru", *size, seed=seed)
    X = random_inputs(cfg["steps"], cfg["n_seq"], cfg["input_size"], seed=seed)
    return {label: jacobian_norms(module, X) for label, module in modules.items()}


def _settings(hidden_size, input_size, n_seq, steps) -> dict[str, int]:
    given = dict(hidden_size=hidden_size, input_size=input_size, n_seq=n_seq, steps=steps)
    defaults = settings()
    return {k: defaults[k] if v is None else v for k, v in given.items()}


def flow_rows(curves: Mapping[str, np.ndarray], distances: Sequence[int] = DISTANCES) -> list[dict[str, Any]]:
    """One row per curve: the geometric-mean norm at each distance (``nan`` beyond the curve)."""
    rows = []
    for label, norms in curves.items():
        mean = geometric_mean(norms)
        row: dict[str, Any] = {"模型": label}
        for d in distances:
            row[f"距离 {d}"] = float(mean[d - 1]) if 1 <= d <= len(mean) else float("nan")
        rows.append(row)
    return rows


def flow_table(curves: Mapping[str, np.ndarray], distances: Sequence[int] = DISTANCES) -> Table:
    """:func:`flow_rows` as a :class:`~lstm_course.tables.Table` (norms in scientific notation)."""
    return markdown_table(flow_rows(curves, distances), floatfmt="{:.2e}")


def plot_flow(curves: Mapping[str, np.ndarray], *, title: str = "", ax: Any = None) -> Any:
    """Geometric-mean Jacobian norm versus distance, log-scale y axis; returns the Axes."""
    from lstm_course.plot import plot_lines

    length = min(len(v) for v in curves.values())
    distance = np.arange(1, length + 1)
    series = {label: geometric_mean(norms)[:length] for label, norms in curves.items()}
    return plot_lines(
        distance,
        series,
        xlabel="距离 $T-t$（时间步）",
        ylabel=r"$\Vert\partial h_T/\partial s_t\Vert_2$（几何平均）",
        title=title,
        logy=True,
        ax=ax,
    )


def _second_block_gates(rnn: nn.Module, kind: type, X: torch.Tensor | np.ndarray, caller: str) -> np.ndarray:
    """``sigmoid`` of the second gate block of a one-layer ``nn.LSTM`` (f of i,f,g,o) or ``nn.GRU`` (z of r,z,n).

    Returns ``(steps, batch, hidden)``; ``H_{t-1}`` comes from running the module on ``X``.
    """
    if not isinstance(rnn, kind) or rnn.num_layers != 1 or rnn.bidirectional:
        raise TypeError(f"{caller} needs a one-layer, unidirectional torch.nn.{kind.__name__}")
    rnn = copy.deepcopy(rnn).cpu()
    X = torch.as_tensor(X, dtype=rnn.weight_ih_l0.dtype).cpu()
    if X.ndim != 3 or X.shape[2] != rnn.input_size:
        raise ValueError(f"X: expected shape (steps, batch, {rnn.input_size}), received {tuple(X.shape)}")
    H = rnn.hidden_size
    W_x, W_h = rnn.weight_ih_l0[H : 2 * H].T, rnn.weight_hh_l0[H : 2 * H].T
    b = rnn.bias_ih_l0[H : 2 * H] + rnn.bias_hh_l0[H : 2 * H]
    with torch.no_grad(), single_thread():
        outputs, _ = rnn(X)
        H_prev = torch.cat([torch.zeros_like(outputs[:1]), outputs[:-1]])
        return torch.sigmoid(X @ W_x + H_prev @ W_h + b).numpy()


def _direct_path_norms(gates: np.ndarray) -> np.ndarray:
    """``max_j prod_{k=T-d+1}^{T} g_k[j]`` for d = 1 .. T-1: gates ``(steps, batch, hidden)`` → ``(steps - 1, batch)``."""
    products = np.cumprod(gates.astype(np.float64)[:0:-1], axis=0)  # g_T, g_T g_{T-1}, ... (excludes g_1)
    return products.max(axis=-1)


def forget_gates(lstm: nn.LSTM, X: torch.Tensor | np.ndarray) -> np.ndarray:
    """The forget-gate activations ``f_t`` of a one-layer ``nn.LSTM`` along the inputs ``X``.

    ``f_t = sigmoid(X_t @ W_xf + H_{t-1} @ W_hf + b_f)`` with the f block (second of i, f, g, o) of
    PyTorch's weights.  Returns ``(steps, batch, hidden)``.
    """
    return _second_block_gates(lstm, nn.LSTM, X, "forget_gates")


def forget_path_norms(lstm: nn.LSTM, X: torch.Tensor | np.ndarray) -> np.ndarray:
    """Norm of the direct cell-state path ``prod_k diag(f_k)`` from ``C_t`` to ``C_T``, per distance.

    The spectral norm of a diagonal matrix is its largest entry, so row ``d - 1`` holds
    ``max_j prod_{k=T-d+1}^{T} f_k[j]``.  Same layout as :func:`jacobian_norms`:
    ``(steps - 1, batch)``, row ``k`` = distance ``k + 1``.
    """
    return _direct_path_norms(forget_gates(lstm, X))


def cell_state_jacobian(module: nn.Module, x_t: torch.Tensor, h_prev: torch.Tensor, c_prev: torch.Tensor) -> np.ndarray:
    """``dC_t/dC_{t-1}`` of one LSTM step with ``h_{t-1}`` held fixed, computed by autograd.

    Args:
        x_t: ``(batch, input_size)``; h_prev, c_prev: ``(batch, hidden)``.

    Returns:
        ``(batch, hidden, hidden)``; the theory says it is ``diag(f_t)``.
    """
    if h_prev.ndim != 2 or c_prev.shape != h_prev.shape or x_t.ndim != 2 or x_t.shape[0] != h_prev.shape[0]:
        raise ValueError(
            f"expected x_t (batch, input), h_prev and c_prev (batch, hidden); received "
            f"{tuple(x_t.shape)}, {tuple(h_prev.shape)}, {tuple(c_prev.shape)}"
        )
    model = copy.deepcopy(module).cpu().double()
    x, h = x_t.detach().cpu().double()[None], h_prev.detach().cpu().double()[None]

    def step(c: torch.Tensor) -> torch.Tensor:
        _, (_, c_next) = model(x, (h, c[None]))
        return c_next[0]

    with single_thread():
        jac = torch.autograd.functional.jacobian(step, c_prev.detach().cpu().double())  # (batch, hidden, batch, hidden)
    batch = h_prev.shape[0]
    return torch.stack([jac[b, :, b, :] for b in range(batch)]).numpy()


def set_update_bias(gru: nn.GRU, value: float) -> nn.GRU:
    """Set the GRU update-gate bias ``b_z`` to ``value`` in place and return ``gru``.

    ``torch.nn.GRU`` (gate order r, z, n): the z block of every ``bias_ih_l*`` is set to ``value``
    and that of ``bias_hh_l*`` to 0.  The GRU's counterpart of the LSTM forget-gate bias: with
    ``H_t = z_t * H_{t-1} + (1 - z_t) * H~_t``, a large ``b_z`` starts the network "keeping" its state.
    """
    if not isinstance(gru, nn.GRU):
        raise TypeError(f"set_update_bias needs a torch.nn.GRU, received {type(gru).__name__}")
    hidden = gru.hidden_size
    with torch.no_grad():
        for name, param in gru.named_parameters():
            if name.startswith("bias_ih"):
                param[hidden : 2 * hidden] = value
            elif name.startswith("bias_hh"):
                param[hidden : 2 * hidden] = 0.0
    return gru


def update_gates(gru: nn.GRU, X: torch.Tensor | np.ndarray) -> np.ndarray:
    """The update-gate activations ``z_t`` of a one-layer ``nn.GRU`` along the inputs ``X``.

    ``z_t = sigmoid(X_t @ W_xz + H_{t-1} @ W_hz + b_z)`` with the z block (second of r, z, n) of
    PyTorch's weights and ``b_z = bias_ih + bias_hh`` of that block.  Returns ``(steps, batch, hidden)``.
    The GRU's counterpart of :func:`forget_gates`: ``H_t = z_t * H_{t-1} + (1 - z_t) * H~_t``.
    """
    return _second_block_gates(gru, nn.GRU, X, "update_gates")


def update_path_norms(gru: nn.GRU, X: torch.Tensor | np.ndarray) -> np.ndarray:
    """Norm of the GRU's direct path ``prod_k diag(z_k)`` from ``h_t`` to ``h_T``, per distance.

    The analogue of :func:`forget_path_norms`: row ``d - 1`` holds ``max_j prod_{k=T-d+1}^{T} z_k[j]``;
    shape ``(steps - 1, batch)``, the layout of :func:`jacobian_norms`.
    """
    return _direct_path_norms(update_gates(gru, X))
