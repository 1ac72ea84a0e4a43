"""Drawing (DOT text) and rendering (files through Graphviz's `dot`)."""

from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path

import graphviz
import pytest
from viz_graphs import chain_rule_graph

import autograd
import viz
from autograd import Value, topological_order
from viz.dot import ROLE_COLORS, group_by_label, infer_groups
from viz.naming import GraphNames

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


def _node_lines(source: str) -> dict[str, str]:
    """DOT node id -> its statement line."""
    lines = {}
    for line in source.splitlines():
        m = re.match(r"\s*(\w+) \[", line)
        if m and m.group(1) not in ("node", "edge", "graph"):
            lines[m.group(1)] = line
    return lines


def _edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+)", source, flags=re.M)


def test_chain_rule_graph_structure() -> None:
    c, v = chain_rule_graph()
    c.backward()
    dot = viz.draw(c)
    assert isinstance(dot, graphviz.Digraph)
    nodes = _node_lines(dot.source)
    order = topological_order(c)
    interior = [n for n in order if n.parents]
    # one record per value, one op node per op result
    assert len(nodes) == len(order) + len(interior)
    assert sum(1 for k in nodes if k.endswith("_op")) == len(interior)
    # inputs -> op, and op -> result
    assert len(_edges(dot.source)) == sum(len(n.parents) for n in order) + len(interior)
    names = GraphNames(c)
    b_line = nodes[names.node_id(v["b"])]
    assert "<B>b</B>" in b_line and "data 4" in b_line and "grad 3" in b_line
    assert 'label="+"' in nodes[names.node_id(v["b"]) + "_op"]
    assert 'label="*"' in nodes[names.node_id(c) + "_op"]
    assert "rankdir=LR" in dot.source


def test_same_graph_same_text() -> None:
    first = viz.draw(chain_rule_graph()[0]).source
    second = viz.draw(chain_rule_graph()[0]).source  # new objects, different ids
    assert first == second
    assert re.findall(r"\bn\d+\b", first)  # ids are topological positions


def test_options() -> None:
    c, v = chain_rule_graph()
    c.backward()
    assert "rankdir=TB" in viz.draw(c, rankdir="TB").source
    assert "grad" not in viz.draw(c, show_grads=False).source
    assert "data 12.00" in viz.draw(c, number_format=".2f").source
    names = GraphNames(c)
    lines = _node_lines(viz.draw(c, highlight=[v["z"]]).source)
    assert '<TABLE COLOR="#d6336c"' in lines[names.node_id(v["z"])]
    assert '<TABLE COLOR="white"' in lines[names.node_id(v["x"])]  # same border, unseen
    colored = _node_lines(viz.draw(c, highlight={v["x"]: "#123456"},
                                   highlight_edges={(c, 0): "#654321"}).source)
    assert "#123456" in colored[names.node_id(v["x"])]
    assert re.search(r"n0 -> n6_op \[.*#654321", viz.draw(
        c, highlight_edges={(c, 0): "#654321"}).source)
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw(c, rankdir="up")
    with pytest.raises(TypeError, match="graph node"):
        viz.draw("x*y")


def test_roles_are_coloured() -> None:
    c, v = chain_rule_graph()
    names = GraphNames(c)
    lines = _node_lines(viz.draw(c, parameters=[v["y"]]).source)
    assert ROLE_COLORS["output"] in lines[names.node_id(c)]
    assert ROLE_COLORS["parameter"] in lines[names.node_id(v["y"])]
    assert ROLE_COLORS["input"] in lines[names.node_id(v["x"])]
    constant = next(n for n in names.order if not n.parents and not n.label)
    assert ROLE_COLORS["constant"] in lines[names.node_id(constant)]
    by_predicate = _node_lines(viz.draw(c, parameters=lambda n: n.label == "x").source)
    assert ROLE_COLORS["parameter"] in by_predicate[names.node_id(v["x"])]

    class Model:
        def parameters(self) -> list[Value]:
            return [v["z"]]

    by_model = _node_lines(viz.draw(c, parameters=Model()).source)
    assert ROLE_COLORS["parameter"] in by_model[names.node_id(v["z"])]
    assert ROLE_COLORS["parameter"] not in by_model[names.node_id(v["y"])]
    plain = viz.draw(c, colors=False).source
    assert not any(color in plain for color in ROLE_COLORS.values() if color != "#ffffff")


