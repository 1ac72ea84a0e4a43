"""The fused ReLU neuron: one node, the same numbers as linear + relu, bit for bit, and
split back into its parts for reading."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import Value
from autograd.fusion import is_fused, unfuse

COORD = st.floats(-3.0, 3.0, allow_nan=False).map(lambda x: 0.0 if abs(x) < 1e-9 else x)


def network(params: list[Value], xs: list[float], fused: bool) -> Value:
    """Two ReLU layers and a tanh readout, over the same parameters."""
    w1, b1, w2, b2 = params[:6], params[6:8], params[8:12], params[12:14]
    x = [Value(v) for v in xs]
    neuron = ag.relu_linear if fused else (lambda w, x, b: ag.linear(w, x, b).relu())
    h = [neuron(w1[3 * j:3 * j + 3], x, b1[j]) for j in range(2)]
    h2 = [neuron(w2[2 * j:2 * j + 2], h, b2[j]) for j in range(2)]
    return (h2[0] - 0.5 * h2[1] + h[0] * h[1]).tanh()


def signed(x: float) -> tuple[float, float]:
    return (x, math.copysign(1.0, x))


@settings(max_examples=80)
@given(st.lists(COORD, min_size=14, max_size=14), st.lists(COORD, min_size=3, max_size=3),
       st.sampled_from([1.0, math.inf, math.nan]))
def test_fused_neurons_are_bit_identical_to_linear_then_relu(
        weights: list[float], xs: list[float], output_gradient: float) -> None:
    results = []
    for fused in (False, True):
        params = [Value(w) for w in weights]
        root = network(params, xs, fused)
        root.backward(output_gradient)
        results.append((root.data, [signed(p.grad) for p in params]))
    (d0, g0), (d1, g1) = results
    assert d0 == d1 or (math.isnan(d0) and math.isnan(d1))
    assert [g if g[0] == g[0] else "nan" for g in g0] == [
        g if g[0] == g[0] else "nan" for g in g1]


@settings(max_examples=40)
@given(st.lists(COORD, min_size=14, max_size=14), st.lists(COORD, min_size=3, max_size=3))
def test_unfuse_splits_each_neuron_into_z_and_relu_with_the_same_numbers(
        weights: list[float], xs: list[float]) -> None:
    params = [Value(w) for w in weights]
    root = network(params, xs, fused=True)
    root.backward()
    fused_grads = [signed(p.grad) for p in params]
    split = unfuse(root)
    assert split.data == root.data
    nodes = ag.topological_order(split)
    carried = {n: n.grad for n in nodes}
    assert not any(is_fused(n) for n in nodes)
    assert sum(n.op is not None and n.op.name == "relu" for n in nodes) == 4
    ag.zero_grad(params)
    split.backward()
    assert [signed(p.grad) for p in params] == fused_grads
    # the grads unfuse carried over are what a pass over the split graph gives
    assert all(carried[n] == n.grad or (n.grad != n.grad and carried[n] != carried[n])
               for n in nodes if n.parents)


def test_unfuse_keeps_labels_and_names_z() -> None:
    w, x, b = [Value(1.0, "w0")], [Value(2.0, "x0")], Value(-0.5, "b")
    a = ag.relu_linear(w, x, b)
    a.label = "L0.N0.a"
    split = unfuse(a * 2)
    z = split.parents[0].parents[0]
    assert (z.label, z.op.name, z.data) == ("L0.N0.z", "linear", 1.5)
    assert split.parents[0].label == "L0.N0.a"
    assert unfuse(z) is z  # nothing fused: the graph itself


def test_a_dead_fused_neuron_passes_nan_like_the_two_node_graph() -> None:
    w, x = [Value(1.0)], [Value(-2.0)]
    dead = ag.relu_linear(w, x, 0.0)
    dead.backward(math.nan)
    assert math.isnan(w[0].grad)
    # and second derivatives through it are relu's: 0
    w2 = Value(1.5)
    g, = ag.grad(ag.relu_linear([w2], [Value(2.0)], 0.0) ** 2, [w2], create_graph=True)
    h, = ag.grad(g, [w2])
    assert (g.data, h.data) == (2 * 3.0 * 2.0, 8.0)
    np.testing.assert_allclose(ag.hessian(
        lambda a, c: ag.relu_linear([a], [c], 0.5), [1.0, 2.0]), [[0.0, 1.0], [1.0, 0.0]])


SPECIAL = st.sampled_from([0.0, -0.0, 1.0, -2.5, math.inf, -math.inf, math.nan])


def node_bits(node: Value) -> tuple:
    """Everything a node stores, with floats compared bit for bit (sign of zero, NaN)."""
    def bits(x: float) -> str:
        return float(x).hex()
    return (type(node), node.op, node.label, bits(node.data), node.parents,
            type(node.local_grads), [bits(g) for g in node.local_grads])


@settings(max_examples=60)
@given(st.integers(1, 3).flatmap(lambda n: st.tuples(
    st.lists(COORD | SPECIAL, min_size=n, max_size=n), COORD | SPECIAL,
    st.lists(st.lists(COORD | SPECIAL, min_size=n, max_size=n), min_size=0, max_size=4))),
    st.sampled_from(["linear", "relu_linear"]), st.sampled_from(["record", "no_grad", "anomaly"]))
def test_apply_rows_makes_the_nodes_apply_makes(case: tuple, op_name: str, mode: str) -> None:
    ws, b, rows = case
    op = ag.OPS[op_name]
    # two neurons: w, b and the reversed weights with -b
    neurons = [(tuple(Value(v) for v in ws), Value(b), "n0.a"),
               (tuple(Value(v) for v in reversed(ws)), Value(-b), "n1.a")]
    xs = [tuple(Value(v) for v in row) for row in rows]
    context = {"record": ag.enable_grad, "no_grad": ag.no_grad}.get(mode, ag.detect_anomaly)
    with context():
        try:
            expected = [tuple(ag.apply(op, w + x + (bias,)) for w, bias, _ in neurons)
                        for x in xs]
        except ag.AnomalyError:  # anomaly mode refuses a NaN or inf output: both must
            with np.testing.assert_raises(ag.AnomalyError):
                ag.value.apply_rows(op, neurons, xs)
            return
        for row in expected:
            for node, (_, _, label) in zip(row, neurons):
                node.label = label
        fast = ag.value.apply_rows(op, neurons, xs)
    assert len(fast) == len(xs) and all(len(row) == 2 for row in fast)
    assert [[node_bits(n) for n in row] for row in fast] == [
        [node_bits(n) for n in row] for row in expected]


def test_the_neuron_functions_of_the_table_match_forward_and_local_grads() -> None:
    rng = np.random.default_rng(0)
    specials = [0.0, -0.0, math.inf, -math.inf, math.nan]
    for op in (ag.OPS["linear"], ag.OPS["relu_linear"]):
        for n, w_special in [(1, False), (2, False), (5, False), (3, True)]:
            w = tuple(rng.normal(size=n).tolist())
            if w_special:
                w = tuple(float(rng.choice(specials + list(w))) for _ in w)
            b = float(rng.normal())
            rows = [tuple(rng.normal(size=n).tolist()) for _ in range(20)]
            rows += [tuple(float(rng.choice(specials + list(row))) for _ in row)
                     for row in rows[:5]]
            rows += [tuple(-v for v in w)]  # z = b - |w|² (dead for relu when b is small)
            for x in rows:
                out, local_grads = op.neuron((*w, 1.0), x, b)
                wxb = w + x + (b,)
                want = op.forward(wxb)
                assert out.hex() == want.hex() if want == want else out != out
                assert type(local_grads) is type(op.local_grads(want, wxb))
                assert [g.hex() for g in local_grads] == [
                    g.hex() for g in op.local_grads(want, wxb)]


def test_apply_rows_refuses_rows_and_weights_of_different_lengths() -> None:
    w, b = (Value(1.0), Value(2.0)), Value(0.5)
    for rows in ([(Value(1.0),)], [(Value(1.0), Value(2.0)), (Value(1.0),)]):
        for context in (ag.enable_grad, ag.no_grad):
            with context(), np.testing.assert_raises_regex(ValueError, "as long as the weights"):
                ag.apply_rows(ag.OPS["relu_linear"], [(w, b, "n")], rows)
