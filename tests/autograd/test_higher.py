"""Higher order (reverse over reverse) and forward mode.

Oracles: PyTorch in float64 (``torch.autograd.grad(..., create_graph=True)``) on the
random graphs of ``test_engine_graphs`` (every op, reuse, diamonds, kinks hit exactly);
Ridders' central differences of the *gradient* (for second derivatives); closed forms
(the derivatives of sin cycle); and identities: Hessians are symmetric, and forward and
reverse mode agree, vᵀ(J u) = (Jᵀv)ᵀu.

Tolerances: second derivatives against torch ``rel 1e-9`` with an absolute floor of
``1e-11 * S`` (S = sum of |node| over the graph): both sides do the same float64
arithmetic along differently ordered sums, and a second derivative sums products over
pairs of paths, so rounding compounds more than for first derivatives (1e-10).  Against
finite differences of the gradient, ``rel 1e-6`` (a difference quotient of a gradient
that is itself rounded), after checking that Ridders' error estimate is below it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from engine_numeric import ridders
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_engine_graphs import (
    ENGINE_BLOCKS,
    PROGRAMS,
    TORCH_PROGRAMS,
    Program,
    engine_run,
    interpret,
    torch_blocks,
    value_data,
    well_scaled,
)

import autograd as ag
from autograd import Value

SMALL = st.floats(-3.0, 3.0, allow_nan=False)


# -- grad() itself ----------------------------------------------------------------------


@given(x=SMALL)
def test_the_derivatives_of_sin_cycle(x: float) -> None:
    v = Value(x, "x")
    d1, = ag.grad(v.sin(), [v], create_graph=True)
    d2, = ag.grad(d1, [v], create_graph=True)
    d3, = ag.grad(d2, [v], create_graph=True)
    d4, = ag.grad(d3, [v])
    assert d1.data == pytest.approx(math.cos(x), abs=1e-15)
    assert d2.data == pytest.approx(-math.sin(x), abs=1e-15)
    assert d3.data == pytest.approx(-math.cos(x), abs=1e-15)
    assert d4.data == pytest.approx(math.sin(x), abs=1e-15)


def test_grad_leaves_every_grad_alone_and_matches_backward() -> None:
    x, y = Value(3.0, "x"), Value(1.0, "y")
    f = x * (2 * y + x.tanh())
    gx, gy = ag.grad(f, [x, y])
    assert x.grad == 0.0 and y.grad == 0.0 and f.grad == 0.0
    assert gx.is_leaf and gy.is_leaf  # create_graph=False builds nothing
    f.backward()
    assert (gx.data, gy.data) == (x.grad, y.grad)


@settings(max_examples=40)
@given(program=TORCH_PROGRAMS)
def test_first_order_grad_is_backward_bit_for_bit(program: Program) -> None:
    leaves, run = engine_run(program)
    results = ag.grad(run.root, leaves, allow_unused=True)
    assert all(leaf.grad == 0.0 for leaf in leaves)
    run.root.backward()
    ours = [math.copysign(1.0, 0.0 if g is None else g.data) for g in results]
    for leaf, g, sign in zip(leaves, results, ours):
        number = 0.0 if g is None else g.data
        assert number == leaf.grad or (number != number and leaf.grad != leaf.grad)
        assert sign == math.copysign(1.0, leaf.grad) or number != number


def test_create_graph_results_are_graphs_of_the_inputs() -> None:
    x = Value(0.5, "x")
    g, = ag.grad(x**3, [x], create_graph=True)
    assert g.data == 3 * 0.25 and not g.is_leaf
    assert x in ag.topological_order(g)
    g.backward()
    assert x.grad == pytest.approx(6 * 0.5)  # and backward() runs on it like any graph


def test_grad_output_scales_and_unused_inputs_are_reported() -> None:
    x, z = Value(2.0, "x"), Value(5.0, "z")
    g, = ag.grad(x * x, [x], grad_output=0.5)
    assert g.data == 2.0
    with pytest.raises(ValueError, match="input 0 \\(z\\) is not part of"):
        ag.grad(x * x, [z])
    assert ag.grad(x * x, [x, z], allow_unused=True)[1] is None
    with pytest.raises(TypeError, match="Value output"):
        ag.grad(3.0, [x])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="input 1 must be a Value"):
        ag.grad(x * x, [x, 2.0])  # type: ignore[list-item]


@pytest.mark.parametrize("point", [0.0, -0.0, 1.5, -1.5])
def test_second_derivatives_at_kinks_follow_torch(point: float) -> None:
    torch = pytest.importorskip("torch")
    cases = {
        "relu": (lambda v: v.relu() * v, lambda t: torch.relu(t) * t),
        "abs": (lambda v: abs(v) * v, lambda t: torch.abs(t) * t),
        "leaky_relu": (lambda v: v.leaky_relu(0.1) * v,
                       lambda t: torch.nn.functional.leaky_relu(t, 0.1) * t),
    }
    for name, (ours, theirs) in cases.items():
        x = Value(point)
        g, = ag.grad(ours(x), [x], create_graph=True)
        h, = ag.grad(g, [x], allow_unused=True)
        t = torch.tensor(point, dtype=torch.float64, requires_grad=True)
        tg, = torch.autograd.grad(theirs(t), [t], create_graph=True)
        th, = torch.autograd.grad(tg, [t])
        assert g.data == tg.item(), name
        assert (0.0 if h is None else h.data) == th.item(), name
    x = Value(0.0)
    h, = ag.grad(ag.grad(x.relu(), [x], create_graph=True)[0], [x], allow_unused=True)
    assert h is None or h.data == 0.0  # relu'' = 0, as in PyTorch


# -- random graphs ----------------------------------------------------------------------

TORCH_RTOL = 1e-9
TORCH_ATOL = 1e-11


def masked_by_torch(root: Value) -> bool:
    """A pow node with an exponent of exactly 0: PyTorch masks d/da there, losing the mixed
    second derivative (1/a) that we keep (see the op table's notes)."""
    return any(n.op is ag.OPS["pow"] and n.parents[1].data == 0.0 and n.parents[0].data != 0.0
               for n in ag.topological_order(root))


def our_hessian(program: Program, like_torch: bool = False) -> tuple[np.ndarray, float]:
    leaves, run = engine_run(program)
    scale = well_scaled(run)
    assume(not (like_torch and masked_by_torch(run.root)))
    first = ag.grad(run.root, leaves, create_graph=True, allow_unused=True)
    n = len(leaves)
    h = np.zeros((n, n))
    for i, gi in enumerate(first):
        if gi is not None:
            row = ag.grad(gi, leaves, allow_unused=True)
            h[i] = [0.0 if r is None else r.data for r in row]
    return h, scale


@settings(max_examples=40)
@given(program=TORCH_PROGRAMS)
def test_random_graphs_second_derivatives_match_torch(program: Program) -> None:
    torch = pytest.importorskip("torch")
    ours, scale = our_hessian(program, like_torch=True)
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True)
               for x in program.variables]
    root = interpret(program, torch_blocks(torch), tensors, lambda t: t.item()).root
    first = torch.autograd.grad(root, tensors, create_graph=True, allow_unused=True)
    atol = TORCH_ATOL * max(1.0, scale)
    for i, gi in enumerate(first):
        if gi is None or not gi.requires_grad:
            assert np.allclose(ours[i], 0.0, atol=atol)
            continue
        row = torch.autograd.grad(gi, tensors, allow_unused=True, retain_graph=True)
        want = [0.0 if r is None else r.item() for r in row]
        for j, w in enumerate(want):
            assert math.isclose(ours[i, j], w, rel_tol=TORCH_RTOL, abs_tol=atol), (
                f"d2 f / dv{i} dv{j}: ours {ours[i, j]!r}, torch {w!r}")


