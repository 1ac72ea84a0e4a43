"""The forward and backward passes, one step at a time.

`backward_steps` is the engine's backward pass (`autograd.graph.run_backward`) cut
into edges: the same topological order visited in reverse, the same output gradient
(df/df = 1 by default), and for every edge the same ``parent.grad += local * upstream``
with the ``local`` the node stored at forward time.  It runs as a pass of its own: the
gradients it reports are summed in a table of its own, starting from 0 for every node
(as the engine's loop starts from 0), and no node's ``grad`` is ever read or written.
So stepping changes nothing in the graph, and a walk abandoned half-way cannot change
gradients computed afterwards; the tests check that after the last step the reported
gradients equal, bit for bit, what ``backward()`` gives on a graph with no earlier
gradients.  Nothing here computes an op's derivative: the numbers are the node's stored
``local_grads`` and the formula text is the op table's.

>>> from autograd import Value
>>> x, y, z = Value(3.0, "x"), Value(1.0, "y"), Value(2.0, "z")
>>> a = 2 * y; a.label = "a"
>>> b = a + z; b.label = "b"
>>> c = x * b; c.label = "c"
>>> for step in backward_steps(c):
...     print(step.chain_rule())
dc/dx = dc/dc · ∂(x·b)/∂x = 1 · b = 4
dc/db = dc/dc · ∂(x·b)/∂b = 1 · x = 3
dc/da = dc/db · ∂(a + z)/∂a = 3 · 1 = 3
dc/dz = dc/db · ∂(a + z)/∂z = 3 · 1 = 3
dc/d(2) = dc/da · ∂(2·y)/∂(2) = 3 · y = 3
dc/dy = dc/da · ∂(2·y)/∂y = 3 · 2 = 6
"""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd.formula import Derivative
from autograd.fusion import unfuse
from autograd.graph import holds_nothing, topological_order
from autograd.node import Node
from autograd.state import all_finite, is_anomaly_enabled, non_finite_gradient
from autograd.value import Value
from viz.naming import DEFAULT_NUMBER_FORMAT, GraphNames, as_atom, format_value

__all__ = [
    "ForwardStep", "BackwardStep", "forward_steps", "backward_steps", "output_gradient",
    "format_forward", "format_backward", "format_gradients", "check_node", "readable",
    "zero_like",
    "final_gradients",
]


def check_node(root: Any, what: str = "root") -> None:
    """TypeError unless `root` is a graph node: an `autograd.node.Node` (a `Value`, a
    `Tensor`, or anything with their attributes)."""
    if not isinstance(root, Node):
        raise TypeError(f"{what} must be a graph node (an autograd Value or Tensor), got "
                        f"{type(root).__name__}: {root!r:.60}")


def readable(root: Any, what: str = "root") -> Any:
    """`root`, checked as a graph node, with every fused node split into its parts.

    A fused ReLU neuron (one ``relu_linear`` node, for speed) is shown as its weighted
    sum z and its activation, with the same numbers (`autograd.unfuse`); leaves stay the
    same objects.  Every drawing and stepper starts from this.
    """
    check_node(root, what)
    return unfuse(root) if isinstance(root, Value) else root


def output_gradient(root: Node, grad: Any = None) -> Any:
    """The output gradient df/df that starts a backward pass, checked exactly as
    ``backward()`` checks it (the node's own ``backward_seed``): 1 for a scalar or a
    one-element array by default."""
    return root.backward_seed(grad)


resolve_seed = output_gradient  # the earlier name, still imported by viz.pages


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

    def __repr__(self) -> str:
        return f"<ForwardStep {self.index}: {self}>"

    def __str__(self) -> str:
        value = format_value(self.value, self.number_format)
        if self.is_leaf:
            return f"{self.name} = {value}  ({self.expression})"
        return f"{self.name} = {self.expression} = {value}"


