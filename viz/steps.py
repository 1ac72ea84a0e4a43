"""The forward and backward passes, one step at a time.

`backward_steps` *is* the engine's backward pass (`autograd.graph.run_backward`) cut
into edges: the same topological order visited in reverse, the root seeded the same
way, interior gradients reset and leaves accumulating, and for every edge the same
``parent.grad += local * upstream`` with the ``local`` the node stored at forward
time.  Each edge is reported as a `BackwardStep` before the next one runs, so after
the last step every gradient equals what ``backward()`` gives.  Nothing here computes
an op's derivative: the numbers are the node's stored ``local_grads`` and the formula
text is the op table's.

>>> from autograd import Value
>>> x, y, z = Value(3.0, "x"), Value(1.0, "y"), Value(2.0, "z")
>>> a = 2 * y; a.label = "a"
>>> b = a + z; b.label = "b"
>>> c = x * b; c.label = "c"
>>> for step in backward_steps(c):
...     print(step.chain_rule())
dc/dx = dc/dc * dc/dx = 1 * b = 1 * 4 = 4
dc/db = dc/dc * dc/db = 1 * x = 1 * 3 = 3
dc/da = dc/db * db/da = 3 * 1 = 3
dc/dz = dc/db * db/dz = 3 * 1 = 3
dc/d(2) = dc/da * da/d(2) = 3 * y = 3 * 1 = 3
dc/dy = dc/da * da/dy = 3 * 2 = 6
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from viz.naming import DEFAULT_NUMBER_FORMAT, GraphNames, as_atom, format_value, is_zero

__all__ = [
    "ForwardStep", "BackwardStep", "forward_steps", "backward_steps", "resolve_seed",
    "format_forward", "format_backward", "format_gradients", "check_node", "zero_like",
]


def check_node(root: Any, what: str = "root") -> None:
    """TypeError unless `root` is a graph node (a `Value`, or anything with its attributes)."""
    for attribute in ("data", "grad", "label", "op", "parents", "local_grads", "params"):
        if not hasattr(root, attribute):
            raise TypeError(f"{what} must be a graph node (an autograd Value or Tensor), got "
                            f"{type(root).__name__}: {root!r:.60}")


def resolve_seed(root: Any, seed: Any = None) -> Any:
    """The gradient that starts a backward pass, as ``backward()`` would seed it.

    A scalar root gets 1.0 (or `seed` as a float); a one-element array root an array of
    ones; a larger array root needs `seed`.
    """
    data = root.data
    if isinstance(data, numbers.Real):
        if seed is None:
            return 1.0
        if isinstance(seed, bool) or not isinstance(seed, numbers.Real):
            raise TypeError(f"seed must be a real number, got {type(seed).__name__}")
        return float(seed)
    if seed is not None:
        return seed
    import numpy as np

    if getattr(data, "size", None) == 1:
        return np.ones_like(data)
    raise ValueError(f"the root has shape {getattr(data, 'shape', '?')}: give seed=, an array of "
                     f"its shape (or reduce the root to one element first)")


@dataclass(frozen=True)
class ForwardStep:
    """One node of the forward pass, in the order the values are computed.

    `expression` is how the node was computed, in node names (``x*b``), or ``input`` /
    ``constant`` for a leaf; `value` is the node's data.
    """

    index: int
    node: Any
    name: str
    op: Any
    inputs: tuple[str, ...]
    expression: str
    value: Any
    number_format: str = DEFAULT_NUMBER_FORMAT

    @property
    def is_leaf(self) -> bool:
        """True for an input or a constant."""
        return self.op is None

    def __str__(self) -> str:
        value = format_value(self.value, self.number_format)
        if self.is_leaf:
            return f"{self.name} = {value}  ({self.expression})"
        return f"{self.name} = {self.expression} = {value}"


@dataclass(frozen=True)
class BackwardStep:
    """One edge of the backward pass: `node` passes gradient to its input number `input_index`.

    ``contribution = local * upstream`` is added to the input's gradient, taking it from
    `grad_before` to `grad_after`.  `rule` is the op table's statement of the local
    derivative (``d(a*b)/db = a``) and `local_formula` the same derivative in node names
    (``x``).  `accumulates` is True when the input already held a gradient (it feeds
    several nodes, or is a leaf that keeps gradients from an earlier pass).
    """

    index: int
    node: Any
    node_name: str
    op: Any
    expression: str
    upstream: Any
    input_index: int
    input: Any
    input_name: str
    rule: str
    local_formula: str
    local: Any
    contribution: Any
    grad_before: Any
    grad_after: Any
    accumulates: bool
    first_of_node: bool
    #: ``dc/db``: the root's derivative with respect to `node`
    upstream_symbol: str
    #: ``db/dz``: `node`'s local derivative with respect to the input
    local_symbol: str
    #: ``dc/dz``: the root's derivative with respect to the input
    target_symbol: str
    number_format: str = field(default=DEFAULT_NUMBER_FORMAT, repr=False)

    def _fmt(self, x: Any) -> str:
        return format_value(x, self.number_format)

    def chain_rule(self) -> str:
        """``dc/dz = dc/db * db/dz = 3 * 1 = 3``: the step as one chain-rule line."""
        upstream, local = self._fmt(self.upstream), self._fmt(self.local)
        parts = [f"{self.upstream_symbol} * {self.local_symbol}"]
        symbolic = _chain_factor(self.local_formula)
        if symbolic != as_atom(local):
            parts.append(f"{upstream} * {symbolic}")
        parts.append(f"{upstream} * {as_atom(local)}")
        parts.append(self._fmt(self.contribution))
        sign = "+=" if self.accumulates else "="
        return f"{self.target_symbol} {sign} " + " = ".join(parts)

    def grad_change(self) -> str:
        """``x.grad: 0 -> 4``."""
        name = self.input_name if as_atom(self.input_name) == self.input_name and not (
            self.input_name[0].isdigit()) else f"({self.input_name})"
        return (f"{name}.grad: {self._fmt(self.grad_before)} -> "
                f"{self._fmt(self.grad_after)}")

    def __str__(self) -> str:
        return f"{self.chain_rule()}    ({self.grad_change()}; rule {self.rule})"


def _chain_factor(formula: str) -> str:
    """The op table's derivative text as a factor in a product.

    The table sometimes adds a note (``sign(a) (0 at a = 0)``) or an equivalent form
    (``exp(a) = out``); the product shows the first form only, in parentheses unless it
    is a single name, number or call.
    """
    text = formula
    if text.endswith(")") and " (" in text:
        head, _, note = text.rpartition(" (")
        if "(" not in note:
            text = head
    text = text.split(" = ")[0].strip()
    return text if _is_call_or_atom(text) else f"({text})"


def _is_call_or_atom(text: str) -> bool:
    if as_atom(text) == text:
        return True
    name, paren, _ = text.partition("(")
    if not paren or not name.isidentifier() or not text.endswith(")"):
        return False
    depth = 0
    for k, char in enumerate(text[len(name):]):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and k != len(text) - len(name) - 1:
            return False
    return True


def forward_steps(root: Any, *, number_format: str = DEFAULT_NUMBER_FORMAT,
                  names: GraphNames | None = None) -> list[ForwardStep]:
    """Every node of `root`'s graph in the order its value was computed (topological order)."""
    check_node(root)
    names = names or GraphNames(root, number_format)
    steps = []
    for k, node in enumerate(names.order, start=1):
        steps.append(ForwardStep(
            index=k, node=node, name=names[node], op=node.op,
            inputs=tuple(names[p] for p in node.parents),
            expression=names.expression(node), value=node.data,
            number_format=names.number_format,
        ))
    return steps


