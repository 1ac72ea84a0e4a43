"""The engine's own promises, tested here rather than through `viz`.

* the reference backward (`autograd.reference`) is the definition: the fast loop gives
  bit-identical gradients (sign of zero included) on random graphs;
* anomaly mode's loop gives the same gradients as the fast loop;
* a pass that is interrupted leaves every leaf's gradient as it was;
* grad mode and anomaly mode are per thread;
* `Value` and `Tensor` satisfy the `Node` protocol; micrograd's `draw_dot` runs on a Value.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from test_engine_graphs import PROGRAMS, TORCH_PROGRAMS, Program, engine_run

import autograd as ag
from autograd import Node, Tensor, Value, detect_anomaly, no_grad


def signed(x: float) -> tuple[float, float]:
    return (x, math.copysign(1.0, x))


@settings(max_examples=60)
@given(program=TORCH_PROGRAMS)
def test_reference_backward_is_bit_identical_to_the_fast_loop(program: Program) -> None:
    _, run = engine_run(program)
    nodes = ag.topological_order(run.root)
    run.root.backward()
    fast = [signed(n.grad) for n in nodes]
    ag.reference_backward(run.root)
    reference = [signed(n.grad) for n in nodes]
    assert [f for f in fast if f[0] == f[0]] == [r for r in reference if r[0] == r[0]]
    assert [f[0] != f[0] for f in fast] == [r[0] != r[0] for r in reference]  # NaNs alike


@settings(max_examples=40)
@given(program=PROGRAMS)
def test_anomaly_mode_gives_the_same_gradients(program: Program) -> None:
    """Graphs reuse nodes, so a loop that wrote ``=`` for ``+=`` would show here."""
    leaves, run = engine_run(program)
    run.root.backward()
    plain = [leaf.grad for leaf in leaves]
    if not all(math.isfinite(g) for g in plain):
        return  # anomaly mode would (rightly) stop; that is tested elsewhere
    leaves2, run2 = engine_run(program)
    with detect_anomaly():
        run2.root.backward()
    assert [leaf.grad for leaf in leaves2] == plain


def test_a_pass_stopped_by_anomaly_mode_restores_a_leaf_that_got_its_share() -> None:
    x, w = Value(0.0, "x"), Value(2.0, "w")
    x.grad, w.grad = 1.0, 5.0
    # The root (a mul) gives w its share (sqrt(0) + 1 = 1) first; the pass then stops at
    # sqrt, whose local derivative is inf at 0.
    y = (x.sqrt() + 1) * w
    with detect_anomaly(), pytest.raises(ag.AnomalyError, match="sqrt"):
        y.backward()
    assert (x.grad, w.grad) == (1.0, 5.0)
    y.backward()  # without anomaly mode: w's share is added once
    assert w.grad == 6.0


class _Interrupt:
    """A local derivative that interrupts the pass when it is used."""

    def __mul__(self, other: object) -> float:
        raise KeyboardInterrupt


def test_an_interrupted_pass_leaves_leaf_grads_as_they_were() -> None:
    a, b = Value(3.0, "a"), Value(4.0, "b")
    a.grad, b.grad = 0.5, -2.0
    inner = a * b
    root = inner * b  # b gets a share from root first, then the pass is interrupted
    inner.local_grads = (_Interrupt(), inner.local_grads[1])
    with pytest.raises(KeyboardInterrupt):
        root.backward()
    assert (a.grad, b.grad) == (0.5, -2.0)


def test_grad_mode_is_per_thread() -> None:
    inside = threading.Event()
    recorded = threading.Event()
    results: dict[str, bool] = {}

    def quiet() -> None:
        with no_grad():
            inside.set()
            recorded.wait(5)
            results["quiet"] = not (Value(1.0) * 2).is_leaf

    def busy() -> None:
        inside.wait(5)
        results["busy"] = not (Value(1.0) * 2).is_leaf
        recorded.set()

    threads = [threading.Thread(target=quiet), threading.Thread(target=busy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {"quiet": False, "busy": True}
    assert ag.is_grad_enabled()


def test_threads_leaving_in_any_order_get_back_what_they_had() -> None:
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    after: dict[str, bool] = {}

    def first() -> None:
        with no_grad():
            a_in.set()
            b_in.wait(5)
        a_out.set()
        after["first"] = ag.is_grad_enabled()

    def second() -> None:
        a_in.wait(5)
        with no_grad():
            b_in.set()
            a_out.wait(5)  # leaves after the first thread, which entered first
        after["second"] = ag.is_grad_enabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert after == {"first": True, "second": True}


def test_anomaly_mode_is_per_thread() -> None:
    seen: list[bool] = []
    with detect_anomaly():
        thread = threading.Thread(target=lambda: seen.append(ag.state.is_anomaly_enabled()))
        thread.start()
        thread.join(10)
        assert ag.state.is_anomaly_enabled()
    assert seen == [False]


@pytest.mark.parametrize("point", [0.0, -0.0])
def test_tensor_kinks_at_zero_and_minus_zero(point: float) -> None:
    """relu'(±0) = 0, abs'(±0) = 0, leaky_relu'(±0) = slope, as the scalar table and torch."""
    x = Tensor(np.array([point, 1.0, -1.0]), "x")
    for name, want in (("relu", [0.0, 1.0, 0.0]), ("abs", [0.0, 1.0, -1.0])):
        x.zero_grad()
        getattr(x, name)().sum().backward()
        np.testing.assert_array_equal(x.grad, want, err_msg=name)
        v = Value(point)
        getattr(v, name)().backward()
        assert v.grad == want[0]
    x.zero_grad()
    x.leaky_relu(0.2).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.2, 1.0, 0.2])
    torch = pytest.importorskip("torch")
    t = torch.tensor([point, 1.0, -1.0], dtype=torch.float64, requires_grad=True)
    (torch.relu(t).sum() + torch.abs(t).sum()
     + torch.nn.functional.leaky_relu(t, 0.2).sum()).backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.2, 3.0, -0.8])


