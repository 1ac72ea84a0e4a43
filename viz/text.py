"""Plain-text views of a graph for terminals: an indented tree, or a table of nodes.

>>> from autograd import Value
>>> x, y = Value(3.0, "x"), Value(2.0, "y")
>>> f = x * y + x
>>> f.label = "f"
>>> f.backward()
>>> print(tree(f))
f = a + x   data 9  grad 1
├── a = x·y   data 6  grad 1
│   ├── x   data 3  grad 3
│   └── y   data 2  grad 3
└── x   data 3  grad 3
"""

from __future__ import annotations

from typing import Any

from autograd.node import Node
from viz.naming import DEFAULT_NUMBER_FORMAT, GraphNames, format_value
from viz.steps import _table, readable

__all__ = ["tree", "table", "to_text"]


def _describe(node: Node, names: GraphNames, show_grads: bool) -> str:
    fmt = names.number_format
    head = names[node]
    if node.parents:
        head = f"{head} = {names.expression(node, pretty=True)}"
    if names.is_constant(node) and names.is_scalar(node):
        head = f"{head} (constant)"
    text = f"{head}   data {format_value(node.data, fmt)}"
    if show_grads:
        text += f"  grad {format_value(node.grad, fmt)}"
    return text


def tree(root: Node, *, show_grads: bool = True, number_format: str = DEFAULT_NUMBER_FORMAT,
         max_depth: int = 40) -> str:
    """The graph as an indented tree from `root` down to the leaves.

    An op result reached a second time is not expanded again (``(shown above)``; a leaf
    is just repeated), so the text
    grows with the number of edges, never exponentially; branches deeper than
    `max_depth` end in ``...``.
    """
    root = readable(root)
    names = GraphNames(root, number_format)
    lines: list[str] = []
    expanded: set[Any] = set()
    # (node, prefix for its own line, prefix for its children, depth); iterative so a
    # long chain needs no recursion.
    stack: list[tuple[Any, str, str, int]] = [(root, "", "", 0)]
    while stack:
        node, own_prefix, child_prefix, depth = stack.pop()
        if node in expanded and node.parents:
            lines.append(f"{own_prefix}{names[node]}   (shown above)")
            continue
        lines.append(own_prefix + _describe(node, names, show_grads))
        expanded.add(node)
        if not node.parents:
            continue
        if depth >= max_depth:
            lines.append(f"{child_prefix}└── ...")
            continue
        children = list(node.parents)
        for k in reversed(range(len(children))):
            last = k == len(children) - 1
            stack.append((children[k], child_prefix + ("└── " if last else "├── "),
                          child_prefix + ("    " if last else "│   "), depth + 1))
    return "\n".join(lines)


def table(root: Node, *, show_grads: bool = True,
          number_format: str = DEFAULT_NUMBER_FORMAT) -> str:
    """The graph as a table, one row per node in the order the forward pass computes them."""
    root = readable(root)
    names = GraphNames(root, number_format)
    fmt = names.number_format
    rows = []
    for node in names.order:
        row = [str(names.position[node] + 1), names[node], names.expression(node, pretty=True),
               format_value(node.data, fmt)]
        if show_grads:
            row.append(format_value(node.grad, fmt))
        rows.append(row)
    header = ["#", "node", "computed as", "data"] + (["grad"] if show_grads else [])
    return _table(header, rows)


def to_text(root: Node, style: str = "tree", **options: Any) -> str:
    """`tree` or `table` by name."""
    if style == "tree":
        return tree(root, **options)
    if style == "table":
        return table(root, **options)
    raise ValueError(f"style must be 'tree' or 'table', got {style!r}")
