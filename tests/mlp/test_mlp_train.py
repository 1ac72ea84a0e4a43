"""fit and evaluate: what the loop records, validation, early stopping, schedules, errors."""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N806

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mlp import (
    MLP,
    SGD,
    History,
    StepLR,
    TrainingDivergedError,
    evaluate,
    fit,
    make_moons,
    make_xor,
)
from mlp.losses import LOSSES, Loss


def _blobs(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    return centers[y] + rng.normal(0.0, 0.4, size=(n, 2)), y


def test_fit_learns_and_records_history() -> None:
    X, y = _blobs()
    model = MLP(2, [8, 3], output="softmax", seed=0)
    history = fit(model, X, y, epochs=15, batch_size=10, seed=0, progress=False)
    assert history.epochs == 15 and len(history.accuracy) == len(history.lr) == 15
    assert history.loss[-1] < history.loss[0] / 3
    assert history.accuracy[-1] >= 0.95
    assert history.val_loss == [] and history.best_epoch is None
    loss, acc = evaluate(model, X, y)
    assert acc == pytest.approx(np.mean(model.predict(X) == y))
    assert loss < history.loss[0]
    assert history.as_dict()["loss"] == history.loss


def test_same_seed_same_training() -> None:
    X, y = _blobs()
    runs = []
    for _ in range(2):
        model = MLP(2, [6, 3], seed=3)
        fit(model, X, y, epochs=3, batch_size=7, seed=11, progress=False)
        runs.append([p.data for p in model.parameters()])
    assert runs[0] == runs[1]
    other = MLP(2, [6, 3], seed=3)
    fit(other, X, y, epochs=3, batch_size=7, seed=12, progress=False)
    assert [p.data for p in other.parameters()] != runs[0]


def test_full_batch_step_is_plain_gradient_descent() -> None:
    """One epoch, full batch, SGD: exactly one step of w -= lr * dL/dw on the mean loss."""
    X, y = _blobs(12)
    model = MLP(2, [4, 3], seed=0)
    twin = MLP(2, [4, 3], seed=0)
    fit(model, X, y, optimizer="sgd", lr=0.5, epochs=1, shuffle=False, progress=False)
    outs = twin.forward_batch(X, logits=True)
    from mlp.losses import cross_entropy, mean

    mean([cross_entropy(o, t) for o, t in zip(outs, y.tolist())]).backward()
    expected = [p.data - 0.5 * p.grad for p in twin.parameters()]
    assert [p.data for p in model.parameters()] == pytest.approx(expected, rel=1e-12)


def test_validation_split_and_early_stopping_restore_the_best() -> None:
    X, y = _blobs(90)
    model = MLP(2, [16, 3], seed=0)
    seen: list[int] = []
    history = fit(model, X, y, epochs=300, lr=0.05, validation_split=0.3, early_stopping=3,
                  min_delta=1e-3, seed=0, progress=False,
                  on_epoch_end=lambda e, h: seen.append(e))
    assert history.stopped_early and history.epochs < 300
    assert seen == list(range(history.epochs))
    assert len(history.val_loss) == history.epochs
    best = history.best_epoch
    assert best is not None and history.epochs == best + 1 + 3
    assert history.val_loss[best] == min(history.val_loss[: best + 1])
    assert all(v > history.val_loss[best] - 1e-3 for v in history.val_loss[best + 1:])
    # the restored weights are the best epoch's: re-measuring the same split gives its loss
    from mlp import train_test_split

    _, X_val, _, y_val = train_test_split(X, y, 0.3, seed=0)
    assert evaluate(model, X_val, y_val)[0] == pytest.approx(history.val_loss[best], rel=1e-12)


def test_validation_data_and_schedule() -> None:
    X, y = _blobs(60)
    Xv, yv = _blobs(30, seed=1)
    model = MLP(2, [8, 3], seed=0)
    optimizer = SGD(model.parameters(), lr=0.2, momentum=0.9)
    history = fit(model, X, y, optimizer=optimizer, epochs=6, validation_data=(Xv, yv),
                  schedule=lambda opt: StepLR(opt, step_size=2, gamma=0.5), progress=False)
    assert history.lr == [0.2, 0.2, 0.1, 0.1, 0.05, 0.05]
    assert len(history.val_accuracy) == 6 and history.val_accuracy[-1] > 0.9


def test_binary_losses_and_mse_targets() -> None:
    X, y = make_moons(80, noise=0.1, seed=0)
    for loss, output in [("binary_cross_entropy", "linear"), ("hinge", "linear"),
                         ("mse", "sigmoid")]:
        model = MLP(2, [16, 16, 1], output=output, seed=0)
        history = fit(model, X, y, loss=loss, epochs=30, batch_size=16, seed=0, progress=False)
        assert history.accuracy[-1] > 0.85, loss
        assert np.mean(model.predict(X) == y) > 0.85, loss
    # hinge also takes -1/+1 labels
    model = MLP(2, [8, 1], seed=0)
    fit(model, X, 2 * y - 1, loss="hinge", epochs=2, progress=False)
    # mse with real-valued targets is regression: no accuracy
    model = MLP(2, [8, 2], seed=0)
    history = fit(model, X, X[:, ::-1] * 0.5, loss="mse", epochs=3, progress=False)
    assert history.accuracy == [None] * 3
    assert history.loss[-1] < history.loss[0]


def test_xor_needs_the_hidden_layer() -> None:
    X, y = make_xor(120, noise=0.0, seed=0)
    deep = MLP(2, [8, 2], activation="tanh", seed=0)
    fit(deep, X, y, epochs=60, batch_size=20, lr=0.03, seed=0, progress=False)
    linear = MLP(2, [2], seed=0)
    fit(linear, X, y, epochs=60, batch_size=20, lr=0.03, seed=0, progress=False)
    assert np.mean(deep.predict(X) == y) > 0.9
    assert np.mean(linear.predict(X) == y) < 0.75


def test_divergence_is_reported() -> None:
    X, y = _blobs(30)
    model = MLP(2, [8, 3], seed=0)
    with pytest.raises(TrainingDivergedError, match="learning rate"):
        fit(model, X * 1e150, y, optimizer="sgd", lr=1e10, epochs=5, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"loss": "hinge"}, ValueError, "needs a model with 1 output"),
        ({"loss": "nll"}, ValueError, "unknown loss"),
        ({"epochs": 0}, ValueError, "epochs must be an int >= 1"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"validation_split": 1.5}, ValueError, "validation_split"),
        ({"validation_split": 0.2, "validation_data": ([[0, 0]], [0])}, ValueError, "not both"),
        ({"validation_data": ([[0.0, 0.0]], [7])}, ValueError, r"labels must be in 0..2"),
        ({"optimizer": 3}, TypeError, "optimizer must be a name"),
        ({"optimizer": "adamw"}, ValueError, "unknown optimizer"),
        ({"early_stopping": 0}, ValueError, "patience"),
        ({"schedule": 5}, TypeError, "schedule"),
    ],
)
def test_fit_arguments_are_checked(kwargs: dict, error: type, message: str) -> None:
    X, y = _blobs(12)
    model = MLP(2, [3, 3], seed=0)
    with pytest.raises(error, match=message):
        fit(model, X, y, epochs=kwargs.pop("epochs", 1), progress=False, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"seed": 1.5}, TypeError, "seed must be an int or None, got float"),
        ({"seed": "0"}, TypeError, "seed must be an int or None, got str"),
        ({"min_delta": -0.1}, ValueError, "min_delta must be a finite number >= 0, got -0.1"),
        ({"min_delta": float("nan")}, ValueError, "min_delta must be a finite number"),
        ({"min_delta": "0.1"}, TypeError, "min_delta must be a number, got str"),
        ({"on_epoch_end": 3}, TypeError, "on_epoch_end must be a function"),
    ],
)
def test_fit_refuses_bad_arguments_before_any_epoch(kwargs: dict, error: type,
                                                    message: str) -> None:
    X, y = _blobs(12)
    model = MLP(2, [3, 3], seed=0)
    before = model.get_weights()
    with pytest.raises(error, match=message):
        fit(model, X, y, epochs=2, early_stopping=1, progress=False, **kwargs)
    assert all(np.array_equal(a, b) for pair, old in zip(model.get_weights(), before)
               for a, b in zip(pair, old))


