"""Engine benchmark: per-node costs, memory per node, and an Iris-sized training step.

Run: ``python benchmarks/engine.py`` (``--quick`` for smaller per-node graphs and one
micrograd run; the training step is timed as in the full run).

Every figure is measured in this run; ratios compare against baselines measured in
this same run, so they hold on any machine:

* the floor: a hand-written plain-Python forward+backward of the same step, for the
  library's batch step (`MLP.forward_batch`, cross-entropy) and for the step written
  as micrograd's README writes it (``model(x)`` per sample, a sum of squares);
* micrograd's design (a ``_backward`` closure per node, which forms reference
  cycles), rebuilt here in a few lines, with Python's garbage collector on and off.

The library's step and the floor take turns, round after round, and each side's figure
is its median over the same rounds.  The verdict on a target takes, in every round, the
step's time over its floor's time measured right beside it, and then the median of those
ratios: a slow spell on the machine hits both sides of one round alike, where the two
medians may come from rounds far apart.  CPU time of this process, one BLAS thread
(``--threads``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from threads import add_threads_option, pin_blas_threads  # this script's directory

THREADS = pin_blas_threads()  # before anything imports NumPy
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import gc  # noqa: E402
import itertools  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from operator import mul  # noqa: E402

import autograd as ag  # noqa: E402
from autograd import Value  # noqa: E402

SIZES = [4, 16, 16, 3]
N_SAMPLES = 150
LEARNING_RATE = 0.1
TARGET_RATIO = 2.0
#: rounds of the interleaved step timing, in the quick run as in the full one (about 2 s)
STEP_ROUNDS = 25


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


def library_model(weights: list[list[list[float]]]):
    """The library's MLP with the benchmark's weights (each row: weights, then bias)."""
    import numpy as np

    from mlp import MLP

    model = MLP(SIZES[0], SIZES[1:], activation="relu", seed=0)
    model.set_weights([(np.array([row[:-1] for row in layer]), np.array([row[-1] for row in layer]))
                       for layer in weights])
    return model


def engine_step_fn(xs: list[list[float]], ys: list[int], weights: list[list[list[float]]]):
    """One full-batch step with the library: MLP forward, mean cross-entropy, backward, SGD."""
    from mlp import SGD, cross_entropy
    from mlp.losses import mean

    model = library_model(weights)
    optimizer = SGD(model.parameters(), lr=LEARNING_RATE)

    def step() -> float:
        optimizer.zero_grad()
        logits = model.forward_batch(xs, logits=True)
        loss = mean([cross_entropy(z, y) for z, y in zip(logits, ys)])
        loss.backward()
        optimizer.step()
        return loss.data

    return step


def node_by_node_step_fn(xs: list[list[float]], ys: list[int], weights: list[list[list[float]]],
                         fused: bool = True):
    """A baseline: the library's step with every hidden neuron built by `autograd.apply`,
    one node at a time, as `mlp` did before `autograd.apply_rows`: one ``relu_linear``
    node (`fused`), or a ``linear`` and a ``relu`` node, as before the fusion."""
    import autograd as ag
    from mlp import SGD, cross_entropy
    from mlp.losses import mean

    model = library_model(weights)
    optimizer = SGD(model.parameters(), lr=LEARNING_RATE)
    linear = ag.OPS["linear"]
    hidden, activation = (ag.OPS["relu_linear"], None) if fused else (linear, ag.OPS["relu"])
    last = len(model.layers) - 1

    def layer_rows(layer, rows, op, act):
        plans = [(n.w, (n.b,), tuple(w.data for w in n.w), (n.b.data,), n._z_label, n._a_label)
                 for n in layer.neurons]
        out_rows = []
        for row in rows:
            row_datas = tuple(v.data for v in row)
            outs = []
            for w, bias, w_datas, b_datas, z_label, a_label in plans:
                z = ag.apply(op, w + row + bias, datas=w_datas + row_datas + b_datas)
                z.label = a_label if op is not linear else z_label
                if act is not None:
                    z = ag.apply(act, (z,), datas=(z.data,))
                    z.label = a_label
                outs.append(z)
            out_rows.append(tuple(outs))
        return out_rows

    def step() -> float:
        optimizer.zero_grad()
        rows = [tuple(ag.Value(v) for v in x) for x in xs]
        for k, layer in enumerate(model.layers):
            rows = layer_rows(layer, rows, *((linear, None) if k == last else (hidden, activation)))
        loss = mean([cross_entropy(list(z), y) for z, y in zip(rows, ys)])
        loss.backward()
        optimizer.step()
        return loss.data

    return step


def walk_before_covering_check(root):
    """`autograd.graph`'s walk before a node whose inputs are all visited was finished with
    one set check: a loop over every node's inputs (the baseline that measures that)."""
    order, leaves = [], {}
    visited = {root}
    stack = [(root, iter(root.parents))]
    push, pop, mark = stack.append, stack.pop, visited.add
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                mark(parent)
                if parent.parents:
                    push((parent, iter(parent.parents)))
                    break
                leaves[parent] = parent.grad
        else:
            pop()
            order.append(node)
    return order, leaves


