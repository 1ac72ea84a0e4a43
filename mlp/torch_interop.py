"""Weights to and from PyTorch: state_dicts and ``nn.Sequential`` modules.

An `mlp` model with hidden activation act is the PyTorch module
``nn.Sequential(Linear, act, Linear, act, ..., Linear[, Sigmoid | Softmax(dim=-1)])``
(no act modules for linear hidden layers).  Its state_dict keys are therefore
``"0.weight"``, ``"0.bias"``, ``"2.weight"``, ...: the positions of the Linear modules.

This module works on plain data (an `Architecture` and per-layer (W, b) arrays); the
model methods `mlp.base.MLP.state_dict`, ``load_state_dict``, ``to_torch`` and
``from_torch`` call it.  PyTorch is imported only when a module is built or read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlp.architecture import OUTPUT_ACTIVATIONS, Architecture, LayerWeights, ModelFormatError

__all__ = ["linear_positions", "state_dict_of", "weights_of_state_dict", "to_sequential",
           "from_sequential"]

# A Sequential's index in ASCII digits (re.ASCII: "٣" is a digit to \d, not to PyTorch).
_STATE_KEY = re.compile(r"([0-9]{1,18})\.(weight|bias)", re.ASCII)


def linear_positions(architecture: Architecture) -> list[int]:
    """Where each Linear sits in the equivalent nn.Sequential (activations in between)."""
    step = 1 if architecture.activation == "linear" else 2
    return [k * step for k in range(len(architecture.layer_sizes))]


def state_dict_of(architecture: Architecture, weights: Sequence[LayerWeights]
                  ) -> dict[str, np.ndarray]:
    """``{"0.weight": W0, "0.bias": b0, "2.weight": ...}``: the arrays keyed like the
    equivalent ``nn.Sequential``; ``torch.as_tensor`` takes them."""
    out: dict[str, np.ndarray] = {}
    for position, (weight, bias) in zip(linear_positions(architecture), weights):
        out[f"{position}.weight"] = weight
        out[f"{position}.bias"] = bias
    return out


def weights_of_state_dict(state: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    """Per-layer (weight, bias) from a state_dict of an ``nn.Sequential`` of Linear layers,
    in index order (so modules without weights in between, like Dropout, do not matter).

    The values are returned as they are (arrays, lists or tensors; the caller checks
    them).  Keys that are not ``"<index>.weight"`` / ``"<index>.bias"`` as PyTorch writes
    them, or a Linear without both, raise `ModelFormatError`.
    """
    if not isinstance(state, Mapping):
        raise ModelFormatError(f"state_dict must be a mapping, got {type(state).__name__}")
    found: dict[int, dict[str, Any]] = {}
    for key, value in state.items():
        match = _STATE_KEY.fullmatch(key) if isinstance(key, str) else None
        if match is None:
            raise ModelFormatError(f"state_dict key {key!r:.60}: expected '<index>.weight' or "
                                   f"'<index>.bias' of an nn.Sequential of Linear layers")
        index, part = int(match.group(1)), match.group(2)
        canonical = f"{index}.{part}"
        if key != canonical:  # "00.weight": PyTorch never writes it, and it may clash
            clash = f", and it clashes with {canonical!r}" if canonical in state else ""
            raise ModelFormatError(f"state_dict key {key!r} is not how PyTorch names Linear "
                                   f"{index}'s {part} ({canonical!r}){clash}")
        found.setdefault(index, {})[part] = value
    for index, entry in sorted(found.items()):
        for part in ("weight", "bias"):
            if part not in entry:
                raise ModelFormatError(f"state_dict has no '{index}.{part}' (bias-free Linear "
                                       f"layers are not supported)")
    return [(found[i]["weight"], found[i]["bias"]) for i in sorted(found)]


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("this needs PyTorch; install it with `pip install torch`") from None
    return torch


def to_sequential(architecture: Architecture, weights: Sequence[LayerWeights],
                  dtype: Any = None) -> Any:
    """An ``nn.Sequential`` computing what the model computes (default dtype: torch's)."""
    torch = _torch()
    nn = torch.nn
    hidden = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
              "leaky_relu": lambda: nn.LeakyReLU(architecture.negative_slope), "linear": None}
    make = hidden[architecture.activation]
    sizes = architecture.layer_sizes
    modules: list[Any] = []
    for k, (fan_in, size) in enumerate(zip((architecture.n_inputs, *sizes[:-1]), sizes)):
        modules.append(nn.Linear(fan_in, size))
        if k < len(sizes) - 1 and make is not None:
            modules.append(make())
    if architecture.output == "sigmoid":
        modules.append(nn.Sigmoid())
    elif architecture.output == "softmax":
        modules.append(nn.Softmax(dim=-1))
    dtype = dtype if dtype is not None else torch.get_default_dtype()
    # Convert the modules first: loading float64 weights into float32 parameters would
    # round them.
    seq = nn.Sequential(*modules).to(dtype)
    seq.load_state_dict({k: torch.as_tensor(v, dtype=dtype)
                         for k, v in state_dict_of(architecture, weights).items()})
    return seq


def from_sequential(module: Any) -> tuple[Architecture, list[tuple[Any, Any]]]:
    """The architecture and per-layer (weight, bias) tensors of an ``nn.Sequential`` of
    Linear layers and activations.

    Hidden activations (ReLU, Tanh, Sigmoid, LeakyReLU, or none) must be the same between
    every pair of Linear layers; after the last Linear there may be a Sigmoid or a
    Softmax over the last dimension.
    """
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
    sizes = tuple(int(lin.out_features) for lin in linears)
    architecture = Architecture(int(linears[0].in_features), sizes, activation, output, slope)
    return architecture, [(lin.weight, lin.bias) for lin in linears]
