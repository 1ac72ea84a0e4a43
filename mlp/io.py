"""Saving and loading models, and moving weights to and from PyTorch.

The file format is JSON (UTF-8), one object::

    {
      "format": "backprop-lab/mlp",
      "version": 1,
      "architecture": {
        "n_inputs": 4,
        "layer_sizes": [16, 16, 3],
        "activation": "relu",         # hidden layers: relu, tanh, sigmoid, leaky_relu, linear
        "output": "softmax",          # linear, sigmoid or softmax
        "negative_slope": 0.01        # leaky_relu's slope below 0
      },
      "layers": [                     # one entry per layer, in order
        {"weight": [[...], ...],      # n_outputs rows of n_inputs numbers: weight[j][i] is
                                      # neuron j's weight for input i (PyTorch's layout)
         "bias": [...]}               # n_outputs numbers
      ],
      "metadata": {},                 # anything JSON the user stored (class names, scaling)
      "engine": "value"               # which engine the model was saved from: value, tensor
    }

Numbers are written with Python's shortest round-trip repr, so save-then-load gives back
the same floats bit for bit.  Non-finite numbers are refused (JSON has none).  Every key
above is required except ``metadata`` and ``engine`` (a file without it was saved from
the value engine); unknown keys are refused, so a hand-edited or foreign file is reported
instead of half-understood.  Any problem with a file's content raises `ModelFormatError`
naming the file and the place, and no model is returned.  Either engine reads a file of
either (the weights are the same numbers): `load_model`'s ``engine=`` picks one, else the
file's is used.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd.files import atomic_write
from mlp.base import (
    ENGINES,
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    BaseMLP,
    LayerWeights,
    check_engine,
    model_class,
)

if TYPE_CHECKING:
    from os import PathLike

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "ModelFormatError", "save_model", "load_model",
    "model_to_dict", "model_from_dict", "atomic_write_text", "atomic_write_bytes",
    "state_dict", "load_state_dict", "to_torch", "from_torch", "validate_weights",
    "layer_sizes_of",
]

FORMAT_NAME = "backprop-lab/mlp"
FORMAT_VERSION = 1

_ARCHITECTURE_KEYS = ("n_inputs", "layer_sizes", "activation", "output", "negative_slope")


class ModelFormatError(ValueError):
    """A model file or a set of weights that cannot be read: says what and where."""


# -- atomic writing ---------------------------------------------------------------------


def atomic_write_text(path: str | PathLike[str], text: str) -> None:
    """Write `text` as UTF-8 to `path` atomically (see `autograd.files.atomic_write`)."""
    atomic_write(path, text)


def atomic_write_bytes(path: str | PathLike[str], data: bytes) -> None:
    """Write `data` to `path`: readers see the old file or the new, never half of one."""
    atomic_write(path, data)


# -- weights as arrays --------------------------------------------------------------------


def _as_float_array(value: Any, where: str) -> np.ndarray:
    """A float64 array from an array, nested lists or a tensor; refuses non-numbers."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, without torch
        value = value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)):
        _check_plain_numbers(value, where)
    try:
        array = np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise ModelFormatError(f"{where}: not a rectangular array of numbers ({exc})") from None
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise ModelFormatError(f"{where}: expected real numbers, got an array of {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ModelFormatError(f"{where}: contains NaN or infinity")
    return array


def _check_plain_numbers(value: Sequence[Any], where: str) -> None:
    """Nested lists must hold ints and floats only (np.asarray would quietly take bools)."""
    for i, item in enumerate(value):
        if isinstance(item, (list, tuple)):
            _check_plain_numbers(item, f"{where}[{i}]")
        elif isinstance(item, bool) or not isinstance(item, numbers.Real):
            raise ModelFormatError(f"{where}[{i}]: expected a number, got "
                                   f"{type(item).__name__}: {item!r:.40}")


def _pair(entry: Any, k: int) -> tuple[Any, Any]:
    if isinstance(entry, (Mapping, str, bytes)) or not isinstance(entry, Sequence) \
            or len(entry) != 2:
        raise ModelFormatError(f"layer {k}: expected a pair (W, b), got {type(entry).__name__}")
    return entry[0], entry[1]


def layer_sizes_of(weights: Sequence[LayerWeights]) -> tuple[int, list[int]]:
    """(n_inputs, layer sizes) read from per-layer (W, b) shapes; checks they chain up."""
    if isinstance(weights, (str, bytes, Mapping)) or not isinstance(weights, Sequence):
        raise ModelFormatError(f"weights must be a list of (W, b) pairs, got "
                               f"{type(weights).__name__}")
    if not weights:
        raise ModelFormatError("weights must hold at least one layer")
    sizes, n_inputs = [], 0
    for k, entry in enumerate(weights):
        weight = _as_float_array(_pair(entry, k)[0], f"layer {k} W")
        if weight.ndim != 2 or 0 in weight.shape:
            raise ModelFormatError(f"layer {k} W: expected a non-empty 2-D array "
                                   f"(n_outputs, n_inputs), got shape {weight.shape}")
        if k == 0:
            n_inputs = weight.shape[1]
        sizes.append(weight.shape[0])
    return n_inputs, sizes


def validate_weights(
    weights: Sequence[LayerWeights], n_inputs: int, layer_sizes: Sequence[int]
) -> list[LayerWeights]:
    """Per-layer (W, b) as float64 arrays, checked against the expected shapes.

    Raises `ModelFormatError` naming the first layer whose count, shape, type or values
    (NaN, infinity) are wrong.
    """
    if isinstance(weights, (str, bytes, Mapping)) or not isinstance(weights, Sequence):
        raise ModelFormatError(f"weights must be a list of (W, b) pairs, got "
                               f"{type(weights).__name__}")
    if len(weights) != len(layer_sizes):
        raise ModelFormatError(f"expected weights for {len(layer_sizes)} layers, "
                               f"got {len(weights)}")
    checked = []
    fan_in = n_inputs
    for k, (entry, size) in enumerate(zip(weights, layer_sizes)):
        raw_weight, raw_bias = _pair(entry, k)
        weight = _as_float_array(raw_weight, f"layer {k} W")
        bias = _as_float_array(raw_bias, f"layer {k} b")
        if weight.shape != (size, fan_in):
            raise ModelFormatError(f"layer {k} W: expected shape ({size}, {fan_in}) "
                                   f"(n_outputs, n_inputs), got {weight.shape}")
        if bias.shape != (size,):
            raise ModelFormatError(f"layer {k} b: expected shape ({size},), got {bias.shape}")
        checked.append((weight, bias))
        fan_in = size
    return checked


# -- the JSON format ----------------------------------------------------------------------


def model_to_dict(model: BaseMLP, metadata: Mapping[str, Any] | None = None
                  ) -> dict[str, Any]:
    """The JSON-ready dictionary of the file format (see the module docstring)."""
    if not isinstance(model, BaseMLP):
        raise TypeError(f"expected an MLP, got {type(model).__name__}")
    meta = model.metadata if metadata is None else metadata
    if not isinstance(meta, Mapping):
        raise TypeError(f"metadata must be a dict, got {type(meta).__name__}")
    layers = []
    for k, (weight, bias) in enumerate(model.get_weights()):
        if not (np.all(np.isfinite(weight)) and np.all(np.isfinite(bias))):
            raise ValueError(f"layer {k} has NaN or infinite parameters; the model diverged "
                             f"and is not saved")
        layers.append({"weight": weight.tolist(), "bias": bias.tolist()})
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "architecture": {
            "n_inputs": model.n_inputs,
            "layer_sizes": model.layer_sizes,
            "activation": model.activation,
            "output": model.output,
            "negative_slope": model.negative_slope,
        },
        "layers": layers,
        "metadata": dict(meta),
        "engine": model.engine,
    }


