"""Graph -> `graphviz.Digraph`: one record per value, one small node per op.

`draw` builds the picture (it shows inline in Jupyter, as any Digraph does); `render`
writes it to svg/png/pdf/dot by the file's extension, atomically.  The DOT text is
deterministic: node ids are topological positions (``n0``, ``n1``, ... and ``n7_op``
for the op that made ``n7``), so the same graph always gives the same text.

Large graphs can be drawn collapsed, one box per group of nodes (a neuron, a layer):
see `draw`'s ``collapse`` and `group_by_label`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import graphviz

from autograd.files import atomic_write
from viz.naming import DEFAULT_NUMBER_FORMAT, GraphNames, format_value, op_label
from viz.steps import check_node

__all__ = [
    "draw", "render", "pipe", "Drawing", "svg_text", "group_by_label", "GraphvizNotFoundError",
    "RenderError", "ROLE_COLORS", "INSTALL_HINT", "RENDER_FORMATS",
]

#: fill colour of a value's record by its role in the graph
ROLE_COLORS: dict[str, str] = {
    "output": "#ffd8a8",
    "parameter": "#c3f0c8",
    "input": "#cfe2ff",
    "constant": "#eeeeee",
    "intermediate": "#ffffff",
    "group": "#eadcf8",
}
_OP_FILL = "#f1f3f5"
_HIGHLIGHT = "#d6336c"
_MUTED = "#868e96"
_FONT = "Helvetica,Arial,sans-serif"

#: the output formats `render` accepts (by file extension)
RENDER_FORMATS = ("svg", "png", "pdf", "dot", "gv")

INSTALL_HINT = (
    "Install Graphviz (the program, not only the Python package) and make sure `dot` is on "
    "PATH: `sudo apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
    "`conda install graphviz` (conda), or see https://graphviz.org/download/"
)


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's `dot` program is missing: the picture could not be made.

    ``dot_source`` holds the DOT text of the picture and ``dot_path`` the file it was
    written to (if any), so it can be rendered elsewhere (e.g. https://viz-js.com).
    """

    def __init__(self, message: str, dot_source: str, dot_path: Path | None) -> None:
        super().__init__(message)
        self.dot_source = dot_source
        self.dot_path = dot_path


class RenderError(RuntimeError):
    """`dot` ran but failed (its message is included)."""


def _not_found(fmt: str, source: str, written: Path | None) -> GraphvizNotFoundError:
    where = f" The DOT text was written to {written}." if written else ""
    return GraphvizNotFoundError(
        f"cannot render {fmt}: Graphviz's `dot` program was not found. {INSTALL_HINT}.{where}",
        source, written,
    )


class Drawing(graphviz.Digraph):
    """The `graphviz.Digraph` that `draw` returns: the same object, with a missing Graphviz
    explained instead of graphviz's bare `ExecutableNotFound`.

    Without the `dot` program, ``pipe``/``render``/``view`` raise `GraphvizNotFoundError`
    (which says how to install Graphviz and carries the DOT text), and displaying the
    drawing in Jupyter shows that message and the DOT text instead of a traceback.
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        """`graphviz.Digraph.pipe`, raising `GraphvizNotFoundError` without `dot`."""
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            fmt = kwargs.get("format") or (args[0] if args else None) or self.format
            raise _not_found(str(fmt), self.source, None) from None

    def render(self, *args: Any, **kwargs: Any) -> str:
        """`graphviz.Digraph.render`, raising `GraphvizNotFoundError` without `dot` (the
        DOT source file graphviz saved first is named in the message)."""
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            saved = Path(self.filepath)
            fmt = kwargs.get("format") or self.format
            raise _not_found(str(fmt), self.source, saved if saved.exists() else None) from None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> dict[str, Any]:
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except GraphvizNotFoundError as error:
            return {"text/plain": f"{error}\n\n{self.source}"}


Grouping = str | Callable[[Any], "str | None"] | Mapping[Any, str]


def group_by_label(depth: int, separator: str = ".") -> Callable[[Any], str | None]:
    """A grouping that reads a layer/neuron path from labels such as ``L0.N3.w1``.

    The group is the first `depth` parts of the label (``depth=2``: ``L0.N3``, one box
    per neuron; ``depth=1``: ``L0``, one box per layer).  A leaf needs more than `depth`
    parts (``L0.N3.w1``, ``L0.N3.b``), so an input labelled ``x`` is never swallowed; an
    op's result may have exactly `depth` (a neuron's output labelled ``L0.N3``).
    Unlabelled nodes get no group here; `draw` infers theirs from the graph.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    if not isinstance(separator, str) or not separator:
        raise ValueError("separator must be a non-empty string")

    def group(node: Any) -> str | None:
        if not node.label:
            return None
        parts = node.label.split(separator)
        needed = depth + 1 if not node.parents else depth
        return separator.join(parts[:depth]) if len(parts) >= needed else None

    return group


