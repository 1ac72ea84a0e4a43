"""The training loop: `fit` a model with mini-batches, validation and early stopping.

One training step is the backpropagation recipe: forward every sample of the batch
through the model, average the per-sample losses into one node, clear the gradients,
``backward()``, and let the optimizer step.  `fit` repeats it over shuffled batches for a
number of epochs and records a `History`.

Both engines train the same way.  On the value engine a batch is rows of `Value`s and the
loss the mean of per-sample losses; on the tensor engine (``MLP(..., engine="tensor")``)
a batch is one array and the loss one node of the Tensor op table.  The numbers are the
same up to floating-point rounding.
"""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N803, N806

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import no_grad
from autograd.state import all_finite
from autograd.tensor import ragged_text
from mlp.architecture import LayerWeights
from mlp.base import MLP
from mlp.datasets import _check_seed, train_test_split
from mlp.losses import Loss, get_loss
from mlp.optim import LRSchedule, Optimizer, get_optimizer

__all__ = ["fit", "evaluate", "History", "TrainingDivergedError"]


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite (usually: the learning rate is too large).

    Raised by `fit`, it carries the ``history`` of the epochs that finished.
    """

    history: History | None = None


@dataclass
class History:
    """Per-epoch records of a `fit` run.

    ``loss`` and ``accuracy`` are running averages over each epoch's training batches
    (``accuracy`` is None for regression targets); ``val_*`` are measured after each epoch
    on the validation data (empty lists without one); ``lr`` is the learning rate used.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    #: the epoch (0-based) with the best monitored loss, when early stopping was on
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        """How many epochs ran."""
        return len(self.loss)

    def as_dict(self) -> dict[str, Any]:
        """The history as plain lists (JSON-ready)."""
        return {"loss": self.loss, "accuracy": self.accuracy, "val_loss": self.val_loss,
                "val_accuracy": self.val_accuracy, "lr": self.lr, "best_epoch": self.best_epoch,
                "stopped_early": self.stopped_early}


# -- targets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Targets:
    """What each sample's loss compares against (a class index, a number or a row of
    numbers per sample), and its class label (None: regression)."""

    for_loss: np.ndarray
    labels: np.ndarray | None


def _prepare_targets(model: MLP, loss: Loss, y: Any, n_samples: int) -> _Targets:
    n_out = model.n_outputs
    if loss.outputs == "one" and n_out != 1:
        raise ValueError(f"loss {loss.name!r} needs a model with 1 output, this one has {n_out}")
    if loss.outputs == "multi" and n_out < 2:
        raise ValueError(f"loss {loss.name!r} needs at least 2 outputs (one per class); for "
                         f"two classes with one output use 'binary_cross_entropy'")
    if y is None:
        raise TypeError("y is None: training and evaluating need one target per sample "
                        "(class labels, or numbers for mse)")
    array = _as_array(y, "y")
    if array.ndim == 0:
        raise TypeError(f"y must hold one target per sample, got a single "
                        f"{type(y).__name__}")
    if len(array) != n_samples:
        raise ValueError(f"X has {n_samples} samples but y has {len(array)}")
    integer_labels = array.ndim == 1 and (
        np.issubdtype(array.dtype, np.integer)
        or (np.issubdtype(array.dtype, np.floating) and np.all(array == np.round(array))
            and loss.name != "mse")
    )
    if loss.name == "mse" and not integer_labels:
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"mse targets must be class labels or real numbers, got "
                             f"{array.dtype}")
        values = array.astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError("mse targets contain NaN or infinity")
        if (values.ndim == 1 and n_out == 1) or (values.ndim == 2 and values.shape[1] == n_out):
            return _Targets(values, None)
        raise ValueError(f"mse targets must be class labels, or numbers of shape "
                         f"({n_samples}, {n_out}), got shape {array.shape}")
    if not integer_labels:
        raise ValueError(f"loss {loss.name!r} needs integer class labels, got "
                         f"{array.dtype} of shape {array.shape}")
    labels = array.astype(np.int64)
    if loss.name == "hinge":
        bad = np.unique(labels[~np.isin(labels, (-1, 0, 1))]).tolist()
        if bad:
            raise ValueError(f"hinge labels must be -1/+1 or 0/1, got {bad[:5]}")
        return _Targets(labels, (labels == 1).astype(np.int64))
    n_classes = 2 if n_out == 1 else n_out
    bad = np.unique(labels[(labels < 0) | (labels >= n_classes)]).tolist()
    if bad:
        raise ValueError(f"labels must be in 0..{n_classes - 1} for a model with {n_out} "
                         f"output(s), got {bad[:5]}")
    if loss.name == "mse" and n_out == 1:
        return _Targets(labels.astype(np.float64), labels)
    return _Targets(labels, labels)