def save_model(
    model: BaseMLP, path: str | PathLike[str], metadata: Mapping[str, Any] | None = None
) -> None:
    """Write `model` to `path` as JSON, atomically (an old file survives a failed write)."""
    document = model_to_dict(model, metadata)
    try:
        text = json.dumps(document, indent=1, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"metadata is not JSON-serializable: {exc}") from None
    atomic_write_text(path, text + "\n")


def _reject_constant(name: str) -> float:
    raise ModelFormatError(f"non-finite number {name} (not allowed in a model file)")


def load_model(path: str | PathLike[str], engine: str | None = None) -> BaseMLP:
    """Read a model written by `save_model`, computed by `engine` (None: the file's).

    A missing file raises `FileNotFoundError`; a file that is truncated, not JSON, of
    another format or version, or has wrong shapes or types raises `ModelFormatError`.
    """
    if engine is not None:
        check_engine(engine)
    raw = Path(path).read_bytes()
    source = os.fspath(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFormatError(f"{source}: not a UTF-8 text file ({exc.reason} at byte "
                               f"{exc.start})") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) else ""
        raise ModelFormatError(f"{source}: not valid JSON: {exc.msg} at line {exc.lineno}, "
                               f"column {exc.colno}{hint}") from None
    except ModelFormatError as exc:
        raise ModelFormatError(f"{source}: {exc}") from None
    except RecursionError:
        raise ModelFormatError(f"{source}: JSON nested too deeply") from None
    try:
        return model_from_dict(document, engine)
    except ModelFormatError as exc:
        raise ModelFormatError(f"{source}: {exc}") from None


