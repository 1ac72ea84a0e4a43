"""backward() semantics, no_grad/enable_grad, detach, zero_grad, topological order,
deep chains, and freeing graphs by reference counting alone."""

from __future__ import annotations

import gc
import math
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import Value, detect_anomaly, enable_grad, is_grad_enabled, no_grad

# -- random graphs (small, for structural properties) -----------------------------------

BLOCKS = {
    "add": lambda a, b, c: a + b, "mul": lambda a, b, c: a * b, "sub": lambda a, b, c: a - b,
    "tanh": lambda a, b, c: a.tanh(), "sigmoid": lambda a, b, c: b.sigmoid(),
    "sum": lambda a, b, c: ag.sum([a, b, c]),
    "linear": lambda a, b, c: ag.linear([a, b], [c, a], 0.5), "square": lambda a, b, c: a**2,
}


def build_graph(variables: list[float], steps: list[tuple[str, int, int, int]]
                ) -> tuple[list[Value], list[Value]]:
    """Leaves and the nodes of a random DAG over them; the last node is the root."""
    leaves = [Value(x, f"v{i}") for i, x in enumerate(variables)]
    nodes = list(leaves)
    for kind, i, j, k in steps:
        a, b, c = nodes[i % len(nodes)], nodes[j % len(nodes)], nodes[k % len(nodes)]
        nodes.append(BLOCKS[kind](a, b, c))
    return leaves, nodes


GRAPHS = st.tuples(
    st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from(sorted(BLOCKS)), st.integers(0, 99), st.integers(0, 99),
                       st.integers(0, 99)), min_size=1, max_size=15),
)


def interior_of(root: Value) -> list[Value]:
    return [n for n in ag.topological_order(root) if n.parents]


# -- accumulation -----------------------------------------------------------------------


def test_reuse_accumulates() -> None:
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0  # d(x*x)/dx = 2x, both inputs are x

    x = Value(3.0)
    a = x + 1     # a feeds b and c: a diamond from a to d
    b = a * 2
    c = a * 3
    d = b + c     # dd/da = 2 + 3 = 5, da/dx = 1
    d.backward()
    assert (a.grad, x.grad) == (5.0, 5.0)


@given(graph=GRAPHS)
def test_backward_twice_doubles_leaves_and_keeps_interior(graph: tuple) -> None:
    leaves, nodes = build_graph(*graph)
    root = nodes[-1]
    root.backward()
    first_leaves = [v.grad for v in leaves]
    first_interior = {id(n): n.grad for n in interior_of(root)}
    root.backward()
    for leaf, g in zip(leaves, first_leaves):
        # Exact doubling is checked below; here allow rounding of the accumulation order.
        assert math.isclose(leaf.grad, 2 * g, rel_tol=1e-14, abs_tol=1e-300) or (
            math.isnan(g) and math.isnan(leaf.grad))
    for node in interior_of(root):
        # micrograd bug #53: interior nodes used to keep accumulating across calls.
        assert node.grad == first_interior[id(node)] or (
            math.isnan(node.grad) and math.isnan(first_interior[id(node)]))
    assert root.grad == 1.0


def test_backward_twice_on_a_chain_is_not_micrograd_bug_53() -> None:
    x = Value(2.0)
    y = x * x       # interior
    z = y * 3.0
    z.backward()
    assert (x.grad, y.grad, z.grad) == (12.0, 3.0, 1.0)
    z.backward()
    # micrograd gives y.grad = 6 and x.grad = 12 + 2*2*6 = 36 here.
    assert (x.grad, y.grad, z.grad) == (24.0, 3.0, 1.0)


def test_backward_twice_exactly_doubles_a_leaf_with_one_contribution() -> None:
    x = Value(0.1)
    y = (x * 0.3).tanh()
    y.backward()
    first = x.grad
    y.backward()
    assert x.grad == 2 * first