def _as_array(values: Any, name: str) -> np.ndarray:
    """`values` as an array; rows of different lengths are a ValueError naming `name`."""
    try:
        return np.asarray(values)
    except ValueError as error:  # NumPy refuses ragged nesting ("inhomogeneous shape")
        raise ValueError(f"{name} must be a rectangular table of numbers "
                         f"({ragged_text(values, error)})") from None


def _as_matrix(model: MLP, X: Any) -> np.ndarray:
    array = _as_array(X, "X")
    if array.ndim != 2 or array.shape[1] != model.n_inputs:
        raise ValueError(f"X must have shape (n, {model.n_inputs}) for this model, got "
                         f"{array.shape}")
    if array.dtype == np.bool_ or not (np.issubdtype(array.dtype, np.integer)
                                       or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"X must hold real numbers, got dtype {array.dtype}")
    if len(array) == 0:
        raise ValueError("X has no samples")
    if array.dtype.kind == "f" and not all_finite(array):
        raise ValueError("X contains NaN or infinity")
    # float32 stays float32 (MNIST: half the memory); the engines read either
    return array if array.dtype in (np.float32, np.float64) else array.astype(np.float64)


# -- one pass -------------------------------------------------------------------------------


def _count_correct(scores: np.ndarray, labels: np.ndarray, threshold: float) -> int:
    """How many rows of `scores` pick their label: argmax, or one score above `threshold`."""
    if scores.shape[1] == 1:
        predicted = (scores[:, 0] > threshold).astype(np.int64)
    else:
        predicted = np.argmax(scores, axis=1)
    return int(np.count_nonzero(predicted == labels))


def evaluate(model: MLP, X: Any, y: Any, loss: str | Loss = "cross_entropy",
             batch_size: int = 1024) -> tuple[float, float | None]:
    """(mean loss, accuracy) of `model` on `X`, `y` without recording a graph.

    Accuracy is None for regression targets.
    """
    loss_fn = get_loss(loss)
    batch_size = _positive_int(batch_size, "batch_size")
    data = _as_matrix(model, X)
    return _measure(model, loss_fn, data, _prepare_targets(model, loss_fn, y, len(data)),
                    batch_size)


def _measure(model: MLP, loss: Loss, data: np.ndarray, targets: _Targets,
             batch_size: int = 1024) -> tuple[float, float | None]:
    """`evaluate` on data and targets already checked (fit's validation data, each epoch)."""
    n = len(data)
    threshold = 0.0 if loss.reads_logits else 0.5
    total, correct = 0.0, 0
    with no_grad():
        for start in range(0, n, batch_size):
            part = slice(start, start + batch_size)
            batch_loss, scores = model.batch_loss(loss, data[part], targets.for_loss[part])
            total += float(batch_loss.data) * len(scores)
            if targets.labels is not None:
                correct += _count_correct(scores, targets.labels[part], threshold)
    accuracy = None if targets.labels is None else correct / n
    return total / n, accuracy


# -- fit ------------------------------------------------------------------------------------


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


def _make_optimizer(model: MLP, optimizer: str | Optimizer, lr: float | None,
                    weight_decay: float) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        if lr is not None or weight_decay:
            raise ValueError("lr and weight_decay belong to the optimizer you passed; set them "
                             "there")
        owned = {id(p) for p in model.parameters()}
        if not owned.issubset({id(p) for p in optimizer.params}):
            raise ValueError("the optimizer does not hold all of this model's parameters")
        return optimizer
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be a name or an Optimizer, got "
                        f"{type(optimizer).__name__}")
    return get_optimizer(optimizer, model.parameters(), lr=lr, weight_decay=weight_decay)


