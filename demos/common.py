"""What the demos share: their command lines (checked options, one-line errors), and for
the Iris and digits demos the training of one network, the run of several seeds, the
report of one run, and the save-reload-compare check."""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N803

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar

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


# -- the command lines ----------------------------------------------------------------------

#: seeds go to NumPy's RandomState (the same split as scikit-learn), which takes 0..2**32-1
MAX_SEED = 2**32 - 1
#: units in one hidden layer, and weights in a whole network: enough for any demo (the
#: MNIST network has 199,210), and no accidental gigabyte of scalar Values
MAX_UNITS = 4096
MAX_WEIGHTS = 1_000_000


class DemoParser(argparse.ArgumentParser):
    """argparse as the demos use it: the program named as it is run (``python -m
    demos.NAME``), the module docstring's examples after the options, and an error as
    one line (exit status 2), as the viz command line does."""

    def __init__(self, name: str, doc: str | None) -> None:
        paragraphs = (doc or "").split("\n\n")
        examples = [p for p in paragraphs if p.startswith("    ")]
        super().__init__(prog=f"python -m demos.{name}", description=paragraphs[0],
                         epilog="examples:\n" + "\n".join(examples) if examples else None,
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         allow_abbrev=False)

    def error(self, message: str) -> NoReturn:
        """One line on standard error, exit status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def run_main(main: Callable[[], int], name: str) -> NoReturn:
    """Exit with `main()`'s status; Ctrl-C is one line and status 130, not a traceback
    (files are written atomically, so nothing half-written is left).  A reader that stops
    early (``| head``) ends the demo quietly, with status 141 as a shell reports SIGPIPE."""
    try:
        status = main()
        sys.stdout.flush()  # inside the try: a closed pipe shows up here at the latest
    except KeyboardInterrupt:
        print(f"python -m demos.{name}: interrupted", file=sys.stderr)
        status = 130
    except BrokenPipeError:
        # Python's recipe: point stdout at /dev/null so the flush at exit cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 141
    sys.exit(status)


def int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high` (no limit if None)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}"
                                             ) from None
        if value < low or (high is not None and value > high):
            limits = f"at least {low}" if high is None else f"from {low} to {high}"
            raise argparse.ArgumentTypeError(f"must be {limits}, got {value}")
        return value
    return parse


def finite_float(text: str) -> float:
    """An argparse type: a finite number (not nan or inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def learning_rate(text: str) -> float:
    """An argparse type: a finite number above 0."""
    value = finite_float(text)
    if value <= 0.0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def output_directory(text: str) -> Path:
    """An argparse type: a directory the demo can write into, or create (checked before
    any work is done, and without creating anything yet)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    path = Path(text)
    nearest = path
    while not nearest.exists() and nearest.parent != nearest:
        nearest = nearest.parent
    if not nearest.is_dir():
        raise argparse.ArgumentTypeError(
            f"{path} is a file, not a directory" if nearest == path
            else f"cannot create {path}: {nearest} is a file, not a directory")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write in {nearest} (permission denied)")
    return path


def add_run_options(parser: argparse.ArgumentParser, networks: Mapping[str, RunConfig],
                    descriptions: Mapping[str, str]) -> None:
    """The options both demos take: --seed, --seeds, --network, --epochs, --lr, --hidden,
    --engine, --out and --quiet.  `descriptions` says what each network is, for the help."""
    def each(field: str) -> str:
        def shown(config: RunConfig) -> str:
            value = getattr(config, field)
            if isinstance(value, str):
                return value
            return " ".join(map(str, value)) if isinstance(value, tuple) else f"{value:g}"
        return ", ".join(f"{name} {shown(config)}" for name, config in networks.items())

    parser.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, metavar="N",
                        help="random seed of the split, the initial weights and the batch "
                             "order (default: %(default)s)")
    parser.add_argument("--seeds", type=int_in(1), default=None, metavar="N",
                        help="run seeds 0..N-1 instead, and print the mean test accuracy "
                             "(default: one run, of --seed)")
    parser.add_argument("--network", choices=list(networks), default="relu-ce",
                        help="; ".join(f"{name}: {text}" for name, text in descriptions.items())
                        + " (default: %(default)s)")
    parser.add_argument("--epochs", type=int_in(1), metavar="N",
                        help=f"passes over the training data (default: {each('epochs')})")
    parser.add_argument("--lr", type=learning_rate, metavar="RATE",
                        help=f"learning rate, above 0 (default: {each('lr')})")
    parser.add_argument("--hidden", type=int_in(1, MAX_UNITS), nargs="+", metavar="UNITS",
                        help=f"hidden layer sizes, 1 to {MAX_UNITS} units each, at most "
                             f"{MAX_WEIGHTS:,} weights in all (default: {each('hidden')})")
    parser.add_argument("--engine", choices=ENGINES,
                        help="value: one scalar Value per weight, a graph you can draw and "
                             "step through; tensor: a weight matrix per layer, the same "
                             f"training on NumPy arrays, faster (default: {each('engine')})")
    parser.add_argument("--out", type=output_directory, default=Path("out"), metavar="DIR",
                        help="directory for the saved model, made if missing (default: "
                             "%(default)s)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (default: a bar while training)")


def check_size(parser: argparse.ArgumentParser, config: RunConfig, n_inputs: int,
               n_outputs: int) -> None:
    """Exit through `parser` (one line, status 2) if `config`'s network between `n_inputs`
    and `n_outputs` has more than `MAX_WEIGHTS` weights."""
    sizes = [n_inputs, *config.hidden, n_outputs]
    weights = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    if weights > MAX_WEIGHTS:
        parser.error(f"--hidden {' '.join(map(str, config.hidden))} makes a network of "
                     f"{weights:,} weights and biases; the demos allow at most "
                     f"{MAX_WEIGHTS:,}")


def os_error_line(error: OSError) -> str:
    """An error from writing a file, as one line naming the file."""
    if error.filename:
        return f"cannot write {error.filename}: {error.strerror}"
    return error.strerror or str(error)


def chosen_config(args: argparse.Namespace, networks: Mapping[str, Config],
                  **overrides: Any) -> Config:
    """The network named by --network with --epochs, --lr, --hidden, --engine and the given
    `overrides` (those that are not None) put in."""
    changes = {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr),
                                 ("engine", args.engine), *overrides.items())
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


def one_or_several_seeds(args: argparse.Namespace,
                         train: Callable[[int, bool | None], Run]) -> Run | None:
    """With --seeds N: ``train(seed, progress)`` for seeds 0..N-1, a line each and the
    mean (`run_seeds`), and None.  Else the run of --seed."""
    progress = False if args.quiet else None
    if args.seeds is None:
        return train(args.seed, progress)
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
