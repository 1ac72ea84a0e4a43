"""Composite graphs: random DAGs (reuse, diamonds, deep chains) against central
differences and PyTorch, and one graph with reuse checked against hand-worked numbers.

A *program* is a list of steps over a few shared variables; each step applies a
block (an op, or a small expression that keeps the op in its domain, such as
``log(1 + a*a)``) to earlier nodes chosen by index, so nodes are reused and diamonds
form.  The root is the sum of every step's output, so every node matters.  The same
program is interpreted three ways: on `Value` (with gradients), on `Value` under
`no_grad` at perturbed points (finite differences), and in torch float64.

Tolerances:

* Finite differences (Ridders, see ``engine_numeric``): ``|autograd - numeric| <=
  1e-7 * |numeric| + 1e-12 * S / 0.1``, where S is the sum of ``|node|`` over the
  graph (the scale of the root's rounding noise) and 0.1 the radius of the first step.
  A composite's condition is unknown, so the check first demands that the
  finite-difference error estimate is inside that tolerance and discards the rare
  example where it is not (``assume``), or where a step crossed a kink.
* PyTorch: ``rel 1e-11`` with an absolute floor of ``1e-12 * S``: both sides do the
  same float64 arithmetic, differing only in the order of accumulation and in the
  last bits of library functions (tanh, sigmoid, logsumexp), amplified by at most
  the depth of the graph.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from engine_numeric import ridders
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd as ag
from autograd import Value, no_grad

# -- programs ---------------------------------------------------------------------------

Node = object  # a Value, or a torch tensor


@dataclass(frozen=True)
class Step:
    kind: str
    operands: tuple[int, int, int]  # indices into the nodes made so far (taken modulo)
    constant: float


@dataclass(frozen=True)
class Program:
    variables: tuple[float, ...]
    steps: tuple[Step, ...]


#: block -> engine version; each takes operand nodes a, b, c and a float constant k.
ENGINE_BLOCKS: dict[str, Callable[..., Value]] = {
    "add": lambda a, b, c, k: a + b,
    "sub": lambda a, b, c, k: a - b,
    "mul": lambda a, b, c, k: a * b,
    "div": lambda a, b, c, k: a / (1 + b * b),
    "radd": lambda a, b, c, k: k + a,
    "rsub": lambda a, b, c, k: k - a,
    "rmul": lambda a, b, c, k: k * a,
    "rdiv": lambda a, b, c, k: k / (1.5 + a.cos()),
    "neg": lambda a, b, c, k: -a,
    "exp": lambda a, b, c, k: a.tanh().exp(),
    "log": lambda a, b, c, k: (1 + a * a).log(),
    "sqrt": lambda a, b, c, k: (1 + a * a).sqrt(),
    "tanh": lambda a, b, c, k: a.tanh(),
    "sigmoid": lambda a, b, c, k: a.sigmoid(),
    "softplus": lambda a, b, c, k: a.softplus(),
    "sin": lambda a, b, c, k: a.sin(),
    "cos": lambda a, b, c, k: ag.cos(a),
    "square": lambda a, b, c, k: a**2,
    "cube": lambda a, b, c, k: a**3,
    "rsqrt": lambda a, b, c, k: (1 + a * a) ** -0.5,
    "pow": lambda a, b, c, k: (1 + a * a) ** b.tanh(),
    "rpow": lambda a, b, c, k: 2 ** a.tanh(),
    "relu": lambda a, b, c, k: (a - b).relu(),
    "abs": lambda a, b, c, k: abs(a - b),
    "leaky_relu": lambda a, b, c, k: (a - b).leaky_relu(0.1),
    "sum": lambda a, b, c, k: ag.sum([a, b, c]),
    "dot": lambda a, b, c, k: ag.dot([a, b], [b, c]),
    "linear": lambda a, b, c, k: ag.linear([a, b], [c, a], b),
    "relu_linear": lambda a, b, c, k: ag.relu_linear([a, b], [c, a], b),
    "logsumexp": lambda a, b, c, k: ag.logsumexp([a, b, c]),
    "log_softmax": lambda a, b, c, k: ag.log_softmax([a, b, c])[0],
    "softmax": lambda a, b, c, k: ag.softmax([a, b, c])[2],
    "cross_entropy": lambda a, b, c, k: ag.cross_entropy([a, b, c], 1),
    "mse": lambda a, b, c, k: ag.mse([a, b], [c, k]),
}

#: blocks whose op has a kink; the input to that op is ``a - b`` (relu_linear: its z)
KINKED = {"relu", "abs", "leaky_relu", "relu_linear"}


def torch_blocks(torch: object) -> dict[str, Callable[..., object]]:
    """The same blocks written in torch (float64)."""
    F = torch.nn.functional  # noqa: N806

    def stack(*xs: object) -> object:
        return torch.stack(list(xs))

    return {
        "add": lambda a, b, c, k: a + b,
        "sub": lambda a, b, c, k: a - b,
        "mul": lambda a, b, c, k: a * b,
        "div": lambda a, b, c, k: a / (1 + b * b),
        "radd": lambda a, b, c, k: k + a,
        "rsub": lambda a, b, c, k: k - a,
        "rmul": lambda a, b, c, k: k * a,
        "rdiv": lambda a, b, c, k: k / (1.5 + torch.cos(a)),
        "neg": lambda a, b, c, k: -a,
        "exp": lambda a, b, c, k: torch.exp(torch.tanh(a)),
        "log": lambda a, b, c, k: torch.log(1 + a * a),
        "sqrt": lambda a, b, c, k: torch.sqrt(1 + a * a),
        "tanh": lambda a, b, c, k: torch.tanh(a),
        "sigmoid": lambda a, b, c, k: torch.sigmoid(a),
        # torch's softplus switches to the identity above a threshold; logaddexp is exact
        "softplus": lambda a, b, c, k: torch.logaddexp(a, torch.zeros_like(a)),
        "sin": lambda a, b, c, k: torch.sin(a),
        "cos": lambda a, b, c, k: torch.cos(a),
        "square": lambda a, b, c, k: a**2,
        "cube": lambda a, b, c, k: a**3,
        "rsqrt": lambda a, b, c, k: (1 + a * a) ** -0.5,
        "pow": lambda a, b, c, k: (1 + a * a) ** torch.tanh(b),
        "rpow": lambda a, b, c, k: 2 ** torch.tanh(a),
        "relu": lambda a, b, c, k: torch.relu(a - b),
        "abs": lambda a, b, c, k: torch.abs(a - b),
        "leaky_relu": lambda a, b, c, k: F.leaky_relu(a - b, 0.1),
        "sum": lambda a, b, c, k: stack(a, b, c).sum(),
        "dot": lambda a, b, c, k: a * b + b * c,
        "linear": lambda a, b, c, k: a * c + b * a + b,
        "relu_linear": lambda a, b, c, k: torch.relu(a * c + b * a + b),
        "logsumexp": lambda a, b, c, k: torch.logsumexp(stack(a, b, c), 0),
        "log_softmax": lambda a, b, c, k: torch.log_softmax(stack(a, b, c), 0)[0],
        "softmax": lambda a, b, c, k: torch.softmax(stack(a, b, c), 0)[2],
        "cross_entropy": lambda a, b, c, k: F.cross_entropy(
            stack(a, b, c).unsqueeze(0), torch.tensor([1])),
        "mse": lambda a, b, c, k: ((a - c) ** 2 + (b - k) ** 2) / 2,
    }


@dataclass
class Run:
    """One interpretation of a program."""

    root: Node
    nodes: list[Node]
    kink_inputs: list[float]  # the value at which each kinked op was evaluated


def interpret(program: Program, blocks: dict[str, Callable[..., Node]],
              variables: list[Node], data: Callable[[Node], float]) -> Run:
    nodes = list(variables)
    kink_inputs = []
    for step in program.steps:
        i, j, m = (index % len(nodes) for index in step.operands)
        a, b, c = nodes[i], nodes[j], nodes[m]
        if step.kind == "relu_linear":  # the kink is at z = w·x + b = a*c + b*a + b
            kink_inputs.append(data(a) * data(c) + data(b) * data(a) + data(b))
        elif step.kind in KINKED:
            kink_inputs.append(data(a) - data(b))
        nodes.append(blocks[step.kind](a, b, c, step.constant))
    outputs = nodes[len(variables):]
    root = ag.sum(outputs) if isinstance(outputs[0], Value) else sum(outputs[1:], outputs[0])
    return Run(root, nodes, kink_inputs)


def value_data(v: Value) -> float:
    return v.data


def steps(kinds: list[str], max_size: int, *, chain: bool = False) -> st.SearchStrategy:
    """Steps over `kinds`; with `chain`, each step's first operand is the newest node."""
    first = st.just(-1) if chain else st.integers(0, 1000)
    step = st.builds(
        Step, st.sampled_from(kinds), st.tuples(first, st.integers(0, 1000), st.integers(0, 1000)),
        st.sampled_from([0.5, -1.0, 2.0, 3.0]),
    )
    return st.lists(step, min_size=1, max_size=max_size).map(tuple)


