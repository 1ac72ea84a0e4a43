"""Losses: values against math written independently, gradients against central differences."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, gradcheck
from mlp import MLP
from mlp.losses import (
    LOSSES,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    get_loss,
    hinge,
    l2_penalty,
    mean,
    mse,
)

logits = st.lists(st.floats(-30, 30, allow_nan=False), min_size=2, max_size=5)


@given(logits, st.data())
def test_cross_entropy_is_minus_log_softmax(zs: list[float], data: st.DataObject) -> None:
    target = data.draw(st.integers(0, len(zs) - 1))
    m = max(zs)
    reference = -(zs[target] - m - math.log(math.fsum(math.exp(z - m) for z in zs)))
    assert cross_entropy([Value(z) for z in zs], target).data == pytest.approx(
        reference, rel=1e-9, abs=1e-12)
    gradcheck(lambda *v: cross_entropy(list(v), target), zs, atol=1e-6)


@given(st.floats(-40, 40, allow_nan=False), st.integers(0, 1))
def test_bce_with_logits_is_stable_and_right(z: float, y: int) -> None:
    p = 1 / (1 + math.exp(-z))
    loss = binary_cross_entropy_with_logits(Value(z), y).data
    assert math.isfinite(loss)
    # -log(sigmoid(z)) = log1p(exp(-z)); -log(1 - sigmoid(z)) = log1p(exp(z))
    reference = math.log1p(math.exp(-z)) if y == 1 else math.log1p(math.exp(z))
    assert loss == pytest.approx(reference, rel=1e-9, abs=1e-12)
    v = Value(z)
    binary_cross_entropy_with_logits([v], y).backward()
    assert v.grad == pytest.approx(p - y, rel=1e-9, abs=1e-12)


def test_bce_with_logits_does_not_overflow_far_out() -> None:
    assert binary_cross_entropy_with_logits(Value(1000.0), 0).data == pytest.approx(1000.0)
    assert binary_cross_entropy_with_logits(Value(-1000.0), 1).data == pytest.approx(1000.0)
    assert binary_cross_entropy_with_logits(Value(1000.0), 1).data == 0.0


@given(st.floats(0.01, 0.99), st.integers(0, 1))
def test_bce_on_probabilities(p: float, y: int) -> None:
    reference = -(y * math.log(p) + (1 - y) * math.log(1 - p))
    assert binary_cross_entropy(Value(p), y).data == pytest.approx(reference, rel=1e-12)
    gradcheck(lambda v: binary_cross_entropy(v, y), [p], atol=1e-6)


def test_mse_with_class_index_is_one_hot() -> None:
    outs = [Value(0.2), Value(0.7), Value(0.1)]
    expected = ((0.2 - 0) ** 2 + (0.7 - 1) ** 2 + (0.1 - 0) ** 2) / 3
    assert mse(outs, 1).data == pytest.approx(expected, rel=1e-12)
    assert mse(outs, [0.0, 1.0, 0.0]).data == pytest.approx(expected, rel=1e-12)
    assert mse(Value(0.25), 1.0).data == pytest.approx(0.5625)
    with pytest.raises(ValueError, match="out of range"):
        mse(outs, 3)
    with pytest.raises(TypeError):
        mse(outs, True)
    gradcheck(lambda *v: mse(list(v), 2), [0.2, 0.7, 0.1], atol=1e-6)


@pytest.mark.parametrize(("score", "target", "expected"), [
    (0.3, 1, 0.7), (0.3, -1, 1.3), (0.3, 0, 1.3), (2.0, 1, 0.0), (-2.0, 0, 0.0),
    (-0.5, 1, 1.5),
])
def test_hinge(score: float, target: int, expected: float) -> None:
    assert hinge(Value(score), target).data == pytest.approx(expected)
    v = Value(score)
    hinge(v, target).backward()
    t = 1 if target == 1 else -1
    assert v.grad == (-t if 1 - t * score > 0 else 0.0)


def test_binary_losses_reject_bad_targets_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"target must be one of \(0, 1\)"):
        binary_cross_entropy_with_logits(Value(0.0), 2)
    with pytest.raises(ValueError, match=r"target must be one of \(-1, 0, 1\)"):
        hinge(Value(0.0), 5)
    with pytest.raises(ValueError, match="one output per sample"):
        hinge([Value(0.0), Value(1.0)], 1)
    with pytest.raises(ValueError, match="target must be"):
        binary_cross_entropy(Value(0.5), True)  # type: ignore[arg-type]


def test_l2_penalty_value_and_gradient() -> None:
    params = [Value(1.0), Value(-2.0), Value(0.5)]
    penalty = l2_penalty(params, 0.1)
    assert penalty.data == pytest.approx(0.05 * (1 + 4 + 0.25))
    penalty.backward()
    assert [p.grad for p in params] == pytest.approx([0.1, -0.2, 0.05])
    with pytest.raises(ValueError, match=">= 0"):
        l2_penalty(params, -1.0)
    with pytest.raises(ValueError, match="no parameters"):
        l2_penalty([], 0.1)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_l2_penalty_of_a_model_says_to_pass_its_parameters(engine: str) -> None:
    model = MLP(2, [3, 1], seed=0, engine=engine)
    for wrong in (model, model.layers[0], model.parameters()[0], 0.5):
        with pytest.raises(TypeError, match=r"pass model\.parameters\(\)"):
            l2_penalty(wrong, 0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"parameter 0 is a \w+Layer.*model\.weights"):
        l2_penalty(list(model), 0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="parameter 1 is a float"):
        l2_penalty([model.parameters()[0], 2.0], 0.1)  # type: ignore[list-item]
    expected = 0.05 * sum(float((w * w).sum()) for w, _ in model.get_weights())
    assert float(l2_penalty(model.weights(), 0.1).data) == pytest.approx(expected, rel=1e-12)


def test_loss_objects_are_documented_callables() -> None:
    assert LOSSES["mse"].__call__.__doc__
    assert LOSSES["hinge"](Value(0.5), 1).data == 0.5


def test_mean_and_registry() -> None:
    losses = [Value(1.0), Value(2.0), Value(6.0)]
    assert mean(losses).data == 3.0
    assert mean(losses[:1]) is losses[0]
    with pytest.raises(ValueError, match="empty batch"):
        mean([])
    assert get_loss("hinge") is LOSSES["hinge"]
    assert get_loss(LOSSES["mse"]) is LOSSES["mse"]
    with pytest.raises(ValueError, match="choose one of"):
        get_loss("nll")
