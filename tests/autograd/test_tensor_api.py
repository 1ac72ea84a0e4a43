"""Tensor behaviour around the math: shape errors, dtypes, constants, no_grad, anomaly
mode, the backward seed, accumulation, graph structure and memory."""

from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import AnomalyError, Tensor, Value, detect_anomaly, no_grad, topological_order
from autograd.tensor import ShapeError, as_tensor, cross_entropy, linear, mse
from autograd.tensor_ops import NO_GRAD, TENSOR_OPS, TensorOp

# -- construction -------------------------------------------------------------------------


def test_construction_copies_and_defaults_to_float64() -> None:
    source = np.arange(6).reshape(2, 3)
    t = Tensor(source, "t")
    assert t.dtype == np.float64 and t.shape == (2, 3) and t.label == "t"
    source[0, 0] = 100
    assert t.data[0, 0] == 0
    assert t.requires_grad and t.is_leaf
    assert t.grad == 0.0  # like Value: 0.0 until a backward pass reaches it


def test_float32_input_stays_float32_and_dtype_is_honoured() -> None:
    assert Tensor(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert Tensor([1, 2], dtype="float32").dtype == np.float32
    assert Tensor(np.ones(2, dtype=np.float32), dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("bad", ["abc", [1, "x"], [[1, 2], [3]], 1 + 2j, [Value(1.0)], None])
def test_construction_rejects_non_numbers(bad: object) -> None:
    with pytest.raises(TypeError, match="Tensor"):
        Tensor(bad)


@pytest.mark.parametrize("dtype", ["int64", np.float16, "complex128", "nonsense"])
def test_construction_rejects_other_dtypes(dtype: object) -> None:
    with pytest.raises(TypeError, match="float32 or float64"):
        Tensor([1.0], dtype=dtype)


def test_tensor_of_tensor_or_value_is_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match=r"\.data"):
        Tensor(Tensor([1.0]))
    with pytest.raises(TypeError, match=r"\.data"):
        Tensor(Value(1.0))


# -- shape errors -------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "op", "shapes"), [
    (lambda: Tensor(np.ones((3, 4))) + Tensor(np.ones(3)), "add", ["(3, 4)", "(3,)"]),
    (lambda: Tensor(np.ones((2, 3))) * np.ones((3, 2)), "mul", ["(2, 3)", "(3, 2)"]),
    (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3))), "matmul",
     ["(2, 3)", "(2, 3)"]),
    (lambda: Tensor(np.ones(3)) @ Tensor(np.ones(4)), "matmul", ["(3,)", "(4,)"]),
    (lambda: Tensor(2.0) @ Tensor(np.ones(2)), "matmul", ["()", "(2,)"]),
    (lambda: Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((3, 4, 5))), "matmul",
     ["(2,)", "(3,)"]),
    (lambda: Tensor(np.ones((2, 3))).reshape(4, 2), "reshape", ["(2, 3)", "(4, 2)"]),
    (lambda: linear(Tensor(np.ones((5, 3))), Tensor(np.ones((2, 4))), Tensor(np.ones(2))),
     "linear", ["(5, 3)", "(2, 4)"]),
    (lambda: linear(Tensor(np.ones((5, 4))), Tensor(np.ones((2, 4))), Tensor(np.ones(3))),
     "linear", ["(2, 4)", "(3,)"]),
    (lambda: Tensor(np.ones((2, 3))).sum(axis=2), "sum", ["(2, 3)"]),
    (lambda: Tensor(np.ones((2, 3))).transpose(0, 0), "transpose", ["(2, 3)"]),
    (lambda: cross_entropy(Tensor(np.ones((4, 3))), np.zeros(3, dtype=int)), "cross_entropy",
     ["(4, 3)", "(3,)"]),
    (lambda: mse(Tensor(np.ones((4, 1))), np.ones(4)), "mse", ["(4, 1)", "(4,)"]),
])
def test_shape_errors_name_the_op_and_the_shapes(make, op: str, shapes: list[str]) -> None:
    with pytest.raises(ShapeError) as info:
        make()
    message = str(info.value)
    assert message.startswith(op)
    for shape in shapes:
        assert shape in message, message


