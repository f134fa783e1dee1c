"""Weight conversion between the course's parameter dicts, ``torch.nn``, Keras and the scratch modules.

The hub of every conversion is the **parameter dict** of one layer and one direction: NumPy
arrays under d2l's names, row-vector convention (see :mod:`lstm_course`)::

    {"W_xi": (input, hidden), "W_hi": (hidden, hidden), "b_i": (hidden,), ... for i, f, o, c}

This is exactly what the NumPy LSTM (:mod:`lstm_course.numpy.lstm`) takes.  A multi-layer or
bidirectional network is a **list** of such dicts in the order of ``nn.LSTM``'s ``h_n``:
index ``layer * num_directions + direction`` (layer-major, forward before backward).

Framework layouts (``H`` = hidden size, gate blocks stacked along the ``4H`` axis):

=====================  ==============  =================================================
layout                 gate order      tensors
=====================  ==============  =================================================
``torch.nn.LSTM``      i, f, g, o      ``weight_ih_l{k}`` ``(4H, x)``, ``weight_hh_l{k}``
                       (g = c)         ``(4H, H)``, ``bias_ih_l{k}`` + ``bias_hh_l{k}``
                                       ``(4H,)``; suffix ``_reverse`` for the backward
                                       direction.  Two biases: only their sum matters.
``keras.layers.LSTM``  i, f, c, o      ``kernel`` ``(x, 4H)``, ``recurrent_kernel``
                                       ``(H, 4H)``, ``bias`` ``(4H,)``
scratch fused          i, f, o, c      ``W_x`` ``(x, 4H)``, ``W_h`` ``(H, 4H)``, ``b`` ``(4H,)``
``torch.nn.GRU``       r, z, n         ``weight_ih_l{k}`` ``(3H, x)``, ``weight_hh_l{k}``
                       (n = h)         ``(3H, H)``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(3H,)``:
                                       ``b_r``/``b_z`` = sum of both, ``b_h`` = ``bias_ih``
                                       n block, ``b_hh`` = ``bias_hh`` n block
``keras.layers.GRU``   z, r, h         ``kernel`` ``(x, 3H)``, ``recurrent_kernel`` ``(H, 3H)``,
                                       ``bias`` ``(2, 3H)`` (input row, recurrent row) with
                                       ``reset_after=True``, ``(3H,)`` with ``False``
scratch fused GRU      r, z, h         ``W_x`` ``(x, 3H)``, ``W_h`` ``(H, 3H)``, ``b`` ``(3H,)``
                                       (+ ``b_hh`` ``(H,)``, framework variant)
=====================  ==============  =================================================

GRU dicts come in two variants (:mod:`lstm_course.numpy.gru`): the textbook form (reset gate before
the recurrent product; nine names ``W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h``) and the
framework form (reset gate after it, as ``nn.GRU`` and Keras ``reset_after=True``), which adds the
recurrent candidate bias ``b_hh``.  ``gru_params``, ``gru_grads``, ``load_gru_params`` and
``copy_gru`` mirror the LSTM functions; a dict's variant is read from its keys (:func:`gru_variant`).

Conversions: ``lstm_params(obj)`` reads any of them (``nn.LSTM``, the PyTorch scratch modules and
cells, ``keras.layers.LSTM`` or ``Bidirectional(LSTM)``, the TensorFlow scratch module and Keras
scratch layer/cell, or a dict/list of dicts) into a list of parameter dicts;
``load_lstm_params(obj, params)`` writes them into any of them; ``copy_lstm(src, dst)`` does both;
``lstm_grads(obj)`` reads gradients in the same layout (to compare implementations).
Torch/Keras are imported lazily, so this module imports without them, and it tells the course's
own modules apart by what they hold (their parameter names), not by importing them.  The gate
letters, names and orders come from :mod:`lstm_course.layout`; the LSTM and GRU functions are
one table-driven reader and writer, with the cell kind's :class:`_CellSpec` saying what differs
(which bias block the frameworks keep apart, how the kind is named in messages).  The generic
helpers (:func:`stack_gates`, :func:`split_gates`) take a gate order.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_course.layout import (
    FUSED_GRU_ORDER,
    FUSED_LSTM_ORDER,
    GRU_FRAMEWORK_PARAM_NAMES,
    GRU_GATES,
    GRU_PARAM_NAMES,
    GRU_VARIANTS,
    KERAS_GRU_ORDER,
    KERAS_LSTM_ORDER,
    LAYOUTS,
    LSTM_GATES,
    LSTM_PARAM_NAMES,
    TORCH_GRU_ORDER,
    TORCH_LSTM_ORDER,
    CellLayout,
)

__all__ = [
    "LSTM_GATES",
    "LSTM_PARAM_NAMES",
    "TORCH_LSTM_ORDER",
    "KERAS_LSTM_ORDER",
    "FUSED_LSTM_ORDER",
    "stack_gates",
    "split_gates",
    "lstm_params",
    "lstm_grads",
    "load_lstm_params",
    "copy_lstm",
    "lstm_to_torch_state_dict",
    "lstm_from_torch_state_dict",
    "GRU_GATES",
    "GRU_PARAM_NAMES",
    "GRU_FRAMEWORK_PARAM_NAMES",
    "GRU_VARIANTS",
    "TORCH_GRU_ORDER",
    "KERAS_GRU_ORDER",
    "FUSED_GRU_ORDER",
    "gru_variant",
    "gru_params",
    "gru_grads",
    "load_gru_params",
    "copy_gru",
    "gru_to_torch_state_dict",
    "gru_from_torch_state_dict",
]

ParamDict = dict[str, np.ndarray]


# ---------------------------------------------------------------- generic helpers
def _to_numpy(value: Any) -> np.ndarray:
    """A NumPy copy of a NumPy array, torch tensor, TF/Keras variable or tensor."""
    if hasattr(value, "detach"):  # torch
        return value.detach().cpu().numpy().copy()
    if hasattr(value, "numpy"):  # tf.Variable, tf.Tensor, keras.Variable
        return np.array(value.numpy())
    return np.array(value)


def stack_gates(params: Mapping[str, Any], order: Sequence[str], *, prefix: str = "W_x", axis: int = -1) -> np.ndarray:
    """Concatenate per-gate arrays ``params[prefix + g]`` for ``g`` in ``order`` along ``axis``.

    ``stack_gates(p, "ifoc", prefix="W_x")`` gives the fused ``(input, 4H)`` matrix;
    ``prefix="b_"`` stacks the biases.
    """
    return np.concatenate([_to_numpy(params[f"{prefix}{g}"]) for g in order], axis=axis)


def split_gates(array: Any, order: Sequence[str], *, prefix: str = "W_x", axis: int = -1) -> ParamDict:
    """Inverse of :func:`stack_gates`: ``{prefix + g: block}`` for the equal blocks along ``axis``."""
    array = _to_numpy(array)
    if array.shape[axis] % len(order):
        raise ValueError(
            f"{prefix}: expected a size divisible by {len(order)} along axis {axis}, received shape {array.shape}"
        )
    return {f"{prefix}{g}": block for g, block in zip(order, np.split(array, len(order), axis=axis), strict=True)}


def _as_list(params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [params] if isinstance(params, Mapping) else list(params)


def _check_count(params: list, expected: int, target: str) -> None:
    if len(params) != expected:
        raise ValueError(
            f"{target}: expected {expected} parameter dict(s) (num_layers * num_directions), received {len(params)}"
        )


def _torch_suffix(layer: int, direction: int) -> str:
    return f"_l{layer}" + ("_reverse" if direction else "")


def _assign(variable: Any, array: np.ndarray, name: str) -> None:
    if tuple(variable.shape) != array.shape:
        raise ValueError(f"{name}: expected shape {tuple(variable.shape)}, received {array.shape}")
    variable.assign(array.astype(np.dtype(getattr(variable.dtype, "name", variable.dtype)), copy=False))


def _keras_build(layer: Any, input_size: int) -> None:
    if not layer.built:
        layer.build((None, None, input_size))


def _load_torch_arrays(module: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """Copy ``arrays`` into the same-named parameters of ``module`` (dtype/device of the module)."""
    import torch

    own = dict(module.named_parameters())
    with torch.no_grad():
        for name, array in arrays.items():
            if name not in own:
                if not np.any(array):
                    continue  # e.g. bias_hh of a bias=False nn.LSTM
                raise ValueError(f"{type(module).__name__} has no parameter {name!r}")
            target = own[name]
            if tuple(target.shape) != array.shape:
                raise ValueError(f"{name}: expected shape {tuple(target.shape)}, received {array.shape}")
            target.copy_(torch.as_tensor(array, dtype=target.dtype, device=target.device))


def _gradient_reader(grads: Sequence[Any] | None, variables: Sequence[Any] | None) -> Callable[[Any], Any]:
    """How to get a parameter's gradient: ``.grad`` (PyTorch) or the ``grads`` given for ``variables`` (TF)."""
    if grads is None:

        def value(p):
            if getattr(p, "grad", None) is None:
                raise ValueError(
                    "a parameter has no .grad; call loss.backward() first "
                    "(or pass grads= and variables= for TensorFlow objects)"
                )
            return p.grad

        return value
    if variables is None or len(variables) != len(grads):
        raise ValueError(
            f"grads: expected one gradient per variable, received {len(grads)} gradients "
            f"for {None if variables is None else len(variables)} variables"
        )
    by_id = {id(v): g for v, g in zip(variables, grads, strict=True)}

    def value(v):
        if id(v) not in by_id or by_id[id(v)] is None:
            raise ValueError(f"no gradient given for variable {getattr(v, 'name', v)!r}")
        return by_id[id(v)]

    return value


