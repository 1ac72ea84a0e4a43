"""Models as Python objects: one base class for both engines, an abstract layer contract,
pickling and copying, float32 on the tensor engine, and training from several threads."""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N806

from __future__ import annotations

import copy
import json
import pickle
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd.tensor import Tensor
from mlp import (
    MLP,
    Adam,
    Layer,
    Neuron,
    TensorLayer,
    TensorMLP,
    ValueLayer,
    ValueMLP,
    evaluate,
    fit,
)
from mlp.losses import LOSSES

ENGINES = ["value", "tensor"]


def _blobs(n: int = 48, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    return centers[y] + rng.normal(0.0, 0.5, size=(n, 2)), y


def _weights_equal(a: MLP, b: MLP) -> bool:
    return all(np.array_equal(x, y) for pa, pb in zip(a.get_weights(), b.get_weights())
               for x, y in zip(pa, pb))


# -- one base class -------------------------------------------------------------------------


def test_mlp_is_the_base_class_of_both_engines_models() -> None:
    scalar, array = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=0, engine="tensor")
    assert type(scalar) is ValueMLP and type(array) is TensorMLP
    assert isinstance(scalar, MLP) and isinstance(array, MLP)
    assert isinstance(ValueMLP(2, [3]), MLP) and isinstance(TensorMLP(2, [3]), MLP)
    assert all(isinstance(layer, Layer) for layer in [*scalar, *array])
    assert type(Layer(2, 3)) is ValueLayer and type(Layer(2, 3, engine="tensor")) is TensorLayer
    with pytest.raises(ValueError, match=r"a TensorMLP computes with the tensor engine, not "
                                         r"'value'; use MLP\(\.\.\., engine='value'\)"):
        TensorMLP(2, [3], engine="value")
    with pytest.raises(ValueError, match="unknown engine 'gpu'"):
        MLP(2, [3], engine="gpu")


def test_a_layer_must_provide_what_the_abstract_base_class_lists() -> None:
    class Incomplete(Layer):
        def parameters(self) -> list[Any]:
            return []

    with pytest.raises(TypeError, match="Can't instantiate abstract class Incomplete"):
        Incomplete(2, 3)
    abstract = Layer.__abstractmethods__
    assert {"_make", "n_inputs", "n_outputs", "fused", "parameters", "zero_grad", "__call__",
            "get_weights", "get_gradients", "_write_weights"} <= abstract
    assert {"forward", "logits", "forward_batch", "forward_array", "batch_loss",
            "_probabilities", "weights", "biases"} <= MLP.__abstractmethods__


def test_user_subclasses_keep_their_class() -> None:
    class Mine(ValueMLP):
        pass

    model = Mine(2, [3], seed=0)
    assert type(model) is Mine and type(Mine.from_weights(model.get_weights())) is Mine
    assert type(MLP(2, [3])) is ValueMLP  # the subclass did not take the engine's place


# -- pickling and copying -------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "linear"])
@pytest.mark.parametrize("fused", [True, False])
def test_copies_predict_the_same_and_train_on_their_own(engine: str, activation: str,
                                                        fused: bool) -> None:
    X, y = _blobs()
    model = MLP(2, [5, 3], activation, "softmax", seed=1, negative_slope=0.2, fused=fused,
                engine=engine)
    fit(model, X, y, epochs=2, batch_size=16, seed=0, progress=False)  # grads and all
    model.metadata = {"classes": ["a", "b", "c"]}
    for make_copy in (copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))):
        twin = make_copy(model)
        assert type(twin) is type(model) and _weights_equal(twin, model)
        assert twin.metadata == model.metadata and twin.fused == fused
        assert np.array_equal(twin.predict_proba(X), model.predict_proba(X))
        assert np.array_equal(twin.get_gradients()[0][0], model.get_gradients()[0][0])
        shared = {id(p) for p in model.parameters()} & {id(p) for p in twin.parameters()}
        assert not shared
        before = model.get_weights()
        fit(twin, X, y, epochs=2, batch_size=16, seed=1, progress=False)
        assert not _weights_equal(twin, model)
        assert all(np.array_equal(a, b) for pa, pb in zip(before, model.get_weights())
                   for a, b in zip(pa, pb))  # the original did not move
        # the copy's graph is the op table's own: same numbers, gradients and labels
        x = X[:3]
        loss, _ = twin.batch_loss(LOSSES["cross_entropy"], x, y[:3])
        reference = MLP.from_weights(twin.get_weights(), activation, "softmax",
                                     negative_slope=0.2, fused=fused, engine=engine)
        ref_loss, _ = reference.batch_loss(LOSSES["cross_entropy"], x, y[:3])
        twin.zero_grad()
        loss.backward()
        ref_loss.backward()
        assert float(loss.data) == float(ref_loss.data)
        assert all(np.array_equal(a, b) for pa, pb in zip(twin.get_gradients(),
                                                          reference.get_gradients())
                   for a, b in zip(pa, pb))


def test_a_neuron_pickles_with_its_activation() -> None:
    neuron = Neuron(3, "sigmoid", seed=0)
    back = pickle.loads(pickle.dumps(neuron))
    assert back([1.0, -2.0, 0.5]).data == neuron([1.0, -2.0, 0.5]).data
    assert back._act_op is neuron._act_op  # the op table's own entry, looked up by name


