"""Engine benchmark: per-node costs, memory per node, and one Iris-sized training step.

Run: ``python benchmarks/engine.py`` (``--quick`` for a shorter run).

Every figure is measured in this run; ratios compare against baselines measured in
this same run, so they hold on any machine:

* the floor: a hand-written plain-Python forward+backward of the same step;
* micrograd's design (a ``_backward`` closure per node, which forms reference
  cycles), rebuilt here in a few lines, with Python's garbage collector on and off.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from operator import mul
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

import autograd as ag
from autograd import Value

SIZES = [4, 16, 16, 3]
N_SAMPLES = 150
LEARNING_RATE = 0.1
TARGET_RATIO = 3.0


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Fastest of `repeats` runs, in CPU seconds of this process.

    CPU time, not wall time: all of this is single-threaded, and work elsewhere on the
    machine (the other core's) then does not count against either side of a ratio.
    """
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


# -- per-node figures ---------------------------------------------------------------------


def chain(n: int) -> Value:
    x = Value(0.5)
    for _ in range(n):
        x = x * 0.999999 + 0.000001
    return x


def wide(n: int) -> Value:
    xs = [Value(float(i)) for i in range(n)]
    return ag.sum([x * x for x in xs])


def node_count(root: Value) -> int:
    return len(ag.topological_order(root))


def per_node_figures(n: int, repeats: int) -> list[tuple[str, float, float]]:
    rows = []
    for name, build in (("chain", chain), ("wide", wide)):
        root = build(n)
        nodes = node_count(root)
        t_build = best_of(lambda b=build: b(n), repeats)
        t_back = best_of(root.backward, repeats)
        rows.append((name, t_build / nodes * 1e9, t_back / nodes * 1e9))
    return rows


