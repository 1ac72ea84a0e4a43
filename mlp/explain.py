"""The four equations of backpropagation on a real network, checked against backward().

For an MLP with layers l = 1..L (the model's ``L0`` .. ``L{L-1}``), a⁰ = x,
zˡ = Wˡaˡ⁻¹ + bˡ and aˡ = σ(zˡ), the error of layer l is δˡ = ∂C/∂zˡ and

    BP1  δᴸ = ∇ₐC ⊙ σ′(zᴸ)                 the output layer's error
    BP2  δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)       each error from the next layer's
    BP3  ∂C/∂bˡ = δˡ
    BP4  ∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ

`four_equations` computes every one of them layer by layer with NumPy, from the model's
weights only, and then runs the model's own engine (value or tensor) on the same
input: it keeps each layer's z nodes, calls ``backward()`` on the loss `mlp.fit`
minimizes, and compares every δ with the gradient of its z node and every ∂C/∂W, ∂C/∂b
with the parameters' gradients.  The result prints as a report:

>>> from mlp import MLP, four_equations
>>> model = MLP(2, [3, 2], activation="sigmoid", output="sigmoid", seed=0)
>>> result = four_equations(model, [0.5, -1.0], 1, loss="mse")
>>> result.max_error < 1e-12
True
>>> print(result.report().splitlines()[-1])  # doctest: +ELLIPSIS
max |equations - backward()| = ...

Where σ and σ′ come from: every activation and its derivative is evaluated through
the op table, number by number (``autograd.OPS[name].evaluate`` and
``.local_derivatives``), the one definition both engines use; nothing is derived
again here.  Softmax is not one op (the engines build it from ``logsumexp`` and
``exp``), so it is written in NumPy; the comparison with ``backward()`` is the proof.

The cost is the library's, per sample x (BP1 takes the form that cost gives):

* ``mse`` reads the outputs aᴸ: C_x = (1/k) Σ_j (aᴸ_j − y_j)², so ∇ₐC = (2/k)(aᴸ − y)
  (the textbook's ½‖aᴸ − y‖² has ∇ₐC = aᴸ − y: the same up to the factor 2/k), and
  σ′ is the output activation's: 1 (linear), sigmoid′, or for softmax, whose aᴸ_j
  depends on every zᴸ_i, the Jacobian product δᴸ = aᴸ ⊙ (∇ₐC − aᴸ·∇ₐC);
* ``cross_entropy`` reads the logits zᴸ (softmax + cross-entropy):
  δᴸ = softmax(zᴸ) − y = a − y with y one-hot;
* ``binary_cross_entropy`` reads one logit: δᴸ = sigmoid(zᴸ) − y;
* ``hinge`` reads one score: δᴸ = −t where t·zᴸ < 1, else 0 (t = ±1).

A mini-batch of n samples costs C = (1/n) Σ_x C_x, the mean the losses reduce with
and `mlp.fit` minimizes.  δ^{x,l} = ∂C_x/∂z^{x,l} is each sample's error, as in the
textbook; the engine's z node of sample x holds ∂C/∂z^{x,l} = δ^{x,l}/n, which is what
it is compared with; and BP3, BP4 average over the samples:
∂C/∂bˡ = (1/n) Σ_x δ^{x,l}, ∂C/∂Wˡ = (1/n) Σ_x δ^{x,l} (a^{x,l−1})ᵀ.
"""

# X (a matrix with one sample per row) and W, grad_W follow the usual math names.
# ruff: noqa: N803, N806, N815

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd import OPS, Tensor, Value, enable_grad
from autograd.fusion import unfused_copies
from autograd.tensor import as_tensor
from mlp.base import BaseMLP
from mlp.losses import Loss, get_loss, mean
from mlp.train import _as_matrix, _prepare_targets

__all__ = ["four_equations", "FourEquations", "LayerEquations", "EXPLAINED_LOSSES"]

#: the losses whose output error (BP1) `four_equations` writes out
EXPLAINED_LOSSES: tuple[str, ...] = ("mse", "cross_entropy", "binary_cross_entropy", "hinge")

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _sup(n: int | str) -> str:
    return str(n).translate(_SUPERSCRIPTS)


# -- the NumPy side: activations through the op table -----------------------------------


