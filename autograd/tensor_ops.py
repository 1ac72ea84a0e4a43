"""The Tensor op table: each array operation's forward, its vector-Jacobian products, and
their formulas as text, stated once.

This is the array counterpart of `autograd.ops`, and uses the same `Op` entry type
(through the `TensorOp` subclass), so the renderer and the stepper read both tables
the same way.  An entry's conventions:

* ``forward(*arrays, *params) -> ndarray`` computes the output.
* ``local_grads(out, *arrays, *params)`` returns, for every input, a *vector-Jacobian
  product* object ``vjp`` (a `VJP`): ``vjp * g`` turns the gradient ``g`` of the loss
  with respect to the output into the input's share of the gradient, in the input's
  shape.  That is what the backward loop does with every local, so `Value` and
  `Tensor` graphs share one loop (`autograd.graph.run_backward`).
* ``derivatives`` state each VJP as text in terms of ``g`` (the upstream gradient),
  ``out`` (the op's result), the ``input_names`` and ``params``:
  ``TensorOp.formula`` gives e.g. ``d(A@B)/dA: g @ B.T``.
* ``check(*arrays, *params) -> params`` runs before the forward: it raises `ShapeError`
  naming the op and the shapes, and returns the params normalized (e.g. axes).
* ``forward_with_grads(*arrays, *params) -> (out, locals)``, optional: the output and the
  locals in one pass, for an op whose locals reuse what its forward computed (the
  softmax of ``cross_entropy``).  A recording op calls it instead of ``forward`` and
  ``local_grads``; it must give the numbers those two give, bit for bit.

Broadcasting follows NumPy.  Where an input was broadcast, its gradient is summed back
over the broadcast axes; the formulas write that ``sum_to(x, a.shape)``.

Floating-point semantics match the scalar table: IEEE results (``log(0) = -inf``,
``exp(1000) = inf``), no exceptions and no NumPy warnings; subgradients at kinks follow
PyTorch (``relu'(0) = 0``, ``abs'(0) = 0``, ``leaky_relu'(0) = slope``).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import formula
from autograd.formula import Derivative, number_text
from autograd.ops import OPS, Op, on_register

__all__ = [
    "TensorOp", "TENSOR_OPS", "get_tensor_op", "ShapeError", "VJP", "NO_GRAD", "SumTo",
    "Elementwise", "MatmulVJP", "LinearVJP", "ReduceVJP", "ReshapeVJP", "TransposeVJP",
    "LogSoftmaxVJP", "sum_to", "normalize_axis",
]

Array = np.ndarray
Axis = int | tuple[int, ...] | None


class ShapeError(ValueError):
    """Operand shapes (or an axis, or a target) that an op cannot take."""


# -- vector-Jacobian products -------------------------------------------------------------


def sum_to(g: Array, shape: tuple[int, ...]) -> Array:
    """Sum `g` over the axes that broadcasting added or stretched, giving `shape`."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


def _describe(x: object) -> str:
    if isinstance(x, np.ndarray):
        return f"array{x.shape}"
    return repr(x)


class VJP:
    """A local derivative of an array op: ``vjp * g`` is the input's gradient share.

    ``__mul__`` must return a new array, a view, or 0.0, never an array that another
    object holds (`autograd.tensor` adopts new arrays as gradients without copying).
    """

    __slots__ = ()

    def __mul__(self, g: Array) -> Array | float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


class _NoGrad(VJP):
    """The local of an input that needs no gradient (a constant): contributes 0.0."""

    __slots__ = ()

    def __mul__(self, g: Array) -> float:
        return 0.0

    def __repr__(self) -> str:
        return "NO_GRAD"


#: the local stored for inputs that do not require a gradient
NO_GRAD = _NoGrad()


class SumTo(VJP):
    """``sign * g``, summed over broadcast axes to the input's shape (add, sub)."""

    __slots__ = ("shape", "negate")

    def __init__(self, shape: tuple[int, ...], negate: bool = False) -> None:
        self.shape = shape
        self.negate = negate

    def __mul__(self, g: Array) -> Array:
        if self.negate:
            return -sum_to(g, self.shape)
        summed = sum_to(g, self.shape)
        # g itself belongs to the child node: hand out a view so nobody adopts it.
        return summed.view() if summed is g else summed

    def __repr__(self) -> str:
        return f"SumTo({'-' if self.negate else ''}g -> {self.shape})"