def backward_steps(root: Any, seed: Any = None, *, number_format: str = DEFAULT_NUMBER_FORMAT,
                   names: GraphNames | None = None) -> Iterator[BackwardStep]:
    """Run the backward pass from `root` one edge at a time, yielding a `BackwardStep` per edge.

    The gradients change as the iteration goes on, exactly as in ``root.backward()``;
    after the last step every ``grad`` in the graph is the one ``backward()`` gives.
    `seed` defaults to 1 (see `resolve_seed`).  A root that is a leaf has no edges: its
    gradient is increased by the seed and nothing is yielded, as in the engine.
    """
    check_node(root)
    seed = resolve_seed(root, seed)
    names = names or GraphNames(root, number_format)
    return _walk(root, seed, names)


def zero_like(x: Any) -> Any:
    """0.0 for a scalar gradient, an array of zeros for an array gradient."""
    if isinstance(x, numbers.Real) or not hasattr(x, "shape"):
        return 0.0
    import numpy as np

    return np.zeros_like(x)


def _copy(x: Any) -> Any:
    """A snapshot of a gradient: arrays are updated in place by ``+=``, floats are not."""
    copy = getattr(x, "copy", None)
    return copy() if callable(copy) and not isinstance(x, numbers.Number) else x


def _walk(root: Any, seed: Any, names: GraphNames) -> Iterator[BackwardStep]:
    # The same statements as autograd.graph.run_backward, in the same order.
    if not root.parents:
        root.grad += seed
        return
    interior = [node for node in names.order if node.parents]
    for node in interior:
        node.grad = 0.0
    root.grad = seed
    received: set[Any] = set()
    index = 0
    for node in reversed(interior):
        upstream = node.grad
        n = len(node.parents)
        op = node.op
        expression = names.expression(node)
        repeated = {p for p in node.parents if node.parents.count(p) > 1}
        for i, (parent, local) in enumerate(zip(node.parents, node.local_grads)):
            contribution = local * upstream
            before = _copy(parent.grad)
            accumulates = parent in received or not is_zero(before)
            parent.grad += contribution
            received.add(parent)
            index += 1
            local_symbol = names.partial(node, parent)
            if parent in repeated:
                local_symbol += f"[{op.input_name(i, n)}]"
            yield BackwardStep(
                index=index, node=node, node_name=names[node], op=op, expression=expression,
                upstream=upstream, input_index=i, input=parent, input_name=names[parent],
                rule=op.formula(i, n, node.params),
                local_formula=names.local_derivative(node, i), local=local,
                contribution=contribution, grad_before=before, grad_after=_copy(parent.grad),
                accumulates=accumulates, first_of_node=i == 0,
                upstream_symbol=names.partial(root, node), local_symbol=local_symbol,
                target_symbol=names.partial(root, parent),
                number_format=names.number_format,
            )


