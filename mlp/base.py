"""`MLP` and `Layer`: what every model and layer provides, whichever engine computes it.

Two engines compute the same networks:

* ``"value"`` (`mlp.nn.ValueMLP`): every weight is a scalar `autograd.Value`, so each
  multiply and add of a small net can be stepped through and drawn;
* ``"tensor"`` (`mlp.tensor_nn.TensorMLP`): each layer holds a weight matrix W of
  shape (n_outputs, n_inputs) and a bias vector b as `autograd.Tensor`s, and a batch
  goes through a layer as one ``linear`` node: fast enough for MNIST.

`MLP` is the abstract base class of both, and calling it builds one:
``MLP(4, [16, 3])`` a value-engine model, ``MLP(4, [16, 3], engine="tensor")`` a
tensor-engine one (as ``pathlib.Path(...)`` builds a ``PosixPath``), so
``isinstance(model, MLP)`` holds for either.  With the same arguments and seed both
start from the same weights, compute the same losses and gradients (up to
floating-point rounding), save to the same file format and train with the same `fit`,
losses and optimizers.  `Layer` is the same for layers (`mlp.nn.ValueLayer`,
`mlp.tensor_nn.TensorLayer`): its abstract methods are what an engine's layer must
provide.

This class holds what does not depend on the engine: argument checks, shapes,
prediction from probabilities, weights as arrays, files (through `mlp.model_file`),
PyTorch (through `mlp.torch_interop`) and display.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar

import numpy as np

from autograd.state import all_finite
from mlp.architecture import (
    DTYPES,
    ENGINES,
    HIDDEN_ACTIVATIONS,
    INITIALIZERS,
    OUTPUT_ACTIVATIONS,
    Architecture,
    LayerWeights,
    check_architecture,
    check_count,
    check_dtype,
    check_engine,
    check_name,
    check_slope,
    layer_sizes_of,
    validate_weights,
)
from mlp.datasets import _check_seed
from mlp.model_file import DEFAULT_MAX_PARAMETERS, SavedModel, read_model_file, write_model_file
from mlp.torch_interop import (
    from_sequential,
    state_dict_of,
    to_sequential,
    weights_of_state_dict,
)

if TYPE_CHECKING:
    from os import PathLike

    from mlp.losses import Loss

__all__ = [
    "MLP", "Layer", "BaseMLP", "BaseLayer", "ENGINES", "DTYPES", "LayerSpec", "check_engine",
    "check_architecture", "check_layer", "model_class", "layer_class", "HIDDEN_ACTIVATIONS",
    "OUTPUT_ACTIVATIONS", "INITIALIZERS", "LayerWeights",
]

_Model = TypeVar("_Model", bound="MLP")


# -- argument checks and initial weights both engines share ------------------------------


def _check_finite(data: np.ndarray, owner: str) -> None:
    """Refuse numbers with NaN or infinity: predictions from them would mean nothing."""
    if data.dtype.kind != "f" or all_finite(data):
        return
    where = (f" (sample {int(np.argmin(np.isfinite(data).all(axis=-1)))})"
             if data.ndim == 2 else "")
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
    init = check_name(init, INITIALIZERS, "init")
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


def _check_engine_dtype(engine: str, dtype: object) -> str:
    dtype = check_dtype(dtype)
    if engine == "value" and dtype != "float64":
        raise ValueError(f"the value engine computes with Python floats (float64), not "
                         f"{dtype}; use engine='tensor' for {dtype}")
    return dtype


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
    #: "float64", or "float32" (tensor engine only)
    dtype: str = "float64"


def check_layer(nin: object, nout: object, activation: object, *, init: object,
                seed: object, rng: object, negative_slope: object, nonlin: object,
                nout_name: str = "nout", dtype: object = "float64",
                engine: str = "value") -> LayerSpec:
    """The arguments of every engine's layer (and of a `mlp.nn.Neuron`, whose `nout` is
    its ``fan_out``), checked; a TypeError/ValueError names the bad one."""
    nin = check_count(nin, "nin")
    nout = check_count(nout, nout_name)
    activation = check_name(_activation_from_nonlin(nonlin, activation),
                            HIDDEN_ACTIVATIONS, "activation")
    scheme = _resolve_init(init, activation)
    return LayerSpec(nin, nout, activation, scheme, _make_rng(seed, rng),
                     check_slope(negative_slope), _check_engine_dtype(engine, dtype))


# -- which class computes with which engine -------------------------------------------------


def _registered(registry: dict[str, type], engine: object, kind: str) -> type:
    engine = check_engine(engine)
    if engine not in registry:  # only if a module of mlp failed to import
        raise RuntimeError(f"no {kind} class for the {engine} engine is loaded; import mlp")
    return registry[engine]


class _OneClassPerEngine:
    """A base class whose constructor builds its engine's own subclass:
    ``Layer(2, 3, engine="tensor")`` is a `mlp.tensor_nn.TensorLayer`.

    The base holds ``_engine_classes``; each engine's class names its ``engine`` in its
    body and is registered there (a user's subclass of it, naming none, is not).
    """

    engine: ClassVar[str]
    _engine_classes: ClassVar[dict[str, type]]
    #: what the base builds, for the error when no class of an engine is loaded
    _kind: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "engine" in cls.__dict__:
            cls._engine_classes.setdefault(check_engine(cls.engine), cls)

    def __new__(cls, *args: Any, engine: str | None = None, **kwargs: Any) -> Any:
        if "_engine_classes" in cls.__dict__:  # the base itself: build the engine's class
            cls = _registered(cls._engine_classes, ENGINES[0] if engine is None else engine,
                              cls._kind)
        return super().__new__(cls)


def model_class(engine: str) -> type[MLP]:
    """The model class of an engine: `mlp.nn.ValueMLP` or `mlp.tensor_nn.TensorMLP`."""
    return _registered(MLP._engine_classes, engine, "model")


def layer_class(engine: str) -> type[Layer]:
    """The layer class of an engine: `mlp.nn.ValueLayer` or `mlp.tensor_nn.TensorLayer`."""
    return _registered(Layer._engine_classes, engine, "layer")


# -- layers ----------------------------------------------------------------------------------


class Layer(_OneClassPerEngine, ABC):
    """`nout` neurons that all read the same `nin` inputs: the base class of both engines'
    layers, and the abstract methods an engine's layer must provide.

    ``Layer(nin, nout)`` builds a value-engine layer (`mlp.nn.ValueLayer`) with ReLU;
    micrograd's ``nonlin=False`` (or ``False`` in the place of `activation`) a linear one;
    ``engine="tensor"`` a `mlp.tensor_nn.TensorLayer`.  The weights are drawn by `init`
    from `rng` (or a new generator seeded with `seed`); `name` prefixes the parameters'
    labels; `dtype` ("float64", or "float32" on the tensor engine) is what it computes in.
    """

    #: the engine whose layer this is (set by each concrete class)
    engine: ClassVar[str]
    _engine_classes: ClassVar[dict[str, type[Layer]]] = {}
    _kind = "layer"

    name: str
    activation: str
    negative_slope: float
    dtype: str

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
        dtype: str = "float64",
        engine: str | None = None,
    ) -> None:
        if engine is not None and check_engine(engine) != self.engine:
            raise ValueError(f"a {type(self).__name__} computes with the {self.engine} "
                             f"engine, not {engine!r}; use Layer(..., engine={engine!r})")
        spec = check_layer(nin, nout, activation, init=init, seed=seed, rng=rng,
                           negative_slope=negative_slope, nonlin=nonlin, dtype=dtype,
                           engine=self.engine)
        self.name = str(name)
        self.activation = spec.activation
        self.negative_slope = spec.negative_slope
        self.dtype = spec.dtype
        self._make(spec, bool(fused))

    @abstractmethod
    def _make(self, spec: LayerSpec, fused: bool) -> None:
        """Create the parameters from the checked arguments (each engine its own way)."""

    @property
    @abstractmethod
    def n_inputs(self) -> int:
        """How many inputs each neuron takes."""

    @property
    @abstractmethod
    def n_outputs(self) -> int:
        """How many neurons (outputs) the layer has."""

    @property
    @abstractmethod
    def fused(self) -> bool:
        """Whether each weighted sum is one ``linear`` node (False: built op by op)."""

    @fused.setter
    @abstractmethod
    def fused(self, value: bool) -> None: ...

    @abstractmethod
    def parameters(self) -> list[Any]:
        """The layer's parameters (Values or Tensors), in a fixed order."""

    @abstractmethod
    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0."""

    @abstractmethod
    def __call__(self, x: Any) -> Any:
        """The layer's outputs for `x` (checked here)."""

    @abstractmethod
    def get_weights(self) -> LayerWeights:
        """(W, b) as new float64 arrays; ``W[j, i]`` is neuron j's weight for input i."""

    @abstractmethod
    def get_gradients(self) -> LayerWeights:
        """(dW, db): the parameters' ``grad``, laid out like `get_weights`."""

    @abstractmethod
    def _write_weights(self, weight: np.ndarray, bias: np.ndarray) -> None:
        """Copy checked float64 arrays (n_outputs, n_inputs) and (n_outputs,) into the
        parameters, in place; gradients become 0."""

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.name}: {self.n_inputs} -> {self.n_outputs}, "
                f"{self.activation}, {self.n_outputs * (self.n_inputs + 1)} parameters)")


