"""The tensor engine's MLP: a weight matrix per layer, a batch per forward pass.

``MLP(nin, nouts, ..., engine="tensor")`` (or ``TensorMLP(nin, nouts, ...)``) builds a
model whose layer k holds ``L{k}.W``, a `Tensor` of shape (n_outputs, n_inputs)
(PyTorch's layout: row j is neuron j's weights), and ``L{k}.b`` of shape (n_outputs,).
A layer computes ``activation(x @ W.T + b)`` for a whole batch ``x`` of shape
(n, n_inputs) as one fused ``linear`` node (``fused=False``: the three nodes
``x @ W.T + b``).

It has the public methods of the scalar `mlp.nn.ValueMLP` and starts from the same weights
for the same arguments and seed (the weights are drawn from the same random stream in
the same order), so a tiny net can be stepped through on scalars and the big one trained
on arrays with the same code:

>>> import numpy as np
>>> from mlp import MLP
>>> small = MLP(2, [3, 2], seed=0)
>>> fast = MLP(2, [3, 2], seed=0, engine="tensor")
>>> [np.array_equal(a, b) for (a, _), (b, _) in zip(small.get_weights(), fast.get_weights())]
[True, True]
>>> fast(np.zeros((5, 2))).shape
(5, 2)
"""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N803

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd import no_grad
from autograd.tensor import Tensor, as_tensor, linear, ragged_text
from mlp.base import (
    MLP,
    Layer,
    LayerSpec,
    LayerWeights,
    _check_finite,
    _initial_weight,
)

if TYPE_CHECKING:
    from mlp.losses import Loss

__all__ = ["TensorLayer", "TensorMLP"]


def _initial_matrix(rng: random.Random, scheme: str, nin: int, nout: int) -> np.ndarray:
    """(nout, nin) weights drawn in the scalar engine's order: neuron by neuron, input by
    input, each with `_initial_weight` (so both engines start from the same numbers).

    The draws are replayed in bulk (`_bulk_draws`) when they can be, leaving `rng` in the
    same state as one call per weight would: the same numbers, about four times sooner
    (the 199k draws of MNIST's 784-200-200-10 net: 0.05 s instead of 0.2 s).
    """
    bulk = _bulk_draws(rng, scheme, nin, nout)
    if bulk is not None:
        return bulk.reshape(nout, nin)
    return np.array([[_initial_weight(rng, scheme, nin, nout) for _ in range(nin)]
                     for _ in range(nout)], dtype=np.float64).reshape(nout, nin)


