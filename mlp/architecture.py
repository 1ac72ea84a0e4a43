"""What a model is as plain data: the names it may use, its shape, its weights as arrays.

The lowest module of `mlp`'s models: the model classes (`mlp.base`), the JSON file
format (`mlp.model_file`) and the PyTorch conversion (`mlp.torch_interop`) all read
these names and checks, and none of them is imported here.

One layer's weights are a pair ``(W, b)`` in PyTorch's layout: W of shape
(n_outputs, n_inputs), row j holding neuron j's weights, and b of shape (n_outputs,).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd.tensor import ragged_text

__all__ = [
    "ENGINES", "DTYPES", "HIDDEN_ACTIVATIONS", "OUTPUT_ACTIVATIONS", "INITIALIZERS",
    "LayerWeights", "ModelFormatError", "Architecture", "check_engine", "check_dtype",
    "check_architecture", "validate_weights", "layer_sizes_of",
]

#: the engines a model can compute with (the first is the default)
ENGINES: tuple[str, ...] = ("value", "tensor")
#: the float types a model can compute in (the first is the default; the value engine
#: computes with Python floats, which are float64)
DTYPES: tuple[str, ...] = ("float64", "float32")
#: activations a neuron (hidden layer) can use
HIDDEN_ACTIVATIONS: tuple[str, ...] = ("relu", "tanh", "sigmoid", "leaky_relu", "linear")
#: what a model applies to its last layer's weighted sums
OUTPUT_ACTIVATIONS: tuple[str, ...] = ("linear", "sigmoid", "softmax")
#: weight initialization schemes (biases always start at 0)
INITIALIZERS: tuple[str, ...] = (
    "auto", "he", "he_uniform", "xavier", "xavier_uniform", "glorot", "glorot_uniform",
    "uniform",
)

#: one layer's weights in PyTorch's layout: W of shape (n_outputs, n_inputs), b of (n_outputs,)
LayerWeights = tuple[np.ndarray, np.ndarray]


class ModelFormatError(ValueError):
    """A model file or a set of weights that cannot be read: says what and where."""


@dataclass(frozen=True)
class Architecture:
    """A model's shape and activations: everything but its weights and its engine."""

    n_inputs: int
    #: the number of neurons in each layer, the last being the outputs
    layer_sizes: tuple[int, ...]
    #: the hidden layers' activation (one of `HIDDEN_ACTIVATIONS`)
    activation: str
    #: what the last layer's weighted sums go through (one of `OUTPUT_ACTIVATIONS`)
    output: str
    #: leaky_relu's slope below 0
    negative_slope: float = 0.01

    @property
    def n_parameters(self) -> int:
        """How many weights and biases a model of this shape has."""
        fan_ins = (self.n_inputs, *self.layer_sizes[:-1])
        return sum(size * (fan_in + 1) for fan_in, size in zip(fan_ins, self.layer_sizes))


# -- names --------------------------------------------------------------------------------


def check_name(value: object, allowed: tuple[str, ...], what: str) -> str:
    """`value` if it is one of `allowed`; else a TypeError/ValueError naming `what`."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a name (str), got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r:.40}; choose one of: {', '.join(allowed)}")
    return value


def check_engine(engine: object) -> str:
    """`engine` if it names an engine ("value" or "tensor"); else a TypeError/ValueError."""
    return check_name(engine, ENGINES, "engine")


def check_dtype(dtype: object) -> str:
    """The name ("float64" or "float32") of a float type given by name or as a NumPy type."""
    if isinstance(dtype, str):
        return check_name(dtype, DTYPES, "dtype")
    try:
        name = np.dtype(dtype).name  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"dtype must be 'float64' or 'float32', got {dtype!r:.40}") from None
    return check_name(name, DTYPES, "dtype")


def check_count(value: object, what: str) -> int:
    """`value` as an int >= 1; else a TypeError/ValueError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{what} must be at least 1, got {value}")
    return int(value)


def check_architecture(nin: object, nouts: object, activation: object, output: object,
                       init: object) -> tuple[int, list[int], str, str, str]:
    """The constructor arguments every engine takes, checked: (nin, sizes, activation,
    output, init).  Raises TypeError/ValueError naming the bad argument."""
    nin = check_count(nin, "nin")
    if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Iterable):
        raise TypeError(f"nouts must be a list of layer sizes, got {type(nouts).__name__}")
    sizes = [check_count(n, "layer size") for n in nouts]
    if not sizes:
        raise ValueError("nouts must list at least one layer size")
    activation = check_name(activation, HIDDEN_ACTIVATIONS, "activation")
    output = check_name(output, OUTPUT_ACTIVATIONS, "output activation")
    if output == "softmax" and sizes[-1] < 2:
        raise ValueError("a softmax output needs at least 2 outputs; use output='sigmoid' "
                         "for one")
    init = check_name(init, INITIALIZERS, "init")
    return nin, sizes, activation, output, init