# -- printed tables -----------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = []
    for row in (header, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths)]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_forward(steps: Sequence[ForwardStep]) -> str:
    """The forward pass as a table: step, node, how it is computed, value."""
    rows = []
    for step in steps:
        rows.append((str(step.index), step.name, step.expression,
                     format_value(step.value, step.number_format)))
    return _table(("step", "node", "computed as", "value"), rows)


def format_backward(steps: Sequence[BackwardStep], *, rules: bool = True) -> str:
    """The backward pass as a table: one row per edge, with its chain-rule line.

    ``rules=True`` adds the op table's generic rule (``d(a*b)/db = a``) for each edge.
    """
    if not steps:
        return "(no edges: the root is a leaf)"
    header = ["step", "node", "chain rule", "gradient"] + (["rule"] if rules else [])
    rows = []
    for step in steps:
        node = f"{step.node_name} = {step.expression}" if step.first_of_node else ""
        row = [str(step.index), node, step.chain_rule(), step.grad_change()]
        if rules:
            row.append(step.rule)
        rows.append(row)
    return _table(header, rows)


def format_gradients(root: Any, *, names: GraphNames | None = None,
                     number_format: str = DEFAULT_NUMBER_FORMAT,
                     include_constants: bool = False) -> str:
    """``dc/dx = 4`` for every leaf of the graph (constants only when asked)."""
    names = names or GraphNames(root, number_format)
    lines = []
    for node in names.order:
        if node.parents or (names.is_constant(node) and not include_constants):
            continue
        grad = format_value(node.grad, names.number_format)
        lines.append(f"{names.partial(root, node)} = {grad}")
    return "\n".join(lines)
