"""Handwritten digits (the UCI 8x8 set that ships with `mlp`) on the tensor engine.

Loads the 1797 images of 8x8 pixels, splits them 80/20 keeping the digits balanced,
trains a 64-128-128-10 MLP (ReLU hidden layers, He initialization, softmax output,
cross-entropy, Adam) with ``engine="tensor"`` (each layer a weight matrix, a batch per
step), prints training and test accuracy and the confusion matrix, saves the model to
JSON, reloads it and checks that it predicts exactly the same.  Takes about a second.

    python -m demos.digits                         # seed 0
    python -m demos.digits --network sigmoid-mse   # seed 002's network: sigmoid + MSE, SGD
    python -m demos.digits --hidden 16 --epochs 3  # a small net: 0.1 s, 88% ...
    python -m demos.digits --hidden 16 --epochs 3 --engine value
                                                   # ... the same steps on scalar Values:
                                                   # the same loss, about 20x slower
    python -m demos.digits --seeds 5               # seeds 0..4: mean test accuracy

The seed sets the split, the initial weights and the batch order; both engines start
from the same weights and take the same steps.
"""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N806

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from mlp import (
    ENGINES,
    MLP,
    BaseMLP,
    History,
    accuracy,
    classification_report,
    confusion_matrix,
    fit,
    format_confusion_matrix,
    train_test_split,
)
from mlp.digits import load_digits


@dataclass(frozen=True)
class DigitsConfig:
    """A network and how it is trained."""

    hidden: tuple[int, ...] = (128, 128)
    activation: str = "relu"
    output: str = "softmax"
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    lr: float = 0.005
    epochs: int = 30
    batch_size: int | None = 32
    engine: str = "tensor"


#: the two networks: seed 001's recipe (ReLU, softmax + CE) and seed 002's (sigmoid + MSE)
NETWORKS: dict[str, DigitsConfig] = {
    "relu-ce": DigitsConfig(),
    # seed 002: sigmoid hidden and output layers, the mean-squared-error cost on one-hot
    # targets, plain SGD.  MSE's gradients through sigmoids are small, hence the large lr.
    "sigmoid-mse": DigitsConfig(hidden=(30,), activation="sigmoid", output="sigmoid",
                                loss="mse", optimizer="sgd", lr=10.0, epochs=60,
                                batch_size=10),
}


@dataclass
class DigitsResult:
    """What one training run produced."""

    model: BaseMLP
    history: History
    train_accuracy: float
    test_accuracy: float
    X_test: np.ndarray
    y_test: np.ndarray
    test_predictions: np.ndarray
    seconds: float


def train_digits(seed: int = 0, config: DigitsConfig | None = None,
                 progress: bool | None = None) -> DigitsResult:
    """Split (stratified 80/20), build and train one model with `seed`."""
    config = config or DigitsConfig()
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.2, seed=seed)
    start = time.perf_counter()
    model = MLP(64, [*config.hidden, 10], activation=config.activation, output=config.output,
                seed=seed, engine=config.engine)
    history = fit(model, X_train, y_train, loss=config.loss, optimizer=config.optimizer,
                  lr=config.lr, epochs=config.epochs, batch_size=config.batch_size, seed=seed,
                  progress=progress)
    seconds = time.perf_counter() - start
    test_predictions = model.predict(X_test)
    model.metadata = {"dataset": "uci-digits-8x8", "class_names": [str(d) for d in range(10)],
                      "seed": seed, "test_accuracy": accuracy(y_test, test_predictions)}
    return DigitsResult(model, history, accuracy(y_train, model.predict(X_train)),
                        accuracy(y_test, test_predictions), X_test, y_test, test_predictions,
                        seconds)


def percent(x: float) -> str:
    """0.9712 -> '97.1%'."""
    return f"{100 * x:.1f}%"


def print_scores(y_true: np.ndarray, predicted: np.ndarray) -> None:
    """The test accuracy, the confusion matrix and the per-digit report."""
    errors = int(np.sum(predicted != y_true))
    print(f"test accuracy:  {percent(accuracy(y_true, predicted))} ({errors} of {len(y_true)} "
          f"wrong)")
    print()
    print("confusion matrix (test):")
    print(format_confusion_matrix(confusion_matrix(y_true, predicted, n_classes=10)))
    print()
    print(classification_report(y_true, predicted, n_classes=10))


def check_reload(result: DigitsResult, path: Path) -> bool:
    """Save the model, load it back, and compare its test predictions exactly."""
    result.model.save(path)
    loaded = MLP.load(path)
    return loaded.engine == result.model.engine and bool(np.array_equal(
        result.model.predict_proba(result.X_test), loaded.predict_proba(result.X_test)))


def _describe(config: DigitsConfig, name: str) -> str:
    batch = "full batch" if config.batch_size is None else f"batch {config.batch_size}"
    return (f"network {name}: 64-{'-'.join(map(str, config.hidden))}-10 {config.activation}, "
            f"{config.output} output, {config.loss}, {config.optimizer} lr {config.lr:g}, "
            f"{batch}, {config.epochs} epochs, {config.engine} engine")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit status (1 if the reloaded model disagrees)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the run (default 0)")
    parser.add_argument("--seeds", type=int, default=None, metavar="N",
                        help="run seeds 0..N-1 and print the mean test accuracy")
    parser.add_argument("--network", choices=sorted(NETWORKS), default="relu-ce",
                        help="relu-ce: seed 001's recipe (default); sigmoid-mse: seed 002")
    parser.add_argument("--engine", choices=ENGINES, help="default: tensor")
    parser.add_argument("--epochs", type=int, help="override the network's epoch count")
    parser.add_argument("--lr", type=float, help="override the learning rate")
    parser.add_argument("--hidden", type=int, nargs="+", help="hidden layer sizes")
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="directory for the saved model (default: out/)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr),
                                   ("engine", args.engine)) if v is not None}
    if args.hidden:
        overrides["hidden"] = tuple(args.hidden)
    config = replace(NETWORKS[args.network], **overrides)
    progress = False if args.quiet else None
    print(_describe(config, args.network))

    if args.seeds is not None:
        if args.seeds < 1:
            parser.error("--seeds needs at least 1")
        scores = []
        for seed in range(args.seeds):
            result = train_digits(seed, config, progress)
            scores.append(result.test_accuracy)
            print(f"seed {seed}: train {percent(result.train_accuracy)}, test "
                  f"{percent(result.test_accuracy)} ({result.seconds:.1f} s)")
        print(f"mean test accuracy over {args.seeds} seeds: {percent(statistics.mean(scores))}"
              f" (min {percent(min(scores))}, max {percent(max(scores))})")
        return 0

    result = train_digits(args.seed, config, progress)
    n_test = len(result.y_test)
    print(f"model: {result.model!r}")
    print(f"split: {1797 - n_test} training / {n_test} test images, stratified, seed "
          f"{args.seed}; pixels scaled to [0, 1]")
    print(f"trained in {result.seconds:.1f} s; final training loss "
          f"{result.history.loss[-1]:.4f}")
    print(f"train accuracy: {percent(result.train_accuracy)}")
    print_scores(result.y_test, result.test_predictions)
    print()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"digits_{args.network}.json"
    same = check_reload(result, path)
    print(f"saved {path}; reloaded it: "
          f"{'identical predictions' if same else 'PREDICTIONS DIFFER'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
