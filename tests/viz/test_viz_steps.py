"""The stepper: the engine's backward pass cut into edges, with the chain rule written out."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from viz_graphs import chain_rule_graph, random_graphs, same

import autograd
import viz
from autograd import OPS, Value, apply, topological_order
from viz.expr import build
from viz.steps import (
    backward_steps,
    final_gradients,
    format_backward,
    format_forward,
    forward_steps,
)


def test_chain_rule_example_lines() -> None:
    # f = x(2y + z) at x=3, y=1, z=2: df/dx = 2y + z = 4, df/dy = 2x = 6, df/dz = x = 3.
    c, v = chain_rule_graph()
    lines = [step.chain_rule() for step in backward_steps(c)]
    assert lines == [
        "dc/dx = dc/dc · ∂(x·b)/∂x = 1 · b = 4",
        "dc/db = dc/dc · ∂(x·b)/∂b = 1 · x = 3",
        "dc/da = dc/db · ∂(a + z)/∂a = 3 · 1 = 3",
        "dc/dz = dc/db · ∂(a + z)/∂z = 3 · 1 = 3",
        "dc/d(2) = dc/da · ∂(2·y)/∂(2) = 3 · y = 3",
        "dc/dy = dc/da · ∂(2·y)/∂y = 3 · 2 = 6",
    ]
    stepped = final_gradients(backward_steps(c))
    assert (stepped[v["x"]], stepped[v["y"]], stepped[v["z"]]) == (4.0, 6.0, 3.0)
    assert (v["x"].grad, v["y"].grad, v["z"].grad) == (0.0, 0.0, 0.0)  # stepping writes none


def test_chain_rule_example_records() -> None:
    c, v = chain_rule_graph()
    steps = list(backward_steps(c))
    dz = steps[3]
    assert dz.node is v["b"] and dz.input is v["z"] and dz.input_index == 1
    assert dz.op is OPS["add"]
    assert (dz.upstream, dz.local, dz.contribution) == (3.0, 1.0, 3.0)
    assert (dz.grad_before, dz.grad_after, dz.accumulates) == (0.0, 3.0, False)
    assert (dz.held_before, dz.last_into_input, dz.final_grad) == (0.0, True, 3.0)
    assert dz.rule == "∂(⟨a⟩ + ⟨b⟩)/∂⟨b⟩ = 1"  # the table's rule: placeholders, never names
    assert dz.local_formula == "1"
    assert dz.expression == "a + z"
    assert (dz.target_symbol, dz.upstream_symbol, dz.local_symbol) == (
        "dc/dz", "dc/db", "∂(a + z)/∂z")
    assert [s.first_of_node for s in steps] == [True, False, True, False, True, False]


def test_order_and_numbers_are_the_engines() -> None:
    c, _ = chain_rule_graph()
    steps = list(backward_steps(c))
    interior = topological_order(c, include_leaves=False)
    expected = [(node, i) for node in reversed(interior) for i in range(len(node.parents))]
    assert [(s.node, s.input_index) for s in steps] == expected
    for s in steps:
        assert s.local == s.node.local_grads[s.input_index]
        assert s.input is s.node.parents[s.input_index]


def test_accumulation_into_a_shared_input_is_marked() -> None:
    x = Value(3.0, "x")
    f = x * x + x
    f.label = "f"
    steps = list(backward_steps(f))
    into_x = [s for s in steps if s.input is x]
    assert [s.accumulates for s in into_x] == [False, True, True]
    f.backward()
    assert into_x[-1].grad_after == x.grad == 2 * 3.0 + 1
    assert "+=" in into_x[1].chain_rule()
    # The same input twice in one node: the local derivative says which argument.
    assert {s.local_symbol for s in into_x if s.node is not f} == {
        "∂(x·x)/∂x (1st)", "∂(x·x)/∂x (2nd)"}


def test_explanations_use_the_graphs_names_and_never_the_tables_placeholders() -> None:
    """The rule for c = x*b is written in x and b, even when nodes are called a and b,
    and the table's generic rule uses placeholders no node can be called."""
    a, b = Value(2.0, "a"), Value(5.0, "b")
    c = a * b
    c.label = "c"
    d = (c - a).tanh()
    d.label = "d"
    steps = list(backward_steps(d))
    into_b = next(s for s in steps if s.input is b)
    assert into_b.chain_rule().startswith("dd/db = dd/dc · ∂(a·b)/∂b = ")
    assert into_b.local_formula == "a" and into_b.rule == "∂(⟨a⟩·⟨b⟩)/∂⟨b⟩ = ⟨a⟩"
    names = viz.GraphNames(d)
    node_names = set(names.names.values())
    for s in steps:
        placeholders = set(re.findall(r"⟨[^⟩]*⟩", s.rule))
        assert placeholders and not placeholders & node_names
    tanh_step = steps[0]
    assert tanh_step.derivative.simplified == "1 − d²"  # in terms of d, the output
    assert tanh_step.chain_rule() == (
        f"dd/de = dd/dd · ∂(tanh(e))/∂e = 1 · (1 − d²) = 1 · "
        f"{viz.format_value(tanh_step.local)} = {viz.format_value(tanh_step.contribution)}")


