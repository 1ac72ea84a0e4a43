"""PyTorch interop: the same weights give the same outputs and gradients (skipped without torch)."""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N806

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlp import MLP, ModelFormatError
from mlp.losses import LOSSES, mean

torch = pytest.importorskip("torch")
nn = torch.nn


@given(
    nin=st.integers(1, 4),
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    activation=st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "linear"]),
    output=st.sampled_from(["linear", "sigmoid", "softmax"]),
    seed=st.integers(0, 1000),
)
def test_to_torch_computes_the_same_outputs(nin: int, sizes: list[int], activation: str,
                                            output: str, seed: int) -> None:
    if output == "softmax" and sizes[-1] < 2:
        sizes = [*sizes[:-1], 2]
    model = MLP(nin, sizes, activation, output, seed=seed, negative_slope=0.2)
    X = np.random.default_rng(seed).normal(size=(5, nin))
    seq = model.to_torch(torch.float64)
    theirs = seq(torch.tensor(X)).detach().numpy()
    assert np.allclose(model.forward_array(X), theirs, rtol=1e-12, atol=1e-14)
    back = MLP.from_torch(seq)
    assert (back.activation, back.output) == (
        activation if len(sizes) > 1 else "relu", output)
    assert [p.data for p in back.parameters()] == [p.data for p in model.parameters()]


def test_state_dict_loads_into_a_handmade_sequential_and_back() -> None:
    model = MLP(4, [8, 8, 3], activation="tanh", seed=2)
    seq = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(),
                        nn.Linear(8, 3)).double()
    seq.load_state_dict({k: torch.as_tensor(v) for k, v in model.state_dict().items()})
    X = np.random.default_rng(0).normal(size=(6, 4))
    assert np.allclose(seq(torch.tensor(X)).detach().numpy(), model.forward_array(X),
                       rtol=1e-12, atol=1e-14)
    # and the other way: torch's own initialization, read through its state_dict
    fresh = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(),
                          nn.Linear(8, 3)).double()
    model.load_state_dict(fresh.state_dict())
    assert np.allclose(fresh(torch.tensor(X)).detach().numpy(), model.forward_array(X),
                       rtol=1e-12, atol=1e-14)


def test_gradients_agree_with_torch() -> None:
    model = MLP(3, [5, 4, 3], activation="leaky_relu", negative_slope=0.05, seed=4)
    seq = model.to_torch(torch.float64)
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 3, size=8)
    loss = mean([LOSSES["cross_entropy"](o, t)
                 for o, t in zip(model.forward_batch(X, logits=True), y.tolist())])
    loss.backward()
    reference = nn.functional.cross_entropy(seq(torch.tensor(X)), torch.tensor(y))
    reference.backward()
    assert loss.data == pytest.approx(reference.item(), rel=1e-12)
    theirs = {k: p.grad.numpy() for k, p in seq.named_parameters()}
    ours = dict(zip(model.state_dict(), [a for pair in model.get_gradients() for a in pair]))
    for key in theirs:
        assert np.allclose(ours[key], theirs[key], rtol=1e-10, atol=1e-13), key


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        (lambda: [nn.Linear(2, 3, bias=False)], "without bias"),
        (lambda: [nn.Linear(2, 3), nn.Dropout(), nn.Linear(3, 1)], "Dropout is not supported"),
        (lambda: [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1)],
         "hidden activations differ"),
        (lambda: [nn.Linear(2, 3), nn.Softmax(dim=0)], "last dimension"),
        (lambda: [nn.Linear(2, 3), nn.Tanh()], "output activation 'tanh' is not supported"),
        (lambda: [nn.ReLU()], "ReLU is not supported"),
    ],
)
def test_from_torch_refuses_what_an_mlp_cannot_be(modules, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelFormatError, match=message):
        MLP.from_torch(nn.Sequential(*modules()))
    with pytest.raises(TypeError, match=r"nn\.Sequential"):
        MLP.from_torch(nn.Linear(2, 2))


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_bfloat16_weights_are_refused_with_the_way_out(engine: str) -> None:
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    model = MLP(2, [3, 1], seed=0, engine=engine)
    before = model.get_weights()
    half = seq.to(torch.bfloat16)
    message = r"layer 0 W: a torch\.bfloat16 tensor, which NumPy cannot hold; convert it " \
              r"first with \.float\(\) or \.double\(\)"
    with pytest.raises(ModelFormatError, match=message):
        MLP.from_torch(half, engine=engine)
    with pytest.raises(ModelFormatError, match=message):
        model.load_state_dict(half.state_dict())
    assert all(np.array_equal(a, b) for pa, pb in zip(model.get_weights(), before)
               for a, b in zip(pa, pb))
    # the way out works, exactly: bfloat16 numbers are float32 numbers
    model.load_state_dict(half.float().state_dict())
    assert np.array_equal(model.get_weights()[0][0], half[0].weight.float().detach().numpy())
    with pytest.raises(ModelFormatError, match=r"layer 0 W: expected real numbers, got a "
                                               r"torch\.complex64 tensor"):
        model.load_state_dict({**seq.float().state_dict(),
                               "0.weight": torch.zeros(3, 2, dtype=torch.complex64)})


def test_to_torch_default_dtype_is_torchs() -> None:
    seq = MLP(2, [3, 1], seed=0).to_torch()
    assert next(seq.parameters()).dtype == torch.get_default_dtype()


def test_importing_the_library_does_not_import_torch_or_matplotlib() -> None:
    """PyTorch and matplotlib are imported only when a function that needs them is called."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import sys, autograd, mlp, viz, mlp.io, mlp.plot\n"
         "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_float32_module_becomes_a_float32_tensor_model() -> None:
    seq = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))  # torch's float32
    model = MLP.from_torch(seq, engine="tensor", dtype="float32")
    assert model.dtype == "float32"
    assert all(np.array_equal(p.data, q.detach().numpy())
               for p, q in zip(model.parameters(), seq.parameters()))
    X = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    ours, theirs = model.forward_array(X), seq(torch.tensor(X)).detach().numpy()
    assert ours.dtype == np.float32 and np.allclose(ours, theirs, rtol=1e-6, atol=1e-6)
    assert MLP.from_torch(seq).dtype == "float64"
    with pytest.raises(ValueError, match="the value engine computes with Python floats"):
        MLP.from_torch(seq, dtype="float32")
