"""The forward and backward passes, one step at a time.

`backward_steps` *is* the engine's backward pass (`autograd.graph.run_backward`) cut
into edges: the same topological order visited in reverse, every gradient reset and
the root seeded the same way, and for every edge the same ``parent.grad += local *
upstream`` with the ``local`` the node stored at forward time.  As in the engine, a
leaf that held a gradient before the pass (from an earlier ``backward()``) first sums
this pass's contributions from 0 and gets its earlier gradient added back once the last
edge is done.  Each edge is reported as a `BackwardStep` before the next one runs, so
after the last step every gradient equals what ``backward()`` gives, bit for bit.
Nothing here computes an op's derivative: the numbers are the node's stored
``local_grads`` and the formula text is the op table's.

>>> from autograd import Value
>>> x, y, z = Value(3.0, "x"), Value(1.0, "y"), Value(2.0, "z")
>>> a = 2 * y; a.label = "a"
>>> b = a + z; b.label = "b"
>>> c = x * b; c.label = "c"
>>> for step in backward_steps(c):
...     print(step.chain_rule())
dc/dx = dc/dc * dc/dx = 1 * b = 1 * 4 = 4
dc/db = dc/dc * dc/db = 1 * x = 1 * 3 = 3
dc/da = dc/db * db/da = x * 1 = 3 * 1 = 3
dc/dz = dc/db * db/dz = x * 1 = 3 * 1 = 3
dc/d(2) = dc/da * da/d(2) = x * y = 3 * 1 = 3
dc/dy = dc/da * da/dy = x * 2 = 3 * 2 = 6
"""

from __future__ import annotations

import numbers
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd.graph import finish_pass, holds_nothing, start_pass
from autograd.state import all_finite, is_anomaly_enabled, non_finite_gradient
from viz.naming import DEFAULT_NUMBER_FORMAT, GraphNames, as_atom, format_value

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
    """The gradient that starts a backward pass, checked exactly as ``backward()`` checks it
    (the node's own ``backward_seed``): 1 for a scalar or a one-element array by default."""
    return root.backward_seed(seed)


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
    `grad_before` to `grad_after`: the sum of this pass's contributions so far, which is
    what the engine holds in ``input.grad`` at that moment.  A leaf that held a gradient
    before the pass (`held_before`, from an earlier ``backward()``) gets it added back
    once the pass is over, as in the engine: after the input's last edge
    (`last_into_input`) its gradient ends at `final_grad`.

    `rule` is the op table's statement of the local derivative (``d(a*b)/db = a``) and
    `local_formula` the same derivative in node names (``x``); `upstream_formula` is the
    upstream gradient written as a formula in node names (``x`` for dc/db in the seed's
    c = x*b), or None when it would be too long to read.  `accumulates` is True when the
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
    #: ``db/dz``: `node`'s local derivative with respect to the input
    local_symbol: str
    #: ``dc/dz``: the root's derivative with respect to the input
    target_symbol: str
    number_format: str = field(default=DEFAULT_NUMBER_FORMAT, repr=False)
    #: the upstream gradient as a formula in node names (``x``), None when too long
    upstream_formula: str | None = None
    #: what a leaf input held before this pass; the engine adds it back at the end
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
        """The input's gradient once the pass is over, if this is its last edge.

        That is `grad_after`, plus `held_before` for a leaf that held a gradient (the
        engine's ``leaf.grad = held + leaf.grad``); None before the input's last edge.
        """
        if not self.last_into_input:
            return None
        if self.keeps_earlier_grad:
            return self.held_before + self.grad_after
        return self.grad_after

    def chain_rule(self) -> str:
        """``dc/dz = dc/db * db/dz = x * 1 = 3 * 1 = 3``: the step as one chain-rule line.

        For a Tensor graph the line shows the op table's vector-Jacobian product in node
        names, the shapes in and out, and the contribution:
        ``dL/dW = x.T @ (dL/da)   [5×3 -> 2×3] = ...``.
        """
        sign = "+=" if self.accumulates else "="
        if self.is_array_step:
            return self._vjp_rule(sign)
        upstream, local = self._fmt(self.upstream), self._fmt(self.local)
        numeric = f"{upstream} * {as_atom(local)}"
        parts = [f"{self.upstream_symbol} * {self.local_symbol}"]
        up_text = upstream if self.upstream_formula is None else _left_factor(
            self.upstream_formula)
        symbolic = f"{up_text} * {_chain_factor(self.local_formula)}"
        if symbolic != numeric:
            parts.append(symbolic)
        parts.append(numeric)
        parts.append(self._fmt(self.contribution))
        return f"{self.target_symbol} {sign} " + " = ".join(parts)

    def _vjp_rule(self, sign: str) -> str:
        if self.local is _no_grad_marker():
            return (f"{self.target_symbol} {sign} 0   ({self.input_name} needs no gradient: a "
                    f"constant)")
        formula = _first_form(self.vjp_formula or self.local_formula)
        shapes = f"[{_dims(self.upstream)} -> {_dims(self.contribution)}]"
        return (f"{self.target_symbol} {sign} {formula}   {shapes} = "
                f"{self._fmt(self.contribution)}")

    def grad_change(self) -> str:
        """``x.grad: 0 -> 4``; a leaf's last edge adds what it held: ``(+ 1.5 held = 5.5)``."""
        name = self.input_name if as_atom(self.input_name) == self.input_name and not (
            self.input_name[0].isdigit()) else f"({self.input_name})"
        text = f"{name}.grad: {self._fmt(self.grad_before)} -> {self._fmt(self.grad_after)}"
        if self.last_into_input and self.keeps_earlier_grad:
            text += (f" (+ {self._fmt(self.held_before)} held before the pass = "
                     f"{self._fmt(self.final_grad)})")
        return text

    def __str__(self) -> str:
        return f"{self.chain_rule()}    ({self.grad_change()}; rule {self.rule})"


