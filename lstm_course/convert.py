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
Torch/Keras are imported lazily, so this module imports without them.  The generic helpers
(:func:`stack_gates`, :func:`split_gates`) take a gate order.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = [
    "LSTM_GATES", "LSTM_PARAM_NAMES", "TORCH_LSTM_ORDER", "KERAS_LSTM_ORDER", "FUSED_LSTM_ORDER",
    "stack_gates", "split_gates", "lstm_params", "lstm_grads", "load_lstm_params", "copy_lstm",
    "lstm_to_torch_state_dict", "lstm_from_torch_state_dict",
    "GRU_GATES", "GRU_PARAM_NAMES", "GRU_FRAMEWORK_PARAM_NAMES", "GRU_VARIANTS", "TORCH_GRU_ORDER",
    "KERAS_GRU_ORDER", "FUSED_GRU_ORDER", "gru_variant", "gru_params", "gru_grads", "load_gru_params",
    "copy_gru", "gru_to_torch_state_dict", "gru_from_torch_state_dict",
]

ParamDict = dict[str, np.ndarray]

#: d2l's gate letters: input, forget, output, candidate memory (c = torch's ``g``).
LSTM_GATES = ("i", "f", "o", "c")
#: The twelve names of one LSTM layer and direction.
LSTM_PARAM_NAMES = tuple(n for g in LSTM_GATES for n in (f"W_x{g}", f"W_h{g}", f"b_{g}"))
#: Gate block order of ``torch.nn.LSTM`` (``i, f, g, o`` in PyTorch's letters).
TORCH_LSTM_ORDER = ("i", "f", "c", "o")
#: Gate block order of ``keras.layers.LSTM``.
KERAS_LSTM_ORDER = ("i", "f", "c", "o")
#: Gate block order of :class:`lstm_course.torch.lstm.FusedLSTMCell`.
FUSED_LSTM_ORDER = ("i", "f", "o", "c")

#: d2l's GRU letters: reset gate, update gate, candidate hidden state (h = torch's ``n``).
GRU_GATES = ("r", "z", "h")
#: The nine names of one textbook GRU layer and direction (one bias per gate).
GRU_PARAM_NAMES = tuple(n for g in GRU_GATES for n in (f"W_x{g}", f"W_h{g}", f"b_{g}"))
#: The framework form (reset after the recurrent product) adds the recurrent candidate bias ``b_hh``.
GRU_FRAMEWORK_PARAM_NAMES = GRU_PARAM_NAMES + ("b_hh",)
#: The two GRU formulations: reset gate before (Cho et al.) or after the recurrent product.
GRU_VARIANTS = ("textbook", "framework")
#: Gate block order of ``torch.nn.GRU`` (``r, z, n`` in PyTorch's letters).
TORCH_GRU_ORDER = ("r", "z", "h")
#: Gate block order of ``keras.layers.GRU``.
KERAS_GRU_ORDER = ("z", "r", "h")
#: Gate block order of :class:`lstm_course.torch.gru.FusedGRUCell`.
FUSED_GRU_ORDER = ("r", "z", "h")


# ---------------------------------------------------------------- generic helpers
def _to_numpy(value: Any) -> np.ndarray:
    """A NumPy copy of a NumPy array, torch tensor, TF/Keras variable or tensor."""
    if hasattr(value, "detach"):  # torch
        return value.detach().cpu().numpy().copy()
    if hasattr(value, "numpy"):   # tf.Variable, tf.Tensor, keras.Variable
        return np.array(value.numpy())
    return np.array(value)


def stack_gates(params: Mapping[str, Any], order: Sequence[str], *, prefix: str = "W_x",
                axis: int = -1) -> np.ndarray:
    """Concatenate per-gate arrays ``params[prefix + g]`` for ``g`` in ``order`` along ``axis``.

    ``stack_gates(p, "ifoc", prefix="W_x")`` gives the fused ``(input, 4H)`` matrix;
    ``prefix="b_"`` stacks the biases.
    """
    return np.concatenate([_to_numpy(params[f"{prefix}{g}"]) for g in order], axis=axis)


def split_gates(array: Any, order: Sequence[str], *, prefix: str = "W_x", axis: int = -1) -> ParamDict:
    """Inverse of :func:`stack_gates`: ``{prefix + g: block}`` for the equal blocks along ``axis``."""
    array = _to_numpy(array)
    if array.shape[axis] % len(order):
        raise ValueError(f"{prefix}: expected a size divisible by {len(order)} along axis {axis}, "
                         f"received shape {array.shape}")
    return {f"{prefix}{g}": block for g, block in zip(order, np.split(array, len(order), axis=axis))}