class Elementwise(VJP):
    """``derivative * g`` (elementwise), summed over broadcast axes to the input's shape."""

    __slots__ = ("derivative", "shape")

    def __init__(self, derivative: Array | float, shape: tuple[int, ...]) -> None:
        self.derivative = derivative
        self.shape = shape

    def __mul__(self, g: Array) -> Array:
        return sum_to(self.derivative * g, self.shape)

    def __repr__(self) -> str:
        return f"Elementwise({_describe(self.derivative)} * g -> {self.shape})"


class MatmulVJP(VJP):
    """For ``out = A @ B``: ``g @ B.T`` (side 0) or ``A.T @ g`` (side 1), NumPy matmul rules."""

    __slots__ = ("other", "side", "shape")

    def __init__(self, other: Array, side: int, shape: tuple[int, ...]) -> None:
        self.other = other
        self.side = side
        self.shape = shape

    def __mul__(self, g: Array) -> Array:
        other = self.other
        if other.ndim == 2 and len(self.shape) == 2:  # the MLP case, without reshaping
            return g @ other.T if self.side == 0 else other.T @ g
        # General case: promote 1-D operands to matrices as np.matmul does, then undo.
        if self.side == 0:
            a_shape, b = self.shape, other
            a2 = (1, *a_shape) if len(a_shape) == 1 else a_shape
            b2 = b[:, None] if b.ndim == 1 else b
            g2 = g
            if len(a_shape) == 1:
                g2 = np.expand_dims(g2, -2 if b.ndim > 1 else (-1, -2))
            elif b.ndim == 1:
                g2 = np.expand_dims(g2, -1)
            return sum_to(g2 @ np.swapaxes(b2, -1, -2), a2).reshape(a_shape)
        a, b_shape = other, self.shape
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = (*b_shape, 1) if len(b_shape) == 1 else b_shape
        g2 = g
        if len(b_shape) == 1:
            g2 = np.expand_dims(g2, -1 if a.ndim > 1 else (-1, -2))
        elif a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        return sum_to(np.swapaxes(a2, -1, -2) @ g2, b2).reshape(b_shape)

    def __repr__(self) -> str:
        which = "g @ B.T" if self.side == 0 else "A.T @ g"
        return f"MatmulVJP({which}, {'B' if self.side == 0 else 'A'}={_describe(self.other)})"


class ReduceVJP(VJP):
    """For ``sum``/``mean`` over `axis`: ``g`` broadcast back to the input's shape (times 1/n)."""

    __slots__ = ("shape", "axis", "keepdims", "scale")

    def __init__(self, shape: tuple[int, ...], axis: tuple[int, ...], keepdims: bool,
                 scale: float = 1.0) -> None:
        self.shape = shape
        self.axis = axis
        self.keepdims = keepdims
        self.scale = scale

    def __mul__(self, g: Array) -> Array:
        if not self.keepdims:
            g = np.expand_dims(g, self.axis)
        if self.scale != 1.0:
            g = g * self.scale
        return np.broadcast_to(g, self.shape)

    def __repr__(self) -> str:
        scale = "" if self.scale == 1.0 else f" * {self.scale:g}"
        return f"ReduceVJP(g{scale} broadcast over axes {self.axis} -> {self.shape})"


