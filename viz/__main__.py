"""Command line: ``python -m viz "x*(2*y + z)" x=3 y=1 z=2``.

Prints the forward values, every backward step (as a chain-rule line in the graph's
own names: the function is ``f``, ``df/dx``) and the gradient of every input.
``--out graph.svg`` renders the graph (svg/png/pdf/dot), ``--html steps.html`` writes
the offline stepping page, ``--frames DIR`` one picture per step, ``--gif steps.gif``
an animation of them, ``--text`` prints the graph as a tree.

Exit status: 0 on success, 2 for a bad expression or argument (one error line,
with a caret under the problem), 1 when a file cannot be written or Graphviz is
missing (the DOT text is still written).
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from graphviz import Digraph

from viz.dot import (
    DPI_RANGE,
    INSTALL_HINT,
    RENDER_FORMATS,
    GraphvizNotFoundError,
    RenderError,
    render,
    with_dpi,
)
from viz.expr import FUNCTIONS, ExpressionError, build, parse_assignments
from viz.frames import frames, write_frames
from viz.gif import PILLOW_HINT, write_gif
from viz.naming import GraphNames, check_number_format
from viz.pages import write_html
from viz.steps import (
    backward_steps,
    format_backward,
    format_forward,
    format_gradients,
    forward_steps,
)
from viz.text import tree

__all__ = ["main", "build_parser"]

_PROG = "python -m viz"


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but its errors are one short line (after the usage line) and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        if len(message) > _MAX_MESSAGE:
            message = message[:_MAX_MESSAGE - 3] + "..."
        self.exit(2, f"{self.prog}: error: {message}\n")


_MAX_MESSAGE = 200
_OPTION_LIKE = re.compile(r"--[A-Za-z][A-Za-z0-9-]*")


def _arrange(arguments: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """The options first, then ``--`` and the expression and values.

    So an expression starting with a minus (``-x*y``, ``--x``, ``-(a+b)``) is never taken
    for an option, wherever it stands.  Unknown ``--words`` stay options, for argparse to
    report.
    """
    takes_value = {name: action.nargs != 0 for action in parser._actions
                   for name in action.option_strings}
    options: list[str] = []
    positionals: list[str] = []
    k = 0
    while k < len(arguments):
        argument = arguments[k]
        if argument == "--":
            positionals.extend(arguments[k + 1:])
            break
        name = argument.split("=", 1)[0]
        if name in takes_value:
            options.append(argument)
            if takes_value[name] and "=" not in argument and k + 1 < len(arguments):
                options.append(arguments[k + 1])
                k += 1
        elif _OPTION_LIKE.fullmatch(name):
            options.append(argument)
        else:
            positionals.append(argument)
        k += 1
    return [*options, "--", *positionals]


def _root_name(variables: Sequence[str]) -> str:
    """``f``, the function's name, unless the expression uses f as a variable."""
    for name in ("f", "F", "f_out", "result"):
        if name not in variables:
            return name
    return "f_" + "_".join(sorted(variables))[:20]


