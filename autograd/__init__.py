"""A scalar autograd engine for learning, teaching and checking backpropagation.

>>> from autograd import Value
>>> x, y = Value(3.0, "x"), Value(2.0, "y")
>>> f = x * (2 * y + 1)
>>> f.backward()
>>> x.grad, y.grad
(5.0, 6.0)

A reading path: `autograd.ops` (the op table: each derivative written once),
`autograd.reference` (the backward pass as a definition), `autograd.value` (`Value`);
then `autograd.graph` (the same pass, fast) and `autograd.higher` (higher order and
forward mode).
"""

from typing import Any

from autograd.check import GradcheckError, GradcheckReport, central_difference, gradcheck
from autograd.functional import (
    abs,
    cos,
    cross_entropy,
    dot,
    exp,
    leaky_relu,
    linear,
    log,
    log_softmax,
    logsumexp,
    mse,
    relu,
    relu_linear,
    sigmoid,
    sin,
    softmax,
    softplus,
    sqrt,
    sum,
    tanh,
)
from autograd.fusion import unfuse
from autograd.graph import backward, topological_order, zero_grad
from autograd.higher import JVPResult, grad, hessian, hvp, jacobian, jvp, tangents
from autograd.node import Node
from autograd.ops import OPS, Derivative, Op, get_op, register, unary, unregister
from autograd.reference import reference_backward
from autograd.state import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from autograd.tensor import Tensor
from autograd.value import Value, ValueWithParams, apply, apply_rows, as_value

__version__ = "0.2.0"

__all__ = [
    "Value", "ValueWithParams", "Op", "OPS", "Derivative", "Node", "apply", "apply_rows",
    "as_value", "Tensor",
    "get_op", "register", "unregister", "unary",
    "backward", "reference_backward", "unfuse", "topological_order", "zero_grad",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "AnomalyError",
    "grad", "hessian", "jacobian", "hvp", "jvp", "JVPResult", "tangents",
    "gradcheck", "central_difference", "GradcheckError", "GradcheckReport",
    "abs", "cos", "exp", "leaky_relu", "log", "relu", "sigmoid", "sin", "softplus", "sqrt",
    "tanh", "sum", "dot", "linear", "relu_linear", "logsumexp", "log_softmax", "softmax",
    "cross_entropy", "mse",
]


def __getattr__(name: str) -> Any:
    """``autograd.<op>`` for a one-input op registered after import (see `register`)."""
    from autograd import functional

    return functional.function_for(name)