@dataclass(frozen=True)
class BackwardStep:
    """One edge of the backward pass: `node` passes gradient to its input number `input_index`.

    ``contribution = local * upstream`` is added to the input's gradient in this pass,
    taking it from `grad_before` to `grad_after` (the sum of this pass's contributions so
    far, what the engine's loop holds in ``input.grad`` at that moment).  After the input's
    last edge (`last_into_input`) the sum is complete.  `held_before` is what a leaf
    held when the walk started (from an earlier ``backward()``): the stepper leaves it
    alone, and ``backward()`` would end with `final_grad` = held + this pass's sum.

    `derivative` is the local derivative in the graph's own names, as the op table
    explains it (`autograd.ops.Op.explain`: ``x`` for ∂(x·b)/∂b, with a simplified form
    and a note at a kink where the table has them); `local_formula` is the same in plain
    Python syntax.  `rule` is the table's generic rule, written with placeholders that
    are never a node's name (``∂(⟨a⟩·⟨b⟩)/∂⟨b⟩ = ⟨a⟩``).  `accumulates` is True when the
    input already received gradient in this pass (it feeds several nodes).
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
    #: ``∂(x·b)/∂b``: `node`'s local derivative with respect to the input
    local_symbol: str
    #: ``dc/dz``: the root's derivative with respect to the input
    target_symbol: str
    number_format: str = field(default=DEFAULT_NUMBER_FORMAT, repr=False)
    #: the local derivative as the op table explains it, in the graph's names (pretty)
    derivative: Derivative | None = None
    #: what a leaf input held when the walk started; ``backward()`` would add it back
    held_before: Any = 0.0
    #: True for the last edge into this input: its gradient is complete after it
    last_into_input: bool = False
    #: Tensor graphs: the op table's VJP in node names, ``g`` written as `upstream_symbol`
    vjp_formula: str | None = None

    def _fmt(self, x: Any) -> str:
        return format_value(x, self.number_format)

    @property
    def is_array_step(self) -> bool:
        """True for a Tensor graph's edge: the local is a vector-Jacobian product."""
        return not isinstance(self.local, numbers.Real)

    @property
    def keeps_earlier_grad(self) -> bool:
        """True when the input is a leaf that held a gradient before this pass."""
        return not self.input.parents and not holds_nothing(self.held_before)

    @property
    def final_grad(self) -> Any:
        """What ``backward()`` would leave in the input's ``grad``, on its last edge.

        That is `grad_after`, plus `held_before` for a leaf that held a gradient (the
        engine's ``leaf.grad = held + leaf.grad``); None before the input's last edge.
        The stepper itself never writes it.
        """
        if not self.last_into_input:
            return None
        if self.keeps_earlier_grad:
            return self.held_before + self.grad_after
        return self.grad_after

    def chain_rule(self) -> str:
        """``dc/db = dc/dc · ∂(x·b)/∂b = 1 · x = 3``: the step as one chain-rule line.

        The upstream gradient's number times the local derivative in the graph's own
        names (then its number too, when it is a formula rather than one name), and the
        contribution.  For a Tensor graph the line shows the op table's vector-Jacobian
        product in node names, the shapes in and out, and the contribution:
        ``dL/dW = x.T @ dL/da   [5×3 → 2×3] = ...``.
        """
        sign = "+=" if self.accumulates else "="
        if self.is_array_step:
            return self._vjp_rule(sign)
        upstream, local = self._fmt(self.upstream), self._fmt(self.local)
        parts = [f"{self.upstream_symbol} · {self.local_symbol}"]
        text = self.local_text()
        parts.append(f"{upstream} · {factor(text)}")
        if as_atom(text) != text and not _is_number(text):  # a formula: its value too
            parts.append(f"{upstream} · {local if local[:1] != '-' else f'({local})'}")
        parts.append(self._fmt(self.contribution))
        return f"{self.target_symbol} {sign} " + " = ".join(parts)

    def local_text(self) -> str:
        """The local derivative as a person reads it: the table's simplified form in the
        graph's names where it has one (``1 − o²``), else its formula (``x``)."""
        if self.derivative is None:
            return self.local_formula
        return self.derivative.simplified or self.derivative.formula

    def _vjp_rule(self, sign: str) -> str:
        if self.local is _no_grad_marker():
            return (f"{self.target_symbol} {sign} 0   ({self.input_name} needs no gradient: a "
                    f"constant)")
        formula = self.vjp_formula or self.local_formula
        shapes = f"[{_dims(self.upstream)} → {_dims(self.contribution)}]"
        return (f"{self.target_symbol} {sign} {formula}   {shapes} = "
                f"{self._fmt(self.contribution)}")

    def grad_change(self, held: bool = True) -> str:
        """``x.grad: 0 → 4`` (this pass's sum before and after the contribution); with
        `held`, a leaf that held a gradient says what ``backward()`` would leave."""
        name = self.input_name if as_atom(self.input_name) == self.input_name and not (
            self.input_name[0].isdigit()) else f"({self.input_name})"
        text = f"{name}.grad: {self._fmt(self.grad_before)} → {self._fmt(self.grad_after)}"
        if held and self.last_into_input and self.keeps_earlier_grad:
            text += (f" (backward() would add the {self._fmt(self.held_before)} held "
                     f"before: {self._fmt(self.final_grad)})")
        return text

    def __str__(self) -> str:
        return f"{self.chain_rule()}    ({self.grad_change()}; rule {self.rule})"

    def __repr__(self) -> str:
        return f"<BackwardStep {self.index}: {self.chain_rule()}>"