def test_shape_error_is_a_value_error_raised_before_numpy() -> None:
    with pytest.raises(ValueError, match="cannot be broadcast") as info:
        Tensor(np.ones(2)) - Tensor(np.ones(3))
    assert "operands could not be broadcast" not in str(info.value)  # not NumPy's message


def test_cross_entropy_target_errors() -> None:
    z = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="target 3 out of range for 3 classes"):
        cross_entropy(z, [0, 3])
    with pytest.raises(TypeError, match="integer class indices"):
        cross_entropy(z, [0.5, 1.0])
    with pytest.raises(ValueError, match="reduction"):
        cross_entropy(z, [0, 1], reduction="none")


# -- backward seed ------------------------------------------------------------------------


def test_backward_on_a_scalar_seeds_one() -> None:
    x = Tensor([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])


def test_backward_on_a_non_scalar_needs_an_explicit_grad() -> None:
    x = Tensor([1.0, 2.0])
    y = x * 3.0
    with pytest.raises(ValueError, match=r"shape \(2,\).*grad="):
        y.backward()
    with pytest.raises(ShapeError, match=r"\(3,\).*\(2,\)"):
        y.backward(np.ones(3))
    y.backward(np.array([1.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [3.0, -3.0])


def test_backward_of_a_constant_is_an_error() -> None:
    with pytest.raises(ValueError, match="does not require grad"):
        Tensor([1.0], requires_grad=False).sum().backward()


def test_backward_does_not_keep_or_alter_the_callers_seed() -> None:
    x = Tensor([1.0, 2.0])
    y = x * 2.0
    seed = np.array([1.0, 1.0])
    y.backward(seed)
    y.backward(seed)
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [4.0, 4.0])


def test_leaves_accumulate_interior_nodes_reset_and_zero_grad_clears() -> None:
    w = Tensor([[1.0, 2.0]])
    hidden = w * 3.0
    loss = hidden.sum()
    loss.backward()
    loss.backward()
    np.testing.assert_array_equal(w.grad, [[6.0, 6.0]])
    np.testing.assert_array_equal(hidden.grad, [[1.0, 1.0]])
    loss.zero_grad()
    assert w.grad == 0.0 and hidden.grad == 0.0
    loss.backward()
    np.testing.assert_array_equal(w.grad, [[3.0, 3.0]])


def test_a_tensor_used_twice_gets_both_contributions() -> None:
    x = Tensor([2.0, 3.0])
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 7.0])


# -- constants and mixing -------------------------------------------------------------------


def test_numbers_and_arrays_mix_in_from_both_sides() -> None:
    x = Tensor([1.0, 2.0])
    out = (2.0 - x) * np.array([1.0, 10.0]) + 1 / x + x**2 + 2**x
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [-1 + -1 + 2 + 2 * np.log(2),
                                        -10 - 0.25 + 4 + 4 * np.log(2)])
    left = np.array([3.0, 4.0]) @ x
    assert isinstance(left, Tensor) and left.item() == 11.0
    assert isinstance(np.float64(2.0) * x, Tensor)


def test_constants_get_no_gradient_and_no_work() -> None:
    data = Tensor(np.ones((4, 3)), "x", requires_grad=False)
    w = Tensor(np.ones((3, 2)), "w")
    out = data @ w
    assert out.local_grads[0] is NO_GRAD
    out.sum().backward()
    assert data.grad == 0.0
    np.testing.assert_array_equal(w.grad, np.full((3, 2), 4.0))


def test_ops_on_constants_only_record_no_graph() -> None:
    data = as_tensor(np.arange(3.0))
    scaled = data / 255.0
    assert not scaled.requires_grad and scaled.is_leaf and scaled.op is None


def test_mixing_with_value_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="Tensor and a Value"):
        Tensor([1.0]) + Value(1.0)
    with pytest.raises(TypeError, match="Tensor and a Value"):
        Value(1.0) * Tensor([1.0])


def test_unsupported_operand_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Tensor([1.0]) + "a"


# -- dtypes ---------------------------------------------------------------------------------


