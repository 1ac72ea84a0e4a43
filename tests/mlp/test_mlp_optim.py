"""Optimizers and schedules against updates computed by hand (and PyTorch, when installed)."""

from __future__ import annotations

import math
import signal
import sys
import threading
from typing import Any

import numpy as np
import pytest

from autograd import Value
from mlp import MLP, optim
from mlp.losses import LOSSES
from mlp.optim import SGD, Adam, LinearLR, StepLR, get_optimizer


def _params(*data: float) -> list[Value]:
    return [Value(d) for d in data]


def _set_grads(params: list[Value], grads: list[float]) -> None:
    for p, g in zip(params, grads):
        p.grad = g


def test_plain_sgd() -> None:
    p = _params(1.0, -2.0)
    opt = SGD(p, lr=0.1)
    _set_grads(p, [0.5, -1.0])
    opt.step()
    assert [v.data for v in p] == pytest.approx([1.0 - 0.05, -2.0 + 0.1])
    opt.zero_grad()
    assert [v.grad for v in p] == [0.0, 0.0]
    assert opt.steps == 1


def test_sgd_momentum_by_hand() -> None:
    p = _params(1.0)
    opt = SGD(p, lr=0.1, momentum=0.9)
    # step 1: v = g = 2 -> p = 1 - 0.2 = 0.8
    _set_grads(p, [2.0])
    opt.step()
    assert p[0].data == pytest.approx(0.8)
    # step 2: v = 0.9*2 + 1 = 2.8 -> p = 0.8 - 0.28 = 0.52
    _set_grads(p, [1.0])
    opt.step()
    assert p[0].data == pytest.approx(0.52)


def test_nesterov_and_weight_decay_by_hand() -> None:
    p = _params(2.0)
    opt = SGD(p, lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.1)
    # g = 1 + 0.1*2 = 1.2; v = 1.2; step = g + 0.5 v = 1.8 -> p = 2 - 0.18
    _set_grads(p, [1.0])
    opt.step()
    assert p[0].data == pytest.approx(1.82)
    # g = 1 + 0.182 = 1.182; v = 0.6 + 1.182 = 1.782; step = 1.182 + 0.891 = 2.073
    _set_grads(p, [1.0])
    opt.step()
    assert p[0].data == pytest.approx(1.82 - 0.2073)


def test_adam_by_hand() -> None:
    p = _params(1.0, 0.0)
    opt = Adam(p, lr=0.01, betas=(0.9, 0.99), eps=1e-8)
    grads = [[0.5, -3.0], [0.1, 1.0], [-0.2, 0.0]]
    m, v, x = [0.0, 0.0], [0.0, 0.0], [1.0, 0.0]
    for t, g in enumerate(grads, start=1):
        _set_grads(p, g)
        opt.step()
        for i in range(2):
            m[i] = 0.9 * m[i] + 0.1 * g[i]
            v[i] = 0.99 * v[i] + 0.01 * g[i] ** 2
            m_hat, v_hat = m[i] / (1 - 0.9**t), v[i] / (1 - 0.99**t)
            x[i] -= 0.01 * m_hat / (math.sqrt(v_hat) + 1e-8)
        assert [q.data for q in p] == pytest.approx(x, rel=1e-12)
    # Adam's first step moves every parameter by about lr, whatever the gradient's scale
    q = _params(0.0)
    first = Adam(q, lr=0.01)
    _set_grads(q, [1e-4])
    first.step()
    assert q[0].data == pytest.approx(-0.01, rel=1e-3)


def test_adam_weight_decay_adds_to_the_gradient() -> None:
    a, b = _params(3.0), _params(3.0)
    opt_a, opt_b = Adam(a, lr=0.1, weight_decay=0.5), Adam(b, lr=0.1)
    _set_grads(a, [1.0])
    _set_grads(b, [1.0 + 0.5 * 3.0])
    opt_a.step()
    opt_b.step()
    assert a[0].data == b[0].data


def test_step_schedule() -> None:
    opt = SGD(_params(0.0), lr=1.0)
    schedule = StepLR(opt, step_size=2, gamma=0.5)
    seen = []
    for _ in range(6):
        seen.append(opt.lr)
        schedule.step()
    assert seen == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert schedule.lr_at(10) == 1.0 * 0.5**5


def test_linear_schedule_is_micrograds() -> None:
    opt = SGD(_params(0.0), lr=1.0)
    schedule = LinearLR(opt, total_epochs=100, end_factor=0.1)
    for k in range(120):
        expected = 1.0 - 0.9 * min(k, 100) / 100
        assert opt.lr == pytest.approx(expected, abs=1e-15)
        schedule.step()
    start = LinearLR(SGD(_params(0.0), lr=2.0), total_epochs=4, start_factor=0.5, end_factor=1.0)
    assert start.optimizer.lr == 1.0
    assert [start.lr_at(k) for k in range(5)] == pytest.approx([1.0, 1.25, 1.5, 1.75, 2.0])


