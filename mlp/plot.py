"""Optional plots saved as PNG: training curves and 2-D decision boundaries.

Needs matplotlib (``pip install "backprop-lab[plot]"``), imported only when a function
here is called.  Figures are drawn with matplotlib's object API (no pyplot, no global
figure state, works without a display) and written atomically.
"""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N803

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlp.io import atomic_write_bytes

if TYPE_CHECKING:
    from os import PathLike

    from mlp.base import BaseMLP
    from mlp.train import History

__all__ = ["plot_history", "plot_decision_boundary", "MATPLOTLIB_MISSING"]

MATPLOTLIB_MISSING = "plotting needs matplotlib: pip install \"backprop-lab[plot]\""


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(MATPLOTLIB_MISSING) from None
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Any, path: str | PathLike[str]) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def plot_history(history: History, path: str | PathLike[str], title: str = "training"
                 ) -> Path:
    """Loss (left) and accuracy (right) per epoch, training and validation; returns `path`."""
    if not history.loss:
        raise ValueError("the history is empty (no epoch ran)")
    figure = _figure(10, 3.8)
    loss_axes, acc_axes = figure.subplots(1, 2)
    epochs = np.arange(1, history.epochs + 1)
    loss_axes.plot(epochs, history.loss, label="training")
    if history.val_loss:
        loss_axes.plot(epochs[: len(history.val_loss)], history.val_loss, label="validation")
    loss_axes.set(xlabel="epoch", ylabel="loss", title=f"{title}: loss")
    loss_axes.set_yscale("log" if min(history.loss) > 0 else "linear")
    loss_axes.legend()
    if any(a is not None for a in history.accuracy):
        acc_axes.plot(epochs, [np.nan if a is None else a for a in history.accuracy],
                      label="training")
        if history.val_accuracy:
            acc_axes.plot(epochs[: len(history.val_accuracy)],
                          [np.nan if a is None else a for a in history.val_accuracy],
                          label="validation")
        acc_axes.set(xlabel="epoch", ylabel="accuracy", title=f"{title}: accuracy",
                     ylim=(0.0, 1.02))
        acc_axes.legend()
    else:
        acc_axes.set_axis_off()
    if history.best_epoch is not None:
        for axes in (loss_axes, acc_axes):
            axes.axvline(history.best_epoch + 1, color="grey", linestyle=":", linewidth=1)
    return _save(figure, path)


def plot_decision_boundary(
    model: BaseMLP,
    X: Any,
    y: Any,
    path: str | PathLike[str],
    *,
    resolution: int = 120,
    margin: float = 0.5,
    title: str | None = None,
    class_names: list[str] | None = None,
) -> Path:
    """The model's predicted class over the plane, with the samples on top; returns `path`.

    For a model with 2 inputs.  A single linear output (a score, e.g. from a hinge loss)
    is shaded by the score, with the boundary at 0; other binary models by the
    probability of class 1 (boundary at 0.5); multi-class models by the predicted class.  The
    grid (`resolution` per side) goes through the model itself, so the picture is exactly
    what the trained network computes.
    """
    if model.n_inputs != 2:
        raise ValueError(f"a decision boundary is drawn for 2 inputs; this model has "
                         f"{model.n_inputs}")
    points = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(labels):
        raise ValueError(f"X must have shape (n, 2) with one label per row, got {points.shape} "
                         f"and {labels.shape}")
    if resolution < 2:
        raise ValueError("resolution must be at least 2")
    figure = _figure(6, 5)
    axes = figure.subplots()
    (x_min, y_min), (x_max, y_max) = points.min(axis=0) - margin, points.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x_min, x_max, resolution),
                         np.linspace(y_min, y_max, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    binary = model.n_outputs == 1 or (model.n_outputs == 2 and model.output != "sigmoid")
    cmap = "coolwarm" if binary else "tab10"
    if model.n_outputs == 1 and model.output == "linear":
        # A raw score (e.g. trained with a hinge loss) is no probability: show it as is.
        score = model.forward_array(grid)[:, 0].reshape(gx.shape)
        # Saturate the colours at the 90th percentile of |score|, so that the region near
        # the boundary is not washed out by large scores far away.
        top = max(float(np.quantile(np.abs(score), 0.9)), 1e-12)
        filled = axes.contourf(gx, gy, np.clip(score, -top, top),
                               levels=np.linspace(-top, top, 13), cmap=cmap, alpha=0.55)
        axes.contour(gx, gy, score, levels=[0.0], colors="black", linewidths=1.5)
        figure.colorbar(filled, ax=axes, label="score (boundary at 0)")
    elif binary:
        shade = model.predict_proba(grid)[:, 1].reshape(gx.shape)
        filled = axes.contourf(gx, gy, shade, levels=np.linspace(0.0, 1.0, 11), cmap=cmap,
                               alpha=0.55)
        axes.contour(gx, gy, shade, levels=[0.5], colors="black", linewidths=1.5)
        figure.colorbar(filled, ax=axes, label="P(class 1)")
    else:
        probabilities = model.predict_proba(grid)
        k = probabilities.shape[1]
        predicted = probabilities.argmax(axis=1).reshape(gx.shape)
        axes.contourf(gx, gy, predicted, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.35,
                      vmin=0, vmax=9)
    for c in np.unique(labels):
        mask = labels == c
        name = class_names[int(c)] if class_names is not None else f"class {c}"
        color = None if cmap == "tab10" else ("#3b4cc0" if c == np.unique(labels)[0]
                                              else "#b40426")
        axes.scatter(points[mask, 0], points[mask, 1], s=22, edgecolors="black",
                     linewidths=0.5, label=name, color=color)
    axes.set(xlim=(x_min, x_max), ylim=(y_min, y_max),
             title=title or f"decision boundary of {model!r}"[:80])
    axes.legend(loc="best", fontsize="small")
    return _save(figure, path)
