"""Handwritten digits (the UCI 8x8 set that ships with `mlp`) on the tensor engine.

Loads the 1797 images of 8x8 pixels, splits them 80/20 keeping the digits balanced,
trains a 64-128-128-10 MLP (ReLU hidden layers, He initialization, softmax output,
cross-entropy, Adam) with ``engine="tensor"`` (each layer a weight matrix, a batch per
step), prints training and test accuracy and the confusion matrix, saves the model to
JSON, reloads it and checks that it predicts exactly the same.  Takes about a second.

    python -m demos.digits                         # seed 0
    python -m demos.digits --network sigmoid-mse   # the four-equations tutorial's network
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
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from demos.common import (
    DemoParser,
    RunConfig,
    TrainedRun,
    add_run_options,
    check_size,
    chosen_config,
    one_or_several_seeds,
    os_error_line,
    reload_matches,
    report_run,
    run_main,
    train_and_score,
)
from mlp import train_test_split
from mlp.digits import load_digits

#: the ten classes, named by their digit
CLASS_NAMES: tuple[str, ...] = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class DigitsConfig(RunConfig):
    """A network and how it is trained (the fields are `RunConfig`'s)."""

    hidden: tuple[int, ...] = (128, 128)
    lr: float = 0.005
    engine: str = "tensor"


#: the two networks: the NumPy MNIST tutorial's recipe (ReLU, softmax + cross-entropy)
#: and the four-equations tutorial's (sigmoid + MSE)
NETWORKS: dict[str, DigitsConfig] = {
    "relu-ce": DigitsConfig(),
    # sigmoid hidden and output layers, the mean-squared-error cost on one-hot targets,
    # plain SGD.  MSE's gradients through sigmoids are small, hence the large lr.
    "sigmoid-mse": DigitsConfig(hidden=(30,), activation="sigmoid", output="sigmoid",
                                loss="mse", optimizer="sgd", lr=10.0, epochs=60,
                                batch_size=10),
}


def train_digits(seed: int = 0, config: DigitsConfig | None = None,
                 progress: bool | None = None) -> TrainedRun:
    """Split (stratified 80/20), build and train one model with `seed`."""
    config = config or DigitsConfig()
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.2, seed=seed)
    run = train_and_score(config, X_train, y_train, X_test, y_test, n_classes=10, seed=seed,
                          progress=progress)
    run.model.metadata = {"dataset": "uci-digits-8x8", "class_names": list(CLASS_NAMES),
                          "seed": seed, "test_accuracy": run.test_accuracy}
    return run


def _describe(config: DigitsConfig, name: str) -> str:
    batch = "full batch" if config.batch_size is None else f"batch {config.batch_size}"
    return (f"network {name}: 64-{'-'.join(map(str, config.hidden))}-10 {config.activation}, "
            f"{config.output} output, {config.loss}, {config.optimizer} lr {config.lr:g}, "
            f"{batch}, {config.epochs} epochs, {config.engine} engine")


#: what each network is, for --help
DESCRIPTIONS = {
    "relu-ce": "ReLU, He initialization, softmax + cross-entropy (the NumPy MNIST "
               "tutorial's recipe), Adam",
    "sigmoid-mse": "sigmoid, mean squared error on one-hot targets, plain SGD (the "
                   "four-equations tutorial's network)",
}


def build_parser() -> argparse.ArgumentParser:
    """The demo's command line."""
    parser = DemoParser("digits", __doc__)
    add_run_options(parser, NETWORKS, DESCRIPTIONS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit status (1 if the reloaded model disagrees or the
    model cannot be written, 2 for a bad option)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    config = chosen_config(args, NETWORKS)
    check_size(parser, config, 64, 10)
    print(_describe(config, args.network))
    result = one_or_several_seeds(args,
                                  lambda seed, progress: train_digits(seed, config, progress))
    if result is None:
        return 0
    n_test = len(result.y_test)
    report_run(result, f"{1797 - n_test} training / {n_test} test images, stratified, seed "
                       f"{args.seed}; pixels scaled to [0, 1]", CLASS_NAMES)
    try:
        same = reload_matches(result.model, args.out / f"digits_{args.network}.json",
                              result.X_test)
    except OSError as error:
        print(f"{parser.prog}: error: {os_error_line(error)}", file=sys.stderr)
        return 1
    return 0 if same else 1


if __name__ == "__main__":
    run_main(main, "digits")
