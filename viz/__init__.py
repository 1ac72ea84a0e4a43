"""Backprop you can see: draw a graph, step through its backward pass, build it from text.

>>> from autograd import Value
>>> import viz
>>> x, y = Value(3.0, "x"), Value(2.0, "y")
>>> f = x * y
>>> for step in viz.backward_steps(f):
...     print(step.chain_rule())
da/dx = da/da · ∂(x·y)/∂x = 1 · y = 2
da/dy = da/da · ∂(x·y)/∂y = 1 · x = 3

* `draw` / `render`: the graph as a `graphviz.Digraph` / a file (svg, png, pdf, dot).
* `tree` / `table`: the graph as text for a terminal.
* `forward_steps` / `backward_steps`: the passes one step at a time, with the chain
  rule written out; `format_forward` / `format_backward` print them as tables.
* `frames`, `write_frames`, `write_gif`, `write_html`: a picture per step (all the
  same size), an animated GIF of them, and one offline page to click through them;
  `stepper`: the same, inline in a notebook; `steps_table`: step records as a table.
* `build` / `parse`: a graph from an expression such as ``"x*(2*y + z)"``.

The command line does all of it: ``python -m viz "x*(2*y + z)" x=3 y=1 z=2``.
"""

from viz.component import Stepper, StepTable, steps_table
from viz.dot import (
    INSTALL_HINT,
    ROLE_COLORS,
    Drawing,
    GraphvizNotFoundError,
    RenderError,
    draw,
    group_by_label,
    infer_groups,
    render,
    svg_text,
)
from viz.expr import Expression, ExpressionError, ParsedExpression, build, parse
from viz.frames import Frame, frames, write_frames
from viz.gif import write_gif
from viz.naming import GraphNames, format_value
from viz.pages import html_page, stepper, write_html
from viz.steps import (
    BackwardStep,
    ForwardStep,
    backward_steps,
    final_gradients,
    format_backward,
    format_forward,
    format_gradients,
    forward_steps,
)
from viz.text import table, to_text, tree

__all__ = [
    "draw", "render", "svg_text", "Drawing", "group_by_label", "infer_groups",
    "GraphvizNotFoundError", "RenderError", "INSTALL_HINT", "ROLE_COLORS",
    "tree", "table", "to_text",
    "forward_steps", "backward_steps", "ForwardStep", "BackwardStep",
    "format_forward", "format_backward", "format_gradients",
    "final_gradients",
    "Frame", "frames", "write_frames", "write_gif", "write_html", "html_page",
    "stepper", "Stepper", "steps_table", "StepTable",
    "build", "parse", "Expression", "ParsedExpression", "ExpressionError",
    "GraphNames", "format_value",
]
