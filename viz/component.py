"""One stepper component: the frames of a pass, to click or key through, in HTML.

The same component is the notebook stepper and the standalone page:

* in Jupyter and VS Code notebooks a `Stepper` shows inline (``_repr_html_``): one
  self-contained fragment, the pictures inlined as SVG, a small script, no network
  request and no ipywidgets.  Its id is new on every display and every CSS selector
  sits under it, so any number of steppers work side by side and the notebook's own
  style is untouched.  Keys act only while the stepper has focus (click it, or Tab to
  it), never while typing in a cell or an input;
* `Stepper.page` wraps the same fragment into an offline page whose Content Security
  Policy forbids every request (``default-src 'none'``); `viz.write_html` and the
  command line's ``--html`` write it.

The picture is scaled to fit the width (and, on the page, the height of the window),
never below a readable size: a narrow screen scrolls the picture sideways instead.
Zoom buttons change the scale; "fit" goes back.  The controls sit above a caption area
as tall as the longest caption (up to a limit; a longer one scrolls), so nothing above
the picture moves from frame to frame.
Without JavaScript (a notebook opened untrusted, or on GitHub) the frames are shown
one below the other.

`steps_table` shows forward or backward step records as an HTML table in a notebook
(and as the text table in a terminal); a `Frame` displays itself with `frame_html`.
"""

from __future__ import annotations

import hashlib
import html
import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import graphviz

from autograd.files import atomic_write
from viz.dot import INSTALL_HINT, GraphvizNotFoundError, RenderError, clean_svg, svg_text
from viz.naming import format_value
from viz.steps import BackwardStep, ForwardStep, format_backward, format_forward

__all__ = ["Stepper", "StepTable", "steps_table", "frame_html", "DEFAULT_TITLE"]

DEFAULT_TITLE = "Backpropagation, step by step"

_escape = html.escape

# -- the component's style: every selector starts with the stepper's own id (#@) -----------
_CSS = """
#@ { box-sizing: border-box; display: block; max-width: 100%; margin: 0.5em 0;
     padding: 0.55em 0.7em 0.7em; background: #fff; color: #212529;
     border: 1px solid #ced4da; border-radius: 6px; text-align: left;
     font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
     font-size: 15px; line-height: 1.4; }
#@ *, #@ *::before, #@ *::after { box-sizing: border-box; }
#@:focus { outline: none; }
#@:focus-within { border-color: #4263eb; box-shadow: 0 0 0 2px rgba(66, 99, 235, 0.35); }
#@ .bp-title { font-weight: 600; font-size: 1.05em; margin: 0 0 0.4em; overflow-wrap: anywhere; }
#@ .bp-controls { display: none; flex-wrap: wrap; align-items: center; gap: 0.4em 0.5em;
                  margin: 0 0 0.5em; }
#@.bp-js .bp-controls { display: flex; }
#@ .bp-group { display: flex; align-items: center; gap: 0.3em; }
#@ button { font: inherit; font-size: 0.95em; line-height: 1.2; margin: 0;
            padding: 0.3em 0.7em; min-height: 2.2em; min-width: 2.4em;
            border: 1px solid #adb5bd; border-radius: 4px; background: #f8f9fa;
            color: #212529; cursor: pointer; }
#@ button:hover:not(:disabled) { background: #e9ecef; }
#@ button:disabled { opacity: 0.45; cursor: default; }
#@ .bp-counter { display: inline-block; text-align: center; white-space: nowrap;
                 font-variant-numeric: tabular-nums; }
#@ .bp-slider { flex: 1 1 8em; min-width: 6em; max-width: 28em; margin: 0; }
#@ .bp-zoom-label { display: inline-block; min-width: 4.5ch; text-align: right;
                    font-size: 0.85em; color: #495057; font-variant-numeric: tabular-nums; }
#@ .bp-hint { color: #6c757d; font-size: 0.8em; }
#@ .frame { margin: 0 0 1em; }
#@ .bp-step-title { font-weight: 600; margin: 0 0 0.25em; overflow-wrap: anywhere; }
#@ pre.bp-caption { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
                    font-size: 0.85em; line-height: 1.4; white-space: pre-wrap;
                    overflow-wrap: anywhere; margin: 0; padding: 0.4em 0.6em; border: 0;
                    border-radius: 4px; background: #f1f3f5; color: #212529; }
#@ .bp-picture svg { max-width: 100%; height: auto; }
#@ pre.dot { font-size: 0.8em; max-height: 24em; overflow: auto; background: #f8f9fa;
             color: #212529; padding: 0.4em; margin: 0; }
#@ .bp-note { color: #6c757d; font-size: 0.85em; margin: 0.3em 0; }
#@ .bp-heads, #@ .bp-view { display: none; }
#@.bp-js .bp-frames { display: none; }
#@.bp-js .bp-heads { display: grid; }
#@.bp-js .bp-heads > .bp-head { grid-area: 1 / 1; visibility: hidden; min-width: 0;
                                 max-height: 12em; overflow-y: auto; }
#@.bp-js .bp-heads > .bp-head.bp-current { visibility: visible; }
#@.bp-js .bp-view { display: block; overflow: auto; margin-top: 0.5em; }
#@.bp-js .bp-view > .bp-picture { display: none; }
#@.bp-js .bp-view > .bp-picture.bp-current { display: block; margin: 0 auto; }
#@.bp-js .bp-view svg { display: block; max-width: none; }
"""