_WORD = re.compile(r"[A-Za-z]{2,}")
#: longest upstream formula shown; longer ones are replaced by their number
_MAX_FORMULA = 40


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


def _first_form(formula: str) -> str:
    """A formula without the table's notes and alternative forms.

    ``sign(a) (0 at a = 0)`` -> ``sign(a)``; ``g * exp(a) = g * out`` -> ``g * exp(a)``;
    ``g.T @ x  (rows of g and x)`` -> ``g.T @ x``.
    """
    text = formula.split("  (")[0].strip()
    if text.endswith(")"):
        depth, k = 0, len(text) - 1
        for k in range(len(text) - 1, -1, -1):
            depth += text[k] == ")"
            depth -= text[k] == "("
            if depth == 0:
                break
        # words in parentheses after a complete term are a note, not a factor
        if (k >= 2 and text[k - 1] == " " and (text[k - 2].isalnum() or text[k - 2] in ")_")
                and _WORD.search(text[k:])):
            text = text[:k - 1]
    return _split_top(text, " = ")[0].strip()


def _chain_factor(formula: str) -> str:
    """The op table's derivative text as a factor in a product.

    The table sometimes adds a note (``sign(a) (0 at a = 0)``) or an equivalent form
    (``exp(a) = out``); the product shows the first form only, in parentheses unless it
    is a single name, number or call.
    """
    return _factor(_first_form(formula))


def _factor(text: str) -> str:
    """`text` ready to be multiplied: as is when it is a name, number, call or product."""
    pieces = _split_top(text, " * ")
    if all(_is_call_or_atom(piece) for piece in pieces):
        return text
    return f"({text})"


def _left_factor(text: str) -> str:
    """`text` as the first factor of a product: a leading minus needs no parentheses."""
    if text.startswith("-") and _factor(text[1:]) == text[1:]:
        return text
    return _factor(text)


def _split_top(text: str, separator: str) -> list[str]:
    """`text` split at `separator` where no parentheses or brackets are open."""
    pieces, depth, start, k = [], 0, 0, 0
    while k < len(text):
        char = text[k]
        depth += char in "(["
        depth -= char in ")]"
        if depth == 0 and text.startswith(separator, k):
            pieces.append(text[start:k])
            k += len(separator)
            start = k
            continue
        k += 1
    pieces.append(text[start:])
    return pieces


