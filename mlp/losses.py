"""Loss functions on Values, for one sample or averaged over a batch.

Each loss is built from the engine's ops and helpers (`autograd.functional`), so its
gradient is the op table's and every step of it can be shown.  Classification losses
take class labels: an int class index for cross-entropy, 0/1 for binary cross-entropy,
0/1 or -1/+1 for the hinge loss.

- ``cross_entropy(logits, y)``: logsumexp(z) - z[y], softmax + negative log-likelihood,
  stable for any logits;
- ``binary_cross_entropy_with_logits(z, y)``: softplus(z) - y*z, sigmoid + BCE, stable;
- ``binary_cross_entropy(p, y)``: -(y log p + (1 - y) log(1 - p)) on a probability;
- ``mse(outputs, target)``: mean over outputs of (out - target)**2;
- ``hinge(score, y)``: max(0, 1 - t*score) with t in {-1, +1};
- ``l2_penalty(params, strength)``: strength/2 * sum(p**2).

On the tensor engine the same functions take a `Tensor` of outputs for a whole batch,
shape (n, n_outputs), and the batch's targets (an array of n class labels, or of numbers
shaped like the outputs), and return the *mean* loss over the samples as a one-element
Tensor: the same number as `mean` of the per-sample losses, from the Tensor op table.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import autograd
import autograd.tensor
from autograd import OPS, Value, apply
from autograd.tensor import ShapeError, Tensor

__all__ = [
    "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse",
    "hinge", "l2_penalty", "mean", "Loss", "LOSSES", "get_loss",
]

_SOFTPLUS, _RELU = OPS["softplus"], OPS["relu"]


def _single(output: Value | Sequence[Value], name: str) -> Value:
    """The one output of a binary model (a Value or a one-element list)."""
    if isinstance(output, Value):
        return output
    if isinstance(output, Sequence) and len(output) == 1 and isinstance(output[0], Value):
        return output[0]
    raise ValueError(f"{name} needs one output per sample (a Value), got "
                     f"{len(output) if isinstance(output, Sequence) else type(output).__name__}")


def _binary_label(target: object, name: str, allow_minus_one: bool = False) -> int:
    allowed = (-1, 0, 1) if allow_minus_one else (0, 1)
    if isinstance(target, bool) or not isinstance(target, numbers.Real) or target not in allowed:
        raise ValueError(f"{name} target must be one of {allowed}, got {target!r:.40}")
    return int(target)


def _class_indices(target: Any, name: str) -> np.ndarray:
    """Class labels as an int64 array (whole-number floats are accepted)."""
    labels = np.asarray(target)
    if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name}: targets must be integer class labels, got dtype "
                        f"{labels.dtype}")
    return labels


def _binary_targets(outputs: Tensor, target: Any, name: str,
                    allow_minus_one: bool = False) -> np.ndarray:
    """Labels for a one-output model's Tensor (n, 1) (or (1,)), as floats of that shape."""
    if outputs.ndim == 0 or outputs.shape[-1] != 1:
        raise ShapeError(f"{name} needs one output per sample (shape (n, 1)), got shape "
                         f"{outputs.shape}")
    labels = np.asarray(target, dtype=np.float64)
    if labels.size != outputs.size or labels.shape not in (outputs.shape, outputs.shape[:-1]):
        raise ShapeError(f"{name}: {labels.size} targets of shape {labels.shape} for outputs "
                         f"of shape {outputs.shape}")
    allowed = (-1.0, 0.0, 1.0) if allow_minus_one else (0.0, 1.0)
    if not np.all(np.isin(labels, allowed)):
        raise ValueError(f"{name} targets must be in {tuple(int(a) for a in allowed)}")
    return labels.reshape(outputs.shape)


