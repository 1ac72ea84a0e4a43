"""The JSON model file: what it holds, how it is written, and how a file is checked.

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
      "engine": "value",              # which engine the model was saved from: value, tensor
      "dtype": "float64"              # what it computed in: float64, or float32 (tensor)
    }

Numbers are written with Python's shortest round-trip repr, so save-then-load gives back
the same floats bit for bit (a float32 weight is written as the float64 number equal to
it).  Non-finite numbers are refused (JSON has none).  Every key above is required
except ``metadata``, ``engine`` (a file without it was saved from the value engine) and
``dtype`` (float64); unknown keys are refused, so a hand-edited or foreign file is
reported instead of half-understood.

Reading is bounded: a file declaring more than `DEFAULT_MAX_PARAMETERS` weights and
biases is refused before any weight is read (``max_parameters=`` raises the limit), as is
a file larger than `max_file_bytes` of that limit, and integers longer than Python
converts (``sys.get_int_max_str_digits``) or JSON nested deeper than Python parses are
reported like any other bad content: one `ModelFormatError` naming the file and the
place, and no model.

This module works on plain data (`SavedModel`); `mlp.base.MLP.save` and ``MLP.load``
turn models into it and back.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from autograd.files import atomic_write
from mlp.architecture import (
    DTYPES,
    ENGINES,
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    Architecture,
    LayerWeights,
    ModelFormatError,
    validate_weights,
)

if TYPE_CHECKING:
    from os import PathLike

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "DEFAULT_MAX_PARAMETERS", "SavedModel",
    "document_of", "saved_model_of", "write_model_file", "read_model_file", "max_file_bytes",
]

FORMAT_NAME = "backprop-lab/mlp"
FORMAT_VERSION = 1
#: the most weights and biases a file may declare unless ``max_parameters=`` says more
#: (the 784-200-200-10 MNIST network has 199,210)
DEFAULT_MAX_PARAMETERS = 10_000_000

_ARCHITECTURE_KEYS = ("n_inputs", "layer_sizes", "activation", "output", "negative_slope")


@dataclass
class SavedModel:
    """What a model file holds: a model as plain data (weights as float64 arrays)."""

    architecture: Architecture
    weights: list[LayerWeights]
    metadata: dict[str, Any] = field(default_factory=dict)
    engine: str = ENGINES[0]
    dtype: str = DTYPES[0]


def max_file_bytes(max_parameters: int) -> int:
    """The largest file read for a limit of `max_parameters`: 64 bytes per parameter
    (a number written in full takes at most 24, plus separators and indentation) and
    16 MiB for the rest (metadata)."""
    return 64 * max_parameters + (16 << 20)


# -- writing --------------------------------------------------------------------------------


def document_of(saved: SavedModel) -> dict[str, Any]:
    """The JSON-ready dictionary of the file format (see the module docstring)."""
    if not isinstance(saved.metadata, Mapping):
        raise TypeError(f"metadata must be a dict, got {type(saved.metadata).__name__}")
    layers = []
    for k, (weight, bias) in enumerate(saved.weights):
        if not (np.all(np.isfinite(weight)) and np.all(np.isfinite(bias))):
            raise ValueError(f"layer {k} has NaN or infinite parameters; the model diverged "
                             f"and is not saved")
        layers.append({"weight": np.asarray(weight, dtype=np.float64).tolist(),
                       "bias": np.asarray(bias, dtype=np.float64).tolist()})
    arch = saved.architecture
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "architecture": {
            "n_inputs": arch.n_inputs,
            "layer_sizes": list(arch.layer_sizes),
            "activation": arch.activation,
            "output": arch.output,
            "negative_slope": arch.negative_slope,
        },
        "layers": layers,
        "metadata": dict(saved.metadata),
        "engine": saved.engine,
        "dtype": saved.dtype,
    }


def write_model_file(path: str | PathLike[str], saved: SavedModel) -> None:
    """Write `saved` to `path` as JSON, atomically (an old file survives a failed write)."""
    document = document_of(saved)
    try:
        text = json.dumps(document, indent=1, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"metadata is not JSON-serializable: {exc}") from None
    atomic_write(path, text + "\n")


# -- reading --------------------------------------------------------------------------------


def _reject_constant(name: str) -> float:
    raise ModelFormatError(f"non-finite number {name} (not allowed in a model file)")


def read_model_file(path: str | PathLike[str], *,
                    max_parameters: int = DEFAULT_MAX_PARAMETERS) -> SavedModel:
    """The checked content of a model file.

    A missing file raises `FileNotFoundError`; a file that is too large, truncated, not
    JSON, of another format or version, or has wrong shapes or types raises
    `ModelFormatError` naming the file.
    """
    max_parameters = _check_limit(max_parameters)
    source = os.fspath(path)
    limit = max_file_bytes(max_parameters)
    with open(path, "rb") as file:
        raw = _read_at_most(file, limit)
    if raw is None:
        raise ModelFormatError(f"{source}: more bytes than a model of at most "
                               f"{max_parameters} parameters needs ({limit}); pass "
                               f"max_parameters= to read a bigger model")
    try:
        return saved_model_of(_parse(raw), max_parameters=max_parameters)
    except ModelFormatError as exc:
        raise ModelFormatError(f"{source}: {exc}") from None


def _read_at_most(file: BinaryIO, limit: int) -> bytes | None:
    """The file's bytes, or None if it has more than `limit` (read in chunks: ``read(n)``
    would reserve n bytes up front, and a pipe has no size to check first)."""
    if os.fstat(file.fileno()).st_size > limit:
        return None
    chunks, total = [], 0
    while chunk := file.read(min(1 << 20, limit + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            return None
    return b"".join(chunks)


def _check_limit(max_parameters: object) -> int:
    if isinstance(max_parameters, bool) or not isinstance(max_parameters, int) \
            or max_parameters < 1:
        raise ValueError(f"max_parameters must be an int >= 1, got {max_parameters!r:.40}")
    return max_parameters


def _parse(raw: bytes) -> Any:
    """The JSON document in `raw`; every way it can fail is a `ModelFormatError`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFormatError(f"not a UTF-8 text file ({exc.reason} at byte "
                               f"{exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) else ""
        raise ModelFormatError(f"not valid JSON: {exc.msg} at line {exc.lineno}, "
                               f"column {exc.colno}{hint}") from None
    except ModelFormatError:
        raise
    except RecursionError:
        raise ModelFormatError("JSON nested too deeply") from None
    except ValueError as exc:  # an integer longer than sys.get_int_max_str_digits()
        raise ModelFormatError(f"a number Python will not read: {exc}") from None


def _require(mapping: Any, keys: Sequence[str], optional: Sequence[str], where: str) -> None:
    if not isinstance(mapping, dict):
        raise ModelFormatError(f"{where}: expected a JSON object, got {_json_type(mapping)}")
    missing = [k for k in keys if k not in mapping]
    if missing:
        raise ModelFormatError(f"{where}: missing key(s) {', '.join(map(repr, missing))}")
    unknown = [k for k in mapping if k not in keys and k not in optional]
    if unknown:
        shown = ", ".join(f"{k!r:.40}" for k in unknown[:5])
        raise ModelFormatError(f"{where}: unknown key(s) {shown}")


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "an integer", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _positive_int(value: Any, where: str) -> int:
    if type(value) is not int or value < 1:
        shown = _shown(value) if type(value) is int else f"{value!r:.40}"
        raise ModelFormatError(f"{where}: expected a positive integer, got {shown}")
    return value


def _shown(number: int) -> str:
    """An int for an error message (a 4000-digit one as its order of magnitude)."""
    if abs(number) < 10**20:
        return str(number)
    return f"a number of about 10**{int(number.bit_length() * math.log10(2))}"


def _choice(document: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = document.get(key, allowed[0])
    if value not in allowed:
        raise ModelFormatError(f"{key}: unknown {value!r:.40}; expected one of "
                               f"{', '.join(allowed)}")
    return value  # type: ignore[no-any-return]


def _architecture(arch: Any) -> Architecture:
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
    try:
        finite = type(slope) in (int, float) and math.isfinite(slope)
    except OverflowError:  # an int beyond float range
        finite = False
    if not finite:
        raise ModelFormatError(f"architecture.negative_slope: expected a finite number, "
                               f"got {slope!r:.40}")
    return Architecture(n_inputs, tuple(sizes), activation, output, float(slope))


def saved_model_of(document: Any, *, max_parameters: int = DEFAULT_MAX_PARAMETERS
                   ) -> SavedModel:
    """Check a parsed file (the format's dictionary) field by field, and return its
    content; the first problem raises `ModelFormatError` saying where it is."""
    max_parameters = _check_limit(max_parameters)
    _require(document, ("format", "version", "architecture", "layers"),
             ("metadata", "engine", "dtype"), "top level")
    if document["format"] != FORMAT_NAME:
        raise ModelFormatError(f"format is {document['format']!r:.60}, expected {FORMAT_NAME!r}")
    version = document["version"]
    if type(version) is not int:
        raise ModelFormatError(f"version: expected an integer, got {version!r:.40}")
    if version != FORMAT_VERSION:
        newer = " (written by a newer version of this library)" if version > FORMAT_VERSION else ""
        raise ModelFormatError(f"unsupported format version {_shown(version)}{newer}; this library "
                               f"reads version {FORMAT_VERSION}")
    architecture = _architecture(document["architecture"])
    if architecture.n_parameters > max_parameters:
        raise ModelFormatError(f"architecture: {_shown(architecture.n_parameters)} parameters is "
                               f"more than max_parameters={max_parameters}; pass a larger "
                               f"max_parameters to read this model")
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
    engine = _choice(document, "engine", ENGINES)
    dtype = _choice(document, "dtype", DTYPES)
    weights = validate_weights(pairs, architecture.n_inputs, architecture.layer_sizes)
    return SavedModel(architecture, weights, metadata, engine, dtype)