def _check_lstm_dict(params: Mapping[str, Any], where: str) -> tuple[int, int]:
    """Validate one LSTM parameter dict; return ``(input_size, hidden_size)``."""
    missing = [n for n in LSTM_PARAM_NAMES if n not in params]
    if missing:
        raise ValueError(f"{where}: expected LSTM parameters {list(LSTM_PARAM_NAMES)}, missing {missing}")
    x, h = np.shape(params["W_xi"])
    for g in LSTM_GATES:
        for name, shape in ((f"W_x{g}", (x, h)), (f"W_h{g}", (h, h)), (f"b_{g}", (h,))):
            if tuple(np.shape(params[name])) != shape:
                raise ValueError(f"{where}: {name} expected shape {shape}, "
                                 f"received {tuple(np.shape(params[name]))}")
    return x, h


def _as_list(params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [params] if isinstance(params, Mapping) else list(params)


def _check_count(params: list, expected: int, target: str) -> None:
    if len(params) != expected:
        raise ValueError(f"{target}: expected {expected} parameter dict(s) (num_layers * num_directions), "
                         f"received {len(params)}")


# ---------------------------------------------------------------- torch.nn.LSTM
def _torch_suffix(layer: int, direction: int) -> str:
    return f"_l{layer}" + ("_reverse" if direction else "")


def lstm_from_torch_state_dict(state: Mapping[str, Any], num_layers: int = 1,
                               bidirectional: bool = False) -> list[ParamDict]:
    """Parameter dicts from an ``nn.LSTM`` state dict (biases ``b_ih + b_hh`` summed)."""
    out = []
    for layer in range(num_layers):
        for direction in range(2 if bidirectional else 1):
            s = _torch_suffix(layer, direction)
            if f"weight_hr{s}" in state:
                raise ValueError("nn.LSTM with proj_size > 0 has no d2l equivalent; use proj_size=0")
            w_ih, w_hh = _to_numpy(state[f"weight_ih{s}"]), _to_numpy(state[f"weight_hh{s}"])
            bias = np.zeros(w_ih.shape[0], dtype=w_ih.dtype)
            for name in (f"bias_ih{s}", f"bias_hh{s}"):
                if name in state:
                    bias = bias + _to_numpy(state[name])
            params = {}
            params.update(split_gates(w_ih.T, TORCH_LSTM_ORDER, prefix="W_x"))
            params.update(split_gates(w_hh.T, TORCH_LSTM_ORDER, prefix="W_h"))
            params.update(split_gates(bias, TORCH_LSTM_ORDER, prefix="b_"))
            out.append({n: params[n] for n in LSTM_PARAM_NAMES})
    return out


def lstm_to_torch_state_dict(params: Mapping[str, Any] | Sequence[Mapping[str, Any]], num_layers: int = 1,
                             bidirectional: bool = False) -> dict[str, np.ndarray]:
    """``nn.LSTM`` state-dict arrays: ``bias_ih`` gets the bias, ``bias_hh`` zeros."""
    plist = _as_list(params)
    _check_count(plist, num_layers * (2 if bidirectional else 1), "nn.LSTM")
    state = {}
    for k, p in enumerate(plist):
        _check_lstm_dict(p, f"parameter dict {k}")
        s = _torch_suffix(*divmod(k, 2 if bidirectional else 1))
        state[f"weight_ih{s}"] = stack_gates(p, TORCH_LSTM_ORDER, prefix="W_x").T
        state[f"weight_hh{s}"] = stack_gates(p, TORCH_LSTM_ORDER, prefix="W_h").T
        state[f"bias_ih{s}"] = stack_gates(p, TORCH_LSTM_ORDER, prefix="b_")
        state[f"bias_hh{s}"] = np.zeros_like(state[f"bias_ih{s}"])
    return state


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


# ---------------------------------------------------------------- PyTorch scratch modules
def _scratch_cell_params(cell: Any, value: Callable[[Any], Any]) -> ParamDict:
    if hasattr(cell, "W_x"):  # FusedLSTMCell
        p = {}
        p.update(split_gates(value(cell.W_x), FUSED_LSTM_ORDER, prefix="W_x"))
        p.update(split_gates(value(cell.W_h), FUSED_LSTM_ORDER, prefix="W_h"))
        p.update(split_gates(value(cell.b), FUSED_LSTM_ORDER, prefix="b_"))
        return {n: p[n] for n in LSTM_PARAM_NAMES}
    return {n: _to_numpy(value(getattr(cell, n))) for n in LSTM_PARAM_NAMES}


def _scratch_cell_arrays(cell: Any, p: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if hasattr(cell, "W_x"):
        return {"W_x": stack_gates(p, FUSED_LSTM_ORDER, prefix="W_x"),
                "W_h": stack_gates(p, FUSED_LSTM_ORDER, prefix="W_h"),
                "b": stack_gates(p, FUSED_LSTM_ORDER, prefix="b_")}
    return {n: _to_numpy(p[n]) for n in LSTM_PARAM_NAMES}


# ---------------------------------------------------------------- Keras
def _keras_lstm_params(layer: Any, value: Callable[[Any], Any]) -> ParamDict:
    cell = layer.cell
    if not layer.built:
        raise ValueError(f"Keras layer {layer.name!r} is not built yet; call it on an input first")
    kernel, recurrent = _to_numpy(value(cell.kernel)), _to_numpy(value(cell.recurrent_kernel))
    bias = _to_numpy(value(cell.bias)) if cell.use_bias else np.zeros(kernel.shape[1], kernel.dtype)
    p = {}
    p.update(split_gates(kernel, KERAS_LSTM_ORDER, prefix="W_x"))
    p.update(split_gates(recurrent, KERAS_LSTM_ORDER, prefix="W_h"))
    p.update(split_gates(bias, KERAS_LSTM_ORDER, prefix="b_"))
    return {n: p[n] for n in LSTM_PARAM_NAMES}


def _keras_build(layer: Any, input_size: int) -> None:
    if not layer.built:
        layer.build((None, None, input_size))


def _assign(variable: Any, array: np.ndarray, name: str) -> None:
    if tuple(variable.shape) != array.shape:
        raise ValueError(f"{name}: expected shape {tuple(variable.shape)}, received {array.shape}")
    variable.assign(array.astype(np.dtype(getattr(variable.dtype, "name", variable.dtype)), copy=False))


def _load_keras_lstm(layer: Any, p: Mapping[str, Any]) -> None:
    x, _ = _check_lstm_dict(p, "parameter dict")
    _keras_build(layer, x)
    cell = layer.cell
    _assign(cell.kernel, stack_gates(p, KERAS_LSTM_ORDER, prefix="W_x"), "kernel")
    _assign(cell.recurrent_kernel, stack_gates(p, KERAS_LSTM_ORDER, prefix="W_h"), "recurrent_kernel")
    bias = stack_gates(p, KERAS_LSTM_ORDER, prefix="b_")
    if cell.use_bias:
        _assign(cell.bias, bias, "bias")
    elif np.any(bias):
        raise ValueError("the Keras layer has use_bias=False but the parameters have a non-zero bias")


# ---------------------------------------------------------------- dispatch
def _kind(obj: Any) -> str:
    """Classify ``obj`` without importing any framework that is not already loaded."""
    if isinstance(obj, Mapping):
        return "dict"
    if isinstance(obj, (list, tuple)) and all(isinstance(p, Mapping) for p in obj):
        return "list"
    if "torch" in sys.modules:
        import torch

        from lstm_course.torch.stack import RecurrentCell, StackedRNN  # imports torch only

        if isinstance(obj, torch.nn.LSTM):
            return "torch"
        if isinstance(obj, torch.nn.GRU):
            return "gru_torch"
        if isinstance(obj, StackedRNN):
            return "gru_scratch_stack" if _is_torch_gru_cell(obj.cells[0]) else "scratch_stack"
        if isinstance(obj, RecurrentCell):
            return "gru_scratch_cell" if _is_torch_gru_cell(obj) else "scratch_cell"
    if "keras" in sys.modules:
        import keras

        if isinstance(obj, keras.layers.Bidirectional):
            return "keras_bidirectional"
        if isinstance(obj, keras.layers.LSTM):
            return "keras"
        if isinstance(obj, keras.layers.GRU):
            return "gru_keras"
        if isinstance(obj, keras.layers.RNN) and all(hasattr(obj.cell, n) for n in ("W_xi", "W_hc")):
            return "tf_scratch_rnn"
        if isinstance(obj, keras.layers.RNN) and all(hasattr(obj.cell, n) for n in ("W_xr", "W_hz")):
            return "gru_tf_scratch_rnn"
    if all(hasattr(obj, n) for n in ("W_xi", "W_hc", "b_o")):
        return "tf_scratch"  # lstm_course.tf.lstm.LSTMScratch or ScratchLSTMCell
    if all(hasattr(obj, n) for n in ("W_xr", "W_hz", "b_h")):
        return "gru_tf_scratch"  # lstm_course.tf.gru.GRUScratch or ScratchGRUCell
    raise TypeError(f"don't know how to read LSTM weights from {type(obj).__name__}; expected nn.LSTM, "
                    "a scratch LSTM module or cell, keras.layers.LSTM, Bidirectional(LSTM), the TF scratch "
                    "LSTM, or parameter dict(s)")


def _is_torch_gru_cell(cell: Any) -> bool:
    from lstm_course.torch.gru import FusedGRUCell, GRUCell  # imports torch only

    return isinstance(cell, (GRUCell, FusedGRUCell))


def _lstm_kind(obj: Any) -> str:
    """:func:`_kind`, refusing GRU objects (the LSTM functions would misread them)."""
    kind = _kind(obj)
    if kind.startswith("gru_"):
        raise TypeError(f"don't know how to read LSTM weights from {type(obj).__name__}: it is a GRU; "
                        "use gru_params / load_gru_params / copy_gru")
    return kind


def _read(obj: Any, value: Callable[[Any], Any], gradients: bool) -> list[ParamDict]:
    """Parameter dicts of ``obj`` with every variable/parameter ``v`` replaced by ``value(v)``."""
    kind = _lstm_kind(obj)
    if kind in ("dict", "list"):
        plist = _as_list(obj)
        for k, p in enumerate(plist):
            _check_lstm_dict(p, f"parameter dict {k}")
        return [{n: _to_numpy(p[n]) for n in LSTM_PARAM_NAMES} for p in plist]
    if kind == "torch":
        # The equations see b_ih + b_hh: its value is the sum, its gradient that of either one.
        state = {name: value(p) for name, p in obj.named_parameters()
                 if not (gradients and name.startswith("bias_hh"))}
        return lstm_from_torch_state_dict(state, obj.num_layers, obj.bidirectional)
    if kind == "scratch_stack":
        return [_scratch_cell_params(cell, value) for cell in obj.cells]
    if kind == "scratch_cell":
        return [_scratch_cell_params(obj, value)]
    if kind == "keras":
        return [_keras_lstm_params(obj, value)]
    if kind == "keras_bidirectional":
        return [_read(obj.forward_layer, value, gradients)[0], _read(obj.backward_layer, value, gradients)[0]]
    if kind == "tf_scratch_rnn":
        obj = obj.cell
    if not getattr(obj, "built", True):
        raise ValueError(f"{type(obj).__name__} is not built yet; call it on an input first")
    return [{n: _to_numpy(value(getattr(obj, n))) for n in LSTM_PARAM_NAMES}]


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
    return _read(obj, lambda v: v, gradients=False)


def _gradient_reader(grads: Sequence[Any] | None, variables: Sequence[Any] | None) -> Callable[[Any], Any]:
    """How to get a parameter's gradient: ``.grad`` (PyTorch) or the ``grads`` given for ``variables`` (TF)."""
    if grads is None:
        def value(p):
            if getattr(p, "grad", None) is None:
                raise ValueError("a parameter has no .grad; call loss.backward() first "
                                 "(or pass grads= and variables= for TensorFlow objects)")
            return p.grad
        return value
    if variables is None or len(variables) != len(grads):
        raise ValueError(f"grads: expected one gradient per variable, received {len(grads)} gradients "
                         f"for {None if variables is None else len(variables)} variables")
    by_id = {id(v): g for v, g in zip(variables, grads)}

    def value(v):
        if id(v) not in by_id or by_id[id(v)] is None:
            raise ValueError(f"no gradient given for variable {getattr(v, 'name', v)!r}")
        return by_id[id(v)]
    return value


def lstm_grads(obj: Any, grads: Sequence[Any] | None = None, variables: Sequence[Any] | None = None
               ) -> list[ParamDict]:
    """Gradients of a loss with respect to the d2l parameters, in the layout of :func:`lstm_params`.

    PyTorch objects: read ``.grad`` after ``loss.backward()`` (for ``nn.LSTM`` the gradient of
    ``b_g`` is that of ``bias_ih``, which equals that of ``bias_hh``).  TensorFlow/Keras objects:
    pass ``grads = tape.gradient(loss, variables)`` together with those ``variables`` (e.g.
    ``layer.trainable_weights``).
    """
    return _read(obj, _gradient_reader(grads, variables), gradients=True)


def _load_keras_bidirectional(obj: Any, plist: Sequence[Mapping[str, Any]], input_size: int,
                              load: Callable[[Any, Mapping[str, Any]], Any]) -> None:
    """Write the forward and backward dicts into a ``keras.layers.Bidirectional`` (built on demand)."""
    _check_count(plist, 2, "keras.layers.Bidirectional")
    if not obj.built:
        obj.build((None, None, input_size))
    load(obj.forward_layer, plist[0])
    load(obj.backward_layer, plist[1])


def _built_tf_scratch(obj: Any, is_rnn_layer: bool, input_size: int) -> Any:
    """The object holding a TF scratch cell's variables, built for ``input_size`` if needed."""
    if is_rnn_layer:
        _keras_build(obj, input_size)
        return obj.cell
    if not getattr(obj, "built", True):
        obj.build((None, input_size))
    return obj


def load_lstm_params(obj: Any, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Any:
    """Write parameter dict(s) into ``obj`` (any object :func:`lstm_params` reads, except dicts).

    Shapes are checked (``ValueError`` naming expected vs received); values are cast to the
    target's dtype.  ``nn.LSTM`` receives the bias in ``bias_ih`` and zeros in ``bias_hh``.
    Unbuilt Keras layers are built for the parameters' input size.  Returns ``obj``.
    """
    plist = _as_list(params)
    for k, p in enumerate(plist):
        _check_lstm_dict(p, f"parameter dict {k}")
    kind = _lstm_kind(obj)
    if kind in ("dict", "list"):
        raise TypeError("load_lstm_params writes into a module or layer, not into a dict")
    if kind == "torch":
        if obj.proj_size:
            raise ValueError("nn.LSTM with proj_size > 0 has no d2l equivalent; use proj_size=0")
        arrays = lstm_to_torch_state_dict(plist, obj.num_layers, obj.bidirectional)
        _load_torch_arrays(obj, arrays)
    elif kind in ("scratch_stack", "scratch_cell"):
        cells = list(obj.cells) if kind == "scratch_stack" else [obj]
        _check_count(plist, len(cells), type(obj).__name__)
        for cell, p in zip(cells, plist):
            _load_torch_arrays(cell, _scratch_cell_arrays(cell, p))
    elif kind == "keras":
        _check_count(plist, 1, "keras.layers.LSTM")
        _load_keras_lstm(obj, plist[0])
    elif kind == "keras_bidirectional":
        _load_keras_bidirectional(obj, plist, np.shape(plist[0]["W_xi"])[0], load_lstm_params)
    else:
        _check_count(plist, 1, type(obj).__name__)
        target = _built_tf_scratch(obj, kind == "tf_scratch_rnn", np.shape(plist[0]["W_xi"])[0])
        for n in LSTM_PARAM_NAMES:
            _assign(getattr(target, n), _to_numpy(plist[0][n]), n)
    return obj


def copy_lstm(src: Any, dst: Any) -> Any:
    """Copy the weights of ``src`` into ``dst`` (any pair of supported objects); returns ``dst``."""
    return load_lstm_params(dst, lstm_params(src))


# ================================================================ GRU
# One layer and direction of a GRU is a dict under d2l's names ``W_xr, W_hr, b_r, W_xz, W_hz, b_z,
# W_xh, W_hh, b_h``; the framework form (reset gate after the recurrent product, as nn.GRU and
# Keras ``reset_after=True``) adds the recurrent candidate bias ``b_hh`` (see lstm_course.numpy.gru).
# A dict's variant is therefore visible from its keys.

def gru_variant(params: Mapping[str, Any]) -> str:
    """``'framework'`` if the GRU parameter dict has ``b_hh``, else ``'textbook'``."""
    return "framework" if "b_hh" in params else "textbook"


def _gru_names(variant: str) -> tuple[str, ...]:
    return GRU_FRAMEWORK_PARAM_NAMES if variant == "framework" else GRU_PARAM_NAMES


def _check_gru_dict(params: Mapping[str, Any], where: str) -> tuple[int, int, str]:
    """Validate one GRU parameter dict; return ``(input_size, hidden_size, variant)``."""
    missing = [n for n in GRU_PARAM_NAMES if n not in params]
    if missing:
        raise ValueError(f"{where}: expected GRU parameters {list(GRU_PARAM_NAMES)} (+ b_hh for the "
                         f"framework variant), missing {missing}")
    x, h = np.shape(params["W_xr"])
    variant = gru_variant(params)
    shapes = {f"W_x{g}": (x, h) for g in GRU_GATES} | {f"W_h{g}": (h, h) for g in GRU_GATES} | \
        {f"b_{g}": (h,) for g in GRU_GATES} | ({"b_hh": (h,)} if variant == "framework" else {})
    for name, shape in shapes.items():
        if tuple(np.shape(params[name])) != shape:
            raise ValueError(f"{where}: {name} expected shape {shape}, received {tuple(np.shape(params[name]))}")
    return x, h, variant


def _same_variant(plist: Sequence[Mapping[str, Any]], expected: str, target: str) -> None:
    for k, p in enumerate(plist):
        variant = gru_variant(p)
        if variant != expected:
            why = ("it applies the reset gate after the recurrent product and needs b_hh"
                   if expected == "framework" else "it applies the reset gate before the recurrent product "
                                                   "and has no b_hh")
            raise ValueError(f"{target}: expected variant {expected!r} parameters ({why}), "
                             f"received {variant!r} parameters in dict {k}")


def _gru_kind(obj: Any) -> str:
    """:func:`_kind`, refusing LSTM objects (the GRU functions would misread them)."""
    try:
        kind = _kind(obj)
    except TypeError:
        raise TypeError(f"don't know how to read GRU weights from {type(obj).__name__}; expected nn.GRU, a "
                        "scratch GRU module or cell, keras.layers.GRU, Bidirectional(GRU), the TF scratch GRU, "
                        "or parameter dict(s)") from None
    if kind in ("torch", "scratch_stack", "scratch_cell", "keras", "tf_scratch_rnn", "tf_scratch"):
        raise TypeError(f"{type(obj).__name__} is not a GRU; use lstm_params / load_lstm_params / copy_lstm "
                        "for LSTMs")
    return kind


# ---------------------------------------------------------------- torch.nn.GRU
def gru_from_torch_state_dict(state: Mapping[str, Any], num_layers: int = 1,
                              bidirectional: bool = False) -> list[ParamDict]:
    """Framework-variant parameter dicts from an ``nn.GRU`` state dict.

    Gate blocks ``r, z, n``: ``b_r``/``b_z`` are ``bias_ih + bias_hh`` (only the sum matters),
    ``b_h`` is the ``n`` block of ``bias_ih`` and ``b_hh`` the ``n`` block of ``bias_hh``.
    """
    out = []
    for layer in range(num_layers):
        for direction in range(2 if bidirectional else 1):
            s = _torch_suffix(layer, direction)
            w_ih, w_hh = _to_numpy(state[f"weight_ih{s}"]), _to_numpy(state[f"weight_hh{s}"])
            zeros = np.zeros(w_ih.shape[0], dtype=w_ih.dtype)
            b_ih = _to_numpy(state[f"bias_ih{s}"]) if f"bias_ih{s}" in state else zeros
            b_hh = _to_numpy(state[f"bias_hh{s}"]) if f"bias_hh{s}" in state else zeros
            h = w_hh.shape[1]
            params = {}
            params.update(split_gates(w_ih.T, TORCH_GRU_ORDER, prefix="W_x"))
            params.update(split_gates(w_hh.T, TORCH_GRU_ORDER, prefix="W_h"))
            params.update(split_gates(np.concatenate([b_ih[:2 * h] + b_hh[:2 * h], b_ih[2 * h:]]),
                                      TORCH_GRU_ORDER, prefix="b_"))
            params["b_hh"] = b_hh[2 * h:].copy()
            out.append({n: params[n] for n in GRU_FRAMEWORK_PARAM_NAMES})
    return out


def gru_to_torch_state_dict(params: Mapping[str, Any] | Sequence[Mapping[str, Any]], num_layers: int = 1,
                            bidirectional: bool = False) -> dict[str, np.ndarray]:
    """``nn.GRU`` state-dict arrays from framework-variant dicts.

    ``bias_ih`` = ``[b_r, b_z, b_h]``; ``bias_hh`` = ``[0, 0, b_hh]``.
    """
    plist = _as_list(params)
    _check_count(plist, num_layers * (2 if bidirectional else 1), "nn.GRU")
    for k, p in enumerate(plist):
        _check_gru_dict(p, f"parameter dict {k}")
    _same_variant(plist, "framework", "nn.GRU")
    state = {}
    for k, p in enumerate(plist):
        s = _torch_suffix(*divmod(k, 2 if bidirectional else 1))
        state[f"weight_ih{s}"] = stack_gates(p, TORCH_GRU_ORDER, prefix="W_x").T
        state[f"weight_hh{s}"] = stack_gates(p, TORCH_GRU_ORDER, prefix="W_h").T
        state[f"bias_ih{s}"] = stack_gates(p, TORCH_GRU_ORDER, prefix="b_")
        b_hh = _to_numpy(p["b_hh"])
        state[f"bias_hh{s}"] = np.concatenate([np.zeros(2 * b_hh.shape[0], b_hh.dtype), b_hh])
    return state


# ---------------------------------------------------------------- PyTorch scratch GRU
def _gru_cell_params(cell: Any, value: Callable[[Any], Any]) -> ParamDict:
    names = _gru_names(cell.variant)
    if hasattr(cell, "W_x"):  # FusedGRUCell
        p = {}
        p.update(split_gates(value(cell.W_x), FUSED_GRU_ORDER, prefix="W_x"))
        p.update(split_gates(value(cell.W_h), FUSED_GRU_ORDER, prefix="W_h"))
        p.update(split_gates(value(cell.b), FUSED_GRU_ORDER, prefix="b_"))
        if cell.variant == "framework":
            p["b_hh"] = _to_numpy(value(cell.b_hh))
        return {n: p[n] for n in names}
    return {n: _to_numpy(value(getattr(cell, n))) for n in names}


def _gru_cell_arrays(cell: Any, p: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if hasattr(cell, "W_x"):
        arrays = {"W_x": stack_gates(p, FUSED_GRU_ORDER, prefix="W_x"),
                  "W_h": stack_gates(p, FUSED_GRU_ORDER, prefix="W_h"),
                  "b": stack_gates(p, FUSED_GRU_ORDER, prefix="b_")}
        if "b_hh" in p:
            arrays["b_hh"] = _to_numpy(p["b_hh"])
        return arrays
    return {n: _to_numpy(p[n]) for n in _gru_names(gru_variant(p))}


# ---------------------------------------------------------------- Keras GRU
def _keras_gru_params(layer: Any, value: Callable[[Any], Any], gradients: bool) -> ParamDict:
    cell = layer.cell
    if not layer.built:
        raise ValueError(f"Keras layer {layer.name!r} is not built yet; call it on an input first")
    kernel, recurrent = _to_numpy(value(cell.kernel)), _to_numpy(value(cell.recurrent_kernel))
    units = recurrent.shape[0]
    p = {}
    p.update(split_gates(kernel, KERAS_GRU_ORDER, prefix="W_x"))
    p.update(split_gates(recurrent, KERAS_GRU_ORDER, prefix="W_h"))
    if cell.reset_after:
        bias = _to_numpy(value(cell.bias)) if cell.use_bias else np.zeros((2, 3 * units), kernel.dtype)
        blocks = split_gates(bias[1], KERAS_GRU_ORDER, prefix="")
        b_input = bias[0].copy()
        if not gradients:  # z and r see bias[0] + bias[1]; their gradients are equal, take one
            b_input[:2 * units] += bias[1][:2 * units]
        p.update(split_gates(b_input, KERAS_GRU_ORDER, prefix="b_"))
        p["b_hh"] = blocks["h"]
    else:
        bias = _to_numpy(value(cell.bias)) if cell.use_bias else np.zeros(3 * units, kernel.dtype)
        p.update(split_gates(bias, KERAS_GRU_ORDER, prefix="b_"))
    return {n: p[n] for n in _gru_names("framework" if cell.reset_after else "textbook")}


def _load_keras_gru(layer: Any, p: Mapping[str, Any]) -> None:
    x, h, variant = _check_gru_dict(p, "parameter dict")
    _keras_build(layer, x)
    cell = layer.cell
    _same_variant([p], "framework" if cell.reset_after else "textbook",
                  f"keras.layers.GRU(reset_after={cell.reset_after})")
    _assign(cell.kernel, stack_gates(p, KERAS_GRU_ORDER, prefix="W_x"), "kernel")
    _assign(cell.recurrent_kernel, stack_gates(p, KERAS_GRU_ORDER, prefix="W_h"), "recurrent_kernel")
    bias = stack_gates(p, KERAS_GRU_ORDER, prefix="b_")
    if variant == "framework":
        b_hh = _to_numpy(p["b_hh"])
        bias = np.stack([bias, np.concatenate([np.zeros(2 * h, b_hh.dtype), b_hh])])
    if cell.use_bias:
        _assign(cell.bias, bias, "bias")
    elif np.any(bias):
        raise ValueError("the Keras layer has use_bias=False but the parameters have a non-zero bias")


# ---------------------------------------------------------------- GRU dispatch
def _read_gru(obj: Any, value: Callable[[Any], Any], gradients: bool) -> list[ParamDict]:
    kind = _gru_kind(obj)
    if kind in ("dict", "list"):
        plist = _as_list(obj)
        out = []
        for k, p in enumerate(plist):
            _, _, variant = _check_gru_dict(p, f"parameter dict {k}")
            out.append({n: _to_numpy(p[n]) for n in _gru_names(variant)})
        return out
    if kind == "gru_torch":
        state = {name: value(p) for name, p in obj.named_parameters()}
        if gradients:  # b_r, b_z: the gradient of bias_ih equals that of bias_hh; do not add them
            h = obj.hidden_size
            for name in state:
                if name.startswith("bias_hh"):
                    grad = _to_numpy(state[name])
                    grad[:2 * h] = 0.0
                    state[name] = grad
        return gru_from_torch_state_dict(state, obj.num_layers, obj.bidirectional)
    if kind == "gru_scratch_stack":
        return [_gru_cell_params(cell, value) for cell in obj.cells]
    if kind == "gru_scratch_cell":
        return [_gru_cell_params(obj, value)]
    if kind == "gru_keras":
        return [_keras_gru_params(obj, value, gradients)]
    if kind == "keras_bidirectional":
        return [_read_gru(obj.forward_layer, value, gradients)[0], _read_gru(obj.backward_layer, value, gradients)[0]]
    if kind == "gru_tf_scratch_rnn":
        obj = obj.cell
    if not getattr(obj, "built", True):
        raise ValueError(f"{type(obj).__name__} is not built yet; call it on an input first")
    return [{n: _to_numpy(value(getattr(obj, n))) for n in _gru_names(obj.variant)}]


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
    return _read_gru(obj, lambda v: v, gradients=False)


def gru_grads(obj: Any, grads: Sequence[Any] | None = None, variables: Sequence[Any] | None = None
              ) -> list[ParamDict]:
    """Gradients with respect to the d2l GRU parameters, in the layout of :func:`gru_params`.

    PyTorch objects: read ``.grad`` after ``loss.backward()``.  TensorFlow/Keras objects: pass
    ``grads = tape.gradient(loss, variables)`` together with those ``variables``.
    """
    return _read_gru(obj, _gradient_reader(grads, variables), gradients=True)


def load_gru_params(obj: Any, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Any:
    """Write GRU parameter dict(s) into ``obj`` (any object :func:`gru_params` reads, except dicts).

    The dicts' variant must be the target's: ``nn.GRU`` and Keras ``reset_after=True`` take
    framework dicts (with ``b_hh``), Keras ``reset_after=False`` textbook dicts; scratch modules
    take their own ``variant``.  Shapes are checked; values are cast to the target's dtype.
    Returns ``obj``.
    """
    plist = _as_list(params)
    for k, p in enumerate(plist):
        _check_gru_dict(p, f"parameter dict {k}")
    kind = _gru_kind(obj)
    if kind in ("dict", "list"):
        raise TypeError("load_gru_params writes into a module or layer, not into a dict")
    if kind == "gru_torch":
        arrays = gru_to_torch_state_dict(plist, obj.num_layers, obj.bidirectional)
        _load_torch_arrays(obj, arrays)
    elif kind in ("gru_scratch_stack", "gru_scratch_cell"):
        cells = list(obj.cells) if kind == "gru_scratch_stack" else [obj]
        _check_count(plist, len(cells), type(obj).__name__)
        _same_variant(plist, cells[0].variant, f"{type(obj).__name__}(variant={cells[0].variant!r})")
        for cell, p in zip(cells, plist):
            _load_torch_arrays(cell, _gru_cell_arrays(cell, p))
    elif kind == "gru_keras":
        _check_count(plist, 1, "keras.layers.GRU")
        _load_keras_gru(obj, plist[0])
    elif kind == "keras_bidirectional":
        _load_keras_bidirectional(obj, plist, np.shape(plist[0]["W_xr"])[0], load_gru_params)
    else:
        _check_count(plist, 1, type(obj).__name__)
        target = _built_tf_scratch(obj, kind == "gru_tf_scratch_rnn", np.shape(plist[0]["W_xr"])[0])
        _same_variant(plist, target.variant, f"{type(target).__name__}(variant={target.variant!r})")
        for n in _gru_names(target.variant):
            _assign(getattr(target, n), _to_numpy(plist[0][n]), n)
    return obj


def copy_gru(src: Any, dst: Any) -> Any:
    """Copy the GRU weights of ``src`` into ``dst`` (any pair of supported objects); returns ``dst``."""
    return load_gru_params(dst, gru_params(src))
