"""The op table: the one place where each operation's math lives.

An entry states an op's forward function and, once, the local derivative of its
output with respect to each input: a small function of the inputs, the output ``out``
and the params, written with arithmetic, the table's own ops (``a.cos()``) and the
choices `where` / `unless`.  From that one definition come

* the formula a person reads: `Op.explain` gives a `Derivative` (formula, simplified
  form, note at kinks) in any names, e.g. the graph's own;
* a differentiable expression: called with `Value` nodes it builds the derivative as
  a graph (`autograd.grad(..., create_graph=True)`, to any order);
* the numbers the backward pass uses: by evaluating the formula, or, where speed
  matters, a hand-written float function (``fast``) that
  ``tests/autograd/test_engine_table.py`` proves equal to the formula at random points.

Adding a unary op is one `register(unary(...))` call: the `Value` and `Tensor`
methods, the ``autograd.<name>`` function, the expression parser and the stepper
follow from the table.

An n-ary op (``sum``, ``dot``, ``linear``, ``logsumexp``) takes its inputs as one tuple
(``forward(inputs)``, ``fast(out, inputs)``; a neuron has dozens of inputs), and writes
its derivative for one position ``i`` of its input groups: ``dot``'s is
``lambda w, x, out: (x, w)``, meaning d/dw_i = x_i and d/dx_i = w_i.

Floating-point semantics follow IEEE 754 and PyTorch rather than Python's
``math`` module: ``log(0) = -inf``, ``1/0 = inf``, ``exp(1000) = inf``,
``sqrt(-1) = nan``; nothing raises.  Use `autograd.detect_anomaly` to turn a
NaN or infinity into an error at the op that produced it.

Subgradients at kinks follow PyTorch: ``relu'(0) = 0``, ``abs'(0) = 0``,
``leaky_relu'(0) = slope``, and so do second derivatives there (``relu'' = 0``); so do
the limits of ``a**b``: d/da = 0 where b = 0, and d/db = 0 where a = 0 and b >= 0
(where ``a**b*log(a)`` would be 0*-inf).  One second derivative differs from PyTorch's
on purpose: at b = 0 (a != 0), d²/da db of a**b is 1/a here, as mathematics says and as
the other order gives; PyTorch masks d/da at every b = 0 and gets 0, an asymmetric
Hessian.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import formula
from autograd.formula import Derivative, Sym, both, eq, ge, gt, lt, unless, where

__all__ = [
    "Op", "OPS", "UNARY_FUNCTIONS", "get_op", "register", "unregister", "unary",
    "on_register", "add_methods", "placeholders", "unary_functions", "is_function",
    "Derivative",
]

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


class DeadLocals(tuple):
    """All-zero local derivatives (a ReLU neuron that is off): the backward loop skips them."""

    __slots__ = ()


_DEAD: dict[int, DeadLocals] = {}


def _dead(n: int) -> DeadLocals:
    zeros = _DEAD.get(n)
    if zeros is None:
        zeros = _DEAD[n] = DeadLocals((0.0,) * n)
    return zeros


def _relu_linear(wxb: Sequence[float]) -> float:
    z = _linear(wxb)
    return 0.0 if z <= 0.0 else z  # exactly relu(linear(...)), NaN included


def _relu_linear_grads(out: float, wxb: Sequence[float]) -> Sequence[float]:
    return _linear_grads(out, wxb) if out > 0.0 else _dead(len(wxb))


# One neuron on one input row, for a layer's batch: the (output, local derivatives) that
# `forward` and `local_grads` give for the inputs ``w + x + (b,)``, from w, x and b
# apart, so a layer reads its weights once for a batch and concatenates nothing first.
# `w1` is the weights followed by 1.0 (the bias's derivative): map() stops at the end of
# x, so w1's last entry is never multiplied.  Speed only: `test_fusion` proves these
# equal to the op's own functions, bit for bit.

def _linear_neuron(w1: tuple[float, ...], x: tuple[float, ...], b: float
                   ) -> tuple[float, Sequence[float]]:
    return sum(map(operator.mul, w1, x), b), x + w1


def _relu_linear_neuron(w1: tuple[float, ...], x: tuple[float, ...], b: float
                        ) -> tuple[float, Sequence[float]]:
    z = sum(map(operator.mul, w1, x), b)
    if z > 0.0:
        return z, x + w1
    return (0.0 if z <= 0.0 else z), _dead(len(x) + len(w1))


def _logsumexp(xs: Sequence[float]) -> float:
    m = max(xs)
    total = sum(xs)  # NaN if any x is NaN (or for inf + -inf: then look closer)
    if total != total and (m != m or any(x != x for x in xs)):
        return math.nan  # max() of a NaN and an inf depends on their order: never use it
    if m in (_INF, -_INF):
        return m
    return m + math.log(sum(map(math.exp, [x - m for x in xs])))


def _logsumexp_grads(out: float, xs: Sequence[float]) -> tuple[float, ...]:
    # d logsumexp / d x_i = softmax(x)_i = exp(x_i - out); x_i - out <= 0 (or NaN), so
    # math.exp cannot overflow here
    return tuple(map(math.exp, [x - out for x in xs]))


# -- the entry type ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Op:
    """One operation: its forward function and, written once, its local derivatives.

    ``derivatives(*inputs, out, *params)`` returns one local derivative per input (for
    an n-ary op, per input group at one position); it is written with arithmetic, the
    table's ops and `where`/`unless`, so it works on `Sym`, `Value` (and floats, through
    `Sym`).  ``local_grads(out, *inputs, *params)`` gives the same numbers for floats
    (hand-written for speed, or evaluated from the formula).  ``input_names`` are the
    table's own names for the inputs (``{i}`` marks a group of an n-ary op).
    """

    name: str
    symbol: str
    forward: Callable[..., float]
    derivatives: Callable[..., Any] = field(repr=False)
    local_grads: Callable[..., Any] = field(repr=False)
    input_names: tuple[str, ...] = ("a",)
    params: tuple[str, ...] = ()
    nary: bool = False
    nary_layout: Callable[[int], list[tuple[int, int]]] | None = field(default=None, repr=False)
    #: inputs where the derivative jumps (a subgradient is used there)
    kinks: tuple[float, ...] = ()
    #: the forward function over NumPy arrays (for `Tensor` and array evaluation)
    array_forward: Callable[..., Any] | None = field(default=None, repr=False)
    #: how an n-ary op joins its inputs in text: "sum", "dot", "linear" or "call"
    nary_text: str = "call"
    #: a fused op: the table ops it computes in one node, in order (e.g. linear, then relu)
    parts: tuple[str, ...] = ()
    #: speed only, for ops laid out as ``w + x + (b,)``: ``neuron(w1, x, b)`` gives
    #: (output, local_grads) from the weights followed by 1.0, the inputs and the bias
    neuron: Callable[[tuple[float, ...], tuple[float, ...], float],
                     tuple[float, Sequence[float]]] | None = field(
        default=None, repr=False)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Graphs and models pickle and deep-copy: an op travels as its name.
        return get_op, (self.name,)

    @property
    def arity(self) -> int:
        """How many inputs the op takes (-1 for an n-ary op)."""
        return -1 if self.nary else len(self.input_names)

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
        """For each input, (index into input_names, position in its group)."""
        if not self.nary:
            return [(i, 0) for i in range(n_inputs)]
        assert self.nary_layout is not None
        return self.nary_layout(n_inputs)

    def input_name(self, index: int, n_inputs: int) -> str:
        """The table's name of input `index`, e.g. ``b`` or ``x3``."""
        group, position = self.layout(n_inputs)[index]
        return self.input_names[group].format(i=position)

    # -- the one definition, applied ---------------------------------------------------------

    def _call_derivatives(self, inputs: Sequence[Any], out: Any, params: Sequence[Any],
                          index: int) -> Any:
        """The local derivative of input `index`, from `derivatives` on these operands."""
        if not self.nary:
            result = self.derivatives(*inputs, out, *params)
            return result[index] if isinstance(result, tuple) else result
        layout = self.layout(len(inputs))
        group, position = layout[index]
        members: dict[int, list[int]] = {}
        for k, (g, _) in enumerate(layout):
            members.setdefault(g, []).append(k)
        element = [inputs[ks[min(position, len(ks) - 1)]] for _, ks in sorted(members.items())]
        return self.derivatives(*element, out)[group]

    def local_formula(self, index: int, n_inputs: int, params: Sequence[float] | None = None
                      ) -> Sym:
        """Input `index`'s local derivative as a formula over ``in0, in1, ..., out``.

        With `params` None the params stay variables (``slope``); else their numbers.
        """
        inputs = [Sym.var(f"in{k}") for k in range(n_inputs)]
        ps = [Sym.var(p) for p in self.params] if params is None else list(params)
        return formula._sym(self._call_derivatives(inputs, Sym.var("out"), ps, index))

    def local_expressions(self, node: Any) -> tuple[Any, ...]:
        """Each input's local derivative built from `node`'s own operands (Values).

        Used by ``grad(create_graph=True)``: the results are graphs (or plain numbers for
        constants), so a gradient can be differentiated again.
        """
        parents = node.parents
        if not self.nary:
            result = self.derivatives(*parents, node, *node.params)
            return result if isinstance(result, tuple) else (result,)
        return tuple(self._call_derivatives(parents, node, (), k) for k in range(len(parents)))

    def output_formula(self, n_inputs: int, params: Sequence[float] | None = None) -> Sym:
        """The op's own result as a formula over ``in0, in1, ...``."""
        ps = tuple(Sym.var(p) for p in self.params) if params is None else tuple(params)
        return Sym("apply", tuple(Sym.var(f"in{k}") for k in range(n_inputs)), op=self,
                   params=ps)

    def explain(self, index: int, names: Sequence[str], out_name: str = "out",
                params: Sequence[float] = (), pretty: bool = False) -> Derivative:
        """Input `index`'s local derivative in the given names (one per input).

        `out_name` names the op's result, used where the table writes the derivative
        from it (tanh, exp, sigmoid); `params` are written in by value (empty: by name).
        """
        n = len(names)
        local = self.local_formula(index, n, list(params) if params else None)
        mapping = {f"in{k}": name for k, name in enumerate(names)}
        mapping["out"] = out_name
        if params == () and self.params:
            mapping.update({p: p for p in self.params})
        simplified = None
        if "out" in formula.variables(local):
            simplified = formula.render(local, mapping, pretty, ignore_exceptions=True)
            local = formula.substitute(
                local, {"out": self.output_formula(n, list(params) if params else None)})
        text = formula.render(local, mapping, pretty, ignore_exceptions=True)
        notes = formula.notes(local, mapping, pretty)
        return Derivative(text, simplified if simplified != text else None,
                          "; ".join(notes) if notes else None)

    def expression_text(self, names: Sequence[str], params: Sequence[float] = (),
                        pretty: bool = False, max_items: int = 8) -> str:
        """The forward expression in the given names, e.g. ``x*b`` or ``w0*x0 + w1*x1 + b``."""
        if not self.nary:
            ps = list(params) if params else None
            mapping = {f"in{k}": name for k, name in enumerate(names)}
            return formula.render(self.output_formula(len(names), ps), mapping, pretty)
        times = "·" if pretty else "*"
        items: list[str]
        if self.nary_text in ("dot", "linear"):
            half = (len(names) - (self.nary_text == "linear")) // 2
            items = [f"{w}{times}{x}" for w, x in zip(names[:half], names[half:2 * half])]
        else:
            items = list(names)
        if len(items) > max_items:
            items = [*items[:max_items - 2], "…" if pretty else "...", items[-1]]
        if self.nary_text == "linear":
            items.append(names[-1])
        if self.nary_text == "call":
            return f"{self.name}({', '.join(items)})"
        return " + ".join(items)

    # -- text in the table's own names (what the README's table and old callers read) ------

    @property
    def expression(self) -> str:
        """The forward expression in the table's names, e.g. ``a*b``."""
        if self.nary:
            return {"sum": "a0 + a1 + ...", "dot": "w·x", "linear": "w·x + b"}.get(
                self.nary_text, f"{self.name}(a)")
        return self.expression_text(self.input_names)

    def derivative(self, index: int, n_inputs: int) -> str:
        """Input `index`'s local derivative as text in the table's names, e.g. ``b``."""
        return str(self.explain(index, self._table_names(n_inputs)))

    def formula(self, index: int, n_inputs: int, params: Sequence[float] = ()) -> str:
        """The whole statement in the table's names, e.g. ``d(a*b)/da = b``."""
        names = self._table_names(n_inputs)
        d = self.explain(index, names, params=params)
        expr = self.expression_text(names, params)
        return f"d({expr})/d{names[index]} = {d}"

    def _table_names(self, n_inputs: int) -> list[str]:
        return [self.input_name(k, n_inputs) for k in range(n_inputs)]


