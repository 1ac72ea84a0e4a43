"""The Iris tutorial's chain-rule example, step by step: f(x, y, z) = x(2y + z).

The tutorial computes f in three named steps, a = 2y, b = a + z, c = x*b, and asks for
dc/dz = dc/db * db/dz.  This demo builds exactly that graph, prints the forward pass,
every edge of the backward pass as a chain-rule line, and the gradients; then it writes
the graph picture, one picture per step, and a page to step through them offline:

    python -m demos.chain_rule                  # x=3, y=1, z=2; files go to out/
    python -m demos.chain_rule --x -2 --y 5 --z -4 --out /tmp/chain

With ``--images docs/images`` it also (re)writes the pictures the README shows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import viz
from autograd import Value
from demos.common import DemoParser, finite_float, os_error_line, output_directory, run_main


def build(x: float, y: float, z: float) -> tuple[Value, dict[str, Value]]:
    """f = x(2y + z) with the tutorial's names: a = 2y, b = a + z, c = x*b."""
    vx, vy, vz = Value(x, "x"), Value(y, "y"), Value(z, "z")
    a = 2 * vy
    a.label = "a"
    b = a + vz
    b.label = "b"
    c = vx * b
    c.label = "c"
    return c, {"x": vx, "y": vy, "z": vz, "a": a, "b": b, "c": c}


def build_parser() -> argparse.ArgumentParser:
    """The demo's command line."""
    parser = DemoParser("chain_rule", __doc__)
    for name, default in (("x", 3.0), ("y", 1.0), ("z", 2.0)):
        parser.add_argument(f"--{name}", type=finite_float, default=default, metavar="NUMBER",
                            help=f"the value of {name} (default: %(default)g)")
    parser.add_argument("--out", type=output_directory, default=Path("out"), metavar="DIR",
                        help="directory for the pictures and the page, made if missing "
                             "(default: %(default)s)")
    parser.add_argument("--images", type=output_directory, default=None, metavar="DIR",
                        help="also (re)write the README's pictures into DIR (default: not)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit status (1 if Graphviz is missing or a file cannot
    be written, 2 for a bad option)."""
    parser = build_parser()
    args = parser.parse_args(argv)

    c, nodes = build(args.x, args.y, args.z)
    print(f"f(x, y, z) = x(2y + z) at x = {args.x:g}, y = {args.y:g}, z = {args.z:g}\n")
    print("Forward pass: a = 2y, b = a + z, c = x*b")
    print(viz.format_forward(viz.forward_steps(c)))
    print("\nBackward pass, one edge at a time (the engine's order):")
    steps = list(viz.backward_steps(c))
    print(viz.format_backward(steps))
    print("\nThe tutorial's question, dc/dz = dc/db * db/dz:")
    print("  " + next(s for s in steps if s.input is nodes["z"]).chain_rule())
    print("\nGradients:")
    print(viz.format_gradients(c))

    try:
        wrote, missing = _write_files(c, args.out, args.images)
    except OSError as error:
        print(f"{parser.prog}: error: {os_error_line(error)}", file=sys.stderr)
        return 1
    if wrote:
        print("\n" + "\n".join(f"wrote {item}" for item in wrote))
    if missing:
        print(f"\nerror: Graphviz's `dot` program was not found, so no picture was drawn. "
              f"{viz.INSTALL_HINT}. Written instead: {', '.join(missing)}.", file=sys.stderr)
        return 1
    return 0


def _write_files(c: Value, out: Path, images: Path | None) -> tuple[list[str], list[str]]:
    """The graph, the frames and the page in `out` (and the README's pictures in
    `images`); returns what was written and what lacks its pictures for want of
    Graphviz (those are written as DOT text)."""
    wrote: list[str] = []
    missing: list[str] = []
    try:
        wrote.append(str(viz.render(c, out / "chain_rule.svg")))
    except viz.GraphvizNotFoundError as error:
        missing.append(str(error.dot_path))
    frames = viz.frames(c, forward=True)
    folder = out / "chain_rule_frames"
    try:
        pictures = viz.write_frames(frames, folder)
        wrote.append(f"{len(pictures)} frames to {folder}")
    except viz.GraphvizNotFoundError:
        missing.append(f"{folder}/frame_*.dot")
    page_path = out / "chain_rule_steps.html"
    title = "f(x, y, z) = x(2y + z), step by step"
    try:
        page = viz.write_html(frames, page_path, title=title)
        wrote.append(f"{page}  (open it in a browser; arrow keys step through the frames)")
    except viz.GraphvizNotFoundError:
        missing.append(f"{page_path} (DOT text in place of the pictures)")
    if images is not None and not missing:
        _write_readme_images(images)
    return wrote, missing


def _write_readme_images(directory: Path) -> None:
    """The graph with its gradients, and the frame of the step dc/dz = dc/db * db/dz."""
    c, nodes = build(3.0, 1.0, 2.0)
    c.backward()
    viz.render(c, directory / "chain_rule.svg")
    frames = viz.frames(c)
    step = next(f for f in frames if f.step is not None and f.step.input is nodes["z"])
    viz.render(step.titled_graph(), directory / "chain_rule_step.svg")
    print(f"wrote the README pictures to {directory}")


if __name__ == "__main__":
    run_main(main, "chain_rule")
