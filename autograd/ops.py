"""The op table: the one place where each operation's math lives.

Every entry states an op's forward function, the local derivative of its output
with respect to each input (as a function, evaluated once at forward time), and
the same derivative as readable text.  The engine (`Value`), the backward pass,
the step-by-step viewer, the renderer and the tests all read this table; adding
an op is adding one entry.

Conventions for an entry:

* ``forward(*inputs, *params) -> float`` computes the output from input floats.
* ``local_grads(out, *inputs, *params) -> tuple[float, ...]`` returns
  d(out)/d(input_i) for every input, reusing ``out`` where that is cheaper
  (``exp``, ``tanh``, ``sigmoid``).
* An n-ary op (``sum``, ``dot``, ``linear``, ``logsumexp``) takes its inputs as one
  tuple instead: ``forward(inputs)`` and ``local_grads(out, inputs)`` (a neuron's
  weighted sum has dozens of inputs; unpacking them into arguments costs more than the
  arithmetic).  `Op.evaluate` and `Op.local_derivatives` call either kind.
* ``derivatives`` are those local derivatives as text, written in the names of
  ``input_names`` (and ``out`` for the op's own result, and the op's ``params``).

Floating-point semantics follow IEEE 754 and PyTorch rather than Python's
``math`` module: ``log(0) = -inf``, ``1/0 = inf``, ``exp(1000) = inf``,
``sqrt(-1) = nan``; nothing raises.  Use `autograd.detect_anomaly` to turn a
NaN or infinity into an error at the op that produced it.

Subgradients at kinks follow PyTorch: ``relu'(0) = 0``, ``abs'(0) = 0``,
``leaky_relu'(0) = slope``; so do the limits of ``a**b``: d/da = 0 where b = 0, and
d/db = 0 where a = 0 and b >= 0 (where ``a**b*log(a)`` would be 0*-inf).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Op", "OPS", "UNARY_FUNCTIONS", "get_op"]

_INF = math.inf


def _numpy_fallback(ufunc: np.ufunc, *args: float) -> float:
    """IEEE result of `ufunc` where Python's float math would raise."""
    with np.errstate(all="ignore"):
        return float(ufunc(*(np.float64(a) for a in args)))


# -- forward functions with IEEE semantics ---------------------------------------------


def _div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        return _numpy_fallback(np.divide, a, b)


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError):
        return _numpy_fallback(np.power, a, b)


def _exp(a: float) -> float:
    try:
        return math.exp(a)
    except OverflowError:
        return _INF


def _log(a: float) -> float:
    if a > 0.0:
        return math.log(a)
    return -_INF if a == 0.0 else math.nan


def _sqrt(a: float) -> float:
    return math.sqrt(a) if a >= 0.0 else math.nan


def _sigmoid(a: float) -> float:
    # Two branches so that exp never sees a large positive argument.
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _softplus(a: float) -> float:
    # log(1 + e^a) = max(a, 0) + log1p(e^-|a|): no overflow for any finite a.
    return max(a, 0.0) + math.log1p(math.exp(-abs(a)))


def _finite_or_nan(fn: Callable[[float], float]) -> Callable[[float], float]:
    """sin/cos raise on infinities; IEEE says nan."""

    def wrapped(a: float) -> float:
        try:
            return fn(a)
        except ValueError:
            return math.nan

    return wrapped


_sin = _finite_or_nan(math.sin)
_cos = _finite_or_nan(math.cos)


def _sum(xs: Sequence[float]) -> float:
    if len(xs) <= 64:
        return sum(xs)
    try:
        return math.fsum(xs)
    except (OverflowError, ValueError):  # fsum raises on overflow and on inf + -inf
        return sum(xs)


def _dot(wx: Sequence[float]) -> float:
    n = len(wx) >> 1
    return sum(map(operator.mul, wx[:n], wx[n:]), 0.0)


def _dot_grads(out: float, wx: Sequence[float]) -> Sequence[float]:
    n = len(wx) >> 1
    return wx[n:] + wx[:n]


def _linear(wxb: Sequence[float]) -> float:
    n = len(wxb) >> 1
    return sum(map(operator.mul, wxb[:n], wxb[n:-1]), wxb[-1])


def _linear_grads(out: float, wxb: Sequence[float]) -> Sequence[float]:
    n = len(wxb) >> 1
    return wxb[n:-1] + wxb[:n] + (1.0,)