# -- the component's behaviour: one closure per stepper, bound to its root element ---------
_SCRIPT = """
(function (id) {
  var script = document.currentScript, tries = 0;
  function find() {
    var root = (script && script.parentNode && script.parentNode.id === id)
      ? script.parentNode : document.getElementById(id);
    // Some front ends (the classic notebook) run the script before the output is in
    // the document: look again shortly.
    if (!root) { if (++tries < 100) { setTimeout(find, 50); } return; }
    if (!root.getAttribute("data-ready")) { root.setAttribute("data-ready", "1"); start(root); }
  }
  find();
  function start(root) {
    var PT = 4 / 3;                  // CSS px per SVG unit (Graphviz writes points) at 100%
    var MIN_FIT = 0.75 * PT;         // fit never shrinks text below 3/4 of its natural size
    var MAX_FIT = 2 * PT;            // nor blows a small graph up beyond twice
    var page = root.hasAttribute("data-page");
    function one(selector) { return root.querySelector(selector); }
    function all(selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }
    var heads = one(".bp-heads"), view = one(".bp-view");
    var sections = all(".bp-frames > .frame");
    var headList = [], pictures = [];
    sections.forEach(function (section) {
      var head = section.querySelector(".bp-head"), picture = section.querySelector(".bp-picture");
      headList.push(head); pictures.push(picture);
      heads.appendChild(head); view.appendChild(picture);
    });
    var svgs = all(".bp-view svg");
    var n = sections.length, current = 0, scale = null, width = -1;
    // The controls are made here: without the script (an untrusted notebook, GitHub)
    // there are no buttons that do nothing, only the frames one below the other.
    function make(parent, tag, className, text, attributes) {
      var element = document.createElement(tag);
      element.className = className;
      if (text) { element.textContent = text; }
      for (var name in attributes || {}) { element.setAttribute(name, attributes[name]); }
      parent.appendChild(element);
      return element;
    }
    var bar = one(".bp-controls"), group = make(bar, "div", "bp-group");
    var prev = make(group, "button", "bp-prev", "\u25c0 Prev",
                    { type: "button", title: "previous step (left arrow)" });
    var counter = make(group, "span", "bp-counter", "", { "aria-live": "polite" });
    counter.style.minWidth = (2 * String(n).length + 3) + "ch";
    var next = make(group, "button", "bp-next", "Next \u25b6",
                    { type: "button", title: "next step (right arrow)" });
    var slider = make(bar, "input", "bp-slider", "", { type: "range", min: "1", max: String(n),
                                                       value: "1", "aria-label": "step" });
    var zoomGroup = make(bar, "div", "bp-group bp-zoom");
    var zoomOut = make(zoomGroup, "button", "bp-zoom-out", "\u2212",
                       { type: "button", title: "zoom out (-)" });
    var fit = make(zoomGroup, "button", "bp-fit", "fit",
                   { type: "button", title: "fit the picture to the space (0)" });
    var zoomIn = make(zoomGroup, "button", "bp-zoom-in", "+",
                      { type: "button", title: "zoom in (+)" });
    var zoomLabel = make(zoomGroup, "span", "bp-zoom-label");
    make(bar, "span", "bp-hint", "click here, then \u2190 \u2192 Home End");
    var maxWidth = 0, maxHeight = 0;
    function box(svg) {
      var b = svg.viewBox && svg.viewBox.baseVal;
      if (b && b.width > 0 && b.height > 0) { return [b.width, b.height]; }
      return [parseFloat(svg.getAttribute("width")) || 100,
              parseFloat(svg.getAttribute("height")) || 100];
    }
    svgs.forEach(function (svg) {
      var size = box(svg);
      maxWidth = Math.max(maxWidth, size[0]); maxHeight = Math.max(maxHeight, size[1]);
    });
    if (!svgs.length) { zoomGroup.style.display = "none"; }
    function roomHeight() {
      if (!page) { return parseFloat(root.getAttribute("data-max-height")) || 640; }
      var top = view.getBoundingClientRect().top + (window.pageYOffset || 0);
      return Math.max(240, window.innerHeight - top - 24);
    }
    function fitScale() {
      var room = view.clientWidth;
      if (!room || !maxWidth) { return null; }
      var s = Math.min(room / maxWidth, roomHeight() / maxHeight, MAX_FIT);
      return Math.max(s, MIN_FIT);
    }
    function shownScale() { return scale === null ? fitScale() : scale; }
    function layout() {
      var s = shownScale();
      if (s === null) { return; }
      svgs.forEach(function (svg) {
        var size = box(svg);
        svg.style.width = (size[0] * s).toFixed(1) + "px";
        svg.style.height = (size[1] * s).toFixed(1) + "px";
      });
      // Every frame gets the box of the largest one: a smaller frame never moves the rest.
      pictures.forEach(function (picture) {
        picture.style.width = (maxWidth * s).toFixed(1) + "px";
        picture.style.height = (maxHeight * s).toFixed(1) + "px";
      });
      zoomLabel.textContent = Math.round(100 * s / PT) + "%";
      fit.disabled = (scale === null);
    }
    function zoom(factor) {
      var s = shownScale();
      if (s === null) { return; }
      scale = Math.max(0.2 * PT, Math.min(8 * PT, s * factor));
      layout();
    }
    function keepFocus(button) {
      if (button.disabled && document.activeElement === button) {
        root.focus({ preventScroll: true });
      }
    }
    function show(k) {
      k = Math.max(0, Math.min(n - 1, k));
      headList[current].classList.remove("bp-current");
      pictures[current].classList.remove("bp-current");
      headList[k].classList.add("bp-current");
      pictures[k].classList.add("bp-current");
      current = k;
      counter.textContent = (k + 1) + " / " + n;
      slider.value = String(k + 1);
      prev.disabled = (k === 0);
      next.disabled = (k === n - 1);
      keepFocus(prev); keepFocus(next);
      root.setAttribute("data-step", String(k + 1));
      if (page) {
        try { history.replaceState(null, "", "#" + (k + 1)); } catch (e) { /* file: URLs */ }
      }
    }
    prev.addEventListener("click", function () { show(current - 1); });
    next.addEventListener("click", function () { show(current + 1); });
    slider.addEventListener("input", function () { show(parseInt(slider.value, 10) - 1); });
    zoomIn.addEventListener("click", function () { zoom(1.25); });
    zoomOut.addEventListener("click", function () { zoom(0.8); });
    fit.addEventListener("click", function () { scale = null; layout(); keepFocus(fit); });
    root.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) { return; }
      var target = event.target;
      if (target !== root && target.closest &&
          target.closest("input, textarea, select, [contenteditable]")) { return; }
      var key = event.key;
      var onButton = target !== root && target.tagName === "BUTTON";
      if (onButton && (key === " " || key === "Enter")) { return; }
      if (key === "ArrowRight" || key === "ArrowDown" || key === "PageDown" || key === " ") {
        show(current + 1);
      } else if (key === "ArrowLeft" || key === "ArrowUp" || key === "PageUp") {
        show(current - 1);
      } else if (key === "Home") {
        show(0);
      } else if (key === "End") {
        show(n - 1);
      } else if (key === "+" || key === "=") {
        zoom(1.25);
      } else if (key === "-") {
        zoom(0.8);
      } else if (key === "0") {
        scale = null; layout();
      } else {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
    });
    root.classList.add("bp-js");
    function refit() {
      var w = root.clientWidth;
      if (w !== width) { width = w; if (scale === null) { layout(); } }
    }
    if (window.ResizeObserver) { new ResizeObserver(refit).observe(root); }
    if (page) {  // the page also fits the window's height; a notebook's stepper only its width
      window.addEventListener("resize", function () { if (scale === null) { layout(); } });
    }
    var start = page ? parseInt(String(location.hash || "").slice(1), 10) : NaN;
    show(isNaN(start) ? 0 : start - 1);
    refit();
  }
})(@ID);
"""

