"""`Tensor`: a NumPy array node in the same graph machinery as `Value`.

A Tensor has the attributes a `Value` has (``data``, ``grad``, ``label``, ``op``,
``parents``, ``local_grads``, ``params``, ``origin``), so `autograd.topological_order`,
the backward loop (`autograd.graph.run_backward`), `no_grad` and `detect_anomaly` work on
it unchanged.  Its ops come from `autograd.tensor_ops` and each local is a
vector-Jacobian product: ``local * g`` is the parent's share of the gradient.

>>> import numpy as np
>>> from autograd import Tensor
>>> W = Tensor([[2.0, 1.0], [-1.0, 3.0]], "W")
>>> x = Tensor([[1.0, -1.0]], "x", requires_grad=False)
>>> loss = (x @ W).relu().sum()      # relu([[3, -2]]) summed: 3
>>> loss.backward()
>>> W.grad
array([[ 1.,  0.],
       [-1.,  0.]])
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np

from autograd import graph
from autograd.ops import Op, add_methods
from autograd.state import ANOMALY, MODE, RECORD, check_forward
from autograd.tensor_ops import NO_GRAD, TENSOR_OPS, ShapeError, TensorOp

__all__ = [
    "Tensor", "apply", "as_tensor", "linear", "cross_entropy", "mse", "log_softmax", "softmax",
    "ShapeError",
]

Operand = Union["Tensor", float, int, np.ndarray]
_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def _float_dtype(dtype: Any) -> np.dtype:
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"Tensor dtype must be float32 or float64, got {dtype!r}") from None
    if resolved not in _FLOAT_DTYPES:
        raise TypeError(f"Tensor dtype must be float32 or float64, got {resolved}")
    return resolved


def ragged_text(values: Any, error: Exception) -> str:
    """Why NumPy could not make `values` an array, in words: the lengths of its rows when
    they differ (NumPy says "inhomogeneous shape"), else NumPy's own message."""
    try:
        lengths = sorted({len(row) for row in values if hasattr(row, "__len__")})
    except TypeError:  # not iterable, or rows without a length
        lengths = []
    if len(lengths) > 1:
        shown = ", ".join(map(str, lengths[:5])) + (", ..." if len(lengths) > 5 else "")
        return f"rows of different lengths: {shown}"
    return str(error)


def _to_array(data: Any, dtype: Any, copy: bool, what: str) -> np.ndarray:
    """`data` as a float32/float64 array; float32 input stays float32 unless `dtype` says."""
    from autograd.value import Value

    if isinstance(data, (Tensor, Value)):
        raise TypeError(f"{what} needs numbers or an array, got a {type(data).__name__} "
                        f"(use .data for its numbers, or .detach())")
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as error:  # ragged nested lists, for one
        raise TypeError(f"{what} needs a rectangular array of real numbers "
                        f"({ragged_text(data, error)})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} needs real numbers, got an array of dtype {arr.dtype}"
                        + (" (holding Values?)" if arr.dtype.kind == "O" else ""))
    if dtype is not None:
        target = _float_dtype(dtype)
    else:
        target = arr.dtype if arr.dtype == np.float32 else np.dtype(np.float64)
    return np.array(arr, dtype=target, copy=True) if copy else arr.astype(target, copy=False)


class _ZeroGrad(float):
    """The ``grad`` of a tensor no backward pass has reached yet: a 0.0 that takes over
    the first array added to it when that array is new, instead of copying it.

    The backward loop does ``parent.grad += contribution``; a plain 0.0 would make that
    a copy of every parameter's gradient on every step.  Contributions come from the
    `VJP` objects of `autograd.tensor_ops`, which return new arrays, views or 0.0 (never
    an array someone else holds), so an array that owns its memory is safe to adopt;
    a view is copied.
    """

    __slots__ = ()

    def __new__(cls) -> _ZeroGrad:
        return super().__new__(cls, 0.0)

    def __add__(self, other: Any) -> Any:
        if type(other) is np.ndarray:
            return other if other.base is None and other.flags.writeable else other.copy()
        if isinstance(other, np.generic):
            return other + 0.0
        if type(other) in (float, int) and other == 0:
            return self
        return float.__add__(self, other)

    __radd__ = __add__

    def __repr__(self) -> str:
        return "0.0"

    def __reduce__(self) -> tuple[type, tuple[float]]:
        return float, (0.0,)