def _logsumexp(xs: Sequence[float]) -> float:
    m = max(xs)
    if m in (_INF, -_INF) or m != m:
        return m
    return m + math.log(sum(math.exp(x - m) for x in xs))


def _logsumexp_grads(out: float, xs: Sequence[float]) -> tuple[float, ...]:
    # d logsumexp / d x_i = softmax(x)_i = exp(x_i - out)
    return tuple(_exp(x - out) for x in xs)


# -- the entry type ----------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One operation: forward, local derivatives as functions and as text.

    ``input_names`` names the inputs in the formulas; an n-ary op (``nary=True``)
    uses ``{i}`` in its names and derivatives, and ``nary_layout`` maps a count of
    inputs to the group of each input (see `Op.layout`).
    """

    name: str
    symbol: str
    expression: str
    forward: Callable[..., float]
    local_grads: Callable[..., tuple[float, ...]]
    input_names: tuple[str, ...]
    derivatives: tuple[str, ...]
    params: tuple[str, ...] = ()
    nary: bool = False
    nary_layout: Callable[[int], list[tuple[int, int]]] | None = field(default=None, repr=False)
    #: inputs where the derivative jumps (a subgradient is used there)
    kinks: tuple[float, ...] = ()

    def evaluate(self, inputs: Sequence[float], params: Sequence[float] = ()) -> float:
        """The output for input numbers (what `autograd.apply` computes)."""
        if self.nary:
            return self.forward(tuple(inputs))
        return self.forward(*inputs, *params)

    def local_derivatives(self, out: float, inputs: Sequence[float],
                          params: Sequence[float] = ()) -> tuple[float, ...]:
        """d(out)/d(input_i) for every input, as `autograd.apply` stores them."""
        if self.nary:
            return tuple(self.local_grads(out, tuple(inputs)))
        return tuple(self.local_grads(out, *inputs, *params))

    def layout(self, n_inputs: int) -> list[tuple[int, int]]:
        """For each input, (index into input_names/derivatives, position in group)."""
        if not self.nary:
            return [(i, 0) for i in range(n_inputs)]
        assert self.nary_layout is not None
        return self.nary_layout(n_inputs)

    def input_name(self, index: int, n_inputs: int) -> str:
        """The name of input `index` in this op's formulas, e.g. ``b`` or ``x3``."""
        group, position = self.layout(n_inputs)[index]
        return self.input_names[group].format(i=position)

    def derivative(self, index: int, n_inputs: int) -> str:
        """The local derivative of input `index` as text, e.g. ``b`` for a*b."""
        group, position = self.layout(n_inputs)[index]
        return self.derivatives[group].format(i=position)

    def formula(self, index: int, n_inputs: int, params: Sequence[float] = ()) -> str:
        """The whole local-derivative statement, e.g. ``d(a*b)/da = b``."""
        expr = self.expression
        deriv = self.derivative(index, n_inputs)
        for pname, pvalue in zip(self.params, params):
            expr = expr.replace(pname, _short(pvalue))
            deriv = deriv.replace(pname, _short(pvalue))
        return f"d({expr})/d{self.input_name(index, n_inputs)} = {deriv}"


