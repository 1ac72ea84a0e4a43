"""The same network with the same weights on `Value`s and on `Tensor`s: same loss, same
gradients (to 1e-12).  Two engines, two op tables, one answer."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import Tensor, Value
from autograd.tensor import cross_entropy, linear, mse

TOL = {"rtol": 1e-12, "atol": 1e-12}
ScalarLayers = list[tuple[list[list[Value]], list[Value]]]


def random_network(rng: np.random.Generator, sizes: list[int]) -> list[tuple[np.ndarray, ...]]:
    """(W, b) per layer, W of shape (fan_out, fan_in) as a row of weights per neuron."""
    return [(rng.normal(size=(n_out, n_in)), rng.normal(size=n_out))
            for n_in, n_out in itertools.pairwise(sizes)]


def scalar_forward(layers: ScalarLayers, x: list[Value],
                   activation: str) -> list[Value]:
    h = x
    for depth, (w_rows, b) in enumerate(layers):
        z = [ag.linear(w_row, h, b_j) for w_row, b_j in zip(w_rows, b)]
        h = z if depth == len(layers) - 1 else [getattr(v, activation)() for v in z]
    return h


def to_values(layers: list[tuple[np.ndarray, ...]]) -> ScalarLayers:
    return [([[Value(float(w)) for w in row] for row in weights], [Value(float(v)) for v in b])
            for weights, b in layers]


def to_tensors(layers: list[tuple[np.ndarray, ...]]) -> list[tuple[Tensor, Tensor]]:
    return [(Tensor(w, f"W{i}"), Tensor(b, f"b{i}")) for i, (w, b) in enumerate(layers)]


def tensor_forward(layers: list[tuple[Tensor, Tensor]], x: Tensor, activation: str,
                   fused: bool = False) -> Tensor:
    h = x
    for depth, (weights, b) in enumerate(layers):
        z = linear(h, weights, b) if fused else h @ weights.T + b
        h = z if depth == len(layers) - 1 else getattr(z, activation)()
    return h


def value_grads(layers: ScalarLayers) -> list[tuple[np.ndarray, ...]]:
    return [(np.array([[w.grad for w in row] for row in weights]), np.array([v.grad for v in b]))
            for weights, b in layers]


sizes_strategy = st.lists(st.integers(1, 5), min_size=2, max_size=4)


@given(seed=st.integers(0, 2**32 - 1), sizes=sizes_strategy, n_classes=st.integers(2, 4),
       batch=st.integers(1, 5), activation=st.sampled_from(["relu", "tanh", "sigmoid"]),
       fused=st.booleans())
def test_classifier_loss_and_gradients_agree(seed: int, sizes: list[int], n_classes: int,
                                             batch: int, activation: str, fused: bool) -> None:
    """Value's fused `linear` neurons against Tensor's ``x @ W.T + b`` or its `linear`."""
    rng = np.random.default_rng(seed)
    sizes = [*sizes, n_classes]
    params = random_network(rng, sizes)
    x_data = rng.normal(size=(batch, sizes[0]))
    y = rng.integers(0, n_classes, size=batch)

    scalar_layers = to_values(params)
    per_sample = [
        ag.cross_entropy(scalar_forward(scalar_layers, [Value(float(v)) for v in row],
                                        activation), int(target))
        for row, target in zip(x_data, y)
    ]
    scalar_loss = ag.sum(per_sample) / batch
    scalar_loss.backward()

    tensor_layers = to_tensors(params)
    x = Tensor(x_data, "x", requires_grad=False)
    tensor_loss = cross_entropy(tensor_forward(tensor_layers, x, activation, fused), y)
    tensor_loss.backward()

    np.testing.assert_allclose(tensor_loss.item(), scalar_loss.data, **TOL)
    for (w, b), (grad_w, grad_b) in zip(tensor_layers, value_grads(scalar_layers)):
        np.testing.assert_allclose(w.grad, grad_w, **TOL, err_msg=w.label)
        np.testing.assert_allclose(b.grad, grad_b, **TOL, err_msg=b.label)


@given(seed=st.integers(0, 2**32 - 1), sizes=sizes_strategy, batch=st.integers(1, 4))
def test_sigmoid_mse_network_agrees_including_input_gradients(seed: int, sizes: list[int],
                                                              batch: int) -> None:
    """The four-equations tutorial's setting: sigmoid everywhere, mean squared error; inputs
    get gradients too."""
    rng = np.random.default_rng(seed)
    params = random_network(rng, sizes)
    x_data, targets = rng.normal(size=(batch, sizes[0])), rng.uniform(size=(batch, sizes[-1]))

    scalar_layers = to_values(params)
    xs = [[Value(float(v)) for v in row] for row in x_data]
    outputs = [[o.sigmoid() for o in scalar_forward(scalar_layers, row, "sigmoid")] for row in xs]
    scalar_loss = ag.mse([o for row in outputs for o in row], [float(t) for t in targets.ravel()])
    scalar_loss.backward()

    tensor_layers = to_tensors(params)
    x = Tensor(x_data, "x")
    tensor_loss = mse(tensor_forward(tensor_layers, x, "sigmoid").sigmoid(), targets)
    tensor_loss.backward()

    np.testing.assert_allclose(tensor_loss.item(), scalar_loss.data, **TOL)
    np.testing.assert_allclose(x.grad, [[v.grad for v in row] for row in xs], **TOL)
    for (w, b), (grad_w, grad_b) in zip(tensor_layers, value_grads(scalar_layers)):
        np.testing.assert_allclose(w.grad, grad_w, **TOL)
        np.testing.assert_allclose(b.grad, grad_b, **TOL)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6))
def test_elementwise_functions_agree_with_value(seed: int, n: int) -> None:
    """Each unary function on a vector equals the Value function on each element."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n) * 3
    positive = np.abs(a) + 0.1
    for name in ["exp", "tanh", "sigmoid", "relu", "softplus", "sin", "cos", "abs",
                 "log", "sqrt"]:
        data = positive if name in ("log", "sqrt") else a
        t = Tensor(data)
        getattr(t, name)().sum().backward()
        vs = [Value(float(v)) for v in data]
        outs = [getattr(v, name)() for v in vs]
        ag.sum(outs).backward()
        np.testing.assert_allclose(getattr(Tensor(data), name)().data, [o.data for o in outs],
                                   **TOL, err_msg=name)
        np.testing.assert_allclose(t.grad, [v.grad for v in vs], **TOL, err_msg=name)


def test_cross_entropy_with_large_logits_agrees_with_value() -> None:
    z = np.array([[1000.0, -1000.0, 999.0], [-5e4, 5e4, 0.0]])
    y = np.array([2, 0])
    t = Tensor(z)
    loss = cross_entropy(t, y)
    loss.backward()
    vs = [[Value(float(v)) for v in row] for row in z]
    scalar = ag.sum([ag.cross_entropy(row, int(c)) for row, c in zip(vs, y)]) / 2
    scalar.backward()
    assert np.isfinite(loss.item())
    np.testing.assert_allclose(loss.item(), scalar.data, **TOL)
    np.testing.assert_allclose(t.grad, [[v.grad for v in row] for row in vs], **TOL)