def test_linear_schedule_takes_pytorchs_total_iters() -> None:
    torch = pytest.importorskip("torch")
    ours = LinearLR(SGD(_params(0.0), lr=0.3), total_iters=5, start_factor=1 / 3,
                    end_factor=1.0)
    assert ours.total_epochs == 5
    param = torch.zeros(1, requires_grad=True)
    reference = torch.optim.SGD([param], lr=0.3)
    theirs = torch.optim.lr_scheduler.LinearLR(reference, total_iters=5)  # PyTorch's defaults
    for _ in range(8):
        assert ours.optimizer.lr == pytest.approx(reference.param_groups[0]["lr"], rel=1e-12)
        reference.step()
        ours.step()
        theirs.step()
    assert "total_iters" in (LinearLR.__doc__ or "") and "1/3" in (LinearLR.__doc__ or "")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"start_factor": 0.0, "total_epochs": 3}, ValueError, "start_factor must be above 0"),
        ({"start_factor": -0.5, "total_epochs": 3}, ValueError,
         "start_factor must be a finite number >= 0, got -0.5"),
        ({"end_factor": -0.1, "total_epochs": 3}, ValueError,
         "end_factor must be a finite number >= 0, got -0.1"),
        ({"end_factor": float("inf"), "total_epochs": 3}, ValueError, "end_factor must be"),
        ({"total_epochs": 3, "total_iters": 3}, TypeError, "not both"),
        ({}, TypeError, "needs total_epochs"),
        ({"total_iters": 0}, ValueError, "total_iters must be an int >= 1, got 0"),
    ],
)
def test_linear_schedule_arguments_are_checked(kwargs: dict, error: type,
                                               message: str) -> None:
    opt = SGD(_params(0.0), lr=0.5)
    with pytest.raises(error, match=message):
        LinearLR(opt, **kwargs)
    assert opt.lr == 0.5


def test_schedule_factors_are_documented() -> None:
    for method in (StepLR.factor, LinearLR.factor):
        assert method.__doc__ and "epoch" in method.__doc__