def _float32_cases() -> dict[str, object]:
    a = Tensor(np.array([[0.5, 1.5], [2.0, 0.25]], dtype=np.float32), "a")
    return {
        "add": lambda: a + 1.0, "sub": lambda: 1.0 - a, "mul": lambda: a * np.float64(2.0),
        "div": lambda: a / np.array([2.0, 4.0]), "pow": lambda: a ** Tensor(a.data),
        "powc": lambda: a ** np.float64(1.5), "neg": lambda: -a, "abs": lambda: abs(a),
        "exp": a.exp, "log": a.log, "sqrt": a.sqrt, "tanh": a.tanh, "sigmoid": a.sigmoid,
        "relu": a.relu, "leaky_relu": lambda: a.leaky_relu(np.float64(0.2)),
        "softplus": a.softplus, "sin": a.sin, "cos": a.cos, "matmul": lambda: a @ a.data,
        "sum": lambda: a.sum(axis=0), "mean": a.mean, "reshape": lambda: a.reshape(4),
        "transpose": lambda: a.T, "log_softmax": a.log_softmax,
        "linear": lambda: linear(a, a, np.ones(2)),
        "cross_entropy": lambda: cross_entropy(a, [0, 1]),
    }


@pytest.mark.parametrize("name", sorted(TENSOR_OPS))
def test_float32_stays_float32_through_every_op_and_its_gradient(name: str) -> None:
    make = _float32_cases()[name]
    out = make()
    assert out.op.name == name
    assert out.dtype == np.float32, f"{name} gave {out.dtype}"
    out.sum().backward()
    for leaf in topological_order(out):
        if leaf.is_leaf and leaf.requires_grad:
            assert leaf.grad.dtype == np.float32, f"{name}: grad of {leaf.label} is float64"


def test_float32_and_float64_tensors_promote_like_numpy() -> None:
    out = Tensor([1.0], dtype="float32") + Tensor([1.0])
    assert out.dtype == np.float64


# -- no_grad, anomaly, stability -------------------------------------------------------------


def test_no_grad_records_nothing_and_enable_grad_restores() -> None:
    w = Tensor([1.0, 2.0])
    with no_grad():
        y = (w * 2.0).exp()
        with ag.enable_grad():
            z = w * 2.0
    assert y.parents == () and y.op is None and not y.requires_grad
    with pytest.raises(ValueError, match="does not require grad"):
        y.sum().backward()
    assert z.parents and z.requires_grad


def test_anomaly_mode_names_the_op_that_made_a_nan_and_where() -> None:
    x = Tensor([1.0, -1.0], "x")
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"op 'log'.*test_tensor_api.py"):
        x.log()


def test_anomaly_mode_catches_a_non_finite_gradient_in_backward() -> None:
    x = Tensor([0.0, 4.0], "x")
    with detect_anomaly():
        y = x.sqrt().sum()  # finite forward, infinite derivative at 0
        assert y.origin is not None and "test_tensor_api.py" in y.origin
        with pytest.raises(AnomalyError, match="non-finite gradient"):
            y.backward()


def test_without_anomaly_mode_nan_flows_silently_and_warns_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Tensor([0.0, -1.0]).log()
        out.sum().backward()
        assert out.data[0] == -np.inf and np.isnan(out.data[1])


