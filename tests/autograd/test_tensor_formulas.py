"""The Tensor table's VJP formulas say what its VJPs compute.

Every VJP's text is read back by a small, whitelisted evaluator (NumPy operators, the
scalar table's functions elementwise, ``sum_to``, ``.T``, ``.shape``, ``.reshape``) and
compared with ``local * g`` at random arrays.  The ops whose VJP is described in words
(sum/mean broadcasting, transpose, log-softmax, cross-entropy) are checked against
their stated rule directly.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import OPS, Tensor
from autograd.tensor_ops import TENSOR_OPS, sum_to

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
    ast.Pow: np.power, ast.MatMult: np.matmul,
}


def read(text: str, env: Mapping[str, Any]) -> Any:
    """Evaluate VJP text: arrays, + - * / ** @, table functions, sum_to, .T/.shape/.reshape."""

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            with np.errstate(all="ignore"):
                return _BINARY[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.Attribute) and node.attr in ("T", "shape"):
            return getattr(value(node.value), node.attr)
        if isinstance(node, ast.IfExp):
            return np.where(truth(node.test), value(node.body), value(node.orelse))
        if isinstance(node, ast.Call):
            args = [value(a) for a in node.args]
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("reshape", "sum"):
                return getattr(value(node.func.value), node.func.attr)(*args)
            assert isinstance(node.func, ast.Name), ast.dump(node)
            if node.func.id == "sum_to":
                return sum_to(np.asarray(args[0]), tuple(args[1]))
            with np.errstate(all="ignore"):
                return OPS[node.func.id].array_forward(*args)
        raise AssertionError(f"VJP text uses something unexpected: {ast.dump(node)}")

    def truth(node: ast.AST) -> Any:
        assert isinstance(node, ast.Compare) and len(node.ops) == 1, ast.dump(node)
        left, right = value(node.left), value(node.comparators[0])
        return {ast.Gt: np.greater, ast.Lt: np.less, ast.GtE: np.greater_equal,
                ast.LtE: np.less_equal, ast.Eq: np.equal}[type(node.ops[0])](left, right)

    return value(ast.parse(text, mode="eval").body)


ELEMENTWISE = [name for name, op in TENSOR_OPS.items() if op.scalar is not None]
#: keeps every op in its domain (log, sqrt, pow of a positive base)
POSITIVE = {"log", "sqrt", "pow", "powc"}


@pytest.mark.parametrize("name", [*ELEMENTWISE, "matmul", "linear", "reshape"])
@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1))
def test_vjp_text_computes_the_vjp(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    op = TENSOR_OPS[name]
    params: tuple[Any, ...] = ()
    if name == "matmul":
        arrays = [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))]
    elif name == "linear":
        arrays = [rng.normal(size=(5, 4)), rng.normal(size=(3, 4)), rng.normal(size=3)]
    elif name == "reshape":
        arrays, params = [rng.normal(size=(2, 6))], ((3, 4),)
    elif op.arity == 2:  # broadcasting: b is a row
        arrays = [rng.normal(size=(3, 4)), rng.normal(size=(1, 4))]
    else:
        arrays = [rng.normal(size=(3, 4))]
        params = tuple(float(p) for p in rng.uniform(0.1, 3.0, size=len(op.params)))
    if name in POSITIVE:
        arrays[0] = np.abs(arrays[0]) + 0.5
    tensors = [Tensor(a, n) for a, n in zip(arrays, op.input_names)]
    out = op.forward(*arrays, *(op.check(*arrays, *params) if op.check else params))
    g = rng.normal(size=out.shape)
    node_params = op.check(*arrays, *params) if op.check else params
    locals_ = op.local_grads(out, *arrays, *node_params)
    env = {n: a for n, a in zip(op.input_names, arrays)} | {"g": g, "out": out}
    for k, tensor in enumerate(tensors):
        said = op.explain(k, op.input_names, params=node_params)
        text = said.formula
        want = locals_[k] * g
        np.testing.assert_allclose(read(text, env), want, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name} input {k}: {said}")
        if said.simplified is not None:
            np.testing.assert_allclose(read(said.simplified, env), want, rtol=1e-12,
                                       atol=1e-12, err_msg=f"{name} input {k}: {said}")
        assert tensor.shape == np.shape(want)


def test_the_rules_written_in_words() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4))
    g_sum = rng.normal(size=4)
    local = TENSOR_OPS["sum"].local_grads(None, a, (0,), False)[0]
    np.testing.assert_array_equal(local * g_sum, np.broadcast_to(g_sum, a.shape))
    assert "broadcast back" in TENSOR_OPS["sum"].explain(0, ["a"]).formula
    local = TENSOR_OPS["mean"].local_grads(None, a, (0, 1), False)[0]
    np.testing.assert_allclose(local * 1.0, np.full(a.shape, 1 / 12))
    out = TENSOR_OPS["log_softmax"].forward(a, 1)
    g = rng.normal(size=a.shape)
    local = TENSOR_OPS["log_softmax"].local_grads(out, a, 1)[0]
    np.testing.assert_allclose(local * g, g - np.exp(out) * g.sum(axis=1, keepdims=True))
    assert TENSOR_OPS["log_softmax"].explain(0, ["z"], out_name="s").formula == (
        "g - exp(s) * sum(g, axis)")
    assert TENSOR_OPS["matmul"].explain(0, ["X", "W1"], upstream_name="dZ").formula == (
        "dZ @ W1.T")
