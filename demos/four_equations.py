"""The four equations of backpropagation on a small sigmoid + MSE network, checked.

The four-equations tutorial's network: sigmoid neurons in every layer and the
mean-squared-error cost on a one-hot target.  This demo builds a 2-3-3-2 one, computes
BP1..BP4 layer by layer with NumPy (`mlp.four_equations`), prints every step with its
numbers, and compares each δ, ∂C/∂b and ∂C/∂W with what the engine's backward() gives.
The last line is the largest difference:

    python -m demos.four_equations                    # one sample, the value engine
    python -m demos.four_equations --engine tensor    # the same on the tensor engine
    python -m demos.four_equations --batch 4          # a mini-batch: gradients averaged
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from mlp import ENGINES, MLP, four_equations

#: the demo's network: 2 inputs, two hidden layers of 3, 2 outputs, sigmoid everywhere
SIZES = (2, [3, 3, 2])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns 0 (1 if the equations and backward() disagree)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=ENGINES, default="value",
                        help="what computes backward() (default: value)")
    parser.add_argument("--batch", type=int, default=1, metavar="N",
                        help="samples in the mini-batch (default 1: one sample)")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed of the weights and of the batch (default 0)")
    args = parser.parse_args(argv)
    if args.batch < 1:
        parser.error("--batch must be at least 1")

    model = MLP(*SIZES, activation="sigmoid", output="sigmoid", seed=args.seed,
                engine=args.engine)
    if args.batch == 1:
        x, y = np.array([0.5, -1.0]), 1  # class 1: the one-hot target [0, 1]
    else:
        rng = np.random.default_rng(args.seed)
        x, y = rng.normal(size=(args.batch, 2)), rng.integers(0, 2, size=args.batch)
    result = four_equations(model, x, y, loss="mse")
    print(result.report())
    return 0 if result.max_error <= 1e-10 else 1


if __name__ == "__main__":
    sys.exit(main())
