"""Graphs shared by the viz tests: the chain-rule example f = x(2y + z), and random graphs
over every op."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from autograd import OPS, Value, apply
from demos import chain_rule

#: the ops a drawing shows as they are: a fused op is drawn as its parts (test_viz_fused)
UNFUSED_OPS = [op for op in OPS.values() if not op.parts]


def chain_rule_graph(x: float = 3.0, y: float = 1.0, z: float = 2.0
                     ) -> tuple[Value, dict[str, Value]]:
    """f(x, y, z) = x(2y + z): a = 2y, b = a + z, c = x*b (the chain-rule demo's own)."""
    return chain_rule.build(x, y, z)


def arity(op: Any, k: int) -> int:
    """A valid number of inputs for `op`: its fixed inputs, or k of each n-ary group."""
    if not op.nary:
        return len(op.input_names)
    repeated = sum("{i}" in name for name in op.input_names)
    return repeated * k + (len(op.input_names) - repeated)


_PARAMS = {
    "n": st.sampled_from([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0]),
    "slope": st.floats(0.0, 1.0),
}


@st.composite
def random_graphs(draw: Any, max_leaves: int = 4, max_ops: int = 8) -> tuple[Value, list[Value]]:
    """A random graph over the whole op table, with shared nodes; returns (root, leaves).

    The root sums every op node, so each one is on a path to it.  Inputs may repeat
    (x*x) and leaves may be unlabelled (constants).
    """
    n_leaves = draw(st.integers(1, max_leaves))
    leaves = []
    for i in range(n_leaves):
        value = draw(st.floats(-3.0, 3.0, allow_nan=False))
        leaves.append(Value(value, f"v{i}" if draw(st.booleans()) else ""))
    pool: list[Value] = list(leaves)
    ops: list[Value] = []
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(UNFUSED_OPS))
        n = arity(op, draw(st.integers(1, 3)))
        inputs = tuple(draw(st.sampled_from(pool)) for _ in range(n))
        params = tuple(draw(_PARAMS[name]) for name in op.params)
        node = apply(op, inputs, params)
        if draw(st.booleans()):
            node.label = f"n{len(ops)}"
        pool.append(node)
        ops.append(node)
    root = ops[-1] if len(ops) == 1 else apply(OPS["sum"], tuple(ops))
    return root, leaves


def same(a: float, b: float) -> bool:
    """Equal, counting NaN as equal to NaN (gradients through log(-1) and the like)."""
    return a == b or (math.isnan(a) and math.isnan(b))