_NAMED_COLLAPSE = {"neuron": 2, "layer": 1}


def _explicit_grouping(collapse: Grouping) -> Callable[[Any], str | None]:
    if isinstance(collapse, str):
        if collapse not in _NAMED_COLLAPSE:
            raise ValueError(f"collapse must be 'neuron', 'layer', a mapping or a callable, "
                             f"got {collapse!r}")
        return group_by_label(_NAMED_COLLAPSE[collapse])
    if isinstance(collapse, Mapping):
        return lambda node: collapse.get(node)
    if callable(collapse):
        return collapse
    raise TypeError(f"collapse must be 'neuron', 'layer', a mapping or a callable, got "
                    f"{type(collapse).__name__}")


def infer_groups(names: GraphNames, collapse: Grouping) -> dict[Any, str]:
    """The group of every node that belongs to one, for a collapsed drawing.

    Explicit groups come from `collapse`.  An unlabelled op result joins the group of
    its grouped leaf inputs when they agree (``w*x`` joins ``w``'s neuron), or else the
    group of its inputs when all have the same one (the sums and the activation after
    it).  Unlabelled leaves (constants, or a model's inputs given as numbers) stay
    outside every group, so a layer's box shows the inputs flowing into it.
    """
    explicit = _explicit_grouping(collapse)
    groups: dict[Any, str] = {}
    for node in names.order:
        group = explicit(node)
        if group is not None:
            groups[node] = str(group)
            continue
        if node.label or not node.parents:
            continue
        leaf_groups = {groups[p] for p in node.parents if not p.parents and p in groups}
        if len(leaf_groups) == 1:
            groups[node] = leaf_groups.pop()
        elif not leaf_groups:
            parent_groups = {groups.get(p) for p in node.parents}
            if len(parent_groups) == 1 and None not in parent_groups:
                groups[node] = parent_groups.pop()  # type: ignore[assignment]
    return groups


def _role(node: Any, names: GraphNames, parameters: Collection[Any]) -> str:
    if node is names.root:
        return "output"
    if node.parents:
        return "intermediate"
    if node in parameters:
        return "parameter"
    return "constant" if names.is_constant(node) else "input"


def _as_parameter_set(parameters: Iterable[Any] | Callable[[Any], bool] | None,
                      names: GraphNames) -> set[Any]:
    if parameters is None:
        return set()
    model_parameters = getattr(parameters, "parameters", None)
    if callable(model_parameters):  # a model: mlp.MLP, a Layer, a Neuron, ...
        return set(model_parameters())
    if callable(parameters):
        return {node for node in names.order if not node.parents and parameters(node)}
    return set(parameters)


def _highlight_colors(highlight: Iterable[Any] | Mapping[Any, str]) -> dict[Any, str]:
    if isinstance(highlight, Mapping):
        return dict(highlight)
    return {node: _HIGHLIGHT for node in highlight}


def _cell(text: str, *, bold: bool = False, color: str | None = None) -> str:
    body = html.escape(text, quote=True)
    if bold:
        body = f"<B>{body}</B>"
    if color:
        body = f'<FONT COLOR="{color}">{body}</FONT>'
    return f"<TD>{body}</TD>"