def placeholders(op: Op, n_inputs: int) -> list[str]:
    """Names for the generic table formula that are never a node's name: ``⟨a⟩``, ``⟨b⟩``."""
    return [f"⟨{op.input_name(k, n_inputs)}⟩" for k in range(n_inputs)]


def _layout_all(n: int) -> list[tuple[int, int]]:
    return [(0, i) for i in range(n)]


def _layout_pairs(n: int) -> list[tuple[int, int]]:
    half = n // 2
    return [(0, i) for i in range(half)] + [(1, i) for i in range(half)]


def _layout_pairs_bias(n: int) -> list[tuple[int, int]]:
    return [*_layout_pairs(n - 1), (2, 0)]


def _fast_from_formulas(name: str, arity: int, params: tuple[str, ...]) -> Callable[..., Any]:
    """Float local derivatives evaluated from the op's formulas (for ops without ``fast``)."""
    trees: list[Sym] = []

    def local_grads(out: float, *args: float) -> tuple[float, ...]:
        if not trees:
            op = OPS[name]
            trees.extend(op.local_formula(k, arity) for k in range(arity))
        env = {f"in{k}": args[k] for k in range(arity)}
        env.update(zip(params, args[arity:]))
        env["out"] = out
        return tuple(float(formula.evaluate(t, env)) for t in trees)

    return local_grads