# ---------------------------------------------------------------- the cell specs
def gru_variant(params: Mapping[str, Any]) -> str:
    """``'framework'`` if the GRU parameter dict has ``b_hh``, else ``'textbook'``."""
    return "framework" if "b_hh" in params else "textbook"


@dataclass(frozen=True)
class _CellSpec:
    """What the converter needs to know about one cell kind beyond its :class:`CellLayout`.

    ``split_bias_gate``: the gate whose recurrent bias the frameworks keep apart from the input
    bias (the GRU candidate ``h``: ``b_hh``); every other gate's two framework biases are summed
    into one d2l bias (only their sum enters the equations).
    """

    layout: CellLayout
    title: str  # "LSTM" / "GRU", for messages and the torch/Keras class names
    split_bias_gate: str | None
    functions: str  # the public functions, for "use ... instead" messages

    @property
    def first_gate(self) -> str:
        return self.layout.gates[0]

    def variant_of(self, params: Mapping[str, Any]) -> str | None:
        return gru_variant(params) if self.split_bias_gate else None

    def names(self, variant: str | None) -> tuple[str, ...]:
        return self.layout.names(variant)

    def check_dict(self, params: Mapping[str, Any], where: str) -> tuple[int, int, str | None]:
        """Validate one parameter dict; return ``(input_size, hidden_size, variant)``."""
        required = self.names("textbook" if self.split_bias_gate else None)
        missing = [n for n in required if n not in params]
        if missing:
            extra = " (+ b_hh for the framework variant)" if self.split_bias_gate else ""
            raise ValueError(f"{where}: expected {self.title} parameters {list(required)}{extra}, missing {missing}")
        x, h = np.shape(params[f"W_x{self.first_gate}"])
        variant = self.variant_of(params)
        for name in self.names(variant):
            shape = (h, h) if name.startswith("W_h") else (x, h) if name.startswith("W_x") else (h,)
            if tuple(np.shape(params[name])) != shape:
                raise ValueError(f"{where}: {name} expected shape {shape}, received {tuple(np.shape(params[name]))}")
        return x, h, variant


