"""The four equations (`mlp.four_equations`): NumPy's BP1..BP4 against the engines' backward()."""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N806

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import no_grad
from demos import four_equations as demo
from mlp import HIDDEN_ACTIVATIONS, MLP, FourEquations, four_equations
from mlp.losses import Loss, hinge

TOLERANCE = 1e-10

#: (output activation, loss, how many outputs) pairs the view explains
HEADS = [
    ("sigmoid", "mse", 2), ("linear", "mse", 2), ("softmax", "mse", 3),
    ("softmax", "cross_entropy", 3), ("linear", "cross_entropy", 2),
    ("linear", "binary_cross_entropy", 1), ("linear", "hinge", 1), ("sigmoid", "mse", 1),
]


def _targets(loss: str, k: int, n: int, rng: np.random.Generator, regression: bool) -> np.ndarray:
    if loss == "mse" and regression:
        return rng.uniform(-1.0, 1.0, size=(n, k)) if k > 1 else rng.uniform(-1.0, 1.0, n)
    return rng.integers(0, max(k, 2), size=n)


@st.composite
def networks(draw: st.DrawFn) -> tuple[MLP, np.ndarray, np.ndarray, str]:
    nin = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2))
    output, loss, k = draw(st.sampled_from(HEADS))
    model = MLP(nin, [*hidden, k], activation=draw(st.sampled_from(HIDDEN_ACTIVATIONS)),
                output=output, seed=draw(st.integers(0, 2**16)),
                engine=draw(st.sampled_from(["value", "tensor"])),
                fused=draw(st.booleans()), init="uniform")
    n = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    # biases away from 0 too, so every layer's z is a general point
    model.set_weights([(W, rng.uniform(-1.0, 1.0, b.shape)) for W, b in model.get_weights()])
    X = rng.uniform(-2.0, 2.0, size=(n, nin))
    y = _targets(loss, k, n, rng, draw(st.booleans()))
    return model, X, y, loss


@given(networks())
def test_equations_match_backward_on_random_networks(case: tuple) -> None:
    model, X, y, loss = case
    result = four_equations(model, X, y, loss)
    assert result.max_error <= TOLERANCE, result.report()
    assert result.forward_error <= TOLERANCE
    assert len(result.layers) == len(model.layers)
    for layer, (W, b) in zip(result.layers, model.get_weights()):
        np.testing.assert_array_equal(layer.W, W)
        assert layer.delta.shape == layer.engine_z_grad.shape == (len(X), W.shape[0])
        assert layer.grad_W.shape == W.shape and layer.grad_b.shape == b.shape
    # an output error reaches the engine's last z nodes (nothing compared as 0 == 0)
    last = result.layers[-1]
    assert np.any(last.engine_z_grad != 0.0) or np.all(last.delta == 0.0)