def test_leaf_root_has_no_steps_and_changes_nothing() -> None:
    x = Value(2.0, "x")
    x.grad = 1.5
    assert list(backward_steps(x)) == []
    assert x.grad == 1.5
    assert format_backward([]) == "(no edges: the root is a leaf)"


def test_output_gradient_argument_scales_like_backward() -> None:
    c, _v = chain_rule_graph()
    stepped = final_gradients(backward_steps(c, 2.5))
    c.backward(2.5)
    assert stepped == {n: n.grad for n in topological_order(c) if n in stepped}
    assert len(stepped) == 6
    with pytest.raises(TypeError, match="needs a real number, got str"):
        backward_steps(c, "1")


def test_not_a_node_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="graph node"):
        backward_steps(3.0)
    with pytest.raises(TypeError, match="graph node"):
        forward_steps([Value(1.0)])


def test_leaves_holding_gradients_are_left_alone_and_final_grad_is_backwards() -> None:
    """The engine sums a pass's contributions from 0 and adds a leaf's earlier gradient
    last: (0.1 + 0.2) + 0.3 is not 0.1 + (0.2 + 0.3) in floating point, so `final_grad`
    must add the held gradient last, as backward() does, to give the same bits."""
    x = Value(1.0, "x")
    f = x * 0.2 + x * 0.3
    f.label = "f"
    x.grad = 0.1
    steps = list(backward_steps(f))
    assert x.grad == 0.1  # the stepper never writes a gradient
    f.backward()
    assert x.grad == 0.1 + (0.2 + 0.3) != (0.1 + 0.2) + 0.3
    into_x = [s for s in steps if s.input is x]
    assert [(s.grad_before, s.grad_after) for s in into_x] == [(0.0, 0.3), (0.3, 0.5)]
    assert [s.held_before for s in into_x] == [0.1, 0.1]
    assert [s.last_into_input for s in into_x] == [False, True]
    assert into_x[-1].final_grad == x.grad and into_x[0].final_grad is None
    assert into_x[-1].grad_change() == (
        "x.grad: 0.3 → 0.5 (backward() would add the 0.1 held before: 0.6)")


def test_a_walk_stopped_early_leaves_the_leaves_as_they_were() -> None:
    c, v = chain_rule_graph()
    v["x"].grad, v["y"].grad = 7.0, -1.0
    walk = backward_steps(c)
    next(walk)
    assert (v["x"].grad, v["y"].grad, v["z"].grad) == (7.0, -1.0, 0.0)
    walk.close()
    assert (v["x"].grad, v["y"].grad, v["z"].grad) == (7.0, -1.0, 0.0)


def _collect() -> None:
    import gc

    gc.collect()


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_an_abandoned_walk_never_changes_a_later_backward(engine: str) -> None:
    """it = backward_steps(y); next(it); y.backward() gives backward()'s x.grad, before and
    after `it` is dropped and collected."""
    np = pytest.importorskip("numpy")

    def graph():  # type: ignore[no-untyped-def]
        if engine == "value":
            x = Value(1.5, "x")
            return x, (x * x + x.tanh() * 3.0)
        from autograd import Tensor

        x = Tensor([[1.0, -2.0], [0.5, 3.0]], "x")
        return x, ((x * x).tanh() + x).sum()

    x_alone, y_alone = graph()
    y_alone.backward()
    expected = np.array(x_alone.grad, copy=True)

    x, y = graph()
    it = backward_steps(y)
    next(it)
    y.backward()
    assert np.array_equal(x.grad, expected)
    del it
    _collect()
    assert np.array_equal(x.grad, expected)

    x, y = graph()
    it = backward_steps(y)
    next(it)
    next(it)
    y.backward()
    it.close()
    _collect()
    assert np.array_equal(x.grad, expected)
    # a finished walk changes nothing either
    x, y = graph()
    list(backward_steps(y))
    assert not np.any(x.grad)
    y.backward()
    assert np.array_equal(x.grad, expected)