def _through_op_table(name: str, z: np.ndarray, slope: float) -> tuple[np.ndarray, np.ndarray]:
    """σ(z) and σ′(z) elementwise, each number from the op table entry `name`."""
    if name == "linear":
        return z.copy(), np.ones_like(z)
    op = OPS[name]
    params = (slope,) if name == "leaky_relu" else ()
    inputs = z.ravel().tolist()
    outs = [op.evaluate((v,), params) for v in inputs]
    primes = [op.local_derivatives(o, (v,), params)[0] for o, v in zip(outs, inputs)]
    return (np.array(outs, dtype=np.float64).reshape(z.shape),
            np.array(primes, dtype=np.float64).reshape(z.shape))


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _logsumexp(z: np.ndarray) -> np.ndarray:
    top = z.max(axis=1)
    return top + np.log(np.exp(z - top[:, None]).sum(axis=1))


# -- the result -------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class LayerEquations:
    """One layer's numbers: the forward pass, its error δ, BP3 and BP4, and the engine's.

    Arrays hold one row per sample: ``a_prev`` (n, n_inputs), ``z``, ``a``,
    ``sigma_prime``, ``delta`` (n, n_outputs); ``grad_W`` and ``grad_b`` are the batch's
    (averaged) gradients.  ``engine_*`` are what the engine computed.
    """

    #: the textbook's layer number l (1 = the first layer of weights)
    index: int
    #: the model's name for the layer: L0, L1, ...
    name: str
    #: σ of this layer: a hidden activation, or for the last layer the output's
    activation: str
    W: np.ndarray
    b: np.ndarray
    a_prev: np.ndarray
    z: np.ndarray
    a: np.ndarray
    #: σ′(zˡ) (n, n_outputs); None where BP1 has no elementwise σ′ (softmax, or a loss
    #: that reads the logits)
    sigma_prime: np.ndarray | None
    #: for l < L: (Wˡ⁺¹)ᵀ δˡ⁺¹, the error carried back before ⊙ σ′(zˡ); None for l = L
    carried: np.ndarray | None
    #: δˡ per sample: δ^{x,l} = ∂C_x/∂z^{x,l}
    delta: np.ndarray
    grad_b: np.ndarray
    grad_W: np.ndarray
    engine_z: np.ndarray
    #: ∂C/∂zˡ of each sample's z node after backward(): δ/n for a batch of n
    engine_z_grad: np.ndarray
    engine_grad_b: np.ndarray
    engine_grad_W: np.ndarray

    @property
    def n_samples(self) -> int:
        """How many samples the arrays have rows for."""
        return self.z.shape[0]

    @property
    def errors(self) -> dict[str, float]:
        """max |equation − engine| for δ (as δ/n), ∂C/∂b and ∂C/∂W."""
        return {
            "delta": _max_abs(self.delta / self.n_samples - self.engine_z_grad),
            "grad_b": _max_abs(self.grad_b - self.engine_grad_b),
            "grad_W": _max_abs(self.grad_W - self.engine_grad_W),
        }

    @property
    def max_error(self) -> float:
        """The largest of `errors`."""
        return max(self.errors.values())

    def __repr__(self) -> str:
        return (f"<LayerEquations l={self.index} ({self.name}): {self.W.shape[1]} -> "
                f"{self.W.shape[0]}, {self.activation}, max error {self.max_error:.3g}>")