@settings(max_examples=25)
@given(program=TORCH_PROGRAMS)
def test_random_graphs_third_derivatives_match_torch(program: Program) -> None:
    torch = pytest.importorskip("torch")
    leaves, run = engine_run(program)
    scale = well_scaled(run)
    assume(not masked_by_torch(run.root))
    x = leaves[0]
    d = run.root
    for _ in range(3):
        d = ag.grad(d, [x], create_graph=True, allow_unused=True)[0]
        if d is None:
            break
    t = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in program.variables]
    td = interpret(program, torch_blocks(torch), t, lambda a: a.item()).root
    for _ in range(3):
        if not td.requires_grad:
            td = None
            break
        td = torch.autograd.grad(td, [t[0]], create_graph=True, allow_unused=True)[0]
        if td is None:
            break
    ours = 0.0 if d is None else d.data
    theirs = 0.0 if td is None else td.item()
    assert math.isclose(ours, theirs, rel_tol=1e-8, abs_tol=1e-10 * max(1.0, scale)), (
        ours, theirs)


@settings(max_examples=30)
@given(program=PROGRAMS)
def test_random_graphs_hessians_are_symmetric_and_match_differences(program: Program) -> None:
    leaves, run = engine_run(program)
    assume(all(abs(k) > 1e-3 for k in run.kink_inputs))
    h, scale = our_hessian(program)
    assert np.allclose(h, h.T, rtol=1e-9, atol=1e-11 * max(1.0, scale))

    def gradient_component(i: int, j: int, t: float) -> float:
        point = [Value(v) for v in program.variables]
        point[j] = Value(t)
        root = interpret(program, ENGINE_BLOCKS, point, value_data).root
        g = ag.grad(root, [point[i]], allow_unused=True)[0]
        return 0.0 if g is None else g.data

    for i in range(len(leaves)):
        for j in range(len(leaves)):
            numeric, error = ridders(lambda t, i=i, j=j: gradient_component(i, j, t),
                                     program.variables[j], 0.1)
            tolerance = 1e-6 * abs(numeric) + 1e-10 * scale
            assume(error <= tolerance and math.isfinite(numeric))
            assert abs(h[i, j] - numeric) <= tolerance, (i, j, h[i, j], numeric)