def test_anomaly_mode_stops_the_walk_like_the_engine() -> None:
    x = Value(0.0, "x")
    f = x.log() * 0.0 + x.sqrt()
    with autograd.detect_anomaly(), pytest.raises(autograd.AnomalyError) as stepped:
        list(backward_steps(f))
    assert x.grad == 0.0
    with autograd.detect_anomaly(), pytest.raises(autograd.AnomalyError) as engine:
        f.backward()
    assert str(stepped.value) == str(engine.value)


class _TextOnlyOp:
    """An op whose math is gone: only its text (names, formulas) can be read."""

    def __init__(self, op: object) -> None:
        self._op = op

    def __getattr__(self, name: str) -> object:
        if name in ("forward", "local_grads"):
            raise AssertionError(f"the stepper called the op's {name}")
        return getattr(self._op, name)


@given(random_graphs())
def test_the_stepper_reads_the_stored_locals_and_never_the_op_math(graph) -> None:
    root, _ = graph
    nodes = topological_order(root)
    for k, node in enumerate(n for n in nodes if n.parents):
        # Locals the ops would never give: the stepper must report exactly these.
        node.local_grads = tuple(0.5 + k + i for i in range(len(node.parents)))
        node.op = _TextOnlyOp(node.op)
    steps = list(backward_steps(root))
    assert all(s.local == s.node.local_grads[s.input_index] for s in steps)
    assert all(s.contribution == s.local * s.upstream for s in steps)
    stepped = final_gradients(steps)
    for node in nodes:
        node.grad = 0.0
    autograd.backward(root)  # the engine, with the same (fake) stored locals
    assert all(same(g, n.grad) for n, g in stepped.items())


@given(random_graphs(), st.lists(st.floats(-2, 2), min_size=4, max_size=4))
def test_after_the_last_step_every_gradient_equals_backward(graph, stale) -> None:
    root, leaves = graph
    nodes = topological_order(root)
    # Leaves may hold gradients from an earlier pass: the stepper leaves them alone,
    # and its final_grad is what backward() leaves (held + this pass), bit for bit.
    for leaf, g in zip(leaves, stale):
        leaf.grad = g
    steps = list(backward_steps(root))
    assert [leaf.grad for leaf in leaves] == stale[:len(leaves)]
    stepped = final_gradients(steps)
    upstreams = [(s.node, s.upstream) for s in steps]
    for node in nodes:
        if node.parents:
            node.grad = 123.0  # the engine resets interior nodes
    root.backward()
    for node in nodes:
        if node in stepped and node.parents:
            assert same(stepped[node], node.grad)
    # A node's upstream gradient is complete when its turn comes: it is backward()'s.
    assert all(same(up, node.grad) for node, up in upstreams)
    for s in steps:
        assert same(s.grad_after, s.grad_before + s.contribution)
        assert same(s.contribution, s.local * s.upstream)
        if s.last_into_input:
            assert same(s.final_grad, s.input.grad)  # what backward() leaves in the input
    for leaf in leaves:
        leaf.grad = 0.0
    root.backward()
    assert all(same(g, n.grad) for n, g in stepped.items())  # from zero: the same bits


@given(random_graphs())
def test_every_op_renders_a_formula_in_node_names(graph) -> None:
    root, _ = graph
    names = viz.GraphNames(root)
    for s in backward_steps(root, names=names):
        op = s.op
        n = len(s.node.parents)
        own_names = {op.input_name(i, n) for i in range(n)} | {"out", *op.params}
        node_names = {names[p] for p in s.node.parents} | {names[s.node]}
        for token in re.findall(r"[A-Za-z_]\w*", s.local_formula):
            # every input name of the op's rule was replaced by a node's name
            assert token not in own_names or token in node_names, (s.rule, s.local_formula)
        assert s.chain_rule().startswith(s.target_symbol)


