"""Every Tensor op's gradient against central finite differences, on drawn shapes and values.

The reference is numeric only (perturb one element, rerun the forward without a graph),
so nothing here restates an op's derivative.  A final test checks that every entry of
the Tensor op table was exercised here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import no_grad
from autograd.tensor import Tensor, cross_entropy, linear, mse, softmax
from autograd.tensor_ops import TENSOR_OPS

COVERED: set[str] = set()

EPS = 1e-6


def check_against_differences(fn: Callable[..., Tensor], *arrays: np.ndarray,
                              atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Backward of ``fn(*tensors)`` seeded with random weights w, against central
    differences of ``sum(w * fn(...))`` element by element."""
    arrays = tuple(np.array(a, dtype=np.float64) for a in arrays)
    tensors = [Tensor(a, f"x{i}") for i, a in enumerate(arrays)]
    out = fn(*tensors)
    _record_ops(out)
    weights = np.random.default_rng(len(out.data.shape)).normal(size=out.shape)
    out.backward(weights)

    def projected(values: list[np.ndarray]) -> float:
        with no_grad():
            return float(np.sum(fn(*[Tensor(v) for v in values]).data * weights))

    for i, (a, t) in enumerate(zip(arrays, tensors)):
        assert t.grad.shape == a.shape, f"grad of input {i} has shape {t.grad.shape}"
        numeric = np.zeros_like(a, dtype=np.float64)
        for index in np.ndindex(a.shape):
            up = [v.copy() for v in arrays]
            down = [v.copy() for v in arrays]
            up[i][index] += EPS
            down[i][index] -= EPS
            numeric[index] = (projected(up) - projected(down)) / (2 * EPS)
        np.testing.assert_allclose(t.grad, numeric, atol=atol, rtol=rtol,
                                   err_msg=f"gradient of input {i}")


def _record_ops(root: Tensor) -> None:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.op is not None:
            COVERED.add(node.op.name)
        stack.extend(node.parents)


def values(shape: tuple[int, ...], low: float = -3.0, high: float = 3.0) -> st.SearchStrategy:
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high, allow_nan=False))


def away_from_zero(a: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """Shift values off a kink (or a pole) at 0, keeping their sign."""
    return np.where(a >= 0, a + margin, a - margin)


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


# -- elementwise --------------------------------------------------------------------------

UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "neg": lambda a: a,
    "exp": lambda a: a,
    "tanh": lambda a: a,
    "sigmoid": lambda a: a,
    "softplus": lambda a: a,
    "sin": lambda a: a,
    "cos": lambda a: a,
    "log": lambda a: np.abs(a) + 0.2,
    "sqrt": lambda a: np.abs(a) + 0.2,
    "relu": away_from_zero,
    "abs": away_from_zero,
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary(name: str, data: st.DataObject) -> None:
    a = UNARY[name](data.draw(values(data.draw(shapes))))
    method = "__neg__" if name == "neg" else name
    check_against_differences(lambda t: getattr(t, method)(), a)


@given(data=st.data(), slope=st.floats(-0.5, 0.5))
def test_leaky_relu(data: st.DataObject, slope: float) -> None:
    a = away_from_zero(data.draw(values(data.draw(shapes))))
    check_against_differences(lambda t: t.leaky_relu(slope), a)


@given(data=st.data(), exponent=st.sampled_from([0, 1, 2, 3, -1, 0.5, -1.5, 2.5]))
def test_pow_constant(data: st.DataObject, exponent: float) -> None:
    a = data.draw(values(data.draw(shapes)))
    if not float(exponent).is_integer() or exponent < 0:
        a = np.abs(a) + 0.3  # real-valued and away from the pole
    check_against_differences(lambda t: t**exponent, a)


# -- broadcasting binary ops ----------------------------------------------------------------

BINARY: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_broadcasting(name: str, data: st.DataObject) -> None:
    pair = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                       max_side=3))
    a = data.draw(values(pair.input_shapes[0]))
    b = data.draw(values(pair.input_shapes[1]))
    if name == "div":
        b = away_from_zero(b, 0.3)
    if name == "pow":
        a, b = np.abs(a) + 0.3, b / 2
    check_against_differences(BINARY[name], a, b)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data(), number=st.floats(0.5, 2.0))
def test_binary_with_python_numbers_on_both_sides(name: str, data: st.DataObject,
                                                  number: float) -> None:
    a = np.abs(data.draw(values(data.draw(shapes)))) + 0.3
    fn = BINARY[name]
    check_against_differences(lambda t: fn(t, number), a)
    check_against_differences(lambda t: fn(number, t), a)


# -- matmul -------------------------------------------------------------------------------


@given(data=st.data(), m=st.integers(1, 4), k=st.integers(1, 4), n=st.integers(1, 4),
       batch=st.integers(1, 3),
       pattern=st.sampled_from(["mk,kn", "k,kn", "mk,k", "k,k", "bmk,kn", "bmk,bkn",
                                "mk,bkn", "bmk,k", "k,bkn", "bmk,1kn"]))
