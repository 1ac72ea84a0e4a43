"""Every op of the table, generically: forward against `math`, gradients against
central differences, and the formula text.

`REFERENCES` gives, for each op name in `autograd.OPS`, an independent forward written
with `math`, a hypothesis strategy for points in the op's domain, the radius on which
the op is smooth around a point (for the finite-difference step), and the public
spelling that produces the op (``a * b``, ``x.exp()``, ``autograd.dot(w, x)``).  Adding
an op to the table without adding it here fails `test_every_op_has_a_reference`.

Tolerances (see ``engine_numeric`` for the finite-difference method):

* Forward: ``|engine - math| <= 1e-14 * magnitude``, about 45 ulps of the
  magnitude of the computation (``|result|``, or the sum of ``|terms|`` for sums,
  where naive and exact summation legitimately differ by a few ulps of the terms).
* Gradient: ``|engine - numeric| <= RTOL * |numeric| + ATOL * magnitude / radius``
  with RTOL = 1e-8 (100 times tighter than the 1e-6 first asked for).  The absolute term is
  the rounding noise of a difference quotient of f over steps comparable to `radius`;
  it only matters where the derivative is tiny next to f (sigmoid or tanh
  saturated at |x| ~ 30, where 1 - out rounds), i.e. where double precision cannot
  resolve the derivative relative to itself.  Each check first asserts that the
  finite-difference error estimate is itself inside that tolerance, so the
  reference is always sharp enough to catch a wrong derivative.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from engine_numeric import partial
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd as ag
from autograd import OPS, Value

RTOL = 1e-8
ATOL = 1e-12
FORWARD_RTOL = 1e-14
#: magnitudes below this are drawn as 0: subnormal products lose all relative precision
TINY = 1e-6


@dataclass(frozen=True)
class Case:
    """A point where an op is evaluated: its inputs, and its constant parameters."""

    inputs: tuple[float, ...]
    params: tuple[float, ...] = ()


@dataclass(frozen=True)
class Reference:
    """Independent knowledge of one op, used to check its table entry."""

    forward: Callable[..., float]  # (*inputs, *params) -> float, written with math
    cases: st.SearchStrategy[Case]  # points in the op's domain
    radius: Callable[[int, Case], float]  # f is smooth within this distance of input i
    spelling: Callable[..., Value]  # the public way to make the op: (*Values, *params)
    magnitude: Callable[[Case, float], float] | None = None  # scale of forward rounding


def real(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Finite floats in [lo, hi], with tiny magnitudes snapped to 0."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(
        lambda x: 0.0 if abs(x) < TINY else x
    )


def magnitude_between(lo: float, hi: float, *, signed: bool) -> st.SearchStrategy[float]:
    """Floats with lo <= |x| <= hi, log-uniform-ish so every scale is exercised."""
    size = st.floats(math.log(lo), math.log(hi)).map(math.exp).map(lambda x: min(max(x, lo), hi))
    if not signed:
        return size
    return st.tuples(size, st.sampled_from((1.0, -1.0))).map(lambda t: t[0] * t[1])


def cases(*coords: st.SearchStrategy[float], params: tuple[st.SearchStrategy[float], ...] = ()
          ) -> st.SearchStrategy[Case]:
    return st.tuples(st.tuples(*coords), st.tuples(*params)).map(lambda t: Case(*t))


def vectors(coord: st.SearchStrategy[float], sizes: st.SearchStrategy[int]
            ) -> st.SearchStrategy[Case]:
    return sizes.flatmap(lambda n: st.lists(coord, min_size=n, max_size=n)).map(
        lambda xs: Case(tuple(xs))
    )


def linear_scale(i: int, case: Case) -> float:
    """Functions linear in input i: any step is exact, so scale it with the input."""
    return max(1.0, abs(case.inputs[i]))


def unit(i: int, case: Case) -> float:
    """Functions that bend on a length of about 1 (exp, tanh, sin, ...)."""
    return 1.0


def distance_to_zero(i: int, case: Case) -> float:
    """Functions singular or kinked at 0 (log, sqrt, 1/b, relu)."""
    return abs(case.inputs[i])


def summed_terms(case: Case, result: float) -> float:
    return math.fsum(abs(x) for x in case.inputs)


def products(case: Case, result: float) -> float:
    xs = case.inputs
    k = len(xs) // 2
    bias = abs(xs[-1]) if len(xs) % 2 else 0.0
    return math.fsum(abs(w * x) for w, x in zip(xs[:k], xs[k : 2 * k])) + bias


def reference_sigmoid(x: float) -> float:
    # Below -700, 1/(1 + e^-x) overflows; sigmoid(x) = e^x (1 - e^x + ...) to double precision.
    return math.exp(x) if x < -700.0 else 1.0 / (1.0 + math.exp(-x))


def reference_softplus(x: float) -> float:
    return x if x > 700.0 else math.log1p(math.exp(x))


def reference_logsumexp(*xs: float) -> float:
    return math.log(math.fsum(math.exp(x) for x in xs))


def pow_radius(i: int, case: Case) -> float:
    a = case.inputs[0]
    # a**b bends on |a| in a, and on 1/|log a| in b (a**b = exp(b log a)).
    return abs(a) if i == 0 else 1.0 / max(1.0, abs(math.log(a)))


def weighted_sum(case: Case) -> float:
    """z = w·x + b of a linear or relu_linear case."""
    xs = case.inputs
    k = len(xs) // 2
    return math.fsum([*(w * x for w, x in zip(xs[:k], xs[k:2 * k])), xs[-1]])


def partner(i: int, case: Case) -> float:
    """dz/d(input i) for z = w·x + b: the other factor of input i's product (1 for b)."""
    xs = case.inputs
    k = len(xs) // 2
    if i == len(xs) - 1:
        return 1.0
    return xs[i + k] if i < k else xs[i - k]


