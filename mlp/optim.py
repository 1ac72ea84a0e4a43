"""Optimizers (SGD with momentum, Adam) and learning-rate schedules, PyTorch-style.

An optimizer holds a list of parameters: Values (the value engine) or Tensors (the tensor
engine, updated in place on their ``.data`` arrays).  ``zero_grad()`` clears their
gradients, ``step()`` moves each parameter against its gradient.  The update rules follow
``torch.optim`` (same defaults, same meaning of ``momentum``, ``nesterov`` and
``weight_decay``), so numbers can be compared with PyTorch's.

A step is all or nothing: every gradient is checked before any parameter changes, and a
Ctrl-C (SIGINT) arriving during a step is held until the step is done, then raised as
usual; so an interrupted model holds the weights of a whole number of steps, never half a
step.  (Holding costs two signal-handler swaps per step; undoing would need a copy of
every weight and state array at every step, measured at up to a fifth of a tensor-engine
MNIST training step.)

A schedule changes ``optimizer.lr`` when its ``step()`` is called, usually once per
epoch after the optimizer's steps.
"""

from __future__ import annotations

import math
import numbers
import signal
import threading
from collections.abc import Iterable
from types import FrameType
from typing import Any

import numpy as np

from autograd import Value
from autograd.tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "LRSchedule", "StepLR", "LinearLR", "get_optimizer"]