def test_optimizer_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="not a single Value"):
        SGD(Value(1.0), lr=0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="parameter 1 is a float"):
        SGD([Value(1.0), 2.0], lr=0.1)  # type: ignore[list-item]
    v = Value(1.0)
    with pytest.raises(ValueError, match="more than once"):
        SGD([v, v], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        SGD([v], lr=0.0)
    with pytest.raises(ValueError, match="momentum"):
        SGD([v], lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="nesterov"):
        SGD([v], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta1"):
        Adam([v], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="step_size"):
        StepLR(SGD([v], lr=0.1), step_size=0)
    with pytest.raises(TypeError, match="Optimizer"):
        StepLR("sgd", step_size=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown optimizer"):
        get_optimizer("rmsprop", [v])
    assert isinstance(get_optimizer("momentum", [v]), SGD)
    assert repr(SGD([v], lr=0.5)) == "SGD(lr=0.5, 1 parameters)"


@pytest.mark.parametrize("kind", ["sgd", "momentum", "nesterov", "adam", "adam_wd"])
def test_updates_match_torch(kind: str) -> None:
    torch = pytest.importorskip("torch")
    start = [0.5, -1.5, 2.0]
    grads = [[0.3, -0.2, 1.0], [-0.7, 0.1, 0.0], [0.05, 2.0, -1.0], [1.0, 1.0, 1.0]]
    ours = _params(*start)
    theirs = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    if kind in ("adam", "adam_wd"):
        wd = 0.1 if kind == "adam_wd" else 0.0
        opt = Adam(ours, lr=0.05, weight_decay=wd)
        ref = torch.optim.Adam([theirs], lr=0.05, weight_decay=wd)
    else:
        momentum = 0.0 if kind == "sgd" else 0.9
        opt = SGD(ours, lr=0.1, momentum=momentum, nesterov=kind == "nesterov",
                  weight_decay=0.01)
        ref = torch.optim.SGD([theirs], lr=0.1, momentum=momentum, nesterov=kind == "nesterov",
                              weight_decay=0.01)
    for g in grads:
        _set_grads(ours, g)
        opt.step()
        theirs.grad = torch.tensor(g, dtype=torch.float64)
        ref.step()
    assert [p.data for p in ours] == pytest.approx(theirs.detach().tolist(), rel=1e-12)


# -- a step is all or nothing ----------------------------------------------------------------


def _optimizer(kind: str, params: list[Any]) -> SGD | Adam:
    if kind == "adam":
        return Adam(params, lr=0.05, weight_decay=0.1)
    return SGD(params, lr=0.1, momentum=0.0 if kind == "sgd" else 0.9,
               nesterov=kind == "nesterov", weight_decay=0.0 if kind == "sgd" else 0.01)


def _trained_once(kind: str, engine: str) -> tuple[MLP, SGD | Adam]:
    """A model with gradients and an optimizer that has already stepped once (so it has
    momentum or running averages to lose)."""
    model = MLP(2, [3, 2], seed=1, engine=engine)
    opt = _optimizer(kind, model.parameters())
    x, y = np.array([[0.5, -1.0], [2.0, 0.3]]), np.array([0, 1])
    for _ in range(2):
        opt.zero_grad()
        model.batch_loss(LOSSES["cross_entropy"], x, y)[0].backward()
        if opt.steps == 0:
            opt.step()
    return model, opt


def _snapshot(model: MLP, opt: SGD | Adam) -> tuple[Any, ...]:
    state = [getattr(opt, name) for name in ("velocity", "m", "v") if hasattr(opt, name)]
    return (repr([w.tolist() for pair in model.get_weights() for w in pair]),
            repr([[np.asarray(x).tolist() for x in s] for s in state]), opt.steps)


class _CtrlCAtLine:
    """A trace function that sends this process SIGINT (Ctrl-C) at the `k`-th line run in
    mlp/optim.py; counts the lines when `k` is 0."""

    def __init__(self, k: int) -> None:
        self.k, self.lines = k, 0

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line" and frame.f_code.co_filename == optim.__file__:
            self.lines += 1
            if self.lines == self.k:
                signal.raise_signal(signal.SIGINT)
        return self


def _step_traced(opt: SGD | Adam, tracer: _CtrlCAtLine) -> None:
    sys.settrace(tracer)
    try:
        opt.step()
    finally:
        sys.settrace(None)


@pytest.mark.parametrize("engine", ["value", "tensor"])
@pytest.mark.parametrize("kind", ["sgd", "momentum", "nesterov", "adam"])
def test_ctrl_c_anywhere_in_a_step_leaves_a_whole_step(kind: str, engine: str) -> None:
    """Ctrl-C at every line a step runs, in turn: KeyboardInterrupt comes, and the model
    and the optimizer's state are as before the step or as after a whole one."""
    original = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own
    try:
        _ctrl_c_at_every_line(kind, engine)
    finally:
        signal.signal(signal.SIGINT, original)


def _ctrl_c_at_every_line(kind: str, engine: str) -> None:
    model, opt = _trained_once(kind, engine)
    before = _snapshot(model, opt)
    counter = _CtrlCAtLine(0)
    _step_traced(opt, counter)
    after = _snapshot(model, opt)
    assert after != before and counter.lines > 10
    outcomes = set()
    for k in range(1, counter.lines + 1):
        model, opt = _trained_once(kind, engine)
        arrays = [p.data for p in model.parameters()]
        with pytest.raises(KeyboardInterrupt):
            _step_traced(opt, _CtrlCAtLine(k))
        now = _snapshot(model, opt)
        assert now in (before, after), f"Ctrl-C at line {k} left half a step"
        outcomes.add("before" if now == before else "after")
        if now == before:
            opt.step()  # and the next step is the one that was stopped
            assert _snapshot(model, opt) == after
        if engine == "tensor":
            assert all(p.data is a for p, a in zip(model.parameters(), arrays))  # in place
    assert outcomes == {"before", "after"}  # Ctrl-C came both before and during updates
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_a_step_calls_the_users_sigint_handler_once_it_is_done() -> None:
    model, opt = _trained_once("momentum", "value")
    calls: list[tuple[int, tuple[Any, ...]]] = []
    before = _snapshot(model, opt)
    original = signal.signal(signal.SIGINT, lambda signum, frame: calls.append(
        (signum, _snapshot(model, opt))))
    try:
        counter = _CtrlCAtLine(0)
        _step_traced(opt, counter)  # counts the lines
        model, opt = _trained_once("momentum", "value")
        _step_traced(opt, _CtrlCAtLine(counter.lines - 1))
        assert len(calls) == 1 and calls[0][0] == signal.SIGINT
        assert calls[0][1] != before and calls[0][1] == _snapshot(model, opt)  # after it
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _step_traced(opt, _CtrlCAtLine(counter.lines - 1))  # ignored stays ignored
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, original)


def test_a_step_in_another_thread_runs_as_usual() -> None:
    model, opt = _trained_once("adam", "tensor")
    expected_model, expected_opt = _trained_once("adam", "tensor")
    expected_opt.step()
    worker = threading.Thread(target=opt.step)
    worker.start()
    worker.join(timeout=60)
    assert _snapshot(model, opt) == _snapshot(expected_model, expected_opt)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_a_bad_gradient_is_refused_before_anything_changes(engine: str) -> None:
    model, opt = _trained_once("adam", engine)
    before = _snapshot(model, opt)
    last = model.parameters()[-1]
    bad: list[Any] = ["0.1", None, True] if engine == "value" else \
        [np.zeros((7,)), np.zeros(last.shape, dtype=np.complex128), "0.1"]
    for grad in bad:
        last.grad = grad
        with pytest.raises(ValueError, match=r"parameter \d+ \(L1\.\S+\): its grad is .*; "
                                             r"no parameter was changed"):
            opt.step()
        assert _snapshot(model, opt) == before
