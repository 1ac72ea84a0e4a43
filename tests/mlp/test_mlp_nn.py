"""Neuron, Layer, MLP: construction, labels, forward, gradients against central differences."""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N806

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd
from autograd import Value, gradcheck, topological_order, unfuse
from mlp import MLP, Layer, ModelFormatError, Neuron, TensorLayer
from mlp.losses import LOSSES, cross_entropy, mean

# -- construction ----------------------------------------------------------------------------


def test_shape_parameter_count_and_repr() -> None:
    model = MLP(4, [16, 16, 3], activation="relu", output="softmax", seed=0)
    assert model.n_inputs == 4 and model.n_outputs == 3 and model.layer_sizes == [16, 16, 3]
    assert model.n_parameters == len(model.parameters()) == 16 * 5 + 16 * 17 + 3 * 17
    assert repr(model) == ("MLP(4 -> 16 -> 16 -> 3, activation=relu, output=softmax, "
                           "403 parameters)")
    assert "total 403 parameters" in model.summary()
    assert "L2" in model.summary() and "softmax (out)" in model.summary()
    assert repr(model.layers[0]) == "ValueLayer(L0: 4 -> 16, relu, 80 parameters)"
    assert repr(model.layers[0].neurons[2]) == "Neuron(L0.N2: 4 inputs, relu)"
    assert len(model) == 3 and list(model) == model.layers


def test_parameter_labels_say_layer_neuron_and_input() -> None:
    model = MLP(3, [2, 1], seed=0)
    labels = [p.label for p in model.parameters()]
    assert labels == [
        "L0.N0.w0", "L0.N0.w1", "L0.N0.w2", "L0.N0.b",
        "L0.N1.w0", "L0.N1.w1", "L0.N1.w2", "L0.N1.b",
        "L1.N0.w0", "L1.N0.w1", "L1.N0.b",
    ]
    assert list(model.named_parameters()) == labels
    assert [w.label for w in model.weights()] == [lb for lb in labels if ".w" in lb]
    assert [b.label for b in model.biases()] == ["L0.N0.b", "L0.N1.b", "L1.N0.b"]


@pytest.mark.parametrize("fused", [True, False])
def test_sums_and_activations_are_labelled(fused: bool) -> None:
    model = MLP(2, [2, 2], output="softmax", seed=0, fused=fused)
    out = model([0.5, -1.0])
    labels = {n.label for n in topological_order(out[0])}
    # A fused ReLU neuron is one node labelled with its activation; unfuse splits it into
    # z and a again, as the drawings and steppers show it.
    hidden = {"L0.N0.z", "L0.N0.a", "L0.N1.z", "L0.N1.a"}
    assert (hidden & labels == {"L0.N0.a", "L0.N1.a"}) if fused else hidden <= labels
    split = {n.label for n in topological_order(unfuse(out[0]))}
    assert {*hidden, "L1.N0.z", "L1.N1.z"} <= split
    assert [v.label for v in out] == ["out0", "out1"]


def test_a_fused_model_gives_the_numbers_of_its_unfused_graph_bit_for_bit() -> None:
    X = np.random.default_rng(3).normal(size=(6, 3))
    model = MLP(3, [5, 4, 2], activation="relu", output="softmax", seed=1)
    loss = mean([cross_entropy(z, int(k % 2)) for k, z in
                 enumerate(model.forward_batch(X, logits=True))])
    assert any(n.op is not None and n.op.name == "relu_linear"
               for n in topological_order(loss))
    loss.backward()
    fused = [p.grad for p in model.parameters()]
    split = unfuse(loss)
    model.zero_grad()
    split.backward()
    assert split.data == loss.data
    assert [p.grad for p in model.parameters()] == fused
    # and op by op (every product) agrees to rounding
    slow = MLP(3, [5, 4, 2], activation="relu", output="softmax", seed=1, fused=False)
    slow_loss = mean([cross_entropy(z, int(k % 2)) for k, z in
                      enumerate(slow.forward_batch(X, logits=True))])
    slow_loss.backward()
    assert [p.grad for p in slow.parameters()] == pytest.approx(fused, rel=1e-12, abs=1e-15)


def test_same_seed_same_model_and_different_seed_differs() -> None:
    a, b, c = MLP(3, [4, 2], seed=7), MLP(3, [4, 2], seed=7), MLP(3, [4, 2], seed=8)
    data = lambda m: [p.data for p in m.parameters()]
    assert data(a) == data(b)
    assert data(a) != data(c)