def test_backward_twice_exactly_doubles_leaves_with_several_contributions() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = Value(float(rng.uniform(-2, 2)))
        c0, c1, c2 = (float(c) for c in rng.uniform(-2, 2, 3))
        y = x * c0 + x * c1 + x * c2
        y.backward()
        first = x.grad
        y.backward()
        assert x.grad == 2 * first, (first, x.grad)


def test_backward_seed() -> None:
    x = Value(3.0)
    y = x * x
    y.backward(grad=2.5)
    assert (y.grad, x.grad) == (2.5, 15.0)
    x2 = Value(3.0)
    (x2 * x2).backward(np.float64(-1.0))
    assert x2.grad == -6.0
    x3 = Value(3.0)
    (x3 * 2).backward(4)
    assert x3.grad == 8.0 and type(x3.grad) is float


@pytest.mark.parametrize("seed", ["1", [1.0], True, np.bool_(True), 1j], ids=repr)
def test_backward_seed_must_be_a_real_number(seed: object) -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match=type(seed).__name__):
        (x * 2).backward(seed)  # type: ignore[arg-type]


def test_backward_seed_none_means_one_like_pytorch() -> None:
    x = Value(3.0)
    (x * x).backward(None)  # type: ignore[arg-type]
    assert x.grad == 6.0


def test_backward_on_a_leaf() -> None:
    x = Value(5.0)
    x.backward()
    assert x.grad == 1.0
    x.backward(3.0)
    assert x.grad == 4.0  # a leaf accumulates, as everywhere


def test_backward_from_an_interior_node_after_the_root() -> None:
    x = Value(3.0)
    y = x * x
    z = y + 1.0
    z.backward()
    assert (x.grad, y.grad) == (6.0, 1.0)
    y.backward()  # y is now the root: its grad is reset to the seed, x accumulates
    assert (x.grad, y.grad) == (12.0, 1.0)


def test_backward_leaves_unrelated_values_alone() -> None:
    x, other = Value(1.0), Value(2.0)
    other.grad = 7.0
    (x * 3).backward()
    assert other.grad == 7.0


def test_functional_backward_is_the_method() -> None:
    x = Value(2.0)
    ag.backward(x * x, 0.5)
    assert x.grad == 2.0


# -- deep chains ------------------------------------------------------------------------


def test_chain_of_a_million_nodes() -> None:
    # Cyclic garbage from earlier tests would be counted now and collected during the
    # chain's many allocations: collect it first, so the count after compares.
    gc.collect()
    already_alive = len(live_values())
    x = Value(0.5, "x")
    y = x
    for _ in range(1_000_000):
        y = -y  # one node per step; no recursion anywhere
    assert y.data == 0.5
    y.backward()
    assert x.grad == 1.0  # (-1) ** 1_000_000
    assert len(ag.topological_order(y, include_leaves=False)) == 1_000_000
    del y  # freed by reference counting, without a recursion error
    assert len(live_values()) == already_alive + 1  # x alone is left


def test_deep_chain_of_mixed_ops_matches_closed_form() -> None:
    x = Value(0.3)
    y = x
    for _ in range(20_000):
        y = y * 1.0001 + 0.0  # dy/dx = 1.0001 ** 20000
    y.backward()
    assert math.isclose(x.grad, 1.0001**20_000, rel_tol=1e-10)


# -- topological order ------------------------------------------------------------------


@given(graph=GRAPHS)
def test_topological_order(graph: tuple) -> None:
    _, nodes = build_graph(*graph)
    root = nodes[-1]
    order = ag.topological_order(root)
    assert order[-1] is root
    assert len({id(n) for n in order}) == len(order)
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]
    # everything the root depends on, and nothing else
    reachable, stack = set(), [root]
    while stack:
        n = stack.pop()
        if id(n) not in reachable:
            reachable.add(id(n))
            stack.extend(n.parents)
    assert set(position) == reachable
    interior = ag.topological_order(root, include_leaves=False)
    assert [n for n in order if n.parents] == interior or not root.parents
    # exactly depth-first post-order over the parents in argument order: the walk's
    # shortcuts (finishing a node whose inputs are all visited) change nothing
    post_order: list = []
    seen: set[int] = set()

    def visit(node) -> None:
        seen.add(id(node))
        for parent in node.parents:
            if id(parent) not in seen:
                visit(parent)
        if node.parents:
            post_order.append(node)

    visit(root)
    assert interior == post_order


