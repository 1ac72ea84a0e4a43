"""Neurons, layers and multi-layer perceptrons made of `Value`s.

A neuron computes ``activation(w·x + b)``.  By default the weighted sum is one node of
the op table's ``linear`` op (fast to train, and still one readable step); with
``fused=False`` it is built op by op, ``w0*x0 + w1*x1 + ... + b``, for teaching.  Both
give the same gradients.

Every parameter carries a label that says where it sits: ``L{layer}.N{neuron}.w{input}``
and ``L{layer}.N{neuron}.b`` (all indices from 0).  A neuron's weighted sum is labelled
``L{layer}.N{neuron}.z`` and its activation ``L{layer}.N{neuron}.a``; a model's output
activation values are labelled ``out{k}``.  Renderers use these to collapse a graph per
neuron or per layer.
"""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N803

from __future__ import annotations

import functools
import math
import numbers
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import OPS, Value, apply, apply_rows, no_grad
from autograd.functional import softmax
from autograd.ops import Op
from mlp.base import (
    HIDDEN_ACTIVATIONS,
    INITIALIZERS,
    MLP,
    OUTPUT_ACTIVATIONS,
    Layer,
    LayerSpec,
    LayerWeights,
    _check_finite,
    _initial_weight,
    check_layer,
)
from mlp.losses import Loss, mean

__all__ = [
    "Neuron", "ValueLayer", "ValueMLP", "Layer", "MLP", "HIDDEN_ACTIVATIONS",
    "OUTPUT_ACTIVATIONS", "INITIALIZERS", "LayerWeights",
]

_LINEAR, _MUL, _ADD = OPS["linear"], OPS["mul"], OPS["add"]
_RELU, _RELU_LINEAR = OPS["relu"], OPS["relu_linear"]
_SIGMOID = OPS["sigmoid"]


def _activation_op(activation: str, negative_slope: float) -> tuple[Op | None, tuple[float, ...]]:
    """The op table entry (and its params) for a hidden activation; None for linear."""
    if activation == "linear":
        return None, ()
    if activation == "leaky_relu":
        return OPS["leaky_relu"], (negative_slope,)
    return OPS[activation], ()


def _as_row(x: object, n_inputs: int, owner: str) -> tuple[Value, ...]:
    """One sample as a tuple of Values (numbers become constant leaves)."""
    if type(x) is list or type(x) is tuple:
        pass  # the common case, without the checks below
    elif isinstance(x, np.ndarray):
        if x.ndim != 1:
            raise ValueError(f"{owner} takes one sample (a 1-D sequence of {n_inputs} numbers), "
                             f"got an array of shape {x.shape}; use forward_batch for many")
        x = x.tolist()
    elif isinstance(x, (str, bytes, Value, numbers.Number)) or not hasattr(x, "__len__"):
        raise TypeError(f"{owner} takes a sequence of {n_inputs} numbers or Values, "
                        f"got {type(x).__name__}")
    if len(x) != n_inputs:  # type: ignore[arg-type]
        raise ValueError(f"{owner} expects {n_inputs} inputs, got {len(x)}")  # type: ignore[arg-type]
    row = []
    for i, v in enumerate(x):  # type: ignore[arg-type]
        if type(v) is float and math.isfinite(v):  # the common case, without the checks below
            row.append(Value(v))
        elif isinstance(v, Value):
            row.append(v)
        elif isinstance(v, numbers.Real):
            leaf = Value(v)
            if not math.isfinite(leaf.data):
                raise ValueError(f"{owner} input {i} is {leaf.data}: inputs must be finite "
                                 f"numbers (no NaN or infinity)")
            row.append(leaf)
        else:
            raise TypeError(f"{owner} input {i} must be a number or Value, got "
                            f"{type(v).__name__}: {v!r:.40}")
    return tuple(row)


def _activate(act: Op, params: tuple[float, ...], z: Value, label: str) -> Value:
    """`act` on a neuron's weighted sum z, labelled `label`."""
    a = apply(act, (z,), params, datas=(z.data,))
    a.label = label
    return a