VARIABLE = st.floats(-2.0, 2.0, allow_nan=False).map(lambda x: 0.0 if abs(x) < 1e-6 else x)
# Values that make kinked ops sit exactly on their kink (a - b == 0) now and then.
VARIABLE_OR_KINK = st.one_of(st.sampled_from([0.0, 1.0, -1.0, 0.5]), VARIABLE)

SMOOTH = sorted(set(ENGINE_BLOCKS))
PROGRAMS = st.builds(Program, st.lists(VARIABLE, min_size=1, max_size=4, unique=True).map(tuple),
                     steps(SMOOTH, 12))
TORCH_PROGRAMS = st.builds(Program, st.lists(VARIABLE_OR_KINK, min_size=1, max_size=4).map(tuple),
                           steps(SMOOTH, 20))
DEEP_PROGRAMS = st.builds(Program, st.lists(VARIABLE, min_size=1, max_size=3).map(tuple),
                          steps(SMOOTH, 150, chain=True))


def engine_run(program: Program) -> tuple[list[Value], Run]:
    leaves = [Value(x, f"v{i}") for i, x in enumerate(program.variables)]
    run = interpret(program, ENGINE_BLOCKS, leaves, value_data)
    return leaves, run


def well_scaled(run: Run) -> float:
    """`assume` the graph's values are finite and moderate; return S = sum |node|."""
    datas = [n.data for n in run.nodes]
    assume(all(math.isfinite(x) and abs(x) < 1e6 for x in datas))
    return math.fsum(abs(x) for x in datas)