_LSTM = _CellSpec(LAYOUTS["lstm"], "LSTM", None, "lstm_params / load_lstm_params / copy_lstm")
_GRU = _CellSpec(LAYOUTS["gru"], "GRU", "h", "gru_params / load_gru_params / copy_gru")
_SPECS = (_LSTM, _GRU)


def _same_variant(plist: Sequence[Mapping[str, Any]], expected: str, target: str) -> None:
    for k, p in enumerate(plist):
        variant = gru_variant(p)
        if variant != expected:
            why = (
                "it applies the reset gate after the recurrent product and needs b_hh"
                if expected == "framework"
                else "it applies the reset gate before the recurrent product and has no b_hh"
            )
            raise ValueError(
                f"{target}: expected variant {expected!r} parameters ({why}), "
                f"received {variant!r} parameters in dict {k}"
            )


# ---------------------------------------------------------------- torch.nn.LSTM / nn.GRU
def _from_torch_state_dict(
    spec: _CellSpec, state: Mapping[str, Any], num_layers: int, bidirectional: bool, gradients: bool = False
) -> list[ParamDict]:
    """Parameter dicts of ``nn.LSTM``/``nn.GRU`` state-dict arrays (or their gradients)."""
    order, split = spec.layout.torch_order, spec.split_bias_gate
    out = []
    for layer in range(num_layers):
        for direction in range(2 if bidirectional else 1):
            s = _torch_suffix(layer, direction)
            if f"weight_hr{s}" in state:
                raise ValueError("nn.LSTM with proj_size > 0 has no d2l equivalent; use proj_size=0")
            w_ih, w_hh = _to_numpy(state[f"weight_ih{s}"]), _to_numpy(state[f"weight_hh{s}"])
            zeros = np.zeros(w_ih.shape[0], dtype=w_ih.dtype)
            b_ih = split_gates(_to_numpy(state[f"bias_ih{s}"]) if f"bias_ih{s}" in state else zeros, order, prefix="")
            b_hh = split_gates(_to_numpy(state[f"bias_hh{s}"]) if f"bias_hh{s}" in state else zeros, order, prefix="")
            params = {}
            params.update(split_gates(w_ih.T, order, prefix="W_x"))
            params.update(split_gates(w_hh.T, order, prefix="W_h"))
            for g in order:
                # A summed bias: its value is b_ih + b_hh, its gradient that of either one.
                kept_apart = g == split
                params[f"b_{g}"] = b_ih[g] + (0 if kept_apart or gradients else b_hh[g])
                if kept_apart:
                    params["b_hh"] = b_hh[g].copy()
            out.append({n: params[n] for n in spec.names("framework" if split else None)})
    return out