def _short(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() else f"{x:g}"


def _layout_all(n: int) -> list[tuple[int, int]]:
    return [(0, i) for i in range(n)]


def _layout_pairs(n: int) -> list[tuple[int, int]]:
    half = n // 2
    return [(0, i) for i in range(half)] + [(1, i) for i in range(half)]


def _layout_pairs_bias(n: int) -> list[tuple[int, int]]:
    return [*_layout_pairs(n - 1), (2, 0)]


def _unary(
    name: str,
    forward: Callable[..., float],
    grads: Callable[..., tuple[float]],
    derivative: str,
    *,
    symbol: str | None = None,
    params: tuple[str, ...] = (),
    kinks: tuple[float, ...] = (),
) -> Op:
    expression = f"{name}(a)" if not params else f"{name}(a, {', '.join(params)})"
    return Op(
        name=name,
        symbol=symbol or name,
        expression=expression,
        forward=forward,
        local_grads=grads,
        input_names=("a",),
        derivatives=(derivative,),
        params=params,
        kinks=kinks,
    )


def _binary(
    name: str,
    symbol: str,
    forward: Callable[..., float],
    grads: Callable[..., tuple[float, float]],
    derivatives: tuple[str, str],
) -> Op:
    return Op(name, symbol, f"a{symbol}b", forward, grads, ("a", "b"), derivatives)


# Shared one-element results: a ReLU network makes thousands of these nodes per step.
_ONE, _ZERO = (1.0,), (0.0,)

_OP_LIST: list[Op] = [
    _binary("add", "+", operator.add, lambda out, a, b: (1.0, 1.0), ("1", "1")),
    _binary("sub", "-", operator.sub, lambda out, a, b: (1.0, -1.0), ("1", "-1")),
    _binary("mul", "*", operator.mul, lambda out, a, b: (b, a), ("b", "a")),
    _binary(
        "div", "/", _div, lambda out, a, b: (_div(1.0, b), _div(-out, b)), ("1/b", "-a/b**2"),
    ),
    _binary(
        "pow", "**", _pow,
        lambda out, a, b: (0.0 if b == 0.0 else b * _pow(a, b - 1.0),
                           0.0 if a == 0.0 and b >= 0.0 else out * _log(a)),
        ("b*a**(b-1) (0 at b = 0)", "a**b*log(a) (0 at a = 0, b >= 0)"),
    ),
    Op(
        "powc", "**n", "a**n", lambda a, n: _pow(a, n),
        lambda out, a, n: (n * _pow(a, n - 1.0) if n != 0.0 else 0.0,),
        ("a",), ("n*a**(n-1) (0 at n = 0)",), params=("n",),
    ),
    _unary("neg", operator.neg, lambda out, a: (-1.0,), "-1", symbol="-"),
    _unary("abs", abs, lambda out, a: (float((a > 0.0) - (a < 0.0)),), "sign(a) (0 at a = 0)",
           kinks=(0.0,)),
    _unary("exp", _exp, lambda out, a: (out,), "exp(a) = out"),
    _unary("log", _log, lambda out, a: (_div(1.0, a),), "1/a"),
    _unary("sqrt", _sqrt, lambda out, a: (_div(0.5, out),), "1/(2*sqrt(a))"),
    _unary("tanh", math.tanh, lambda out, a: (1.0 - out * out,), "1 - tanh(a)**2 = 1 - out**2"),
    _unary("sigmoid", _sigmoid, lambda out, a: (out * (1.0 - out),), "sigmoid(a)*(1 - sigmoid(a))"),
    _unary("relu", lambda a: 0.0 if a <= 0.0 else a, lambda out, a: _ONE if a > 0.0 else _ZERO,
           "1 if a > 0 else 0", kinks=(0.0,)),
    _unary("leaky_relu", lambda a, s: s * a if a <= 0.0 else a,
           lambda out, a, s: (1.0 if a > 0.0 else s,), "1 if a > 0 else slope",
           params=("slope",), kinks=(0.0,)),
    _unary("softplus", _softplus, lambda out, a: (_sigmoid(a),), "sigmoid(a)"),
    _unary("sin", _sin, lambda out, a: (_cos(a),), "cos(a)"),
    _unary("cos", _cos, lambda out, a: (-_sin(a),), "-sin(a)"),
    Op("sum", "sum", "a0 + a1 + ...", _sum, lambda out, xs: (1.0,) * len(xs),
       ("a{i}",), ("1",), nary=True, nary_layout=_layout_all),
    Op("dot", "dot", "w·x", _dot, _dot_grads,
       ("w{i}", "x{i}"), ("x{i}", "w{i}"), nary=True, nary_layout=_layout_pairs),
    Op("linear", "w·x+b", "w·x + b", _linear, _linear_grads,
       ("w{i}", "x{i}", "b"), ("x{i}", "w{i}", "1"), nary=True, nary_layout=_layout_pairs_bias),
    Op("logsumexp", "logsumexp", "logsumexp(a)", _logsumexp, _logsumexp_grads,
       ("a{i}",), ("exp(a{i} - out)",), nary=True, nary_layout=_layout_all),
]

#: name -> Op, in declaration order
OPS: dict[str, Op] = {op.name: op for op in _OP_LIST}

#: the unary functions a user can call as ``x.name()`` or ``autograd.name(x)``
UNARY_FUNCTIONS: tuple[str, ...] = (
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "softplus", "sin", "cos", "abs",
)


def get_op(name: str) -> Op:
    """The table entry called `name`; `KeyError` lists the known names otherwise."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"unknown op {name!r}; known ops: {', '.join(OPS)}") from None