def _make_schedule(schedule: LRSchedule | Callable[[Optimizer], LRSchedule] | None,
                   optimizer: Optimizer) -> LRSchedule | None:
    if schedule is None:
        return None
    if isinstance(schedule, LRSchedule):
        if schedule.optimizer is not optimizer:
            raise ValueError("the schedule drives a different optimizer than the one fit uses")
        return schedule
    if callable(schedule):
        made = schedule(optimizer)
        if not isinstance(made, LRSchedule):
            raise TypeError("schedule(optimizer) must return an LRSchedule")
        return made
    raise TypeError(f"schedule must be an LRSchedule or a function optimizer -> LRSchedule, "
                    f"got {type(schedule).__name__}")


class _NoBar:
    """What `fit` updates when no bar is shown (tqdm is not even imported)."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        """Nothing to move."""

    def set_postfix(self, postfix: Any, refresh: bool = True) -> None:
        """Nothing to show."""


def _progress_bar(samples: int, progress: bool | None) -> Any:
    """A bar over all the samples of all the epochs (it moves within an epoch too)."""
    isatty = getattr(sys.stderr, "isatty", None)
    if progress is False or (progress is None and not (isatty and isatty())):
        return _NoBar()  # and no tqdm.auto import, which warns in a notebook without widgets
    from tqdm.auto import tqdm

    return tqdm(total=samples, desc="training", unit="sample", unit_scale=True,
                file=sys.stderr, dynamic_ncols=True, leave=False)


@dataclass
class _Plan:
    """Everything `fit` checked and built before its first epoch."""

    data: np.ndarray
    targets: _Targets
    loss: Loss
    epochs: int
    batch_size: int
    shuffle: bool
    rng: np.random.Generator
    optimizer: Optimizer
    schedule: LRSchedule | None
    #: the validation data and its targets, checked (None without validation)
    validation: tuple[np.ndarray, _Targets] | None
    #: the score above which one output means class 1 (0 for logits, 0.5 for probabilities)
    threshold: float
    on_epoch_end: Callable[[int, History], None] | None


def _plan(model: MLP, X: Any, y: Any, *, loss: str | Loss, optimizer: str | Optimizer,
          lr: float | None, epochs: int, batch_size: int | None, shuffle: bool,
          seed: int | None, validation_split: float, validation_data: tuple[Any, Any] | None,
          schedule: LRSchedule | Callable[[Optimizer], LRSchedule] | None,
          weight_decay: float, on_epoch_end: Callable[[int, History], None] | None) -> _Plan:
    """`fit`'s arguments checked (a TypeError/ValueError names the bad one, before any
    epoch), the validation part split off, and the optimizer and schedule made."""
    if not isinstance(model, MLP):
        raise TypeError(f"fit trains an MLP, got {type(model).__name__}")
    loss_fn = get_loss(loss)
    epochs = _positive_int(epochs, "epochs")
    seed = _check_seed(seed)
    if on_epoch_end is not None and not callable(on_epoch_end):
        raise TypeError(f"on_epoch_end must be a function (epoch, history) -> None or None, "
                        f"got {type(on_epoch_end).__name__}")
    data = _as_matrix(model, X)
    targets = _prepare_targets(model, loss_fn, y, len(data))
    data, targets, validation = _split_validation(model, loss_fn, data, y, targets, seed,
                                                  validation_split, validation_data)
    size = len(data) if batch_size is None else min(_positive_int(batch_size, "batch_size"),
                                                    len(data))
    opt = _make_optimizer(model, optimizer, lr, weight_decay)
    return _Plan(data, targets, loss_fn, epochs, size, bool(shuffle), np.random.default_rng(seed),
                 opt, _make_schedule(schedule, opt), validation,
                 0.0 if loss_fn.reads_logits else 0.5, on_epoch_end)


def _split_validation(model: MLP, loss: Loss, data: np.ndarray, y: Any, targets: _Targets,
                      seed: int | None, validation_split: float,
                      validation_data: tuple[Any, Any] | None
                      ) -> tuple[np.ndarray, _Targets, tuple[np.ndarray, _Targets] | None]:
    """The training data and targets, and the validation data and targets, checked once
    for all epochs (None without validation)."""
    if validation_data is not None and validation_split:
        raise ValueError("give validation_split or validation_data, not both")
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real) \
            or not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be a fraction in [0, 1), got {validation_split!r}")
    if validation_split:
        data, X_val, y_train, y_val = train_test_split(
            data, np.asarray(y), validation_split, seed=seed,
            stratify=targets.labels is not None)
        return (data, _prepare_targets(model, loss, y_train, len(data)),
                (X_val, _prepare_targets(model, loss, y_val, len(X_val))))
    if validation_data is None:
        return data, targets, None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise TypeError("validation_data must be a pair (X_val, y_val)")
    X_val, y_val = validation_data
    checked = _as_matrix(model, X_val)  # now, not after epoch 1
    return data, targets, (checked, _prepare_targets(model, loss, y_val, len(checked)))


class _EarlyStopping:
    """Watches the monitored loss after each epoch: remembers the best epoch (and, with
    `restore_best`, its weights) and says when `patience` epochs passed without progress."""

    def __init__(self, model: MLP, patience: int | None, min_delta: float,
                 restore_best: bool) -> None:
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real):
            raise TypeError(f"min_delta must be a number, got {type(min_delta).__name__}")
        if not math.isfinite(min_delta) or min_delta < 0:
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        self.model = model
        self.patience = None if patience is None else _positive_int(
            patience, "early_stopping (patience)")
        self.min_delta = float(min_delta)
        self.restore_best = bool(restore_best)
        self.best = math.inf
        self.best_weights: list[LayerWeights] | None = None
        self.waited = 0

    def should_stop(self, epoch: int, history: History) -> bool:
        """Record `epoch`'s result; True when training should stop."""
        if self.patience is None:
            return False
        monitored = history.val_loss[-1] if history.val_loss else history.loss[-1]
        if monitored < self.best - self.min_delta:
            self.best, self.waited, history.best_epoch = monitored, 0, epoch
            if self.restore_best:
                self.best_weights = self.model.get_weights()
            return False
        self.waited += 1
        history.stopped_early = self.waited >= self.patience
        return history.stopped_early

    def restore(self) -> None:
        """Put the best weights back (if early stopping kept any)."""
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def fit(
    model: MLP,
    X: Any,
    y: Any,
    *,
    loss: str | Loss = "cross_entropy",
    optimizer: str | Optimizer = "adam",
    lr: float | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float = 0.0,
    validation_data: tuple[Any, Any] | None = None,
    schedule: LRSchedule | Callable[[Optimizer], LRSchedule] | None = None,
    weight_decay: float = 0.0,
    early_stopping: int | None = None,
    min_delta: float = 0.0,
    restore_best: bool = True,
    progress: bool | None = None,
    on_epoch_end: Callable[[int, History], None] | None = None,
) -> History:
    """Train `model` (either engine) on `X` (n, n_inputs) and `y`; returns the `History`.

    Every argument is checked first.  Then, for each epoch: shuffle, take one backprop
    step per mini-batch (forward, loss, ``backward()``, optimizer step), let the schedule
    step, measure the validation data, record the epoch in the history, and stop early
    when the monitored loss stops improving.

    - `loss`: "cross_entropy" (logits, int labels), "binary_cross_entropy" (one logit,
      0/1), "mse" (outputs; class labels are one-hot encoded) or "hinge" (one score).
    - `optimizer`: "adam" (default lr 0.01), "sgd", "momentum", "nesterov" (default lr
      0.1), or an `Optimizer` built on ``model.parameters()``; `weight_decay` is L2.
    - `batch_size`: samples per step (None: the whole set, full-batch gradient descent);
      batches are reshuffled every epoch when `shuffle`, with the generator of `seed`.
    - `validation_split` holds out a stratified fraction of `X`; or pass
      `validation_data` = (X_val, y_val).  `early_stopping` = patience in epochs: stop when
      the validation loss (training loss without validation) has not improved by more than
      `min_delta` for that many epochs, and with `restore_best` go back to the best weights.
    - `progress`: a tqdm bar over the samples (None: only when stderr is a terminal).
    - `on_epoch_end(epoch, history)` is called after each epoch.

    If training stops with an exception (Ctrl-C's ``KeyboardInterrupt``, a
    `TrainingDivergedError`, an error in `on_epoch_end`), the exception goes on and the
    model holds: the best weights so far when early stopping with `restore_best` has seen
    an epoch; otherwise the weights after the last whole optimizer step (a step is all or
    nothing).  A `TrainingDivergedError` carries the ``history`` of the epochs finished.
    """
    stopping = _EarlyStopping(model, early_stopping, min_delta, restore_best)
    plan = _plan(model, X, y, loss=loss, optimizer=optimizer, lr=lr, epochs=epochs,
                 batch_size=batch_size, shuffle=shuffle, seed=seed,
                 validation_split=validation_split, validation_data=validation_data,
                 schedule=schedule, weight_decay=weight_decay, on_epoch_end=on_epoch_end)
    history = History()
    try:
        with _progress_bar(plan.epochs * len(plan.data), progress) as bar:
            for epoch in range(plan.epochs):
                history.lr.append(plan.optimizer.lr)
                _train_epoch(model, plan, epoch, history, bar)
                if plan.schedule is not None:
                    plan.schedule.step()
                if plan.validation is not None:
                    val_loss, val_accuracy = _measure(model, plan.loss, *plan.validation)
                    history.val_loss.append(val_loss)
                    history.val_accuracy.append(val_accuracy)
                _update_bar(bar, history, plan.epochs)
                if plan.on_epoch_end is not None:
                    plan.on_epoch_end(epoch, history)
                if stopping.should_stop(epoch, history):
                    break
    except TrainingDivergedError as exc:
        exc.history = history
        raise
    finally:
        stopping.restore()
    return history