def halves(xs: tuple[Value, ...]) -> tuple[tuple[Value, ...], tuple[Value, ...]]:
    k = len(xs) // 2
    return xs[:k], xs[k : 2 * k]


WIDE = real(-1e3, 1e3)
UNIT_FN = lambda name: lambda a: getattr(a, name)()

REFERENCES: dict[str, Reference] = {
    "add": Reference(lambda a, b: a + b, cases(WIDE, WIDE), linear_scale, lambda a, b: a + b,
                     summed_terms),
    "sub": Reference(lambda a, b: a - b, cases(WIDE, WIDE), linear_scale, lambda a, b: a - b,
                     summed_terms),
    "mul": Reference(lambda a, b: a * b, cases(WIDE, WIDE), linear_scale, lambda a, b: a * b),
    "div": Reference(
        lambda a, b: a / b, cases(WIDE, magnitude_between(1e-3, 1e3, signed=True)),
        lambda i, c: linear_scale(i, c) if i == 0 else abs(c.inputs[1]), lambda a, b: a / b,
    ),
    "pow": Reference(
        math.pow,
        cases(magnitude_between(1e-2, 1e2, signed=False), real(-5.0, 5.0)),
        pow_radius, lambda a, b: a**b,
    ),
    "powc": Reference(
        lambda a, n: a**n,
        st.one_of(
            # any real exponent on a positive base
            cases(magnitude_between(1e-2, 1e2, signed=False), params=(real(-4.0, 4.0),)),
            # integer exponents on a base of either sign
            cases(magnitude_between(1e-2, 1e2, signed=True),
                  params=(st.integers(-3, 5).map(float),)),
        ),
        distance_to_zero, lambda a, n: a**n,
    ),
    "neg": Reference(lambda a: -a, cases(real(-1e6, 1e6)), linear_scale, lambda a: -a),
    "abs": Reference(math.fabs, cases(WIDE), distance_to_zero, lambda a: abs(a)),
    "exp": Reference(math.exp, cases(real(-700.0, 700.0)), unit, UNIT_FN("exp")),
    "log": Reference(math.log, cases(magnitude_between(1e-6, 1e6, signed=False)),
                     distance_to_zero, UNIT_FN("log")),
    "sqrt": Reference(math.sqrt, cases(magnitude_between(1e-6, 1e6, signed=False)),
                      distance_to_zero, UNIT_FN("sqrt")),
    "tanh": Reference(math.tanh, cases(real(-50.0, 50.0)), unit, UNIT_FN("tanh")),
    "sigmoid": Reference(reference_sigmoid, cases(real(-50.0, 50.0)), unit, UNIT_FN("sigmoid")),
    "relu": Reference(lambda a: max(a, 0.0), cases(WIDE), distance_to_zero, UNIT_FN("relu")),
    "leaky_relu": Reference(
        lambda a, s: a if a > 0.0 else s * a, cases(WIDE, params=(real(0.0, 1.0),)),
        distance_to_zero, lambda a, s: a.leaky_relu(s),
    ),
    "softplus": Reference(reference_softplus, cases(real(-700.0, 700.0)), unit,
                          UNIT_FN("softplus")),
    "sin": Reference(math.sin, cases(real(-100.0, 100.0)), unit, UNIT_FN("sin")),
    "cos": Reference(math.cos, cases(real(-100.0, 100.0)), unit, UNIT_FN("cos")),
    "sum": Reference(lambda *xs: math.fsum(xs), vectors(WIDE, st.integers(1, 8)), linear_scale,
                     lambda *xs: ag.sum(xs), summed_terms),
    "dot": Reference(
        lambda *wx: math.fsum(w * x for w, x in zip(*halves(wx))),
        vectors(WIDE, st.integers(1, 6).map(lambda k: 2 * k)), linear_scale,
        lambda *wx: ag.dot(*halves(wx)), products,
    ),
    "linear": Reference(
        lambda *wxb: math.fsum([*(w * x for w, x in zip(*halves(wxb))), wxb[-1]]),
        vectors(WIDE, st.integers(1, 6).map(lambda k: 2 * k + 1)), linear_scale,
        lambda *wxb: ag.linear(*halves(wxb), wxb[-1]), products,
    ),
    "relu_linear": Reference(
        lambda *wxb: max(0.0, math.fsum([*(w * x for w, x in zip(*halves(wxb))), wxb[-1]])),
        vectors(real(-10.0, 10.0), st.integers(1, 6).map(lambda k: 2 * k + 1)).filter(
            lambda c: abs(weighted_sum(c)) > 1e-3),
        lambda i, case: min(linear_scale(i, case), abs(weighted_sum(case)) / max(
            abs(partner(i, case)), 1e-300)),
        lambda *wxb: ag.relu_linear(*halves(wxb), wxb[-1]), products,
    ),
    "logsumexp": Reference(
        reference_logsumexp, vectors(real(-700.0, 700.0), st.integers(1, 8)), unit,
        lambda *xs: ag.logsumexp(xs), lambda case, result: max(1.0, abs(result)),
    ),
}