def _require(mapping: Any, keys: Sequence[str], optional: Sequence[str], where: str) -> None:
    if not isinstance(mapping, dict):
        raise ModelFormatError(f"{where}: expected a JSON object, got {_json_type(mapping)}")
    missing = [k for k in keys if k not in mapping]
    if missing:
        raise ModelFormatError(f"{where}: missing key(s) {', '.join(map(repr, missing))}")
    unknown = [k for k in mapping if k not in keys and k not in optional]
    if unknown:
        raise ModelFormatError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "an integer", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _positive_int(value: Any, where: str) -> int:
    if type(value) is not int or value < 1:
        raise ModelFormatError(f"{where}: expected a positive integer, got {value!r:.40}")
    return value


def model_from_dict(document: Any, engine: str | None = None) -> BaseMLP:
    """Build a model from the file format's dictionary, checking every field first.

    `engine` ("value" or "tensor") chooses the model's engine; None: the one the
    document records ("value" when it records none).
    """
    if engine is not None:
        check_engine(engine)
    _require(document, ("format", "version", "architecture", "layers"), ("metadata", "engine"),
             "top level")
    if document["format"] != FORMAT_NAME:
        raise ModelFormatError(f"format is {document['format']!r:.60}, expected {FORMAT_NAME!r}")
    version = document["version"]
    if type(version) is not int:
        raise ModelFormatError(f"version: expected an integer, got {version!r:.40}")
    if version != FORMAT_VERSION:
        newer = " (written by a newer version of this library)" if version > FORMAT_VERSION else ""
        raise ModelFormatError(f"unsupported format version {version}{newer}; this library "
                               f"reads version {FORMAT_VERSION}")
    arch = document["architecture"]
    _require(arch, _ARCHITECTURE_KEYS, (), "architecture")
    n_inputs = _positive_int(arch["n_inputs"], "architecture.n_inputs")
    sizes = arch["layer_sizes"]
    if not isinstance(sizes, list) or not sizes:
        raise ModelFormatError("architecture.layer_sizes: expected a non-empty array")
    sizes = [_positive_int(s, f"architecture.layer_sizes[{i}]") for i, s in enumerate(sizes)]
    activation, output = arch["activation"], arch["output"]
    if activation not in HIDDEN_ACTIVATIONS:
        raise ModelFormatError(f"architecture.activation: unknown {activation!r:.40}; "
                               f"expected one of {', '.join(HIDDEN_ACTIVATIONS)}")
    if output not in OUTPUT_ACTIVATIONS:
        raise ModelFormatError(f"architecture.output: unknown {output!r:.40}; "
                               f"expected one of {', '.join(OUTPUT_ACTIVATIONS)}")
    if output == "softmax" and sizes[-1] < 2:
        raise ModelFormatError("architecture: a softmax output needs at least 2 outputs")
    slope = arch["negative_slope"]
    if type(slope) not in (int, float) or not math.isfinite(slope):
        raise ModelFormatError(f"architecture.negative_slope: expected a finite number, "
                               f"got {slope!r:.40}")
    layers = document["layers"]
    if not isinstance(layers, list):
        raise ModelFormatError(f"layers: expected an array, got {_json_type(layers)}")
    pairs = []
    for k, entry in enumerate(layers):
        _require(entry, ("weight", "bias"), (), f"layers[{k}]")
        for key in ("weight", "bias"):
            if not isinstance(entry[key], list):
                raise ModelFormatError(f"layers[{k}].{key}: expected an array, got "
                                       f"{_json_type(entry[key])}")
        pairs.append((entry["weight"], entry["bias"]))
    metadata = document.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ModelFormatError(f"metadata: expected an object, got {_json_type(metadata)}")
    saved_engine = document.get("engine", ENGINES[0])
    if saved_engine not in ENGINES:
        raise ModelFormatError(f"engine: unknown {saved_engine!r:.40}; expected one of "
                               f"{', '.join(ENGINES)}")
    checked = validate_weights(pairs, n_inputs, sizes)
    model = model_class(engine or saved_engine).from_weights(
        checked, activation, output, negative_slope=float(slope))
    model.metadata = metadata
    return model