def factor(text: str) -> str:
    """`text` ready to be a factor of a product: as is when it is one name, number or call
    (``x``, ``3``, ``tanh(a)``), else in parentheses (``(1 − o²)``)."""
    if as_atom(text) == text or _is_call(text):
        return text
    return f"({text})"


def _is_number(text: str) -> bool:
    """``−1``, ``0.5``: a number as the table writes it (with a real minus sign)."""
    try:
        float(text.replace("−", "-"))
    except ValueError:
        return False
    return True


def _is_call(text: str) -> bool:
    """``name(...)`` with the parentheses closing at the very end."""
    name, paren, _ = text.partition("(")
    if not paren or not name.isidentifier() or not text.endswith(")"):
        return False
    depth = 0
    for k, char in enumerate(text[len(name):], start=len(name)):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and k != len(text) - 1:
            return False
    return True


def _no_grad_marker() -> Any:
    """The Tensor table's local for an input that needs no gradient (or a fresh object)."""
    try:
        from autograd.tensor_ops import NO_GRAD
    except ImportError:  # pragma: no cover - numpy is a dependency
        return object()
    return NO_GRAD


def _dims(x: Any) -> str:
    shape = getattr(x, "shape", None)
    if not isinstance(shape, tuple):
        return "scalar"
    return "×".join(str(d) for d in shape) if shape else "scalar"


def forward_steps(root: Node, *, number_format: str = DEFAULT_NUMBER_FORMAT,
                  names: GraphNames | None = None) -> list[ForwardStep]:
    """Every node of `root`'s graph in the order its value was computed (topological order)."""
    root = readable(root)
    names = names if names is not None and names.root is root else GraphNames(
        root, names.number_format if names is not None else number_format)
    steps = []
    for k, node in enumerate(names.order, start=1):
        steps.append(ForwardStep(
            index=k, node=node, name=names[node], op=node.op,
            inputs=tuple(names[p] for p in node.parents),
            expression=names.expression(node, pretty=True), value=node.data,
            number_format=names.number_format,
        ))
    return steps


def backward_steps(root: Node, grad: Any = None, *, number_format: str = DEFAULT_NUMBER_FORMAT,
                   names: GraphNames | None = None) -> Iterator[BackwardStep]:
    """The backward pass from `root` one edge at a time: a `BackwardStep` per edge.

    The walk is a pass of its own (see the module docstring): every gradient it reports
    starts from 0, and it never reads or writes any node's ``grad``, so the graph is the
    same before, during and after it, whether or not the iteration is finished.  `frames`
    draws the same pass.  Call ``root.backward()`` for the gradients themselves; the
    last record into each input holds the same number.  `grad` is the output gradient
    df/df, 1 by default (checked as ``backward()`` checks it).  A root that is a leaf
    has no edges: nothing is yielded.
    """
    root = readable(root)
    start = output_gradient(root, grad)
    names = names if names is not None and names.root is root else GraphNames(
        root, names.number_format if names is not None else number_format)
    return _walk(root, start, names)


def final_gradients(steps: Iterable[BackwardStep]) -> dict[Any, Any]:
    """Each input's gradient at the end of a stepped pass: its last record's `grad_after`.

    The same numbers ``backward()`` leaves in ``grad`` on a graph without earlier
    gradients.  Inputs are keyed by node; the root itself is not included.
    """
    return {step.input: step.grad_after for step in steps if step.last_into_input}


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