@dataclass(frozen=True, repr=False, eq=False)
class FourEquations:
    """The four equations evaluated on one model, input and target, and the engine's check.

    ``print(result)`` (or `report`) shows every step with its numbers; the arrays are in
    ``layers`` (one `LayerEquations` each, first layer first).  ``max_error`` is
    max |equations − backward()| over every δ, ∂C/∂b and ∂C/∂W.
    """

    #: the model's one-line description
    model: str
    #: "value" or "tensor"
    engine: str
    #: the loss's name (see `EXPLAINED_LOSSES`)
    loss: str
    #: the model's output activation
    output: str
    #: the input (n, n_inputs) and the target vectors the cost compares with (n, k)
    x: np.ndarray
    y: np.ndarray
    #: ∇ₐC per sample for a loss that reads the outputs (mse); None otherwise
    grad_a: np.ndarray | None
    #: C from the NumPy forward pass, and the engine's loss (the number fit minimizes)
    cost: float
    engine_cost: float
    layers: tuple[LayerEquations, ...]

    @property
    def n_samples(self) -> int:
        """How many samples the batch has (1 for one sample)."""
        return self.x.shape[0]

    @property
    def max_error(self) -> float:
        """max |equations − backward()| over every layer's δ, ∂C/∂b and ∂C/∂W."""
        return max(layer.max_error for layer in self.layers)

    @property
    def forward_error(self) -> float:
        """max |NumPy − engine| over every z and the cost: the two forward passes agree."""
        z_error = max(_max_abs(layer.z - layer.engine_z) for layer in self.layers)
        return max(z_error, abs(self.cost - self.engine_cost))

    def report(self, max_samples: int = 3, precision: int = 4) -> str:
        """Every step as text with its numbers; a batch shows its first `max_samples` rows."""
        return _Report(self, max_samples, precision).text()

    def __str__(self) -> str:
        return self.report()

    def __repr__(self) -> str:
        return (f"<FourEquations {self.model}, {self.engine} engine, {self.loss}, "
                f"{self.n_samples} sample{'s' if self.n_samples != 1 else ''}: "
                f"max |equations - backward()| = {self.max_error:.3g}>")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython and Jupyter show the report."""
        printer.text(repr(self) if cycle else self.report())


def _max_abs(difference: np.ndarray) -> float:
    return float(np.max(np.abs(difference))) if difference.size else 0.0


# -- the equations ----------------------------------------------------------------------


def four_equations(model: BaseMLP, x: Any, y: Any, loss: str | Loss) -> FourEquations:
    """The four equations of backpropagation for `model` on `x`, checked against backward().

    `x` is one sample (n_inputs numbers) or a batch (n, n_inputs); `y` its target (a
    class label, or for ``mse`` also numbers, one per output) or one target per sample,
    as `mlp.fit` takes them.  `loss` is one of `EXPLAINED_LOSSES` (or its `Loss`).  Works
    on either engine and every hidden activation.  The model's parameters end with the
    gradients they had before the call.  See the module's text for the conventions.
    """
    if not isinstance(model, BaseMLP):
        raise TypeError(f"four_equations needs an MLP (either engine), got "
                        f"{type(model).__name__}")
    loss_fn = get_loss(loss)
    if loss_fn.name not in EXPLAINED_LOSSES:
        raise ValueError(f"four_equations writes out BP1 for the losses "
                         f"{', '.join(EXPLAINED_LOSSES)}; got {loss_fn.name!r}")
    X, targets = _batch(model, x, y)
    prepared = _prepare_targets(model, loss_fn, targets, len(X))
    Y = _target_vectors(loss_fn.name, prepared.for_loss, model.n_outputs)
    engine = _engine_pass(model, loss_fn, X, prepared.for_loss)
    return _equations(model, loss_fn.name, X, Y, engine)


def _batch(model: BaseMLP, x: Any, y: Any) -> tuple[np.ndarray, Any]:
    """(X of shape (n, n_inputs) as float64, the targets as one per sample)."""
    nin = model.n_inputs
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"four_equations: x must be numbers, a sample or a batch: "
                        f"{error}") from None
    if array.ndim == 1:
        if array.shape[0] != nin:
            raise ValueError(f"four_equations: x has {array.shape[0]} numbers but the model "
                             f"takes {nin} inputs; pass one sample of {nin} numbers or a "
                             f"batch of shape (n, {nin})")
        array = array.reshape(1, nin)
        y = [y]
    elif array.ndim != 2 or array.shape[1] != nin:
        raise ValueError(f"four_equations: x must be one sample of {nin} numbers or a batch "
                         f"of shape (n, {nin}), got shape {array.shape}")
    X = _as_matrix(model, array).astype(np.float64)
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
        raise ValueError(f"four_equations: a batch of {len(X)} samples needs {len(X)} "
                         f"targets, got {type(y).__name__} {y!r:.40}")
    if len(y) != len(X):
        raise ValueError(f"four_equations: x has {len(X)} samples but y has {len(y)} "
                         f"targets")
    return X, y


def _target_vectors(loss: str, for_loss: np.ndarray, k: int) -> np.ndarray:
    """The targets as rows of k numbers: one-hot labels, 0/1 or ±1 (hinge), or values."""
    if loss == "hinge":
        return np.where(for_loss == 1, 1.0, -1.0).reshape(-1, 1)
    if for_loss.ndim == 2:
        return for_loss.astype(np.float64)
    if k == 1:
        return for_loss.astype(np.float64).reshape(-1, 1)
    return np.eye(k)[for_loss.astype(np.int64)]


@dataclass(frozen=True)
class _EngineResult:
    cost: float
    z: list[np.ndarray]
    z_grad: list[np.ndarray]
    gradients: list[tuple[np.ndarray, np.ndarray]]


def _engine_pass(model: BaseMLP, loss: Loss, X: np.ndarray, for_loss: np.ndarray
                 ) -> _EngineResult:
    """Run the model's engine on the batch keeping each layer's z nodes, then backward().

    The loss is built as `BaseMLP.batch_loss` builds it (checked: the same number); the
    parameters' gradients are zeroed for the pass and put back afterwards.
    """
    parameters = model.parameters()
    held = [p.grad for p in parameters]
    try:
        with enable_grad():
            if model.engine == "tensor":
                total, z_nodes = _tensor_forward(model, loss, X, for_loss)
            else:
                total, z_nodes = _value_forward(model, loss, X, for_loss)
            model.zero_grad()
            total.backward()
        z_data = [_node_array(nodes, "data") for nodes in z_nodes]
        z_grad = [_node_array(nodes, "grad") for nodes in z_nodes]
        gradients = model.get_gradients()
    finally:
        for p, g in zip(parameters, held):
            p.grad = g
    cost = float(total.data) if isinstance(total, Value) else total.item()
    with enable_grad():
        reference, _ = model.batch_loss(loss, X, for_loss)
    reference_cost = float(reference.data) if isinstance(reference, Value) else reference.item()
    if not math.isclose(cost, reference_cost, rel_tol=1e-12, abs_tol=1e-12):
        raise RuntimeError(f"four_equations: the loss built layer by layer ({cost!r}) is not "
                           f"the model's batch loss ({reference_cost!r})")
    return _EngineResult(cost, z_data, z_grad, gradients)


def _node_array(nodes: Any, field: str) -> np.ndarray:
    """A layer's z numbers or gradients as an array (n, n_outputs)."""
    if isinstance(nodes, Tensor):
        values = nodes.data if field == "data" else nodes.grad
        return np.broadcast_to(np.asarray(values, dtype=np.float64), nodes.shape).copy()
    return np.array([[getattr(z, field) for z in row] for row in nodes], dtype=np.float64)


