"""Functions of Values: the unary ops as functions, and vector helpers over lists.

Each helper is one op of the table (``sum``, ``dot``, ``linear``, ``logsumexp``) or a
few of them, so its gradient is the table's and every step of it can be shown.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

from autograd.ops import OPS, is_function
from autograd.value import Operand, Value, apply, as_value

__all__ = [
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky_relu", "softplus", "sin", "cos",
    "abs", "sum", "dot", "linear", "relu_linear", "softmax", "log_softmax", "logsumexp",
    "cross_entropy", "mse",
]


def _vector(xs: Sequence[Operand], name: str, what: str = "values") -> tuple[Value, ...]:
    if type(xs) is not list and type(xs) is not tuple and (
            isinstance(xs, (Value, numbers.Real, str)) or not hasattr(xs, "__len__")):
        raise TypeError(f"{name}() expects a sequence of {what}, got {type(xs).__name__}")
    if len(xs) == 0:
        raise ValueError(f"{name}() of an empty sequence")
    return tuple([as_value(x) for x in xs])


def _unary(name: str, x: Operand, params: tuple[float, ...] = ()) -> Value:
    return apply(OPS[name], (as_value(x),), params)


def function_for(name: str) -> Callable[..., Value]:
    """``name(x, *params)`` for any one-input op of the table (also one added later)."""
    op = OPS.get(name)
    if op is None or not is_function(op):
        raise AttributeError(f"module 'autograd' has no attribute {name!r}")

    def function(x: Operand, *params: float) -> Value:
        return getattr(as_value(x), name)(*params)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"{name} of a Value or number (the op table's {name!r})."
    return function


def exp(x: Operand) -> Value:
    """e**x."""
    return _unary("exp", x)


def log(x: Operand) -> Value:
    """Natural logarithm (log(0) = -inf)."""
    return _unary("log", x)


def sqrt(x: Operand) -> Value:
    """Square root."""
    return _unary("sqrt", x)


def tanh(x: Operand) -> Value:
    """Hyperbolic tangent."""
    return _unary("tanh", x)


def sigmoid(x: Operand) -> Value:
    """Logistic sigmoid, stable for any x."""
    return _unary("sigmoid", x)


def relu(x: Operand) -> Value:
    """max(x, 0)."""
    return _unary("relu", x)


def leaky_relu(x: Operand, slope: float = 0.01) -> Value:
    """x if x > 0 else slope*x."""
    return as_value(x).leaky_relu(slope)


def softplus(x: Operand) -> Value:
    """log(1 + e**x), stable for any x."""
    return _unary("softplus", x)


def sin(x: Operand) -> Value:
    """Sine."""
    return _unary("sin", x)


def cos(x: Operand) -> Value:
    """Cosine."""
    return _unary("cos", x)


def abs(x: Operand) -> Value:  # noqa: A001 - mirrors math-style naming of the other functions
    """|x| (subgradient 0 at 0)."""
    return _unary("abs", x)


def sum(xs: Sequence[Operand]) -> Value:  # noqa: A001
    """x0 + x1 + ... as one node (gradient 1 to each input)."""
    return apply(OPS["sum"], _vector(xs, "sum"))


def dot(w: Sequence[Operand], x: Sequence[Operand]) -> Value:
    """w·x as one node: d/dw_i = x_i, d/dx_i = w_i."""
    wv, xv = _vector(w, "dot"), _vector(x, "dot")
    if len(wv) != len(xv):
        raise ValueError(f"dot() of sequences of different lengths: {len(wv)} and {len(xv)}")
    return apply(OPS["dot"], wv + xv)


def linear(w: Sequence[Operand], x: Sequence[Operand], b: Operand) -> Value:
    """A neuron's weighted sum w·x + b as one node (fast, and still one readable step)."""
    wv, xv = _vector(w, "linear"), _vector(x, "linear")
    if len(wv) != len(xv):
        raise ValueError(f"linear() with {len(wv)} weights for {len(xv)} inputs")
    return apply(OPS["linear"], (*wv, *xv, as_value(b)))


def relu_linear(w: Sequence[Operand], x: Sequence[Operand], b: Operand) -> Value:
    """A ReLU neuron, relu(w·x + b), as one node (its parts: `linear`, then `relu`).

    The same numbers and gradients as ``linear(w, x, b).relu()``, bit for bit, with one
    node instead of two; `autograd.fusion.unfuse` splits it for drawings and steppers.
    """
    wv, xv = _vector(w, "relu_linear"), _vector(x, "relu_linear")
    if len(wv) != len(xv):
        raise ValueError(f"relu_linear() with {len(wv)} weights for {len(xv)} inputs")
    return apply(OPS["relu_linear"], (*wv, *xv, as_value(b)))


def logsumexp(xs: Sequence[Operand]) -> Value:
    """log(sum(exp(x_i))) as one node, shifted by the max so it never overflows."""
    return apply(OPS["logsumexp"], _vector(xs, "logsumexp"))


def log_softmax(logits: Sequence[Operand]) -> list[Value]:
    """log(softmax(z))_i = z_i - logsumexp(z), finite for any finite logits."""
    zs = _vector(logits, "log_softmax")
    lse = logsumexp(zs)
    return [z - lse for z in zs]


def softmax(logits: Sequence[Operand]) -> list[Value]:
    """exp(z_i - logsumexp(z)): probabilities that sum to 1, stable for large logits."""
    return [p.exp() for p in log_softmax(_vector(logits, "softmax"))]


def cross_entropy(logits: Sequence[Operand], target: int) -> Value:
    """-log softmax(z)[target] = logsumexp(z) - z[target].

    Its gradient with respect to the logits is softmax(z) - onehot(target).
    """
    zs = _vector(logits, "cross_entropy", "logits")
    if type(target) is not int and (isinstance(target, bool)
                                    or not isinstance(target, numbers.Integral)):
        raise TypeError(f"cross_entropy target must be a class index (int), "
                        f"got {type(target).__name__}")
    if not 0 <= target < len(zs):
        raise ValueError(f"cross_entropy target {target} out of range for {len(zs)} classes")
    return apply(OPS["logsumexp"], zs) - zs[int(target)]


def mse(predictions: Sequence[Operand], targets: Sequence[Operand]) -> Value:
    """Mean of squared differences: sum((p - t)**2) / n."""
    ps, ts = _vector(predictions, "mse", "predictions"), _vector(targets, "mse", "targets")
    if len(ps) != len(ts):
        raise ValueError(f"mse() of {len(ps)} predictions and {len(ts)} targets")
    return sum([(p - t) ** 2 for p, t in zip(ps, ts)]) / len(ps)
