"""Edge semantics of the scalar engine: IEEE results, stable sigmoid/softplus,
subgradients at kinks, the constructor's type checks, and micrograd compatibility."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from itertools import product

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import autograd as ag
from autograd import OPS, Value

INF, NAN = math.inf, math.nan


@contextmanager
def strict_floats() -> Iterator[None]:
    """Every Python warning and every NumPy floating-point event becomes an error."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        yield


def same_float(got: float, want: float) -> bool:
    """Equal, or both NaN (and infinities of the same sign)."""
    return got == want or (math.isnan(got) and math.isnan(want))


# -- IEEE semantics: nothing raises ------------------------------------------------------

IEEE_CASES: list[tuple[str, Callable[[], Value], float]] = [
    ("log(0) = -inf", lambda: Value(0.0).log(), -INF),
    ("log(-1) = nan", lambda: Value(-1.0).log(), NAN),
    ("1/0 = inf", lambda: Value(1.0) / 0.0, INF),
    ("-1/0 = -inf", lambda: Value(-1.0) / 0.0, -INF),
    ("1/Value(0) = inf", lambda: 1.0 / Value(0.0), INF),
    ("0/0 = nan", lambda: Value(0.0) / Value(0.0), NAN),
    ("exp(1000) = inf", lambda: Value(1000.0).exp(), INF),
    ("exp(-1000) = 0", lambda: Value(-1000.0).exp(), 0.0),
    ("sqrt(-1) = nan", lambda: Value(-1.0).sqrt(), NAN),
    ("0**-1 = inf", lambda: Value(0.0) ** -1, INF),
    ("(-8)**(1/3) = nan", lambda: Value(-8.0) ** (1 / 3), NAN),
    ("(-8)**Value(1/3) = nan", lambda: Value(-8.0) ** Value(1 / 3), NAN),
    ("2**1e5 = inf", lambda: Value(2.0) ** 1e5, INF),
    ("Value(1e300)**Value(2) = inf", lambda: Value(1e300) ** Value(2.0), INF),
    ("1e300*1e300 = inf", lambda: Value(1e300) * 1e300, INF),
    ("1e308/1e-10 = inf", lambda: Value(1e308) / 1e-10, INF),
    ("inf - inf = nan", lambda: Value(INF) - Value(INF), NAN),
    ("sin(inf) = nan", lambda: Value(INF).sin(), NAN),
    ("cos(-inf) = nan", lambda: Value(-INF).cos(), NAN),
    ("tanh(inf) = 1", lambda: Value(INF).tanh(), 1.0),
    ("sigmoid(inf) = 1", lambda: Value(INF).sigmoid(), 1.0),
    ("sigmoid(-inf) = 0", lambda: Value(-INF).sigmoid(), 0.0),
    ("softplus(inf) = inf", lambda: Value(INF).softplus(), INF),
    ("softplus(-inf) = 0", lambda: Value(-INF).softplus(), 0.0),
    ("relu(-inf) = 0", lambda: Value(-INF).relu(), 0.0),
    ("sum of 70 * 1e308 = inf", lambda: ag.sum([Value(1e308)] * 70), INF),
    ("sum of 80 * (inf, -inf) = nan", lambda: ag.sum([Value(INF), Value(-INF)] * 40), NAN),
    ("dot overflow = inf", lambda: ag.dot([1e308, 1e308], [10.0, 10.0]), INF),
    ("logsumexp(inf, 1) = inf", lambda: ag.logsumexp([INF, 1.0]), INF),
    ("logsumexp(-inf, -inf) = -inf", lambda: ag.logsumexp([-INF, -INF]), -INF),
    ("logsumexp(1, nan) = nan", lambda: ag.logsumexp([1.0, NAN]), NAN),
]


@pytest.mark.parametrize(("case", "build", "want"), IEEE_CASES, ids=[c[0] for c in IEEE_CASES])
def test_ieee_results_without_raising(case: str, build: Callable[[], Value], want: float) -> None:
    with strict_floats():
        out = build()
        assert same_float(out.data, want), f"{case}: got {out.data!r}"
        out.backward()  # non-finite gradients are allowed; exceptions and warnings are not


def test_ieee_gradients() -> None:
    with strict_floats():
        x = Value(0.0)
        x.log().backward()
        assert x.grad == INF  # d log(x)/dx = 1/x
        y = Value(0.0)
        y.sqrt().backward()
        assert y.grad == INF  # 1/(2 sqrt(0))
        z = Value(1000.0)
        z.exp().backward()
        assert z.grad == INF