class ReshapeVJP(VJP):
    """For ``reshape``: ``g`` reshaped back to the input's shape."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def __mul__(self, g: Array) -> Array:
        return g.reshape(self.shape)

    def __repr__(self) -> str:
        return f"ReshapeVJP(g -> {self.shape})"


class TransposeVJP(VJP):
    """For ``transpose(axes)``: ``g`` transposed by the inverse permutation."""

    __slots__ = ("inverse",)

    def __init__(self, axes: tuple[int, ...]) -> None:
        self.inverse = tuple(int(i) for i in np.argsort(axes))

    def __mul__(self, g: Array) -> Array:
        return g.transpose(self.inverse)

    def __repr__(self) -> str:
        return f"TransposeVJP(g.transpose{self.inverse})"


class LinearVJP(VJP):
    """For ``out = x @ W.T + b``: ``g @ W`` (x), ``g.T @ x`` (W) or ``sum(g)`` over rows (b)."""

    __slots__ = ("side", "x", "weight")

    def __init__(self, side: int, x: Array, weight: Array) -> None:
        self.side = side
        self.x = x
        self.weight = weight

    def __mul__(self, g: Array) -> Array:
        if self.side == 0:
            return g @ self.weight
        rows = g.reshape(-1, g.shape[-1])
        if self.side == 1:
            return rows.T @ self.x.reshape(-1, self.x.shape[-1])
        return rows.sum(axis=0)

    def __repr__(self) -> str:
        which = ("g @ W", "g.T @ x", "sum of g over rows")[self.side]
        return f"LinearVJP({which}, x={_describe(self.x)}, W={_describe(self.weight)})"


class LogSoftmaxVJP(VJP):
    """For ``log_softmax`` over `axis`: ``g - softmax * sum(g, axis)``."""

    __slots__ = ("softmax", "axis")

    def __init__(self, softmax: Array, axis: int) -> None:
        self.softmax = softmax
        self.axis = axis

    def __mul__(self, g: Array) -> Array:
        return g - self.softmax * g.sum(axis=self.axis, keepdims=True)

    def __repr__(self) -> str:
        return (f"LogSoftmaxVJP(g - softmax * sum(g, axis={self.axis}), "
                f"softmax={_describe(self.softmax)})")


# -- the entry type -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TensorOp:
    """An op over arrays: its forward, its VJPs (``local_grads``) and their formulas.

    An elementwise op (``scalar`` set) states no formula of its own: its VJP is
    ``sum_to(g * local, a.shape)`` with the scalar table's local derivative, so both
    engines read one definition.  The others write each VJP as a template in the
    table's input names, the upstream gradient ``{g}`` and ``{out}``, e.g.
    ``{g} @ {B}.T``.  ``check(*arrays, *params)`` validates shapes and params before the
    forward runs and returns the params normalized.
    """

    name: str
    symbol: str
    forward: Callable[..., Any]
    local_grads: Callable[..., Any] = field(repr=False)
    input_names: tuple[str, ...] = ("a",)
    vjp_texts: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    kinks: tuple[float, ...] = ()
    check: Callable[..., tuple[Any, ...]] | None = field(default=None, repr=False)
    #: the scalar op this elementwise op applies to every element (its one definition)
    scalar: Op | None = field(default=None, repr=False)
    #: the forward expression as a template in the input names, e.g. ``{A}@{B}``
    template: str = ""
    nary: bool = False
    #: the output and its locals at once (see the module); None: forward, then local_grads
    forward_with_grads: Callable[..., tuple[Any, tuple[VJP, ...]]] | None = field(
        default=None, repr=False)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return get_tensor_op, (self.name,)

    @property
    def arity(self) -> int:
        """How many array inputs the op takes."""
        return len(self.input_names)

    def layout(self, n_inputs: int) -> list[tuple[int, int]]:
        """For each input, (index into input_names, 0): Tensor ops are never n-ary."""
        return [(i, 0) for i in range(n_inputs)]

    def input_name(self, index: int, n_inputs: int) -> str:
        """The table's name of input `index`, e.g. ``A``."""
        return self.input_names[index]

    def _params_by_name(self, params: Sequence[Any]) -> dict[str, str]:
        named = {p: p for p in self.params}
        for pname, value in zip(self.params, params):
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                named[pname] = number_text(float(value))
        return named

    def explain(self, index: int, names: Sequence[str], out_name: str = "out",
                params: Sequence[Any] = (), pretty: bool = False,
                upstream_name: str = "g") -> Derivative:
        """Input `index`'s vector-Jacobian product in the given names.

        E.g. ``g @ B.T`` for ``d(A@B)/dA``; real-valued params (``slope``, ``n``) are
        written in by value, others (axes, targets) keep their names.
        """
        if self.scalar is not None:
            scalar = [p for p in params if isinstance(p, numbers.Real)
                      and not isinstance(p, bool)]
            local = self.scalar.explain(index, names, out_name, scalar, pretty)
            times = "·" if pretty else "*"

            def vjp(text: str) -> str:
                if text == "1":
                    product = upstream_name
                elif text == "-1":
                    product = f"-{upstream_name}"
                else:
                    product = f"{upstream_name} {times} ({text})"
                if self.arity == 1:
                    return product
                return f"sum_to({product}, {names[index]}.shape)"

            simplified = None if local.simplified is None else vjp(local.simplified)
            return Derivative(vjp(local.formula), simplified, local.note)
        mapping = dict(zip(self.input_names, names))
        mapping.update(g=upstream_name, out=out_name, **self._params_by_name(params))
        return Derivative(self.vjp_texts[index].format(**mapping))

    def expression_text(self, names: Sequence[str], params: Sequence[Any] = (),
                        pretty: bool = False, max_items: int = 8) -> str:
        """The forward expression in the given names, e.g. ``X@W1``."""
        if self.scalar is not None:
            scalar = [p for p in params if isinstance(p, numbers.Real)
                      and not isinstance(p, bool)]
            return self.scalar.expression_text(names, scalar, pretty)
        mapping = dict(zip(self.input_names, names))
        mapping.update(self._params_by_name(params))
        return self.template.format(**mapping)

    @property
    def expression(self) -> str:
        """The forward expression in the table's names, e.g. ``A@B``."""
        return self.expression_text(self.input_names)

    def derivative(self, index: int, n_inputs: int) -> str:
        """Input `index`'s VJP as text in the table's names, e.g. ``g @ B.T``."""
        return str(self.explain(index, self.input_names[:n_inputs]))

    def formula(self, index: int, n_inputs: int, params: Sequence[Any] = ()) -> str:
        """The VJP statement for input `index`, e.g. ``d(A@B)/dA: g @ B.T``."""
        names = self.input_names[:n_inputs]
        d = self.explain(index, names, params=params)
        return f"d({self.expression_text(names, params)})/d{names[index]}: {d}"


