"""Forward mode, one node at a time: each node's tangent is Σ local × input tangent.

Where the backward pass starts from the output gradient (df/df = 1) and walks the graph
in reverse, forward mode starts from a direction, the tangent dx/dt of every input, and
walks it forwards: for ``c = x*b``,
``dc/dt = ∂c/∂x·dx/dt + ∂c/∂b·db/dt = b·1 + x·0 = 4·1 + 3·0 = 4``.  The local
derivatives are the same numbers the backward pass uses (`autograd.tangents` computes
the same thing without the text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from autograd.graph import topological_order
from autograd.higher import tangents as autograd_tangents
from autograd.value import Value
from viz.naming import GraphNames, format_value
from viz.steps import readable

__all__ = ["TangentTerm", "TangentStep", "forward_mode_steps", "format_forward_mode"]


@dataclass(frozen=True)
class TangentTerm:
    """One input's share: ∂node/∂input (as a formula and a number) × the input's tangent."""

    input_name: str  # as written after d: ``x``, ``(2)``
    local_formula: str
    local: float
    input_tangent: float

    @property
    def share(self) -> float:
        """local × input tangent."""
        return self.local * self.input_tangent


@dataclass(frozen=True)
class TangentStep:
    """A node of a forward-mode pass: how its tangent dnode/dt is made from its inputs'."""

    index: int
    name: str
    expression: str
    terms: tuple[TangentTerm, ...]
    tangent: float
    number_format: str = ".4g"

    def chain_rule(self) -> str:
        """E.g. ``dc/dt = ∂c/∂x·dx/dt + ∂c/∂b·db/dt = b·1 + x·0 = 4·1 + 3·0 = 4``."""
        fmt = self.number_format
        if not self.terms:
            return f"d{self.name}/dt = {format_value(self.tangent, fmt)}"  # an input: given
        rule = " + ".join(f"∂{self.name}/∂{t.input_name}·d{t.input_name}/dt" for t in self.terms)
        formulas = " + ".join(f"{_factor(t.local_formula)}·{format_value(t.input_tangent, fmt)}"
                              for t in self.terms)
        numbers = " + ".join(f"{format_value(t.local, fmt)}·{format_value(t.input_tangent, fmt)}"
                             for t in self.terms)
        parts = [rule, formulas] if formulas == numbers else [rule, formulas, numbers]
        return f"d{self.name}/dt = {' = '.join(parts)} = {format_value(self.tangent, fmt)}"

    def __repr__(self) -> str:
        return f"TangentStep({self.chain_rule()!r})"


def _factor(text: str) -> str:
    return text if text.replace(".", "").replace("-", "").isalnum() else f"({text})"


def forward_mode_steps(root: Value, tangents: Mapping[Any, float] | Sequence[float],
                       *, number_format: str = ".4g") -> list[TangentStep]:
    """The forward-mode pass of `root`'s graph along a direction, one record per node.

    `tangents` gives each input's tangent dx/dt, keyed by the input Value or its label
    (inputs not named get 0), or a sequence in the order of the graph's labelled leaves.
    """
    if not isinstance(root, Value):
        raise TypeError(f"forward_mode_steps needs a Value (scalar graph), got "
                        f"{type(root).__name__}")
    root = readable(root)
    names = GraphNames(root, number_format)
    order = topological_order(root)
    inputs = [n for n in order if not n.parents and n.label]
    # The numbers are the engine's own forward mode; this function only writes them out.
    values = autograd_tangents(root, _seeds(inputs, tangents))
    steps: list[TangentStep] = []
    for node in order:
        if not node.parents:
            expression = "input" if node.label else "constant"
            steps.append(TangentStep(len(steps) + 1, names.in_d(node), expression, (),
                                     values[node], number_format))
            continue
        parent_names = [names[p] for p in node.parents]
        terms = []
        for i, (parent, local) in enumerate(zip(node.parents, node.local_grads)):
            if names.is_constant(parent):
                continue  # a constant's tangent is 0: its share always is
            formula = node.op.explain(i, parent_names, out_name=names[node],
                                      params=node.params, pretty=True).formula
            terms.append(TangentTerm(names.in_d(parent), formula, local, values[parent]))
        expression = node.op.expression_text(parent_names, node.params, pretty=True)
        steps.append(TangentStep(len(steps) + 1, names.in_d(node), expression, tuple(terms),
                                 values[node], number_format))
    return steps


def _seeds(inputs: list[Value], tangents: Mapping[Any, float] | Sequence[float]
           ) -> dict[Value, float]:
    if isinstance(tangents, Mapping):
        by_label = {n.label: n for n in inputs}
        seeds = {}
        for key, t in tangents.items():
            node = key if isinstance(key, Value) else by_label.get(key)
            if node is None:
                raise ValueError(f"a tangent was given for {key!r}, which is not an input of "
                                 f"the graph (inputs: {', '.join(by_label) or 'none'})")
            seeds[node] = float(t)
        return seeds
    values = list(tangents)
    if len(values) != len(inputs):
        raise ValueError(f"{len(values)} tangents for {len(inputs)} labelled inputs "
                         f"({', '.join(n.label for n in inputs)})")
    return {n: float(t) for n, t in zip(inputs, values)}


def format_forward_mode(steps: Sequence[TangentStep]) -> str:
    """The pass as a table: step, node, how it is computed, its tangent rule."""
    rows = [(str(s.index), s.name, s.expression, s.chain_rule()) for s in steps]
    header = ("step", "node", "computed as", "tangent (forward mode)")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header[:3], widths)) + "  " + header[3]]
    lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(header[3]))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + r[3] for r in rows)
    return "\n".join(lines)