@given(networks())
def test_both_engines_give_the_same_equations(case: tuple) -> None:
    model, X, y, loss = case
    other = model.to_engine("tensor" if model.engine == "value" else "value")
    first, second = four_equations(model, X, y, loss), four_equations(other, X, y, loss)
    assert {first.engine, second.engine} == {"value", "tensor"}
    for a, b in zip(first.layers, second.layers):
        np.testing.assert_allclose(a.delta, b.delta, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(a.grad_W, b.grad_W, rtol=1e-12, atol=1e-14)


def test_one_sigmoid_neuron_by_hand() -> None:
    """The numbers of BP1, BP3 and BP4 for z = w x + b, a = sigmoid(z), C = (a - y)**2."""
    model = MLP(1, [1], output="sigmoid")
    model.set_weights([(np.array([[0.8]]), np.array([-0.3]))])
    x, y = 1.5, 1.0
    z = 0.8 * x - 0.3
    a = 1.0 / (1.0 + math.exp(-z))
    delta = 2.0 * (a - y) * a * (1.0 - a)  # ∇ₐC ⊙ σ′(z), k = 1
    result = four_equations(model, [x], y, "mse")
    (layer,) = result.layers
    assert layer.z[0, 0] == pytest.approx(z, rel=1e-15)
    assert result.cost == pytest.approx((a - y) ** 2, rel=1e-14)
    assert layer.delta[0, 0] == pytest.approx(delta, rel=1e-14)
    assert layer.grad_b[0] == pytest.approx(delta, rel=1e-14)
    assert layer.grad_W[0, 0] == pytest.approx(delta * x, rel=1e-14)


def test_bp2_by_hand_on_a_tanh_chain() -> None:
    """x -> tanh(w1 x) -> w2 a1 (linear) with mse: δ¹ = w2 δ² (1 - tanh²)."""
    model = MLP(1, [1, 1], activation="tanh")
    model.set_weights([(np.array([[0.7]]), np.array([0.0])),
                       (np.array([[-1.2]]), np.array([0.1]))])
    x, y = 0.9, 0.25
    a1 = math.tanh(0.7 * x)
    out = -1.2 * a1 + 0.1
    delta2 = 2.0 * (out - y)
    delta1 = -1.2 * delta2 * (1.0 - a1 * a1)
    first, second = four_equations(model, [x], y, "mse").layers
    assert second.delta[0, 0] == pytest.approx(delta2, rel=1e-14)
    assert first.carried[0, 0] == pytest.approx(-1.2 * delta2, rel=1e-14)
    assert first.delta[0, 0] == pytest.approx(delta1, rel=1e-13)
    assert first.grad_W[0, 0] == pytest.approx(delta1 * x, rel=1e-13)


def test_softmax_cross_entropy_error_is_a_minus_y() -> None:
    model = MLP(3, [4, 3], activation="relu", output="softmax", seed=3)
    result = four_equations(model, [0.2, -0.4, 1.0], 2, "cross_entropy")
    last = result.layers[-1]
    np.testing.assert_allclose(last.delta[0], last.a[0] - [0.0, 0.0, 1.0], atol=1e-15)
    assert last.a[0].sum() == pytest.approx(1.0)
    assert last.sigma_prime is None and result.grad_a is None


def test_a_batch_averages_the_per_sample_gradients() -> None:
    """C = (1/n) Σ_x C_x: BP3 and BP4 of a batch are the means of one-sample results."""
    model = MLP(2, [3, 2], activation="sigmoid", output="sigmoid", seed=1)
    X = np.array([[0.5, -1.0], [1.5, 0.3], [-0.7, 0.2]])
    y = [1, 0, 1]
    batch = four_equations(model, X, y, "mse")
    singles = [four_equations(model, x, t, "mse") for x, t in zip(X, y)]
    for index, layer in enumerate(batch.layers):
        rows = [s.layers[index] for s in singles]
        np.testing.assert_allclose(layer.delta, np.vstack([r.delta for r in rows]), atol=1e-15)
        np.testing.assert_allclose(layer.grad_W, np.mean([r.grad_W for r in rows], axis=0),
                                   atol=1e-15)
        np.testing.assert_allclose(layer.grad_b, np.mean([r.grad_b for r in rows], axis=0),
                                   atol=1e-15)
        # the engine's z nodes hold ∂C/∂z = δ/n for the batch's mean cost
        np.testing.assert_allclose(layer.engine_z_grad, layer.delta / 3, atol=1e-15)
    assert batch.cost == pytest.approx(np.mean([s.cost for s in singles]), rel=1e-14)


@pytest.mark.parametrize(("activation", "output", "loss"), [
    ("sigmoid", "sigmoid", "mse"), ("relu", "softmax", "cross_entropy"), ("tanh", "linear", "mse"),
])
def test_equations_match_pytorch(activation: str, output: str, loss: str) -> None:
    """An oracle outside the library: PyTorch's autograd on the same weights (float64)."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(7)
    X, labels = rng.normal(size=(5, 3)), rng.integers(0, 3, size=5)
    model = MLP(3, [4, 3], activation=activation, output=output, seed=2)
    result = four_equations(model, X, labels, loss)
    network = model.to_torch(torch.float64)
    inputs, targets = torch.tensor(X), torch.tensor(labels)
    if loss == "cross_entropy":  # cross-entropy reads the logits: leave out the Softmax
        cost = functional.cross_entropy(network[:-1](inputs), targets)
    else:
        cost = functional.mse_loss(network(inputs),
                                   functional.one_hot(targets, 3).to(torch.float64))
    cost.backward()
    linears = [m for m in network if isinstance(m, torch.nn.Linear)]
    assert result.cost == pytest.approx(cost.item(), rel=1e-12)
    for layer, linear in zip(result.layers, linears, strict=True):
        np.testing.assert_allclose(layer.grad_W, linear.weight.grad.numpy(), rtol=1e-10,
                                   atol=1e-13)
        np.testing.assert_allclose(layer.grad_b, linear.bias.grad.numpy(), rtol=1e-10,
                                   atol=1e-13)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_the_models_gradients_are_left_as_they_were(engine: str) -> None:
    model = MLP(2, [3, 2], activation="tanh", output="softmax", seed=0, engine=engine)
    model.forward_batch(np.array([[1.0, 2.0]]), logits=True)
    for p in model.parameters():
        p.grad = np.full(p.data.shape, 7.0) if engine == "tensor" else 7.0
    with no_grad():  # the view records its own graph even so
        result = four_equations(model, [0.3, 0.1], 0, "cross_entropy")
    assert result.max_error <= TOLERANCE
    for p in model.parameters():
        assert np.all(np.asarray(p.grad) == 7.0)


def test_the_report_shows_every_equation_with_its_numbers() -> None:
    model = MLP(2, [3, 2], activation="sigmoid", output="sigmoid", seed=0)
    result = four_equations(model, [0.5, -1.0], 1, "mse")
    text = str(result)
    for line in ("BP1  ∇ₐC = (2/k)(a² − y)", "δ² = ∇ₐC ⊙ σ′(z²)", "BP2  (W²)ᵀ δ²",
                 "δ¹ = ((W²)ᵀ δ²) ⊙ σ′(z¹)", "BP3  ∂C/∂b¹ = δ¹", "BP4  ∂C/∂W¹ = δ¹ (a⁰)ᵀ",
                 "z¹ = W¹a⁰ + b¹", "a² = sigmoid(z²)"):
        assert line in text, line
    shown = re.search(r"δ² = ∇ₐC ⊙ σ′\(z²\)\s+\[([^\]]+)\]", text)
    assert shown is not None
    np.testing.assert_allclose([float(v) for v in shown.group(1).split()],
                               result.layers[1].delta[0], atol=5e-5)
    assert text.splitlines()[-1] == f"max |equations - backward()| = {result.max_error:.3g}"
    assert len(repr(result)) < 200 and "max |equations - backward()|" in repr(result)


def test_a_batch_report_shows_the_first_samples_and_the_convention() -> None:
    model = MLP(2, [2], output="softmax", seed=0, engine="tensor")
    X = np.arange(10.0).reshape(5, 2) / 10
    text = four_equations(model, X, [0, 1, 0, 1, 1], "cross_entropy").report(max_samples=2)
    assert "C = (1/n) Σ_x C_x with n = 5" in text
    assert "... (3 more samples)" in text
    assert "BP4  ∂C/∂W¹ = (1/n) Σ_x δ¹ (a⁰)ᵀ" in text
    assert "L0.z.grad (= δ¹/n)" in text


def test_demo_ends_with_the_largest_difference(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["--engine", "tensor", "--batch", "4"]):
        assert demo.main(argv) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        match = re.fullmatch(r"max \|equations - backward\(\)\| = (\S+)", lines[-1])
        assert match is not None, lines[-1]
        assert float(match.group(1)) <= TOLERANCE
        assert any("MLP(2 -> 3 -> 3 -> 2, activation=sigmoid, output=sigmoid" in line
                   for line in lines)


@pytest.mark.parametrize(("x", "y", "message"), [
    ([0.5, -1.0, 2.0], 1, "x has 3 numbers but the model takes 2 inputs"),
    (np.zeros((4, 3)), [0, 1, 0, 1], r"batch of shape \(n, 2\), got shape \(4, 3\)"),
    (np.zeros((2, 2, 2)), [0, 1], r"got shape \(2, 2, 2\)"),
    (np.zeros((3, 2)), [0, 1], "x has 3 samples but y has 2 targets"),
    (np.zeros((3, 2)), 1, "a batch of 3 samples needs 3 targets"),
    ([0.5, -1.0], 5, "labels must be in 0..1"),
    ([0.5, np.nan], 1, "NaN"),
    ([0.5, -1.0], [[0.1, 0.2, 0.3]], r"numbers of shape \(1, 2\)"),
])
def test_bad_input_is_named(x: object, y: object, message: str) -> None:
    model = MLP(2, [3, 2], activation="sigmoid", output="sigmoid", seed=0)
    with pytest.raises(ValueError, match=message):
        four_equations(model, x, y, "mse")


def test_bad_model_or_loss_is_named() -> None:
    model = MLP(2, [3, 2], seed=0)
    with pytest.raises(TypeError, match="needs an MLP"):
        four_equations(model.layers[0], [0.0, 0.0], 1, "mse")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        four_equations(model, [0.0, 0.0], 1, "l1")
    with pytest.raises(ValueError, match="writes out BP1 for the losses"):
        four_equations(model, [0.0, 0.0], 1, Loss("my_hinge", hinge, True, "one"))
    with pytest.raises(ValueError, match="needs a model with 1 output"):
        four_equations(model, [0.0, 0.0], 1, "binary_cross_entropy")


def test_result_type_is_exported() -> None:
    model = MLP(1, [1])
    assert isinstance(four_equations(model, [1.0], 0.5, "mse"), FourEquations)