# -- float32 on the tensor engine -----------------------------------------------------------


def test_float32_models_train_with_float32_gradients() -> None:
    X, y = _blobs(60)
    model = MLP(2, [16, 3], seed=0, engine="tensor", dtype="float32")
    assert model.dtype == "float32" and repr(model).endswith("engine=tensor, dtype=float32)")
    assert "(tensor engine, float32)" in model.summary()
    assert all(p.dtype == np.float32 for p in model.parameters())
    wide = MLP(2, [16, 3], seed=0, engine="tensor")
    assert all(np.array_equal(p.data, q.data.astype(np.float32))  # the same draws, rounded
               for p, q in zip(model.parameters(), wide.parameters()))
    loss, _ = model.batch_loss(LOSSES["cross_entropy"], X, y)
    assert loss.dtype == np.float32
    loss.backward()
    assert all(isinstance(p.grad, np.ndarray) and p.grad.dtype == np.float32
               for p in model.parameters())
    history = fit(model, X, y, optimizer=Adam(model.parameters(), lr=0.05), epochs=30,
                  batch_size=16, seed=0, progress=False)
    assert history.loss[-1] < 0.3 * history.loss[0] and history.accuracy[-1] > 0.9
    assert all(p.dtype == np.float32 for p in model.parameters())  # the steps kept float32
    assert model.forward_array(X).dtype == np.float32
    assert evaluate(model, X, y)[1] > 0.9  # measured after training, not during it
    # float32 follows the same steps as float64, to float32's precision
    fit(wide, X, y, optimizer=Adam(wide.parameters(), lr=0.05), epochs=30, batch_size=16,
        seed=0, progress=False)
    assert np.allclose(model.forward_array(X), wide.forward_array(X), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "mse", "hinge"])
def test_float32_gradients_for_every_loss(loss: str) -> None:
    X, y = _blobs(12)
    model = MLP(2, [4, 1], seed=0, engine="tensor", dtype=np.float32)  # a NumPy type works
    total, _ = model.batch_loss(LOSSES[loss], X, (y > 0).astype(np.int64))
    total.backward()
    assert total.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_float32_files_record_it(tmp_path: Path) -> None:
    model = MLP(3, [4, 2], seed=0, engine="tensor", dtype="float32")
    model.parameters()[0].data[0, 0] = np.float32(0.1)  # not a float64 number
    path = tmp_path / "m.json"
    model.save(path)
    assert json.loads(path.read_text("utf-8"))["dtype"] == "float32"
    back = MLP.load(path)
    assert isinstance(back, TensorMLP) and back.dtype == "float32"
    assert all(np.array_equal(p.data, q.data) and p.dtype == q.dtype
               for p, q in zip(back.parameters(), model.parameters()))
    as_values = MLP.load(path, engine="value")
    assert as_values.dtype == "float64" and _weights_equal(as_values, model)
    assert as_values.to_engine("tensor").dtype == "float64"
    assert model.to_engine("tensor").dtype == "float32"
    assert model.to_engine("value").dtype == "float64"
    # a file from before dtype was recorded is float64
    document = json.loads(path.read_text("utf-8"))
    del document["dtype"]
    path.write_text(json.dumps(document), "utf-8")
    assert MLP.load(path).dtype == "float64"


def test_dtype_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match=r"the value engine computes with Python floats "
                                         r"\(float64\), not float32; use engine='tensor'"):
        MLP(2, [3], dtype="float32")
    with pytest.raises(ValueError, match="unknown dtype 'float16'"):
        MLP(2, [3], engine="tensor", dtype="float16")
    with pytest.raises(ValueError, match="unknown dtype 'int64'"):
        MLP(2, [3], engine="tensor", dtype=np.int64)
    with pytest.raises(TypeError, match="dtype must be 'float64' or 'float32'"):
        MLP(2, [3], engine="tensor", dtype=object())
    model = MLP(2, [3], engine="tensor", dtype="float32")
    with pytest.raises(TypeError, match=r"MLP computes in float32, got a float64 Tensor"):
        model(Tensor(np.zeros((1, 2))))
    assert model(Tensor(np.zeros((1, 2)), dtype="float32")).dtype == np.float32
    assert model(np.zeros((1, 2))).dtype == np.float32  # arrays are converted


# -- several threads ------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_threads_train_and_evaluate_as_they_would_alone(engine: str) -> None:
    """One thread trains while others evaluate (under no_grad) the same data: the trained
    weights are those of a run alone."""
    X, y = _blobs(48)

    def train() -> MLP:
        model = MLP(2, [6, 3], seed=0, engine=engine)
        fit(model, X, y, epochs=4, batch_size=8, seed=0, progress=False)
        return model

    alone = train()
    results: dict[str, Any] = {}
    stop = threading.Event()

    def evaluate_forever() -> None:
        other = MLP(2, [6, 3], seed=5, engine=engine)
        while not stop.is_set():
            evaluate(other, X, y)
            other.predict(X)

    def run_training() -> None:
        results["model"] = train()

    readers = [threading.Thread(target=evaluate_forever) for _ in range(2)]
    trainer = threading.Thread(target=run_training)
    for t in readers:
        t.start()
    trainer.start()
    trainer.join(timeout=120)
    stop.set()
    for t in readers:
        t.join(timeout=60)
    assert _weights_equal(results["model"], alone)
