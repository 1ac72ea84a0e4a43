"""The tensor engine draws its initial weights in bulk: the same numbers, the same stream."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlp.tensor_nn as tensor_nn
from mlp.base import _initial_weight
from mlp.nn import Layer
from mlp.tensor_nn import TensorLayer

SCHEMES = ["he", "he_uniform", "xavier", "xavier_uniform", "uniform"]


def _one_by_one(rng: random.Random, scheme: str, nin: int, nout: int) -> np.ndarray:
    return np.array([[_initial_weight(rng, scheme, nin, nout) for _ in range(nin)]
                     for _ in range(nout)], dtype=np.float64).reshape(nout, nin)


@settings(max_examples=60, deadline=None)
@given(scheme=st.sampled_from(SCHEMES), nin=st.integers(1, 9), nout=st.integers(1, 9),
       seed=st.integers(0, 2**32 - 1), pending=st.booleans())
def test_bulk_draws_are_the_one_by_one_draws_and_leave_the_same_stream(
        scheme: str, nin: int, nout: int, seed: int, pending: bool) -> None:
    slow, fast = random.Random(seed), random.Random(seed)
    if pending:  # an odd number of normals drawn before: gauss holds the second of a pair
        slow.gauss(0.0, 1.0)
        fast.gauss(0.0, 1.0)
    bulk = tensor_nn._bulk_draws(fast, scheme, nin, nout)
    assert bulk is not None
    assert np.array_equal(bulk.reshape(nout, nin), _one_by_one(slow, scheme, nin, nout))
    assert fast.getstate() == slow.getstate()
    assert fast.random() == slow.random() and fast.gauss(1.0, 2.0) == slow.gauss(1.0, 2.0)


def test_the_mnist_layer_is_drawn_in_bulk_with_the_same_numbers() -> None:
    slow, fast = random.Random(0), random.Random(0)
    expected = _one_by_one(slow, "he", 784, 200)
    assert np.array_equal(tensor_nn._initial_matrix(fast, "he", 784, 200), expected)
    assert fast.getstate() == slow.getstate()


def test_a_random_subclass_is_drawn_one_by_one() -> None:
    class Quarter(random.Random):
        def random(self) -> float:
            return 0.25

    assert tensor_nn._bulk_draws(Quarter(1), "uniform", 2, 3) is None
    layer = tensor_nn._initial_matrix(Quarter(1), "uniform", 2, 3)
    assert np.array_equal(layer, np.full((3, 2), -0.5))  # -1 + 2 * 0.25, its own numbers


def test_bulk_numbers_that_disagree_with_the_genuine_draws_are_dropped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = tensor_nn._replay_gauss
    monkeypatch.setattr(tensor_nn, "_replay_gauss",
                        lambda rng, count, mu, sigma: real(rng, count, mu, sigma) + 1e-12)
    rng, reference = random.Random(7), random.Random(7)
    assert tensor_nn._bulk_draws(rng, "he", 4, 3) is None
    assert rng.getstate() == reference.getstate()  # nothing drawn: the caller goes slowly
    assert np.array_equal(tensor_nn._initial_matrix(rng, "he", 4, 3),
                          _one_by_one(reference, "he", 4, 3))


def test_a_draw_the_probe_does_not_know_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tensor_nn, "_initial_weight",
                        lambda rng, scheme, nin, nout: rng.triangular(-1.0, 1.0))
    assert tensor_nn._bulk_draws(random.Random(0), "he", 2, 2) is None
    monkeypatch.setattr(tensor_nn, "_initial_weight",
                        lambda rng, scheme, nin, nout: rng.gauss(0.0, 1.0) + rng.gauss(0.0, 1.0))
    assert tensor_nn._bulk_draws(random.Random(0), "he", 2, 2) is None


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layers_sharing_a_generator_match_the_value_engine_and_leave_it_alike(dtype: str
                                                                             ) -> None:
    on_values, on_tensors = random.Random(3), random.Random(3)
    for nin, nout in [(5, 7), (7, 3), (3, 2)]:  # 35 normals: the next layer starts mid-pair
        scalar = Layer(nin, nout, "relu", rng=on_values)
        array = TensorLayer(nin, nout, "relu", rng=on_tensors, dtype=dtype)
        np.testing.assert_array_equal(array.get_weights()[0],
                                      scalar.get_weights()[0].astype(dtype))
    assert on_values.getstate() == on_tensors.getstate()