def test_extreme_inputs_stay_finite_and_quiet() -> None:
    big = Tensor([-1000.0, 0.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(big.sigmoid().data, [0.0, 0.5, 1.0])
        np.testing.assert_allclose(big.softplus().data, [0.0, np.log(2.0), 1000.0])
        logits = Tensor([[1e8, 0.0, -1e8]])
        loss = cross_entropy(logits, [0])
        loss.backward()
        assert loss.item() == 0.0
        np.testing.assert_allclose(logits.grad, [[0.0, 0.0, 0.0]])
        np.testing.assert_allclose(Tensor([[1e8, 1e8]]).log_softmax().data, [[-np.log(2)] * 2])


# -- graph structure and the op table -------------------------------------------------------


def test_nodes_have_the_value_attributes_and_slots() -> None:
    x = Tensor(np.ones((2, 2)), "x")
    y = x.leaky_relu(0.2)
    for attr in ("data", "grad", "label", "op", "parents", "local_grads", "params", "origin"):
        assert hasattr(y, attr)
    assert not hasattr(y, "__dict__")
    assert y.parents == (x,) and y.params == (0.2,) and isinstance(y.op, TensorOp)
    assert topological_order(y) == [x, y]


def test_formulas_read_as_vector_jacobian_products() -> None:
    matmul = TENSOR_OPS["matmul"]
    assert matmul.formula(0, 2) == "d(A@B)/dA: g @ B.T"
    assert matmul.formula(1, 2) == "d(A@B)/dB: A.T @ g"
    y = Tensor([1.0]).leaky_relu(0.2)
    assert y.op.formula(0, 1, y.params) == "d(leaky_relu(a, 0.2))/da: g * (1 if a > 0 else 0.2)"
    s = Tensor(np.ones((2, 3))).sum(axis=1)
    assert s.params == ((1,), False)
    assert s.op.formula(0, 1, s.params).startswith("d(sum(a, axis))/da: ")


def test_every_table_entry_has_a_formula_per_input_and_a_readable_local() -> None:
    for op in TENSOR_OPS.values():
        for i in range(len(op.input_names)):
            assert op.explain(i, op.input_names).formula, op.name
            assert "g" in op.formula(i, len(op.input_names)), op.name
    x = Tensor(np.ones((2, 3)))
    node = (x @ Tensor(np.ones((3, 1)))).relu()
    assert "g @ B.T" in repr(node.parents[0].local_grads[0])
    assert "Elementwise" in repr(node.local_grads[0])


def test_a_graph_is_freed_without_the_cycle_collector() -> None:
    w = Tensor(np.ones((3, 3)), "w")
    gc.disable()
    try:
        hidden = (w @ w).relu()
        loss = cross_entropy(hidden, [0, 1, 2])
        loss.backward()
        probe = weakref.ref(hidden)
        del hidden, loss
        assert probe() is None
    finally:
        gc.enable()


def test_repr_and_summary() -> None:
    small = Tensor([1.0, 2.0], "w")
    assert repr(small) == "Tensor([1., 2.], dtype=float64, label='w')"
    big = Tensor(np.arange(100.0).reshape(10, 10))
    assert "shape=(10, 10)" in repr(big) and "mean=49.5" in big.summary()
    assert Tensor(3.0).item() == 3.0
    with pytest.raises(ValueError, match="one element"):
        big.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(small)


def test_detach_cuts_the_graph_and_shares_data() -> None:
    x = Tensor([1.0, 2.0])
    y = x * 2.0
    d = y.detach()
    assert d.is_leaf and d.data is y.data


# -- gradient arrays are never shared ----------------------------------------------------------
# A leaf adopts a new contribution array instead of copying it (see tensor._ZeroGrad); these
# tests make sure no gradient array ever ends up shared between two nodes.

_STEPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "matmul": lambda a, b: a @ b, "reshape": lambda a, b: a.reshape(-1).reshape(a.shape),
    "transpose": lambda a, b: a.T.T, "sum": lambda a, b: a.sum(axis=0, keepdims=True) + b,
    "tanh": lambda a, b: a.tanh(), "neg": lambda a, b: -a, "relu": lambda a, b: a.relu() + b,
    "linear": lambda a, b: linear(a, b, b.sum(axis=0)), "exp": lambda a, b: (a * 0.1).exp(),
    "cross_entropy": lambda a, b: cross_entropy(a, [0, 1]) * b,
}


@given(program=st.lists(st.tuples(st.sampled_from(sorted(_STEPS)), st.integers(0, 20),
                                  st.integers(0, 20)), min_size=1, max_size=8),
       seed=st.integers(0, 1000))
def test_no_two_nodes_share_a_gradient_array(program: list, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pool = [Tensor(rng.normal(size=(2, 2)), f"leaf{i}") for i in range(3)]
    for name, i, j in program:
        pool.append(_STEPS[name](pool[i % len(pool)], pool[j % len(pool)]))
    root = pool[-1].sum() + pool[0].sum()  # pool[0] is reached at least twice
    root.backward()
    expected = {id(node): np.copy(node.grad) for node in topological_order(root)}
    arrays = [node.grad for node in topological_order(root) if isinstance(node.grad, np.ndarray)]
    for a_index, a in enumerate(arrays):
        for b in arrays[a_index + 1:]:
            assert not np.shares_memory(a, b)
    root.backward()  # leaves accumulate in place: nothing else may change
    for node in topological_order(root):
        factor = 2.0 if node.is_leaf else 1.0
        np.testing.assert_allclose(node.grad, factor * expected[id(node)])
