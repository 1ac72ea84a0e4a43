"""The value and tensor engines: same weights, losses, gradients, training, files, optimizers."""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N806

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value
from autograd.tensor import ShapeError, Tensor
from mlp import (
    ENGINES,
    MLP,
    SGD,
    Adam,
    BaseMLP,
    ModelFormatError,
    TensorLayer,
    TensorMLP,
    ValueMLP,
    evaluate,
    fit,
    load_model,
)
from mlp.losses import LOSSES, l2_penalty, mean
from mlp.nn import Layer

ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "linear"]
INITS = ["auto", "he", "he_uniform", "xavier", "xavier_uniform", "glorot", "uniform"]


def _same_weights(a: BaseMLP, b: BaseMLP) -> bool:
    return all(np.array_equal(wa, wb) and np.array_equal(ba, bb)
               for (wa, ba), (wb, bb) in zip(a.get_weights(), b.get_weights()))


def _targets(loss: str, n_out: int, n: int, rng: np.random.Generator) -> np.ndarray:
    if loss == "cross_entropy":
        return rng.integers(0, n_out, size=n)
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, size=n)
    if loss == "hinge":
        return rng.choice([-1, 1], size=n)
    if n_out == 1:  # mse on one output: numbers
        return rng.normal(size=n)
    return rng.integers(0, n_out, size=n)  # mse on class labels: one-hot encoded


# -- construction -------------------------------------------------------------------------


@given(
    nin=st.integers(1, 5),
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    activation=st.sampled_from(ACTIVATIONS),
    init=st.sampled_from(INITS),
    seed=st.integers(0, 10_000),
)
def test_the_same_seed_gives_both_engines_the_same_weights(
        nin: int, sizes: list[int], activation: str, init: str, seed: int) -> None:
    scalar = MLP(nin, sizes, activation, init=init, seed=seed)
    array = MLP(nin, sizes, activation, init=init, seed=seed, engine="tensor")
    assert isinstance(array, TensorMLP) and array.engine == "tensor"
    assert _same_weights(scalar, array)
    assert [w.shape for w in array.weights()] == [(s, i) for s, i in zip(sizes, [nin, *sizes])]
    assert all(not b.data.any() for b in array.biases())
    assert array.n_parameters == scalar.n_parameters == sum(p.size for p in array.parameters())
    # a single layer too
    layer, twin = Layer(nin, sizes[0], activation, seed=seed), TensorLayer(nin, sizes[0],
                                                                            activation, seed=seed)
    assert np.array_equal(layer.get_weights()[0], twin.get_weights()[0])


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_numpy_integer_seeds_work_like_python_ints(engine: str) -> None:
    model = MLP(4, [3], seed=np.int64(3), engine=engine)
    assert _same_weights(model, MLP(4, [3], seed=3, engine=engine))
    assert model.seed == 3 and type(model.seed) is int  # JSON-ready, like a Python int
    layer_type = TensorLayer if engine == "tensor" else Layer
    assert np.array_equal(layer_type(2, 3, seed=np.uint8(5)).get_weights()[0],
                          layer_type(2, 3, seed=5).get_weights()[0])
    with pytest.raises(TypeError, match="seed must be an int or None, got float64"):
        MLP(4, [3], seed=np.float64(3.0), engine=engine)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_gradients_as_arrays_have_the_weights_layout(engine: str) -> None:
    model = MLP(3, [4, 2], seed=0, engine=engine)
    shapes = [(w.shape, b.shape) for w, b in model.get_weights()]
    model.zero_grad()  # a tensor's grad is then the number 0: still given as arrays
    grads = model.get_gradients()
    assert [(w.shape, b.shape) for w, b in grads] == shapes
    assert all(not w.any() and not b.any() for w, b in grads)
    outputs = model.forward_batch(np.ones((1, 3)), logits=True)
    if isinstance(outputs, Tensor):
        (outputs * np.array([[0.0, 1.0]])).sum().backward()
    else:
        outputs[0][1].backward()
    dw, db = model.get_gradients()[1]
    assert db.tolist() == [0.0, 1.0]  # d logit_1 / d b = [0, 1]
    assert np.array_equal(dw[0], np.zeros(4)) and dw[1].any()
    dw[:] = 7.0  # a copy: the model's gradients stay
    assert not np.any(model.get_gradients()[1][0] == 7.0)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_nan_or_infinite_inputs_are_refused_not_predicted(engine: str) -> None:
    """fit refuses NaN; so do the predictions (they used to return class 0 for NaN)."""
    model = MLP(4, [3], seed=0, engine=engine)
    bad = np.array([[0.0, 1.0, 2.0, 3.0], [1.0, np.inf, 1.0, 1.0]])
    for method in (model.predict, model.predict_proba, model.forward_batch, model.forward_array):
        with pytest.raises(ValueError, match=r"NaN or infinity \(sample 1\)"):
            method(bad)
        with pytest.raises(ValueError, match="NaN or infinity"):
            method(np.full((2, 4), np.nan).tolist())
        with pytest.raises(ValueError, match="NaN or infinity"):
            method(bad.astype(np.float32))
    with pytest.raises(ValueError, match="NaN or infinity"):
        model([0.0, 0.0, -np.inf, 0.0])
    assert model.predict(bad[:1]).shape == (1,)  # finite rows still work


