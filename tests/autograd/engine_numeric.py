"""Central finite differences accurate enough to check gradients to rel 1e-8.

Not a test module: the scalar-engine tests import it (pytest puts this directory on
``sys.path``).  The engine has its own `autograd.central_difference`; the tests use
this independent one so that a bug there cannot hide a bug in the engine.

Why Ridders' method and not one central difference
---------------------------------------------------
One central difference ``D(h) = (f(x+h) - f(x-h)) / 2h`` has truncation error
``~ h**2 f'''/6`` and rounding error ``~ eps * |f| / h`` (eps = 2.2e-16).  The best
single step, ``h ~ eps**(1/3) ~ 6e-6`` relative to the scale on which `f` bends,
balances the two at a relative error of about ``eps**(2/3) ~ 4e-11`` *in the best
case*, and much worse when ``|f| >> |f'|`` times that scale.  That is too coarse to
support a rel 1e-8 comparison across all ops and inputs.

Ridders' method (Numerical Recipes, ``dfridr``) evaluates ``D(h)`` for a geometric
sequence of steps starting from a large one and extrapolates ``h -> 0`` in a Neville
tableau (Richardson extrapolation of every order).  Starting large keeps the rounding
error small; extrapolation removes the truncation error.  It also returns an error
estimate, which the tests use to prove the reference is accurate enough for the
tolerance they apply (a reference that cannot tell right from wrong fails the test).

The first step must stay inside the region where `f` is smooth: callers pass
``radius``, the distance from `x` to the nearest singularity or kink (``|x|`` for
``log``, ``sqrt``, ``1/x``, ``relu``), or the length on which `f` bends (1 for
``exp``, ``sin``, ``tanh``).  The first step is half of it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence

EPS = sys.float_info.epsilon

_SHRINK = 1.4
_SHRINK2 = _SHRINK * _SHRINK
_STEPS = 16
_SAFE = 2.0
#: rows before the stopping test applies: with large first steps, the first few
#: differences can agree by accident (non-asymptotic regime) and stop the search early
_WARMUP = 5


def _central(f: Callable[[float], float], x: float, h: float) -> float:
    up, down = x + h, x - h
    # Divide by the distance actually stepped (x + h is rounded), not by 2h.
    return (f(up) - f(down)) / (up - down)


def ridders(f: Callable[[float], float], x: float, radius: float) -> tuple[float, float]:
    """f'(x) by Richardson-extrapolated central differences, and its error estimate.

    `radius`: f is smooth on [x - radius, x + radius] (the first step is radius/2).
    """
    if not (radius > 0.0 and math.isfinite(radius)):
        raise ValueError(f"radius must be positive and finite, got {radius!r}")
    h = 0.5 * radius
    table: list[list[float]] = [[_central(f, x, h)]]
    best, error = table[0][0], math.inf
    for i in range(1, _STEPS):
        h /= _SHRINK
        row = [_central(f, x, h)]
        factor = _SHRINK2
        for j in range(1, i + 1):
            row.append((row[j - 1] * factor - table[i - 1][j - 1]) / (factor - 1.0))
            factor *= _SHRINK2
            estimate = max(abs(row[j] - row[j - 1]), abs(row[j] - table[i - 1][j - 1]))
            if estimate <= error:
                best, error = row[j], estimate
        table.append(row)
        # Higher orders got worse (rounding took over): stop.
        if i >= _WARMUP and abs(row[i] - table[i - 1][i - 1]) >= _SAFE * error:
            break
    return best, error


def partial(f: Callable[..., float], point: Sequence[float], index: int,
            radius: float) -> tuple[float, float]:
    """d f(*point) / d point[index] by `ridders`, with its error estimate."""
    args = list(point)

    def along(t: float) -> float:
        args[index] = t
        try:
            return f(*args)
        finally:
            args[index] = point[index]

    return ridders(along, point[index], radius)
