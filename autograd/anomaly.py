"""Anomaly detection: stop at the first NaN or infinity, and say where it came from."""

from __future__ import annotations

import os
import traceback
from contextlib import ContextDecorator
from typing import TYPE_CHECKING

from autograd.graph import STATE, AnomalyError, all_finite

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = ["detect_anomaly", "AnomalyError"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class detect_anomaly(ContextDecorator):  # noqa: N801 - named like torch.autograd.detect_anomaly
    """Context manager and decorator: raise `AnomalyError` at the first non-finite value.

    Inside it, every op records the line of user code that created its node, checks
    that its result is finite, and `backward` checks every gradient it passes on.
    The error names the op, its inputs and that line.  It costs time: use it to
    debug, not to train.
    """

    def __init__(self) -> None:
        self._saved: list[bool] = []

    def __enter__(self) -> detect_anomaly:
        self._saved.append(STATE.anomaly)
        STATE.anomaly = True
        return self

    def __exit__(self, *exc: object) -> None:
        STATE.anomaly = self._saved.pop()


def _creation_site() -> str:
    for frame in reversed(traceback.extract_stack()[:-3]):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR + os.sep):
            code = f" `{frame.line.strip()}`" if frame.line else ""
            return f"{frame.filename}:{frame.lineno} in {frame.name}{code}"
    return "<unknown>"


def describe_node(node: Value) -> str:
    """'op' node with its inputs and creation site, for error messages."""
    name = node.op.name if node.op is not None else "leaf"
    label = f" {node.label!r}" if node.label else ""
    inputs = ", ".join(f"{_short_name(p)}={p.data!r}" for p in node.parents)
    where = f"; created at {node.origin}" if node.origin else ""
    return f"op {name!r}{label} (inputs: {inputs}){where}"


def _short_name(node: Value) -> str:
    return node.label or (node.op.name if node.op is not None else "leaf")


def check_forward(node: Value) -> None:
    """Record where `node` was made; raise if its value is NaN or infinite."""
    node.origin = _creation_site()
    if not all_finite(node.data):
        raise AnomalyError(f"{node.data!r} produced by {describe_node(node)}")
