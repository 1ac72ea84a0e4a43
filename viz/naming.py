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
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from autograd.graph import topological_order

__all__ = [
    "DEFAULT_NUMBER_FORMAT", "GraphNames", "format_value", "check_number_format", "is_zero",
    "op_label", "as_atom",
]

#: the format spec used when none is given: 4 significant digits, integers without ".0"
DEFAULT_NUMBER_FORMAT = ".4g"

#: arrays with at most this many elements are shown in full
_SMALL_ARRAY = 6

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_ATOM = re.compile(r"[\w.#\[\]]+")
#: an n-ary expression written as a series, e.g. "a0 + a1 + ..."
_SERIES = re.compile(r"(?P<base>[A-Za-z_]+)0(?P<sep>.+?)(?P=base)1(?P=sep)\.\.\.")
_UPSTREAM = "\x00"
_BARE_ARGUMENT = re.compile(r"([(,]\s*)\x00(\s*[,)])")
_SHAPE_OF = re.compile(r"\b([A-Za-z_]\w*)\.shape\b")
_NAME_IN_D = re.compile(r"[^\W\d][\w.#\[\]]*")


def check_number_format(number_format: str) -> str:
    """`number_format` if it is a float format spec (``".4g"``, ``".3f"``); else ValueError."""
    if not isinstance(number_format, str):
        raise TypeError(f"number_format must be a format spec string such as '.4g', got "
                        f"{type(number_format).__name__}")
    try:
        format(1.5, number_format)
    except (ValueError, TypeError):
        raise ValueError(f"number_format {number_format!r} is not a float format spec "
                         f"(try '.4g' or '.3f')") from None
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


def _param_in_formula(value: Any, number_format: str) -> str | None:
    """A param as it is written into a formula, or None to keep the param's name.

    Numbers, axes and shapes are written in; arrays (class targets) keep their name.
    """
    if hasattr(value, "shape") and not isinstance(value, numbers.Real):
        return None
    text = _param_text(value, number_format)
    return text if text[:1] in "([" or text.startswith("'") else as_atom(text)