# -- models ----------------------------------------------------------------------------------


class MLP(_OneClassPerEngine, ABC):
    """A multi-layer perceptron: ``MLP(4, [16, 16, 3])`` maps 4 inputs to 3 outputs.

    Hidden layers use `activation` (relu, tanh, sigmoid, leaky_relu, linear); the last
    layer computes weighted sums (the *logits*) and `output` (linear, sigmoid, softmax) is
    applied to them.  `init` chooses the weight initialization ("auto" picks He for ReLU
    and Xavier otherwise); the same `seed` always builds the same model.  ``MLP(nin,
    nouts)`` behaves like micrograd's: ReLU hidden layers, linear outputs, and calling it
    on one sample gives a single Value when there is one output.

    `engine` chooses what computes it: "value" (the default, `mlp.nn.ValueMLP`: every
    weight a `Value`) or "tensor" (`mlp.tensor_nn.TensorMLP`: a weight matrix per layer).
    `dtype` is "float64", or "float32" on the tensor engine.  `fused` and
    `negative_slope` are the layers' (see `Layer`).

    Inputs given as numbers or arrays must be finite (NaN or infinity is refused); Values
    or Tensors given as inputs are used as they are.

    The abstract methods are what an engine's model must provide; everything else here
    works on both.  Models are ordinary Python objects: they pickle and deep-copy.
    """

    #: which engine computes the model: "value" or "tensor" (set by each concrete class)
    engine: ClassVar[str]
    #: the engine's layer class
    layer_type: ClassVar[type[Layer]]
    #: the float types the engine can compute in
    dtypes: ClassVar[tuple[str, ...]] = DTYPES
    _engine_classes: ClassVar[dict[str, type[MLP]]] = {}
    _kind = "model"

    layers: list[Any]
    activation: str
    output: str
    init: str
    seed: int | None
    negative_slope: float
    #: "float64" or "float32": what the parameters and computations use
    dtype: str
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
        dtype: str = "float64",
        engine: str | None = None,
    ) -> None:
        """Check the arguments and make the layers.

        One random stream feeds the layers in order, so a value-engine layer and a
        tensor-engine layer draw the same initial weights.  `engine` is read by
        ``MLP(..., engine=...)``, which picks the class; here it may only name this one's.
        """
        if engine is not None and check_engine(engine) != self.engine:
            raise ValueError(f"a {type(self).__name__} computes with the {self.engine} "
                             f"engine, not {engine!r}; use MLP(..., engine={engine!r})")
        nin, sizes, activation, output, self.init = check_architecture(
            nin, nouts, activation, output, init)
        self.dtype = _check_engine_dtype(self.engine, dtype)
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
                            negative_slope=negative_slope, name=f"L{k}", dtype=self.dtype)
            for k in range(len(sizes))
        ]
        self.negative_slope = self.layers[0].negative_slope

    @classmethod
    def _target_class(cls: type[_Model], engine: str | None) -> type[_Model]:
        """The class a constructor-like class method builds: this one, unless `engine`
        names another engine (or this is `MLP` itself: then `engine`'s, default value)."""
        if cls is MLP:
            return model_class(ENGINES[0] if engine is None else engine)  # type: ignore[return-value]
        if engine is None or check_engine(engine) == cls.engine:
            return cls
        return model_class(engine)  # type: ignore[return-value]

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
    def architecture(self) -> Architecture:
        """The model's shape and activations as plain data (what a file records)."""
        return Architecture(self.n_inputs, tuple(self.layer_sizes), self.activation,
                            self.output, self.negative_slope)

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

    @abstractmethod
    def weights(self) -> list[Any]:
        """The weights only (no biases): what L2 regularization usually penalizes."""

    @abstractmethod
    def biases(self) -> list[Any]:
        """The biases only."""

    # -- forward (each engine its own) --------------------------------------------------

    @abstractmethod
    def __call__(self, x: Any) -> Any:
        """The outputs (after the output activation) for `x`."""

    @abstractmethod
    def forward(self, x: Any) -> Any:
        """The outputs (after the output activation) for `x`."""

    @abstractmethod
    def logits(self, x: Any) -> Any:
        """The last layer's weighted sums for `x` (before the output activation)."""

    @abstractmethod
    def forward_batch(self, X: Any, *, logits: bool = False) -> Any:  # noqa: N803
        """Outputs (or `logits`) for every sample (row) of `X`."""

    @abstractmethod
    def forward_array(self, X: Any, *, logits: bool = False) -> np.ndarray:  # noqa: N803
        """Outputs (or `logits`) for a batch as a float array (n, n_outputs), no graph."""

    @abstractmethod
    def batch_loss(self, loss: Loss, X: np.ndarray, targets: np.ndarray  # noqa: N803
                   ) -> tuple[Any, np.ndarray]:
        """The mean `loss` over a batch (a node to call ``backward`` on), and what the loss
        read (logits or outputs) as an array (n, n_outputs): one training step's forward.

        `X` is a checked float array (n, n_inputs) and `targets` one target per sample.
        """

    @abstractmethod
    def _probabilities(self, X: Any) -> np.ndarray:  # noqa: N803 - one sample per row
        """The engine's outputs read as probabilities, shape (n, n_outputs), no graph."""

    # -- predictions ----------------------------------------------------------------------

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

    # -- weights as arrays (the seam for files, PyTorch and the other engine) -------------

    def get_weights(self) -> list[LayerWeights]:
        """Per layer (W, b) as new float64 arrays in PyTorch's layout (n_out, n_in)."""
        return [layer.get_weights() for layer in self.layers]

    def set_weights(self, weights: Sequence[LayerWeights]) -> None:
        """Copy per-layer (W, b) arrays into the model's parameters (in place: optimizers
        keep them).

        Everything is checked (count, shapes, finite real numbers) before anything is
        written, so a bad argument leaves the model unchanged.  Gradients are reset to 0.
        """
        checked = validate_weights(weights, self.n_inputs, self.layer_sizes)
        for layer, (weight, bias) in zip(self.layers, checked):
            layer._write_weights(weight, bias)

    def get_gradients(self) -> list[LayerWeights]:
        """Per layer (dW, db): the parameters' ``grad`` as new float64 arrays laid out like
        `get_weights` (and like PyTorch's ``.grad`` of its Linear layers)."""
        return [layer.get_gradients() for layer in self.layers]

    @classmethod
    def from_weights(
        cls: type[_Model],
        weights: Sequence[LayerWeights],
        activation: str = "relu",
        output: str = "linear",
        *,
        negative_slope: float = 0.01,
        engine: str | None = None,
        **options: Any,
    ) -> _Model:
        """A model whose sizes and parameters come from per-layer (W, b) arrays.

        `engine` (default: this class's; the value engine for `MLP`) chooses the model's
        engine; `options` go to the constructor (``fused=``, ``dtype=``).  Its ``seed`` is
        None: no seed made these weights.
        """
        nin, sizes = layer_sizes_of(weights)
        model = cls._target_class(engine)(nin, sizes, activation, output,
                                          negative_slope=negative_slope, **options)
        model.set_weights(weights)
        return model

    def to_engine(self, engine: str, dtype: str | None = None) -> MLP:
        """A copy of this model (weights, metadata) computed by `engine`, in `dtype`
        (default: this model's where `engine` computes in it, else float64)."""
        engine = check_engine(engine)
        target = model_class(engine)
        if dtype is None:
            dtype = self.dtype if self.dtype in target.dtypes else DTYPES[0]
        model = target.from_weights(self.get_weights(), self.activation, self.output,
                                    negative_slope=self.negative_slope, dtype=dtype)
        model.init, model.seed = self.init, self.seed
        model.metadata = dict(self.metadata)
        return model

    # -- files ----------------------------------------------------------------------------

    def save(self, path: str | PathLike[str], metadata: Mapping[str, Any] | None = None
             ) -> None:
        """Write the model to a JSON file (atomically); see `mlp.model_file` for the format.

        `metadata` (JSON-serializable) is stored with it; by default ``self.metadata``.
        The file records the engine and the dtype.
        """
        write_model_file(path, self._saved_model(metadata))

    @classmethod
    def load(cls, path: str | PathLike[str], engine: str | None = None, *,
             max_parameters: int = DEFAULT_MAX_PARAMETERS) -> MLP:
        """A new model read from a file written by `save`: ``model = MLP.load(path)``.

        A class method: called on a model it returns the new one and leaves that model as
        it was.  `engine` ("value" or "tensor") chooses the engine; None: the file's for
        ``MLP.load``, the class's own for ``TensorMLP.load`` and ``ValueMLP.load``.  A
        tensor-engine model gets the dtype the file records.

        A file declaring more than `max_parameters` weights and biases (default 10
        million; see `mlp.model_file`) is refused before its weights are read.  Raises
        `ModelFormatError` naming the file if it is bad, `FileNotFoundError` if missing.
        """
        if engine is not None:
            check_engine(engine)  # before the file is read
        saved = read_model_file(path, max_parameters=max_parameters)
        return cls._from_saved_model(saved, engine)

    def _saved_model(self, metadata: Mapping[str, Any] | None = None) -> SavedModel:
        """The model as the plain data a file holds."""
        meta = self.metadata if metadata is None else metadata
        if not isinstance(meta, Mapping):
            raise TypeError(f"metadata must be a dict, got {type(meta).__name__}")
        return SavedModel(self.architecture, self.get_weights(), dict(meta), self.engine,
                          self.dtype)

    @classmethod
    def _from_saved_model(cls, saved: SavedModel, engine: str | None = None) -> MLP:
        if engine is None and cls is MLP:
            engine = saved.engine
        target = cls._target_class(engine)
        arch = saved.architecture
        dtype = saved.dtype if saved.dtype in target.dtypes else DTYPES[0]
        model = target.from_weights(saved.weights, arch.activation, arch.output,
                                    negative_slope=arch.negative_slope, dtype=dtype)
        model.metadata = saved.metadata
        return model

    # -- PyTorch ---------------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """Weights keyed like a PyTorch ``nn.Sequential`` of Linear layers (see `to_torch`),
        as NumPy arrays: ``{"0.weight": W0, "0.bias": b0, "2.weight": ...}``."""
        return state_dict_of(self.architecture, self.get_weights())

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy weights from a PyTorch-style state_dict (arrays, lists or tensors).

        Keys are PyTorch's ``"<index>.weight"`` and ``"<index>.bias"``; the Linear layers
        are taken in index order.  Everything is checked before the model changes.
        """
        self.set_weights(weights_of_state_dict(state))

    def to_torch(self, dtype: Any = None) -> Any:
        """An equivalent ``torch.nn.Sequential`` (needs PyTorch installed; default dtype:
        torch's)."""
        return to_sequential(self.architecture, self.get_weights(), dtype)

    @classmethod
    def from_torch(cls, module: Any, engine: str | None = None, dtype: str = "float64"
                   ) -> MLP:
        """A model copied from a ``torch.nn.Sequential`` of Linear and activation modules.

        `engine` defaults to this class's (the value engine for `MLP`); `dtype` is the
        model's ("float32" on the tensor engine only), whatever the module's.
        """
        arch, weights = from_sequential(module)
        return cls._target_class(engine).from_weights(
            weights, arch.activation, arch.output, negative_slope=arch.negative_slope,
            dtype=dtype)

    # -- display ------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Any]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        shape = " -> ".join(str(n) for n in [self.n_inputs, *self.layer_sizes])
        engine = "" if self.engine == "value" else f", engine={self.engine}"
        dtype = "" if self.dtype == DTYPES[0] else f", dtype={self.dtype}"
        return (f"MLP({shape}, activation={self.activation}, output={self.output}, "
                f"{self.n_parameters} parameters{engine}{dtype})")

    def summary(self) -> str:
        """A table of the layers: inputs, outputs, activation and parameter counts."""
        lines = [f"{'layer':<6}{'inputs':>8}{'outputs':>9}  {'activation':<11}{'parameters':>11}"]
        for k, layer in enumerate(self.layers):
            act = layer.activation if k < len(self.layers) - 1 else f"{self.output} (out)"
            lines.append(f"{layer.name:<6}{layer.n_inputs:>8}{layer.n_outputs:>9}  {act:<11}"
                         f"{layer.n_outputs * (layer.n_inputs + 1):>11}")
        dtype = "" if self.dtype == DTYPES[0] else f", {self.dtype}"
        lines.append(f"total {self.n_parameters} parameters ({self.engine} engine{dtype})")
        return "\n".join(lines)


#: the names these classes had before `MLP` and `Layer` became the base classes
BaseMLP = MLP
BaseLayer = Layer
