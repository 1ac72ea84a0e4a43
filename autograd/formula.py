"""Formulas: derivatives written once, then read as text, numbers or a graph.

Each op of the table writes its local derivatives as one small Python function of its
inputs, its output ``out`` and its params, using only arithmetic, the table's own ops
(as methods: ``a.cos()``) and the choices `where` and `unless`.  Called with `Sym`
variables, that function gives a `Sym` tree, which renders as the formula a person
reads (`render`) and evaluates to the numbers of any point (`evaluate`); called with
`autograd.Value` nodes, the same function builds the derivative as a graph, which can
be differentiated again (higher order).

This module knows no op: `autograd.ops` hands it the table (`use_table`).
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Sym", "Cond", "Derivative", "where", "unless", "gt", "lt", "ge", "le", "eq", "both",
    "render", "evaluate", "variables",
]

_TABLE: Mapping[str, Any] = {}


def use_table(table: Mapping[str, Any]) -> None:
    """Let formulas call the ops of `table` (name -> op); `autograd.ops` calls this once."""
    global _TABLE
    _TABLE = table


def _data(x: Any) -> Any:
    return getattr(x, "data", x)


# -- conditions -----------------------------------------------------------------------------


_CONDITION_TEXT = {"gt": ">", "lt": "<", "ge": ">=", "le": "<=", "eq": "==", "and": "and"}
_CONDITION_PRETTY = {"gt": ">", "lt": "<", "ge": "≥", "le": "≤", "eq": "=", "and": "and"}


class Cond:
    """A comparison inside a formula, e.g. ``a > 0``; only `where`/`unless` read it."""

    __slots__ = ("kind", "args")

    def __init__(self, kind: str, args: tuple[Any, ...]) -> None:
        self.kind = kind
        self.args = args


_COMPARISONS = {"gt": operator.gt, "lt": operator.lt, "ge": operator.ge, "le": operator.le,
                "eq": operator.eq}


def _compare(kind: str, a: Any, b: Any) -> Any:
    if isinstance(a, Sym) or isinstance(b, Sym):
        return Cond(kind, (_sym(a), _sym(b)))
    return _COMPARISONS[kind](_data(a), _data(b))


def gt(a: Any, b: Any) -> Any:
    """``a > b`` (a condition in a formula, a bool for numbers and Values)."""
    return _compare("gt", a, b)


def lt(a: Any, b: Any) -> Any:
    """``a < b``."""
    return _compare("lt", a, b)


def ge(a: Any, b: Any) -> Any:
    """``a >= b``."""
    return _compare("ge", a, b)


def le(a: Any, b: Any) -> Any:
    """``a <= b``."""
    return _compare("le", a, b)


def eq(a: Any, b: Any) -> Any:
    """``a == b`` on values (a Value's own ``==`` is identity)."""
    return _compare("eq", a, b)


def both(c1: Any, c2: Any) -> Any:
    """``c1 and c2``."""
    if isinstance(c1, Cond) or isinstance(c2, Cond):
        return Cond("and", (c1, c2))
    return c1 & c2 if isinstance(c1, np.ndarray) or isinstance(c2, np.ndarray) else c1 and c2


def where(cond: Any, then: Any, otherwise: Any) -> Any:
    """A piecewise derivative, read as ``then if cond else otherwise`` (e.g. relu's).

    Like ``torch.where``, only the chosen branch carries a gradient: the condition
    itself is not differentiated.
    """
    if isinstance(cond, Cond):
        return Sym("where", (_sym(then), _sym(otherwise)), cond=cond)
    return then if cond else otherwise


def unless(cond: Any, there: Any, general: Any) -> Any:
    """`general`, except `there` where `cond` holds: read as ``general`` with a note.

    For the limits and conventions at single points (``a**b`` at 0, ``|a|`` at 0), so the
    formula stays the textbook one and the note says what happens at the point.
    """
    if isinstance(cond, Cond):
        return Sym("unless", (_sym(there), _sym(general)), cond=cond)
    return there if cond else general


# -- the expression tree --------------------------------------------------------------------


class Sym:
    """A node of a formula: a variable, a constant, an op applied, or a choice.

    Arithmetic and the table's ops (as methods) build bigger formulas, so a derivative
    function written for `autograd.Value` works on `Sym` unchanged.
    """

    __slots__ = ("kind", "args", "name", "value", "op", "params", "cond")

    def __init__(self, kind: str, args: tuple[Sym, ...] = (), *, name: str = "",
                 value: float = 0.0, op: Any = None, params: tuple[Any, ...] = (),
                 cond: Cond | None = None) -> None:
        self.kind = kind  # "var", "const", "apply", "where", "unless"
        self.args = args
        self.name = name
        self.value = value
        self.op = op
        self.params = params
        self.cond = cond

    @staticmethod
    def var(name: str) -> Sym:
        """A variable called `name`."""
        return Sym("var", name=name)

    @staticmethod
    def const(value: float) -> Sym:
        """A number."""
        return Sym("const", value=float(value))

    def __repr__(self) -> str:
        return f"Sym({render(self)!r})"

    def __add__(self, other: Any) -> Sym:
        return _apply("add", self, other)

    def __radd__(self, other: Any) -> Sym:
        return _apply("add", other, self)

    def __sub__(self, other: Any) -> Sym:
        return _apply("sub", self, other)

    def __rsub__(self, other: Any) -> Sym:
        return _apply("sub", other, self)

    def __mul__(self, other: Any) -> Sym:
        return _apply("mul", self, other)

    def __rmul__(self, other: Any) -> Sym:
        return _apply("mul", other, self)

    def __truediv__(self, other: Any) -> Sym:
        return _apply("div", self, other)

    def __rtruediv__(self, other: Any) -> Sym:
        return _apply("div", other, self)

    def __pow__(self, other: Any) -> Sym:
        if isinstance(other, numbers.Real):
            if other == 1:
                return self
            return Sym("apply", (self,), op=_TABLE["powc"], params=(float(other),))
        return _apply("pow", self, other)

    def __rpow__(self, other: Any) -> Sym:
        return _apply("pow", other, self)

    def __neg__(self) -> Sym:
        if self.kind == "const":
            return Sym.const(-self.value)
        return Sym("apply", (self,), op=_TABLE["neg"])

    def __getattr__(self, name: str) -> Callable[..., Sym]:
        op = _TABLE.get(name)
        if op is None or op.nary or op.arity != 1 or name.startswith("_"):
            raise AttributeError(f"a formula has no method {name!r}")

        def method(*params: Any) -> Sym:
            return Sym("apply", (self,), op=op, params=tuple(params))

        return method


def _sym(x: Any) -> Sym:
    if isinstance(x, Sym):
        return x
    if isinstance(x, numbers.Real):
        return Sym.const(x)
    raise TypeError(f"a formula cannot hold {type(x).__name__}")


def _apply(name: str, a: Any, b: Any) -> Sym:
    a, b = _sym(a), _sym(b)
    if a.kind == "const" and b.kind == "const":
        return Sym.const(_TABLE[name].forward(a.value, b.value))
    # Exact identities only (1*x, x*1, x/1): a formula's numbers must not change.
    if name == "mul" and a.kind == "const" and a.value == 1.0:
        return b
    if name in ("mul", "div") and b.kind == "const" and b.value == 1.0:
        return a
    if name == "pow" and b.kind == "const":
        return a ** b.value
    return Sym("apply", (a, b), op=_TABLE[name])


# -- evaluation -----------------------------------------------------------------------------


def evaluate(formula: Any, env: Mapping[str, Any], arrays: bool = False) -> Any:
    """The number (or, with ``arrays=True``, the NumPy array) a formula gives at `env`.

    `env` maps each variable's name to a float (or an array).  Ops run their own forward
    functions, so the numbers are the table's.
    """
    if not isinstance(formula, (Sym, Cond)):
        return formula
    if isinstance(formula, Cond):
        a, b = (evaluate(x, env, arrays) for x in formula.args)
        if formula.kind == "and":
            return both(a, b)
        return _compare(formula.kind, a, b)
    kind = formula.kind
    if kind == "var":
        try:
            return env[formula.name]
        except KeyError:
            raise KeyError(f"no value for {formula.name!r} in the formula "
                           f"{render(formula)!r}") from None
    if kind == "const":
        return formula.value
    if kind in ("where", "unless"):
        cond = evaluate(formula.cond, env, arrays)
        first, second = (evaluate(x, env, arrays) for x in formula.args)
        if arrays:
            with np.errstate(all="ignore"):
                return np.where(cond, first, second)
        return first if cond else second
    args = [evaluate(x, env, arrays) for x in formula.args]
    params = [evaluate(p, env, arrays) for p in formula.params]
    op = formula.op
    if arrays:
        with np.errstate(all="ignore"):
            return op.array_forward(*(np.asarray(a, dtype=float) for a in args), *params)
    return op.forward(*(float(a) for a in args), *params)


def variables(formula: Any) -> set[str]:
    """The names of the variables a formula uses."""
    found: set[str] = set()
    stack = [formula]
    while stack:
        node = stack.pop()
        if isinstance(node, Cond):
            stack.extend(node.args)
        elif isinstance(node, Sym):
            if node.kind == "var":
                found.add(node.name)
            stack.extend(node.args)
            stack.extend(p for p in node.params if isinstance(p, Sym))
            if node.cond is not None:
                stack.append(node.cond)
    return found


def substitute(formula: Any, replacements: Mapping[str, Any]) -> Any:
    """The formula with each variable named in `replacements` replaced (by a Sym or number)."""
    if isinstance(formula, Cond):
        return Cond(formula.kind, tuple(substitute(a, replacements) for a in formula.args))
    if not isinstance(formula, Sym):
        return formula
    if formula.kind == "var":
        new = replacements.get(formula.name, formula)
        return _sym(new)
    if formula.kind == "const":
        return formula
    return Sym(formula.kind, tuple(substitute(a, replacements) for a in formula.args),
               op=formula.op, params=tuple(substitute(p, replacements) for p in formula.params),
               cond=substitute(formula.cond, replacements) if formula.cond else None)


# -- text -------------------------------------------------------------------------------------

# Precedence: a child whose level is below what its place needs gets parentheses.
_CHOICE, _SUM, _PRODUCT, _PREFIX, _POWER, _ATOM = range(6)
_INFIX = {"add": (_SUM, "+", "+"), "sub": (_SUM, "-", "−"), "mul": (_PRODUCT, "*", "·"),
          "div": (_PRODUCT, "/", "/"), "pow": (_POWER, "**", "^")}
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def number_text(x: float) -> str:
    """A number as a formula writes it: ``2``, ``0.5``, ``-1``, ``inf``."""
    x = float(x)
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def render(formula: Any, names: Mapping[str, str] | None = None, pretty: bool = False,
           ignore_exceptions: bool = False) -> str:
    """A formula as text, each variable written as ``names[var]`` (default: its own name).

    Plain text is Python syntax (``1 - o**2``, ``1 if x > 0 else 0``); ``pretty`` uses
    ``·``, ``−`` and superscripts for people.  With `ignore_exceptions`, an `unless` shows
    only its general formula (the exception goes in a note: see `notes`).
    """
    return _render(formula, names or {}, pretty, ignore_exceptions)[0]


def _render(f: Any, names: Mapping[str, str], pretty: bool, general: bool) -> tuple[str, int]:
    if isinstance(f, Cond):
        table = _CONDITION_PRETTY if pretty else _CONDITION_TEXT
        a, b = (_render(x, names, pretty, general)[0] for x in f.args)
        return f"{a} {table[f.kind]} {b}", _CHOICE
    if not isinstance(f, Sym):
        f = _sym(f)
    kind = f.kind
    if kind == "var":
        return names.get(f.name, f.name), _ATOM
    if kind == "const":
        # A number keeps its ASCII minus, as every number shown beside a formula does.
        return number_text(f.value), (_PREFIX if f.value < 0 else _ATOM)
    if kind == "unless" and general:
        return _render(f.args[1], names, pretty, general)
    if kind in ("where", "unless"):
        first, second = f.args if kind == "where" else (f.args[0], f.args[1])
        cond = _render(f.cond, names, pretty, general)[0]
        a = _wrap(_render(first, names, pretty, general), _SUM)
        b = _wrap(_render(second, names, pretty, general), _CHOICE)
        return f"{a} if {cond} else {b}", _CHOICE
    op = f.op
    args = [_render(a, names, pretty, general) for a in f.args]
    params = [_render(p, names, pretty, general)[0] if isinstance(p, Sym) else number_text(p)
              for p in f.params]
    if op.name in _INFIX:
        level, plain, fancy = _INFIX[op.name]
        left = _wrap(args[0], level + 1 if op.name == "pow" else level)
        right = _wrap(args[1], level if op.name == "pow" else level + 1)
        if op.name == "pow" and not pretty:
            return f"{left}**{right}", level
        sign = fancy if pretty else plain
        joiner = f" {sign} " if level == _SUM else sign
        return f"{left}{joiner}{right}", level
    if op.name == "powc":
        base = _wrap(args[0], _POWER + 1)
        exponent = f.params[0]
        if pretty and not isinstance(exponent, Sym) and float(exponent).is_integer():
            return f"{base}{number_text(exponent).translate(_SUPERSCRIPT)}", _POWER
        exp_text = params[0]
        if (isinstance(exponent, Sym) and exponent.kind != "var") or exp_text.startswith("-"):
            exp_text = f"({exp_text})"
        return f"{base}{'^' if pretty else '**'}{exp_text}", _POWER
    if op.name == "neg":
        return f"{'−' if pretty else '-'}{_wrap(args[0], _PREFIX)}", _PREFIX
    inner = ", ".join([a for a, _ in args] + params)
    return f"{op.name}({inner})", _ATOM


def _wrap(rendered: tuple[str, int], needed: int) -> str:
    text, level = rendered
    return f"({text})" if level < needed else text


def notes(formula: Any, names: Mapping[str, str] | None = None, pretty: bool = False
          ) -> list[str]:
    """What each `unless` in a formula says, e.g. ``"0 at b == 0"``."""
    found: list[str] = []
    stack = [formula]
    while stack:
        node = stack.pop()
        if isinstance(node, Sym):
            if node.kind == "unless":
                there = render(node.args[0], names, pretty)
                cond = render(node.cond, names, pretty)
                found.append(f"{there} at {cond}")
            stack.extend(reversed(node.args))
    return found


@dataclass(frozen=True)
class Derivative:
    """A local derivative as a person reads it.

    ``formula`` is in the inputs' names (``1 - tanh(n)**2``); ``simplified`` is the
    same in terms of the op's output where the table writes it so (``1 - o**2``), else
    None; ``note`` says what happens at a kink or a limit (``0 at n == 0``), else None.
    """

    formula: str
    simplified: str | None = None
    note: str | None = None

    def __str__(self) -> str:
        text = self.formula if self.simplified is None else f"{self.formula} = {self.simplified}"
        return text if self.note is None else f"{text} ({self.note})"