def walk_figures(xs: list[list[float]], ys: list[int], weights: list[list[list[float]]],
                 rounds: int) -> tuple[float, float]:
    """Median CPU seconds of the graph walk of one training step's loss, now and before."""
    from autograd.graph import _interior_and_leaves
    from mlp import MLP, cross_entropy
    from mlp.losses import mean

    model = MLP(SIZES[0], SIZES[1:], activation="relu", seed=0)
    loss = mean([cross_entropy(z, y) for z, y in zip(model.forward_batch(xs, logits=True), ys)])
    now, before = _interior_and_leaves(loss), walk_before_covering_check(loss)
    assert now[0] == before[0] and list(now[1]) == list(before[1])  # the same order
    times = interleaved({"now": lambda: _interior_and_leaves(loss),
                         "before": lambda: walk_before_covering_check(loss)}, rounds)
    return statistics.median(times["now"]), statistics.median(times["before"])


def handwritten_step_fn(xs: list[list[float]], ys: list[int], weights: list[list[list[float]]],
                        loss: str = "cross_entropy"):
    """The floor: the same step written out by hand in plain Python floats.

    `loss` "cross_entropy" is the batch step's (the mean over the samples); "squares" is
    the micrograd-style loop's sum of squares against one-hot targets.
    """
    layers = [[list(row) for row in layer] for layer in weights]
    targets = onehot_targets(ys)

    def step() -> float:
        total, grads = handwritten_gradients(layers, xs, ys, targets, loss)
        for li, layer in enumerate(layers):
            layers[li] = [
                [w - LEARNING_RATE * g for w, g in zip(row, g_row)]
                for row, g_row in zip(layer, grads[li])
            ]
        return total

    return step


def handwritten_gradients(layers: list[list[list[float]]], xs: list[list[float]], ys: list[int],
                          targets: list[list[float]], loss: str = "cross_entropy"
                          ) -> tuple[float, list[list[list[float]]]]:
    """The floor's forward and backward pass over a batch, in plain Python floats: the
    loss and its gradient for every weight, laid out like `layers` (each row: a ReLU
    neuron's weights, then its bias; the last layer is linear).

    `loss` "cross_entropy" is the mean over the batch of softmax cross-entropy; "squares"
    is the sum of squares against the one-hot `targets`.
    """
    n_layers = len(layers)
    inv_n = 1.0 / len(xs)
    squares = loss == "squares"
    grads = [[[0.0] * len(row) for row in layer] for layer in layers]
    total = 0.0
    for x, y, t in zip(xs, ys, targets):
        acts = [x]
        a = x
        for li, layer in enumerate(layers):
            z = [sum(map(mul, row, a), row[-1]) for row in layer]
            if li < n_layers - 1:
                a = [v if v > 0.0 else 0.0 for v in z]
                acts.append(a)
        if squares:
            diffs = [v - tv for v, tv in zip(z, t)]
            for d in diffs:
                total = total + d * d
            delta = [2.0 * d for d in diffs]
        else:
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
    return (total if squares else total * inv_n), grads