def _walk(root: Node, start: Any, names: GraphNames) -> Iterator[BackwardStep]:
    # The engine's loop (autograd.graph.run_backward) in the same order over the same
    # stored locals, but summing into a table of its own: no node's ``grad`` is read or
    # written, so a walk abandoned half-way (or never finished) changes nothing.
    if not root.parents:
        return
    interior = topological_order(root, include_leaves=False)
    edges_left: dict[Any, int] = {}
    for node in interior:
        for parent in node.parents:
            edges_left[parent] = edges_left.get(parent, 0) + 1
    held = {leaf: _copy(leaf.grad) for leaf in names.order if not leaf.parents}
    grads: dict[Any, Any] = {root: start}
    index = 0
    for node in reversed(interior):
        upstream = grads[node]
        expression = names.expression(node, pretty=True)
        upstream_symbol = names.partial(root, node)
        repeated = {p for p, k in Counter(node.parents).items() if k > 1}
        for i, (parent, local) in enumerate(zip(node.parents, node.local_grads)):
            contribution = local * upstream
            if is_anomaly_enabled() and not all_finite(contribution):
                raise non_finite_gradient(node, i, upstream, local, contribution)
            accumulates = parent in grads
            before = grads.get(parent, 0.0)
            # the engine's ``parent.grad += contribution``, on a copy: records keep their bits
            after = _copy(before)
            after += contribution
            grads[parent] = after
            edges_left[parent] -= 1
            index += 1
            scalar = isinstance(local, numbers.Real)
            yield BackwardStep(
                index=index, node=node, node_name=names[node], op=node.op,
                expression=expression, upstream=upstream, input_index=i, input=parent,
                input_name=names[parent], rule=names.generic_rule(node, i),
                local_formula=names.local_derivative(node, i).formula, local=local,
                contribution=contribution, grad_before=before, grad_after=after,
                accumulates=accumulates, first_of_node=i == 0,
                upstream_symbol=upstream_symbol,
                local_symbol=_local_symbol(names, node, i, expression, parent in repeated),
                target_symbol=names.partial(root, parent),
                number_format=names.number_format,
                derivative=names.local_derivative(node, i, pretty=True),
                held_before=held.get(parent, 0.0),
                last_into_input=edges_left[parent] == 0,
                vjp_formula=None if scalar else names.local_derivative(
                    node, i, upstream=upstream_symbol, pretty=True).formula,
            )


#: longest expression written inside ∂(...)/∂x; longer ones are written ∂c/∂x
_MAX_EXPRESSION = 24


def _local_symbol(names: GraphNames, node: Node, index: int, expression: str,
                  repeated: bool) -> str:
    """``∂(x·b)/∂b``; ``∂c/∂x`` for a long expression; an input used twice (x·x) says
    which operand: ``∂(x·x)/∂x (2nd)``."""
    if len(expression) <= _MAX_EXPRESSION:
        symbol = f"∂({expression})/∂{names.in_d(node.parents[index])}"
    else:
        symbol = f"∂{names.in_d(node)}/∂{names.in_d(node.parents[index])}"
    if repeated:
        symbol += f" ({_ordinal(index + 1)})"
    return symbol


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


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

    ``rules=True`` adds the op table's generic rule for each edge, written with
    placeholders that are never a node's name (``∂(⟨a⟩·⟨b⟩)/∂⟨b⟩ = ⟨a⟩``).
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


def format_gradients(root: Node, *, names: GraphNames | None = None,
                     number_format: str = DEFAULT_NUMBER_FORMAT,
                     include_constants: bool = False) -> str:
    """``dc/dx = 4`` for every leaf of the graph (constants only when asked)."""
    names = names if names is not None and names.root is root else GraphNames(
        root, names.number_format if names is not None else number_format)
    lines = []
    for node in names.order:
        if node.parents or (names.is_constant(node) and not include_constants):
            continue
        grad = format_value(node.grad, names.number_format)
        lines.append(f"{names.partial(root, node)} = {grad}")
    return "\n".join(lines)
