"""Every string that reaches DOT, SVG or HTML is escaped or refused: labels, titles, group
names, colours, number formats, captions."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import viz
from autograd import Value

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` program is not installed")

HOSTILE = ['<b>x</b>', 'q"uote', "back\\slash\\N\\G\\l", "two\nlines", "]]>", "&amp;",
           "<!--", "}", "label=evil];", "<script>alert(1)</script>", "\\", "ｘ", "a\tb"]


def _graph() -> tuple[Value, list[Value]]:
    leaves = [Value(float(k + 1), label) for k, label in enumerate(HOSTILE)]
    total = leaves[0]
    for leaf in leaves[1:]:
        total = total * leaf + leaf
    total.label = "<out>"
    return total, leaves


def _check_svg(svg: str) -> None:
    ET.fromstring(svg)  # well-formed: nothing broke out of its attribute or text
    assert "<script" not in svg and "<b>" not in svg
    assert "alert(1)" in svg  # the text itself is kept, escaped
    assert not any(f">{name}<" in svg for name in ("n0", "n1", "n5_op"))  # \N expanded nowhere


def test_hostile_labels_and_titles_are_escaped_in_the_dot_text() -> None:
    root, leaves = _graph()
    groups = {leaf: text for leaf, text in zip(leaves, reversed(HOSTILE))}
    for drawing in (viz.draw(root, title="<title>\\N & \"more\""),
                    viz.draw(root, collapse=groups), *[f.titled_graph() for f in viz.frames(root)]):
        labels = re.findall(r"label=(<<.*?>>)", drawing.source, flags=re.S)
        assert labels and not any("<script>" in label or "<b>x</b>" in label
                                  for label in labels)
        assert any("&lt;script&gt;" in label for label in labels)


def test_a_label_that_looks_like_html_is_still_a_quoted_string() -> None:
    # the graphviz package leaves "<...>" unquoted (an HTML label): a tooltip "<a> → <b>"
    # would then be DOT text of the user's making
    x = Value(2.0, "<script>alert(1)</script>")
    f = x * 3
    f.label = '"><img src=x onerror=alert(2)>'
    for frame in viz.frames(f, forward=True):
        assert "tooltip=<" not in frame.graph.source
        assert re.search(r'tooltip="<script>alert\(1\)</script> → ', frame.graph.source)
    if shutil.which("dot"):
        _check_svg(viz.svg_text(viz.frames(f)[1].graph))


@needs_dot
def test_hostile_strings_render_to_well_formed_svg_and_html(tmp_path: Path) -> None:
    root, leaves = _graph()
    _check_svg(viz.svg_text(root, title="<title>\\N & \"more\""))
    _check_svg(viz.svg_text(root, collapse={leaf: text for leaf, text in zip(leaves, HOSTILE)}))
    frames = viz.frames(root, forward=True)
    for frame in (frames[0], frames[len(frames) // 2], frames[-1]):
        _check_svg(viz.svg_text(frame.titled_graph()))
    page = viz.write_html(frames[:3], tmp_path / "p.html", title="</title><script>x</script>")
    text = page.read_text(encoding="utf-8")
    assert "</title><script>x</script>" not in text and "alert(1)</script>" not in text


@pytest.mark.parametrize("color", ["red", "#12345", "#1234567", '#123456"', "#12345g",
                                   "#123456; x", "\\N", "", None, 5])
def test_highlight_colours_must_be_hex(color: object) -> None:
    root, leaves = _graph()
    with pytest.raises(ValueError, match="colour"):
        viz.draw(root, highlight={leaves[0]: color})
    with pytest.raises(ValueError, match="colour"):
        viz.draw(root, highlight_edges={(root, 0): color})
    viz.draw(root, highlight={leaves[0]: "#AbCdEf"})


@pytest.mark.parametrize("spec", ["\\", "\\n>10", "<>\\", ">1000", ".99f", "{0}", "%%", "\x00f"])
def test_hostile_number_formats_are_refused(spec: str) -> None:
    root, _ = _graph()
    with pytest.raises(ValueError, match="number format"):
        viz.draw(root, number_format=spec)
    with pytest.raises(ValueError, match="number format"):
        viz.frames(root, number_format=spec)


def test_bad_rankdir_is_refused_with_a_short_message() -> None:
    root, _ = _graph()
    with pytest.raises(ValueError, match="rankdir") as error:
        viz.draw(root, rankdir="LR]; evil [" * 100)
    assert len(str(error.value)) < 120