def _to_torch_state_dict(
    spec: _CellSpec, params: Mapping[str, Any] | Sequence[Mapping[str, Any]], num_layers: int, bidirectional: bool
) -> dict[str, np.ndarray]:
    plist = _as_list(params)
    _check_count(plist, num_layers * (2 if bidirectional else 1), f"nn.{spec.title}")
    for k, p in enumerate(plist):
        spec.check_dict(p, f"parameter dict {k}")
    if spec.split_bias_gate:
        _same_variant(plist, "framework", f"nn.{spec.title}")
    order, state = spec.layout.torch_order, {}
    for k, p in enumerate(plist):
        s = _torch_suffix(*divmod(k, 2 if bidirectional else 1))
        state[f"weight_ih{s}"] = stack_gates(p, order, prefix="W_x").T
        state[f"weight_hh{s}"] = stack_gates(p, order, prefix="W_h").T
        state[f"bias_ih{s}"] = stack_gates(p, order, prefix="b_")
        state[f"bias_hh{s}"] = np.concatenate(
            [
                _to_numpy(p["b_hh"]) if g == spec.split_bias_gate else np.zeros_like(_to_numpy(p[f"b_{g}"]))
                for g in order
            ]
        )
    return state


def lstm_from_torch_state_dict(
    state: Mapping[str, Any], num_layers: int = 1, bidirectional: bool = False
) -> list[ParamDict]:
    """Parameter dicts from an ``nn.LSTM`` state dict (biases ``b_ih + b_hh`` summed)."""
    return _from_torch_state_dict(_LSTM, state, num_layers, bidirectional)


def lstm_to_torch_state_dict(
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]], num_layers: int = 1, bidirectional: bool = False
) -> dict[str, np.ndarray]:
    """``nn.LSTM`` state-dict arrays: ``bias_ih`` gets the bias, ``bias_hh`` zeros."""
    return _to_torch_state_dict(_LSTM, params, num_layers, bidirectional)


def gru_from_torch_state_dict(
    state: Mapping[str, Any], num_layers: int = 1, bidirectional: bool = False
) -> list[ParamDict]:
    """Framework-variant parameter dicts from an ``nn.GRU`` state dict.

    Gate blocks ``r, z, n``: ``b_r``/``b_z`` are ``bias_ih + bias_hh`` (only the sum matters),
    ``b_h`` is the ``n`` block of ``bias_ih`` and ``b_hh`` the ``n`` block of ``bias_hh``.
    """
    return _from_torch_state_dict(_GRU, state, num_layers, bidirectional)


