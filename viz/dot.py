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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz

from autograd.files import atomic_write
from autograd.node import Node
from viz.naming import DEFAULT_NUMBER_FORMAT, GraphNames, format_value, op_label
from viz.steps import readable

__all__ = [
    "draw", "render", "pipe", "Drawing", "svg_text", "group_by_label", "GraphvizNotFoundError",
    "RenderError", "ROLE_COLORS", "INSTALL_HINT", "RENDER_FORMATS", "Reserved", "GradChange",
    "check_color", "caption_label",
    "clean_svg", "with_dpi", "text_width", "CURRENT_NODE", "RECEIVING", "OPERAND_WORDS",
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
#: border of the node a frame is about, and of the input receiving gradient
CURRENT_NODE = "#f08c00"
RECEIVING = "#d6336c"
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

    def _repr_image_svg_xml(self) -> str:
        return clean_svg(super()._repr_image_svg_xml())

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

    def group(node: Node) -> str | None:
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


def _role(node: Node, names: GraphNames, parameters: Collection[Any]) -> str:
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


def _cell(text: str, *, bold: bool = False, color: str | None = None,
          width: float | None = None) -> str:
    body = html.escape(text, quote=True)
    if bold:
        body = f"<B>{body}</B>"
    if color:
        body = f'<FONT COLOR="{color}">{body}</FONT>'
    size = f' FIXEDSIZE="TRUE" WIDTH="{width:.0f}" HEIGHT="{_CELL_HEIGHT}"' if width else ""
    return f'<TD COLOR="{_CELL_LINE}"{size}>{body}</TD>'


def _record(cells: list[str], fill: str, border_color: str | None, *,
            stacked: bool = False) -> str:
    # the same border width either way (invisible when not highlighted), so highlighting
    # a node never moves anything
    border = f' COLOR="{border_color or "white"}" BORDER="3"'
    return (f'<<TABLE{border} CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" '
            f'BGCOLOR="{fill}">{_rows(cells, stacked)}</TABLE>>')


def _rows(cells: list[str], stacked: bool) -> str:
    """The cells side by side in one row, or `stacked` one per row (an array's record)."""
    if stacked:
        return "".join(f"<TR>{cell}</TR>" for cell in cells)
    return f"<TR>{''.join(cells)}</TR>"


_UNKNOWN = "?"
#: points per character of the 11 pt font, generous so reserved text always fits
_CHAR_WIDTH = 6.8
_CELL_HEIGHT = 22
_CELL_LINE = "#495057"
_HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?")
#: binary ops whose inputs can be swapped; the others get their edges labelled
_COMMUTATIVE = frozenset({"add", "mul"})
#: edge labels saying which operand an input is: words no node name can be
OPERAND_WORDS = ("1st", "2nd")


def _plain(text: str) -> str:
    """`text` for a quoted DOT string: never taken for an HTML label (the graphviz package
    leaves a string that starts with < and ends with > unquoted, which would let a label
    write DOT), backslashes doubled (Graphviz reads ``\\N``, ``\\l``, ... in one as
    escapes; ``\\N`` would show the internal id), line breaks as spaces.  The graphviz
    package escapes the quotes."""
    return graphviz.nohtml(text.replace("\\", "\\\\").replace("\n", " ").replace("\r", " "))


def text_width(characters: int) -> float:
    """Points reserved for `characters` characters of a record's text (plus padding)."""
    return characters * _CHAR_WIDTH + 10


def check_color(color: Any, what: str = "colour") -> str:
    """`color` if it is ``#rrggbb`` or ``#rrggbbaa``; ValueError otherwise (it goes into DOT)."""
    if not isinstance(color, str) or not _HEX_COLOR.fullmatch(color):
        raise ValueError(f"{what} must be a colour written #rrggbb, got {color!r:.40}")
    return color


@dataclass(frozen=True)
class GradChange:
    """A gradient changing in the picture: a record shows ``grad before → after``."""

    before: Any
    after: Any


@dataclass(frozen=True)
class Reserved:
    """Room kept free in a drawing so that pictures of the same graph line up.

    `cells` maps ``(node, "data" | "grad")`` to a number of characters and `notes` maps
    an edge ``(node, input_index)`` to the characters of its note; every drawing given
    the same `Reserved` has the same layout and size, whatever its text.
    """

    cells: Mapping[tuple[Any, str], int] = field(default_factory=dict)
    notes: Mapping[tuple[Any, int], int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Picture:
    """Everything `draw` was asked for, checked once: the steps below only read it."""

    names: GraphNames
    show_grads: bool
    roles: dict[Any, str]
    marked: dict[Any, str]
    marked_edges: dict[tuple[Any, int], str]
    colors: bool
    groups: dict[Any, str]
    group_ids: dict[str, str]
    #: the nodes of each group, in topological order
    members: dict[str, list[Any]]
    edge_labels: bool
    values: Mapping[Any, Any] | None
    grads: Mapping[Any, Any] | None
    notes: Mapping[tuple[Any, int], str]
    backwards: frozenset[tuple[Any, int]]
    reserved: Reserved

    @property
    def fmt(self) -> str:
        return self.names.number_format

    def shown(self, node: Node, attribute: str) -> str:
        """The node's data or grad as text, or "?" when a given mapping lacks it."""
        mapping = self.values if attribute == "data" else self.grads
        if mapping is None:
            return self.number(getattr(node, attribute))
        if node not in mapping:
            return _UNKNOWN
        value = mapping[node]
        if isinstance(value, GradChange):
            return f"{self.number(value.before)} → {self.number(value.after)}"
        return self.number(value)

    def number(self, value: Any) -> str:
        return format_value(value, self.fmt, shape=False)

    def width(self, node: Node, cell: str) -> float | None:
        characters = self.reserved.cells.get((node, cell))
        return text_width(characters) if characters else None


def draw(
    root: Node,
    *,
    rankdir: str | None = None,
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
    legend: bool = False,
    notes: Mapping[tuple[Any, int], str] | None = None,
    backwards: Iterable[tuple[Any, int]] = (),
    reserved: Reserved | None = None,
) -> Drawing:
    """The computation graph of `root` as a `graphviz.Digraph` (a `Drawing`).

    The recipe: check the options; draw every value as a record ``name | data | grad``
    (a constant is named by its value) and every op as a small node (``+``, ``*``,
    ``tanh``, ``w·x+b``) feeding its result; draw the edges from inputs into ops; add a
    legend and a title when asked.  Where operand order matters (``-``, ``/``, ``**``)
    the edges say which operand is which (``1st``, ``2nd``; with ``edge_labels``).

    Options: ``rankdir`` "LR" (left to right) or "TB" (top to bottom), by default LR for
    scalars and TB for a graph of arrays (whose records stack name, data and grad, so a
    Tensor network fits a page); ``show_grads``;
    ``number_format`` (a format spec, ``".4g"``); ``highlight`` nodes (a set, or a
    mapping node -> ``#rrggbb`` colour) and ``highlight_edges``: edges ``(node,
    input_index)`` into `node` from its input number `input_index` (a set, or a mapping
    to colours); ``parameters`` (nodes, a predicate, or a model with a ``parameters()``
    method) coloured apart from inputs, the output and constants (``colors=False`` for
    black and white); ``collapse`` to draw one box per group ("neuron", "layer", a
    mapping node -> group name, or a callable; see `group_by_label` and
    `infer_groups`); ``values``/``grads`` to show given numbers instead of the nodes'
    own (nodes missing from the mapping show "?", not known yet); ``title`` above the
    picture; ``legend`` for a key to the colours; ``notes``: text written on edges;
    ``backwards``: edges drawn pointing back, from the op to its input; ``reserved``:
    room kept for text (see `Reserved`), so that frames line up.
    """
    root = readable(root)
    picture = _check_options(root, rankdir=rankdir, show_grads=show_grads,
                             number_format=number_format, highlight=highlight,
                             highlight_edges=highlight_edges, parameters=parameters,
                             colors=colors, collapse=collapse, edge_labels=edge_labels,
                             values=values, grads=grads, names=names, notes=notes,
                             backwards=backwards, reserved=reserved)
    dot = _empty_drawing(rankdir or _natural_direction(picture.names),
                         grouped=bool(picture.group_ids))
    _draw_groups(dot, picture)
    _draw_values_and_ops(dot, picture)
    _draw_edges(dot, picture)
    if legend or title:
        dot.attr(label=_label(title, (), legend=legend, colors=colors, room=None),
                 labelloc="t" if title else "b", labeljust="l")
    return dot


def _check_options(root: Node, *, rankdir: str | None, show_grads: bool, number_format: str,
                   highlight: Iterable[Any] | Mapping[Any, str],
                   highlight_edges: Iterable[tuple[Any, int]] | Mapping[tuple[Any, int], str],
                   parameters: Any, colors: bool, collapse: Grouping | None,
                   edge_labels: bool, values: Mapping[Any, Any] | None,
                   grads: Mapping[Any, Any] | None, names: GraphNames | None,
                   notes: Mapping[tuple[Any, int], str] | None,
                   backwards: Iterable[tuple[Any, int]],
                   reserved: Reserved | None) -> _Picture:
    if rankdir not in (None, "LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r:.40}")
    names = names if names is not None and names.root is root else GraphNames(
        root, names.number_format if names is not None else number_format)
    parameter_set = _as_parameter_set(parameters, names)
    marked = {node: check_color(color, "a highlight colour")
              for node, color in _highlight_colors(highlight).items()}
    marked_edges = (dict(highlight_edges) if isinstance(highlight_edges, Mapping)
                    else dict.fromkeys(highlight_edges, _HIGHLIGHT))
    for color in marked_edges.values():
        check_color(color, "a highlight colour")
    groups = infer_groups(names, collapse) if collapse is not None else {}
    members: dict[str, list[Any]] = {}
    for node in names.order:
        if node in groups:
            members.setdefault(groups[node], []).append(node)
    # A group of one node is drawn as that node.
    groups = {node: g for node, g in groups.items() if len(members[g]) > 1}
    group_ids = {g: f"g{k}" for k, g in enumerate(dict.fromkeys(groups[n] for n in names.order
                                                                 if n in groups))}
    members = {g: nodes for g, nodes in members.items() if g in group_ids}
    return _Picture(
        names=names, show_grads=show_grads,
        roles={node: _role(node, names, parameter_set) for node in names.order},
        marked=marked, marked_edges=marked_edges, colors=colors, groups=groups,
        group_ids=group_ids, members=members, edge_labels=edge_labels, values=values, grads=grads,
        notes=dict(notes or {}), backwards=frozenset(backwards),
        reserved=reserved or Reserved())


def _natural_direction(names: GraphNames) -> str:
    """Left to right for scalars; top to bottom for arrays, whose records stack."""
    return "LR" if all(names.is_scalar(node) for node in names.order) else "TB"


def _empty_drawing(rankdir: str, *, grouped: bool) -> Drawing:
    dot = Drawing(format="svg")
    dot.attr(rankdir=rankdir, fontname=_FONT, bgcolor="white", tooltip=" ")
    if grouped:
        dot.attr(ordering="in")  # keep the boxes of a layer in their (natural) order
    dot.attr("node", fontname=_FONT, fontsize="11")
    dot.attr("edge", fontname=_FONT, fontsize="10", color="#495057", arrowsize="0.7")
    return dot


def _draw_groups(dot: graphviz.Digraph, picture: _Picture) -> None:
    names, groups, members = picture.names, picture.groups, picture.members
    # group members that a node outside their group uses: the group's outputs
    used_outside = {parent for node in names.order for parent in node.parents
                    if parent in groups and groups.get(node) != groups[parent]}
    # Boxes in natural order of their names (L0.N2 before L0.N10), which ordering="in"
    # keeps within a rank, so a layer's neurons stack as numbered.
    for group in sorted(picture.group_ids, key=_natural_key):
        _draw_group(dot, group, picture.group_ids[group], members[group], used_outside,
                    picture)


def _tooltip(node: Node, picture: _Picture) -> str:
    """Hover text of a value: its name, how it was made, its data and grad."""
    names = picture.names
    role = picture.roles[node]
    made = f" = {names.expression(node, pretty=True)}" if node.parents else f" ({role})"
    text = f"{names[node]}{made}: data {picture.shown(node, 'data')}"
    if picture.show_grads:
        text += f", grad {picture.shown(node, 'grad')}"
    return text


def _value_cells(node: Node, picture: _Picture) -> list[str]:
    names = picture.names
    scalar_constant = names.is_constant(node) and names.is_scalar(node)
    data_width, grad_width = picture.width(node, "data"), picture.width(node, "grad")
    name_width = None
    if not names.is_scalar(node) and (data_width or grad_width):
        # stacked rows of an array's record: one width for all, the widest reserved
        data_width = grad_width = name_width = max(data_width or 0, grad_width or 0)
    shape = "" if names.is_scalar(node) else f"  {_dims(node.data)}"
    cells = [_cell(f"{names[node]}{shape}", bold=True, width=name_width)]
    if not scalar_constant:
        cells.append(_cell(f"data {picture.shown(node, 'data')}", width=data_width))
    if picture.show_grads:
        grad_text = picture.shown(node, "grad")
        cells.append(_cell(f"grad {grad_text}", color=_MUTED if grad_text == _UNKNOWN else None,
                           width=grad_width))
    return cells


def _dims(data: Any) -> str:
    shape = getattr(data, "shape", ())
    return "×".join(str(d) for d in shape) if shape else "scalar"


def _draw_values_and_ops(dot: graphviz.Digraph, picture: _Picture) -> None:
    names, marked = picture.names, picture.marked
    # an input receiving gradient is marked alone: its own op plays no part in that step
    receiving = {node.parents[i] for node, i in picture.backwards}
    for node in names.order:
        if node in picture.groups:
            continue
        node_id = names.node_id(node)
        fill = ROLE_COLORS[picture.roles[node]] if picture.colors else "white"
        dot.node(node_id, _record(_value_cells(node, picture), fill, marked.get(node),
                                  stacked=not names.is_scalar(node)),
                 shape="plain", tooltip=_plain(_tooltip(node, picture)))
        if node.op is None:
            continue
        symbol = op_label(node, picture.fmt)
        op_attrs = {"shape": "circle" if len(symbol) <= 2 else "ellipse",
                    "style": "filled", "fillcolor": _OP_FILL if picture.colors else "white",
                    "fontsize": "12", "margin": "0.02", "width": "0.3", "height": "0.3",
                    "tooltip": _plain(f"{names[node]} = {names.expression(node, pretty=True)} "
                                      f"(op {node.op.name})")}
        lit = node in marked and node not in receiving
        if lit:
            op_attrs.update(color=marked[node], penwidth="2.5")
        dot.node(f"{node_id}_op", _plain(symbol), **op_attrs)
        edge_attrs = {"color": marked[node], "penwidth": "2.5"} if lit else {}
        dot.edge(f"{node_id}_op", node_id, tooltip=_plain(f"the op's result: {names[node]}"),
                 **edge_attrs)


def _note_label(text: str, room: int | None, color: str | None) -> str:
    """An edge's note as an HTML label, `room` characters wide (kept even when empty)."""
    body = html.escape(text, quote=True)
    if color and body:
        body = f'<FONT COLOR="{color}"><B>{body}</B></FONT>'
    size = (f' FIXEDSIZE="TRUE" WIDTH="{text_width(room):.0f}" HEIGHT="{_CELL_HEIGHT}"'
            if room else "")
    return f'<<TABLE BORDER="0" CELLPADDING="1"><TR><TD{size}>{body}</TD></TR></TABLE>>'


def _draw_edges(dot: graphviz.Digraph, picture: _Picture) -> None:
    names, groups, group_ids = picture.names, picture.groups, picture.group_ids

    def endpoint(node: Node) -> str:
        return group_ids[groups[node]] if node in groups else names.node_id(node)

    # Edges into a group box merge (with a count); each edge into an op is its own, so
    # x*x shows two arrows, one per step of the backward pass.
    merged: dict[tuple[str, str, int], list[tuple[Any, int]]] = {}
    for node in names.order:
        for i, parent in enumerate(node.parents):
            if node in groups and groups.get(parent) == groups[node]:
                continue
            tail = endpoint(parent)
            if node in groups or parent in groups:
                key = (tail, group_ids[groups[node]] if node in groups else
                       f"{names.node_id(node)}_op", -1)
            else:
                key = (tail, f"{names.node_id(node)}_op", i)
            merged.setdefault(key, []).append((node, i))
    for (tail, head, _), uses in merged.items():
        node, i = uses[0]
        attrs: dict[str, str] = {
            "tooltip": _plain(f"{names[node.parents[i]]} → {names[node]}")}
        n = len(node.parents)
        if (len(uses) == 1 and picture.edge_labels and node not in groups and n == 2
                and not node.op.nary and node.op.name not in _COMMUTATIVE):
            attrs.update(taillabel=OPERAND_WORDS[i], labelfontcolor=_MUTED,
                         labelfontsize="9", labeldistance="1.5", labelangle="-30")
        elif len(uses) > 1 and (node in groups or tail.startswith("g")):
            attrs["label"] = f"×{len(uses)}"
        hit = [picture.marked_edges[use] for use in uses if use in picture.marked_edges]
        if hit:
            attrs.update(color=hit[0], penwidth="2.5")
        room = picture.reserved.notes.get(uses[0])
        note = picture.notes.get(uses[0], "")
        if len(uses) == 1 and (room or note):
            attrs["label"] = _note_label(note, room, hit[0] if hit else None)
        if any(use in picture.backwards for use in uses):
            attrs["dir"] = "back"
        dot.edge(tail, head, **attrs)


def caption_label(lines: Sequence[str], room: tuple[int, int] | None = None) -> str:
    """A graph label: `lines` of text (the first in bold) above the legend.

    With `room` (characters, lines) the text block has that fixed size, so that frames
    with different captions keep the same layout and size.
    """
    return _label(None, lines, legend=True, colors=True, room=room)


def _label(title: str | None, lines: Sequence[str], *, legend: bool, colors: bool,
           room: tuple[int, int] | None) -> str:
    """The graph's label: a title, lines of text (left aligned) and the legend.

    With `room` (characters, lines) the text block has that fixed size, so that frames
    with different captions have the same layout.
    """
    rows = []
    if title:
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="14"><B>'
                    f"{html.escape(title, quote=True)}</B></FONT></TD></TR>")
    if lines or room:
        texts = [html.escape(line, quote=True) for line in lines]
        if texts and title is None:
            texts[0] = f"<B>{texts[0]}</B>"
        body = "".join(f'{text}<BR ALIGN="LEFT"/>' for text in texts)
        size = ""
        if room:
            characters, n_lines = room
            size = (f' FIXEDSIZE="TRUE" WIDTH="{text_width(characters):.0f}" '
                    f'HEIGHT="{n_lines * 16 + 6}"')
        rows.append(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT" VALIGN="TOP"{size}>'
                    f'<FONT FACE="DejaVu Sans Mono,Menlo,Consolas,monospace" '
                    f'POINT-SIZE="11">{body}</FONT></TD></TR>')
    if legend:
        rows.append(f"<TR><TD ALIGN=\"LEFT\">{_legend(colors)}</TD></TR>")
    return f'<<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="2">{"".join(rows)}</TABLE>>'


def _legend(colors: bool) -> str:
    """A key to the picture: the roles' colours, the two highlights, and "?"."""
    keys = [(role, ROLE_COLORS[role] if colors else "white", None)
            for role in ("input", "parameter", "constant", "output")]
    keys += [("current node", "white", CURRENT_NODE), ("receiving input", "white", RECEIVING)]
    cells = []
    for text, fill, border in keys:
        frame = (f' BORDER="3" COLOR="{border}"' if border else ' BORDER="1" COLOR="#adb5bd"')
        cells.append(f'<TD BGCOLOR="{fill}"{frame}><FONT POINT-SIZE="10">{text}</FONT></TD>')
    cells.append('<TD BORDER="0"><FONT POINT-SIZE="10" COLOR="#868e96">? not known yet'
                 "</FONT></TD>")
    return (f'<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="3"><TR>{"".join(cells)}'
            f"</TR></TABLE>")


def _natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort key that orders the numbers inside names by value: N2 < N10."""
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", text) if part]


def _draw_group(dot: graphviz.Digraph, group: str, group_id: str, nodes: list[Any],
                used_outside: set[Any], picture: _Picture) -> None:
    """One box for a whole group: its name, its size and, when it has one output, its value."""
    names = picture.names
    outputs = [node for node in nodes if node is names.root or node in used_outside]
    n_leaves = sum(1 for node in nodes if not node.parents)
    n_ops = len(nodes) - n_leaves
    counts = f"{n_ops} op{'s' * (n_ops != 1)}, {n_leaves} lea{'f' if n_leaves == 1 else 'ves'}"
    cells = [_cell(group, bold=True), _cell(counts)]
    tooltip = f"{group}: {counts}"
    if len(outputs) == 1:
        out = outputs[0]
        cells.append(_cell(f"out {picture.shown(out, 'data')}"))
        tooltip += f"; output {names[out]} = {picture.shown(out, 'data')}"
        if picture.show_grads:
            cells.append(_cell(f"grad {picture.shown(out, 'grad')}"))
            tooltip += f", grad {picture.shown(out, 'grad')}"
    elif outputs:
        cells.append(_cell(f"{len(outputs)} outputs"))
    border = next((picture.marked[node] for node in nodes if node in picture.marked), None)
    fill = ROLE_COLORS["group"] if picture.colors else "white"
    dot.node(group_id, _record(cells, fill, border), shape="plain", tooltip=_plain(tooltip))


# -- rendering -------------------------------------------------------------------------------


def _digraph(graph_or_root: Any, draw_options: dict[str, Any]) -> graphviz.Digraph:
    if isinstance(graph_or_root, (graphviz.Digraph, graphviz.Graph)):
        if draw_options:
            raise TypeError(f"drawing options {sorted(draw_options)} apply to a graph node, "
                            f"not to an already drawn Digraph")
        return graph_or_root
    return draw(graph_or_root, **draw_options)


#: the resolutions `with_dpi` accepts
DPI_RANGE = (10.0, 600.0)


def with_dpi(digraph: graphviz.Digraph, dpi: float | None) -> graphviz.Digraph:
    """A copy of `digraph` rendered at `dpi` dots per inch (`digraph` itself for None)."""
    if dpi is None:
        return digraph
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not (
            DPI_RANGE[0] <= dpi <= DPI_RANGE[1]):
        raise ValueError(f"dpi must be a number from {DPI_RANGE[0]:g} to {DPI_RANGE[1]:g}, "
                         f"got {dpi!r:.40}")
    copy = digraph.copy()
    copy.attr(dpi=f"{float(dpi):g}")
    return copy


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
#: Graphviz titles every node, edge and the graph with its DOT id (``n6_op``), which a
#: browser shows on hover; the drawing's own tooltips say what the element is instead
_ID_TITLES = re.compile(r"<title>[^<]*</title>\s*")


def clean_svg(text: str) -> str:
    """Graphviz's SVG without the ``<title>`` elements that show internal ids on hover."""
    return _ID_TITLES.sub("", text)


def svg_text(graph_or_root: Any, *, inline: bool = False, **draw_options: Any) -> str:
    """The picture as SVG text; ``inline=True`` strips what an HTML page does not need
    (XML prolog, DOCTYPE, comments, namespace declarations), leaving no URLs at all."""
    digraph = _digraph(graph_or_root, draw_options)
    text = clean_svg(pipe(digraph, "svg").decode("utf-8"))
    if inline:
        text = _NAMESPACES.sub("", _XML_PROLOG.sub("", text))
    return text


def render(graph_or_root: Any, path: str | Path, *, format: str | None = None,  # noqa: A002
           dpi: float | None = None, **draw_options: Any) -> Path:
    """Write the picture of a graph (a root node, or a Digraph from `draw`) to `path`.

    The format comes from the extension (svg, png, pdf, dot/gv) unless ``format`` says.
    Any `draw` option may be passed (``rankdir="TB"``, ``collapse="layer"``, ...);
    ``dpi`` sets the resolution of a PNG (Graphviz's default is 96).  The file is
    written atomically.  Without Graphviz's `dot` program the DOT text is
    written next to `path` (``graph.dot``) and `GraphvizNotFoundError` is raised.
    """
    target = Path(path)
    fmt = (format or target.suffix.lstrip(".")).lower()
    if fmt not in RENDER_FORMATS:
        raise ValueError(f"cannot tell the format of {str(target)!r}: use one of the extensions "
                         f"{', '.join('.' + f for f in RENDER_FORMATS)} (or format=)")
    digraph = with_dpi(_digraph(graph_or_root, draw_options), dpi)
    if fmt in ("dot", "gv"):
        return atomic_write(target, digraph.source, make_parents=True)
    data = pipe(digraph, fmt, dot_path=target.with_suffix(".dot"))
    if fmt == "svg":
        data = clean_svg(data.decode("utf-8")).encode("utf-8")
    return atomic_write(target, data, make_parents=True)
