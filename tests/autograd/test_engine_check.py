"""gradcheck (passes right gradients, names the wrong one) and detect_anomaly (stops at
the first NaN/inf, naming the op, its inputs and the user's line)."""

from __future__ import annotations

import math
import os
import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import (
    AnomalyError,
    GradcheckError,
    GradcheckReport,
    Value,
    detect_anomaly,
    gradcheck,
    no_grad,
)

HERE = os.path.basename(__file__)


def line_after() -> int:
    """The line number just after the caller's line."""
    return sys._getframe(1).f_lineno + 1


# -- gradcheck ----------------------------------------------------------------------------


def smooth(x: Value, y: Value) -> Value:
    return x * y + x.sin() * y.exp() - (x / (1 + y * y)).tanh()


def classifier_loss(a: Value, b: Value, c: Value) -> Value:
    return ag.cross_entropy([a * b, b.sigmoid(), c.softplus()], 1) + ag.mse([a], [c])


@given(x=st.floats(-2.0, 2.0), y=st.floats(-2.0, 2.0))
def test_gradcheck_passes_correct_gradients(x: float, y: float) -> None:
    report = gradcheck(smooth, [x, y])
    assert isinstance(report, GradcheckReport) and report.ok and bool(report)
    assert [row.index for row in report.rows] == [0, 1]
    assert all(row.ok for row in report.rows)
    # the report carries autograd's numbers, which agree with the closed form
    dx = y + math.cos(x) * math.exp(y) - (1 - math.tanh(x / (1 + y * y)) ** 2) / (1 + y * y)
    assert math.isclose(report.rows[0].analytic, dx, rel_tol=1e-12, abs_tol=1e-12)


def test_gradcheck_report_is_printable() -> None:
    report = gradcheck(classifier_loss, [Value(0.3, "a"), Value(-1.2, "b"), 0.7])
    text = str(report)
    lines = text.splitlines()
    assert len(lines) == 1 + 3 + 1  # header, one row per input, the rule
    assert "autograd" in lines[0] and "numeric" in lines[0]
    assert lines[1].startswith("a ") and lines[2].startswith("b ") and lines[3].startswith("x2")
    assert all(line.rstrip().endswith("yes") for line in lines[1:4])
    assert "eps=1e-06" in lines[-1]


def test_gradcheck_leaves_the_callers_values_alone() -> None:
    x = Value(0.5, "x")
    gradcheck(lambda v: v * v, [x])
    assert x.grad == 0.0 and ag.is_grad_enabled()


def mixes_in_a_detached_value(x: Value, y: Value) -> Value:
    """Wrong on purpose: the second factor's graph is cut, so d/dy misses x."""
    return x * y.detach() + y


def test_gradcheck_names_the_wrong_input() -> None:
    with pytest.raises(GradcheckError) as caught:
        gradcheck(mixes_in_a_detached_value, [Value(2.0, "x"), Value(3.0, "y")])
    message = str(caught.value)
    # d/dy is really x + 1 = 3; autograd says 1
    assert "input 1 (y)" in message
    assert "autograd 1.0," in message
    numeric = re.search(r"numeric (\S+),", message)
    assert numeric and math.isclose(float(numeric[1]), 3.0, rel_tol=1e-8)
    assert "1 of 2 inputs fail" in message
    report = caught.value.report
    assert [row.ok for row in report.rows] == [True, False]
    assert math.isclose(report.rows[1].numeric, 3.0, rel_tol=1e-8)
    assert report.rows[1].abs_error == pytest.approx(2.0, rel=1e-8)
    assert "NO" in str(report)


def test_gradcheck_without_raising_returns_the_failing_report() -> None:
    report = gradcheck(mixes_in_a_detached_value, [1.0, 5.0], raise_exception=False)
    assert not report.ok and not bool(report)
    assert str(report).splitlines()[2].rstrip().endswith("NO")


def test_gradcheck_tolerances_are_used() -> None:
    # x * x.detach() at x = 1e-3: autograd x, truth 2x: off by 1e-3
    def half(x: Value) -> Value:
        return x * x.detach()

    with pytest.raises(GradcheckError):
        gradcheck(half, [1e-3])
    assert gradcheck(half, [1e-3], atol=1e-2).ok
    assert gradcheck(half, [1e-3], atol=0.0, rtol=0.6).ok
    report = gradcheck(lambda x: x.exp(), [1.0], eps=1e-3)
    assert report.eps == 1e-3 and report.ok


def test_gradcheck_fails_on_non_finite_gradients() -> None:
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda x: x.sqrt(), [0.0])


@pytest.mark.parametrize(
    ("inputs", "pattern"),
    [(["1.0"], "input 0 .*str"), ([1.0, None], "input 1 .*NoneType"),
     ([True], "input 0 .*bool"), ([1j], "input 0 .*complex")],
)
def test_gradcheck_rejects_bad_inputs(inputs: list, pattern: str) -> None:
    with pytest.raises(TypeError, match=pattern):
        gradcheck(lambda *xs: xs[0], inputs)