_SVG_ID = re.compile(r'\bid="([^"]*)"')
_SVG_REF = re.compile(r'(url\(#|href="#)([^)"]*)')


def _scope_svg(svg: str, prefix: str) -> str:
    """Prefix the picture's ids (Graphviz writes ``node1``, ``edge1`` in every picture) and
    the references to them, so pictures side by side in one document never share an id."""
    svg = _SVG_ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
    return _SVG_REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)


_SVG_ELEMENT = re.compile(r"<svg\b.*?</svg>", re.S)
# comments, and the title Graphviz gives an anonymous graph (%3), which would be its tooltip
_COMMENT = re.compile(r"<!--.*?-->\s*|<title>%\d+</title>\s*", re.S)
_NAMESPACE = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')


def inline_svgs(graphs: Sequence[Any]) -> list[str]:
    """Every graph as inline SVG (no prolog, comments or namespace declarations), drawn by
    one run of `dot` for all of them: a dozen frames take a tenth of the time that a `dot`
    process per frame takes."""
    if not graphs:
        return []
    source = "\n".join(graph.source for graph in graphs)
    try:
        # graphviz.pipe hands `dot` its input and reads its output together (communicate);
        # Source.pipe writes all input first, and `dot` blocks once it has written 64 KB.
        text = graphviz.pipe("dot", "svg", source.encode("utf-8")).decode("utf-8")
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(
            f"cannot render svg: Graphviz's `dot` program was not found. {INSTALL_HINT}.",
            source, None) from None
    except graphviz.CalledProcessError as error:
        stderr = error.stderr.decode("utf-8", "replace") if isinstance(error.stderr, bytes) \
            else str(error.stderr or "")
        raise RenderError(f"Graphviz `dot` failed to render svg: {stderr.strip()}") from None
    pictures = [clean_svg(_NAMESPACE.sub("", _COMMENT.sub("", svg)))
                for svg in _SVG_ELEMENT.findall(text)]
    if len(pictures) != len(graphs):
        raise RenderError(f"Graphviz `dot` drew {len(pictures)} pictures for {len(graphs)} "
                          f"graphs")
    return pictures