def _weighted_sum(node: Any, layer: Any) -> Any:
    """The z node under a layer's output: the node itself (linear) or its activation's input."""
    z = node if layer.activation == "linear" else node.parents[0] if node.parents else None
    if z is None or not z.label.startswith(f"{layer.name}.") or not z.label.endswith(".z"):
        raise RuntimeError(f"four_equations: cannot find the weighted sum z of layer "
                           f"{layer.name} under its output node {node!r:.80}")
    return z


def _value_forward(model: Any, loss: Loss, X: np.ndarray, for_loss: np.ndarray
                   ) -> tuple[Value, list[list[list[Value]]]]:
    rows: list[tuple[Value, ...]] = [tuple(map(Value, r)) for r in X.tolist()]
    layer_rows = []
    for layer in model.layers:
        rows = layer.forward_rows(rows)
        layer_rows.append(rows)
    outputs = [list(r) for r in rows] if loss.reads_logits else [
        model._apply_output(r) for r in rows]
    total = mean([loss.per_sample(o, t) for o, t in zip(outputs, for_loss.tolist())])
    # A fused ReLU neuron is one node; its unfused copy has the z node (same numbers).
    copies = unfused_copies(total)
    z_nodes = [[[_weighted_sum(copies[v], layer) for v in row] for row in rows]
               for layer, rows in zip(model.layers, layer_rows)]
    return copies[total], z_nodes


