"""What every MLP shares, whichever engine computes it: `BaseMLP` and the engine names.

Two engines compute the same networks:

* ``"value"`` (`mlp.nn.MLP`): every weight is a scalar `autograd.Value`, so each
  multiply and add of a small net can be stepped through and drawn;
* ``"tensor"`` (`mlp.tensor_nn.TensorMLP`): each layer holds a weight matrix W of
  shape (n_outputs, n_inputs) and a bias vector b as `autograd.Tensor`s, and a batch
  goes through a layer as one ``linear`` node: fast enough for MNIST.

``MLP(..., engine="tensor")`` builds the second kind.  With the same arguments and seed
both start from the same weights, compute the same losses and gradients (up to
floating-point rounding), save to the same file format and train with the same `fit`,
losses and optimizers.  `BaseMLP` holds the part that does not depend on the engine:
argument checks, shapes, prediction from probabilities, files, PyTorch interop, display.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from os import PathLike

    from mlp.nn import LayerWeights

__all__ = ["ENGINES", "BaseMLP", "check_engine", "check_architecture", "model_class"]

#: the engines a model can compute with (the first is the default)
ENGINES: tuple[str, ...] = ("value", "tensor")


def check_engine(engine: object) -> str:
    """`engine` if it names an engine ("value" or "tensor"); else a TypeError/ValueError."""
    if not isinstance(engine, str):
        raise TypeError(f"engine must be a name (str), got {type(engine).__name__}")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    return engine


def model_class(engine: str) -> type[BaseMLP]:
    """The model class of an engine: `mlp.nn.MLP` or `mlp.tensor_nn.TensorMLP`."""
    if check_engine(engine) == "tensor":
        from mlp.tensor_nn import TensorMLP

        return TensorMLP
    from mlp.nn import MLP

    return MLP


def check_architecture(nin: object, nouts: object, activation: object, output: object,
                       init: object) -> tuple[int, list[int], str, str, str]:
    """The constructor arguments every engine takes, checked: (nin, sizes, activation,
    output, init).  Raises TypeError/ValueError naming the bad argument."""
    from mlp.nn import (
        HIDDEN_ACTIVATIONS,
        INITIALIZERS,
        OUTPUT_ACTIVATIONS,
        _check_count,
        _check_name,
    )

    nin = _check_count(nin, "nin")
    if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Iterable):
        raise TypeError(f"nouts must be a list of layer sizes, got {type(nouts).__name__}")
    sizes = [_check_count(n, "layer size") for n in nouts]
    if not sizes:
        raise ValueError("nouts must list at least one layer size")
    activation = _check_name(activation, HIDDEN_ACTIVATIONS, "activation")
    output = _check_name(output, OUTPUT_ACTIVATIONS, "output activation")
    if output == "softmax" and sizes[-1] < 2:
        raise ValueError("a softmax output needs at least 2 outputs; use output='sigmoid' "
                         "for one")
    init = _check_name(init, INITIALIZERS, "init")
    return nin, sizes, activation, output, init


class BaseMLP:
    """The engine-independent part of a multi-layer perceptron.

    A subclass sets ``engine`` and ``layers`` (each with ``name``, ``activation``,
    ``n_inputs``, ``n_outputs`` and ``get_weights()``), and the attributes
    ``activation``, ``output``, ``init``, ``seed``, ``negative_slope`` and ``metadata``;
    it implements the engine's own ``parameters``, ``zero_grad``, forward passes,
    ``predict_proba`` and ``set_weights``.
    """

    #: which engine computes the model: "value" or "tensor"
    engine: ClassVar[str]

    layers: list[Any]
    activation: str
    output: str
    init: str
    seed: int | None
    negative_slope: float
    #: free-form JSON-serializable information saved with the model (class names, ...)
    metadata: dict[str, Any]

    def _build(self, layer_type: type, nin: object, nouts: object, activation: object,
               output: object, *, init: object, seed: int | None, fused: bool,
               negative_slope: float) -> None:
        """Check the constructor's arguments and make the layers (both engines' __init__).

        One random stream feeds the layers in order, so a value-engine ``Layer`` and a
        tensor-engine ``TensorLayer`` draw the same initial weights.
        """
        from mlp.nn import _make_rng, _resolve_init

        nin, sizes, activation, output, self.init = check_architecture(
            nin, nouts, activation, output, init)
        rng = _make_rng(seed, None)
        self.activation = activation
        self.output = output
        self.seed = None if seed is None else int(seed)
        self.metadata = {}
        dims = [nin, *sizes]
        self.layers = [
            layer_type(dims[k], dims[k + 1], activation if k < len(sizes) - 1 else "linear",
                       init=_resolve_init(init, activation), rng=rng, fused=fused,
                       negative_slope=negative_slope, name=f"L{k}")
            for k in range(len(sizes))
        ]
        self.negative_slope = self.layers[0].negative_slope

    # -- shape --------------------------------------------------------------------------

    @property
    def n_inputs(self) -> int:
        """How many inputs a sample has."""
        return self.layers[0].n_inputs

    @property
    def n_outputs(self) -> int:
        """How many outputs the model gives per sample."""
        return self.layers[-1].n_outputs

    @property
    def layer_sizes(self) -> list[int]:
        """The number of neurons in each layer (the `nouts` of the constructor)."""
        return [layer.n_outputs for layer in self.layers]

    @property
    def n_parameters(self) -> int:
        """The total number of weights and biases."""
        return sum(layer.n_outputs * (layer.n_inputs + 1) for layer in self.layers)

    # -- predictions ----------------------------------------------------------------------

    def predict_proba(self, X: Any) -> np.ndarray:  # noqa: N803 - one sample per row
        """Class probabilities for a batch, shape (n, n_classes) (see the subclasses)."""
        raise NotImplementedError

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803
        """Predicted class indices for a batch (argmax; p > 0.5 for one output)."""
        return np.argmax(self.predict_proba(X), axis=1).astype(np.int64)

    # -- weights as arrays (the seam for save/load, PyTorch and the other engine) ----------

    def get_weights(self) -> list[LayerWeights]:
        """Per layer (W, b) as new float64 arrays in PyTorch's layout (n_out, n_in)."""
        return [layer.get_weights() for layer in self.layers]

    def set_weights(self, weights: Sequence[LayerWeights]) -> None:
        """Copy per-layer (W, b) arrays into the model's parameters (see the subclasses)."""
        raise NotImplementedError

    @classmethod
    def from_weights(
        cls,
        weights: Sequence[LayerWeights],
        activation: str = "relu",
        output: str = "linear",
        *,
        negative_slope: float = 0.01,
        engine: str | None = None,
        **options: Any,
    ) -> BaseMLP:
        """A model whose sizes and parameters come from per-layer (W, b) arrays.

        `engine` (default: this class's) chooses the model's engine; `options` go to the
        constructor (``fused=``).  Its ``seed`` is None: no seed made these weights.
        """
        from mlp.io import layer_sizes_of

        target = cls if engine is None or check_engine(engine) == cls.engine \
            else model_class(engine)
        nin, sizes = layer_sizes_of(weights)
        model = target(nin, sizes, activation, output, negative_slope=negative_slope,
                       **options)
        model.set_weights(weights)
        return model

    def to_engine(self, engine: str) -> BaseMLP:
        """A copy of this model (weights, metadata) computed by `engine`."""
        model = self.from_weights(self.get_weights(), self.activation, self.output,
                                  negative_slope=self.negative_slope, engine=engine)
        model.init, model.seed = self.init, self.seed
        model.metadata = dict(self.metadata)
        return model

    # -- files and PyTorch --------------------------------------------------------------

    def save(self, path: str | PathLike[str], metadata: dict[str, Any] | None = None) -> None:
        """Write the model to a JSON file (atomically); see `mlp.io` for the format.

        `metadata` (JSON-serializable) is stored with it; by default ``self.metadata``.
        The file records the engine.
        """
        from mlp.io import save_model

        save_model(self, path, metadata)

    @classmethod
    def load(cls, path: str | PathLike[str], engine: str | None = None) -> BaseMLP:
        """A new model read from a file written by `save`: ``model = MLP.load(path)``.

        A class method: called on a model it returns the new one and leaves that model as
        it was.  `engine` ("value" or "tensor") chooses the engine; None: the one the file
        records.  Raises `ModelFormatError` if the file is bad.
        """
        from mlp.io import load_model

        return load_model(path, engine=engine)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Weights keyed like a PyTorch ``nn.Sequential`` of Linear layers (see `to_torch`)."""
        from mlp.io import state_dict

        return state_dict(self)

    def load_state_dict(self, state: Any) -> None:
        """Copy weights from a PyTorch-style state_dict (arrays, lists or tensors)."""
        from mlp.io import load_state_dict

        load_state_dict(self, state)

    def to_torch(self, dtype: Any = None) -> Any:
        """An equivalent ``torch.nn.Sequential`` (needs PyTorch installed)."""
        from mlp.io import to_torch

        return to_torch(self, dtype)

    @classmethod
    def from_torch(cls, module: Any, engine: str | None = None) -> BaseMLP:
        """A model copied from a ``torch.nn.Sequential`` of Linear and activation modules.

        `engine` defaults to this class's.
        """
        from mlp.io import from_torch

        return from_torch(module, engine=cls.engine if engine is None else engine)

    # -- display ------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Any]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        shape = " -> ".join(str(n) for n in [self.n_inputs, *self.layer_sizes])
        engine = "" if self.engine == "value" else f", engine={self.engine}"
        return (f"MLP({shape}, activation={self.activation}, output={self.output}, "
                f"{self.n_parameters} parameters{engine})")

    def summary(self) -> str:
        """A table of the layers: inputs, outputs, activation and parameter counts."""
        lines = [f"{'layer':<6}{'inputs':>8}{'outputs':>9}  {'activation':<11}{'parameters':>11}"]
        for k, layer in enumerate(self.layers):
            act = layer.activation if k < len(self.layers) - 1 else f"{self.output} (out)"
            lines.append(f"{layer.name:<6}{layer.n_inputs:>8}{layer.n_outputs:>9}  {act:<11}"
                         f"{layer.n_outputs * (layer.n_inputs + 1):>11}")
        lines.append(f"total {self.n_parameters} parameters ({self.engine} engine)")
        return "\n".join(lines)