# -- checks -------------------------------------------------------------------------------


def _check_broadcast(name: str) -> Callable[[Array, Array], tuple[()]]:
    def check(a: Array, b: Array) -> tuple[()]:
        sa, sb = a.shape, b.shape
        if sa != sb:
            for x, y in zip(reversed(sa), reversed(sb)):
                if x != y and x != 1 and y != 1:
                    raise ShapeError(
                        f"{name}: shapes {sa} and {sb} cannot be broadcast together "
                        f"(dimension {x} vs {y})"
                    )
        return ()

    return check


def _check_linear(x: Array, w: Array, b: Array) -> tuple[()]:
    if (w.ndim == 2 and b.ndim == 1 and x.ndim and x.shape[-1] == w.shape[1]
            and b.shape[0] == w.shape[0]):
        return ()
    shapes = f"x {x.shape}, W {w.shape}, b {b.shape}"
    if w.ndim != 2 or b.ndim != 1 or x.ndim == 0:
        raise ShapeError(f"linear: needs W of shape (out, in), b of shape (out,) and x of "
                         f"shape (..., in); got {shapes}")
    if x.shape[-1] != w.shape[1]:
        raise ShapeError(f"linear: x has {x.shape[-1]} features but W expects {w.shape[1]} "
                         f"(W is (out, in)); got {shapes}")
    if b.shape[0] != w.shape[0]:
        raise ShapeError(f"linear: b has {b.shape[0]} entries for {w.shape[0]} outputs; "
                         f"got {shapes}")
    return ()


def _linear(x: Array, w: Array, b: Array) -> Array:
    out = x @ w.T
    if out.dtype == np.result_type(out, b):
        out += b  # into the new matmul result: one array per layer, not two
        return out
    return out + b


def _check_matmul(a: Array, b: Array) -> tuple[()]:
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape}: both operands need at least "
                         f"one dimension (use * to multiply by a scalar)")
    inner_a = a.shape[-1]
    inner_b = b.shape[-2] if b.ndim >= 2 else b.shape[0]
    if inner_a != inner_b:
        where = "rows" if b.ndim >= 2 else "elements"
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: A has "
                         f"{inner_a} columns but B has {inner_b} {where}")
    if a.ndim > 2 and b.ndim > 2:
        _check_broadcast("matmul (batch dimensions)")(
            np.empty(a.shape[:-2], dtype=bool), np.empty(b.shape[:-2], dtype=bool))
    return ()