def unary(
    name: str,
    forward: Callable[..., float],
    derivative: Callable[..., Any],
    *,
    fast: Callable[..., tuple[float, ...]] | None = None,
    array_forward: Callable[..., Any] | None = None,
    params: tuple[str, ...] = (),
    kinks: tuple[float, ...] = (),
    symbol: str | None = None,
) -> Op:
    """A one-input op: ``derivative(a, out, *params)`` returns d(out)/da.

    `fast(out, a, *params)` (optional) returns the same as a one-tuple of floats, for
    speed; `array_forward` (optional) computes the op on NumPy arrays (default: the
    float forward, element by element).
    """
    if array_forward is None:
        array_forward = np.vectorize(forward, otypes=[float])
    return Op(
        name=name, symbol=symbol or name, forward=forward,
        derivatives=lambda a, out, *ps: (derivative(a, out, *ps),),
        local_grads=fast or _fast_from_formulas(name, 1, params),
        input_names=("a",), params=params, kinks=kinks, array_forward=array_forward,
    )


def _binary(name: str, symbol: str, forward: Callable[..., float],
            derivatives: Callable[..., Any], fast: Callable[..., Any],
            array_forward: Callable[..., Any]) -> Op:
    return Op(name, symbol, forward, derivatives, fast, ("a", "b"), array_forward=array_forward)