def _record(cells: list[str], fill: str, border_color: str | None) -> str:
    border = f' COLOR="{border_color}" BORDER="3"' if border_color else ' BORDER="0"'
    return (f'<<TABLE{border} CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" '
            f'BGCOLOR="{fill}"><TR>{"".join(cells)}</TR></TABLE>>')


_UNKNOWN = "?"


def draw(
    root: Any,
    *,
    rankdir: str = "LR",
    show_grads: bool = True,
    number_format: str = DEFAULT_NUMBER_FORMAT,
    highlight: Iterable[Any] | Mapping[Any, str] = (),
    highlight_edges: Iterable[tuple[Any, int]] | Mapping[tuple[Any, int], str] = (),
    parameters: Iterable[Any] | Callable[[Any], bool] | None = None,
    colors: bool = True,
    collapse: Grouping | None = None,
    edge_labels: bool = True,
    values: Mapping[Any, Any] | None = None,
    grads: Mapping[Any, Any] | None = None,
    title: str | None = None,
    names: GraphNames | None = None,
) -> Drawing:
    """The computation graph of `root` as a `graphviz.Digraph` (a `Drawing`).

    Each value is a record ``name | data | grad`` (a constant shows no name: its name is
    its value) and each op a small node (``+``, ``*``, ``tanh``, ``w·x+b``) between its
    inputs and its result; with ``edge_labels`` the edges into a binary op are marked
    with the op's input names (``a``, ``b``), the names its rule uses.

    Options: ``rankdir`` "LR" (left to right) or "TB" (top to bottom); ``show_grads``;
    ``number_format`` (a format spec, ``".4g"``); ``highlight`` nodes (a set, or a
    mapping node -> colour) and ``highlight_edges``: the edges ``(node, input_index)``
    into `node` from its input number `input_index` (a set, or a mapping to colours);
    ``parameters`` (nodes, a predicate, or a model with a ``parameters()`` method)
    coloured apart from inputs, the output and
    constants (``colors=False`` for plain black and white); ``collapse`` to draw one box
    per group ("neuron", "layer", a mapping node -> group name, or a callable; see
    `group_by_label` and `infer_groups`); ``values``/``grads`` to show given numbers
    instead of the nodes' own (nodes missing from the mapping show "?"; the stepper's
    frames use this); ``title`` above the picture.
    """
    check_node(root)
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r}")
    names = names or GraphNames(root, number_format)
    fmt = names.number_format
    parameter_set = _as_parameter_set(parameters, names)
    marked = _highlight_colors(highlight)
    marked_edges = (dict(highlight_edges) if isinstance(highlight_edges, Mapping)
                    else dict.fromkeys(highlight_edges, _HIGHLIGHT))
    groups = infer_groups(names, collapse) if collapse is not None else {}
    members: dict[str, list[Any]] = {}
    for node in names.order:
        if node in groups:
            members.setdefault(groups[node], []).append(node)
    # A group of one node is drawn as that node.
    groups = {node: g for node, g in groups.items() if len(members[g]) > 1}
    group_ids = {g: f"g{k}" for k, g in enumerate(dict.fromkeys(groups[n] for n in names.order
                                                                 if n in groups))}

    dot = Drawing(format="svg")
    dot.attr(rankdir=rankdir, fontname=_FONT, bgcolor="white")
    if group_ids:
        dot.attr(ordering="in")  # keep the boxes of a layer in their (natural) order
    if title:
        dot.attr(label=title, labelloc="t", labeljust="l", fontsize="14")
    dot.attr("node", fontname=_FONT, fontsize="11")
    dot.attr("edge", fontname=_FONT, fontsize="9", color="#495057", arrowsize="0.7")

    def shown(node: Any, mapping: Mapping[Any, Any] | None, attribute: str) -> str:
        if mapping is None:
            return format_value(getattr(node, attribute), fmt)
        return format_value(mapping[node], fmt) if node in mapping else _UNKNOWN

    # -- value records and op nodes ---------------------------------------------------------
    # group members that a node outside their group uses: the group's outputs
    used_outside = {parent for node in names.order for parent in node.parents
                    if parent in groups and groups.get(node) != groups[parent]}
    # Boxes in natural order of their names (L0.N2 before L0.N10), which ordering="in"
    # keeps within a rank, so a layer's neurons stack as numbered.
    for group in sorted(group_ids, key=_natural_key):
        _draw_group(dot, group, group_ids[group], members[group], used_outside, names,
                    marked, show_grads, values, grads, colors, fmt)
    for node in names.order:
        if node in groups:
            continue
        node_id = names.node_id(node)
        role = _role(node, names, parameter_set)
        cells = []
        if not names.is_constant(node) or not names.is_scalar(node):
            cells.append(_cell(names[node], bold=True))
        cells.append(_cell(f"data {shown(node, values, 'data')}"))
        if show_grads:
            grad_text = shown(node, grads, "grad")
            cells.append(_cell(f"grad {grad_text}",
                               color=_MUTED if grad_text == _UNKNOWN else None))
        fill = ROLE_COLORS[role] if colors else "white"
        dot.node(node_id, _record(cells, fill, marked.get(node)), shape="plain")
        if node.op is not None:
            symbol = op_label(node, fmt)
            op_attrs = {"shape": "circle" if len(symbol) <= 2 else "ellipse",
                        "style": "filled", "fillcolor": _OP_FILL if colors else "white",
                        "fontsize": "12", "margin": "0.02", "width": "0.3", "height": "0.3"}
            if node in marked:
                op_attrs.update(color=marked[node], penwidth="2.5")
            dot.node(f"{node_id}_op", symbol, **op_attrs)
            edge_attrs = {"color": marked[node], "penwidth": "2.5"} if node in marked else {}
            dot.edge(f"{node_id}_op", node_id, **edge_attrs)

    # -- edges from inputs into ops (or into group boxes) -----------------------------------------
    def endpoint(node: Any) -> str:
        return group_ids[groups[node]] if node in groups else names.node_id(node)

    merged: dict[tuple[str, str], list[tuple[Any, int]]] = {}
    for node in names.order:
        for i, parent in enumerate(node.parents):
            if node in groups and groups.get(parent) == groups[node]:
                continue
            head = group_ids[groups[node]] if node in groups else f"{names.node_id(node)}_op"
            merged.setdefault((endpoint(parent), head), []).append((node, i))
    for (tail, head), uses in merged.items():
        attrs: dict[str, str] = {}
        node, i = uses[0]
        if (len(uses) == 1 and edge_labels and node not in groups and len(node.parents) > 1
                and not node.op.nary):
            attrs.update(headlabel=node.op.input_name(i, len(node.parents)),
                         labelfontcolor=_MUTED, labeldistance="1.6", labelangle="35")
        elif len(uses) > 1 and (node in groups or tail.startswith("g")):
            attrs["label"] = f"×{len(uses)}"
        hit = [marked_edges[use] for use in uses if use in marked_edges]
        if hit:
            attrs.update(color=hit[0], penwidth="2.5")
        dot.edge(tail, head, **attrs)
    return dot


