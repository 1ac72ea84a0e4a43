"""A fused ReLU neuron (one node, for speed) is drawn and stepped as z and its activation."""

from __future__ import annotations

import viz
from autograd import topological_order
from mlp import MLP
from mlp.losses import cross_entropy


def test_drawings_and_steppers_show_z_and_a_with_the_same_numbers() -> None:
    model = MLP(2, [3, 2], activation="relu", output="softmax", seed=4)
    logits = model.forward_batch([[0.5, -1.0]], logits=True)[0]
    loss = cross_entropy(logits, 1)
    assert any(n.op is not None and n.op.name == "relu_linear"
               for n in topological_order(loss))
    loss.backward()
    source = viz.draw(loss).source
    for j in range(3):
        assert f"L0.N{j}.z" in source and f"L0.N{j}.a" in source
    assert "relu_linear" not in source
    steps = list(viz.backward_steps(loss))
    assert {s.node.op.name for s in steps} >= {"linear", "relu"}
    stepped = viz.final_gradients(steps)
    for p in model.parameters():
        assert stepped[p] == p.grad  # the same numbers, bit for bit
    assert "L0.N0.z" in viz.tree(loss) and "L0.N0.z" in viz.table(loss)
    forward = [s.name for s in viz.forward_steps(loss)]
    assert "L0.N1.z" in forward and "L0.N1.a" in forward