def _train_epoch(model: MLP, plan: _Plan, epoch: int, history: History, bar: Any) -> None:
    """One pass over the (shuffled) training data, one optimizer step per mini-batch;
    appends the epoch's mean loss and accuracy to `history`."""
    n, size, opt = len(plan.data), plan.batch_size, plan.optimizer
    order = plan.rng.permutation(n) if plan.shuffle else None
    labels = plan.targets.labels
    total, correct = 0.0, 0
    for start in range(0, n, size):
        picked = slice(start, start + size) if order is None else order[start:start + size]
        batch_loss, scores = model.batch_loss(plan.loss, plan.data[picked],
                                              plan.targets.for_loss[picked])
        value = float(batch_loss.data)
        if not math.isfinite(value):
            raise TrainingDivergedError(f"the loss became {value} in epoch {epoch}; the "
                                        f"learning rate ({opt.lr:g}) is probably too large")
        opt.zero_grad()
        batch_loss.backward()
        opt.step()
        total += value * len(scores)
        if labels is not None:
            correct += _count_correct(scores, labels[picked], plan.threshold)
        bar.update(len(scores))
    history.loss.append(total / n)
    history.accuracy.append(None if labels is None else correct / n)


def _update_bar(bar: Any, history: History, epochs: int) -> None:
    if getattr(bar, "disable", True):
        return
    postfix = {"epoch": f"{history.epochs}/{epochs}", "loss": f"{history.loss[-1]:.4f}"}
    if history.accuracy[-1] is not None:
        postfix["acc"] = f"{history.accuracy[-1]:.3f}"
    if history.val_loss:
        postfix["val_loss"] = f"{history.val_loss[-1]:.4f}"
        if history.val_accuracy[-1] is not None:
            postfix["val_acc"] = f"{history.val_accuracy[-1]:.3f}"
    bar.set_postfix(postfix, refresh=False)
