"""The fast backward loop and the graph walks it needs.

`autograd.reference.reference_backward` is the definition of a backward pass (order the
graph, then add ``local × upstream`` to each input); this module computes the same
numbers, bit for bit, faster: an iterative walk that keeps leaves apart, a loop that
skips nodes whose upstream gradient is 0, and the pass bookkeeping (`start_pass`,
`finish_pass`) that `backward` and the stepper share.  Read the reference first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

from autograd.node import Node
from autograd.ops import DeadLocals
from autograd.state import ANOMALY, MODE, all_finite, non_finite_gradient

__all__ = [
    "topological_order", "backward", "run_backward",
    "start_pass", "finish_pass", "holds_nothing", "real_number", "zero_grad",
]


def topological_order(root: Node, *, include_leaves: bool = True) -> list[Any]:
    """Every node `root` depends on, each after all of its parents; `root` comes last.

    The leaves come first (in the order the search meets them), then the interior nodes
    in depth-first post-order: the backward pass visits those in reverse.  The search is
    iterative, so a chain of a million nodes needs no recursion.
    """
    interior, leaves = _interior_and_leaves(root)
    return [*leaves, *interior] if include_leaves else interior


def _interior_and_leaves(root: Any) -> tuple[list[Any], dict[Any, Any]]:
    """The interior nodes in topological order (`root` last), and each leaf's ``grad``.

    Leaves are kept apart (in order of discovery) with the gradient they hold now, which
    the backward pass needs, and are never pushed on the stack: nothing to wait for.
    """
    order: list[Any] = []
    leaves: dict[Any, Any] = {}
    if not root.parents:
        leaves[root] = root.grad
        return order, leaves
    visited = {root}
    stack: list[tuple[Any, Iterator[Any]]] = [(root, iter(root.parents))]
    push, pop, mark, done = stack.append, stack.pop, visited.add, order.append
    all_visited = visited.issuperset
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:  # most edges end here: one set lookup
                mark(parent)
                grandparents = parent.parents
                if not grandparents:
                    leaves[parent] = parent.grad
                elif all_visited(grandparents):
                    # Its inputs are all done already (in a DAG a visited node is never
                    # still on the stack below it): finished now, with one C-level check
                    # instead of a loop over its inputs.  Most nodes of a batch end here.
                    done(parent)
                else:
                    push((parent, iter(grandparents)))
                    break
        else:
            pop()
            done(node)
    return order, leaves


def backward(root: Node, grad: float = 1.0) -> None:
    """Reverse-mode chain rule from `root`, seeded with d(root)/d(root) = `grad`.

    Leaves accumulate (a second call adds the same gradients again, like PyTorch);
    every interior node's ``grad`` is reset, so it shows this pass's gradient only.
    """
    run_backward(root, root.backward_seed(grad))


def run_backward(root: Any, seed: Any) -> None:
    """The backward loop itself, for any node type with ``parents``/``local_grads``/``grad``.

    `seed` is already validated: a float for a `Value`, an array for a `Tensor`.
    Each ``local`` must support ``local * upstream`` giving the contribution to its
    parent: a float for scalars, a vector-Jacobian product object for arrays.
    """
    if not root.parents:
        root.grad += seed
        return
    order, held = start_pass(root, seed)
    completed = False
    try:
        if MODE.get() & ANOMALY:
            _backward_checked(order)
        else:
            _backward_loop(order, type(seed) is float)
        completed = True
    finally:
        finish_pass(held, completed)


def start_pass(root: Any, seed: Any) -> tuple[list[Any], dict[Any, Any]]:
    """Begin a backward pass from `root` (not a leaf): every ``grad`` to 0, root's to `seed`.

    Returns the interior nodes in topological order (the loop visits them reversed) and
    the gradient each leaf held before the pass.  A pass sums its own contributions from
    0 and `finish_pass` adds what a leaf held only at the end (like PyTorch), so a second
    ``backward()`` exactly doubles a leaf's gradient.  The stepper (`viz.backward_steps`)
    runs its passes through these same two functions.
    """
    order, held = _interior_and_leaves(root)
    for node in held:
        node.grad = 0.0
    for node in order:
        node.grad = 0.0
    root.grad = seed
    return order, held


def finish_pass(held: dict[Any, Any], completed: bool) -> None:
    """End a pass: add back what each leaf held, or, if it did not complete, restore it."""
    if not completed:
        for leaf, g in held.items():
            leaf.grad = g
        return
    for leaf, g in held.items():
        if type(g) is float:  # the scalar engine's case, inline: skip a held 0
            if g != 0.0:
                leaf.grad = g + leaf.grad
        elif not holds_nothing(g):
            leaf.grad = g + leaf.grad


def holds_nothing(grad: Any) -> bool:
    """True for a gradient that is the number 0 (what `finish_pass` need not add back)."""
    return isinstance(grad, float) and grad == 0.0


def _backward_loop(order: list[Any], scalar: bool) -> None:
    if not scalar:
        for node in reversed(order):
            g = node.grad
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * g
        return
    isfinite = math.isfinite
    for node in reversed(order):
        g = node.grad
        locals_ = node.local_grads
        # Contributions that are all +-0.0 leave every sum unchanged: skip them.  That is
        # a node behind a ReLU that is off (g = 0, unless a local is inf or NaN, where
        # 0 * inf = NaN must still flow; a finite sum means all are finite), and a fused
        # ReLU neuron that is off (all locals 0, unless g is inf or NaN).
        if g == 0.0 and isfinite(sum(locals_)):
            continue
        if type(locals_) is DeadLocals and isfinite(g):
            continue
        for parent, local in zip(node.parents, locals_):
            parent.grad += local * g


def _backward_checked(order: list[Any]) -> None:
    """The backward loop of anomaly mode: names the first non-finite gradient."""
    for node in reversed(order):
        g = node.grad
        for position, (parent, local) in enumerate(zip(node.parents, node.local_grads)):
            contribution = local * g
            if not all_finite(contribution):
                raise non_finite_gradient(node, position, g, local, contribution)
            parent.grad += contribution


def real_number(x: object) -> float:
    """A NumPy real scalar as a float; TypeError for anything else (a backward seed)."""
    try:
        import numpy as np

        if isinstance(x, np.generic) and np.isrealobj(x) and not isinstance(x, np.bool_):
            return float(x)  # type: ignore[arg-type]
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"backward(grad=...) needs a real number, got {type(x).__name__}")


def zero_grad(nodes: Node | Iterable[Node]) -> None:
    """Set ``grad = 0`` on a list of nodes (Values or Tensors), or on every node of the
    graph of one node."""
    items = topological_order(nodes) if hasattr(nodes, "parents") else nodes
    for node in items:
        if not hasattr(node, "parents") or not hasattr(node, "grad"):
            raise TypeError(f"zero_grad expects Values or Tensors, got {type(node).__name__}")
        node.grad = 0.0