_EVALUABLE = re.compile(r"[\w.()+\-*/ ]+")


@given(random_graphs(max_ops=5))
def test_formula_text_evaluates_to_the_stored_local(graph) -> None:
    """The op table's formula, written in node names and evaluated with viz's own parser at
    the nodes' values, gives the number the engine stored (an independent check that the
    names were substituted into the right places)."""
    root, _ = graph
    names = viz.GraphNames(root, ".17g")  # constants are named by their exact value
    for s in backward_steps(root, names=names):
        text = s.local_formula.split(" = ")[0]
        if not _EVALUABLE.fullmatch(text) or "sign" in text or s.derivative.note:
            continue  # conditional forms ("1 if a > 0 else 0") and notes are not expressions
        involved = [p.data for p in (*s.node.parents, s.node)]
        if any(v != 0 and not 1e-100 < abs(v) < 1e100 for v in involved):
            continue  # a/b**2 and -out/b differ once b**2 under- or overflows
        if any(v == 0 and math.copysign(1.0, v) < 0 for v in involved):
            continue  # -0.0 is written "0": 1/(2*sqrt(-0.0)) = -inf, 1/(2*sqrt(0)) = inf
        values = {_safe(names[p]): p.data for p in (*s.node.parents, s.node)
                  if re.fullmatch(r"[A-Za-z_]\w*", names[p])}
        rewritten = _rename(text, [names[p] for p in (*s.node.parents, s.node)])
        got = build(rewritten, values, allow_unused=True).root.data
        want = s.local
        assert same(got, want) or math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (
            s.rule, s.local_formula, got, want)


def _safe(name: str) -> str:
    return "v_" + re.sub(r"\W", "_", name)


def _rename(text: str, names: list[str]) -> str:
    """Node names as variable names of the expression language (v_x, v_n1, ...)."""
    identifiers = {name for name in names if re.fullmatch(r"[A-Za-z_]\w*", name)}
    # not inside a number: the "e" of 8.1e-12 is not the node called e
    return re.sub(r"(?<![\w.])[A-Za-z_]\w*",
                  lambda m: _safe(m.group()) if m.group() in identifiers else m.group(), text)


def test_forward_steps_follow_the_topological_order() -> None:
    c, _ = chain_rule_graph()
    steps = forward_steps(c)
    assert [s.node for s in steps] == topological_order(c)
    assert [s.value for s in steps] == [n.data for n in topological_order(c)]
    by_name = {s.name: s for s in steps}
    assert str(by_name["b"]) == "b = a + z = 4"
    assert str(by_name["x"]) == "x = 3  (input)"
    assert by_name["2"].expression == "constant"
    table = format_forward(steps)
    assert table.splitlines()[0].split() == ["step", "node", "computed", "as", "value"]
    assert len(table.splitlines()) == 2 + len(steps)


def test_generated_names_follow_the_chain_rule_example() -> None:
    # Unlabelled results are named a, b, c in the order they are computed.
    expr = build("x*(2*y + z)", {"x": 3, "y": 1, "z": 2})
    names = viz.GraphNames(expr.root)
    assert [names[n] for n in names.order if n.parents] == ["a", "b", "c"]
    assert {names[n] for n in names.order if not n.parents} == {"x", "2", "y", "z"}
    root = expr.root
    assert names.expression(root) == "x*b" and names.expression(root.parents[1]) == "a + z"
    assert names.expression(root, pretty=True) == "x·b"


def test_generated_names_avoid_labels_and_repeated_labels_are_numbered() -> None:
    a, b = Value(1.0, "a"), Value(2.0, "a")
    f = a * b + a
    names = viz.GraphNames(f)
    assert sorted(names.names.values()) == ["a", "a#2", "b", "c"]


