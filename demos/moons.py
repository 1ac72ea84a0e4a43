"""micrograd's classic demo: a 2-16-16-1 MLP separates two moons with a hinge loss.

The training loop is written out the way micrograd's notebook does it (forward every
sample, hinge loss + L2, zero_grad, backward, SGD with a learning rate decaying from 1.0
to 0.1), using this library's pieces.  At the end it draws the decision boundary.

    python -m demos.moons                 # writes out/moons.png (needs matplotlib)
    python -m demos.moons --steps 50 --seed 3 --out /tmp/moons
"""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N806

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from demos.common import MAX_SEED, DemoParser, int_in, os_error_line, output_directory, run_main
from mlp import MLP, SGD, LinearLR, accuracy, hinge, l2_penalty, make_moons
from mlp.losses import mean

#: micrograd's L2 strength: loss += ALPHA * sum(p**2) over all parameters
ALPHA = 1e-4


def train_moons(steps: int = 100, seed: int = 0, log_every: int = 10,
                verbose: bool = True) -> tuple[MLP, list[float], float, float]:
    """Train micrograd's moons model; returns (model, losses per step, accuracy, seconds)."""
    X, y = make_moons(n_samples=100, noise=0.1, seed=seed)
    model = MLP(2, [16, 16, 1], init="uniform", seed=seed)  # micrograd's U(-1, 1) weights
    optimizer = SGD(model.parameters(), lr=1.0)
    schedule = LinearLR(optimizer, total_epochs=100, end_factor=0.1)  # 1.0 - 0.9*k/100
    rows, labels = X.tolist(), y.tolist()
    losses: list[float] = []
    start = time.perf_counter()
    for step in range(steps):
        scores = [model(x) for x in rows]  # one Value per sample (one output)
        data_loss = mean([hinge(s, t) for s, t in zip(scores, labels)])
        # alpha * sum(p**2) is l2_penalty with strength 2*alpha (it is strength/2 * sum p**2)
        total = data_loss + l2_penalty(model.parameters(), 2 * ALPHA)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        schedule.step()
        acc = sum((s.data > 0) == (t == 1) for s, t in zip(scores, labels)) / len(labels)
        losses.append(total.data)
        if verbose and (step % log_every == 0 or step == steps - 1):
            print(f"step {step:3d}: loss {total.data:.4f}, accuracy {100 * acc:.0f}%")
    final = accuracy(y, model.predict(X))
    return model, losses, final, time.perf_counter() - start


def build_parser() -> argparse.ArgumentParser:
    """The demo's command line."""
    parser = DemoParser("moons", __doc__)
    parser.add_argument("--steps", type=int_in(1), default=100, metavar="N",
                        help="training steps, each over all 100 points (default: %(default)s)")
    parser.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, metavar="N",
                        help="random seed of the data and the initial weights (default: "
                             "%(default)s)")
    parser.add_argument("--out", type=output_directory, default=Path("out"), metavar="DIR",
                        help="directory for moons.png, made if missing (default: %(default)s)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit status (1 if the picture cannot be written, 2 for a
    bad option)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    model, _, final, seconds = train_moons(args.steps, args.seed)
    print(f"{model!r}: accuracy {100 * final:.0f}% after {args.steps} steps ({seconds:.1f} s)")
    try:
        from mlp.plot import plot_decision_boundary

        X, y = make_moons(n_samples=100, noise=0.1, seed=args.seed)
        args.out.mkdir(parents=True, exist_ok=True)
        picture = plot_decision_boundary(model, X, y, args.out / "moons.png",
                                         title="moons: 2-16-16-1 MLP, hinge loss")
        print(f"saved {picture}")
    except ImportError as exc:
        print(f"no picture: {exc}")
    except OSError as error:
        print(f"{parser.prog}: error: {os_error_line(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    run_main(main, "moons")
