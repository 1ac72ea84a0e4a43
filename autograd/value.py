"""`Value`: a scalar node of a computation graph."""

from __future__ import annotations

import html
import numbers
from collections.abc import Callable, Sequence
from typing import Union

from autograd import graph
from autograd.ops import OPS, Op, add_methods
from autograd.state import ANOMALY, MODE, RECORD, check_forward

__all__ = ["Value", "ValueWithParams", "apply", "apply_rows", "as_value"]

Scalar = int | float
Operand = Union["Value", int, float]


def _to_float(data: object, what: str = "Value") -> float:
    if type(data) is float:
        return data
    if type(data) is int:
        return float(data)
    if isinstance(data, numbers.Real) and not isinstance(data, Value):
        return float(data)
    raise TypeError(f"{what} needs a real number (int, float or NumPy scalar), got "
                    f"{type(data).__name__}: {data!r:.60}")


class Value:
    """A scalar that remembers how it was computed.

    ``data`` is its value, ``grad`` the derivative of the last `backward` root with
    respect to it.  A value made by an op also keeps ``op`` (its entry in the op
    table), its ``parents`` in argument order, and ``local_grads``: d(self)/d(parent)
    for each parent, computed once at forward time.  Nodes hold no closures, so a
    graph forms no reference cycles and is freed as soon as its root is dropped.

    ``params`` are the op's numbers that are not inputs (the 2 of ``x**2``) and
    ``origin`` is where anomaly mode saw the node made; most nodes have neither, so they
    are class-level defaults here and real slots only in `ValueWithParams`, the class
    `apply` makes when they are needed: every other node is six slots (80 bytes).
    """

    __slots__ = ("data", "grad", "label", "op", "parents", "local_grads")

    data: float
    grad: float
    label: str
    op: Op | None
    parents: tuple[Value, ...]
    local_grads: tuple[float, ...]
    params: tuple[float, ...] = ()
    origin: str | None = None

    def __init__(self, data: Scalar, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.data = _to_float(data)
        self.grad = 0.0
        self.label = label
        self.op = None
        self.parents = ()
        self.local_grads = ()

    # -- graph queries -------------------------------------------------------------------

    @property
    def is_leaf(self) -> bool:
        """True for a value made by the user (or a constant), not by an op."""
        return not self.parents

    def backward(self, grad: float = 1.0) -> None:
        """Fill ``grad`` of every node this value depends on (see `autograd.backward`)."""
        graph.run_backward(self, self.backward_seed(grad))

    def backward_seed(self, grad: float | None = 1.0) -> float:
        """The checked d(self)/d(self) a backward pass starts from: `grad` (None: 1) as a float.

        `backward` and the stepper (`viz.backward_steps`) both start from it.
        """
        if grad is None:
            return 1.0
        if isinstance(grad, bool) or not isinstance(grad, (int, float)):
            return graph.real_number(grad)
        return float(grad)

    def detach(self) -> Value:
        """A new leaf with the same data and label, cut off from this graph."""
        return Value(self.data, self.label)

    def zero_grad(self) -> None:
        """Set ``grad = 0`` on every node of this value's graph."""
        graph.zero_grad(self)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        return self.data

    # -- arithmetic ----------------------------------------------------------------------

    def __add__(self, other: Operand) -> Value:
        return _binary(_ADD, self, other, False)

    def __radd__(self, other: Operand) -> Value:
        return _binary(_ADD, self, other, True)

    def __sub__(self, other: Operand) -> Value:
        return _binary(_SUB, self, other, False)

    def __rsub__(self, other: Operand) -> Value:
        return _binary(_SUB, self, other, True)

    def __mul__(self, other: Operand) -> Value:
        return _binary(_MUL, self, other, False)

    def __rmul__(self, other: Operand) -> Value:
        return _binary(_MUL, self, other, True)

    def __truediv__(self, other: Operand) -> Value:
        return _binary(_DIV, self, other, False)

    def __rtruediv__(self, other: Operand) -> Value:
        return _binary(_DIV, self, other, True)

    def __pow__(self, exponent: Operand) -> Value:
        """``x**2`` treats 2 as a constant; ``x**y`` with a Value y differentiates both."""
        if isinstance(exponent, Value):
            return apply(_POW, (self, exponent), datas=(self.data, exponent.data))
        if type(exponent) in (int, float) or isinstance(exponent, numbers.Real):
            return apply(_POWC, (self,), (float(exponent),), datas=(self.data,))
        return NotImplemented

    def __rpow__(self, base: Operand) -> Value:
        return _binary(_POW, self, base, True)

    def __neg__(self) -> Value:
        return apply(_NEG, (self,), datas=(self.data,))

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return apply(_ABS, (self,), datas=(self.data,))

    # Comparisons look at ``data`` only; ``==`` stays identity so Values can be set members.
    def __lt__(self, other: Operand) -> bool:
        return self.data < _data(other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _data(other)

    __hash__ = object.__hash__

    # -- functions ----------------------------------------------------------------------
    # Every one-input op of the table is a method (``x.tanh()``), added by `_add_method`;
    # those with params get a default here.

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0, slope*x otherwise; subgradient `slope` at x = 0."""
        return apply(OPS["leaky_relu"], (self,), (_to_float(slope, "slope"),))

    # -- micrograd's names ---------------------------------------------------------------

    @property
    def _prev(self) -> set[Value]:
        """micrograd's name for the inputs (a set): code written for micrograd runs."""
        return set(self.parents)

    @property
    def _op(self) -> str:
        """micrograd's name for the op's symbol ('' for a leaf)."""
        return self.op.symbol if self.op is not None else ""

    def _repr_html_(self) -> str:
        """One line in a notebook: label, data, grad and the op that made it."""
        name = html.escape(self.label) if self.label else "Value"
        made = f", op={html.escape(self.op.name)}" if self.op is not None else ""
        return (f"<code>{name}: data={self.data:.6g}, grad={self.grad:.6g}{made}</code>")


class ValueWithParams(Value):
    """A `Value` made by an op with params (``x**2``: params ``(2.0,)``) or in anomaly
    mode (``origin``: where it was made).  `apply` chooses it; it is a `Value` in every
    other way."""

    __slots__ = ("params", "origin")

    params: tuple[float, ...]
    origin: str | None


def _unary_method(op: Op) -> Callable[..., Value]:
    """``x.name(*params)`` for a one-input op of the table."""
    n_params = len(op.params)

    def method(self: Value, *params: float) -> Value:
        if len(params) != n_params:
            raise TypeError(f"{op.name}() takes {n_params} parameter(s) "
                            f"({', '.join(op.params) or 'none'}), got {len(params)}")
        if not params:
            return apply(op, (self,), datas=(self.data,))
        return apply(op, (self,), tuple(_to_float(p, op.params[i]) for i, p in enumerate(params)),
                     datas=(self.data,))

    method.__doc__ = (f"{op.expression_text(['x'])}, from the op table; "
                      f"d/dx = {op.derivative(0, 1)}.")
    return method


add_methods(Value, _unary_method)

_ADD, _SUB, _MUL, _DIV = OPS["add"], OPS["sub"], OPS["mul"], OPS["div"]
_POW, _POWC, _NEG, _ABS = OPS["pow"], OPS["powc"], OPS["neg"], OPS["abs"]


def _data(x: Operand) -> float:
    return x.data if isinstance(x, Value) else _to_float(x, "comparison")


def as_value(x: Operand) -> Value:
    """`x` itself if it is a Value, else a new constant leaf holding it."""
    return x if isinstance(x, Value) else Value(x)


def _binary(op: Op, value: Value, other: object, reflected: bool) -> Value:
    if not isinstance(other, Value):
        if type(other) is not float and not isinstance(other, numbers.Real):
            return NotImplemented
        other = Value(other)
    if reflected:
        return apply(op, (other, value), datas=(other.data, value.data))
    return apply(op, (value, other), datas=(value.data, other.data))


def apply(
    op: Op,
    inputs: Sequence[Value],
    params: tuple[float, ...] = (),
    *,
    datas: Sequence[float] | None = None,
) -> Value:
    """Run `op` on `inputs`: a new node holding ``op``'s output and, when recording, how
    it was made: ``op``, the inputs as ``parents``, and ``local_grads``, the op table's
    d(output)/d(input) for each input, evaluated now.

    Speed only: `datas`, when given, must equal ``[v.data for v in inputs]`` (best as a
    tuple for an n-ary op), so a layer that feeds the same weights to many samples reads
    them once.  The slots are filled directly below, without ``__init__``.
    """
    nary = op.nary
    if datas is None:
        datas = tuple([v.data for v in inputs]) if nary else [v.data for v in inputs]
    if nary:
        if type(datas) is not tuple:
            datas = tuple(datas)
        out = op.forward(datas)
    else:
        out = op.forward(*datas, *params) if params else op.forward(*datas)
    mode = MODE.get()
    if params or mode & ANOMALY:
        node = _new_value(ValueWithParams)
        node.params = params
        node.origin = None
    else:
        node = _new_value(Value)
    node.data = out
    node.grad = 0.0
    node.label = ""
    if mode & RECORD:
        node.op = op
        node.parents = inputs if type(inputs) is tuple else tuple(inputs)
        if nary:
            node.local_grads = op.local_grads(out, datas)
        elif params:
            node.local_grads = op.local_grads(out, *datas, *params)
        else:
            node.local_grads = op.local_grads(out, *datas)
        if mode & ANOMALY:
            check_forward(node)
    else:
        node.op = None
        node.parents = ()
        node.local_grads = ()
    return node


def apply_rows(op: Op, neurons: Sequence[tuple[tuple[Value, ...], Value, str]],
               rows: Sequence[tuple[Value, ...]]) -> list[tuple[Value, ...]]:
    """A layer on a batch: for each row x and each neuron ``(w, b, label)``, the node
    ``apply(op, w + x + (b,))`` makes (same data, parents and local derivatives), with
    that label; one tuple of nodes (one per neuron) per row.

    Speed only, for an op with a ``neuron`` function (``linear``, ``relu_linear``): each
    weight is read once for the whole batch, and no tuple is built beyond the nodes'
    own.  Outside that fast case (no ``neuron``, not recording, or anomaly mode) it
    calls `apply` for each node.
    """
    _check_lengths(neurons, rows)
    numbers = op.neuron
    if numbers is None or MODE.get() != RECORD:  # RECORD alone: recording, no anomaly mode
        out_rows = []
        for x in rows:
            nodes = tuple([apply(op, (*w, *x, b)) for w, b, _ in neurons])
            for node, (_, _, label) in zip(nodes, neurons):
                node.label = label
            out_rows.append(nodes)
        return out_rows
    # Read once per batch (a list display reads a slot faster than map(attrgetter) does).
    plans = [(w, (b,), tuple([v.data for v in w]) + _ONE, b.data, label)
             for w, b, label in neurons]
    out_rows = []
    for x in rows:
        x_data = tuple([v.data for v in x])
        nodes = []
        for w, bias, w1, b_data, label in plans:
            out, local_grads = numbers(w1, x_data, b_data)
            node = _new_value(Value)
            node.data = out
            node.grad = 0.0
            node.label = label
            node.op = op
            node.parents = w + x + bias
            node.local_grads = local_grads
            nodes.append(node)
        out_rows.append(tuple(nodes))
    return out_rows


def _check_lengths(neurons: Sequence[tuple[tuple[Value, ...], Value, str]],
                   rows: Sequence[tuple[Value, ...]]) -> None:
    """Every row as long as every neuron's weights (the ops' layout w + x + (b,) needs it,
    and the `neuron` functions' `map` would stop silently at the shorter)."""
    lengths = {len(x) for x in rows} | {len(w) for w, _, _ in neurons}
    if len(lengths) > 1:
        raise ValueError(f"apply_rows needs rows as long as the weights, got lengths "
                         f"{sorted(lengths)}")


_new_value = object.__new__
_ONE = (1.0,)