#: the initial ``grad`` of every Tensor (equal to 0.0)
ZERO_GRAD = _ZeroGrad()


class Tensor:
    """An array that remembers how it was computed.

    ``data`` is a float64 (or float32) NumPy array and ``grad`` the gradient of the last
    `backward` root with respect to it: 0.0 until a backward pass reaches the tensor, then
    an array of the tensor's shape (leaves accumulate, as for `Value`).  ``Tensor(data)``
    copies `data`; float32 arrays stay float32, everything else becomes float64 unless
    ``dtype=`` says otherwise.  A Tensor made with ``requires_grad=False`` (data, targets)
    is a constant: no gradient is computed for it and its ``grad`` stays 0.0.  Numbers
    and arrays mixed into an op become constants of the Tensor's dtype.

    A Tensor made by an op keeps ``op`` (its `TensorOp`), its ``parents`` and
    ``local_grads`` (one vector-Jacobian product per parent).  Like `Value`, it holds no
    closures: a graph is freed as soon as its root is dropped.
    """

    __slots__ = ("data", "_grad", "label", "op", "parents", "local_grads", "params", "origin",
                 "requires_grad", "__weakref__")

    # NumPy defers to our reflected operators: ndarray + Tensor -> Tensor.__radd__.
    __array_ufunc__ = None

    data: np.ndarray
    label: str
    op: TensorOp | None
    parents: tuple[Tensor, ...]
    local_grads: tuple[Any, ...]
    params: tuple[Any, ...]
    origin: str | None
    requires_grad: bool

    def __init__(self, data: Any, label: str = "", *, dtype: Any = None,
                 requires_grad: bool = True) -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.data = _to_array(data, dtype, copy=True, what="Tensor")
        self.requires_grad = bool(requires_grad)
        self._grad = ZERO_GRAD
        self.label = label
        self.op = None
        self.parents = ()
        self.local_grads = ()
        self.params = ()
        self.origin = None

    @property
    def grad(self) -> np.ndarray | float:
        """d(root)/d(self) from the last backward pass: 0.0, or an array of this shape."""
        return self._grad

    @grad.setter
    def grad(self, value: np.ndarray | float) -> None:
        # The backward loop resets interior nodes with ``grad = 0.0``; storing ZERO_GRAD
        # instead lets their first contribution be adopted rather than copied.
        self._grad = ZERO_GRAD if type(value) is float and value == 0.0 else value

    # -- array facts -----------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions of ``data``."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements of ``data``."""
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        """float64 or float32."""
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for a tensor made by the user (or a constant), not by an op."""
        return not self.parents

    def numpy(self) -> np.ndarray:
        """``data`` itself (not a copy)."""
        return self.data

    def item(self) -> float:
        """The single number of a one-element tensor, as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return float(self.data.reshape(()))

    def __float__(self) -> float:
        return self.item()

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a Tensor of shape {self.shape} is ambiguous")
        return bool(self.data.reshape(()))

    def summary(self) -> str:
        """Shape, dtype and a few statistics: ``(200, 784) float64 mean=0.01 std=0.05 ...``."""
        head = f"{self.shape} {self.dtype}"
        d = self.data
        if d.size == 0:
            return f"{head} (empty)"
        if d.size == 1:
            return f"{head} {float(d.reshape(())):.6g}"
        with np.errstate(all="ignore"):
            return (f"{head} mean={float(d.mean()):.4g} std={float(d.std()):.4g} "
                    f"min={float(d.min()):.4g} max={float(d.max()):.4g}")

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        if self.data.size <= 12:
            body = np.array2string(self.data, separator=", ", precision=6)
            return f"Tensor({body}, dtype={self.dtype}{label})"
        return f"Tensor(shape={self.shape}, dtype={self.dtype}{label}; {self.summary()})"

    __hash__ = object.__hash__

    # -- gradients ---------------------------------------------------------------------------

    def backward(self, grad: Any = None) -> None:
        """Fill ``grad`` of every tensor this one depends on (reverse-mode chain rule).

        A one-element tensor (a loss) is seeded with 1; any other needs `grad`, an array of
        its own shape: the gradient of some scalar with respect to this tensor.  Leaves
        accumulate across calls; call `zero_grad` between steps.
        """
        graph.run_backward(self, self.backward_seed(grad))

    def backward_seed(self, grad: Any = None) -> np.ndarray:
        """The checked seed a backward pass starts from: ones for a one-element tensor, else
        `grad`, an array of this tensor's shape (copied).  The stepper starts from it too.
        """
        if not self.requires_grad:
            raise ValueError("backward() on a tensor that does not require grad (a constant, "
                             "or made under no_grad): there is nothing to differentiate")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without grad needs a one-element output, this tensor has "
                    f"shape {self.shape}: reduce it first (e.g. .sum()) or pass grad=, an "
                    f"array of shape {self.shape}"
                )
            return np.ones(self.shape, dtype=self.dtype)
        if isinstance(grad, Tensor):
            grad = grad.data
        seed = _to_array(grad, self.dtype, copy=True, what="backward(grad=...)")
        if seed.shape != self.shape:
            raise ShapeError(f"backward: grad has shape {seed.shape} but the tensor has "
                             f"shape {self.shape}")
        return seed

    def zero_grad(self) -> None:
        """Reset ``grad`` to 0.0 on every node of this tensor's graph (like `Value.zero_grad`)."""
        for node in graph.topological_order(self):
            node._grad = ZERO_GRAD

    def detach(self) -> Tensor:
        """A new leaf holding the same array (not a copy), cut off from this graph."""
        out = _leaf(self.data, self.requires_grad)
        out.label = self.label
        return out

    # -- arithmetic ----------------------------------------------------------------------

    def __add__(self, other: Operand) -> Tensor:
        return _binary(_ADD, self, other, False)

    def __radd__(self, other: Operand) -> Tensor:
        return _binary(_ADD, self, other, True)

    def __sub__(self, other: Operand) -> Tensor:
        return _binary(_SUB, self, other, False)

    def __rsub__(self, other: Operand) -> Tensor:
        return _binary(_SUB, self, other, True)

    def __mul__(self, other: Operand) -> Tensor:
        return _binary(_MUL, self, other, False)

    def __rmul__(self, other: Operand) -> Tensor:
        return _binary(_MUL, self, other, True)

    def __truediv__(self, other: Operand) -> Tensor:
        return _binary(_DIV, self, other, False)

    def __rtruediv__(self, other: Operand) -> Tensor:
        return _binary(_DIV, self, other, True)

    def __matmul__(self, other: Operand) -> Tensor:
        return _binary(_MATMUL, self, other, False)

    def __rmatmul__(self, other: Operand) -> Tensor:
        return _binary(_MATMUL, self, other, True)

    def __pow__(self, exponent: Operand) -> Tensor:
        """``t**2`` treats 2 as a constant; ``t**u`` with a Tensor u differentiates both."""
        if isinstance(exponent, Tensor):
            return apply(_POW, (self, exponent))
        if isinstance(exponent, numbers.Real):
            return apply(_POWC, (self,), (exponent,))
        return _binary(_POW, self, exponent, False)

    def __rpow__(self, base: Operand) -> Tensor:
        return _binary(_POW, self, base, True)

    def __neg__(self) -> Tensor:
        return apply(_NEG, (self,))

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return apply(TENSOR_OPS["abs"], (self,))

    # -- elementwise functions -----------------------------------------------------------

    def abs(self) -> Tensor:
        """|x|; subgradient 0 at x = 0."""
        return apply(TENSOR_OPS["abs"], (self,))

    def exp(self) -> Tensor:
        """e**x (inf on overflow)."""
        return apply(TENSOR_OPS["exp"], (self,))

    def log(self) -> Tensor:
        """Natural log; log(0) = -inf, log(x < 0) = nan."""
        return apply(TENSOR_OPS["log"], (self,))

    def sqrt(self) -> Tensor:
        """Square root; nan below 0."""
        return apply(TENSOR_OPS["sqrt"], (self,))

    def tanh(self) -> Tensor:
        """Hyperbolic tangent."""
        return apply(TENSOR_OPS["tanh"], (self,))

    def sigmoid(self) -> Tensor:
        """1 / (1 + e**-x), without overflow for any x."""
        return apply(TENSOR_OPS["sigmoid"], (self,))

    def relu(self) -> Tensor:
        """max(x, 0); subgradient 0 at x = 0."""
        return apply(TENSOR_OPS["relu"], (self,))

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        """x for x > 0, slope*x otherwise; subgradient `slope` at x = 0."""
        return apply(TENSOR_OPS["leaky_relu"], (self,), (slope,))

    def softplus(self) -> Tensor:
        """log(1 + e**x), without overflow for any x."""
        return apply(TENSOR_OPS["softplus"], (self,))

    def sin(self) -> Tensor:
        """Sine."""
        return apply(TENSOR_OPS["sin"], (self,))

    def cos(self) -> Tensor:
        """Cosine."""
        return apply(TENSOR_OPS["cos"], (self,))

    # -- reductions and shapes -----------------------------------------------------------

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over `axis` (all axes by default)."""
        return apply(TENSOR_OPS["sum"], (self,), (axis, keepdims))

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over `axis` (all axes by default)."""
        return apply(TENSOR_OPS["mean"], (self,), (axis, keepdims))

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same numbers in a new shape: ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(TENSOR_OPS["reshape"], (self,), (tuple(shape),))

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """Axes permuted (reversed when none are given), like ``ndarray.transpose``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return apply(TENSOR_OPS["transpose"], (self,), (tuple(axes),))

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        """The transpose (axes reversed)."""
        return self.transpose()

    def log_softmax(self, axis: int = -1) -> Tensor:
        """log(softmax(x)) over `axis`, finite for any finite input."""
        return apply(TENSOR_OPS["log_softmax"], (self,), (axis,))

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(log_softmax(x)): probabilities along `axis`, stable for large inputs."""
        return self.log_softmax(axis).exp()

    def cross_entropy(self, targets: Any, reduction: str = "mean") -> Tensor:
        """Cross-entropy of these logits against integer class `targets` (see `cross_entropy`)."""
        return cross_entropy(self, targets, reduction)