def _regression_targets(outputs: Tensor, target: Any) -> np.ndarray:
    """mse targets for Tensor outputs (..., k): class indices are one-hot encoded."""
    values = np.asarray(target)
    if values.dtype == np.bool_ or values.dtype.kind not in "iuf":
        raise TypeError(f"mse targets must be numbers or class indices, got dtype "
                        f"{values.dtype}")
    if outputs.ndim == 0:
        return values
    k = outputs.shape[-1]
    if values.shape == outputs.shape[:-1]:
        if k == 1:
            return values.astype(np.float64).reshape(outputs.shape)
        if values.dtype.kind not in "iu":
            raise ShapeError(f"mse: targets of shape {values.shape} for outputs of shape "
                             f"{outputs.shape} must be class indices (integers)")
        if values.size and (values.min() < 0 or values.max() >= k):
            raise ValueError(f"mse class index out of range for {k} outputs")
        return np.eye(k)[values]
    return values


def cross_entropy(logits: Sequence[Value] | Tensor, target: Any) -> Value | Tensor:
    """-log softmax(logits)[target], computed stably from the logits (one sample).

    Tensor logits (n, C) with n class indices: the mean over the samples.
    """
    if isinstance(logits, Tensor):
        return autograd.tensor.cross_entropy(logits, _class_indices(target, "cross_entropy"))
    return autograd.cross_entropy(logits, target)


def binary_cross_entropy_with_logits(logit: Value | Sequence[Value] | Tensor, target: Any
                                     ) -> Value | Tensor:
    """-log sigmoid(z) for target 1, -log(1 - sigmoid(z)) for 0: ``softplus(z) - y*z``.

    Stable for any logit z (no log of 0), and its gradient is ``sigmoid(z) - y``.
    Tensor logits (n, 1) with n labels: the mean over the samples.
    """
    if isinstance(logit, Tensor):
        y = _binary_targets(logit, target, "binary_cross_entropy_with_logits")
        return (logit.softplus() - logit * y).mean()
    z = _single(logit, "binary_cross_entropy_with_logits")
    y = _binary_label(target, "binary_cross_entropy_with_logits")
    loss = apply(_SOFTPLUS, (z,))
    return loss - z if y == 1 else loss


def binary_cross_entropy(probability: Value | Sequence[Value] | Tensor, target: Any
                         ) -> Value | Tensor:
    """-(y log p + (1 - y) log(1 - p)) for a probability p = sigmoid(z) (one sample).

    Infinite when p is exactly 0 or 1 on the wrong side; prefer
    `binary_cross_entropy_with_logits`, which reads z and never overflows.
    Tensor probabilities (n, 1) with n labels: the mean over the samples.
    """
    if isinstance(probability, Tensor):
        y = _binary_targets(probability, target, "binary_cross_entropy")
        # p for y = 1 and 1 - p for y = 0, then -log: the scalar version's numbers
        return -((probability * (2.0 * y - 1.0) + (1.0 - y)).log().mean())
    p = _single(probability, "binary_cross_entropy")
    y = _binary_label(target, "binary_cross_entropy")
    return -p.log() if y == 1 else -(1.0 - p).log()


def mse(outputs: Sequence[Value] | Value | Tensor, target: Any,
        n_classes: int | None = None) -> Value | Tensor:
    """Mean squared error of one sample: mean over outputs of (out_k - target_k)**2.

    `target` is a list of numbers, a number (for one output), or a class index: then it
    is one-hot encoded over the outputs (how the four-equations tutorial trains a sigmoid
    network on labels).
    Tensor outputs (n, k) with n class indices or numbers shaped like the outputs (or (n,)
    for k = 1): the mean over all samples and outputs.
    """
    if isinstance(outputs, Tensor):
        return autograd.tensor.mse(outputs, _regression_targets(outputs, target))
    outs = [outputs] if isinstance(outputs, Value) else list(outputs)
    if isinstance(target, bool):
        raise TypeError("mse target must be a number, a list of numbers or a class index")
    if isinstance(target, numbers.Integral) and len(outs) > 1:
        k = int(target)
        if not 0 <= k < len(outs):
            raise ValueError(f"mse class index {k} out of range for {len(outs)} outputs")
        targets: Sequence[float] = [1.0 if j == k else 0.0 for j in range(len(outs))]
    elif isinstance(target, numbers.Real):
        targets = [float(target)]
    else:
        targets = target
    return autograd.mse(outs, targets)


