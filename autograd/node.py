"""The `Node` protocol: what the graph algorithms, the stepper and the drawings read.

`autograd.Value` and `autograd.Tensor` both satisfy it; so does any object with these
attributes, which is all `topological_order`, the backward loops and `viz` rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["Node"]


@runtime_checkable
class Node(Protocol):
    """A node of a computation graph.

    ``parents`` are the inputs of the op that made it (empty for a leaf), in argument
    order; ``local_grads`` hold, for each parent, d(self)/d(parent) as computed at forward
    time (a float for a `Value`, a vector-Jacobian product for a `Tensor`); ``op`` is
    the op-table entry (None for a leaf) and ``params`` its non-differentiated arguments.
    """

    data: Any
    grad: Any
    label: str
    op: Any
    params: tuple[Any, ...]

    @property
    def parents(self) -> Sequence[Node]: ...

    @property
    def local_grads(self) -> Sequence[Any]: ...
