"""Frames of the passes, numbered pictures, and the offline stepping page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from viz_graphs import chain_rule_graph

import viz
from autograd import Value

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
    for k, frame in enumerate(frames, start=1):
        assert f'data-step="{k}"' in page and f"{k}. {frame.title}" in page
        for line in frame.caption:
            assert line.replace(">", "&gt;").replace("<", "&lt;") in page
    lowered = page.lower()
    for external in ("http:", "https:", "src=", "<link", "@import", "url(", "//cdn", "<iframe"):
        assert external not in lowered, external
    # The browser is told to refuse any request, and to run only the page's own script.
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert policy is not None
    rules = dict(rule.strip().split(" ", 1) for rule in policy.group(1).split(";"))
    assert rules["default-src"] == "'none'"
    nonce = re.fullmatch(r"'nonce-([0-9a-f]{24})'", rules["script-src"])
    assert nonce is not None
    assert page.count("<script") == page.count(f'<script nonce="{nonce.group(1)}">') == 1
    assert "ArrowRight" in page and "ArrowLeft" in page
    # The same frames give the same file.
    assert viz.html_page(frames, "f = x(2y + z)") == page


def test_html_page_needs_frames_and_matching_pictures() -> None:
    c, _ = chain_rule_graph()
    frames = viz.frames(c)
    with pytest.raises(ValueError, match="no frames"):
        viz.html_page([])
    with pytest.raises(ValueError, match="pictures"):
        viz.html_page(frames, svgs=["<svg></svg>"])
    page = viz.html_page(frames, "<title & more>", svgs=["<svg></svg>"] * len(frames))
    assert "<title>&lt;title &amp; more&gt;</title>" in page
    assert "<title & more>" not in page


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
    # still a page to step through
    assert "digraph {" in page and '<div class="bp-controls">' in page and "<script" in page
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


# -- the stepper component (notebooks and the page) ----------------------------------------


def _component_id(fragment: str) -> str:
    match = re.match(r'<div id="([^"]+)" class="bp-stepper"', fragment)
    assert match is not None
    return match.group(1)


def test_stepper_is_the_function_and_shows_both_passes() -> None:
    c, v = chain_rule_graph()
    stepper = viz.stepper(c)
    assert isinstance(stepper, viz.Stepper) and callable(viz.stepper)
    kinds = [frame.kind for frame in stepper.frames]
    assert kinds == ["forward"] * 4 + ["output_gradient"] + ["backward"] * 6 + ["done"]
    assert stepper.title == "Forward and backward pass of c"
    assert repr(stepper) == ("<Stepper 'Forward and backward pass of c': 12 frames "
                             "(4 forward, 8 backward)>")
    # a pass of its own: stepping never touches a node's grad
    assert (v["x"].grad, v["y"].grad, v["z"].grad) == (0.0, 0.0, 0.0)
    # The README's example prints this line.
    x, y, z = Value(3.0, "x"), Value(1.0, "y"), Value(2.0, "z")
    f = x * (2 * y + z)
    f.label = "f"
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"\n{viz.stepper(f)!r}\n" in readme
    backward_only = viz.stepper(c, forward=False, title="mine")
    assert next(f.kind for f in backward_only.frames) == "output_gradient"
    assert backward_only.title == "mine"


def test_each_display_is_a_component_of_its_own() -> None:
    c, _ = chain_rule_graph()
    stepper = viz.Stepper(viz.frames(c), "t")
    svgs = ['<svg viewBox="0 0 10 10"><g id="graph0"><g id="node1"></g></g></svg>'
            for _ in stepper.frames]
    first, second = stepper.html(svgs=svgs), stepper.html(svgs=svgs)
    uid = _component_id(first)
    assert uid != _component_id(second)
    ids = re.findall(r'\bid="([^"]+)"', first + second)
    assert len(ids) == len(set(ids)), "two components (or two frames) share an id"
    assert f'id="{uid}-1-graph0"' in first
    # Every CSS rule applies inside this component only.
    css = re.search(r"<style>(.*?)</style>", first, re.S).group(1)
    selectors = [s.strip() for rule in css.split("}") if "{" in rule
                 for s in rule.split("{")[0].split(",")]
    assert selectors and all(s.startswith(f"#{uid}") for s in selectors), selectors
    # Keys are heard on the component (which takes the focus), never on the document.
    script = re.search(r"<script>(.*?)</script>", first, re.S).group(1)
    assert 'root.addEventListener("keydown"' in script
    assert "document.addEventListener" not in script and "window.addEventListener(\"key" \
        not in script
    opening = first.split(">", 1)[0]
    assert opening.startswith(f'<div id="{uid}" class="bp-stepper" tabindex="0"')
    assert 'data-lm-suppress-shortcuts="true"' in opening  # JupyterLab's shortcuts stand aside
    # Only the standalone page keeps the step in the address (#3); a notebook's stays.
    assert "history.replaceState" in script and "data-page" not in opening
    assert " data-page" in stepper.html(svgs=svgs, page=True).split(">", 1)[0]
    for bad_id in ("", "1x", 'x" onload="y', "a b"):
        with pytest.raises(ValueError, match="element_id"):
            stepper.html(element_id=bad_id, svgs=svgs)


def test_every_user_string_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    x = Value(2.0, evil)
    y = Value(3.0, "y")
    f = x * y
    f.label = '"><img src=x onerror=alert(2)>'
    stepper = viz.stepper(f, title=f"{evil} & <b>")
    pictures = ["<svg></svg>"] * len(stepper)
    for text in (stepper.html(svgs=pictures), stepper.page(svgs=pictures)):
        assert evil not in text and "<img" not in text and "<b>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "&lt;img src=x onerror=alert(2)&gt;" in text
    if shutil.which("dot"):
        drawn = stepper._repr_html_()
        assert evil not in drawn and "<img" not in drawn
        frame = stepper.frames[-1]._repr_html_()
        assert evil not in frame and "<img" not in frame and "&lt;script&gt;" in frame


def test_frames_and_steps_have_short_reprs_and_rich_displays() -> None:
    c, _ = chain_rule_graph()
    frames = viz.frames(c)
    assert repr(frames[2]) == "<Frame 2: backward, 'Backward step 2 of 6: c = x·b'>"
    steps = list(viz.backward_steps(c))
    table = viz.steps_table(steps)
    assert len(table) == 6 and list(table) == steps and table[0] is steps[0]
    assert str(table) == viz.format_backward(steps)
    assert repr(table).startswith("<StepTable: 6 backward steps>\n")
    page = table._repr_html_()
    assert page.count("<tr>") == 1 + 6
    assert "<td" in page and "dc/dz = dc/db · ∂(a + z)/∂z = 3 · 1 = 3" in page
    assert "c = x·b" in page and "∂(⟨a⟩·⟨b⟩)/∂⟨b⟩ = ⟨a⟩" in page
    forward = viz.steps_table(viz.forward_steps(c))
    assert str(forward) == viz.format_forward(viz.forward_steps(c))
    assert "<td" in forward._repr_html_() and ">x·b<" in forward._repr_html_()
    assert isinstance(table[1:3], viz.StepTable) and len(table[1:3]) == 2
    assert "no steps" in viz.steps_table([])._repr_html_()
    with pytest.raises(TypeError, match="one kind"):
        viz.steps_table([*steps, *viz.forward_steps(c)])
    with pytest.raises(TypeError, match="str"):
        viz.steps_table(["not a step"])


@needs_dot
def test_a_frame_shows_its_picture() -> None:
    c, _ = chain_rule_graph()
    frame = viz.frames(c)[3]
    shown = frame._repr_html_()
    assert shown.count("<svg") == 1 and "Backward step 3 of 6" in shown
    assert frame.caption[0] in shown and "<style" not in shown and "<script" not in shown


def test_tensor_graphs_step_too() -> None:
    np = pytest.importorskip("numpy")
    from autograd import Tensor

    w = Tensor(np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]]), "W")
    x = Tensor(np.array([[1.0], [2.0], [3.0]]), "x")
    loss = (w @ x).tanh().sum()
    loss.label = "L"
    stepper = viz.stepper(loss)
    kinds = [frame.kind for frame in stepper.frames]
    assert kinds == ["forward"] * 4 + ["output_gradient"] + ["backward"] * 4 + ["done"]
    fragment = stepper.html(svgs=["<svg></svg>"] * len(stepper))
    assert "dL/dW = (dL/da) @ x.T" in fragment
    stepped = viz.final_gradients(viz.backward_steps(loss))
    np.testing.assert_allclose(stepped[w], (1 - np.tanh(w.data @ x.data) ** 2) @ x.data.T)
    assert w.grad == 0.0  # the stepper's pass is its own


def test_without_graphviz_the_notebook_shows_the_dot_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_dot(tmp_path, monkeypatch)
    c, _ = chain_rule_graph()
    stepper = viz.stepper(c)
    shown = stepper._repr_html_()  # never a traceback in the notebook
    assert shown.count('<pre class="dot">') == len(stepper) and "<svg" not in shown
    assert "Graphviz is not installed" in stepper.frames[0]._repr_html_()
    with pytest.raises(viz.GraphvizNotFoundError):
        stepper.svgs()


def test_stepper_checks_its_arguments() -> None:
    c, _ = chain_rule_graph()
    with pytest.raises(ValueError, match="no frames"):
        viz.Stepper([])
    with pytest.raises(TypeError, match="title"):
        viz.Stepper(viz.frames(c), title=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_height"):
        viz.stepper(c, max_height=10)
    with pytest.raises(TypeError, match="graph node"):
        viz.stepper(3.0)


def test_jupyter_picks_the_rich_displays() -> None:
    formatters = pytest.importorskip("IPython.core.formatters", reason="IPython not installed")
    c, _ = chain_rule_graph()
    stepper = viz.stepper(c)
    display = formatters.DisplayFormatter()
    pictures = ["<svg></svg>"] * len(stepper)
    stepper._svgs = pictures  # the pictures are not what this test is about
    for shown, plain in ((stepper, repr(stepper)), (stepper.frames[1], repr(stepper.frames[1])),
                         (viz.steps_table(viz.backward_steps(c)), None)):
        data, _ = display.format(shown)
        assert set(data) == {"text/html", "text/plain"}
        assert plain is None or data["text/plain"] == plain
        assert len(data["text/plain"].splitlines()[0]) < 100
    first = display.format(stepper)[0]["text/html"]
    assert _component_id(first) != _component_id(display.format(stepper)[0]["text/html"])


@needs_dot
def test_all_pictures_are_drawn_by_one_dot_run_of_any_size() -> None:
    import threading

    from viz.component import inline_svgs

    c, _ = chain_rule_graph()
    frames = viz.frames(c, forward=True)
    graphs = [frame.graph for frame in frames] * 8  # ~100 pictures, far over a 64 KB pipe
    result: list[list[str]] = []
    worker = threading.Thread(target=lambda: result.append(inline_svgs(graphs)), daemon=True)
    worker.start()
    worker.join(timeout=90)
    assert not worker.is_alive(), "dot and the reader blocked each other"
    pictures = result[0]
    assert len(pictures) == len(graphs) and sum(map(len, pictures)) > 256 * 1024

    def without_ids(svg: str) -> str:  # Graphviz numbers the ids of a batch apart
        return re.sub(r'\bid="[^"]*"|<title>%\d+</title>\s*', "", svg).strip()

    assert [without_ids(p) for p in pictures[: len(frames)]] == \
        [without_ids(p) for p in pictures[len(frames): 2 * len(frames)]]
    assert without_ids(pictures[3]) == without_ids(viz.svg_text(frames[3].graph, inline=True))
    assert "<?xml" not in pictures[0] and "xmlns" not in pictures[0] and "<!--" not in pictures[0]
