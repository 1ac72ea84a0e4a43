"""Frames of the forward and backward passes, as numbered pictures or one offline page.

`frames` walks the passes with `viz.steps` and draws, for every step, the graph with
the current node and edge highlighted and the values and gradients known so far.
`write_frames` writes them as ``frame_000.svg``, ``frame_001.svg``, ...; `write_html`
writes a single self-contained HTML page (the pictures inlined as SVG, a small inline
script, no network access at all) with Previous/Next buttons, a slider and the arrow
keys to step through them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz

from autograd.files import atomic_write
from viz.dot import INSTALL_HINT, GraphvizNotFoundError, draw, pipe, svg_text
from viz.naming import DEFAULT_NUMBER_FORMAT, GraphNames, format_value
from viz.steps import (
    BackwardStep,
    ForwardStep,
    backward_steps,
    check_node,
    forward_steps,
    resolve_seed,
    zero_like,
)

__all__ = ["Frame", "frames", "write_frames", "write_html", "html_page", "FRAME_FORMATS"]

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


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0; color: #212529; background: #f8f9fa; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #dee2e6;
         padding: 0.6rem 1rem; z-index: 1; }
h1 { font-size: 1.15rem; margin: 0 0 0.4rem 0; }
nav { display: flex; align-items: center; gap: 0.6rem; flex-wrap: wrap; }
button { font: inherit; padding: 0.25rem 0.8rem; cursor: pointer; }
#slider { flex: 1; min-width: 8rem; max-width: 30rem; }
.hint { color: #868e96; font-size: 0.85rem; }
main { padding: 1rem; }
section.frame { background: #fff; border: 1px solid #dee2e6; border-radius: 6px;
                padding: 0.8rem 1rem; margin-bottom: 1rem; }
section.frame h2 { font-size: 1rem; margin: 0 0 0.4rem 0; }
pre.caption { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.95rem;
              background: #f1f3f5; padding: 0.5rem 0.7rem; border-radius: 4px;
              white-space: pre-wrap; margin: 0 0 0.6rem 0; }
.graph svg { max-width: 100%; height: auto; }
pre.dot { font-size: 0.8rem; max-height: 30rem; overflow: auto; background: #f8f9fa; }
.js section.frame[hidden] { display: none; }
"""

_SCRIPT = """
(function () {
  var frames = Array.prototype.slice.call(document.querySelectorAll("section.frame"));
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var counter = document.getElementById("counter");
  var slider = document.getElementById("slider");
  var current = 0;
  function show(k) {
    k = Math.max(0, Math.min(frames.length - 1, k));
    for (var i = 0; i < frames.length; i++) { frames[i].hidden = (i !== k); }
    current = k;
    counter.textContent = (k + 1) + " / " + frames.length;
    slider.value = String(k + 1);
    prev.disabled = (k === 0);
    next.disabled = (k === frames.length - 1);
    try { history.replaceState(null, "", "#" + (k + 1)); } catch (e) { /* file: URLs */ }
  }
  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10) - 1); });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.target === slider) { return; }
    var key = event.key;
    if (key === "ArrowRight" || key === "ArrowDown" || key === "PageDown" || key === " ") {
      show(current + 1);
    } else if (key === "ArrowLeft" || key === "ArrowUp" || key === "PageUp") {
      show(current - 1);
    } else if (key === "Home") {
      show(0);
    } else if (key === "End") {
      show(frames.length - 1);
    } else {
      return;
    }
    event.preventDefault();
  });
  document.body.className += " js";
  var start = parseInt(String(location.hash || "").slice(1), 10);
  show(isNaN(start) ? 0 : start - 1);
})();
"""


def html_page(frames: Sequence[Frame], title: str = "Backpropagation, step by step",
              svgs: Sequence[str] | None = None) -> str:
    """The stepping page as text: every frame's picture inlined, no external references.

    `svgs` are the frames' pictures as inline SVG (rendered with `dot` when not given).
    """
    if not frames:
        raise ValueError("no frames to show")
    if svgs is None:
        svgs = [svg_text(frame.graph, inline=True) for frame in frames]
    if len(svgs) != len(frames):
        raise ValueError(f"{len(svgs)} pictures for {len(frames)} frames")
    escape = html.escape
    sections = []
    for frame, svg in zip(frames, svgs):
        caption = escape("\n".join(frame.caption))
        sections.append(
            f'<section class="frame" id="frame-{frame.index + 1}" data-kind="{frame.kind}">\n'
            f"<h2>{frame.index + 1}. {escape(frame.title)}</h2>\n"
            f'<pre class="caption">{caption}</pre>\n'
            f'<div class="graph">{svg}</div>\n</section>'
        )
    n = len(frames)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{escape(title)}</h1>\n<nav>\n"
        '<button id="prev" type="button" title="previous step (left arrow)">&#9664; Previous'
        "</button>\n"
        f'<span id="counter">1 / {n}</span>\n'
        '<button id="next" type="button" title="next step (right arrow)">Next &#9654;'
        "</button>\n"
        f'<input id="slider" type="range" min="1" max="{n}" value="1" '
        'aria-label="step">\n'
        '<span class="hint">keys: &larr; &rarr; Home End</span>\n'
        "</nav>\n</header>\n<main>\n"
        + "\n".join(sections)
        + f"\n</main>\n<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def write_html(frames: Sequence[Frame], path: str | Path,
               title: str = "Backpropagation, step by step") -> Path:
    """Write the stepping page to `path` (atomically); one file, usable offline.

    Without Graphviz's `dot` program the page is still written, with each frame's DOT
    text in place of its picture, and `GraphvizNotFoundError` is raised afterwards.
    """
    try:
        page = html_page(frames, title)
    except GraphvizNotFoundError as error:
        fallback = [f'<p class="hint">No picture: Graphviz is not installed. The DOT text of '
                    f'this frame:</p><pre class="dot">{html.escape(frame.graph.source)}</pre>'
                    for frame in frames]
        written = atomic_write(path, html_page(frames, title, svgs=fallback), make_parents=True)
        raise GraphvizNotFoundError(
            f"cannot draw the pictures of the stepping page: Graphviz's `dot` program was "
            f"not found. {INSTALL_HINT}. The page was written to {written} with each frame's "
            f"DOT text in place of its picture.", error.dot_source, written,
        ) from None
    return atomic_write(path, page, make_parents=True)