def onehot_targets(ys: list[int]) -> list[list[float]]:
    return [[1.0 if k == y else 0.0 for k in range(SIZES[-1])] for y in ys]


def loop_step_fn(xs: list[list[float]], ys: list[int], weights: list[list[list[float]]]):
    """The step as micrograd's README writes it, with the library's model: ``model(x)``
    one sample at a time, a sum of squares built with Python's ``sum``, ``zero_grad``,
    ``backward``, and a loop over the parameters."""
    model = library_model(weights)
    targets = onehot_targets(ys)
    parameters = model.parameters()

    def step() -> float:
        outputs = [model(x) for x in xs]
        loss = sum((out - t) ** 2 for outs, ts in zip(outputs, targets)
                   for out, t in zip(outs, ts))
        model.zero_grad()
        loss.backward()
        for p in parameters:
            p.data -= LEARNING_RATE * p.grad
        return loss.data

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
    """Best of `repeats` CPU times of one step (after a warm-up step whose loss is
    returned too, to check that the designs agree)."""
    step = make(*data)
    loss = step()
    was_enabled = gc.isenabled()
    if not gc_enabled:
        gc.disable()
    try:
        seconds = best_of(step, repeats)
    finally:
        if was_enabled:
            gc.enable()
    return seconds, loss


def without_gc(step: Callable[[], float]) -> Callable[[], float]:
    """`step` with Python's cyclic garbage collector off while it runs."""
    def run() -> float:
        gc.disable()
        try:
            return step()
        finally:
            gc.enable()
    return run