def _dot_fallback(graph: Any) -> str:
    return (f'<p class="bp-note">No picture: Graphviz is not installed. The DOT text of this '
            f'frame:</p><pre class="dot">{_escape(graph.source)}</pre>')


class Stepper:
    """A sequence of frames shown one at a time, with buttons, a slider and the arrow keys.

    Build one with `viz.stepper(root)` (or from frames: ``Stepper(viz.frames(root))``).
    In a notebook it displays inline; `page` / `write_html` give the standalone page.
    The pictures are drawn with Graphviz once, when first needed.
    """

    def __init__(self, frames: Sequence[Any], title: str = DEFAULT_TITLE, *,
                 max_height: int = 640) -> None:
        frames = list(frames)
        if not frames:
            raise ValueError("no frames to show")
        if not isinstance(title, str):
            raise TypeError(f"title must be a str, got {type(title).__name__}")
        if not isinstance(max_height, int) or max_height < 100:
            raise ValueError(f"max_height must be an int of at least 100 (px), got {max_height!r}")
        self.frames = frames
        self.title = title
        #: in a notebook, the tallest the picture is made when fitted (px)
        self.max_height = max_height
        self._svgs: list[str] | None = None

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        forward = sum(frame.kind == "forward" for frame in self.frames)
        passes = [f"{forward} forward"] if forward else []
        passes.append(f"{len(self) - forward} backward")
        return f"<Stepper {self.title!r}: {len(self)} frames ({', '.join(passes)})>"

    def svgs(self) -> list[str]:
        """The frames' pictures as inline SVG (drawn with `dot` on the first call).

        Raises `GraphvizNotFoundError` without Graphviz's `dot` program.
        """
        if self._svgs is None:
            self._svgs = inline_svgs([frame.graph for frame in self.frames])
        return self._svgs

    def html(self, *, element_id: str | None = None, svgs: Sequence[str] | None = None,
             nonce: str | None = None, page: bool = False) -> str:
        """The component as an HTML fragment (a ``<div>`` with its own style and script).

        `element_id` defaults to a new random id, so the same stepper shown twice gives
        two independent components.  `svgs` replaces the pictures (one per frame);
        without Graphviz each frame shows its DOT text and a note.
        """
        if element_id is None:
            element_id = "bp-stepper-" + secrets.token_hex(6)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", element_id):
            raise ValueError(f"element_id must be letters, digits, '-' or '_' (starting with a "
                             f"letter), got {element_id!r}")
        if svgs is None:
            try:
                svgs = self.svgs()
            except GraphvizNotFoundError:
                svgs = [_dot_fallback(frame.graph) for frame in self.frames]
        svgs = list(svgs)
        if len(svgs) != len(self.frames):
            raise ValueError(f"{len(svgs)} pictures for {len(self.frames)} frames")
        sections = []
        for k, (frame, svg) in enumerate(zip(self.frames, svgs), start=1):
            caption = _escape("\n".join(frame.caption))
            sections.append(
                f'<section class="frame" data-kind="{_escape(frame.kind)}" data-step="{k}">'
                f'<div class="bp-head"><div class="bp-step-title">{k}. {_escape(frame.title)}'
                f'</div><pre class="bp-caption">{caption}</pre></div>'
                f'<div class="bp-picture">{_scope_svg(svg, f"{element_id}-{k}-")}</div>'
                f"</section>"
            )
        nonce_attribute = f' nonce="{_escape(nonce)}"' if nonce else ""
        css = _CSS.replace("#@", f"#{element_id}")
        script = _SCRIPT.replace("@ID", f'"{element_id}"')
        page_attribute = " data-page" if page else ""
        return (
            f'<div id="{element_id}" class="bp-stepper" tabindex="0" role="region" '
            f'aria-label="{_escape(self.title)}" data-lm-suppress-shortcuts="true" '
            f'data-p-suppress-shortcuts="true" data-max-height="{self.max_height}"'
            f"{page_attribute}>\n"
            f"<style{nonce_attribute}>{css}</style>\n"
            f'<div class="bp-title">{_escape(self.title)}</div>\n'
            '<div class="bp-controls"></div>\n'
            '<div class="bp-heads"></div>\n'
            '<div class="bp-view"></div>\n'
            '<div class="bp-frames">\n' + "\n".join(sections) + "\n</div>\n"
            f"<script{nonce_attribute}>{script}</script>\n</div>"
        )

    def _repr_html_(self) -> str:
        return self.html()

    def page(self, *, svgs: Sequence[str] | None = None) -> str:
        """The standalone page: the component alone in an offline document.

        Its Content Security Policy (``default-src 'none'``) forbids every request; the
        one script runs by a nonce derived from the page itself.  Without Graphviz's
        `dot` (and no `svgs`) this raises `GraphvizNotFoundError`.
        """
        if svgs is None:
            svgs = self.svgs()
        body = self.html(element_id="stepper", svgs=svgs, nonce="@NONCE", page=True)
        # A nonce fixed by the page's content: the same frames give the same file, and
        # no text inside the page can know the hash of the page that contains it.
        nonce = hashlib.sha256(body.encode("utf-8")).hexdigest()[:24]
        body = body.replace('nonce="@NONCE"', f'nonce="{nonce}"')
        policy = (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; "
                  "base-uri 'none'; form-action 'none'")
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_escape(self.title)}</title>\n"
            f'<style nonce="{nonce}">html, body {{ margin: 0; background: #f1f3f5; }} '
            "body { padding: 0.5rem; } #stepper { margin: 0 auto; }</style>\n"
            f"</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
        )

    def write_html(self, path: str | Path) -> Path:
        """Write the standalone page to `path` (atomically); returns the path.

        Without Graphviz's `dot` program the page is still written, with each frame's DOT
        text in place of its picture, and `GraphvizNotFoundError` is raised afterwards.
        """
        try:
            page = self.page()
        except GraphvizNotFoundError as error:
            fallback = [_dot_fallback(frame.graph) for frame in self.frames]
            written = atomic_write(path, self.page(svgs=fallback), make_parents=True)
            raise GraphvizNotFoundError(
                f"cannot draw the pictures of the stepping page: Graphviz's `dot` program was "
                f"not found. {INSTALL_HINT}. The page was written to {written} with each "
                f"frame's DOT text in place of its picture.", error.dot_source, written,
            ) from None
        return atomic_write(path, page, make_parents=True)