def test_every_block_exists_in_torch_too() -> None:
    torch = pytest.importorskip("torch")
    assert set(torch_blocks(torch)) == set(ENGINE_BLOCKS)


def test_blocks_cover_every_op() -> None:
    """The random graphs use every op of the table (through some block)."""
    x, y, z = Value(0.3), Value(-0.7), Value(1.1)
    seen = set()
    for block in ENGINE_BLOCKS.values():
        stack = [block(x, y, z, 2.0)]
        while stack:
            node = stack.pop()
            if node.op is not None:
                seen.add(node.op.name)
                stack.extend(node.parents)
    assert seen == set(ag.OPS), f"ops no random graph can use: {set(ag.OPS) - seen}"


# -- against central differences --------------------------------------------------------

FD_RADIUS = 0.1
FD_RTOL = 1e-7
FD_ATOL = 1e-12


@given(program=PROGRAMS)
def test_random_graphs_match_central_differences(program: Program) -> None:
    leaves, run = engine_run(program)
    scale = well_scaled(run)
    assume(all(abs(x) > 1e-3 for x in run.kink_inputs))
    run.root.backward()
    base_sides = [x > 0 for x in run.kink_inputs]

    crossed = False

    def f(*point: float) -> float:
        nonlocal crossed
        with no_grad():
            perturbed = interpret(program, ENGINE_BLOCKS, [Value(x) for x in point], value_data)
        if [x > 0 for x in perturbed.kink_inputs] != base_sides:
            crossed = True
        return perturbed.root.data

    for i, leaf in enumerate(leaves):
        point = list(program.variables)

        def along(t: float, i: int = i, point: list[float] = point) -> float:
            point[i] = t
            try:
                return f(*point)
            finally:
                point[i] = program.variables[i]

        numeric, error = ridders(along, program.variables[i], FD_RADIUS)
        assume(not crossed)
        tolerance = FD_RTOL * abs(numeric) + FD_ATOL * scale / FD_RADIUS
        assume(error <= tolerance)
        assert abs(leaf.grad - numeric) <= tolerance, (
            f"d root / d v{i}: autograd {leaf.grad!r}, numeric {numeric!r} (+- {error:.2g})"
        )


# -- against PyTorch --------------------------------------------------------------------

TORCH_RTOL = 1e-11
TORCH_ATOL = 1e-12
#: A gradient is a sum over paths of products of locals; on deep chains (and sums whose
#: terms PyTorch adds in another order) rounding compounds: seen 1.6e-11 with 2000 examples.
TORCH_GRAD_RTOL = 1e-10