OP_NAMES = list(OPS)


def test_every_op_has_a_reference() -> None:
    missing = sorted(set(OPS) - set(REFERENCES))
    stale = sorted(set(REFERENCES) - set(OPS))
    assert not missing, f"ops without a reference entry in {__name__}: {missing}"
    assert not stale, f"reference entries for ops that no longer exist: {stale}"


def away_from_kinks(name: str, case: Case) -> None:
    """`assume` that no input sits on one of the op's kinks (or closer than TINY)."""
    for x in case.inputs:
        for kink in OPS[name].kinks:
            assume(abs(x - kink) >= TINY)


def build(name: str, case: Case) -> tuple[list[Value], Value]:
    leaves = [Value(x, f"x{i}") for i, x in enumerate(case.inputs)]
    out = REFERENCES[name].spelling(*leaves, *case.params)
    assert out.op is OPS[name], f"{name}'s spelling made a {out.op and out.op.name!r} node"
    assert out.parents == tuple(leaves), "parents must be the inputs, in argument order"
    assert out.params == case.params
    return leaves, out


@pytest.mark.parametrize("name", OP_NAMES)
@given(data=st.data())
def test_forward_matches_math(name: str, data: st.DataObject) -> None:
    ref = REFERENCES[name]
    case = data.draw(ref.cases, label="case")
    want = ref.forward(*case.inputs, *case.params)
    assume(math.isfinite(want))
    _, out = build(name, case)
    # The table's forward called directly agrees with the node built by the spelling.
    assert OPS[name].evaluate(case.inputs, case.params) == out.data
    scale = ref.magnitude(case, want) if ref.magnitude else abs(want)
    assert abs(out.data - want) <= FORWARD_RTOL * scale, (out.data, want)