def test_gradcheck_rejects_a_function_that_does_not_return_a_value() -> None:
    with pytest.raises(TypeError, match="must return a Value, got float"):
        gradcheck(lambda x: x.data * 2, [1.0])


def test_gradcheck_rejects_a_non_function() -> None:
    with pytest.raises(TypeError, match="needs a function of Values, got float"):
        gradcheck(3.0, [1.0])  # type: ignore[arg-type]


@pytest.mark.parametrize("inputs", [1.0, Value(1.0), "12", None], ids=repr)
def test_gradcheck_rejects_inputs_that_are_not_a_sequence(inputs: object) -> None:
    expected = f"sequence of numbers or Values, got {type(inputs).__name__}"
    with pytest.raises(TypeError, match=expected):
        gradcheck(lambda x: x, inputs)  # type: ignore[arg-type]


@given(x=st.floats(-3.0, 3.0))
def test_central_difference(x: float) -> None:
    numeric = ag.central_difference(lambda v: v.sin(), [x], 0)
    # truncation eps**2/6 and rounding 1e-16/eps: both far below 1e-8
    assert abs(numeric - math.cos(x)) <= 1e-8
    assert ag.is_grad_enabled()


# -- detect_anomaly --------------------------------------------------------------------


def test_anomaly_names_op_inputs_and_line_of_a_nan_value() -> None:
    w = Value(-1.0, "w")
    with pytest.raises(AnomalyError) as caught, detect_anomaly():
        line = line_after()
        w.sqrt()
    message = str(caught.value)
    assert "nan" in message and "op 'sqrt'" in message
    assert "w=-1.0" in message
    assert f"{HERE}:{line}" in message and "w.sqrt()" in message


def test_anomaly_at_the_first_infinite_value() -> None:
    x = Value(0.0, "x")
    with pytest.raises(AnomalyError) as caught, detect_anomaly():
        y = x * 2
        line = line_after()
        z = y.log()  # -inf: stops here
        z.exp()  # never reached
    message = str(caught.value)
    assert message.startswith("-inf produced by op 'log'")
    assert f"{HERE}:{line}" in message and "z = y.log()" in message
    assert "mul=0.0" in message  # its input, named by the op that made it


def test_anomaly_names_the_users_line_not_the_library() -> None:
    with pytest.raises(AnomalyError) as caught, detect_anomaly():
        line = line_after()
        ag.softmax([Value(math.inf), Value(1.0)])
    message = str(caught.value)
    assert "op 'logsumexp'" in message and f"{HERE}:{line}" in message
    library = os.path.dirname(os.path.abspath(ag.__file__))
    assert library not in message.split("created at")[1]


def test_anomaly_in_backward_names_the_first_bad_gradient() -> None:
    x = Value(0.0, "x")
    with pytest.raises(AnomalyError) as caught, detect_anomaly():
        inner = x.sqrt()  # would also pass on an infinite gradient, but later
        line = line_after()
        outer = inner.sqrt()  # d outer / d inner = 1 / (2 sqrt(0)) = inf: first
        outer.backward()
    message = str(caught.value)
    assert message.startswith("non-finite gradient inf flowing into input 0 of op 'sqrt'")
    assert f"{HERE}:{line}" in message and "outer = inner.sqrt()" in message
    assert inner.grad == 0.0 and x.grad == 0.0  # stopped before reaching them


def test_anomaly_in_backward_of_a_graph_built_outside() -> None:
    x = Value(0.0, "x")
    y = x.sqrt()
    with pytest.raises(AnomalyError, match="op 'sqrt'"), detect_anomaly():
        y.backward()


def test_anomaly_as_decorator() -> None:
    @detect_anomaly()
    def loss(v: Value) -> Value:
        return (v - v).log()

    with pytest.raises(AnomalyError, match="op 'log'"):
        loss(Value(1.0))


def test_outside_anomaly_mode_ieee_and_no_error() -> None:
    with pytest.raises(AnomalyError), detect_anomaly():
        Value(0.0).log()
    # the mode is off again after the error
    x = Value(0.0)
    y = x.log()
    y.backward()
    assert y.data == -math.inf and x.grad == math.inf
    assert issubclass(AnomalyError, FloatingPointError)


def test_anomaly_mode_nests_and_passes_finite_graphs() -> None:
    with detect_anomaly():
        with detect_anomaly():
            x = Value(0.5)
            y = ag.cross_entropy([x, x * 2, x.tanh()], 0)
        y.backward()
        assert math.isfinite(x.grad)
        with pytest.raises(AnomalyError):
            Value(1.0) / 0.0
    assert (Value(1.0) / 0.0).data == math.inf


def test_anomaly_records_where_nodes_were_made() -> None:
    with detect_anomaly():
        line = line_after()
        y = Value(2.0) * 3
    assert y.origin is not None and f"{HERE}:{line}" in y.origin
    assert (Value(2.0) * 3).origin is None  # costs nothing outside the mode
    with no_grad(), detect_anomaly():
        assert (Value(2.0) * 3).parents == ()