def test_nary_ops_are_explained() -> None:
    w = [Value(0.5, "w0"), Value(-1.0, "w1")]
    x = [Value(2.0, "x0"), Value(3.0, "x1")]
    b = Value(0.25, "b")
    z = autograd.linear(w, x, b)
    z.label = "z"
    steps = list(backward_steps(z))
    assert steps[0].expression == "w0·x0 + w1·x1 + b"
    assert [s.local_formula for s in steps] == ["x0", "x1", "w0", "w1", "1"]
    assert steps[0].chain_rule() == "dz/dw0 = dz/dz · ∂(w0·x0 + w1·x1 + b)/∂w0 = 1 · x0 = 2"
    s = autograd.sum([w[0], x[0], b])
    assert viz.GraphNames(s).expression(s) == "w0 + x0 + b"
    lse = autograd.logsumexp([w[0], x[0]])
    assert viz.GraphNames(lse).expression(lse) == "logsumexp(w0, x0)"
    d = apply(OPS["dot"], (*w, *x))
    assert viz.GraphNames(d).expression(d) == "w0*x0 + w1*x1"


def test_long_vectors_are_shortened_in_expressions() -> None:
    xs = [Value(float(i), f"x{i}") for i in range(20)]
    s = autograd.sum(xs)
    assert viz.GraphNames(s).expression(s, pretty=True) == "x0 + x1 + x2 + x3 + x4 + x5 + … + x19"


def test_format_backward_table_has_a_row_per_edge() -> None:
    c, _ = chain_rule_graph()
    steps = list(backward_steps(c))
    text = format_backward(steps)
    lines = text.splitlines()
    assert len(lines) == 2 + len(steps)
    for s in steps:
        assert s.chain_rule() in text and s.rule in text
    assert format_backward(steps, rules=False).splitlines()[0].split()[-1] == "gradient"


def test_number_format_is_used_and_checked() -> None:
    c, _ = chain_rule_graph()
    steps = list(backward_steps(c, number_format=".2f"))
    assert steps[0].chain_rule() == "dc/dx = dc/dc · ∂(x·b)/∂x = 1.00 · b = 4.00"
    with pytest.raises(ValueError, match="format spec"):
        backward_steps(c, number_format="%d")


def test_tensor_graphs_step_like_their_backward() -> None:
    np = pytest.importorskip("numpy")
    tensor = pytest.importorskip("autograd.tensor")
    weights = tensor.Tensor([[2.0, 1.0], [-1.0, 3.0]], "W")
    x = tensor.Tensor([[1.0, -1.0]], "x")
    hidden = x @ weights
    loss = (hidden.relu() + hidden * hidden).sum()  # hidden receives two contributions
    loss.label = "loss"
    steps = list(backward_steps(loss))
    stepped = final_gradients(steps)
    snapshots = [(np.array(s.grad_before, copy=True), np.array(s.grad_after, copy=True))
                 for s in steps]
    loss.backward()
    assert set(stepped) == set(topological_order(loss)) - {loss}
    for n, g in stepped.items():
        assert np.array_equal(g, n.grad)
    # every record is a snapshot: after = before + contribution, and later edges (which
    # the engine adds in place) never change an earlier record
    for s, (before, after) in zip(steps, snapshots):
        assert np.array_equal(s.grad_after, s.grad_before + s.contribution)
        assert np.array_equal(s.grad_before, before) and np.array_equal(s.grad_after, after)
    into_hidden = [s for s in steps if s.input is hidden]
    assert len(into_hidden) == 3 and into_hidden[-1].accumulates
    assert "[[" in viz.format_value(weights.data)


def _tensor_mlp_loss():  # type: ignore[no-untyped-def]
    np = pytest.importorskip("numpy")
    from autograd import Tensor

    weights = Tensor(np.arange(6.0).reshape(2, 3) / 3 - 1, "W")
    bias = Tensor(np.zeros(3), "b")
    x = Tensor(np.ones((5, 2)), "x", requires_grad=False)
    hidden = (x @ weights + bias).tanh()
    hidden.label = "h"
    loss = hidden.mean()
    loss.label = "loss"
    return loss, weights, bias


