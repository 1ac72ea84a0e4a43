"""Gradient checking against central finite differences."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from autograd.state import no_grad
from autograd.value import Value

__all__ = ["central_difference", "gradcheck", "GradcheckError", "GradcheckReport"]


class GradcheckError(AssertionError):
    """Autograd and finite differences disagree; the message names the input."""

    def __init__(self, report: GradcheckReport) -> None:
        self.report = report
        bad = [row for row in report.rows if not row.ok]
        worst = max(bad, key=lambda r: r.abs_error if math.isfinite(r.abs_error) else math.inf)
        super().__init__(
            f"gradient of input {worst.index} ({worst.name}) disagrees with central "
            f"differences: autograd {worst.analytic!r}, numeric {worst.numeric!r}, "
            f"|difference| {worst.abs_error:.3g} > atol + rtol*|numeric| = "
            f"{report.atol + report.rtol * abs(worst.numeric):.3g} "
            f"({len(bad)} of {len(report.rows)} inputs fail)\n{report}"
        )


@dataclass(frozen=True)
class GradcheckRow:
    """One input's comparison."""

    index: int
    name: str
    point: float
    analytic: float
    numeric: float
    abs_error: float
    ok: bool


@dataclass(frozen=True)
class GradcheckReport:
    """All inputs' comparisons; ``ok`` when every row passes; prints as a table."""

    rows: tuple[GradcheckRow, ...]
    eps: float
    atol: float
    rtol: float

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = f"{'input':<12}{'at':>14}{'autograd':>16}{'numeric':>16}{'|diff|':>11}  ok"
        lines = [head]
        for r in self.rows:
            lines.append(
                f"{r.name:<12.12}{r.point:>14.6g}{r.analytic:>16.9g}{r.numeric:>16.9g}"
                f"{r.abs_error:>11.2e}  {'yes' if r.ok else 'NO'}"
            )
        lines.append(f"(central differences, eps={self.eps:g}; pass if |diff| <= "
                     f"{self.atol:g} + {self.rtol:g}*|numeric|)")
        return "\n".join(lines)


def _as_points(inputs: Sequence[float | Value]) -> list[tuple[float, str]]:
    if isinstance(inputs, (Value, numbers.Number, str)) or not hasattr(inputs, "__iter__"):
        raise TypeError(f"gradcheck inputs must be a sequence of numbers or Values, "
                        f"got {type(inputs).__name__}")
    points = []
    for i, x in enumerate(inputs):
        if isinstance(x, Value):
            points.append((x.data, x.label or f"x{i}"))
        elif isinstance(x, numbers.Real) and not isinstance(x, bool):
            points.append((float(x), f"x{i}"))
        else:
            raise TypeError(f"gradcheck input {i} must be a number or Value, "
                            f"got {type(x).__name__}")
    return points


def _call(f: Callable[..., Value], values: list[Value]) -> Value:
    out = f(*values)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck's function must return a Value, got {type(out).__name__}")
    return out


def _check_step(eps: object) -> None:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not (0.0 < eps < math.inf):
        raise ValueError(f"gradcheck: the step eps must be a finite number > 0, got {eps!r} "
                         f"(a zero step divides by zero)")


def central_difference(f: Callable[..., Value], point: Sequence[float], index: int,
                       eps: float = 1e-6) -> float:
    """(f(x + eps e_i) - f(x - eps e_i)) / (2 eps), evaluated without recording a graph."""
    _check_step(eps)
    with no_grad():
        up = [Value(x + eps if j == index else x) for j, x in enumerate(point)]
        down = [Value(x - eps if j == index else x) for j, x in enumerate(point)]
        return (_call(f, up).data - _call(f, down).data) / (2.0 * eps)


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float | Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> GradcheckReport:
    """Compare autograd's gradient of ``f(*inputs)`` with central differences.

    `f` takes one Value per input and returns a Value.  Returns a report (print it
    for a table); raises `GradcheckError` naming the worst input when any gradient
    is off by more than ``atol + rtol * |numeric|``, unless `raise_exception` is False.
    """
    if not callable(f):
        raise TypeError(f"gradcheck needs a function of Values, got {type(f).__name__}")
    _check_step(eps)
    for name, tolerance in (("atol", atol), ("rtol", rtol)):
        if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) or not (
                0.0 <= tolerance < math.inf):
            raise ValueError(f"gradcheck: {name} must be a finite number >= 0, got {tolerance!r}")
    points = _as_points(inputs)
    leaves = [Value(x, name) for x, name in points]
    _call(f, leaves).backward()
    xs = [x for x, _ in points]
    rows = []
    for i, ((x, name), leaf) in enumerate(zip(points, leaves)):
        numeric = central_difference(f, xs, i, eps)
        err = abs(leaf.grad - numeric)
        ok = err <= atol + rtol * abs(numeric)
        rows.append(GradcheckRow(i, name, x, leaf.grad, numeric, err, ok))
    report = GradcheckReport(tuple(rows), eps, atol, rtol)
    if raise_exception and not report.ok:
        raise GradcheckError(report)
    return report