def _number(value: object, name: str, *, low: float = 0.0, high: float = math.inf,
            low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    v = float(value)
    too_low = v <= low if low_open else v < low
    too_high = v >= high if high_open else v > high
    if not math.isfinite(v) or too_low or too_high:
        if high == math.inf:
            raise ValueError(f"{name} must be a finite number {'>' if low_open else '>='} "
                             f"{low:g}, got {value!r}")
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(f"{name} must be in {lo}{low:g}, {high:g}{hi}, got {value!r}")
    return v


class Optimizer:
    """Base class: keeps the parameters and the learning rate ``lr``; owns `zero_grad`."""

    def __init__(self, params: Iterable[Value | Tensor], lr: float) -> None:
        if isinstance(params, (Value, Tensor)):
            raise TypeError(f"params must be an iterable of Values or Tensors (e.g. "
                            f"model.parameters()), not a single {type(params).__name__}")
        self.params: list[Value | Tensor] = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, (Value, Tensor)):
                raise TypeError(f"parameter {i} is a {type(p).__name__}, not a Value or Tensor")
            if isinstance(p, Tensor) and not (p.requires_grad and p.is_leaf):
                name = f"parameter {i}" + (f" ({p.label})" if p.label else "")
                what = ("a constant (requires_grad=False)" if not p.requires_grad
                        else "computed by an op, not a leaf tensor")
                raise ValueError(f"{name} is {what}: stepping it would train nothing")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError("a parameter appears more than once; it would be updated twice")
        self.lr = _number(lr, "lr", low=0.0, low_open=True)
        #: how many times `step` has run
        self.steps = 0

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0 (call before each ``backward``)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its ``grad``, all or nothing (see the module)."""
        self._check_gradients()
        with _CtrlCHeld():
            self._step()
            self.steps += 1

    def _step(self) -> None:
        """Move every parameter by the update rule (the gradients are checked)."""
        raise NotImplementedError

    def _check_gradients(self) -> None:
        """Refuse, before anything changes, a gradient the update could not use."""
        for i, p in enumerate(self.params):
            grad = p.grad
            if type(grad) is float:  # a Value's gradient, or a Tensor's 0.0
                continue
            if isinstance(grad, np.ndarray):
                if isinstance(p, Tensor) and grad.shape == p.data.shape \
                        and grad.dtype.kind == "f":
                    continue
                got = f"an array of shape {grad.shape} and dtype {grad.dtype}"
            elif isinstance(grad, numbers.Real) and not isinstance(grad, bool):
                continue
            else:
                got = f"{type(grad).__name__} {grad!r:.40}"
            name = f"parameter {i}" + (f" ({p.label})" if p.label else "")
            wanted = f"a float array of shape {p.data.shape} or a number" \
                if isinstance(p, Tensor) else "a number"
            raise ValueError(f"{name}: its grad is {got}, not {wanted}; no parameter was "
                             f"changed")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} parameters)"


class SGD(Optimizer):
    """Stochastic gradient descent: ``p -= lr * g``, optionally with momentum.

    With ``weight_decay`` λ the gradient is ``g = grad + λ p`` (L2 regularization).  With
    ``momentum`` μ a velocity ``v = μ v + g`` is kept and ``p -= lr * v``; Nesterov's
    variant steps by ``g + μ v`` instead.
    """

    def __init__(self, params: Iterable[Value | Tensor], lr: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _number(momentum, "momentum", high=1.0, high_open=True)
        self.weight_decay = _number(weight_decay, "weight_decay")
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov momentum needs momentum > 0")
        self.nesterov = bool(nesterov)
        self.velocity = [0.0] * len(self.params)

    def _step(self) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if mu == 0.0 and wd == 0.0:
            for p in self.params:
                p.data -= lr * p.grad
        else:
            velocity = self.velocity
            for i, p in enumerate(self.params):
                g = p.grad + wd * p.data if wd else p.grad
                if mu:
                    v = velocity[i] = mu * velocity[i] + g
                    g = g + mu * v if self.nesterov else v
                p.data -= lr * g


class Adam(Optimizer):
    """Adam: per-parameter steps scaled by running averages of the gradient and its square.

    ``m = β1 m + (1-β1) g``, ``v = β2 v + (1-β2) g²``, then
    ``p -= lr * m̂ / (sqrt(v̂) + eps)`` with the bias corrections ``m̂ = m / (1 - β1^t)``
    and ``v̂ = v / (1 - β2^t)``.  ``weight_decay`` adds λ p to the gradient (as in
    ``torch.optim.Adam``, not AdamW).
    """

    def __init__(self, params: Iterable[Value | Tensor], lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError("betas must be a pair (beta1, beta2)")
        self.beta1 = _number(betas[0], "beta1", high=1.0, high_open=True)
        self.beta2 = _number(betas[1], "beta2", high=1.0, high_open=True)
        self.eps = _number(eps, "eps", low=0.0, low_open=True)
        self.weight_decay = _number(weight_decay, "weight_decay")
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def _step(self) -> None:
        steps = self.steps + 1  # counted by `step` once this one is done
        b1, b2, eps, wd = self.beta1, self.beta2, self.eps, self.weight_decay
        correction1 = 1.0 - b1**steps
        correction2 = 1.0 - b2**steps
        lr = self.lr
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            g = p.grad + wd * p.data if wd else p.grad
            mi = m[i] = b1 * m[i] + (1.0 - b1) * g
            vi = v[i] = b2 * v[i] + (1.0 - b2) * g * g
            root = np.sqrt(vi / correction2) if isinstance(vi, np.ndarray) \
                else math.sqrt(vi / correction2)
            p.data -= lr * (mi / correction1) / (root + eps)


# `signal.signal` and `signal.getsignal` turn each handler into an enum by trying
# ``Handlers(handler)``, which raises and catches a ValueError for every function: 24 us of
# the 25 us a step spent holding Ctrl-C.  The C functions they wrap take and give the same
# handlers (SIG_DFL and SIG_IGN as the ints they equal).
try:
    from _signal import getsignal as _get_handler
    from _signal import signal as _set_handler
except ImportError:  # pragma: no cover - a Python without CPython's _signal module
    _get_handler, _set_handler = signal.getsignal, signal.signal


class _CtrlCHeld:
    """``with _CtrlCHeld():`` runs the block whole: a SIGINT arriving inside is delivered
    when it ends (Python's default handler then raises KeyboardInterrupt; a handler of the
    user's own is called; an ignored SIGINT stays ignored).

    Signals reach Python's handlers in the main thread only, so elsewhere there is
    nothing to hold.
    """

    __slots__ = ("previous", "arrived")

    def __enter__(self) -> None:
        self.previous: Any = None
        self.arrived: list[FrameType | None] = []
        if threading.current_thread() is threading.main_thread() \
                and _get_handler(signal.SIGINT) is not None:  # None: not Python's own
            self.previous = _set_handler(signal.SIGINT, self._hold)

    def _hold(self, signum: int, frame: FrameType | None) -> None:
        self.arrived.append(frame)

    def __exit__(self, *exc: object) -> None:
        previous = self.previous
        if previous is None:
            return
        _set_handler(signal.SIGINT, previous)
        if self.arrived:
            if callable(previous):
                previous(signal.SIGINT, self.arrived[0])
            elif previous == signal.SIG_DFL:
                signal.raise_signal(signal.SIGINT)


def get_optimizer(name: str, params: Iterable[Value | Tensor], lr: float | None = None,
                  weight_decay: float = 0.0) -> Optimizer:
    """An optimizer by name: "sgd", "momentum" (SGD with 0.9), "nesterov" or "adam"."""
    if name == "adam":
        return Adam(params, lr=0.01 if lr is None else lr, weight_decay=weight_decay)
    if name in ("sgd", "momentum", "nesterov"):
        momentum = 0.0 if name == "sgd" else 0.9
        return SGD(params, lr=0.1 if lr is None else lr, momentum=momentum,
                   nesterov=name == "nesterov", weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r:.40}; choose sgd, momentum, nesterov or adam")


class LRSchedule:
    """Sets ``optimizer.lr = base_lr * factor(epoch)``; call `step` once per epoch."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"a schedule needs an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0
        optimizer.lr = self.lr_at(0)

    def factor(self, epoch: int) -> float:
        """The multiplier of the base learning rate after `epoch` calls to `step`."""
        raise NotImplementedError

    def lr_at(self, epoch: int) -> float:
        """The learning rate after `epoch` calls to `step`."""
        return self.base_lr * self.factor(epoch)

    def step(self) -> None:
        """Advance one epoch and update the optimizer's learning rate."""
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)


