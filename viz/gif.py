"""An animated GIF of a run's frames, for slides: ``write_gif(viz.frames(f), "steps.gif")``.

Needs Pillow (the ``[plot]`` extra: ``pip install "backprop-lab[plot]"``) and Graphviz's
`dot` program.  Every frame of one run has the same size (see `viz.frames`); the GIF
pads any that differ onto a white canvas of the largest, so nothing is scaled.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograd.files import atomic_write
from viz.dot import pipe, with_dpi
from viz.frames import Frame

__all__ = ["write_gif", "PILLOW_HINT"]

PILLOW_HINT = 'Pillow is needed for GIFs: pip install "backprop-lab[plot]" (or pip install pillow)'


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(PILLOW_HINT) from None
    return Image


def write_gif(frames: Sequence[Frame], path: str | Path, *, seconds_per_frame: float = 1.5,
              last_frame_seconds: float | None = 4.0, dpi: float | None = None,
              loop: bool = True) -> Path:
    """Write `frames` as one animated GIF at `path` (atomically); returns the path.

    Each frame shows for `seconds_per_frame` (the last for `last_frame_seconds`, so the
    gradients can be read before it starts again); ``dpi`` sets the resolution (96 by
    default); ``loop=False`` plays it once.  Raises `ImportError` without Pillow and
    `viz.GraphvizNotFoundError` without Graphviz's `dot`.
    """
    if not frames:
        raise ValueError("no frames to animate")
    for name, seconds in (("seconds_per_frame", seconds_per_frame),
                          ("last_frame_seconds", last_frame_seconds)):
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(
                seconds, (int, float)) or not 0.02 <= seconds <= 60):
            raise ValueError(f"{name} must be a number of seconds from 0.02 to 60, got "
                             f"{seconds!r:.40}")
    image_module = _pillow()
    pictures = [image_module.open(io.BytesIO(pipe(with_dpi(frame.titled_graph(), dpi), "png")))
                .convert("RGB") for frame in frames]
    width = max(picture.width for picture in pictures)
    height = max(picture.height for picture in pictures)
    canvases = []
    for picture in pictures:
        if picture.size != (width, height):
            canvas = image_module.new("RGB", (width, height), "white")
            canvas.paste(picture, (0, 0))
            picture = canvas
        canvases.append(picture)
    durations = [round(seconds_per_frame * 1000)] * len(canvases)
    if last_frame_seconds is not None:
        durations[-1] = round(last_frame_seconds * 1000)
    buffer = io.BytesIO()
    options: dict[str, Any] = {"loop": 0} if loop else {}
    canvases[0].save(buffer, format="GIF", save_all=True, append_images=canvases[1:],
                     duration=durations, optimize=False, **options)
    return atomic_write(path, buffer.getvalue(), make_parents=True)
