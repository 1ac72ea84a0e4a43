"""The Iris demo's training against its floor: what `python -m demos.iris` could take.

Run: ``python benchmarks/iris.py`` (``--rounds N``, default 3).

The demo trains the Iris tutorial's 4-16-16-3 ReLU network (softmax cross-entropy, Adam,
lr 0.01, weight decay 0.01) for 80 epochs of 16-sample batches on 120 flowers: 640
optimizer steps, 9,600 forward and backward passes of one sample.  This script times
that training three ways, in CPU seconds of this process, taking turns round after
round (each figure is the median over the rounds):

* the floor: the same training written out by hand in plain Python floats (the same
  initial weights, the same shuffled batches, the same Adam update), the fastest a
  scalar engine in pure Python could hope for;
* the demo itself (`demos.iris.train_iris`, the value engine);
* the same training on the Tensor engine (``engine="tensor"``), for comparison.

The floor and the demo must end with the same weights (up to rounding), or the script
stops: the floor is the demo's work, not less.
"""

from __future__ import annotations

import sys
from pathlib import Path

from threads import add_threads_option, pin_blas_threads  # this script's directory

THREADS = pin_blas_threads()  # before anything imports NumPy
# engine.py, this script's neighbour, pins the same threads (NumPy is not loaded yet)
from engine import handwritten_gradients, interleaved, onehot_targets  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402

import numpy as np  # noqa: E402

from demos.iris import NETWORKS, IrisConfig, train_iris  # noqa: E402
from mlp import MLP, Standardizer, load_iris, train_test_split  # noqa: E402

SEED = 0


def demo_data(seed: int) -> tuple[list[list[float]], list[int]]:
    """The demo's training part: split as it splits, standardized as it standardizes."""
    data = load_iris()
    X_train, _, y_train, _ = train_test_split(data.X, data.y, 0.2, seed=seed)  # noqa: N806
    return Standardizer().fit(X_train).transform(X_train).tolist(), y_train.tolist()


def initial_weights(config: IrisConfig, seed: int) -> list[list[list[float]]]:
    """The demo's initial weights, laid out as `model_weights` lays them out."""
    return model_weights(MLP(4, [*config.hidden, 3], activation=config.activation,
                             output=config.output, seed=seed))


def handwritten_training(config: IrisConfig, seed: int):
    """The floor: the demo's training in plain Python, from the same start; returns a
    function that trains and returns the final weights."""
    xs, ys = demo_data(seed)
    start = initial_weights(config, seed)
    targets = onehot_targets(ys)
    n, size = len(xs), config.batch_size
    b1, b2, eps, lr, wd = 0.9, 0.999, 1e-8, config.lr, config.weight_decay

    def train() -> list[list[list[float]]]:
        layers = [[list(row) for row in layer] for layer in start]
        m = [[[0.0] * len(row) for row in layer] for layer in layers]
        v = [[[0.0] * len(row) for row in layer] for layer in layers]
        rng = np.random.default_rng(seed)  # `fit`'s shuffle: one permutation per epoch
        steps = 0
        for _ in range(config.epochs):
            order = rng.permutation(n).tolist()
            for begin in range(0, n, size):
                picked = order[begin:begin + size]
                _, grads = handwritten_gradients(layers, [xs[i] for i in picked],
                                                 [ys[i] for i in picked],
                                                 [targets[i] for i in picked])
                steps += 1
                correction1, correction2 = 1.0 - b1**steps, 1.0 - b2**steps
                for layer, g_layer, m_layer, v_layer in zip(layers, grads, m, v):
                    for j, (row, g_row, m_row, v_row) in enumerate(
                            zip(layer, g_layer, m_layer, v_layer)):
                        new_row = []
                        for k, (w, g) in enumerate(zip(row, g_row)):
                            g = g + wd * w
                            mk = m_row[k] = b1 * m_row[k] + (1.0 - b1) * g
                            vk = v_row[k] = b2 * v_row[k] + (1.0 - b2) * g * g
                            new_row.append(w - lr * (mk / correction1)
                                           / (math.sqrt(vk / correction2) + eps))
                        layer[j] = new_row
        return layers

    return train


def model_weights(model: MLP) -> list[list[list[float]]]:
    """Per layer, a row per neuron: its weights, then its bias."""
    return [[[*w_row, b] for w_row, b in zip(w.tolist(), b.tolist())]
            for w, b in model.get_weights()]


def largest_difference(a: list[list[list[float]]], b: list[list[list[float]]]) -> float:
    return max(abs(x - y) for la, lb in zip(a, b) for ra, rb in zip(la, lb)
               for x, y in zip(ra, rb))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/iris.py",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, metavar="N",
                        help="interleaved rounds; each figure is the median (default: 3)")
    add_threads_option(parser)
    args = parser.parse_args()
    config = NETWORKS["relu-ce"]
    assert config.optimizer == "adam" and config.loss == "cross_entropy"
    floor = handwritten_training(config, SEED)

    floor_weights = floor()
    demo = train_iris(SEED, config, progress=False)
    difference = largest_difference(floor_weights, model_weights(demo.model))
    largest = max(abs(x) for layer in floor_weights for row in layer for x in row)
    if not difference <= 1e-9 * largest:
        raise SystemExit(f"the floor and the demo end with different weights (largest "
                         f"difference {difference:.3g}): the floor does not do the demo's work")
    tensor_config = dataclasses.replace(config, engine="tensor")

    times = interleaved({
        "floor": floor,
        "demo": lambda: train_iris(SEED, config, progress=False),
        "tensor": lambda: train_iris(SEED, tensor_config, progress=False),
    }, max(1, args.rounds))
    medians = {name: statistics.median(t) for name, t in times.items()}
    n_train = len(demo_data(SEED)[0])
    steps = config.epochs * math.ceil(n_train / config.batch_size)
    passes = config.epochs * n_train
    print(f"Python {sys.version.split()[0]}, BLAS threads {THREADS}; CPU time\n")
    print(f"the Iris demo's training: {'-'.join(map(str, (4, *config.hidden, 3)))} ReLU, "
          f"softmax cross-entropy, Adam, {config.epochs} epochs of {config.batch_size}-sample "
          f"batches ({steps} steps), {n_train} flowers; median of {len(times['floor'])} "
          f"interleaved rounds:")
    rows = [("hand-written plain Python (floor)", "floor"),
            ("the demo (autograd + mlp, value engine)", "demo"),
            ('the same on engine="tensor"', "tensor")]
    for label, name in rows:
        print(f"  {label:<42}{medians[name]:7.2f} s {medians[name] / medians['floor']:7.2f}x")
    print(f"\nthe floor and the demo end with the same weights (largest difference "
          f"{difference:.1g}); the demo's test accuracy {demo.test_accuracy:.1%}")
    print(f"per sample pass: floor {medians['floor'] / passes * 1e6:.0f} us, "
          f"demo {medians['demo'] / passes * 1e6:.0f} us")


if __name__ == "__main__":
    main()
