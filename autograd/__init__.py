"""A scalar autograd engine for learning, teaching and checking backpropagation.

>>> from autograd import Value
>>> x, y = Value(3.0, "x"), Value(2.0, "y")
>>> f = x * (2 * y + 1)
>>> f.backward()
>>> x.grad, y.grad
(5.0, 6.0)
"""

from autograd.anomaly import AnomalyError, detect_anomaly
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
    sigmoid,
    sin,
    softmax,
    softplus,
    sqrt,
    sum,
    tanh,
)
from autograd.graph import (
    backward,
    enable_grad,
    is_grad_enabled,
    no_grad,
    topological_order,
    zero_grad,
)
from autograd.ops import OPS, Op
from autograd.tensor import Tensor
from autograd.value import Value, apply, as_value

__version__ = "0.1.0"

__all__ = [
    "Value", "Op", "OPS", "apply", "as_value", "Tensor",
    "backward", "topological_order", "zero_grad", "no_grad", "enable_grad", "is_grad_enabled",
    "detect_anomaly", "AnomalyError",
    "gradcheck", "central_difference", "GradcheckError", "GradcheckReport",
    "abs", "cos", "exp", "leaky_relu", "log", "relu", "sigmoid", "sin", "softplus", "sqrt",
    "tanh", "sum", "dot", "linear", "logsumexp", "log_softmax", "softmax", "cross_entropy",
    "mse",
]