# -- hessian, jacobian, hvp ---------------------------------------------------------------


def test_pow_keeps_its_mixed_second_derivative_at_a_zero_exponent() -> None:
    """d²(a**b)/da db = a**(b-1) (1 + b log a) = 1/a at b = 0, in both orders."""
    np.testing.assert_allclose(ag.hessian(lambda a, b: a**b, [2.0, 0.0]),
                               [[0.0, 0.5], [0.5, math.log(2.0) ** 2]], rtol=1e-15)
    assert ag.hessian(lambda a, b: a**b, [0.0, 0.0])[0, 0] == 0.0  # the limit at 0**0


def rosenbrock(x: Value, y: Value) -> Value:
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def test_hessian_of_rosenbrock_by_hand() -> None:
    x, y = 0.5, -1.0
    want = [[2 - 400 * (y - 3 * x**2), -400 * x], [-400 * x, 200]]
    np.testing.assert_allclose(ag.hessian(rosenbrock, [x, y]), want, rtol=1e-14)


def test_hvp_is_the_hessian_times_v_and_jacobian_stacks_gradients() -> None:
    point, v = [0.3, 0.8], [2.0, -1.0]
    np.testing.assert_allclose(ag.hvp(rosenbrock, point, v),
                               ag.hessian(rosenbrock, point) @ v, rtol=1e-13)
    jac = ag.jacobian(lambda a, b: [a * b, a.sin() + b, rosenbrock(a, b)], point)
    a, b = point
    np.testing.assert_allclose(jac[0], [b, a])
    np.testing.assert_allclose(jac[1], [math.cos(a), 1.0])
    with pytest.raises(ValueError, match="v has 1 entries"):
        ag.hvp(rosenbrock, point, [1.0])
    with pytest.raises(TypeError, match="must return a Value"):
        ag.hessian(lambda a, b: 3.0, point)  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match=r"point\[1\] must be a number"):
        ag.hessian(rosenbrock, [1.0, "2"])  # type: ignore[list-item]


# -- forward mode --------------------------------------------------------------------------


@settings(max_examples=40)
@given(program=PROGRAMS, data=st.data())
def test_forward_and_reverse_mode_agree(program: Program, data: st.DataObject) -> None:
    """vᵀ(J u) = (Jᵀ v)ᵀ u for outputs f1 = root and f2 = the last node."""
    n = len(program.variables)
    u = data.draw(st.lists(SMALL, min_size=n, max_size=n), label="u")
    v = data.draw(st.lists(SMALL, min_size=2, max_size=2), label="v")

    def outputs(*xs: Value) -> list[Value]:
        run = interpret(program, ENGINE_BLOCKS, list(xs), value_data)
        return [run.root, run.nodes[-1]]

    _, run = engine_run(program)
    scale = well_scaled(run)
    forward = [ag.jvp(lambda *xs, k=k: outputs(*xs)[k], program.variables, u).derivative
               for k in range(2)]
    xs = [Value(x) for x in program.variables]
    ys = outputs(*xs)
    combined = v[0] * ys[0] + v[1] * ys[1]
    reverse = [0.0 if g is None else g.data
               for g in ag.grad(combined, xs, allow_unused=True)]
    lhs = v[0] * forward[0] + v[1] * forward[1]
    rhs = sum(r * ui for r, ui in zip(reverse, u))
    assert math.isclose(lhs, rhs, rel_tol=1e-10, abs_tol=1e-10 * max(1.0, scale) * 10)


def test_jvp_unpacks_and_counts_its_operations() -> None:
    value, slope = ag.jvp(rosenbrock, [0.5, -1.0], [1.0, 0.0])
    assert value == pytest.approx(0.25 + 100 * 1.25**2)
    assert slope == pytest.approx(-2 * 0.5 - 400 * 0.5 * (-1.0 - 0.25))
    assert ag.jvp(rosenbrock, [0.5, -1.0], [1.0, 0.0]).operations > 0
    with pytest.raises(ValueError, match="tangent has 1 entries"):
        ag.jvp(rosenbrock, [0.5, -1.0], [1.0])


def test_a_gradient_graph_can_be_drawn_and_stepped() -> None:
    viz = pytest.importorskip("viz")
    x = Value(0.5, "x")
    g, = ag.grad(x.tanh() * x, [x], create_graph=True)
    g.label = "dfdx"
    assert "dfdx" in viz.draw(g).source
    assert len(list(viz.backward_steps(g))) >= len(ag.topological_order(g)) - 1
    ag.zero_grad(g)
    g.backward()
    sech2 = 1 - math.tanh(0.5) ** 2
    assert x.grad == pytest.approx(2 * sech2 - 2 * 0.5 * math.tanh(0.5) * sech2, rel=1e-14)
