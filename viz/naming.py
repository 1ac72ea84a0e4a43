"""Names and number formatting shared by every view of a graph.

Everything the renderer, the text views and the stepper print about a node goes
through here: its display name (its label, or a generated one), its value formatted
by one helper (`format_value`) that shows a scalar as a number and an array as its
shape and a short summary, and the op table's formula text with the op's input names
replaced by the names of the actual nodes.

Nothing here knows an op's math: formulas come from the op table as text.
"""

from __future__ import annotations

import numbers
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from autograd.formula import Derivative
from autograd.graph import topological_order
from autograd.node import Node

__all__ = [
    "DEFAULT_NUMBER_FORMAT", "GraphNames", "format_value", "check_number_format", "is_zero",
    "MAX_FORMAT_WIDTH", "MAX_FORMAT_PRECISION", "generic_names",
    "op_label", "as_atom",
]

#: the format spec used when none is given: 4 significant digits, integers without ".0"
DEFAULT_NUMBER_FORMAT = ".4g"

#: arrays with at most this many elements are shown in full
_SMALL_ARRAY = 6

_ATOM = re.compile(r"[\w.#\[\]]+")
_NAME_IN_D = re.compile(r"[^\W\d][\w.#\[\]]*")


#: a float format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type],
#: the fill one visible character that needs no escaping anywhere
_NUMBER_FORMAT = re.compile(
    r"(?:[!#-\[\]-~]?[<>=^])?[+\- ]?z?#?0?(?P<width>\d+)?[,_]?"
    r"(?:\.(?P<precision>\d+))?[eEfFgG%]?")
#: the widest and most precise number format accepted (a float has 17 significant digits)
MAX_FORMAT_WIDTH = 40
MAX_FORMAT_PRECISION = 20


def check_number_format(number_format: str) -> str:
    """`number_format` if it is a float format spec (``".4g"``, ``".3f"``); else ValueError.

    Width and precision are bounded (`MAX_FORMAT_WIDTH`, `MAX_FORMAT_PRECISION`) so
    that no format makes a number millions of characters long.
    """
    if not isinstance(number_format, str):
        raise TypeError(f"number_format must be a format spec string such as '.4g', got "
                        f"{type(number_format).__name__}")
    shown = ascii(number_format[:40]) + ("..." if len(number_format) > 40 else "")
    match = _NUMBER_FORMAT.fullmatch(number_format)
    if match is None:
        raise ValueError(f"number format {shown} is not a float format spec (try '.4g' "
                         f"or '.3f')")
    width, precision = match.group("width"), match.group("precision")
    if width is not None and int(width) > MAX_FORMAT_WIDTH:
        raise ValueError(f"number format {shown}: the width must be at most "
                         f"{MAX_FORMAT_WIDTH}")
    if precision is not None and int(precision) > MAX_FORMAT_PRECISION:
        raise ValueError(f"number format {shown}: the precision must be at most "
                         f"{MAX_FORMAT_PRECISION}")
    try:
        format(1.5, number_format)
    except (ValueError, TypeError):
        raise ValueError(f"number format {shown} is not a float format spec (try '.4g' "
                         f"or '.3f')") from None
    return number_format


def _format_scalar(x: float, number_format: str) -> str:
    text = format(float(x), number_format)
    return "0" if text in ("-0", "-0.0") and float(x) == 0.0 else text


def format_value(x: Any, number_format: str = DEFAULT_NUMBER_FORMAT, *,
                 shape: bool = True) -> str:
    """A node's data, grad or local derivative as short text.

    A real number is formatted with `number_format`; an array (anything with ``shape``
    and ``size``, e.g. a NumPy array of a Tensor node) shows its values when it is small
    and its shape with mean/min/max otherwise; anything else (a vector-Jacobian product
    object, say) shows its ``repr``, shortened.  ``shape=False`` leaves the shape out
    of a large array's summary (for a picture that shows it beside the name).
    """
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return _format_scalar(x, number_format)
    dims = getattr(x, "shape", None)
    size = getattr(x, "size", None)
    if isinstance(dims, tuple) and isinstance(size, int):
        return _format_array(x, dims, size, number_format, with_shape=shape)
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _format_array(x: Any, shape: tuple[int, ...], size: int, number_format: str, *,
                  with_shape: bool = True) -> str:
    import numpy as np  # only arrays get here, so only array users pay for the import

    if size == 0:
        return f"shape {shape} (empty)"
    values = np.asarray(x, dtype=float)
    if len(shape) == 0:
        return _format_scalar(float(values), number_format)
    if size <= _SMALL_ARRAY:
        body = np.array2string(
            values, separator=", ",
            formatter={"float_kind": lambda v: _format_scalar(v, number_format)},
        )
        return body.replace("\n", "")
    with np.errstate(all="ignore"):
        mean, low, high = (float(values.mean()), float(values.min()), float(values.max()))
    def fmt(v: float) -> str:
        return _format_scalar(v, number_format)

    summary = f"mean {fmt(mean)} in [{fmt(low)}, {fmt(high)}]"
    return f"{'×'.join(str(d) for d in shape)} {summary}" if with_shape else summary