_ADD, _SUB, _MUL, _DIV = (TENSOR_OPS[n] for n in ("add", "sub", "mul", "div"))
_POW, _POWC, _NEG, _MATMUL = (TENSOR_OPS[n] for n in ("pow", "powc", "neg", "matmul"))

_new_tensor = object.__new__


def _leaf(data: np.ndarray, requires_grad: bool) -> Tensor:
    node = _new_tensor(Tensor)
    node.data = data
    node.requires_grad = requires_grad
    node._grad = ZERO_GRAD
    node.label = ""
    node.op = None
    node.parents = ()
    node.local_grads = ()
    node.params = ()
    node.origin = None
    return node


def as_tensor(x: Operand, dtype: Any = None) -> Tensor:
    """`x` itself if it is a Tensor, else a constant (``requires_grad=False``) holding it.

    The array is not copied when it already has the right dtype.
    """
    if isinstance(x, Tensor):
        return x
    return _leaf(_to_array(x, dtype, copy=False, what="as_tensor"), False)


def _constant_like(x: object, like: Tensor) -> Tensor | None:
    if isinstance(x, (numbers.Real, np.ndarray, np.generic, list, tuple)):
        return _leaf(_to_array(x, like.data.dtype, copy=False, what="a Tensor op"), False)
    return None