def compare_with_torch(program: Program) -> None:
    torch = pytest.importorskip("torch")
    leaves, run = engine_run(program)
    scale = well_scaled(run)
    run.root.backward()

    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True)
               for x in program.variables]
    theirs = interpret(program, torch_blocks(torch), tensors, lambda t: t.item())
    theirs.root.backward()

    atol = TORCH_ATOL * max(1.0, scale)
    for mine, reference in zip(run.nodes, theirs.nodes):
        assert math.isclose(mine.data, reference.item(), rel_tol=TORCH_RTOL, abs_tol=atol)
    assert math.isclose(run.root.data, theirs.root.item(), rel_tol=TORCH_RTOL, abs_tol=atol)
    for i, (leaf, tensor) in enumerate(zip(leaves, tensors)):
        want = tensor.grad.item() if tensor.grad is not None else 0.0
        assert math.isclose(leaf.grad, want, rel_tol=TORCH_GRAD_RTOL, abs_tol=atol), (
            f"d root / d v{i}: ours {leaf.grad!r}, torch {want!r}"
        )


@given(program=TORCH_PROGRAMS)
def test_random_graphs_match_torch(program: Program) -> None:
    """Including kinked ops evaluated exactly at their kinks (same subgradients)."""
    compare_with_torch(program)


@given(program=DEEP_PROGRAMS)
def test_deep_random_chains_match_torch(program: Program) -> None:
    compare_with_torch(program)


# -- a graph with reuse, by hand -------------------------------------------------------


def test_graph_with_reuse_matches_hand_derivation() -> None:
    x, y = Value(2.0, "x"), Value(3.0, "y")
    a = x * y      # a = 2*3 = 6                      (x feeds a, b and L; y feeds a)
    b = a + x      # b = 6 + 2 = 8                    (a feeds b and c)
    c = a * b      # c = 6*8 = 48                     (b feeds c and d)
    d = b**2       # d = 8**2 = 64
    L = c + d - x  # L = 48 + 64 - 2 = 110  # noqa: N806
    assert [v.data for v in (a, b, c, d, L)] == [6.0, 8.0, 48.0, 64.0, 110.0]
    L.backward()
    # Backward, node by node (each line adds one edge's contribution, upstream * local):
    #   dL/dL = 1
    #   L = (c + d) - x:  dL/d(c+d) = 1, so dL/dc = 1, dL/dd = 1;  dL/dx = -1 (so far)
    #   d = b**2:         dL/db  = 2b * dL/dd = 2*8*1 = 16
    #   c = a*b:          dL/da  = b * dL/dc = 8;   dL/db += a * dL/dc = 6  -> dL/db = 22
    #   b = a + x:        dL/da += 1 * dL/db = 22   -> dL/da = 30
    #                     dL/dx += 1 * dL/db = 22   -> dL/dx = -1 + 22 = 21
    #   a = x*y:          dL/dx += y * dL/da = 3*30 = 90 -> dL/dx = 111
    #                     dL/dy  = x * dL/da = 2*30 = 60
    # Check by expanding L = xy(xy + x) + (xy + x)**2 - x:
    #   dL/dx = y(xy+x) + xy(y+1) + 2(xy+x)(y+1) - 1 = 24 + 24 + 64 - 1 = 111
    #   dL/dy = x(xy+x) + xy*x + 2(xy+x)x          = 16 + 12 + 32     = 60
    assert (L.grad, d.grad, c.grad) == (1.0, 1.0, 1.0)
    assert b.grad == 22.0
    assert a.grad == 30.0
    assert x.grad == 111.0
    assert y.grad == 60.0


def test_graph_with_reuse_through_functions_matches_hand_derivation() -> None:
    z = Value(0.0, "z")
    s = z.sigmoid()   # s = 1/2
    t = s * s + s     # t = 1/4 + 1/2 = 3/4        (s feeds mul twice and add)
    u = t * z.exp()   # u = 3/4 * e^0 = 3/4        (z feeds sigmoid and exp)
    u.backward()
    assert (s.data, t.data, u.data) == (0.5, 0.75, 0.75)
    # du/dt = exp(z) = 1;  du/d(exp z) = t = 3/4
    # dt/ds = 2s + 1 = 2  ->  du/ds = 2
    # ds/dz = s(1 - s) = 1/4  ->  via s: 2 * 1/4 = 1/2
    # d(exp z)/dz = exp(0) = 1 ->  via exp: 3/4 * 1 = 3/4
    # du/dz = 1/2 + 3/4 = 5/4
    assert t.grad == 1.0 and s.grad == 2.0
    assert z.grad == 1.25
