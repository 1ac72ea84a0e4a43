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

import math
import numbers
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np

from mlp.datasets import _check_seed

if TYPE_CHECKING:
    from os import PathLike

    from mlp.losses import Loss

__all__ = [
    "ENGINES", "BaseMLP", "BaseLayer", "LayerSpec", "check_engine", "check_architecture",
    "check_layer", "model_class", "HIDDEN_ACTIVATIONS", "OUTPUT_ACTIVATIONS", "INITIALIZERS",
    "LayerWeights",
]

#: the engines a model can compute with (the first is the default)
ENGINES: tuple[str, ...] = ("value", "tensor")
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


# -- argument checks both engines share ---------------------------------------------------


def _check_name(value: object, allowed: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a name (str), got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; choose one of: {', '.join(allowed)}")
    return value


def _check_count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{what} must be at least 1, got {value}")
    return int(value)


def _check_slope(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"negative_slope must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"negative_slope must be finite, got {value}")
    return float(value)


def _check_finite(data: np.ndarray, owner: str) -> None:
    """Refuse numbers with NaN or infinity: predictions from them would mean nothing."""
    if data.dtype.kind != "f":
        return
    finite = np.isfinite(data)
    if not finite.all():
        where = f" (sample {int(np.argmin(finite.all(axis=-1)))})" if data.ndim == 2 else ""
        raise ValueError(f"{owner} input contains NaN or infinity{where}; inputs must be "
                         f"finite numbers")


def _activation_from_nonlin(nonlin: object, activation: object) -> object:
    """micrograd's ``nonlin=True/False`` spelling of relu/linear, by keyword or in the place
    of `activation` (``Neuron(3, False)``); the name is checked by the caller."""
    if isinstance(activation, bool):
        if nonlin is not None:
            raise TypeError("nonlin given twice: in the place of activation and as nonlin=")
        nonlin = activation
    elif nonlin is not None and activation != "relu":
        raise TypeError(f"give activation ({activation!r:.20}) or nonlin, not both")
    if nonlin is None:
        return activation
    if not isinstance(nonlin, bool):
        raise TypeError(f"nonlin must be True or False, got {type(nonlin).__name__}")
    return "relu" if nonlin else "linear"


def _resolve_init(init: object, activation: str) -> str:
    """The scheme `init` names for `activation`: "auto" becomes he or xavier, glorot xavier."""
    init = _check_name(init, INITIALIZERS, "init")
    if init == "auto":
        return "he" if activation in ("relu", "leaky_relu") else "xavier"
    return {"glorot": "xavier", "glorot_uniform": "xavier_uniform"}.get(init, init)


def _initial_weight(rng: random.Random, init: str, fan_in: int, fan_out: int) -> float:
    """One weight drawn by scheme `init` (already resolved, see `_resolve_init`)."""
    if init == "he":  # Kaiming normal: keeps the variance through ReLU layers
        return rng.gauss(0.0, math.sqrt(2.0 / fan_in))
    if init == "he_uniform":
        limit = math.sqrt(6.0 / fan_in)
    elif init == "xavier":  # Glorot normal: keeps the variance through tanh/sigmoid layers
        return rng.gauss(0.0, math.sqrt(2.0 / (fan_in + fan_out)))
    elif init == "xavier_uniform":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
    else:  # "uniform": micrograd's U(-1, 1)
        limit = 1.0
    return rng.uniform(-limit, limit)


def _make_rng(seed: object, rng: object) -> random.Random:
    if rng is not None:
        if seed is not None:
            raise ValueError("pass either seed or rng, not both")
        if not isinstance(rng, random.Random):
            raise TypeError(f"rng must be a random.Random, got {type(rng).__name__}")
        return rng
    return random.Random(_check_seed(seed))  # int(): random.Random refuses NumPy ints


class LayerSpec(NamedTuple):
    """A layer's (or neuron's) constructor arguments, checked (see `check_layer`)."""

    nin: int
    nout: int
    activation: str
    #: the weight scheme, resolved: he, he_uniform, xavier, xavier_uniform or uniform
    init: str
    #: the random stream the initial weights are drawn from
    rng: random.Random
    negative_slope: float


def check_layer(nin: object, nout: object, activation: object, *, init: object,
                seed: object, rng: object, negative_slope: object, nonlin: object,
                nout_name: str = "nout") -> LayerSpec:
    """The arguments of every engine's layer (and of a `mlp.nn.Neuron`, whose `nout` is
    its ``fan_out``), checked; a TypeError/ValueError names the bad one."""
    nin = _check_count(nin, "nin")
    nout = _check_count(nout, nout_name)
    activation = _check_name(_activation_from_nonlin(nonlin, activation),
                             HIDDEN_ACTIVATIONS, "activation")
    scheme = _resolve_init(init, activation)
    return LayerSpec(nin, nout, activation, scheme, _make_rng(seed, rng),
                     _check_slope(negative_slope))


class BaseLayer:
    """What both engines' layers share: the constructor and its checks, ``name``,
    ``activation`` and the display.  A subclass makes its parameters in `_make`.

    ``Layer(nin, nout)`` is a ReLU layer; micrograd's ``nonlin=False`` (or ``False`` in the
    place of `activation`) a linear one.  The weights are drawn by `init` from `rng` (or
    a new generator seeded with `seed`); `name` prefixes the parameters' labels.
    """

    name: str
    activation: str

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | bool = "relu",
        *,
        init: str = "auto",
        seed: int | None = None,
        rng: random.Random | None = None,
        fused: bool = True,
        negative_slope: float = 0.01,
        name: str = "L0",
        nonlin: bool | None = None,
    ) -> None:
        spec = check_layer(nin, nout, activation, init=init, seed=seed, rng=rng,
                           negative_slope=negative_slope, nonlin=nonlin)
        self.name = str(name)
        self.activation = spec.activation
        self._make(spec, bool(fused))

    def _make(self, spec: LayerSpec, fused: bool) -> None:
        """Create the parameters from the checked arguments (each engine its own way)."""
        raise NotImplementedError

    @property
    def n_inputs(self) -> int:
        """How many inputs each neuron takes."""
        raise NotImplementedError

    @property
    def n_outputs(self) -> int:
        """How many neurons (outputs) the layer has."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.name}: {self.n_inputs} -> {self.n_outputs}, "
                f"{self.activation}, {self.n_outputs * (self.n_inputs + 1)} parameters)")


def model_class(engine: str) -> type[BaseMLP]:
    """The model class of an engine: `mlp.nn.MLP` or `mlp.tensor_nn.TensorMLP`."""
    if check_engine(engine) == "tensor":
        from mlp.tensor_nn import TensorMLP

        return TensorMLP
    from mlp.nn import MLP

    return MLP


def check_engine(engine: object) -> str:
    """`engine` if it names an engine ("value" or "tensor"); else a TypeError/ValueError."""
    if not isinstance(engine, str):
        raise TypeError(f"engine must be a name (str), got {type(engine).__name__}")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    return engine


def check_architecture(nin: object, nouts: object, activation: object, output: object,
                       init: object) -> tuple[int, list[int], str, str, str]:
    """The constructor arguments every engine takes, checked: (nin, sizes, activation,
    output, init).  Raises TypeError/ValueError naming the bad argument."""
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

    A subclass sets ``engine`` and ``layer_type`` (a `BaseLayer`: ``parameters()``,
    ``zero_grad()``, ``get_weights()``, ``get_gradients()``, ``_write_weights(W, b)`` and
    ``fused``), and implements the engine's forward passes and ``_probabilities``.
    """

    #: which engine computes the model: "value" or "tensor"
    engine: ClassVar[str]
    #: the engine's layer class
    layer_type: ClassVar[type[BaseLayer]]

    layers: list[Any]
    activation: str
    output: str
    init: str
    seed: int | None
    negative_slope: float
    #: free-form JSON-serializable information saved with the model (class names, ...)
    metadata: dict[str, Any]

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output: str = "linear",
        *,
        init: str = "auto",
        seed: int | None = None,
        fused: bool = True,
        negative_slope: float = 0.01,
        engine: str | None = None,
    ) -> None:
        """Check the arguments and make the layers (see `mlp.nn.MLP` for their meaning).

        One random stream feeds the layers in order, so a value-engine ``Layer`` and a
        tensor-engine ``TensorLayer`` draw the same initial weights.  `engine` is read by
        ``MLP(..., engine=...)``, which picks the class; here it may only name this one's.
        """
        if engine is not None and check_engine(engine) != self.engine:
            raise ValueError(f"a {type(self).__name__} computes with the {self.engine} "
                             f"engine, not {engine!r}; use MLP(..., engine={engine!r})")
        nin, sizes, activation, output, self.init = check_architecture(
            nin, nouts, activation, output, init)
        rng = _make_rng(seed, None)
        self.activation = activation
        self.output = output
        self.seed = None if seed is None else int(seed)
        self.metadata = {}
        dims = [nin, *sizes]
        self.layers = [
            self.layer_type(dims[k], dims[k + 1],
                            activation if k < len(sizes) - 1 else "linear",
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

    @property
    def fused(self) -> bool:
        """Whether each weighted sum is one ``linear`` node (False: built op by op)."""
        return self.layers[0].fused

    @fused.setter
    def fused(self, value: bool) -> None:
        for layer in self.layers:
            layer.fused = bool(value)

    # -- parameters ---------------------------------------------------------------------

    def parameters(self) -> list[Any]:
        """All weights and biases, layer by layer: Values (value engine: ``w0..wn, b`` per
        neuron) or Tensors (tensor engine: ``W, b`` per layer)."""
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> dict[str, Any]:
        """``{label: parameter}``: ``"L0.N3.w1"`` (layer 0, neuron 3, input 1) on the value
        engine, ``"L0.W"`` and ``"L0.b"`` on the tensor engine."""
        return {p.label: p for p in self.parameters()}

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0."""
        for layer in self.layers:
            layer.zero_grad()

    # -- predictions ----------------------------------------------------------------------

    def batch_loss(self, loss: Loss, X: np.ndarray, targets: np.ndarray  # noqa: N803
                   ) -> tuple[Any, np.ndarray]:
        """The mean `loss` over a batch (a node to call ``backward`` on), and what the loss
        read (logits or outputs) as an array (n, n_outputs): one training step's forward.

        `X` is a checked float array (n, n_inputs) and `targets` one target per sample.
        """
        raise NotImplementedError

    def _probabilities(self, X: Any) -> np.ndarray:  # noqa: N803 - one sample per row
        """The engine's outputs read as probabilities, shape (n, n_outputs)."""
        raise NotImplementedError

    def predict_proba(self, X: Any) -> np.ndarray:  # noqa: N803
        """Class probabilities for a batch, shape (n, n_classes).

        Softmax outputs (or several linear logits, read through softmax) give one column
        per class, summing to 1.  One sigmoid output (or one linear logit, read through
        sigmoid) gives two columns, ``[1 - p, p]``.  Several sigmoid outputs give one
        independent probability per column.
        """
        probs = self._probabilities(X)
        if self.n_outputs == 1:
            probs = np.hstack([1.0 - probs, probs])
        return probs

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803
        """Predicted class indices for a batch (argmax; p > 0.5 for one output)."""
        return np.argmax(self.predict_proba(X), axis=1).astype(np.int64)

    # -- weights as arrays (the seam for save/load, PyTorch and the other engine) ----------

    def get_weights(self) -> list[LayerWeights]:
        """Per layer (W, b) as new float64 arrays in PyTorch's layout (n_out, n_in)."""
        return [layer.get_weights() for layer in self.layers]

    def set_weights(self, weights: Sequence[LayerWeights]) -> None:
        """Copy per-layer (W, b) arrays into the model's parameters (in place: optimizers
        keep them).

        Everything is checked (count, shapes, finite real numbers) before anything is
        written, so a bad argument leaves the model unchanged.  Gradients are reset to 0.
        """
        from mlp.io import validate_weights

        checked = validate_weights(weights, self.n_inputs, self.layer_sizes)
        for layer, (weight, bias) in zip(self.layers, checked):
            layer._write_weights(weight, bias)

    def get_gradients(self) -> list[LayerWeights]:
        """Per layer (dW, db): the parameters' ``grad`` as new float64 arrays laid out like
        `get_weights` (and like PyTorch's ``.grad`` of its Linear layers)."""
        return [layer.get_gradients() for layer in self.layers]

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