def op_label(node: Any, number_format: str = DEFAULT_NUMBER_FORMAT) -> str:
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
    """a, b, c, ... (as in the seed's a = 2y, b = a + z, c = x*b), then t1, t2, ..."""
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

    def __init__(self, root: Any, number_format: str = DEFAULT_NUMBER_FORMAT) -> None:
        self.root = root
        self.number_format = check_number_format(number_format)
        self.order: list[Any] = topological_order(root)
        self.position: dict[Any, int] = {node: i for i, node in enumerate(self.order)}
        self.names: dict[Any, str] = {}
        self._input_name_cache: dict[Any, list[str]] = {}
        self._substitution_cache: dict[Any, dict[str, str]] = {}
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

    def __getitem__(self, node: Any) -> str:
        return self.names[node]

    def __contains__(self, node: Any) -> bool:
        return node in self.names

    def __iter__(self) -> Iterator[Any]:
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)

    def node_id(self, node: Any) -> str:
        """The node's stable DOT id: ``n`` and its topological position."""
        return f"n{self.position[node]}"

    @staticmethod
    def is_scalar(node: Any) -> bool:
        """True when the node's data is a single real number."""
        data = node.data
        return isinstance(data, numbers.Real) or getattr(data, "shape", None) == ()

    def is_constant(self, node: Any) -> bool:
        """An unlabelled leaf (a number that appeared in an expression), or a Tensor made
        with ``requires_grad=False``."""
        if node.parents:
            return False
        if getattr(node, "requires_grad", True) is False:
            return True
        return not node.label

    def in_d(self, node: Any) -> str:
        """The node's name as it appears after ``d`` in ``dc/dx``: ``x``, ``(2)``."""
        name = self.names[node]
        return name if _NAME_IN_D.fullmatch(name) else f"({name})"

    def partial(self, of: Any, wrt: Any) -> str:
        """``dc/dx``: the derivative of `of` with respect to `wrt`, in names."""
        return f"d{self.in_d(of)}/d{self.in_d(wrt)}"

    # -- formula text ----------------------------------------------------------------------

    def _input_names(self, node: Any) -> list[str]:
        """The op's name for each input of `node` (``a``, ``b``; ``w0``, ``x0``, ``b``)."""
        cached = self._input_name_cache.get(node)
        if cached is None:
            op = node.op
            # Op.input_name(i, n) for every i, with the layout computed once, not n times
            cached = [op.input_names[group].format(i=position)
                      for group, position in op.layout(len(node.parents))]
            self._input_name_cache[node] = cached
        return cached

    def _substitutions(self, node: Any) -> dict[str, str]:
        cached = self._substitution_cache.get(node)
        if cached is not None:
            return dict(cached)
        op = node.op
        mapping = {name: as_atom(self.names[p])
                   for name, p in zip(self._input_names(node), node.parents)}
        mapping["out"] = as_atom(self.names[node])
        for pname, pvalue in zip(op.params, node.params):
            text = _param_in_formula(pvalue, self.number_format)
            if text is not None:
                mapping[pname] = text
        self._substitution_cache[node] = mapping
        return dict(mapping)

    def local_derivative(self, node: Any, index: int, *, upstream: str | None = None) -> str:
        """The op table's derivative of input `index`, written in node names.

        For c = x*b the table says d(a*b)/db = a, so this gives ``x``.  For a Tensor
        op, ``a.shape`` is written as the input's shape, and with `upstream` the
        table's ``g`` (the upstream gradient) is written as that text, in parentheses.
        """
        op = node.op
        text = op.derivative(index, len(node.parents))
        if ".shape" in text:
            shapes = {name: getattr(p.data, "shape", None)
                      for name, p in zip(self._input_names(node), node.parents)}
            text = _SHAPE_OF.sub(
                lambda m: str(shapes[m.group(1)]) if isinstance(shapes.get(m.group(1)), tuple)
                else m.group(), text)
        mapping = self._substitutions(node)
        if upstream is not None and "g" not in mapping:
            mapping["g"] = _UPSTREAM
        text = _IDENTIFIER.sub(lambda m: mapping.get(m.group(), m.group()), text)
        if upstream is None:
            return text
        # a whole argument needs no parentheses: sum_to(dL/dc, (5, 3)), not sum_to((dL/dc), ...)
        text = _BARE_ARGUMENT.sub(lambda m: m.group(1) + upstream + m.group(2), text)
        return text.replace(_UPSTREAM, f"({upstream})" if as_atom(upstream) != upstream
                            else upstream)

    def expression(self, node: Any, max_items: int = 8) -> str:
        """How `node` was computed, in node names: ``x*b``, ``tanh(a)``, ``[w0, w1]·[x0] + b``."""
        op = node.op
        if op is None:
            return "constant" if self.is_constant(node) else "input"
        parents = node.parents
        n = len(parents)
        mapping = self._substitutions(node)
        text = op.expression
        if op.nary:
            groups: dict[str, list[str]] = {}
            for i, (group, _position) in enumerate(op.layout(n)):
                base = op.input_names[group].replace("{i}", "")
                groups.setdefault(base, []).append(as_atom(self.names[parents[i]]))
            series = _SERIES.fullmatch(text)
            if series and len(groups) == 1:
                return series.group("sep").join(_shorten(next(iter(groups.values())), max_items))
            for base, names in groups.items():
                is_vector = any("{i}" in name for name in op.input_names
                                if name.replace("{i}", "") == base)
                mapping[base] = ("[" + ", ".join(_shorten(names, max_items)) + "]"
                                 if is_vector else names[0])
        return _IDENTIFIER.sub(lambda m: mapping.get(m.group(), m.group()), text)


def _shorten(items: Sequence[str], max_items: int) -> list[str]:
    if len(items) <= max_items:
        return list(items)
    head = max(1, max_items - 2)
    return [*items[:head], "…", *items[-1:]]


def unique_in_order(items: Iterable[Any]) -> list[Any]:
    """`items` without repeats, first occurrence first (by identity)."""
    seen: set[int] = set()
    out = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out
