"""The expression language: a whitelist over Python's ast, checked by hand and fuzzed."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from viz_graphs import same

import autograd
from autograd import OPS, Value, topological_order
from autograd.ops import UNARY_FUNCTIONS
from viz.expr import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    build,
    parse,
    parse_assignments,
)


def test_chain_rule_expression() -> None:
    expr = build("x*(2*y + z)", {"x": 3, "y": 1, "z": 2})
    assert expr.root.data == 12.0
    assert list(expr.variables) == ["x", "y", "z"]
    assert all(v.label == k for k, v in expr.variables.items())
    expr.root.backward()
    assert [v.grad for v in expr.variables.values()] == [4.0, 6.0, 3.0]


def test_a_variable_used_twice_is_one_leaf() -> None:
    expr = build("x*x + x", {"x": 3})
    expr.root.backward()
    assert expr.variables["x"].grad == 7.0
    assert sum(1 for n in topological_order(expr.root) if n.label == "x") == 1


def test_numbers_follow_python() -> None:
    x = build("x**2", {"x": -3}).root
    assert x.op is OPS["powc"] and x.params == (2.0,)
    assert build("2**x", {"x": 3}).root.op is OPS["pow"]
    folded = build("x*(2*3)", {"x": 1})
    assert len(topological_order(folded.root)) == 3  # x, the constant 6, and the product
    assert build("x + 1/0", {"x": 1}).root.data == math.inf  # folding is IEEE, like the engine
    assert build("-x", {"x": 2}).root.op is OPS["neg"]
    plus = build("+x", {"x": 2})
    assert plus.root is plus.variables["x"]
    constant = build("2*3", {})
    assert constant.root.data == 6.0 and not constant.root.parents


def test_every_function_is_callable() -> None:
    for name in UNARY_FUNCTIONS:
        expr = build(f"{name}(x)", {"x": 0.5})
        assert expr.root.op is OPS[name]
        assert expr.root.data == OPS[name].forward(0.5)
    assert build("leaky_relu(x, 0.2)", {"x": -1}).root.data == -0.2
    assert build("leaky_relu(x, slope=-0.5*-0.5)", {"x": -1}).root.params == (0.25,)
    assert build("leaky_relu(x)", {"x": -1}).root.params == (0.01,)
    assert build("sum(x, y, 1)", {"x": 1, "y": 2}).root.data == 4.0
    assert build("logsumexp(x, y)", {"x": 0, "y": 0}).root.data == pytest.approx(math.log(2))
    assert build("dot([w1, w2], [x1, x2])", {"w1": 1, "w2": 2, "x1": 3, "x2": 4}).root.data == 11
    lin = build("linear([w], [x], b)", {"w": 2, "x": 3, "b": 1})
    assert lin.root.op is OPS["linear"] and lin.root.data == 7.0
    assert set(FUNCTIONS) >= set(UNARY_FUNCTIONS)


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("x.y", "attribute access", 1),
        ("x[0]", "subscripts", 1),
        ("lambda: 1", "lambda", 1),
        ("'s' + x", "strings", 1),
        ("x + foo(y)", "unknown function 'foo'", 5),
        ("x +* 2", "syntax error", 4),
        ("1.2.3", "syntax error", 4),
        ("x % 2", "operator '%'", 3),
        ("x @ y", "operator '@'", 3),
        ("x // 2", "operator '//'", 3),
        ("not x", "'not'", 1),
        ("x < y", "comparisons", 1),
        ("x if y else z", "'if ... else'", 1),
        ("exp", "'exp' is a function", 1),
        ("exp(x, y)", "exp() takes one argument", 1),
        ("tanh()", "takes one argument, got 0", 1),
        ("leaky_relu(x, y)", "slope of leaky_relu must be a number", 15),
        ("dot(x, y)", "must be a list", 5),
        ("dot([x], [y, z])", "same length", 1),
        ("exp(x=1)", "keyword argument 'x'", 5),
        ("math.exp(x)", "attribute access", 1),
        ("x + q", "variable 'q' has no value", 5),
        ("1j * x", "complex numbers", 1),
        ("1e999 * x", "number too large", 1),
        ("True + x", "True is not a number", 1),
        ("(x, y)", "tuples", 1),
        ("[x]", "lists", 1),
        ("x(y)", "unknown function 'x'", 1),
        ("exp(*x)", "unpacking", 1),
        ("sum()", "at least one argument", 1),
        ("x := 1", "syntax error", None),
        ("x +", "ends too early", 4),
        ("x**", "ends too early", 4),
        ("x = 3", "'=' cannot appear", 3),
        ("exp(x)(1)", "only a function named in the language", 1),
        ("", "empty", None),
        ("x\n+ y", "one line", 2),
        ("(" * 300 + "x" + ")" * 300, "syntax error", None),
        ("-" * (MAX_DEPTH + 5) + "x", "nested too deeply", None),
        ("x+" * (MAX_LENGTH // 2) + "x", "too long", None),
    ],
)
def test_errors_say_what_and_where(text: str, message: str, column: int | None) -> None:
    with pytest.raises(ExpressionError) as info:
        build(text, {"x": 1.0, "y": 2.0, "z": 3.0}, allow_unused=True)
    error = info.value
    assert message in str(error)
    assert "\n" not in str(error)
    if column is not None:
        assert error.start == column - 1
        assert f"(column {column})" in str(error)
        caret = error.caret().splitlines()
        assert len(caret) == 2 and caret[1].strip().startswith("^")
        assert caret[1].index("^") - 4 == error.start


def test_caret_points_under_the_problem() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("x + foo(y)")
    assert info.value.caret() == "    x + foo(y)\n        ^^^"


def test_caret_stays_on_screen_for_long_text() -> None:
    text = "x+" * 60 + "x % 2"
    with pytest.raises(ExpressionError) as info:
        parse(text)
    shown, marks = info.value.caret().splitlines()
    assert len(shown) < 90 and shown[marks.index("^")] == "%"


def test_missing_and_unused_values() -> None:
    with pytest.raises(ExpressionError, match=r"'y' has no value.*also missing: z"):
        build("x*y*z", {"x": 1})
    with pytest.raises(ExpressionError, match="'w', which the expression does not use"):
        build("x", {"x": 1, "w": 2})
    assert build("x", {"x": 1, "w": 2}, allow_unused=True).root.data == 1.0
    with pytest.raises(ExpressionError, match="must be a number"):
        build("x", {"x": "1"})
    with pytest.raises(ExpressionError, match="must be a string"):
        parse(3)  # type: ignore[arg-type]


def test_parse_assignments() -> None:
    assert parse_assignments(["x=3", "y = -1.5", "z=1e-3"]) == {"x": 3.0, "y": -1.5, "z": 0.001}
    for item, message in [("x3", "expected name=value"), ("x=abc", "not a number"),
                          ("1x=2", "not a variable name"), ("exp=1", "function name"),
                          ("=1", "not a variable name"), ("lambda=1", "not a variable name"),
                          ("x=1e999", "too large"), ("x=1e9e", "not a number")]:
        with pytest.raises(ExpressionError, match=message):
            parse_assignments([item])
    with pytest.raises(ExpressionError, match="twice"):
        parse_assignments(["x=1", "x=2"])
    assert parse_assignments(["x=-inf"]) == {"x": -math.inf}  # infinity said in so many words


# -- fuzzing ------------------------------------------------------------------------------

_TOKENS = ["x", "y", "z", "q", "1", "2.5", "0", "1e999", "1j", "(", ")", "[", "]", ",", "+",
           "-", "*", "/", "**", "%", "@", ".", " ", "=", ":", "'", '"', "exp", "tanh",
           "leaky_relu", "sum", "dot", "linear", "logsumexp", "lambda", "if", "else", "not",
           "<", "foo", "_", "\\", "#", "\t", "\n", "\x00", "é", "True", "None", "...", "{", "}"]


@given(st.one_of(st.text(max_size=40),
                 st.lists(st.sampled_from(_TOKENS), max_size=25).map("".join)))
def test_random_text_gives_a_graph_or_a_clear_error(text: str) -> None:
    try:
        expr = build(text, {"x": 1.5, "y": -0.5, "z": 2.0}, allow_unused=True)
    except ExpressionError as error:
        message = str(error)
        assert message and "\n" not in message
        assert "Traceback" not in message
        error.caret()  # never fails either
    else:
        assert isinstance(expr.root, Value)


VARS = ("x", "y", "z")

# An expression is (text, builder): the builder makes the same graph by hand with the
# engine's Python operators and functions, from Values labelled like the variables.
Expr = tuple[str, Callable[[dict[str, Value]], Any]]

_literals = st.floats(0.0, 10.0, allow_nan=False, allow_infinity=False)
_variables: st.SearchStrategy[Expr] = st.sampled_from(VARS).map(
    lambda n: (n, lambda v, n=n: v[n]))
_function_of_literal: st.SearchStrategy[Expr] = st.tuples(
    st.sampled_from(UNARY_FUNCTIONS), _literals).map(
    lambda t: (f"{t[0]}({t[1]!r})", lambda v, t=t: getattr(autograd, t[0])(t[1])))
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "**": lambda a, b: a ** b,
}


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    literal: st.SearchStrategy[Expr] = _literals.map(lambda f: (repr(f), lambda v, f=f: f))

    def binary(t: tuple[Expr, Expr, str, bool]) -> Expr:
        (ta, fa), (tb, fb), symbol, swap = t
        if swap:
            (ta, fa), (tb, fb) = (tb, fb), (ta, fa)
        op = _BINARY[symbol]
        return f"({ta} {symbol} {tb})", lambda v: op(fa(v), fb(v))

    def unary(t: tuple[str, Expr]) -> Expr:
        name, (text, f) = t
        return f"{name}({text})", lambda v: getattr(autograd, name)(f(v))

    def series(t: tuple[str, list[Expr]]) -> Expr:
        name, items = t
        return (f"{name}({', '.join(x[0] for x in items)})",
                lambda v: getattr(autograd, name)([x[1](v) for x in items]))

    def neuron(t: tuple[list[tuple[Expr, Expr]], Expr]) -> Expr:
        pairs, bias = t
        ws = ", ".join(p[0][0] for p in pairs)
        xs = ", ".join(p[1][0] for p in pairs)
        return (f"linear([{ws}], [{xs}], {bias[0]})",
                lambda v: autograd.linear([p[0][1](v) for p in pairs],
                                          [p[1][1](v) for p in pairs], bias[1](v)))

    return st.one_of(
        st.tuples(children, st.one_of(children, literal), st.sampled_from(list(_BINARY)),
                  st.booleans()).map(binary),
        st.tuples(st.sampled_from(UNARY_FUNCTIONS), children).map(unary),
        children.map(lambda e: (f"(-{e[0]})", lambda v, f=e[1]: -f(v))),
        st.tuples(children, _literals).map(
            lambda t: (f"leaky_relu({t[0][0]}, {t[1]!r})",
                       lambda v, t=t: autograd.leaky_relu(t[0][1](v), t[1]))),
        st.tuples(st.sampled_from(["sum", "logsumexp"]),
                  st.lists(children, min_size=1, max_size=3)).map(series),
        st.tuples(st.lists(st.tuples(children, children), min_size=1, max_size=2),
                  children).map(neuron),
    )


valid_expressions = st.recursive(st.one_of(_variables, _function_of_literal), _extend,
                                  max_leaves=8)


@given(valid_expressions, st.lists(st.floats(-3, 3), min_size=3, max_size=3))
def test_valid_expressions_build_the_graph_built_by_hand(expression: Expr, data) -> None:
    text, by_hand = expression
    values = dict(zip(VARS, data))
    parsed = build(text, values, allow_unused=True)
    leaves = {name: Value(values[name], name) for name in VARS}
    expected = by_hand(leaves)
    got_nodes = topological_order(parsed.root)
    want_nodes = topological_order(expected)
    assert [n.op for n in got_nodes] == [n.op for n in want_nodes], text
    assert [n.params for n in got_nodes] == [n.params for n in want_nodes]
    assert [n.label for n in got_nodes] == [n.label for n in want_nodes]
    assert all(same(a.data, b.data) for a, b in zip(got_nodes, want_nodes))
    parsed.root.backward()
    expected.backward()
    for name, leaf in parsed.variables.items():
        assert same(leaf.grad, leaves[name].grad), (text, name)


def test_python_warnings_never_reach_the_user(recwarn: pytest.WarningsRecorder) -> None:
    with pytest.raises(ExpressionError, match=r"'if \.\.\. else'"):
        parse("1if x else 2")  # Python itself warns "invalid decimal literal" here
    assert not recwarn.list
