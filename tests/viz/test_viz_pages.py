"""Frames of the passes, numbered pictures, and the offline stepping page."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from viz_graphs import chain_rule_graph

import viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


def test_the_current_edge_is_highlighted() -> None:
    c, v = chain_rule_graph()
    frames = viz.frames(c)
    names = viz.GraphNames(c)
    into_z = next(f for f in frames if f.step is not None and f.step.input is v["z"])
    edge = f"{names.node_id(v['z'])} -> {names.node_id(v['b'])}_op"
    line = next(line for line in into_z.graph.source.splitlines() if edge in line)
    assert "penwidth=2.5" in line


@needs_dot
def test_write_frames_numbers_the_pictures(tmp_path: Path) -> None:
    c, _ = chain_rule_graph()
    frames = viz.frames(c)
    paths = viz.write_frames(frames, tmp_path / "frames", format="svg")
    assert [p.name for p in paths] == [f"frame_{k:03d}.svg" for k in range(len(frames))]
    third = paths[3].read_text()
    assert "Backward step 3 of 6" in third  # the picture carries its own title
    pngs = viz.write_frames(frames[:2], tmp_path / "png", format="png", prefix="step")
    assert [p.name for p in pngs] == ["step_000.png", "step_001.png"]
    assert pngs[0].read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="format"):
        viz.write_frames(frames, tmp_path, format="gif")


@needs_dot
def test_html_page_is_self_contained_and_has_every_frame(tmp_path: Path) -> None:
    c, _ = chain_rule_graph()
    frames = viz.frames(c, forward=True)
    path = viz.write_html(frames, tmp_path / "steps.html", title="f = x(2y + z)")
    page = path.read_text()
    assert page.count('<section class="frame"') == len(frames)
    assert page.count("<svg") == len(frames)
    for frame in frames:
        assert f'id="frame-{frame.index + 1}"' in page
        for line in frame.caption:
            assert line.replace(">", "&gt;").replace("<", "&lt;") in page
    lowered = page.lower()
    for external in ("http:", "https:", "src=", "<link", "@import", "url(", "//cdn"):
        assert external not in lowered, external
    assert "ArrowRight" in page and "ArrowLeft" in page
    assert '<button id="prev"' in page and '<button id="next"' in page


def test_html_page_needs_frames_and_matching_pictures() -> None:
    c, _ = chain_rule_graph()
    frames = viz.frames(c)
    with pytest.raises(ValueError, match="no frames"):
        viz.html_page([])
    with pytest.raises(ValueError, match="pictures"):
        viz.html_page(frames, svgs=["<svg></svg>"])
    page = viz.html_page(frames, "<title & more>", svgs=["<svg></svg>"] * len(frames))
    assert "<title>&lt;title &amp; more&gt;</title>" in page


_HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const html = fs.readFileSync(process.argv[2], "utf8");
const script = html.match(/<script>([\s\S]*?)<\/script>/)[1];
const count = (html.match(/<section class="frame"/g) || []).length;
function element(id) {
  return { id: id, hidden: false, textContent: "", value: "", disabled: false, listeners: {},
           addEventListener(type, f) {
             (this.listeners[type] = this.listeners[type] || []).push(f);
           } };
}
const frames = Array.from({ length: count }, (_, i) => element("frame-" + (i + 1)));
const byId = { prev: element("prev"), next: element("next"), counter: element("counter"),
               slider: element("slider") };
const keyListeners = [];
const context = {
  document: { querySelectorAll: (s) => (s === "section.frame" ? frames : []),
              getElementById: (id) => byId[id],
              addEventListener: (type, f) => { if (type === "keydown") keyListeners.push(f); },
              body: { className: "" } },
  location: { hash: "" },
  history: { replaceState(a, b, hash) { context.location.hash = hash; } },
  String: String, Math: Math, Array: Array, parseInt: parseInt, isNaN: isNaN,
};
vm.createContext(context);
vm.runInContext(script, context);
const visible = () => frames.map((f, i) => (f.hidden ? -1 : i)).filter((i) => i >= 0);
const log = [visible()];
const keys = ["ArrowRight", "ArrowRight", "ArrowLeft", "End", "ArrowRight", "Home", "ArrowLeft"];
for (const key of keys) {
  keyListeners.forEach((f) => f({ key: key, target: null, preventDefault() {} }));
  log.push(visible());
}
byId.next.listeners.click[0]();
log.push(visible());
console.log(JSON.stringify({ log: log, counter: byId.counter.textContent,
                             hash: context.location.hash, prevDisabled: byId.prev.disabled,
                             count: count }));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node (to run the page's script) missing")
def test_page_script_steps_with_arrow_keys_and_buttons(tmp_path: Path) -> None:
    c, _ = chain_rule_graph()
    frames = viz.frames(c)
    page = tmp_path / "steps.html"
    page.write_text(viz.html_page(frames, svgs=["<svg></svg>"] * len(frames)))
    harness = tmp_path / "harness.js"
    harness.write_text(_HARNESS)
    run = subprocess.run(["node", str(harness), str(page)], capture_output=True, text=True,
                         timeout=60, check=True)
    result = json.loads(run.stdout)
    last = len(frames) - 1
    assert result["count"] == len(frames)
    assert result["log"] == [[0], [1], [2], [1], [last], [last], [0], [0], [1]]
    assert result["counter"] == f"2 / {len(frames)}"
    assert result["hash"] == "#2"
    assert result["prevDisabled"] is False


def _no_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_without_graphviz_the_page_is_written_with_dot_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_dot(tmp_path, monkeypatch)
    c, _ = chain_rule_graph()
    frames = viz.frames(c)
    target = tmp_path / "steps.html"
    with pytest.raises(viz.GraphvizNotFoundError) as info:
        viz.write_html(frames, target)
    message = str(info.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert hint in message
    assert info.value.dot_path == target
    page = target.read_text()
    assert page.count('<pre class="dot">') == len(frames) and "<svg" not in page
    assert "digraph {" in page and '<button id="next"' in page  # still a page to step through
    assert "https:" not in page.lower().replace("https://graphviz.org", "")


def test_without_graphviz_every_frame_is_written_as_dot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_dot(tmp_path, monkeypatch)
    c, _ = chain_rule_graph()
    frames = viz.frames(c)
    with pytest.raises(viz.GraphvizNotFoundError) as info:
        viz.write_frames(frames, tmp_path / "frames", format="png")
    assert "brew install graphviz" in str(info.value)
    written = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert written == [f"frame_{k:03d}.dot" for k in range(len(frames))]
    assert (tmp_path / "frames" / "frame_002.dot").read_text() == frames[2].titled_graph().source


def test_writes_are_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file viz writes goes through a temporary file and os.replace: a failure
    leaves the old file whole and no temporary file behind."""
    import os

    from autograd.files import atomic_write

    target = tmp_path / "deep" / "page.html"
    assert atomic_write(target, "first", make_parents=True) == target
    assert target.read_text() == "first"
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def recording_replace(src: str, dst: str) -> None:
        replaced.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    c, _ = chain_rule_graph()
    if shutil.which("dot"):
        viz.write_html(viz.frames(c), target)
    else:
        viz.render(c, target.with_suffix(".dot"))
        target = target.with_suffix(".dot")
    assert replaced and replaced[-1][1] == str(target)
    assert os.path.dirname(replaced[-1][0]) == str(target.parent)  # same directory: atomic

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    before = target.read_bytes()
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b"half a page")
    assert target.read_bytes() == before
    assert not [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")]
