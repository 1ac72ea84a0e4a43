"""Forward mode and reverse mode on one graph: who needs how many passes.

For f with n inputs and one output, reverse mode (backpropagation) gets the whole
gradient in one backward pass; forward mode pushes one direction per pass, so the
gradient takes n passes.  Both use the same local derivatives; this demo counts the
multiply-adds (one per edge per pass) and checks the two gradients agree.  Then it
steps forward mode, node by node, on f = x(2y + z).

    python -m demos.modes
    python -m demos.modes --inputs 20
"""

from __future__ import annotations

from collections.abc import Sequence

import autograd as ag
import viz
from autograd import Value
from demos import chain_rule
from demos.common import DemoParser, int_in, run_main
from viz.tangents import format_forward_mode, forward_mode_steps


def ring(*xs: Value) -> Value:
    """f(x) = Σ sin(xᵢ·xᵢ₊₁) + Σ xᵢ²: every input meets two neighbours."""
    n = len(xs)
    terms = [(xs[i] * xs[(i + 1) % n]).sin() for i in range(n)]
    return ag.sum(terms) + ag.sum([x * x for x in xs])


def main(argv: Sequence[str] | None = None) -> int:
    """Print the comparison and the stepped forward pass; returns the exit status."""
    parser = DemoParser("modes", __doc__)
    parser.add_argument("--inputs", type=int_in(2, 200), default=6,
                        help="n, the number of inputs (default: %(default)s)")
    args = parser.parse_args(argv)
    n = args.inputs
    point = [0.1 * (i + 1) for i in range(n)]

    leaves = [Value(x, f"x{i}") for i, x in enumerate(point)]
    f = ring(*leaves)
    edges = sum(len(node.parents) for node in ag.topological_order(f))
    reverse = [g.data for g in ag.grad(f, leaves)]

    forward = []
    forward_operations = 0
    for i in range(n):
        direction = [1.0 if j == i else 0.0 for j in range(n)]
        result = ag.jvp(ring, point, direction)
        forward.append(result.derivative)
        forward_operations += result.operations

    print(f"f(x) = sum sin(x_i x_(i+1)) + sum x_i^2 with n = {n} inputs, one output; "
          f"the graph has {edges} edges\n")
    print(f"{'mode':<8}  {'passes':>6}  {'multiply-adds':>13}")
    print(f"{'reverse':<8}  {1:>6}  {edges:>13}")
    print(f"{'forward':<8}  {n:>6}  {forward_operations:>13}")
    worst = max(abs(a - b) for a, b in zip(forward, reverse))
    print(f"\nmax |forward - reverse| over the gradient = {worst:.3g}")
    print("Reverse mode wins by a factor n for one output; forward mode wins when there "
          "are\nmany outputs and few inputs (one pass per input direction).\n")

    c, _ = chain_rule.build(3.0, 1.0, 2.0)
    print("Forward mode on c = x(2y + z), direction dy/dt = 1 (so dc/dt = dc/dy):")
    print(format_forward_mode(forward_mode_steps(c, {"y": 1.0})))
    c.backward()
    print("\nReverse mode gives every input at once, in one backward pass:")
    print(viz.format_gradients(c))
    return 0


if __name__ == "__main__":
    run_main(main, "modes")
