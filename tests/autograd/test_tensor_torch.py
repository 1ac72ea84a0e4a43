"""Tensor forward values and gradients against PyTorch float64 (skipped without torch)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd.tensor import Tensor, cross_entropy, linear, mse

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = {"rtol": 1e-10, "atol": 1e-12}

# name -> (ours, torch's, how to make valid inputs from normals)
UNARY: dict[str, tuple[Callable, Callable, Callable]] = {
    "exp": (lambda t: t.exp(), torch.exp, lambda a: a),
    "log": (lambda t: t.log(), torch.log, lambda a: np.abs(a) + 0.1),
    "sqrt": (lambda t: t.sqrt(), torch.sqrt, lambda a: np.abs(a) + 0.1),
    "tanh": (lambda t: t.tanh(), torch.tanh, lambda a: a),
    "sigmoid": (lambda t: t.sigmoid(), torch.sigmoid, lambda a: a * 20),
    "relu": (lambda t: t.relu(), torch.relu, lambda a: a),
    "leaky_relu": (lambda t: t.leaky_relu(0.1), lambda t: F.leaky_relu(t, 0.1), lambda a: a),
    # torch switches to the identity above 20 (threshold=20): compare below it
    "softplus": (lambda t: t.softplus(), F.softplus, lambda a: np.clip(a * 8, -40, 19)),
    "abs": (lambda t: t.abs(), torch.abs, lambda a: a),
    "neg": (lambda t: -t, torch.neg, lambda a: a),
    "sin": (lambda t: t.sin(), torch.sin, lambda a: a),
    "cos": (lambda t: t.cos(), torch.cos, lambda a: a),
    "pow3": (lambda t: t**3, lambda t: t**3, lambda a: a),
    "pow-0.5": (lambda t: t**-0.5, lambda t: t**-0.5, lambda a: np.abs(a) + 0.1),
    "sum_axis0": (lambda t: t.sum(axis=0), lambda t: t.sum(dim=0), lambda a: a),
    "mean_keep": (lambda t: t.mean(axis=1, keepdims=True), lambda t: t.mean(1, keepdim=True),
                  lambda a: a),
    "log_softmax": (lambda t: t.log_softmax(0), lambda t: F.log_softmax(t, 0), lambda a: a * 50),
    "softmax": (lambda t: t.softmax(), lambda t: F.softmax(t, -1), lambda a: a),
    "transpose": (lambda t: t.T, lambda t: t.T, lambda a: a),
    "reshape": (lambda t: t.reshape(-1), lambda t: t.reshape(-1), lambda a: a),
}


def compare(ours: Callable, theirs: Callable, *arrays: np.ndarray) -> None:
    tensors = [Tensor(a) for a in arrays]
    torches = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out, ref = ours(*tensors), theirs(*torches)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), **TOL)
    seed = np.random.default_rng(0).normal(size=out.shape)
    out.backward(seed)
    ref.backward(torch.tensor(seed))
    for t, r in zip(tensors, torches):
        np.testing.assert_allclose(t.grad, r.grad.numpy(), **TOL)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 4), cols=st.integers(1, 4))
def test_unary_matches_torch(name: str, seed: int, rows: int, cols: int) -> None:
    ours, theirs, domain = UNARY[name]
    a = domain(np.random.default_rng(seed).normal(size=(rows, cols)))
    compare(ours, theirs, a)


@pytest.mark.parametrize(("shape_a", "shape_b"), [
    ((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (2, 2)),
])
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_broadcasting_binary_matches_torch(shape_a: tuple, shape_b: tuple, op: str) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.5, 2.0, size=shape_a), rng.uniform(0.5, 2.0, size=shape_b)
    fn = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
          "/": lambda x, y: x / y, "**": lambda x, y: x**y}[op]
    compare(fn, fn, a, b)


@pytest.mark.parametrize(("shape_a", "shape_b"), [
    ((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
    ((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
])
def test_matmul_matches_torch(shape_a: tuple, shape_b: tuple) -> None:
    rng = np.random.default_rng(2)
    compare(lambda x, y: x @ y, lambda x, y: x @ y, rng.normal(size=shape_a),
            rng.normal(size=shape_b))


@pytest.mark.parametrize("x_shape", [(5,), (3, 5), (2, 3, 5)])
def test_linear_matches_torch(x_shape: tuple) -> None:
    rng = np.random.default_rng(6)
    compare(linear, F.linear, rng.normal(size=x_shape), rng.normal(size=(4, 5)),
            rng.normal(size=4))


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e6])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_matches_torch(scale: float, reduction: str) -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(size=(6, 5)) * scale
    y = rng.integers(0, 5, size=6)
    compare(lambda t: cross_entropy(t, y, reduction),
            lambda t: F.cross_entropy(t, torch.tensor(y), reduction=reduction), z)


def test_mse_matches_torch() -> None:
    rng = np.random.default_rng(4)
    compare(mse, F.mse_loss, rng.normal(size=(5, 3)), rng.normal(size=(5, 3)))


def test_mlp_step_matches_torch() -> None:
    """The NumPy MNIST tutorial's network shape, scaled down: ReLU MLP, cross-entropy, one
    backward."""
    rng = np.random.default_rng(5)
    sizes = [12, 8, 8, 10]
    weights = [rng.normal(size=(i, o)) * np.sqrt(2 / i) for i, o in itertools.pairwise(sizes)]
    biases = [rng.normal(size=o) * 0.1 for o in sizes[1:]]
    x, y = rng.uniform(size=(16, 12)), rng.integers(0, 10, size=16)

    def forward(xt, params, relu, ce):  # works for both libraries
        h = xt
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i < len(params) - 2:
                h = relu(h)
        return ce(h)

    ours = [Tensor(p) for pair in zip(weights, biases) for p in pair]
    theirs = [torch.tensor(p, requires_grad=True) for pair in zip(weights, biases) for p in pair]
    loss = forward(Tensor(x, requires_grad=False), ours, lambda h: h.relu(),
                   lambda h: cross_entropy(h, y))
    ref = forward(torch.tensor(x), theirs, torch.relu,
                  lambda h: F.cross_entropy(h, torch.tensor(y)))
    loss.backward()
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), **TOL)
    for t, r in zip(ours, theirs):
        np.testing.assert_allclose(t.grad, r.grad.numpy(), **TOL)
