"""A small expression language for building graphs from text, without eval.

``x*(2*y + z)`` with ``x=3, y=1, z=2`` becomes the same `autograd.Value` graph that
``x * (2*y + z)`` builds in Python from Values labelled ``x``, ``y`` and ``z``.

The language: numbers, variable names, ``+ - * / **``, unary ``-`` and ``+``,
parentheses, and calls to the engine's functions: the unary ones (those of
`autograd.ops.unary_functions()`, ops registered later included: ``exp``, ``log``,
``sqrt``, ``tanh``, ``sigmoid``, ``relu``, ``softplus``, ``sin``, ``cos``, ``abs``),
``leaky_relu(x, slope)`` with a numeric slope, ``sum(a, b, ...)`` and
``logsumexp(a, b, ...)`` over any number of arguments, and ``dot([w1, w2], [x1, x2])``
and ``linear([w1, w2], [x1, x2], b)`` (a neuron's fused w·x + b).  It is checked against
a whitelist over Python's `ast`; anything else raises `ExpressionError`, which says what
is wrong and where.

Numbers follow Python: ``x**2`` raises x to the constant 2 (op ``powc``), ``2*y`` makes
2 a constant leaf, and an operation between two plain numbers (``2*3``) is folded into
one number using the op table's forward function (IEEE results: ``1/0`` is ``inf``).
"""

from __future__ import annotations

import ast
import keyword
import math
import numbers
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import autograd
from autograd.ops import OPS, unary_functions
from autograd.value import Value

__all__ = [
    "ExpressionError", "ParsedExpression", "Expression", "parse", "build", "parse_assignments",
    "FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH",
]

#: longest accepted expression, in characters
MAX_LENGTH = 1000
#: deepest accepted nesting of operations
MAX_DEPTH = 100
_CARET_WINDOW = 72

_CALLED_OTHERWISE = {"leaky_relu": "leaky_relu", "sum": "series", "logsumexp": "series",
                     "dot": "dot", "linear": "linear"}


class _Functions(Mapping[str, str]):
    """Function name -> how it is called: "unary", "leaky_relu", "series" (any number of
    scalars), "dot" (two lists), "linear" (two lists and a bias).

    The one-input functions are read from the op table each time, so an op added with
    `autograd.register` can be called in an expression at once.
    """

    def _all(self) -> dict[str, str]:
        return {**{name: "unary" for name in unary_functions()}, **_CALLED_OTHERWISE}

    def __getitem__(self, name: str) -> str:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


#: function name -> how it is called (see `_Functions`)
FUNCTIONS: Mapping[str, str] = _Functions()

_BINARY = {ast.Add: ("add", "+"), ast.Sub: ("sub", "-"), ast.Mult: ("mul", "*"),
           ast.Div: ("div", "/"), ast.Pow: ("pow", "**")}
_OTHER_OPERATORS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
                    ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&"}
_NOT_ALLOWED = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Lambda: "lambda",
    ast.Compare: "comparisons", ast.BoolOp: "'and'/'or'", ast.IfExp: "'if ... else'",
    ast.JoinedStr: "f-strings", ast.FormattedValue: "f-strings", ast.Tuple: "tuples",
    ast.Dict: "dicts", ast.Set: "sets", ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions", ast.NamedExpr: "':='", ast.Starred: "'*' unpacking",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slices",
    ast.List: "lists (outside dot/linear)",
}


