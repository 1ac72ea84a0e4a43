"""One picture per step of the forward and backward passes, all with the same layout.

`frames` walks the passes with `viz.steps` (the stepper's own pass: no node's ``grad``
is read or written) and draws, for every step, the graph with the values and
gradients known so far.  A backward frame draws the edge being processed pointing
back, from the op to the input, labelled ``upstream × local = contribution``, and the
receiving input's gradient as ``before → after``; gradients not known yet show "?".
Every frame of one run reserves the same room for its text, so all have the same
layout and the same size: they can be flipped through or animated (`viz.gif`).
`write_frames` writes them as numbered pictures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz

from autograd.files import atomic_write
from autograd.node import Node
from viz.dot import (
    CURRENT_NODE,
    INSTALL_HINT,
    RECEIVING,
    GradChange,
    GraphvizNotFoundError,
    Reserved,
    caption_label,
    clean_svg,
    draw,
    pipe,
    with_dpi,
)
from viz.naming import DEFAULT_NUMBER_FORMAT, GraphNames, format_value
from viz.steps import (
    BackwardStep,
    ForwardStep,
    backward_steps,
    forward_steps,
    output_gradient,
    readable,
)

__all__ = ["Frame", "frames", "write_frames", "FRAME_FORMATS", "FRAME_KINDS"]

#: picture formats `write_frames` can write
FRAME_FORMATS = ("svg", "png", "pdf", "dot")
#: what a frame shows: a value computed, the output gradient set, one edge of the
#: backward pass, or the end (every gradient known)
FRAME_KINDS = ("forward", "output_gradient", "backward", "done")


@dataclass(frozen=True)
class Frame:
    """One picture of a pass: which step it shows, its explanation, and the drawing.

    ``kind`` is one of `FRAME_KINDS`; `graph` is the drawing (with its legend),
    `titled_graph()` the same with the title and caption written above it.
    """

    index: int
    kind: str
    title: str
    caption: tuple[str, ...]
    graph: graphviz.Digraph = field(repr=False)
    step: ForwardStep | BackwardStep | None = field(default=None, repr=False)
    #: (characters, lines) kept for the title and caption, the same in every frame
    caption_room: tuple[int, int] | None = field(default=None, repr=False)

    def titled_graph(self) -> graphviz.Digraph:
        """The drawing with the title, caption and legend above it (for files and GIFs)."""
        graph = self.graph.copy()
        graph.attr(label=caption_label( [self.title, *self.caption], room=self.caption_room),
                   labelloc="t", labeljust="l")
        return graph

    def __repr__(self) -> str:
        return f"<Frame {self.index}: {self.kind}, {self.title!r}>"

    def _repr_html_(self) -> str:
        """In a notebook a frame shows its title, caption and picture (`viz.component`)."""
        from viz.component import frame_html  # the notebook display, loaded when shown

        return frame_html(self)


def _note(step: BackwardStep) -> str:
    """``upstream × local = contribution``, in numbers, for the edge of a backward step."""
    if step.is_array_step:
        if not hasattr(step.contribution, "shape"):
            return "no gradient: a constant"
        return f"{_dims(step.upstream)} → {_dims(step.contribution)}"
    fmt = step.number_format
    return (f"{format_value(step.upstream, fmt)} × {format_value(step.local, fmt)} = "
            f"{format_value(step.contribution, fmt)}")


def _local_line(step: BackwardStep) -> str:
    """``local derivative ∂(x·b)/∂b = x``, with the table's note at a kink."""
    derivative = step.derivative
    text = str(derivative) if derivative is not None else step.local_formula
    return f"local derivative {step.local_symbol} = {text}"


def _dims(x: Any) -> str:
    shape = getattr(x, "shape", ())
    return "×".join(str(d) for d in shape) if shape else "scalar"