@pytest.mark.parametrize("name", OP_NAMES)
@given(data=st.data())
def test_gradient_matches_central_differences(name: str, data: st.DataObject) -> None:
    ref = REFERENCES[name]
    case = data.draw(ref.cases, label="case")
    away_from_kinks(name, case)
    value = ref.forward(*case.inputs, *case.params)
    assume(math.isfinite(value) and abs(value) < 1e300)
    noise = ref.magnitude(case, value) if ref.magnitude else abs(value)
    leaves, out = build(name, case)
    assert len(out.local_grads) == len(leaves)
    out.backward()
    for i, leaf in enumerate(leaves):
        radius = ref.radius(i, case)
        numeric, error = partial(lambda *xs: ref.forward(*xs, *case.params), case.inputs, i,
                                 radius)
        tolerance = RTOL * abs(numeric) + ATOL * noise / radius
        assert error <= tolerance, f"reference not sharp enough for input {i}: {error=}"
        local = out.local_grads[i]
        assert abs(local - numeric) <= tolerance, (
            f"d{name}/d(input {i}) at {case}: table {local!r}, numeric {numeric!r}"
        )
        # One node, distinct leaves: backward() leaves exactly the local derivative.
        assert leaf.grad == local


@pytest.mark.parametrize("name", OP_NAMES)
@given(data=st.data())
def test_formula_text_for_every_input(name: str, data: st.DataObject) -> None:
    op = OPS[name]
    case = data.draw(REFERENCES[name].cases, label="case")
    n = len(case.inputs)
    names = [op.input_name(i, n) for i in range(n)]
    assert len(set(names)) == n, f"input names must be distinct: {names}"
    for i in range(n):
        text = op.formula(i, n, case.params)
        match = re.fullmatch(r"d\((?P<expr>.+)\)/d(?P<wrt>\S+) = (?P<deriv>.+)", text)
        assert match, f"not a 'd(...)/d... = ...' statement: {text!r}"
        assert match["wrt"] == names[i]
        assert "{" not in text and "}" not in text, f"unformatted placeholder in {text!r}"
        if not op.nary:
            assert names[i] in match["expr"], text
        for pname, pvalue in zip(op.params, case.params):
            assert pname not in text, f"parameter {pname} not replaced by its value: {text!r}"
            shown = [float(t) for t in re.findall(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?", text)]
            assert any(math.isclose(s, pvalue, rel_tol=1e-5, abs_tol=1e-5) for s in shown), (
                text, pvalue)


@pytest.mark.parametrize("name", OP_NAMES)
def test_op_entry_is_complete(name: str) -> None:
    op = OPS[name]
    assert op.name == name and op.symbol and op.expression
    assert callable(op.derivatives) and callable(op.local_grads)
    assert ag.ops.get_op(name) is op
    for kink in op.kinks:
        assert math.isfinite(kink)


def test_get_op_names_the_known_ops() -> None:
    with pytest.raises(KeyError, match="known ops: add"):
        ag.ops.get_op("frobnicate")


@pytest.mark.parametrize("name", ag.ops.UNARY_FUNCTIONS)
@given(x=real(-5.0, 5.0))
def test_method_and_function_forms_agree(name: str, x: float) -> None:
    leaf = Value(x)
    by_method = getattr(leaf, name)()
    by_function = getattr(ag, name)(leaf)
    by_number = getattr(ag, name)(x)
    assert by_method.op is by_function.op is by_number.op is OPS[name]
    same = [v.data for v in (by_method, by_function, by_number)]
    assert same[0] == same[1] == same[2] or all(map(math.isnan, same))
    assert by_function.parents == (leaf,)


@given(xs=st.lists(WIDE, min_size=65, max_size=120))
def test_long_sums_are_exactly_rounded(xs: list[float]) -> None:
    """Above 64 inputs `sum` switches to exact (fsum) summation."""
    assert ag.sum(xs).data == math.fsum(xs)