def bytes_per_node(n: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    root = chain(n)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / node_count(root)


# -- the Iris-sized training step ----------------------------------------------------------


def make_data(seed: int = 0) -> tuple[list[list[float]], list[int], list[list[list[float]]]]:
    rng = random.Random(seed)
    xs = [[rng.gauss(0.0, 1.0) for _ in range(SIZES[0])] for _ in range(N_SAMPLES)]
    ys = [rng.randrange(SIZES[-1]) for _ in range(N_SAMPLES)]
    weights = [
        [[rng.uniform(-1.0, 1.0) for _ in range(n_in)] + [0.0] for _ in range(n_out)]
        for n_in, n_out in itertools.pairwise(SIZES)
    ]  # each row: the neuron's weights, then its bias
    return xs, ys, weights


def engine_step_fn(xs: list[list[float]], ys: list[int], weights: list[list[list[float]]]):
    """One full-batch step with the library: MLP forward, mean cross-entropy, backward, SGD."""
    import numpy as np

    from mlp import MLP, SGD, cross_entropy
    from mlp.losses import mean

    model = MLP(SIZES[0], SIZES[1:], activation="relu", seed=0)
    model.set_weights([(np.array([row[:-1] for row in layer]), np.array([row[-1] for row in layer]))
                       for layer in weights])
    optimizer = SGD(model.parameters(), lr=LEARNING_RATE)

    def step() -> float:
        optimizer.zero_grad()
        logits = model.forward_batch(xs, logits=True)
        loss = mean([cross_entropy(z, y) for z, y in zip(logits, ys)])
        loss.backward()
        optimizer.step()
        return loss.data

    return step


def handwritten_step_fn(xs: list[list[float]], ys: list[int], weights: list[list[list[float]]]):
    """The floor: the same step written out by hand in plain Python floats."""
    layers = [[list(row) for row in layer] for layer in weights]
    n_layers = len(layers)
    inv_n = 1.0 / len(xs)

    def step() -> float:
        grads = [[[0.0] * len(row) for row in layer] for layer in layers]
        total = 0.0
        for x, y in zip(xs, ys):
            acts = [x]
            a = x
            for li, layer in enumerate(layers):
                z = [sum(map(mul, row, a), row[-1]) for row in layer]
                if li < n_layers - 1:
                    a = [v if v > 0.0 else 0.0 for v in z]
                    acts.append(a)
            m = max(z)
            e = [math.exp(v - m) for v in z]
            s = sum(e)
            total += m + math.log(s) - z[y]
            delta = [v / s * inv_n for v in e]
            delta[y] -= inv_n
            for li in range(n_layers - 1, -1, -1):
                a = acts[li]
                g_layer = grads[li]
                for j, dj in enumerate(delta):
                    g_row = g_layer[j]
                    g_layer[j] = [g + dj * ai for g, ai in zip(g_row, a)]
                    g_layer[j].append(g_row[-1] + dj)
                if li:
                    back = [0.0] * len(a)
                    for dj, row in zip(delta, layers[li]):
                        back = [bk + dj * w for bk, w in zip(back, row)]
                    delta = [bk if ai > 0.0 else 0.0 for bk, ai in zip(back, a)]
        for li, layer in enumerate(layers):
            layers[li] = [
                [w - LEARNING_RATE * g for w, g in zip(row, g_row)]
                for row, g_row in zip(layer, grads[li])
            ]
        return total * inv_n

    return step


class MicroValue:
    """micrograd's design, for comparison: one ``_backward`` closure per node."""

    def __init__(self, data, children=(), op=""):
        self.data, self.grad = data, 0.0
        self._backward = lambda: None
        self._prev, self._op = set(children), op

    def __add__(self, other):
        other = other if isinstance(other, MicroValue) else MicroValue(other)
        out = MicroValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, MicroValue) else MicroValue(other)
        out = MicroValue(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = MicroValue(0.0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = MicroValue(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self):
        out = MicroValue(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def backward(self):
        topo, visited = [], set()
        stack = [(self, False)]
        while stack:  # iterative, so the comparison is about design, not recursion
            node, done = stack.pop()
            if done:
                topo.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()


def micrograd_step_fn(xs: list[list[float]], ys: list[int], weights: list[list[list[float]]]):
    params = [[[MicroValue(w) for w in row] for row in layer] for layer in weights]
    flat = [p for layer in params for row in layer for p in row]

    def step() -> float:
        for p in flat:
            p.grad = 0.0
        losses = []
        for x, y in zip(xs, ys):
            a = [MicroValue(v) for v in x]
            for li, layer in enumerate(params):
                z = []
                for row in layer:
                    acc = row[-1]
                    for w, ai in zip(row, a):
                        acc = acc + w * ai
                    z.append(acc)
                a = [v.relu() for v in z] if li < len(params) - 1 else z
            m = max(v.data for v in a)
            total = None
            for v in a:
                term = (v - m).exp()
                total = term if total is None else total + term
            losses.append(total.log() + m - a[y])
        loss = losses[0]
        for term in losses[1:]:
            loss = loss + term
        loss = loss * (1.0 / len(xs))
        loss.backward()
        for p in flat:
            p.data -= LEARNING_RATE * p.grad
        return loss.data

    return step


def time_step(make: Callable, data, repeats: int, gc_enabled: bool = True) -> tuple[float, float]:
    step = make(*data)
    loss = step()  # warm-up; also the first step's loss, to check the designs agree
    was_enabled = gc.isenabled()
    if not gc_enabled:
        gc.disable()
    try:
        seconds = best_of(step, repeats)
    finally:
        if was_enabled:
            gc.enable()
    return seconds, loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller graphs")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    n = 20_000 if args.quick else 100_000

    print(f"Python {sys.version.split()[0]}; best of {repeats} runs, CPU time\n")
    print(f"{'graph':<8}{'build ns/node':>15}{'backward ns/node':>18}")
    for name, build_ns, back_ns in per_node_figures(n, repeats):
        print(f"{name:<8}{build_ns:>15.0f}{back_ns:>18.0f}")
    print(f"\nmemory: {bytes_per_node(n):.0f} bytes per node (tracemalloc, chain of {n:,})")

    data = make_data()
    floor, floor_loss = time_step(handwritten_step_fn, data, repeats)
    ours, our_loss = time_step(engine_step_fn, data, repeats)
    ours_nogc, _ = time_step(engine_step_fn, data, repeats, gc_enabled=False)
    assert math.isclose(floor_loss, our_loss, rel_tol=1e-9), (floor_loss, our_loss)
    print(f"\none full-batch training step, MLP {'-'.join(map(str, SIZES))}, {N_SAMPLES} samples "
          "(forward, cross-entropy, backward, SGD):")
    rows = [("hand-written plain Python (floor)", floor), ("autograd + mlp, GC on", ours),
            ("autograd + mlp, GC off", ours_nogc)]
    micro_repeats = 1 if args.quick else 2
    micro, micro_loss = time_step(micrograd_step_fn, data, micro_repeats)
    micro_nogc, _ = time_step(micrograd_step_fn, data, micro_repeats, gc_enabled=False)
    assert math.isclose(floor_loss, micro_loss, rel_tol=1e-9), (floor_loss, micro_loss)
    rows += [("micrograd's design, GC on", micro), ("micrograd's design, GC off", micro_nogc)]
    for label, seconds in rows:
        print(f"  {label:<36}{seconds * 1e3:>9.1f} ms  {seconds / floor:>6.2f}x floor")
    verdict = "met" if ours <= TARGET_RATIO * floor else "NOT met"
    print(f"\ntarget: the library's step (GC on) at most {TARGET_RATIO:g}x the floor: {verdict}")


if __name__ == "__main__":
    main()