def test_the_tensor_model_has_the_value_models_surface() -> None:
    model = MLP(4, [8, 3], activation="tanh", output="softmax", seed=1, engine="tensor")
    assert isinstance(model, MLP) and type(model) is TensorMLP and BaseMLP is MLP
    assert repr(model) == ("MLP(4 -> 8 -> 3, activation=tanh, output=softmax, 67 parameters, "
                           "engine=tensor)")
    assert "total 67 parameters (tensor engine)" in model.summary()
    assert repr(model.layers[0]) == "TensorLayer(L0: 4 -> 8, tanh, 40 parameters)"
    assert list(model.named_parameters()) == ["L0.W", "L0.b", "L1.W", "L1.b"]
    assert [p.shape for p in model.parameters()] == [(8, 4), (8,), (3, 8), (3,)]
    assert (model.n_inputs, model.n_outputs, model.layer_sizes, len(model)) == (4, 3, [8, 3], 2)
    assert (model.activation, model.output, model.init, model.seed) == ("tanh", "softmax",
                                                                        "auto", 1)
    x = np.linspace(-1, 1, 4)
    assert model(x).shape == (3,) and model(x.tolist()).shape == (3,)
    assert model(np.stack([x, x])).shape == (2, 3)
    assert np.allclose(model(x).data.sum(), 1.0)
    assert model.logits(x).shape == (3,)
    # one sample gives the value engine's numbers
    scalar = model.to_engine("value")
    assert type(scalar) is ValueMLP and _same_weights(scalar, model)
    assert np.allclose(model(x).data, [v.data for v in scalar(x.tolist())], rtol=1e-13)
    twin = copy.deepcopy(model)
    assert _same_weights(twin, model) and twin.parameters()[0] is not model.parameters()[0]


def test_gradients_reach_a_tensor_input_as_they_reach_value_inputs() -> None:
    X = np.random.default_rng(3).normal(size=(4, 3))
    scalar = MLP(3, [5, 2], "sigmoid", seed=2)
    array = scalar.to_engine("tensor")
    rows = [[Value(v) for v in row] for row in X.tolist()]
    mean([LOSSES["mse"](o, 1) for o in scalar.forward_batch(rows)]).backward()
    inputs = Tensor(X, "x")
    LOSSES["mse"](array(inputs), [1, 1, 1, 1]).backward()
    assert np.allclose(inputs.grad, [[v.grad for v in row] for row in rows], rtol=1e-12,
                       atol=1e-15)
    hidden = array.layers[0](X)
    assert hidden.shape == (4, 5) and hidden.label == "L0.a"
    assert np.allclose(hidden.data, [[v.data for v in scalar.layers[0](row)] for row in X])