def _tensor_forward(model: Any, loss: Loss, X: np.ndarray, for_loss: np.ndarray
                    ) -> tuple[Tensor, list[Tensor]]:
    h = as_tensor(X, model.layers[0].W.dtype)  # the model's own precision
    z_nodes = []
    for layer in model.layers:
        h = layer.forward(h)
        z_nodes.append(_weighted_sum(h, layer))
    outputs = h if loss.reads_logits else model._apply_output(h)
    return loss(outputs, for_loss), z_nodes


def _output_error(loss: str, output: str, zL: np.ndarray, Y: np.ndarray, slope: float
                  ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray,
                             float]:
    """BP1: (aᴸ, ∇ₐC or None, σ′(zᴸ) or None, δᴸ per sample, the cost C)."""
    k = zL.shape[1]
    if loss == "cross_entropy":
        a = _softmax(zL)
        cost = float(np.mean(_logsumexp(zL) - np.sum(zL * Y, axis=1)))
        return a, None, None, a - Y, cost
    if loss == "binary_cross_entropy":
        a, _ = _through_op_table("sigmoid", zL, slope)
        softplus, _ = _through_op_table("softplus", zL, slope)
        return a, None, None, a - Y, float(np.mean(softplus - Y * zL))
    if loss == "hinge":
        margin = 1.0 - Y * zL
        return zL.copy(), None, None, np.where(margin > 0.0, -Y, 0.0), float(
            np.mean(np.maximum(margin, 0.0)))
    # mse reads the outputs aᴸ = σ(zᴸ)
    if output == "softmax":
        a = _softmax(zL)
        sigma_prime = None
    else:
        a, sigma_prime = _through_op_table(output, zL, slope)
    grad_a = 2.0 * (a - Y) / k
    cost = float(np.mean(np.mean((a - Y) ** 2, axis=1)))
    if sigma_prime is None:  # softmax: (∂a/∂z)ᵀ ∇ₐC with ∂a_j/∂z_i = a_j (1[i=j] − a_i)
        delta = a * (grad_a - np.sum(a * grad_a, axis=1, keepdims=True))
    else:
        delta = grad_a * sigma_prime
    return a, grad_a, sigma_prime, delta, cost


def _equations(model: BaseMLP, loss: str, X: np.ndarray, Y: np.ndarray,
               engine: _EngineResult) -> FourEquations:
    n = len(X)
    slope = model.negative_slope
    weights = model.get_weights()
    last = len(weights) - 1
    # forward: zˡ = Wˡaˡ⁻¹ + bˡ, one sample per row (so Z = A Wᵀ + b)
    activations, zs, primes = [X], [], []
    for index, (W, b) in enumerate(weights):
        z = activations[-1] @ W.T + b
        zs.append(z)
        if index < last:
            a, prime = _through_op_table(model.layers[index].activation, z, slope)
            activations.append(a)
            primes.append(prime)
    aL, grad_a, primeL, delta, cost = _output_error(loss, model.output, zs[-1], Y, slope)
    activations.append(aL)
    primes.append(primeL)
    # backward: BP1 gave δᴸ; BP2 for l = L-1 .. 1; BP3 and BP4 averaged over the batch
    deltas: list[np.ndarray] = [delta]
    carried: list[np.ndarray | None] = [None]
    for index in range(last - 1, -1, -1):
        back = deltas[0] @ weights[index + 1][0]  # row x: (Wˡ⁺¹)ᵀ δ^{x,l+1}
        carried.insert(0, back)
        deltas.insert(0, back * primes[index])
    layers = []
    for index, (W, b) in enumerate(weights):
        d = deltas[index]
        engine_dW, engine_db = engine.gradients[index]
        layers.append(LayerEquations(
            index=index + 1, name=model.layers[index].name,
            activation=model.layers[index].activation if index < last else model.output,
            W=W, b=b, a_prev=activations[index], z=zs[index], a=activations[index + 1],
            sigma_prime=primes[index], carried=carried[index], delta=d,
            grad_b=d.mean(axis=0), grad_W=d.T @ activations[index] / n,
            engine_z=engine.z[index], engine_z_grad=engine.z_grad[index],
            engine_grad_b=engine_db, engine_grad_W=engine_dW,
        ))
    return FourEquations(model=repr(model), engine=model.engine, loss=loss,
                         output=model.output, x=X, y=Y, grad_a=grad_a, cost=cost,
                         engine_cost=engine.cost, layers=tuple(layers))


