"""Training the tensor engine: what fit's fast path reads once, and still refuses."""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N806

from __future__ import annotations

import numpy as np
import pytest

from autograd.state import all_finite
from mlp import MLP, evaluate, fit
from mlp.losses import LOSSES


def _blobs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    return centers[y] + rng.normal(0.0, 0.4, size=(n, 2)), y


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_batch_loss_is_the_loss_of_forward_batch(dtype: str, loss: str) -> None:
    X, y = _blobs(12)  # float64 numbers for a float32 model too: converted, not refused
    model = MLP(2, [5, 3], seed=0, engine="tensor", dtype=dtype, output="softmax")
    loss_fn = LOSSES[loss]
    total, scores = model.batch_loss(loss_fn, X, y)
    outputs = model.forward_batch(X, logits=loss_fn.reads_logits)
    reference = loss_fn(outputs, y)
    assert total.dtype == reference.dtype == np.dtype(dtype)
    assert total.item() == reference.item()
    np.testing.assert_array_equal(scores, outputs.data)
    model.zero_grad()
    total.backward()
    fast = model.get_gradients()
    model.zero_grad()
    reference.backward()
    for (dw, db), (rw, rb) in zip(fast, model.get_gradients()):
        np.testing.assert_array_equal(dw, rw)
        np.testing.assert_array_equal(db, rb)


def test_batch_loss_names_the_batch_it_needs() -> None:
    model = MLP(2, [3], seed=0, engine="tensor")
    with pytest.raises(ValueError, match=r"checked array of shape \(n, 2\), got list"):
        model.batch_loss(LOSSES["cross_entropy"], [[0.0, 1.0]], np.array([0]))
    with pytest.raises(ValueError, match=r"checked array of shape \(n, 2\), got shape \(4, 3\)"):
        model.batch_loss(LOSSES["cross_entropy"], np.zeros((4, 3)), np.zeros(4, dtype=int))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fit_and_evaluate_on_tensors_still_refuse_what_is_not_finite(bad: float) -> None:
    X, y = _blobs(12)
    spoiled = X.copy()
    spoiled[7, 1] = bad
    model = MLP(2, [4, 3], seed=0, engine="tensor")
    before = model.get_weights()
    with pytest.raises(ValueError, match="NaN or infinity"):
        fit(model, spoiled, y, epochs=1, progress=False)
    with pytest.raises(ValueError, match="NaN or infinity"):
        fit(model, X, y, validation_data=(spoiled, y), epochs=1, progress=False)
    with pytest.raises(ValueError, match="NaN or infinity"):
        evaluate(model, spoiled, y)
    assert all(np.array_equal(a, b) for pair, twin in zip(before, model.get_weights())
               for a, b in zip(pair, twin))  # refused before any step


def test_large_finite_numbers_whose_sum_overflows_count_as_finite() -> None:
    huge = np.full((6, 4), np.finfo(np.float32).max, dtype=np.float32)
    with np.errstate(over="ignore"):
        assert np.isinf(np.add.reduce(huge, axis=None))  # the sum alone cannot tell
    assert all_finite(huge)
    for bad in (np.inf, -np.inf, np.nan):
        spoiled = huge.copy()
        spoiled[3, 1] = bad
        assert not all_finite(spoiled)
        assert not all_finite(spoiled.astype(np.float64))
    both = np.zeros((3, 3))
    both[0, 0], both[1, 1] = np.inf, -np.inf  # their sum is NaN
    assert not all_finite(both) and all_finite(np.zeros((3, 3)))
    X, y = _blobs(12)
    X[0, 0], X[1, 1] = np.inf, -np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        fit(MLP(2, [3], seed=0, engine="tensor"), X, y, epochs=1, progress=False)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_validation_checked_once_measures_what_evaluate_measures(engine: str) -> None:
    X, y = _blobs(30)
    X_val, y_val = _blobs(9, seed=1)
    model = MLP(2, [4, 3], seed=0, engine=engine)
    history = fit(model, X, y, validation_data=(X_val.astype(np.float32), y_val),
                  optimizer="sgd", epochs=2, batch_size=8, seed=0, progress=False)
    assert (history.val_loss[-1], history.val_accuracy[-1]) == evaluate(
        model, X_val.astype(np.float32), y_val)
    split = fit(model, X, y, validation_split=0.3, optimizer="sgd", epochs=1, batch_size=8,
                seed=0, progress=False)
    assert len(split.val_loss) == 1 and split.val_accuracy[0] is not None


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_trains_the_same_weights_as_with_cross_entropy_in_two_passes(
        dtype: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """cross_entropy computes its loss and gradient in one pass when recording; with the
    plain forward-then-locals path instead, fit's losses and weights are the same bits."""
    import dataclasses

    from autograd.tensor_ops import TENSOR_OPS

    X, y = _blobs(40)

    def trained() -> tuple[list[float], list[bytes]]:
        model = MLP(2, [6, 3], seed=1, engine="tensor", dtype=dtype, activation="relu")
        history = fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=3,
                      batch_size=8, seed=0, progress=False)
        return history.loss, [p.data.tobytes() for p in model.parameters()]

    one_pass = trained()
    op = TENSOR_OPS["cross_entropy"]
    assert op.forward_with_grads is not None
    monkeypatch.setitem(TENSOR_OPS, "cross_entropy",
                        dataclasses.replace(op, forward_with_grads=None))
    assert trained() == one_pass