def test_engine_and_input_errors_are_named() -> None:
    with pytest.raises(ValueError, match=r"unknown engine 'gpu'; choose one of: value, tensor"):
        MLP(2, [3], engine="gpu")
    with pytest.raises(TypeError, match="engine must be a name"):
        MLP(2, [3], engine=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="softmax output needs at least 2"):
        MLP(2, [1], output="softmax", engine="tensor")
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        MLP(2, [3], activation="gelu", engine="tensor")
    with pytest.raises(TypeError, match="nin must be an int"):
        MLP(2.5, [3], engine="tensor")  # type: ignore[arg-type]
    model = MLP(3, [4, 2], seed=0, engine="tensor")
    with pytest.raises(ValueError, match=r"expects input of shape \(3,\) or \(n, 3\), got "
                                         r"shape \(2, 4\)"):
        model(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"expects input of shape \(n, 3\), got shape \(3,\)"):
        model.forward_batch(np.zeros(3))
    with pytest.raises(TypeError, match="real numbers"):
        model(np.array(["a", "b", "c"]))
    with pytest.raises(TypeError, match="Values"):
        model([Value(1.0), Value(2.0), Value(3.0)])
    before = model.get_weights()
    with pytest.raises(ModelFormatError, match=r"layer 1 W: expected shape \(2, 4\)"):
        model.set_weights([before[0], (np.zeros((3, 4)), np.zeros(2))])
    assert _same_weights(model, MLP(3, [4, 2], seed=0, engine="tensor"))  # unchanged


# -- the same numbers ---------------------------------------------------------------------


@given(
    nin=st.integers(1, 4),
    hidden=st.lists(st.integers(1, 4), max_size=2),
    n_out=st.integers(1, 4),
    activation=st.sampled_from(ACTIVATIONS),
    loss=st.sampled_from(sorted(LOSSES)),
    output=st.sampled_from(["linear", "sigmoid", "softmax"]),
    n=st.integers(1, 6),
    fused=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_same_loss_and_gradients_on_both_engines(
        nin: int, hidden: list[int], n_out: int, activation: str, loss: str, output: str,
        n: int, fused: bool, seed: int) -> None:
    if loss in ("binary_cross_entropy", "hinge"):
        n_out = 1
    elif loss == "cross_entropy":
        n_out = max(n_out, 2)
    if output == "softmax" and n_out < 2:
        output = "sigmoid"
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, nin))
    y = _targets(loss, n_out, n, rng)
    scalar = MLP(nin, [*hidden, n_out], activation, output, seed=seed, negative_slope=0.2)
    array = MLP(nin, [*hidden, n_out], activation, output, seed=seed, negative_slope=0.2,
                fused=fused, engine="tensor")
    loss_fn = LOSSES[loss]

    outs = scalar.forward_batch(X, logits=loss_fn.reads_logits)
    value_loss = mean([loss_fn(o, t) for o, t in zip(outs, y.tolist())])
    value_loss.backward()
    tensor_loss = loss_fn(array.forward_batch(X, logits=loss_fn.reads_logits), y)
    tensor_loss.backward()

    assert isinstance(tensor_loss, Tensor) and tensor_loss.shape == ()
    assert tensor_loss.item() == pytest.approx(value_loss.data, rel=1e-12, abs=1e-12)
    for (dw, db), (tensor_dw, tensor_db), layer in zip(scalar.get_gradients(),
                                                     array.get_gradients(), array.layers):
        assert np.allclose(tensor_dw, dw, rtol=1e-12, atol=1e-12)
        assert np.allclose(tensor_db, db, rtol=1e-12, atol=1e-12)
        assert np.array_equal(tensor_dw, layer.W.grad) and np.array_equal(tensor_db, layer.b.grad)
    # and the same predictions
    assert np.allclose(array.predict_proba(X), scalar.predict_proba(X), rtol=1e-12,
                       atol=1e-15)
    assert np.array_equal(array.forward_array(X), array.forward_batch(X).data)