class _DrawProbe:
    """Stands in for a `random.Random` to learn which draw `_initial_weight` makes for a
    scheme (its one definition), without drawing anything."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, float]] = []

    def gauss(self, mu: float, sigma: float) -> float:
        self.calls.append(("gauss", mu, sigma))
        return 0.0

    def uniform(self, a: float, b: float) -> float:
        self.calls.append(("uniform", a, b))
        return 0.0


_TWO_PI = 2.0 * math.pi


def _next_randoms(rng: random.Random, count: int) -> np.ndarray:
    """The next `count` numbers ``rng.random()`` returns, at once: CPython's recipe (two
    32-bit words: 27 high bits, then 26, over 2**53), from ``getrandbits``, whose words
    come least significant first.  Each step is exact, so the floats are the same."""
    if count == 0:
        return np.zeros(0)
    words = np.frombuffer(rng.getrandbits(64 * count).to_bytes(8 * count, "little"),
                          dtype="<u4")
    high = (words[0::2] >> 5).astype(np.float64)
    low = (words[1::2] >> 6).astype(np.float64)
    return (high * 67108864.0 + low) * (1.0 / 9007199254740992.0)


def _replay_gauss(rng: random.Random, count: int, mu: float, sigma: float) -> np.ndarray:
    """`count` calls of ``rng.gauss(mu, sigma)`` at once, `rng` left as they leave it.

    CPython's gauss makes normals in pairs (Box-Muller: cos, then sin, kept in
    ``gauss_next`` for the next call).  The arithmetic is IEEE-exact in NumPy as in Python;
    log, cos and sin go through `math`, as in `random`, so no libm can differ.
    """
    version, _, pending = rng.getstate()
    out = np.empty(count)
    done = 0
    if pending is not None and count:
        out[0] = mu + pending * sigma
        done, pending = 1, None
    pairs = (count - done + 1) // 2
    u = _next_randoms(rng, 2 * pairs)
    x2pi = u[0::2] * _TWO_PI
    log = np.fromiter(map(math.log, (1.0 - u[1::2]).tolist()), np.float64, pairs)
    g2rad = np.sqrt(-2.0 * log)
    z = np.empty(2 * pairs)
    z[0::2] = np.fromiter(map(math.cos, x2pi.tolist()), np.float64, pairs) * g2rad
    z[1::2] = np.fromiter(map(math.sin, x2pi.tolist()), np.float64, pairs) * g2rad
    out[done:] = mu + z[:count - done] * sigma
    if (count - done) % 2:
        pending = float(z[-1])
    rng.setstate((version, rng.getstate()[1], pending))
    return out


def _bulk_draws(rng: random.Random, scheme: str, nin: int, nout: int) -> np.ndarray | None:
    """``nin * nout`` calls of `_initial_weight` at once, or None when that cannot be
    proved to give the same numbers (then the caller draws one by one, nothing drawn yet).

    Only a plain `random.Random` (a subclass may draw differently); the scheme's draw is
    read from `_initial_weight` itself, and the first few bulk numbers are checked against
    the genuine calls on a copy of the generator before `rng` is kept moved.
    """
    if type(rng) is not random.Random:
        return None
    probe = _DrawProbe()
    try:
        _initial_weight(probe, scheme, nin, nout)  # type: ignore[arg-type]
    except AttributeError:  # a draw the probe does not know
        return None
    if len(probe.calls) != 1:
        return None
    kind, a, b = probe.calls[0]
    count = nin * nout
    state = rng.getstate()
    if kind == "gauss":
        drawn = _replay_gauss(rng, count, a, b)
    else:
        drawn = a + (b - a) * _next_randoms(rng, count)
    witness = random.Random()
    witness.setstate(state)
    first = [_initial_weight(witness, scheme, nin, nout) for _ in range(min(count, 3))]
    if first != drawn[:len(first)].tolist():
        rng.setstate(state)
        return None
    return drawn


def _as_input(x: Any, n_inputs: int, owner: str, dtype: np.dtype, *,
              batch_only: bool = False) -> Tensor:
    """A sample (n_inputs,) or a batch (n, n_inputs) as a Tensor of `dtype` (arrays
    become constants; a Tensor of another dtype is refused, since converting it would
    cut it off from its gradient)."""
    if isinstance(x, Tensor):
        if x.dtype != dtype:
            raise TypeError(f"{owner} computes in {dtype}, got a {x.dtype} Tensor; make the "
                            f"input {dtype} (Tensor(x.data, dtype='{dtype}'))")
    else:
        try:
            array = np.asarray(x)
        except (TypeError, ValueError) as error:  # ragged lists
            raise TypeError(f"{owner} needs a rectangular array of numbers "
                            f"({ragged_text(x, error)})") from None
        if array.dtype == np.bool_:
            array = array.astype(np.float64)
        if array.dtype.kind not in "iuf":
            raise TypeError(f"{owner} needs real numbers, got an array of dtype {array.dtype}"
                            + (" (Values? use the value engine, or their .data)"
                               if array.dtype.kind == "O" else ""))
        _check_finite(array, owner)
        x = as_tensor(array, dtype)
    shape = x.shape
    wanted = f"(n, {n_inputs})" if batch_only else f"({n_inputs},) or (n, {n_inputs})"
    if x.ndim not in ((2,) if batch_only else (1, 2)) or shape[-1] != n_inputs:
        raise ValueError(f"{owner} expects input of shape {wanted}, got shape {shape}")
    return x


class TensorLayer(Layer):
    """`nout` neurons reading the same `nin` inputs, as one matrix.

    ``W`` is a `Tensor` of shape (nout, nin) labelled ``{name}.W`` and ``b`` one of shape
    (nout,) labelled ``{name}.b``, both of the layer's `dtype` (float64 or float32).
    Calling the layer on x of shape (nin,) or (n, nin) gives ``activation(x @ W.T + b)``
    of shape (nout,) or (n, nout).  The arguments (`mlp.base.Layer`'s) and the initial
    weights are those of `mlp.nn.ValueLayer` (rounded to float32 for float32).
    """

    engine = "tensor"

    def _make(self, spec: LayerSpec, fused: bool) -> None:
        self._fused = fused
        self.W = Tensor(_initial_matrix(spec.rng, spec.init, spec.nin, spec.nout),
                        f"{self.name}.W", dtype=spec.dtype)
        self.b = Tensor(np.zeros(spec.nout), f"{self.name}.b", dtype=spec.dtype)
        self._z_label = f"{self.name}.z"
        self._a_label = f"{self.name}.a"

    @property
    def fused(self) -> bool:
        """Whether ``x @ W.T + b`` is one ``linear`` node (False: three nodes)."""
        return self._fused

    @fused.setter
    def fused(self, value: bool) -> None:
        self._fused = bool(value)

    @property
    def n_inputs(self) -> int:
        """How many inputs each neuron takes."""
        return self.W.shape[1]

    @property
    def n_outputs(self) -> int:
        """How many neurons (outputs) the layer has."""
        return self.W.shape[0]

    def parameters(self) -> list[Tensor]:
        """``[W, b]``."""
        return [self.W, self.b]

    def zero_grad(self) -> None:
        """Set the gradients of W and b to 0."""
        self.W.grad = 0.0
        self.b.grad = 0.0

    def __call__(self, x: Any) -> Tensor:
        """``activation(x @ W.T + b)`` for x of shape (nin,) or (n, nin)."""
        return self.forward(_as_input(x, self.n_inputs, f"layer {self.name}", self.W.dtype))

    def forward(self, x: Tensor) -> Tensor:
        """The outputs for a Tensor already checked to have ``nin`` columns."""
        z = linear(x, self.W, self.b) if self.fused else x @ self.W.T + self.b
        z.label = self._z_label
        activation = self.activation
        if activation == "linear":
            return z
        if activation == "leaky_relu":
            a = z.leaky_relu(self.negative_slope)
        else:
            a = getattr(z, activation)()  # relu, tanh or sigmoid: Tensor methods
        a.label = self._a_label
        return a

    def get_weights(self) -> LayerWeights:
        """(W, b) as new float64 arrays; ``W[j, i]`` is neuron j's weight for input i."""
        return (np.array(self.W.data, dtype=np.float64, copy=True),
                np.array(self.b.data, dtype=np.float64, copy=True))

    def get_gradients(self) -> LayerWeights:
        """(dW, db): the parameters' ``grad`` as new arrays shaped like `get_weights`."""
        return (np.broadcast_to(np.asarray(self.W.grad, dtype=np.float64), self.W.shape).copy(),
                np.broadcast_to(np.asarray(self.b.grad, dtype=np.float64), self.b.shape).copy())

    def _write_weights(self, weight: np.ndarray, bias: np.ndarray) -> None:
        """Copy checked arrays in, in place (optimizers keep the Tensors); grads become 0."""
        self.W.data[...] = weight
        self.b.data[...] = bias
        self.zero_grad()


class TensorMLP(MLP):
    """A multi-layer perceptron on the tensor engine; ``MLP(..., engine="tensor")``.

    The arguments are `mlp.base.MLP`'s, with the same meaning and the same initial weights;
    ``dtype="float32"`` keeps parameters, activations and gradients in float32 (half the
    memory; about 7 significant digits).
    Inputs are a sample of shape (n_inputs,) or a batch (n, n_inputs), as arrays, lists
    or Tensors (a Tensor input with ``requires_grad`` gets a gradient too); outputs are
    Tensors of shape (n_outputs,) or (n, n_outputs).  Arrays and lists must be finite
    (NaN or infinity is refused); Tensors are used as they are.
    """

    engine = "tensor"
    layer_type = TensorLayer
    layers: list[TensorLayer]

    @property
    def _np_dtype(self) -> np.dtype:
        return self.layers[0].W.dtype

    # -- parameters ---------------------------------------------------------------------

    def weights(self) -> list[Tensor]:
        """The weight matrices only (no biases): what L2 regularization usually penalizes."""
        return [layer.W for layer in self.layers]

    def biases(self) -> list[Tensor]:
        """The bias vectors only."""
        return [layer.b for layer in self.layers]

    # -- forward ------------------------------------------------------------------------

    def __call__(self, x: Any) -> Tensor:
        """The outputs (after the output activation) for a sample or a batch."""
        return self.forward(x)

    def forward(self, x: Any) -> Tensor:
        """The outputs (after the output activation) for a sample or a batch."""
        return self._apply_output(self.logits(x))

    def logits(self, x: Any) -> Tensor:
        """The last layer's weighted sums for a sample or a batch (before the output)."""
        h = _as_input(x, self.n_inputs, "MLP", self._np_dtype)
        for layer in self.layers:
            h = layer.forward(h)
        return h

    def forward_batch(self, X: Any, *, logits: bool = False) -> Tensor:
        """Outputs (or `logits`) for every sample (row) of `X`: a Tensor (n, n_outputs)."""
        return self._through_layers(
            _as_input(X, self.n_inputs, "MLP", self._np_dtype, batch_only=True), logits)

    def _through_layers(self, h: Tensor, logits: bool) -> Tensor:
        """Outputs (or `logits`) for a batch Tensor of the model's dtype, (n, n_inputs)."""
        for layer in self.layers:
            h = layer.forward(h)
        return h if logits else self._apply_output(h)

    def _apply_output(self, z: Tensor) -> Tensor:
        if self.output == "linear":
            return z
        out = z.sigmoid() if self.output == "sigmoid" else z.softmax(axis=-1)
        out.label = "out"
        return out

    def batch_loss(self, loss: Loss, X: np.ndarray, targets: np.ndarray
                   ) -> tuple[Tensor, np.ndarray]:
        """The loss of the whole batch as one node of the Tensor op table (the mean over
        the samples), and the logits or outputs it read (see `MLP.batch_loss`).

        `X` comes checked (finite real numbers, from `mlp.train`), so its numbers are not
        read a second time (as `forward_batch` reads a user's): only its shape is checked,
        and it becomes a constant of the model's dtype.
        """
        if not isinstance(X, np.ndarray) or X.ndim != 2 or X.shape[1] != self.n_inputs:
            got = f"shape {X.shape}" if isinstance(X, np.ndarray) else type(X).__name__
            raise ValueError(f"batch_loss needs a checked array of shape (n, "
                             f"{self.n_inputs}), got {got}")
        outs = self._through_layers(as_tensor(X, self._np_dtype), loss.reads_logits)
        total = loss(outs, targets)
        if not isinstance(total, Tensor):
            raise TypeError(f"loss {loss.name!r} did not return a Tensor for a Tensor batch; "
                            f"the tensor engine needs losses that take Tensors")
        return total, outs.data

    def forward_array(self, X: Any, *, logits: bool = False) -> np.ndarray:
        """Outputs (or `logits`) for a batch as a float array of shape (n, n_outputs)."""
        with no_grad():
            return self.forward_batch(X, logits=logits).data

    def _probabilities(self, X: Any) -> np.ndarray:
        """Outputs read as probabilities, (n, n_outputs) (see `MLP.predict_proba`)."""
        with no_grad():
            out = self.forward_batch(X, logits=self.output == "linear")
            if self.output == "linear":
                out = out.softmax(axis=-1) if self.n_outputs > 1 else out.sigmoid()
        return np.asarray(out.data, dtype=np.float64)