def _fused_rows(neurons: Sequence[Neuron], act: Op | None, act_params: tuple[float, ...],
                rows: Sequence[tuple[Value, ...]]) -> list[tuple[Value, ...]]:
    """Fused neurons that share an activation, on many rows: one tuple of outputs per row.

    A ReLU neuron is one ``relu_linear`` node (the same numbers as two); any other is a
    ``linear`` node, then its activation's node.
    """
    if act is _RELU:
        return apply_rows(_RELU_LINEAR, [(n.w, n.b, n._a_label) for n in neurons], rows)
    z_rows = apply_rows(_LINEAR, [(n.w, n.b, n._z_label) for n in neurons], rows)
    if act is None:
        return z_rows
    labels = [n._a_label for n in neurons]
    return [tuple(_activate(act, act_params, z, label) for z, label in zip(zs, labels))
            for zs in z_rows]


def _check_values(values: Sequence[Value], count: int, owner: str) -> list[Value]:
    if isinstance(values, Value) or not isinstance(values, Sequence):
        raise TypeError(f"{owner} needs a sequence of {count} Values")
    values = list(values)
    if len(values) != count:
        raise ValueError(f"{owner} has {count} parameters, got {len(values)} Values")
    for i, v in enumerate(values):
        if not isinstance(v, Value):
            raise TypeError(f"{owner}: parameter {i} must be a Value, got {type(v).__name__}")
    return values


def _replace_in_parts(parts: Sequence[Any], sizes: list[int], values: Sequence[Value],
                      owner: str) -> list[Value]:
    """`replace_parameters` of each part (neuron or layer) with its slice of `values`;
    returns the previous parameters in the same order."""
    values = _check_values(values, sum(sizes), owner)
    old: list[Value] = []
    start = 0
    for part, size in zip(parts, sizes):
        old += part.replace_parameters(values[start:start + size])
        start += size
    return old


class Neuron:
    """``activation(w·x + b)`` with its own weights ``w`` and bias ``b`` (Values).

    ``Neuron(nin)`` is a ReLU neuron; micrograd's ``Neuron(nin, nonlin=False)`` (or
    ``Neuron(nin, False)``) is a linear one.
    `fused` chooses how the neuron is built: as few nodes as give the same numbers (True:
    one ``relu_linear`` node for a ReLU neuron, else a ``linear`` node and the activation)
    or every product and sum (False, for teaching).  `name` prefixes the labels.  A fused
    ReLU neuron knows its parts: `autograd.unfuse` (which the drawings and steppers use)
    shows its z and its activation as two steps with the same numbers.
    """

    __slots__ = ("w", "b", "activation", "negative_slope", "fused", "name",
                 "_act_op", "_act_params", "_z_label", "_a_label")

    def __init__(
        self,
        nin: int,
        activation: str | bool = "relu",
        *,
        init: str = "auto",
        fan_out: int = 1,
        seed: int | None = None,
        rng: random.Random | None = None,
        fused: bool = True,
        negative_slope: float = 0.01,
        name: str = "N0",
        nonlin: bool | None = None,
    ) -> None:
        spec = check_layer(nin, fan_out, activation, init=init, seed=seed, rng=rng,
                           negative_slope=negative_slope, nonlin=nonlin, nout_name="fan_out")
        self.name = str(name)
        self.w: tuple[Value, ...] = tuple(
            Value(_initial_weight(spec.rng, spec.init, spec.nin, spec.nout), f"{self.name}.w{i}")
            for i in range(spec.nin)
        )
        self.b = Value(0.0, f"{self.name}.b")
        self.fused = bool(fused)
        self.activation = spec.activation
        self.negative_slope = spec.negative_slope
        self._act_op, self._act_params = _activation_op(spec.activation, spec.negative_slope)
        self._z_label = f"{self.name}.z"
        self._a_label = f"{self.name}.a"

    @property
    def n_inputs(self) -> int:
        """How many inputs the neuron takes."""
        return len(self.w)

    def parameters(self) -> list[Value]:
        """The weights then the bias: ``[w0, w1, ..., b]``."""
        return [*self.w, self.b]

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0."""
        for p in self.w:
            p.grad = 0.0
        self.b.grad = 0.0

    def replace_parameters(self, values: Sequence[Value]) -> list[Value]:
        """Use other Values as ``[w0, ..., b]`` (functional use: gradient checks, sharing).

        Returns the previous parameters, so they can be put back.
        """
        values = _check_values(values, len(self.w) + 1, f"neuron {self.name}")
        old = self.parameters()
        self.w, self.b = tuple(values[:-1]), values[-1]
        return old

    def __call__(self, x: Sequence[float | Value]) -> Value:
        """The neuron's output for one sample `x` (numbers or Values)."""
        row = _as_row(x, len(self.w), f"neuron {self.name}")
        return self._forward(row)

    def _forward(self, row: tuple[Value, ...]) -> Value:
        """The output for a row already checked (see `ValueLayer.forward_rows` for batches)."""
        if self.fused:
            return _fused_rows([self], self._act_op, self._act_params, [row])[0][0]
        z = self._weighted_sum_op_by_op(row)
        z.label = self._z_label
        if self._act_op is None:
            return z
        return _activate(self._act_op, self._act_params, z, self._a_label)

    def _weighted_sum_op_by_op(self, row: tuple[Value, ...]) -> Value:
        """w0*x0 + w1*x1 + ... + b, one mul or add node at a time."""
        w = self.w
        z = apply(_MUL, (w[0], row[0]))
        for wi, xi in zip(w[1:], row[1:]):
            z = apply(_ADD, (z, apply(_MUL, (wi, xi))))
        return apply(_ADD, (z, self.b))

    def __repr__(self) -> str:
        mode = "" if self.fused else ", op by op"
        return f"Neuron({self.name}: {len(self.w)} inputs, {self.activation}{mode})"