@pytest.mark.parametrize(
    ("init", "activation", "expected_std"),
    [("he", "relu", math.sqrt(2 / 200)), ("auto", "relu", math.sqrt(2 / 200)),
     ("xavier", "tanh", math.sqrt(2 / 300)), ("auto", "tanh", math.sqrt(2 / 300)),
     ("glorot", "sigmoid", math.sqrt(2 / 300)),
     ("he_uniform", "relu", math.sqrt(6 / 200) / math.sqrt(3)),
     ("xavier_uniform", "tanh", math.sqrt(6 / 300) / math.sqrt(3)),
     ("uniform", "relu", 1 / math.sqrt(3))],
)
def test_initializers_have_their_spread(init: str, activation: str, expected_std: float) -> None:
    layer = Layer(200, 100, activation, init=init, seed=0)
    w = np.array([p.data for n in layer.neurons for p in n.w])
    assert abs(w.mean()) < 0.05 * expected_std * 10
    assert w.std() == pytest.approx(expected_std, rel=0.03)
    assert all(n.b.data == 0.0 for n in layer.neurons)
    if init.endswith("uniform"):
        assert np.abs(w).max() <= expected_std * math.sqrt(3)


def test_micrograd_style_use_keeps_working() -> None:
    """micrograd's API: MLP(nin, nouts), Neuron(nin, nonlin=False), a Value for 1 output."""
    model = MLP(3, [4, 4, 1])
    out = model([2.0, 3.0, -1.0])
    assert isinstance(out, Value)
    assert model.layers[-1].activation == "linear" and model.layers[0].activation == "relu"
    out.backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    assert Neuron(3, nonlin=False).activation == "linear"
    assert Neuron(3, False).activation == "linear"  # micrograd's Neuron(nin, nonlin)
    assert Neuron(3, True).activation == "relu"
    assert Layer(2, 3, False).activation == "linear"
    assert TensorLayer(2, 3, False).activation == "linear"
    with pytest.raises(TypeError, match="nonlin given twice"):
        Neuron(3, False, nonlin=False)
    with pytest.raises(TypeError, match=r"activation .* or nonlin, not both"):
        Layer(2, 3, "tanh", nonlin=True)
    with pytest.raises(TypeError, match="nonlin must be True or False, got int"):
        Neuron(3, nonlin=0)  # type: ignore[arg-type]
    assert Layer(2, 3, nonlin=False).activation == "linear"
    assert isinstance(Layer(2, 1)([1.0, 2.0]), Value)
    assert len(Layer(2, 3)([1.0, 2.0])) == 3


def test_neuron_computes_activation_of_weighted_sum() -> None:
    for activation, reference in [("relu", lambda z: max(z, 0.0)), ("tanh", math.tanh),
                                  ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
                                  ("leaky_relu", lambda z: z if z > 0 else 0.2 * z),
                                  ("linear", lambda z: z)]:
        for fused in (True, False):
            n = Neuron(3, activation, seed=1, fused=fused, negative_slope=0.2)
            n.b.data = -0.3
            x = [0.5, -2.0, 1.5]
            z = sum(w.data * xi for w, xi in zip(n.w, x)) + n.b.data
            assert n(x).data == pytest.approx(reference(z), rel=1e-12, abs=1e-15)


