"""Fused ops and their parts: one node for speed, two steps for reading.

A fused op (``relu_linear``: relu(w·x + b)) computes in one node what two table ops
compute in two.  It knows its parts (`Op.parts`), so `unfuse` rebuilds any graph with
every fused node split into them, with the same numbers: drawings, the stepper and the
four-equations view show a neuron's z and its activation as separate steps.  The
leaves are shared, so a backward pass over the unfused graph fills the same leaves'
gradients, bit for bit.
"""

from __future__ import annotations

from autograd.graph import topological_order
from autograd.ops import get_op
from autograd.value import Value, apply

__all__ = ["unfuse", "unfused_copies", "is_fused", "z_label"]


def is_fused(node: Value) -> bool:
    """True for a node made by a fused op."""
    return node.op is not None and bool(node.op.parts)


def z_label(label: str) -> str:
    """The label of a fused neuron's weighted sum: ``L0.N1.a`` -> ``L0.N1.z``."""
    if not label:
        return ""
    return label[:-2] + ".z" if label.endswith(".a") else label + ".z"


def unfuse(root: Value) -> Value:
    """`root`'s graph with every fused node split into its parts (same leaves, same numbers).

    Returns `root` itself when its graph holds no fused node.  Interior nodes are new
    Values with the originals' labels and grads; each split-off part holds the grad a
    backward pass over the split graph would have given it (for relu(z): z's grad is
    relu'(z) × the neuron's grad), so a drawing made after ``backward()`` shows them all.
    """
    return unfused_copies(root)[root]


def unfused_copies(root: Value) -> dict[Value, Value]:
    """For every node of `root`'s graph, its counterpart in the unfused graph (see `unfuse`).

    Leaves map to themselves; so does everything when nothing is fused.  A fused node maps
    to its last part (the activation), whose first parent is the split-off z.
    """
    order = topological_order(root)
    if not any(is_fused(n) for n in order):
        return {n: n for n in order}
    new: dict[Value, Value] = {}
    for node in order:
        if not node.parents:
            new[node] = node
            continue
        parents = tuple(new[p] for p in node.parents)
        if not is_fused(node):
            copy = apply(node.op, parents, node.params)
        else:
            first, *rest = (get_op(name) for name in node.op.parts)
            copy = apply(first, parents)
            copy.label = z_label(node.label)
            inner = [copy]
            for op in rest:
                copy = apply(op, (copy,))
                inner.append(copy)
            # The parts' grads, from the neuron's own, backwards through the parts.
            upstream = node.grad
            for part, made in zip(reversed(inner[:-1]), reversed(inner[1:])):
                upstream = made.local_grads[0] * upstream
                part.grad = upstream
        copy.label = node.label
        copy.grad = node.grad
        new[node] = copy
    return new
