"""One definition per derivative: what the op table derives from it agrees.

For every op, at random points of its domain (the cases of ``test_engine_ops``):

* the fast float numbers (``local_grads``, hand-written for speed) equal the formula's
  numbers (`autograd.formula.evaluate`) to a few ulps;
* the formula's **text**, parsed back by an independent little evaluator (Python's
  `ast`, whitelisted; table text only, never user text), gives the same numbers; so
  does the text with the op's output written in (``1 - o**2`` vs ``1 - tanh(x)**2``);
* the differentiable expression (the same definition called with `Value` nodes) gives
  the same numbers too.

Then a throwaway op is added the way the README says, and used everywhere.
"""

from __future__ import annotations

import ast
import math
import pickle
from collections.abc import Callable, Mapping

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_ops import REFERENCES, Case

import autograd as ag
from autograd import OPS, Tensor, Value, formula
from autograd.formula import unless, where

RTOL = 1e-12


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= RTOL * max(abs(a), abs(b)) + 1e-300


# -- an independent reader of formula text -------------------------------------------------

_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: OPS["div"].forward(a, b), ast.Pow: lambda a, b: OPS["pow"].forward(a, b),
}
_COMPARE: dict[type, Callable[[float, float], bool]] = {
    ast.Gt: lambda a, b: a > b, ast.Lt: lambda a, b: a < b, ast.GtE: lambda a, b: a >= b,
    ast.LtE: lambda a, b: a <= b, ast.Eq: lambda a, b: a == b,
}


def read(text: str, env: Mapping[str, float]) -> float:
    """Evaluate formula text with +-*/**, calls of table ops, comparisons and if/else."""

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.IfExp):
            return value(node.body) if truth(node.test) else value(node.orelse)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [value(a) for a in node.args]
            op = OPS[node.func.id]
            return op.evaluate(args) if op.nary else op.forward(*args)
        raise AssertionError(f"formula text uses something the table does not: {ast.dump(node)}")

    def truth(node: ast.AST) -> bool:
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            return all(truth(v) for v in node.values)
        assert isinstance(node, ast.Compare) and len(node.ops) == 1, ast.dump(node)
        return _COMPARE[type(node.ops[0])](value(node.left), value(node.comparators[0]))

    return value(ast.parse(text, mode="eval").body)


# -- every op, every input ----------------------------------------------------------------

OP_NAMES = list(REFERENCES)


def names_for(n: int) -> list[str]:
    return [f"x{i}" for i in range(n)]


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=40)
@given(data=st.data())
def test_numbers_text_and_expression_agree(name: str, data: st.DataObject) -> None:
    op = OPS[name]
    case: Case = data.draw(REFERENCES[name].cases, label="case")
    n = len(case.inputs)
    out = op.evaluate(case.inputs, case.params)
    fast = op.local_derivatives(out, case.inputs, case.params)
    env = {f"in{k}": x for k, x in enumerate(case.inputs)} | {"out": out}
    env |= dict(zip(op.params, case.params))
    text_env = {f"x{k}": x for k, x in enumerate(case.inputs)} | {"o": out}
    leaves = [Value(x) for x in case.inputs]
    node = ag.apply(op, tuple(leaves), tuple(case.params))
    expressions = op.local_expressions(node)
    for k in range(n):
        tree = op.local_formula(k, n, case.params)
        from_formula = float(formula.evaluate(tree, env))
        assert close(fast[k], from_formula), (name, k, case, fast[k], from_formula)
        said = op.explain(k, names_for(n), out_name="o", params=case.params)
        assert close(read(said.formula, text_env), from_formula), (name, k, said)
        if said.simplified is not None:
            assert close(read(said.simplified, text_env), from_formula), (name, k, said)
        expression = expressions[k]
        number = expression.data if isinstance(expression, Value) else float(expression)
        assert close(number, from_formula), (name, k, case, number, from_formula)


def test_notes_and_simplified_forms_read_well() -> None:
    tanh = OPS["tanh"].explain(0, ["n"], out_name="o", pretty=True)
    assert (tanh.formula, tanh.simplified, tanh.note) == ("1 − tanh(n)²", "1 − o²", None)
    pow_b = OPS["pow"].explain(1, ["x", "y"], out_name="f")
    assert pow_b.formula == "x**y*log(x)" and pow_b.simplified == "f*log(x)"
    assert pow_b.note == "0 at x == 0 and y >= 0"
    assert str(OPS["mul"].explain(1, ["x", "b"])) == "x"
    assert OPS["relu"].explain(0, ["z"]).formula == "1 if z > 0 else 0"
    assert OPS["leaky_relu"].explain(0, ["z"], params=(0.1,)).formula == "1 if z > 0 else 0.1"
    assert OPS["powc"].explain(0, ["x"], params=(2.0,)).formula == "2*x"
    assert OPS["powc"].explain(0, ["x"], params=(3.0,), pretty=True).formula == "3·x²"
    assert OPS["linear"].expression_text(["w0", "w1", "x0", "x1", "b"]) == "w0*x0 + w1*x1 + b"