def build_parser() -> argparse.ArgumentParser:
    """The command line's argument parser."""
    parser = _ArgumentParser(
        prog=_PROG,
        allow_abbrev=False,
        description="Build a computation graph from an expression, and show its forward "
                    "pass, its backward pass step by step, and every input's gradient.",
        epilog=f"Functions: {', '.join(FUNCTIONS)}.  Example: {_PROG} \"x*(2*y + z)\" x=3 "
               f"y=1 z=2 --html steps.html",
    )
    parser.add_argument("expression", help='the function f, e.g. "x*(2*y + z)"')
    parser.add_argument("values", nargs="*", metavar="NAME=VALUE",
                        help="a value for every variable, e.g. x=3 y=1 z=2")
    parser.add_argument("--out", metavar="FILE",
                        help=f"render the graph to FILE ({', '.join(RENDER_FORMATS)}) "
                             f"(default: none)")
    parser.add_argument("--html", metavar="FILE",
                        help="write the step-by-step page, one offline HTML file "
                             "(default: none)")
    parser.add_argument("--frames", metavar="DIR",
                        help="write one numbered picture per step into DIR, replacing the "
                             "frames an earlier run wrote there (default: none)")
    parser.add_argument("--frame-format", choices=("svg", "png"), default="svg",
                        help="picture format for --frames (default: svg)")
    parser.add_argument("--gif", metavar="FILE",
                        help="write an animated GIF of the steps, for slides (needs Pillow: "
                             "the [plot] extra) (default: none)")
    parser.add_argument("--dpi", type=float, default=None, metavar="N",
                        help=f"resolution of PNG pictures and the GIF, {DPI_RANGE[0]:g} to "
                             f"{DPI_RANGE[1]:g} (default: Graphviz's 96)")
    parser.add_argument("--text", action="store_true",
                        help="also print the graph as a text tree (default: off)")
    parser.add_argument("--format", dest="number_format", default=".4g", metavar="SPEC",
                        help="number format, a Python float format spec such as .3f "
                             "(default: .4g)")
    parser.add_argument("--rankdir", choices=("LR", "TB"), default="LR",
                        help="graph direction: left-to-right or top-to-bottom (default: LR)")
    parser.add_argument("--params", metavar="NAMES", default="",
                        help="comma-separated variables to colour as parameters, e.g. "
                             "w1,w2,b (default: none)")
    parser.add_argument("--no-rules", action="store_true",
                        help="leave out the op table's generic rule column in the backward "
                             "table (default: shown)")
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run the command line; returns the exit status."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    arguments = _arrange(list(sys.argv[1:] if argv is None else argv), parser)
    args = parser.parse_args(arguments)

    def fail(message: str, detail: str = "", status: int = 2) -> int:
        print(f"{_PROG}: error: {message}", file=err)
        if detail:
            print(detail, file=err)
        return status

    try:
        number_format = check_number_format(args.number_format)
    except ValueError as error:
        return fail(str(error))
    for option in ("out", "html", "frames", "gif"):
        given = getattr(args, option)
        if given is not None and not given.strip():
            return fail(f"--{option} needs a file name, got an empty one")
    if args.dpi is not None:
        try:
            with_dpi(Digraph(), args.dpi)
        except ValueError as error:
            return fail(f"--dpi: {error}")
    if args.out and Path(args.out).suffix.lstrip(".").lower() not in RENDER_FORMATS:
        return fail(f"--out {args.out}: the extension must be one of "
                    f"{', '.join('.' + f for f in RENDER_FORMATS)}")
    try:
        values = parse_assignments(args.values)
        expression = build(args.expression, values)
    except ExpressionError as error:
        return fail(str(error), error.caret())
    # NFKC, as Python reads the expression's names (ｗ is w)
    parameter_names = [unicodedata.normalize("NFKC", name.strip())
                       for name in args.params.split(",") if name.strip()]
    unknown = [name for name in parameter_names if name not in expression.variables]
    if unknown:
        return fail(f"--params names {unknown[0]!r}, which is not a variable of the expression")
    parameters = [expression.variables[name] for name in parameter_names]

    root = expression.root
    if root.parents or not root.label:  # f = x is the variable x itself: keep its name
        root.label = _root_name(expression.variables)
    names = GraphNames(root, number_format)
    print(f"{names[root]} = {args.expression}", file=out)
    print("\nForward pass", file=out)
    print(format_forward(forward_steps(root, names=names)), file=out)
    print(f"\nBackward pass (output gradient {names.partial(root, root)} = 1)", file=out)
    steps = list(backward_steps(root, names=names))
    print(format_backward(steps, rules=not args.no_rules), file=out)
    root.backward()  # the stepper writes no gradient: these are the engine's
    print("\nGradients", file=out)
    print(format_gradients(root, names=names) or "(no inputs)", file=out)
    if args.text:
        print("\nGraph", file=out)
        print(tree(root, number_format=number_format), file=out)

    draw_options = {"rankdir": args.rankdir, "number_format": number_format,
                    "parameters": parameters}
    # Without Graphviz every output is still written (as DOT text) and one error says so.
    missing: list[str] = []
    target = ""  # the user's path being written, named in any error
    try:
        if args.out:
            target = args.out
            try:
                written = render(root, args.out, dpi=args.dpi, **draw_options)
                print(f"\nwrote {written}", file=out)
            except GraphvizNotFoundError as error:
                missing.append(f"{error.dot_path} (the graph)" if error.dot_path else "")
        if args.html or args.frames or args.gif:
            pictures = frames(root, forward=True, **draw_options)
            if args.html:
                target = args.html
                try:
                    title = f"{names[root]} = {args.expression}"
                    page = write_html(pictures, args.html, title=title)
                    print(f"wrote {page}", file=out)
                except GraphvizNotFoundError as error:
                    missing.append(f"{error.dot_path} (the page, DOT text for pictures)")
            if args.frames:
                target = args.frames
                try:
                    paths = write_frames(pictures, args.frames, format=args.frame_format,
                                         dpi=args.dpi)
                    print(f"wrote {len(paths)} frames to {args.frames}", file=out)
                except GraphvizNotFoundError as error:
                    missing.append(f"{Path(args.frames) / '*.dot'} (the frames)"
                                   if error.dot_path else "")
            if args.gif:
                target = args.gif
                try:
                    print(f"wrote {write_gif(pictures, args.gif, dpi=args.dpi)}", file=out)
                except GraphvizNotFoundError:
                    missing.append("")
                except ImportError:
                    return fail(f"cannot write {args.gif}: {PILLOW_HINT}", status=1)
    except OSError as error:
        return fail(f"cannot write {target or 'the output'}: {error.strerror or error}",
                    status=1)
    except RenderError as error:
        return fail(str(error), status=1)
    if missing:
        written = ", ".join(item for item in missing if item)
        return fail(f"Graphviz's `dot` program was not found, so no picture was drawn. "
                    f"{INSTALL_HINT}. Written instead: {written}.", status=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