def test_bad_construction_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="activation"):
        MLP(2, [3, 1], activation="swish")
    with pytest.raises(ValueError, match="output activation"):
        MLP(2, [3, 1], output="tanh")
    with pytest.raises(ValueError, match="softmax output needs at least 2"):
        MLP(2, [3, 1], output="softmax")
    with pytest.raises(ValueError, match="init"):
        MLP(2, [3, 1], init="zeros")
    with pytest.raises(TypeError, match="nouts"):
        MLP(2, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one layer"):
        MLP(2, [])
    with pytest.raises(ValueError, match="layer size must be at least 1"):
        MLP(2, [0])
    with pytest.raises(TypeError, match="layer size must be an int"):
        MLP(2, [2.5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="seed"):
        MLP(2, [1], seed="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="nin"):
        Neuron(True)  # type: ignore[arg-type]


def test_bad_inputs_are_named() -> None:
    model = MLP(3, [2], seed=0)
    with pytest.raises(ValueError, match="expects 3 inputs, got 2"):
        model([1.0, 2.0])
    with pytest.raises(TypeError, match="input 1 must be a number or Value, got str"):
        model([1.0, "2", 3.0])
    with pytest.raises(TypeError, match="sequence of 3 numbers"):
        model(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        model.forward_batch(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="one sample"):
        model(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="real-valued"):
        model.forward_batch(np.array([["a", "b", "c"]]))
    with pytest.raises(ValueError, match=r"sample 1\) expects 3 inputs"):
        model.forward_batch([[1, 2, 3], [1, 2]])


def test_inputs_may_be_values_numbers_or_numpy() -> None:
    model = MLP(2, [3, 2], seed=0)
    x0, x1 = Value(0.5, "x0"), Value(-1.0, "x1")
    from_values = model([x0, x1])
    from_numbers = model([0.5, -1])
    from_numpy = model(np.array([0.5, -1.0]))
    assert [v.data for v in from_values] == [v.data for v in from_numbers] == \
        [v.data for v in from_numpy]
    autograd.sum(from_values).backward()
    assert x0.grad != 0.0 or x1.grad != 0.0  # the inputs are part of the graph


@pytest.mark.parametrize("fused", [True, False])
def test_batch_forward_equals_one_sample_at_a_time(fused: bool) -> None:
    model = MLP(3, [4, 4, 2], activation="tanh", output="softmax", seed=3, fused=fused)
    X = np.random.default_rng(0).normal(size=(5, 3))
    batch = model.forward_batch(X)
    for row, out in zip(X, batch):
        assert [v.data for v in out] == [v.data for v in model.forward(list(row))]
    logits = model.forward_array(X, logits=True)
    assert logits.shape == (5, 2)
    assert np.array_equal(logits, [[v.data for v in model.logits(list(r))] for r in X])


def test_predict_proba_and_predict() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 2))
    softmax_model = MLP(2, [5, 3], output="softmax", seed=0)
    p = softmax_model.predict_proba(X)
    assert p.shape == (7, 3) and np.allclose(p.sum(axis=1), 1.0)
    logits = softmax_model.forward_array(X, logits=True)
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    assert np.allclose(p, expected / expected.sum(axis=1, keepdims=True), rtol=1e-12)
    assert np.array_equal(softmax_model.predict(X), logits.argmax(axis=1))
    # one linear logit: read through the sigmoid, two columns
    binary = MLP(2, [4, 1], seed=0)
    score = binary.forward_array(X)[:, 0]
    pb = binary.predict_proba(X)
    assert pb.shape == (7, 2)
    assert np.allclose(pb[:, 1], 1 / (1 + np.exp(-score)), rtol=1e-12)
    assert np.array_equal(binary.predict(X), (score > 0).astype(int))
    # several linear logits: read through softmax
    linear = MLP(2, [3], seed=0)
    assert np.allclose(linear.predict_proba(X).sum(axis=1), 1.0)
    # no graph is recorded by the array methods
    assert all(p.grad == 0.0 for p in softmax_model.parameters())


def test_weights_as_arrays_round_trip_and_layout() -> None:
    model = MLP(3, [2, 1], seed=0)
    weights = model.get_weights()
    assert [w.shape for w, _ in weights] == [(2, 3), (1, 2)]
    assert weights[0][0][1, 2] == model.named_parameters()["L0.N1.w2"].data
    twin = MLP.from_weights(weights)
    assert [p.data for p in twin.parameters()] == [p.data for p in model.parameters()]
    new = [(w + 1.0, b - 1.0) for w, b in weights]
    model.set_weights(new)
    assert all(np.array_equal(a, c) and np.array_equal(b, d)
               for (a, b), (c, d) in zip(model.get_weights(), new))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda w: w[:1], "expected weights for 2 layers"),
        (lambda w: [(w[0][0].T, w[0][1]), w[1]], r"layer 0 W: expected shape \(2, 3\)"),
        (lambda w: [w[0], (w[1][0], np.zeros(2))], r"layer 1 b: expected shape \(1,\)"),
        (lambda w: [w[0], (w[1][0] * np.nan, w[1][1])], "NaN or infinity"),
        (lambda w: [w[0], (w[1][0].astype(str), w[1][1])], "real numbers"),
        (lambda w: [w[0], ([[True, False]], w[1][1])], r"\[0\]\[0\]: expected a number"),
        (lambda w: [w[0], w[1][0]], "expected a pair"),
    ],
)
def test_set_weights_checks_everything_before_writing(bad, message) -> None:  # type: ignore[no-untyped-def]
    model = MLP(3, [2, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ModelFormatError, match=message):
        model.set_weights(bad(model.get_weights()))
    assert [p.data for p in model.parameters()] == before


def test_replace_parameters_swaps_and_returns_the_old_ones() -> None:
    model = MLP(2, [2, 1], seed=0)
    old = model.parameters()
    new = [Value(float(i)) for i in range(model.n_parameters)]
    returned = model.replace_parameters(new)
    assert returned == old and model.parameters() == new
    with pytest.raises(ValueError, match="has 9 parameters, got 2"):
        model.replace_parameters(new[:2])
    with pytest.raises(TypeError, match="must be a Value"):
        model.replace_parameters([1.0] * 9)  # type: ignore[list-item]


# -- gradients ---------------------------------------------------------------------------------

HIDDEN = ["relu", "tanh", "sigmoid", "leaky_relu", "linear"]


@st.composite
def networks(draw: st.DrawFn) -> tuple[MLP, list[list[float]], list[object], str]:
    """A small random network (shape, activations, weights), a batch, its targets, a loss."""
    nin = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
    nout = draw(st.integers(1, 3))
    activation = draw(st.sampled_from(HIDDEN))
    output = draw(st.sampled_from(["linear", "sigmoid"] + (["softmax"] if nout > 1 else [])))
    fused = draw(st.booleans())
    model = MLP(nin, [*hidden, nout], activation, output, fused=fused, negative_slope=0.1)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    model.set_weights([(rng.normal(size=w.shape), rng.normal(size=b.shape))
                       for w, b in model.get_weights()])
    floats = st.floats(-2.0, 2.0, allow_nan=False)
    batch = draw(st.lists(st.lists(floats, min_size=nin, max_size=nin), min_size=1, max_size=2))
    if nout == 1:
        loss = draw(st.sampled_from(["binary_cross_entropy", "hinge", "mse"]))
        targets: list[object] = [draw(st.integers(0, 1)) for _ in batch]
    else:
        loss = draw(st.sampled_from(["cross_entropy", "mse"]))
        targets = [draw(st.integers(0, nout - 1)) for _ in batch]
    return model, batch, targets, loss


def _batch_loss(model: MLP, batch: list[list[float]], targets: list[object], loss: str) -> Value:
    fn = LOSSES[loss]
    outs = model.forward_batch(batch, logits=fn.reads_logits)
    return mean([fn(o, t) for o, t in zip(outs, targets)])


def _away_from_kinks(model: MLP, root: Value) -> bool:
    """No ReLU input and no hinge argument within 1e-3 of its kink (central differences
    straddling a kink measure the average of two slopes, not a derivative)."""
    for node in topological_order(root):
        if node.op is not None and node.op.kinks and abs(node.parents[0].data) < 1e-3:
            return False
    return True


@given(networks())
def test_parameter_gradients_match_central_differences(case) -> None:  # type: ignore[no-untyped-def]
    model, batch, targets, loss = case
    root = _batch_loss(model, batch, targets, loss)
    assume(math.isfinite(root.data) and _away_from_kinks(model, root))
    params = model.parameters()

    def f(*values: Value) -> Value:
        model.replace_parameters(list(values))
        return _batch_loss(model, batch, targets, loss)

    try:
        gradcheck(f, params, eps=1e-6, atol=1e-6, rtol=1e-4)
    finally:
        model.replace_parameters(params)


@given(networks())
def test_input_gradients_match_central_differences(case) -> None:  # type: ignore[no-untyped-def]
    model, batch, targets, loss = case
    root = _batch_loss(model, batch[:1], targets[:1], loss)
    assume(math.isfinite(root.data) and _away_from_kinks(model, root))
    fn = LOSSES[loss]

    def f(*xs: Value) -> Value:
        out = model.logits(list(xs)) if fn.reads_logits else model.forward(list(xs))
        return fn(out, targets[0])

    gradcheck(f, batch[0], eps=1e-6, atol=1e-6, rtol=1e-4)


@given(networks())
def test_fused_and_op_by_op_neurons_give_the_same_gradients(case) -> None:  # type: ignore[no-untyped-def]
    model, batch, targets, loss = case
    grads = {}
    for fused in (True, False):
        model.fused = fused
        model.zero_grad()
        root = _batch_loss(model, batch, targets, loss)
        root.backward()
        grads[fused] = ([p.grad for p in model.parameters()], root.data)
    (fused_grads, fused_loss), (ops_grads, ops_loss) = grads[True], grads[False]
    assert ops_loss == pytest.approx(fused_loss, rel=1e-12, abs=1e-14)
    for a, b in zip(fused_grads, ops_grads):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-12)


def test_fused_neuron_is_one_node_and_op_by_op_is_a_chain() -> None:
    fused = Neuron(3, "linear", seed=0)
    ops = Neuron(3, "linear", seed=0, fused=False)
    x = [1.0, 2.0, 3.0]
    z_fused, z_ops = fused(x), ops(x)
    assert z_fused.op is autograd.OPS["linear"] and len(z_fused.parents) == 7
    interior = [n for n in topological_order(z_ops) if n.op is not None]
    assert sorted(n.op.name for n in interior) == ["add"] * 3 + ["mul"] * 3
    assert z_ops.parents[1] is ops.b  # ... + b is the last step, as written on paper
    assert z_fused.data == pytest.approx(z_ops.data, rel=1e-15)


def test_a_trained_step_reduces_the_loss() -> None:
    rng = random.Random(0)
    model = MLP(2, [8, 2], output="softmax", seed=0)
    batch = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(20)]
    targets = [int(x[0] > x[1]) for x in batch]
    first = _batch_loss(model, batch, targets, "cross_entropy")
    first.backward()
    for p in model.parameters():
        p.data -= 0.1 * p.grad
    assert _batch_loss(model, batch, targets, "cross_entropy").data < first.data
