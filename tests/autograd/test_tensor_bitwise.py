"""The Tensor engine's shortcuts compute the numbers of the plain way, bit for bit.

Each shortcut (an op computing its output and locals in one pass, a gradient adopted
instead of added to 0) is compared with the computation it replaced, written out here,
in float64 and float32, by the bytes of the arrays (so -0.0 and NaN count too).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import no_grad
from autograd.tensor import Tensor, cross_entropy
from autograd.tensor_ops import TENSOR_OPS

DTYPES = [np.float64, np.float32]


def same_bits(a: object, b: object) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def cross_entropy_two_passes(z: np.ndarray, targets: np.ndarray, reduction: str
                             ) -> tuple[np.ndarray, np.ndarray]:
    """The loss and d loss/dz as cross_entropy computed them before it computed its
    softmax once: the forward, then the locals recomputing the same shifted logits."""

    def softmax_rows(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = z.reshape(-1, z.shape[-1])
        with np.errstate(all="ignore"):
            shifted = rows - rows.max(axis=1, keepdims=True)
            return shifted, np.log(np.exp(shifted).sum(axis=1))

    shifted, log_sums = softmax_rows(z)
    flat = targets.reshape(-1)
    total = float(np.sum(log_sums - shifted[np.arange(flat.size), flat]))
    if reduction == "mean" and flat.size > 1:
        total /= flat.size
    loss = np.array(total, dtype=z.dtype)

    shifted, log_sums = softmax_rows(z)
    with np.errstate(all="ignore"):
        p = np.exp(shifted - log_sums[:, None])
    p[np.arange(flat.size), flat] -= 1.0
    if reduction == "mean" and flat.size > 1:
        p *= 1.0 / flat.size
    return loss, p.reshape(z.shape) * np.ones((), dtype=z.dtype)  # times the output gradient


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1),
       shape=st.sampled_from([(1,), (4,), (1, 3), (5, 10), (64, 10), (2, 3, 4)]),
       scale=st.sampled_from([1.0, 30.0, 1e4]))
def test_cross_entropy_numbers_are_those_of_the_two_passes(
        dtype: type, reduction: str, seed: int, shape: tuple[int, ...], scale: float) -> None:
    rng = np.random.default_rng(seed)
    z = (rng.normal(size=shape) * scale).astype(dtype)
    targets = rng.integers(0, shape[-1], size=shape[:-1])
    want_loss, want_grad = cross_entropy_two_passes(z, targets, reduction)

    logits = Tensor(z)
    loss = cross_entropy(logits, targets, reduction)
    loss.backward()
    assert same_bits(loss.data, want_loss)
    assert same_bits(logits.grad, want_grad)
    with no_grad():  # not recording: the forward alone, the same loss
        assert same_bits(cross_entropy(Tensor(z), targets, reduction).data, want_loss)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_with_infinite_logits_gives_the_same_nans(dtype: type) -> None:
    z = np.array([[np.inf, 0.0, 1.0], [-np.inf, 2.0, 0.5], [np.nan, 0.0, 0.0]], dtype=dtype)
    targets = np.array([0, 1, 2])
    want_loss, want_grad = cross_entropy_two_passes(z, targets, "mean")
    logits = Tensor(z)
    loss = cross_entropy(logits, targets)
    loss.backward()
    assert same_bits(loss.data, want_loss)
    assert same_bits(logits.grad, want_grad)


#: for every op with a one-pass ``forward_with_grads``: its arrays and params
ONE_PASS_INPUTS = {
    "cross_entropy": lambda rng, dtype: (
        [rng.normal(size=(7, 5)).astype(dtype)], (rng.integers(0, 5, size=7), "mean")),
}


def test_every_one_pass_op_is_checked_here() -> None:
    assert {n for n, op in TENSOR_OPS.items() if op.forward_with_grads is not None} == set(
        ONE_PASS_INPUTS)


@pytest.mark.parametrize("name", sorted(ONE_PASS_INPUTS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_with_grads_agrees_with_forward_then_local_grads(name: str,
                                                                 dtype: type) -> None:
    op = TENSOR_OPS[name]
    rng = np.random.default_rng(0)
    arrays, params = ONE_PASS_INPUTS[name](rng, dtype)
    if op.check is not None:
        params = op.check(*arrays, *params)
    out = op.forward(*arrays, *params)
    together, locals_ = op.forward_with_grads(*arrays, *params)
    assert same_bits(together, out)
    g = rng.normal(size=out.shape).astype(dtype)
    for fused, plain in zip(locals_, op.local_grads(out, *arrays, *params), strict=True):
        assert same_bits(fused * g, plain * g)