def _np(ufunc: Callable[..., Any]) -> Callable[..., Any]:
    def array_forward(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            return ufunc(*args)

    return array_forward


def _np_sigmoid(a: Any) -> Any:
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0, e) / (1.0 + e)


def _np_softplus(a: Any) -> Any:
    return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))


# Shared one-element results: a ReLU network makes thousands of these nodes per step.
_ONE, _ZERO = (1.0,), (0.0,)

# The table.  Each `derivatives` is the definition; `fast` is the same numbers, faster.
_OP_LIST: list[Op] = [
    _binary("add", "+", operator.add, lambda a, b, out: (1, 1),
            lambda out, a, b: (1.0, 1.0), _np(np.add)),
    _binary("sub", "-", operator.sub, lambda a, b, out: (1, -1),
            lambda out, a, b: (1.0, -1.0), _np(np.subtract)),
    _binary("mul", "*", operator.mul, lambda a, b, out: (b, a),
            lambda out, a, b: (b, a), _np(np.multiply)),
    _binary("div", "/", _div, lambda a, b, out: (1 / b, -a / b**2),
            lambda out, a, b: (_div(1.0, b), _div(-out, b)), _np(np.divide)),
    _binary(
        "pow", "**", _pow,
        # d/da is 0 at b = 0 anyway (b times a finite number) except where a = 0 too; so
        # only that point is excepted, and d/db of it stays a**(b-1) there: the Hessian is
        # symmetric (PyTorch masks every b = 0 and loses that mixed second derivative).
        lambda a, b, out: (unless(both(eq(b, 0), eq(a, 0)), 0, b * a ** (b - 1)),
                           unless(both(eq(a, 0), ge(b, 0)), 0, out * a.log())),
        lambda out, a, b: (0.0 if b == 0.0 else b * _pow(a, b - 1.0),
                           0.0 if a == 0.0 and b >= 0.0 else out * _log(a)),
        _np(np.power),
    ),
    unary("powc", lambda a, n: _pow(a, n), lambda a, out, n: unless(eq(n, 0), 0, n * a ** (n - 1)),
          fast=lambda out, a, n: (n * _pow(a, n - 1.0) if n != 0.0 else 0.0,),
          array_forward=_np(np.power), params=("n",), symbol="**n"),
    unary("neg", operator.neg, lambda a, out: -1, fast=lambda out, a: (-1.0,),
          array_forward=np.negative, symbol="-"),
    unary("abs", abs, lambda a, out: where(gt(a, 0), 1, where(lt(a, 0), -1, 0)),
          fast=lambda out, a: (float((a > 0.0) - (a < 0.0)),), array_forward=np.abs,
          kinks=(0.0,)),
    unary("exp", _exp, lambda a, out: out, fast=lambda out, a: (out,), array_forward=_np(np.exp)),
    unary("log", _log, lambda a, out: 1 / a, fast=lambda out, a: (_div(1.0, a),),
          array_forward=_np(np.log)),
    unary("sqrt", _sqrt, lambda a, out: 1 / (2 * out), fast=lambda out, a: (_div(0.5, out),),
          array_forward=_np(np.sqrt)),
    unary("tanh", math.tanh, lambda a, out: 1 - out**2, fast=lambda out, a: (1.0 - out * out,),
          array_forward=np.tanh),
    unary("sigmoid", _sigmoid, lambda a, out: out * (1 - out),
          fast=lambda out, a: (out * (1.0 - out),), array_forward=_np_sigmoid),
    unary("relu", lambda a: 0.0 if a <= 0.0 else a, lambda a, out: where(gt(a, 0), 1, 0),
          fast=lambda out, a: _ONE if a > 0.0 else _ZERO,
          array_forward=lambda a: np.maximum(a, 0.0), kinks=(0.0,)),
    unary("leaky_relu", lambda a, s: s * a if a <= 0.0 else a,
          lambda a, out, slope: where(gt(a, 0), 1, slope),
          fast=lambda out, a, s: (1.0 if a > 0.0 else s,),
          array_forward=lambda a, s: np.where(a > 0, a, a * s), params=("slope",), kinks=(0.0,)),
    unary("softplus", _softplus, lambda a, out: a.sigmoid(), fast=lambda out, a: (_sigmoid(a),),
          array_forward=_np_softplus),
    unary("sin", _sin, lambda a, out: a.cos(), fast=lambda out, a: (_cos(a),),
          array_forward=_np(np.sin)),
    unary("cos", _cos, lambda a, out: -a.sin(), fast=lambda out, a: (-_sin(a),),
          array_forward=_np(np.cos)),
    Op("sum", "sum", _sum, lambda a, out: (1,), lambda out, xs: (1.0,) * len(xs),
       ("a{i}",), nary=True, nary_layout=_layout_all, nary_text="sum"),
    Op("dot", "dot", _dot, lambda w, x, out: (x, w), _dot_grads,
       ("w{i}", "x{i}"), nary=True, nary_layout=_layout_pairs, nary_text="dot"),
    Op("linear", "w·x+b", _linear, lambda w, x, b, out: (x, w, 1), _linear_grads,
       ("w{i}", "x{i}", "b"), nary=True, nary_layout=_layout_pairs_bias, nary_text="linear",
       neuron=_linear_neuron),
    Op("logsumexp", "logsumexp", _logsumexp, lambda a, out: ((a - out).exp(),),
       _logsumexp_grads, ("a{i}",), nary=True, nary_layout=_layout_all),
    # A ReLU neuron as one node: relu(w·x + b).  Its parts are `linear` then `relu`, and
    # `autograd.fusion.unfuse` splits it back into them with the same numbers; relu' is
    # 0 or 1, so its gradients are bit-identical to the two-node graph's.
    Op("relu_linear", "relu(w·x+b)", _relu_linear,
       lambda w, x, b, out: (where(gt(out, 0), x, 0), where(gt(out, 0), w, 0),
                             where(gt(out, 0), 1, 0)),
       _relu_linear_grads, ("w{i}", "x{i}", "b"), nary=True, nary_layout=_layout_pairs_bias,
       nary_text="call", parts=("linear", "relu"), neuron=_relu_linear_neuron),
]