def test_placeholders_are_never_identifiers() -> None:
    for op in OPS.values():
        n = {"dot": 4, "linear": 5}.get(op.name, 3 if op.nary else op.arity)
        for name in ag.ops.placeholders(op, n):
            assert not name.isidentifier(), name
    mul = OPS["mul"]
    assert str(mul.explain(0, ag.ops.placeholders(mul, 2))) == "⟨b⟩"


def test_ops_pickle_by_name_so_graphs_do() -> None:
    x = Value(0.5, "x")
    y = (x * 3).tanh() + x.leaky_relu(0.2)
    copy = pickle.loads(pickle.dumps(y))
    assert copy.op is OPS["add"] and copy.data == y.data
    assert copy.parents[0].op is OPS["tanh"]
    assert pickle.loads(pickle.dumps(ag.tensor_ops.TENSOR_OPS["matmul"])) is (
        ag.tensor_ops.TENSOR_OPS["matmul"])


# -- adding an op is one table entry ----------------------------------------------------------


def softsign_entry() -> ag.Op:
    # The README's "Adding an op" paragraph shows exactly this.
    return ag.unary(
        "softsign",
        forward=lambda a: a / (1 + abs(a)),
        derivative=lambda a, out: 1 / (1 + a.abs()) ** 2,
        array_forward=lambda a: a / (1 + np.abs(a)),
    )


@pytest.fixture
def softsign() -> ag.Op:
    op = ag.register(softsign_entry())
    try:
        yield op
    finally:
        ag.unregister("softsign")


def test_a_new_op_works_everywhere(softsign: ag.Op) -> None:
    x = Value(0.7, "x")
    y = x.softsign()
    assert y.op is softsign and y.data == pytest.approx(0.7 / 1.7)
    y.backward()
    assert x.grad == pytest.approx(1 / 1.7**2, rel=1e-14)
    assert ag.softsign(0.7).data == y.data  # the module function
    assert "softsign" in ag.ops.unary_functions()
    # higher order: d2/dx2 softsign(x) = -2 sign(x) / (1 + |x|)^3
    (g,) = ag.grad(x.softsign(), [x], create_graph=True)
    (h,) = ag.grad(g, [x])
    assert h.data == pytest.approx(-2 / 1.7**3, rel=1e-12)
    # the formula a person reads
    assert softsign.explain(0, ["x"]).formula == "1/(1 + abs(x))**2"
    # the Tensor engine: an elementwise method with the same VJP
    t = Tensor(np.array([-2.0, 0.5, 3.0]))
    s = t.softsign()
    s.sum().backward()
    np.testing.assert_allclose(t.grad, 1 / (1 + np.abs(t.data)) ** 2, rtol=1e-14)
    assert "softsign" in s.op.formula(0, 1)
    # gradcheck through finite differences
    ag.gradcheck(lambda a: (a * 2).softsign() * a, [0.3])
    # the expression parser and the stepper, in the graph's own names
    viz = pytest.importorskip("viz")
    built = viz.build("softsign(2*x) + x", {"x": 0.7})
    steps = list(viz.backward_steps(built.root))
    assert any("softsign" in s.chain_rule() for s in steps)
    stepped = viz.final_gradients(steps)[built.variables["x"]]
    assert stepped == pytest.approx(2 / (1 + 1.4) ** 2 + 1, rel=1e-14)


def test_unregister_removes_the_methods(softsign: ag.Op) -> None:
    ag.unregister("softsign")
    assert not hasattr(Value(1.0), "softsign")
    assert not hasattr(Tensor([1.0]), "softsign")
    with pytest.raises(AttributeError):
        ag.softsign  # noqa: B018
    ag.register(softsign_entry())  # the fixture removes it again


def test_the_table_refuses_bad_entries() -> None:
    with pytest.raises(ValueError, match="already in the table"):
        ag.register(ag.unary("tanh", math.tanh, lambda a, o: 1))
    with pytest.raises(ValueError, match="table's own ops"):
        ag.unregister("tanh")
    with pytest.raises(TypeError, match="needs an Op"):
        ag.register("tanh")  # type: ignore[arg-type]


def test_where_and_unless_choose_like_torch_where() -> None:
    x = Value(-1.0)
    assert where(x > 0, 1, 0) == 0 and unless(formula.eq(x, -1.0), 5, 7) == 5