class ValueLayer(Layer):
    """`nout` neurons that all read the same `nin` inputs, each weight a `Value`.

    ``Layer(nin, nout)`` builds one: a ReLU layer (micrograd's ``Layer(nin, nout,
    nonlin=False)``, or ``Layer(nin, nout, False)``, is a linear one).  Calling it on one
    sample returns a list of Values (a single Value when ``nout == 1``, as in micrograd);
    `forward` always returns a list.  The arguments are `mlp.base.Layer`'s.
    """

    engine = "value"

    def _make(self, spec: LayerSpec, fused: bool) -> None:
        self.neurons: list[Neuron] = [
            Neuron(spec.nin, spec.activation, init=spec.init, fan_out=spec.nout, rng=spec.rng,
                   fused=fused, negative_slope=spec.negative_slope, name=f"{self.name}.N{j}")
            for j in range(spec.nout)
        ]

    @property
    def n_inputs(self) -> int:
        """How many inputs each neuron takes."""
        return self.neurons[0].n_inputs

    @property
    def n_outputs(self) -> int:
        """How many neurons (outputs) the layer has."""
        return len(self.neurons)

    @property
    def fused(self) -> bool:
        """Whether the neurons build their weighted sums as one ``linear`` node."""
        return self.neurons[0].fused

    @fused.setter
    def fused(self, value: bool) -> None:
        for n in self.neurons:
            n.fused = bool(value)

    def parameters(self) -> list[Value]:
        """Every neuron's parameters, neuron by neuron."""
        return [p for n in self.neurons for p in n.parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0."""
        for n in self.neurons:
            n.zero_grad()

    def replace_parameters(self, values: Sequence[Value]) -> list[Value]:
        """Use other Values as this layer's parameters (in `parameters` order).

        Returns the previous parameters, so they can be put back.
        """
        return _replace_in_parts(self.neurons, [n.n_inputs + 1 for n in self.neurons], values,
                                 f"layer {self.name}")

    def __call__(self, x: Sequence[float | Value]) -> Value | list[Value]:
        """Outputs for one sample; a single Value if the layer has one neuron (micrograd)."""
        out = self.forward(x)
        return out[0] if len(out) == 1 else out

    def forward(self, x: Sequence[float | Value]) -> list[Value]:
        """The list of outputs for one sample `x`."""
        row = _as_row(x, self.n_inputs, f"layer {self.name}")
        return list(self.forward_rows([row])[0])

    def forward_rows(self, rows: list[tuple[Value, ...]]) -> list[tuple[Value, ...]]:
        """Outputs for many samples, each a tuple of Values of the right length.

        The hot path of training: each weight's ``.data`` is read once per call, and the
        rows are not validated again (`MLP.forward_batch` validates its input).
        """
        neurons = self.neurons
        act, act_params = neurons[0]._act_op, neurons[0]._act_params
        for n in neurons:
            if not n.fused or n._act_op is not act or n._act_params != act_params:
                return [tuple(n._forward(row) for n in neurons) for row in rows]
        return _fused_rows(neurons, act, act_params, rows)

    def get_weights(self) -> LayerWeights:
        """(W, b) as new float64 arrays; ``W[j, i]`` is neuron j's weight for input i."""
        return self._arrays("data")

    def get_gradients(self) -> LayerWeights:
        """(dW, db): the parameters' ``grad``, laid out like `get_weights`."""
        return self._arrays("grad")

    def _arrays(self, field: str) -> LayerWeights:
        weight = np.array([[getattr(w, field) for w in n.w] for n in self.neurons],
                          dtype=np.float64).reshape(self.n_outputs, self.n_inputs)
        bias = np.array([getattr(n.b, field) for n in self.neurons], dtype=np.float64)
        return weight, bias

    def _write_weights(self, weight: np.ndarray, bias: np.ndarray) -> None:
        """Copy checked arrays (n_outputs, n_inputs) and (n_outputs,) in; grads become 0."""
        for neuron, row, b in zip(self.neurons, weight.tolist(), bias.tolist()):
            for w, value in zip(neuron.w, row):
                w.data = value
                w.grad = 0.0
            neuron.b.data = b
            neuron.b.grad = 0.0


class ValueMLP(MLP):
    """A multi-layer perceptron whose every weight is a `Value`: ``MLP(4, [16, 16, 3])``.

    The arguments are `mlp.base.MLP`'s.  Calling the model on one sample gives a list of
    output Values (a single Value when there is one output, as in micrograd);
    `forward_batch` takes many.  It computes in float64 (Python floats).
    """

    engine = "value"
    layer_type = ValueLayer
    dtypes = ("float64",)
    layers: list[ValueLayer]

    @functools.cached_property
    def _output_labels(self) -> list[str]:
        """The labels of the output activations' Values: out0, out1, ..."""
        return [f"out{k}" for k in range(self.n_outputs)]

    # -- parameters ---------------------------------------------------------------------

    def weights(self) -> list[Value]:
        """The weights only (no biases): what L2 regularization usually penalizes."""
        return [w for layer in self.layers for n in layer.neurons for w in n.w]

    def biases(self) -> list[Value]:
        """The biases only."""
        return [n.b for layer in self.layers for n in layer.neurons]

    def replace_parameters(self, values: Sequence[Value]) -> list[Value]:
        """Use other Values as the model's parameters (in `parameters` order).

        The model then computes with those Values, so a function of them can be checked
        with `autograd.gradcheck`.  Returns the previous parameters, to put them back.
        """
        return _replace_in_parts(self.layers, [layer.n_outputs * (layer.n_inputs + 1)
                                               for layer in self.layers], values, "MLP")

    # -- forward ------------------------------------------------------------------------

    def __call__(self, x: Sequence[float | Value]) -> Value | list[Value]:
        """The outputs for one sample; a single Value when there is one output (micrograd)."""
        out = self.forward(x)
        return out[0] if len(out) == 1 else out

    def forward(self, x: Sequence[float | Value]) -> list[Value]:
        """The outputs (after the output activation) for one sample, always a list."""
        return self._apply_output(self.logits(x))

    def logits(self, x: Sequence[float | Value]) -> list[Value]:
        """The last layer's weighted sums for one sample (before the output activation)."""
        row = _as_row(x, self.n_inputs, "MLP")
        return list(self._logit_rows([row])[0])

    def forward_batch(self, X: Any, *, logits: bool = False) -> list[list[Value]]:
        """Outputs (or `logits`) for every sample (row) of `X`: a list of lists of Values."""
        rows = self._rows(X)
        out = self._logit_rows(rows)
        if logits:
            return [list(r) for r in out]
        return [self._apply_output(r) for r in out]

    def _logit_rows(self, rows: list[tuple[Value, ...]]) -> list[tuple[Value, ...]]:
        for layer in self.layers:
            rows = layer.forward_rows(rows)
        return rows

    def _apply_output(self, logits: Sequence[Value]) -> list[Value]:
        if self.output == "linear":
            return list(logits)
        if self.output == "sigmoid":
            outs = [apply(_SIGMOID, (z,)) for z in logits]
        else:
            outs = softmax(logits)
        for v, label in zip(outs, self._output_labels):
            v.label = label
        return outs

    def _rows(self, X: Any) -> list[tuple[Value, ...]]:
        """Validate a batch and turn it into rows of Values (numbers become leaves)."""
        if isinstance(X, np.ndarray):
            if X.ndim != 2 or X.shape[1] != self.n_inputs:
                raise ValueError(f"MLP expects a batch of shape (n, {self.n_inputs}), "
                                 f"got an array of shape {X.shape}")
            if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_) or np.iscomplexobj(X):
                raise TypeError(f"MLP expects a real-valued array, got dtype {X.dtype}")
            data = X.astype(np.float64)
            _check_finite(data, "MLP")
            return [tuple(map(Value, r)) for r in data.tolist()]
        if isinstance(X, (str, bytes, Value, numbers.Number)) or not hasattr(X, "__len__"):
            raise TypeError(f"MLP expects a batch (a list of samples or a 2-D array), got "
                            f"{type(X).__name__}")
        return [_as_row(x, self.n_inputs, f"MLP (sample {i})") for i, x in enumerate(X)]

    # -- predictions as numbers ---------------------------------------------------------

    # `with no_grad()` inside, not a `@no_grad()` decorator: a decorator would be one
    # grad-mode object shared by every thread calling the method.
    def forward_array(self, X: Any, *, logits: bool = False) -> np.ndarray:
        """Outputs (or `logits`) for a batch as a float array of shape (n, n_outputs)."""
        with no_grad():
            return self._numbers(self.forward_batch(X, logits=logits))

    def _probabilities(self, X: Any) -> np.ndarray:
        """Outputs read as probabilities, (n, n_outputs) (see `MLP.predict_proba`)."""
        with no_grad():
            out = self.forward_batch(X, logits=self.output == "linear")
            if self.output == "linear":
                if self.n_outputs > 1:
                    out = [softmax(row) for row in out]
                else:
                    out = [[apply(_SIGMOID, (row[0],))] for row in out]
            return self._numbers(out)

    def batch_loss(self, loss: Loss, X: np.ndarray, targets: np.ndarray
                   ) -> tuple[Value, np.ndarray]:
        """The mean of the per-sample losses (one ``sum`` node and a division), and the
        logits or outputs it read (see `MLP.batch_loss`)."""
        rows = self._logit_rows([tuple(map(Value, r)) for r in X.tolist()])
        if not loss.reads_logits:
            rows = [self._apply_output(o) for o in rows]
        per_sample = loss.per_sample
        total = mean([per_sample(list(o), t) for o, t in zip(rows, targets.tolist())])
        return total, self._numbers(rows)

    def _numbers(self, rows: Sequence[Sequence[Value]]) -> np.ndarray:
        """The data of rows of output Values, as a float array (n, n_outputs)."""
        return np.array([[v.data for v in row] for row in rows], dtype=np.float64).reshape(
            len(rows), self.n_outputs)