def gru_to_torch_state_dict(
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]], num_layers: int = 1, bidirectional: bool = False
) -> dict[str, np.ndarray]:
    """``nn.GRU`` state-dict arrays from framework-variant dicts.

    ``bias_ih`` = ``[b_r, b_z, b_h]``; ``bias_hh`` = ``[0, 0, b_hh]``.
    """
    return _to_torch_state_dict(_GRU, params, num_layers, bidirectional)


# ---------------------------------------------------------------- the course's scratch cells
def _cell_kind(cell: Any) -> str | None:
    """``'lstm'``/``'gru'`` for a scratch cell of this package, read from what it holds."""
    if hasattr(cell, "W_xi"):
        return "lstm"
    if hasattr(cell, "W_xr"):
        return "gru"
    if hasattr(cell, "W_x") and hasattr(cell, "W_h"):  # fused cells: (x, G*H) and (H, G*H)
        gates = np.shape(cell.W_x)[-1] // max(np.shape(cell.W_h)[0], 1)
        return {4: "lstm", 3: "gru"}.get(gates)
    return None


def _cell_params(spec: _CellSpec, cell: Any, value: Callable[[Any], Any]) -> ParamDict:
    variant = getattr(cell, "variant", None) if spec.split_bias_gate else None
    names = spec.names(variant)
    if not hasattr(cell, "W_x"):  # per-gate cells hold the d2l names themselves
        return {n: _to_numpy(value(getattr(cell, n))) for n in names}
    order, p = spec.layout.fused_order, {}
    p.update(split_gates(value(cell.W_x), order, prefix="W_x"))
    p.update(split_gates(value(cell.W_h), order, prefix="W_h"))
    p.update(split_gates(value(cell.b), order, prefix="b_"))
    if "b_hh" in names:
        p["b_hh"] = _to_numpy(value(cell.b_hh))
    return {n: p[n] for n in names}