# -- no_grad / enable_grad ----------------------------------------------------------------


def test_no_grad_records_nothing() -> None:
    x = Value(2.0)
    with no_grad():
        assert not is_grad_enabled()
        y = x * 3 + x.tanh()
    assert is_grad_enabled()
    assert y.data == 6.0 + math.tanh(2.0)
    assert y.parents == () and y.op is None and y.is_leaf and y.local_grads == ()
    y.backward()
    assert x.grad == 0.0 and y.grad == 1.0


def test_no_grad_nesting_and_enable_grad() -> None:
    x = Value(2.0)
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        with enable_grad():
            assert is_grad_enabled()
            recorded = x * x
        assert not is_grad_enabled()
        unrecorded = x * x
    assert is_grad_enabled()
    assert recorded.parents == (x, x) and unrecorded.parents == ()


def test_one_no_grad_object_can_be_reentered() -> None:
    quiet = no_grad()
    with quiet:
        with quiet:
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_is_restored_after_an_exception() -> None:
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("boom")
    assert is_grad_enabled()


def test_no_grad_as_decorator() -> None:
    @no_grad()
    def predict(x: Value) -> Value:
        assert not is_grad_enabled()
        return x * 2

    @enable_grad()
    def train_step(x: Value) -> Value:
        return x * 2

    @no_grad()
    def fails() -> None:
        raise ValueError("inside")

    x = Value(1.5)
    y = predict(x)
    assert y.data == 3.0 and y.parents == () and is_grad_enabled()
    assert predict.__name__ == "predict"
    with no_grad():
        assert train_step(x).parents[0] is x
    with pytest.raises(ValueError, match="inside"):
        fails()
    assert is_grad_enabled()


# -- detach / zero_grad -------------------------------------------------------------------


def test_detach() -> None:
    x = Value(3.0, "x")
    y = x * 2
    d = y.detach()
    assert d.data == 6.0 and d.is_leaf and d.parents == () and d is not y
    z = x * x.detach()  # gradient flows only through the first factor
    z.backward()
    assert x.grad == 3.0
    assert x.detach().label == "x"


def test_zero_grad_of_a_list_and_of_a_graph() -> None:
    a, b = Value(1.0), Value(2.0)
    c = a * b + a
    c.backward()
    assert (a.grad, b.grad) == (3.0, 1.0)
    ag.zero_grad([a])
    assert (a.grad, b.grad) == (0.0, 1.0)
    ag.zero_grad(v for v in [b])  # any iterable
    assert b.grad == 0.0

    c.backward()
    c.zero_grad()
    assert all(n.grad == 0.0 for n in ag.topological_order(c))
    c.backward()
    ag.zero_grad(c)
    assert all(n.grad == 0.0 for n in ag.topological_order(c))


def test_zero_grad_rejects_non_values() -> None:
    with pytest.raises(TypeError, match="float"):
        ag.zero_grad([Value(1.0), 2.0])  # type: ignore[list-item]


# -- no reference cycles ---------------------------------------------------------------


@contextmanager
def cyclic_gc_off() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def live_values() -> list[Value]:
    """Every Value object alive now (Values hold no weak references: ask the collector,
    which tracks them all)."""
    return [o for o in gc.get_objects() if issubclass(type(o), Value)]  # type(): no lookups


def a_graph_with_everything() -> tuple[Value, set[int]]:
    x, y = Value(0.5, "x"), Value(-1.5, "y")
    a = x * y + x.exp()
    b = ag.softmax([a, x, y])
    c = ag.cross_entropy([a, b[0], y], 2) + ag.mse([a, x], [1.0, 2.0])
    d = ag.linear([a, c], [x, y], 0.1).tanh() ** 2 + (2 ** a) / (1 + y * y)
    root = d + ag.logsumexp([c, d]) + a.leaky_relu(0.2) + abs(y).sqrt()
    return root, {id(n) for n in ag.topological_order(root)}


