"""Derivatives of derivatives (reverse over reverse) and forward mode (tangents).

* `grad(output, inputs, create_graph=False)`: the gradient as one `Value` per input, like
  ``torch.autograd.grad``.  With ``create_graph=True`` every local derivative is built
  from the op table's own formulas as a graph (`Op.local_expressions`), so the result
  can be differentiated, drawn and stepped again, to any order.
* `hessian`, `jacobian`, `hvp`: NumPy arrays, with `gradcheck`'s calling convention
  (``f`` takes one `Value` per coordinate of ``point``).
* `jvp`: forward mode.  Tangents are pushed through the graph in forward order, each
  node's tangent being Σ local × input tangent, with the same local derivatives the
  backward pass uses.

Neither touches any node's ``grad``: like PyTorch's ``autograd.grad``, they return
their results.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from autograd.graph import topological_order
from autograd.state import enable_grad
from autograd.value import Value

__all__ = ["grad", "hessian", "jacobian", "hvp", "jvp", "JVPResult", "tangents"]


def _as_inputs(inputs: Value | Sequence[Value]) -> tuple[list[Value], bool]:
    if isinstance(inputs, Value):
        return [inputs], True
    if isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
        raise TypeError(f"grad() inputs must be a Value or a sequence of Values, got "
                        f"{type(inputs).__name__}")
    items = list(inputs)
    for i, x in enumerate(items):
        if not isinstance(x, Value):
            raise TypeError(f"grad() input {i} must be a Value, got {type(x).__name__}")
    return items, False


def _scale(local: object, upstream: Value) -> Value | None:
    """local × upstream as a graph, without nodes for the constants 1, -1 and 0."""
    if isinstance(local, Value):
        return local * upstream
    if not isinstance(local, numbers.Real):
        raise TypeError(f"a local derivative must be a number or a Value, got "
                        f"{type(local).__name__}")
    if local == 1:
        return upstream
    if local == -1:
        return -upstream
    if local == 0:
        return None
    return float(local) * upstream


def grad(
    output: Value,
    inputs: Value | Sequence[Value],
    grad_output: float = 1.0,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> list[Value | None]:
    """d(output)/d(input) for each input, as new Values (``torch.autograd.grad``).

    `grad_output` is the output gradient the pass starts from (d output/d output = 1).
    With `create_graph` the results are graphs built from the op table's formulas, so
    ``grad(grad(f, x, create_graph=True)[0], x)`` is the second derivative; without it
    they are plain leaves and nothing extra is built.  An input that `output` does not
    depend on raises ValueError unless `allow_unused`, where its gradient is None.
    No node's ``grad`` changes.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad() needs a Value output, got {type(output).__name__}")
    wanted, _ = _as_inputs(inputs)
    seed = output.backward_seed(grad_output)
    order = topological_order(output)
    grads: dict[Value, Value | float] = {}
    if create_graph:
        with enable_grad():
            grads[output] = Value(seed, "df/df") if seed != 1.0 else Value(1.0, "1")
            _reverse_graph(order, grads)
    else:
        grads[output] = seed
        _reverse_numbers(order, grads)
    results: list[Value | None] = []
    for i, x in enumerate(wanted):
        g = grads.get(x)
        if g is None:
            if not allow_unused:
                raise ValueError(f"grad(): input {i} ({x.label or 'unlabelled'}) is not part of "
                                 f"the output's graph; pass allow_unused=True to get None")
            results.append(None)
        elif isinstance(g, Value):
            results.append(g)
        else:
            results.append(Value(g, f"d/d{x.label}" if x.label else ""))
    return results


def _reverse_numbers(order: list[Value], grads: dict[Value, Value | float]) -> None:
    """The backward loop over a dict of floats (the stored local derivatives)."""
    for node in reversed(order):
        g = grads.get(node)
        if g is None:
            continue
        for parent, local in zip(node.parents, node.local_grads):
            grads[parent] = grads.get(parent, 0.0) + local * g


def _reverse_graph(order: list[Value], grads: dict[Value, Value | float]) -> None:
    """The backward loop over Values: each local derivative is built from the table."""
    for node in reversed(order):
        g = grads.get(node)
        if g is None or not node.parents:
            continue
        assert isinstance(g, Value)
        for parent, local in zip(node.parents, node.op.local_expressions(node)):
            contribution = _scale(local, g)
            if contribution is None:
                grads.setdefault(parent, Value(0.0, "0"))
                continue
            held = grads.get(parent)
            grads[parent] = contribution if held is None else held + contribution


def _point(point: Sequence[float], what: str = "point") -> list[float]:
    if isinstance(point, (str, bytes, Value)) or not hasattr(point, "__iter__"):
        raise TypeError(f"{what} must be a sequence of numbers, got {type(point).__name__}")
    values = list(point)
    out = []
    for i, x in enumerate(values):
        if isinstance(x, Value):
            x = x.data
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"{what}[{i}] must be a number, got {type(x).__name__}")
        out.append(float(x))
    if not out:
        raise ValueError(f"{what} is empty")
    return out