def is_zero(x: Any) -> bool:
    """True for 0.0 and for an array of zeros (a gradient nothing has flowed into yet)."""
    if isinstance(x, numbers.Real):
        return x == 0
    try:
        return not bool((x != 0).any())
    except (AttributeError, TypeError, ValueError):
        return False


def as_atom(text: str) -> str:
    """`text` in parentheses unless it is already one token (``x``, ``2``, ``L0.N1.w2``)."""
    return text if _ATOM.fullmatch(text) and not text.startswith("-") else f"({text})"


def _param_text(value: Any, number_format: str) -> str:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return format_value(value, number_format)
    if hasattr(value, "shape") and hasattr(value, "size"):  # an array (class targets, say)
        return format_value(value, number_format)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def op_label(node: Node, number_format: str = DEFAULT_NUMBER_FORMAT) -> str:
    """The short text of a node's op for its small op node: ``+``, ``*``, ``**2``, ``tanh``.

    Parameters the op's symbol names are written in (``**n`` becomes ``**2``); others
    are appended (``leaky_relu(slope=0.1)``).
    """
    op = node.op
    symbol = op.symbol
    params = dict(zip(op.params, node.params))
    if not params:
        return symbol
    named = {k: v for k, v in params.items() if re.search(rf"\b{re.escape(k)}\b", symbol)}
    for name, value in named.items():
        symbol = re.sub(rf"\b{re.escape(name)}\b", _param_text(value, number_format), symbol)
    rest = [f"{k}={_param_text(v, number_format)}" for k, v in params.items() if k not in named]
    return f"{symbol}({', '.join(rest)})" if rest else symbol


def _generated_names(taken: set[str]) -> Iterator[str]:
    """a, b, c, ... (as in the chain-rule example's a = 2y, b = a + z, c = x*b), then t1, ..."""
    for letter in "abcdefghijklmnopqrstuvwxyz":
        if letter not in taken:
            yield letter
    k = 1
    while True:
        name = f"t{k}"
        if name not in taken:
            yield name
        k += 1