def frames(root: Node, grad: Any = None, *, forward: bool = False,
           number_format: str = DEFAULT_NUMBER_FORMAT, **draw_options: Any) -> list[Frame]:
    """The frames of `root`'s backward pass (and, with ``forward=True``, its forward pass).

    The backward frames are `viz.backward_steps`'s pass: every gradient starts from 0
    and no node's ``grad`` is read or written, so drawing frames never changes the graph
    (call ``root.backward()`` for the gradients themselves).  `grad` is the output
    gradient df/df (1 by default).  `draw_options` go to `viz.draw` (``rankdir``,
    ``parameters``, ``collapse``, ``colors``, ...).
    """
    root = readable(root)
    if "fresh" in draw_options:
        raise TypeError("frames() takes no fresh= any more: frames never read or write a "
                        "node's grad (every gradient shown starts from 0)")
    names = GraphNames(root, number_format)
    start = output_gradient(root, grad)
    steps = list(backward_steps(root, start, names=names))
    specs: list[_Spec] = []
    if forward:
        specs.extend(_forward_specs(root, names))
    specs.extend(_backward_specs(root, names, start, steps))
    reserved = _reserve(specs, names)
    room = (max(max(len(spec.title) + 4, *(len(line) for line in spec.caption))
                for spec in specs),
            max(1 + len(spec.caption) for spec in specs))
    options = {"names": names, "legend": True, "reserved": reserved, **draw_options}
    return [Frame(k, spec.kind, spec.title, tuple(spec.caption),
                  draw(root, **spec.drawing, **options), spec.step, room)
            for k, spec in enumerate(specs)]


@dataclass
class _Spec:
    """What one frame shows, before it is drawn (so every frame's room can be measured)."""

    kind: str
    title: str
    caption: list[str]
    drawing: dict[str, Any]
    step: ForwardStep | BackwardStep | None = None


def _forward_specs(root: Node, names: GraphNames) -> list[_Spec]:
    steps = forward_steps(root, names=names)
    leaves = [s for s in steps if s.is_leaf]
    known = {s.node: s.value for s in leaves}
    specs = [_Spec("forward", "Forward pass: the inputs",
                   [", ".join(str(s) for s in leaves if s.expression == "input")
                    or "(constants only)"],
                   {"values": dict(known), "grads": {},
                    "highlight": {s.node: CURRENT_NODE for s in leaves}})]
    computed = [s for s in steps if not s.is_leaf]
    for k, step in enumerate(computed, start=1):
        known[step.node] = step.value
        specs.append(_Spec(
            "forward", f"Forward step {k} of {len(computed)}", [str(step)],
            {"values": dict(known), "grads": {}, "highlight": {step.node: CURRENT_NODE},
             "highlight_edges": {(step.node, i): CURRENT_NODE
                                 for i in range(len(step.node.parents))}},
            step))
    return specs


def _backward_specs(root: Node, names: GraphNames, start: Any,
                    steps: list[BackwardStep]) -> list[_Spec]:
    fmt = names.number_format
    root_d = names.partial(root, root)
    grads: dict[Any, Any] = {root: start}
    specs = [_Spec("output_gradient", "Backward pass: the output gradient",
                   [f"{root_d} = {format_value(start, fmt)}: the gradient of {names[root]} "
                    f"with respect to itself starts the chain rule."],
                   {"grads": dict(grads), "highlight": {root: CURRENT_NODE}})]
    for step in steps:
        shown = dict(grads)
        shown[step.input] = GradChange(step.grad_before, step.grad_after)
        grads[step.input] = step.grad_after
        edge = (step.node, step.input_index)
        specs.append(_Spec(
            "backward",
            f"Backward step {step.index} of {len(steps)}: {step.node_name} = {step.expression}",
            [step.chain_rule(), _local_line(step), step.grad_change(held=False)],
            {"grads": shown, "highlight": {step.node: CURRENT_NODE, step.input: RECEIVING},
             "highlight_edges": {edge: RECEIVING}, "notes": {edge: _note(step)},
             "backwards": [edge]},
            step))
    summary = [f"{names.partial(root, node)} = {format_value(grads.get(node, 0.0), fmt)}"
               for node in names.order if not node.parents and not names.is_constant(node)]
    specs.append(_Spec("done", "Done: every gradient is known",
                       summary or ["(the graph has no inputs)"], {"grads": grads}))
    return specs