def _binary(op: TensorOp, tensor: Tensor, other: object, reflected: bool) -> Tensor:
    if not isinstance(other, Tensor):
        constant = _constant_like(other, tensor)
        if constant is None:
            from autograd.value import Value

            if isinstance(other, Value):
                raise TypeError(f"{op.name}: cannot mix a Tensor and a Value; use "
                                f"Tensor(value.data) or build the whole graph from one kind")
            return NotImplemented
        other = constant
    return apply(op, (other, tensor) if reflected else (tensor, other))


def apply(op: TensorOp, inputs: Sequence[Tensor], params: tuple[Any, ...] = ()) -> Tensor:
    """Run `op` on `inputs`: the new tensor's data, and (when recording) its graph links.

    A graph is recorded when gradients are enabled and some input requires a gradient;
    inputs that need none get the local `NO_GRAD`, so their VJP is never computed.  An op
    with ``forward_with_grads`` computes its output and locals together when recording.
    """
    datas = [t.data for t in inputs]
    check = op.check
    if check is not None:
        params = check(*datas, *params)
    needed = [t.requires_grad for t in inputs]
    mode = MODE.get()
    recording = mode & RECORD and True in needed
    if recording and op.forward_with_grads is not None:
        out, local_grads = op.forward_with_grads(*datas, *params)
    else:
        out = op.forward(*datas, *params)
        local_grads = None
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    node = _new_tensor(Tensor)
    node.data = out
    node._grad = ZERO_GRAD
    node.label = ""
    node.origin = None
    node.params = params
    if recording:
        node.requires_grad = True
        node.op = op
        node.parents = inputs if type(inputs) is tuple else tuple(inputs)
        if local_grads is None:
            local_grads = op.local_grads(out, *datas, *params)
        if False in needed:
            local_grads = tuple(local if t.requires_grad else NO_GRAD
                                for t, local in zip(inputs, local_grads))
        node.local_grads = local_grads
        if mode & ANOMALY:
            check_forward(node)
    else:
        node.requires_grad = False
        node.op = None
        node.parents = ()
        node.local_grads = ()
    return node


