"""The stepping page and the notebook stepper, made from `viz.frames`.

`stepper` gives a pass's frames as a `viz.Stepper`, which steps through them inline in a
notebook; `write_html` / `html_page` give the same component as a single self-contained
page (the pictures inlined as SVG, no network access at all).  The frames themselves
(`Frame`, `frames`, `write_frames`) live in `viz.frames`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from viz.component import DEFAULT_TITLE, Stepper
from viz.frames import Frame, frames
from viz.naming import DEFAULT_NUMBER_FORMAT, GraphNames

__all__ = ["stepper", "write_html", "html_page"]


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


def stepper(root: Any, grad: Any = None, *, forward: bool = True, title: str | None = None,
            number_format: str = DEFAULT_NUMBER_FORMAT, max_height: int = 640,
            **draw_options: Any) -> Stepper:
    """`root`'s forward pass (unless ``forward=False``) and backward pass, one frame at a time,
    as a `viz.Stepper`: it shows inline in Jupyter and VS Code notebooks (no widgets, no
    network), and ``.write_html(path)`` writes the same component as a standalone page.

    `grad` (the output gradient, 1 by default), `number_format` and `draw_options` are
    those of `viz.frames`: the pass is one of its own, so stepping never changes any
    node's ``grad``.  `title` defaults to the passes and the root's name; `max_height` is
    the tallest (px) the fitted picture is made in a notebook.
    """
    pictures = frames(root, grad, forward=forward, number_format=number_format,
                      **draw_options)
    if title is None:
        passes = "Forward and backward pass" if forward else "Backward pass"
        title = f"{passes} of {GraphNames(root, number_format)[root]}"
    return Stepper(pictures, title, max_height=max_height)
