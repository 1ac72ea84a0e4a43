"""The Newton and forward/reverse demos, and the forward-mode stepper they use."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
from autograd import Value
from demos import modes, newton
from viz.tangents import format_forward_mode, forward_mode_steps


def test_newton_converges_to_the_rosenbrock_minimum(capsys: pytest.CaptureFixture[str]) -> None:
    assert newton.main([]) == 0
    out = capsys.readouterr().out
    rows = newton.newton_nd(newton.rosenbrock, [-1.2, 1.0], 8)
    np.testing.assert_allclose(rows[-1][0], [1.0, 1.0], atol=1e-12)
    assert "distance to (1, 1): 0" in out
    # quadratic convergence in 1-D: the last steps square the error
    xs = [row[0] for row in newton.newton_1d(newton.quartic, 2.0, 8)]
    root = xs[-1]
    assert abs(4 * root**3 - 6 * root + 1) < 1e-12
    errors = [abs(x - root) for x in xs[2:5]]
    assert errors[2] < 10 * errors[1] ** 2


def test_newton_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--steps", "0"], ["--x0", "nan"], ["--start", "1"]):
        with pytest.raises(SystemExit) as stop:
            newton.main(argv)
        assert stop.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_modes_counts_one_reverse_pass_against_n_forward(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert modes.main(["--inputs", "5"]) == 0
    out = capsys.readouterr().out
    reverse = next(line for line in out.splitlines() if line.startswith("reverse"))
    forward = next(line for line in out.splitlines() if line.startswith("forward"))
    r_passes, r_ops = map(int, reverse.split()[1:])
    f_passes, f_ops = map(int, forward.split()[1:])
    assert (r_passes, f_passes) == (1, 5) and f_ops == 5 * r_ops
    worst = float(out.split("max |forward - reverse| over the gradient = ")[1].split()[0])
    assert worst < 1e-12
    assert "dc/dy = 6" in out


def test_forward_mode_steps_give_the_directional_derivative() -> None:
    x, y = Value(0.3, "x"), Value(-1.2, "y")
    f = (x * y).tanh() + y.exp() * x
    steps = forward_mode_steps(f, {"x": 2.0, "y": -1.0})
    f.backward()
    assert steps[-1].tangent == pytest.approx(2.0 * x.grad - 1.0 * y.grad, rel=1e-14)
    _, along = ag.jvp(lambda a, b: (a * b).tanh() + b.exp() * a, [0.3, -1.2], [2.0, -1.0])
    assert steps[-1].tangent == along
    for step in steps:
        assert math.isclose(step.tangent, sum(t.local * t.input_tangent for t in step.terms)
                            if step.terms else step.tangent)
    table = format_forward_mode(steps)
    assert "∂" in table and "tanh" in table


def test_forward_mode_steps_name_a_bad_direction() -> None:
    x = Value(1.0, "x")
    with pytest.raises(ValueError, match="not an input of the graph"):
        forward_mode_steps(x * 2, {"w": 1.0})
    with pytest.raises(ValueError, match="2 tangents for 1 labelled inputs"):
        forward_mode_steps(x * 2, [1.0, 2.0])
    with pytest.raises(TypeError, match="scalar graph"):
        forward_mode_steps(ag.Tensor([1.0]), [1.0])  # type: ignore[arg-type]
