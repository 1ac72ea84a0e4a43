"""What the Iris and digits demos share: their options, the training of one network, the
run of several seeds, the report of one run, and the save-reload-compare check."""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N803

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from mlp import (
    MLP,
    BaseMLP,
    History,
    accuracy,
    classification_report,
    confusion_matrix,
    fit,
    format_confusion_matrix,
)


@dataclass(frozen=True)
class RunConfig:
    """A network and how it is trained; each demo's subclass sets its own defaults."""

    hidden: tuple[int, ...] = (16,)
    activation: str = "relu"
    output: str = "softmax"
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    lr: float = 0.01
    epochs: int = 30
    batch_size: int | None = 32
    weight_decay: float = 0.0
    engine: str = "value"


@dataclass
class TrainedRun:
    """What one training run of a demo produced."""

    model: BaseMLP
    history: History
    train_accuracy: float
    test_accuracy: float
    X_test: np.ndarray
    y_test: np.ndarray
    test_predictions: np.ndarray
    seconds: float


Config = TypeVar("Config", bound=RunConfig)
Run = TypeVar("Run", bound=TrainedRun)


def train_and_score(config: RunConfig, X_train: np.ndarray, y_train: np.ndarray,
                    X_test: np.ndarray, y_test: np.ndarray, *, n_classes: int, seed: int,
                    progress: bool | None) -> TrainedRun:
    """Build the network of `config` (its initial weights from `seed`), train it on the
    training part (batches shuffled with `seed`), and score it on both parts.

    ``seconds`` is the time of building and training.
    """
    start = time.perf_counter()
    model = MLP(X_train.shape[1], [*config.hidden, n_classes], activation=config.activation,
                output=config.output, seed=seed, engine=config.engine)
    history = fit(model, X_train, y_train, loss=config.loss, optimizer=config.optimizer,
                  lr=config.lr, epochs=config.epochs, batch_size=config.batch_size,
                  weight_decay=config.weight_decay, seed=seed, progress=progress)
    seconds = time.perf_counter() - start
    test_predictions = model.predict(X_test)
    return TrainedRun(model=model, history=history,
                      train_accuracy=accuracy(y_train, model.predict(X_train)),
                      test_accuracy=accuracy(y_test, test_predictions), X_test=X_test,
                      y_test=y_test, test_predictions=test_predictions, seconds=seconds)


def percent(x: float) -> str:
    """0.9712 -> '97.1%'."""
    return f"{100 * x:.1f}%"


def add_run_options(parser: argparse.ArgumentParser, networks: Mapping[str, Any],
                    network_help: str) -> None:
    """The options both demos take: --seed, --seeds, --network, --epochs, --lr, --hidden,
    --out and --quiet."""
    parser.add_argument("--seed", type=int, default=0, help="seed of the run (default 0)")
    parser.add_argument("--seeds", type=int, default=None, metavar="N",
                        help="run seeds 0..N-1 and print the mean test accuracy")
    parser.add_argument("--network", choices=sorted(networks), default="relu-ce",
                        help=network_help)
    parser.add_argument("--epochs", type=int, help="override the network's epoch count")
    parser.add_argument("--lr", type=float, help="override the learning rate")
    parser.add_argument("--hidden", type=int, nargs="+", help="hidden layer sizes")
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="directory for the saved model (default: out/)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def chosen_config(args: argparse.Namespace, networks: Mapping[str, Config],
                  **overrides: Any) -> Config:
    """The network named by --network with --epochs, --lr, --hidden and the given
    `overrides` (those that are not None) put in."""
    changes = {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr), *overrides.items())
               if v is not None}
    if args.hidden:
        changes["hidden"] = tuple(args.hidden)
    return replace(networks[args.network], **changes)


def run_seeds(train: Callable[[int], TrainedRun], n_seeds: int) -> float:
    """Train with seeds 0..n_seeds-1, print a line per seed and the mean test accuracy
    (returned)."""
    scores = []
    for seed in range(n_seeds):
        result = train(seed)
        scores.append(result.test_accuracy)
        print(f"seed {seed}: train {percent(result.train_accuracy)}, test "
              f"{percent(result.test_accuracy)} ({result.seconds:.1f} s)")
    mean = statistics.mean(scores)
    print(f"mean test accuracy over {n_seeds} seeds: {percent(mean)}"
          f" (min {percent(min(scores))}, max {percent(max(scores))})")
    return mean


def one_or_several_seeds(parser: argparse.ArgumentParser, args: argparse.Namespace,
                         train: Callable[[int, bool | None], Run]) -> Run | None:
    """With --seeds N: ``train(seed, progress)`` for seeds 0..N-1, a line each and the
    mean (`run_seeds`), and None.  Else the run of --seed."""
    progress = False if args.quiet else None
    if args.seeds is None:
        return train(args.seed, progress)
    if args.seeds < 1:
        parser.error("--seeds needs at least 1")
    run_seeds(lambda seed: train(seed, progress), args.seeds)
    return None


def print_scores(y_true: np.ndarray, predicted: np.ndarray, class_names: Sequence[str]) -> None:
    """The test accuracy, the confusion matrix and the per-class report."""
    errors = int(np.sum(predicted != y_true))
    print(f"test accuracy:  {percent(accuracy(y_true, predicted))} ({errors} of {len(y_true)} "
          f"wrong)")
    print()
    print("confusion matrix (test):")
    print(format_confusion_matrix(confusion_matrix(y_true, predicted,
                                                   n_classes=len(class_names)), class_names))
    print()
    print(classification_report(y_true, predicted, class_names))


def report_run(result: TrainedRun, split: str, class_names: Sequence[str]) -> None:
    """What one run gives: the model, the `split` line, the training time and loss, the
    accuracies, the confusion matrix and the per-class report."""
    print(f"model: {result.model!r}")
    print(f"split: {split}")
    print(f"trained in {result.seconds:.1f} s; final training loss "
          f"{result.history.loss[-1]:.4f}")
    print(f"train accuracy: {percent(result.train_accuracy)}")
    print_scores(result.y_test, result.test_predictions, class_names)
    print()


def reload_matches(model: BaseMLP, path: Path, inputs: np.ndarray,
                   loaded_inputs: Callable[[BaseMLP], np.ndarray] | None = None) -> bool:
    """Save `model` to `path`, load it back, and compare predictions exactly: the model's
    on `inputs`, the loaded one's on ``loaded_inputs(loaded)`` (default: `inputs`), e.g.
    scaled with what its metadata stores.  Prints the outcome; True if they agree."""
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    loaded = MLP.load(path)
    again = inputs if loaded_inputs is None else loaded_inputs(loaded)
    same = loaded.engine == model.engine and bool(np.array_equal(
        model.predict_proba(inputs), loaded.predict_proba(again)))
    print(f"saved {path}; reloaded it: "
          f"{'identical predictions' if same else 'PREDICTIONS DIFFER'}")
    return same