def test_values_and_tensors_are_nodes_and_zero_grad_takes_both() -> None:
    v, t = Value(1.0), Tensor([1.0, 2.0])
    assert isinstance(v, Node) and isinstance(t, Node)
    (t * t).sum().backward()
    ag.zero_grad([t, v])
    assert t.grad == 0.0 and v.grad == 0.0
    with pytest.raises(TypeError, match="Values or Tensors"):
        ag.zero_grad([1.0])  # type: ignore[list-item]


def test_gradcheck_refuses_a_zero_step() -> None:
    for eps in (0, 0.0, -1e-6, math.inf, math.nan):
        with pytest.raises(ValueError, match="step eps must be a finite number > 0"):
            ag.gradcheck(lambda a: a * a, [1.0], eps=eps)
    with pytest.raises(ValueError, match="atol must be"):
        ag.gradcheck(lambda a: a * a, [1.0], atol=-1)


def test_a_value_shows_itself_in_one_line() -> None:
    x = Value(3.0, "<x>")
    y = x * 2
    assert x._repr_html_() == "<code>&lt;x&gt;: data=3, grad=0</code>"
    assert "op=mul" in y._repr_html_()


# micrograd's trace_graph.ipynb (MIT licence, Andrej Karpathy), unchanged but for the import.
def trace(root):  # type: ignore[no-untyped-def]
    nodes, edges = set(), set()

    def build(v):  # type: ignore[no-untyped-def]
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)
    build(root)
    return nodes, edges


def draw_dot(root, format="svg", rankdir="LR"):  # type: ignore[no-untyped-def]  # noqa: A002
    from graphviz import Digraph

    assert rankdir in ["LR", "TB"]
    nodes, edges = trace(root)
    dot = Digraph(format=format, graph_attr={"rankdir": rankdir})
    for n in nodes:
        dot.node(name=str(id(n)), label="{ data %.4f | grad %.4f }" % (n.data, n.grad),  # noqa: UP031
                 shape="record")
        if n._op:
            dot.node(name=str(id(n)) + n._op, label=n._op)
            dot.edge(str(id(n)) + n._op, str(id(n)))
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot


def test_micrograds_draw_dot_runs_unchanged() -> None:
    x1, x2 = Value(2.0), Value(0.0)
    w1, w2, b = Value(-3.0), Value(1.0), Value(6.8813735870195432)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    source = draw_dot(o).source
    assert source.count("record") == 10 and "tanh" in source and "grad 0.5000" in source
    assert o._op == "tanh" and x1._op == "" and o._prev == {o.parents[0]}


@pytest.mark.parametrize("order", [[math.nan, math.inf], [math.inf, math.nan],
                                   [-math.inf, math.nan, 1.0], [1.0, math.nan]])
def test_logsumexp_of_a_nan_is_nan_in_any_order(order: list[float]) -> None:
    assert math.isnan(ag.logsumexp(order).data)
    assert ag.logsumexp([math.inf, 1.0]).data == math.inf
    assert ag.logsumexp([-math.inf, -math.inf]).data == -math.inf