def normalize_axis(axis: Axis, ndim: int, name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """`axis` (None, an int or a tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else axis
    if not isinstance(axes, (tuple, list)) or not all(
        isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in axes
    ):
        raise TypeError(f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}")
    out = []
    for i in axes:
        if not -ndim <= i < ndim:
            raise ShapeError(f"{name}: axis {i} is out of range for shape {shape}")
        out.append(int(i) % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"{name}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def _check_reduce(name: str) -> Callable[..., tuple[tuple[int, ...], bool]]:
    def check(a: Array, axis: Axis, keepdims: bool) -> tuple[tuple[int, ...], bool]:
        return normalize_axis(axis, a.ndim, name, a.shape), bool(keepdims)

    return check


def _check_reshape(a: Array, shape: tuple[int, ...]) -> tuple[tuple[int, ...]]:
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in shape):
        raise TypeError(f"reshape: the new shape must be ints, got {shape!r}")
    try:
        new = np.empty(a.shape, dtype=bool).reshape(shape).shape
    except ValueError:
        raise ShapeError(f"reshape: cannot reshape shape {a.shape} ({a.size} elements) "
                         f"to {tuple(shape)}") from None
    return (new,)


def _check_real_param(name: str, what: str) -> Callable[[Array, float], tuple[float]]:
    def check(a: Array, value: float) -> tuple[float]:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name}: the {what} must be a real number, got "
                            f"{type(value).__name__}")
        # A Python float keeps float32 data float32 (a NumPy float64 scalar would promote).
        return (float(value),)

    return check


def _check_transpose(a: Array, axes: tuple[int, ...] | None) -> tuple[tuple[int, ...]]:
    if axes is None or len(axes) == 0:
        return (tuple(range(a.ndim))[::-1],)
    if not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in axes):
        raise TypeError(f"transpose: axes must be ints, got {tuple(axes)!r}")
    if sorted(int(i) % a.ndim if -a.ndim <= i < a.ndim else -1 for i in axes) != list(
        range(a.ndim)
    ):
        raise ShapeError(f"transpose: axes {tuple(axes)} are not a permutation of the "
                         f"{a.ndim} axes of shape {a.shape}")
    return (tuple(int(i) % a.ndim for i in axes),)


def _check_softmax_axis(name: str) -> Callable[[Array, int], tuple[int]]:
    def check(a: Array, axis: int) -> tuple[int]:
        if a.ndim == 0:
            raise ShapeError(f"{name}: needs at least one dimension, got shape {a.shape}")
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"{name}: axis must be an int, got {axis!r}")
        return (normalize_axis(int(axis), a.ndim, name, a.shape)[0],)

    return check


def _check_cross_entropy(z: Array, targets: Any, reduction: str) -> tuple[Array, str]:
    if reduction not in ("mean", "sum"):
        raise ValueError(f"cross_entropy: reduction must be 'mean' or 'sum', got {reduction!r}")
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ShapeError(f"cross_entropy: logits need a class axis (the last one) with at "
                         f"least one class, got shape {z.shape}")
    t = np.asarray(targets)
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype "
                        f"{t.dtype}")
    if t.shape != z.shape[:-1]:
        raise ShapeError(f"cross_entropy: logits of shape {z.shape} need targets of shape "
                         f"{z.shape[:-1]} (one class index per row), got shape {t.shape}")
    n_classes = z.shape[-1]
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        bad = t[(t < 0) | (t >= n_classes)].flat[0]
        raise ValueError(f"cross_entropy: target {bad} out of range for {n_classes} classes")
    return t.astype(np.intp, copy=False), reduction


# -- forward functions and locals ---------------------------------------------------------

_IGNORE = {"all": "ignore"}


def _div(a: Array, b: Array) -> Array:
    with np.errstate(**_IGNORE):
        return a / b


def _div_grads(out: Array, a: Array, b: Array) -> tuple[VJP, VJP]:
    with np.errstate(**_IGNORE):
        return Elementwise(1.0 / b, a.shape), Elementwise(-out / b, b.shape)


def _pow(a: Array, b: Array) -> Array:
    with np.errstate(**_IGNORE):
        return a**b


def _pow_grads(out: Array, a: Array, b: Array) -> tuple[VJP, VJP]:
    # The limits PyTorch uses, as in the scalar table: d/da = 0 where b = 0, and
    # d/db = 0 where a = 0 and b >= 0 (a**b log a would be 0 * -inf there).
    with np.errstate(**_IGNORE):
        da = np.where(b == 0.0, 0.0, b * a ** (b - 1.0))
        zero = (a == 0.0) & (b >= 0.0)
        db = np.where(zero, 0.0, out * np.log(np.where(zero, 1.0, a)))
    return (Elementwise(da.astype(out.dtype, copy=False), a.shape),
            Elementwise(db.astype(out.dtype, copy=False), b.shape))


def _powc(a: Array, n: float) -> Array:
    with np.errstate(**_IGNORE):
        return a**n


def _powc_grads(out: Array, a: Array, n: float) -> tuple[VJP]:
    if n == 0.0:
        return (Elementwise(np.zeros_like(a), a.shape),)
    if n == 2.0:
        return (Elementwise(2.0 * a, a.shape),)
    with np.errstate(**_IGNORE):
        return (Elementwise(n * a ** (n - 1.0), a.shape),)


def _exp(a: Array) -> Array:
    with np.errstate(**_IGNORE):
        return np.exp(a)


def _log(a: Array) -> Array:
    with np.errstate(**_IGNORE):
        return np.log(a)


def _log_grads(out: Array, a: Array) -> tuple[VJP]:
    with np.errstate(**_IGNORE):
        return (Elementwise(1.0 / a, a.shape),)


def _sqrt(a: Array) -> Array:
    with np.errstate(**_IGNORE):
        return np.sqrt(a)


def _sqrt_grads(out: Array, a: Array) -> tuple[VJP]:
    with np.errstate(**_IGNORE):
        return (Elementwise(0.5 / out, a.shape),)


def _sigmoid(a: Array) -> Array:
    # exp only ever sees -|a|, so nothing overflows: for a >= 0, 1/(1+e^-a); else e^a/(1+e^a).
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0, e) / (1.0 + e)


def _softplus(a: Array) -> Array:
    # log(1 + e^a) = max(a, 0) + log1p(e^-|a|): finite for every finite a.
    return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))


def _relu_grads(out: Array, a: Array) -> tuple[VJP]:
    return (Elementwise(a > 0, a.shape),)


def _leaky_relu(a: Array, slope: float) -> Array:
    return np.where(a > 0, a, a * slope)


def _leaky_relu_grads(out: Array, a: Array, slope: float) -> tuple[VJP]:
    return (Elementwise(np.where(a > 0, 1.0, slope).astype(a.dtype, copy=False), a.shape),)


def _abs_grads(out: Array, a: Array) -> tuple[VJP]:
    return (Elementwise(np.sign(a), a.shape),)


def _sum(a: Array, axis: tuple[int, ...], keepdims: bool) -> Array:
    return np.sum(a, axis=axis, keepdims=keepdims)


def _mean(a: Array, axis: tuple[int, ...], keepdims: bool) -> Array:
    return np.mean(a, axis=axis, keepdims=keepdims)


def _mean_grads(out: Array, a: Array, axis: tuple[int, ...], keepdims: bool) -> tuple[VJP]:
    count = 1
    for i in axis:
        count *= a.shape[i]
    return (ReduceVJP(a.shape, axis, keepdims, 1.0 / count if count else 1.0),)


def _log_softmax(a: Array, axis: int) -> Array:
    shift = np.max(a, axis=axis, keepdims=True)
    with np.errstate(**_IGNORE):
        shifted = a - shift
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_grads(out: Array, a: Array, axis: int) -> tuple[VJP]:
    with np.errstate(**_IGNORE):
        return (LogSoftmaxVJP(np.exp(out), axis),)


def _softmax_rows(z: Array) -> tuple[Array, Array]:
    """For logits viewed as rows (-1, C): the max-shifted logits and log(sum(exp))."""
    rows = z.reshape(-1, z.shape[-1])
    with np.errstate(**_IGNORE):
        shifted = rows - rows.max(axis=1, keepdims=True)
        return shifted, np.log(np.exp(shifted).sum(axis=1))


def _cross_entropy_loss(shifted: Array, log_sums: Array, targets: Array, reduction: str,
                        dtype: np.dtype) -> Array:
    # mean over rows of logsumexp(z) - z[target], with the row max shifted out first
    flat = targets.reshape(-1)
    total = float(np.sum(log_sums - shifted[np.arange(flat.size), flat]))
    if reduction == "mean" and flat.size > 1:
        total /= flat.size
    return np.array(total, dtype=dtype)


def _cross_entropy_vjp(shifted: Array, log_sums: Array, targets: Array, reduction: str,
                       shape: tuple[int, ...]) -> Elementwise:
    # d loss / d z = softmax(z) - onehot(target), averaged over the rows for 'mean'.
    with np.errstate(**_IGNORE):
        p = np.exp(shifted - log_sums[:, None])
    flat = targets.reshape(-1)
    p[np.arange(flat.size), flat] -= 1.0
    if reduction == "mean" and flat.size > 1:
        p *= 1.0 / flat.size
    return Elementwise(p.reshape(shape), shape)


def _cross_entropy(z: Array, targets: Array, reduction: str) -> Array:
    shifted, log_sums = _softmax_rows(z)
    return _cross_entropy_loss(shifted, log_sums, targets, reduction, z.dtype)


def _cross_entropy_grads(out: Array, z: Array, targets: Array, reduction: str) -> tuple[VJP]:
    shifted, log_sums = _softmax_rows(z)
    return (_cross_entropy_vjp(shifted, log_sums, targets, reduction, z.shape),)


def _cross_entropy_with_grads(z: Array, targets: Array, reduction: str
                              ) -> tuple[Array, tuple[VJP]]:
    # The loss and its gradient read the same shifted logits and log-sums: computed once.
    shifted, log_sums = _softmax_rows(z)
    return (_cross_entropy_loss(shifted, log_sums, targets, reduction, z.dtype),
            (_cross_entropy_vjp(shifted, log_sums, targets, reduction, z.shape),))


# -- the table ----------------------------------------------------------------------------


def elementwise(scalar: Op, forward: Callable[..., Array] | None = None,
                grads: Callable[..., tuple[VJP, ...]] | None = None,
                check: Callable[..., tuple[Any, ...]] | None = None) -> TensorOp:
    """The array op that applies the scalar op `scalar` to every element (broadcasting).

    `forward` and `grads` (hand-written for speed) default to the scalar op's array
    forward and to its local-derivative formulas evaluated on arrays.
    """
    arity = scalar.arity
    if check is None and arity == 2:
        check = _check_broadcast(scalar.name)
    if check is None and scalar.params:
        check = _check_real_param(scalar.name, scalar.params[0])
    return TensorOp(
        scalar.name, scalar.symbol, forward or _array_forward(scalar),
        grads or _grads_from_formulas(scalar), scalar.input_names, params=scalar.params,
        kinks=scalar.kinks, check=check, scalar=scalar,
    )


def _array_forward(scalar: Op) -> Callable[..., Array]:
    array_forward = scalar.array_forward

    def forward(*args: Any) -> Array:
        with np.errstate(**_IGNORE):
            return np.asarray(array_forward(*args), dtype=np.result_type(*args[:scalar.arity]))

    return forward


def _grads_from_formulas(scalar: Op) -> Callable[..., tuple[VJP, ...]]:
    """VJPs from the scalar op's formulas, evaluated elementwise on arrays."""
    arity = scalar.arity
    trees = [scalar.local_formula(k, arity) for k in range(arity)]

    def grads(out: Array, *args: Any) -> tuple[VJP, ...]:
        env = {f"in{k}": args[k] for k in range(arity)}
        env.update(zip(scalar.params, args[arity:]))
        env["out"] = out
        locals_ = []
        for k, tree in enumerate(trees):
            local = np.asarray(formula.evaluate(tree, env, arrays=True), dtype=out.dtype)
            locals_.append(Elementwise(local, args[k].shape))
        return tuple(locals_)

    return grads


_S = OPS  # the scalar table: each elementwise array op applies one of its entries

_OP_LIST: list[TensorOp] = [
    elementwise(_S["add"], np.add, lambda out, a, b: (SumTo(a.shape), SumTo(b.shape))),
    elementwise(_S["sub"], np.subtract,
                lambda out, a, b: (SumTo(a.shape), SumTo(b.shape, negate=True))),
    elementwise(_S["mul"], np.multiply,
                lambda out, a, b: (Elementwise(b, a.shape), Elementwise(a, b.shape))),
    elementwise(_S["div"], _div, _div_grads),
    elementwise(_S["pow"], _pow, _pow_grads),
    elementwise(_S["powc"], _powc, _powc_grads, check=_check_real_param("powc", "exponent")),
    elementwise(_S["neg"], np.negative, lambda out, a: (SumTo(a.shape, negate=True),)),
    elementwise(_S["abs"], np.abs, _abs_grads),
    elementwise(_S["exp"], _exp, lambda out, a: (Elementwise(out, a.shape),)),
    elementwise(_S["log"], _log, _log_grads),
    elementwise(_S["sqrt"], _sqrt, _sqrt_grads),
    elementwise(_S["tanh"], np.tanh, lambda out, a: (Elementwise(1.0 - out * out, a.shape),)),
    elementwise(_S["sigmoid"], _sigmoid,
                lambda out, a: (Elementwise(out * (1.0 - out), a.shape),)),
    elementwise(_S["relu"], lambda a: np.maximum(a, 0.0), _relu_grads),
    elementwise(_S["leaky_relu"], _leaky_relu, _leaky_relu_grads,
                check=_check_real_param("leaky_relu", "slope")),
    elementwise(_S["softplus"], _softplus,
                lambda out, a: (Elementwise(_sigmoid(a), a.shape),)),
    elementwise(_S["sin"], np.sin, lambda out, a: (Elementwise(np.cos(a), a.shape),)),
    elementwise(_S["cos"], np.cos, lambda out, a: (Elementwise(-np.sin(a), a.shape),)),
    TensorOp("matmul", "@", np.matmul,
             lambda out, a, b: (MatmulVJP(b, 0, a.shape), MatmulVJP(a, 1, b.shape)),
             ("A", "B"), ("{g} @ {B}.T", "{A}.T @ {g}"), check=_check_matmul,
             template="{A}@{B}"),
    TensorOp("linear", "linear", _linear,
             lambda out, x, w, b: (LinearVJP(0, x, w), LinearVJP(1, x, w), LinearVJP(2, x, w)),
             ("x", "W", "b"),
             ("{g} @ {W}", "{g}.T @ {x}", "{g}.sum(0)"),
             check=_check_linear, template="{x} @ {W}.T + {b}"),
    TensorOp("sum", "sum", _sum,
             lambda out, a, axis, keepdims: (ReduceVJP(a.shape, axis, keepdims),), ("a",),
             ("{g} broadcast back to {a}.shape",), params=("axis", "keepdims"),
             check=_check_reduce("sum"), template="sum({a}, axis)"),
    TensorOp("mean", "mean", _mean, _mean_grads, ("a",),
             ("{g} / n broadcast back to {a}.shape (n: elements averaged)",),
             params=("axis", "keepdims"), check=_check_reduce("mean"), template="mean({a}, axis)"),
    TensorOp("reshape", "reshape", lambda a, shape: a.reshape(shape),
             lambda out, a, shape: (ReshapeVJP(a.shape),), ("a",), ("{g}.reshape({a}.shape)",),
             params=("shape",), check=_check_reshape, template="reshape({a}, shape)"),
    TensorOp("transpose", "T", lambda a, axes: a.transpose(axes),
             lambda out, a, axes: (TransposeVJP(axes),), ("a",),
             ("{g}.transpose(inverse of axes)",), params=("axes",), check=_check_transpose,
             template="transpose({a}, axes)"),
    TensorOp("log_softmax", "log_softmax", _log_softmax, _log_softmax_grads, ("a",),
             ("{g} - exp({out}) * sum({g}, axis)",), params=("axis",),
             check=_check_softmax_axis("log_softmax"), template="log_softmax({a}, axis)"),
    TensorOp("cross_entropy", "CE", _cross_entropy, _cross_entropy_grads, ("z",),
             ("{g} * (softmax({z}) - onehot(targets)) / N  (N: rows; no /N for "
              "reduction='sum')",),
             params=("targets", "reduction"), check=_check_cross_entropy,
             template="cross_entropy({z}, targets)",
             forward_with_grads=_cross_entropy_with_grads),
]

#: name -> TensorOp, in declaration order
TENSOR_OPS: dict[str, TensorOp] = {op.name: op for op in _OP_LIST}


def get_tensor_op(name: str) -> TensorOp:
    """The Tensor table entry called `name`; `KeyError` lists the known names otherwise."""
    try:
        return TENSOR_OPS[name]
    except KeyError:
        raise KeyError(f"unknown tensor op {name!r}; known: {', '.join(TENSOR_OPS)}") from None


def _follow_scalar_table(op: Op, added: bool) -> None:
    """A scalar one-input op registered later gets its elementwise array op at once."""
    if op.nary or op.arity != 1:
        return
    if added and op.name not in TENSOR_OPS:
        TENSOR_OPS[op.name] = elementwise(op)
    elif not added and op.name in TENSOR_OPS and TENSOR_OPS[op.name].scalar is op:
        del TENSOR_OPS[op.name]


on_register(_follow_scalar_table)
