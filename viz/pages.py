"""Frames of the forward and backward passes, as numbered pictures or one offline page.

`frames` walks the passes with `viz.steps` and draws, for every step, the graph with
the current node and edge highlighted and the values and gradients known so far.
`write_frames` writes them as ``frame_000.svg``, ``frame_001.svg``, ...; `stepper`
gives them as a `viz.Stepper`, which steps through them inline in a notebook, and
`write_html` writes the same component as a single self-contained page (the pictures
inlined as SVG, no network access at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz

from autograd.files import atomic_write
from viz.dot import INSTALL_HINT, GraphvizNotFoundError, draw, pipe
from viz.naming import DEFAULT_NUMBER_FORMAT, GraphNames, format_value
from viz.stepper import DEFAULT_TITLE, Stepper, frame_html
from viz.steps import (
    BackwardStep,
    ForwardStep,
    backward_steps,
    check_node,
    forward_steps,
    resolve_seed,
    zero_like,
)

__all__ = ["Frame", "frames", "stepper", "write_frames", "write_html", "html_page",
           "FRAME_FORMATS"]

#: picture formats `write_frames` can write
FRAME_FORMATS = ("svg", "png", "pdf", "dot")

_CURRENT_NODE = "#f08c00"
_RECEIVING = "#d6336c"


@dataclass(frozen=True)
class Frame:
    """One picture of a pass: which step it shows, its explanation, and the drawing.

    ``kind`` is "forward" (a value is computed), "seed" (the root's gradient is set),
    "backward" (one edge of the backward pass) or "done" (all gradients known).
    """

    index: int
    kind: str
    title: str
    caption: tuple[str, ...]
    graph: graphviz.Digraph
    step: ForwardStep | BackwardStep | None = None

    def titled_graph(self) -> graphviz.Digraph:
        """The drawing with the title and caption written above it (for standalone files)."""
        graph = self.graph.copy()
        label = "\\l".join([self.title, *self.caption]) + "\\l"
        graph.attr(label=label, labelloc="t", labeljust="l", fontsize="13")
        return graph

    def __repr__(self) -> str:
        return f"<Frame {self.index}: {self.kind}, {self.title!r}>"

    def _repr_html_(self) -> str:
        return frame_html(self)


def frames(root: Any, seed: Any = None, *, forward: bool = False, fresh: bool = True,
           number_format: str = DEFAULT_NUMBER_FORMAT, **draw_options: Any) -> list[Frame]:
    """The frames of `root`'s backward pass (and, with ``forward=True``, its forward pass).

    This runs the backward pass (through `viz.steps.backward_steps`).  With ``fresh``
    (the default) every gradient in the graph is set to zero first, so the frames show
    one pass from scratch and the graph ends with the gradients of a single
    ``root.backward(seed)``; ``fresh=False`` keeps what the leaves hold: as in the engine,
    the frames show this pass's sums and the last frame what each leaf ends with (its
    earlier gradient plus this pass's).  `draw_options` go to `viz.draw` (``rankdir``,
    ``parameters``, ``collapse``, ``colors``, ...).
    """
    check_node(root)
    names = GraphNames(root, number_format)
    if fresh:
        for node in names.order:
            node.grad = zero_like(node.grad)
    options = {"names": names, **draw_options}
    result: list[Frame] = []

    def add(kind: str, title: str, caption: Sequence[str], graph: graphviz.Digraph,
            step: ForwardStep | BackwardStep | None = None) -> None:
        result.append(Frame(len(result), kind, title, tuple(caption), graph, step))

    if forward:
        _forward_frames(root, names, options, add)

    seed_value = resolve_seed(root, seed)
    root_d = names.partial(root, root)
    grads: dict[Any, Any] = {root: seed_value}
    add("seed", "Backward pass: seed",
        [f"{root_d} = {format_value(seed_value, names.number_format)}: the gradient of "
         f"{names[root]} with respect to itself starts the chain rule."],
        draw(root, grads=dict(grads), highlight={root: _CURRENT_NODE}, **options))
    steps = list(backward_steps(root, seed, names=names))
    for step in steps:
        grads[step.input] = step.grad_after
        caption = [
            step.chain_rule(),
            f"local derivative {step.local_symbol} = {step.local_formula}    "
            f"(op table: {step.rule})",
            step.grad_change(),
        ]
        add("backward", f"Backward step {step.index} of {len(steps)}: "
                        f"{step.node_name} = {step.expression}",
            caption,
            draw(root, grads=dict(grads),
                 highlight={step.node: _CURRENT_NODE, step.input: _RECEIVING},
                 highlight_edges={(step.node, step.input_index): _RECEIVING}, **options),
            step)
    final = {node: node.grad for node in names.order}
    fmt = names.number_format
    summary = [f"{names.partial(root, node)} = {format_value(node.grad, fmt)}"
               for node in names.order if not node.parents and not names.is_constant(node)]
    kept = [step for step in steps if step.last_into_input and step.keeps_earlier_grad]
    if kept:
        summary.append("Leaves that held a gradient before this pass keep it (like backward()):")
        summary.extend(f"  {step.input_name}.grad = {format_value(step.held_before, fmt)} + "
                       f"{format_value(step.grad_after, fmt)} = "
                       f"{format_value(step.final_grad, fmt)}" for step in kept)
    add("done", "Done: every gradient is known", summary or ["(the graph has no inputs)"],
        draw(root, grads=final, **options))
    return result


def _forward_frames(root: Any, names: GraphNames, options: dict[str, Any], add: Any) -> None:
    steps = forward_steps(root, names=names)
    leaves = [s for s in steps if s.is_leaf]
    known = {s.node: s.value for s in leaves}
    add("forward", "Forward pass: the inputs",
        [", ".join(str(s) for s in leaves if s.expression == "input") or "(constants only)"],
        draw(root, values=dict(known), show_grads=False,
             highlight={s.node: _CURRENT_NODE for s in leaves}, **options))
    computed = [s for s in steps if not s.is_leaf]
    for k, step in enumerate(computed, start=1):
        known[step.node] = step.value
        add("forward", f"Forward step {k} of {len(computed)}", [str(step)],
            draw(root, values=dict(known), show_grads=False,
                 highlight={step.node: _CURRENT_NODE},
                 highlight_edges={(step.node, i): _CURRENT_NODE
                                  for i in range(len(step.node.parents))},
                 **options),
            step)


def write_frames(frames: Sequence[Frame], directory: str | Path, *, format: str = "svg",  # noqa: A002
                 prefix: str = "frame") -> list[Path]:
    """Write every frame as ``<prefix>_000.<format>``, ... into `directory` (created if needed).

    Each picture carries its title and explanation.  Returns the paths in order.
    """
    if format not in FRAME_FORMATS:
        raise ValueError(f"format must be one of {', '.join(FRAME_FORMATS)}, got {format!r}")
    folder = Path(directory)
    width = max(3, len(str(len(frames) - 1)))
    paths = []
    missing: GraphvizNotFoundError | None = None
    for frame in frames:
        path = folder / f"{prefix}_{frame.index:0{width}d}.{format}"
        graph = frame.titled_graph()
        if format != "dot" and missing is None:
            try:
                atomic_write(path, pipe(graph, format), make_parents=True)
                paths.append(path)
                continue
            except GraphvizNotFoundError as error:
                missing = error
        path = path.with_suffix(".dot")
        atomic_write(path, graph.source, make_parents=True)
        paths.append(path)
    if missing is not None:
        first = next(p for p in paths if p.suffix == ".dot")
        raise GraphvizNotFoundError(
            f"cannot render the frames as {format}: Graphviz's `dot` program was not found. "
            f"{INSTALL_HINT}. The DOT text of the frames was written to {folder}"
            f"{'/' if str(folder)[-1:] != '/' else ''}{prefix}_*.dot.",
            missing.dot_source, first,
        )
    return paths


def html_page(frames: Sequence[Frame], title: str = DEFAULT_TITLE,
              svgs: Sequence[str] | None = None) -> str:
    """The stepping page as text: the `viz.Stepper` component alone in an offline page.

    `svgs` are the frames' pictures as inline SVG (rendered with `dot` when not given).
    """
    return Stepper(frames, title).page(svgs=svgs)


def write_html(frames: Sequence[Frame], path: str | Path, title: str = DEFAULT_TITLE) -> Path:
    """Write the stepping page to `path` (atomically); one file, usable offline.

    Without Graphviz's `dot` program the page is still written, with each frame's DOT
    text in place of its picture, and `GraphvizNotFoundError` is raised afterwards.
    """
    return Stepper(frames, title).write_html(path)


def stepper(root: Any, seed: Any = None, *, forward: bool = True, title: str | None = None,
            fresh: bool = True, number_format: str = DEFAULT_NUMBER_FORMAT,
            max_height: int = 640, **draw_options: Any) -> Stepper:
    """`root`'s forward pass (unless ``forward=False``) and backward pass, one frame at a time,
    as a `viz.Stepper`: it shows inline in Jupyter and VS Code notebooks (no widgets, no
    network), and ``.write_html(path)`` writes the same component as a standalone page.

    `seed`, `fresh`, `number_format` and `draw_options` are those of `frames` (which runs
    the backward pass); `title` defaults to the passes and the root's name; `max_height`
    is the tallest (px) the fitted picture is made in a notebook.
    """
    pictures = frames(root, seed, forward=forward, fresh=fresh, number_format=number_format,
                      **draw_options)
    if title is None:
        passes = "Forward and backward pass" if forward else "Backward pass"
        title = f"{passes} of {GraphNames(root, number_format)[root]}"
    return Stepper(pictures, title, max_height=max_height)