# -- a single frame ------------------------------------------------------------------------


def frame_html(frame: Any) -> str:
    """One frame as HTML: its title, its caption and its picture (inline styles only, so
    nothing leaks into the notebook).  Without Graphviz the picture is its DOT text."""
    try:
        svg = _scope_svg(svg_text(frame.graph, inline=True), f"bp-frame-{secrets.token_hex(6)}-")
    except GraphvizNotFoundError:
        svg = (f"<p>No picture: Graphviz is not installed.</p>"
               f"<pre>{_escape(frame.graph.source)}</pre>")
    caption = _escape("\n".join(frame.caption))
    return (
        '<div style="max-width: 100%; overflow-x: auto">'
        f'<div style="font-weight: 600">{frame.index + 1}. {_escape(frame.title)}</div>'
        '<pre style="white-space: pre-wrap; margin: 0.25em 0 0.5em; padding: 0.4em 0.6em; '
        f'background: #f1f3f5; color: #212529">{caption}</pre>{svg}</div>'
    )


# -- step records as a table ---------------------------------------------------------------


class StepTable(Sequence[Any]):
    """Forward or backward step records that display as a table: HTML in a notebook, the
    text table (`viz.format_forward` / `viz.format_backward`) in a terminal.

    It is a read-only sequence of the records: ``table[0]``, ``len(table)``, ``list(table)``.
    """

    def __init__(self, records: Iterable[Any]) -> None:
        self.records = list(records)
        kinds = {type(record) for record in self.records}
        if not kinds <= {ForwardStep} and not kinds <= {BackwardStep}:
            names = sorted(kind.__name__ for kind in kinds)
            raise TypeError(f"steps_table needs ForwardStep records or BackwardStep records "
                            f"(one kind), got {', '.join(names)}")
        self.forward = bool(self.records) and isinstance(self.records[0], ForwardStep)

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> StepTable: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return StepTable(self.records[index])
        return self.records[index]

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.records)

    def __str__(self) -> str:
        if self.forward:
            return format_forward(self.records)
        return format_backward(self.records)

    def __repr__(self) -> str:
        kind = "forward" if self.forward else "backward"
        return f"<StepTable: {len(self)} {kind} steps>\n{self}"

    def rows(self) -> tuple[list[str], list[list[str]]]:
        """The header and the rows of the table, as text."""
        if self.forward:
            header = ["step", "node", "computed as", "value"]
            return header, [[str(s.index), s.name, s.expression,
                             format_value(s.value, s.number_format)] for s in self.records]
        header = ["step", "node", "chain rule", "gradient", "rule"]
        return header, [[str(s.index), f"{s.node_name} = {s.expression}" if s.first_of_node
                         else "", s.chain_rule(), s.grad_change(), s.rule]
                        for s in self.records]

    def _repr_html_(self) -> str:
        if not self.records:
            return "<p>(no steps: the root is a leaf)</p>"
        header, rows = self.rows()
        base = "text-align: left; vertical-align: top; padding: 0.2em 0.6em"
        mono = "font-family: ui-monospace, Menlo, Consolas, monospace"
        # step | node | chain rule | gradient | rule  (forward: step | node | computed as | value)
        wrapped = f"{base}; {mono}; white-space: pre-wrap"
        styles = [f"{base}; text-align: right", f"{base}; white-space: nowrap", wrapped, wrapped,
                  f"{base}; {mono}; white-space: nowrap"]
        head = "".join(f'<th style="{base}">{_escape(h)}</th>' for h in header)
        body = "".join(
            "<tr>" + "".join(f'<td style="{style}">{_escape(text)}</td>'
                             for style, text in zip(styles, row)) + "</tr>"
            for row in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def steps_table(records: Iterable[Any]) -> StepTable:
    """Step records (from `viz.forward_steps` or `viz.backward_steps`) as a `StepTable`:
    an HTML table in a notebook, the text table when printed."""
    return StepTable(records)
