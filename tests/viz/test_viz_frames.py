"""Frames of the passes: the same layout and size in every frame, the flow drawn backwards."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from viz_graphs import chain_rule_graph

import viz
from autograd import Value, topological_order
from viz.steps import backward_steps, final_gradients

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` program is not installed")


def _pillow():  # type: ignore[no-untyped-def]
    return pytest.importorskip("PIL.Image", reason="Pillow (the [plot] extra) is not installed")


def test_frames_cover_every_step_and_end_with_backwards_gradients() -> None:
    c, v = chain_rule_graph()
    frames = viz.frames(c)
    n_edges = sum(len(n.parents) for n in viz.GraphNames(c).order)
    assert [f.kind for f in frames] == ["output_gradient"] + ["backward"] * n_edges + ["done"]
    assert [f.index for f in frames] == list(range(len(frames)))
    for frame in frames[1:-1]:
        step = frame.step
        assert frame.caption[0] == step.chain_rule()
        before, after = viz.format_value(step.grad_before), viz.format_value(step.grad_after)
        assert f"grad {before} → {after}" in frame.graph.source  # the receiving input
    assert frames[-1].caption == ("dc/dx = 4", "dc/dy = 6", "dc/dz = 3")
    c.backward()
    assert (v["x"].grad, v["y"].grad, v["z"].grad) == (4.0, 6.0, 3.0)


def test_frames_and_the_stepper_share_one_pass_that_never_touches_gradients() -> None:
    c, v = chain_rule_graph()
    c.backward()
    held = {n: n.grad for n in topological_order(c)}
    frames = viz.frames(c)
    assert {n: n.grad for n in topological_order(c)} == held  # drawing changed nothing
    # the done frame shows the pass from 0, the same numbers the stepper reports
    stepped = final_gradients(backward_steps(c))
    assert frames[-1].caption[0] == f"dc/dx = {viz.format_value(stepped[v['x']])}" == "dc/dx = 4"


def test_the_old_fresh_option_is_refused_with_the_reason() -> None:
    c, _ = chain_rule_graph()
    with pytest.raises(TypeError, match="never read or write"):
        viz.frames(c, fresh=False)


def test_unknown_gradients_show_question_marks_until_reached() -> None:
    c, _ = chain_rule_graph()
    frames = viz.frames(c)
    assert frames[0].graph.source.count("grad ?<") == 6  # only the output gradient is known
    assert frames[-1].graph.source.count("grad ?") == 0
    assert "? not known yet" in frames[0].graph.source  # the legend says what "?" means


def test_forward_frames_reserve_room_for_the_gradient() -> None:
    c, _ = chain_rule_graph()
    frames = viz.frames(c, forward=True)
    forward = [f for f in frames if f.kind == "forward"]
    assert len(forward) == 1 + 3  # the inputs, then a, b, c
    assert forward[0].graph.source.count("data ?<") == 3
    assert forward[-1].caption == ("c = x·b = 12",)
    assert "data ?" not in forward[-1].graph.source
    assert all(f.graph.source.count("grad ?<") == 7 for f in forward)


def test_a_backward_frame_draws_its_edge_pointing_back_with_upstream_times_local() -> None:
    c, v = chain_rule_graph()
    frames = viz.frames(c)
    names = viz.GraphNames(c)
    into_z = next(f for f in frames if f.step is not None and f.step.input is v["z"])
    edge = re.search(rf"{names.node_id(v['z'])} -> {names.node_id(v['b'])}_op \[(.*)\]",
                     into_z.graph.source).group(1)
    assert "dir=back" in edge
    assert "3 × 1 = 3" in edge  # upstream dc/db = 3, local db/dz = 1, contribution 3
    # every other edge is drawn forwards, with no text but the room kept for it
    assert into_z.graph.source.count("dir=back") == 1
    assert into_z.graph.source.count(" × ") == 1


def test_every_frame_has_the_same_layout_whatever_its_text() -> None:
    c, _ = chain_rule_graph()
    frames = viz.frames(c, forward=True)

    def skeleton(source: str) -> str:
        # what decides the layout: nodes, edges and reserved sizes, not the words
        source = re.sub(r"<[^<>]*>", "", re.sub(r'(WIDTH|HEIGHT)="\d+"', r"\g<0>", source))
        return re.sub(r"(label|tooltip|color|fillcolor|penwidth|dir|fontcolor)=\S+", "", source)

    def sizes(source: str) -> list[str]:
        return re.findall(r'(?:WIDTH|HEIGHT)="\d+"', source)

    first = frames[0].titled_graph().source
    for frame in frames[1:]:
        assert sizes(frame.titled_graph().source) == sizes(first)
        assert re.findall(r"\bn\d+(?:_op)?\b", frame.graph.source) == re.findall(
            r"\bn\d+(?:_op)?\b", frames[0].graph.source)


@needs_dot
def test_dot_places_every_node_of_every_frame_at_the_same_spot() -> None:
    from viz.dot import pipe

    x = Value(0.5, "x")
    f = (x * x - x / 3).tanh() + 2 * x
    f.label = "f"
    frames = viz.frames(f, forward=True)

    def layout(graph) -> list[tuple[str, float, float]]:  # type: ignore[no-untyped-def]
        plain = pipe(graph, "plain").decode("utf-8").splitlines()
        return [(words[1], float(words[2]), float(words[3])) for words in map(str.split, plain)
                if words[0] in ("graph", "node")]

    first = layout(frames[0].titled_graph())
    assert len(first) == 1 + 9 + 6  # the graph, 9 values (x, 3, 2 and six results), 6 ops
    for frame in frames[1:]:
        # the same spots, to a hundredth of an inch (an arrowhead drawn at the other end
        # of the current edge can move the bounding box by a tenth of a point)
        for (name, x, y), (other, x2, y2) in zip(first, layout(frame.titled_graph())):
            assert name == other and abs(x - x2) < 0.01 and abs(y - y2) < 0.01


@needs_dot
def test_frames_render_to_pngs_of_one_size(tmp_path: Path) -> None:
    image = _pillow()
    c, _ = chain_rule_graph()
    paths = viz.write_frames(viz.frames(c, forward=True), tmp_path, format="png")
    assert len({image.open(p).size for p in paths}) == 1
    x = Value(0.5, "x")
    f = (x * x - x / 3).tanh()  # a shared input, long numbers
    f.label = "f"
    paths = viz.write_frames(viz.frames(f, forward=True), tmp_path / "g", format="png")
    assert len({image.open(p).size for p in paths}) == 1


@needs_dot
def test_hover_text_names_values_never_internal_ids() -> None:
    c, _v = chain_rule_graph()
    c.backward()
    svg = viz.svg_text(c)
    assert "<title>" not in svg
    titles = re.findall(r'xlink:title="([^"]*)"', svg)
    assert titles and not any(re.search(r"\bn\d+", t) for t in titles)
    assert "x (input): data 3, grad 4" in titles
    assert "c = x·b (op mul)" in titles


def test_constants_are_drawn_by_value_and_the_legend_names_every_role() -> None:
    c, _ = chain_rule_graph()
    frame = viz.frames(c)[0]
    assert "<B>2</B>" in frame.graph.source  # the 2 of 2*y is labelled with its value
    for key in ("input", "parameter", "constant", "output", "current node",
                "receiving input"):
        assert f">{key}<" in frame.graph.source


def test_edge_labels_only_where_operand_order_matters() -> None:
    x, y = Value(3.0, "x"), Value(2.0, "y")
    for expression, labelled in ((x * y, False), (x + y, False), (x - y, True),
                                 (x / y, True), (x ** y, True)):
        source = viz.draw(expression).source
        assert ('taillabel="1st"' in source and 'taillabel="2nd"' in source) is labelled
        assert "headlabel" not in source


def test_tensor_records_show_name_shape_and_a_summary() -> None:
    np = pytest.importorskip("numpy")
    from autograd import Tensor

    w = Tensor(np.arange(40.0).reshape(8, 5), "W")
    loss = (w * w).mean()
    loss.label = "loss"
    source = viz.draw(loss).source
    assert "W  8×5" in source and "data mean 19.5 in [0, 39]" in source
    assert "rankdir=TB" in source  # arrays stack: a network fits a page
    assert "39]" in source and "38" not in source  # a summary, not the whole array


@needs_dot
def test_write_frames_removes_its_stale_frames_only(tmp_path: Path) -> None:
    c, _ = chain_rule_graph()
    long_run = viz.frames(c, forward=True)
    viz.write_frames(long_run, tmp_path, format="svg")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "frame_final.svg").write_text("mine too")
    x = Value(2.0, "x")
    short = viz.frames(x * 3)
    written = viz.write_frames(short, tmp_path, format="svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [p.name for p in written] + ["notes.txt", "frame_final.svg"])


@needs_dot
def test_dpi_scales_a_png(tmp_path: Path) -> None:
    image = _pillow()
    c, _ = chain_rule_graph()
    small = image.open(viz.render(c, tmp_path / "a.png", dpi=48)).size
    large = image.open(viz.render(c, tmp_path / "b.png", dpi=192)).size
    assert 3.5 < large[0] / small[0] < 4.5
    with pytest.raises(ValueError, match="dpi"):
        viz.render(c, tmp_path / "c.png", dpi=10_000)


@needs_dot
def test_an_animated_gif_of_the_frames(tmp_path: Path) -> None:
    image = _pillow()
    c, _ = chain_rule_graph()
    frames = viz.frames(c, forward=True)
    path = viz.write_gif(frames, tmp_path / "steps.gif", seconds_per_frame=0.5)
    gif = image.open(path)
    assert gif.format == "GIF" and gif.n_frames == len(frames)
    assert gif.info["duration"] == 500
    with pytest.raises(ValueError, match="seconds"):
        viz.write_gif(frames, tmp_path / "x.gif", seconds_per_frame=0)
    with pytest.raises(ValueError, match="no frames"):
        viz.write_gif([], tmp_path / "x.gif")


def test_a_frame_displays_as_its_picture_and_reprs_briefly() -> None:
    c, _ = chain_rule_graph()
    frame = viz.frames(c)[1]
    assert repr(frame) == "<Frame 1: backward, 'Backward step 1 of 6: c = x·b'>"
    assert "Backward step 1 of 6" in frame._repr_html_()


def _tensor_mlp_loss():  # type: ignore[no-untyped-def]
    np = pytest.importorskip("numpy")
    import mlp
    from mlp import losses

    model = mlp.MLP(4, [16, 16, 3], engine="tensor", seed=0)
    inputs = np.random.default_rng(0).normal(size=(32, 4))
    loss = losses.cross_entropy(model.forward_batch(inputs, logits=True), np.arange(32) % 3)
    loss.label = "loss"
    return loss, model


@needs_dot
def test_a_tensor_mlps_graph_fits_a_page_and_its_frames_share_one_size(tmp_path: Path) -> None:
    image = _pillow()
    loss, model = _tensor_mlp_loss()
    loss.backward()
    width, height = image.open(viz.render(loss, tmp_path / "mlp.png", parameters=model)).size
    # about a page at 96 dpi (a 3,800 px wide strip before): neither side runs away
    assert width <= 1800 and height <= 1800, (width, height)
    frames = viz.frames(loss, parameters=model)
    paths = viz.write_frames(frames[:: max(1, len(frames) // 5)], tmp_path / "f", format="png",
                             dpi=40)
    assert len({image.open(p).size for p in paths}) == 1