class StepLR(LRSchedule):
    """Multiply the learning rate by `gamma` every `step_size` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, numbers.Integral) \
                or step_size < 1:
            raise ValueError(f"step_size must be an int >= 1, got {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = _number(gamma, "gamma", low=0.0, low_open=True)
        super().__init__(optimizer)

    def factor(self, epoch: int) -> float:
        """``gamma ** (epoch // step_size)``: 1 for the first `step_size` epochs, then gamma..."""
        return self.gamma ** (epoch // self.step_size)


class LinearLR(LRSchedule):
    """Move the factor linearly from `start_factor` to `end_factor` over `total_epochs`.

    micrograd's moons schedule ``lr = 1.0 - 0.9 * k / 100`` is
    ``LinearLR(SGD(params, lr=1.0), total_epochs=100, end_factor=0.1)``.

    Unlike ``torch.optim.lr_scheduler.LinearLR``: the length has no default and is called
    `total_epochs` (PyTorch's name `total_iters` is accepted as well), and the default
    factors *decay* from 1.0 to 0.0, where PyTorch's *warm up* from 1/3 to 1.0.  For
    PyTorch's schedule pass both factors: ``LinearLR(opt, total_iters=5,
    start_factor=1/3, end_factor=1.0)``.  `start_factor` must be above 0 (optimizers
    refuse lr = 0), `end_factor` at least 0.
    """

    def __init__(self, optimizer: Optimizer, total_epochs: int | None = None,
                 start_factor: float = 1.0, end_factor: float = 0.0, *,
                 total_iters: int | None = None) -> None:
        name = "total_epochs"
        if total_iters is not None:
            if total_epochs is not None:
                raise TypeError("give total_epochs or total_iters (PyTorch's name for it), "
                                "not both")
            total_epochs, name = total_iters, "total_iters"
        if total_epochs is None:
            raise TypeError("LinearLR needs total_epochs (or PyTorch's name, total_iters)")
        if isinstance(total_epochs, bool) or not isinstance(total_epochs, numbers.Integral) \
                or total_epochs < 1:
            raise ValueError(f"{name} must be an int >= 1, got {total_epochs!r}")
        self.total_epochs = int(total_epochs)
        self.start_factor = _number(start_factor, "start_factor")
        if self.start_factor == 0.0:
            raise ValueError("start_factor must be above 0: it would start with lr = 0, "
                             "which optimizers refuse")
        self.end_factor = _number(end_factor, "end_factor")
        super().__init__(optimizer)

    def factor(self, epoch: int) -> float:
        """`start_factor` at epoch 0, moving linearly to `end_factor` at `total_epochs`
        and staying there."""
        done = min(epoch, self.total_epochs) / self.total_epochs
        return self.start_factor + (self.end_factor - self.start_factor) * done