def test_tensor_chain_rule_lines_are_readable() -> None:
    loss, weights, _ = _tensor_mlp_loss()
    steps = list(backward_steps(loss))
    lines = [s.chain_rule() for s in steps]
    text = format_backward(steps)
    for fragment in ("VJP(", "array(", "NO_GRAD", "g ->"):
        assert fragment not in text, fragment  # no object reprs, only the table's formulas
    by_input = {s.input_name: line for s, line in zip(steps, lines)}
    # the op table's VJP in node names, the upstream written in, shapes in → out
    assert by_input["W"].startswith("dloss/dW = x.T @ (dloss/da)   [5×3 → 2×3] = [[")
    assert by_input["b"].startswith("dloss/db = sum_to((dloss/dc), b.shape)   [5×3 → 3] = [")
    assert "[scalar → 5×3]" in by_input["h"] and "[5×3 → 5×3]" in by_input["c"]
    assert by_input["x"] == "dloss/dx = 0   (x needs no gradient: a constant)"
    # the numbers shown are the engine's: the W line ends with the gradient backward() gives
    weights.zero_grad()
    loss.backward()
    w_step = next(s for s in steps if s.input is weights)
    assert by_input["W"].endswith(viz.format_value(weights.grad))
    assert w_step.rule == "∂(⟨A⟩@⟨B⟩)/∂⟨B⟩ = ⟨A⟩.T @ ⟨g⟩"


def test_tensor_leaves_holding_gradients_are_left_alone() -> None:
    np = pytest.importorskip("numpy")
    loss, weights, bias = _tensor_mlp_loss()
    held_w, held_b = np.full((2, 3), 0.1), np.full(3, 0.1)
    weights.grad, bias.grad = held_w.copy(), held_b.copy()
    steps = list(backward_steps(loss))
    assert np.array_equal(weights.grad, held_w) and np.array_equal(bias.grad, held_b)
    loss.backward()
    last_w = next(s for s in steps if s.input is weights)
    assert last_w.keeps_earlier_grad and np.array_equal(last_w.final_grad, weights.grad)
    assert "held before" in last_w.grad_change()


def test_a_tensor_root_with_a_given_output_gradient_steps_like_backward_with_it() -> None:
    np = pytest.importorskip("numpy")
    from autograd import Tensor

    w = Tensor([[1.0, -2.0], [0.5, 3.0]], "w")
    out = (w * w).tanh()
    out.label = "out"
    # a plain list, as backward() takes
    stepped = final_gradients(backward_steps(out, [[1.0, 2.0], [3.0, 4.0]]))
    out.backward([[1.0, 2.0], [3.0, 4.0]])
    assert np.array_equal(stepped[w], w.grad)
    with pytest.raises(ValueError, match="grad has shape"):
        backward_steps(out, [1.0, 2.0])
    with pytest.raises(ValueError, match="without grad needs a one-element output"):
        backward_steps(out)


def test_formula_text_is_parenthesized_only_where_needed() -> None:
    from viz.steps import factor

    assert factor("x") == "x" and factor("3") == "3" and factor("tanh(a)") == "tanh(a)"
    assert factor("1 − o²") == "(1 − o²)" and factor("f(a) + g(b)") == "(f(a) + g(b))"
    x, y = Value(2.0, "x"), Value(3.0, "y")
    a = -x
    a.label = "a"
    b = a * y
    b.label = "b"
    e = (b * 0.5).exp()
    e.label = "e"
    lines = [s.chain_rule() for s in backward_steps(e)]
    assert lines[0] == "de/dc = de/de · ∂(exp(c))/∂c = 1 · e = 0.04979"
    assert lines[-1] == "de/dx = de/da · ∂(−x)/∂x = 0.07468 · (-1) = -0.07468"


def test_stepping_a_wide_neuron_costs_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fused neuron with n inputs has 2n + 1 edges; naming them must not redo O(n) work
    for every other input of the node (that made an MLP's 5000 edges take 12 s)."""
    from autograd.ops import Op

    n = 150
    w = [Value(0.01 * i, f"w{i}") for i in range(n)]
    x = [Value(1.0, f"x{i}") for i in range(n)]
    z = autograd.linear(w, x, Value(0.5, "b"))
    calls = 0
    real_layout = Op.layout

    def counting_layout(self: Op, n_inputs: int) -> list[tuple[int, int]]:
        nonlocal calls
        calls += 1
        return real_layout(self, n_inputs)

    monkeypatch.setattr(Op, "layout", counting_layout)
    steps = list(backward_steps(z))
    assert len(steps) == 2 * n + 1
    assert calls <= 4 * len(steps)  # a bounded number per edge, not per edge per input
