"""Plain-text views: the tree and the table."""

from __future__ import annotations

import pytest
from viz_graphs import chain_rule_graph

import viz
from autograd import Value


def test_tree_of_the_chain_rule_example() -> None:
    c, _ = chain_rule_graph()
    c.backward()
    assert viz.tree(c).splitlines() == [
        "c = x·b   data 12  grad 1",
        "├── x   data 3  grad 4",
        "└── b = a + z   data 4  grad 3",
        "    ├── a = 2·y   data 2  grad 3",
        "    │   ├── 2 (constant)   data 2  grad 3",
        "    │   └── y   data 1  grad 6",
        "    └── z   data 2  grad 3",
    ]
    assert "grad" not in viz.tree(c, show_grads=False)


def test_shared_results_are_expanded_once() -> None:
    x = Value(2.0, "x")
    h = x * x
    h.label = "h"
    f = h + h * h
    text = viz.tree(f)
    assert text.count("h = x·x") == 1
    assert text.count("h   (shown above)") == 2


def test_a_long_chain_needs_no_recursion_and_is_cut() -> None:
    x = Value(0.5, "x")
    y = x
    for _ in range(5000):
        y = y * 1.0
    text = viz.tree(y, max_depth=10)
    lines = text.splitlines()
    assert sum(line.endswith("└── ...") for line in lines) == 1
    assert len(lines) == 1 + 10 * 2 + 1  # root, 10 levels of (result, constant), the cut


def test_table_lists_every_node_in_forward_order() -> None:
    c, _ = chain_rule_graph()
    c.backward()
    lines = viz.table(c).splitlines()
    assert lines[0].split() == ["#", "node", "computed", "as", "data", "grad"]
    rows = [line.split() for line in lines[2:]]
    names = viz.GraphNames(c)
    assert [r[1] for r in rows] == [names[n] for n in names.order]  # the forward order
    assert sorted(r[1] for r in rows) == ["2", "a", "b", "c", "x", "y", "z"]
    assert rows[-1] == ["7", "c", "x·b", "12", "1"]
    assert next(r for r in rows if r[1] == "b")[2:] == ["a", "+", "z", "4", "3"]
    assert viz.to_text(c, "table") == viz.table(c)
    assert viz.to_text(c) == viz.tree(c)
    with pytest.raises(ValueError, match="style"):
        viz.to_text(c, "graph")