def interleaved(steps: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """CPU seconds of every step in every round.  Within a round the steps take turns, in
    an order that rotates from round to round, so whatever slows the machine for a while
    slows each of them alike."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for k in range(rounds):
        for name in names[k % len(names):] + names[:k % len(names)]:
            # Every step starts from the same collector state (untimed), so a full
            # collection that the previous steps' garbage made due lands in no one's time
            # by chance; the collections a step's own allocations cause are timed.
            gc.collect()
            start = time.process_time()
            steps[name]()
            times[name].append(time.process_time() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/engine.py",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller per-node graphs, one micrograd run (default: off)")
    add_threads_option(parser)
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    n = 20_000 if args.quick else 100_000

    print(f"Python {sys.version.split()[0]}, BLAS threads {THREADS}; CPU time\n")
    print(f"per node, best of {repeats}:")
    print(f"{'graph':<8}{'build ns/node':>15}{'backward ns/node':>18}")
    for name, build_ns, back_ns in per_node_figures(n, repeats):
        print(f"{name:<8}{build_ns:>15.0f}{back_ns:>18.0f}")
    print(f"\nmemory: {bytes_per_node(n):.0f} bytes per node (tracemalloc, chain of {n:,})")

    data = make_data()
    steps = {  # name: (the step, its floor)
        "batch": (engine_step_fn(*data), handwritten_step_fn(*data)),
        "loop": (loop_step_fn(*data), handwritten_step_fn(*data, loss="squares")),
    }
    for ours, floor in steps.values():  # the first step: the same loss
        floor_loss, our_loss = floor(), ours()
        assert math.isclose(floor_loss, our_loss, rel_tol=1e-9), (floor_loss, our_loss)
    floor_loss = handwritten_step_fn(*data)()
    our_nogc, before_rows = engine_step_fn(*data), node_by_node_step_fn(*data)
    loop_nogc = loop_step_fn(*data)
    two_nodes = node_by_node_step_fn(*data, fused=False)
    for baseline in (before_rows, two_nodes):
        assert math.isclose(floor_loss, baseline(), rel_tol=1e-9)
    for step in [*steps["batch"], *steps["loop"], our_nogc, loop_nogc, before_rows,
                 two_nodes] * 2:
        step()  # warm up
    times = interleaved({"floor": steps["batch"][1], "ours": steps["batch"][0],
                         "ours, GC off": without_gc(our_nogc),
                         "loop floor": steps["loop"][1], "loop": steps["loop"][0],
                         "loop, GC off": without_gc(loop_nogc)}, STEP_ROUNDS)
    # The baselines make more garbage; rounds of their own keep them from timing the
    # collector's work into the verdict's rounds.
    gc.collect()
    gain = interleaved({"ours": steps["batch"][0], "node by node": before_rows,
                        "two nodes": two_nodes}, STEP_ROUNDS)
    floor = statistics.median(times["floor"])
    print(f"\none full-batch training step, MLP {'-'.join(map(str, SIZES))}, {N_SAMPLES} samples "
          f"(forward, cross-entropy, backward, SGD); median and best of {STEP_ROUNDS} "
          f"interleaved rounds:")
    rows = [("hand-written plain Python (floor)", times["floor"]),
            ("autograd + mlp, GC on", times["ours"]),
            ("autograd + mlp, GC off", times["ours, GC off"])]
    micro_repeats = 1 if args.quick else 2
    micro, micro_loss = time_step(micrograd_step_fn, data, micro_repeats)
    micro_nogc, _ = time_step(micrograd_step_fn, data, micro_repeats, gc_enabled=False)
    assert math.isclose(floor_loss, micro_loss, rel_tol=1e-9), (floor_loss, micro_loss)
    print(f"  {'':<36}{'median':>9}  {'vs floor':>8}{'best':>11}")
    for label, seconds in rows:
        middle = statistics.median(seconds)
        print(f"  {label:<36}{middle * 1e3:>6.1f} ms  {middle / floor:>7.2f}x"
              f"{min(seconds) * 1e3:>8.1f} ms")
    for label, seconds in (("micrograd's design, GC on", micro),
                           ("micrograd's design, GC off", micro_nogc)):
        print(f"  {label:<36}{seconds * 1e3:>6.1f} ms  {seconds / floor:>7.2f}x"
              f"  (best of {micro_repeats})")
    loop_floor = statistics.median(times["loop floor"])
    print("\nthe same step written as micrograd's README writes it: model(x) one sample at a "
          "time, a sum of squares with Python's sum(), zero_grad, backward, p.data -= lr * p.grad:")
    for label, seconds in (("hand-written plain Python (floor)", times["loop floor"]),
                           ("autograd + mlp, GC on", times["loop"]),
                           ("autograd + mlp, GC off", times["loop, GC off"])):
        middle = statistics.median(seconds)
        print(f"  {label:<36}{middle * 1e3:>6.1f} ms  {middle / loop_floor:>7.2f}x"
              f"{min(seconds) * 1e3:>8.1f} ms")
    print()
    for name, ours, its_floor in (("the library's step", "ours", "floor"),
                                  ("the micrograd-style loop", "loop", "loop floor")):
        ratios = [a / b for a, b in zip(times[ours], times[its_floor])]
        quartiles = statistics.quantiles(ratios, n=4)
        ratio = statistics.median(ratios)
        of_medians = statistics.median(times[ours]) / statistics.median(times[its_floor])
        verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
        print(f"target: {name} (GC on) at most {TARGET_RATIO:g}x its floor: {verdict} "
              f"({ratio:.2f}x, the median of {STEP_ROUNDS} round-by-round ratios; their middle "
              f"half {quartiles[0]:.2f}x to {quartiles[2]:.2f}x; the ratio of the medians "
              f"{of_medians:.2f}x)")
    fused, before, two = (statistics.median(gain[k]) for k in ("ours", "node by node", "two nodes"))
    print(f"\nthe library's step {fused * 1e3:.1f} ms (medians of {STEP_ROUNDS} interleaved "
          f"rounds) against:")
    print(f"  {before * 1e3:.1f} ms with each fused neuron built by apply() one node at a time "
          f"(before apply_rows): {1 - fused / before:.0%} less")
    print(f"  {two * 1e3:.1f} ms with a linear and a relu node per neuron (before the fusion): "
          f"{1 - fused / two:.0%} less")
    walk_now, walk_before = walk_figures(*data, STEP_ROUNDS)
    print(f"the backward pass's graph walk of that step: {walk_now * 1e3:.2f} ms against "
          f"{walk_before * 1e3:.2f} ms looping over every node's inputs (before the one-check "
          f"finish), {1 - walk_now / walk_before:.0%} less")


if __name__ == "__main__":
    main()