@pytest.mark.parametrize(("loss", "output", "n_out", "optimizer"), [
    ("cross_entropy", "softmax", 3, "adam"),
    ("cross_entropy", "linear", 3, "momentum"),
    ("mse", "sigmoid", 3, "sgd"),
    ("mse", "linear", 1, "nesterov"),
    ("binary_cross_entropy", "linear", 1, "adam"),
    ("hinge", "linear", 1, "sgd"),
])
def test_fit_gives_the_same_history_on_both_engines(loss: str, output: str, n_out: int,
                                                    optimizer: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = _targets(loss, n_out, 40, rng)
    histories, models = [], []
    for engine in ENGINES:
        model = MLP(3, [5, n_out], "tanh", output, seed=4, engine=engine)
        histories.append(fit(model, X, y, loss=loss, optimizer=optimizer, lr=0.05, epochs=3,
                             batch_size=7, weight_decay=0.01, validation_split=0.25, seed=2,
                             progress=False))
        models.append(model)
    value, tensor = histories
    assert tensor.epochs == value.epochs == 3
    for key in ("loss", "val_loss"):
        assert getattr(tensor, key) == pytest.approx(getattr(value, key), rel=1e-12)
    assert tensor.accuracy == value.accuracy and tensor.val_accuracy == value.val_accuracy
    assert tensor.lr == value.lr
    for (wa, ba), (wb, bb) in zip(*(m.get_weights() for m in models)):
        assert np.allclose(wa, wb, rtol=1e-10, atol=1e-13)
        assert np.allclose(ba, bb, rtol=1e-10, atol=1e-13)
    (value_loss, value_acc), (tensor_loss, tensor_acc) = (evaluate(m, X, y, loss)
                                                          for m in models)
    assert tensor_loss == pytest.approx(value_loss, rel=1e-12) and tensor_acc == value_acc
    assert (tensor_acc is None) == (loss == "mse" and n_out == 1)


def test_fit_on_the_tensor_engine_learns_and_stops_early() -> None:
    rng = np.random.default_rng(1)
    y = np.arange(150) % 3
    X = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])[y] + rng.normal(0, 0.5, (150, 2))
    model = MLP(2, [16, 3], seed=0, engine="tensor")
    before = model.parameters()[0]
    history = fit(model, X.astype(np.float32), y, epochs=200, lr=0.05, batch_size=16,
                  validation_split=0.2, early_stopping=3, seed=0, progress=False)
    assert history.stopped_early and history.best_epoch is not None
    assert history.val_accuracy[history.best_epoch] >= 0.9
    assert model.parameters()[0] is before  # trained (and restored) in place
    assert np.mean(model.predict(X) == y) >= 0.9
    with pytest.raises(TypeError, match="trains an MLP"):
        fit(model.layers[0], X, y)  # type: ignore[arg-type]


# -- losses on Tensors ----------------------------------------------------------------------


def test_tensor_losses_check_their_targets() -> None:
    z = Tensor(np.zeros((3, 1)))
    with pytest.raises(ShapeError, match="one output per sample"):
        LOSSES["hinge"](Tensor(np.zeros((3, 2))), [0, 1, 0])
    with pytest.raises(ShapeError, match="2 targets"):
        LOSSES["binary_cross_entropy"](z, [0, 1])
    with pytest.raises(ValueError, match=r"targets must be in \(0, 1\)"):
        LOSSES["binary_cross_entropy"](z, [0, 2, 1])
    with pytest.raises(ValueError, match="out of range"):
        LOSSES["mse"](Tensor(np.zeros((2, 3))), [0, 3])
    with pytest.raises(ShapeError, match="must be class indices"):
        LOSSES["mse"](Tensor(np.zeros((2, 3))), [0.5, 1.0])
    with pytest.raises(ShapeError, match="differ"):
        LOSSES["mse"](Tensor(np.zeros((2, 3))), np.zeros((2, 2)))
    with pytest.raises(TypeError, match="integer class labels"):
        LOSSES["cross_entropy"](Tensor(np.zeros((2, 3))), [0.5, 1.0])
    # hinge reads 0 as -1; -1/+1 and 0/1 labels give the same loss
    s = Tensor([[0.3], [-2.0]])
    assert LOSSES["hinge"](s, [1, 0]).item() == LOSSES["hinge"](s, [1, -1]).item() == 0.35