def check_slope(value: object) -> float:
    """leaky_relu's `negative_slope` as a finite float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"negative_slope must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"negative_slope must be finite, got {value}")
    return float(value)


# -- weights as arrays --------------------------------------------------------------------


def _torch_tensor_as_array(value: Any, where: str) -> np.ndarray:
    """A torch.Tensor's numbers as a NumPy array (torch itself is not imported here)."""
    dtype = str(getattr(value, "dtype", ""))
    if dtype == "torch.bfloat16":
        raise ModelFormatError(f"{where}: a torch.bfloat16 tensor, which NumPy cannot hold; "
                               f"convert it first with .float() or .double()")
    if getattr(value, "is_complex", lambda: False)():
        raise ModelFormatError(f"{where}: expected real numbers, got a {dtype} tensor")
    try:
        return value.detach().cpu().numpy()
    except (TypeError, RuntimeError) as exc:  # dtypes or devices NumPy cannot take
        raise ModelFormatError(f"{where}: cannot read this {dtype} tensor as numbers "
                               f"({exc})") from None


def as_float_array(value: Any, where: str) -> np.ndarray:
    """A float64 array from an array, nested lists or a torch tensor; refuses anything but
    finite real numbers with a `ModelFormatError` naming `where`."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor
        value = _torch_tensor_as_array(value, where)
    if isinstance(value, (list, tuple)):
        _check_plain_numbers(value, where)
    try:
        array = np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise ModelFormatError(f"{where}: not a rectangular array of numbers "
                               f"({ragged_text(value, exc)})") from None
    if array.dtype.kind not in "iuf":  # bools, complex, strings, objects (huge ints)
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


def _check_weight_list(weights: object) -> Sequence[Any]:
    if isinstance(weights, (str, bytes, Mapping)) or not isinstance(weights, Sequence):
        raise ModelFormatError(f"weights must be a list of (W, b) pairs, got "
                               f"{type(weights).__name__}")
    return weights


def layer_sizes_of(weights: Sequence[LayerWeights]) -> tuple[int, list[int]]:
    """(n_inputs, layer sizes) read from per-layer (W, b) shapes."""
    weights = _check_weight_list(weights)
    if not weights:
        raise ModelFormatError("weights must hold at least one layer")
    sizes, n_inputs = [], 0
    for k, entry in enumerate(weights):
        weight = as_float_array(_pair(entry, k)[0], f"layer {k} W")
        if weight.ndim != 2 or 0 in weight.shape:
            raise ModelFormatError(f"layer {k} W: expected a non-empty 2-D array "
                                   f"(n_outputs, n_inputs), got shape {weight.shape}")
        if k == 0:
            n_inputs = weight.shape[1]
        sizes.append(weight.shape[0])
    return n_inputs, sizes  # whether they chain up is validate_weights' check


def validate_weights(
    weights: Sequence[LayerWeights], n_inputs: int, layer_sizes: Sequence[int]
) -> list[LayerWeights]:
    """Per-layer (W, b) as float64 arrays, checked against the expected shapes.

    Raises `ModelFormatError` naming the first layer whose count, shape, type or values
    (NaN, infinity) are wrong.
    """
    weights = _check_weight_list(weights)
    if len(weights) != len(layer_sizes):
        raise ModelFormatError(f"expected weights for {len(layer_sizes)} layers, "
                               f"got {len(weights)}")
    checked = []
    fan_in = n_inputs
    for k, (entry, size) in enumerate(zip(weights, layer_sizes)):
        raw_weight, raw_bias = _pair(entry, k)
        weight = as_float_array(raw_weight, f"layer {k} W")
        bias = as_float_array(raw_bias, f"layer {k} b")
        if weight.shape != (size, fan_in):
            raise ModelFormatError(f"layer {k} W: expected shape ({size}, {fan_in}) "
                                   f"(n_outputs, n_inputs), got {weight.shape}")
        if bias.shape != (size,):
            raise ModelFormatError(f"layer {k} b: expected shape ({size},), got {bias.shape}")
        checked.append((weight, bias))
        fan_in = size
    return checked