def test_numpy_integer_seeds_train_like_python_ints() -> None:
    X, y = _blobs(30)
    runs = []
    for seed in (4, np.int64(4)):
        model = MLP(2, [4, 3], seed=seed)
        runs.append(fit(model, X, y, epochs=3, batch_size=8, seed=seed, validation_split=0.2,
                        progress=False).as_dict())
    assert runs[0] == runs[1]


def test_evaluate_checks_its_batch_size() -> None:
    X, y = _blobs(12)
    model = MLP(2, [3, 3], seed=0)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match=f"batch_size must be an int >= 1, got {bad!r}"):
            evaluate(model, X, y, batch_size=bad)  # type: ignore[arg-type]
    assert evaluate(model, X, y, batch_size=5) == pytest.approx(evaluate(model, X, y))


def test_fit_data_is_checked() -> None:
    X, y = _blobs(12)
    model = MLP(2, [3, 3], seed=0)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        fit(model, X[:, :1], y, progress=False)
    with pytest.raises(ValueError, match="12 samples but y has 11"):
        fit(model, X, y[:-1], progress=False)
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.2"):
        fit(model, X, y + 1, progress=False)
    with pytest.raises(ValueError, match="integer class labels"):
        fit(model, X, y + 0.5, progress=False)
    with pytest.raises(ValueError, match="NaN"):
        fit(model, np.where(X > 1, np.nan, X), y, progress=False)
    with pytest.raises(ValueError, match="mse targets must be class labels or real numbers"):
        fit(MLP(2, [3, 1], seed=0), X, ["a"] * 12, loss="mse", progress=False)
    with pytest.raises(ValueError, match="mse targets contain NaN"):
        fit(MLP(2, [3, 1], seed=0), X, np.full(12, np.nan), loss="mse", progress=False)
    with pytest.raises(ValueError, match=r"mse targets must be .* shape \(12, 1\)"):
        fit(MLP(2, [3, 1], seed=0), X, np.zeros((12, 2)), loss="mse", progress=False)
    with pytest.raises(TypeError, match="trains an MLP"):
        fit("model", X, y)  # type: ignore[arg-type]
    other = MLP(2, [3, 3], seed=1)
    with pytest.raises(ValueError, match="does not hold all of this model's parameters"):
        fit(model, X, y, optimizer=SGD(other.parameters(), lr=0.1), progress=False)
    with pytest.raises(ValueError, match="belong to the optimizer"):
        fit(model, X, y, optimizer=SGD(model.parameters(), lr=0.1), lr=0.5, progress=False)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_ragged_data_is_named_not_numpys_message(engine: str) -> None:
    """Lists whose rows differ in length: one line saying so, for X and for y, in `fit`
    and `evaluate` alike (NumPy's own error speaks of an "inhomogeneous shape")."""
    model = MLP(2, [3], seed=0, engine=engine)
    ragged_x = [[1.0, 2.0], [3.0], [4.0, 5.0]]
    for call in (lambda: fit(model, ragged_x, [0, 1, 2], progress=False),
                 lambda: evaluate(model, ragged_x, [0, 1, 2])):
        with pytest.raises(ValueError, match=r"^X must be a rectangular table of numbers "
                                             r"\(rows of different lengths: 1, 2\)$"):
            call()
    with pytest.raises(ValueError, match=r"^y must be a rectangular table of numbers "
                                         r"\(rows of different lengths: 1, 2\)$"):
        fit(model, [[1.0, 2.0], [3.0, 4.0]], [[0.0], [1.0, 2.0]], loss="mse", progress=False)