def test_values_and_grads_can_be_given_unknown_shows_question_mark() -> None:
    c, v = chain_rule_graph()
    names = GraphNames(c)
    lines = _node_lines(viz.draw(c, grads={c: 1.0}, values={v["x"]: 3.0}).source)
    assert "grad 1" in lines[names.node_id(c)] and "data ?" in lines[names.node_id(c)]
    assert "data 3" in lines[names.node_id(v["x"])] and "grad ?" in lines[names.node_id(v["x"])]


def test_labels_are_escaped(tmp_path: Path) -> None:
    x = Value(1.0, 'x<&>"y')
    f = x * 2
    source = viz.draw(f).source
    assert "x&lt;&amp;&gt;&quot;y" in source
    if shutil.which("dot"):
        assert b"<svg" in viz.render(f, tmp_path / "escaped.svg").read_bytes()


def _labelled_mlp(fused: bool) -> tuple[Value, list[Value]]:
    """A 2-3-1 network labelled the way `mlp` labels its parameters and sums."""
    rng = random.Random(0)
    xs: list[Value] = [Value(0.5), Value(-1.0)]  # inputs given as numbers: unlabelled leaves
    params = []
    acts = xs
    for layer, width in enumerate([3, 1]):
        new = []
        for j in range(width):
            prefix = f"L{layer}.N{j}"
            w = [Value(rng.uniform(-1, 1), f"{prefix}.w{i}") for i in range(len(acts))]
            b = Value(0.0, f"{prefix}.b")
            params += [*w, b]
            if fused:
                z = autograd.linear(w, acts, b)
            else:
                z = w[0] * acts[0]
                for wi, xi in zip(w[1:], acts[1:]):
                    z = z + wi * xi
                z = z + b
            z.label = f"{prefix}.z"
            a = z.tanh()
            a.label = f"{prefix}.a"
            new.append(a)
        acts = new
    loss = (acts[0] - 1.0) ** 2
    loss.label = "loss"
    return loss, params


@pytest.mark.parametrize("fused", [True, False])
def test_collapse_per_neuron_and_per_layer(fused: bool) -> None:
    loss, params = _labelled_mlp(fused)
    loss.backward()
    names = GraphNames(loss)
    per_neuron = infer_groups(names, "neuron")
    assert set(per_neuron.values()) == {"L0.N0", "L0.N1", "L0.N2", "L1.N0"}
    assert all(per_neuron[p] == p.label.rsplit(".", 1)[0] for p in params)
    # the unlabelled products and sums inside a neuron join it; the loss does not
    assert all(n in per_neuron for n in names.order if n.label.endswith((".z", ".a")))
    assert loss not in per_neuron
    neuron_source = viz.draw(loss, collapse="neuron").source
    groups = [k for k in _node_lines(neuron_source) if re.fullmatch(r"g\d+", k)]
    assert len(groups) == 4
    assert "L0.N1.w0" not in neuron_source  # parameters are inside their neuron's box
    assert "<B>L1.N0</B>" in neuron_source and "loss" in neuron_source
    layer_source = viz.draw(loss, collapse="layer").source
    boxes = {re.search(r"<B>(L\d)</B>", line).group(1): k
             for k, line in _node_lines(layer_source).items() if re.fullmatch(r"g\d+", k)}
    assert sorted(boxes) == ["L0", "L1"]
    # three neurons' outputs flow from layer 0 into layer 1 as one edge
    assert re.search(rf'{boxes["L0"]} -> {boxes["L1"]} \[label="×3"', layer_source)
    # the inputs stay outside, each feeding the first layer
    assert len(re.findall(rf"n\d+ -> {boxes['L0']}\b", layer_source)) == 2
    full = viz.draw(loss).source
    assert len(layer_source) < len(neuron_source) < len(full)