#: name -> Op, in declaration order
OPS: dict[str, Op] = {op.name: op for op in _OP_LIST}
formula.use_table(OPS)

#: the ops that are not a user-facing one-input function (operators, and the n-ary ops)
_NOT_FUNCTIONS = frozenset({"add", "sub", "mul", "div", "pow", "powc", "neg"})

_LISTENERS: list[Callable[[Op, bool], None]] = []


def is_function(op: Op) -> bool:
    """True for a one-input op a user calls by name (``tanh``), not an operator (``neg``)."""
    return op.arity == 1 and op.name not in _NOT_FUNCTIONS


def unary_functions(with_params: bool = False) -> tuple[str, ...]:
    """The one-input ops a user calls as ``x.name()`` or ``autograd.name(x)``, in table order.

    With `with_params`, also those that take params (``leaky_relu``).
    """
    return tuple(op.name for op in OPS.values()
                 if is_function(op) and (with_params or not op.params))


#: the unary functions without params when the table was loaded (see `unary_functions`)
UNARY_FUNCTIONS: tuple[str, ...] = unary_functions()


def on_register(listener: Callable[[Op, bool], None]) -> None:
    """Call ``listener(op, True)`` for every op now and every op registered later, and
    ``listener(op, False)`` when one is unregistered (`Value` and `Tensor` add methods)."""
    _LISTENERS.append(listener)
    for op in OPS.values():
        listener(op, True)