def test_ragged_arrays_are_named_by_every_reader() -> None:
    """A Tensor, a tensor-engine model's input and a weight read from a model file say
    which row lengths they met, as `fit` does."""
    from autograd import Tensor
    from mlp.architecture import ModelFormatError, as_float_array

    lengths = r"\(rows of different lengths: 1, 2, 3, 4, 5, \.\.\.\)$"
    with pytest.raises(TypeError, match=r"^Tensor needs a rectangular array of real numbers "
                                        + lengths):
        Tensor([[1.0] * k for k in range(1, 8)])
    with pytest.raises(TypeError, match=r"^MLP needs a rectangular array of numbers "
                                        r"\(rows of different lengths: 1, 2\)$"):
        MLP(2, [3], engine="tensor").predict([[1.0, 2.0], [3.0]])
    with pytest.raises(ModelFormatError, match=r"^layer 0 W: not a rectangular array of numbers "
                                               r"\(rows of different lengths: 1, 2\)$"):
        as_float_array([[1.0, 2.0], [3.0]], "layer 0 W")


def test_progress_bar_can_be_forced(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = _blobs(12)
    fit(MLP(2, [3, 3], seed=0), X, y, epochs=2, progress=True)
    assert "training" in capsys.readouterr().err
    fit(MLP(2, [3, 3], seed=0), X, y, epochs=2, progress=None)  # stderr is not a tty here
    fit(MLP(2, [3, 3], seed=0), X, y, epochs=2, progress=False)
    assert capsys.readouterr().err == ""


def test_fit_without_targets_says_so() -> None:
    X, _ = _blobs(12)
    model = MLP(2, [4, 3], seed=0)
    with pytest.raises(TypeError, match=r"y is None: .*one target per sample"):
        fit(model, X, None, epochs=1, progress=False)
    with pytest.raises(TypeError, match="one target per sample, got a single int"):
        fit(model, X, 3, epochs=1, progress=False)
    with pytest.raises(TypeError, match="y is None"):
        evaluate(model, X, None)


# -- what the model holds when training stops with an exception ------------------------------


class _StopAt:
    """on_epoch_end that keeps each epoch's weights and raises `error` after epoch `last`."""

    def __init__(self, model: MLP, last: int, error: BaseException) -> None:
        self.model, self.last, self.error = model, last, error
        self.weights: list[list[tuple[np.ndarray, np.ndarray]]] = []

    def __call__(self, epoch: int, history: History) -> None:
        self.weights.append(self.model.get_weights())
        if epoch == self.last:
            raise self.error


def _same(a: list[tuple[np.ndarray, np.ndarray]], b: list[tuple[np.ndarray, np.ndarray]]
          ) -> bool:
    return all(np.array_equal(x, y) for pa, pb in zip(a, b) for x, y in zip(pa, pb))


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_an_interrupt_with_early_stopping_restores_the_best_weights(engine: str) -> None:
    X, y = _blobs(60)
    model = MLP(2, [8, 3], seed=0, engine=engine)
    # a learning rate this large makes the loss wander, so the best epoch is not the last
    stop = _StopAt(model, 7, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        fit(model, X, y, optimizer="sgd", lr=3.0, epochs=50, early_stopping=20, seed=1,
            batch_size=8, validation_data=(X, y), progress=False, on_epoch_end=stop)
    # the monitored loss is the validation loss measured after each epoch
    val_losses = [evaluate(MLP.from_weights(w, engine=engine), X, y)[0]
                  for w in stop.weights[:7]]
    best = int(np.argmin(val_losses))
    assert best < 6, "the test needs a best epoch before the last one"
    assert _same(model.get_weights(), stop.weights[best])
    assert not _same(model.get_weights(), stop.weights[7])


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_divergence_with_early_stopping_restores_the_best_and_keeps_the_history(
        engine: str) -> None:
    X, y = _blobs(60)
    model = MLP(2, [8, 3], seed=0, engine=engine)
    opt = SGD(model.parameters(), lr=0.1)

    def blow_up(epoch: int, history: History) -> None:
        kept.append(model.get_weights())
        if epoch == 4:
            opt.lr = 1e300  # the next epoch's loss becomes inf or NaN

    kept: list[list[tuple[np.ndarray, np.ndarray]]] = []
    with pytest.raises(TrainingDivergedError) as caught:
        fit(model, X, y, optimizer=opt, epochs=50, early_stopping=10, seed=0, batch_size=8,
            progress=False, on_epoch_end=blow_up)
    history = caught.value.history
    assert history is not None and history.epochs == 5 and history.best_epoch is not None
    assert history.loss[history.best_epoch] == min(history.loss)
    assert _same(model.get_weights(), kept[history.best_epoch])
    assert np.all(np.isfinite(model.forward_array(X)))


def test_an_interrupt_without_early_stopping_leaves_the_last_whole_step() -> None:
    X, y = _blobs(40)
    model = MLP(2, [8, 3], seed=0, engine="tensor")
    calls: list[list[tuple[np.ndarray, np.ndarray]]] = []
    base = LOSSES["cross_entropy"]

    def interrupting(outputs: Any, targets: Any) -> Any:
        calls.append(model.get_weights())
        if len(calls) == 4:  # in the forward pass of the 4th batch
            raise KeyboardInterrupt
        return base(outputs, targets)

    loss = Loss("cross_entropy", interrupting, True, "multi")
    start = model.get_weights()
    with pytest.raises(KeyboardInterrupt):
        fit(model, X, y, loss=loss, optimizer="sgd", epochs=3, batch_size=10, progress=False)
    assert _same(model.get_weights(), calls[3]) and not _same(calls[3], start)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_predicting_from_nan_or_infinity_names_the_sample(engine: str) -> None:
    model = MLP(2, [3], seed=0, engine=engine)
    X = np.zeros((4, 2))
    assert model.predict(X).shape == (4,)
    for bad in (np.nan, np.inf, -np.inf):
        X[2, 1] = bad
        with pytest.raises(ValueError, match=r"^MLP input contains NaN or infinity \(sample 2\)"):
            model.predict(X)
    huge = np.full((5, 2), 4e307)  # finite, though their sum overflows to inf
    with np.errstate(over="ignore"):
        assert np.isinf(huge.sum())
    assert model.predict(huge).shape == (5,)