# -- PyTorch ------------------------------------------------------------------------------

_STATE_KEY = re.compile(r"^(\d+)\.(weight|bias)$")


def _linear_positions(model: BaseMLP) -> list[int]:
    """Where each Linear sits in the equivalent nn.Sequential (activations in between)."""
    step = 1 if model.activation == "linear" else 2
    return [k * step for k in range(len(model.layers))]


def state_dict(model: BaseMLP) -> dict[str, np.ndarray]:
    """``{"0.weight": W0, "0.bias": b0, "2.weight": ...}``: NumPy arrays keyed like
    ``nn.Sequential(Linear, act, Linear, act, Linear)``; ``torch.as_tensor`` takes them."""
    out: dict[str, np.ndarray] = {}
    for position, (weight, bias) in zip(_linear_positions(model), model.get_weights()):
        out[f"{position}.weight"] = weight
        out[f"{position}.bias"] = bias
    return out


def load_state_dict(model: BaseMLP, state: Mapping[str, Any]) -> None:
    """Copy weights from a state_dict of an ``nn.Sequential`` of Linear layers.

    Keys are ``"<index>.weight"`` and ``"<index>.bias"``; the Linear layers are taken in
    index order (so modules without weights in between, like Dropout, do not matter).
    Values may be NumPy arrays, nested lists or torch tensors.  Everything is checked
    before the model changes.
    """
    if not isinstance(state, Mapping):
        raise ModelFormatError(f"state_dict must be a mapping, got {type(state).__name__}")
    found: dict[int, dict[str, Any]] = {}
    for key, value in state.items():
        match = _STATE_KEY.match(key) if isinstance(key, str) else None
        if match is None:
            raise ModelFormatError(f"state_dict key {key!r}: expected '<index>.weight' or "
                                   f"'<index>.bias' of an nn.Sequential of Linear layers")
        found.setdefault(int(match.group(1)), {})[match.group(2)] = value
    for index, entry in sorted(found.items()):
        for part in ("weight", "bias"):
            if part not in entry:
                raise ModelFormatError(f"state_dict has no '{index}.{part}' (bias-free Linear "
                                       f"layers are not supported)")
    pairs = [(found[i]["weight"], found[i]["bias"]) for i in sorted(found)]
    model.set_weights(pairs)


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("this needs PyTorch; install it with `pip install torch`") from None
    return torch