def test_l2_penalty_on_tensors_matches_values() -> None:
    arrays = [np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([0.25, -1.0])]
    tensors = [Tensor(a) for a in arrays]
    values = [Value(float(v)) for a in arrays for v in a.ravel()]
    penalty, reference = l2_penalty(tensors, 0.1), l2_penalty(values, 0.1)
    assert penalty.item() == pytest.approx(reference.data, rel=1e-15)
    penalty.backward()
    assert np.array_equal(tensors[0].grad, 0.1 * arrays[0])
    with pytest.raises(TypeError, match="all Values or all Tensors"):
        l2_penalty([tensors[0], values[0]], 0.1)  # type: ignore[list-item]


# -- optimizers on Tensors --------------------------------------------------------------------


def _tensor_and_values(start: list[float]) -> tuple[Tensor, list[Value]]:
    return Tensor(start, "p"), [Value(s) for s in start]


GRADS = [[0.3, -0.2, 1.0], [-0.7, 0.1, 0.0], [0.05, 2.0, -1.0]]


@pytest.mark.parametrize("kind", ["sgd", "momentum", "nesterov_wd", "adam", "adam_wd"])
def test_optimizers_update_tensors_in_place_like_values(kind: str) -> None:
    tensor, values = _tensor_and_values([0.5, -1.5, 2.0])
    array = tensor.data

    def make(params: list[Any]) -> SGD | Adam:
        if kind.startswith("adam"):
            return Adam(params, lr=0.05, weight_decay=0.1 if kind == "adam_wd" else 0.0)
        return SGD(params, lr=0.1, momentum=0.0 if kind == "sgd" else 0.9,
                   nesterov=kind == "nesterov_wd", weight_decay=0.01 if "wd" in kind else 0.0)

    on_tensor, on_values = make([tensor]), make(values)
    for g in GRADS:
        tensor.grad = np.array(g)
        for v, gi in zip(values, g):
            v.grad = gi
        on_tensor.step()
        on_values.step()
        # elementwise float64 arithmetic is the same on both: equal to the last bit
        assert tensor.data.tolist() == [v.data for v in values]
    assert tensor.data is array  # updated in place
    on_tensor.zero_grad()
    assert tensor.grad == 0.0


def test_sgd_and_adam_on_a_tensor_by_hand() -> None:
    w = Tensor([[1.0, -2.0]])
    opt = SGD([w], lr=0.1, momentum=0.9)
    w.grad = np.array([[2.0, 1.0]])
    opt.step()  # v = g -> w - 0.1 g
    assert np.allclose(w.data, [[0.8, -2.1]], rtol=1e-15)
    w.grad = np.array([[1.0, 0.0]])
    opt.step()  # v = 0.9 v + g = [2.8, 0.9]
    assert np.allclose(w.data, [[0.8 - 0.28, -2.1 - 0.09]], rtol=1e-15)
    b = Tensor([0.0, 0.0])
    adam = Adam([b], lr=0.01)
    b.grad = np.array([1e-4, -3.0])
    adam.step()  # the first Adam step moves each entry by about lr, against its gradient
    assert b.data.tolist() == pytest.approx([-0.01, 0.01], rel=1e-3)