@pytest.mark.parametrize("fused", [True, False])
def test_collapse_an_mlp_model(fused: bool) -> None:
    """The labels `mlp` gives (L{layer}.N{neuron}.w{i}, .b, .z, .a) are what collapsing reads."""
    nn = pytest.importorskip("mlp.nn")
    model = nn.MLP(2, [3, 2, 1], seed=0, fused=fused)
    out = model([Value(0.5, "x0"), Value(-1.0, "x1")])
    loss = (out - 1.0) ** 2
    params = list(model.parameters())
    neurons = {p.label.rsplit(".", 1)[0] for p in params}
    layers = {p.label.split(".", 1)[0] for p in params}
    names = GraphNames(loss)
    assert set(infer_groups(names, "neuron").values()) == neurons
    assert set(infer_groups(names, "layer").values()) == layers
    by_neuron = viz.draw(loss, collapse="neuron", parameters=model).source
    assert len(re.findall(r"^\s*g\d+ \[", by_neuron, flags=re.M)) == len(neurons) == 6
    assert not any(p.label in by_neuron for p in params)
    # the boxes are listed (and, with ordering=in, stacked) in the neurons' natural order
    listed = re.findall(r"<B>(L\d+\.N\d+)</B>", by_neuron)
    assert listed == sorted(neurons) and "ordering=in" in by_neuron
    assert "1 op, " in by_neuron or fused is False  # the output neuron: one fused linear op


def test_custom_grouping() -> None:
    c, v = chain_rule_graph()
    mapping = {v["a"]: "inner", v["b"]: "inner", v["y"]: "inner"}
    source = viz.draw(c, collapse=mapping).source
    assert "<B>inner</B>" in source and "<B>a</B>" not in source
    by_callable = viz.draw(c, collapse=lambda n: "inner" if n in mapping else None).source
    assert by_callable == source
    with pytest.raises(ValueError, match="collapse"):
        viz.draw(c, collapse="row")
    with pytest.raises(ValueError, match="depth"):
        group_by_label(0)


def test_group_by_label_rules() -> None:
    group = group_by_label(2)
    leaf, inner = Value(1.0, "L0.N3.w1"), Value(1.0, "x")
    assert group(leaf) == "L0.N3"
    assert group(inner) is None
    out = leaf * 2
    out.label = "L0.N3"
    assert group(out) == "L0.N3"  # an op result may be named by its group alone
    assert group_by_label(1)(Value(1.0, "x")) is None  # a plain input is never grouped


def test_tensor_nodes_show_shape_summaries() -> None:
    np = pytest.importorskip("numpy")
    tensor = pytest.importorskip("autograd.tensor")
    weights = tensor.Tensor(np.arange(12.0).reshape(3, 4), "W")
    loss = (weights * 2.0).sum()
    loss.backward()
    source = viz.draw(loss).source
    assert "a  3×4" in source and "mean 11 in [0, 22]" in source
    assert "[[2, 2, 2, 2]" not in source  # 12 numbers are summarized, not listed


# -- rendering ---------------------------------------------------------------------------


@needs_dot
@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<svg"), (".png", b"\x89PNG"),
                                               (".pdf", b"%PDF"), (".dot", b"digraph")])
def test_render_by_extension(tmp_path: Path, suffix: str, magic: bytes) -> None:
    c, _ = chain_rule_graph()
    path = viz.render(c, tmp_path / f"graph{suffix}")
    assert magic in path.read_bytes()[:400]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"graph{suffix}"]  # no temp files


@needs_dot
def test_render_replaces_atomically_and_accepts_a_digraph(tmp_path: Path) -> None:
    c, _ = chain_rule_graph()
    target = tmp_path / "sub" / "graph.svg"
    viz.render(c, target)
    first = target.read_bytes()
    viz.render(viz.draw(c, rankdir="TB"), target)
    assert target.read_bytes() != first
    with pytest.raises(TypeError, match="drawing options"):
        viz.render(viz.draw(c), target, rankdir="TB")


def test_render_rejects_unknown_extensions(tmp_path: Path) -> None:
    c, _ = chain_rule_graph()
    with pytest.raises(ValueError, match="extensions"):
        viz.render(c, tmp_path / "graph.jpeg2000")
    assert list(tmp_path.iterdir()) == []