@pytest.mark.parametrize("mode", ["plain", "after backward", "anomaly mode"])
def test_graphs_are_freed_by_reference_counting_alone(mode: str) -> None:
    with cyclic_gc_off():
        if mode == "anomaly mode":
            with detect_anomaly():
                root, refs = a_graph_with_everything()
                root.backward()
        else:
            root, refs = a_graph_with_everything()
            if mode == "after backward":
                root.backward()
                ag.topological_order(root)
        assert refs <= {id(v) for v in live_values()}
        del root
        alive = [v for v in live_values() if id(v) in refs]
        assert not alive, f"still alive without the cyclic GC: {alive}"
        # and the collector would have found nothing to do
        assert gc.collect() == 0


def test_tensor_backward_twice_exactly_doubles_leaves() -> None:
    rng = np.random.default_rng(1)
    w = ag.Tensor(rng.normal(size=(3, 4)), "w")
    x = ag.Tensor(rng.normal(size=(5, 4)), "x", requires_grad=False)
    loss = ((x @ w.T).tanh() * 0.3 + (x @ w.T) * 0.7).sum()
    loss.backward()
    first = np.array(w.grad, copy=True)
    loss.backward()
    np.testing.assert_array_equal(w.grad, 2 * first)


def _backward_without_shortcuts(root: Value) -> None:
    """The chain rule written out plainly: every edge, no skipped nodes (the reference)."""
    order = ag.topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += local * node.grad


@given(st.integers(0, 2**32 - 1))
def test_skipping_zero_upstream_nodes_is_bit_exact(seed: int) -> None:
    """backward() skips nodes whose upstream gradient is 0 (a ReLU that is off): every
    gradient, sign of zero included, is what the plain loop over every edge gives."""
    rng = np.random.default_rng(seed)
    xs = [Value(float(v)) for v in rng.normal(size=3)]
    ws = [[Value(float(v)) for v in rng.normal(size=3)] for _ in range(4)]
    hidden = [ag.linear(w, xs, 0.1).relu() for w in ws]
    root = ag.sum([h * float(c) for h, c in zip(hidden, rng.normal(size=4))]).tanh()
    nodes = ag.topological_order(root)
    root.backward()
    fast = [(n.grad, math.copysign(1.0, n.grad)) for n in nodes]
    _backward_without_shortcuts(root)
    assert fast == [(n.grad, math.copysign(1.0, n.grad)) for n in nodes]


def test_a_zero_upstream_gradient_times_an_infinite_local_is_still_nan() -> None:
    """The shortcut must not hide 0 * inf: sqrt'(0) is inf, relu'(0) is 0, like PyTorch."""
    x = Value(0.0)
    x.sqrt().relu().backward()
    assert math.isnan(x.grad)


def test_nodes_carry_params_and_origin_only_where_needed() -> None:
    x, y = Value(2.0, "x"), Value(3.0)
    plain = [x + y, x * 2, -x, x.tanh(), ag.relu_linear([x], [y], 1.0)]
    assert all(type(n) is Value for n in plain)
    assert all(n.params == () and n.origin is None for n in plain)
    square, leaky = x**2, x.leaky_relu(0.2)
    assert type(square) is ag.ValueWithParams and square.params == (2.0,)
    assert leaky.params == (0.2,) and leaky.origin is None
    with ag.detect_anomaly():
        watched = x * y
    assert type(watched) is ag.ValueWithParams and "test_engine_backward.py" in watched.origin
    # six slots, no __dict__ and no weak references: what keeps a node at 80 bytes
    assert Value.__slots__ == ("data", "grad", "label", "op", "parents", "local_grads")
    assert not hasattr(x, "__dict__")
    with pytest.raises(TypeError):
        weakref.ref(x)
    with pytest.raises(AttributeError):
        x.params = (1.0,)  # a plain Value has no room for params
