"""Vector helpers (sum, dot, linear, softmax, log_softmax, logsumexp, cross_entropy, mse):
values against NumPy, gradients against closed forms worked out independently, stability
for logits of magnitude 1000, and clear errors for bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import autograd as ag
from autograd import Value

# Values within this relative distance agree to ~45 ulps: all of these helpers are a few
# well-conditioned float operations, so anything looser would hide real mistakes.
RTOL = 1e-13


def close(got: float, want: float, scale: float = 1.0) -> bool:
    """|got - want| <= RTOL * (|want| + scale): the scale is that of the inputs, for results
    that cancel (a loss near 0 computed from logits near 1000)."""
    return abs(got - want) <= RTOL * (abs(want) + scale)


def leaves(xs: list[float]) -> list[Value]:
    return [Value(x, f"z{i}") for i, x in enumerate(xs)]


def np_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def np_logsumexp(z: np.ndarray) -> float:
    return float(np.logaddexp.reduce(z))


LOGITS = st.lists(st.floats(-30.0, 30.0), min_size=1, max_size=8)
BIG_LOGITS = st.lists(st.floats(-1000.0, 1000.0), min_size=1, max_size=8)
VECTORS = st.integers(1, 8).flatmap(
    lambda n: st.tuples(*(st.lists(st.floats(-100.0, 100.0), min_size=n, max_size=n)
                          for _ in range(2)))
)


@given(xs=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=100))
def test_sum(xs: list[float]) -> None:
    vs = leaves(xs)
    out = ag.sum(vs)
    assert close(out.data, math.fsum(xs), scale=math.fsum(map(abs, xs)))
    out.backward()
    assert all(v.grad == 1.0 for v in vs)


@given(pair=VECTORS)
def test_dot_and_linear(pair: tuple[list[float], list[float]]) -> None:
    w, x = pair
    wv, xv, b = leaves(w), leaves(x), Value(0.25)
    scale = math.fsum(abs(p * q) for p, q in zip(w, x))
    d = ag.dot(wv, xv)
    assert close(d.data, float(np.dot(w, x)), scale)
    d.backward()
    assert [v.grad for v in wv] == x and [v.grad for v in xv] == w
    lin = ag.linear(w, xv, b)  # plain numbers are constants
    assert close(lin.data, float(np.dot(w, x)) + 0.25, scale)
    lin.backward()
    assert b.grad == 1.0 and [v.grad for v in xv] == [2 * g for g in w]


@given(z=LOGITS, weights=st.lists(st.floats(-2.0, 2.0), min_size=8, max_size=8))
def test_softmax_and_log_softmax(z: list[float], weights: list[float]) -> None:
    zv = leaves(z)
    p = ag.softmax(zv)
    ref = np_softmax(np.array(z))
    assert all(close(pi.data, float(r)) for pi, r in zip(p, ref))
    assert abs(math.fsum(pi.data for pi in p) - 1.0) <= 1e-15 * len(z)
    w = weights[: len(z)]
    # d/dz_j sum_i w_i p_i = p_j (w_j - sum_i w_i p_i)
    ag.sum([wi * pi for wi, pi in zip(w, p)]).backward()
    mean_w = float(np.dot(w, ref))
    for j, v in enumerate(zv):
        assert abs(v.grad - ref[j] * (w[j] - mean_w)) <= 1e-13

    zv = leaves(z)
    logp = ag.log_softmax(zv)
    lse = np_logsumexp(np.array(z))
    # logsumexp = max + log(sum exp(z - max)) is accurate to ulps of max|z| and 1 (as in
    # torch), not relative to a tiny result: the scale says so.
    scale = 1.0 + max(map(abs, z))
    assert all(close(li.data, zi - lse, scale) for li, zi in zip(logp, z))
    # d/dz_j sum_i w_i (z_i - lse) = w_j - p_j sum_i w_i
    ag.sum([wi * li for wi, li in zip(w, logp)]).backward()
    for j, v in enumerate(zv):
        assert abs(v.grad - (w[j] - ref[j] * sum(w))) <= 1e-13 * (1 + sum(map(abs, w)))


@given(z=BIG_LOGITS)
@example(z=[1000.0, -1000.0, 0.0])
@example(z=[1000.0, 1000.0])
@example(z=[-1000.0, -1000.0, -1000.0])
def test_logsumexp_is_stable(z: list[float]) -> None:
    zv = leaves(z)
    out = ag.logsumexp(zv)
    assert math.isfinite(out.data)
    assert close(out.data, np_logsumexp(np.array(z)), scale=1.0 + max(map(abs, z)))
    out.backward()
    ref = np_softmax(np.array(z))
    assert all(abs(v.grad - r) <= 1e-12 for v, r in zip(zv, ref))


@given(z=BIG_LOGITS, data=st.data())
@example(z=[1000.0, -1000.0, 0.0], data=None)
@example(z=[-1000.0, 1000.0], data=None)
def test_cross_entropy_value_and_gradient(z: list[float], data: st.DataObject | None) -> None:
    """Loss = logsumexp(z) - z[y]; gradient = softmax(z) - onehot(y), even at |z| = 1000."""
    y = data.draw(st.integers(0, len(z) - 1), label="target") if data else 0
    zv = leaves(z)
    loss = ag.cross_entropy(zv, y)
    want = np_logsumexp(np.array(z)) - z[y]
    assert math.isfinite(loss.data) and loss.data >= 0.0
    assert close(loss.data, want, scale=1.0 + max(map(abs, z)))
    loss.backward()
    onehot = np.eye(len(z))[y]
    expected = np_softmax(np.array(z)) - onehot
    for v, e in zip(zv, expected):
        assert math.isfinite(v.grad) and abs(v.grad - e) <= 1e-12
    assert abs(math.fsum(v.grad for v in zv)) <= 1e-12  # softmax sums to 1, onehot too


def test_cross_entropy_worked_example() -> None:
    # z = (0, ln 3): softmax = (1/4, 3/4); loss for y=0 is -ln(1/4) = ln 4
    z0, z1 = Value(0.0), Value(math.log(3.0))
    loss = ag.cross_entropy([z0, z1], 0)
    loss.backward()
    assert math.isclose(loss.data, math.log(4.0), rel_tol=1e-15)
    assert math.isclose(z0.grad, 0.25 - 1.0, rel_tol=1e-15)
    assert math.isclose(z1.grad, 0.75, rel_tol=1e-15)


def test_cross_entropy_accepts_numpy_inputs() -> None:
    logits = np.array([0.5, -1.0, 2.0])
    loss = ag.cross_entropy(logits, np.int64(2))
    assert close(loss.data, np_logsumexp(logits) - 2.0)


@given(pair=VECTORS)
def test_mse(pair: tuple[list[float], list[float]]) -> None:
    p, t = pair
    pv, tv = leaves(p), leaves(t)
    loss = ag.mse(pv, tv)
    diff = np.array(p) - np.array(t)
    assert close(loss.data, float(np.mean(diff**2)))
    loss.backward()
    n = len(p)
    for a, b, dd in zip(pv, tv, diff):
        # d/dp_i mean((p - t)^2) = 2 (p_i - t_i) / n, and the opposite for t_i
        assert math.isclose(a.grad, 2 * dd / n, rel_tol=1e-14, abs_tol=1e-300)
        assert math.isclose(b.grad, -2 * dd / n, rel_tol=1e-14, abs_tol=1e-300)


def test_helpers_accept_numbers_values_and_arrays() -> None:
    x = Value(2.0)
    assert ag.sum([1, x, np.float64(0.5)]).data == 3.5
    assert ag.dot(np.array([1.0, 2.0]), [x, 3]).data == 8.0
    assert ag.mse([x], [1]).data == 1.0
    assert ag.logsumexp((0.0,)).data == 0.0


# -- bad inputs ----------------------------------------------------------------------------

EMPTY_CALLS = [
    ("sum", lambda: ag.sum([])),
    ("dot", lambda: ag.dot([], [])),
    ("linear", lambda: ag.linear([], [], 0.0)),
    ("logsumexp", lambda: ag.logsumexp([])),
    ("softmax", lambda: ag.softmax([])),
    ("log_softmax", lambda: ag.log_softmax([])),
    ("cross_entropy", lambda: ag.cross_entropy([], 0)),
    ("mse", lambda: ag.mse([], [])),
]


@pytest.mark.parametrize(("name", "call"), EMPTY_CALLS, ids=[c[0] for c in EMPTY_CALLS])
def test_empty_inputs_raise(name: str, call: object) -> None:
    with pytest.raises(ValueError, match=rf"^{name}\(\).*empty"):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: ag.dot([1.0, 2.0], [1.0]), r"dot\(\).*2 and 1"),
        (lambda: ag.linear([1.0], [1.0, 2.0], 0.0), r"linear\(\).*1 weights for 2 inputs"),
        (lambda: ag.mse([1.0, 2.0, 3.0], [1.0]), r"mse\(\).*3 predictions and 1 targets"),
    ],
)
def test_mismatched_lengths_raise(call: object, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("target", [-1, 3, 100])
def test_cross_entropy_target_out_of_range(target: int) -> None:
    with pytest.raises(ValueError, match=rf"target {target} out of range for 3 classes"):
        ag.cross_entropy([1.0, 2.0, 3.0], target)


@pytest.mark.parametrize("target", [1.0, True, "1", None, [1]], ids=repr)
def test_cross_entropy_target_must_be_an_int(target: object) -> None:
    with pytest.raises(TypeError, match=rf"class index.*{type(target).__name__}"):
        ag.cross_entropy([1.0, 2.0, 3.0], target)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [Value(1.0), 3.0, "abc", None, (x for x in [1.0])],
                         ids=lambda b: type(b).__name__)
@pytest.mark.parametrize("helper", ["sum", "logsumexp", "softmax", "log_softmax"])
def test_non_sequences_raise_type_error(helper: str, bad: object) -> None:
    with pytest.raises(TypeError, match=rf"{helper}\(\) expects a sequence.*{type(bad).__name__}"):
        getattr(ag, helper)(bad)


def test_non_numeric_elements_raise_type_error() -> None:
    with pytest.raises(TypeError, match="str"):
        ag.sum([1.0, "2"])
    with pytest.raises(TypeError, match="NoneType"):
        ag.cross_entropy([1.0, None], 0)
    with pytest.raises(TypeError, match="list"):
        ag.softmax([[1.0, 2.0]])