def add_methods(cls: type, make_method: Callable[[Op], Callable[..., Any]]) -> None:
    """Give `cls` a method for each one-input op of the table, now and for ops registered
    later, and take it away when an op is unregistered; the methods `cls` defines itself
    (with their own defaults and docstrings) stay as they are."""
    own = frozenset(name for name in cls.__dict__ if not name.startswith("__"))

    def follow(op: Op, added: bool) -> None:
        if not is_function(op) or op.name in own:
            return
        if added and op.name not in cls.__dict__:
            method = make_method(op)
            method.__name__ = method.__qualname__ = op.name
            setattr(cls, op.name, method)
        elif not added and op.name in cls.__dict__:
            delattr(cls, op.name)

    on_register(follow)


def register(op: Op) -> Op:
    """Add `op` to the table; its methods and functions appear everywhere at once."""
    if not isinstance(op, Op):
        raise TypeError(f"register() needs an Op, got {type(op).__name__}")
    if op.name in OPS:
        raise ValueError(f"an op called {op.name!r} is already in the table")
    if not op.name.isidentifier() or op.name.startswith("_"):
        raise ValueError(f"an op's name must be a public identifier, got {op.name!r}")
    OPS[op.name] = op
    for listener in _LISTENERS:
        listener(op, True)
    return op


def unregister(name: str) -> None:
    """Remove a registered op (the table's own ops stay)."""
    if any(op.name == name for op in _OP_LIST):
        raise ValueError(f"{name!r} is one of the table's own ops and cannot be removed")
    op = get_op(name)
    del OPS[name]
    for listener in _LISTENERS:
        listener(op, False)


def get_op(name: str) -> Op:
    """The table entry called `name`; `KeyError` lists the known names otherwise."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"unknown op {name!r}; known ops: {', '.join(OPS)}") from None