class GraphNames:
    """Display names and stable positions for every node of one graph.

    A labelled node is called by its label (a repeated label gets ``#2``, ``#3``);
    a constant (an unlabelled leaf holding a number) by its value; any other
    unlabelled node by a generated name: ``a``, ``b``, ``c``, ... skipping the labels
    in use, then ``t1``, ``t2``, ...  Positions follow `autograd.topological_order`,
    so the same graph always gets the same names and ids.
    """

    def __init__(self, root: Node, number_format: str = DEFAULT_NUMBER_FORMAT) -> None:
        self.root = root
        self.number_format = check_number_format(number_format)
        self.order: list[Any] = topological_order(root)
        self.position: dict[Any, int] = {node: i for i, node in enumerate(self.order)}
        self._operands: dict[Any, list[str]] = {}
        self._slots: dict[Any, list[str]] = {}
        self.names: dict[Any, str] = {}
        labels = Counter(node.label for node in self.order if node.label)
        taken = set(labels)
        fresh = _generated_names(taken)
        seen: Counter[str] = Counter()
        for node in self.order:
            label = node.label
            if label:
                seen[label] += 1
                name = label
                if seen[label] > 1:
                    k = seen[label]
                    while f"{label}#{k}" in taken:
                        k += 1
                    name = f"{label}#{k}"
                    taken.add(name)
            elif not node.parents and self.is_scalar(node):
                name = format_value(node.data, self.number_format)
            else:
                name = next(fresh)
            self.names[node] = name

    def __getitem__(self, node: Node) -> str:
        return self.names[node]

    def __contains__(self, node: Node) -> bool:
        return node in self.names

    def __iter__(self) -> Iterator[Any]:
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)

    def node_id(self, node: Node) -> str:
        """The node's stable DOT id: ``n`` and its topological position."""
        return f"n{self.position[node]}"

    @staticmethod
    def is_scalar(node: Node) -> bool:
        """True when the node's data is a single real number."""
        data = node.data
        return isinstance(data, numbers.Real) or getattr(data, "shape", None) == ()

    def is_constant(self, node: Node) -> bool:
        """An unlabelled leaf (a number that appeared in an expression), or a Tensor made
        with ``requires_grad=False``."""
        if node.parents:
            return False
        if getattr(node, "requires_grad", True) is False:
            return True
        return not node.label

    def in_d(self, node: Node) -> str:
        """The node's name as it appears after ``d`` in ``dc/dx``: ``x``, ``(2)``."""
        name = self.names[node]
        return name if _NAME_IN_D.fullmatch(name) else f"({name})"

    def partial(self, of: Node, wrt: Node) -> str:
        """``dc/dx``: the derivative of `of` with respect to `wrt`, in names."""
        return f"d{self.in_d(of)}/d{self.in_d(wrt)}"

    # -- rules in the graph's own names (the op table writes them; nothing is parsed) ----

    def operands(self, node: Node) -> list[str]:
        """The names of `node`'s inputs as they stand in a formula: ``x``, ``(-1)``."""
        cached = self._operands.get(node)
        if cached is None:
            cached = self._operands[node] = [as_atom(self.names[p]) for p in node.parents]
        return cached

    def local_derivative(self, node: Node, index: int, *, upstream: str | None = None,
                         pretty: bool = False) -> Derivative:
        """The op table's local derivative of input `index`, in the graph's own names.

        For c = x*b this is ``x`` for input 1 (the table's own rule, explained with the
        operands' names by `Op.explain`).  For a Tensor op it is the vector-Jacobian
        product, with `upstream` naming the upstream gradient (``dL/dc``).
        """
        op = node.op
        options: dict[str, Any] = {"out_name": as_atom(self.names[node]),
                                   "params": node.params, "pretty": pretty}
        if upstream is not None and hasattr(op, "vjp_texts"):  # a Tensor op: a VJP
            options["upstream_name"] = as_atom(upstream)
        return op.explain(index, self.operands(node), **options)

    def expression(self, node: Node, max_items: int = 8, *, pretty: bool = False) -> str:
        """How `node` was computed, in node names: ``x*b``, ``tanh(a)``; ``input`` or
        ``constant`` for a leaf."""
        op = node.op
        if op is None:
            return "constant" if self.is_constant(node) else "input"
        return op.expression_text(self.operands(node), node.params, pretty=pretty,
                                  max_items=max_items)

    def generic_rule(self, node: Node, index: int) -> str:
        """The op table's rule for input `index` with placeholders that are never a node's
        name: ``∂(⟨a⟩·⟨b⟩)/∂⟨b⟩ = ⟨a⟩``."""
        op = node.op
        slots = self._slots.get(node)
        if slots is None:  # once per node: the table's names cost O(inputs) each
            slots = self._slots[node] = generic_names(op, len(node.parents))
        options: dict[str, Any] = {"out_name": "⟨out⟩", "params": node.params, "pretty": True}
        if hasattr(op, "vjp_texts"):
            options["upstream_name"] = "⟨g⟩"
        rule = op.explain(index, slots, **options)
        expression = op.expression_text(slots, node.params, pretty=True)
        return f"∂({expression})/∂{slots[index]} = {rule}"


def generic_names(op: Any, n_inputs: int) -> list[str]:
    """The table's placeholders for `op` (never a node's name), as `autograd.ops` gives them."""
    if hasattr(op, "vjp_texts"):
        return [f"⟨{op.input_name(k, n_inputs)}⟩" for k in range(n_inputs)]
    # autograd.ops.placeholders, with the layout computed once rather than per input
    return [f"⟨{op.input_names[group].format(i=position)}⟩"
            for group, position in op.layout(n_inputs)]


def unique_in_order(items: Iterable[Any]) -> list[Any]:
    """`items` without repeats, first occurrence first (by identity)."""
    seen: set[int] = set()
    out = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out
