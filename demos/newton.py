"""Newton's method with the Hessian, on a 1-D function and on the Rosenbrock function.

Newton's method uses second derivatives: x ← x − f″(x)⁻¹ f′(x) in 1-D, and
x ← x − H(x)⁻¹ ∇f(x) in n-D, where H is the Hessian.  The engine computes both by
differentiating its own gradient (``autograd.grad(..., create_graph=True)``, then
`autograd.hessian`); nothing here is written by hand but the functions themselves.

    python -m demos.newton
    python -m demos.newton --start -1.2 1 --steps 12
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import autograd as ag
from autograd import Value
from demos.common import DemoParser, finite_float, int_in, run_main


def quartic(x: Value) -> Value:
    """f(x) = x⁴ − 3x² + x: two minima; Newton from x = 2 finds the one near 1.13."""
    return x**4 - 3 * x**2 + x


def rosenbrock(x: Value, y: Value) -> Value:
    """f(x, y) = (1 − x)² + 100(y − x²)²: a curved valley, minimum 0 at (1, 1)."""
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def newton_1d(f: object, x: float, steps: int) -> list[tuple[float, float, float, float]]:
    """Iterates (x, f, f', f'') of Newton's method x ← x − f'/f''."""
    rows = []
    for _ in range(steps + 1):
        v = Value(x, "x")
        fx = f(v)  # type: ignore[operator]
        (d1,) = ag.grad(fx, [v], create_graph=True)
        (d2,) = ag.grad(d1, [v])
        rows.append((x, fx.data, d1.data, d2.data))
        if d1.data == 0.0 or d2.data == 0.0:
            break
        x = x - d1.data / d2.data
    return rows


def newton_nd(f: object, point: Sequence[float], steps: int
              ) -> list[tuple[np.ndarray, float, float]]:
    """Iterates (x, f(x), |∇f(x)|) of x ← x − H⁻¹∇f."""
    x = np.array(point, dtype=float)
    rows = []
    for _ in range(steps + 1):
        leaves = [Value(float(c), f"x{i}") for i, c in enumerate(x)]
        fx = f(*leaves)  # type: ignore[operator]
        gradient = np.array([g.data for g in ag.grad(fx, leaves)])
        rows.append((x.copy(), fx.data, float(np.linalg.norm(gradient))))
        if not np.linalg.norm(gradient) > 0.0:
            break
        hessian = ag.hessian(f, list(x))  # type: ignore[arg-type]
        x = x - np.linalg.solve(hessian, gradient)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run both examples; returns the exit status."""
    parser = DemoParser("newton", __doc__)
    parser.add_argument("--x0", type=finite_float, default=2.0,
                        help="start of the 1-D example (default: %(default)s)")
    parser.add_argument("--start", type=finite_float, nargs=2, default=[-1.2, 1.0],
                        metavar=("X", "Y"),
                        help="start of the Rosenbrock example (default: -1.2 1.0)")
    parser.add_argument("--steps", type=int_in(1, 100), default=8,
                        help="Newton steps for each example (default: %(default)s)")
    args = parser.parse_args(argv)

    print("1-D: f(x) = x^4 - 3x^2 + x, Newton step x <- x - f'(x)/f''(x)")
    print(f"{'step':>4}  {'x':>20}  {'f(x)':>12}  {chr(102) + chr(39) + '(x)':>12}  "
          f"{'f' + chr(39) * 2 + '(x)':>12}")
    for k, (x, fx, d1, d2) in enumerate(newton_1d(quartic, args.x0, args.steps)):
        print(f"{k:>4}  {x:>20.15f}  {fx:>12.6g}  {d1:>12.3e}  {d2:>12.6g}")

    print("\n2-D: Rosenbrock f(x, y) = (1 - x)^2 + 100(y - x^2)^2, step x <- x - H^-1 grad f")
    print(f"{'step':>4}  {'x':>20}  {'y':>20}  {'f':>12}  {'|grad f|':>10}")
    rows = newton_nd(rosenbrock, args.start, args.steps)
    for k, (x, fx, norm) in enumerate(rows):
        print(f"{k:>4}  {x[0]:>20.15f}  {x[1]:>20.15f}  {fx:>12.4e}  {norm:>10.3e}")
    final = rows[-1][0]
    print("\nHessian at the last iterate (exact: [[802, -400], [-400, 200]] at (1, 1)):")
    print(np.array2string(ag.hessian(rosenbrock, list(final)), precision=6))
    print(f"distance to (1, 1): {float(np.linalg.norm(final - 1.0)):.3g}")
    return 0


if __name__ == "__main__":
    run_main(main, "newton")
