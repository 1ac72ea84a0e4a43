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
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import autograd
from autograd import OPS, Value, apply

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


def cross_entropy(logits: Sequence[Value], target: int) -> Value:
    """-log softmax(logits)[target], computed stably from the logits (one sample)."""
    return autograd.cross_entropy(logits, target)


def binary_cross_entropy_with_logits(logit: Value | Sequence[Value], target: int) -> Value:
    """-log sigmoid(z) for target 1, -log(1 - sigmoid(z)) for 0: ``softplus(z) - y*z``.

    Stable for any logit z (no log of 0), and its gradient is ``sigmoid(z) - y``.
    """
    z = _single(logit, "binary_cross_entropy_with_logits")
    y = _binary_label(target, "binary_cross_entropy_with_logits")
    loss = apply(_SOFTPLUS, (z,))
    return loss - z if y == 1 else loss


def binary_cross_entropy(probability: Value | Sequence[Value], target: int) -> Value:
    """-(y log p + (1 - y) log(1 - p)) for a probability p = sigmoid(z) (one sample).

    Infinite when p is exactly 0 or 1 on the wrong side; prefer
    `binary_cross_entropy_with_logits`, which reads z and never overflows.
    """
    p = _single(probability, "binary_cross_entropy")
    y = _binary_label(target, "binary_cross_entropy")
    return -p.log() if y == 1 else -(1.0 - p).log()


def mse(outputs: Sequence[Value] | Value, target: int | float | Sequence[float],
        n_classes: int | None = None) -> Value:
    """Mean squared error of one sample: mean over outputs of (out_k - target_k)**2.

    `target` is a list of numbers, a number (for one output), or a class index: then it
    is one-hot encoded over the outputs (how seed 002 trains a sigmoid network on labels).
    """
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


def hinge(score: Value | Sequence[Value], target: int) -> Value:
    """max(0, 1 - t*score) with t = +1 for the positive class, -1 for the negative.

    `target` may be -1/+1 or 0/1 (0 is read as -1): micrograd's moons loss.
    """
    s = _single(score, "hinge")
    t = -1 if _binary_label(target, "hinge", allow_minus_one=True) <= 0 else 1
    return apply(_RELU, (1.0 - s if t == 1 else 1.0 + s,))


def l2_penalty(parameters: Iterable[Value], strength: float) -> Value:
    """``strength/2 * sum(p**2)``: its gradient adds ``strength * p`` to each parameter.

    Pass ``model.weights()`` to leave biases unpenalized (the usual choice).  Built as
    graph nodes, so it shows up in a rendered graph; the optimizers' ``weight_decay``
    gives the same gradient without nodes.
    """
    if isinstance(strength, bool) or not isinstance(strength, numbers.Real) or strength < 0:
        raise ValueError(f"l2 strength must be a number >= 0, got {strength!r:.40}")
    params = list(parameters)
    if not params:
        raise ValueError("l2_penalty of no parameters")
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
    """A named per-sample loss and what it reads: the logits or the model's outputs."""

    name: str
    per_sample: Callable[..., Value]
    reads_logits: bool
    #: binary losses need exactly one output; "multi" losses need at least two
    outputs: str  # "one", "multi" or "any"

    def __call__(self, outputs: Sequence[Value], target: object) -> Value:
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