SPECIALS = (0.0, -0.0, 1.0, -1.0, INF, -INF, NAN, 1e308, -1e308, 5e-324)
ARITY = {"sum": 3, "dot": 4, "linear": 5, "logsumexp": 3}


@pytest.mark.parametrize("name", list(OPS))
def test_no_op_raises_on_special_values(name: str) -> None:
    """Every op, forward and backward, on every mix of 0, ±inf, nan, huge and subnormal."""
    op = OPS[name]
    n = ARITY.get(name, len(op.input_names))
    params = tuple(0.5 for _ in op.params)
    points = product(SPECIALS, repeat=n) if n <= 2 else [(s,) * n for s in SPECIALS] + [
        tuple(SPECIALS[(i + k) % len(SPECIALS)] for k in range(n)) for i in range(len(SPECIALS))
    ]
    with strict_floats():
        for point in points:
            leaves = [Value(x) for x in point]
            out = ag.apply(op, leaves, params)
            out.backward()
            assert all(isinstance(v.grad, float) for v in leaves)


# -- sigmoid and softplus far out ---------------------------------------------------------


def reference_sigmoid(x: float) -> float:
    return math.exp(x) if x < -700.0 else 1.0 / (1.0 + math.exp(-x))


def reference_softplus(x: float) -> float:
    return x if x > 700.0 else math.log1p(math.exp(x))


@given(x=st.floats(-1e3, 1e3))
@example(x=1e3)
@example(x=-1e3)
@example(x=745.5)
@example(x=-745.5)
def test_sigmoid_and_softplus_are_stable_up_to_1e3(x: float) -> None:
    with strict_floats():
        s, p = Value(x), Value(x)
        sig, soft = s.sigmoid(), p.softplus()
        sig.backward()
        soft.backward()
    assert 0.0 <= sig.data <= 1.0 and math.isfinite(soft.data) and soft.data >= max(x, 0.0)
    assert math.isclose(sig.data, reference_sigmoid(x), rel_tol=1e-14, abs_tol=1e-300)
    assert math.isclose(soft.data, reference_softplus(x), rel_tol=1e-14, abs_tol=1e-300)
    # d sigmoid = sigmoid (1 - sigmoid) in [0, 1/4]; d softplus = sigmoid
    assert 0.0 <= s.grad <= 0.25
    assert math.isclose(p.grad, reference_sigmoid(x), rel_tol=1e-14, abs_tol=1e-300)


def test_sigmoid_and_softplus_limits() -> None:
    with strict_floats():
        assert Value(1e3).sigmoid().data == 1.0
        assert Value(-1e3).sigmoid().data == 0.0
        assert Value(1e3).softplus().data == 1e3
        assert Value(-1e3).softplus().data == 0.0


# -- subgradients at kinks ----------------------------------------------------------------


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_subgradients_at_kinks(zero: float) -> None:
    """relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope (PyTorch's choices)."""
    cases = [
        (lambda v: v.relu(), 0.0, 0.0),
        (lambda v: abs(v), 0.0, 0.0),
        (lambda v: v.abs(), 0.0, 0.0),
        (lambda v: v.leaky_relu(), 0.0, 0.01),
        (lambda v: v.leaky_relu(0.2), 0.0, 0.2),
        (lambda v: ag.leaky_relu(v, slope=0.3), 0.0, 0.3),
    ]
    for fn, value, grad in cases:
        x = Value(zero)
        out = fn(x)
        out.backward()
        assert out.data == value and x.grad == grad


def test_every_kinked_op_is_covered_here() -> None:
    assert {name for name, op in OPS.items() if op.kinks} == {"abs", "relu", "leaky_relu"}


def test_kinks_are_documented_in_the_formula_text() -> None:
    for name in ("abs", "relu", "leaky_relu"):
        assert " 0" in OPS[name].derivative(0, 1), OPS[name].derivative(0, 1)


# -- the constructor ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [3, -7, 2.5, np.float64(1.5), np.float32(0.1), np.int64(4), np.int8(-2),
             Fraction(1, 4)],
    ids=repr,
)
def test_value_accepts_real_numbers(data: object) -> None:
    v = Value(data)
    assert type(v.data) is float and v.data == float(data)  # type: ignore[arg-type]
    assert v.grad == 0.0 and type(v.grad) is float
    assert v.label == "" and v.op is None and v.parents == () and v.is_leaf