def to_torch(model: BaseMLP, dtype: Any = None) -> Any:
    """An ``nn.Sequential`` computing what `model` computes (default dtype: torch's)."""
    torch = _torch()
    nn = torch.nn
    hidden = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
              "leaky_relu": lambda: nn.LeakyReLU(model.negative_slope), "linear": None}
    modules: list[Any] = []
    for k, layer in enumerate(model.layers):
        modules.append(nn.Linear(layer.n_inputs, layer.n_outputs))
        make = hidden[model.activation]
        if k < len(model.layers) - 1 and make is not None:
            modules.append(make())
    if model.output == "sigmoid":
        modules.append(nn.Sigmoid())
    elif model.output == "softmax":
        modules.append(nn.Softmax(dim=-1))
    dtype = dtype if dtype is not None else torch.get_default_dtype()
    # Convert the modules first: loading float64 weights into float32 parameters would
    # round them.
    seq = nn.Sequential(*modules).to(dtype)
    seq.load_state_dict({k: torch.as_tensor(v, dtype=dtype) for k, v in state_dict(model).items()})
    return seq


def from_torch(module: Any, engine: str = "value") -> BaseMLP:
    """An `MLP` (on `engine`) copied from an ``nn.Sequential`` of Linear layers and
    activations.

    Hidden activations (ReLU, Tanh, Sigmoid, LeakyReLU, or none) must be the same between
    every pair of Linear layers; after the last Linear there may be a Sigmoid or a
    Softmax over the last dimension.
    """
    check_engine(engine)
    torch = _torch()
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"expected a torch.nn.Sequential, got {type(module).__name__}")
    names = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.LeakyReLU: "leaky_relu"}
    linears: list[Any] = []
    gaps: list[list[str]] = [[]]  # activation names after each Linear
    slope = 0.01
    for position, child in enumerate(module):
        if isinstance(child, nn.Linear):
            if child.bias is None:
                raise ModelFormatError(f"module {position}: Linear without bias is not supported")
            linears.append(child)
            gaps.append([])
        elif type(child) in names and linears:
            gaps[-1].append(names[type(child)])
            if isinstance(child, nn.LeakyReLU):
                slope = float(child.negative_slope)
        elif isinstance(child, nn.Softmax) and linears and position == len(module) - 1:
            if child.dim not in (-1, 1):
                raise ModelFormatError(f"module {position}: Softmax must be over the last "
                                       f"dimension (dim=-1), got dim={child.dim}")
            gaps[-1].append("softmax")
        else:
            raise ModelFormatError(f"module {position}: {type(child).__name__} is not "
                                   f"supported here (Linear, ReLU, Tanh, Sigmoid, LeakyReLU, "
                                   f"final Softmax)")
    if not linears:
        raise ModelFormatError("the Sequential has no Linear layer")
    hidden_gaps = gaps[1:-1]
    kinds = {tuple(g) for g in hidden_gaps}
    if len(kinds) > 1 or any(len(g) > 1 for g in hidden_gaps):
        raise ModelFormatError(f"hidden activations differ between layers: {hidden_gaps}; "
                               f"an MLP uses one activation for all hidden layers")
    activation = hidden_gaps[0][0] if hidden_gaps and hidden_gaps[0] else (
        "linear" if hidden_gaps else "relu")
    last = gaps[-1]
    if len(last) > 1:
        raise ModelFormatError(f"more than one output activation: {last}")
    output = last[0] if last else "linear"
    if output not in OUTPUT_ACTIVATIONS:
        raise ModelFormatError(f"output activation {output!r} is not supported "
                               f"(linear, sigmoid, softmax)")
    weights = [(lin.weight, lin.bias) for lin in linears]
    return model_class(engine).from_weights(weights, activation, output, negative_slope=slope)