class ExpressionError(ValueError):
    """The expression (or a variable assignment) cannot be used; says what and where.

    ``text`` is the offending text, ``start``/``end`` the 0-based character span of
    the problem in it (None when the whole text is at fault).
    """

    def __init__(self, message: str, text: str = "", start: int | None = None,
                 end: int | None = None) -> None:
        self.message = message
        self.text = text
        self.start = start
        self.end = end if end is not None and start is not None and end > start else (
            None if start is None else start + 1)
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" (column {self.start + 1})" if self.start is not None else ""
        return f"{self.message}{where}"

    def caret(self) -> str:
        """The text with ``^^^`` under the problem, or "" when there is no position."""
        if self.start is None or not self.text or "\n" in self.text:
            return ""
        text = self.text
        start = min(self.start, len(text))
        end = min(max(self.end or start + 1, start + 1), len(text) + 1)
        # Long text: show a window around the problem so the caret stays on screen.
        offset = max(0, min(start - _CARET_WINDOW // 3, len(text) - _CARET_WINDOW))
        shown = text[offset:offset + _CARET_WINDOW]
        if offset:
            shown, start, end = "..." + shown, start - offset + 3, end - offset + 3
        if offset + _CARET_WINDOW < len(text):
            shown += "..."
        end = min(end, len(shown))
        return f"    {shown}\n    {' ' * start}{'^' * max(1, end - start)}"


def _span(text: str, node: ast.AST) -> tuple[int | None, int | None]:
    """The node's character span (ast positions count UTF-8 bytes)."""
    if not hasattr(node, "col_offset"):
        return None, None
    encoded = text.encode("utf-8")

    def chars(byte_offset: int | None) -> int | None:
        if byte_offset is None:
            return None
        return len(encoded[:byte_offset].decode("utf-8", "ignore"))

    return chars(node.col_offset), chars(getattr(node, "end_col_offset", None))


def _fail(message: str, text: str, node: ast.AST | None = None) -> ExpressionError:
    start, end = _span(text, node) if node is not None else (None, None)
    return ExpressionError(message, text, start, end)


def _operator_position(text: str, node: ast.BinOp, symbol: str) -> ast.AST:
    """A fake node spanning the operator symbol itself, for the caret."""
    left_end = _span(text, node.left)[1]
    right_start = _span(text, node.right)[0]
    if left_end is not None and right_start is not None:
        found = text.find(symbol, left_end, right_start)
        if found >= 0:
            marker = ast.Constant(0)
            prefix = text[:found].encode("utf-8")
            marker.col_offset = len(prefix)
            marker.end_col_offset = len(prefix) + len(symbol.encode("utf-8"))
            return marker
    return node


# -- checking ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedExpression:
    """A checked expression: its text, syntax tree and variable names (first use first)."""

    text: str
    tree: ast.Expression
    variables: tuple[str, ...]

    def build(self, values: Mapping[str, float], *, allow_unused: bool = False) -> Expression:
        """The graph for these variable values (see `build`)."""
        return _Builder(self, values, allow_unused).run()


def parse(text: str) -> ParsedExpression:
    """Check `text` against the expression language; `ExpressionError` if it is not in it."""
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be a string, got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("the expression is empty", text)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is too long ({len(text)} characters; the limit "
                              f"is {MAX_LENGTH})", text[:60] + "...")
    text = text.replace("\t", " ")  # a tab is whitespace; one column keeps positions right
    for k, char in enumerate(text):
        if not char.isprintable():
            raise ExpressionError(f"unexpected character {char!r}: the expression must be one "
                                  f"line of printable text", text.replace("\n", " "), k)
    try:
        with warnings.catch_warnings():
            # e.g. "1if" warns "invalid decimal literal": never print to the user's terminal
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(error, text) from None
    except (ValueError, MemoryError, RecursionError) as error:
        raise ExpressionError(f"cannot parse the expression: {error}", text) from None
    _check_depth(tree, text)
    variables: dict[str, None] = {}
    _check(tree.body, text, variables, in_vector_call=False)
    return ParsedExpression(text, tree, tuple(variables))


def _syntax_error(error: SyntaxError, text: str) -> ExpressionError:
    """Python's SyntaxError as an ExpressionError that points at the problem."""
    message = (error.msg or "invalid syntax").split(" (detected at")[0]
    start = error.offset - 1 if error.offset else None
    end = error.end_offset - 1 if error.end_offset and error.end_offset > 0 else None
    if start is not None and (error.lineno or 1) > 1:
        start = end = None
    if start is None or start >= len(text.rstrip()):
        # "x+": Python reports no column; the problem is that the text stops too early
        start, end = len(text.rstrip()), None
        message = ("the expression ends too early (is something missing?)"
                   if message == "invalid syntax" else f"{message} at the end of the expression")
    elif text[start] == "=" and text[start + 1:start + 2] != "=":
        message = ("'=' cannot appear in the expression: give each variable's value as a "
                   "separate argument after it, e.g. \"x*y\" x=1 y=2")
    return ExpressionError(f"syntax error: {message}", text, start, end)


def _check_depth(tree: ast.AST, text: str) -> None:
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _fail(f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
                        text, node)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check(node: ast.AST, text: str, variables: dict[str, None], *, in_vector_call: bool) -> None:
    if isinstance(node, ast.BinOp):
        op_type = type(node.op)
        if op_type not in _BINARY:
            symbol = _OTHER_OPERATORS.get(op_type, "?")
            raise _fail(f"operator '{symbol}' is not supported (use + - * / **)", text,
                        _operator_position(text, node, symbol))
        _check(node.left, text, variables, in_vector_call=False)
        _check(node.right, text, variables, in_vector_call=False)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            word = {ast.Not: "'not'", ast.Invert: "'~'"}.get(type(node.op), "this operator")
            raise _fail(f"{word} is not supported (use + - * / **)", text, node)
        _check(node.operand, text, variables, in_vector_call=False)
    elif isinstance(node, ast.Constant):
        _constant(node, text)
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise _fail(f"'{node.id}' is a function: call it, e.g. {node.id}(x)", text, node)
        variables.setdefault(node.id, None)
    elif isinstance(node, ast.Call):
        _check_call(node, text, variables)
    elif isinstance(node, ast.List) and in_vector_call:
        if not node.elts:
            raise _fail("an empty list: dot/linear need at least one element", text, node)
        for element in node.elts:
            _check(element, text, variables, in_vector_call=False)
    else:
        what = _NOT_ALLOWED.get(type(node), f"'{type(node).__name__}'")
        raise _fail(f"{what} not allowed in an expression", text, node)


def _constant(node: ast.Constant, text: str) -> float:
    value = node.value
    if isinstance(value, bool) or value is None or value is Ellipsis:
        raise _fail(f"{value!r} is not a number", text, node)
    if isinstance(value, (str, bytes)):
        raise _fail("strings are not allowed in an expression", text, node)
    if isinstance(value, complex):
        raise _fail("complex numbers are not supported", text, node)
    if not isinstance(value, (int, float)):
        raise _fail(f"{value!r} is not a number", text, node)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if math.isinf(number):
        raise _fail("number too large (the largest is about 1.8e308)", text, node)
    return number


def _check_call(node: ast.Call, text: str, variables: dict[str, None]) -> None:
    if not isinstance(node.func, ast.Name):
        if type(node.func) in _NOT_ALLOWED:
            raise _fail(f"{_NOT_ALLOWED[type(node.func)]} not allowed in an expression", text,
                        node.func)
        raise _fail("only a function named in the language can be called, e.g. tanh(x)", text,
                    node.func)
    name = node.func.id
    kind = FUNCTIONS.get(name)
    if kind is None:
        known = ", ".join(FUNCTIONS)
        raise _fail(f"unknown function '{name}' (known: {known})", text, node.func)
    args, keywords = node.args, node.keywords
    if any(isinstance(a, ast.Starred) for a in args):
        raise _fail("'*' unpacking not allowed in an expression", text, node)
    allowed_keywords = {"slope"} if kind == "leaky_relu" else set()
    for kw in keywords:
        if kw.arg not in allowed_keywords:
            label = "'**' unpacking" if kw.arg is None else f"keyword argument '{kw.arg}'"
            raise _fail(f"{name}() takes no {label}", text, kw)
    counts = {"unary": (1, 1), "leaky_relu": (1, 2 - len(keywords)), "series": (1, None),
              "dot": (2, 2), "linear": (3, 3)}[kind]
    low, high = counts
    if len(args) < low or (high is not None and len(args) > high):
        expected = {"unary": "one argument", "leaky_relu": "x and optionally a slope",
                    "series": "at least one argument", "dot": "two lists: dot([w...], [x...])",
                    "linear": "two lists and a bias: linear([w...], [x...], b)"}[kind]
        raise _fail(f"{name}() takes {expected}, got {len(args)} argument"
                    f"{'' if len(args) == 1 else 's'}", text, node)
    for position, arg in enumerate(args):
        wants_list = kind in ("dot", "linear") and position < 2
        if wants_list and not isinstance(arg, ast.List):
            raise _fail(f"argument {position + 1} of {name}() must be a list like [w1, w2]", text,
                        arg)
        _check(arg, text, variables, in_vector_call=wants_list)
    if kind in ("dot", "linear"):
        first, second = args[0], args[1]
        assert isinstance(first, ast.List) and isinstance(second, ast.List)
        if len(first.elts) != len(second.elts):
            raise _fail(f"{name}() needs lists of the same length, got {len(first.elts)} and "
                        f"{len(second.elts)}", text, node)
    for kw in keywords:
        _check(kw.value, text, variables, in_vector_call=False)


# -- building ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """A built expression: the root of its graph and its variables (leaves labelled by name)."""

    text: str
    root: Value
    variables: dict[str, Value]


Number = float
Operand = Value | Number


def _binary_python(name: str) -> Callable[[Any, Any], Any]:
    import operator

    return {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
            "div": operator.truediv, "pow": operator.pow}[name]


class _Builder:
    def __init__(self, parsed: ParsedExpression, values: Mapping[str, Any],
                 allow_unused: bool) -> None:
        self.parsed = parsed
        self.text = parsed.text
        if not isinstance(values, Mapping):
            raise ExpressionError(f"variable values must be a mapping of name -> number, got "
                                  f"{type(values).__name__}")
        missing = [name for name in parsed.variables if name not in values]
        if missing:
            name = missing[0]
            node = next(n for n in ast.walk(parsed.tree)
                        if isinstance(n, ast.Name) and n.id == name)
            others = f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""
            raise _fail(f"variable '{name}' has no value: give it one, e.g. {name}=1{others}",
                        self.text, node)
        unused = [name for name in values if name not in parsed.variables]
        if unused and not allow_unused:
            raise ExpressionError(f"a value was given for '{unused[0]}', which the expression "
                                  f"does not use", self.text)
        self.variables: dict[str, Value] = {}
        for name in parsed.variables:
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ExpressionError(f"the value of '{name}' must be a number, got "
                                      f"{type(value).__name__}")
            self.variables[name] = Value(float(value), name)

    def run(self) -> Expression:
        result = self.evaluate(self.parsed.tree.body)
        root = result if isinstance(result, Value) else Value(result)
        return Expression(self.text, root, dict(self.variables))

    def evaluate(self, node: ast.AST) -> Operand:
        if isinstance(node, ast.Constant):
            return _constant(node, self.text)
        if isinstance(node, ast.Name):
            return self.variables[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = self.evaluate(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = self.evaluate(node.left), self.evaluate(node.right)
            name, _symbol = _BINARY[type(node.op)]
            if isinstance(left, Value) or isinstance(right, Value):
                return _binary_python(name)(left, right)
            return self.fold(node, name, left, right)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise AssertionError(f"unchecked node {type(node).__name__}")  # parse() rejects these

    def fold(self, node: ast.BinOp, name: str, left: float, right: float) -> float:
        """Two numbers make one (IEEE: 1/0 is inf); a result too large for a float is an
        error, as the literal 1e400 is: 10**400 and 1e400 are the same number."""
        try:
            result = float(OPS[name].forward(left, right))
        except OverflowError:
            result = math.inf
        pole = 0.0 in (left, right) and name in ("div", "pow")  # 1/0, 0**-1: IEEE inf
        if math.isinf(result) and math.isfinite(left) and math.isfinite(right) and not pole:
            raise _fail("number too large (the largest is about 1.8e308)", self.text, node)
        return result

    def numbers(self, nodes: Iterable[ast.AST]) -> list[Operand]:
        return [self.evaluate(n) for n in nodes]

    def call(self, node: ast.Call) -> Value:
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        kind = FUNCTIONS[name]
        if kind == "unary":
            return getattr(autograd, name)(self.evaluate(node.args[0]))
        if kind == "leaky_relu":
            slope_nodes = list(node.args[1:]) + [kw.value for kw in node.keywords]
            x = self.evaluate(node.args[0])
            if not slope_nodes:
                return autograd.leaky_relu(x)
            slope = self.evaluate(slope_nodes[0])
            if isinstance(slope, Value):
                raise _fail("the slope of leaky_relu must be a number, not an expression of "
                            "variables", self.text, slope_nodes[0])
            return autograd.leaky_relu(x, slope)
        if kind == "series":
            return getattr(autograd, name)(self.numbers(node.args))
        lists = [self.numbers(arg.elts) for arg in node.args[:2]]  # type: ignore[attr-defined]
        if kind == "dot":
            return autograd.dot(lists[0], lists[1])
        return autograd.linear(lists[0], lists[1], self.evaluate(node.args[2]))


def build(text: str, values: Mapping[str, float] | None = None, *,
          allow_unused: bool = False) -> Expression:
    """Parse `text` and build its graph with the given variable values.

    Every variable needs a value; a value for a name the expression does not use is an
    error too (a likely typo) unless ``allow_unused=True``.
    """
    return parse(text).build(values or {}, allow_unused=allow_unused)


def parse_assignments(items: Sequence[str]) -> dict[str, float]:
    """``["x=3", "y=-1.5"]`` -> ``{"x": 3.0, "y": -1.5}``; `ExpressionError` on a bad item."""
    values: dict[str, float] = {}
    for item in items:
        name, equals, number = item.partition("=")
        # Python reads identifiers in NFKC form (ｘ is x): so must the assignments
        name = unicodedata.normalize("NFKC", name.strip())
        if not equals:
            raise ExpressionError(f"expected name=value, got {item!r}", item)
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ExpressionError(f"{name!r} is not a variable name", item, 0, len(name) or 1)
        if name in FUNCTIONS:
            raise ExpressionError(f"'{name}' is a function name, not a variable", item, 0,
                                  len(name))
        if name in values:
            raise ExpressionError(f"'{name}' is given a value twice", item, 0, len(name))
        try:
            value = float(number.strip())
        except ValueError:
            raise ExpressionError(f"the value of '{name}' is not a number: {number.strip()!r}",
                                  item, len(item) - len(number), len(item)) from None
        if math.isinf(value) and "inf" not in number.lower():
            raise ExpressionError(f"the value of '{name}' is too large (the largest is about "
                                  f"1.8e308; write inf for infinity)", item,
                                  len(item) - len(number), len(item))
        values[name] = value
    return values