def _natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort key that orders the numbers inside names by value: N2 < N10."""
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", text) if part]


def _draw_group(dot: graphviz.Digraph, group: str, group_id: str, nodes: list[Any],
                used_outside: set[Any], names: GraphNames, marked: Mapping[Any, str],
                show_grads: bool, values: Mapping[Any, Any] | None,
                grads: Mapping[Any, Any] | None, colors: bool, fmt: str) -> None:
    """One box for a whole group: its name, its size and, when it has one output, its value."""
    outputs = [node for node in nodes if node is names.root or node in used_outside]
    n_leaves = sum(1 for node in nodes if not node.parents)
    n_ops = len(nodes) - n_leaves
    counts = f"{n_ops} op{'s' * (n_ops != 1)}, {n_leaves} lea{'f' if n_leaves == 1 else 'ves'}"
    cells = [_cell(group, bold=True), _cell(counts)]
    if len(outputs) == 1:
        out = outputs[0]
        data = values.get(out, _UNKNOWN) if values is not None else out.data
        cells.append(_cell(f"out {format_value(data, fmt) if data is not _UNKNOWN else data}"))
        if show_grads:
            grad = grads.get(out, _UNKNOWN) if grads is not None else out.grad
            cells.append(_cell(f"grad {format_value(grad, fmt) if grad is not _UNKNOWN else grad}"))
    elif outputs:
        cells.append(_cell(f"{len(outputs)} outputs"))
    border = next((marked[node] for node in nodes if node in marked), None)
    fill = ROLE_COLORS["group"] if colors else "white"
    dot.node(group_id, _record(cells, fill, border), shape="plain")


# -- rendering -------------------------------------------------------------------------------


def _digraph(graph_or_root: Any, draw_options: dict[str, Any]) -> graphviz.Digraph:
    if isinstance(graph_or_root, (graphviz.Digraph, graphviz.Graph)):
        if draw_options:
            raise TypeError(f"drawing options {sorted(draw_options)} apply to a graph node, "
                            f"not to an already drawn Digraph")
        return graph_or_root
    return draw(graph_or_root, **draw_options)


def pipe(digraph: graphviz.Digraph | graphviz.Graph, fmt: str,
         dot_path: str | Path | None = None) -> bytes:
    """Run `dot` on the picture and return the `fmt` bytes.

    Without the `dot` program: write the DOT text to `dot_path` (if given) and raise
    `GraphvizNotFoundError` saying how to install Graphviz.
    """
    try:
        return digraph.pipe(format=fmt)
    except (graphviz.ExecutableNotFound, GraphvizNotFoundError):
        written = (atomic_write(dot_path, digraph.source, make_parents=True)
                   if dot_path is not None else None)
        raise _not_found(fmt, digraph.source, written) from None
    except graphviz.CalledProcessError as error:
        stderr = error.stderr.decode("utf-8", "replace") if isinstance(error.stderr, bytes) \
            else str(error.stderr or "")
        raise RenderError(f"Graphviz `dot` failed to render {fmt}: {stderr.strip()}") from None


_XML_PROLOG = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*|<!--.*?-->\s*", re.S)
_NAMESPACES = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')


def svg_text(graph_or_root: Any, *, inline: bool = False, **draw_options: Any) -> str:
    """The picture as SVG text; ``inline=True`` strips what an HTML page does not need
    (XML prolog, DOCTYPE, comments, namespace declarations), leaving no URLs at all."""
    digraph = _digraph(graph_or_root, draw_options)
    text = pipe(digraph, "svg").decode("utf-8")
    if inline:
        text = _NAMESPACES.sub("", _XML_PROLOG.sub("", text))
    return text


def render(graph_or_root: Any, path: str | Path, *, format: str | None = None,  # noqa: A002
           **draw_options: Any) -> Path:
    """Write the picture of a graph (a root node, or a Digraph from `draw`) to `path`.

    The format comes from the extension (svg, png, pdf, dot/gv) unless ``format`` says.
    Any `draw` option may be passed (``rankdir="TB"``, ``collapse="layer"``, ...).  The
    file is written atomically.  Without Graphviz's `dot` program the DOT text is
    written next to `path` (``graph.dot``) and `GraphvizNotFoundError` is raised.
    """
    target = Path(path)
    fmt = (format or target.suffix.lstrip(".")).lower()
    if fmt not in RENDER_FORMATS:
        raise ValueError(f"cannot tell the format of {str(target)!r}: use one of the extensions "
                         f"{', '.join('.' + f for f in RENDER_FORMATS)} (or format=)")
    digraph = _digraph(graph_or_root, draw_options)
    if fmt in ("dot", "gv"):
        return atomic_write(target, digraph.source, make_parents=True)
    data = pipe(digraph, fmt, dot_path=target.with_suffix(".dot"))
    return atomic_write(target, data, make_parents=True)