def hinge(score: Value | Sequence[Value] | Tensor, target: Any) -> Value | Tensor:
    """max(0, 1 - t*score) with t = +1 for the positive class, -1 for the negative.

    `target` may be -1/+1 or 0/1 (0 is read as -1): micrograd's moons loss.
    Tensor scores (n, 1) with n labels: the mean over the samples.
    """
    if isinstance(score, Tensor):
        y = _binary_targets(score, target, "hinge", allow_minus_one=True)
        return (1.0 - score * np.where(y == 1.0, 1.0, -1.0)).relu().mean()
    s = _single(score, "hinge")
    t = -1 if _binary_label(target, "hinge", allow_minus_one=True) <= 0 else 1
    return apply(_RELU, (1.0 - s if t == 1 else 1.0 + s,))


def l2_penalty(parameters: Iterable[Value] | Iterable[Tensor], strength: float
               ) -> Value | Tensor:
    """``strength/2 * sum(p**2)``: its gradient adds ``strength * p`` to each parameter.

    Pass ``model.weights()`` to leave biases unpenalized (the usual choice).  Built as
    graph nodes, so it shows up in a rendered graph; the optimizers' ``weight_decay``
    gives the same gradient without nodes.
    """
    if isinstance(strength, bool) or not isinstance(strength, numbers.Real) or strength < 0:
        raise ValueError(f"l2 strength must be a number >= 0, got {strength!r:.40}")
    hint = "pass model.parameters() (or model.weights() to leave the biases out)"
    if isinstance(parameters, (Value, Tensor)) or not isinstance(parameters, Iterable) \
            or callable(getattr(parameters, "parameters", None)):
        raise TypeError(f"l2_penalty takes a list of parameters, not a "
                        f"{type(parameters).__name__}: {hint}")
    params = list(parameters)
    if not params:
        raise ValueError("l2_penalty of no parameters")
    for i, p in enumerate(params):
        if not isinstance(p, (Value, Tensor)):
            raise TypeError(f"l2_penalty: parameter {i} is a {type(p).__name__}, not a Value "
                            f"or Tensor: {hint}")
    if isinstance(params[0], Tensor):
        if not all(isinstance(p, Tensor) for p in params):
            raise TypeError("l2_penalty: parameters must be all Values or all Tensors")
        total = (params[0] * params[0]).sum()
        for p in params[1:]:
            total = total + (p * p).sum()
        return (0.5 * float(strength)) * total
    return (0.5 * float(strength)) * autograd.sum([p * p for p in params])


def mean(losses: Sequence[Value]) -> Value:
    """The average of per-sample losses (one ``sum`` node and one division)."""
    if not losses:
        raise ValueError("mean of no losses (an empty batch)")
    if len(losses) == 1:
        return losses[0]
    return autograd.sum(losses) / len(losses)


@dataclass(frozen=True)
class Loss:
    """A named per-sample loss and what it reads: the logits or the model's outputs.

    ``per_sample(outputs, target)`` is one sample's loss for a list of Values; for a
    Tensor batch (the tensor engine) it is the mean over the batch.
    """

    name: str
    per_sample: Callable[..., Value | Tensor]
    reads_logits: bool
    #: binary losses need exactly one output; "multi" losses need at least two
    outputs: str  # "one", "multi" or "any"

    def __call__(self, outputs: Sequence[Value] | Tensor, target: object) -> Value | Tensor:
        """`per_sample` of (`outputs`, `target`): one sample's loss, or a Tensor batch's mean."""
        return self.per_sample(outputs, target)


LOSSES: dict[str, Loss] = {
    "cross_entropy": Loss("cross_entropy", cross_entropy, True, "multi"),
    "binary_cross_entropy": Loss("binary_cross_entropy", binary_cross_entropy_with_logits,
                                 True, "one"),
    "mse": Loss("mse", mse, False, "any"),
    "hinge": Loss("hinge", hinge, True, "one"),
}


def get_loss(loss: str | Loss) -> Loss:
    """The `Loss` named `loss` (one of `LOSSES`), or `loss` itself."""
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r:.40}; choose one of: {', '.join(LOSSES)}")
    return LOSSES[loss]