# -- the report -------------------------------------------------------------------------


class _Report:
    """The text of `FourEquations.report`."""

    def __init__(self, result: FourEquations, max_samples: int, precision: int) -> None:
        if isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1:
            raise ValueError(f"max_samples must be a positive int, got {max_samples!r:.20}")
        self.result = result
        self.max_samples = max_samples
        self.precision = precision
        self.lines: list[str] = []
        self.batch = result.n_samples > 1

    # numbers

    def array(self, values: np.ndarray, per_sample: bool = True) -> str:
        """Per-sample arrays: one row per sample shown; others as they are."""
        if per_sample:
            values = values[0] if not self.batch else values[: self.max_samples]
        values = np.asarray(values) + 0.0  # shows -0.0 (relu′ times a negative) as 0
        return np.array2string(np.asarray(values), precision=self.precision, separator="  ",
                               max_line_width=96, threshold=48, edgeitems=3,
                               suppress_small=False)

    def put(self, label: str, values: np.ndarray | None = None, *, per_sample: bool = True,
            indent: str = "  ") -> None:
        if values is None:
            self.lines.append(f"{indent}{label}")
            return
        text = self.array(values, per_sample).splitlines()
        pad = " " * (len(indent) + 4)
        if len(text) == 1 and len(label) + len(text[0]) < 92:
            self.lines.append(f"{indent}{label:<34} {text[0]}")
        else:
            self.lines.append(f"{indent}{label}")
            self.lines.extend(pad + row for row in text)
        if per_sample and self.batch and len(values) > self.max_samples:
            self.lines.append(f"{pad}... ({len(values) - self.max_samples} more samples)")

    def check(self, what: str, error: float) -> None:
        self.lines.append(f"         backward(): {what:<24} max |diff| = {error:.3g}")

    # sections

    def text(self) -> str:
        r = self.result
        L = len(r.layers)
        samples = f"{r.n_samples} samples" if self.batch else "one sample"
        self.lines += [
            "The four equations of backpropagation, computed with NumPy and checked "
            "against backward()",
            f"{r.model}, {r.engine} engine; {samples}",
            (f"layers l = 1..{L} are the model's {r.layers[0].name}..{r.layers[-1].name}; "
             if L > 1 else f"layer l = 1 is the model's {r.layers[0].name}; ")
            + "a⁰ = x; zˡ = Wˡaˡ⁻¹ + bˡ; δˡ = ∂C/∂zˡ",
            f"cost: {self.cost_formula()}",
        ]
        if self.batch:
            self.lines += [
                f"batch: C = (1/n) Σ_x C_x with n = {r.n_samples}; δ^x is each sample's "
                f"∂C_x/∂z (rows below, first {min(self.max_samples, r.n_samples)});",
                "       backward() holds ∂C/∂z = δ^x/n; ∂C/∂b and ∂C/∂W are averages over "
                "the samples",
            ]
        self.forward()
        self.backward()
        self.lines.append("")
        self.lines.append(f"forward: max |NumPy - engine| over z and C = {r.forward_error:.3g}")
        self.lines.append(f"max |equations - backward()| = {r.max_error:.3g}")
        return "\n".join(self.lines)

    def cost_formula(self) -> str:
        r = self.result
        L = _sup(len(r.layers))
        k = r.y.shape[1]
        if r.loss == "mse":
            return (f"mse, C_x = (1/k) Σ_j (a{L}_j − y_j)² with k = {k} output"
                    f"{'s' if k != 1 else ''}, "
                    f"a{L} = {r.output}(z{L})")
        if r.loss == "cross_entropy":
            return f"softmax + cross-entropy, C_x = −log softmax(z{L})_y (y one-hot below)"
        if r.loss == "binary_cross_entropy":
            return f"sigmoid + binary cross-entropy on the logit z{L}, y in {{0, 1}}"
        return f"hinge, C_x = max(0, 1 − t z{L}) with t = ±1"

    def forward(self) -> None:
        r = self.result
        self.lines += ["", "Forward pass (NumPy, from the model's weights)"]
        self.put("a⁰ = x", r.x)
        for layer in r.layers:
            lsup, psup = _sup(layer.index), _sup(layer.index - 1)
            last = layer.index == len(r.layers)
            self.put(f"W{lsup} ({layer.name}, {layer.W.shape[0]}×{layer.W.shape[1]})",
                     layer.W, per_sample=False)
            self.put(f"b{lsup}", layer.b, per_sample=False)
            self.put(f"z{lsup} = W{lsup}a{psup} + b{lsup}", layer.z)
            if not last:
                self.put(f"a{lsup} = {layer.activation}(z{lsup})", layer.a)
            elif r.loss == "hinge":
                self.put(f"a{lsup} = z{lsup} (the score)", layer.a)
            else:
                act = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}.get(
                    r.loss, r.output)
                self.put(f"a{lsup} = {act}(z{lsup})", layer.a)
        self.put("y" if r.loss != "hinge" else "t", r.y)
        self.lines.append(f"  {'C':<34} {r.cost:.{self.precision + 2}g}"
                          f"      (engine's loss: {r.engine_cost:.{self.precision + 2}g})")

    def backward(self) -> None:
        r = self.result
        self.lines += ["", "Backward pass: the four equations, last layer first"]
        for layer in reversed(r.layers):
            lsup, psup, nsup = _sup(layer.index), _sup(layer.index - 1), _sup(layer.index + 1)
            self.lines.append(f"  layer {layer.index} ({layer.name})")
            if layer.index == len(r.layers):
                self.output_error(layer)
            else:
                self.put(f"BP2  (W{nsup})ᵀ δ{nsup}", layer.carried, indent="    ")
                self.put(f"     σ′(z{lsup}) = {layer.activation}′(z{lsup})", layer.sigma_prime,
                         indent="    ")
                self.put(f"     δ{lsup} = ((W{nsup})ᵀ δ{nsup}) ⊙ σ′(z{lsup})", layer.delta,
                         indent="    ")
            self.check(self.z_name(layer) + (f" (= δ{lsup}/n)" if self.batch else ""),
                       layer.errors["delta"])
            mean_of = "(1/n) Σ_x " if self.batch else ""
            self.put(f"BP3  ∂C/∂b{lsup} = {mean_of}δ{lsup}", layer.grad_b, per_sample=False,
                     indent="    ")
            self.check(self.parameter_name(layer, "b"), layer.errors["grad_b"])
            self.put(f"BP4  ∂C/∂W{lsup} = {mean_of}δ{lsup} (a{psup})ᵀ", layer.grad_W,
                     per_sample=False, indent="    ")
            self.check(self.parameter_name(layer, "W"), layer.errors["grad_W"])

    def output_error(self, layer: LayerEquations) -> None:
        r = self.result
        L = _sup(layer.index)
        if r.loss == "mse":
            k = r.y.shape[1]
            self.put(f"BP1  ∇ₐC = (2/k)(a{L} − y), k = {k}", r.grad_a, indent="    ")
            if layer.sigma_prime is not None:
                self.put(f"     σ′(z{L}) = {r.output}′(z{L})", layer.sigma_prime,
                         indent="    ")
                self.put(f"     δ{L} = ∇ₐC ⊙ σ′(z{L})", layer.delta, indent="    ")
            else:
                self.put(f"     δ{L} = (∂a{L}/∂z{L})ᵀ ∇ₐC = a{L} ⊙ (∇ₐC − a{L}·∇ₐC)"
                         f"  (softmax)", layer.delta, indent="    ")
        elif r.loss == "hinge":
            self.put(f"BP1  δ{L} = −t where t z{L} < 1, else 0", layer.delta, indent="    ")
        else:
            name = "softmax + cross-entropy" if r.loss == "cross_entropy" else "sigmoid + BCE"
            self.put(f"BP1  δ{L} = a{L} − y  ({name})", layer.delta, indent="    ")

    def z_name(self, layer: LayerEquations) -> str:
        if self.result.engine == "tensor":
            return f"{layer.name}.z.grad"
        return f"{layer.name}.N*.z grads"

    def parameter_name(self, layer: LayerEquations, which: str) -> str:
        if self.result.engine == "tensor":
            return f"{layer.name}.{which}.grad"
        return f"{layer.name}.N*.{'w*' if which == 'W' else 'b'} grads"