def _elementwise_method(op: Op) -> Callable[..., Tensor]:
    """``t.name(*params)``: a one-input op of the scalar table on every element."""

    def method(self: Tensor, *params: Any) -> Tensor:
        return apply(TENSOR_OPS[op.name], (self,), params)

    method.__doc__ = f"{op.name} of every element (the scalar table's op, elementwise)."
    return method


add_methods(Tensor, _elementwise_method)


def linear(x: Operand, weight: Tensor, bias: Tensor) -> Tensor:
    """A layer's ``x @ W.T + b`` as one node, W of shape (out, in) as in PyTorch.

    The same numbers as the three ops, with one array and one node instead of three.
    `x` may be (in,), (n, in) or (..., in); numbers and arrays become constants.
    """
    weight = _require_tensor(weight, "linear", "weights")
    bias = as_tensor(bias, weight.dtype)
    if not isinstance(x, Tensor):
        x = as_tensor(x, weight.dtype)
    return apply(TENSOR_OPS["linear"], (x, weight, bias))


def _require_tensor(x: object, name: str, what: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}() expects a Tensor of {what}, got {type(x).__name__}")
    return x


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log(softmax(x)) over `axis`, computed as x - logsumexp(x) with the max shifted out."""
    return _require_tensor(x, "log_softmax", "logits").log_softmax(axis)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Probabilities along `axis`: exp(log_softmax(x))."""
    return _require_tensor(x, "softmax", "logits").softmax(axis)


def cross_entropy(logits: Tensor, targets: Any, reduction: str = "mean") -> Tensor:
    """Cross-entropy of `logits` (..., C) against integer class `targets` (...).

    ``mean(logsumexp(z) - z[target])`` over rows (``reduction="sum"`` for the sum),
    stable for large logits; its gradient is ``(softmax(z) - onehot(target)) / N``.
    """
    logits = _require_tensor(logits, "cross_entropy", "logits")
    if isinstance(targets, Tensor):
        targets = targets.data
        if np.any(targets != np.round(targets)):
            raise TypeError("cross_entropy: targets must be integer class indices")
        targets = targets.astype(np.int64)
    return apply(TENSOR_OPS["cross_entropy"], (logits,), (targets, reduction))


def mse(predictions: Tensor, targets: Operand) -> Tensor:
    """Mean squared error over all elements: mean((p - t)**2).

    Shapes must match exactly, so an (N, 1) prediction against an (N,) target is an
    error rather than a silent (N, N) broadcast.
    """
    predictions = _require_tensor(predictions, "mse", "predictions")
    target_shape = targets.shape if isinstance(targets, Tensor) else np.shape(targets)
    if tuple(target_shape) != predictions.shape:
        raise ShapeError(f"mse: predictions of shape {predictions.shape} and targets of shape "
                         f"{tuple(target_shape)} differ (mse does not broadcast)")
    return ((predictions - targets) ** 2).mean()