def test_missing_dot_writes_the_dot_text_and_says_how_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    c, _ = chain_rule_graph()
    target = tmp_path / "graph.svg"
    target.write_text("old picture")
    with pytest.raises(viz.GraphvizNotFoundError) as info:
        viz.render(c, target)
    error = info.value
    assert not isinstance(error, graphviz.ExecutableNotFound)
    message = str(error)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert hint in message
    assert error.dot_path == tmp_path / "graph.dot"
    assert error.dot_path.read_text() == viz.draw(c).source == error.dot_source
    assert target.read_text() == "old picture"  # nothing half-written
    with pytest.raises(viz.GraphvizNotFoundError):
        viz.svg_text(c)
    # .dot needs no Graphviz program at all
    assert viz.render(c, tmp_path / "only.dot").read_text().startswith("digraph")
    assert os.environ["PATH"] == str(empty)


def test_the_drawing_itself_explains_a_missing_graphviz(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Jupyter shows a drawing through _repr_mimebundle_, and users call .pipe/.render on it:
    none of them may end in graphviz's bare ExecutableNotFound."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    c, _ = chain_rule_graph()
    drawing = viz.draw(c)
    assert isinstance(drawing, viz.Drawing) and isinstance(drawing, graphviz.Digraph)
    bundle = drawing._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "apt-get install graphviz" in bundle["text/plain"]
    assert drawing.source in bundle["text/plain"]
    with pytest.raises(viz.GraphvizNotFoundError) as piped:
        drawing.pipe(format="png")
    assert piped.value.dot_source == drawing.source
    with pytest.raises(viz.GraphvizNotFoundError) as rendered:
        drawing.render(tmp_path / "graph", format="svg")
    assert rendered.value.dot_path == tmp_path / "graph"
    assert (tmp_path / "graph").read_text() == drawing.source
    assert isinstance(drawing.copy(), viz.Drawing)


@needs_dot
def test_the_drawing_displays_as_svg_in_jupyter() -> None:
    bundle = viz.draw(chain_rule_graph()[0])._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"] and "<svg" in bundle["image/svg+xml"]


@pytest.mark.parametrize("module_name", ["viz", "viz.dot", "viz.steps", "viz.pages", "viz.text",
                                         "viz.expr", "viz.naming", "viz.__main__"])
def test_every_public_function_has_a_docstring_and_type_hints(module_name: str) -> None:
    import importlib
    import inspect
    import typing

    module = importlib.import_module(module_name)
    checked = 0
    for name in module.__all__:
        obj = getattr(module, name)
        if not callable(obj) or isinstance(obj, dict):
            continue
        assert inspect.getdoc(obj), name
        functions = [obj] if inspect.isfunction(obj) else [
            member for member_name, member in vars(obj).items()
            if inspect.isfunction(member) and not member_name.startswith("_")]
        for function in functions:
            assert inspect.getdoc(function), (name, function.__name__)
            hints = typing.get_type_hints(function)
            params = [p for p in inspect.signature(function).parameters.values()
                      if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"]
            assert "return" in hints, (name, function.__name__)
            assert all(p.name in hints for p in params), (name, function.__name__)
            checked += 1
    assert checked


def test_drawing_is_deterministic_across_processes() -> None:
    """Same graph, same DOT text: across hash seeds (set order) and repeated calls."""
    import subprocess
    import sys

    script = (
        "import viz\n"
        "from demos.chain_rule import build\n"
        "from mlp import MLP\n"
        "c, _ = build(3.0, 1.0, 2.0)\n"
        "c.backward()\n"
        "m = MLP(2, [3, 1], seed=0)\n"
        "out = m([0.5, -1.0])\n"
        "out.backward()\n"
        "print(viz.draw(c).source)\n"
        "print(viz.draw(out).source)\n"
        "print(viz.draw(out, collapse='neuron').source)\n"
        "assert viz.draw(out).source == viz.draw(out).source\n"
    )
    outputs = []
    for hash_seed in ("0", "1", "12345"):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "PYTHONHASHSEED": hash_seed})
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert "digraph" in outputs[0]