def _call(f: Callable[..., object], leaves: list[Value], name: str) -> Value:
    if not callable(f):
        raise TypeError(f"{name}() needs a function of Values, got {type(f).__name__}")
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"{name}(): the function must return a Value, got {type(out).__name__}")
    return out


def _leaves(point: list[float]) -> list[Value]:
    return [Value(x, f"x{i}") for i, x in enumerate(point)]


def hessian(f: Callable[..., Value], point: Sequence[float]) -> np.ndarray:
    """The matrix of second derivatives d²f/dxᵢdxⱼ at `point` (reverse over reverse).

    `f` takes one Value per coordinate and returns a Value.
    """
    xs = _point(point)
    leaves = _leaves(xs)
    first = grad(_call(f, leaves, "hessian"), leaves, create_graph=True, allow_unused=True)
    n = len(xs)
    h = np.zeros((n, n))
    for i, gi in enumerate(first):
        if gi is None:
            continue
        row = grad(gi, leaves, allow_unused=True)
        h[i] = [0.0 if r is None else r.data for r in row]
    return h


def jacobian(f: Callable[..., Sequence[Value]], point: Sequence[float]) -> np.ndarray:
    """The matrix dfᵢ/dxⱼ at `point`: one reverse pass per output.

    `f` takes one Value per coordinate and returns a list of Values (or one Value).
    """
    xs = _point(point)
    leaves = _leaves(xs)
    if not callable(f):
        raise TypeError(f"jacobian() needs a function of Values, got {type(f).__name__}")
    outputs = f(*leaves)
    if isinstance(outputs, Value):
        outputs = [outputs]
    outputs = list(outputs)
    for i, y in enumerate(outputs):
        if not isinstance(y, Value):
            raise TypeError(f"jacobian(): output {i} of the function must be a Value, got "
                            f"{type(y).__name__}")
    j = np.zeros((len(outputs), len(xs)))
    for i, y in enumerate(outputs):
        row = grad(y, leaves, allow_unused=True)
        j[i] = [0.0 if r is None else r.data for r in row]
    return j


def hvp(f: Callable[..., Value], point: Sequence[float], v: Sequence[float]) -> np.ndarray:
    """The Hessian of `f` at `point` times the vector `v`, without forming the Hessian.

    One reverse pass builds ∇f as a graph; a second differentiates ∇f·v.
    """
    xs = _point(point)
    vs = _point(v, "v")
    if len(vs) != len(xs):
        raise ValueError(f"hvp(): v has {len(vs)} entries for a point of {len(xs)}")
    leaves = _leaves(xs)
    first = grad(_call(f, leaves, "hvp"), leaves, create_graph=True, allow_unused=True)
    with enable_grad():
        terms = [gi * vi for gi, vi in zip(first, vs) if gi is not None]
        if not terms:
            return np.zeros(len(xs))
        total = terms[0]
        for t in terms[1:]:
            total = total + t
    row = grad(total, leaves, allow_unused=True)
    return np.array([0.0 if r is None else r.data for r in row])


@dataclass(frozen=True)
class JVPResult:
    """What `jvp` returns: f at the point and its directional derivative along the tangent.

    It unpacks as a pair: ``value, derivative = jvp(f, point, tangent)``.
    """

    value: float
    derivative: float
    #: multiply-adds the forward pass performed (one per edge of the graph)
    operations: int

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter((self.value, self.derivative))


def tangents(root: Value, seeds: dict[Value, float]) -> dict[Value, float]:
    """Forward mode on a recorded graph: each node's tangent, Σ local × input tangent.

    `seeds` gives the tangent of some leaves (the direction); other leaves have 0.
    Nodes are visited in forward (topological) order.
    """
    out: dict[Value, float] = {}
    for node in topological_order(root):
        if not node.parents:
            out[node] = float(seeds.get(node, 0.0))
            continue
        out[node] = sum(local * out[p] for p, local in zip(node.parents, node.local_grads))
    return out


def jvp(f: Callable[..., Value], point: Sequence[float], tangent: Sequence[float]
        ) -> JVPResult:
    """Forward mode: ``(f(point), ∇f(point)·tangent)``, pushing tangents forward.

    `f` takes one Value per coordinate and returns a Value.  The tangents travel through
    the same local derivatives as the backward pass, in forward order (dual numbers):
    one pass per direction, where reverse mode needs one pass per output.
    """
    xs = _point(point)
    ts = _point(tangent, "tangent")
    if len(ts) != len(xs):
        raise ValueError(f"jvp(): tangent has {len(ts)} entries for a point of {len(xs)}")
    leaves = _leaves(xs)
    with enable_grad():
        out = _call(f, leaves, "jvp")
    found = tangents(out, dict(zip(leaves, ts)))
    edges = sum(len(n.parents) for n in found)
    return JVPResult(out.data, found[out], edges)