def _is_call_or_atom(text: str) -> bool:
    """A name, a number, a call ``f(...)`` or a whole parenthesized group ``(...)``."""
    if as_atom(text) == text:
        return True
    name, paren, _ = text.partition("(")
    if not paren or (name and not name.isidentifier()) or not text.endswith(")"):
        return False
    depth = 0
    for k, char in enumerate(text[len(name):]):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and k != len(text) - len(name) - 1:
            return False
    return True


def _product(left: str | None, right: str) -> str | None:
    """``left * right`` as text, dropping factors of 1; None when `left` is unknown."""
    if left is None:
        return None
    if left == "1":
        return right
    if right == "1":
        return left
    for one, other in ((left, right), (right, left)):
        if one == "-1":
            factor = _factor(other)
            return factor[1:] if factor.startswith("-") and _is_call_or_atom(factor[1:]) else (
                f"-{factor}")
    return f"{_factor(left)} * {_factor(right)}"


def _sum(left: str | None, right: str | None) -> str | None:
    if left is None or right is None:
        return None
    return f"{left} - {right[1:]}" if right.startswith("-") else f"{left} + {right}"


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
    # The engine's own pass: autograd.graph.run_backward's start, loop order and finish.
    if not root.parents:
        root.grad += seed
        return
    interior, held = start_pass(root, seed)
    edges_left: dict[Any, int] = {}
    for node in interior:
        for parent in node.parents:
            edges_left[parent] = edges_left.get(parent, 0) + 1
    formulas: dict[Any, str | None] = {root: format_value(seed, names.number_format)
                                       if isinstance(seed, numbers.Real) else None}
    received: set[Any] = set()
    index = 0
    finished = False
    try:
        for node in reversed(interior):
            upstream = node.grad
            upstream_formula = formulas.get(node)
            n = len(node.parents)
            op = node.op
            expression = names.expression(node)
            upstream_symbol = names.partial(root, node)
            repeated = {p for p, k in Counter(node.parents).items() if k > 1}
            for i, (parent, local) in enumerate(zip(node.parents, node.local_grads)):
                contribution = local * upstream
                if is_anomaly_enabled() and not all_finite(contribution):
                    raise non_finite_gradient(node, i, upstream, local, contribution)
                before = _copy(parent.grad)
                accumulates = parent in received
                parent.grad += contribution
                received.add(parent)
                edges_left[parent] -= 1
                index += 1
                local_formula = names.local_derivative(node, i)
                scalar = isinstance(local, numbers.Real)
                if scalar:
                    term = _product(upstream_formula, _first_form(local_formula))
                    formula = _sum(formulas.get(parent), term) if accumulates else term
                    formulas[parent] = formula if formula and len(formula) <= _MAX_FORMULA \
                        else None
                local_symbol = names.partial(node, parent)
                if parent in repeated:
                    local_symbol += f"[{op.input_name(i, n)}]"
                yield BackwardStep(
                    index=index, node=node, node_name=names[node], op=op,
                    expression=expression, upstream=upstream, input_index=i, input=parent,
                    input_name=names[parent], rule=op.formula(i, n, node.params),
                    local_formula=local_formula, local=local, contribution=contribution,
                    grad_before=before, grad_after=_copy(parent.grad),
                    accumulates=accumulates, first_of_node=i == 0,
                    upstream_symbol=upstream_symbol, local_symbol=local_symbol,
                    target_symbol=names.partial(root, parent),
                    number_format=names.number_format, upstream_formula=upstream_formula,
                    held_before=held.get(parent, 0.0),
                    last_into_input=edges_left[parent] == 0,
                    vjp_formula=None if scalar else names.local_derivative(
                        node, i, upstream=upstream_symbol),
                )
        finished = True
    finally:
        finish_pass(held, finished)  # stopped early or failed: leaves as they were


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