def _cell_arrays(spec: _CellSpec, cell: Any, p: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if not hasattr(cell, "W_x"):
        return {n: _to_numpy(p[n]) for n in spec.names(spec.variant_of(p))}
    order = spec.layout.fused_order
    arrays = {
        "W_x": stack_gates(p, order, prefix="W_x"),
        "W_h": stack_gates(p, order, prefix="W_h"),
        "b": stack_gates(p, order, prefix="b_"),
    }
    if "b_hh" in p:
        arrays["b_hh"] = _to_numpy(p["b_hh"])
    return arrays


# ---------------------------------------------------------------- Keras LSTM / GRU
def _keras_params(spec: _CellSpec, layer: Any, value: Callable[[Any], Any], gradients: bool) -> ParamDict:
    """Keras keeps one bias row, or (GRU ``reset_after=True``) an input row and a recurrent row."""
    cell = layer.cell
    if not layer.built:
        raise ValueError(f"Keras layer {layer.name!r} is not built yet; call it on an input first")
    order = spec.layout.keras_order
    kernel, recurrent = _to_numpy(value(cell.kernel)), _to_numpy(value(cell.recurrent_kernel))
    two_rows = bool(getattr(cell, "reset_after", False))
    width = kernel.shape[1]
    bias = _to_numpy(value(cell.bias)) if cell.use_bias else np.zeros((2, width) if two_rows else width, kernel.dtype)
    p = {}
    p.update(split_gates(kernel, order, prefix="W_x"))
    p.update(split_gates(recurrent, order, prefix="W_h"))
    if two_rows:
        row_in, row_rec = split_gates(bias[0], order, prefix=""), split_gates(bias[1], order, prefix="")
        for g in order:
            kept_apart = g == spec.split_bias_gate
            p[f"b_{g}"] = row_in[g] + (0 if kept_apart or gradients else row_rec[g])
        p["b_hh"] = row_rec[spec.split_bias_gate]
    else:
        p.update(split_gates(bias, order, prefix="b_"))
    return {n: p[n] for n in spec.names("framework" if two_rows else "textbook")}


def _load_keras(spec: _CellSpec, layer: Any, p: Mapping[str, Any]) -> None:
    x, _, variant = spec.check_dict(p, "parameter dict")
    _keras_build(layer, x)
    cell, order = layer.cell, spec.layout.keras_order
    two_rows = bool(getattr(cell, "reset_after", False))
    if spec.split_bias_gate:
        _same_variant(
            [p], "framework" if two_rows else "textbook", f"keras.layers.{spec.title}(reset_after={two_rows})"
        )
    _assign(cell.kernel, stack_gates(p, order, prefix="W_x"), "kernel")
    _assign(cell.recurrent_kernel, stack_gates(p, order, prefix="W_h"), "recurrent_kernel")
    bias = stack_gates(p, order, prefix="b_")
    if two_rows:
        recurrent_row = np.concatenate(
            [
                _to_numpy(p["b_hh"]) if g == spec.split_bias_gate else np.zeros_like(_to_numpy(p[f"b_{g}"]))
                for g in order
            ]
        )
        bias = np.stack([bias, recurrent_row])
    if cell.use_bias:
        _assign(cell.bias, bias, "bias")
    elif np.any(bias):
        raise ValueError("the Keras layer has use_bias=False but the parameters have a non-zero bias")


# ---------------------------------------------------------------- dispatch
def _kind(obj: Any) -> tuple[str, str | None]:
    """``(where, cell kind)`` of ``obj``, without importing a framework that is not loaded.

    ``where`` is one of ``dict``, ``list``, ``torch`` (``nn.LSTM``/``nn.GRU``), ``scratch_stack``,
    ``scratch_cell``, ``keras``, ``keras_bidirectional``, ``tf_scratch_rnn``, ``tf_scratch``;
    the cell kind is ``'lstm'``/``'gru'`` (``None`` for dicts: the caller's spec decides).
    """
    if isinstance(obj, Mapping):
        return "dict", None
    if isinstance(obj, (list, tuple)) and all(isinstance(p, Mapping) for p in obj):
        return "list", None
    if "torch" in sys.modules:
        import torch

        if isinstance(obj, torch.nn.LSTM):
            return "torch", "lstm"
        if isinstance(obj, torch.nn.GRU):
            return "torch", "gru"
        if isinstance(obj, torch.nn.Module):
            cells = getattr(obj, "cells", None)
            if isinstance(cells, torch.nn.ModuleList) and len(cells) and _cell_kind(cells[0]):
                return "scratch_stack", _cell_kind(cells[0])
            if _cell_kind(obj):
                return "scratch_cell", _cell_kind(obj)
    if "keras" in sys.modules:
        import keras

        if isinstance(obj, keras.layers.Bidirectional):
            return "keras_bidirectional", _kind(obj.forward_layer)[1]
        if isinstance(obj, keras.layers.LSTM):
            return "keras", "lstm"
        if isinstance(obj, keras.layers.GRU):
            return "keras", "gru"
        if isinstance(obj, keras.layers.RNN) and _cell_kind(obj.cell):
            return "tf_scratch_rnn", _cell_kind(obj.cell)
    if _cell_kind(obj):
        return "tf_scratch", _cell_kind(obj)  # lstm_course.tf's scratch modules and Keras cells
    return "unknown", None


def _spec_kind(spec: _CellSpec, obj: Any) -> str:
    """:func:`_kind` for the functions of ``spec``, refusing objects of the other cell kind."""
    where, kind = _kind(obj)
    if where == "unknown":
        if spec is _LSTM:
            raise TypeError(
                f"don't know how to read LSTM weights from {type(obj).__name__}; expected "
                "nn.LSTM, a scratch LSTM module or cell, keras.layers.LSTM, Bidirectional(LSTM), "
                "the TF scratch LSTM, or parameter dict(s)"
            )
        raise TypeError(
            f"don't know how to read GRU weights from {type(obj).__name__}; expected nn.GRU, a "
            "scratch GRU module or cell, keras.layers.GRU, Bidirectional(GRU), the TF scratch GRU, "
            "or parameter dict(s)"
        )
    if kind is not None and kind != spec.layout.kind:
        other = next(s for s in _SPECS if s.layout.kind == kind)
        if spec is _LSTM:
            raise TypeError(
                f"don't know how to read LSTM weights from {type(obj).__name__}: it is a "
                f"{other.title}; use {other.functions}"
            )
        raise TypeError(f"{type(obj).__name__} is not a {spec.title}; use {other.functions} for {other.title}s")
    return where


def _read(spec: _CellSpec, obj: Any, value: Callable[[Any], Any], gradients: bool) -> list[ParamDict]:
    """Parameter dicts of ``obj`` with every variable/parameter ``v`` replaced by ``value(v)``."""
    where = _spec_kind(spec, obj)
    if where in ("dict", "list"):
        out = []
        for k, p in enumerate(_as_list(obj)):
            _, _, variant = spec.check_dict(p, f"parameter dict {k}")
            out.append({n: _to_numpy(p[n]) for n in spec.names(variant)})
        return out
    if where == "torch":
        state = {name: value(p) for name, p in obj.named_parameters()}
        return _from_torch_state_dict(spec, state, obj.num_layers, obj.bidirectional, gradients)
    if where == "scratch_stack":
        return [_cell_params(spec, cell, value) for cell in obj.cells]
    if where == "scratch_cell":
        return [_cell_params(spec, obj, value)]
    if where == "keras":
        return [_keras_params(spec, obj, value, gradients)]
    if where == "keras_bidirectional":
        return [
            _read(spec, obj.forward_layer, value, gradients)[0],
            _read(spec, obj.backward_layer, value, gradients)[0],
        ]
    if where == "tf_scratch_rnn":
        obj = obj.cell
    if not getattr(obj, "built", True):
        raise ValueError(f"{type(obj).__name__} is not built yet; call it on an input first")
    variant = getattr(obj, "variant", None) if spec.split_bias_gate else None
    return [{n: _to_numpy(value(getattr(obj, n))) for n in spec.names(variant)}]


def _load(spec: _CellSpec, obj: Any, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Any:
    """Write parameter dict(s) into ``obj``; returns ``obj``."""
    plist = _as_list(params)
    for k, p in enumerate(plist):
        spec.check_dict(p, f"parameter dict {k}")
    where = _spec_kind(spec, obj)
    input_size = np.shape(plist[0][f"W_x{spec.first_gate}"])[0] if plist else 0
    if where in ("dict", "list"):
        raise TypeError(f"load_{spec.layout.kind}_params writes into a module or layer, not into a dict")
    if where == "torch":
        if getattr(obj, "proj_size", 0):
            raise ValueError("nn.LSTM with proj_size > 0 has no d2l equivalent; use proj_size=0")
        _load_torch_arrays(obj, _to_torch_state_dict(spec, plist, obj.num_layers, obj.bidirectional))
    elif where in ("scratch_stack", "scratch_cell"):
        cells = list(obj.cells) if where == "scratch_stack" else [obj]
        _check_count(plist, len(cells), type(obj).__name__)
        if spec.split_bias_gate:
            _same_variant(plist, cells[0].variant, f"{type(obj).__name__}(variant={cells[0].variant!r})")
        for cell, p in zip(cells, plist, strict=True):
            _load_torch_arrays(cell, _cell_arrays(spec, cell, p))
    elif where == "keras":
        _check_count(plist, 1, f"keras.layers.{spec.title}")
        _load_keras(spec, obj, plist[0])
    elif where == "keras_bidirectional":
        _check_count(plist, 2, "keras.layers.Bidirectional")
        if not obj.built:
            obj.build((None, None, input_size))
        _load(spec, obj.forward_layer, plist[0])
        _load(spec, obj.backward_layer, plist[1])
    else:
        _check_count(plist, 1, type(obj).__name__)
        if where == "tf_scratch_rnn":
            _keras_build(obj, input_size)
            target = obj.cell
        else:
            target = obj
            if not getattr(obj, "built", True):
                obj.build((None, input_size))
        variant = getattr(target, "variant", None) if spec.split_bias_gate else None
        if variant:
            _same_variant(plist, variant, f"{type(target).__name__}(variant={variant!r})")
        for n in spec.names(variant):
            _assign(getattr(target, n), _to_numpy(plist[0][n]), n)
    return obj


# ---------------------------------------------------------------- public LSTM functions
def lstm_params(obj: Any) -> list[ParamDict]:
    """Read LSTM weights from any supported object as a list of parameter dicts (``h_n`` order).

    Args:
        obj: ``torch.nn.LSTM``; :class:`~lstm_course.torch.lstm.ScratchLSTM`,
            :class:`~lstm_course.torch.lstm.FusedLSTM` or one of their cells; ``keras.layers.LSTM``
            or ``keras.layers.Bidirectional(LSTM)``; the TensorFlow scratch module, Keras scratch
            layer or cell of :mod:`lstm_course.tf.lstm`; or a dict / list of dicts.

    Returns:
        ``num_layers * num_directions`` dicts of NumPy arrays named ``W_xi, W_hi, b_i, ...``.
    """
    return _read(_LSTM, obj, lambda v: v, gradients=False)


def lstm_grads(obj: Any, grads: Sequence[Any] | None = None, variables: Sequence[Any] | None = None) -> list[ParamDict]:
    """Gradients of a loss with respect to the d2l parameters, in the layout of :func:`lstm_params`.

    PyTorch objects: read ``.grad`` after ``loss.backward()`` (for ``nn.LSTM`` the gradient of
    ``b_g`` is that of ``bias_ih``, which equals that of ``bias_hh``).  TensorFlow/Keras objects:
    pass ``grads = tape.gradient(loss, variables)`` together with those ``variables`` (e.g.
    ``layer.trainable_weights``).
    """
    return _read(_LSTM, obj, _gradient_reader(grads, variables), gradients=True)


def load_lstm_params(obj: Any, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Any:
    """Write parameter dict(s) into ``obj`` (any object :func:`lstm_params` reads, except dicts).

    Shapes are checked (``ValueError`` naming expected vs received); values are cast to the
    target's dtype.  ``nn.LSTM`` receives the bias in ``bias_ih`` and zeros in ``bias_hh``.
    Unbuilt Keras layers are built for the parameters' input size.  Returns ``obj``.
    """
    return _load(_LSTM, obj, params)


def copy_lstm(src: Any, dst: Any) -> Any:
    """Copy the weights of ``src`` into ``dst`` (any pair of supported objects); returns ``dst``."""
    return load_lstm_params(dst, lstm_params(src))


# ---------------------------------------------------------------- public GRU functions
def gru_params(obj: Any) -> list[ParamDict]:
    """Read GRU weights from any supported object as a list of parameter dicts (``h_n`` order).

    Args:
        obj: ``torch.nn.GRU``; :class:`~lstm_course.torch.gru.ScratchGRU`,
            :class:`~lstm_course.torch.gru.FusedGRU` or one of their cells; ``keras.layers.GRU``
            (``reset_after`` True → framework dicts, False → textbook dicts) or
            ``Bidirectional(GRU)``; the TensorFlow scratch module, Keras scratch layer or cell of
            :mod:`lstm_course.tf.gru`; or a dict / list of dicts.

    Returns:
        ``num_layers * num_directions`` dicts of NumPy arrays named ``W_xr, W_hr, b_r, ...``
        (plus ``b_hh`` for the framework variant).
    """
    return _read(_GRU, obj, lambda v: v, gradients=False)


def gru_grads(obj: Any, grads: Sequence[Any] | None = None, variables: Sequence[Any] | None = None) -> list[ParamDict]:
    """Gradients with respect to the d2l GRU parameters, in the layout of :func:`gru_params`.

    PyTorch objects: read ``.grad`` after ``loss.backward()``.  TensorFlow/Keras objects: pass
    ``grads = tape.gradient(loss, variables)`` together with those ``variables``.
    """
    return _read(_GRU, obj, _gradient_reader(grads, variables), gradients=True)


def load_gru_params(obj: Any, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Any:
    """Write GRU parameter dict(s) into ``obj`` (any object :func:`gru_params` reads, except dicts).

    The dicts' variant must be the target's: ``nn.GRU`` and Keras ``reset_after=True`` take
    framework dicts (with ``b_hh``), Keras ``reset_after=False`` textbook dicts; scratch modules
    take their own ``variant``.  Shapes are checked; values are cast to the target's dtype.
    Returns ``obj``.
    """
    return _load(_GRU, obj, params)


def copy_gru(src: Any, dst: Any) -> Any:
    """Copy the GRU weights of ``src`` into ``dst`` (any pair of supported objects); returns ``dst``."""
    return load_gru_params(dst, gru_params(src))