@pytest.mark.parametrize(
    ("data", "type_name"),
    [("2.0", "str"), (None, "NoneType"), (1 + 2j, "complex"), ([1.0], "list"),
     (np.complex128(1), "complex128"), (np.array([1.0]), "ndarray"), ({}, "dict")],
    ids=lambda x: type(x).__name__,
)
def test_value_rejects_other_types_naming_them(data: object, type_name: str) -> None:
    with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
        Value(data)  # type: ignore[arg-type]


def test_value_of_a_value_is_rejected() -> None:
    with pytest.raises(TypeError, match="Value"):
        Value(Value(1.0))  # type: ignore[arg-type]


def test_label() -> None:
    assert Value(1.0, "w1").label == "w1"
    assert Value(1.0, label="b").label == "b"
    with pytest.raises(TypeError, match=r"label.*int"):
        Value(1.0, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"label.*NoneType"):
        Value(1.0, label=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("other", ["a", None, 1j, [1.0]], ids=repr)
def test_arithmetic_with_non_numbers_raises_type_error(other: object) -> None:
    x = Value(1.0)
    for fn in (lambda: x + other, lambda: other + x, lambda: x * other, lambda: other * x,
               lambda: x - other, lambda: x / other, lambda: x**other, lambda: other**x):
        with pytest.raises(TypeError):
            fn()


def test_leaky_relu_slope_must_be_a_number() -> None:
    with pytest.raises(TypeError, match=r"slope.*str"):
        Value(1.0).leaky_relu("0.1")  # type: ignore[arg-type]


def test_value_uses_slots() -> None:
    with pytest.raises(AttributeError):
        Value(1.0).whatever = 1  # type: ignore[attr-defined]
    assert not hasattr(Value(1.0), "__dict__")


def test_comparisons_look_at_data_and_equality_is_identity() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a < 2 and a <= b and b >= a and Value(3.0) > a and not a > b
    assert a != b and a == a and len({a, b}) == 2
    assert float(Value(2.5)) == 2.5
    assert repr(Value(2.0, "x")) == "Value(data=2.0, grad=0.0, label='x')"


def test_parents_are_ordered_and_keep_duplicates() -> None:
    x, y = Value(2.0), Value(3.0)
    assert (x - y).parents == (x, y)
    assert (y - x).parents == (y, x)
    assert (x * x).parents == (x, x)
    assert (5.0 - x).parents[1] is x and (5.0 - x).parents[0].data == 5.0
    assert (5.0 - x).data == 3.0 and (x - 5.0).data == -3.0


# -- micrograd compatibility --------------------------------------------------------------


class MicrogradValue:
    """micrograd's engine (github.com/karpathy/micrograd, MIT), condensed: the oracle
    for 'micrograd code runs unchanged and gives the same numbers'."""

    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, MicrogradValue) else MicrogradValue(other)
        out = MicrogradValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, MicrogradValue) else MicrogradValue(other)
        out = MicrogradValue(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, other):
        assert isinstance(other, (int, float)), "only supporting int/float powers for now"
        out = MicrogradValue(self.data**other, (self,), f"**{other}")

        def _backward():
            self.grad += (other * self.data ** (other - 1)) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = MicrogradValue(0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1
        for v in reversed(topo):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1


def micrograd_sanity_check(value_class: type) -> tuple[list, object]:
    """micrograd's test_sanity_check, with the class passed in."""
    x = value_class(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return [x], y


def micrograd_more_ops(value_class: type) -> tuple[list, object]:
    """micrograd's test_more_ops, with the class passed in."""
    a = value_class(-4.0)
    b = value_class(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return [a, b], g


@pytest.mark.parametrize("program", [micrograd_sanity_check, micrograd_more_ops])
def test_micrograd_programs_give_micrograd_numbers(
    program: Callable[[type], tuple[list, object]],
) -> None:
    ours_leaves, ours = program(Value)
    theirs_leaves, theirs = program(MicrogradValue)
    # micrograd divides as a * b**-1, we divide directly: a few ulps apart.
    assert math.isclose(ours.data, theirs.data, rel_tol=1e-13)
    for mine, reference in zip(ours_leaves, theirs_leaves):
        assert math.isclose(mine.grad, reference.grad, rel_tol=1e-13)


@pytest.mark.parametrize("program", [micrograd_sanity_check, micrograd_more_ops])
def test_micrograd_programs_match_torch(program: Callable[[type], tuple[list, object]]) -> None:
    """micrograd's own tests compare with torch; so do we, through the same program."""
    torch = pytest.importorskip("torch")

    class TorchScalar:
        """micrograd's surface over a float64 torch scalar."""

        def __init__(self, data: object) -> None:
            self.t = data if isinstance(data, torch.Tensor) else torch.tensor(
                float(data), dtype=torch.float64, requires_grad=True)

        @staticmethod
        def _t(other: object) -> object:
            return other.t if isinstance(other, TorchScalar) else other

        def __add__(self, o: object) -> TorchScalar:
            return TorchScalar(self.t + self._t(o))

        def __mul__(self, o: object) -> TorchScalar:
            return TorchScalar(self.t * self._t(o))

        def __sub__(self, o: object) -> TorchScalar:
            return TorchScalar(self.t - self._t(o))

        def __rsub__(self, o: object) -> TorchScalar:
            return TorchScalar(self._t(o) - self.t)

        def __truediv__(self, o: object) -> TorchScalar:
            return TorchScalar(self.t / self._t(o))

        def __rtruediv__(self, o: object) -> TorchScalar:
            return TorchScalar(self._t(o) / self.t)

        def __pow__(self, o: float) -> TorchScalar:
            return TorchScalar(self.t**o)

        def __neg__(self) -> TorchScalar:
            return TorchScalar(-self.t)

        __radd__, __rmul__ = __add__, __mul__

        def relu(self) -> TorchScalar:
            return TorchScalar(torch.relu(self.t))

        def backward(self) -> None:
            self.t.backward()

    leaves, ours = program(Value)
    torch_leaves, theirs = program(TorchScalar)
    assert math.isclose(ours.data, theirs.t.item(), rel_tol=1e-13)
    for mine, reference in zip(leaves, torch_leaves):
        assert math.isclose(mine.grad, reference.t.grad.item(), rel_tol=1e-13)


def test_micrograd_surface() -> None:
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    d = a * b + c
    e = d.relu()
    e.backward()
    assert (d.data, e.data) == (4.0, 4.0)
    assert (a.grad, b.grad, c.grad) == (-3.0, 2.0, 1.0)
    # numbers on either side
    x = Value(3.0)
    results = [x + 2, 2 + x, x - 2, 2 - x, x * 2, 2 * x, x / 2, 2 / x, -x]
    assert [r.data for r in results] == [5.0, 5.0, 1.0, -1.0, 6.0, 6.0, 1.5, 2 / 3, -3.0]
    for r in results:
        x.grad = 0.0
        r.backward()
        assert x.grad != 0.0


@given(x=st.floats(0.1, 5.0), y=st.floats(-3.0, 3.0))
def test_powers(x: float, y: float) -> None:
    """x**2 (constant exponent), 2**x, and x**y with both gradients, against math."""
    a = Value(x)
    sq = a**2
    sq.backward()
    # libm pow is within an ulp of x*x, not always equal to it
    assert sq.op is OPS["powc"] and math.isclose(sq.data, x * x, rel_tol=1e-15)
    assert math.isclose(a.grad, 2 * x, rel_tol=1e-15)

    b = Value(y)
    two_to = 2**b
    two_to.backward()
    assert two_to.op is OPS["pow"] and math.isclose(two_to.data, 2.0**y, rel_tol=1e-15)
    assert math.isclose(b.grad, 2.0**y * math.log(2.0), rel_tol=1e-14)

    base, exponent = Value(x), Value(y)
    out = base**exponent
    out.backward()
    assert math.isclose(out.data, x**y, rel_tol=1e-15)
    assert math.isclose(base.grad, y * x ** (y - 1), rel_tol=1e-13, abs_tol=1e-300)
    assert math.isclose(exponent.grad, x**y * math.log(x), rel_tol=1e-13, abs_tol=1e-300)


MICROGRAD_STEP_KINDS: dict[str, Callable] = {
    "add": lambda a, b, c: a + b, "radd": lambda a, b, c: c + a, "sub": lambda a, b, c: a - b,
    "rsub": lambda a, b, c: c - a, "mul": lambda a, b, c: a * b, "rmul": lambda a, b, c: c * a,
    "div": lambda a, b, c: a / c, "neg": lambda a, b, c: -a, "relu": lambda a, b, c: a.relu(),
    "square": lambda a, b, c: a**2, "cube": lambda a, b, c: a**3,
}

MICROGRAD_STEPS = st.lists(
    st.tuples(st.sampled_from(sorted(MICROGRAD_STEP_KINDS)),
              st.integers(0, 100), st.integers(0, 100),
              st.floats(-3.0, 3.0).filter(lambda c: abs(c) > 0.1)),
    min_size=1, max_size=12,
)


def run_micrograd_program(value_class: type, leaves: list[float], steps: list) -> tuple:
    """A random micrograd-style program; (root value, leaf grads, every node's value)."""
    xs = [value_class(v) for v in leaves]
    nodes = list(xs)
    for kind, i, j, c in steps:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        node = MICROGRAD_STEP_KINDS[kind](a, b, c)
        nodes.append(node)
    root = nodes[-1]
    root.backward()
    return root.data, [x.grad for x in xs], [n.data for n in nodes]


@given(leaves=st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=3), steps=MICROGRAD_STEPS)
def test_random_micrograd_programs_give_micrograd_numbers(leaves: list[float],
                                                          steps: list) -> None:
    try:
        theirs = run_micrograd_program(MicrogradValue, leaves, steps)
    except OverflowError:  # micrograd's float ** raises where we give inf
        assume(False)
    assume(all(map(math.isfinite, [theirs[0], *theirs[1], *theirs[2]])))
    ours = run_micrograd_program(Value, leaves, steps)
    for mine, reference in zip([ours[0], *ours[1], *ours[2]],
                               [theirs[0], *theirs[1], *theirs[2]]):
        assert math.isclose(mine, reference, rel_tol=1e-12, abs_tol=1e-12 * max(
            1.0, max(map(abs, theirs[2]))))


@pytest.mark.parametrize("scalar", [np.float64(2.0), np.float32(2.0), np.int64(2)], ids=repr)
def test_numpy_scalars_on_either_side(scalar: object) -> None:
    x = Value(3.0)
    results = [scalar * x, x * scalar, scalar + x, scalar - x, x / scalar, scalar / x,
               x**scalar, scalar**x]
    assert all(isinstance(r, Value) for r in results)  # not NumPy objects or arrays
    want = [6.0, 6.0, 5.0, -1.0, 1.5, 2 / 3, 9.0, 8.0]
    assert [r.data for r in results] == pytest.approx(want, rel=1e-15)
    # d/dx of each, against the closed forms
    grads = [2.0, 2.0, 1.0, -1.0, 0.5, -2 / 9, 6.0, 8.0 * math.log(2.0)]
    for r, g in zip(results, grads):
        x.grad = 0.0
        r.backward()
        assert math.isclose(x.grad, g, rel_tol=1e-15), (r, g)


@pytest.mark.parametrize(("a", "b"), [(0.0, 0.0), (0.0, 2.0), (0.0, -1.0), (2.0, 0.0),
                                      (-2.0, 3.0), (0.0, 0.5)])
def test_pow_at_its_singular_points_matches_torch(a: float, b: float) -> None:
    """0**0 and friends: the limits PyTorch uses (0 where b = 0 for d/da; 0 where a = 0 and
    b >= 0 for d/db), not 0*inf = nan."""
    torch = pytest.importorskip("torch")
    x, y = Value(a), Value(b)
    (x**y).backward()
    tx = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    (tx**ty).backward()
    for ours, theirs in ((x.grad, tx.grad.item()), (y.grad, ty.grad.item())):
        assert ours == theirs or (math.isnan(ours) and math.isnan(theirs)), (a, b, ours, theirs)
    if b == 0.0:
        assert x.grad == 0.0
    if a == 0.0 and b >= 0.0:
        assert y.grad == 0.0


def test_tensor_pow_takes_the_same_limits_as_the_scalar_table() -> None:
    points = [(0.0, 0.0), (0.0, 2.0), (0.0, -1.0), (2.0, 0.0), (-2.0, 3.0), (0.0, 0.5)]
    a = ag.Tensor(np.array([p[0] for p in points]))
    b = ag.Tensor(np.array([p[1] for p in points]))
    (a**b).sum().backward()
    for i, (pa, pb) in enumerate(points):
        x, y = Value(pa), Value(pb)
        (x**y).backward()
        for ours, scalar in ((a.grad[i], x.grad), (b.grad[i], y.grad)):
            assert ours == scalar or (math.isnan(ours) and math.isnan(scalar)), (pa, pb)