def test_matmul(data: st.DataObject, m: int, k: int, n: int, batch: int, pattern: str) -> None:
    dims = {"m": m, "k": k, "n": n, "b": batch, "1": 1}
    left, right = pattern.split(",")
    a = data.draw(values(tuple(dims[c] for c in left)))
    b = data.draw(values(tuple(dims[c] for c in right)))
    np.testing.assert_allclose((Tensor(a) @ Tensor(b)).data, a @ b)
    check_against_differences(lambda x, y: x @ y, a, b)


@given(data=st.data(), n_in=st.integers(1, 4), n_out=st.integers(1, 4),
       lead=st.sampled_from([(), (1,), (3,), (2, 3)]))
def test_linear(data: st.DataObject, n_in: int, n_out: int, lead: tuple[int, ...]) -> None:
    x = data.draw(values((*lead, n_in)))
    w, b = data.draw(values((n_out, n_in))), data.draw(values((n_out,)))
    np.testing.assert_allclose(linear(Tensor(x), Tensor(w), Tensor(b)).data, x @ w.T + b)
    check_against_differences(linear, x, w, b)


# -- reductions and shapes ------------------------------------------------------------------


@st.composite
def shape_and_axis(draw: st.DrawFn, min_dims: int = 0) -> tuple[tuple[int, ...], object]:
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    ndim = len(shape)
    if ndim == 0:
        return shape, None
    axis = draw(st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1),
        st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(tuple),
    ))
    return shape, axis


@pytest.mark.parametrize("name", ["sum", "mean"])
@given(data=st.data(), keepdims=st.booleans())
def test_reductions(name: str, data: st.DataObject, keepdims: bool) -> None:
    shape, axis = data.draw(shape_and_axis())
    a = data.draw(values(shape))
    out = getattr(Tensor(a), name)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, getattr(np, name)(a, axis=axis, keepdims=keepdims))
    check_against_differences(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), a)


@given(data=st.data())
def test_reshape(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    size = int(np.prod(shape))
    new = data.draw(st.sampled_from([(size,), (-1,), (1, size), (size, 1), shape[::-1], (-1, 1)]))
    a = data.draw(values(shape))
    check_against_differences(lambda t: t.reshape(new) * Tensor(np.arange(size).reshape(new)),
                              a)


@given(data=st.data())
def test_transpose(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    axes = tuple(data.draw(st.permutations(range(len(shape)))))
    a = data.draw(values(shape))
    np.testing.assert_array_equal(Tensor(a).transpose(axes).data, a.transpose(axes))
    check_against_differences(lambda t: t.transpose(axes), a)
    check_against_differences(lambda t: t.T, a)


# -- softmax family and losses --------------------------------------------------------------


@given(data=st.data())
def test_log_softmax_and_softmax(data: st.DataObject) -> None:
    shape, _ = data.draw(shape_and_axis(min_dims=1))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = data.draw(values(shape, -10, 10))
    check_against_differences(lambda t: t.log_softmax(axis), a)
    check_against_differences(lambda t: softmax(t, axis), a)


@given(data=st.data(), rows=st.integers(0, 4), classes=st.integers(1, 5),
       reduction=st.sampled_from(["mean", "sum"]))
def test_cross_entropy(data: st.DataObject, rows: int, classes: int, reduction: str) -> None:
    shape = (rows, classes) if rows else (classes,)
    z = data.draw(values(shape, -10, 10))
    targets = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=max(rows, 1),
                                          max_size=max(rows, 1))))
    if not rows:
        targets = targets[0]
    check_against_differences(lambda t: cross_entropy(t, targets, reduction), z)


@given(data=st.data())
def test_mse(data: st.DataObject) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    p, t = data.draw(values(shape)), data.draw(values(shape))
    check_against_differences(mse, p, t)


@given(data=st.data())
def test_composite_mlp_layer(data: st.DataObject) -> None:
    """A whole layer with a loss: gradients of weights, bias and inputs together."""
    n, d, h = (data.draw(st.integers(1, 3)) for _ in range(3))
    x, w, b = data.draw(values((n, d))), data.draw(values((d, h))), data.draw(values((h,)))
    check_against_differences(lambda x, w, b: ((x @ w + b).tanh() ** 2).mean(axis=0), x, w, b)


def test_every_op_in_the_table_is_checked_here(request: pytest.FixtureRequest) -> None:
    """Runs last in this file: adding an op to the table without a gradient test fails."""
    selected = {item.originalname for item in request.session.items
                if getattr(item, "module", None) is sys.modules[__name__]}
    defined = {name for name in globals() if name.startswith("test_")}
    if defined - selected:
        pytest.skip("needs the whole module to have run")
    missing = set(TENSOR_OPS) - COVERED
    assert not missing, f"tensor ops without a finite-difference test: {sorted(missing)}"