def _reserve(specs: Sequence[_Spec], names: GraphNames) -> Reserved:
    """The longest text every record cell and edge note will hold in any frame."""
    probe = _TextProbe(names)
    cells: dict[tuple[Any, str], int] = {}
    notes: dict[tuple[Any, int], int] = {}
    for spec in specs:
        drawing = spec.drawing
        for node in names.order:
            for cell, text in (("data", probe.data(node, drawing.get("values"))),
                               ("grad", probe.grad(node, drawing.get("grads")))):
                cells[(node, cell)] = max(cells.get((node, cell), 0), len(text))
        for edge, text in drawing.get("notes", {}).items():
            notes[edge] = max(notes.get(edge, 0), len(text))
    return Reserved(cells, notes)


class _TextProbe:
    """The texts `viz.draw` writes into a record's cells (to measure them)."""

    def __init__(self, names: GraphNames) -> None:
        self.names = names

    def _number(self, value: Any) -> str:
        if isinstance(value, GradChange):
            return f"{self._number(value.before)} → {self._number(value.after)}"
        return format_value(value, self.names.number_format, shape=False)

    def _text(self, node: Node, mapping: Any, attribute: str) -> str:
        if mapping is None:
            return self._number(getattr(node, attribute))
        return self._number(mapping[node]) if node in mapping else "?"

    def data(self, node: Node, values: Any) -> str:
        return "data " + self._text(node, values, "data")

    def grad(self, node: Node, grads: Any) -> str:
        return "grad " + self._text(node, grads, "grad")


_FRAME_FILE = re.compile(r"_\d{3,}\.(svg|png|pdf|dot)")


def write_frames(frames: Sequence[Frame], directory: str | Path, *, format: str = "svg",  # noqa: A002
                 prefix: str = "frame", dpi: float | None = None) -> list[Path]:
    """Write every frame as ``<prefix>_000.<format>``, ... into `directory` (created if needed).

    Each picture carries its title, explanation and legend; ``dpi`` sets a PNG's
    resolution.  Frames an earlier call wrote there (``<prefix>_NNN.*`` beyond this
    run's) are removed, so the folder holds exactly this run.  Returns the paths in order.
    """
    if format not in FRAME_FORMATS:
        raise ValueError(f"format must be one of {', '.join(FRAME_FORMATS)}, got {format!r:.40}")
    if not frames:
        raise ValueError("no frames to write")
    folder = Path(directory)
    width = max(3, len(str(len(frames) - 1)))
    paths = []
    missing: GraphvizNotFoundError | None = None
    for frame in frames:
        path = folder / f"{prefix}_{frame.index:0{width}d}.{format}"
        graph = with_dpi(frame.titled_graph(), dpi)
        if format != "dot" and missing is None:
            try:
                data = pipe(graph, format)
                if format == "svg":
                    data = clean_svg(data.decode("utf-8")).encode("utf-8")
                atomic_write(path, data, make_parents=True)
                paths.append(path)
                continue
            except GraphvizNotFoundError as error:
                missing = error
        path = path.with_suffix(".dot")
        atomic_write(path, graph.source, make_parents=True)
        paths.append(path)
    _remove_stale(folder, prefix, set(paths))
    if missing is not None:
        first = next(p for p in paths if p.suffix == ".dot")
        raise GraphvizNotFoundError(
            f"cannot render the frames as {format}: Graphviz's `dot` program was not found. "
            f"{INSTALL_HINT}. The DOT text of the frames was written to {folder}"
            f"{'/' if str(folder)[-1:] != '/' else ''}{prefix}_*.dot.",
            missing.dot_source, first,
        )
    return paths


def _remove_stale(folder: Path, prefix: str, keep: set[Path],
                  remove: Callable[[Path], None] = Path.unlink) -> None:
    """Delete ``<prefix>_NNN.<frame format>`` files in `folder` that this run did not write."""
    for path in folder.iterdir():
        name = path.name
        if (path not in keep and name.startswith(prefix)
                and _FRAME_FILE.fullmatch(name[len(prefix):]) and path.is_file()):
            remove(path)
