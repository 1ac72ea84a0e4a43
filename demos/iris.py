"""The Iris tutorial's classifier, trained with the `mlp` library, saved and reloaded.

Loads Fisher's Iris data, splits it 80/20 keeping the species balanced, standardizes the
features with statistics of the training part only, trains a 4-16-16-3 MLP (ReLU hidden
layers, softmax output, categorical cross-entropy, Adam), prints training and test
accuracy and the confusion matrix, saves the model with its scaling to JSON, reloads it
and checks that it predicts exactly the same.

    python -m demos.iris                       # seed 0
    python -m demos.iris --seeds 10            # seeds 0..9: mean test accuracy
    python -m demos.iris --network sigmoid-mse # the four-equations tutorial's sigmoid + MSE
    python -m demos.iris --plot                # also out/iris_<network>_history.png
    python -m demos.iris --engine tensor       # the same training on NumPy arrays, ~5x faster

The seed sets the split, the initial weights and the batch order.
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
from mlp import Standardizer, load_iris, train_test_split


@dataclass(frozen=True)
class IrisConfig(RunConfig):
    """A network and how it is trained (the fields are `RunConfig`'s)."""

    hidden: tuple[int, ...] = (16, 16)
    epochs: int = 80
    batch_size: int | None = 16
    weight_decay: float = 0.01


#: the two networks the README compares
NETWORKS: dict[str, IrisConfig] = {
    # the Iris tutorial's: ReLU hidden layers, softmax + categorical cross-entropy
    "relu-ce": IrisConfig(),
    # the four-equations tutorial's: sigmoid everywhere and the mean-squared-error cost on
    # one-hot targets.
    # No weight decay: MSE's gradients through saturated sigmoids are so small that an
    # L2 pull of 0.01 wins and the network learns nothing (33 % accuracy).
    "sigmoid-mse": IrisConfig(activation="sigmoid", output="sigmoid", loss="mse",
                              weight_decay=0.0),
}


@dataclass
class IrisResult(TrainedRun):
    """What one training run produced, with the scaling and the species names."""

    scaler: Standardizer
    class_names: tuple[str, ...]


def train_iris(seed: int = 0, config: IrisConfig | None = None,
               progress: bool | None = None) -> IrisResult:
    """Split (stratified 80/20), standardize, build and train one model with `seed`."""
    config = config or IrisConfig()
    data = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, 0.2, seed=seed)
    scaler = Standardizer().fit(X_train)
    run = train_and_score(config, scaler.transform(X_train), y_train,
                          scaler.transform(X_test), y_test, n_classes=3, seed=seed,
                          progress=progress)
    run.model.metadata = {
        "dataset": "iris",
        "class_names": list(data.target_names),
        "feature_names": list(data.feature_names),
        "standardizer": scaler.to_dict(),
        "seed": seed,
        "test_accuracy": run.test_accuracy,
    }
    # X_test as measured, in cm: the reload check scales it with the saved statistics
    return IrisResult(**{**vars(run), "X_test": X_test}, scaler=scaler,
                      class_names=data.target_names)


def _describe(config: IrisConfig, name: str) -> str:
    batch = "full batch" if config.batch_size is None else f"batch {config.batch_size}"
    decay = f", weight decay {config.weight_decay:g}" if config.weight_decay else ""
    return (f"network {name}: {config.loss}, {config.optimizer} lr {config.lr:g}, {batch}, "
            f"{config.epochs} epochs{decay}")


#: what each network is, for --help
DESCRIPTIONS = {
    "relu-ce": "ReLU, softmax + cross-entropy, Adam (the Iris tutorial's network)",
    "sigmoid-mse": "sigmoid, mean squared error on one-hot targets, Adam (the "
                   "four-equations tutorial's cost)",
}


def build_parser() -> argparse.ArgumentParser:
    """The demo's command line."""
    parser = DemoParser("iris", __doc__)
    add_run_options(parser, NETWORKS, DESCRIPTIONS)
    parser.add_argument("--plot", action="store_true",
                        help="also save the training curves as a PNG in --out (needs "
                             "matplotlib; default: no picture)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit status (1 if the reloaded model disagrees or a file
    cannot be written, 2 for a bad option)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    config = chosen_config(args, NETWORKS)
    check_size(parser, config, 4, 3)
    print(_describe(config, args.network))
    result = one_or_several_seeds(args,
                                  lambda seed, progress: train_iris(seed, config, progress))
    if result is None:
        return 0
    n_test = len(result.y_test)
    report_run(result, f"{150 - n_test} training / {n_test} test flowers, stratified, seed "
                       f"{args.seed}; features standardized with training statistics",
               result.class_names)
    try:
        same = reload_matches(
            result.model, args.out / f"iris_{args.network}.json",
            result.scaler.transform(result.X_test),
            lambda loaded: Standardizer.from_dict(loaded.metadata["standardizer"]).transform(
                result.X_test))
        if args.plot:
            try:
                from mlp.plot import plot_history

                picture = plot_history(result.history,
                                       args.out / f"iris_{args.network}_history.png",
                                       title=f"Iris, {args.network}")
                print(f"saved {picture}")
            except ImportError as exc:
                print(f"no plot: {exc}")
    except OSError as error:
        print(f"{parser.prog}: error: {os_error_line(error)}", file=sys.stderr)
        return 1
    return 0 if same else 1


if __name__ == "__main__":
    run_main(main, "iris")
