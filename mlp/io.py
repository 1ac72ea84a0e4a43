"""Saving, loading and converting models as functions: the model methods, spelled as calls.

``save_model(model, path)`` is ``model.save(path)``, ``load_model(path)`` is
``MLP.load(path)``, and so on.  The file format itself is `mlp.model_file` (documented
there), the PyTorch conversion `mlp.torch_interop`; both work on plain data, below the
models, and this module sits above them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from autograd.files import atomic_write
from mlp.architecture import ModelFormatError, layer_sizes_of, validate_weights
from mlp.base import MLP
from mlp.model_file import (
    DEFAULT_MAX_PARAMETERS,
    FORMAT_NAME,
    FORMAT_VERSION,
    document_of,
    saved_model_of,
)

if TYPE_CHECKING:
    from os import PathLike

    import numpy as np

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "DEFAULT_MAX_PARAMETERS", "ModelFormatError",
    "save_model", "load_model", "model_to_dict", "model_from_dict", "atomic_write_text",
    "atomic_write_bytes", "state_dict", "load_state_dict", "to_torch", "from_torch",
    "validate_weights", "layer_sizes_of",
]


def atomic_write_text(path: str | PathLike[str], text: str) -> None:
    """Write `text` as UTF-8 to `path` atomically (see `autograd.files.atomic_write`)."""
    atomic_write(path, text)


def atomic_write_bytes(path: str | PathLike[str], data: bytes) -> None:
    """Write `data` to `path`: readers see the old file or the new, never half of one."""
    atomic_write(path, data)


def _check_model(model: object) -> MLP:
    if not isinstance(model, MLP):
        raise TypeError(f"expected an MLP, got {type(model).__name__}")
    return model


def save_model(model: MLP, path: str | PathLike[str],
               metadata: Mapping[str, Any] | None = None) -> None:
    """``model.save(path, metadata)``: write `model` to `path` as JSON, atomically."""
    _check_model(model).save(path, metadata)


def load_model(path: str | PathLike[str], engine: str | None = None, *,
               max_parameters: int = DEFAULT_MAX_PARAMETERS) -> MLP:
    """``MLP.load(path, engine)``: a model read from a file written by `save_model`,
    computed by `engine` (None: the file's)."""
    return MLP.load(path, engine, max_parameters=max_parameters)


def model_to_dict(model: MLP, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-ready dictionary of the file format (see `mlp.model_file`)."""
    return document_of(_check_model(model)._saved_model(metadata))


def model_from_dict(document: Any, engine: str | None = None, *,
                    max_parameters: int = DEFAULT_MAX_PARAMETERS) -> MLP:
    """Build a model from the file format's dictionary, checking every field first.

    `engine` ("value" or "tensor") chooses the model's engine; None: the one the
    document records ("value" when it records none).
    """
    if engine is not None:
        MLP._target_class(engine)  # a bad engine is reported before the document
    saved = saved_model_of(document, max_parameters=max_parameters)
    return MLP._from_saved_model(saved, engine)


def state_dict(model: MLP) -> dict[str, np.ndarray]:
    """``model.state_dict()``: NumPy arrays keyed like ``nn.Sequential``'s Linear layers."""
    return _check_model(model).state_dict()


def load_state_dict(model: MLP, state: Mapping[str, Any]) -> None:
    """``model.load_state_dict(state)``."""
    _check_model(model).load_state_dict(state)


def to_torch(model: MLP, dtype: Any = None) -> Any:
    """``model.to_torch(dtype)``: an equivalent ``torch.nn.Sequential``."""
    return _check_model(model).to_torch(dtype)


def from_torch(module: Any, engine: str = "value", dtype: str = "float64") -> MLP:
    """``MLP.from_torch(module, engine, dtype)``."""
    return MLP.from_torch(module, engine, dtype)