def test_optimizers_refuse_what_they_cannot_train() -> None:
    w = Tensor([1.0, 2.0], "w")
    with pytest.raises(TypeError, match="not a single Tensor"):
        SGD(w, lr=0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"parameter 0 is a constant \(requires_grad=False\)"):
        SGD([Tensor([1.0], requires_grad=False)], lr=0.1)
    with pytest.raises(ValueError, match=r"parameter 1 is computed by an op"):
        SGD([w, w * 2.0], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 is a ndarray, not a Value or Tensor"):
        SGD([np.zeros(2)], lr=0.1)  # type: ignore[list-item]


# -- files ----------------------------------------------------------------------------------


def test_save_and_load_the_tensor_engine(tmp_path: Path) -> None:
    model = MLP(3, [4, 2], "leaky_relu", "softmax", seed=5, negative_slope=0.3,
                engine="tensor")
    rng = np.random.default_rng(0)
    for p in model.parameters():  # all kinds of floats, not just the initial ones
        p.data[...] = rng.normal(size=p.shape) * 10.0 ** rng.integers(-300, 300, size=p.shape)
    model.metadata = {"classes": ["a", "b"]}
    path = tmp_path / "m.json"
    model.save(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["engine"] == "tensor"
    loaded = MLP.load(path)
    assert isinstance(loaded, TensorMLP) and _same_weights(loaded, model)  # bit for bit
    assert (loaded.activation, loaded.output, loaded.negative_slope) == ("leaky_relu",
                                                                         "softmax", 0.3)
    assert loaded.metadata == {"classes": ["a", "b"]}
    as_values = load_model(path, engine="value")
    assert type(as_values) is ValueMLP and _same_weights(as_values, model)
    assert isinstance(TensorMLP.load(path), TensorMLP)
    assert type(ValueMLP.load(path)) is ValueMLP  # a class loads as itself
    # a value-engine file (and one from before the engine was recorded) loads as value
    as_values.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["engine"] == "value"
    del document["engine"]
    path.write_text(json.dumps(document), encoding="utf-8")
    assert type(MLP.load(path)) is ValueMLP
    assert isinstance(MLP.load(path, engine="tensor"), TensorMLP)
    assert isinstance(TensorMLP.load(path), TensorMLP)
    document["engine"] = "gpu"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ModelFormatError, match="engine: unknown 'gpu'"):
        MLP.load(path)
    with pytest.raises(ValueError, match="unknown engine 'cuda'"):
        MLP.load(tmp_path / "missing.json", engine="cuda")


def test_pytorch_export_of_the_tensor_engine() -> None:
    torch = pytest.importorskip("torch")
    model = MLP(4, [6, 6, 3], "tanh", "softmax", seed=3, engine="tensor")
    X = np.random.default_rng(0).normal(size=(5, 4))
    seq = model.to_torch(torch.float64)
    assert np.allclose(seq(torch.tensor(X)).detach().numpy(), model.forward_array(X),
                       rtol=1e-12, atol=1e-15)
    back = TensorMLP.from_torch(seq)
    assert isinstance(back, TensorMLP) and _same_weights(back, model)
    assert type(MLP.from_torch(seq)) is ValueMLP
    assert isinstance(MLP.from_torch(seq, engine="tensor"), TensorMLP)
    # the state_dict goes both ways
    other = MLP(4, [6, 6, 3], "tanh", "softmax", seed=9, engine="tensor")
    other.load_state_dict(seq.state_dict())
    assert _same_weights(other, model)
    assert set(model.state_dict()) == {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight",
                                       "4.bias"}
    # gradients of the cross-entropy agree with torch's
    y = np.array([0, 2, 1, 1, 0])
    LOSSES["cross_entropy"](model.forward_batch(X, logits=True), y).backward()
    logits_seq = torch.nn.Sequential(*list(seq)[:-1])  # without the final Softmax
    torch.nn.functional.cross_entropy(logits_seq(torch.tensor(X)), torch.tensor(y)).backward()
    for ours, theirs in zip(model.parameters(), logits_seq.parameters()):
        assert np.allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12, atol=1e-15)
